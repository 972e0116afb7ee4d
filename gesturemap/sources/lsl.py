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
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import GesturemapError
from .base import FrameQueue, SensorClock, Source

__all__ = ["LSLSource", "list_streams"]

#: Seconds to look for the stream when the source opens.
RESOLVE_TIMEOUT_S = 5.0


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
    """

    def __init__(self, queue: FrameQueue, stream: str, *, name: str = "lsl") -> None:
        super().__init__(queue, name=name)
        self.stream = str(stream)
        self._inlet: Any = None
        self.last_lsl_time: float | None = None
        self._clock = SensorClock()

    def _open(self) -> None:
        pylsl = _pylsl()
        if not self.stream:
            raise GesturemapError("LSL in: give the stream's name (gesturemap devices lists them).")
        found = pylsl.resolve_byprop("name", self.stream, minimum=1, timeout=RESOLVE_TIMEOUT_S)
        if not found:
            others = sorted({s["name"] for s in list_streams(0.5)})
            raise GesturemapError(
                f"LSL stream {self.stream!r}: not found within {RESOLVE_TIMEOUT_S:.0f} s. "
                f"Streams there are: {', '.join(others) or 'none'}. Check the sending app runs "
                "and is on this network."
            )
        info = found[0]
        if info.channel_format() == pylsl.cf_string:
            raise GesturemapError(
                f"LSL stream {self.stream!r} carries text (markers); a sensor needs numbers."
            )
        n = info.channel_count()
        self._inlet = pylsl.StreamInlet(info, max_buflen=10, recover=True)
        # discovery gives the header only; the full description (channel labels) comes from
        # the outlet itself
        full = self._inlet.info(timeout=RESOLVE_TIMEOUT_S)
        self._channel_names = tuple(_channel_labels(full, n))
        self._arity = n
        self._inlet.open_stream(timeout=RESOLVE_TIMEOUT_S)
        self.stats.connected = True

    def _step(self) -> None:
        inlet = self._inlet
        samples, stamps = inlet.pull_chunk(timeout=0.1)
        if not samples:
            return
        t = time.perf_counter()
        self.stats.packets_in += len(samples)
        # mapped together: the chunk's last sample waited least, its first longest
        for values, t_sample in zip(samples, self._clock.map_many(stamps, t), strict=True):
            self._emit(t_sample, values)
        self.last_lsl_time = stamps[-1]

    def _close(self) -> None:
        inlet, self._inlet = self._inlet, None
        if inlet is not None:
            inlet.close_stream()
