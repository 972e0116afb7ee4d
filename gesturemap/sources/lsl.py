"""A Lab Streaming Layer stream as the sensor (motion capture, EEG, a phone app with LSL...).

The stream is found by its name on the local network (LSL's own discovery); every sample of a
numeric stream becomes a frame, its channels named from the stream's description
(``desc/channels/channel/label``, as LabRecorder and most LSL apps write it), else ``in1``...
The source's thread pulls chunks with a short timeout, so it stops within 0.1 s.
Frame times are on the engine's clock (``time.perf_counter()``): the samples' LSL timestamps
give the steps between them (the samples of one chunk arrive together but were taken apart),
mapped onto that clock (:class:`~.base.SensorClock`), never later than the chunk's receipt.
The last sample's LSL timestamp is also kept as :attr:`LSLSource.last_lsl_time` for a
researcher who wants to line the two up.

A stream that goes away (its app quit or crashed, its machine left the network) is looked for
again by its name, every :data:`REFIND_EVERY_S`, and read again when it is back, whatever its
new uid or rate (``reconnects``); the time between is an outage in the stats (``away_s``,
``outages``), so a take recorded across it says so. One that comes back with another number of
channels, or carrying text, is not read (its frames would not fit the project): it is said, and
the outage goes on until the right one is back.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from ..errors import GesturemapError
from .base import FrameQueue, SensorClock, Source

__all__ = ["LSLSource", "list_streams"]

#: When the streams found first with the name do not fit the project, how long to look for
#: one more that does (seconds).
SECOND_LOOK_S = 2.0
#: The least number of samples the inlet's buffer holds. liblsl drops the oldest samples of a
#: burst larger than its buffer without a word (an app that flushes 10,000 samples at once:
#: 9,000 of them were lost with a 10 s buffer at 100 Hz); a burst that fits reaches the frame
#: queue, which counts what it drops (``dropped_frames``).
INLET_SAMPLES = 32768
#: Seconds to look for the stream when the source opens.
RESOLVE_TIMEOUT_S = 5.0
#: While the source opens, how often the look for the stream hands control back to Python
#: (seconds): Ctrl-C ends the look within this long.
LOOK_SLICE_S = 0.05
#: Once the stream went away, how long each look for it lasts, and the wait between two looks
#: (seconds; the source's thread must see a stop within a fraction of a second).
REFIND_EVERY_S = 0.25
#: While the stream comes back unfit (other channels, text), how often that is said (seconds).
AWAY_LOG_S = 60.0
#: A stream noticed gone within this long of its last sample went away at that sample (s).
LOST_AFTER_FRAME_S = 1.0


def _pylsl() -> Any:
    try:
        import pylsl
    except (ImportError, RuntimeError) as exc:  # RuntimeError: the wheel's liblsl missing
        raise GesturemapError(
            f"LSL needs pylsl with its liblsl ({exc}): pip install pylsl"
        ) from exc
    return pylsl


def list_streams(wait_s: float = 1.0) -> list[dict[str, Any]]:
    """The LSL streams visible now: name, type, channels, rate, format, host."""
    pylsl = _pylsl()
    return [
        {
            "name": s.name(),
            "type": s.type(),
            "channels": s.channel_count(),
            "rate_hz": s.nominal_srate(),
            "format": s.channel_format(),
            "host": s.hostname(),
        }
        for s in pylsl.resolve_streams(wait_time=wait_s)
    ]


def _channel_labels(info: Any, n: int) -> list[str]:
    labels = []
    ch = info.desc().child("channels").child("channel")
    while not ch.empty() and len(labels) < n:
        labels.append(ch.child_value("label") or f"in{len(labels) + 1}")
        ch = ch.next_sibling()
    return labels if len(labels) == n else [f"in{i + 1}" for i in range(n)]


class LSLSource(Source):
    """Reads the LSL stream called ``stream`` (a numeric one).

    Parameters
    ----------
    queue : FrameQueue
    stream : str
        The stream's name (exact, as LabRecorder lists it).
    name : str, default "lsl"
    size : int, optional
        The project's input size, when known: a stream with another number of channels is
        refused when the source opens (its every sample would be refused), and of several
        streams with that name the one with this many channels is read.
    """

    def __init__(self, queue: FrameQueue, stream: str, *, name: str = "lsl",
                 size: int | None = None) -> None:
        super().__init__(queue, name=name)
        self.stream = str(stream)
        self.size = None if size is None else int(size)
        self._inlet: Any = None
        self.last_lsl_time: float | None = None
        self._clock = SensorClock()
        self.stats.clock = self._clock

    def _open(self) -> None:
        pylsl = _pylsl()
        from pylsl.util import LostError  # (not exported at the top in pylsl 1.17+)

        self._lost_error = LostError
        if not self.stream:
            raise GesturemapError("LSL in: give the stream's name (gesturemap devices lists them).")
        self._log("looking", "%s: looking for LSL stream %r (at most %g s)", self.name,
                  self.stream, RESOLVE_TIMEOUT_S, level=logging.INFO)
        found = self._look(1, RESOLVE_TIMEOUT_S)
        if not found:
            others = sorted({s["name"] for s in list_streams(0.5)})
            raise GesturemapError(
                f"LSL stream {self.stream!r}: not found within {RESOLVE_TIMEOUT_S:.0f} s. "
                f"Streams there are: {', '.join(others) or 'none'}. Check the sending app runs "
                "and is on this network."
            )
        if not self._fits(found):
            # LSL's discovery returns at the first answer: a stream of that name that fits
            # (beside one that does not) may answer a moment later
            more = self._look(len(found) + 1, SECOND_LOOK_S)
            found = more if len(more) > len(found) else found
        numeric = [i for i in found if i.channel_format() != pylsl.cf_string]
        if not numeric:
            raise GesturemapError(
                f"LSL stream {self.stream!r} carries text (markers); a sensor needs numbers."
            )
        fit = self._fits(numeric)
        if not fit:
            counts = ", ".join(sorted({str(i.channel_count()) for i in numeric}))
            raise GesturemapError(
                f"LSL stream {self.stream!r} has {counts} channels; the project reads "
                f"{self.size}. Pick the stream the project was recorded with, or record new "
                "takes in a new project."
            )
        info = fit[0]
        if len(found) > 1:  # which one LSL's discovery happens to list first is luck: said
            self._log("several", "%s: %d LSL streams are called %r; reading the one from %s "
                      "(uid %s)", self.name, len(found), self.stream, info.hostname(),
                      info.uid())
        n = info.channel_count()
        full = self._connect(info)
        self._channel_names = tuple(_channel_labels(full, n))
        self._arity = n
        self._unfit_said = -math.inf
        self.stats.connected = True

    def _look(self, minimum: int, timeout_s: float) -> list[Any]:
        """The streams called :attr:`stream` seen within ``timeout_s`` seconds, as soon as
        there are ``minimum`` of them.

        ``pylsl.resolve_byprop`` waits inside liblsl, where Python runs no signal handler: a
        Ctrl-C while ``gesturemap run`` starts (the look runs on the main thread) took effect
        only once the whole look was over. A continuous resolver looks in the background
        while this thread sleeps in slices of :data:`LOOK_SLICE_S`, in which a signal's
        handler runs (and may raise KeyboardInterrupt); unlike a series of short one-off
        looks, it keeps the answers that arrive late (a stream on a slow network).
        """
        pylsl = _pylsl()
        resolver = pylsl.ContinuousResolver("name", self.stream)
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                found = resolver.results()
                if len(found) >= minimum or time.monotonic() >= deadline:
                    return found
                time.sleep(LOOK_SLICE_S)
        finally:
            del resolver  # its background thread stops now, interrupted or not

    def _fits(self, found: list[Any]) -> list[Any]:
        """The streams of ``found`` the project can read: numbers, as many as it reads."""
        cf_string = _pylsl().cf_string
        size = self.size if self._arity is None else self._arity
        return [i for i in found if i.channel_format() != cf_string
                and (size is None or i.channel_count() == size)]

    def _connect(self, info: Any, timeout: float = RESOLVE_TIMEOUT_S) -> Any:
        """Open an inlet on ``info``'s stream; its full description (channel labels)."""
        # recover=False: liblsl's own recovery finds only a stream with the same source id
        # (silently, so no outage is counted) and none without one; the source looks for the
        # stream again by its name itself (_refind)
        # the buffer is given in seconds of the nominal rate (an irregular stream's: 100 Hz)
        rate = info.nominal_srate() or 100.0
        buflen_s = max(10, math.ceil(INLET_SAMPLES / rate))
        inlet = _pylsl().StreamInlet(info, max_buflen=buflen_s, recover=False)
        # discovery gives the header only; the full description (channel labels) comes from
        # the outlet itself
        full = inlet.info(timeout=timeout)
        inlet.open_stream(timeout=timeout)
        self._inlet = inlet
        return full

    def _step(self) -> None:
        inlet = self._inlet
        if inlet is None:
            self._refind()
            return
        try:
            samples, stamps = inlet.pull_chunk(timeout=0.1)
        except self._lost_error:
            self._lost()
            return
        if not samples:
            return
        t = time.perf_counter()
        if self.stats.away_since is not None:
            self.stats.came_back(t)  # back when its samples flow again
        self.stats.packets_in += len(samples)
        # mapped together: the chunk's last sample waited least, its first longest
        times = self._sensor_times(self._clock, stamps, t)
        for values, t_sample in zip(samples, times, strict=True):
            self._emit(t_sample, values)
        self.last_lsl_time = stamps[-1]

    def _lost(self) -> None:
        """The stream went away: an outage begins; the thread looks for it again."""
        self._close()
        now = time.perf_counter()
        last = self.stats.last_frame_t
        self.stats.went_away(
            last if last is not None and now - last <= LOST_AFTER_FRAME_S else now
        )
        self.stats.connected = False
        self._unfit_said = -math.inf  # an unfit stream back is said at once
        self._log("lost", "%s: LSL stream %r went away; looking for it again", self.name,
                  self.stream)

    def _refind(self) -> None:
        pylsl = _pylsl()
        found = pylsl.resolve_byprop("name", self.stream, minimum=1, timeout=REFIND_EVERY_S)
        # a stream that fits the project (numbers, as many channels), if one of them does
        fit = self._fits(found)
        if not fit:
            now = time.monotonic()
            if found and now - self._unfit_said >= AWAY_LOG_S:
                self._unfit_said = now
                info = found[0]
                what = ("text (markers)" if info.channel_format() == pylsl.cf_string
                        else f"{info.channel_count()} channels")
                self._log("unfit", "%s: LSL stream %r is back with %s; the project reads %d "
                          "numbers: waiting for that one", self.name, self.stream, what,
                          self._arity)
            self._stopping.wait(REFIND_EVERY_S)
            return
        try:
            self._connect(fit[0], timeout=1.0)  # (a stop waits for it)
        except Exception as exc:  # noqa: BLE001 - gone again meanwhile: look again
            self._log("reconnect", "%s: LSL stream %r: cannot open it (%s); trying again",
                      self.name, self.stream, exc)
            self._stopping.wait(REFIND_EVERY_S)
            return
        self._clock.reset()  # a new outlet: maybe another machine's clock, restarted
        self.stats.reconnects += 1
        self.stats.connected = True
        self._log("back", "%s: LSL stream %r is back (%g Hz); reading again", self.name,
                  self.stream, fit[0].nominal_srate())

    def _close(self) -> None:
        inlet, self._inlet = self._inlet, None
        if inlet is not None:
            try:
                inlet.close_stream()
            except Exception:  # noqa: BLE001, S110 - a lost stream: released below all the same
                pass
