"""Running state of the feature stages: buffers sized up front, updated in place.

A stage's settings (``stages.py``) are read-only and shareable; ``Stage.start`` builds one of
the objects below, which holds everything that changes from frame to frame. Only the engine
thread touches a state, so none of them lock.

Contract of a one-to-one state (``emits_one = True``):

- ``step(t, x) -> y``: ``t`` is the frame time in seconds (strictly increasing when the
  stage uses time), ``x`` the input frame, shape (D_in,), finite, a contiguous float64
  array (what the numba kernels were compiled for); ``y`` has shape (D_out,).
  ``y`` is an internal buffer: read it, copy it, never write it; it is overwritten by the
  next ``step``. ``step`` never raises on frames the pipeline accepted.
- ``reset()``: back to the state right after ``start``.

A many-to-many state (``emits_one = False``) has ``emit(t, x, times, frames, n) -> n'``
instead: it writes its output frames into rows ``n .. n'-1`` of ``frames`` and their times
into ``times``, and returns the new row count; ``max_per_frame`` bounds how many rows one
input frame can add, so the pipeline sizes its buffers up front.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gesturemap.features import _kernels


class SelectState:
    """Copies the selected channels."""

    emits_one = True
    __slots__ = ("_indices", "out")

    def __init__(self, indices: Sequence[int]) -> None:
        self._indices = np.asarray(indices, dtype=np.intp)
        self.out = np.empty(len(indices))

    def step(self, t: float, x: np.ndarray) -> np.ndarray:
        x.take(self._indices, out=self.out)
        return self.out

    def reset(self) -> None:
        pass


class StandardizeState:
    """``(x - mean) / std`` per channel."""

    emits_one = True
    __slots__ = ("_mean", "_std", "out")

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        self._mean = np.array(mean, dtype=np.float64)
        self._std = np.array(std, dtype=np.float64)
        self.out = np.empty(len(self._mean))

    def step(self, t: float, x: np.ndarray) -> np.ndarray:
        np.subtract(x, self._mean, out=self.out)
        np.divide(self.out, self._std, out=self.out)
        return self.out

    def reset(self) -> None:
        pass


class WindowState:
    """Statistics over the last N frames (fewer while the window fills), in a ring buffer.

    The output is ``[x (if append)] + [stat over the window for each stat in stats]``, each
    block one value per input channel. Every statistic is recomputed over the buffer at each
    frame (two-pass for the std), so nothing drifts however long the performance lasts.
    """

    emits_one = True
    __slots__ = ("_ring", "_offsets", "_ordered", "_count", "_next", "_append", "_d", "out")

    def __init__(self, dim: int, window_frames: int, stats: Sequence[str], append: bool) -> None:
        self._d = dim
        self._ring = np.zeros((window_frames, dim))
        self._append = append
        self.out = np.zeros(dim * (len(stats) + int(append)))
        first = dim if append else 0
        offsets = {s: first + k * dim for k, s in enumerate(stats)}
        self._offsets = tuple(
            offsets.get(s, -1) for s in ("mean", "std", "min", "max", "median")
        )
        # The median reads each channel's window kept sorted here (one shift a frame);
        # without a median nothing is kept.
        self._ordered = np.zeros((window_frames, dim) if "median" in stats else (1, dim))
        # compile now (or load from the cache), not on a frame
        _kernels.window_stats(self._ring[:1], self.out, *self._offsets, self._ordered)
        _kernels.window_insert(self._ordered, 0, self._ring[0], self._ring[0], False)
        self._count = 0
        self._next = 0

    def step(self, t: float, x: np.ndarray) -> np.ndarray:
        ring = self._ring
        if self._offsets[4] >= 0:
            full = self._count == ring.shape[0]
            _kernels.window_insert(self._ordered, self._count, ring[self._next], x, full)
        ring[self._next] = x
        self._next = (self._next + 1) % ring.shape[0]
        if self._count < ring.shape[0]:
            self._count += 1
            # The ring fills from row 0, so while it fills the frames seen are its first rows.
            window = ring[: self._count]
        else:
            window = ring
        if self._append:
            self.out[: self._d] = x
        _kernels.window_stats(window, self.out, *self._offsets, self._ordered)
        return self.out

    def reset(self) -> None:
        self._count = 0
        self._next = 0


class LowPassState:
    """One-pole low-pass ``y += a (x - y)``, started on the first frame (no start transient).

    With a fixed ``alpha`` the factor is constant; with a cutoff it is computed from each
    frame's time step, so the filter keeps its cutoff when frames arrive unevenly.
    """

    emits_one = True
    __slots__ = ("_alpha", "_cutoff_hz", "_primed", "_t_prev", "_diff", "out")

    def __init__(self, dim: int, alpha: float | None, cutoff_hz: float | None) -> None:
        self._alpha = alpha
        self._cutoff_hz = cutoff_hz
        self._diff = np.empty(dim)
        self.out = np.empty(dim)
        self._primed = False
        self._t_prev = 0.0

    def step(self, t: float, x: np.ndarray) -> np.ndarray:
        y = self.out
        if not self._primed:
            y[:] = x
            self._primed = True
        else:
            if self._alpha is not None:
                a = self._alpha
            else:
                a = _kernels.smoothing_factor(self._cutoff_hz, t - self._t_prev)  # type: ignore[arg-type]
            diff = self._diff
            np.subtract(x, y, out=diff)
            diff *= a
            y += diff
        self._t_prev = t
        return y

    def reset(self) -> None:
        self._primed = False


class OneEuroState:
    """The One Euro filter (Casiez, Roussel & Vogel, CHI 2012), one per channel, vectorised.

    For each frame, with ``dt`` the time since the previous one::

        dx      = (x - x_hat_prev) / dt             # speed, against the previous estimate
        dx_hat += a(d_cutoff, dt) * (dx - dx_hat)   # smoothed speed
        cutoff  = min_cutoff + beta * |dx_hat|      # per channel
        x_hat  += a(cutoff, dt) * (x - x_hat)

    with ``a(fc, dt) = r / (r + 1)``, ``r = 2 pi fc dt``. The first frame passes through
    with a speed of 0. The speed is measured against the previous *filtered* value, as in
    the paper and its authors' reference code (some ports use the previous raw value; that
    filter lags more on ramps).
    """

    emits_one = True
    __slots__ = (
        "_min_cutoff",
        "_beta",
        "_d_cutoff",
        "_primed",
        "_t_prev",
        "_speed",
        "out",
    )

    def __init__(self, dim: int, min_cutoff: float, beta: float, d_cutoff: float) -> None:
        self._min_cutoff = min_cutoff
        self._beta = beta
        self._d_cutoff = d_cutoff
        self._speed = np.zeros(dim)
        self.out = np.zeros(dim)
        # Compile now (or load from the cache), not on the first frame.
        _kernels.one_euro_step(self.out, self.out, np.zeros(dim), 1.0, 1.0, 0.0, 1.0)
        self._primed = False
        self._t_prev = 0.0

    def step(self, t: float, x: np.ndarray) -> np.ndarray:
        x_hat = self.out
        if not self._primed:
            x_hat[:] = x
            self._speed[:] = 0.0
            self._primed = True
        else:
            _kernels.one_euro_step(
                x,
                x_hat,
                self._speed,
                t - self._t_prev,
                self._min_cutoff,
                self._beta,
                self._d_cutoff,
            )
        self._t_prev = t
        return x_hat

    def reset(self) -> None:
        self._primed = False


class DerivativeState:
    """Backward differences per second: first order, or second order on uneven steps.

    First order: ``(x[n] - x[n-1]) / dt[n]`` (the slope half a step back). Second order:
    ``2 ((x[n] - x[n-1]) / dt[n] - (x[n-1] - x[n-2]) / dt[n-1]) / (dt[n] + dt[n-1])`` (the
    curvature one step back; ``(x[n] - 2 x[n-1] + x[n-2]) / dt**2`` on even steps). Frames
    without enough history give 0.
    """

    emits_one = True
    __slots__ = (
        "_order",
        "_d",
        "_append",
        "_count",
        "_t_prev",
        "_dt_prev",
        "_prev",
        "_slope",
        "_tmp",
        "_deriv",
        "out",
    )

    def __init__(self, dim: int, order: int, append: bool) -> None:
        self._order = order
        self._d = dim
        self._append = append
        self._prev = np.empty(dim)
        self._slope = np.empty(dim)
        self._tmp = np.empty(dim)
        self.out = np.empty(2 * dim if append else dim)
        self._deriv = self.out[dim:] if append else self.out
        self._count = 0
        self._t_prev = 0.0
        self._dt_prev = 0.0

    def step(self, t: float, x: np.ndarray) -> np.ndarray:
        deriv = self._deriv
        if self._append:
            self.out[: self._d] = x
        count = self._count
        if count == 0:
            deriv[:] = 0.0
        else:
            dt = t - self._t_prev
            if self._order == 1:
                np.subtract(x, self._prev, out=deriv)
                deriv /= dt
            else:
                slope, tmp = self._slope, self._tmp
                np.subtract(x, self._prev, out=tmp)
                tmp /= dt
                if count == 1:
                    deriv[:] = 0.0
                else:
                    np.subtract(tmp, slope, out=deriv)
                    deriv *= 2.0 / (dt + self._dt_prev)
                slope[:] = tmp
            self._dt_prev = dt
        self._prev[:] = x
        self._t_prev = t
        if count < 2:
            self._count = count + 1
        return self.out

    def reset(self) -> None:
        self._count = 0


class MagnitudeState:
    """Euclidean norm of a group of channels, appended or in place of the group."""

    emits_one = True
    __slots__ = ("_gather", "_group", "_where", "_buf", "out")

    def __init__(self, gather: Sequence[int], group: Sequence[int], where: int) -> None:
        # ``gather`` maps every output position to an input channel; the norm then
        # overwrites position ``where``.
        self._gather = np.asarray(gather, dtype=np.intp)
        self._group = np.asarray(group, dtype=np.intp)
        self._where = where
        self._buf = np.empty(len(group))
        self.out = np.empty(len(gather))

    def step(self, t: float, x: np.ndarray) -> np.ndarray:
        x.take(self._gather, out=self.out)
        g = x.take(self._group, out=self._buf)
        self.out[self._where] = math.sqrt(g @ g)
        return self.out

    def reset(self) -> None:
        pass


class ResampleState:
    """Linear interpolation of the input onto a fixed grid ``t0 + k / rate_hz``.

    ``t0`` is the time of the first frame (emitted as is). Each later frame emits the grid
    points in ``(t_prev, t]``, interpolated between the previous frame and this one: zero,
    one or several frames, one input step late at most. After a gap longer than
    ``max_gap_s`` the grid starts again at the new frame rather than drawing a long ramp.
    """

    emits_one = False
    __slots__ = (
        "_period",
        "_max_gap_s",
        "_tol",
        "_primed",
        "_t0",
        "_k",
        "_t_prev",
        "_prev",
        "max_per_frame",
    )

    def __init__(self, dim: int, rate_hz: float, max_gap_s: float) -> None:
        self._period = 1.0 / rate_hz
        self._max_gap_s = max_gap_s
        # Grid points this close past a frame count as on it: rounding in t0 + k * period
        # must not delay a frame that falls exactly on an input time.
        self._tol = 1e-6 * self._period
        self._prev = np.empty(dim)
        self._primed = False
        self._t0 = 0.0
        self._k = 0
        self._t_prev = 0.0
        self.max_per_frame = int(max_gap_s * rate_hz) + 2

    def emit(self, t: float, x: np.ndarray, times: np.ndarray, frames: np.ndarray, n: int) -> int:
        span = t - self._t_prev
        if not self._primed or span > self._max_gap_s:
            self._t0 = t
            self._k = 1
            frames[n] = x
            times[n] = t
            n += 1
            self._primed = True
        else:
            prev = self._prev
            grid = self._t0 + self._k * self._period
            limit = t + self._tol
            while grid <= limit:
                w = (grid - self._t_prev) / span
                row = frames[n]
                np.subtract(x, prev, out=row)
                row *= w if w < 1.0 else 1.0
                row += prev
                times[n] = grid
                n += 1
                self._k += 1
                grid = self._t0 + self._k * self._period
        self._prev[:] = x
        self._t_prev = t
        return n

    def reset(self) -> None:
        self._primed = False
