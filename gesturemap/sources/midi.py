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
(``reconnects``); the time between is an outage in the stats (``away_s``, ``outages``).

A system-exclusive message cut short (``F0`` and no ``F7``: a controller unplugged in the
middle of a dump, a faulty one) would make the input deaf: RtMidi's JACK backend takes every
message after it as part of that sysex, whatever its status byte, until a message ends with
``F7`` — and with sysex ignored (RtMidi's default) drops them all. So on JACK the source asks
its input, after each quarter of a second in which it heard nothing, whether it still hears:
it sends itself :data:`PROBE` (an undefined real-time byte no device sends) from an output of
its own (:func:`~gesturemap.utils.midi_ports.open_probe`). Heard alone, all is well. Not
heard within :data:`PROBE_WAIT_S`, a sysex holds the input: the source sends itself the
``F7`` that ends it. RtMidi then hands over, as one sysex, the bytes it held; the source
reads the messages after the cut from it (mido's parser) and handles them at once, with
times spread since the last message heard: late by about a third of a second, none lost.
Each cut is counted (``sysex_cut``, and ``held_messages`` the messages it held) and logged
(at most once a second). Other sysex messages are ignored (``ignored``): gesturemap uses
none. On ALSA, RtMidi ends a sysex cut short at the next event of another kind (handed on
with it, read as above); its CoreMIDI backend has the JACK one's flaw, with no probe yet.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import mido

from ..errors import GesturemapError
from .base import FrameQueue, Source, SourceStats, spread_times

__all__ = ["DEFAULT_CONTROLS", "PROBE", "MIDISource", "MIDIStats", "parse_controls"]

#: Where a program change goes (the engine's OSC control address for a scene recall).
SCENE_ADDRESS = "/gesturemap/scene"

DEFAULT_CONTROLS = (*(f"cc{i}" for i in range(1, 9)), "note", "velocity", "bend")
_NAMED = ("note", "velocity", "bend", "aftertouch")

#: The byte the source sends itself to learn whether its input still hears (0xFD: a system
#: real-time status MIDI leaves undefined, so no device sends it; RtMidi filters it out under
#: none of its ``ignore_types`` and hands it on as a message of its own).
PROBE = 0xFD
_SYSEX, _END = 0xF0, 0xF7
#: How often an idle input is asked whether it still hears (seconds).
PROBE_S = 0.25
#: How long the answer may take, once every message queued is read, before the input counts
#: as held by a sysex cut short (seconds; the answer takes a JACK period or two).
PROBE_WAIT_S = 0.1
#: Probes in a row that got no answer, not even to the F7 after them (the probe's connection
#: was undone in a patchbay, a JACK client thrown out): the source stops asking until its port
#: is opened again, so that its probes cannot fill RtMidi's output buffer, on which its
#: ``send_message`` would spin.
PROBE_GIVE_UP = 8
#: Names of gesturemap's own input ports on JACK, each unique (the probe finds its input by it)
_LOCAL_NAMES = itertools.count(1)
#: A status byte: in a sysex's body, where the message cut short ends and the next begins.
_STATUS = re.compile(rb"[\x80-\xff]")


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


class MIDIStats(SourceStats):
    """A MIDI source's counters: those of every source, and what sysex messages cut short
    did (see the module docstring).

    Attributes
    ----------
    sysex_cut : int
        System-exclusive messages cut short (no ``F7``) that held the input.
    held_messages : int
        The messages they held, handed on late.
    """

    __slots__ = ("held_messages", "sysex_cut")

    def __init__(self) -> None:
        super().__init__()
        self.sysex_cut = 0
        self.held_messages = 0

    def snapshot(self) -> dict[str, Any]:
        """Every source's counters (:meth:`SourceStats.snapshot`), ``sysex_cut`` and
        ``held_messages``."""
        return {**super().snapshot(), "sysex_cut": self.sysex_cut,
                "held_messages": self.held_messages}


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
        self.stats: MIDIStats = MIDIStats()
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
        # the probe (JACK only): the output it is sent from, the JACK generation it was opened
        # at, when the one unanswered was sent (None: none is), whether the F7 that ends a
        # held sysex followed it, and how many in a row went unanswered
        self._probe: Any = None
        self._probe_generation = 0
        self._asked: float | None = None
        self._ended = False
        self._unanswered = 0
        self._next_ask = 0.0  # (perf_counter(), as every time of the probe's)
        self._last_heard: float | None = None  # perf_counter() of the last message read

    def _open(self) -> None:
        from ..utils.midi_ports import PortWatch, open_port

        local = self._local_name()
        self._port, self.port_name, self.backend = open_port("in", self.port_query, "gesturemap-in",
                                                             local_name=local)  # fmt: skip
        self._prepare(self._port)
        self._watch = PortWatch("in", self.port_query, self.port_name, self.backend, "gesturemap-in")
        self._generation = self._watch.generation
        self.stats.connected = True
        self._open_probe(local)

    def _local_name(self) -> str:
        """The name of gesturemap's own end of the connection: unique, so that the probe
        finds it (a virtual port keeps the name it was given)."""
        return f"in {os.getpid()}.{next(_LOCAL_NAMES)}"

    def _prepare(self, port: Any) -> None:
        """Sysex handed on (its bytes are where a sysex cut short keeps the messages it
        held); clock and active sensing still left out by RtMidi, as by default."""
        self._hear_errors(port)
        try:
            port.ignore_types(sysex=False, timing=True, active_sense=True)
        except (AttributeError, TypeError):  # pragma: no cover - an rtmidi without it
            pass

    def _open_probe(self, local: str) -> None:
        """Connect the probe to the input just opened (JACK only; elsewhere, and when it
        cannot be connected, the source runs without asking)."""
        from ..utils.midi_ports import VIRTUAL, MidiPortError, open_probe

        self._asked, self._ended, self._unanswered = None, False, 0
        self._next_ask = time.perf_counter() + PROBE_S
        if (self.backend or "").lower() != "jack":
            return
        query = self.port_query.strip()
        if query.lower().startswith(VIRTUAL):
            local = query[len(VIRTUAL):] or "gesturemap"
        try:
            self._probe = open_probe(self.backend, local)
        except MidiPortError as exc:
            self._log("probe", "%s: cannot watch the MIDI input for a sysex cut short (%s)",
                      self.name, exc)
            return
        self._probe_generation = self._watch.generation if self._watch is not None else 0

    def _release_probe(self) -> None:
        probe, self._probe = self._probe, None
        if probe is not None and self._watch is not None:
            self._watch.release(probe, self._probe_generation)

    def _check(self) -> None:
        """Notice a port gone, and open it again once back (this thread only)."""
        from ..utils.midi_ports import CHECK_S, MidiPortError

        self._next_check = time.monotonic() + CHECK_S
        watch = self._watch
        if self.stats.connected:
            if not watch.server_down and watch.present():
                return
            self.stats.connected = False
            self.stats.went_away(time.perf_counter())
            self._log("lost", "%s: MIDI input %r is gone; opening it again when it is back",
                      self.name, self.port_name)  # fmt: skip
        elif watch.available():
            local = self._local_name()
            try:
                port, self.port_name = watch.reopen(local)
            except MidiPortError:
                return
            self._prepare(port)
            old, self._port = self._port, port
            old_generation, self._generation = self._generation, watch.generation
            watch.release(old, old_generation)
            self._release_probe()
            self._open_probe(local)
            self.stats.reconnects += 1
            self.stats.came_back(time.perf_counter())
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
        now = time.monotonic()
        if self._watch is not None and now >= self._next_check:
            self._check()
        port = self._port if self.stats.connected else None
        message = port.get_message() if port is not None else None
        if message is None:
            if self._probe is not None and port is not None and not self._watch.server_down:
                self._ask()  # (never to a JACK server gone: its send would spin)
            self._stopping.wait(0.001)
            return
        while message is not None:  # a burst: every message queued, then wait again
            self._received(message[0])
            message = port.get_message()

    def _ask(self) -> None:
        """Ask the input whether it hears (see the module docstring); called with every
        message queued already read, so that an answer that came is never missed."""
        now = time.perf_counter()
        asked = self._asked
        if asked is None:
            # only after a silence: an input held by a sysex is silent, and a probe amid a
            # burst would take room in the JACK period's buffer the controller's need
            heard = self._last_heard
            if now >= self._next_ask and (heard is None or now - heard >= PROBE_S):
                self._probe.send_message([PROBE])
                self._asked = now
            return
        if now - asked < PROBE_WAIT_S:
            return
        if not self._ended:
            # unanswered: a sysex cut short holds the input; its end makes RtMidi hand over
            # what it held (the probe among it)
            self._probe.send_message([_END])
            self._ended, self._asked = True, now
            return
        # not even the end brought it back: the probe does not reach the input
        self._asked, self._ended = None, False
        self._next_ask = now + PROBE_S
        self._unanswered += 1
        if self._unanswered >= PROBE_GIVE_UP:
            self._release_probe()
            self._log("probe", "%s: the MIDI input does not hear its own probe; no longer "
                      "watching it for a sysex cut short until it is opened again", self.name)

    def _answered(self) -> None:
        self._asked, self._ended, self._unanswered = None, False, 0
        self._next_ask = time.perf_counter() + PROBE_S

    def _close(self) -> None:
        self._release_probe()
        port, self._port = self._port, None
        watch, self._watch = self._watch, None
        if watch is None:
            return
        try:
            watch.release(port, self._generation)
        finally:
            watch.close()

    def _received(self, raw: list[int]) -> None:
        """One message as RtMidi hands it on: the probe's answer, a sysex, or a message."""
        t = time.perf_counter()
        first = raw[0] if raw else None
        if first == PROBE and len(raw) == 1:
            self._answered()
            return
        if first == _END and len(raw) == 1:
            return  # an end the source sent itself when an answer came late: nothing held
        if first == _SYSEX:
            self._sysex(raw, t)
        else:
            self._handle(raw, t)
        self._last_heard = t

    def _sysex(self, raw: list[int], t: float) -> None:
        """A sysex, whole (ignored: gesturemap uses none), or cut short: then the messages
        it held, from its first status byte on, are handled now."""
        stats = self.stats
        stats.packets_in += 1
        data = bytes(raw)
        end = len(data) - 1 if data[-1] == _END else len(data)
        cut = _STATUS.search(data, 1, end)
        if cut is None:
            stats.ignored += 1
            return
        rest = data[cut.start():]
        if PROBE in rest:
            self._answered()
        parser = mido.Parser()
        parser.feed(rest)  # (the probe and a lone F7 are no message to mido: skipped)
        held = list(parser)
        stats.sysex_cut += 1
        stats.held_messages += len(held)
        self._log("sysex", "%s: a system-exclusive message cut short (F0 with no F7: a "
                  "controller unplugged mid-dump, or a faulty one) held the MIDI input; "
                  "ended, and the %d message(s) it held handed on late",
                  self.name, len(held))  # fmt: skip
        for msg, t_msg in zip(held, spread_times(len(held), self._last_heard, t), strict=True):
            stats.packets_in += 1
            self._message(msg, t_msg)

    def _handle(self, raw: list[int], t: float) -> None:
        self.stats.packets_in += 1
        try:
            msg = mido.Message.from_bytes(raw)
        except (ValueError, TypeError, IndexError) as exc:  # (a message cut short: IndexError)
            self._bad("decode", "%s: unreadable MIDI message %r (%s)", raw, exc)
            return
        self._message(msg, t)

    def _message(self, msg: Any, t: float) -> None:
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
