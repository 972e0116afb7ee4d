"""``gm.auto``: the model search (:func:`gesturemap.models.search.auto`), and for a spotting
dataset that holds rehearsals, the spotter's two second opinions trained from them.

Takes cut at their labels teach a spotter what each gesture looks like, not what comes before
and after it on stage. A rehearsal (a continuous run-through labelled frame by frame,
:meth:`gesturemap.Dataset.add_rehearsal`) holds that, and the command line's best spotting
path learns two things from it: the context relabeller, which renames an event from the
posture before and after it, and the window detector, which finds gestures the spotter
misses. ``gm.auto`` trains both the way ``gesturemap train --relabeler`` and ``--detector``
do, keeps each only when its cross-fit over the rehearsals' groups says it helps, and gives
them to the model it returns, so that ``gm.spot(gm.auto(ds), stream)`` spots as the command
line's best path does. :func:`dataset_from_rehearsals` builds such a dataset from labelled
recordings, cutting the takes as ``gesturemap eval --spotting`` cuts them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..data import Dataset
from ..errors import GesturemapError, TrainingCancelled
from ..models.search import auto as search_auto
from ..models.search import selection_of
from ..models.spotting.core import NULL, Spotter
from ..models.spotting.detector import fit_detector
from .rehearsal import detector_verdict
from .spotting.relabel import fit_relabeler, relabeler_from_rows, truth_rows
from .spotting.streams import (
    Streams,
    cross_fit_folds,
    cross_fit_spotters,
    labelled_streams,
    make_dataset,
    match_session,
    spotting_model,
)

__all__ = ["auto", "dataset_from_rehearsals"]

#: The frame rate a dataset's rehearsals are read at when it names none (``frame_rate_hz``)
DEFAULT_RATE_HZ = 50.0


def auto(dataset: Any, budget_s: float = 20.0, *, folds: int = 5, seed: int = 0,
         groups: Sequence[Any] | None = None, candidates: Sequence[Any] | None = None,
         fallback: Callable[[], Any] | None = None,
         progress: Callable[[float, str], None] | None = None,
         cancel: Any = None, task: str | None = None) -> Any:
    """Choose a model family and its settings for ``dataset`` by cross-validation on its
    takes; for spotting, with the dataset's rehearsals, train the spotter's second opinions
    too.

    The search, its parameters and the ``selection_`` it leaves on the model are
    :func:`gesturemap.models.search.auto`'s.

    Chosen for spotting, from a dataset that holds rehearsals (continuous recordings labelled
    frame by frame, :meth:`~gesturemap.Dataset.add_rehearsal` or
    :func:`dataset_from_rehearsals`) of two groups or more, the model also gets the
    spotter's context relabeller and window detector trained from them, each kept only when
    its cross-fit over the groups says it helps; ``selection_["rehearsals"]`` says what was
    done and why. :class:`~gesturemap.Spotter` (so ``gm.spot``) uses them unless given
    ``verifier=None`` / ``detector=None``; they are saved with the model. This comes on top
    of ``budget_s``: four more trainings and a few passes over the rehearsals (about two
    minutes on three hours of rehearsal, HAPT's 14 training subjects).
    """
    model = search_auto(dataset, budget_s, folds=folds, seed=seed, groups=groups,
                        candidates=candidates, fallback=fallback, progress=progress,
                        cancel=cancel, task=task)
    rehearsals = getattr(dataset, "rehearsals", ())
    if rehearsals and selection_of(model)["task"] == "spotting":
        second_opinions(model, rehearsals,
                        getattr(dataset, "frame_rate_hz", None) or DEFAULT_RATE_HZ,
                        progress, cancel)
    return model


def second_opinions(model: Any, rehearsals: Sequence[Any], rate_hz: float,
                    progress: Any = None, cancel: Any = None) -> dict[str, Any]:
    """Train the context relabeller and the window detector for ``model`` (fitted, chosen
    for spotting) from ``rehearsals``; keep each that its cross-fit chooses in
    ``model.training_info_["spotting"]`` (where ``gm.Spotter`` finds them) and say what was
    done in ``selection_["rehearsals"]``, which is also returned."""
    t0 = time.perf_counter()
    recordings = [np.asarray(r.inputs) for r in rehearsals]
    labels = [np.asarray(r.frame_labels).astype(str) for r in rehearsals]
    groups = [r.group for r in rehearsals]
    gestures = [str(lb) for lb in model.labels_ if str(lb) != NULL]
    spec = {"kind": model.kind, "params": model.get_params()}
    out: dict[str, Any] = {"recordings": len(rehearsals), "groups": len(set(groups))}
    own: dict[str, Any] = {"verifier": None, "detector": None}

    def step(share: float, what: str) -> None:
        if cancel is not None and cancel.is_set():
            raise TrainingCancelled("the model search was cancelled")
        if progress is not None:
            progress(share, what)

    step(1.0, "training the context relabeller on the rehearsals")
    try:
        relabeler = fit_relabeler(spec, recordings, labels, groups, gestures=gestures,
                                  rate_hz=rate_hz)
        cv = relabeler.cv_
        out["relabeler"] = {"chosen": bool(cv["chosen"]), "reason": cv["reason"],
                            **{k: cv[k] for k in ("context", "wait", "weight")}}
        if cv["chosen"]:
            own["verifier"] = relabeler.to_dict()
    except GesturemapError as e:  # VerifierUnavailable too: why, in the record
        out["relabeler"] = {"chosen": False, "reason": str(e)}
    step(1.0, "training the window detector on the rehearsals")
    try:
        check = _detector_check(spec, recordings, labels, groups, gestures, rate_hz,
                                out["relabeler"] if own["verifier"] is not None else None)
        out["detector"] = check
        if check["chosen"]:
            own["detector"] = fit_detector(recordings, labels, gestures=gestures,
                                           rate_hz=rate_hz).to_dict()
    except GesturemapError as e:
        out["detector"] = {"chosen": False, "reason": str(e)}
    out["seconds"] = round(time.perf_counter() - t0, 1)
    info = dict(getattr(model, "training_info_", None) or {})
    info["spotting"] = own
    selection = dict(info.get("selection") or {})
    selection["rehearsals"] = out
    info["selection"] = selection
    model.training_info_ = info
    model.selection_ = selection
    return out


def _detector_check(spec: dict[str, Any], recordings: list[np.ndarray],
                    labels: list[np.ndarray], groups: list[Any], gestures: list[str],
                    rate_hz: float, relabel: dict[str, Any] | None) -> dict[str, Any]:
    """Whether the window detector helps: the groups dealt into two halves, each half spotted
    by a model trained on the other half's takes (cut as :func:`dataset_from_rehearsals`
    cuts them: the model ``gm.auto`` returns has seen every rehearsal, and would find on them
    what it will not find on a new performer), with the chosen relabeller (``relabel``: its
    context, wait and weight) and a detector both trained on the other half too; the micro
    F1 with and without the detector over every recording. ``chosen`` when higher with."""
    st = labelled_streams(recordings, labels, groups, gestures, rate_hz)
    classes = [str(g) for g in st.gestures]
    parts = cross_fit_folds(st.subject, 2)
    make_model, settings = spotting_model(spec, "gm.auto")
    tol = max(1, int(round(rate_hz)))
    rows: dict[str, list[Any]] = {"with": [], "without": []}
    for _, test, spotter in cross_fit_spotters(st, parts, make_model, settings):
        train = np.setdiff1d(np.arange(len(st.sessions)), test)
        verifier = None
        if relabel is not None:
            c, w = relabel["context"], relabel["wait"]
            verifier = relabeler_from_rows(*truth_rows(st, train, classes, c, w), classes,
                                           relabel["weight"], context=c, wait=w)
        detector = fit_detector([st.sessions[i] for i in train],
                                [st.labels[i] for i in train], gestures=st.gestures,
                                rate_hz=rate_hz)
        for i in test:
            for key, d in (("with", detector), ("without", None)):
                found = Spotter(spotter.model, verifier=verifier, detector=d).spot(
                    st.sessions[i])
                rows[key].append(match_session(st, int(i), found, tol))
    return detector_verdict(rows, classes, rate_hz)


def dataset_from_rehearsals(recordings: Sequence[Any], frame_labels: Sequence[Any],
                            groups: Sequence[Any] | None = None, *,
                            gestures: Sequence[Any] | None = None, rate_hz: float = 50.0,
                            null_take_s: float = 2.0, null_every_s: float = 20.0) -> Dataset:
    """A spotting dataset from continuous recordings labelled frame by frame: every gesture
    as a take, a ``null_take_s`` take of ``gm.NULL`` every ``null_every_s`` of each stretch
    between gestures (what ``gesturemap eval --spotting`` trains on: at 50 frames/s, 100
    frames every 1000), and the recordings themselves as the dataset's rehearsals, so that
    ``gm.auto`` trains the spotter's relabeller and window detector from them too.

    Parameters
    ----------
    recordings : (T, D) arrays
    frame_labels : one (T,) label per frame of each
    groups : the performer or session of each recording; default one group each
    gestures : the labels that are gestures; every other frame is ``gm.NULL`` (default:
        every label but ``gm.NULL``). Labels are kept as text (``7`` becomes ``"7"``).
    rate_hz : their frame rate (the dataset's ``frame_rate_hz``)
    """
    if not isinstance(rate_hz, (int, float)) or isinstance(rate_hz, bool) or not rate_hz > 0:
        raise GesturemapError(f"rate_hz={rate_hz!r}: frames per second, a number > 0")
    if len(recordings) != len(frame_labels) or (groups is not None
                                                and len(groups) != len(recordings)):
        raise GesturemapError("dataset_from_rehearsals: give one label array (and one group) "
                              "per recording")
    texts = [np.asarray(lab).astype(str) for lab in frame_labels]
    seen = {str(g) for t in texts for g in np.unique(t).tolist()}
    named = sorted((seen if gestures is None else {str(g) for g in gestures}) - {NULL})
    if not set(named) & seen:
        raise GesturemapError("dataset_from_rehearsals: no frame is labelled with a gesture"
                              + ("" if gestures is None else f" (gestures {named})"))
    ds = Dataset()
    ds.frame_rate_hz = float(rate_hz)
    for k, (x, text) in enumerate(zip(recordings, texts, strict=True)):
        ds.add_rehearsal(x, np.where(np.isin(text, named), text, NULL),
                         None if groups is None else groups[k])
    held = ds.rehearsals  # checked copies: the takes are cut from them
    st = Streams([r.inputs for r in held], [r.frame_labels for r in held],
                 np.array([r.group for r in held], dtype=object), named, float(rate_hz))
    return make_dataset(st, range(len(held)), lambda x: x,
                        null_take=max(1, int(round(null_take_s * rate_hz))),
                        null_every=max(1, int(round(null_every_s * rate_hz))), into=ds)
