"""The streaming DTW of ``normalization="take"``, compiled with numba: every match scored as
if the frames since the reset were z-normalised by their statistics *now*.

With per-take z-normalisation ``predict`` normalises a whole query by its own mean and
standard deviation, which a stream knows only at the gesture's last frame. Normalising each
frame by the statistics so far (and keeping the DTW columns of those values) scores a
gesture's early frames by statistics of a few frames: on HAPT's transitions the label at a
gesture's last frame was right 0.684 of the time where ``predict`` is 0.920. So instead every
cell keeps the *sufficient statistics* of its warping path over the raw frames: for every
input ``d`` the sums of ``q``, ``q²``, ``q·y`` and ``y`` along the path (``q`` the query's
frames, ``y`` the template's, z-normalised as a whole take), and the path's length and sum of
``|y|²``. The cost of that path with the query normalised by any mean ``μ`` and scale ``s``,
``Σ_path Σ_d ((q_d - μ_d) / s_d - y_d)²``, is then, per input,
``(Σq² - 2μΣq + nμ²) / s² - 2(Σqy - μΣy) / s`` plus ``Σ|y|²``: evaluated with the statistics
of the frames so far, it is exactly the batch cost of that path. At each frame a cell picks
its least predecessor by those costs (the paths themselves are chosen as the statistics
stood when they were extended), so at a gesture's last frame each distance is the exact
per-take-normalised cost of a warping path, never below ``predict``'s distance and equal to
it when the paths agree (on HAPT's transitions the label at a gesture's last frame is right
0.908 of the time, ``predict``'s 0.920).

The raw frames are taken relative to the first frame since the reset (a z-normalisation
does not see a constant shift), so the sums stay near the data's own scale and the expanded
cost loses no precision to a large offset. One cell holds ``2 + 4 D`` numbers (``n``,
``Σ|y|²``, then ``Σq``, ``Σq²``, ``Σqy``, ``Σy`` per input), replaced in place frame after
frame (the previous frame's path of the cell before, the next cell's diagonal, held aside).
O(total template frames * D) a frame, with more arithmetic and memory per template frame than
a plain column (about 20 times its cost, docs/performance.md); nothing is allocated.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._dtw_kernels import welford_scale

_JIT = {"cache": True, "nogil": True, "fastmath": False}


@njit(**_JIT)
def take_statistics(x, count, mean, m2, ref, shifted, mu, inv):
    """A raw frame ``x`` into the running statistics since the reset (Welford: ``count``
    (1,), ``mean``, ``m2``); the first frame since the reset becomes ``ref``. Writes the frame
    relative to ``ref`` into ``shifted``, the mean relative to ``ref`` into ``mu`` and one
    over each input's scale into ``inv`` (:func:`~._dtw_kernels.welford_scale`)."""
    count[0] += 1
    n = count[0]
    if n == 1:
        for d in range(x.shape[0]):
            ref[d] = x[d]
    for d in range(x.shape[0]):
        inv[d] = 1.0 / welford_scale(x, d, n, mean, m2)
        shifted[d] = x[d] - ref[d]
        mu[d] = mean[d] - ref[d]


@njit(**_JIT)
def _path_cost(cell, n_d, mu, inv):
    """The cost of the path whose statistics are ``cell`` with the query normalised by
    ``mu`` (relative to the reference frame) and ``1 / inv``; ``inf`` for no path."""
    n = cell[0]
    if n == 0.0:
        return np.inf
    c = cell[1]
    for d in range(n_d):
        m = mu[d]
        i = inv[d]
        sq = cell[2 + d]
        sqq = cell[2 + n_d + d]
        sqy = cell[2 + 2 * n_d + d]
        sy = cell[2 + 3 * n_d + d]
        c += (sqq - 2.0 * m * sq + n * m * m) * i * i - 2.0 * (sqy - m * sy) * i
    return c


@njit(**_JIT)
def _add_frame(cell, q, y, r, n_d):
    """Extend the path whose statistics are ``cell`` by query frame ``q`` against template
    frame ``y[r]``, in place."""
    cell[0] += 1.0
    yy = 0.0
    for d in range(n_d):
        v = y[r, d]
        u = q[d]
        yy += v * v
        cell[2 + d] += u
        cell[2 + n_d + d] += u * u
        cell[2 + 2 * n_d + d] += u * v
        cell[2 + 3 * n_d + d] += v
    cell[1] += yy


@njit(**_JIT)
def take_columns(q, mu, inv, templates, offsets, cells, spare, col, anchored, first):
    """One frame of every template's column: ``q`` the raw frame relative to the reference,
    ``mu`` / ``inv`` the statistics since the reset (:func:`take_statistics`), ``cells``
    (sum of lengths, 2 + 4 D) each cell's path statistics (the previous frame's, replaced by
    this frame's in place), ``spare`` (2, 2 + 4 D) scratch, ``col`` (sum of lengths,) each
    cell's cost under the statistics now. ``anchored``: matches start at the reset
    (``first``: this frame is its first); else open-begin, a match may start at any frame. A
    cell's predecessors are compared as :func:`gesturemap.models._dtw_kernels._cell` compares
    them (diagonal, then vertical, then horizontal; the first of equals wins)."""
    n_d = q.shape[0]
    width = cells.shape[1]
    start_old = 0.0 if (first or not anchored) else np.inf
    start_new = np.inf if anchored else 0.0
    for k in range(offsets.shape[0] - 1):
        # the cell before the template's first frame: an empty path (cost 0) where a match
        # may start, at the previous frame (diagonal) and at this one (horizontal)
        diag, diag_empty = start_old, True
        left, left_empty = start_new, True
        held = 0  # spare[held]: the previous frame's path of the cell before (the diagonal)
        for r in range(offsets[k], offsets[k + 1]):
            cell = cells[r]
            up = _path_cost(cell, n_d, mu, inv)
            best, src = diag, (0 if diag_empty else 1)
            if up < best:
                best, src = up, 2
            if left < best:
                best, src = left, (0 if left_empty else 3)
            keep = spare[1 - held]  # this cell's previous path: the next cell's diagonal
            for w in range(width):
                keep[w] = cell[w]
            if best == np.inf:
                cell[0] = 0.0  # no path
                col[r] = np.inf
            else:
                if src == 0:
                    for w in range(width):
                        cell[w] = 0.0
                elif src == 1:
                    diag_row = spare[held]
                    for w in range(width):
                        cell[w] = diag_row[w]
                elif src == 3:
                    left_row = cells[r - 1]
                    for w in range(width):
                        cell[w] = left_row[w]
                _add_frame(cell, q, templates, r, n_d)
                local = 0.0
                for d in range(n_d):
                    u = (q[d] - mu[d]) * inv[d] - templates[r, d]
                    local += u * u
                col[r] = best + local
            held = 1 - held
            diag, diag_empty = up, False
            left, left_empty = col[r], False
