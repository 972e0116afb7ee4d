"""Replay a recorded session as if its sensor were live.

:class:`ReplaySource` plays the ``input`` stream of a session log (a folder written by
:class:`gesturemap.log.SessionLog`), or a data set ``.npz`` file of concatenated recordings
(``X_concat``, ``lengths``, ``y``: the format of the shared datasets), into a
:class:`~gesturemap.sources.FrameQueue`, at the recorded timing scaled by ``speed``, or as fast
as the consumer takes the frames. Everything downstream (engine, pipeline, model, outputs) runs
exactly as with a real sensor, which is how a logged session is run through another model.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np

from ..errors import FormatError
from ..utils.validation import check_number, validation_error
from .base import FrameQueue, Source

__all__ = ["ReplaySource", "load_replay"]

#: Frames put in one go, as fast as possible, before the thread checks for stop() again.
_BATCH = 256
#: Longest single sleep: stop() is noticed within this time.
_MAX_WAIT_S = 0.05
#: How long to wait for room when the queue is full (as fast as possible mode).
_FULL_WAIT_S = 0.0005


def load_replay(
    path: str | os.PathLike[str], *, stream: str = "input", rate_hz: float | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Read what a :class:`ReplaySource` plays: frame times, frames and channel names.

    Parameters
    ----------
    path : str or os.PathLike
        A session log folder, or a data set ``.npz`` file.
    stream : str, default "input"
        The session log's stream to play.
    rate_hz : float, optional
        The frame rate of an ``.npz`` data set (which holds no times); default 50 Hz.

    Returns
    -------
    times : numpy.ndarray, shape (N,)
        Seconds, never decreasing.
    values : numpy.ndarray, shape (N, D), float64
    channel_names : tuple of str, length D

    Raises
    ------
    FormatError
        If the file or folder is missing or damaged, has no such stream, holds no frame, or its
        times decrease.
    """
    source = Path(path)
    if source.is_dir():
        from ..log import read_log  # the log module imports sources: import it when used

        streams = read_log(source)
        if stream not in streams:
            raise FormatError(
                f"{source}: the session log has no stream {stream!r}; it has "
                f"{', '.join(sorted(streams)) or 'none'}."
            )
        times, values, names = streams[stream]
        if times.size > 1 and np.any(np.diff(times) < 0):
            first = int(np.argmax(np.diff(times) < 0)) + 1
            raise FormatError(f"{source}: the times of stream {stream!r} decrease at row {first}.")
    else:
        from ..data import Dataset

        rate = 50.0 if rate_hz is None else float(check_number("rate_hz", rate_hz, minimum=1e-6))
        dataset = Dataset.from_npz(source)
        values = dataset.concatenated().inputs
        times = np.arange(len(values)) / rate
        names = dataset.input_names
    if len(values) == 0:
        raise FormatError(f"{source} holds no frame to replay.")
    return times, np.ascontiguousarray(values, dtype=np.float64), tuple(names)


class ReplaySource(Source):
    """A source that replays a session log or a data set file as a live sensor.

    Parameters
    ----------
    queue : FrameQueue
        Where frames go; owned by the engine.
    path : str or os.PathLike
        A session log folder (its ``stream`` is played) or a data set ``.npz`` file.
    speed : float or None, default 1.0
        Playback speed: 1.0 keeps the recorded timing, 2.0 plays twice as fast. None plays as
        fast as the consumer takes the frames, waiting while the queue is full, so nothing is
        dropped.
    loop : bool, default False
        Start again at the end instead of stopping.
    stream : str, default "input"
        The session log's stream to play.
    name : str, default "replay"
        The source's name, written into every frame.
    rate_hz : float, optional
        Frame rate of an ``.npz`` data set (default 50 Hz); ignored for a session log.

    Attributes
    ----------
    finished : threading.Event
        Set when the last frame has been put (never, with ``loop``).
    times : numpy.ndarray, shape (N,)
        The recorded times, in seconds.
    values : numpy.ndarray, shape (N, D)
        The recorded frames.

    Notes
    -----
    A frame's :attr:`~gesturemap.sources.Frame.t` is its recorded time shifted so that the
    first frame is at the moment playback starts (:func:`time.perf_counter` seconds), *not*
    scaled by ``speed``: the pipeline sees the original time steps at any speed, so a replay
    computes the same features and model outputs as the session did. Hence
    :attr:`sensor_clock` is True. Each loop continues the times, one frame period after the
    previous pass's last frame.
    """

    sensor_clock = True

    def __init__(
        self,
        queue: FrameQueue,
        path: str | os.PathLike[str],
        *,
        speed: float | None = 1.0,
        loop: bool = False,
        stream: str = "input",
        name: str = "replay",
        rate_hz: float | None = None,
    ) -> None:
        if speed is not None:
            speed = float(check_number("speed", speed, minimum=1e-6, hint="Use None for ASAP."))
        if not isinstance(loop, bool):
            raise validation_error("loop", loop, "True or False")
        times, values, names = load_replay(path, stream=stream, rate_hz=rate_hz)
        super().__init__(queue, name=name, channel_names=names)
        self.path = Path(path)
        self.speed = speed
        self.loop = loop
        self.times = times
        self.values = values
        self.finished = threading.Event()
        steps = np.diff(times)
        positive = steps[steps > 0]
        # One loop pass follows the previous one after a typical frame step.
        self._period = float(np.median(positive)) if positive.size else 1.0 / 50.0
        self._next = 0
        self._offset = 0.0
        self._start = 0.0
        self._passes = 0

    @property
    def duration_s(self) -> float:
        """Recorded length of one pass, in seconds (first to last frame)."""
        return float(self.times[-1] - self.times[0])

    @property
    def position(self) -> int:
        """Index of the next frame to play within the pass."""
        return self._next

    @property
    def passes(self) -> int:
        """Complete passes played so far."""
        return self._passes

    def _open(self) -> None:
        self.finished.clear()
        self._next = 0
        self._offset = 0.0
        self._passes = 0
        self._start = time.perf_counter()
        self.stats.connected = True

    def _step(self) -> None:
        if self.speed is None:
            self._step_asap()
        else:
            self._step_timed(self.speed)

    def _step_timed(self, speed: float) -> None:
        times, t_first = self.times, self.times[0]
        due = self._start + (times[self._next] - t_first + self._offset) / speed
        wait = due - time.perf_counter()
        if wait > 0:
            # Sleep in short slices so that stop() is noticed; wake at the due time.
            self._stopping.wait(min(wait, _MAX_WAIT_S))
            if wait > _MAX_WAIT_S:
                return
        now = time.perf_counter()
        # Put every frame that is due (after a late wake-up, several at once, in order).
        while (
            not self.finished.is_set()
            and self._start + (times[self._next] - t_first + self._offset) / speed <= now
        ):
            self._put_next()

    def _step_asap(self) -> None:
        queue = self.queue
        room = queue.maxlen - len(queue)
        if room <= 0:
            # Only this thread puts into the queue meant for a replay: wait for the consumer.
            self._stopping.wait(_FULL_WAIT_S)
            return
        for _ in range(min(room, _BATCH)):
            self._put_next()
            if self.finished.is_set():
                return

    def _put_next(self) -> None:
        i = self._next
        self.stats.packets_in += 1
        self._enqueue(
            self._start + (self.times[i] - self.times[0]) + self._offset, self.values[i].copy()
        )
        i += 1
        if i < len(self.times):
            self._next = i
            return
        self._passes += 1
        if self.loop:
            self._next = 0
            self._offset += self.duration_s + self._period
            return
        self.finished.set()
        self._stopping.set()  # the thread ends; stop() still joins it and closes
        self.stats.connected = False
