"""What every sensor source shares: frames, the bounded frame queue, health counters, the thread.

A source owns one thread. The thread only reads, parses, validates and enqueues: it never
touches the pipeline or the model (the engine owns them, see docs/architecture.md, "The
one-way data flow"). Whatever goes wrong inside the thread is counted, logged at most once a
second per kind, and the thread carries on; nothing escapes it. With the environment variable
``GESTUREMAP_RAISE=1`` (tests set it) an unexpected exception instead ends the thread, is kept in
:attr:`Source.exception` and is raised again by :meth:`Source.stop`, so a bug cannot hide.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..utils.faults import RateLimitedLog, raise_mode
from ..utils.validation import Described, check_number, validation_error

__all__ = [
    "MAX_ABS_VALUE",
    "MAX_SPREAD_S",
    "MIN_STEP_S",
    "Frame",
    "FrameQueue",
    "SensorClock",
    "Source",
    "SourceStats",
    "spread_times",
]

#: Values whose magnitude exceeds this are refused as corrupt (no sensor reads 1e12 of anything).
MAX_ABS_VALUE = 1e12
#: The least step between two frames' times from one source, in seconds. A pipeline that uses
#: time (OneEuro, Derivative, Resample, a LowPass with a cutoff) refuses a frame whose time is
#: not after the previous one's, so frames that share a receipt time (an OSC bundle) or whose
#: sensor clock stood still or went back are moved just after the previous frame.
MIN_STEP_S = 1e-6
#: The longest span :func:`spread_times` spreads frames read at once over (a sender silent for
#: a minute and then sending a bundle did not sample its frames over that minute).
MAX_SPREAD_S = 1.0


def spread_times(n: int, previous: float | None, t: float) -> list[float]:
    """Times for ``n`` frames read at once at ``t``, received since ``previous``.

    Frames read in one chunk (serial lines, an LSL chunk) arrived between the previous read
    (``previous``, :func:`time.perf_counter` seconds, None if unknown) and ``t``: they get
    times evenly spread over that span, the last one ``t``, so that a pipeline that uses time
    sees each after the last with a plausible step (a step of a microsecond would turn a
    derivative into a spike). After a silence the span is at most :data:`MAX_SPREAD_S`.
    """
    if n <= 1 or previous is None or not previous < t:
        return [t] * n
    step = min(t - previous, MAX_SPREAD_S) / n
    return [t - (n - 1 - j) * step for j in range(n)]


class SensorClock:
    """A sensor's own timestamps, mapped onto the receipt clock (:func:`time.perf_counter`).

    The sensor's clock gives the steps between frames (free of the USB and scheduling jitter
    of the receipt times); the receipt clock gives where they lie, so that a frame's time means
    the same to the engine whatever the source (latency, take times, the session log).

    The offset between the two clocks (receipt minus stamp) is the least one seen over the
    last :attr:`WINDOW_S` seconds: a frame's offset is its transport delay plus a constant, so
    the least is the frame that waited least, and a frame is never mapped later than it was
    received (the engine's latency, now minus a frame's time, is never negative). A frame that
    comes with a smaller offset than the one kept (a board clock that runs fast, a first frame
    that waited long) lowers it at once; a greater one (a clock that runs slow, a fast frame
    that left the window) raises it gradually, at most :attr:`RISE` seconds per second, so the
    steps between frames stay the board's. The offset is taken again at once when a stamp goes
    back (the board restarted: its clock starts from 0 again) or lies more than
    :attr:`SLACK_S` behind its receipt (a clock that stood still).

    Mapped times increase: frames a lowered offset would put less than half their stamps'
    step after the last one mapped go on from it at half steps, squeezed if need be (to a
    tenth at most) to end at their receipt. Two cases run ahead of the receipt for a while: a clock
    taken again within a few frames' time of the last frame (a board that restarted) goes on
    from it with the board's steps, and frames that came much faster than their stamps say (a
    backlog) keep :attr:`SQUEEZE` of the board's steps, until the offset comes down again.

    A stamp that lies more than :attr:`SLACK_S` ahead of its receipt (by the kept offset) is
    no time a board's clock can show (a corrupt line, a wrong digit): its frame keeps its
    receipt time and the clock goes on as if it had not come, so one bad stamp never moves
    the frames after it.

    Attributes
    ----------
    resyncs : int
        How many times the offset was taken again after the first.
    glitches : int
        Stamps no clock shows (not a number, infinite, or too far ahead of their receipt);
        their frames were timed on receipt.
    """

    #: A frame whose stamp lies this much further behind its receipt than the kept offset
    #: says takes the offset again at once (seconds).
    SLACK_S = 1.0
    #: The span over which the least offset is kept (seconds of the receipt clock).
    WINDOW_S = 1.0
    #: How fast the kept offset may rise (seconds per second): above the drift of any
    #: board's clock (crystals 0.01 %, ceramic resonators 0.5 %).
    RISE = 0.02
    #: The least step between frames that came faster than their stamps say, as a fraction
    #: of their stamps' step (the rest is how fast they catch up with their receipt).
    SQUEEZE = 0.95

    __slots__ = ("_last_receipt", "_last_stamp", "_last_t", "_offset", "_step", "_window",
                 "glitches", "resyncs")

    def __init__(self) -> None:
        self._offset: float | None = None
        self._last_stamp = -math.inf
        self._last_receipt = -math.inf
        self._last_t = -math.inf  # the last time mapped (kept across reset: times increase)
        self._step = 0.0  # the last step between two stamps (0: none seen yet)
        #: (receipt, offset) pairs, offsets increasing: the least of the window is first
        self._window: deque[tuple[float, float]] = deque()
        self.resyncs = 0
        self.glitches = 0

    def reset(self) -> None:
        """Forget the offset (the device was opened again: its clock may have restarted)."""
        self._offset = None
        self._last_stamp = -math.inf
        self._window.clear()

    def map(self, stamp: float, receipt: float) -> float:
        """The time on the receipt clock of a frame stamped ``stamp`` (s), received at ``receipt``."""
        return self.map_many((stamp,), receipt)[0]

    def map_many(self, stamps: Sequence[float], receipt: float) -> list[float]:
        """The times on the receipt clock of frames stamped ``stamps`` (s), received together
        at ``receipt`` (an LSL chunk, the lines of one serial read), in order."""
        times: list[float] = []
        start = 0
        n = len(stamps)
        while start < n:
            if not self._plausible(stamps[start], receipt):  # no time a clock shows
                self.glitches += 1
                times.append(self._on_receipt(receipt))
                start += 1
                continue
            # a run of frames whose stamps do not go back: they share one offset
            end = start + 1
            while (end < n and stamps[end] >= stamps[end - 1]
                   and self._plausible(stamps[end], receipt)):
                end += 1
            times += self._map_run(stamps[start:end], receipt)
            start = end
        return times

    def _plausible(self, stamp: float, receipt: float) -> bool:
        """A finite stamp not more than :attr:`SLACK_S` ahead of its receipt."""
        kept = self._offset
        return math.isfinite(stamp) and (kept is None or stamp + kept <= receipt + self.SLACK_S)

    def _on_receipt(self, receipt: float) -> float:
        """The time of a frame whose stamp is no time: its receipt (after the last mapped)."""
        t = max(receipt, self._last_t + MIN_STEP_S)
        self._last_t = t
        return t

    def _map_run(self, stamps: Sequence[float], receipt: float) -> list[float]:
        first, latest = stamps[0], stamps[-1]
        least = receipt - latest  # the offset of the run's frame that waited least
        kept = self._offset
        anchor = kept is None or first < self._last_stamp or least - kept > self.SLACK_S
        if anchor:
            if kept is not None:
                self.resyncs += 1
            self._window.clear()
        window = self._window
        while window and window[-1][1] >= least:
            window.pop()
        window.append((receipt, least))
        while window[0][0] < receipt - self.WINDOW_S:
            window.popleft()
        target = window[0][1]
        if anchor or kept is None or target < kept:
            kept = target
        else:
            kept = min(target, kept + self.RISE * (receipt - self._last_receipt))
        if len(stamps) > 1 and latest > stamps[-2]:
            self._step = latest - stamps[-2]
        elif not anchor and first > self._last_stamp:
            self._step = first - self._last_stamp
        last_t = self._last_t
        times = [stamp + kept for stamp in stamps]
        if anchor:
            if not times[0] > last_t:
                # a board that restarted within a few frames' time: go on from the last
                shift = last_t + (self._step or MIN_STEP_S) - times[0]
                times = [t + shift for t in times]
        elif times[0] - last_t < 0.5 * (first - self._last_stamp) or not times[0] > last_t:
            times = self._after(times, stamps, receipt)
        self._offset = kept
        self._last_stamp = latest
        self._last_receipt = receipt
        self._last_t = max(last_t, times[-1])
        return times

    def _after(self, times: list[float], stamps: Sequence[float], receipt: float) -> list[float]:
        """``times`` (a lowered offset's) placed after the last time mapped, each at least
        half its stamps' step after the one before."""
        last_t = self._last_t
        out = self._spaced(times, stamps, 0.5)
        if not out[-1] > receipt:
            return out
        # Too many for the time since the last frame: squeezed towards it, never later than
        # their receipt, unless the steps would be less than a tenth of the stamps' (the
        # frames came faster than the board's clock says: a backlog). They then keep nearly
        # the board's steps, ahead of their receipt until they catch up with it.
        scale = (receipt - last_t) / (out[-1] - last_t)
        if scale >= 0.1:
            return [last_t + (t - last_t) * scale for t in out]
        return self._spaced(times, stamps, self.SQUEEZE)

    def _spaced(self, times: list[float], stamps: Sequence[float], share: float) -> list[float]:
        """``times``, each at least ``share`` of its stamps' step after the one before (the
        first after the last time mapped)."""
        out = []
        previous, before = self._last_t, self._last_stamp
        for t, stamp in zip(times, stamps, strict=True):
            # (a stamp repeated, a clock that stood still: still a step, times increase)
            previous = max(t, previous + max(share * (stamp - before), MIN_STEP_S))
            out.append(previous)
            before = stamp
        return out


class Frame(NamedTuple):
    """One sensor frame, as a source hands it to the engine.

    A named tuple: created in about a quarter of a microsecond and immutable. The array is not
    copied again by anyone downstream; do not write into it.

    Attributes
    ----------
    t : float
        When the frame arrived, in seconds of :func:`time.perf_counter`. With a sensor's own
        timestamps (:attr:`Source.sensor_clock`) they are mapped onto that clock
        (:class:`SensorClock`). Strictly increasing from one frame of a source to the next.
    values : numpy.ndarray, shape (D,), float64
        The channel values, in the order of :attr:`Source.channel_names`.
    source : str
        The name of the source that produced the frame.
    """

    t: float
    values: np.ndarray
    source: str


class FrameQueue:
    """A bounded, thread-safe queue of frames whose ``put`` never blocks.

    Sources put, the engine gets. When the queue is full, ``put`` drops the *oldest* frame (a
    real-time consumer wants the newest data) and counts it in :attr:`dropped`.

    Parameters
    ----------
    maxlen : int, default 4096
        How many frames the queue holds (4 s of a 1 kHz sensor).

    Notes
    -----
    One lock guards the deque and the counters; the condition built on it wakes a waiting
    ``get``. ``put`` only notifies when a consumer is actually waiting, so the common case costs
    a lock round trip and a deque append (see ``benchmarks/bench_sources.py``).
    """

    __slots__ = ("_cond", "_direct", "_frames", "_maxlen", "_numbers", "_waiting", "dropped",
                 "put_count")

    def __init__(self, maxlen: int = 4096) -> None:
        check_number("maxlen", maxlen, minimum=1, integer=True)
        self._maxlen = maxlen
        self._frames: deque[Frame] = deque(maxlen=maxlen)
        #: each queued frame's number (``put_count`` when it was put), side by side
        self._numbers: deque[int] = deque(maxlen=maxlen)
        self._cond = threading.Condition(threading.Lock())
        self._waiting = 0
        self._direct: Callable[[Frame], bool] | None = None
        self.dropped = 0
        self.put_count = 0

    @property
    def maxlen(self) -> int:
        """How many frames the queue holds before it drops the oldest."""
        return self._maxlen

    def __len__(self) -> int:
        return len(self._frames)

    def put(self, frame: Frame) -> bool:
        """Append a frame without ever blocking.

        Parameters
        ----------
        frame : Frame

        Returns
        -------
        bool
            True if the queue was full and its oldest frame was dropped to make room.
        """
        direct = self._direct
        if direct is not None and direct(frame):
            # counted without the lock: under CPython's GIL this `+=` loses no count (no
            # thread switch between its read and its write), and a lock would cost every frame
            self.put_count += 1
            return False
        with self._cond:
            full = len(self._frames) == self._maxlen
            # A deque with maxlen discards from the left by itself when full.
            self._frames.append(frame)
            self._numbers.append(self.put_count)
            self.put_count += 1
            if full:
                self.dropped += 1
            if self._waiting:
                self._cond.notify()
        return full

    def get(self, timeout: float | None = None) -> Frame | None:
        """Take the oldest frame, waiting for one if the queue is empty.

        Parameters
        ----------
        timeout : float or None, default None
            Seconds to wait at most; ``None`` waits for ever, ``0`` does not wait.

        Returns
        -------
        Frame or None
            None when no frame came within ``timeout``.
        """
        with self._cond:
            if not self._frames:
                if timeout is not None and timeout <= 0:
                    return None
                deadline = None if timeout is None else time.monotonic() + timeout
                self._waiting += 1
                try:
                    while not self._frames:
                        remaining = None if deadline is None else deadline - time.monotonic()
                        if remaining is not None and remaining <= 0:
                            return None
                        self._cond.wait(remaining)
                finally:
                    self._waiting -= 1
            self._numbers.popleft()
            return self._frames.popleft()

    def set_direct(self, handler: Callable[[Frame], bool] | None) -> None:
        """Offer each frame to ``handler`` first, on the putting thread; the frame is queued
        only when the handler returns False (busy). The consumer uses this to handle a frame
        where it arrives, saving a thread hop, when it is idle; it must then keep the order
        (handle the queued frames first) and never block."""
        self._direct = handler

    def wait(self, timeout: float) -> bool:
        """Wait until the queue holds a frame (True) or ``timeout`` seconds pass (False)."""
        with self._cond:
            if self._frames:
                return True
            self._waiting += 1
            try:
                self._cond.wait(timeout)
            finally:
                self._waiting -= 1
            return bool(self._frames)

    def drain(self) -> list[Frame]:
        """Take every frame in the queue at once, oldest first (empty list if none)."""
        return self.drain_numbered()[0]

    def drain_numbered(self) -> tuple[list[Frame], list[int], int]:
        """:meth:`drain`, each frame's number, and ``put_count`` at the drain.

        A frame's number is ``put_count`` when it was put (how many frames had been put
        before it: handed on directly, dropped or queued). A consumer told something between
        two frames (a command, stamped with ``put_count`` when it came) places it by these
        numbers: before the frames numbered from its stamp on, and before any frame still to
        come when its stamp is at most the count at the drain."""
        with self._cond:
            frames = list(self._frames)
            numbers = list(self._numbers)
            self._frames.clear()
            self._numbers.clear()
            count = self.put_count
        return frames, numbers, count


def _said(why: tuple[str, tuple[Any, ...]] | None) -> str | None:
    """A bad packet's reason as its log line says it (None: none)."""
    if why is None:
        return None
    try:
        return why[0] % why[1]
    except (TypeError, ValueError):  # a message that does not take its arguments: as it is
        return why[0]


class SourceStats:
    """Health counters of one source, written by its thread and read by anyone.

    Attributes
    ----------
    packets_in : int
        What was read, valid or not: OSC datagrams, serial text lines, binary frames.
    frames_in : int
        Valid frames enqueued.
    bad_packets : int
        Packets, lines or binary frames refused (malformed, wrong size or type, NaN, infinite,
        too large, bad checksum, garbage between binary frames).
    dropped_frames : int
        Frames this source put into a full queue (each pushed out the queue's oldest frame).
    kernel_drops : int
        Datagrams the operating system dropped before the source could read them (its receive
        buffer was full), where the OS reports it (Linux, OSC); else 0.
    ignored : int
        Well-formed messages the profile does not use (other OSC addresses, other line labels).
    control_messages : int
        Wekinator control messages handed to the control callback.
    errors : int
        Unexpected exceptions caught in the thread (a bug, or a failing control callback).
    reconnects : int
        Times the device was opened again after it went away.
    away_s : float
        Seconds the device was away, in total, over the outages that ended.
    away_since : float or None
        :func:`time.perf_counter` when the device went away, while it is away (see
        :meth:`went_away`); else None.
    outages : tuple of (float, float)
        The last :attr:`OUTAGES_KEPT` outages that ended, (from, to) in seconds of
        :func:`time.perf_counter`, oldest first: a take's engine finds in them when the
        sensor was away during the take (:meth:`outages_between`).
    last_frame_t : float or None
        :func:`time.perf_counter` when the last valid frame arrived.
    connected : bool
        True while the socket is bound or the serial port is open.
    clock : SensorClock or None
        The sensor's clock, for a source that times frames by the sensor's own stamps: its
        :attr:`~SensorClock.resyncs` and :attr:`~SensorClock.glitches` are in
        :meth:`snapshot` (``clock_resyncs``, ``clock_glitches``); else None.

    Notes
    -----
    Only the source's thread writes; each field is a single int, float, bool or tuple whose
    assignment is atomic, so :meth:`snapshot` from another thread needs no lock. It may mix
    counters from two consecutive frames, never a half-written value.
    """

    __slots__ = (
        "away_s",
        "away_since",
        "bad_packets",
        "clock",
        "connected",
        "control_messages",
        "dropped_frames",
        "errors",
        "frames_in",
        "_kernel_drops",
        "drops_reader",
        "ignored",
        "last_bad",
        "last_frame_t",
        "outages",
        "packets_in",
        "reconnects",
        "_rate_hz",
        "_window_count",
        "_window_start",
    )

    #: Length of the window over which the frame rate is counted, in seconds.
    RATE_WINDOW_S = 0.5
    #: Weight of the newest window in the rate's exponential moving average.
    RATE_SMOOTHING = 0.5
    #: How many ended outages :attr:`outages` keeps (a take longer than this many unplugs
    #: hears of its latest ones).
    OUTAGES_KEPT = 64

    def __init__(self) -> None:
        self.packets_in = 0
        self.frames_in = 0
        self.bad_packets = 0
        self.dropped_frames = 0
        self._kernel_drops = 0
        #: Reads the OS's count of dropped datagrams (set by sources that have one), or None.
        self.drops_reader: Callable[[], int | None] | None = None
        self.ignored = 0
        #: Why the last bad packet was refused: (log message, its arguments), formatted only
        #: when read (:meth:`snapshot`), or None. A window shows it beside the count: a
        #: sensor sending frames of another width is otherwise just "bad 105" there.
        self.last_bad: tuple[str, tuple[Any, ...]] | None = None
        self.control_messages = 0
        self.errors = 0
        self.reconnects = 0
        self.away_s = 0.0
        self.away_since: float | None = None
        self.outages: tuple[tuple[float, float], ...] = ()
        self.last_frame_t: float | None = None
        self.connected = False
        self.clock: SensorClock | None = None
        self._rate_hz = 0.0
        self._window_count = 0
        self._window_start: float | None = None

    def count_frame(self, t: float) -> None:
        """Record one valid frame received at ``t`` (:func:`time.perf_counter` seconds)."""
        self.frames_in += 1
        self.last_frame_t = t
        # Frames are counted over windows of RATE_WINDOW_S rather than from single intervals:
        # serial chunks and OSC bursts deliver several frames with the same receipt time.
        if self._window_start is None:
            self._window_start = t
            return
        self._window_count += 1
        elapsed = t - self._window_start
        if elapsed >= self.RATE_WINDOW_S:
            rate = self._window_count / elapsed
            if self._rate_hz and elapsed < 4 * self.RATE_WINDOW_S:
                rate = self._rate_hz + self.RATE_SMOOTHING * (rate - self._rate_hz)
            self._rate_hz = rate
            self._window_count = 0
            self._window_start = t

    def went_away(self, t: float) -> None:
        """The device went away at ``t`` (:func:`time.perf_counter` seconds): an outage
        begins, unless one is under way (source thread only)."""
        if self.away_since is None:
            self.away_since = t

    def came_back(self, t: float) -> None:
        """The device is back at ``t``: the outage under way ends (source thread only)."""
        start = self.away_since
        if start is None:
            return
        end = max(t, start)
        # the ended outage first, the flag after: a reader that takes the flag first and the
        # tuple after (outages_between) sees the outage at least once
        self.outages = (*self.outages[1 - self.OUTAGES_KEPT:], (start, end))
        self.away_s += end - start
        self.away_since = None

    def outages_between(self, t0: float, t1: float) -> list[tuple[float, float]]:
        """The outages that overlap ``t0``..``t1``, clipped to it (from any thread); one
        under way ends at ``t1``."""
        since = self.away_since  # first, then the tuple (see came_back)
        spans = list(self.outages)
        if since is not None and not any(start == since for start, _ in spans):
            spans.append((since, t1))
        return [(max(a, t0), min(b, t1)) for a, b in spans if a < t1 and b > t0]

    @property
    def kernel_drops(self) -> int:
        """Datagrams the OS dropped so far (read now; the last value read once closed)."""
        reader = self.drops_reader
        if reader is not None:
            value = reader()
            if value is not None and value > self._kernel_drops:
                self._kernel_drops = value
        return self._kernel_drops

    @property
    def rate_hz(self) -> float:
        """Measured frame rate (0 when no frame came for the last two seconds)."""
        last = self.last_frame_t
        if last is None or time.perf_counter() - last > 2.0:
            return 0.0
        return self._rate_hz

    def snapshot(self) -> dict[str, Any]:
        """The counters as a plain dict, safe to call from any thread.

        Returns
        -------
        dict
            ``packets_in``, ``frames_in``, ``bad_packets``, ``dropped_frames``,
            ``kernel_drops``, ``ignored``,
            ``control_messages``, ``errors``, ``reconnects``, ``away_s`` (seconds away in
            all, an outage under way included), ``last_frame_t``, ``connected``,
            ``rate_hz``; with a sensor clock also ``clock_resyncs`` (times its clock was
            taken again: a board reset, a clock that stood still) and ``clock_glitches``
            (stamps no clock shows, their frames timed on arrival).
        """
        away_s, since = self.away_s, self.away_since  # (an outage ending meanwhile: once)
        if since is not None:
            away_s += time.perf_counter() - since
        snap: dict[str, Any] = {
            "packets_in": self.packets_in,
            "frames_in": self.frames_in,
            "bad_packets": self.bad_packets,
            "dropped_frames": self.dropped_frames,
            "kernel_drops": self.kernel_drops,
            "ignored": self.ignored,
            "control_messages": self.control_messages,
            "errors": self.errors,
            "reconnects": self.reconnects,
            "away_s": away_s,
            "last_frame_t": self.last_frame_t,
            "connected": self.connected,
            "rate_hz": self.rate_hz,
            "last_bad": _said(self.last_bad),
        }
        clock = self.clock
        if clock is not None:
            snap["clock_resyncs"] = clock.resyncs
            snap["clock_glitches"] = clock.glitches
        return snap


class Source:
    """Base of the sensor sources: one thread that parses, validates and enqueues frames.

    Subclasses implement :meth:`_open` (in the caller's thread, so that a port already in use
    fails at ``start()``), :meth:`_step` (one read, called in a loop by the thread until
    :meth:`stop`; it must return within a fraction of a second, or block on its input and
    implement :meth:`_interrupt`, which :meth:`stop` calls to wake it, as the OSC source
    does) and :meth:`_close`.

    Parameters
    ----------
    queue : FrameQueue
        Where frames go; owned by the engine.
    name : str
        The source's name, written into every frame.
    channel_names : sequence of str, optional
        One name per value of a frame. Empty means "any size": the size of the first valid
        frame is then kept, and channels are named ``in1``, ``in2``, ...

    Attributes
    ----------
    stats : SourceStats
    exception : BaseException or None
        The last unexpected exception caught in the thread (see the module docstring).
    sensor_clock : bool
        True when :attr:`Frame.t` comes from the sensor's own timestamps (mapped onto the
        receipt clock) rather than from the receipt time.
    """

    sensor_clock = False

    def __init__(self, queue: FrameQueue, *, name: str, channel_names: Sequence[str] = ()) -> None:
        if not isinstance(queue, FrameQueue):
            raise validation_error(
                "queue",
                Described(f"a {type(queue).__name__}"),
                "a gesturemap.sources.FrameQueue (the engine owns it)",
            )
        self.queue = queue
        self.name = str(name)
        self._channel_names = tuple(str(c) for c in channel_names)
        self._arity: int | None = len(self._channel_names) or None
        self.stats = SourceStats()
        self.exception: BaseException | None = None
        self._log = RateLimitedLog(logging.getLogger(f"gesturemap.sources.{self.name}"))
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lifecycle = threading.Lock()
        self._last_t = -math.inf  # the last frame's time (frame times strictly increase)

    # -- public -------------------------------------------------------------------------------

    @property
    def channel_names(self) -> tuple[str, ...]:
        """The name of each value of a frame (empty until the size is known, see above)."""
        return self._channel_names

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Source:
        """Open the input and start the thread (a no-op if already started).

        Returns
        -------
        Source
            ``self``, so that ``source = OSCSource(q).start()`` reads naturally.
        """
        with self._lifecycle:
            if self._thread is not None:
                return self
            self._stopping.clear()
            self._open()
            self._thread = threading.Thread(
                target=self._main, name=f"gesturemap-source-{self.name}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread, wait for it, and close the socket or port. Safe to call twice.

        Parameters
        ----------
        timeout : float, default 5.0
            Seconds to wait for the thread to end.

        Raises
        ------
        BaseException
            Only with ``GESTUREMAP_RAISE=1``: the exception that ended the thread, if any.
        """
        with self._lifecycle:
            thread, self._thread = self._thread, None
            self._stopping.set()
            self._interrupt()
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)
            try:
                self._close()
            finally:
                self.stats.connected = False
        if self.exception is not None and raise_mode():
            exception, self.exception = self.exception, None
            raise exception

    def __enter__(self) -> Source:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} {self.name!r} {state}>"

    # -- for subclasses -----------------------------------------------------------------------

    def _open(self) -> None:
        """Open the input in the caller's thread (default: nothing)."""

    def _step(self) -> None:
        """Read once and enqueue what was read; return within a fraction of a second (or
        block, with an :meth:`_interrupt` that wakes it)."""
        raise NotImplementedError

    def _interrupt(self) -> None:
        """Wake a :meth:`_step` blocked on its input so the thread sees the stop at once
        (called by :meth:`stop` after the stop is set; default: nothing, the step returns
        within a fraction of a second by itself)."""

    def _close(self) -> None:
        """Release the socket or port (called after the thread ended; must be idempotent)."""

    def _emit(self, t: float, values: Sequence[float]) -> bool:
        """Validate one frame's values and enqueue them.

        Parameters
        ----------
        t : float
            The frame's time (see :class:`Frame`).
        values : sequence of int or float
            The values (bools count as 0/1).

        Returns
        -------
        bool
            False if the frame was refused (wrong size, NaN, infinite or beyond
            :data:`MAX_ABS_VALUE`) and counted as a bad packet.
        """
        if len(values) != self._arity and not self._lock_arity(len(values)):
            return False
        if not self._plausible(values):
            return False
        self._enqueue(t, np.array(values, dtype=np.float64))
        return True

    def _plausible(self, values: Sequence[float]) -> bool:
        """Whether every value is finite and within :data:`MAX_ABS_VALUE`; else count it bad."""
        for x in values:
            # One chained comparison rejects NaN (every comparison with it is False), +-inf
            # and implausible magnitudes; cheaper than numpy reductions for a few values.
            if not -MAX_ABS_VALUE <= x <= MAX_ABS_VALUE:
                self._bad("value", "%s: refused a frame holding %r (NaN, infinite or > 1e12)", x)
                return False
        return True

    def _enqueue(self, t: float, values: np.ndarray) -> None:
        """Put an already validated frame (a float64 array nobody else holds) into the queue."""
        stats = self.stats
        if not t > self._last_t:  # a shared receipt time, a sensor clock that went back
            t = self._last_t + MIN_STEP_S
        self._last_t = t
        if self.queue.put(Frame(t, values, self.name)):
            stats.dropped_frames += 1
        stats.count_frame(time.perf_counter() if self.sensor_clock else t)

    def _sensor_times(self, clock: SensorClock, stamps: Sequence[float],
                      receipt: float) -> list[float]:
        """``clock``'s times for ``stamps`` received at ``receipt``; a stamp no clock shows
        is said (at a limited rate) as well as counted in the stats."""
        glitches = clock.glitches
        times = clock.map_many(stamps, receipt)
        if clock.glitches != glitches:
            self._log("stamp", "%s: %d stamp(s) no clock shows (not a number, or more than "
                      "%g s ahead of their arrival); their frames timed on arrival (%d so far)",
                      self.name, clock.glitches - glitches, clock.SLACK_S, clock.glitches)
        return times

    def _lock_arity(self, n: int) -> bool:
        """Accept the first frame size when none was declared; refuse other sizes."""
        if self._arity is None and n > 0:
            self._arity = n
            self._channel_names = tuple(f"in{i + 1}" for i in range(n))
            return True
        self._bad(
            "arity",
            "%s: refused a frame of %d values; expected %s",
            n,
            self._arity if self._arity is not None else "at least one",
        )
        return False

    def _bad(self, kind: str, message: str, *args: Any) -> None:
        """Count one bad packet and log it at a limited rate (``message`` after the name)."""
        self.stats.bad_packets += 1
        self.stats.last_bad = (message, (self.name, *args))
        self._log(kind, message, self.name, *args)

    # -- the thread ---------------------------------------------------------------------------

    def _main(self) -> None:
        step = self._step
        stopping = self._stopping
        while not stopping.is_set():
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - nothing may escape a source thread
                self.stats.errors += 1
                self.exception = exc
                self._log(
                    f"error:{type(exc).__name__}",
                    "%s: unexpected %s in the source thread; skipped",
                    self.name,
                    type(exc).__name__,
                    level=logging.ERROR,
                    exc_info=exc,
                )
                if raise_mode():
                    self.stats.connected = False
                    raise
                # A persistent error must not spin a core at 100 %.
                stopping.wait(0.01)
