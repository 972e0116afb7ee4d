"""Compiled particle-filter step of the Gesture Variation Follower (pure functions over arrays).

A particle is (class, template, phase, speed, scale (D,), rotation (R,), offset (D,)) with a
weight; a class may have several templates (``class_offsets`` gives each class's range of
template indices) and a particle follows one of its class's. The observation model is
``frame ~ N(scale * rot(template(phase)) + offset, diag(tolerance^2))`` (a tolerance per template
frame and input, read at the frame nearest the phase), the template being relative to its first
frame, so scale and rotation act about the gesture's start; optionally also
``frame ~ N(posture(phase), diag(posture tolerance^2))`` for the absolute posture, raised to a
weight, on the class evidence only or on each particle's weight, and, on the class evidence,
a log-normal of the class's usual speeds. A particle's speed and
scale are relative to its own template; the class estimates convert them to the class's
reference by each template's ``speed_factors`` and ``scale_factors``.
Every random number comes in from the caller (one ``numpy`` generator per stream), so a stream
is reproducible from its seed and two streams never share a random state.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit

#: speeds and scales stay within [1/20, 20].
FACTOR_MIN, FACTOR_MAX = 0.05, 20.0
LOG_FACTOR_BOUND = math.log(FACTOR_MAX)
def tolerance_gaussians(var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse variances and log-normalisers of diagonal Gaussians with variances ``var``
    (one per row)."""
    return (np.ascontiguousarray(1.0 / var),
            np.ascontiguousarray(-0.5 * np.log(2.0 * np.pi * var).sum(axis=1)))


def softmax(log: np.ndarray, out: np.ndarray) -> None:
    """``out`` = the normalised exponential of ``log``, in place (no allocation)."""
    np.subtract(log, log.max(), out=out)
    np.exp(out, out=out)
    out /= out.sum()


@njit(cache=True, nogil=True)
def _template_at(templates, offsets, k, phase, d, out):
    """Linear interpolation of template ``k`` at ``phase`` in [0, 1] into ``out`` (D,)."""
    a, b = offsets[k], offsets[k + 1]
    n = b - a
    if phase <= 0.0:
        for j in range(d):
            out[j] = templates[a, j]
        return
    pos = phase * (n - 1)
    i = int(pos)
    if i >= n - 1:
        for j in range(d):
            out[j] = templates[b - 1, j]
        return
    f = pos - i
    for j in range(d):
        out[j] = (1.0 - f) * templates[a + i, j] + f * templates[a + i + 1, j]


@njit(cache=True, nogil=True)
def _frame_at(offsets, k, phase):
    """Index (into the stacked templates) of template ``k``'s frame nearest ``phase``."""
    n = offsets[k + 1] - offsets[k]
    i = int(min(max(phase, 0.0), 1.0) * (n - 1) + 0.5)
    return offsets[k] + min(i, n - 1)


@njit(cache=True, nogil=True)
def _rotate(v, rot, d, nr, out):
    """Rotate ``v`` by angle ``rot[0]`` (2-D) or rotation vector ``rot`` (3-D, Rodrigues)."""
    if nr == 1:
        c, s = math.cos(rot[0]), math.sin(rot[0])
        out[0] = c * v[0] - s * v[1]
        out[1] = s * v[0] + c * v[1]
        for j in range(2, d):
            out[j] = v[j]
        return
    if nr == 3:
        th = math.sqrt(rot[0] * rot[0] + rot[1] * rot[1] + rot[2] * rot[2])
        if th < 1e-12:
            for j in range(d):
                out[j] = v[j]
            return
        kx, ky, kz = rot[0] / th, rot[1] / th, rot[2] / th
        c, s = math.cos(th), math.sin(th)
        dot = kx * v[0] + ky * v[1] + kz * v[2]
        cx = ky * v[2] - kz * v[1]
        cy = kz * v[0] - kx * v[2]
        cz = kx * v[1] - ky * v[0]
        out[0] = v[0] * c + cx * s + kx * dot * (1.0 - c)
        out[1] = v[1] * c + cy * s + ky * dot * (1.0 - c)
        out[2] = v[2] * c + cz * s + kz * dot * (1.0 - c)
        for j in range(3, d):
            out[j] = v[j]
        return
    for j in range(d):
        out[j] = v[j]


@njit(cache=True, nogil=True)
def _factor(log_value):
    """A speed or scale from its logarithm, kept within [1/20, 20] (their random walks are
    multiplicative, so that x0.5 and x2 are equally far from 1; the bounds keep a long stream
    finite)."""
    return math.exp(min(max(log_value, -LOG_FACTOR_BOUND), LOG_FACTOR_BOUND))


@njit(cache=True, nogil=True)
def _scaled(value, log_step):
    """A speed or scale after a multiplicative step ``exp(log_step)``, within [1/20, 20]."""
    return min(max(value * math.exp(log_step), FACTOR_MIN), FACTOR_MAX)


#: A model's arrays the step reads, shared by its streams: the templates' frames stacked
#: (T, D), each template's start (``offsets``, M + 1), length and class (``class_offsets``,
#: C + 1), speed and scale factors, the Gaussians of the shape and of the absolute posture at
#: each template frame, and the log-normal of each template's class's speeds.
StepModel = namedtuple("StepModel", (
    "templates", "offsets", "lengths", "class_offsets", "speed_factors", "scale_factors",
    "inv_vars", "log_norms", "postures", "posture_inv_vars", "posture_log_norms",
    "speed_means", "speed_inv_vars", "speed_log_norms"))
#: A stream's scalars (and its noise and spread vectors).
StepSettings = namedtuple("StepSettings", (
    "n_classes", "noise", "spreads", "posture_weight", "posture_in_particles", "speed_weight",
    "resampling_threshold", "restart_probability", "uniform_scale", "forgetting", "fit_scale",
    "fit_keep", "fit_prior"))
#: The particles' state (N rows each), and their fitted-scale sums.
Particles = namedtuple("Particles", (
    "cls", "tid", "phase", "speed", "scale", "rot", "offset", "logw", "sxy", "syy"))
#: What a frame gives per class: smoothed and instant log-evidence, progress, speed, scale,
#: rotation.
ClassEstimates = namedtuple("ClassEstimates", ("log", "inst", "phase", "speed", "scale", "rot"))
#: The frame's random numbers and the step's work arrays.
Scratch = namedtuple("Scratch", ("normals", "uniforms", "posture_log", "new_idx", "buf"))


@njit(cache=True, nogil=True)
def init_particles(z, n_classes, class_offsets, uniforms, normals, phase_spread, speed_spread,
                   scale_spread, rotation_spread, cls, tid, phase, speed, scale, rot, offset,
                   logw, class_log):
    """Share the particles evenly among the classes (contiguous blocks) and, within a class,
    among its templates (in turn), near the start of the gesture, anchored at frame ``z``.
    ``uniforms`` (N,), ``normals`` (N, 2 + D + R)."""
    n = len(phase)
    per = n // n_classes
    d = scale.shape[1]
    nr = rot.shape[1]
    for p in range(n):
        c = p // per
        cls[p] = c
        m = class_offsets[c + 1] - class_offsets[c]
        tid[p] = class_offsets[c] + (p - c * per) % m
        phase[p] = uniforms[p] * phase_spread
        speed[p] = _factor(speed_spread * normals[p, 0])
        s0 = scale_spread * normals[p, 1]
        for j in range(d):
            scale[p, j] = _factor(s0 + 0.25 * scale_spread * normals[p, 2 + j])
            offset[p, j] = z[j]
        for r in range(nr):
            rot[p, r] = rotation_spread * normals[p, 2 + d + r]
        logw[p] = -math.log(per)
    for c in range(n_classes):
        class_log[c] = 0.0


@njit(cache=True, nogil=True)
def step(z, model, settings, particles, out, scratch, absurd):  # noqa: C901, PLR0915 - a numba kernel: one pass kept whole, as a call per piece costs per frame
    """One frame: propagate, weigh, estimate per class, resample each class if needed.

    The arrays come in five named tuples, by job: ``model`` (:class:`StepModel`, the model's
    templates and Gaussians, read only), ``settings`` (:class:`StepSettings`, the stream's
    scalars), ``particles`` (:class:`Particles`, their state, updated), ``out``
    (:class:`ClassEstimates`, what the frame gives per class, written) and ``scratch``
    (:class:`Scratch`, the frame's random numbers and work arrays).

    Each class keeps its own block of particles (so each class always has estimates) and its
    own smoothed log-evidence ``class_log``: ``(1 - forgetting) * class_log + log p(frame)``.
    ``noise`` = (phase, speed, scale, rotation, offset) standard deviations per frame;
    ``spreads`` = (phase, speed, scale, rotation) spreads of a restarted particle.
    ``inv_vars`` (T, D) = 1 / tolerance^2 and ``log_norms`` (T,) =
    -0.5 * sum(log(2 pi tolerance^2)): the Gaussian at each template frame (T: all templates'
    frames stacked); ``postures``, ``posture_inv_vars`` (T, D) and ``posture_log_norms`` (T,):
    the absolute posture's Gaussian there. With ``posture_weight`` > 0 its log-density times
    the weight goes into each particle's weight (``posture_in_particles``) or only into the
    class evidence, as the log of its mean over the class's particles (weighted);
    ``posture_log`` (N,) is scratch. With ``speed_weight`` > 0, the class evidence also gains
    that weight times the log-density of the particles' speed (relative to the class) under a
    log-normal of the class's takes' speeds (``speed_means``, ``speed_inv_vars``,
    ``speed_log_norms`` per template, in log units), averaged like the posture's.
    ``normals`` (N, 3 + 2D + R), ``uniforms`` (2N + C,). Writes the frame's log-evidence per
    class into ``class_inst``; ``class_speed`` and ``class_scale`` are relative to the class's
    reference (a particle's own speed and scale times its template's factors).
    With ``fit_scale`` the class's scale is instead each particle's least-squares scale along
    its own path: the frames (minus the particle's offset) regressed on its rotated template
    at the phases it went through, ``sxy / syy`` per input (summed over inputs with
    ``uniform_scale``), each sum forgetting by ``fit_keep`` per frame and pulled towards the
    particle's sampled scale by ``fit_prior`` frames' worth of unit template; ``sxy``,
    ``syy`` (N, D) are the particles' sums (copied with them on resampling, cleared when they
    start again); ``buf`` is (3, D). The particles themselves move and weigh as without it.
    An ``absurd`` frame (``_absurd.is_absurd``: a corrupted value, not a movement) moves the
    particles on but neither weighs them, nor restarts one anchored at it, nor enters the
    fitted sums or the class evidence (its instant evidence is 0 for every class): its
    log-likelihood (about -1e60 at 1e30) would otherwise rule the weights and the evidence
    for as long as they remember.
    """
    (templates, offsets, lengths, class_offsets, speed_factors, scale_factors, inv_vars,
     log_norms, postures, posture_inv_vars, posture_log_norms, speed_means, speed_inv_vars,
     speed_log_norms) = model
    (n_classes, noise, spreads, posture_weight, posture_in_particles, speed_weight,
     resampling_threshold, restart_probability, uniform_scale, forgetting, fit_scale, fit_keep,
     fit_prior) = settings
    cls, tid, phase, speed, scale, rot, offset, logw, sxy, syy = particles
    class_log, class_inst, class_phase, class_speed, class_scale, class_rot = out
    normals, uniforms, posture_log, new_idx, buf = scratch
    n = len(phase)
    per = n // n_classes
    d = scale.shape[1]
    nr = rot.shape[1]
    tmpl = buf[0]
    rotated = buf[1]
    for p in range(n):
        # a particle at the end of its gesture starts again (with probability
        # ``restart_probability`` per frame; meanwhile it holds the final posture), anchored
        # at this frame, on one of its class's templates
        u = uniforms[n + n_classes + p]
        if phase[p] >= 1.0 and u < restart_probability and not absurd:
            c = cls[p]
            m = class_offsets[c + 1] - class_offsets[c]
            tid[p] = class_offsets[c] + min(int(u / restart_probability * m), m - 1)
            phase[p] = abs(normals[p, 0]) * spreads[0]
            speed[p] = _factor(spreads[1] * normals[p, 1])
            s0 = spreads[2] * normals[p, 2]
            for j in range(d):
                scale[p, j] = _factor(s0)
                offset[p, j] = z[j]
            for r in range(nr):
                rot[p, r] = spreads[3] * normals[p, 3 + 2 * d + r]
            if fit_scale:
                for j in range(d):
                    sxy[p, j] = 0.0
                    syy[p, j] = 0.0
        else:
            if phase[p] < 1.0:
                phase[p] += speed[p] / lengths[tid[p]] + noise[0] * normals[p, 0]
                if phase[p] < 0.0:
                    phase[p] = 0.0
            speed[p] = _scaled(speed[p], noise[1] * normals[p, 1])
            if uniform_scale:
                s = _scaled(scale[p, 0], noise[2] * normals[p, 2])
                for j in range(d):
                    scale[p, j] = s
            else:
                for j in range(d):
                    scale[p, j] = _scaled(scale[p, j], noise[2] * normals[p, 3 + j])
            for j in range(d):
                offset[p, j] += noise[4] * normals[p, 3 + d + j]
            for r in range(nr):
                rot[p, r] += noise[3] * normals[p, 3 + 2 * d + r]
        _template_at(templates, offsets, tid[p], min(phase[p], 1.0), d, tmpl)
        if fit_scale and not absurd:
            # the unscaled, rotated template against the frame (relative to the offset)
            plain = buf[2]
            _rotate(tmpl, rot[p], d, nr, plain)
            for j in range(d):
                sxy[p, j] = fit_keep * sxy[p, j] + (z[j] - offset[p, j]) * plain[j]
                syy[p, j] = fit_keep * syy[p, j] + plain[j] * plain[j]
        if absurd:
            continue  # the frame tells nothing: the weights stay as they were
        for j in range(d):
            tmpl[j] *= scale[p, j]
        _rotate(tmpl, rot[p], d, nr, rotated)
        f = _frame_at(offsets, tid[p], phase[p])
        sq = 0.0
        for j in range(d):
            e = z[j] - rotated[j] - offset[p, j]
            sq += e * e * inv_vars[f, j]
        logw[p] += log_norms[f] - 0.5 * sq
        if posture_weight > 0.0:
            sq = 0.0
            for j in range(d):
                e = z[j] - postures[f, j]
                sq += e * e * posture_inv_vars[f, j]
            pl = posture_weight * (posture_log_norms[f] - 0.5 * sq)
            if posture_in_particles:
                logw[p] += pl
            else:
                posture_log[p] = pl
        if speed_weight > 0.0:
            k = tid[p]
            e = math.log(speed[p] * speed_factors[k]) - speed_means[k]
            sl = speed_weight * (speed_log_norms[k] - 0.5 * e * e * speed_inv_vars[k])
            if posture_weight > 0.0 and not posture_in_particles:
                posture_log[p] += sl
            else:
                posture_log[p] = sl
    for c in range(n_classes):
        a = c * per
        b = a + per
        best = -np.inf
        for p in range(a, b):
            if logw[p] > best:
                best = logw[p]
        impossible = not best > -1e300
        if impossible:
            # a frame so far from every particle that no weight is left (an absurd value):
            # the particles keep equal weights, and the frame counts as (nearly) impossible
            for p in range(a, b):
                logw[p] = -math.log(per)
            best = logw[a]
        total = 0.0
        for p in range(a, b):
            total += math.exp(logw[p] - best)
        # weights summed to 1 before the frame: this is log p(frame | class, past frames)
        ev = best + math.log(total)
        norm = ev
        if ((speed_weight > 0.0 or (posture_weight > 0.0 and not posture_in_particles))
                and not impossible and not absurd):
            # the posture's (and speed's) likelihood under the class's (updated) particles
            pbest = -np.inf
            for p in range(a, b):
                if logw[p] + posture_log[p] > pbest:
                    pbest = logw[p] + posture_log[p]
            ptotal = 0.0
            for p in range(a, b):
                ptotal += math.exp(logw[p] + posture_log[p] - pbest)
            if pbest > -1e300:
                ev += pbest + math.log(ptotal) - norm
            else:
                ev = -1e300
        if impossible:
            ev = -1e300
        if absurd:
            ev = 0.0  # no evidence either way: the smoothed evidence stays as it was
        else:
            class_log[c] = (1.0 - forgetting) * class_log[c] + ev
        class_inst[c] = ev
        class_phase[c] = 0.0
        class_speed[c] = 0.0
        for j in range(d):
            class_scale[c, j] = 0.0
        for r in range(nr):
            class_rot[c, r] = 0.0
        ess_inv = 0.0
        for p in range(a, b):
            w = math.exp(logw[p] - norm)
            logw[p] -= norm
            ess_inv += w * w
            k = tid[p]
            class_phase[c] += w * min(phase[p], 1.0)
            class_speed[c] += w * speed[p] * speed_factors[k]
            if fit_scale:
                _add_fitted_scale(c, p, w, k, scale, scale_factors, sxy, syy, fit_prior,
                                  uniform_scale, class_scale)
            else:
                for j in range(d):
                    class_scale[c, j] += w * scale[p, j] * scale_factors[k, j]
            for r in range(nr):
                class_rot[c, r] += w * rot[p, r]
        # systematic resampling of the class's block when its effective size falls too low
        if 1.0 / ess_inv < resampling_threshold * per:
            u0 = uniforms[n + c] / per
            i = a
            cum = math.exp(logw[a])
            for q in range(per):
                u = u0 + q / per
                while u > cum and i < b - 1:
                    i += 1
                    cum += math.exp(logw[i])
                new_idx[a + q] = i
            _gather(new_idx, a, b, tid, phase, speed, scale, rot, offset)
            if fit_scale:
                _gather_rows(new_idx, a, b, sxy)
                _gather_rows(new_idx, a, b, syy)
            for p in range(a, b):
                logw[p] = -math.log(per)
    # keep the smoothed evidences bounded (only their differences matter)
    top = 0
    for c in range(n_classes):
        if class_log[c] > class_log[top]:
            top = c
    m = class_log[top]
    if m < -1e6 or m > 1e6:
        for c in range(n_classes):
            class_log[c] -= m
    return top


@njit(cache=True, nogil=True)
def _add_fitted_scale(c, p, w, k, scale, scale_factors, sxy, syy, prior, uniform_scale,
                      class_scale):
    """Add particle ``p``'s least-squares scale (weight ``w``, converted to its class's
    reference by template ``k``'s factors) to ``class_scale[c]``."""
    d = scale.shape[1]
    if uniform_scale:
        num = prior * scale[p, 0]
        den = prior
        for j in range(d):
            num += sxy[p, j]
            den += syy[p, j]
        s = min(max(num / den, FACTOR_MIN), FACTOR_MAX)
        for j in range(d):
            class_scale[c, j] += w * s * scale_factors[k, j]
    else:
        for j in range(d):
            s = (sxy[p, j] + prior * scale[p, j]) / (syy[p, j] + prior)
            class_scale[c, j] += w * min(max(s, FACTOR_MIN), FACTOR_MAX) * scale_factors[k, j]


@njit(cache=True, nogil=True)
def _gather_rows(idx, a, b, x):
    """Rows ``a..b`` of ``x`` become copies of rows ``idx[a..b]`` (through a temporary)."""
    rows = x[idx[a:b]]
    x[a:b] = rows


@njit(cache=True, nogil=True)
def _gather(idx, a, b, tid, phase, speed, scale, rot, offset):
    """Particles ``a..b`` become copies of particles ``idx[a..b]`` (sorted, within a..b).

    The copies go through temporaries: copied in place, a source could be overwritten before
    it is read. This allocates, but only on the frames a class resamples."""
    te = tid[idx[a:b]]
    ph = phase[idx[a:b]]
    sp = speed[idx[a:b]]
    sc = scale[idx[a:b]]
    ro = rot[idx[a:b]]
    of = offset[idx[a:b]]
    tid[a:b] = te
    phase[a:b] = ph
    speed[a:b] = sp
    scale[a:b] = sc
    rot[a:b] = ro
    offset[a:b] = of
