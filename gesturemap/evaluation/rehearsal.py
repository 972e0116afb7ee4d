"""A project's spotting verifier (or context relabeller) trained from rehearsal recordings
labelled frame by frame (``gesturemap train DIR --verifier RECORDINGS...``, ``--relabeler
RECORDINGS...``; docs/spotting.md, "Verifying events" and "Naming events by their context").

A recording is a stream file (``.npz``: ``X_concat``, ``labels_concat``, ``lengths``,
optional ``subject`` and ``gesture_labels``; the layout ``gesturemap eval --spotting`` reads).
A session log is not one: its ``labels.csv`` holds the model's own answer at each frame, not
what was performed. Raw sensor frames go through the project's fitted feature pipeline first
(the verifier sees what the model takes). Nothing here writes: :func:`train_project_verifier`
returns the verifier, and the caller stores it when it was chosen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GesturemapError
from ..models.spotting.core import NULL
from ..models.spotting.verifier import SpotVerifier, VerifierUnavailable, default_contexts
from .spotting.cv import fit_verifier
from .spotting.relabel import fit_relabeler
from .spotting.streams import read_stream_file

__all__ = ["check_rehearsal_file", "detector_verdict", "read_rehearsals", "recorded_rehearsal",
           "rehearsal_frames", "train_project_detector", "train_project_verifier",
           "verifier_basis", "verifier_line"]

#: Frames per second of a stream file's frames when the project's pipeline names no rate.
DEFAULT_RATE_HZ = 50.0


def _stream_file(path: Path) -> list[tuple[np.ndarray, np.ndarray | None, np.ndarray, Any,
                                           list[str] | None]]:
    """A stream file's recordings (:func:`~.spot_streams.read_stream_file`, which checks it):
    (frames, times (None: the file has none), labels as text, group, gestures as text or
    None); a whole number as its integer (7.0 -> "7")."""
    x, labels, lengths, subject, gestures, times = read_stream_file(path, times=True)
    groups = (subject.astype(str) if subject is not None
              else [f"{path}#{k}" for k in range(len(lengths))])
    cuts = np.cumsum(lengths)[:-1]
    stamps = [None] * len(lengths) if times is None else np.split(times, cuts)
    return [(xs, ts, ls, str(g), None if gestures is None else [str(n) for n in gestures])
            for xs, ts, ls, g in zip(np.split(x, cuts), stamps, np.split(labels.astype(str), cuts),
                                     groups, strict=True)]


def read_rehearsals(paths: Sequence[str], project: Any
                    ) -> tuple[list[np.ndarray], list[np.ndarray], list[Any], list[str], float]:
    """The rehearsal recordings as the model's frames: (recordings, frame labels as text
    (a project gesture, else ``"null"``), groups, the project's gestures as text, frames per
    second), with gestures labelled and at least two groups, as a verifier is trained from.
    Raises :class:`GesturemapError` naming the file and what is wrong."""
    recordings, frame_labels, groups, gestures, rate = rehearsal_frames(paths, project)
    if not any(np.any(lab != NULL) for lab in frame_labels):
        raise GesturemapError(f"no frame of the recordings is labelled with a gesture of the "
                              f"project ({', '.join(gestures)})")
    if len(set(groups)) < 2:
        raise GesturemapError("the recordings come from one performer or session (one "
                              "subject): cross-fitting needs at least two; record another")
    return recordings, frame_labels, groups, gestures, rate


def _project_gestures(project: Any) -> tuple[Any, list[str]]:
    """The project's null label and gestures as text, once it is checked to be trained, to
    spot, and its pipeline fitted."""
    if project.trained is None:
        raise GesturemapError("the project has no trained model: run gesturemap train DIR "
                              "first (the rehearsal is replayed through the model)")
    spotting = project.model.get("spotting")
    if spotting is None:
        raise GesturemapError("the project does not spot gestures (no spotting settings): "
                              "turn spotting on in the window's model panel first")
    null = spotting.get("null_label", NULL)
    if not project.pipeline.fitted:
        raise GesturemapError("the project's feature pipeline is not fitted: run gesturemap "
                              "train DIR first")
    return null, [str(lb) for lb in project.trained.labels_ if lb != null]


def _features(project: Any, x: np.ndarray, times: np.ndarray, texts: np.ndarray,
              gestures: list[str], where: Any) -> tuple[np.ndarray, np.ndarray, float | None]:
    """One recording's raw frames at ``times`` through the project's fitted pipeline: its
    feature frames, their labels (a gesture, else ``"null"``) and the median step between
    them in seconds (None: one frame)."""
    _check_width(where, x, project.input_dim)
    try:
        feats, out_t = project.pipeline.transform_sequence(x, times, project.input_names,
                                                           return_times=True)
    except GesturemapError as exc:
        raise GesturemapError(f"{where}: {exc}") from None
    at = np.clip(np.searchsorted(times, out_t, side="right") - 1, 0, len(x) - 1)
    lab = texts[at] if len(at) != len(texts) else texts
    step = float(np.median(np.diff(out_t))) if len(out_t) > 1 else None
    return (np.asarray(feats, dtype=np.float64), np.where(np.isin(lab, gestures), lab, NULL),
            step)


def _check_width(where: Any, x: np.ndarray, input_dim: int | None) -> None:
    if x.ndim != 2 or x.shape[1] != input_dim:
        raise GesturemapError(f"{where}: frames of {x.shape[-1]} values, the project "
                              f"takes {input_dim}")


def _check_labels(where: Any, texts: np.ndarray, named: list[str] | None, null: Any,
                  gestures: list[str]) -> None:
    """Refuse frame labels (or a file's ``gesture_labels``, ``named``) that name no gesture."""
    found = named if named is not None else sorted(  # 0: no gesture, unless one
        set(texts.tolist()) - {NULL, str(null)} - ({"0"} - set(gestures)))
    unknown = sorted(set(found) - set(gestures))
    if unknown:
        raise GesturemapError(f"{where}: the label(s) {unknown} name no gesture of the "
                              f"project (its gestures: {', '.join(gestures)}); label "
                              "other frames null or 0, or list the gestures in "
                              "gesture_labels")


def check_rehearsal_file(path: Any, project: Any) -> None:
    """Raise :class:`GesturemapError` where the audit of ``project`` could not read the stream
    file ``path``: damaged, frames of another width than the project's sensor gives, labels
    naming none of its classes. A rehearsal file is checked so before the project keeps it:
    one kept that no audit reads would stop every audit of the rehearsals it keeps."""
    null = (project.model.get("spotting") or {}).get("null_label", NULL)
    gestures = [str(c) for c in project.classes if str(c) != str(null)]
    parts = _stream_file(Path(path))
    for k, (x, _, texts, _, named) in enumerate(parts):
        where = path if len(parts) == 1 else f"{path} (recording {k + 1})"
        _check_labels(where, texts, named, null, gestures)
        if project.input_dim is not None:
            _check_width(where, x, project.input_dim)


def _rate(steps: list[float], period: float) -> float:
    return 1.0 / float(np.median(steps)) if steps and np.median(steps) > 0 else 1.0 / period


def rehearsal_frames(paths: Sequence[str], project: Any
                     ) -> tuple[list[np.ndarray], list[np.ndarray], list[Any], list[str], float]:
    """:func:`read_rehearsals` without its checks of what a verifier needs: a rehearsal of
    ordinary movement alone (every frame null) reads too (``gesturemap audit``)."""
    null, gestures = _project_gestures(project)
    period = 1.0 / (project.pipeline.rate_hz or DEFAULT_RATE_HZ)
    recordings, frame_labels, groups, steps = [], [], [], []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            raise GesturemapError(f"{path}: a folder; give stream files (.npz) with a label "
                                  "per frame (a session log's labels are the model's answers)")
        parts = _stream_file(path)
        for k, (x, times, texts, group, named) in enumerate(parts):
            where = path if len(parts) == 1 else f"{path} (recording {k + 1})"
            _check_labels(where, texts, named, null, gestures)
            if times is None:
                times = np.arange(len(x)) * period
            feats, lab, step = _features(project, x, times, texts, gestures, where)
            recordings.append(feats)
            frame_labels.append(lab)
            groups.append(group)
            if step is not None:
                steps.append(step)
    return recordings, frame_labels, groups, gestures, _rate(steps, period)


def recorded_rehearsal(project: Any, frames: np.ndarray, times: np.ndarray
                       ) -> tuple[list[np.ndarray], list[np.ndarray], float]:
    """A rehearsal of ordinary movement recorded live (the window's): raw sensor ``frames``
    (T, D) at ``times`` (T,) in seconds, through the project's fitted pipeline as
    :func:`rehearsal_frames` reads a file: ([features], [frame labels, all null], frames per
    second)."""
    _, gestures = _project_gestures(project)
    x = np.asarray(frames, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    if x.ndim != 2 or times.shape != (len(x),) or len(x) < 2:
        raise GesturemapError(f"rehearsal: frames {x.shape} at times {times.shape}: record "
                              "a rehearsal of a few seconds at least")
    feats, lab, step = _features(project, x, times, np.full(len(x), NULL), gestures,
                                 "the rehearsal")
    period = 1.0 / (project.pipeline.rate_hz or DEFAULT_RATE_HZ)
    return [feats], [lab], _rate([step] if step is not None else [], period)


def verifier_basis(project: Any) -> str:
    """What :func:`train_project_verifier` trains a verifier for, as text to compare: the
    trained model (its file), the feature pipeline, the inputs, the spotting settings but
    the verifier. Where it changed (another process retrained the project, or changed its
    settings), a verifier trained before must be trained again."""
    import json

    spotting = {k: v for k, v in (project.model.get("spotting") or {}).items()
                if k != "verifier"}
    return json.dumps([project.model_file, project.pipeline.to_dict(), project.input_dim,
                       project.input_names, spotting], sort_keys=True, default=str)


def train_project_verifier(project: Any, paths: Sequence[str], relabel: bool = False,
                           progress: Callable[[str], None] | None = None
                           ) -> tuple[SpotVerifier, str]:
    """Train ``project``'s spotting verifier from the rehearsal recordings ``paths`` (with its
    model and spotting settings, 2-fold cross-fitting over the groups; ``relabel``: a context
    relabeller, :func:`~.spot_relabel.fit_relabeler`, instead); returns it, with its
    ``summary`` set, and the one line that says what was found. Store it (``to_dict()`` in
    the spotting settings) only when ``verifier.cv_["chosen"]``. ``progress``: called with a
    line of text as each step of a relabeller's training starts."""
    from ..models import MODEL_REGISTRY
    from ..models.base import jsonable_params
    from ..project.training import effective_params

    recordings, labels, groups, gestures, rate = read_rehearsals(paths, project)
    # the model that spots live: the trained one (a search may have swapped in another family
    # than the settings name), else the one the settings train
    trained = getattr(project, "trained", None)
    if trained is not None and getattr(trained, "kind", None) in MODEL_REGISTRY:
        kind, params = trained.kind, jsonable_params(trained.get_params())
    else:
        kind, params = project.model.get("kind"), effective_params(project.model)
    if kind not in MODEL_REGISTRY:
        raise GesturemapError(f"the project's model kind {kind!r} cannot be trained here")
    spotting = {k: v for k, v in project.model["spotting"].items()
                if k not in ("verifier", "null_label", "detector")}
    # (the cross-fit's takes say "null"; the verifier reads the spotter's own events, before
    # the detector's merge)
    settings = {"kind": kind, "params": params, "spotting": spotting}
    try:
        verifier = (fit_relabeler(settings, recordings, labels, groups, gestures=gestures,
                                  rate_hz=rate, progress=progress) if relabel else
                    fit_verifier(settings, recordings, labels, groups, gestures=gestures,
                                 rate_hz=rate, context=default_contexts(rate)))
    except VerifierUnavailable as exc:  # what the rehearsals lack, and what to do about it
        raise GesturemapError(
            f"no {'relabeller' if relabel else 'verifier'} can be trained from these "
            f"rehearsals ({exc}): record longer ones, "
            "with every gesture performed several times by each performer, or check the "
            "spotting settings (gesturemap eval --spotting shows what the spotter finds)"
        ) from None
    cv = verifier.cv_
    verifier.summary = {
        "gestures": list(verifier.classes), "chosen": bool(cv["chosen"]),
        "f1_with": round(float(cv["inner_with"]["f1"]), 4),
        "f1_without": round(float(cv["inner_without"]["f1"]), 4),
        "detections": int(cv["detections"] if relabel
                          else cv["inner_counts"]["detections"]),
        "recordings": len(recordings), "groups": len(set(groups)), "model": kind,
        "context": int(verifier.context),
        **({"kind": "relabeller", "wait": int(verifier.wait),
            "weight": float(cv["weight"])} if relabel else {})}
    return verifier, verifier_line(verifier.summary, cv.get("reason"))


def cross_fit_detector(project: Any, recordings: Sequence[np.ndarray],
                       frame_labels: Sequence[np.ndarray], groups: Sequence[Any],
                       gestures: list[str], rate_hz: float,
                       progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Whether a window detector helps ``project``'s trained spotter on these rehearsals:
    the groups dealt into two halves, a detector trained on each half spots the other's
    recordings with the project's model and spotting settings; the micro F1 with and
    without it, over every recording. ``chosen`` when it is higher with (the project's model
    was trained on its takes, not on the rehearsals: only the detector is cross-fitted)."""
    from ..models.spotting.core import spot
    from ..models.spotting.detector import fit_detector
    from .spotting.scores import ground_truth_events, match_detections

    names = sorted({str(g) for g in groups})
    if len(names) < 2:
        raise GesturemapError("the recordings come from one performer or session (one "
                              "subject): the detector's cross-fit needs at least two")
    half = {g: k % 2 for k, g in enumerate(names)}
    settings = {k: v for k, v in project.model["spotting"].items()
                if k not in ("detector", "null_label")}
    rows: dict[str, list[Any]] = {"with": [], "without": []}
    tolerance = max(1, int(round(rate_hz)))
    for side in (0, 1):
        train = [i for i, g in enumerate(groups) if half[str(g)] != side]
        test = [i for i, g in enumerate(groups) if half[str(g)] == side]
        if not any(np.any(frame_labels[i] != NULL) for i in train):
            raise GesturemapError("half of the rehearsals' performers hold no gesture: record "
                                  "every gesture with each performer")
        if progress is not None:
            progress(f"detector: training on half {2 - side} of the performers")
        d = fit_detector([recordings[i] for i in train], [frame_labels[i] for i in train],
                         gestures=gestures, rate_hz=rate_hz)
        if progress is not None:
            progress(f"detector: spotting half {side + 1} of the performers with it")
        for i in test:
            truth = [(str(g), a, b) for g, a, b in ground_truth_events(frame_labels[i],
                                                                       gestures)]
            null = int(np.sum(frame_labels[i] == NULL))
            for key, extra in (("with", {"detector": d}), ("without", {"detector": None})):
                events = spot(project.trained, recordings[i], **settings, **extra)
                rows[key].append(match_detections(
                    truth, [(str(e.label), e.emitted) for e in events], tolerance, null))
    return {**detector_verdict(rows, gestures, rate_hz), "recordings": len(recordings),
            "groups": len(names)}


def train_project_detector(project: Any, paths: Sequence[str],
                           progress: Callable[[str], None] | None = None
                           ) -> tuple[Any, list[str]]:
    """Train ``project``'s window detector from the rehearsal recordings ``paths`` when it
    helps the project's spotter (:func:`cross_fit_detector`, with the verifier or relabeller
    its settings hold); returns it (None when it does not help) and the lines that say what
    was found. Nothing is stored: the caller stores ``detector.to_dict()`` in the spotting
    settings. ``progress``: called with a line of text as each step starts."""
    from ..models.spotting.detector import fit_detector

    recordings, labels, groups, gestures, rate = rehearsal_frames(paths, project)
    check = cross_fit_detector(project, recordings, labels, groups, gestures, rate, progress)
    lines = [f"detector {'chosen' if check['chosen'] else 'not chosen'}: cross-fit F1 "
             f"{check['f1_with']:.3f} with, {check['f1_without']:.3f} without; false alarms "
             f"{check['false_alarms_with']:.2f} / {check['false_alarms_without']:.2f} a minute "
             f"({check['recordings']} recordings, {check['groups']} groups, each half spotted "
             "with a detector trained on the other)"]
    if not check["chosen"]:
        return None, [*lines, "nothing stored: the detector does not help the project's "
                              "spotter on these rehearsals"]
    if progress is not None:
        progress("detector: the last training, on every performer")
    detector = fit_detector(recordings, labels, gestures=gestures, rate_hz=rate)
    detector.summary = {**(detector.summary or {}), **{
        k: check[k] for k in ("f1_with", "f1_without", "recordings", "groups")}}
    frames = sum(len(x) for x in recordings)
    return detector, [*lines, f"{detector.nodes} nodes, trained on {len(recordings)} "
                              f"recordings ({frames / rate / 60:.1f} min at {rate:g} frames/s; "
                              f"gestures {', '.join(detector.classes)})"]


def detector_verdict(rows: dict[str, list[Any]], gestures: Sequence[Any], rate_hz: float
                     ) -> dict[str, Any]:
    """A detector's cross-fit read from the matched recordings spotted ``"with"`` and
    ``"without"`` it: ``chosen`` when the micro F1 is higher with, and both F1s and false
    alarms a minute."""
    from .spotting.scores import spotting_metrics

    m = {k: spotting_metrics(v, list(gestures), rate_hz) for k, v in rows.items()}
    return {"chosen": bool(m["with"]["f1"] > m["without"]["f1"]),
            "f1_with": round(float(m["with"]["f1"]), 4),
            "f1_without": round(float(m["without"]["f1"]), 4),
            "false_alarms_with": round(float(m["with"]["false_alarms_per_min"]), 3),
            "false_alarms_without": round(float(m["without"]["false_alarms_per_min"]), 3)}


def verifier_line(summary: dict[str, Any], reason: str | None = None) -> str:
    """The one summary line of a verifier's training."""
    s = summary
    state = "chosen" if s.get("chosen") else "not chosen"
    return (f"{s.get('kind', 'verifier')} {state}: cross-fit F1 {s['f1_with']:.3f} with, {s['f1_without']:.3f} "
            f"without; {s['detections']} detections on {s['recordings']} recordings "
            f"({s['groups']} groups)"
            + (f", reading {s['context']} frames before each start" if s.get("context") else "")
            + (f", waiting {s['wait']} frames after each emission" if s.get("wait") else "")
            + (f" ({reason})" if reason else ""))
