"""GVF's speed from an open-begin alignment that restarts and holds
(``estimates.speed="align_open"``).

The since-reset alignment (:mod:`gvf_align`, ``"align"``) matches every frame since the reset to a
template's beginning: a second gesture streamed without a reset is read as the first one's
continuation, and at a held end its slope decays. This one is a subsequence alignment: per template,
a path may *begin* at template frame 0 on any frame (it then carries its own start ``x_s``, the
frame it began on), and each frame extends it by 0 to ``alignment.max_step`` template frames, as in
``"align"``. Paths of different ages compare by their cost per frame with a prior: ``(START_COST *
START_FRAMES + sum of the frame costs) / (START_FRAMES + frames)``, as if every path had begun with
``START_FRAMES`` frames at ``START_COST`` each (a path that has just begun, whose first costs are
near 0 as nothing has moved relative to its start, must prove itself over some frames before it
displaces an old one). With :data:`START_POSTURE` > 0 a path also begins with the cost of where it
begins: that weight times half the squared distance of its first frame from the template's start
posture (in the start spread plus the tolerance), so a path begun mid-gesture, away from any start,
pays for it. Each cell keeps the path with the least such cost among its predecessors (the greedy
rule of normalised subsequence DTW); the cell at template frame 0 is always a path beginning on this
frame. That is the rule with GVF's ``alignment.null_cost=0`` (and in files saved before that setting
existed).

**The connected rule** (``alignment.null_cost`` > 0, the default, chosen with
``alignment.switch_cost`` and ``alignment.young_cost`` by cross-validation on HAPT's training
subjects: a path begun mid-gesture no longer takes over, and held out the speed was within ±15 % on
71.5 % of frames against 66.5 % per frame): every path explains every frame since the reset, so
paths of different ages compare by their total cost. A frame explained by no gesture costs
``alignment.null_cost``; a path begins from the least total before its frame of the null (no gesture
so far) or of a path in a template's end region (``EDGE``: a gesture just ended), plus
``alignment.switch_cost``; a path of fewer than ``START_FRAMES`` frames is compared as if each frame
it lacks cost ``alignment.young_cost`` more (its total unchanged). Each frame every total is shifted
by the same amount so that the least is 0 (:func:`connect`).

The frame cost is :mod:`gvf_align`'s size-free one, relative to the path's own start: ``x_t -
x_s`` divided by the root mean square of ``x_i - x_s`` over the path's frames, template frame
``j`` by its prefix's root mean square (both floored as there), the squared distance.

**Speed**: the least-squares slope of the path's template frames against its frames (kept per cell
along the path, forgotten by ``1 / estimates.speed_window`` per frame, 0: the whole path), counting
only the frames whose template frame lies inside the template's middle (``EDGE`` of its frames off
each end): at the beginning a path that waits at the template's first frames starts its slope again,
and at the end (a held end, or the template's last frames) the slope is frozen. With
``alignment.speed="chord"`` (the default) the speed is instead the path's advance from the slope's
origin to its last counted frame over the frames between (no forgetting), frozen the same way. A
class reports the speed of its path of least cost per frame among those that have left the
template's beginning with at least ``MIN_POINTS`` counted frames (over all its templates), times the
template's ``speed_factors_``, in the particles' bounds; with no such path (before a gesture, while
a new path grows, at a held end where a fresh path waits at the template's start) the class
**holds** its last speed (1 after the reset). A second gesture begins a new path at its start, which
takes over once its cost per frame is below the old path's. O((template frames) x inputs) per frame,
compiled.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit

from ._kernels import FACTOR_MAX, FACTOR_MIN

_JIT = {"cache": True, "nogil": True, "fastmath": False}

#: The prior's cost per frame (a squared distance over the inputs of size-free frames: about
#: 3 for a path along a template of the same class on HAPT, 8-10 for another class's) and its
#: frames; chosen on HAPT's training subjects only.
START_COST = 4.0
START_FRAMES = 20.0
#: The share of a template's frames at each end outside the slope (the beginning restarts it,
#: the end freezes it).
EDGE = 0.05
#: Counted frames a path needs before its slope is read.
MIN_POINTS = 10
#: The weight of a path's beginning cost, half the squared distance (in the template's start
#: spread plus the tolerance) of the frame it begins on from the template's start posture
#: (0: none; then every frame may begin a path alike).
START_POSTURE = 0.0
#: the bounds of the speed that divides the restart margin (``alignment.margin_speed``)
MARGIN_SPEED_MIN, MARGIN_SPEED_MAX = 0.25, 4.0
# per cell: weight, sum u, sum j, sum u^2, sum u j, the slope's origin frame, counted frames,
# the origin's template frame, the last counted frame and its template frame (the chord)
_REG = 10


@njit(**_JIT)
def compared(total, frames, start_cost, start_frames, per_frame, young):
    """What a path of ``total`` cost over ``frames`` frames compares by: its cost per frame
    with the start's prior (``per_frame``), or its total plus ``young`` per frame it lacks
    of ``start_frames`` (the connected rule)."""
    if per_frame:
        return (total + start_cost) / (frames + start_frames)
    return total + young * max(0.0, start_frames - frames)


@njit(**_JIT)
def edge_frames(n, edge_share):
    """Frames at each end of an ``n``-frame template outside the slope (:data:`EDGE`)."""
    return max(1, int(math.ceil(edge_share * n)))


@njit(**_JIT)
def best_predecessors(tot, length, a, n, t, max_step, start_cost, start_frames, norm, pred,
                      queue, per_frame=True, young=0.0):
    """For each cell ``a + j`` of one template (``n`` cells), the cell a path into it extends:
    the one of least cost per frame (with the start's prior; ``per_frame`` False: of least
    total, plus ``young`` per frame a path lacks of ``start_frames``) among itself and the
    ``max_step`` cells before it, on the state before this frame; ties go to the nearest
    cell, and ``pred`` is -1 where none holds a path (or on the first frame). A sliding
    minimum (its queue's values increase from the front), so the cost does not grow with
    ``max_step``; ``norm`` gets each cell's cost per frame."""
    head, tail = 0, 0
    for j in range(n):
        c = a + j
        if t > 0 and length[c] > 0.0:
            norm[c] = compared(tot[c], length[c], start_cost, start_frames, per_frame, young)
        else:
            norm[c] = math.inf
        while tail > head and norm[queue[tail - 1]] >= norm[c]:
            tail -= 1
        queue[tail] = c
        tail += 1
        if queue[head] < c - max_step:
            head += 1
        pred[c] = queue[head] if norm[queue[head]] < math.inf else -1


#: The templates an open alignment reads, shared with the stream's since-reset alignment:
#: their frames stacked (T, D), each divided by its prefix's root mean square; each template's
#: start (``offsets``, n_templates + 1), its class's (``class_offsets``, C + 1), its floor
#: squared and speed factor (n_templates,), its start posture's mean and inverse variance
#: (n_templates, D).
OpenTemplates = namedtuple("OpenTemplates", (
    "normed", "offsets", "class_offsets", "floor2", "speed_factors", "start_means",
    "start_inv_vars"))
#: How paths are compared and read: the slope's forgetting per frame (``keep``),
#: :data:`START_COST` times :data:`START_FRAMES` and :data:`START_FRAMES`, :data:`MIN_POINTS`,
#: ``alignment.max_step``, :data:`EDGE`, :data:`START_POSTURE`, the chord (``alignment.speed``)
#: and the connected rule's ``alignment.null_cost``, ``switch_cost`` and ``young_cost``.
OpenSettings = namedtuple("OpenSettings", (
    "keep", "start_cost", "start_frames", "min_points", "max_step", "edge_share",
    "start_weight", "chord", "null_cost", "switch_cost", "young"))
#: Each cell's path (T rows: its cost, frames, start (D), energy, slope's sums and chord's
#: ends (10)), each class's speed, reported cell and its cost (C,), and the connected rule's
#: totals (3,).
OpenPaths = namedtuple("OpenPaths", (
    "tot", "length", "xs", "energy", "reg", "speed", "class_cell", "class_cost", "totals"))
#: Work arrays: per template (n_templates,) and per cell (T,), so that a frame allocates nothing.
OpenScratch = namedtuple("OpenScratch", ("best_cost", "best_cell", "norm", "pred", "queue"))


@njit(**_JIT)
def open_step(z, t, templates, settings, paths, scratch):  # noqa: C901, PLR0915 - a numba kernel: one pass kept whole, as a call per piece costs per frame
    """One frame ``z`` (D,) (``t`` its index since the reset) of every template's open-begin
    alignment, in place. The arrays come in four named tuples, by job: ``templates``
    (:data:`OpenTemplates`, read only), ``settings`` (:data:`OpenSettings`), ``paths``
    (:data:`OpenPaths`, updated) and ``scratch`` (:data:`OpenScratch`).

    Per cell, ``tot``/``length`` its path's cost (with its start) and frames (0: no path),
    ``xs`` its start, ``energy`` its sum of ``|x - x_s|^2 / D``, ``reg`` its slope's sums and
    its chord's ends; per class, ``speed`` (held when no path qualifies) and
    ``class_cell``/``class_cost``: its reported cell (-1: none, the speed held) and its cost
    per frame with the prior (the connected rule: its total with the young cost). ``chord``: a
    class's speed is its path's advance over its frames from the slope's origin to its last
    counted frame (``alignment.speed="chord"``), else the least-squares slope. ``null_cost`` >
    0: the connected rule (``young``: a path of fewer than ``start_frames`` frames compares as
    if each frame it lacks cost that much more; ``totals`` the null's total and the least total
    in a template's end region, both after the last frame, and the sum of the shifts: every
    total is shifted by the same amount each frame so that the least is 0), else the cost per
    frame with the prior. ``norm``/``pred``/``queue``: :func:`best_predecessors`' buffers."""
    normed, offsets, class_offsets, floor2, speed_factors, start_means, start_inv_vars = templates
    (keep, start_cost, start_frames, min_points, max_step, edge_share, start_weight, chord,
     null_cost, switch_cost, young) = settings
    tot, length, xs, energy, reg, speed_out, class_cell, class_cost, totals = paths
    best_cost, best_cell, norm, pred, queue = scratch
    d = z.shape[0]
    n_t = offsets.shape[0] - 1
    per_frame = null_cost == 0.0
    begin = 0.0 if per_frame else min(totals[0], totals[1]) + switch_cost
    best_cost[:] = math.inf
    best_cell[:] = -1
    for m in range(n_t):
        a, b = offsets[m], offsets[m + 1]
        n = b - a
        edge = edge_frames(n, edge_share)
        best_predecessors(tot, length, a, n, t, max_step, start_cost, start_frames, norm, pred,
                          queue, per_frame, young)
        for j in range(n - 1, -1, -1):  # descending: a cell reads its predecessors' old state
            c = a + j
            if j == 0:  # a path begins here, on this frame
                # its beginning's cost: how far the frame is from the template's start
                # posture (START_POSTURE; 0: none)
                b0 = 0.0
                if start_weight > 0.0:
                    for q in range(d):
                        e = z[q] - start_means[m, q]
                        b0 += e * e * start_inv_vars[m, q]
                tot[c] = 0.5 * start_weight * b0 + begin
                length[c] = 0.0
                for q in range(d):
                    xs[c, q] = z[q]
                energy[c] = 0.0
                for r in range(_REG):
                    reg[c, r] = 0.0
                reg[c, 5] = t
            else:
                p = pred[c]
                if p < 0:
                    length[c] = 0.0
                    tot[c] = math.inf
                    continue
                if p != c:
                    tot[c] = tot[p]
                    length[c] = length[p]
                    energy[c] = energy[p]
                    for q in range(d):
                        xs[c, q] = xs[p, q]
                    for r in range(_REG):
                        reg[c, r] = reg[p, r]
            e2 = 0.0
            for q in range(d):
                e = z[q] - xs[c, q]
                e2 += e * e
            energy[c] += e2 / d
            length[c] += 1.0
            inv = 1.0 / math.sqrt(energy[c] / length[c] + floor2[m])
            cost = 0.0
            for q in range(d):
                e = (z[q] - xs[c, q]) * inv - normed[c, q]
                cost += e * e
            tot[c] += cost
            # (reg[c, r] indexed directly: a row view per cell cost 15 % of the step)
            if j < edge:  # the beginning: the slope starts again from here
                reg[c, 0] = 1.0
                reg[c, 1] = 0.0
                reg[c, 2] = j
                reg[c, 3] = 0.0
                reg[c, 4] = 0.0
                reg[c, 5] = t
                reg[c, 6] = 1.0
                reg[c, 7] = j
                reg[c, 8] = t
                reg[c, 9] = j
            elif j < n - edge:  # the middle: counted
                u = t - reg[c, 5]
                reg[c, 0] = keep * reg[c, 0] + 1.0
                reg[c, 1] = keep * reg[c, 1] + u
                reg[c, 2] = keep * reg[c, 2] + j
                reg[c, 3] = keep * reg[c, 3] + u * u
                reg[c, 4] = keep * reg[c, 4] + u * j
                reg[c, 6] += 1.0
                reg[c, 8] = t
                reg[c, 9] = j
            # (the end: frozen)
            if j >= edge and reg[c, 6] >= min_points:
                v = compared(tot[c], length[c], start_cost, start_frames, per_frame, young)
                if v < best_cost[m]:
                    best_cost[m] = v
                    best_cell[m] = c
    if not per_frame:
        connect(offsets, tot, length, edge_share, null_cost, switch_cost, begin, totals)
    for k in range(class_offsets.shape[0] - 1):
        m = -1
        for r in range(class_offsets[k], class_offsets[k + 1]):
            if best_cell[r] >= 0 and (m < 0 or best_cost[r] < best_cost[m]):
                m = r
        if m < 0:
            class_cell[k] = -1
            continue  # no path has left the beginning: the speed holds
        class_cell[k] = best_cell[m]
        class_cost[k] = best_cost[m]
        s = reg[best_cell[m]]
        if chord:
            if s[8] > s[5]:
                slope = (s[9] - s[7]) / (s[8] - s[5])
                speed_out[k] = min(max(slope * speed_factors[m], FACTOR_MIN), FACTOR_MAX)
            continue
        den = s[0] * s[3] - s[1] * s[1]
        if den > 1e-12 * s[0] * s[3]:
            slope = (s[0] * s[4] - s[1] * s[2]) / den
            speed_out[k] = min(max(slope * speed_factors[m], FACTOR_MIN), FACTOR_MAX)


#: GVF's ``alignment.reset_margin`` rule (:func:`since_reset_until_restart`): the templates'
#: end region (``edge_share``, :data:`EDGE`), the connected rule's ``switch_cost``, the
#: ``margin`` and ``alignment.margin_speed``.
MarginRule = namedtuple("MarginRule", ("edge_share", "switch_cost", "margin", "margin_speed"))


@njit(**_JIT)
def since_reset_until_restart(templates, since, opened, rule, latched, held, out):
    """GVF's ``alignment.reset_margin`` (under the connected rule): each class reports the
    since-reset alignment's speed (``since``, :data:`gvf_align.AlignPaths`, as
    :func:`gvf_align.align_step` leaves it: ``speed``, ``best`` its templates' least costs
    since the reset, ``pos`` their open ends, ``best_of`` each class's template of least cost;
    ``templates``, :data:`gvf_align.AlignTemplates`: their ``offsets``) until the path its
    open alignment reports (``opened``, :data:`OpenPaths`: ``class_cell``, ``class_cost``)
    costs less by more than ``margin`` (``rule``, :data:`MarginRule`), then (``latched``
    until the reset) the open alignment's, already in ``out``. While its open end is in the
    template's end region (``edge_share``) the since-reset speed is held (``held``, each
    class's last one before it), as the open alignment holds at a held end (the frames since
    the reset keep growing there, the template's frames do not). The open total of a path
    begun on the reset is the switch cost plus its frame costs less the shifts (the sum in
    ``opened.totals[2]``): the same frame costs as the since-reset alignment's.
    ``margin_speed`` > 0 (GVF's ``alignment.margin_speed``): the margin is divided by the held
    speed of the since-reset winner (the class of least since-reset cost), in
    [:data:`MARGIN_SPEED_MIN`, :data:`MARGIN_SPEED_MAX`], to that power: a gesture performed
    slowly has more frames, so a stall of its since-reset path builds the same cost
    difference over less of it."""
    best, offsets, pos, best_of = since.best, templates.offsets, since.pos, since.best_of
    class_cell, class_cost, shift = opened.class_cell, opened.class_cost, opened.totals[2]
    margin, margin_speed, switch_cost = rule.margin, rule.margin_speed, rule.switch_cost
    edge_share, since_speed = rule.edge_share, since.speed
    eff = margin
    if margin_speed != 0.0:  # the margin over the since-reset winner's held speed
        w = 0
        for k in range(best_of.shape[0]):
            if best[best_of[k]] < best[best_of[w]]:
                w = k
        eff = margin / min(max(held[w], MARGIN_SPEED_MIN), MARGIN_SPEED_MAX) ** margin_speed
    for k in range(best_of.shape[0]):
        m = best_of[k]
        if not latched[k] and class_cell[k] >= 0:
            if best[m] - (class_cost[k] + shift - switch_cost) > eff:
                latched[k] = True
        if not latched[k]:
            n = offsets[m + 1] - offsets[m]
            if pos[m] < n - edge_frames(n, edge_share):
                held[k] = since_speed[k]
            out[k] = held[k]


@njit(**_JIT)
def connect(offsets, tot, length, edge_share, null_cost, switch_cost, begin, totals):
    """The connected rule's bookkeeping after a frame (:func:`open_step`, whose paths began
    on it from ``begin``): the null's total (no gesture on this frame: from the least of the
    null's and a gesture end's totals before it, plus ``null_cost``), the least total of a
    path in a template's end region (``EDGE``: where a next gesture may begin from), then
    every total less the least of them all, so that they stay small in a stream never reset
    (the order of any two is unchanged)."""
    totals[0] = begin - switch_cost + null_cost
    end = math.inf
    low = totals[0]
    for m in range(offsets.shape[0] - 1):
        a, b = offsets[m], offsets[m + 1]
        first_end = b - edge_frames(b - a, edge_share)
        for c in range(a, b):
            if length[c] > 0.0:
                low = min(low, tot[c])
                if c >= first_end:
                    end = min(end, tot[c])
    totals[1] = end - low
    totals[0] -= low
    totals[2] += low
    for c in range(tot.shape[0]):
        if length[c] > 0.0:
            tot[c] -= low


class OpenAlign:
    """A stream's open-begin alignment speed (``estimates.speed="align_open"``), beside the
    stream's :class:`gvf_align.AlignEstimate` ``align``, whose normed templates, slope
    forgetting, ``max_step`` and chord it reads (:data:`START_POSTURE` is read when the stream
    is made)."""

    def __init__(self, model, align) -> None:
        n, d = model.templates_.shape
        self._tot = np.zeros(n)
        self._length = np.zeros(n)
        self._xs = np.zeros((n, d))
        self._energy = np.zeros(n)
        self._reg = np.zeros((n, _REG))
        self.speed = np.ones(len(model.class_offsets_) - 1)
        n_t = len(model.offsets_) - 1
        self._best_cost = np.zeros(n_t)
        self._best_cell = np.zeros(n_t, dtype=np.int64)
        n_c = len(model.class_offsets_) - 1
        self.class_cell = np.full(n_c, -1, dtype=np.int64)
        self.class_cost = np.zeros(n_c)
        self._norm = np.zeros(n)
        self._pred = np.zeros(n, dtype=np.int64)
        self._queue = np.zeros(n, dtype=np.int64)
        # the connected rule (alignment.null_cost > 0): the null's total, a gesture end's least
        al = model.alignment
        self.null_cost = float(al.null_cost)
        self.switch_cost = float(al.switch_cost)
        self.young_cost = float(al.young_cost)
        self._totals = np.zeros(3)  # the null's, a gesture end's, the shifts' sum
        # each template's start posture (the frame a path begins on, against it)
        self._start_means = np.ascontiguousarray(model.start_means_, dtype=np.float64)
        self._start_inv_vars = np.ascontiguousarray(
            1.0 / (model.start_stds_**2 + float(model.tolerance) ** 2))
        # the kernel's arrays, by job (the same arrays: the names above stay valid)
        self._k_templates = OpenTemplates(align._normed, align._offsets, align._class_offsets,
                                          align._floor2, align._speed_factors,
                                          self._start_means, self._start_inv_vars)
        self._k_settings = OpenSettings(
            align._speed_keep, START_COST * START_FRAMES, START_FRAMES, MIN_POINTS,
            align.max_step, EDGE, START_POSTURE, align.chord, self.null_cost, self.switch_cost,
            self.young_cost)
        self._k_paths = OpenPaths(self._tot, self._length, self._xs, self._energy, self._reg,
                                  self.speed, self.class_cell, self.class_cost, self._totals)
        self._k_scratch = OpenScratch(self._best_cost, self._best_cell, self._norm, self._pred,
                                      self._queue)
        self.reset()

    def reset(self) -> None:
        """Forget the frames seen: no path, the speed 1."""
        self._t = 0
        self._totals[0] = 0.0
        self._totals[1] = math.inf
        self._totals[2] = 0.0
        self._length[:] = 0.0
        self.class_cell[:] = -1
        self.speed[:] = 1.0

    def update(self, z: np.ndarray, out: np.ndarray) -> None:
        """Follow the standardised frame ``z``; writes the classes' speeds into ``out``. (An
        absurd frame never comes here: :class:`gvf_align.AlignEstimate` skips it for both
        alignments.)"""
        open_step(z, float(self._t), self._k_templates, self._k_settings, self._k_paths,
                  self._k_scratch)
        self._t += 1
        out[:] = self.speed
