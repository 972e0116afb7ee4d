"""Labelled streams for spotting's cross-validation: sessions with per-frame labels and their
subjects (:class:`Streams`, HAPT's file layout), the training takes cut from them, and the
folds of subjects (groups) every cross-validation and cross-fitting of
:mod:`gesturemap.evaluation.spotting.cv` deals them into.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...data import Dataset
from ...models.spotting.core import NULL, Spotter
from ...models.spotting.verifier import VerifierUnavailable
from ...utils.validation import whole_numbers
from .scores import SessionResult, ground_truth_events, match_detections

__all__ = ["Streams", "check_subjects", "cross_fit_folds", "grouped_folds", "labelled_streams",
           "length_grid", "load_streams", "low_pass", "make_dataset", "null_runs",
           "read_stream_file", "whole_numbers"]


@dataclass
class Streams:
    """Sessions of a labelled stream file."""

    sessions: list[np.ndarray]  # each (T, D)
    labels: list[np.ndarray]  # each (T,)
    subject: np.ndarray  # (S,)
    gestures: list[Any]  # the labels that are gestures
    rate_hz: float


def read_stream_file(path: str | os.PathLike[str], times: bool = False) -> tuple[Any, ...]:
    """A stream file's arrays, every one checked: ``X_concat`` (T, D) as finite float64,
    ``labels_concat`` (T,), ``lengths`` (S,) (each recording's frames, >= 1, summing to T),
    ``subject`` (S,) or None, ``gesture_labels`` as a list or None; with ``times``, also
    ``times_concat`` (T,) in seconds, finite and never going back within a recording, or None
    (a rehearsal the window recorded has them). Labels, subjects and gestures that are whole
    numbers are integers (:func:`whole_numbers`), else text. The one reader of ``gesturemap
    eval --spotting``, ``gesturemap audit`` and ``gesturemap train --verifier/--relabeler``;
    raises :class:`~gesturemap.GesturemapError` naming the file and what is wrong."""
    from ...errors import GesturemapError
    from ...utils.storage import load_npz

    where = os.fspath(path)
    arrays = load_npz(path)  # not an .npz file, damaged, pickled objects: a FormatError
    missing = [k for k in ("X_concat", "labels_concat", "lengths") if k not in arrays]
    if missing:
        raise GesturemapError(f"{where}: no {', '.join(missing)} (a stream file holds "
                              "X_concat, labels_concat with one label per frame, lengths)")
    try:
        x = np.asarray(arrays["X_concat"], dtype=np.float64)
    except (TypeError, ValueError):
        raise GesturemapError(f"{where}: X_concat holds {arrays['X_concat'].dtype} values, "
                              "not numbers") from None
    labels, lengths = whole_numbers(arrays["labels_concat"]), whole_numbers(arrays["lengths"])
    if x.ndim != 2 or labels.shape != (len(x),):
        raise GesturemapError(f"{where}: X_concat {x.shape} and labels_concat "
                              f"{labels.shape}: expected (T, D) and (T,), a label per frame")
    if lengths.ndim != 1 or not lengths.size or lengths.dtype.kind not in "iu" or np.any(
            lengths < 1) or lengths.sum() != len(x):
        raise GesturemapError(f"{where}: lengths {lengths.tolist()!s:.60} for {len(x)} frames: "
                              "give each recording's number of frames (whole numbers >= 1) "
                              "summing to X_concat's")
    if not np.all(np.isfinite(x)):
        raise GesturemapError(f"{where}: X_concat holds values that are not finite numbers")
    subject = whole_numbers(arrays["subject"]) if "subject" in arrays else None
    if subject is not None and subject.shape != lengths.shape:
        raise GesturemapError(f"{where}: {subject.size} subjects for {lengths.size} "
                              "recordings: give one per recording")
    gestures = None
    if "gesture_labels" in arrays:
        named = whole_numbers(arrays["gesture_labels"])
        if named.ndim > 1 or not named.size:
            raise GesturemapError(f"{where}: gesture_labels of shape {named.shape}: list the "
                                  "labels that are gestures")
        gestures = np.atleast_1d(named).tolist()
    if not times:
        return x, labels, lengths, subject, gestures
    stamps = None
    if "times_concat" in arrays:
        stamps = np.asarray(arrays["times_concat"])
        cuts = np.cumsum(lengths)[:-1]
        if (stamps.shape != (len(x),) or stamps.dtype.kind not in "iuf"
                or not np.all(np.isfinite(stamps))
                or any(np.any(np.diff(part) < 0) for part in np.split(stamps, cuts))):
            raise GesturemapError(f"{where}: times_concat {stamps.shape} for {len(x)} frames: "
                                  "give each frame's time in seconds, never going back within "
                                  "a recording")
        stamps = stamps.astype(np.float64)
    return x, labels, lengths, subject, gestures, stamps


def load_streams(path: str | os.PathLike[str], gestures: Sequence[Any] | None = None,
                 rate_hz: float = 50.0) -> Streams:
    """Load a stream file (HAPT's layout; ``gesturemap train --verifier``'s rehearsals too),
    checked by :func:`read_stream_file`. Frame labels are numbers or text; ``gestures``
    defaults to the file's ``gesture_labels``, else HAPT's transitions 7-12 for numbered
    frames, every label but ``gm.NULL`` for text. Raises :class:`~gesturemap.GesturemapError`
    for a bad file, ``rate_hz``, or gestures no frame is labelled with."""
    from ...errors import GesturemapError
    from ...utils.validation import check_float

    rate_hz = check_float("rate_hz", rate_hz, strict=True, hint="frames per second")
    x, raw, lengths, subject, named = read_stream_file(path)
    where = os.fspath(path)
    gest = list(gestures) if gestures is not None else named
    numbered = raw.dtype.kind == "i"
    if not numbered:  # text labels ("circle", "null"), as a rehearsal is written
        raw = raw.astype(str)
    if gest is None:
        gest = list(range(7, 13)) if numbered else sorted(set(raw.tolist()) - {NULL})
    elif numbered:  # "7" and 7.0 name the frames labelled 7
        gest = [_whole(g) for g in gest]
        if not all(isinstance(g, int) for g in gest):
            raise GesturemapError(f"{where}: its frame labels are numbers, the gestures "
                                  f"{[g for g in gest if not isinstance(g, int)]} are not: "
                                  "name the gestures by their numbers")
    else:
        gest = [g if isinstance(g, str) else str(_whole(g)) for g in gest]
    if not np.any(np.isin(raw, gest)):
        raise GesturemapError(f"{where}: no frame is labelled with a gesture "
                              f"({', '.join(map(str, gest)) or 'none named'}; its labels: "
                              f"{', '.join(map(str, np.unique(raw)[:12]))}): name the labels "
                              "that are gestures (--gestures, or the file's gesture_labels)")
    cuts = np.cumsum(lengths)[:-1]
    subject = subject if subject is not None else np.arange(len(lengths))
    return Streams(np.split(x, cuts), np.split(raw, cuts), subject, gest, rate_hz)


def _whole(value: Any) -> Any:
    """A gesture's label as an ``int`` when it is a whole number (7, "7", 7.0), else as it is."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return int(number) if number.is_integer() else value


def low_pass(x: np.ndarray, alpha: float) -> np.ndarray:
    """The causal one-pole low-pass of the LowPass feature stage (``alpha``), started at x[0]."""
    if alpha >= 1.0:
        return x
    from scipy.signal import lfilter

    y, _ = lfilter([alpha], [1.0, alpha - 1.0], x, axis=0, zi=(1 - alpha) * x[:1])
    return y


def null_runs(null: np.ndarray) -> list[tuple[int, int]]:
    """The maximal runs of True in a (T,) mask, as ``(start, stop)`` (stop excluded)."""
    edges = np.diff(np.concatenate([[0], null.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(),
                    strict=True))


def make_dataset(st: Streams, idx: Sequence[int], features: Callable[[np.ndarray], np.ndarray],
                 null_take: int = 100, null_every: int = 1000,
                 into: Dataset | None = None) -> Dataset:
    """Gesture takes (every ground-truth event) and null takes of sessions ``idx``. A null take
    is ``null_take`` consecutive frames of the stream, one every ``null_every`` frames of each
    contiguous run of null frames (never across a gesture: a temporal model and deltas see the
    stream's own frame order); a run shorter than half a take gives none. The takes go into
    ``into`` when given (and it is returned), else into a new dataset."""
    ds = Dataset() if into is None else into
    for i in idx:
        x = features(st.sessions[i])
        lab = st.labels[i]
        for label, s, e in ground_truth_events(lab, st.gestures):
            ds.add(x[s:e + 1], label=str(label))
        for a, b in null_runs(~np.isin(lab, st.gestures)):
            for k in range(a, b - null_take // 2, null_every):
                ds.add(x[k:min(k + null_take, b)], label=NULL)
    return ds


def grouped_folds(groups: np.ndarray, k: int) -> list[np.ndarray]:
    """``k`` folds of distinct groups (sorted groups dealt round-robin): test indices."""
    uniq = np.unique(groups)
    return [np.flatnonzero(np.isin(groups, uniq[f::k])) for f in range(k)]


def cross_fit_folds(groups: np.ndarray, folds: Any) -> list[np.ndarray]:
    """The ``folds`` parts of a cross-fitting (:func:`grouped_folds`: the sorted groups dealt
    round-robin, so 2 is the halves the verifier was always cross-fitted on). Refuses a
    number of folds that is not an integer >= 2 (a :class:`~gesturemap.GesturemapError`), or
    more folds than there are groups (:class:`VerifierUnavailable`: a part would be empty)."""
    from ...utils.validation import check_int

    k = check_int("folds", folds, 2, hint="the cross-fitting's number of folds of groups")
    n = len(np.unique(groups))
    if k > n:
        raise VerifierUnavailable(f"cross-fitting over {k} folds needs at least {k} groups "
                                  f"(performers or sessions), the recordings come from {n}: "
                                  f"give folds <= {n}")
    return grouped_folds(groups, k)


def check_subjects(subject: np.ndarray, folds: Any, verifier_folds: Any = None,
                   held_out: bool = False) -> None:
    """Refuse, before any training, a spotting evaluation the streams' subjects cannot fill
    (a :class:`~gesturemap.GesturemapError` that says so): ``folds`` leave-subjects-out folds
    of them (``held_out``: none, every subject trains) and, given ``verifier_folds``, the
    second stage's cross-fitting over that many folds of each training part's subjects."""
    from ...errors import GesturemapError
    from ...utils.validation import check_int

    n = len(np.unique(subject))
    have = (f"the {'training ' if held_out else ''}streams come from {n} "
            f"subject{'' if n == 1 else 's'}")
    smallest, k = n, None
    if not held_out:
        k = check_int("folds", folds, 2, hint="leave-subjects-out folds")
        if n < k:
            raise GesturemapError(
                f"{have}; spotting's {k}-fold cross-validation holds out subjects, so it needs "
                f"at least {k}: " + (f"give --folds {n} or fewer" if n > 1 else
                                     "give each session's subject (the file's subject array), "
                                     "or score on other streams (--test)"))
        smallest = min(len(np.unique(np.delete(subject, t))) for t in grouped_folds(subject, k))
    if verifier_folds is None:
        return
    v = check_int("verifier_folds", verifier_folds, 2, hint="the second stage's folds")
    if smallest < v:
        fixes = [f"--verifier-folds {smallest} or fewer"] if smallest > 1 else []
        if k is not None and k < n and n - 1 >= v:  # one subject held out at a time
            fixes.append(f"--folds {n} (each fold then trains on {n - 1})")
        raise GesturemapError(
            f"{have}{'' if k is None else f' (each fold trains on as few as {smallest})'}; "
            f"the second stage's cross-fitting over {v} folds needs at least {v} groups of "
            f"training subjects: give {', or '.join(fixes) or 'the streams of more subjects'}")


def length_grid(value: Any, name: str) -> tuple[Any, ...]:
    """``fit_verifier``'s ``context`` or ``wait``: one length or several, each an integer
    >= 0; among several, a context may also be a pair ``(near, context)``, both windows read
    at once (:func:`~..models.spot_verifier.split_context`): ``context=[(50, 100)]``, and a
    wait a pair ``(wait, settle)``, read once the movement settled
    (:func:`~..models.spot_verifier.split_wait`): ``wait=[0, (25, 80)]``."""
    from ...models.spotting.verifier import split_context, split_wait
    from ...utils.validation import check_int

    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise VerifierUnavailable(f"{name}: give at least one length (frames; 0: none)")
    return tuple((tuple(sorted(split_context(tuple(c)))) if name == "context" else
                  split_wait(tuple(c))) if isinstance(c, (list, tuple))
                 else check_int(name, c, 0) for c in values)


def labelled_streams(recordings: Sequence[Any], frame_labels: Sequence[Any],
                      groups: Sequence[Any] | None, gestures: Sequence[Any] | None,
                      rate_hz: float) -> Streams:
    """:func:`fit_verifier`'s recordings as :class:`Streams`, every input checked."""
    if isinstance(rate_hz, bool) or not isinstance(rate_hz, (int, float)) or not (
            np.isfinite(rate_hz) and rate_hz > 0):
        raise VerifierUnavailable(f"rate_hz {rate_hz!r}: frames per second, a number > 0")
    if len(recordings) != len(frame_labels):
        raise VerifierUnavailable(f"{len(recordings)} recordings and {len(frame_labels)} "
                                  "label arrays: give one label array per recording")
    sessions, labels = [], []
    for k, (x, lab) in enumerate(zip(recordings, frame_labels, strict=True)):
        x = np.asarray(x, dtype=np.float64)
        lab = np.asarray(lab)
        if x.ndim != 2 or lab.shape != (len(x),):
            raise VerifierUnavailable(f"recording {k}: frames of shape {x.shape} and labels of "
                                      f"shape {lab.shape}; expected (T, D) and (T,)")
        sessions.append(x)
        labels.append(lab)
    groups = np.arange(len(sessions)) if groups is None else np.asarray(groups)
    if groups.shape != (len(sessions),):
        raise VerifierUnavailable(f"{groups.shape[0] if groups.ndim else 0} groups for "
                                  f"{len(sessions)} recordings: give one group per recording")
    if len(np.unique(groups)) < 2:
        raise VerifierUnavailable("the recordings come from one group: cross-fitting needs at "
                                  "least two (record two sessions, or give groups=None)")
    if gestures is None:
        seen = {lb.item() if isinstance(lb, np.generic) else lb
                for lab in labels for lb in np.unique(lab)}
        gestures = sorted((lb for lb in seen if lb != NULL), key=str)
    if not gestures:
        raise VerifierUnavailable("no frame is labelled with a gesture")
    return Streams(sessions, labels, groups, list(gestures), float(rate_hz))


def match_session(st: Streams, i: int, events: Sequence[Any], tolerance: int = 50
                  ) -> SessionResult:
    """Session ``i``'s events (``label``, ``emitted``) matched to its ground truth."""
    truth = [(str(lb), s, e) for lb, s, e in ground_truth_events(st.labels[i], st.gestures)]
    null_frames = int(np.sum(~np.isin(st.labels[i], st.gestures)))
    return match_detections(truth, [(ev.label, ev.emitted) for ev in events], tolerance,
                            null_frames)


def penalised_f1(m: dict[str, Any], fa_budget: float) -> float:
    """An inner score: micro F1 first, with false alarms per minute beyond ``fa_budget``
    paid for."""
    return m["f1"] - max(0.0, m["false_alarms_per_min"] - fa_budget)


def spotting_model(model: Any, who: str) -> tuple[Callable[[], Any], dict[str, Any]]:
    """``fit_verifier``'s and ``fit_relabeler``'s ``model``: a function returning a new model,
    or a project's model settings (``{"kind", "params", "spotting"}``). Returns the function
    and the spotting settings it names (none for a function); ``who`` names the caller in
    the error a wrong one gets."""
    from ...errors import GesturemapError
    from ...models import MODEL_REGISTRY
    from ...models.base import params_from_json

    if isinstance(model, dict):
        kind, params = model.get("kind"), params_from_json(model.get("params") or {})
        if kind not in MODEL_REGISTRY:
            raise GesturemapError(f"{who}: model kind {kind!r}, expected one of "
                                  f"{sorted(MODEL_REGISTRY)}")
        return (lambda: MODEL_REGISTRY[kind](**params)), dict(model.get("spotting") or {})
    if callable(model):
        return model, {}
    raise GesturemapError(f"{who}: model is {type(model).__name__}, expected a function "
                          "returning a new model, or model settings "
                          "{\"kind\": ..., \"params\": ...}")


def cross_fit_spotters(st: Streams, parts: Sequence[np.ndarray], make_model: Callable[[], Any],
                       settings: dict[str, Any]) -> Iterator[tuple[int, np.ndarray, Spotter]]:
    """Each cross-fitting part (its number, its sessions) with a :class:`Spotter` whose model
    trained on the other parts' sessions (:func:`make_dataset`), one part at a time (a
    model is trained when its part is reached); a model that cannot be trained or spot is
    :class:`VerifierUnavailable`, naming the part."""
    from ...errors import GesturemapError

    for p, test in enumerate(parts):
        train = np.setdiff1d(np.arange(len(st.sessions)), test)
        try:
            spotter = Spotter(make_model().fit(make_dataset(st, train, lambda x: x)), **settings)
        except GesturemapError as e:
            raise VerifierUnavailable(f"the model of cross-fitting fold {p + 1} of "
                                      f"{len(parts)} (trained on {len(train)} recording(s)) "
                                      f"cannot spot: {e}") from e
        yield p, test, spotter
