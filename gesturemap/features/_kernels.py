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


def smoothing_factor(cutoff_hz: float, dt_s: float) -> float:
    """Smoothing factor of a one-pole low-pass for one step of ``dt_s`` seconds.

    ``a = r / (r + 1)`` with ``r = 2 pi cutoff dt``: the backward-Euler discretisation of an
    RC low-pass, the form used by the One Euro filter (Casiez et al. 2012). ``a`` lies in
    (0, 1) for any positive cutoff and step, so no rate makes the filter unstable.
    (:func:`one_euro_step` computes the same factor inline.)
    """
    r = TWO_PI * cutoff_hz * dt_s
    return r / (r + 1.0)


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
    r_d = TWO_PI * d_cutoff * dt
    a_d = r_d / (r_d + 1.0)
    for i in range(x.shape[0]):
        diff = x[i] - x_hat[i]
        speed[i] += a_d * (diff / dt - speed[i])
        r = TWO_PI * dt * (min_cutoff + beta * abs(speed[i]))
        x_hat[i] += diff * (r / (r + 1.0))


@numba.njit(cache=True, nogil=True)
def window_stats(
    window: np.ndarray,
    out: np.ndarray,
    off_mean: int,
    off_std: int,
    off_min: int,
    off_max: int,
    off_median: int,
    scratch: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Per-channel statistics of the frames in ``window``, written into ``out``.

    Parameters
    ----------
    window : ndarray, shape (n, D)
        The frames (any order), n >= 1.
    out : ndarray, shape (D_out,)
        Receives each statistic's D values at ``out[off:off + D]``; an offset < 0 skips
        that statistic. The std is the population std (ddof=0), computed in two passes.
    scratch : ndarray, shape (>= n,)
        Room for one channel's n values, sorted there for the median (the mean of the two
        middle ones for an even n); nothing is allocated.
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
            for i in range(n):  # insertion sort: windows are a few frames long
                v = window[i, j]
                k = i
                while k > 0 and scratch[k - 1] > v:
                    scratch[k] = scratch[k - 1]
                    k -= 1
                scratch[k] = v
            half = n // 2
            out[off_median + j] = scratch[half] if n % 2 else 0.5 * (scratch[half - 1] + scratch[half])
