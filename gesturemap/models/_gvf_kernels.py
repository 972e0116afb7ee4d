"""Compiled particle-filter step of the Gesture Variation Follower (pure functions over arrays).

A particle is (class, phase, speed, scale (D,), rotation (R,), offset (D,)) with a weight. The
observation model is ``frame ~ N(scale * rot(template(phase)) + offset, tolerance^2 I)``, the
template being relative to its first frame, so scale and rotation act about the gesture's start.
Every random number comes in from the caller (one ``numpy`` generator per stream), so a stream
is reproducible from its seed and two streams never share a random state.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


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
def init_particles(z, n_classes, uniforms, normals, phase_spread, speed_spread, scale_spread,
                   rotation_spread, cls, phase, speed, scale, rot, offset, logw):
    """Spread the particles evenly over the classes, near the start of the gesture, anchored at
    frame ``z``. ``uniforms`` (N,), ``normals`` (N, 2 + D + R)."""
    n = len(phase)
    d = scale.shape[1]
    nr = rot.shape[1]
    for p in range(n):
        cls[p] = p % n_classes
        phase[p] = uniforms[p] * phase_spread
        speed[p] = max(0.05, 1.0 + speed_spread * normals[p, 0])
        s0 = scale_spread * normals[p, 1]
        for j in range(d):
            scale[p, j] = max(0.05, 1.0 + s0 + 0.25 * scale_spread * normals[p, 2 + j])
            offset[p, j] = z[j]
        for r in range(nr):
            rot[p, r] = rotation_spread * normals[p, 2 + d + r]
        logw[p] = -math.log(n)


@njit(cache=True, nogil=True)
def step(z, templates, offsets, lengths, n_classes, normals, uniforms, noise, tolerance,
         resampling_threshold, uniform_scale, spreads, cls, phase, speed, scale, rot, offset,
         logw, new_idx, buf, class_post, class_phase, class_speed, class_scale, class_rot,
         class_loglik):
    """One frame: propagate, weigh, estimate per class, resample if needed.

    ``noise`` = (phase, speed, scale, rotation, offset) standard deviations per frame;
    ``spreads`` = (phase, speed, scale, rotation) spreads of a restarted particle.
    ``normals`` (N, 3 + 2D + R), ``uniforms`` (N + 3,). Returns the likeliest class.
    """
    n = len(phase)
    d = scale.shape[1]
    nr = rot.shape[1]
    tmpl = buf[0]
    rotated = buf[1]
    inv_var = 1.0 / (tolerance * tolerance)
    c_norm = -0.5 * d * math.log(2.0 * math.pi * tolerance * tolerance)
    best = -np.inf
    for p in range(n):
        k = cls[p]
        # a particle past the end of its gesture starts again, on a random class, anchored here
        if phase[p] >= 1.0:
            k = int(uniforms[p] * n_classes)
            if k >= n_classes:
                k = n_classes - 1
            cls[p] = k
            phase[p] = abs(normals[p, 0]) * spreads[0]
            speed[p] = max(0.05, 1.0 + spreads[1] * normals[p, 1])
            s0 = spreads[2] * normals[p, 2]
            for j in range(d):
                scale[p, j] = max(0.05, 1.0 + s0)
                offset[p, j] = z[j]
            for r in range(nr):
                rot[p, r] = spreads[3] * normals[p, 3 + 2 * d + r]
        else:
            phase[p] += speed[p] / lengths[k] + noise[0] * normals[p, 0]
            if phase[p] < 0.0:
                phase[p] = 0.0
            speed[p] = max(0.05, speed[p] + noise[1] * normals[p, 1])
            if uniform_scale:
                s = max(0.05, scale[p, 0] + noise[2] * normals[p, 2])
                for j in range(d):
                    scale[p, j] = s
            else:
                for j in range(d):
                    scale[p, j] = max(0.05, scale[p, j] + noise[2] * normals[p, 3 + j])
            for j in range(d):
                offset[p, j] += noise[4] * normals[p, 3 + d + j]
            for r in range(nr):
                rot[p, r] += noise[3] * normals[p, 3 + 2 * d + r]
        _template_at(templates, offsets, k, min(phase[p], 1.0), d, tmpl)
        for j in range(d):
            tmpl[j] *= scale[p, j]
        _rotate(tmpl, rot[p], d, nr, rotated)
        sq = 0.0
        for j in range(d):
            e = z[j] - rotated[j] - offset[p, j]
            sq += e * e
        logw[p] += c_norm - 0.5 * sq * inv_var
        if logw[p] > best:
            best = logw[p]
    # normalise (log-sum-exp), class posterior and per-class weighted means
    total = 0.0
    for p in range(n):
        w = math.exp(logw[p] - best)
        logw[p] = w  # temporarily the unnormalised weight
        total += w
    log_total = best + math.log(total)
    for c in range(n_classes):
        class_post[c] = 0.0
        class_phase[c] = 0.0
        class_speed[c] = 0.0
        for j in range(d):
            class_scale[c, j] = 0.0
        for r in range(nr):
            class_rot[c, r] = 0.0
    ess_inv = 0.0
    for p in range(n):
        w = logw[p] / total
        logw[p] = w
        ess_inv += w * w
        c = cls[p]
        class_post[c] += w
        class_phase[c] += w * min(phase[p], 1.0)
        class_speed[c] += w * speed[p]
        for j in range(d):
            class_scale[c, j] += w * scale[p, j]
        for r in range(nr):
            class_rot[c, r] += w * rot[p, r]
    top = 0
    for c in range(n_classes):
        pc = class_post[c]
        if pc > 0.0:
            class_phase[c] /= pc
            class_speed[c] /= pc
            for j in range(d):
                class_scale[c, j] /= pc
            for r in range(nr):
                class_rot[c, r] /= pc
            class_loglik[c] = math.log(pc)
        else:
            class_phase[c] = 0.0
            class_speed[c] = 1.0
            for j in range(d):
                class_scale[c, j] = 1.0
            class_loglik[c] = -np.inf
        if pc > class_post[top]:
            top = c
    # log weights again, relative to the frame's evidence (kept bounded)
    for p in range(n):
        logw[p] = math.log(logw[p]) if logw[p] > 0.0 else -1e300
    # systematic resampling when the effective sample size falls under the threshold
    if 1.0 / ess_inv < resampling_threshold * n:
        u0 = uniforms[n] / n
        i = 0
        cum = math.exp(logw[0])
        for p in range(n):
            u = u0 + p / n
            while u > cum and i < n - 1:
                i += 1
                cum += math.exp(logw[i])
            new_idx[p] = i
        _gather(new_idx, cls, phase, speed, scale, rot, offset)
        for p in range(n):
            logw[p] = -math.log(n)
    return top, log_total


@njit(cache=True, nogil=True)
def _gather(idx, cls, phase, speed, scale, rot, offset):
    n = len(idx)
    c2 = cls[idx]
    ph2 = phase[idx]
    sp2 = speed[idx]
    sc2 = scale[idx]
    ro2 = rot[idx]
    of2 = offset[idx]
    for p in range(n):
        cls[p] = c2[p]
        phase[p] = ph2[p]
        speed[p] = sp2[p]
    scale[:] = sc2
    rot[:] = ro2
    offset[:] = of2
