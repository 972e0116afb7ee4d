"""The compiled frame path of a lean HHMM or GMM classifier: one call from the received
datagram to the encoded reply, so that no Python runs between them on the frame path.

:func:`wire_step` decodes a ``/wek/inputs`` datagram (numeric tags ``f``, ``d``, ``i``
only), checks it as the OSC source does, runs :func:`gesturemap.models._filter.hhmm_step` (or
``gmm_step``) on the stream's arrays and encodes the reply datagrams (``/wek/outputs``, then,
where the project sends gesturemap's own messages, the bundle of label, likelihoods and
progress) from per-class templates into one output buffer. The stream's arrays are views of three flat buffers (float64, int64, bool) described
by a layout table, so the call unboxes 18 arguments instead of the kernel's 56 (GMM's 25).
With ``deltas``, the layout's last four rows are the stream's
:class:`~gesturemap.models.gmm.DeltaFrames` (its frame, its ring of the last ``delta_lag``
inputs, the ring's position, its "first frame" flag).

Return codes: -1 the datagram is not one this path takes (nothing changed: the caller hands
it to the ordinary path), 0 stepped and encoded (``res``: label index, end of the first
datagram, end of the second: equal to the first's when there is no bundle), 1 stepped but not encoded (below ``reject_below``, a value
beyond float32: the caller sends it the ordinary way from the stream's Result).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import _filter

_JIT = {"cache": True, "nogil": True, "fastmath": False}
#: the layout views: inlined where they are used (a separate kernel would be compiled again for
#: every row number, each a literal constant to numba: 91 compilations of five one-liners)
_VIEW = {**_JIT, "inline": "always"}
#: the OSC source's plausibility bound (gesturemap.sources.base.MAX_ABS_VALUE)
MAX_ABS = 1e12
#: :func:`wire_step`'s kinds of stream
HHMM, GMM = 0, 1


@njit(**_VIEW)
def _a1(buf, lay, i):
    """Row ``i`` of the layout: a 1-D view of ``buf``."""
    return buf[lay[i, 0]:lay[i, 0] + lay[i, 1]]


@njit(**_VIEW)
def _a2(buf, lay, i):  # _a2 to _a5: the view reshaped to the row's 2 to 5 dimensions
    return _a1(buf, lay, i).reshape((lay[i, 2], lay[i, 3]))


@njit(**_VIEW)
def _a3(buf, lay, i):
    return _a1(buf, lay, i).reshape((lay[i, 2], lay[i, 3], lay[i, 4]))


@njit(**_VIEW)
def _a4(buf, lay, i):
    return _a1(buf, lay, i).reshape((lay[i, 2], lay[i, 3], lay[i, 4], lay[i, 5]))


@njit(**_VIEW)
def _a5(buf, lay, i):
    return _a1(buf, lay, i).reshape((lay[i, 2], lay[i, 3], lay[i, 4], lay[i, 5], lay[i, 6]))


@njit(**_JIT)
def _hhmm(x, fb, ib, bb, lay):
    """``hhmm_step`` on the packed buffers (row i of the layout: the kernel's i-th argument
    after the frame)."""
    return _filter.hhmm_step(
        x, started=_a1(ib, lay, 0), hierarchical=ib[lay[1, 0]] != 0, estimator=ib[lay[2, 0]],
        mixture=ib[lay[3, 0]] != 0, bimodal=ib[lay[4, 0]] != 0, n_states=_a1(ib, lay, 5),
        n_comp=_a1(ib, lay, 6), left_right=_a1(bb, lay, 7), weights=_a3(fb, lay, 8),
        means_in=_a4(fb, lay, 9), linv_in=_a5(fb, lay, 10), lognorm_in=_a3(fb, lay, 11),
        trans=_a3(fb, lay, 12), class_prior=_a2(fb, lay, 13), exit_p=_a2(fb, lay, 14),
        top_prior=_a1(fb, lay, 15), top_trans=_a2(fb, lay, 16), top_exit=_a1(fb, lay, 17),
        mean_out=_a4(fb, lay, 18), reg_a=_a5(fb, lay, 19), condcov=_a5(fb, lay, 20),
        alpha=_a3(fb, lay, 21), mode=ib[lay[22, 0]], keep=fb[lay[23, 0]], restart=fb[lay[24, 0]],
        trans_plain=_a3(fb, lay, 25), dalpha=_a2(fb, lay, 26), dlik=_a1(fb, lay, 27),
        acc=_a1(fb, lay, 28), logbuf=_a2(fb, lay, 29), counts=_a1(ib, lay, 30),
        pos=_a1(ib, lay, 31), emis=_a2(fb, lay, 32), compb=_a3(fb, lay, 33), front=_a1(fb, lay, 34),
        v1=_a1(fb, lay, 35), v2=_a1(fb, lay, 36), state_out=_a1(fb, lay, 37),
        state_cov=_a2(fb, lay, 38), inst=_a1(fb, lay, 39), exit_lik=_a1(fb, lay, 40),
        exit_ratio=_a1(fb, lay, 41), smoothed_log=_a1(fb, lay, 42), inst_norm=_a1(fb, lay, 43),
        smoothed_norm=_a1(fb, lay, 44), progress=_a1(fb, lay, 45), likeliest_state=_a1(ib, lay, 46),
        class_out=_a2(fb, lay, 47), class_cov=_a3(fb, lay, 48), out=_a1(fb, lay, 49),
        cov=_a2(fb, lay, 50), floor=_a1(fb, lay, 51), ratio=fb[lay[52, 0]],
        longest=ib[lay[53, 0]], horizon=ib[lay[54, 0]], since=_a1(ib, lay, 55))


@njit(**_JIT)
def _gmm(x, fb, ib, bb, lay):
    """``gmm_step`` on the packed buffers (row i of the layout: the kernel's i-th argument
    after the frame)."""
    return _filter.gmm_step(
        x, n_comp=_a1(ib, lay, 0), weights=_a2(fb, lay, 1), means_in=_a3(fb, lay, 2),
        linv_in=_a4(fb, lay, 3), lognorm_in=_a2(fb, lay, 4), mean_out=_a3(fb, lay, 5),
        reg_a=_a4(fb, lay, 6), condcov=_a4(fb, lay, 7), bimodal=ib[lay[8, 0]] != 0,
        mixture=ib[lay[9, 0]] != 0, mode=ib[lay[10, 0]], keep=fb[lay[11, 0]],
        logbuf=_a2(fb, lay, 12), counts=_a1(ib, lay, 13), pos=_a1(ib, lay, 14),
        acc=_a1(fb, lay, 15), inst=_a1(fb, lay, 16), beta=_a2(fb, lay, 17),
        smoothed_log=_a1(fb, lay, 18), inst_norm=_a1(fb, lay, 19), smoothed_norm=_a1(fb, lay, 20),
        class_out=_a2(fb, lay, 21), class_cov=_a3(fb, lay, 22), out=_a1(fb, lay, 23),
        cov=_a2(fb, lay, 24))


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
def _decode(rx, n, addr, dim, x, scratch):
    """The values of the datagram ``rx[:n]`` into ``x``; False if it is not one this path
    takes (another address, other tags, another count, a bad size, a value the source
    refuses)."""
    na = addr.shape[0]  # the address and its NUL
    if n < na + 4 or n > rx.shape[0]:
        return False
    for k in range(na):
        if rx[k] != addr[k]:
            return False
    start = (na + 3) & ~3
    if rx[start] != 44:  # ","
        return False
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
            return False
        count += 1
        k += 1
    if k >= n or count != dim:
        return False
    offset = (k + 4) & ~3
    if offset + size != n:
        return False
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
            return False
        x[i] = v
    return True


@njit(**_JIT)
def _frame(x, dim, fb, ib, lay, deltas):
    """The model's frame: ``x``, or with ``deltas`` the stream's DeltaFrames frame (x, then
    (x - the input ``lag`` frames back) / lag; zeros after a reset, which fills the ring with
    x), its state updated."""
    if not deltas:
        return x
    row = lay.shape[0] - 4
    frame = fb[lay[row, 0]:lay[row, 0] + 2 * dim]
    prev = fb[lay[row + 1, 0]:lay[row + 1, 0] + lay[row + 1, 1]]
    lag = lay[row + 1, 1] // dim
    pos = lay[row + 2, 0]
    first = lay[row + 3, 0]
    if ib[first] != 0:
        for i in range(dim):
            frame[i] = x[i]
            frame[dim + i] = 0.0
            for r in range(lag):
                prev[r * dim + i] = x[i]
        ib[pos] = 0
        ib[first] = 0
        return frame
    at = ib[pos] * dim
    for i in range(dim):
        frame[i] = x[i]
        delta = x[i] - prev[at + i]
        if lag > 1:
            delta = delta / lag
        frame[dim + i] = delta
        prev[at + i] = x[i]
    ib[pos] = (ib[pos] + 1) % lag
    return frame


@njit(**_JIT)
def _encode(best, fb, lik_at, prog_at, tpl, toff, reject, out, res, scratch):
    """The reply datagrams of class ``best`` into ``out`` (see the module for the codes)."""
    res[0] = best
    n_classes = lik_at[1]
    lik = fb[lik_at[0]:lik_at[0] + n_classes]
    if reject > 0.0 and lik[best] < reject:
        return 1
    w0, w1, h1, m1 = toff[best, 0], toff[best, 1], toff[best, 2], toff[best, 3]
    p = 0
    for j in range(w0, w1):
        out[p] = tpl[j]
        p += 1
    res[1] = p
    res[2] = p
    if not toff[best, 5]:  # /wek/outputs alone: gesturemap's own messages are off
        return 0
    for j in range(w1, h1):
        out[p] = tpl[j]
        p += 1
    for c in range(n_classes):
        if not _put_f32(out, p, lik[c], scratch):
            return 1
        p += 4
    if toff[best, 4]:  # the progress message
        for j in range(h1, m1):
            out[p] = tpl[j]
            p += 1
        for c in range(prog_at[1]):
            if not _put_f32(out, p, fb[prog_at[0] + c], scratch):
                return 1
            p += 4
    res[2] = p
    return 0


@njit(**_JIT)
def wire_step(kind, rx, n, addr, dim, x, fb, ib, bb, lay, deltas, lik_at, prog_at, tpl, toff,
              reject, out, res):
    """One datagram ``rx[:n]`` through a stream (``kind`` :data:`HHMM` or :data:`GMM`) to the
    reply in ``out`` (see the module)."""
    scratch = np.empty(8, np.uint8)
    if not _decode(rx, n, addr, dim, x, scratch):
        return -1
    frame = _frame(x, dim, fb, ib, lay, deltas)
    best = _hhmm(frame, fb, ib, bb, lay) if kind == HHMM else _gmm(frame, fb, ib, bb, lay)
    return _encode(best, fb, lik_at, prog_at, tpl, toff, reject, out, res, scratch)
