"""The frames of the take being recorded: bounded, and handed over whole when it ends.

A take is bounded by the memory its frames take: at most :data:`MAX_TAKE_VALUES` numbers
(inputs, outputs and times; 256 MiB of float64), so a forgotten ``stopRecording`` costs at most
that. With 64 inputs that is 512 K frames (17 minutes at 500 frames/s); with 6 inputs, 4.8 M
frames (13 hours at 100 frames/s). At the bound the take ends by itself, as if stopped there,
and the engine says so: a take that long is a forgotten stop, not a gesture, and its frames are
kept rather than the newest ones dropped.

The frames are written into arrays allocated once at the bound's size when the take starts:
the operating system gives memory pages only as they are written, so a short take costs what
it holds. When the take ends the arrays are shrunk to their length in place and handed over
to the project as they are (:func:`gesturemap.data.hand_over`), never copied: stopping a take
of an hour holds the frames no longer than stopping one of a second (a list of frames turned
into an array held them 139 ms for 60,000 frames of 64 inputs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import hand_over

__all__ = ["MAX_TAKE_VALUES", "TakeBuffer", "TakeRecording"]

#: The most numbers a take holds (inputs, outputs and times of every frame).
MAX_TAKE_VALUES = 1 << 25


class TakeBuffer:
    """A take's frames as they come, up to :data:`MAX_TAKE_VALUES` numbers.

    Parameters
    ----------
    width : int
        Inputs per frame.
    out_width : int, default 0
        Outputs per frame (a regression's targets), 0 for none.
    max_values : int, default MAX_TAKE_VALUES
    """

    def __init__(self, width: int, out_width: int = 0, max_values: int = MAX_TAKE_VALUES) -> None:
        #: the most frames it holds
        self.capacity = max(1, int(max_values) // (int(width) + int(out_width) + 1))
        # np.empty: pages are only given as they are written
        self._inputs = np.empty((self.capacity, int(width)))
        self._times = np.empty(self.capacity)
        self._outputs = np.empty((self.capacity, int(out_width))) if out_width else None
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, values: Any, t: float, outputs: Any = None) -> bool:
        """Add a frame (on the frame path: a row written, nothing allocated; ``outputs``
        read only with outputs per frame). Returns whether there is room for another one."""
        n = self._n
        self._inputs[n] = values
        self._times[n] = t
        if self._outputs is not None:
            self._outputs[n] = outputs
        self._n = n + 1
        return self._n < self.capacity

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The take's ``(inputs, times, outputs)``, shrunk to its length in place and handed
        over (read-only; the buffer is empty after). Not a copy: the arrays' own memory."""
        n, self._n = self._n, 0
        out = []
        for array in (self._inputs, self._times, self._outputs):
            if array is not None:
                # realloc to the take's length: the tail is given back, the frames stay put
                array.resize((n, *array.shape[1:]), refcheck=False)
                array = hand_over(array)
            out.append(array)
        self._inputs = self._times = self._outputs = None  # type: ignore[assignment]
        return out[0], out[1], out[2]


class TakeRecording:
    """The engine's recording of a take's frames (mixed into
    :class:`gesturemap.live.engine.Engine`; on the frame path)."""

    _take: TakeBuffer | None
    _take_t0: float
    current_outputs: Any
    _is_regression: Any
    _errlog: Any
    _notice: Any
    command: Any

    def _record(self, values: Any, t_in: float) -> None:
        """Keep a frame in the take being recorded; at its bound the take ends there."""
        take = self._take
        if take is None:
            outputs = len(self.current_outputs) if self._is_regression() else 0
            take = self._take = TakeBuffer(len(values), outputs, MAX_TAKE_VALUES)
        elif len(take) >= take.capacity:
            return  # full: its stop is on its way
        if not take.append(values, t_in - self._take_t0, self.current_outputs):
            text = (f"the take reached {len(take)} frames, the longest kept ({MAX_TAKE_VALUES} "
                    "numbers): it ends there, as if stopped (a forgotten stopRecording?)")
            self._errlog("take bound", "%s", text)
            self._notice("take_stopped", text)
            self.command("stop_recording")
