"""The second stage of two-stage spotting: a verifier that checks each spotted event.

A :class:`SpotVerifier` is multinomial logistic regression over a detection's features — the
summary statistics of its frames ``start .. emitted`` (:func:`segment_stats`), the one-hot of
the spotter's label, log(score / the class's typical score), with a ``context`` the
statistics of the frames just before its start (with ``near`` also those of the nearest
``near`` of them: two windows at once) and with a ``wait`` those of the frames just
after the spotter's emission (:func:`context_stats`; the event then comes ``wait`` frames
later) — trained on the spotter's own
detections, labelled by what each should have said (:func:`detection_targets`: a gesture, or
:data:`~gesturemap.models.spotting.core.NULL` for a false alarm). A :class:`~.spotting.Spotter`
given one (``verifier=``) applies it when an event is emitted: an event the verifier calls
null is dropped, any other takes the verifier's label (frames, score and emission time kept).

Everything it needs is in plain arrays (``to_dict`` / ``from_dict``: JSON, no pickle), and its
prediction is numpy only; fitting uses scikit-learn (:meth:`SpotVerifier.fit`).
``gm.fit_verifier`` trains one from labelled recordings (docs/spotting.md, "Verifying
events").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import GesturemapError

#: The label of non-gesture ("anything else") recordings, ``ds.add(rest, label=gm.NULL)``,
#: and of a detection that is no gesture (``gm.NULL``, ``spotting.NULL``).
NULL = "null"
#: Frames averaged for a segment's start and end posture (:func:`segment_stats`).
STATS_EDGE_FRAMES = 10
#: The score ratio's floor in the features (log(max(score / typical, SCORE_FLOOR))).
SCORE_FLOOR = 1e-3
#: Version of :meth:`SpotVerifier.to_dict`'s layout.
FORMAT = 1
#: The longest context a verifier may read before an event's start (frames).
MAX_CONTEXT = 100_000
#: The context lengths (seconds before an event's start) the command line's verifier training
#: cross-fits by default, the best kept (on HAPT every fold chose 2 s).
DEFAULT_CONTEXT_SECONDS = (0.0, 1.0, 2.0)


def default_contexts(rate_hz: float) -> list[int]:
    """:data:`DEFAULT_CONTEXT_SECONDS` in frames at ``rate_hz``."""
    return sorted({int(round(s * rate_hz)) for s in DEFAULT_CONTEXT_SECONDS})
#: The longest wait after the spotter's emission a verifier may take (frames).
MAX_WAIT = 1000
#: A verifier that waits for the movement to settle (``settle`` > 0) calls frame t settled
#: when the mean squared frame-to-frame change of the last SETTLE_SHORT frames (0.2 s at 50 Hz)
#: is at most SETTLE_RATIO times that of the last SETTLE_LONG (2 s). The spotter's own rule
#: (``settle_frames``) uses 0.8; read that way a movement that slows down already counts as
#: still (on HAPT's postural transitions it fired a median 30 frames before the transition's
#: labelled end); at 0.2 it fires about at the end (measured on the training subjects of one
#: outer fold).
SETTLE_SHORT = 10
SETTLE_LONG = 100
SETTLE_RATIO = 0.2


def split_wait(wait: Any) -> tuple[int, int]:
    """A verifier's wait setting as (``wait``, ``settle``): a number of frames read right
    after the spotter's emission (``settle`` 0), or a pair ``(wait, settle)``,
    ``settle > wait``: it reads the ``wait`` frames after the movement settles
    (:func:`settled`: the posture it settled in; at once when the stream is still at the
    emission), and at most ``settle`` frames after the emission reads the last ``wait``
    whatever they are (:func:`due_frames`)."""
    if isinstance(wait, (list, tuple)):
        if len(wait) != 2:
            raise _bad("wait", wait, "a number of frames, or two (frames read, most frames "
                       "waited for the movement to settle)")
        read, cap = (_frames("wait", w, MAX_WAIT, f"integers from 1 to {MAX_WAIT} (frames)")
                     for w in wait)
        if not 0 < read < cap:
            raise _bad("wait", wait, f"two integers from 1 to {MAX_WAIT}, the first smaller "
                       "(frames read once settled, the most frames waited in all)")
        return read, cap
    return _frames("wait", wait, MAX_WAIT, f"an integer from 0 to {MAX_WAIT} (frames)"), 0


def wait_name(wait: Any) -> str:
    """A wait setting as text: ``"30"``, or ``"25,80"`` (read 25 frames once settled, 80 frames
    after the emission at the latest)."""
    read, cap = split_wait(wait)
    return f"{read},{cap}" if cap else str(read)


def parse_wait(text: str) -> int | tuple[int, int]:
    """A command line's wait: ``"30"``, or ``"25,80"`` (:func:`split_wait`)."""
    return _parse_lengths(text, split_wait, "frames read after the emission, or the frames "
                          "read once settled and the most frames waited, joined by a comma "
                          "(e.g. 25,80)")


def settled(window: np.ndarray) -> bool:
    """Whether the last frame of ``window`` (the frames up to it, at most SETTLE_LONG + 1 of
    them, as many as the stream has) ends a settled movement (:data:`SETTLE_RATIO`)."""
    x = np.asarray(window, dtype=np.float64)
    if len(x) < 2:
        return True
    m = np.sum(np.diff(x.reshape(len(x), -1), axis=0) ** 2, axis=1)
    return bool(m[-SETTLE_SHORT:].mean() <= SETTLE_RATIO * m.mean())


def settle_window(t: int) -> tuple[int, int]:
    """The frames ``[lo, hi)`` :func:`settled` reads for frame ``t``."""
    return max(0, t - SETTLE_LONG), t + 1


def read_frame(emitted: int, settle_frame: int | None, wait: int, settle: int) -> int:
    """The frame a waiting verifier reads an event emitted at ``emitted`` (before another
    event ahead of it may push it on, :func:`due_frames`): ``wait`` frames after it without
    ``settle``; else at once when ``settle_frame`` (the first still frame from the emission
    on, None: none by ``emitted + settle - wait``) is the emission, ``wait`` frames after it,
    or ``emitted + settle`` if that is sooner."""
    if not settle:
        return emitted + wait
    if settle_frame is None:
        return emitted + settle
    return emitted if settle_frame == emitted else min(settle_frame + wait, emitted + settle)


def due_frames(emitted: Sequence[int], get: Any, end: int, wait: int, settle: int,
               after: int = -1, found: Sequence[int | None] | None = None,
               settles: list[int | None] | None = None) -> list[int | None]:
    """When a waiting verifier reads each event (emission frames ``emitted``, in order):
    :func:`read_frame`, with s the first :func:`settled` frame from the emission on; never two
    on one frame (one that would is read on the next free frame), none on or before ``after``
    (the frame the previous one was read).
    ``get(lo, hi)``: the stream's frames ``lo .. hi - 1``; ``end``: the first frame not yet
    seen (an event not due before it gets None, and so do those after it). ``found``: settle
    frames already known (a live stream's, None where not); ``settles``: a list given gets
    each event's settle frame s (None when not found: not settled by ``emitted + settle -
    wait``, or not before ``end``)."""
    out: list[int | None] = []
    for k, e in enumerate(emitted):
        s = found[k] if found is not None else None
        t = e
        while settle and s is None and t <= e + settle - wait and t < end:
            if settled(get(*settle_window(t))):
                s = t
            t += 1
        if settles is not None:
            settles.append(s)
        due = max(read_frame(e, s, wait, settle), after + 1)
        if due >= end or (out and out[-1] is None):
            out.append(None)
            continue
        out.append(due)
        after = due
    return out


def split_context(context: Any) -> tuple[int, int]:
    """A verifier's context setting as (``context``, ``near``): a length of frames (``near``
    0), or a pair of lengths ``(near, context)`` (either order), ``0 < near < context``: the
    statistics of both windows before an event's start, read at once."""
    if isinstance(context, (list, tuple)):
        if len(context) != 2:
            raise _bad("context", context, "a length of frames, or two lengths (both windows)")
        near, far = sorted(int(c) if not isinstance(c, bool) and isinstance(c, (int, np.integer))
                           else -1 for c in context)
        if not 0 < near < far <= MAX_CONTEXT:
            raise _bad("context", context, f"two different lengths from 1 to {MAX_CONTEXT}")
        return far, near
    return context, 0


def context_name(context: Any) -> str:
    """A context setting as text: ``"100"``, or ``"50,100"`` for both windows."""
    far, near = split_context(context)
    return f"{near},{far}" if near else str(far)


def parse_context(text: str) -> int | tuple[int, int]:
    """A command line's context: ``"100"``, or ``"50,100"`` (both windows at once)."""
    return _parse_lengths(text, lambda p: split_context(p)[::-1],
                          "a length of frames, or two different lengths joined by a comma "
                          "(e.g. 50,100)")


def _parse_lengths(text: str, pair: Any, expected: str) -> Any:
    """A command line's length of frames, or two joined by a comma checked by ``pair``; an
    ``argparse`` error saying what was ``expected``."""
    import argparse

    try:
        parts = [int(t) for t in str(text).split(",")]
        return parts[0] if len(parts) == 1 else pair(tuple(parts))
    except (ValueError, GesturemapError) as e:
        raise argparse.ArgumentTypeError(f"{text!r}: {expected}") from e


class VerifierUnavailable(GesturemapError):
    """A verifier cannot be trained from these detections (the message says why)."""


def segment_stats(segment: np.ndarray, edge: int = STATS_EDGE_FRAMES) -> np.ndarray:
    """A segment's summary (4·D + 1 values): the mean of its first ``edge`` frames (the posture
    it starts from), the mean of its last ``edge`` frames (where it ends), log(length), the
    per-channel mean, and log(per-channel std + 1e-4) (sway). A segment shorter than ``edge``
    averages what it has."""
    x = np.asarray(segment, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    return np.concatenate([x[:edge].mean(0), x[-edge:].mean(0), [np.log(len(x))], x.mean(0),
                           np.log(x.std(0) + 1e-4)])


def context_stats(context: np.ndarray) -> np.ndarray:
    """The frames before an event's start (2·D + 2 values): the per-channel mean, log(per-channel
    std + 1e-4), log(std of the frame's norm + 1e-4) (on a waist phone, the acceleration
    magnitude's: standing sways, walking swings, sitting is still) and log(mean squared
    frame-to-frame change + 1e-8) (motion energy). No frame (an event at the stream's start):
    the event's first frame stands in (the caller gives it)."""
    x = np.asarray(context, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    moving = np.mean(np.diff(x, axis=0) ** 2) if len(x) > 1 else 0.0
    return np.concatenate([x.mean(0), np.log(x.std(0) + 1e-4),
                           [np.log(np.linalg.norm(x, axis=1).std() + 1e-4),
                            np.log(moving + 1e-8)]])


def event_row(frames: np.ndarray, label: Any, score: float, typical: float,
              classes: Sequence[str], edge: int = STATS_EDGE_FRAMES,
              context: np.ndarray | None = None, after: np.ndarray | None = None,
              near: int = 0) -> np.ndarray:
    """One detection's features: :func:`segment_stats` of its ``frames`` (``start ..
    emitted``), the one-hot of its ``label`` over ``classes`` (compared as text),
    log(max(``score`` / ``typical``, 1e-3)), when ``context`` is given (the frames before
    ``start``, possibly none) :func:`context_stats` of it (of the first frame when empty),
    with ``near`` > 0 also of its last ``near`` frames, and when ``after`` is given (the frames after ``emitted`` the verifier waited for) its
    :func:`context_stats` (of the last frame when empty)."""
    frames = np.ascontiguousarray(frames, dtype=np.float64)
    parts = [segment_stats(frames, edge), [float(str(label) == c) for c in classes],
             [np.log(max(score / typical, SCORE_FLOOR))]]
    if context is not None:
        context = context if len(context) else frames[:1]
        parts.append(context_stats(context))
        if near:
            parts.append(context_stats(context[-near:]))
    if after is not None:
        parts.append(context_stats(after if len(after) else frames[-1:]))
    return np.concatenate(parts)


def context_span(event: Any, context: int, max_frames: int | None = None) -> tuple[int, int]:
    """The frames ``[first, stop)`` of ``event``'s context: the ``context`` frames before its
    start, from the stream's first frame, and of those only what a live stream's ring of
    ``max_frames + context`` frames still holds at emission."""
    lo = event.start - context
    if max_frames is not None:
        lo = max(lo, event.emitted - max_frames - context + 1)
    lo = max(lo, 0)
    return lo, max(lo, event.start)


def event_frames(x: np.ndarray, event: Any, max_frames: int | None = None) -> np.ndarray:
    """The frames ``start .. emitted`` of ``event`` in the (T, D) stream ``x`` (indices since
    the stream began), at most the last ``max_frames`` of them (what a live stream's ring
    holds)."""
    first = event.start if max_frames is None else max(event.start,
                                                       event.emitted - max_frames + 1)
    return x[max(first, 0):event.emitted + 1]


def wait_dues(events: Sequence[Any], x: np.ndarray, wait: Any) -> list[int | None]:
    """:func:`due_frames` of ``events`` over the whole stream ``x`` (a wait setting:
    :func:`split_wait`)."""
    read, cap = split_wait(wait)
    return due_frames([ev.emitted for ev in events], lambda lo, hi: x[lo:hi], len(x), read,
                      cap)


def verifier_features(events: Sequence[Any], x: np.ndarray, typical: dict[Any, float],
                      classes: Sequence[str], edge: int = STATS_EDGE_FRAMES,
                      max_frames: int | None = None, context: int = 0, wait: Any = 0,
                      dues: Sequence[int | None] | None = None) -> np.ndarray:
    """One :func:`event_row` per event of the stream ``x`` (causal: frames ``start ..
    emitted`` only, at most the last ``max_frames``, with ``context`` > 0 the ``context``
    frames before ``start`` (:func:`context_span`; a pair ``(near, context)``: both windows,
    :func:`split_context`), with a ``wait`` the frames it reads after ``emitted``
    (:func:`split_wait`: the ``wait`` frames up to the frame :func:`wait_dues` gives, or given
    as ``dues``; for an event not due in ``x``, those right after its emission), those ``x``
    has); ``typical``: each label's typical score (the Spotter's ``typical_scores_``; 1 for a
    label it lacks)."""
    context, near = split_context(context)
    read = split_wait(wait)[0]
    if read and dues is None:
        dues = wait_dues(events, x, wait)
    rows = [event_row(event_frames(x, ev, max_frames), ev.label, ev.score,
                      typical.get(ev.label, 1.0), classes, edge,
                      x[slice(*context_span(ev, context, max_frames))] if context else None,
                      (x[ev.emitted + 1:ev.emitted + 1 + read] if dues[k] is None
                       else x[dues[k] - read + 1:dues[k] + 1]) if read else None, near)
            for k, ev in enumerate(events)]
    d = x.shape[1] if np.ndim(x) == 2 else 1
    width = (4 * d + 1 + len(classes) + 1
             + (2 * d + 2) * (bool(context) + bool(near) + bool(read)))
    return np.array(rows).reshape(len(rows), width)


def detection_targets(events: Sequence[Any], truth: Sequence[tuple[Any, int, int]],
                      tolerance: int = 50) -> list[str]:
    """What each detection should have said, by the spotting protocol's matching with labels
    ignored: detections are taken in increasing emission order; one whose ``emitted`` lies in a
    not-yet-taken ground-truth event's window ``start <= t <= end + tolerance`` (among several,
    the one with the smallest end) gets that event's label (as text), whatever its own label;
    every other detection (on null, or a second one of an event) gets :data:`NULL`."""
    taken = [False] * len(truth)
    out = [NULL] * len(events)
    for k in sorted(range(len(events)), key=lambda j: events[j].emitted):
        t, best = events[k].emitted, -1
        for i, (_, start, end) in enumerate(truth):
            if not taken[i] and start <= t <= end + tolerance and (
                    best < 0 or end < truth[best][2]):
                best = i
        if best >= 0:
            taken[best] = True
            out[k] = str(truth[best][0])
    return out


def fit_logistic(features: np.ndarray, targets: Sequence[Any], C: float, max_iter: int,
                 flat: float = 0.0) -> tuple[list[Any], np.ndarray, np.ndarray, np.ndarray,
                                             np.ndarray]:
    """scikit-learn's multinomial ``LogisticRegression(C, max_iter)`` on standardised
    ``features``, held in plain arrays: its classes (in its order), the features' mean and
    scale (a scale at or below ``flat`` counts as 1), one coefficient row and one intercept per
    class (for two classes scikit-learn keeps one row: made two, so that the label is always
    the largest score's)."""
    from sklearn.linear_model import LogisticRegression

    f = np.asarray(features, dtype=np.float64)
    mean = f.mean(0)
    scale = f.std(0)
    scale[scale <= flat] = 1.0
    clf = LogisticRegression(C=C, max_iter=max_iter).fit((f - mean) / scale, targets)
    coef, intercept = np.array(clf.coef_), np.array(clf.intercept_)
    if len(clf.classes_) == 2:
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return list(clf.classes_), mean, scale, coef, intercept


def _frames(what: str, value: Any, most: int, expected: str) -> int:
    """A count of frames from 0 to ``most`` (an integer, not a bool), else the error."""
    if (isinstance(value, bool) or not isinstance(value, (int, np.integer))
            or not 0 <= value <= most):
        raise _bad(what, value, expected)
    return int(value)


def mismatch(classes: Sequence[str], trained_dim: int, gestures: Sequence[Any],
             input_dim: int | None) -> str | None:
    """Why a second opinion trained for ``classes`` on ``trained_dim``-dimensional frames does
    not fit a model with these gesture labels taking ``input_dim``-dimensional frames, or
    None when it fits."""
    names = [str(lb) for lb in gestures]
    if sorted(classes) != sorted(names):
        return f"trained for the gestures {list(classes)}, the model's are {names}"
    if input_dim is not None and trained_dim != input_dim:
        return f"trained on {trained_dim}-dimensional frames, the model takes {input_dim}"
    return None


def check_keys(d: dict[str, Any], keys: set[str], optional: set[str], version: int,
               bad: Any) -> None:
    """A saved second opinion's dict: every one of ``keys``, nothing but them, ``optional``
    and ``"format"`` (``version`` when given); ``bad(what, value, expected)`` makes the
    error."""
    missing = sorted(keys - set(d))
    if missing:
        raise bad("a dict without", missing, "every key of " + ", ".join(sorted(keys)))
    extra = sorted(set(d) - keys - optional - {"format"})
    if extra:
        raise bad("a dict with unknown key(s)", extra, "only " + ", ".join(sorted(keys)))
    if d.get("format", version) != version:
        raise bad("format", d["format"], f"{version} (a newer gesturemap wrote it?)")


def _bad(what: str, value: Any, expected: str) -> GesturemapError:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return GesturemapError(f"spotting verifier: {what} is {text}, expected {expected}.")


def _array(d: dict[str, Any], key: str, shape: tuple[int, ...]) -> np.ndarray:
    try:
        a = np.array(d[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise _bad(key, d[key], "numbers") from None
    if a.shape != shape:
        raise _bad(f"{key}'s shape", a.shape, f"{shape} (from the labels and classes)")
    if not np.all(np.isfinite(a)):
        raise _bad(key, d[key], "finite numbers")
    return a


def _names(d: dict[str, Any], key: str) -> list[str]:
    v = d[key]
    if (not isinstance(v, (list, tuple)) or not v or not all(isinstance(s, str) for s in v)
            or len(set(v)) != len(v)):
        raise _bad(key, v, "a non-empty list of distinct label names (text)")
    return list(v)


class SpotVerifier:
    """A fitted verifier, in plain arrays.

    Attributes
    ----------
    classes : the spotter's gesture labels it was trained for (as text; the one-hot's order).
    labels : its output labels: some of ``classes`` and :data:`NULL` (a dropped detection).
    mean, scale : (F,) feature standardisation; F = 4·D + 1 + len(classes) + 1 (+ 2·D + 2 with
        a context), D the input dimension.
    coef : (len(labels), F); intercept : (len(labels),).
    edge : frames averaged for a segment's start and end posture.
    context : frames before an event's start whose statistics it also reads
        (:func:`context_stats`; a live stream's ring holds them too); 0: none. A file without
        it (written before it existed) has none.
    near : with a context, the nearest ``near`` of its frames (``0 < near < context``) whose
        statistics it reads too (both windows at once); 0: none (likewise).
    wait : frames after the spotter's emission it waits for and reads (:func:`context_stats`):
        the event is emitted that many frames later (``emitted`` moved); 0: none (likewise).
    settle : with a ``wait``, it reads the ``wait`` frames after the movement settles
        (:func:`settled`), at most ``settle`` frames after the emission (more than ``wait``;
        :func:`due_frames`: the event is emitted when they are read); 0: it reads right after
        the emission (likewise).
    summary : optional plain values saved with it (text keys; numbers, text, None or lists
        of text), e.g. the cross-fitted F1 with and without that ``gesturemap train
        --verifier`` stores for the window to show.
    cv_ : set by ``gm.fit_verifier``: its cross-fitted report (``chosen``, ``reason``, inner
        scores with and without, counts).
    """

    def __init__(self, classes: Sequence[str], labels: Sequence[str], mean: Any, scale: Any,
                 coef: Any, intercept: Any, edge: int = STATS_EDGE_FRAMES,
                 summary: dict[str, Any] | None = None, context: int = 0,
                 wait: int = 0, near: int = 0, settle: int = 0) -> None:
        self.summary = _summary(summary)
        d = {"classes": list(classes), "labels": list(labels), "mean": mean, "scale": scale,
             "coef": coef, "intercept": intercept, "edge": edge}
        self.classes = _names(d, "classes")
        self.labels = _names(d, "labels")
        extra = [lb for lb in self.labels if lb != NULL and lb not in self.classes]
        if extra:
            raise _bad("labels", self.labels, f"labels among the classes {self.classes} and "
                       f"{NULL!r} ({extra} are not)")
        if len(self.labels) < 2:
            raise _bad("labels", self.labels, "at least two labels")
        if isinstance(edge, bool) or not isinstance(edge, (int, np.integer)) or edge < 1:
            raise _bad("edge", edge, "an integer >= 1")
        self.edge = int(edge)
        self.context = _frames("context", context, MAX_CONTEXT,
                               f"an integer from 0 to {MAX_CONTEXT} (frames)")
        self.near = _frames("near", near, max(self.context - 1, 0),
                            "0, or an integer from 1 to the context's length - 1 "
                            f"({self.context - 1}; frames)")
        self.wait = _frames("wait", wait, MAX_WAIT, f"an integer from 0 to {MAX_WAIT} (frames)")
        self.settle = _frames("settle", settle, MAX_WAIT, f"an integer from 0 to {MAX_WAIT}")
        if self.settle and not 0 < self.wait < self.settle:
            raise _bad("settle", settle, f"0, or more than wait ({self.wait}) when wait > 0 "
                       "(frames)")
        f = np.asarray(mean).shape[0] if np.ndim(mean) == 1 else -1
        if f < 0:
            raise _bad("mean", mean, "a list of numbers")
        extra = bool(self.context) + bool(self.near) + bool(self.wait)
        per_dim, fixed = 4 + 2 * extra, 2 + 2 * extra
        if (f - len(self.classes) - fixed) % per_dim or f - len(self.classes) - fixed < per_dim:
            raise _bad("mean's length", f, f"4·D + 1 + {len(self.classes)} + 1 features"
                       + (" + 2·D + 2 of context" if self.context else "")
                       + (" + 2·D + 2 of the near context" if self.near else "")
                       + (" + 2·D + 2 after the emission" if self.wait else "")
                       + " (D the input dimension)")
        self.mean = _array(d, "mean", (f,))
        self.scale = _array(d, "scale", (f,))
        if np.any(self.scale <= 0):
            raise _bad("scale", d["scale"], "positive numbers")
        self.coef = _array(d, "coef", (len(self.labels), f))
        self.intercept = _array(d, "intercept", (len(self.labels),))
        self.input_dim = (f - len(self.classes) - fixed) // per_dim
        self._null = self.labels.index(NULL) if NULL in self.labels else -1

    def mismatch(self, gestures: Sequence[Any], input_dim: int | None) -> str | None:
        """Why this verifier does not fit a model with these gesture labels (null left out)
        taking ``input_dim``-dimensional frames, or None when it fits."""
        return mismatch(self.classes, self.input_dim, gestures, input_dim)

    # -- fitting -------------------------------------------------------------------------
    @classmethod
    def fit(cls, features: np.ndarray, targets: Sequence[str], classes: Sequence[Any],
            C: float = 0.3, max_iter: int = 3000, edge: int = STATS_EDGE_FRAMES,
            context: int = 0, wait: int = 0) -> SpotVerifier:
        """scikit-learn's ``LogisticRegression(C, max_iter)`` on standardised ``features``
        (one :func:`event_row` per detection, with ``context`` frames before its start when
        ``context`` > 0 — a pair ``(near, context)``: both windows, :func:`split_context` — and
        ``wait`` frames after its emission when ``wait`` > 0; a pair ``(wait, settle)``:
        those once the movement settled, :func:`split_wait`) and their ``targets``
        (:func:`detection_targets`), held in plain arrays. Raises :class:`VerifierUnavailable` when the targets hold fewer
        than two labels or no detection of one of ``classes``."""
        context, near = split_context(context)
        wait, settle = split_wait(wait)
        classes = [str(c) for c in classes]
        targets = [str(t) for t in targets]
        seen = set(targets)
        if len(seen) < 2:
            raise VerifierUnavailable(f"{len(targets)} training detections with "
                                      f"{len(seen)} label(s): {sorted(seen)}")
        missing = [c for c in classes if c not in seen]
        if missing:
            raise VerifierUnavailable(f"no training detection of class(es) {missing}")
        # (a constant feature, rounding aside, stays put)
        labels, mean, scale, coef, intercept = fit_logistic(features, targets, C, max_iter,
                                                            flat=1e-9)
        return cls(classes, [str(c) for c in labels], mean, scale, coef, intercept, edge,
                   context=context, wait=wait, near=near, settle=settle)

    # -- predicting ----------------------------------------------------------------------
    def decision(self, features: np.ndarray) -> np.ndarray:
        """(rows, labels) linear scores of standardised features (sklearn's
        ``decision_function``, two columns for two labels)."""
        return ((np.asarray(features, dtype=np.float64) - self.mean) / self.scale
                ) @ self.coef.T + self.intercept

    def predict(self, features: np.ndarray) -> list[str]:
        """One label per row (:data:`NULL`: not a gesture)."""
        if not len(features):
            return []
        return [self.labels[k] for k in np.argmax(self.decision(features), axis=1)]

    def check(self, frames: np.ndarray, label: Any, score: float, typical: float,
              context: np.ndarray | None = None, after: np.ndarray | None = None) -> str:
        """The verifier's label for one event (its frames ``start .. emitted``, the spotter's
        label and score, the class's typical score, with a ``context`` setting the frames
        before ``start`` (:func:`context_span`), with a ``wait`` the frames it read
        (:func:`due_frames`)): a class, or :data:`NULL` (drop it)."""
        none = frames[:0]
        row = event_row(frames, label, score, typical, self.classes, self.edge,
                        (none if context is None else context) if self.context else None,
                        (none if after is None else after) if self.wait else None, self.near)
        return self.labels[int(np.argmax(self.decision(row[None])[0]))]

    # -- files -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (lists, numbers, text), read back by :meth:`from_dict`."""
        return {"format": FORMAT, "classes": list(self.classes), "labels": list(self.labels),
                "edge": self.edge, **({"context": self.context} if self.context else {}),
                **({"near": self.near} if self.near else {}),
                **({"wait": self.wait} if self.wait else {}),
                **({"settle": self.settle} if self.settle else {}),
                "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept.tolist(),
                **({} if self.summary is None else {"summary": dict(self.summary)})}

    @classmethod
    def from_dict(cls, d: Any) -> SpotVerifier:
        """A verifier from :meth:`to_dict`'s values, every one checked (an error names what
        is wrong)."""
        if isinstance(d, SpotVerifier):
            return d
        if not isinstance(d, dict):
            raise _bad("the value", d, "a dict from SpotVerifier.to_dict() "
                       "(gm.fit_verifier trains one)")
        keys = {"classes", "labels", "edge", "mean", "scale", "coef", "intercept"}
        check_keys(d, keys, {"summary", "context", "near", "wait", "settle"}, FORMAT, _bad)
        return cls(d["classes"], d["labels"], d["mean"], d["scale"], d["coef"],
                   d["intercept"], d["edge"], d.get("summary"), d.get("context", 0),
                   d.get("wait", 0), d.get("near", 0), d.get("settle", 0))

    def __repr__(self) -> str:
        return (f"SpotVerifier(classes={self.classes}, labels={self.labels}, "
                f"input_dim={self.input_dim}"
                + (f", context={self.context}" if self.context else "")
                + (f", near={self.near}" if self.near else "")
                + (f", wait={self.wait}" if self.wait else "")
                + (f", settle={self.settle})" if self.settle else ")"))


def _summary(summary: Any) -> dict[str, Any] | None:
    """A verifier's ``summary`` checked: None, or a dict of text keys to finite numbers, text,
    None or lists of text."""
    if summary is None:
        return None
    if not isinstance(summary, dict):
        raise _bad("summary", summary, "a dict of plain values")
    for key, value in summary.items():
        plain = (value is None or isinstance(value, str)
                 or (isinstance(value, (int, float)) and np.isfinite(value))
                 or (isinstance(value, list) and all(isinstance(v, str) for v in value)))
        if not isinstance(key, str) or not plain:
            raise _bad(f"summary[{key!r}]", value, "a finite number, text, null or a list "
                       "of text")
    return dict(summary)
