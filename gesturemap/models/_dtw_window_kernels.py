"""The DTW of ``normalization="window"``, compiled with numba: every template matched against
the recent frames z-normalised as a whole, recomputed at each frame.

A z-normalised match cannot be carried from one frame to the next: the window's mean and
standard deviation change with every frame, and with them every cell's cost and the best
warping path. So, as the UCR suite does for streaming subsequence search (Rakthanmanon et al.,
"Searching and mining trillions of time series subsequences under dynamic time warping", KDD
2012), each frame z-normalises the candidate window afresh and matches it from scratch. The
window of template ``k`` is the frames since the reset, at most ``reach[k]`` of them (twice the
longest take for every template, so that a stream never reset does a bounded amount of work).
A whole sequence and a stream run the *same* kernel on the same frames, so a stream's
distances at a frame are, to the last bit, ``distances`` of the sequence so far: live = batch.
For a gesture no longer than the reach, every template's window is the whole gesture: the
distance is 1-NN DTW with per-take z-normalisation, the UCR archive's standard.

The cost of a frame is that of whole-sequence DTW against every template, O(sum over
templates of window length x template length x D): affordable for gestures of a few seconds,
not for recordings of a minute (docs/performance.md).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._dtw_kernels import dtw_last_row

_JIT = {"cache": True, "nogil": True, "fastmath": False}


@njit(**_JIT)
def window_znorm(x, start, stop, out):
    """Rows ``start`` to ``stop`` (excluded) of ``x`` (T, D) z-normalised per input by their
    own mean and standard deviation into ``out[:stop - start]`` (a constant input is only
    centred, as :func:`gesturemap.features.stages.mean_and_scale` does)."""
    n = stop - start
    for d in range(x.shape[1]):
        s = 0.0
        for t in range(start, stop):
            s += x[t, d]
        mean = s / n
        v = 0.0
        for t in range(start, stop):
            u = x[t, d] - mean
            v += u * u
        std = math.sqrt(v / n)
        scale = std if std > 1e-12 * max(1.0, abs(mean)) else 1.0
        for t in range(start, stop):
            out[t - start, d] = (x[t, d] - mean) / scale


@njit(**_JIT)
def window_class_distances(query, templates, offsets, template_class, reach, band,
                           per_frame, per_class, open_begin, scratch, col, out):
    """The least DTW distance from the end of ``query`` (T, D, raw frames) to each class's
    templates (z-normalised takes), into ``out`` (C,).

    Template ``k`` is matched against the last ``min(T, reach[k])`` frames, z-normalised as a
    whole (:func:`window_znorm`, into ``scratch`` (at least max reach, D)). ``per_frame``:
    divide by the template's length. ``per_class``: every class distance exact; otherwise
    only the nearest template's (1-NN search abandons the others early). ``col`` (sum of
    template lengths,) receives each template's last DTW row (the cost of the window against
    every prefix of the template: a stream's progress), ``inf`` where abandoned. Returns the
    index of the nearest template. ``open_begin``: a match may start at any frame of the
    window (a stream that is never reset; :func:`~._dtw_kernels.dtw_last_row`).
    """
    n = query.shape[0]
    out[:] = np.inf
    best, best_k, last_w = np.inf, 0, -1
    for k in range(offsets.shape[0] - 1):
        c = template_class[k]
        m = offsets[k + 1] - offsets[k]
        w = min(n, reach[k])
        if w != last_w:  # consecutive templates of similar length often share the window
            window_znorm(query, n - w, n, scratch)
            last_w = w
        scale = float(m) if per_frame else 1.0
        limit = out[c] if per_class else best
        d = dtw_last_row(scratch[:w], templates[offsets[k]:offsets[k + 1]], band,
                         limit * scale, col[offsets[k]:offsets[k + 1]], open_begin) / scale
        if d < out[c]:
            out[c] = d
        if d < best:
            best = d
            best_k = k
    return best_k

