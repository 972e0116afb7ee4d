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
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

from ..errors import TrainingCancelled

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

    :func:`dtw_last_row` documents ``band`` and ``cutoff``.
    """
    return dtw_last_row(a, b, band, cutoff, np.empty(b.shape[0]), False)


@njit(**_JIT)
def dtw_last_row(a, b, band, cutoff, row, open_begin):
    """DTW distance between sequences ``a`` (n, D) and ``b`` (m, D); the last row of the
    cost matrix (the cost of the whole of ``a`` against each prefix of ``b``) into ``row``
    (m,), all ``inf`` when abandoned.

    ``band`` in (0, 1]: cell (i, j) is allowed when ``j`` lies within ``band * max(n, m)``
    frames of the diagonal ``i * m / n`` (1 = no band; the radius never drops below
    ``|n - m|`` nor 1, so a path always exists). Returns ``inf`` as soon as a whole row costs
    more than ``cutoff``, and whenever the distance is more than ``cutoff`` (early
    abandoning: that pair cannot beat a distance already found).

    ``open_begin``: the path may start at any frame of ``a`` (SPRING's subsequence match of
    ``b`` ending at ``a``'s last frame), with no band and no abandoning before the last row (a
    path starting later may cost less than a whole row).
    """
    n, m = a.shape[0], b.shape[0]
    buf, held = dtw_start(m)
    if not dtw_rows(a, b, band, cutoff, open_begin, 0, n, buf, held):
        row[:] = np.inf
        return np.inf
    return dtw_finish(buf, n, cutoff, row)


@njit(**_JIT)
def dtw_finish(buf, n, cutoff, row):
    """The distance and last row once :func:`dtw_rows` has filled every row of ``buf`` (``a``
    of ``n`` frames): into ``row`` (m,), all ``inf`` when the distance is over ``cutoff``."""
    last = buf[(n + 1) & 1]  # row n - 1
    m = row.shape[0]
    if last[m] > cutoff:
        row[:] = np.inf
        return np.inf
    row[:] = last[1:]
    return last[m]


@njit(**_JIT)
def dtw_start(m):
    """The two cost rows :func:`dtw_rows` works in, for a ``b`` of ``m`` frames, before the
    first row of ``a``: (2, m + 1) rows and (2, 2) the columns each holds."""
    buf = np.full((2, m + 1), np.inf)
    buf[1, 0] = 0.0  # the corner, in the row before the first: every path starts at (0, 0)
    held = np.empty((2, 2), dtype=np.int64)
    held[0, 0], held[0, 1] = 1, 0  # nothing yet
    held[1, 0], held[1, 1] = 0, 0
    return buf, held


@njit(**_JIT)
def dtw_rows(a, b, band, cutoff, open_begin, i0, i1, buf, held):
    """Rows ``i0`` to ``i1`` (excluded) of the cost matrix of :func:`dtw_last_row`: row ``i``
    goes to ``buf[i & 1]`` (its cell ``j + 1`` is D(i, j), cell 0 the column before the
    first), over the row ``i - 1`` in the other; ``held[r]`` are the cells row ``r`` of
    ``buf`` filled (the rest is inf). Cut into row ranges, a long DTW gives the very cells of
    one call (:func:`dtw_in_steps`). Returns False when abandoned (a
    whole row over ``cutoff``)."""
    n, m = a.shape[0], b.shape[0]
    radius = max(band * max(n, m), abs(n - m), 1.0) if not open_begin else float(n + m)
    for i in range(i0, i1):
        cur = buf[i & 1]
        prev = buf[(i + 1) & 1]
        centre = (i + 0.5) * m / n - 0.5
        lo = max(0, int(math.floor(centre - radius)))
        hi = min(m - 1, int(math.ceil(centre + radius)))
        for j in range(held[i & 1, 0], held[i & 1, 1] + 1):  # what it held two rows ago
            cur[j] = np.inf
        if open_begin:  # a match may start at this frame too
            prev[0] = 0.0
            cur[0] = 0.0
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
        if row_min > cutoff and not open_begin:
            return False
        held[i & 1, 0], held[i & 1, 1] = lo + 1, hi + 1
    return True


#: Cells of a long DTW computed by one compiled call (about a tenth of a second): between
#: two, Python sees Ctrl-C and a training's cancel (a compiled call cannot be interrupted,
#: and a DTW of two takes of a quarter of an hour at 100 Hz is a minute long).
STEP_CELLS = 1 << 24


def dtw_in_steps(a: np.ndarray, b: np.ndarray, band: float, cutoff: float,
                 cancel: Any = None) -> float:
    """:func:`dtw`, its very cells and result, computed :data:`STEP_CELLS` at a time; between
    two steps a Ctrl-C is raised and ``cancel`` (an Event) is read.

    Raises
    ------
    TrainingCancelled
        When ``cancel`` is set.
    """
    return last_row_in_steps(a, b, band, cutoff, np.empty(b.shape[0]), False, cancel)


def last_row_in_steps(a: np.ndarray, b: np.ndarray, band: float, cutoff: float,
                      row: np.ndarray, open_begin: bool, cancel: Any = None) -> float:
    """:func:`dtw_last_row`, its very cells, last row and result, computed
    :data:`STEP_CELLS` at a time; between two steps a Ctrl-C is raised and ``cancel`` (an
    Event) is read (:class:`TrainingCancelled` when set)."""
    n, m = a.shape[0], b.shape[0]
    width = m if open_begin else min(m, 2.0 * max(band * max(n, m), abs(n - m), 1.0) + 2.0)
    if n * width <= STEP_CELLS:
        return float(dtw_last_row(a, b, band, cutoff, row, open_begin))
    buf, held = dtw_start(m)
    rows = max(1, int(STEP_CELLS // width))
    for i0 in range(0, n, rows):
        if cancel is not None and cancel.is_set():
            raise TrainingCancelled("training was cancelled")
        if not dtw_rows(a, b, band, cutoff, open_begin, i0, min(n, i0 + rows), buf, held):
            row[:] = np.inf
            return np.inf
    return float(dtw_finish(buf, n, cutoff, row))


def nearest_in_steps(query_for: Callable[[int], np.ndarray], templates: np.ndarray,
                     offsets: np.ndarray, template_class: np.ndarray, band: float,
                     normalize: bool, per_class: bool, out: np.ndarray,
                     cancel: Any = None, *, rows: np.ndarray | None = None,
                     open_begin: bool = False) -> int:
    """:func:`class_distances` (the same distances, bit for bit) for work too long for one
    compiled call: template ``k`` is matched against ``query_for(k)`` by
    :func:`last_row_in_steps`. Returns the index of the nearest template. ``rows`` (sum of
    template lengths,) and ``open_begin``: each template's last row, and matches that may
    start at any frame, as a "window" stream's kernel
    (:func:`~._dtw_window_kernels.window_class_distances`) gives them."""
    out[:] = np.inf
    best_k, best = 0, np.inf
    for k in range(offsets.shape[0] - 1):
        c = template_class[k]
        m = offsets[k + 1] - offsets[k]
        scale = float(m) if normalize else 1.0
        limit = out[c] if per_class else best
        row = np.empty(m) if rows is None else rows[offsets[k]:offsets[k + 1]]
        d = last_row_in_steps(query_for(k), templates[offsets[k]:offsets[k + 1]], band,
                              limit * scale, row, open_begin, cancel) / scale
        if d < out[c]:
            out[c] = d
        if d < best:
            best, best_k = d, k
    return best_k


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
def welford_scale(x, d, n, mean, m2):
    """Input ``d`` of frame ``x``, the ``n``-th since the reset, into its running mean and
    sum of squared deviations (Welford); returns its scale: the standard deviation, or 1 for
    an input still (near) constant, as :func:`znorm` does with a constant channel."""
    delta = x[d] - mean[d]
    mean[d] += delta / n
    m2[d] += delta * (x[d] - mean[d])
    std = math.sqrt(m2[d] / n)
    return std if std > 1e-12 * max(1.0, abs(mean[d])) else 1.0


@njit(**_JIT)
def running_znorm(x, count, mean, m2, z):
    """Per-take z-normalisation of a stream, causally: update the running statistics of the
    frames since the reset with ``x`` (:func:`welford_scale`), then write ``x`` z-normalised
    by them into ``z``. ``count`` (1,) frames seen."""
    count[0] += 1
    n = count[0]
    for d in range(x.shape[0]):
        scale = welford_scale(x, d, n, mean, m2)
        z[d] = (x[d] - mean[d]) / scale


@njit(cache=True, nogil=True)
def running_znorm_sequence(x, out):
    """(T, D) ``x`` z-normalised frame by frame as a stream reset at its first frame does it
    (:func:`running_znorm`), into ``out``: ``normalization="running"``'s templates and
    queries, so that ``predict`` reads exactly what a stream reads."""
    count = np.zeros(1, dtype=np.int64)
    mean = np.zeros(x.shape[1])
    m2 = np.zeros(x.shape[1])
    for t in range(x.shape[0]):
        running_znorm(x[t], count, mean, m2, out[t])


#: A sleeping template wakes when its lower bound comes within this relative margin of the
#: distance it must stay above (so that no rounding can tie it with the best class).
WAKE_MARGIN = 1e-9
#: An awake template sleeps when its least cell is over this many times that distance.
SLEEP_FACTOR = 1.25
#: Template frames per block of :func:`template_blocks` (a block's squared distances to a frame
#: are computed side by side, in SIMD lanes).
BLOCK = 32


def template_blocks(templates: np.ndarray, offsets: np.ndarray, block: int = BLOCK
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The templates laid out for :func:`spring_step`: (blocks (n, D, block), first block of
    each template (K,), each block's least and greatest value per channel (n, D) twice).
    Every template starts a new block of ``block`` consecutive frames, stored channel by
    channel (``blocks[b, d, j]``), the last block of a template padded with zeros (never read
    back)."""
    lengths = np.diff(offsets)
    counts = -(-lengths // block)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    n = int(counts.sum())
    out = np.zeros((n, templates.shape[1], block))
    lo = np.zeros((n, templates.shape[1]))
    hi = np.zeros((n, templates.shape[1]))
    for k, (a, b) in enumerate(zip(offsets[:-1], offsets[1:], strict=True)):
        for i, r in enumerate(range(a, b, block)):
            seg = templates[r:min(r + block, b)]
            out[first[k] + i, :, :len(seg)] = seg.T
            lo[first[k] + i], hi[first[k] + i] = seg.min(axis=0), seg.max(axis=0)
    return out, first, lo, hi


@njit(**_JIT)
def _cell(old_prev, old, new_prev, cost):
    """A cell of the symmetric step: ``cost`` plus the least of its three predecessors (the
    cell before at the previous frame, this cell at the previous frame, the cell before at
    this frame), compared in that order."""
    best = old_prev
    if old < best:
        best = old
    if new_prev < best:
        best = new_prev
    return cost + best


@njit(**_JIT)
def _cells(col, r0, j0, j1, acc, row, old_prev, new_prev, low):
    """Cells ``r0 + j0`` to ``r0 + j1`` (excluded) of one template's column, the squared
    distances in ``acc[row, j0:j1]``; ``old_prev`` / ``new_prev``: the cell before, at the
    previous frame and at this one. Returns them for the next cell, and the least cell so
    far."""
    for j in range(j0, j1):
        old = col[r0 + j]
        new_prev = _cell(old_prev, old, new_prev, acc[row, j])
        col[r0 + j] = new_prev
        old_prev = old
        if new_prev < low:
            low = new_prev
    return old_prev, new_prev, low


@njit(**_JIT)
def _finish(x, blocks, b, col, r, stop, acc, row, old_prev, new_prev, low):
    """One template's column from frame ``r`` (the start of its block ``b``) to ``stop``, the
    squared distances in ``acc[row]``; returns its least cell. Flat, as
    :func:`_advance_pair`."""
    width = acc.shape[1]
    while r < stop:
        for j in range(width):
            acc[row, j] = 0.0
        for d in range(blocks.shape[1]):
            xd = x[d]
            for j in range(width):
                u = xd - blocks[b, d, j]
                acc[row, j] += u * u
        b += 1
        n = min(width, stop - r)
        old_prev, new_prev, low = _cells(col, r, 0, n, acc, row, old_prev, new_prev, low)
        r += n
    return low


@njit(**_JIT)
def _advance(x, blocks, first_block, offsets, k, col, acc, start_old, start_new):
    """Template ``k``'s column one frame on (``x``); returns the least cell of the new column.
    ``start_old`` / ``start_new``: the cell before the template's first frame at the previous
    frame and at this one (0 where a match may start, else ``inf``). ``acc`` (2, block size)
    is scratch."""
    return _finish(x, blocks, first_block[k], col, offsets[k], offsets[k + 1], acc, 0,
                   start_old, start_new, np.inf)


@njit(**_JIT)
def _advance_pair(x, blocks, first_block, offsets, k1, k2, col, acc, start_old, start_new,
                  low):
    """:func:`_advance` of two templates at once, cell by cell in turn (two independent chains
    of min-and-add for the processor to overlap; each column's arithmetic unchanged); their
    least cells into ``low``. Written out flat (no call, no array view per block or cell: each
    cost numba a reference count and a call, more than the cell's own arithmetic)."""
    width = acc.shape[1]
    n_d = blocks.shape[1]
    r1, e1, b1 = offsets[k1], offsets[k1 + 1], first_block[k1]
    r2, e2, b2 = offsets[k2], offsets[k2 + 1], first_block[k2]
    o1, n1, l1 = start_old, start_new, np.inf
    o2, n2, l2 = start_old, start_new, np.inf
    while r1 < e1 and r2 < e2:
        for j in range(width):
            acc[0, j] = 0.0
            acc[1, j] = 0.0
        for d in range(n_d):
            xd = x[d]
            for j in range(width):
                u = xd - blocks[b1, d, j]
                acc[0, j] += u * u
            for j in range(width):
                u = xd - blocks[b2, d, j]
                acc[1, j] += u * u
        b1 += 1
        b2 += 1
        m1, m2 = min(width, e1 - r1), min(width, e2 - r2)
        both = min(m1, m2)
        for j in range(both):
            old = col[r1 + j]
            n1 = _cell(o1, old, n1, acc[0, j])
            col[r1 + j] = n1
            o1 = old
            if n1 < l1:
                l1 = n1
            old = col[r2 + j]
            n2 = _cell(o2, old, n2, acc[1, j])
            col[r2 + j] = n2
            o2 = old
            if n2 < l2:
                l2 = n2
        o1, n1, l1 = _cells(col, r1, both, m1, acc, 0, o1, n1, l1)
        o2, n2, l2 = _cells(col, r2, both, m2, acc, 1, o2, n2, l2)
        r1 += m1
        r2 += m2
    low[k1] = _finish(x, blocks, b1, col, r1, e1, acc, 0, o1, n1, l1)
    low[k2] = _finish(x, blocks, b2, col, r2, e2, acc, 1, o2, n2, l2)


@njit(**_JIT)
def _box_bound(x, lo, hi, b0, b1):
    """The least squared distance from ``x`` to any frame of blocks ``b0`` to ``b1`` (excluded),
    from each block's box (its per-channel least and greatest values): at most the distance to
    any of their frames (the same sum in the same order, every term at most the frame's)."""
    least = np.inf
    for b in range(b0, b1):
        s = 0.0
        for d in range(x.shape[0]):
            u = lo[b, d] - x[d]
            if u < 0.0:
                u = x[d] - hi[b, d]
                if u < 0.0:
                    u = 0.0
            s += u * u
        if s < least:
            least = s
    return least


@njit(**_JIT)
def _prune(t, mode, cap, history, blocks, first_block, offsets, template_class, normalize, col,
           acc, awake, since, bound, low, class_best):
    """After a frame's columns (anchored matching): wake every sleeping template that might be
    within its limit (its column caught up from ``history``), put to sleep the awake ones that
    cannot be (their least cell, the column's lower bound from now on, is more than that); a
    sleeping template about to lose the frames it missed is moved one frame on. A template's
    limit: its own class's best distance (``mode`` 2: every class distance stays exact), or
    with ``mode`` 1 the least of that and ``max(best distance, cap)`` (the classes over both
    get lower bounds). ``class_best`` (C,) is scratch. Returns the number of templates woken."""
    n_t = offsets.shape[0] - 1
    best = np.inf
    class_best[:] = np.inf
    for k in range(n_t):
        if awake[k]:
            m = offsets[k + 1] - offsets[k]
            v = col[offsets[k + 1] - 1]
            if normalize:
                v = v / m
            if v < class_best[template_class[k]]:
                class_best[template_class[k]] = v
            if v < best:
                best = v
    far = max(best, cap) if mode == 1 else np.inf
    woken = 0
    h = history.shape[0]
    for k in range(n_t):
        limit = min(class_best[template_class[k]], far)
        limit = limit + limit * WAKE_MARGIN
        f = float(offsets[k + 1] - offsets[k]) if normalize else 1.0
        if awake[k]:
            if low[k] / f > limit * SLEEP_FACTOR:
                awake[k] = 0
                since[k] = t
                bound[k] = low[k]
        elif bound[k] / f <= limit:
            for s in range(since[k] + 1, t + 1):
                low[k] = _advance(history[s % h], blocks, first_block, offsets, k, col, acc,
                                  np.inf, np.inf)
            awake[k] = 1
            woken += 1
        elif t - since[k] >= h - 1:
            # the ring is about to overwrite the oldest frame it missed: one frame on
            since[k] += 1
            least = _advance(history[since[k] % h], blocks, first_block, offsets, k, col, acc,
                             np.inf, np.inf)
            if least > bound[k]:  # a column's least cell never decreases (anchored)
                bound[k] = least
    return woken


@njit(**_JIT)
def spring_step(x, blocks, first_block, offsets, template_class, normalize, credit,
                inv_temperature, col, acc, distances, positions, best_template, log_lik, lik,
                norm_lik, anchored, first, prune):
    """One frame of open-begin (subsequence) DTW against every template at once.

    The templates come as :func:`template_blocks` lays them out (``blocks``, ``first_block``);
    ``acc`` (2, block size) is scratch. Templates are updated two at a time
    (:func:`_advance_pair`).

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

    ``prune`` = (mode (1,) int64, frames since the reset, this one included (1,) int64, cap
    (1,), history (H, D), box lo, box hi (blocks, D), awake (K,) int8, since (K,) int64, bound
    (K,), least cell (K,)): with anchored matching and a mode, templates that cannot be their
    class's best sleep (see :func:`_prune`); a sleeping template's distance is a lower bound
    over its class's best, so every output is exactly the unpruned one (mode 2). Mode 1 also
    puts to sleep the templates that cannot be the best nor under ``cap``: the classes over
    both then get lower bounds, the label, the best distance and every distance under ``cap``
    stay exact. The frame is stored in ``history`` (a ring).

    Likelihoods: ``log_lik = -distances * inv_temperature``, ``lik = exp(log_lik)`` and
    ``norm_lik`` its normalisation (a softmax). Returns the index of the likeliest class.
    """
    on, count, cap, history, lo, hi, awake, since, bound, low = prune
    pruning = on[0] != 0 and anchored
    t = count[0] - 1
    if pruning:
        history[t % history.shape[0], :] = x
    # the cell before the template's first frame, at the previous frame and at this one: 0
    # where a match may start (open begin: always; anchored: only the corner of the first frame)
    start_old = 0.0 if (first or not anchored) else np.inf
    start_new = np.inf if anchored else 0.0
    n_t = offsets.shape[0] - 1
    waiting = -1  # an awake template waiting for another to be updated with
    for k in range(n_t):
        if not pruning or awake[k]:
            if waiting < 0:
                waiting = k
            else:
                _advance_pair(x, blocks, first_block, offsets, waiting, k, col, acc,
                              start_old, start_new, low)
                waiting = -1
        else:
            b0 = first_block[k]
            b1 = first_block[k + 1] if k + 1 < n_t else blocks.shape[0]
            bound[k] += _box_bound(x, lo, hi, b0, b1)
    if waiting >= 0:
        low[waiting] = _advance(x, blocks, first_block, offsets, waiting, col, acc, start_old,
                                start_new)
    if pruning:
        _prune(t, on[0], cap[0], history, blocks, first_block, offsets, template_class,
               normalize, col, acc, awake, since, bound, low, distances)
    return summarise(offsets, template_class, normalize, credit, inv_temperature, col,
                     distances, positions, best_template, log_lik, lik, norm_lik, pruning,
                     awake, bound)


@njit(**_JIT)
def summarise(offsets, template_class, normalize, credit, inv_temperature, col, distances,
              positions, best_template, log_lik, lik, norm_lik, pruning, awake, bound):
    """After a frame's columns: each class's distance (its best template's last cell, or a
    sleeping template's ``bound`` when ``pruning``), its progress and its likelihoods, as
    :func:`spring_step` documents them. Returns the index of the likeliest class."""
    n_t = offsets.shape[0] - 1
    distances[:] = np.inf
    for k in range(n_t):
        start, stop = offsets[k], offsets[k + 1]
        v = col[stop - 1] if (not pruning or awake[k]) else bound[k]
        c = template_class[k]
        dist = v / (stop - start) if normalize else v
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
