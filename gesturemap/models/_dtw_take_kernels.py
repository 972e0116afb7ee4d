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
it when the paths agree (docs/notes/issue-10n.md measures how often the labels do).

The raw frames are taken relative to the first frame since the reset (a z-normalisation
does not see a constant shift), so the sums stay near the data's own scale and the expanded
cost loses no precision to a large offset. One cell holds ``2 + 4 D`` numbers (``n``,
``Σ|y|²``, then ``Σq``, ``Σq²``, ``Σqy``, ``Σy`` per input); two columns of them are kept
(the previous frame's and this one's). O(total template frames * D) a frame, about five
times the plain column's arithmetic; nothing is allocated.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_JIT = {"cache": True, "nogil": True, "fastmath": False}


@njit(**_JIT)
def take_statistics(x, count, mean, m2, ref, shifted, mu, inv):
    """A raw frame ``x`` into the running statistics since the reset (Welford: ``count``
    (1,), ``mean``, ``m2``); the first frame since the reset becomes ``ref``. Writes the frame
    relative to ``ref`` into ``shifted``, the mean relative to ``ref`` into ``mu`` and one
    over each input's scale into ``inv`` (the standard deviation; 1 for an input still (near)
    constant, as :func:`gesturemap.features.stages.mean_and_scale` does)."""
    count[0] += 1
    n = count[0]
    if n == 1:
        for d in range(x.shape[0]):
            ref[d] = x[d]
    for d in range(x.shape[0]):
        delta = x[d] - mean[d]
        mean[d] += delta / n
        m2[d] += delta * (x[d] - mean[d])
        std = math.sqrt(m2[d] / n)
        scale = std if std > 1e-12 * max(1.0, abs(mean[d])) else 1.0
        inv[d] = 1.0 / scale
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
def _extend(out, src, has_src, q, y, j, n_d):
    """``out`` = the path ``src`` (or an empty one) extended by query frame ``q`` against
    template frame ``y[j]``."""
    width = out.shape[0]
    if has_src:
        for w in range(width):
            out[w] = src[w]
    else:
        for w in range(width):
            out[w] = 0.0
    out[0] += 1.0
    yy = 0.0
    for d in range(n_d):
        v = y[j, d]
        u = q[d]
        yy += v * v
        out[2 + d] += u
        out[2 + n_d + d] += u * u
        out[2 + 2 * n_d + d] += u * v
        out[2 + 3 * n_d + d] += v
    out[1] += yy


@njit(**_JIT)
def take_columns(q, mu, inv, templates, offsets, cells, parity, col, anchored, first):
    """One frame of every template's column: ``q`` the raw frame relative to the reference,
    ``mu`` / ``inv`` the statistics since the reset (:func:`take_statistics`), ``cells``
    (2, sum of lengths, 2 + 4 D) the paths' statistics (``cells[parity[0]]`` the previous
    frame's; flipped on return), ``col`` (sum of lengths,) each cell's cost under the
    statistics now. ``anchored``: matches start at the reset (``first``: this frame is its
    first); else open-begin, a match may start at any frame. A cell's predecessors are
    compared as :func:`gesturemap.models._dtw_kernels._cell` compares them (diagonal, then
    vertical, then horizontal; the first of equals wins)."""
    n_d = q.shape[0]
    old = cells[parity[0]]
    new = cells[1 - parity[0]]
    start_old = 0.0 if (first or not anchored) else np.inf
    start_new = np.inf if anchored else 0.0
    for k in range(offsets.shape[0] - 1):
        # the cell before the template's first frame: an empty path (cost 0) where a match
        # may start, at the previous frame (diagonal) and at this one (horizontal)
        diag, diag_empty = start_old, True
        left, left_empty = start_new, True
        for r in range(offsets[k], offsets[k + 1]):
            up = _path_cost(old[r], n_d, mu, inv)
            best, src = diag, (0 if diag_empty else 1)
            if up < best:
                best, src = up, 2
            if left < best:
                best, src = left, (0 if left_empty else 3)
            if best == np.inf:
                new[r, 0] = 0.0  # no path
                col[r] = np.inf
            else:
                if src == 0:
                    _extend(new[r], new[r], False, q, templates, r, n_d)
                elif src == 1:
                    _extend(new[r], old[r - 1], True, q, templates, r, n_d)
                elif src == 2:
                    _extend(new[r], old[r], True, q, templates, r, n_d)
                else:
                    _extend(new[r], new[r - 1], True, q, templates, r, n_d)
                local = 0.0
                for d in range(n_d):
                    u = (q[d] - mu[d]) * inv[d] - templates[r, d]
                    local += u * u
                col[r] = best + local
            diag, diag_empty = up, False
            left, left_empty = col[r], False
    parity[0] = 1 - parity[0]
