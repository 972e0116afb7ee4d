"""The frames of the last gesture: what ``/gesturemap/correct LABEL`` relabels as a take.

The engine keeps the frames since the last reset or take, the newest :data:`GESTURE_FRAMES`
of them, on the frame path. They are written into two arrays allocated once (at the first
frame: its width), as a ring: keeping a frame writes a row and holds no object of its own, so
forgetting the gesture (every reset, take and ``startRunning``) sets a count, and a
correction copies one block. A queue of the frames' own arrays freed each of them one by one
as it was cleared (0.3-0.6 ms for a full gesture) and a correction stacked them (2-5 ms),
each time on the frame the command came before.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["GESTURE_FRAMES", "LastGesture"]

#: Frames of the last gesture kept for a correction (about 80 s at 100 frames/s).
GESTURE_FRAMES = 8192


class LastGesture:
    """The newest ``capacity`` frames since :meth:`clear` (engine thread only)."""

    def __init__(self, capacity: int = GESTURE_FRAMES) -> None:
        self.capacity = int(capacity)
        self._inputs: np.ndarray | None = None  # (capacity, width), made at the first frame
        self._times = np.empty(self.capacity)
        self._count = 0  # frames kept since the last clear (the oldest overwritten past capacity)

    def __len__(self) -> int:
        return min(self._count, self.capacity)

    def append(self, values: Any, t: float) -> None:
        """Keep one frame (on the frame path: a row written; memory only at the first frame,
        or at a frame of another width, which starts the gesture again)."""
        inputs = self._inputs
        if inputs is None or inputs.shape[1] != len(values):
            inputs = self._inputs = np.empty((self.capacity, len(values)))
            self._count = 0
        i = self._count % self.capacity
        inputs[i] = values
        self._times[i] = t
        self._count += 1

    def clear(self) -> None:
        """Forget the gesture (a new one starts with the next frame)."""
        self._count = 0

    def frames(self) -> tuple[np.ndarray, np.ndarray]:
        """The gesture's ``(inputs, times)``, oldest first, copies; times from its first
        frame (0). Empty when no frame came since the last clear."""
        n = len(self)
        if self._inputs is None or not n:
            return np.empty((0, 0)), np.empty(0)
        if self._count <= self.capacity:
            inputs, times = self._inputs[:n].copy(), self._times[:n]
        else:  # the ring went round: its oldest frame is where the next one goes
            start = self._count % self.capacity
            inputs = np.concatenate([self._inputs[start:], self._inputs[:start]])
            times = np.concatenate([self._times[start:], self._times[:start]])
        return inputs, times - times[0]
