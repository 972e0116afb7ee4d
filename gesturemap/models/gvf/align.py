"""GVF's speed and scale read from an open-end alignment (``estimates.speed="align"``,
``estimates.scale="align"``).

Per template (every template of every class), a causal open-end dynamic time warping of the
frames seen since the reset onto the template's beginning, one frame at a time: ``cost[j]`` is
the least total cost of a path that matches the frames ``0..t`` to template frames ending at
``j``, each frame advancing the template by 0 to ``K`` frames (the model's ``alignment.max_step``;
``cost_t[j] = c(t, j) + min(cost_{t-1}[j-k], k = 0..K)``, the path starting at ``j = 0`` on the
first frame). Every path has exactly one term per frame, so the open end ``j*(t) = argmin_j
cost_t[j]`` compares paths of the same length: the template frame the current frame matches.
O(template frames x K) per frame per template, compiled.

The frame cost is size-free: the frame relative to the gesture's start, ``x_t - x_0``, is
divided by the root mean square of ``x_i - x_0`` over the frames since the reset (all inputs
at once), and template frame ``j`` (already relative to its start) by the root mean square of
the template's frames ``0..j``; ``c(t, j)`` is the squared distance between the two. If the
frames are the template's beginning made ``s`` times bigger (one ``s`` for all inputs) at any
steady speed, both sides are the same and the cost does not depend on ``s``. Both roots are
floored at the model's ``alignment.floor`` (:data:`FLOOR` in older files) times the template's
own root mean square (squares added), so the first frames, where nothing has moved yet, do
not divide by zero.

- **speed**: with ``alignment.speed="chord"`` (the default) ``j*`` over the frames
  since the reset (template frames per frame); with ``"slope"`` the least-squares slope of
  ``j*`` against the frame index, over the frames since the reset (``estimates.speed_window`` 0) or
  with an exponential forgetting of ``1 / estimates.speed_window`` per frame, times the template's
  ``speed_factors_`` (the class's reference template's frames), kept in the particles' bounds.
  Before two frames: 1.
- **scale**: the least-squares scale of ``x_t - x_0`` on the aligned template frame
  ``y[j*(t)]``, per input (or one for all, ``uniform_scale``), sums forgotten by ``1 /
  estimates.scale_window`` per frame (0: since the reset), pulled towards the particles' scale by
  ``SCALE_FIT_PRIOR`` times the model's ``alignment.scale_prior``, times ``scale_factors_``; the
  pull's target is the particles' scale (``alignment.scale_target="particles"``, and in files saved
  before that setting existed) or, with ``"amplitude"``, each input's amplitude ratio: the root
  mean square of ``x_i - x_0`` over the frames since the reset over that of the template's
  frames up to ``j*`` (:func:`amplitude_targets`), which is the scale early in a gesture, where
  the least-squares sums are small.

A class reports the template of its own with the least cost at the open end. The particles,
progress, rotation and class posterior are untouched. With ``estimates.speed="align_open"`` the
open-begin alignment (:mod:`gvf_align_open`) reads the speed beside this one.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit

from .._stream_memo import shared
from ._kernels import FACTOR_MAX, FACTOR_MIN
from .align_open import EDGE, MarginRule, OpenAlign, since_reset_until_restart

_JIT = {"cache": True, "nogil": True, "fastmath": False}

#: The most template frames one frame may advance the alignment (slopes 0 to this) in files
#: saved before ``alignment.max_step`` existed.
LEGACY_MAX_STEP = 4
#: The size normalisation's floor, as a fraction of the template's root mean square, in
#: files saved before ``alignment.floor`` existed.
FLOOR = 0.1

#: The model's templates the since-reset alignment reads (read only): their frames stacked
#: (``templates``, T x D) and each divided by its prefix's root mean square (``normed``), each
#: template's start (``offsets``, n_templates + 1), its class's (``class_offsets``, C + 1),
#: its floor squared (``floor2``), speed factor (``speed_factors``, n_templates) and scale
#: factors (``scale_factors``, n_templates x D).
AlignTemplates = namedtuple("AlignTemplates", (
    "templates", "normed", "offsets", "class_offsets", "floor2", "speed_factors",
    "scale_factors"))
#: A stream's settings of the since-reset speed: the slope's forgetting per frame
#: (``speed_keep``), ``alignment.max_step`` and the chord (``alignment.speed="chord"``).
AlignSettings = namedtuple("AlignSettings", ("speed_keep", "max_step", "chord"))
#: A stream's since-reset alignment, updated: the first frame since the reset (``x0``, D),
#: each cell's path cost (``cost``, T), each template's open end, least cost and slope's sums
#: (``pos``, ``best`` (n_templates,), ``sums`` (n_templates, 5)), each class's template of
#: least cost and speed (``best_of``, ``speed`` (C,)), and each template's scale sums
#: (``sxy``, ``syy`` (n_templates, D)).
AlignPaths = namedtuple("AlignPaths", (
    "x0", "cost", "pos", "best", "best_of", "sums", "speed", "sxy", "syy"))
#: Work arrays (T,): the frame's new costs and the sliding minimum's queue.
AlignScratch = namedtuple("AlignScratch", ("new", "queue"))


@njit(**_JIT)
def running_energy(z, x0, energy, t):
    """The running mean, over the ``t + 1`` frames since the reset, of the squared distance
    per input from the first frame; a frame that would make it infinite (a sensor's absurd
    value) leaves it as it was, without a floating-point warning from the real-time step."""
    s = 0.0
    for i in range(z.shape[0]):
        d = z[i] - x0[i]
        s += d * d
    new = energy + (s / z.shape[0] - energy) / (t + 1)
    return new if math.isfinite(new) else energy


@njit(**_JIT)
def input_energy(z, x0, energy, t):
    """Each input's running mean of ``(z - x0)**2`` over the ``t + 1`` frames since the
    reset, in place; a frame that would make one infinite leaves them all as they were."""
    for i in range(z.shape[0]):
        d = z[i] - x0[i]
        if not math.isfinite(energy[i] + (d * d - energy[i]) / (t + 1)):
            return
    for i in range(z.shape[0]):
        d = z[i] - x0[i]
        energy[i] += (d * d - energy[i]) / (t + 1)


@njit(**_JIT)
def align_step(z, t, energy, templates, settings, paths, scratch):
    """One frame of every template's open-end alignment; writes each class's speed.

    ``z`` (D,) frame, ``t`` the frame's index since the reset (0 first), ``energy`` the mean
    over the frames so far (this one included) of ``|z - x0|^2 / D``. The arrays come in four
    named tuples, by job: ``templates`` (:data:`AlignTemplates`, read only), ``settings``
    (:data:`AlignSettings`), ``paths`` (:data:`AlignPaths`, updated) and ``scratch``
    (:data:`AlignScratch`).

    ``x0`` (D,) the first frame since the reset, ``normed`` (T, D) the templates' frames
    divided by their prefixes' root mean square (floored), ``floor2`` (n_templates,) each
    floor squared, ``cost``/``new`` (T,) the paths' costs (``new`` a buffer), ``pos``
    (n_templates,) out: each template's open end ``j*``, ``sums`` (n_templates, 5) the slope's
    sums about the current frame (weight, frame, position, frame^2, frame x position)
    forgotten by ``speed_keep``; ``speed`` (C,) out: each class's speed (its best
    template's), ``best`` (n_templates,) out: each template's least cost, ``best_of`` (C,)
    out: each class's template of least cost; ``max_step`` the most template frames one
    frame advances a path; ``chord``: the speed is the open end over the frames since the
    reset (``alignment.speed="chord"``), else the least-squares slope of the open ends.
    ``queue`` (T,) a buffer: the least of the ``max_step + 1`` costs before a cell is a
    sliding minimum (its queue's values increase from the front), so a frame's cost does not
    grow with ``max_step``."""
    x0, normed, offsets, floor2 = paths.x0, templates.normed, templates.offsets, templates.floor2
    cost, new, queue, pos, best = paths.cost, scratch.new, scratch.queue, paths.pos, paths.best
    sums, speed_keep, max_step = paths.sums, settings.speed_keep, settings.max_step
    d = z.shape[0]
    n_t = offsets.shape[0] - 1
    for m in range(n_t):
        a, b = offsets[m], offsets[m + 1]
        inv = 1.0 / math.sqrt(energy + floor2[m])
        lo = math.inf
        arg = 0
        head, tail = 0, 0
        for j in range(b - a):
            c = 0.0
            for q in range(d):
                e = (z[q] - x0[q]) * inv - normed[a + j, q]
                c += e * e
            if t == 0:
                prev = 0.0 if j == 0 else math.inf
            else:  # the least of cost[a + j - max_step .. a + j]
                v = cost[a + j]
                while tail > head and cost[queue[tail - 1]] >= v:
                    tail -= 1
                queue[tail] = a + j
                tail += 1
                if queue[head] < a + j - max_step:
                    head += 1
                prev = cost[queue[head]]
            v = prev + c
            new[a + j] = v
            if v < lo:
                lo = v
                arg = j
        for j in range(b - a):
            cost[a + j] = new[a + j]
        pos[m] = arg
        best[m] = lo
        s = sums[m]
        if t == 0:
            s[:] = 0.0
        # about the current frame (u = 0 now, the earlier frames one further back)
        s[4] = speed_keep * (s[4] - s[2])
        s[3] = speed_keep * (s[3] - 2.0 * s[1] + s[0])
        s[1] = speed_keep * (s[1] - s[0])
        s[2] = speed_keep * s[2] + arg
        s[0] = speed_keep * s[0] + 1.0
    class_offsets, best_of, speed_out = templates.class_offsets, paths.best_of, paths.speed
    speed_factors = templates.speed_factors
    for k in range(class_offsets.shape[0] - 1):
        m = class_offsets[k]  # the class's template of least cost at its open end
        for r in range(class_offsets[k] + 1, class_offsets[k + 1]):
            if best[r] < best[m]:
                m = r
        best_of[k] = m
        s = sums[m]
        den = s[0] * s[3] - s[1] * s[1]
        if settings.chord and t > 0:
            speed_out[k] = min(max(pos[m] / t * speed_factors[m], FACTOR_MIN), FACTOR_MAX)
        elif t > 0 and den > 1e-12 * s[0] * s[3]:
            slope = (s[0] * s[4] - s[1] * s[2]) / den
            speed_out[k] = min(max(slope * speed_factors[m], FACTOR_MIN), FACTOR_MAX)
        else:
            speed_out[k] = 1.0


@njit(**_JIT)
def align_scale(z, t, templates, paths, keep, prior, uniform, base, out, add):
    """Each template's least-squares scale of ``z - x0`` on its aligned frame
    ``templates[offsets[m] + pos[m]]`` (sums ``sxy``/``syy`` (n_templates, D) forgotten by
    ``keep``; with ``add`` False the sums stay as they are: a skipped frame), and each class's from
    its best template ``best_of`` (C,), pulled towards ``base`` (C, D; the particles' scale, the
    class's reference units) by ``prior``, per input or one for all (``uniform``), kept in the
    particles' bounds; writes ``out`` (C, D; it may be ``base``). ``templates``
    (:data:`AlignTemplates`) and ``paths`` (:data:`AlignPaths`: ``x0``, ``pos``, ``best_of``
    read, the sums updated) are :func:`align_step`'s."""
    x0, frames, offsets, pos = paths.x0, templates.templates, templates.offsets, paths.pos
    sxy, syy, scale_factors = paths.sxy, paths.syy, templates.scale_factors
    class_offsets, best_of = templates.class_offsets, paths.best_of
    d = z.shape[0]
    n_t = offsets.shape[0] - 1
    for m in range(n_t if add else 0):
        row = offsets[m] + pos[m]
        for j in range(d):
            if t == 0:
                sxy[m, j] = 0.0
                syy[m, j] = 0.0
            y = frames[row, j]
            sxy[m, j] = keep * sxy[m, j] + (z[j] - x0[j]) * y
            syy[m, j] = keep * syy[m, j] + y * y
    for k in range(class_offsets.shape[0] - 1):
        m = best_of[k]
        num = 0.0
        den = 0.0
        for j in range(d):
            f = scale_factors[m, j]
            own = base[k, j] / f  # the prior in the template's own units
            if uniform:
                num += sxy[m, j] + prior * own / d
                den += syy[m, j] + prior / d
            else:
                s = (sxy[m, j] + prior * own) / (syy[m, j] + prior)
                out[k, j] = _a_size(s * f, base[k, j])
        if uniform:
            for j in range(d):
                b = base[k, j]
                out[k, j] = _a_size(num / den * scale_factors[m, j], b)


@njit(**_JIT)
def _a_size(s, base):
    """A scale as reported: at or below 0 (the frames move against the alignment) the
    particles' ``base`` stands; else kept in the particles' bounds."""
    if not s > 0.0:
        return base
    return min(max(s, FACTOR_MIN), FACTOR_MAX)


@njit(**_JIT)
def amplitude_targets(energy, prefix, offsets, pos, best_of, scale_factors, scales, out):
    """Each class's amplitude ratio per input, in its reference units (``out`` (C, D)):
    ``sqrt(energy / prefix[offsets[m] + pos[m]]) * scale_factors[m]`` for its template of
    least cost ``m = best_of[k]``; ``energy`` (D,) the mean of ``(x_i - x_0)**2`` since the
    reset, ``prefix`` (T, D) the mean of each template's squared frames up to each. Where the
    template has not moved yet on an input the particles' scale (``scales``) stands."""
    for k in range(best_of.shape[0]):
        m = best_of[k]
        row = offsets[m] + pos[m]
        for j in range(energy.shape[0]):
            p = prefix[row, j]
            r = math.sqrt(energy[j] / p) * scale_factors[m, j] if p > 1e-12 else 0.0
            out[k, j] = r if r > 0.0 and math.isfinite(r) else scales[k, j]


def prefix_energies(templates: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(T, D) each template frame's mean squared value per input over its template's frames
    up to it."""
    out = np.empty_like(templates)
    for m in range(len(offsets) - 1):
        y = templates[offsets[m]:offsets[m + 1]]
        out[offsets[m]:offsets[m + 1]] = np.cumsum(y**2, axis=0) / np.arange(1, len(y) + 1)[:, None]
    return np.ascontiguousarray(out)


#: The least floor squared, in the templates' units (standardised by default): a template
#: whose frames all equal its first one would otherwise divide by zero.
STILL_FLOOR2 = 1e-12


def normed_templates(templates: np.ndarray, offsets: np.ndarray,
                     floor: float = FLOOR) -> tuple[np.ndarray, np.ndarray]:
    """Each template frame divided by the root mean square (all inputs) of its template's
    frames up to it, floored at ``floor`` times the template's own (squares added); and
    each template's floor squared."""
    d = templates.shape[1]
    normed = np.empty_like(templates)
    floor2 = np.empty(len(offsets) - 1)
    for m in range(len(offsets) - 1):
        y = templates[offsets[m]:offsets[m + 1]]
        sq = (y**2).sum(axis=1) / d
        # a template that never leaves its first frame (a still take) has no size: a tiny
        # floor keeps its frames and the stream's first frames finite (0, not 0 / 0)
        floor2[m] = max(floor**2 * float(sq.mean()), STILL_FLOOR2)
        prefix = np.cumsum(sq) / np.arange(1, len(y) + 1)
        normed[offsets[m]:offsets[m + 1]] = y / np.sqrt(prefix + floor2[m])[:, None]
    return np.ascontiguousarray(normed), floor2


def align_estimate(model) -> AlignEstimate | None:
    """The stream's alignments for ``model.estimates`` (None: neither its speed nor its scale
    reads one)."""
    est = model.estimates
    if est.speed in ("align", "align_open") or est.scale == "align":
        return AlignEstimate(model)
    return None


class AlignEstimate:
    """A GVF stream's alignment speed and/or scale (``update`` then ``fit_scales`` each
    frame), with the open-begin alignment's speed for ``estimates.speed="align_open"``."""

    def __init__(self, model) -> None:
        est, al = model.estimates, model.alignment
        self._speed_on = est.speed == "align"
        self._scale_on = est.scale == "align"
        self._templates = model.templates_
        self._offsets = model.offsets_
        self._class_offsets = model.class_offsets_
        self._speed_factors = model.speed_factors_
        self._scale_factors = model.scale_factors_
        floor = float(al.floor)  # (once per model and floor: _stream_memo)
        self._normed, self._floor2 = shared(
            model, "normed_templates", (model.templates_, model.offsets_, floor),
            lambda: normed_templates(model.templates_, model.offsets_, floor))
        self._skipped = False
        self._prior = float(al.scale_prior)
        self._amplitude = al.scale_target == "amplitude" and self._scale_on
        if self._amplitude:
            self._prefix = shared(model, "prefix_energies", (model.templates_, model.offsets_),
                                  lambda: prefix_energies(model.templates_, model.offsets_))
            self._input_energy = np.zeros(model.templates_.shape[1])
            self._target = np.zeros((len(model.class_offsets_) - 1, model.templates_.shape[1]))
        self.max_step = int(al.max_step)
        self.chord = al.speed == "chord"
        window = float(est.speed_window)
        self._speed_keep = 1.0 - 1.0 / window if window > 0 else 1.0
        n_t, d = len(model.offsets_) - 1, model.templates_.shape[1]
        c = len(model.class_offsets_) - 1
        self._cost = np.zeros(len(model.templates_))
        self._new = np.zeros(len(model.templates_))
        self._queue = np.zeros(len(model.templates_), dtype=np.int64)
        self._pos = np.zeros(n_t, dtype=np.int64)
        self._best = np.zeros(n_t)
        self._sums = np.zeros((n_t, 5))
        self._sxy = np.zeros((n_t, d))
        self._syy = np.zeros((n_t, d))
        self._x0 = np.zeros(d)
        self._best_of = np.zeros(c, dtype=np.int64)
        self.speed = np.ones(c)
        self._align_speed = np.ones(c)
        # estimates.speed="align_open": the open-begin alignment's speed (gvf_align_open)
        self._open = OpenAlign(model, self) if est.speed == "align_open" else None
        # alignment.reset_margin (connected rule only): the since-reset speed until a restart
        margin = al.reset_margin
        self._margin = (float(margin) if margin is not None and self._open is not None
                        and est.speed == "align_open"
                        and float(al.null_cost) > 0.0 else None)
        # alignment.margin_speed: the margin over the since-reset winner's speed to this power
        self._margin_speed = float(al.margin_speed)
        self._latched = np.zeros(c, dtype=np.bool_)
        self._held = np.ones(c)
        # the since-reset alignment runs only for an estimate that reads it
        self._since_reset = self._speed_on or self._scale_on or self._margin is not None
        # the kernels' arrays, by job (the same arrays: the names above stay valid)
        self._k_templates = AlignTemplates(
            self._templates, self._normed, self._offsets, self._class_offsets, self._floor2,
            self._speed_factors, self._scale_factors)
        self._k_settings = AlignSettings(self._speed_keep, self.max_step, self.chord)
        self._k_paths = AlignPaths(self._x0, self._cost, self._pos, self._best, self._best_of,
                                   self._sums, self._align_speed, self._sxy, self._syy)
        self._k_scratch = AlignScratch(self._new, self._queue)
        self._k_rule = (MarginRule(EDGE, self._open.switch_cost, self._margin,
                                   self._margin_speed) if self._margin is not None else None)
        self.reset()

    def reset(self) -> None:
        """Forget the frames seen: the next frame starts every alignment again."""
        self._t = 0
        self._energy = 0.0
        self.speed[:] = 1.0
        if self._open is not None:
            self._open.reset()
        self._latched[:] = False
        self._held[:] = 1.0

    def update(self, z: np.ndarray, out: np.ndarray, absurd: bool = False) -> None:
        """Follow the standardised frame ``z``; writes the classes' speeds into ``out`` (C,):
        the alignment's, or (the particles' speed) leaves it. An ``absurd`` frame (the
        stream's ``_absurd.is_absurd``) is skipped by both alignments, as if it had not come:
        their speed stays the last one."""
        self._skipped = absurd
        if absurd:
            if self._speed_on or self._open is not None:
                out[:] = self.speed
            return
        if self._since_reset:
            if self._t == 0:
                self._x0[:] = z
            self._energy = running_energy(z, self._x0, self._energy, self._t)
            if self._amplitude:
                input_energy(z, self._x0, self._input_energy, self._t)
            align_step(z, self._t, self._energy, self._k_templates, self._k_settings,
                       self._k_paths, self._k_scratch)
        self._t += 1
        if self._speed_on:
            out[:] = self._align_speed
            self.speed[:] = self._align_speed
        elif self._open is not None:
            self._open.update(z, out)
            if self._k_rule is not None:
                since_reset_until_restart(self._k_templates, self._k_paths,
                                          self._open._k_paths, self._k_rule, self._latched,
                                          self._held, out)
            self.speed[:] = out

    def fit_scales(self, z: np.ndarray, keep: float, prior: float, uniform: bool,
                   scales: np.ndarray) -> None:
        """After :meth:`update` of the frame ``z``: the classes' scales along the alignment
        (``estimates.scale="align"``), pulled towards ``scales`` (C, D), which they
        replace."""
        if self._scale_on and self._t > 0:  # (before any frame: the particles' scale)
            # a skipped frame: the scale from the sums as they were, about today's particles
            base = scales
            if self._amplitude:
                amplitude_targets(self._input_energy, self._prefix, self._offsets, self._pos,
                                  self._best_of, self._scale_factors, scales, self._target)
                base = self._target
            align_scale(z, self._t - 1, self._k_templates, self._k_paths, keep,
                        prior * self._prior, uniform, base, scales, not self._skipped)
