"""Numeric kernels of the feature stages that take many small steps per frame.

Pure functions over arrays, compiled by numba (``cache=True``: compiled once per machine).
One call replaces a dozen numpy calls on 3-10 element arrays, whose per-call overhead
dominates at these sizes. The states call each kernel once when they are built, so the
compilation (or the cache load) never happens inside the real-time path.
"""

from __future__ import annotations

import math

import numba
import numpy as np

TWO_PI = 2.0 * math.pi

#: Past this ``r``, ``r / (r + 1)`` is 1 to the last bit (and ``inf / inf`` is NaN).
MAX_R = 1e300
#: Speeds beyond this (a step of 1e-300 s) are clipped, so the filter's state stays finite.
MAX_SPEED = 1e300


def smoothing_factor(cutoff_hz: float, dt_s: float) -> float:
    """Smoothing factor of a one-pole low-pass for one step of ``dt_s`` seconds.

    ``a = r / (r + 1)`` with ``r = 2 pi cutoff dt``: the backward-Euler discretisation of an
    RC low-pass, the form used by the One Euro filter (Casiez et al. 2012). ``a`` lies in
    (0, 1] for any positive cutoff and step (1 once ``r`` overflows), so no rate makes the
    filter unstable.
    (:func:`one_euro_step` computes the same factor inline.)
    """
    r = TWO_PI * cutoff_hz * dt_s
    # r overflows to inf for an absurd cutoff or step (1e308 Hz, a 1e300 s gap): inf / inf
    # would be NaN and poison the filter for good, where the limit is 1 (follow the input)
    return r / (r + 1.0) if r < MAX_R else 1.0


@numba.njit(cache=True, nogil=True)
def all_below(x: np.ndarray, limit: float) -> bool:  # pragma: no cover - compiled
    """Whether every ``|x[i]| < limit`` (False for a NaN), without numpy's overflow warnings."""
    for i in range(x.shape[0]):
        if not abs(x[i]) < limit:
            return False
    return True


@numba.njit(cache=True, nogil=True)
def one_euro_step(
    x: np.ndarray,
    x_hat: np.ndarray,
    speed: np.ndarray,
    dt: float,
    min_cutoff: float,
    beta: float,
    d_cutoff: float,
) -> None:  # pragma: no cover - compiled
    """One step of the One Euro filter on every channel, updating ``x_hat`` and ``speed``.

    Parameters
    ----------
    x : ndarray, shape (D,)
        The new frame.
    x_hat : ndarray, shape (D,)
        Filtered value, updated in place.
    speed : ndarray, shape (D,)
        Filtered speed (units per second), updated in place.
    dt : float
        Seconds since the previous frame, > 0.
    min_cutoff, beta, d_cutoff : float
        The filter's settings (Hz, Hz per unit/s, Hz).
    """
    # Every factor is r / (r + 1) in [0, 1], taken as 1 once r overflows (inf / inf is NaN),
    # and a speed is clipped to +-MAX_SPEED: however extreme the settings or the time step,
    # the state stays finite and the output between the last estimate and the new frame.
    r_d = TWO_PI * d_cutoff * dt
    a_d = r_d / (r_d + 1.0) if r_d < MAX_R else 1.0
    for i in range(x.shape[0]):
        diff = x[i] - x_hat[i]
        dx = diff / dt
        if dx > MAX_SPEED:
            dx = MAX_SPEED
        elif dx < -MAX_SPEED:
            dx = -MAX_SPEED
        speed[i] += a_d * (dx - speed[i])
        r = TWO_PI * dt * (min_cutoff + beta * abs(speed[i]))
        x_hat[i] += diff * (r / (r + 1.0) if r < MAX_R else 1.0)


@numba.njit(cache=True, nogil=True)
def window_stats(
    window: np.ndarray,
    out: np.ndarray,
    off_mean: int,
    off_std: int,
    off_min: int,
    off_max: int,
    off_median: int,
    ordered: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Per-channel statistics of the frames in ``window``, written into ``out``.

    Parameters
    ----------
    window : ndarray, shape (n, D)
        The frames (any order), n >= 1.
    out : ndarray, shape (D_out,)
        Receives each statistic's D values at ``out[off:off + D]``; an offset < 0 skips
        that statistic. The std is the population std (ddof=0), computed in two passes.
    ordered : ndarray, shape (>= n, D)
        The same frames, each channel sorted in its first n rows (kept by
        :func:`window_insert`): the median is read there (the mean of the two middle values
        for an even n), nothing is sorted nor allocated.
    """
    n, d = window.shape
    for j in range(d):
        total = 0.0
        lo = window[0, j]
        hi = window[0, j]
        for i in range(n):
            v = window[i, j]
            total += v
            if v < lo:
                lo = v
            if v > hi:
                hi = v
        mean = total / n
        if off_mean >= 0:
            out[off_mean + j] = mean
        if off_std >= 0:
            ss = 0.0
            for i in range(n):
                dev = window[i, j] - mean
                ss += dev * dev
            out[off_std + j] = math.sqrt(ss / n)
        if off_min >= 0:
            out[off_min + j] = lo
        if off_max >= 0:
            out[off_max + j] = hi
        if off_median >= 0:
            half = n // 2
            out[off_median + j] = (
                ordered[half, j] if n % 2 else 0.5 * (ordered[half - 1, j] + ordered[half, j])
            )


@numba.njit(cache=True, nogil=True)
def window_insert(
    ordered: np.ndarray, n: int, old: np.ndarray, x: np.ndarray, full: bool
) -> None:  # pragma: no cover - compiled
    """Keep each channel of a sliding window sorted as frame ``x`` comes in.

    One shift per channel, O(window) a frame: sorting the window again at every frame cost
    O(window²) (18 ms a frame for a 5,001-frame median on 6 channels, more than a frame's
    period at any sensor rate).

    Parameters
    ----------
    ordered : ndarray, shape (window, D)
        Each column's first ``n`` rows hold the window's values, sorted; updated in place.
    n : int
        How many values each column holds before this frame.
    old : ndarray, shape (D,)
        The frame that leaves the window (used only when ``full``).
    x : ndarray, shape (D,)
        The frame that enters it.
    full : bool
        Whether the window is full (``n`` = window): ``old`` leaves as ``x`` comes in.
    """
    for j in range(x.shape[0]):
        m = n
        if full:
            # ``old`` is in the column, bit for bit: the ring buffer kept the same float
            k = 0
            while k < m - 1 and ordered[k, j] != old[j]:
                k += 1
            for i in range(k, m - 1):
                ordered[i, j] = ordered[i + 1, j]
            m -= 1
        v = x[j]
        k = m
        while k > 0 and ordered[k - 1, j] > v:
            ordered[k, j] = ordered[k - 1, j]
            k -= 1
        ordered[k, j] = v
