"""Dynamic time warping kernels, compiled with numba: whole-sequence DTW (with a Sakoe-Chiba
band and early abandoning) and the streaming, open-begin DTW of SPRING (Sakurai, Faloutsos and
Yamamuro, "Stream monitoring under the time warping distance", ICDE 2007).

Both use the squared Euclidean distance between frames (all channels together, "dependent"
DTW) and the symmetric step: a cell adds its frame distance to the least of its three
predecessors (diagonal, horizontal, vertical), unweighted. Templates are stored back to back in
one (sum of lengths, D) array; template ``k`` owns rows ``offsets[k]`` to ``offsets[k + 1]``.

Every kernel is ``nogil`` (whole sequences can be matched on several threads) and
``cache=True``; the streaming step allocates nothing.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_JIT = {"cache": True, "nogil": True, "fastmath": False}


@njit(**_JIT)
def _sqdist(a, i, b, j):
    s = 0.0
    for d in range(a.shape[1]):
        u = a[i, d] - b[j, d]
        s += u * u
    return s


@njit(**_JIT)
def dtw(a, b, band, cutoff):
    """DTW distance between sequences ``a`` (n, D) and ``b`` (m, D).

    ``band`` in (0, 1]: cell (i, j) is allowed when ``j`` lies within ``band * max(n, m)``
    frames of the diagonal ``i * m / n`` (1 = no band; the radius never drops below
    ``|n - m|`` nor 1, so a path always exists). Returns ``inf`` as soon as a whole row costs
    more than ``cutoff``, and whenever the distance is more than ``cutoff`` (early
    abandoning: that pair cannot beat a distance already found).
    """
    n, m = a.shape[0], b.shape[0]
    radius = max(band * max(n, m), abs(n - m), 1.0)
    # prev[j + 1] = D(i - 1, j), cur[j + 1] = D(i, j); index 0 is the column before the first
    prev = np.full(m + 1, np.inf)
    cur = np.full(m + 1, np.inf)
    prev[0] = 0.0  # the corner: every path starts at (0, 0)
    prev_lo, prev_hi = 0, 0  # the cells each buffer holds (the rest is inf)
    cur_lo, cur_hi = 1, 0
    for i in range(n):
        centre = (i + 0.5) * m / n - 0.5
        lo = max(0, int(math.floor(centre - radius)))
        hi = min(m - 1, int(math.ceil(centre + radius)))
        for j in range(cur_lo, cur_hi + 1):  # clear what this buffer held two rows ago
            cur[j] = np.inf
        row_min = np.inf
        for j in range(lo, hi + 1):
            best = prev[j]
            if prev[j + 1] < best:
                best = prev[j + 1]
            if cur[j] < best:
                best = cur[j]
            v = _sqdist(a, i, b, j) + best
            cur[j + 1] = v
            if v < row_min:
                row_min = v
        if row_min > cutoff:
            return np.inf
        prev, cur = cur, prev
        cur_lo, cur_hi = prev_lo, prev_hi
        prev_lo, prev_hi = lo + 1, hi + 1
    return prev[m] if prev[m] <= cutoff else np.inf


@njit(**_JIT)
def class_distances(query, templates, offsets, template_class, band, normalize, per_class,
                    out):
    """The least DTW distance from ``query`` to each class's templates, into ``out`` (C,).

    ``normalize``: divide each distance by its template's length. ``per_class``: every class
    gets its exact least distance; otherwise only the overall nearest template is exact (the
    others abandon as soon as they cannot beat it: 1-nearest-neighbour search). Returns the
    index of the nearest template.
    """
    out[:] = np.inf
    best_k = 0
    best = np.inf
    for k in range(offsets.shape[0] - 1):
        c = template_class[k]
        m = offsets[k + 1] - offsets[k]
        scale = float(m) if normalize else 1.0
        limit = out[c] if per_class else best
        d = dtw(query, templates[offsets[k]:offsets[k + 1]], band, limit * scale) / scale
        if d < out[c]:
            out[c] = d
        if d < best:
            best = d
            best_k = k
    return best_k


@njit(**_JIT)
def running_znorm(x, count, mean, m2, z):
    """Per-take z-normalisation of a stream, causally: update the running mean and sum of
    squared deviations (Welford) of the frames since the reset with ``x``, then write ``x``
    z-normalised by them into ``z``. ``count`` (1,) frames seen; a channel whose spread is
    still (near) zero is only centred, as :func:`znorm` does with a constant channel."""
    count[0] += 1
    n = count[0]
    for d in range(x.shape[0]):
        delta = x[d] - mean[d]
        mean[d] += delta / n
        m2[d] += delta * (x[d] - mean[d])
        std = math.sqrt(m2[d] / n)
        scale = std if std > 1e-12 * max(1.0, abs(mean[d])) else 1.0
        z[d] = (x[d] - mean[d]) / scale


#: Template frames per block of :func:`template_blocks` (a block's squared distances to a frame
#: are computed side by side, in SIMD lanes).
BLOCK = 32


def template_blocks(templates: np.ndarray, offsets: np.ndarray, block: int = BLOCK
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The templates laid out for :func:`spring_step`: (blocks (n, D, block), first block of
    each template (K,)). Every template starts a new block of ``block`` consecutive frames,
    stored channel by channel (``blocks[b, d, j]``), the last block of a template padded with
    zeros (never read back)."""
    lengths = np.diff(offsets)
    counts = -(-lengths // block)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    out = np.zeros((int(counts.sum()), templates.shape[1], block))
    for k, (a, b) in enumerate(zip(offsets[:-1], offsets[1:], strict=True)):
        for i, r in enumerate(range(a, b, block)):
            seg = templates[r:min(r + block, b)]
            out[first[k] + i, :, :len(seg)] = seg.T
    return out, first


@njit(**_JIT)
def _block_costs(x, blocks, b, acc):
    """``acc[j]`` = squared distance between ``x`` and frame ``j`` of block ``b``: every frame's
    sum runs over the channels in order (as :func:`_sqdist`, to the last bit), the frames side
    by side (the loop the compiler vectorises)."""
    for j in range(acc.shape[0]):
        acc[j] = 0.0
    for d in range(blocks.shape[1]):
        xd = x[d]
        for j in range(acc.shape[0]):
            u = xd - blocks[b, d, j]
            acc[j] += u * u


@njit(**_JIT)
def spring_step(x, blocks, first_block, offsets, template_class, normalize, credit,
                inv_temperature, col, acc, distances, positions, best_template, log_lik, lik,
                norm_lik, anchored=False, first=True):
    """One frame of open-begin (subsequence) DTW against every template at once.

    The templates come as :func:`template_blocks` lays them out (``blocks``, ``first_block``);
    ``acc`` (block size,) is scratch.

    ``anchored``: every match starts at the first frame since the reset (``first`` says this
    frame is it) instead of anywhere: the distances are then the whole-sequence DTW of the
    frames since the reset, exactly as :func:`dtw` computes it with no band.

    ``col`` (sum of lengths,) holds, for every template frame ``i``, the least cost of a
    warping path that ends at the current frame on template frame ``i`` and starts at any
    earlier frame (SPRING's column); ``inf`` before the first frame. After the update,
    ``distances[c]`` is the least cost of a whole-template match ending now over class ``c``'s
    templates (divided by the template length when ``normalize``), ``best_template[c]`` that
    template, and ``positions[c]`` the progress 0..1 within it: the template frame ``i`` where
    ``i * credit - cost`` is largest, i.e. how far into the template the stream has been matched
    for at most ``credit`` per template frame (``credit`` is the threshold per template frame:
    a path that reached further cost more than the threshold allows). O(total frames * D).

    Likelihoods: ``log_lik = -distances * inv_temperature``, ``lik = exp(log_lik)`` and
    ``norm_lik`` its normalisation (a softmax). Returns the index of the likeliest class.
    """
    distances[:] = np.inf
    # the cell before the template's first frame, at the previous frame and at this one: 0
    # where a match may start (open begin: always; anchored: only the corner of the first frame)
    start_old = 0.0 if (first or not anchored) else np.inf
    start_new = np.inf if anchored else 0.0
    width = acc.shape[0]
    for k in range(offsets.shape[0] - 1):
        start, stop = offsets[k], offsets[k + 1]
        old_prev = start_old
        new_prev = start_new
        b = first_block[k]
        for r0 in range(start, stop, width):
            _block_costs(x, blocks, b, acc)
            b += 1
            for r in range(r0, min(r0 + width, stop)):
                old = col[r]
                best = old_prev
                if old < best:
                    best = old
                if new_prev < best:
                    best = new_prev
                v = acc[r - r0] + best
                col[r] = v
                old_prev = old
                new_prev = v
        c = template_class[k]
        dist = new_prev / (stop - start) if normalize else new_prev
        if dist < distances[c]:
            distances[c] = dist
            best_template[c] = k
    for c in range(distances.shape[0]):
        k = best_template[c]
        start, stop = offsets[k], offsets[k + 1]
        per_frame = credit if normalize else credit / (stop - start)
        best_i = 0
        best_v = -np.inf
        for r in range(start, stop):
            v = (r - start + 1) * per_frame - col[r]
            if v > best_v:
                best_v = v
                best_i = r - start + 1
        positions[c] = best_i / (stop - start)
    best = 0
    for c in range(distances.shape[0]):
        log_lik[c] = -distances[c] * inv_temperature
        lik[c] = math.exp(log_lik[c])
        if log_lik[c] > log_lik[best]:
            best = c
    total = 0.0
    for c in range(distances.shape[0]):
        norm_lik[c] = math.exp(log_lik[c] - log_lik[best])
        total += norm_lik[c]
    for c in range(distances.shape[0]):
        norm_lik[c] /= total
    return best
