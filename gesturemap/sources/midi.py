"""A MIDI controller as the sensor: control changes, notes and pitch bend become channels.

A frame holds the latest value of each channel, every channel scaled to 0..1 (pitch bend to
-1..1), and one frame is sent for every MIDI message that changes one of them — a fader moved
slowly sends a few frames a second, a knob turned fast a few hundred. Messages from every MIDI
channel (1-16) count alike.

Channels (``controls``), default ``cc1``..``cc8``, ``note``, ``velocity``, ``bend``:

- ``ccN``: control change N (0..127) / 127;
- ``note``: the last note played (note number / 127), kept after its note-off;
- ``velocity``: its velocity / 127, 0 once that note is released;
- ``bend``: pitch bend, -1..1;
- ``aftertouch``: channel pressure / 127.

The source's thread polls the port's own queue every millisecond (at most 1 ms added to the
latency) rather than taking python-rtmidi's callback: on JACK that callback runs inside the
audio server's real-time thread and must take Python's GIL there, which stalls the whole JACK
graph whenever another thread holds it — and, measured here, a callback slower than a JACK
period receives the first message over and over instead of the new ones. A message that mido
cannot read is counted as a bad packet.

A program change recalls a scene of the project (:mod:`gesturemap.live.scenes`): program N as
sent (0 for what a device shows as program 1) recalls the scene of index N. A MIDI input may
serve for that alone (``frames=False``, ``gesturemap run --midi-scenes PORT``): a foot
controller beside a sensor on OSC.

Every quarter of a second the thread checks that the port is still there
(:class:`~gesturemap.utils.midi_ports.PortWatch`): a controller unplugged, or the JACK server
stopped, is logged and shown (``connected`` false); the port is opened again when it is back
(``reconnects``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import mido

from ..errors import GesturemapError
from .base import FrameQueue, Source

__all__ = ["DEFAULT_CONTROLS", "MIDISource", "parse_controls"]

#: Where a program change goes (the engine's OSC control address for a scene recall).
SCENE_ADDRESS = "/gesturemap/scene"

DEFAULT_CONTROLS = (*(f"cc{i}" for i in range(1, 9)), "note", "velocity", "bend")
_NAMED = ("note", "velocity", "bend", "aftertouch")


def parse_controls(controls: Sequence[str] | str | None) -> tuple[str, ...]:
    """Check a list of channel names (``"cc1,cc7,note"`` or a list); None: the default."""
    if controls is None:
        return DEFAULT_CONTROLS
    items = controls.split(",") if isinstance(controls, str) else list(controls)
    out = []
    for item in items:
        name = str(item).strip().lower()
        ok = name in _NAMED or (
            name.startswith("cc") and name[2:].isdigit() and 0 <= int(name[2:]) <= 127
        )
        if not ok:
            raise GesturemapError(
                f"midi controls: {item!r}: expected ccN (N 0..127), note, velocity, bend or "
                "aftertouch, e.g. cc1,cc7,note,velocity."
            )
        out.append(name)
    if not out or len(set(out)) != len(out):
        raise GesturemapError(f"midi controls: {items!r}: give each channel once, at least one.")
    return tuple(out)


class MIDISource(Source):
    """Reads a MIDI input port (found by part of its name, on any backend).

    Parameters
    ----------
    queue : FrameQueue
    port : str
        Part of the input port's name (:func:`gesturemap.utils.midi_ports.open_port`), or
        ``virtual:NAME`` for a port of gesturemap's own that a controller program connects to.
    controls : sequence of str or str, optional
        The channels of a frame (see the module docstring); default :data:`DEFAULT_CONTROLS`.
    name : str, default "midi"
    on_control : callable, optional
        Called as ``on_control("/gesturemap/scene", [N])`` from the source's thread for a
        program change N (the engine's control entry, as OSC's).
    frames : bool, default True
        False: the port only recalls scenes; its other messages make no frames.
    """

    def __init__(
        self,
        queue: FrameQueue,
        port: str,
        *,
        controls: Sequence[str] | str | None = None,
        name: str = "midi",
        on_control: Callable[[str, list[Any]], object] | None = None,
        frames: bool = True,
    ) -> None:
        self.controls = parse_controls(controls)
        super().__init__(queue, name=name, channel_names=self.controls)
        self.on_control = on_control
        self.frames = bool(frames)
        self.port_query = port
        self.port_name: str | None = None
        self.backend: str | None = None
        self._port: Any = None
        self._values = [0.0] * len(self.controls)
        self._cc = {int(c[2:]): i for i, c in enumerate(self.controls) if c.startswith("cc")}
        self._index = {c: i for i, c in enumerate(self.controls) if c in _NAMED}
        self._note: int | None = None
        self._watch: Any = None
        self._generation = 0  # the JACK server's generation the port was opened at
        self._next_check = 0.0
        #: RtMidi's warnings, from its own thread (deque appends are atomic), read by ours
        self._said: deque[str] = deque(maxlen=10_000)

    def _open(self) -> None:
        from ..utils.midi_ports import PortWatch, open_port

        self._port, self.port_name, self.backend = open_port("in", self.port_query, "gesturemap-in")
        self._hear_errors(self._port)
        self._watch = PortWatch("in", self.port_query, self.port_name, self.backend, "gesturemap-in")
        self._generation = self._watch.generation
        self.stats.connected = True

    def _check(self) -> None:
        """Notice a port gone, and open it again once back (this thread only)."""
        from ..utils.midi_ports import CHECK_S, MidiPortError

        self._next_check = time.monotonic() + CHECK_S
        watch = self._watch
        if self.stats.connected:
            if not watch.server_down and watch.present():
                return
            self.stats.connected = False
            self._log("lost", "%s: MIDI input %r is gone; opening it again when it is back",
                      self.name, self.port_name)  # fmt: skip
        elif watch.available():
            try:
                port, self.port_name = watch.reopen()
            except MidiPortError:
                return
            self._hear_errors(port)
            old, self._port = self._port, port
            old_generation, self._generation = self._generation, watch.generation
            watch.release(old, old_generation)
            self.stats.reconnects += 1
            self.stats.connected = True
            self._log("back", "%s: MIDI input %r is back", self.name, self.port_name)

    def _hear_errors(self, port: Any) -> None:
        """RtMidi's warnings come to this source (counted, logged by its thread) instead of
        its stderr: a full input queue prints three lines per message it drops."""
        said = self._said
        try:
            port.set_error_callback(lambda kind, message, _data: said.append(str(message)))
        except (AttributeError, TypeError):  # pragma: no cover - an rtmidi without it
            pass

    def _heard(self) -> None:
        said = self._said
        while said:
            message = said.popleft()
            if "queue limit" in message:  # RtMidi dropped a message it could not queue
                self.stats.dropped_frames += 1
                self._log("queue", "%s: MIDI messages came faster than they were read; "
                          "some were dropped (%s)", self.name, message)
            else:
                self._log("rtmidi", "%s: %s", self.name, message)

    def _step(self) -> None:
        if self._said:
            self._heard()
        if self._watch is not None and time.monotonic() >= self._next_check:
            self._check()
        port = self._port if self.stats.connected else None
        message = port.get_message() if port is not None else None
        if message is None:
            self._stopping.wait(0.001)
            return
        while message is not None:  # a burst: every message queued, then wait again
            self._handle(message[0])
            message = port.get_message()

    def _close(self) -> None:
        port, self._port = self._port, None
        watch, self._watch = self._watch, None
        if watch is None:
            return
        try:
            watch.release(port, self._generation)
        finally:
            watch.close()

    def _handle(self, raw: list[int]) -> None:
        t = time.perf_counter()
        self.stats.packets_in += 1
        try:
            msg = mido.Message.from_bytes(raw)
        except (ValueError, TypeError, IndexError) as exc:  # (a message cut short: IndexError)
            self._bad("decode", "%s: unreadable MIDI message %r (%s)", raw, exc)
            return
        kind = msg.type
        if kind == "program_change":
            if self.on_control is not None:
                self.on_control(SCENE_ADDRESS, [msg.program])
            return
        if not self.frames:
            return
        v = self._values
        idx = self._index
        changed = False
        if kind == "control_change" and msg.control in self._cc:
            v[self._cc[msg.control]] = msg.value / 127.0
            changed = True
        elif kind == "note_on" and msg.velocity > 0:
            self._note = msg.note
            if "note" in idx:
                v[idx["note"]] = msg.note / 127.0
            if "velocity" in idx:
                v[idx["velocity"]] = msg.velocity / 127.0
            changed = "note" in idx or "velocity" in idx
        elif kind in ("note_off", "note_on"):  # note_on with velocity 0 is a note-off
            if msg.note == self._note and "velocity" in idx:
                v[idx["velocity"]] = 0.0
                changed = True
        elif kind == "pitchwheel" and "bend" in idx:
            v[idx["bend"]] = msg.pitch / 8192.0 if msg.pitch < 0 else msg.pitch / 8191.0
            changed = True
        elif kind == "aftertouch" and "aftertouch" in idx:
            v[idx["aftertouch"]] = msg.value / 127.0
            changed = True
        if changed:
            self._emit(t, v)
