"""A window detector beside the spotter: a second, discriminative opinion on the stream.

The HMM spotter misses movements that a new performer makes differently from the rehearsals;
many of those it finds nothing for at all. The detector looks at the stream differently: every
``hop`` frames it takes statistics of the last ``window`` frames (per channel the mean,
standard deviation, minimum, maximum, the mean of the first and last quarter and the change
between them; the spread and extremes of the first three channels' magnitude and of the
others'; and the posture in the ``before`` frames before the window, with how far the window's
end moved from it) and a forest of extremely randomised trees gives each gesture's
probability. What carries from one performer to the next is mostly the posture before and
after a movement, which these statistics see whatever the movement's pace.

A :class:`~.core.Spotter` given a detector merges the two causally (:class:`DetectorMerge`):

- the spotter's event passes unless the detector gave its gesture under ``support`` over the
  last ``gap`` frames (the spotter heard a gesture the detector saw no trace of);
- the detector's own event (a gesture's probability, averaged over the last ``smooth``
  windows, reaching ``tau``; again only once it fell below ``tau / 2``; at most one in
  ``quiet`` frames) is held ``hold`` frames and passes if no event passed in the ``gap``
  frames before its release (a spotter's event in those frames has the word);
- nothing passes within ``gap`` frames after a passed event.

The defaults come from held-out experiments on HAPT's postural transitions
(``experiments/spotting_window_detector.py``, ``experiments/spotting_detector_merge.py``): 4 s
windows every 0.1 s, the second before, with a forest of 100 trees of at most 256 leaves (a
few MB in a project) and ``tau`` 0.7; events held 0.2 s, and 4 s after any event.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
from numba import njit

from ...errors import GesturemapError
from .verifier import NULL, check_keys, mismatch

FORMAT = 1
_JIT = {"cache": True, "nogil": True, "fastmath": False}

#: Settings in seconds at fitting (scaled by ``rate_hz`` to frames; at 50 Hz: window 200,
#: before 50, hop 5, hold 10, gap 200, quiet 100 frames). ``hold`` and ``gap`` were chosen on
#: HAPT partitions 105-110 (0.2 s and 4 s against the first experiment's 1 s and 3 s: the
#: detector's early events pass at once, and a transition's late second event is held back)
#: and measured on partitions 123-128, which no run had used: micro F1 0.828 -> 0.840, false
#: alarms 0.14 -> 0.12 a minute, higher on 6 of 6.
SECONDS = {"window": 4.0, "before": 1.0, "hop": 0.1, "hold": 0.2, "gap": 4.0, "quiet": 2.0}
#: Settings without a unit: windows averaged, the event level, the support a spotter's event
#: needs. ``tau`` 0.7 suits the default forest's size (100 trees of at most 256 leaves, whose
#: mixed leaves give every gesture more probability than pure ones do): chosen among 0.5 to
#: 0.9 on HAPT partitions 105-107, measured on 108-110 (0.5 suits an unbounded forest). It is
#: not chosen again per project: a cross-fit on halves of the rehearsals trains its detectors
#: on half the data, less sure of themselves, and picks a lower level than suits the detector
#: trained on all of them (HAPT partitions 117-122: F1 0.771 so chosen, 0.824 at 0.7).
PLAIN = {"smooth": 3, "tau": 0.7, "support": 0.1}
#: Every setting, in the order the dict and ``repr`` give them.
SETTING_NAMES = ("window", "before", "hop", "smooth", "tau", "support", "hold", "gap", "quiet")
#: A window holds a gesture when it ends at most this long after it (seconds).
LABEL_LATE = 0.5
#: The forest: trees and most leaves per tree, so that a project holding it stays a few MB
#: (about 3 MB of JSON for HAPT's six transitions; an unbounded forest is about 350k nodes,
#: some 17 MB).
DEFAULT_TREES = 100
DEFAULT_MAX_LEAVES = 256


def _bad(what: str, value: Any, expected: str) -> GesturemapError:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return GesturemapError(f"spotting detector: {what} is {text}, expected {expected}.")


def n_features(input_dim: int) -> int:
    """The number of statistics :func:`window_features` gives per window of
    ``input_dim``-channel frames."""
    a = min(3, input_dim)
    return 7 * input_dim + 5 + a + input_dim + a


# -- kernels -----------------------------------------------------------------------------
@njit(**_JIT)
def _row(buf, n_buf, off, e, window, before, out):  # pragma: no cover - numba
    """The statistics of the window ending at frame ``e`` into ``out``: frame ``t`` is row
    ``(t - off) % n_buf`` of ``buf`` (a ring, or a plain array with ``off`` its first frame
    and ``n_buf`` its length). Reads frames ``max(e - window - before + 1, 0) .. e``."""
    d = buf.shape[1]
    a = min(3, d)
    w0 = e - window + 1
    b0 = max(e - window - before + 1, 0)
    q = window // 4
    for c in range(d):
        s = 0.0
        lo = np.inf
        hi = -np.inf
        for t in range(w0, e + 1):
            v = buf[(t - off) % n_buf, c]
            s += v
            lo = min(lo, v)
            hi = max(hi, v)
        m = s / window
        ss = 0.0
        for t in range(w0, e + 1):
            v = buf[(t - off) % n_buf, c] - m
            ss += v * v
        first = 0.0
        for t in range(w0, w0 + q):
            first += buf[(t - off) % n_buf, c]
        last = 0.0
        for t in range(e - q + 1, e + 1):
            last += buf[(t - off) % n_buf, c]
        first /= q
        last /= q
        out[c] = m
        out[d + c] = np.sqrt(ss / window)
        out[2 * d + c] = lo
        out[3 * d + c] = hi
        out[4 * d + c] = first
        out[5 * d + c] = last
        out[6 * d + c] = last - first
    # the magnitudes of the first three channels (acceleration) and of the others (rotation)
    sa = 0.0
    amax = -np.inf
    amin = np.inf
    sr = 0.0
    rmax = -np.inf
    for t in range(w0, e + 1):
        r = (t - off) % n_buf
        x = 0.0
        for c in range(a):
            x += buf[r, c] * buf[r, c]
        x = np.sqrt(x)
        y = 0.0
        for c in range(3, d):
            y += buf[r, c] * buf[r, c]
        y = np.sqrt(y)
        sa += x
        amax = max(amax, x)
        amin = min(amin, x)
        sr += y
        rmax = max(rmax, y)
    am = sa / window
    ss = 0.0
    for t in range(w0, e + 1):
        r = (t - off) % n_buf
        x = 0.0
        for c in range(a):
            x += buf[r, c] * buf[r, c]
        x = np.sqrt(x) - am
        ss += x * x
    k = 7 * d
    out[k] = np.sqrt(ss / window)
    out[k + 1] = amax
    out[k + 2] = amin
    out[k + 3] = sr / window
    out[k + 4] = rmax
    k += 5
    # the posture before the window, and how far the window's end moved from it
    for c in range(d):
        s = 0.0
        for t in range(b0, b0 + before):
            s += buf[(t - off) % n_buf, c]
        m = s / before
        ss = 0.0
        for t in range(b0, b0 + before):
            v = buf[(t - off) % n_buf, c] - m
            ss += v * v
        out[k + a + c] = np.sqrt(ss / before)
        if c < a:
            out[k + c] = m
            s2 = 0.0
            for t in range(e - before + 1, e + 1):
                s2 += buf[(t - off) % n_buf, c]
            out[k + a + d + c] = s2 / before - m


@njit(**_JIT)
def _rows(buf, n_buf, off, ends, window, before, out):  # pragma: no cover - numba
    for i in range(len(ends)):
        _row(buf, n_buf, off, ends[i], window, before, out[i])


@njit(**_JIT)
def _forest(rows, feature, threshold, left, right, leaf, values, roots, out):  # pragma: no cover
    """Each row's class probabilities averaged over the trees, as scikit-learn's forests:
    a node sends a row left when its feature, as float32, is at most the threshold."""
    n = len(roots)
    for i in range(rows.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = 0.0
        for k in range(n):
            node = roots[k]
            while left[node] >= 0:
                if np.float32(rows[i, feature[node]]) <= threshold[node]:
                    node = left[node]
                else:
                    node = right[node]
            v = values[leaf[node]]
            for j in range(out.shape[1]):
                out[i, j] += v[j]
        for j in range(out.shape[1]):
            out[i, j] /= n


def window_ends(n: int, window: int, hop: int, first: int = 0) -> np.ndarray:
    """The frames ``first .. n - 1`` at which a window ends: ``window - 1``, then every
    ``hop`` frames."""
    lo = window - 1
    if first > lo:
        lo += -(-(first - lo) // hop) * hop
    return np.arange(lo, n, hop, dtype=np.int64)


def window_features(x: Any, ends: Any, window: int = 200, before: int = 50) -> np.ndarray:
    """(len(ends), :func:`n_features`) the statistics of the windows of a (T, D) recording
    ending at each of ``ends`` (causal: frames up to the end only; every end at least
    ``window - 1``), by the kernel a stream runs over its ring."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    ends = np.asarray(ends, dtype=np.int64)
    if x.ndim != 2:
        raise GesturemapError(f"window_features: frames of shape {x.shape}, expected (T, D)")
    if len(ends) and (ends.min() < window - 1 or ends.max() >= len(x)):
        raise GesturemapError(f"window_features: window ends from {window - 1} to "
                              f"{len(x) - 1} only (a {window}-frame window in {len(x)} frames)")
    out = np.zeros((len(ends), n_features(x.shape[1])))
    if len(ends):
        _rows(x, len(x), 0, ends, int(window), int(before), out)
    return out


# -- the detector ------------------------------------------------------------------------
class WindowDetector:
    """A fitted window detector: a forest in plain arrays and its settings (frames).

    Build one with :func:`fit_detector`, or from :meth:`to_dict`'s values with
    :meth:`from_dict`. ``classes`` are the gesture labels (as text); column 0 of
    :meth:`predict_proba` is the null class, column ``1 + i`` ``classes[i]``.
    """

    def __init__(self, classes: Sequence[Any], input_dim: int, settings: dict[str, Any],
                 roots: Any, feature: Any, threshold: Any, left: Any, right: Any,
                 values: Any, summary: dict[str, Any] | None = None) -> None:
        if not isinstance(classes, (list, tuple)) or not classes or not all(
                isinstance(c, str) for c in classes) or len(set(classes)) != len(classes):
            raise _bad("classes", classes, "a list of distinct gesture labels (text)")
        if NULL in classes:
            raise _bad("classes", classes, f"gesture labels without the null class {NULL!r}")
        self.classes = list(classes)
        if isinstance(input_dim, bool) or not isinstance(input_dim, (int, np.integer)) or (
                input_dim < 1):
            raise _bad("input_dim", input_dim, "a whole number of channels, 1 or more")
        self.input_dim = int(input_dim)
        self._set_settings(settings)
        self.roots = _ints("trees", roots)
        self.feature = _ints("feature", feature)
        n = len(self.feature)
        self.left = _ints("left", left, n)
        self.right = _ints("right", right, n)
        self.threshold = _floats("threshold", threshold, (n,))
        is_leaf = self.left < 0
        n_leaves = int(is_leaf.sum())
        self.values = _floats("values", values, (n_leaves, len(self.classes) + 1))
        self._check_trees(is_leaf)
        self.leaf = np.where(is_leaf, np.cumsum(is_leaf) - 1, -1).astype(np.int64)
        self.summary = None if summary is None else dict(summary)

    def _set_settings(self, settings: Any) -> None:
        if not isinstance(settings, dict) or sorted(settings) != sorted(SETTING_NAMES):
            raise _bad("settings", settings, "a dict of " + ", ".join(SETTING_NAMES))
        for name in ("window", "before", "hop", "smooth", "hold", "gap", "quiet"):
            v = settings[name]
            least = 0 if name in ("hold", "gap", "quiet") else 1
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
                raise _bad(name, v, f"a whole number of frames, {least} or more")
            setattr(self, name, int(v))
        for name in ("tau", "support"):
            v = settings[name]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
                raise _bad(name, v, "a probability from 0 to 1")
            setattr(self, name, float(v))
        if self.window < 4 or self.before > self.window:
            raise _bad("window", self.window, f"4 frames or more, and at least before "
                       f"({self.before})")

    def _check_trees(self, is_leaf: np.ndarray) -> None:
        n = len(self.feature)
        ends = np.r_[self.roots[1:], n]
        if self.roots[0] != 0 or np.any(np.diff(self.roots) < 1) or self.roots[-1] >= n:
            raise _bad("trees", self.roots.tolist(), "each tree's first node, from 0, rising")
        tree_end = ends[np.searchsorted(self.roots, np.arange(n), side="right") - 1]
        inner = ~is_leaf
        nodes = np.arange(n)
        # children after their node and inside its tree: every walk ends at a leaf
        ok = (self.left[inner] > nodes[inner]) & (self.right[inner] > nodes[inner]) & (
            self.left[inner] < tree_end[inner]) & (self.right[inner] < tree_end[inner])
        if not np.all(ok) or np.any(self.right[is_leaf] >= 0):
            raise _bad("left/right", "children", "each node's children after it in its tree "
                       "(-1 for both at a leaf)")
        f = n_features(self.input_dim)
        if np.any((self.feature[inner] < 0) | (self.feature[inner] >= f)):
            raise _bad("feature", "an index", f"0 to {f - 1} ({f} statistics of "
                       f"{self.input_dim}-channel frames)")
        if np.any(self.values < 0):
            raise _bad("values", "negative", "class probabilities")

    @property
    def settings(self) -> dict[str, Any]:
        """The settings (frames; ``tau`` and ``support`` probabilities)."""
        return {k: getattr(self, k) for k in SETTING_NAMES}

    def with_settings(self, **changes: Any) -> WindowDetector:
        """This detector with some settings changed (checked as at building); the forest is
        shared, not copied. ``window`` and ``before`` stay: the forest was trained on their
        statistics (train another for others)."""
        fixed = sorted({"window", "before"} & set(changes))
        if fixed:
            raise _bad(", ".join(fixed), [changes[k] for k in fixed],
                       "the ones the forest was trained on: fit another detector for others")
        other = copy.copy(self)
        other._set_settings({**self.settings, **changes})
        return other

    @property
    def nodes(self) -> int:
        """The forest's number of nodes."""
        return len(self.feature)

    def predict_proba(self, rows: Any) -> np.ndarray:
        """(n, 1 + classes) class probabilities of (n, :func:`n_features`) statistics rows
        (column 0: null), equal to the scikit-learn forest it was fitted as."""
        rows = np.ascontiguousarray(rows, dtype=np.float64)
        f = n_features(self.input_dim)
        if rows.ndim != 2 or rows.shape[1] != f:
            raise GesturemapError(f"spotting detector: rows of shape {rows.shape}, expected "
                                  f"(n, {f})")
        out = np.zeros((len(rows), len(self.classes) + 1))
        self._proba(rows, out)
        return out

    def _proba(self, rows: np.ndarray, out: np.ndarray) -> None:
        _forest(rows, self.feature, self.threshold, self.left, self.right, self.leaf,
                self.values, self.roots, out)

    def features(self, x: Any, ends: Any) -> np.ndarray:
        """:func:`window_features` with this detector's window and before."""
        return window_features(x, ends, self.window, self.before)

    def mismatch(self, gestures: Sequence[Any], input_dim: int | None) -> str | None:
        """Why this detector does not fit a model with these gesture labels (null left out)
        taking ``input_dim``-channel frames, or None when it fits."""
        return mismatch(self.classes, self.input_dim, gestures, input_dim)

    # -- files -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (lists, numbers, text), read back by :meth:`from_dict`."""
        return {"format": FORMAT, "classes": list(self.classes), "input_dim": self.input_dim,
                "settings": self.settings, "trees": self.roots.tolist(),
                "feature": self.feature.tolist(), "threshold": self.threshold.tolist(),
                "left": self.left.tolist(), "right": self.right.tolist(),
                "values": self.values.tolist(),
                **({} if self.summary is None else {"summary": dict(self.summary)})}

    @classmethod
    def from_dict(cls, d: Any) -> WindowDetector:
        """A detector from :meth:`to_dict`'s values, every one checked (an error names what
        is wrong)."""
        if isinstance(d, WindowDetector):
            return d
        if not isinstance(d, dict):
            raise _bad("the value", d, "a dict from WindowDetector.to_dict() "
                       "(gm.fit_detector trains one)")
        keys = {"classes", "input_dim", "settings", "trees", "feature", "threshold", "left",
                "right", "values"}
        check_keys(d, keys, {"summary"}, FORMAT, _bad)
        summary = d.get("summary")
        if summary is not None and not isinstance(summary, dict):
            raise _bad("summary", summary, "a dict of plain values")
        return cls(d["classes"], d["input_dim"], d["settings"], d["trees"], d["feature"],
                   d["threshold"], d["left"], d["right"], d["values"], summary)

    def __repr__(self) -> str:
        return (f"WindowDetector(classes={self.classes}, input_dim={self.input_dim}, "
                f"trees={len(self.roots)}, nodes={self.nodes}, "
                + ", ".join(f"{k}={v}" for k, v in self.settings.items()) + ")")


def _ints(name: str, value: Any, length: int | None = None) -> np.ndarray:
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):
        a = np.zeros(0, dtype=object)
    if a.ndim != 1 or len(a) < 1 or a.dtype.kind not in "iu":
        raise _bad(name, value, "a non-empty list of whole numbers")
    if length is not None and len(a) != length:
        raise _bad(name, f"{len(a)} numbers", f"{length}, one per node")
    return np.ascontiguousarray(a, dtype=np.int64)


def _floats(name: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _bad(name, "not numbers", f"numbers of shape {shape}") from None
    if a.shape != shape or not np.all(np.isfinite(a)):
        raise _bad(name, f"shape {a.shape}", f"finite numbers of shape {shape}")
    return np.ascontiguousarray(a)


# -- fitting -----------------------------------------------------------------------------
def window_labels(labels: np.ndarray, ends: np.ndarray, gestures: Sequence[Any],
                  window: int, late: int) -> np.ndarray:
    """Each window's class (0: null, ``1 + i``: ``gestures[i]``): the gesture it holds most of
    (half the window, or 80 % of a shorter gesture), ending no later than ``late`` frames
    after it; a later gesture overrides an earlier one."""
    labels = np.asarray(labels)
    out = np.zeros(len(ends), dtype=np.int64)
    index = {g: i + 1 for i, g in enumerate(gestures)}
    if not len(labels):
        return out
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    for s, e in zip(np.r_[0, change], np.r_[change - 1, len(labels) - 1], strict=True):
        lb = labels[s]
        lb = lb.item() if isinstance(lb, np.generic) else lb
        if lb not in index:
            continue
        need = min(window // 2, int(0.8 * (e - s + 1)))
        cover = np.maximum(0, np.minimum(ends, e) - np.maximum(ends - window + 1, s) + 1)
        out[(cover >= need) & (ends <= e + late)] = index[lb]
    return out


def fit_detector(recordings: Sequence[Any], frame_labels: Sequence[Any],
                 gestures: Sequence[Any] | None = None, rate_hz: float = 50.0,
                 trees: int = DEFAULT_TREES, max_leaves: int | None = DEFAULT_MAX_LEAVES,
                 n_jobs: int = 1, **settings: Any) -> WindowDetector:
    """A :class:`WindowDetector` trained from continuous recordings labelled frame by frame.

    Parameters
    ----------
    recordings : (T, D) arrays, the frames as the spotter's model is given them.
    frame_labels : one (T,) label per frame of each; a label not in ``gestures`` is null.
    gestures : the gesture labels (default: every label seen but :data:`NULL`, sorted).
    rate_hz : the frame rate: the settings' durations (4 s windows every 0.1 s, the 1 s
        before, events held 0.2 s, 4 s gap, 2 s between the detector's own events) in frames.
    trees, max_leaves : the forest's size (the saved detector grows with both; None: leaves
        unbounded, about 350k nodes on HAPT's training subjects).
    n_jobs : scikit-learn's processes for the fit.
    settings : any of ``window, before, hop, smooth, tau, support, hold, gap, quiet`` (frames,
        probabilities) instead of the defaults.
    """
    from sklearn.ensemble import ExtraTreesClassifier

    if not isinstance(rate_hz, (int, float)) or isinstance(rate_hz, bool) or rate_hz <= 0:
        raise _bad("rate_hz", rate_hz, "a positive frame rate")
    unknown = sorted(set(settings) - set(SETTING_NAMES))
    if unknown:
        raise _bad("setting(s)", unknown, "any of " + ", ".join(SETTING_NAMES))
    full = {k: max(1 if k in ("window", "before", "hop") else 0, int(round(v * rate_hz)))
            for k, v in SECONDS.items()}
    full.update(PLAIN)
    full.update(settings)
    xs = [np.asarray(x, dtype=np.float64) for x in recordings]
    ys = [np.asarray(y) for y in frame_labels]
    if not xs or len(xs) != len(ys) or any(
            x.ndim != 2 or len(x) != len(y) for x, y in zip(xs, ys, strict=True)):
        raise GesturemapError("the window detector: give (T, D) recordings and one label per "
                              "frame of each")
    dim = xs[0].shape[1]
    if any(x.shape[1] != dim for x in xs):
        raise GesturemapError("the window detector: every recording needs the same channels")
    if gestures is None:
        seen = {lb.item() if isinstance(lb, np.generic) else lb
                for y in ys for lb in np.unique(y)}
        gestures = sorted(lb for lb in seen if lb != NULL)
    gestures = list(gestures)
    # a dummy forest checks the settings before the fit
    probe = WindowDetector([str(g) for g in gestures], dim, full, [0], [-2], [0.0], [-1],
                           [-1], [[1.0] + [0.0] * len(gestures)])
    w, late = probe.window, int(round(LABEL_LATE * rate_hz))
    rows, targets = [], []
    for x, y in zip(xs, ys, strict=True):
        ends = window_ends(len(x), w, probe.hop)
        rows.append(window_features(x, ends, w, probe.before))
        targets.append(window_labels(y, ends, gestures, w, late))
    target = np.concatenate(targets)
    if len(target) == 0 or len(np.unique(target)) < 2:
        raise GesturemapError("the window detector: the recordings hold no full window of a "
                              f"gesture and of null ({w}-frame windows): record longer takes")
    clf = ExtraTreesClassifier(n_estimators=trees, max_leaf_nodes=max_leaves,
                               min_samples_leaf=2, random_state=0, n_jobs=n_jobs,
                               class_weight="balanced_subsample")
    clf.fit(np.vstack(rows), target)
    det = from_forest(clf, [str(g) for g in gestures], dim, probe.settings)
    # what it was trained from, kept beside it (shown, never used to decide)
    det.summary = {"rate_hz": float(rate_hz), "trees": int(trees),
                   "max_leaves": None if max_leaves is None else int(max_leaves),
                   "windows": int(len(target)), "gesture_windows": int(np.sum(target > 0))}
    return det


def from_forest(clf: Any, classes: list[str], input_dim: int, settings: dict[str, Any],
                targets: Sequence[Any] | None = None) -> WindowDetector:
    """A fitted scikit-learn tree forest over :func:`window_features` rows as plain arrays.
    ``targets``: the training target of null and of each of ``classes`` (default 0 (null),
    1 .. len(classes)); a class it never saw gets probability 0."""
    targets = list(range(len(classes) + 1)) if targets is None else list(targets)
    cols = np.array([targets.index(c) for c in clf.classes_.tolist()], dtype=np.int64)
    roots, feature, threshold, left, right, values = [], [], [], [], [], []
    n = 0
    for est in clf.estimators_:
        t = est.tree_
        leaf = t.children_left < 0
        roots.append(n)
        feature.append(np.where(leaf, -1, t.feature))
        threshold.append(np.where(leaf, 0.0, t.threshold))
        left.append(np.where(leaf, -1, t.children_left + n))
        right.append(np.where(leaf, -1, t.children_right + n))
        # as DecisionTreeClassifier.predict_proba: each leaf's values normalised
        v = t.value[leaf][:, 0, :len(cols)]
        norm = v.sum(axis=1, keepdims=True)
        norm[norm == 0.0] = 1.0
        full = np.zeros((len(v), len(classes) + 1))
        full[:, cols] = v / norm
        values.append(full)
        n += t.node_count
    return WindowDetector(classes, input_dim, settings, roots, np.concatenate(feature),
                          np.concatenate(threshold), np.concatenate(left),
                          np.concatenate(right), np.vstack(values))


# -- the merge, per stream ---------------------------------------------------------------
class DetectorMerge:
    """One stream's detector and merge state: the ring of the last ``window + before``
    frames, the last ``smooth`` windows' probabilities, the windows of the last ``gap``
    frames (the support a spotter's event needs), the detector's events waiting for their
    release, and the last frame an event passed. All preallocated but the waiting events.

    ``labels``: the spotter's gesture labels, each as the model gives it (the detector's
    classes are their text).
    """

    def __init__(self, detector: WindowDetector, labels: Sequence[Any], event_type: Any
                 ) -> None:
        d = self.d = detector
        by_text = {str(lb): lb for lb in labels}
        self._label = [NULL] + [by_text[c] for c in d.classes]
        self._col = {lb: 1 + d.classes.index(str(lb)) for lb in labels}
        self._event = event_type
        self._n = d.window + d.before
        self._ring = np.zeros((self._n, d.input_dim))
        c = len(d.classes) + 1
        self._row = np.zeros((1, n_features(d.input_dim)))
        self._p = np.zeros((1, c))
        self._recent = np.zeros((d.smooth, c))  # the last windows' probabilities
        self._k_support = d.gap // d.hop + 1
        self._support = np.zeros((self._k_support, c))  # smoothed, by window
        self._support_end = np.full(self._k_support, -(10 ** 18), dtype=np.int64)
        # the per-frame kernels compiled (or loaded from numba's cache) here, where a stream
        # is built, not on its first window: on a new machine that would hold the frame path
        # for about a second
        _row(self._ring, self._n, 0, self._n - 1, d.window, d.before, self._row[0])
        d._proba(self._row, self._p)
        self.reset()

    def reset(self) -> None:
        """Forget everything (frame indices start again at 0)."""
        self._recent[:] = 0.0
        self._support_end[:] = -(10 ** 18)
        self._windows = 0
        self._armed = np.ones(len(self.d.classes) + 1, dtype=bool)
        self._below = np.zeros(len(self.d.classes) + 1, dtype=bool)
        self._quiet = -1
        self._waiting: list[tuple[int, int, int, float]] = []  # (release, class, end, p)
        self._last = -(10 ** 18)

    # the rule, one step at a time (a stream and a batch call the same)
    def _window(self, e: int, p: np.ndarray) -> None:
        d = self.d
        self._recent[self._windows % d.smooth] = p
        slot = self._windows % self._k_support
        self._windows += 1
        ps = self._support[slot]
        np.sum(self._recent, axis=0, out=ps)
        ps /= d.smooth
        self._support_end[slot] = e
        np.less(ps, d.tau / 2, out=self._below)
        self._armed |= self._below
        c = int(np.argmax(ps[1:])) + 1
        if ps[c] >= d.tau and self._armed[c] and e >= self._quiet:
            self._waiting.append((e + d.hold, c, e, float(ps[c])))
            self._armed[c] = False
            self._quiet = e + d.quiet

    def support(self, label: Any, t: int) -> float:
        """The detector's highest smoothed probability of ``label`` over the windows ending
        in ``t - gap .. t`` (1 when there is none yet)."""
        sel = self._support_end >= t - self.d.gap
        if not sel.any():
            return 1.0
        return float(self._support[sel, self._col[label]].max())

    def _spotted(self, ev: Any, t: int) -> Any:
        if self.support(ev.label, t) >= self.d.support and t - self._last > self.d.gap:
            self._last = t
            return ev
        return None

    def _release(self, upto: int, out: list[Any] | None = None) -> Any:
        """The detector's events due by frame ``upto``, each passing or not (those that do
        appended to ``out``); returns the last that passed, or None."""
        passed = None
        while self._waiting and self._waiting[0][0] <= upto:
            t, c, e, p = self._waiting.pop(0)
            if t - self._last > self.d.gap:
                self._last = t
                passed = self._event(self._label[c], e - self.d.window + 1, e, t, p)
                if out is not None:
                    out.append(passed)
        return passed

    def step(self, frame: Any, ev: Any, t: int) -> Any:
        """Frame ``t`` (D,) and the spotter's event on it (or None): the event that passes
        on it, or None."""
        d = self.d
        self._ring[t % self._n] = frame
        if t >= d.window - 1 and (t - d.window + 1) % d.hop == 0:
            _row(self._ring, self._n, 0, t, d.window, d.before, self._row[0])
            d._proba(self._row, self._p)
            self._window(t, self._p[0])
        if ev is not None:
            ev = self._spotted(ev, t)
        # (one event a frame: a detector's event due with a passed one is within its gap)
        due = self._release(t) if self._waiting else None
        return ev if ev is not None else due

    def run(self, seq: np.ndarray, t0: int, events: list[Any]) -> list[Any]:
        """:meth:`step` over a (T, D) sequence starting at frame ``t0`` and the spotter's
        events on it (emission order), at once: the events that pass."""
        d = self.d
        h = min(t0, self._n)
        buf = np.empty((h + len(seq), d.input_dim))
        buf[:h] = self._ring[np.arange(t0 - h, t0) % self._n]
        buf[h:] = seq
        ends = window_ends(t0 + len(seq), d.window, d.hop, first=t0)
        rows = np.zeros((len(ends), self._row.shape[1]))
        if len(ends):
            _rows(buf, len(buf), t0 - h, ends, d.window, d.before, rows)
        probs = np.zeros((len(ends), self._p.shape[1]))
        d._proba(rows, probs)
        keep = min(len(buf), self._n)
        last = t0 + len(seq)
        self._ring[np.arange(last - keep, last) % self._n] = buf[len(buf) - keep:]
        out: list[Any] = []
        by_frame = {int(e): j for j, e in enumerate(ends)}
        spotted: dict[int, list[Any]] = {}
        for ev in events:
            spotted.setdefault(int(ev.emitted), []).append(ev)
        for t in sorted(set(by_frame) | set(spotted)):
            self._release(t - 1, out)
            if t in by_frame:
                self._window(t, probs[by_frame[t]])
            for ev in spotted.get(t, ()):
                ev = self._spotted(ev, t)
                if ev is not None:
                    out.append(ev)
            self._release(t, out)
        self._release(last - 1, out)
        return out
