"""The vocabulary guide: how distinct a take is from the other classes and from ordinary
movement, while it is being recorded; and, for a class, which of its takes blur it into another.

:func:`distinctness` reads a take (or the frames recorded so far) through a fitted model: its
per-frame log-likelihood under the class it is recorded for, against the best other class
(the ``nearest``; :data:`~gesturemap.NULL`, "anything else", among them when the model has
one) and, given a rehearsal (recordings of ordinary movement), against a model of the same
kind fitted on that movement. The ``margin`` is the smallest of these differences, in
nats per frame; the take ``collides`` when the margin is below the ``threshold``. A model that
has not seen the take is the model that will have to recognise it once saved: at the end of a
take, a margin below 0 means that model would take it for the nearest class.

:func:`vocabulary_guide` prepares the same check for a dataset: it cross-validates the takes
(each judged by the model trained without its fold), chooses the warning's threshold from
those takes alone (the one that best predicts, from the first half, three quarters or all of
each take's frames, which takes the model trained without it misrecognises) and fits the model
on every take; :meth:`VocabularyGuide.check` then judges a take in one pass of the model, and
:meth:`VocabularyGuide.blurring` lists the takes of a class that blur it into another (those
the model trained without them takes for another class, or nearly).

Nothing here writes, nor changes the model given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import GesturemapError
from ..models import NULL

__all__ = ["Blur", "Distinctness", "VocabularyGuide", "distinctness", "guide_for_project",
           "vocabulary_guide"]

#: The warning's threshold when nothing was calibrated: a take collides when the model would
#: take it (as recorded so far) for another class.
DEFAULT_THRESHOLD = 0.0
#: Shares of a take's frames at which the threshold is calibrated (the meter reads a take
#: while it is recorded, the warning must hold from the middle of a take to its end).
FRACTIONS = (0.5, 0.75, 1.0)
#: Fewest frames judged: below this a take says too little.
MIN_FRAMES = 3
#: What the nearest class is called when it is the rehearsal's ordinary movement.
ORDINARY = "ordinary movement"


@dataclass(frozen=True)
class Distinctness:
    """How distinct a take is (:func:`distinctness`).

    Attributes
    ----------
    label : the class the take is recorded for.
    score : 0..1, a logistic of ``margin / scale``: 0.5 is a tie with the nearest class, near 1
        far from every other class, near 0 taken for the nearest.
    nearest : the closest other class (``"ordinary movement"`` when the rehearsal is closest;
        :data:`gesturemap.NULL` when the model's own null class is).
    margin : per-frame log-likelihood of ``label`` over ``nearest`` (nats per frame).
    collides : ``margin < threshold``: warn.
    reason : one sentence for the performer.
    frames : frames judged.
    threshold : the warning's threshold (nats per frame).
    judged : False for the only take of its class: no model trained without it knows the
        class, so nothing was measured (``reason`` says to record another).
    """

    label: Any
    score: float
    nearest: Any
    margin: float
    collides: bool
    reason: str
    frames: int
    threshold: float = DEFAULT_THRESHOLD
    judged: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON, the window's worker process)."""
        return {"label": str(self.label), "score": self.score, "nearest": str(self.nearest),
                "margin": self.margin if math.isfinite(self.margin) else None, "collides": self.collides, "reason": self.reason,
                "frames": self.frames, "threshold": self.threshold, "judged": self.judged}


@dataclass(frozen=True)
class Blur:
    """A take that blurs its class into another: take ``index`` (dataset order) of ``label``
    is, to the model trained without it, close to ``into`` (``distinctness``: its check)."""

    index: int
    label: Any
    into: Any
    distinctness: Distinctness


def _check_take(take: Any) -> np.ndarray:
    try:
        x = np.asarray(take, dtype=np.float64)
    except (TypeError, ValueError):
        raise GesturemapError(f"take: {type(take).__name__} is not an array of numbers; "
                              "expected a (T, D) array of frames") from None
    if x.ndim != 2:
        raise GesturemapError(f"take: shape {x.shape}; expected a (T, D) array of frames "
                              "(one row per frame)")
    if len(x) < MIN_FRAMES:
        raise GesturemapError(f"take: {len(x)} frame(s); at least {MIN_FRAMES} are needed to "
                              "judge how distinct it is (wait for a few more frames)")
    if not np.isfinite(x).all():
        raise GesturemapError("take: holds NaN or infinite values; expected finite numbers")
    return x


def _labels(model: Any) -> list[Any]:
    labels = getattr(model, "labels_", None)
    if labels is None or not hasattr(model, "log_likelihood"):
        raise GesturemapError(f"model: {type(model).__name__} is not a fitted classifier; fit "
                              "it first (the guide compares a take's likelihood under each "
                              "class)")
    labels = list(labels)
    if len(labels) < 2:
        raise GesturemapError("model: one class only; record a second gesture, then the takes "
                              "can be compared")
    return labels


def _own(labels: list[Any], label: Any) -> int:
    for i, lb in enumerate(labels):
        if lb == label or str(lb) == str(label):
            return i
    raise GesturemapError(f"label: {label!r} is not a class of the model ({labels}); give the "
                          "class the take is recorded for (a new class: train with its first "
                          "take, then the next takes are compared)")


def _per_frame(model: Any) -> bool:
    # DTW's scores are distances of whole sequences, not sums over frames
    return getattr(model, "kind", "") != "dtw"


def _ordinary_model(model: Any, rehearsal: list[np.ndarray], length: int) -> Any:
    """A model of the same kind and settings fitted on ordinary movement alone, cut into
    stretches of ``length`` frames (a take's): the take's likelihood under it says how well
    ordinary movement explains the take, on the same scale as a class's."""
    from ..data import Dataset

    length = max(MIN_FRAMES, int(length))
    ds = Dataset()
    for x in rehearsal:
        for start in range(0, max(1, len(x) - length // 2), length):
            piece = x[start:start + length]
            if len(piece) >= max(MIN_FRAMES, length // 2):
                ds.add(piece, label=ORDINARY)
    if not len(ds):
        raise GesturemapError(f"rehearsal: {sum(len(x) for x in rehearsal)} frames, fewer than "
                              f"half a take ({length // 2}); record more ordinary movement")
    return type(model)(**model.get_params()).fit(ds)


def _ordinary_score(ordinary_model: Any, x: np.ndarray) -> float | None:
    if ordinary_model is None:
        return None
    return float(np.asarray(ordinary_model.log_likelihood(x))[0])


def _rehearsal(rehearsal: Any, width: int | None = None) -> list[np.ndarray]:
    """The rehearsal as a list of (T, D) arrays, checked; ``width``: the D the model (or the
    project's sensor) takes, so that a wrong one is said of the rehearsal, not of the take
    the model of ordinary movement later reads."""
    if rehearsal is None:
        return []
    if isinstance(rehearsal, np.ndarray) and rehearsal.ndim < 2:
        raise GesturemapError(f"rehearsal: shape {rehearsal.shape}; expected a (T, D) array of "
                              "frames of ordinary movement, or a list of them")
    if isinstance(rehearsal, np.ndarray) and rehearsal.ndim == 2:
        rehearsal = [rehearsal]
    out = []
    for k, x in enumerate(rehearsal):
        x = np.asarray(getattr(x, "inputs", x), dtype=np.float64)
        if x.ndim != 2 or not np.isfinite(x).all():
            raise GesturemapError(f"rehearsal recording {k}: shape {x.shape}; expected a (T, D) "
                                  "array of finite frames of ordinary movement")
        if width is not None and x.shape[1] != width:
            raise GesturemapError(f"rehearsal recording {k}: frames of {x.shape[1]} values; "
                                  f"the takes have {width}")
        out.append(x)
    return out


def _judge(labels: list[Any], own: int, ll: np.ndarray, frames: int, per_frame: bool,
           ordinary: float | None, threshold: float, scale: float) -> Distinctness:
    """The verdict from the take's log-likelihoods ``ll`` (C,) and ``ordinary`` (its
    log-likelihood under the model of ordinary movement, or None)."""
    pf = np.asarray(ll, dtype=np.float64) / (frames if per_frame else 1.0)
    others = pf.copy()
    others[own] = -np.inf
    k = int(np.argmax(others))
    nearest, margin = labels[k], float(pf[own] - others[k])
    if ordinary is not None and np.isfinite(ordinary):
        moves = ordinary / (frames if per_frame else 1.0)
        if pf[own] - moves < margin:
            nearest, margin = ORDINARY, float(pf[own] - moves)
    if not np.isfinite(margin):
        margin = 1e6 if pf[own] > others[k] else -1e6
    score = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, margin / scale))))
    label = labels[own]
    collides = margin < threshold
    near = "ordinary movement (null)" if nearest == NULL else str(nearest)
    if nearest == ORDINARY:
        what = "ordinary movement fits it"
    else:
        what = f"{near} is"
    if margin < 0:
        reason = (f"taken for {near}: {what} likelier than {label} on these frames; make it "
                  f"unlike {near}, or record it as {near}")
    elif collides:
        reason = (f"close to {near}: {label} is only just likelier ({margin:.2f} nats per frame,"
                  f" the warning starts below {threshold:.2f}); exaggerate what sets it apart")
    else:
        reason = f"distinct: nearest is {near}, {margin:.2f} nats per frame behind {label}"
    return Distinctness(label, score, nearest, margin, bool(collides), reason, int(frames),
                        float(threshold))


def distinctness(model: Any, take: Any, label: Any = None, *, rehearsal: Any = None,
                 threshold: float = DEFAULT_THRESHOLD, scale: float = 1.0) -> Distinctness:
    """How distinct ``take`` (or its frames so far) is from the other classes and from
    ordinary movement, for a model that has not seen it.

    Parameters
    ----------
    model : a fitted gesturemap classifier (anything with ``labels_`` and
        ``log_likelihood``), trained without this take; or a trained
        :class:`gesturemap.Project` (then ``take`` and ``rehearsal`` are raw sensor frames,
        put through the project's feature pipeline).
    take : (T, D) array: the take, or the frames recorded so far (at least 3).
    label : the class it is recorded for; None: the class the model finds likeliest (then
        ``nearest`` is the runner-up).
    rehearsal : a (T, D) array or a list of them: ordinary movement (moving as in the piece,
        without the gestures). A model of the same kind is fitted on it, cut into stretches as
        long as the take (one training per call: :func:`vocabulary_guide` fits it once), and
        competes with the other classes as ``"ordinary movement"``.
    threshold : warn when the margin (nats per frame) is below this; 0: when the model would
        take it for another class. :func:`vocabulary_guide` chooses one by cross-validation.
    scale : nats per frame that move the ``score`` from 0.5 to about 0.73.

    Returns
    -------
    Distinctness : ``score``, ``nearest``, ``margin``, ``collides``, ``reason``.

    Examples
    --------
    >>> d = gm.distinctness(model, frames_so_far, "circle")     # doctest: +SKIP
    >>> d.collides, d.nearest, d.reason                         # doctest: +SKIP
    (True, 'swipe', 'taken for swipe: swipe is likelier than circle on these frames; ...')
    """
    if hasattr(model, "pipeline") and hasattr(model, "trained"):  # a Project: raw frames in
        model, take, rehearsal = _through_project(model, take, rehearsal)
    labels = _labels(model)
    x = _check_take(take)
    ll = np.asarray(model.log_likelihood(x), dtype=np.float64)
    own = int(np.argmax(ll)) if label is None else _own(labels, label)
    moves = _rehearsal(rehearsal, x.shape[1])
    ordinary = _ordinary_score(_ordinary_model(model, moves, len(x)), x) if moves else None
    return _judge(labels, own, ll, len(x), _per_frame(model), ordinary,
                  _finite("threshold", threshold), _positive("scale", scale))


def _through_project(project: Any, take: Any, rehearsal: Any) -> tuple[Any, Any, Any]:
    """A project's trained model, and the take and rehearsal (raw sensor frames) through its
    fitted feature pipeline, as the engine sees them."""
    if project.trained is None or not project.pipeline.fitted:
        raise GesturemapError("the project has no trained model: train it first (gesturemap "
                              "train DIR, or Train in the window)")

    def features(x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != project.input_dim:
            raise GesturemapError(f"take: shape {x.shape}; the project takes frames of "
                                  f"{project.input_dim} values: a (T, {project.input_dim}) array")
        return np.asarray(project.pipeline.transform_sequence(
            x, input_names=project.input_names))

    moves = _rehearsal(rehearsal, project.input_dim)
    return (project.trained, features(_check_take(take)),
            [features(x) for x in moves] or None)


def _finite(name: str, value: Any) -> float:
    # a NaN threshold would never warn: every comparison with it is False
    if isinstance(value, bool) or not isinstance(
            value, (int, float, np.integer, np.floating)) or not math.isfinite(value):
        raise GesturemapError(f"{name}: {value!r}; expected a finite number (nats per frame)")
    return float(value)


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and value > 0):
        raise GesturemapError(f"{name}: {value!r}; expected a positive number")
    return float(value)


@dataclass(frozen=True)
class VocabularyGuide:
    """A model fitted on a dataset's takes, with a threshold chosen by cross-validation on
    them and every take's cross-validated check (:func:`vocabulary_guide`).

    Attributes
    ----------
    model : the model fitted on every take (what :meth:`check` reads).
    labels : its classes.
    threshold : the warning's threshold (nats per frame) for a whole take, chosen by
        cross-validation.
    scale : the score's scale: a quarter of the takes' typical margin.
    takes : each take's check by the model trained without its fold (dataset order).
    misrecognised : per take, whether the model trained without its fold took it for
        another class.
    folds : trainings of the cross-validation.
    ordinary : the model of ordinary movement (the rehearsal), or None.
    thresholds : ``{share: threshold}`` chosen at each of :data:`FRACTIONS` of the takes'
        frames (a take being recorded is judged with the share nearest its frames so far).
    typical_frames : per class, the median length of its takes (frames).
    """

    model: Any
    labels: list[Any]
    threshold: float
    scale: float
    takes: list[Distinctness]
    misrecognised: list[bool]
    folds: int
    ordinary: Any = None
    thresholds: dict[float, float] = field(default_factory=dict)
    typical_frames: dict[Any, float] = field(default_factory=dict)

    def threshold_at(self, label: Any, frames: int) -> float:
        """The threshold for ``frames`` frames of a take of ``label``: the one chosen at the
        share of its class's typical take (:data:`FRACTIONS`) nearest to that many frames."""
        typical = self.typical_frames.get(label)
        if not self.thresholds or not typical:
            return self.threshold
        share = frames / typical
        nearest = min(self.thresholds, key=lambda s: abs(s - share))
        return self.thresholds[nearest]

    def check(self, take: Any, label: Any = None) -> Distinctness:
        """How distinct ``take`` (the frames so far) is: one pass of the model (cheap enough
        for a few times a second while recording, off the frame path)."""
        x = _check_take(take)
        ll = np.asarray(self.model.log_likelihood(x), dtype=np.float64)
        own = int(np.argmax(ll)) if label is None else _own(self.labels, label)
        lb = self.labels[own]
        return _judge(self.labels, own, ll, len(x), _per_frame(self.model),
                      _ordinary_score(self.ordinary, x), self.threshold_at(lb, len(x)),
                      self.scale)

    @property
    def blurs(self) -> list[Blur]:
        """Every take that blurs its class into another, the least distinct first."""
        out = [Blur(i, d.label, d.nearest, d) for i, d in enumerate(self.takes) if d.collides]
        return sorted(out, key=lambda b: b.distinctness.margin)

    def blurring(self, label: Any) -> list[Blur]:
        """The takes of ``label`` that blur it into another class, the least distinct first."""
        return [b for b in self.blurs if b.label == label or str(b.label) == str(label)]

    def text(self) -> str:
        """One line per class whose takes blur it (or a line saying none does)."""
        lines = []
        for lb in self.labels:
            found = self.blurring(lb)
            if found:
                into = sorted({str(b.into) for b in found})
                lines.append(f"{lb}: take(s) {', '.join(f'#{b.index}' for b in found)} blur "
                             f"it into {', '.join(into)}")
        return "\n".join(lines) or "no take blurs its class into another."


def choose_threshold(margins: np.ndarray, wrong: np.ndarray) -> float:
    """The threshold (nats per frame) whose warning ``margins < t`` best predicts ``wrong``
    (F1; ties: the one nearest 0); :data:`DEFAULT_THRESHOLD` when nothing was misrecognised."""
    margins, wrong = np.asarray(margins, dtype=np.float64), np.asarray(wrong, dtype=bool)
    if not wrong.any() or wrong.all():
        return DEFAULT_THRESHOLD
    cuts = np.unique(np.concatenate([[DEFAULT_THRESHOLD], margins]))
    # midpoints between neighbouring margins: a cut on a margin itself is fragile
    candidates = np.unique(np.concatenate([[DEFAULT_THRESHOLD], (cuts[1:] + cuts[:-1]) / 2]))
    best, best_key = DEFAULT_THRESHOLD, (-1.0, 0.0)
    for t in candidates:
        warn = margins < t
        tp = float(np.sum(warn & wrong))
        f1 = 2 * tp / (warn.sum() + wrong.sum()) if warn.any() else 0.0
        key = (round(f1, 12), -abs(float(t)))
        if key > best_key:
            best, best_key = float(t), key
    return best


def _cross_validate(model: Any, recordings: list[Any], labels: list[Any], y: np.ndarray,
                    folds: int, seed: int, cancel: Any
                    ) -> tuple[np.ndarray, dict[float, np.ndarray], np.ndarray, int]:
    """Per take: the full take's log-likelihoods (n, C), the same for the first share of its
    frames at each of :data:`FRACTIONS`, and whether it was checked (its class has another
    take); and the trainings made."""
    from ..data import Dataset
    from ..errors import TrainingCancelled
    from ..review import assign_folds

    n, c = len(recordings), len(labels)
    counts = np.bincount(y, minlength=c)
    checked = counts[y] > 1
    fold_of = assign_folds(y, min(folds, n), seed)
    lls = {f: np.full((n, c), -np.inf) for f in FRACTIONS}
    trainings = 0
    for f in range(int(fold_of.max()) + 1):
        test = np.nonzero((fold_of == f) & checked)[0]
        if not len(test):
            continue
        if cancel is not None and cancel.is_set():
            raise TrainingCancelled("the vocabulary guide was cancelled")
        train = Dataset()
        for i in np.nonzero(fold_of != f)[0]:
            train.add(recordings[i].inputs, recordings[i].label)
        fitted = type(model)(**model.get_params()).fit(train)
        trainings += 1
        cols = [labels.index(lb) for lb in fitted.labels_]
        for i in test:
            x = np.asarray(recordings[i].inputs, dtype=np.float64)
            for share in FRACTIONS:
                part = x[:max(MIN_FRAMES, int(round(share * len(x))))]
                lls[share][i, cols] = fitted.log_likelihood(part)
    return lls[1.0], lls, checked, trainings


def vocabulary_guide(model: Any, dataset: Any, *, rehearsal: Any = None, folds: int = 10,
                     seed: int = 0, cancel: Any = None) -> VocabularyGuide:
    """Prepare the vocabulary guide for ``dataset``'s takes (see the module's docstring).

    Parameters
    ----------
    model : an unfitted gesturemap classifier (copied, never fitted itself: its settings count).
    dataset : a :class:`gesturemap.Dataset` of labelled takes, two classes or more.
    rehearsal : ordinary movement (a (T, D) array or a list of them), optional.
    folds : at most this many trainings for the cross-validation (leave-one-take-out when the
        dataset has no more takes).
    seed : the shuffle of takes into folds.
    cancel : an object with ``is_set()``; when set, the guide stops
        (:class:`~gesturemap.errors.TrainingCancelled`).

    Returns
    -------
    VocabularyGuide : ``check(take, label)``, ``blurring(label)``, ``threshold``.
    """
    recordings = list(dataset)
    labels = sorted({r.label for r in recordings}, key=str)
    if len(labels) < 2:
        raise GesturemapError(f"dataset: {len(labels)} class(es); the vocabulary guide "
                              "compares classes: record takes of two gestures or more")
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise GesturemapError(f"folds: {folds!r}; expected an integer >= 2")
    # checked before the cross-validation's trainings, which it would only follow
    moves = _rehearsal(rehearsal, np.asarray(recordings[0].inputs).shape[1])
    y = np.array([labels.index(r.label) for r in recordings])
    full, parts, checked, trainings = _cross_validate(model, recordings, labels, y, folds,
                                                      seed, cancel)
    n = len(recordings)
    wrong = np.argmax(full, axis=1) != y
    lengths = np.array([len(r.inputs) for r in recordings], dtype=np.float64)
    per_frame = _per_frame(model)

    def margins(ll: np.ndarray, share: float) -> np.ndarray:
        frames = np.maximum(MIN_FRAMES, np.round(share * lengths)) if per_frame else 1.0
        pf = ll / (frames[:, None] if per_frame else 1.0)
        others = pf.copy()
        others[np.arange(n), y] = -np.inf
        with np.errstate(invalid="ignore"):  # a take not checked: -inf - -inf
            return pf[np.arange(n), y] - others.max(axis=1)

    # one threshold per share of a take: early in a take the margins are smaller, and a
    # threshold right for a whole take would miss there (or one right there cry wolf at the end)
    thresholds = {}
    for share in FRACTIONS:
        m = margins(parts[share], share)
        ok = checked & np.isfinite(m)
        thresholds[share] = choose_threshold(m[ok], wrong[ok])
    threshold = thresholds[1.0]
    m_full = margins(full, 1.0)
    typical = np.abs(m_full[checked & np.isfinite(m_full)])
    scale = float(np.median(typical)) / 4 if len(typical) else 1.0
    scale = scale if scale > 0 and math.isfinite(scale) else 1.0
    fitted = type(model)(**model.get_params()).fit(dataset)
    fitted_labels = list(fitted.labels_)
    ordinary = _ordinary_model(model, moves, int(np.median(lengths))) if moves else None
    takes = []
    for i in range(n):
        if not checked[i]:
            takes.append(Distinctness(labels[y[i]], 1.0, labels[y[i]], math.inf, False,
                                      f"only take of {labels[y[i]]}: record another to check it",
                                      len(recordings[i].inputs), threshold, judged=False))
            continue
        takes.append(_judge(labels, int(y[i]), full[i], len(recordings[i].inputs), per_frame,
                            _ordinary_score(ordinary, np.asarray(recordings[i].inputs)),
                            threshold, scale))
    typical_frames = {lb: float(np.median(lengths[y == k])) for k, lb in enumerate(labels)}
    return VocabularyGuide(fitted, fitted_labels, threshold, scale, takes,
                           [bool(w) and bool(c) for w, c in zip(wrong, checked, strict=True)],
                           trainings, ordinary, thresholds, typical_frames)


def uncalibrated_guide(model: Any, dataset: Any) -> VocabularyGuide:
    """A guide without the cross-validation: ``model`` (unfitted, copied) fitted once on
    ``dataset``'s takes, the :data:`DEFAULT_THRESHOLD` at every share of a take, the score's
    scale from the takes' margins in sample. For checks wanted before
    :func:`vocabulary_guide` is done (seconds of trainings); its takes are not judged."""
    recordings = list(dataset)
    if len({r.label for r in recordings}) < 2:
        raise GesturemapError(f"dataset: {len({r.label for r in recordings})} class(es); the "
                              "vocabulary guide compares classes: record takes of two "
                              "gestures or more")
    fitted = type(model)(**model.get_params()).fit(dataset)
    labels = list(fitted.labels_)
    per_frame = _per_frame(fitted)
    margins = []
    for r in recordings:
        x = np.asarray(r.inputs, dtype=np.float64)
        pf = np.asarray(fitted.log_likelihood(x), dtype=np.float64) / (
            len(x) if per_frame else 1.0)
        own = _own(labels, r.label)
        margins.append(pf[own] - np.max(np.delete(pf, own)))
    typical = np.abs(np.asarray(margins))
    typical = typical[np.isfinite(typical)]
    scale = float(np.median(typical)) / 4 if len(typical) else 1.0
    scale = scale if scale > 0 and math.isfinite(scale) else 1.0
    return VocabularyGuide(fitted, labels, DEFAULT_THRESHOLD, scale, [], [], 0)


def guide_for_project(project: Any, *, folds: int = 10, seed: int = 0, cancel: Any = None
                      ) -> tuple[VocabularyGuide, list[str]]:
    """:func:`vocabulary_guide` for a project's takes (through its own pipeline, with its own
    model settings; a copy, so the project may change meanwhile) and each take's id."""
    from .quality import reviewed_takes

    if project.output_names:
        raise GesturemapError("the vocabulary guide compares gestures; this project maps to "
                              "continuous outputs")
    model, dataset, ids = reviewed_takes(project)
    return vocabulary_guide(model, dataset, folds=folds, seed=seed, cancel=cancel), ids
