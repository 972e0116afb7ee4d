"""MIDI output: continuous outputs as control changes, class changes as notes or programs.

Each frame's result goes out as:

- every continuous output (a regression's outputs; a classifier's likelihoods; a DTW model's
  closeness of each gesture, see below) as a control
  change, controller ``first_cc + k``, its value scaled from the output's range to 0..127 and
  sent only when the 7-bit value changes (a DIN MIDI cable carries ~1000 messages a second);
  controllers stop at :data:`LAST_CC` (119): 120..127 are the channel mode messages (All Sound
  Off, Reset All Controllers, Local Control, All Notes Off, omni and mono/poly), which silence
  or reconfigure the receiving instrument, so outputs beyond 119 are not sent (said once);
- each change of the likeliest class as a note (note-off of the last one, note-on of
  ``first_note + class index`` at ``velocity``) or, with ``classes: "program"``, a program
  change to the class index; a spotted gesture (``result.event``) as a note too. A class whose
  note (or program) would be beyond 127 sends none (said once) and releases the last note:
  wrapping round would play another class's note. Below the project's ``reject_below`` (the
  likeliest class's likelihood), no class is chosen, as ``/wek/outputs`` then sends class 0:
  the note is released and the next class accepted sounds afresh, even the same one. A DTW
  model's note is the gesture that matches (as its match message goes out), released while
  none matches, ``reject_below`` aside (:mod:`.rejection`). When
  running stops (``stopRunning``, a recording starting), the note is released too.

A DTW model's controllers carry what ``/wek/outputs`` sends, its distances, as each gesture's
closeness ``threshold / (threshold + distance)`` (:func:`closeness`): 127 for a perfect match,
64 at the match threshold (``model.threshold_``, which the engine sets as
:attr:`MIDIOutput.match_threshold`), falling towards 0 as the gesture gets farther; a match
beyond the threshold (DTW reaches up to five times it for a gesture far nearer than every
other) sends down to 21. Its
likelihoods (a softmax over the gestures) name a likeliest gesture even while none matches,
which the rest of the outputs never do.

The project keeps these settings in its outputs, under ``"midi"``; ``gesturemap run
--midi-out PORT`` overrides the port. Sending never blocks (the backends queue the bytes) and
never raises on the frame path: a failure is counted in ``midi_send_errors``.

A thread of the output's own checks every quarter of a second that the port is still there
(:class:`~gesturemap.utils.midi_ports.PortWatch`). A port gone — the instrument unplugged or quit,
the JACK server stopped — is logged and counted (``midi_disconnects``); nothing is sent to it
meanwhile (frames then count in ``midi_frames_unsent``: on JACK, sending to a stopped server
would block the frame path for ever). When a port the name matches is back, it is opened again
(``midi_reconnects``) and the next frame sends every controller, and the class's note or
program, afresh. A JACK server that takes the connection and does not answer (one hung, or
still starting) is waited on for at most a few seconds, at the start as later: the output
starts without its port, counts frames unsent, and opens the port once the server answers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..utils.faults import RateLimitedLog
from ..utils.validation import check_mapping, check_number, check_text, validation_error
from .closeness import closeness
from .ranges import output_ranges
from .rejection import rejected

__all__ = ["MIDIOutput", "MIDIOutputSettings", "closeness", "output_ranges"]

log = logging.getLogger("gesturemap.outputs.midi")

#: The last controller an output is sent on: 120..127 are channel mode messages, not controllers.
LAST_CC = 119


@dataclass(frozen=True)
class MIDIOutputSettings:
    """Where and how results go out as MIDI (the project's ``outputs["midi"]``)."""

    port: str = ""
    #: MIDI channel, 1..16
    channel: int = 1
    #: controller number of the first continuous output
    first_cc: int = 1
    #: "note" (a note per class) or "program" (a program change per class)
    classes: str = "note"
    first_note: int = 60
    velocity: int = 100

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> MIDIOutputSettings:
        d = check_mapping("outputs.midi", d, cls.__dataclass_fields__, "MIDI output settings")
        check_text("outputs.midi.port", d.get("port"), "part of a MIDI output's name")
        out = cls(**d)
        check_number("outputs.midi.channel", out.channel, minimum=1, maximum=16, integer=True)
        # 120..127 are channel mode messages (All Sound Off, All Notes Off...), not controllers
        check_number("outputs.midi.first_cc", out.first_cc, minimum=0, maximum=LAST_CC,
                     integer=True)
        check_number(
            "outputs.midi.first_note", out.first_note, minimum=0, maximum=127, integer=True
        )
        check_number("outputs.midi.velocity", out.velocity, minimum=1, maximum=127, integer=True)
        if out.classes not in ("note", "program"):
            raise validation_error("outputs.midi.classes", out.classes, '"note" or "program"')
        return out

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class MIDIOutput:
    """Sends results to a MIDI output port; the engine calls :meth:`update` once per frame.

    Parameters
    ----------
    settings : MIDIOutputSettings or dict
    ranges : sequence of (low, high), optional
        Each continuous output's range (:func:`output_ranges`), mapped to 0..127; a
        classifier's likelihoods are 0..1.
    reject_below : float
        Below this likelihood of the likeliest class no class is chosen (the project's
        ``outputs.reject_below``; the engine sets the attribute of that name as it starts and
        whenever its OSC output changes).
    match_threshold : float, optional
        A DTW model's match threshold (``model.threshold_``): its controllers then carry each
        gesture's :func:`closeness`. The engine sets the attribute of that name whenever its
        model changes (None for a model that is not DTW's); without it a DTW result's
        controllers carry its likelihoods.
    """

    def __init__(
        self,
        settings: MIDIOutputSettings | Mapping[str, Any] | None,
        ranges: Sequence[tuple[float, float]] = (),
        reject_below: float = 0.0,
        match_threshold: float | None = None,
    ) -> None:
        if not isinstance(settings, MIDIOutputSettings):
            settings = MIDIOutputSettings.from_dict(settings)
        self.settings = settings
        self.reject_below = float(reject_below)
        self.match_threshold = match_threshold
        self._ranges = np.array(list(ranges) or [(0.0, 1.0)], dtype=np.float64).reshape(-1, 2)
        self._port: Any = None
        self.port_name: str | None = None
        self.backend: str | None = None
        self._last_cc: dict[int, int] = {}
        self._note: int | None = None
        self._class: int | None = None
        self._cc_status = 0xB0 | (settings.channel - 1)
        self._on = 0x90 | (settings.channel - 1)
        self._off = 0x80 | (settings.channel - 1)
        self._program = 0xC0 | (settings.channel - 1)
        self.sent = 0
        self.send_errors = 0
        self.disconnects = 0
        self.reconnects = 0
        self.frames_unsent = 0
        #: whether the port is there (False from a loss to its reopening)
        self.connected = False
        self._resend = False
        self._watch: Any = None
        self._watcher: threading.Thread | None = None
        self._port_generation = 0  # the JACK server's generation the port was opened at
        self._stopping = threading.Event()
        self._busy = False  # the frame path is in update()
        self._unreleased: list[Any] = []  # old ports a frame held past the wait: never freed
        self._errlog = RateLimitedLog(log)
        self._said_beyond: set[str] = set()  # what went unsent for want of a MIDI number, said

    # -- lifecycle (the engine calls these) ----------------------------------------------------
    def start(self) -> MIDIOutput:
        """Open the port (raises :class:`~gesturemap.utils.midi_ports.MidiPortError` if not
        there). A JACK server that took the connection and does not answer may have it: the
        start then goes on without it, as if the port were gone, and opens it once the server
        answers."""
        from ..utils.midi_ports import MidiServerSilent, PortWatch, open_port

        if self._watch is None:
            try:
                self._port, self.port_name, self.backend = open_port(
                    "out", self.settings.port, "gesturemap-out"
                )
                self.connected = True
            except MidiServerSilent as exc:  # not the run's end: the server may be starting
                self.backend = exc.backend
                log.warning("%s Sending once it answers.", " ".join(str(exc).split()))
            self._watch = PortWatch(
                "out", self.settings.port, self.port_name, self.backend, "gesturemap-out"
            )
            self._port_generation = self._watch.generation
            self._stopping.clear()
            self._watcher = threading.Thread(
                target=self._watch_loop, name="gesturemap-midi-out-watch", daemon=True
            )
            self._watcher.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.join(5)
        port, self._port = self._port, None
        watch, self._watch = self._watch, None
        if watch is None:
            return
        if port is None:  # never opened: its server never answered
            watch.close()
            return
        if self._note is not None and self._live(watch):  # no note left hanging
            self._send(port, [self._off, self._note, 0])
        watch.release(port, self._port_generation)
        watch.close()

    def stats(self) -> dict[str, Any]:
        return {
            "midi_sent": self.sent,
            "midi_send_errors": self.send_errors,
            "midi_port": self.port_name,
            "midi_connected": self.connected,
            "midi_disconnects": self.disconnects,
            "midi_reconnects": self.reconnects,
            "midi_frames_unsent": self.frames_unsent,
        }

    # -- the watcher (its own thread, off the frame path) ------------------------------------
    def _live(self, watch: Any) -> bool:
        return self.connected and not watch.server_down

    def _watch_loop(self) -> None:
        from ..utils.midi_ports import CHECK_S

        while not self._stopping.wait(CHECK_S):
            try:
                self._check()
            except Exception as exc:  # noqa: BLE001 - the watcher carries on
                self._errlog("watch", "MIDI out %s: %s", self.port_name, exc)

    def _check(self) -> None:
        watch = self._watch
        if watch is None:
            return
        if self._live(watch):
            if watch.present():
                self.port_name = watch.port_name  # renamed, maybe (the same port)
                return
            self.connected = False
            self.disconnects += 1
            log.warning("MIDI out %r (%s) is gone; sending again when it is back",
                        self.port_name, self.backend)  # fmt: skip
        elif not self.connected and watch.available():
            from ..utils.midi_ports import MidiPortError

            try:
                port, name = watch.reopen()
            except MidiPortError:
                return
            old, self._port = self._port, port
            old_generation, self._port_generation = self._port_generation, watch.generation
            self.port_name = name
            self._resend = True  # the frame path sends its whole state afresh
            self.connected = True
            if old is None:  # its server had not answered at the start
                log.warning("MIDI out %r (%s) is open: sending", name, self.backend)
                return
            self.reconnects += 1
            log.warning("MIDI out %r (%s) is back", name, self.backend)
            # a frame may still be sending to the old port: freed only once it is done (a
            # send to a deleted port crashes the process); one that never ends keeps it
            end = time.monotonic() + 1.0
            while self._busy and time.monotonic() < end:
                self._stopping.wait(0.001)
            if self._busy:
                self._unreleased.append(old)
            else:
                watch.release(old, old_generation)
        elif watch.server_down and self.connected:  # once: not at every check while it is away
            self.connected = False
            self.disconnects += 1
            if watch.server_silent:
                # not "stopped": that would send a performer to start a server already there
                log.warning("MIDI out %r: the JACK server does not answer (it is there but "
                            "hangs, or is still starting); sending again when it answers",
                            self.port_name)  # fmt: skip
            else:
                log.warning("MIDI out %r: the JACK server stopped; sending again when it is "
                            "back", self.port_name)

    # -- the frame path --------------------------------------------------------------------------
    def _send(self, port: Any, message: list[int]) -> None:
        try:
            port.send_message(message)
            self.sent += 1
        except Exception as exc:  # noqa: BLE001 - a port gone: count, go on
            self.send_errors += 1
            self._errlog("send", "MIDI out %s: %s", self.port_name, exc)

    def update(self, result: Any, labels: Sequence[Any] = ()) -> None:
        """Send what changed in one frame's ``result``; never raises."""
        self._on_port(self._update, result, labels)

    def silence(self) -> None:
        """Running stopped: the class's note is released — a performer who stops the model
        must not hear its last note held until the program ends — and the class then chosen
        when running starts again sounds afresh, even the same one. A program change cannot
        be taken back: it stays. Called on the frame path's thread; never raises."""
        self._class = None
        self._on_port(self._release, frame=False)

    def _on_port(self, action: Any, *args: Any, frame: bool = True) -> None:
        """``action(port, *args)`` on the port, if it is there (else a ``frame`` counts as
        unsent); never raises."""
        self._busy = True  # before the port is read: the watcher frees an old one after
        try:
            port, watch = self._port, self._watch
            if watch is None:  # not started, or stopped
                return
            if port is None or not self._live(watch):  # not opened yet, or gone
                if frame:
                    self.frames_unsent += 1
                return
            if self._resend:
                self._resend = False
                self._last_cc.clear()
                self._class = None
            action(port, *args)
        except Exception as exc:  # noqa: BLE001 - the frame path never raises
            self.send_errors += 1
            self._errlog("update", "MIDI out: %s", exc)
        finally:
            self._busy = False

    def _update(self, port: Any, result: Any, labels: Sequence[Any]) -> None:
        s = self.settings
        if result.output is not None:
            values = np.asarray(result.output, dtype=np.float64)
            r = self._ranges
            n = min(len(values), len(r))
            scaled = (values[:n] - r[:n, 0]) / (r[:n, 1] - r[:n, 0])
        else:
            distances = getattr(result, "distances", None)
            threshold = self.match_threshold
            if distances is not None and threshold is not None and threshold > 0:
                scaled = closeness(distances, threshold)  # what /wek/outputs sends, bounded
            else:
                scaled = np.asarray(result.likelihoods, dtype=np.float64)
            n = len(scaled)
            cls = int(result.label_index)
            if rejected(result, self.reject_below):
                cls = -1  # none of the classes (the one rule): /wek/outputs sends 0, or DTW
                # sends no match
            if cls != self._class:
                self._class = cls
                if cls < 0:
                    self._release(port)  # a program cannot be taken back: it stays
                elif s.classes == "program":
                    if cls <= 127:
                        self._send(port, [self._program, cls])
                    else:
                        self._say_beyond("program", "classes beyond the 128th send no "
                                         "program change (class %d)", cls + 1)
                else:
                    self._note_on(port, s.first_note + cls)
        event = getattr(result, "event", None)
        if event is not None and s.classes == "note":
            names = list(labels)
            idx = names.index(event.label) if event.label in names else int(result.label_index)
            self._note_on(port, s.first_note + idx)
        # outputs past controller 119 are not sent: 120..127 would be channel mode messages
        n = max(0, min(n, LAST_CC + 1 - s.first_cc))
        if n < len(scaled):
            self._say_beyond("cc", "outputs past the first %d have no controller "
                             "(controllers %d..%d; %d outputs): not sent", n, s.first_cc,
                             LAST_CC, len(scaled))
        codes = np.clip(np.nan_to_num(scaled[:n]) * 127.0 + 0.5, 0, 127).astype(np.int64)
        last = self._last_cc
        for k, code in enumerate(codes.tolist()):
            if last.get(k) != code:
                last[k] = code
                self._send(port, [self._cc_status, s.first_cc + k, code])

    def _say_beyond(self, what: str, message: str, *args: Any) -> None:
        """Log once that something went unsent for want of a MIDI number (the message is
        formatted only then: this is called on every frame that sends less)."""
        if what not in self._said_beyond:
            self._said_beyond.add(what)
            log.warning("MIDI out %s: " + message, self.port_name, *args)

    def _release(self, port: Any) -> None:
        if self._note is not None:
            self._send(port, [self._off, self._note, 0])
            self._note = None

    def _note_on(self, port: Any, note: int) -> None:
        self._release(port)  # even when no note follows: it is another class's
        if note > 127:  # wrapping round would play another class's note
            self._say_beyond("note", "classes whose note would be beyond 127 send none "
                             "(first_note %d, note %d)", self.settings.first_note, note)
            return
        self._send(port, [self._on, note, self.settings.velocity])
        self._note = note
