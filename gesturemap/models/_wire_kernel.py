"""The compiled frame path of a lean HHMM classifier: one call from the received datagram to
the encoded reply (issue 19).

:func:`hhmm_wire_step` decodes a ``/wek/inputs`` datagram (numeric tags ``f``, ``d``, ``i``
only), checks it as the OSC source does, runs :func:`gesturemap.models._filter.hhmm_step` on
the stream's arrays and encodes the two reply datagrams (``/wek/outputs`` then the bundle of
label, likelihoods and progress) from per-class templates into one output buffer. The
stream's arrays are views of three flat buffers (float64, int64, bool) described by a layout
table, so the call unboxes 17 arguments instead of the kernel's 51. With ``deltas``, the layout's
last three rows are the stream's :class:`~gesturemap.models.gmm.DeltaFrames` (its frame, the
previous input, its "first frame" flag).

Return codes: -1 the datagram is not one this path takes (nothing changed: the caller hands
it to the ordinary path), 0 stepped and encoded (``res``: label index, end of the first
datagram, end of the second), 1 stepped but not encoded (below ``reject_below``, a value
beyond float32: the caller sends it the ordinary way from the stream's Result).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import _filter

_JIT = {"cache": True, "nogil": True, "fastmath": False}
#: the OSC source's plausibility bound (gesturemap.sources.base.MAX_ABS_VALUE)
MAX_ABS = 1e12
_F32_MAX = 3.4028234663852886e38


@njit(**_JIT)
def _kernel(x, fb, ib, bb, lay):
    started = ib[lay[0, 0]:lay[0, 0] + lay[0, 1]]
    hierarchical = ib[lay[1, 0]] != 0
    estimator = ib[lay[2, 0]]
    mixture = ib[lay[3, 0]] != 0
    bimodal = ib[lay[4, 0]] != 0
    n_states = ib[lay[5, 0]:lay[5, 0] + lay[5, 1]]
    n_comp = ib[lay[6, 0]:lay[6, 0] + lay[6, 1]]
    left_right = bb[lay[7, 0]:lay[7, 0] + lay[7, 1]]
    weights = fb[lay[8, 0]:lay[8, 0] + lay[8, 1]].reshape((lay[8, 2], lay[8, 3], lay[8, 4]))
    means_in = fb[lay[9, 0]:lay[9, 0] + lay[9, 1]].reshape((lay[9, 2], lay[9, 3], lay[9, 4], lay[9, 5]))
    linv_in = fb[lay[10, 0]:lay[10, 0] + lay[10, 1]].reshape((lay[10, 2], lay[10, 3], lay[10, 4], lay[10, 5], lay[10, 6]))
    lognorm_in = fb[lay[11, 0]:lay[11, 0] + lay[11, 1]].reshape((lay[11, 2], lay[11, 3], lay[11, 4]))
    trans = fb[lay[12, 0]:lay[12, 0] + lay[12, 1]].reshape((lay[12, 2], lay[12, 3], lay[12, 4]))
    class_prior = fb[lay[13, 0]:lay[13, 0] + lay[13, 1]].reshape((lay[13, 2], lay[13, 3]))
    exit_p = fb[lay[14, 0]:lay[14, 0] + lay[14, 1]].reshape((lay[14, 2], lay[14, 3]))
    top_prior = fb[lay[15, 0]:lay[15, 0] + lay[15, 1]]
    top_trans = fb[lay[16, 0]:lay[16, 0] + lay[16, 1]].reshape((lay[16, 2], lay[16, 3]))
    top_exit = fb[lay[17, 0]:lay[17, 0] + lay[17, 1]]
    mean_out = fb[lay[18, 0]:lay[18, 0] + lay[18, 1]].reshape((lay[18, 2], lay[18, 3], lay[18, 4], lay[18, 5]))
    reg_a = fb[lay[19, 0]:lay[19, 0] + lay[19, 1]].reshape((lay[19, 2], lay[19, 3], lay[19, 4], lay[19, 5], lay[19, 6]))
    condcov = fb[lay[20, 0]:lay[20, 0] + lay[20, 1]].reshape((lay[20, 2], lay[20, 3], lay[20, 4], lay[20, 5], lay[20, 6]))
    alpha = fb[lay[21, 0]:lay[21, 0] + lay[21, 1]].reshape((lay[21, 2], lay[21, 3], lay[21, 4]))
    mode = ib[lay[22, 0]]
    keep = fb[lay[23, 0]]
    restart = fb[lay[24, 0]]
    trans_plain = fb[lay[25, 0]:lay[25, 0] + lay[25, 1]].reshape((lay[25, 2], lay[25, 3], lay[25, 4]))
    dalpha = fb[lay[26, 0]:lay[26, 0] + lay[26, 1]].reshape((lay[26, 2], lay[26, 3]))
    dlik = fb[lay[27, 0]:lay[27, 0] + lay[27, 1]]
    acc = fb[lay[28, 0]:lay[28, 0] + lay[28, 1]]
    logbuf = fb[lay[29, 0]:lay[29, 0] + lay[29, 1]].reshape((lay[29, 2], lay[29, 3]))
    counts = ib[lay[30, 0]:lay[30, 0] + lay[30, 1]]
    pos = ib[lay[31, 0]:lay[31, 0] + lay[31, 1]]
    emis = fb[lay[32, 0]:lay[32, 0] + lay[32, 1]].reshape((lay[32, 2], lay[32, 3]))
    compb = fb[lay[33, 0]:lay[33, 0] + lay[33, 1]].reshape((lay[33, 2], lay[33, 3], lay[33, 4]))
    front = fb[lay[34, 0]:lay[34, 0] + lay[34, 1]]
    v1 = fb[lay[35, 0]:lay[35, 0] + lay[35, 1]]
    v2 = fb[lay[36, 0]:lay[36, 0] + lay[36, 1]]
    state_out = fb[lay[37, 0]:lay[37, 0] + lay[37, 1]]
    state_cov = fb[lay[38, 0]:lay[38, 0] + lay[38, 1]].reshape((lay[38, 2], lay[38, 3]))
    inst = fb[lay[39, 0]:lay[39, 0] + lay[39, 1]]
    exit_lik = fb[lay[40, 0]:lay[40, 0] + lay[40, 1]]
    exit_ratio = fb[lay[41, 0]:lay[41, 0] + lay[41, 1]]
    smoothed_log = fb[lay[42, 0]:lay[42, 0] + lay[42, 1]]
    inst_norm = fb[lay[43, 0]:lay[43, 0] + lay[43, 1]]
    smoothed_norm = fb[lay[44, 0]:lay[44, 0] + lay[44, 1]]
    progress = fb[lay[45, 0]:lay[45, 0] + lay[45, 1]]
    likeliest_state = ib[lay[46, 0]:lay[46, 0] + lay[46, 1]]
    class_out = fb[lay[47, 0]:lay[47, 0] + lay[47, 1]].reshape((lay[47, 2], lay[47, 3]))
    class_cov = fb[lay[48, 0]:lay[48, 0] + lay[48, 1]].reshape((lay[48, 2], lay[48, 3], lay[48, 4]))
    out = fb[lay[49, 0]:lay[49, 0] + lay[49, 1]]
    cov = fb[lay[50, 0]:lay[50, 0] + lay[50, 1]].reshape((lay[50, 2], lay[50, 3]))
    return _filter.hhmm_step(
        x, started, hierarchical, estimator, mixture, bimodal, n_states, n_comp, left_right, weights, means_in, linv_in, lognorm_in, trans, class_prior, exit_p, top_prior, top_trans, top_exit, mean_out, reg_a, condcov, alpha, mode, keep, restart, trans_plain, dalpha, dlik, acc, logbuf, counts, pos, emis, compb, front, v1, v2, state_out, state_cov, inst, exit_lik, exit_ratio, smoothed_log, inst_norm, smoothed_norm, progress, likeliest_state, class_out, class_cov, out, cov)

@njit(**_JIT)
def _put_f32(out, at, v, scratch):
    """``v`` as a big-endian float32 at ``out[at]``; False when it overflows float32."""
    f = scratch.view(np.float32)
    f[0] = v
    if math.isinf(f[0]) and not math.isinf(v):
        return False
    u = scratch.view(np.uint8)
    out[at] = u[3]
    out[at + 1] = u[2]
    out[at + 2] = u[1]
    out[at + 3] = u[0]
    return True


@njit(**_JIT)
def hhmm_wire_step(rx, n, addr, dim, x, fb, ib, bb, lay, deltas, lik_at, prog_at, tpl, toff,
                   reject, out, res):
    """One datagram ``rx[:n]`` through the stream to the reply in ``out`` (see the module)."""
    na = addr.shape[0]  # the address and its NUL
    if n < na + 4 or n > rx.shape[0]:
        return -1
    for k in range(na):
        if rx[k] != addr[k]:
            return -1
    start = (na + 3) & ~3
    if rx[start] != 44:  # ","
        return -1
    k = start + 1
    size = 0
    count = 0
    while k < n and rx[k] != 0:
        c = rx[k]
        if c == 102 or c == 105:  # f, i
            size += 4
        elif c == 100:  # d
            size += 8
        else:
            return -1
        count += 1
        k += 1
    if k >= n or count != dim:
        return -1
    offset = (k + 4) & ~3
    if offset + size != n:
        return -1
    scratch = np.empty(8, np.uint8)
    k = start + 1
    at = offset
    for i in range(dim):
        c = rx[k + i]
        if c == 100:
            for b in range(8):
                scratch[b] = rx[at + 7 - b]
            v = scratch.view(np.float64)[0]
            at += 8
        else:
            for b in range(4):
                scratch[b] = rx[at + 3 - b]
            if c == 102:
                v = np.float64(scratch[:4].view(np.float32)[0])
            else:
                v = np.float64(scratch[:4].view(np.int32)[0])
            at += 4
        if not (-MAX_ABS <= v <= MAX_ABS):
            return -1
        x[i] = v
    if deltas:  # the stream's DeltaFrames: (x, x - previous x), zeros after a reset
        row = lay.shape[0] - 3
        frame = fb[lay[row, 0]:lay[row, 0] + 2 * dim]
        prev = fb[lay[row + 1, 0]:lay[row + 1, 0] + dim]
        first = lay[row + 2, 0]
        for i in range(dim):
            frame[i] = x[i]
            frame[dim + i] = 0.0 if ib[first] != 0 else x[i] - prev[i]
            prev[i] = x[i]
        ib[first] = 0
        best = _kernel(frame, fb, ib, bb, lay)
    else:
        best = _kernel(x, fb, ib, bb, lay)
    res[0] = best
    n_classes = lik_at[1]
    lik = fb[lik_at[0]:lik_at[0] + n_classes]
    if reject > 0.0 and lik[best] < reject:
        return 1
    w0, w1, h1, m1, has_prog = toff[best, 0], toff[best, 1], toff[best, 2], toff[best, 3], toff[best, 4]
    p = 0
    for j in range(w0, w1):
        out[p] = tpl[j]
        p += 1
    res[1] = p
    for j in range(w1, h1):
        out[p] = tpl[j]
        p += 1
    for c in range(n_classes):
        if not _put_f32(out, p, lik[c], scratch):
            return 1
        p += 4
    if has_prog:
        for j in range(h1, m1):
            out[p] = tpl[j]
            p += 1
        for c in range(prog_at[1]):
            if not _put_f32(out, p, fb[prog_at[0] + c], scratch):
                return 1
            p += 4
    res[2] = p
    return 0
