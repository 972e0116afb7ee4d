"""GVF's speed read from a time warp (``GVF(estimates=GVF.Estimates(speed=...))``).

The particles' speed is a random walk that lags and wanders; an HHMM's time warp (the
expected place in a class's left-right states, in the training takes' frames, over the frames
seen since the reset: ``gm.HHMM(estimate_speed=True)``) follows the tempo better, but its
Gaussians are not size-invariant, so a performance twice as big lands in the wrong states.
GVF already knows the size: each class's ``scale`` estimate. So:

- ``"sampled"``: the particles' weighted mean speed (the filter's variable).
- ``"warp"``: per class, a forward pass of that class's HMM (from the GVF's recognizer HHMM,
  its states, Gaussians and transitions, deltas as it was trained) over the standardised
  frames; the speed is the time warp above.
- ``"warp_rescaled"``: the same, but class ``k``'s forward pass is fed
  ``start + (z - start) / scale_k``: the frame brought back to the template's size about the
  first frame after the reset (where GVF's scale acts too), with the class's current scale
  estimate (causal: the estimate after this frame's particle step). Each class has its own
  pass because each has its own scale; a class's pass runs only its own states, so the whole
  costs one HHMM forward step (C classes x N states), not C.

The passes are isolated per class (no hierarchical exits between classes: the speed of a
class is read given that class); the delta part of the HHMM's frame is the difference of the
class's rescaled frames; a class without order (ergodic) reads 1. The particles, progress,
scale, rotation and class posterior are untouched.

``estimates.speed_window`` = 0 (the default, chosen by gvf_eval's CV): the average speed since the
reset, relative to the class's training takes (the HHMM's durations), like the HHMM's own
``speed``: it suits one gesture per reset; it decays while a performer holds the end and does not
restart for a next gesture without a reset. ``estimates.speed_window`` > 0, the *local* warp: the
advance of the expected position over the frames counted, both forgotten by ``1 /
estimates.speed_window`` per counted frame; the frames in the last state stop counting once they
exceed its expected stay at the current speed (a held end keeps its speed); the last state goes back
to the first with probability :data:`WRAP`, and a pass that has been in its last state and is back
in its first starts the class's sums (and its rescaling anchor) again; the speed is relative to the
class's reference template (the particles' reference) and kept in [1/20, 20]. Measured on HAPT: it
keeps a held end and reads a second gesture where its pass comes back to its first state, but its CV
score is below 0's.

``estimates.speed_states`` = 0: the warp runs the recognizer HHMM (``recognizer.states`` states per
class, as many as suit recognition; the warp then needs ``recognizer.weight`` > 0 at fit).
``estimates.speed_states`` > 0 (default 10, chosen by gvf_eval's cross-validation on HAPT's training
subjects, as ``estimates.scale="warp_fitted"``): ``GVF.fit`` also trains an HHMM of its own for the
warp, with that many left-right states per class (the HHMM's other defaults, the same standardised
takes as the recognizer; saved with the model), and the warp runs it; the recognizer, if any, is
left to the class. More states place the expected position more finely (a posterior that sits on one
state for a fifth of the gesture reads a speed that steps by a state's width).

``Estimates(scale="warp_fitted")``: the class's scale by least squares along the warp's alignment
(:func:`warp_scale`): the frames relative to the gesture's start regressed on the pass's expected
mean frame (its posterior over the states times their Gaussian means) relative to the one at the
first frame, forgotten by ``1 / estimates.scale_window`` per frame and pulled towards the particles'
``"fitted"`` scale (``SCALE_FIT_PRIOR``), which the rescaled warp uses to bring the frame back to
the template's size (so the reported scale does not feed back into the alignment). With the
particles' speed (``estimates.speed="sampled"``) the rescaled warp runs for the scale alone. With a
local warp (``estimates.speed_window`` > 0) the fit is still about the first frame since the reset.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ...data import Dataset
from ...errors import GesturemapError
from .._kernels import density
from ..base import Cancel
from ..hhmm import HHMM
from ._kernels import FACTOR_MAX, FACTOR_MIN
from .params import (  # noqa: F401 - their home before
    ALIGN_MAX_STEP_LIMIT,
    ALIGN_SCALE_TARGETS,
    ALIGN_SPEEDS,
    SPEED_ESTIMATES,
)
from .recognizer import fit_hhmm

_JIT = {"cache": True, "nogil": True, "fastmath": False}

#: Saved arrays of the warp's own HHMM (``estimates.speed_states`` > 0) carry this prefix.
SPEED_HHMM_PREFIX = "speed_hhmm_"

#: per frame, the probability that a local warp's pass goes from its last state back to its
#: first (a new gesture without a reset)
WRAP = 1e-3


@njit(**_JIT)
def warp_step(z, start, scales, rescale, first, deltas, n_states, n_comp, weights, means_in,  # noqa: C901, PLR0915 - a numba kernel: one pass kept whole, as a call per piece costs per frame
              linv_in, lognorm_in, trans, prior, state_frames, seen, prev, frame, emis, front,
              alpha, speed, local, keep, wrap, unit, last_stay, acc, where_out):
    """One frame of every class's own forward pass; writes each class's time-warp speed.

    ``z`` (D,) standardised frame, ``start`` (C, D) each class's gesture start (the first
    frame since the reset or, with ``local``, since its pass began a new gesture), ``scales``
    (C, D) the classes' scale estimates (used when ``rescale``), ``first``: this is the first
    frame since the reset. ``prev`` (C, D) each class's previous (rescaled) frame, ``frame``
    (D or 2D,) a buffer, ``emis``/``front`` (N,) buffers, ``alpha`` (C, N) forward variables
    (normalised per class), ``speed`` (C,) out (a class with no mass keeps its value).
    Without ``local``: the expected position over the ``seen`` frames. With it, per class
    ``acc`` (C, 4): the expected position's advance since the gesture began and the frames
    counted since (both forgotten by ``keep`` per counted frame; a frame counts by the mass
    outside the last state: a held end stops the clock), the last frame's expected position,
    and whether the pass has reached its last state (then re-entering the first state begins
    a new gesture: as a reset, for that class). ``unit`` (C,) converts the HHMM's frames to
    the reference template's. ``where_out`` (C, D): each class's expected mean frame under
    its pass's posterior (the states' Gaussian means, frame part), unchanged for a class
    with no mass."""
    c = alpha.shape[0]
    d = z.shape[0]
    frames = max(seen, 1)
    for k in range(c):
        for j in range(d):
            v = z[j]
            if rescale:
                v = start[k, j] + (z[j] - start[k, j]) / scales[k, j]
            frame[j] = v
            if deltas:
                frame[d + j] = 0.0 if first else v - prev[k, j]
            prev[k, j] = v
        n = n_states[k]
        for i in range(n):
            s = 0.0
            for m in range(n_comp[k]):
                s += weights[k, i, m] * density(frame, means_in[k, i, m], linv_in[k, i, m],
                                                lognorm_in[k, i, m])
            emis[i] = s
        total = 0.0
        last = n - 1
        if not first:
            for j in range(n):
                a = 0.0
                for i in range(n):
                    a += alpha[k, i] * trans[k, i, j]
                if local and n > 1:  # the last state's way back to the first (wrap)
                    if j == 0:
                        a += wrap * alpha[k, last]
                    elif j == last:
                        a -= wrap * alpha[k, last]
                front[j] = a * emis[j]
                total += front[j]
        again = first or not (total > 0.0 and math.isfinite(total))
        if again:
            total = 0.0  # the first frame, or every state vanished: start again here
            for j in range(n):
                front[j] = prior[k, j] * emis[j]
                total += front[j]
        if not (total > 0.0 and math.isfinite(total)):
            continue
        where = 0.0
        ordered = True
        for j in range(d):
            where_out[k, j] = 0.0
        for j in range(n):
            alpha[k, j] = front[j] / total
            for m in range(n_comp[k]):
                a = alpha[k, j] * weights[k, j, m]
                for q in range(d):
                    where_out[k, q] += a * means_in[k, j, m, q]
            pos = state_frames[k, j]
            if pos != pos:  # NaN: an ergodic class has no order
                ordered = False
            else:
                where += alpha[k, j] * pos
        if not ordered:
            speed[k] = 1.0
            continue
        if not local:
            speed[k] = where / frames
            continue
        if n > 1 and not again and acc[k, 3] > 0.0 and alpha[k, 0] > 0.5:
            again = True  # back in the first state after the last: a new gesture
            for j in range(d):
                start[k, j] = z[j]
        if again:
            acc[k, 0] = where
            acc[k, 1] = 1.0
            acc[k, 3] = 0.0
            acc[k, 4] = 0.0
        else:
            run = 1.0
            if n > 1:  # frames in the last state; past its stay at this speed, a held end
                acc[k, 4] = alpha[k, last] * (acc[k, 4] + 1.0)
                if acc[k, 4] * acc[k, 0] >= last_stay[k] * acc[k, 1]:
                    run = 1.0 - alpha[k, last]
            kept = 1.0 - run * (1.0 - keep)
            # (a pass that steps back more than it kept of its advance: none left)
            acc[k, 0] = max(kept * acc[k, 0] + where - acc[k, 2], 0.0)
            acc[k, 1] = kept * acc[k, 1] + run
        if n > 1 and alpha[k, last] > 0.5:
            acc[k, 3] = 1.0
        acc[k, 2] = where
        # within the particles' speeds, [1/20, 20]
        speed[k] = min(max(unit[k] * acc[k, 0] / acc[k, 1], 0.05), 20.0)


@njit(**_JIT)
def _a_size(s, base):
    """A fitted scale ``s`` as reported: at or below 0 (the frames move against the class's
    alignment: a class whose HHMM blends variants, a class not being performed) it says
    nothing of a size and the particles' ``base`` stands; else it is kept in the particles'
    bounds."""
    if not s > 0.0:
        return base
    return min(max(s, FACTOR_MIN), FACTOR_MAX)


@njit(**_JIT)
def warp_scale(z, start, where, where_start, first, keep, prior, uniform, sxy, syy, base,
               out, add):
    """Each class's least-squares scale along its warp's alignment: the frames relative to
    the gesture's start (``z - start``) regressed on the pass's expected mean frame relative
    to its own at the first frame (``where - where_start``, set here when ``first``), sums
    ``sxy``/``syy`` (C, D) forgotten by ``keep`` per frame, pulled towards ``base`` (C, D,
    the particles' estimate) by ``prior``; per input, or one for all with ``uniform``; a size
    (:func:`_a_size`). Writes ``out`` (C, D; it may be ``base``: each input's base is read
    before its value is written). With ``add`` False the sums stay as they are (a skipped
    frame)."""
    c, d = sxy.shape
    for k in range(c):
        num = 0.0
        den = 0.0
        for j in range(d):
            if first:
                where_start[k, j] = where[k, j]
                sxy[k, j] = 0.0
                syy[k, j] = 0.0
            if add:
                y = where[k, j] - where_start[k, j]
                sxy[k, j] = keep * sxy[k, j] + (z[j] - start[k, j]) * y
                syy[k, j] = keep * syy[k, j] + y * y
            b = base[k, j]
            if uniform:
                num += sxy[k, j] + prior * b / d
                den += syy[k, j] + prior / d
            elif syy[k, j] + prior > 0.0:
                out[k, j] = _a_size((sxy[k, j] + prior * b) / (syy[k, j] + prior), b)
            else:  # nothing to fit yet
                out[k, j] = _a_size(b, b)
        if uniform:
            for j in range(d):
                b = base[k, j]
                out[k, j] = _a_size(num / den if den > 0.0 else b, b)


class WarpSpeed:
    """A GVF stream's time-warp speed: per class, its own forward pass of the warp's HMM
    (:func:`warp_hhmm`), on the frame rescaled by the class's scale estimate (``rescale``) or
    not; over the frames since the reset (``window`` 0) or local (``window`` > 0 frames)."""

    def __init__(self, model, rescale: bool, window: float = 0.0) -> None:
        rec = warp_hhmm(model)
        b = rec._bank()
        self._b = b
        self._rescale = bool(rescale)
        self._deltas = bool(rec.deltas)
        if self._deltas and int(getattr(rec, "delta_lag", 1)) != 1:
            # warp_step takes first differences; another lag would not be the HHMM's frames
            raise GesturemapError(
                f"the GVF's time warp runs on an HHMM with delta_lag={rec.delta_lag}, but it "
                "only builds first differences (delta_lag=1): fit the GVF again (its HHMMs "
                "are trained with delta_lag=1) or use estimates__speed='sampled'.")
        frames = rec.state_frames_
        c, nmax = b["trans"].shape[:2]
        d = int(model.input_dim_)
        self._local = window > 0
        self._keep = 1.0 - 1.0 / window if self._local else 1.0
        last = _last_stays(frames, b["n_states"])
        self._unit = reference_units(model, frames, b["n_states"], last)
        self._last_stay = np.nan_to_num(last)
        self._state_frames = np.ascontiguousarray(frames)
        self._acc = np.zeros((c, 5))
        self._start = np.zeros((c, d))
        self._prev = np.zeros((c, d))
        self._frame = np.zeros(2 * d if self._deltas else d)
        self._emis = np.zeros(nmax)
        self._front = np.zeros(nmax)
        self._alpha = np.zeros((c, nmax))
        self.speed = np.ones(c)
        self.where = np.zeros((c, d))  # each class's expected mean frame
        self._where_start = np.zeros((c, d))
        self._sxy = np.zeros((c, d))
        self._syy = np.zeros((c, d))
        self._skipped = False
        self.reset()

    def reset(self) -> None:
        """Forget the frames seen: the next frame starts every class's pass again."""
        self._seen = 0
        self.speed[:] = 1.0

    def update(self, z: np.ndarray, scales: np.ndarray, out: np.ndarray,
               absurd: bool = False) -> None:
        """Follow the standardised frame ``z`` given the classes' ``scales`` (C, D) after this
        frame; writes the speeds into ``out`` (C,). An ``absurd`` frame (the stream's
        ``_absurd.is_absurd``) is skipped, as if it had not come: the speeds stay."""
        self._skipped = absurd
        if absurd:
            out[:] = self.speed
            return
        first = self._seen == 0
        if first:
            self._start[:] = z
        self._seen += 1
        b = self._b
        warp_step(z, self._start, scales, self._rescale, first, self._deltas, b["n_states"],
                  b["n_comp"], b["weights"], b["mean_in"], b["linv_in"], b["lognorm_in"],
                  b["trans"], b["prior"], self._state_frames, self._seen, self._prev,
                  self._frame, self._emis, self._front, self._alpha, self.speed, self._local,
                  self._keep, WRAP, self._unit, self._last_stay, self._acc, self.where)
        out[:] = self.speed

    def fit_scales(self, z: np.ndarray, keep: float, prior: float, uniform: bool,
                   scales: np.ndarray) -> None:
        """After :meth:`update` of the frame ``z``: each class's least-squares scale along
        the warp's alignment (:func:`warp_scale`), pulled towards ``scales`` (C, D), which it
        replaces. After a skipped frame, the scale from the sums as they were (before any
        frame, the particles' stands)."""
        if self._seen == 0:
            return
        warp_scale(z, self._start, self.where, self._where_start,
                   self._seen == 1 and not self._skipped, keep, prior, uniform, self._sxy,
                   self._syy, scales, scales, not self._skipped)


def _last_stays(state_frames: np.ndarray, n_states: np.ndarray) -> np.ndarray:
    """(C,) each class's last state's stay in frames, from the states' midpoints
    (``state_frames_``: the first state starts at 0); NaN for an ergodic class."""
    out = np.full(len(n_states), np.nan)
    for k, n in enumerate(n_states):
        stay = 2.0 * state_frames[k, 0]
        for j in range(1, n):
            stay = 2.0 * (state_frames[k, j] - state_frames[k, j - 1]) - stay
        out[k] = stay
    return out


def reference_units(model, state_frames: np.ndarray, n_states: np.ndarray,
                    last_stays: np.ndarray) -> np.ndarray:
    """(C,) the length of each class's reference template (the one the particles' speed is
    relative to: ``speed_factors_`` times a template's length) over the length of the class's
    gesture in its HHMM (its last state's end, ``state_frames_``); 1 for an ergodic class."""
    lengths = np.diff(model.offsets_) * model.speed_factors_
    unit = np.ones(len(n_states))
    for k, n in enumerate(n_states):
        end = state_frames[k, n - 1] + last_stays[k] / 2.0
        if np.isfinite(end) and end > 0:
            unit[k] = lengths[model.class_offsets_[k]] / end
    return unit


def warp_hhmm(model) -> HHMM:
    """The HHMM the warp runs: the GVF's own for it (``estimates.speed_states`` > 0) or its
    recognizer's (0)."""
    if int(model.estimates.speed_states) > 0:
        return model.speed_hhmm_
    rec = getattr(model, "recognizer_", None)
    if rec is None:
        raise GesturemapError(
            f"the time warp (estimates__speed={model.estimates.speed!r}, estimates__scale="
            f"{model.estimates.scale!r}) reads the GVF's "
            "recognizer HHMM (estimates__speed_states=0), but this GVF was trained without one "
            "(recognizer__weight=0 at fit, or saved before it existed): fit it again with "
            "recognizer__weight > 0 or estimates__speed_states > 0, or use estimates__speed="
            "'sampled' (and an estimates__scale other than 'warp_fitted').")
    return rec


def fit_speed_hhmm(model, standardized: Dataset, cancel: Cancel | None) -> HHMM | None:
    """The warp's own HHMM (``estimates.speed_states`` states per class) on the GVF's standardised
    takes; None at ``estimates.speed_states=0``."""
    n = int(model.estimates.speed_states)
    if n == 0:
        return None
    return fit_hhmm(n, model.likelihood_window, standardized, cancel,
                    f"time-warp HHMM (estimates__speed_states={n}) cannot be trained: {{exc}} "
                    "Lower estimates__speed_states, or set it to 0 to read the warp from the "
                    "recognizer HHMM.")


def warp_speed(model):
    """The stream's time warp for ``model.estimates``' speed and scale (None: neither reads
    one). The scale ``"warp_fitted"`` with the particles' speed runs the
    rescaled warp (its speed unused). Either estimate ``"align"`` (or the speed
    ``"align_open"``, gvf_align_open, or ``"align_anchor"``, gvf_align_anchor): a
    :class:`gvf_align.AlignEstimate`, with the warp beside it if the other reads one."""
    est = model.estimates
    how = est.speed
    warp = how in ("warp", "warp_rescaled") or est.scale == "warp_fitted"
    # (with the alignment's speed, a warp for the scale alone runs since the reset)
    warp = WarpSpeed(model, rescale=how != "warp", window=float(
        est.speed_window) if how[:5] != "align" else 0.0) if warp else None
    if how[:5] == "align" or est.scale == "align":
        from .align import AlignEstimate  # (gvf_align reads this module's neighbours)
        from .align_anchor import AnchoredAlign
        from .align_open import OpenAlign
        opener = {"align_open": OpenAlign, "align_anchor": AnchoredAlign}.get(how)
        return AlignEstimate(model, warp, opener)
    return warp
