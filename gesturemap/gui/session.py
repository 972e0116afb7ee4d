"""The engine as the window drives it: project edits as engine commands, and an input tap.

The engine is the one owner of the project (docs/architecture.md, "The one-way data flow"): the
window never changes it from the GUI thread. :class:`WindowEngine` adds the edits the window
needs (classes, takes, model settings, save) as ordinary engine commands, run on the engine
thread between two frames, and keeps the last few seconds of input in a ring that the window's
timer reads to plot (and the features the pipeline makes of it, in a second ring). Nothing here
blocks the frame path: the ring write is one row copy, and files are written, sources opened and
closed by the engine's I/O thread.

Every command the window sends takes JSON-compatible arguments only (str, numbers, lists,
dicts), so the engine can live in a process of its own.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GesturemapError
from ..live.engine import Engine
from ..sources.base import Frame
from ..sources.osc import is_loopback
from ..sources.settings import build_sensor_source  # the window and `gesturemap run` share it
from ..utils.validation import check_number

__all__ = ["InputRing", "TakeRef", "WindowEngine", "build_sensor_source"]

#: The source name of a take played back (:meth:`WindowEngine._cmd_play_take`).
PLAYBACK_SOURCE = "take-playback"


class TakeRef:
    """A take as the undo stack knows it: its current id, and its data once removed.

    Undoing a deletion puts the data back under a new id; the engine thread updates the
    reference, and later commands (redo, relabel) read it on that same thread, in order.
    """

    def __init__(self, take_id: str) -> None:
        self.id = take_id
        self.take: Any = None


#: Seconds since the sensor's last frame within which it counts as sending.
_SENSOR_SENDING_S = 0.5


class InputRing:
    """The latest frames' values and times, for plotting.

    Written on the frame path only (the engine thread, or a source's thread holding the frame
    lock); read by the GUI timer. A reader may see one row being written (a plot glitch for
    one frame, never a crash): the arrays never change size.

    Parameters
    ----------
    capacity : int
        Frames kept (e.g. 1000 = 10 s at 100 Hz).
    """

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        #: The channels' names, when the writer knows them (the feature ring: the pipeline's).
        self.names: tuple[str, ...] = ()
        self.values: np.ndarray | None = None  # (capacity, D), allocated at the first frame
        self.times = np.zeros(capacity)
        self.count = 0  # frames written since the start (the next row is count % capacity)

    def push(self, t: float, values: np.ndarray) -> None:
        if self.values is None or self.values.shape[1] != len(values):
            self.values = np.zeros((self.capacity, len(values)))
            self.count = 0
        i = self.count % self.capacity
        self.values[i] = values
        self.times[i] = t
        self.count += 1

    def between(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Frames number ``start`` to ``stop - 1`` since the first (those still kept: at
        most the last ``capacity`` before ``count``): times and values (copies). Unlike
        :meth:`latest`, a frame the writer adds meanwhile never shifts them."""
        values = self.values
        start = max(start, stop - self.capacity, self.count - self.capacity, 0)
        if values is None or stop <= start:
            return np.zeros(0), np.zeros((0, 0 if values is None else values.shape[1]))
        idx = np.arange(start, stop) % self.capacity
        return self.times[idx].copy(), values[idx].copy()

    def latest(self, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The last ``n`` frames, oldest first: times (n,) and values (n, D) (copies)."""
        values = self.values
        count = self.count
        if values is None or count == 0:
            return np.zeros(0), np.zeros((0, 0))
        n = min(n or self.capacity, count, self.capacity)
        idx = (np.arange(count - n, count)) % self.capacity
        return self.times[idx].copy(), values[idx].copy()


class _TappedPipeline:
    """A pipeline state that also copies each feature frame it makes into a ring.

    Stands in for the engine's :class:`~gesturemap.features.pipeline.PipelineState` (the engine
    only calls ``push``); the copy is one row per feature frame, on the engine thread.
    """

    def __init__(self, state: Any, ring: InputRing) -> None:
        self.state = state
        self.ring = ring
        self.pipeline = state.pipeline  # read by the compiled path on every datagram
        ring.names = tuple(state.output_names)

    def push(self, values: Any, t: float | None = None) -> np.ndarray:
        feats = self.state.push(values, t)
        for f in feats:
            self.ring.push(t if t is not None else 0.0, f)
        return feats

    def __getattr__(self, name: str) -> Any:
        return getattr(self.state, name)


class WindowEngine(Engine):
    """:class:`~gesturemap.live.engine.Engine` plus the window's project edits as commands.

    Every ``_cmd_*`` below runs on the engine thread (send them with
    :meth:`Engine.command`); with a project folder, each edit is saved at once by the I/O
    thread, so a crash never loses more than the last frame.

    Parameters
    ----------
    project, **kwargs
        As for :class:`~gesturemap.live.engine.Engine`.
    ring_frames : int, default 1000
        Input frames kept for the window's plot (and as many feature frames).

    Attributes
    ----------
    ring, feature_ring : InputRing
        The latest raw input frames, and the latest feature frames (the pipeline's output;
        ``feature_ring.names`` holds their names).

    Its OSC sensor takes the compiled frame path as :class:`~gesturemap.live.engine.Engine`'s
    does (``engine_wire``), the sensor opened later included (:meth:`_open_sensor`): a frame
    answered there goes into both rings after the reply (:meth:`_compiled_tap`; with no
    feature stage the feature frame is the input frame), and while a take plays back the
    compiled path is held aside, so the live sensor's frames reach :meth:`_frame`, which
    mutes them.
    """

    #: the compiled path stands in for the tapped state of a stage-less pipeline
    _plain_state = _TappedPipeline
    #: the take being played back (set on the engine thread: :meth:`_set_playing`)
    _playing: str | None = None
    #: the compiled path's wire, held aside while a take plays back
    _held_wire: Any = None

    def __init__(self, project: Any, *, ring_frames: int = 1000, **kwargs: Any) -> None:
        super().__init__(project, **kwargs)
        self.ring = InputRing(ring_frames)
        self.feature_ring = InputRing(ring_frames)
        #: Incremented after every project edit the engine applied (takes, classes, labels).
        self.edits = 0
        # the sources built from the project's sensor settings (touched by the I/O thread only)
        self._sensor_sources: list[Any] = []
        self._sensor_error: str | None = None
        # the event that stops the thread of the take being played back
        self._play_stop = threading.Event()
        #: the network address the project's sensor asks to listen on, held back (the sensor
        #: listens on 127.0.0.1) until the window confirms it with a set_sensor; else None
        self.network_request: dict[str, Any] | None = None
        #: the trainings refused lately, each with the token the window sent its ``train``
        #: with (None: another sender's, a correction's): [(token, why)], newest last; a
        #: window waiting for its training reads its own there, not an earlier one's
        self.train_refusals: list[tuple[Any, str]] = []
        self._training_token: Any = None  # the token of the training under way

    def start(self) -> WindowEngine:
        """Start as :meth:`Engine.start`, then open the project's sensor (OSC, serial) if any.

        A project file alone never opens a port to the network: a sensor whose host is not a
        loopback address listens on 127.0.0.1, and :attr:`network_request` says what it asked
        for, until the window (the person) confirms it with ``set_sensor``.
        """
        super().start()
        sensor = self.project.sensor
        if sensor and sensor.get("transport", "mouse") != "mouse":
            settings = dict(sensor)
            host = str(settings.get("host") or "127.0.0.1")
            if not is_loopback(host):
                self.network_request = {"host": host, "port": settings.get("port")}
            self._io.put(lambda: self._open_sensor(settings, allow_network=False))
        midi = (self.project.outputs or {}).get("midi") or {}
        if midi.get("port"):  # the project's MIDI output, as `gesturemap run` opens it
            self._io.put(lambda: self._open_midi(dict(midi)))
        return self

    def _open_midi(self, settings: dict[str, Any]) -> None:
        # on the I/O thread; a missing port is said in stats()["midi_error"], the window runs on
        from ..outputs.midi import MIDIOutput, output_ranges

        try:
            out = MIDIOutput(settings, ranges=output_ranges(self.project)).start()
        except Exception as exc:
            self._midi_error = str(exc)
            return
        self._midi_error = None
        self.command("_add_sink", out)  # tuned on the engine thread, between two frames

    def stop(self) -> None:
        self._play_stop.set()
        super().stop()

    def _frame(self, frame: Any) -> None:
        if (self._playing is not None) != (frame.source == PLAYBACK_SOURCE):
            # while a take plays back, the live sensor is muted; once it stopped, the
            # playback's frames still queued are dropped (never recorded into a new take)
            return
        self.ring.push(frame.t, frame.values)
        super()._frame(frame)

    def _compiled_tap(self, t: float, x: np.ndarray) -> None:
        """A frame the compiled path answered (after the reply, frame lock held): into the
        plot's rings, as :meth:`_frame` and the tapped pipeline put it (a stage-less pipeline's
        feature frame is its input frame)."""
        self.ring.push(t, x)
        self.feature_ring.push(t, x)

    def _build_wire(self) -> None:
        super()._build_wire()
        self._held_wire = self._wire
        if self._playing is not None:
            self._wire = None

    def _set_playing(self, take_id: str | None) -> None:
        """Start (a take's id) or end (None) a playback, on the engine thread between two
        frames: meanwhile the compiled path has no wire, so every live frame goes through
        :meth:`_frame`, which mutes it. The frames played are a take's, not a gesture "that
        was X" could add again: forgotten when it ends."""
        if take_id is None and self._playing is not None:
            self._clear_gesture()
        self._playing = take_id
        self._wire = None if take_id is not None else self._held_wire

    def _start_pipeline(self, input_dim: int) -> None:
        super()._start_pipeline(input_dim)
        self.path.state = _TappedPipeline(self.path.state, self.feature_ring)

    def stats(self) -> dict[str, Any]:
        """:meth:`Engine.stats`, plus ``sensor_error`` (why the sensor did not open, or None),
        ``playing`` (the id of the take being played back, or None), ``playing_speed``,
        ``stream_reset_t`` (the time of the first frame since the stream's last reset),
        ``decided_frames`` (the frames a following decision reads: since its last restart;
        None for other decisions), ``decided_from`` (where those frames begin, counted from
        the first since the reset: the frame it last restarted on, 0 if it has not; None for
        other decisions) and ``train_refusals`` (:attr:`train_refusals`)."""
        out = super().stats()
        out["sensor_error"] = self._sensor_error
        out["network_request"] = self.network_request
        out["midi_error"] = getattr(self, "_midi_error", None)
        out["playing"] = self._playing
        out["playing_speed"] = getattr(self, "_play_speed", 1.0) if self._playing else None
        out["stream_reset_t"] = self.stream_reset_t
        out["decided_frames"] = getattr(self.stream, "decided_frames", None)
        out["decided_from"] = getattr(self.stream, "decided_from", None)
        out["train_refusals"] = [list(r) for r in self.train_refusals]
        return out

    def _edited(self) -> None:
        self.edits += 1
        self._autosave()

    def _autosave(self) -> None:
        """After every edit of the project (:class:`~gesturemap.live.engine.Engine` calls it): a
        take being played back that the edit removed stops playing, and the live sensor comes
        back; then saved as the engine saves."""
        playing = self._playing
        if playing is not None and all(t.id != playing for t in self.project.takes):
            self._cmd_stop_play()
        super()._autosave()

    def _cmd_start_recording(self, *args: Any) -> None:
        """Start a take as the engine does; a take being played back stops first, so that
        the new take records the live sensor, not the frames played back."""
        if self._playing is not None:
            self._cmd_stop_play()
        super()._cmd_start_recording(*args)

    def _cmd_train(self, token: Any = None) -> None:
        """Retrain as the engine does; ``token`` (the window's) names this training in
        :attr:`train_refusals` if it is refused, at once or when its training fails."""
        try:
            super()._cmd_train()
        except GesturemapError as exc:
            self._train_refused(token, exc)
            raise
        self._training_token = token

    def _training_failed(self, exc: BaseException) -> None:
        if isinstance(exc, GesturemapError):  # refused (the engine counts it so)
            self._train_refused(self._training_token, exc)
        super()._training_failed(exc)

    def _train_refused(self, token: Any, exc: BaseException) -> None:
        # before the engine counts it: a reader that sees the count sees this too
        self.train_refusals = [*self.train_refusals[-7:], (token, str(exc))]  # one rebinding

    def _cmd_stop_recording(self) -> None:
        """Stop the take as the engine does; a take no frame came to (the sensor silent,
        Space pressed twice at once) is refused, saying so: the window's training line said
        "take → new model" as if one had been recorded."""
        buffer = self._take
        empty = self.recording and (buffer is None or not len(buffer))
        super()._cmd_stop_recording()
        if empty:
            raise GesturemapError(self._why_no_frame())

    def _why_no_frame(self) -> str:
        """Why a take got no frame: the sensor silent, or a start and stop too close for
        one (Space pressed twice at once, a pedal that bounces), as frames coming meanwhile
        tell: then the sensor is fine, and asking "is the sensor sending?" misled."""
        ring = self.ring
        last = float(ring.times[(ring.count - 1) % ring.capacity]) if ring.count else None
        if last is not None and time.perf_counter() - last < _SENSOR_SENDING_S:
            return ("no frame came between the start and the stop (pressed twice too "
                    "quickly?), so nothing was recorded; the sensor is sending")
        return ("no frame came while recording, so nothing was recorded (is the sensor "
                "sending? the Sensor tab shows its frames per second)")

    def _cmd_correct(self, label: Any = "", token: Any = None) -> None:
        if self._playing is not None:  # its frames are a take's: one label, in the list
            raise GesturemapError(
                f"correct: take {self._playing} is being played back, not performed; "
                "change its label in the take list instead")
        super()._cmd_correct(label, token)

    def _take_added(self, take: Any) -> None:
        """A take ended (stopped, or a recording's class changed): an edit the window shows;
        the engine saved the take itself."""
        self.edits += 1

    def _cmd_add_class(self, label: Any, index: int | None = None) -> None:
        self.project.add_class(label, index=index)
        self._edited()

    def _cmd_rename_class(self, old: Any, new: Any) -> None:
        """Give class ``old`` the name ``new``: its takes are relabelled, its place kept."""
        synth_before = (self.project.outputs or {}).get("synth")
        self.project.rename_class(old, new)  # its colour, costs, one-shots... go with it
        self.scenes.follow_project()  # a recall plays the scenes relabelled, not as loaded
        if self.current_label == old:
            self.current_label = new
        if self.recording and self._take_label == old:  # the take under way goes with it
            self._take_label = new
        synth = (self.project.outputs or {}).get("synth")
        if synth != synth_before and synth is not None:
            # the running synth plays the mapping it loaded: its one-shots and routes name
            # the class as the model retrained on the new name will
            self._cmd_set_synth_mapping(synth)
            return
        self._edited()

    def _cmd_remove_class(self, label: Any) -> None:
        """Remove class ``label`` and its takes (into the project's trash). A take of it
        under way stops, its frames dropped with the class: they never become a take of
        the class picked next, nor bring the class back when the recording stops."""
        if self.recording and self._take_label == label and self.project.has_class(label):
            self.recording = False
            self._take = None
        self.project.remove_class(label, remove_takes=True)
        if self.current_label == label:
            self.current_label = None
        self._edited()

    def _cmd_delete_all(self) -> None:
        super()._cmd_delete_all()
        self.edits += 1

    def _cmd_restore_takes(self, *ids: Any) -> None:
        super()._cmd_restore_takes(*ids)
        self.edits += 1

    def _cmd_redo_deletion(self, ids: Any) -> None:
        super()._cmd_redo_deletion(ids)
        self.edits += 1

    def _cmd_remove_takes(self, ids: Any) -> None:
        super()._cmd_remove_takes(ids)
        self.edits += 1

    def _cmd_remove_take(self, ref: TakeRef) -> None:
        ref.take = self.project.remove_take(ref.id)
        self._edited()

    def _cmd_restore_take(self, ref: TakeRef) -> None:
        """Put a removed take back (undo): from the project's trash under its own id, else
        (not in the trash) its data under a new id, written into ``ref``."""
        if ref.id in self.project.trash() and self.project.restore_takes([ref.id]):
            self._edited()  # the next save moves its files back from the trash
            return
        take = ref.take
        new = self.project.add_take(take.inputs, take.label, times=take.times, outputs=take.outputs)
        ref.id = new.id
        if self.project_dir is not None:
            folder = self.project_dir
            self._io.put(lambda: self.project.save_take(folder, new))
        self._edited()

    def _cmd_relabel_take(self, ref: TakeRef, label: Any) -> None:
        self.project.relabel_take(ref.id, label)
        self._edited()

    def _cmd_set_display(self, settings: dict[str, Any]) -> None:
        """Change display settings (``class_colors``): the keys given replace the project's,
        the others stay."""
        self.project.display = {**(self.project.display or {}), **settings}
        self._edited()

    def _cmd_set_sensor(self, settings: dict[str, Any]) -> None:
        """Use sensor ``settings`` (see :func:`build_sensor_source`): saved in the project; the
        sources built from the previous settings close and the new one opens, on the I/O
        thread. Why it failed, if it did, is in ``stats()["sensor_error"]``."""
        self.project.sensor = settings
        self._sensor_error = None
        self.network_request = None
        self._edited()
        # the window asked the person before sending a network host (WindowControls)
        self._io.put(lambda: self._open_sensor(dict(settings), allow_network=True))

    def _open_sensor(self, settings: dict[str, Any], allow_network: bool) -> None:
        # on the I/O thread: closing a source joins its thread, opening one binds a port
        old = self._sensor_sources
        self._withdraw_compiled(old)
        for src in old:
            src.stop()
        new: list[Any] = []
        try:
            src = build_sensor_source(settings, self.queue, self._on_control,
                                      input_dim=self.project.input_dim,
                                      allow_network=allow_network)
            if src is not None:
                src.start()
                self.realtime_threads([getattr(src, "_thread", None)])
                new.append(src)
                self._offer_compiled(src)  # an OSC sensor with one address: the compiled path
            self._sensor_error = None
        except Exception as exc:  # a busy port, a missing device: say so, keep running
            self._sensor_error = str(exc)
        self._sensor_sources = new
        # one rebinding: stats() on another thread sees the old list or the new one
        self.sources = [s for s in self.sources if s not in old] + new

    def _cmd_play_take(self, take_id: str, speed: float = 1.0) -> None:
        """Play take ``take_id`` back through the frame path at its recorded timing (times
        ``speed``), from a short-lived thread, as if the sensor sent it again: the model's
        answers reach the outputs and the window's monitor. Running starts (the stream is
        reset first); the live sensor is muted until the take ends or :meth:`_cmd_stop_play`.
        """
        if self.recording:
            raise GesturemapError("a take cannot be played back while one is being recorded: "
                                  "stop recording first")
        take = self.project.take(take_id)
        self._cmd_stop_play()
        inputs = np.asarray(take.inputs, dtype=np.float64)
        if take.times is not None:
            offsets = np.asarray(take.times, dtype=np.float64) - float(take.times[0])
        else:
            rate = self.project.pipeline.rate_hz or (self.project.sensor or {}).get("rate_hz", 100)
            offsets = np.arange(len(inputs)) / float(rate)
        offsets = offsets / max(float(speed), 1e-3)
        stop = threading.Event()
        self._play_stop = stop
        self._set_playing(take_id)
        self._play_speed = float(speed)
        self._cmd_start_running()
        put = self.queue.put

        def play() -> None:
            t0 = time.perf_counter()
            for values, offset in zip(inputs, offsets, strict=True):
                wait = t0 + offset - time.perf_counter()
                if wait > 0 and stop.wait(wait):
                    return
                if stop.is_set():
                    return
                put(Frame(time.perf_counter(), values, PLAYBACK_SOURCE))
            # the engine thread resumes the live sensor once it has taken the last frame
            self.command("_played", take_id)

        threading.Thread(target=play, name="gesturemap-playback", daemon=True).start()

    def _cmd__played(self, take_id: str) -> None:
        if self._playing == take_id:
            self._set_playing(None)

    def _cmd_stop_play(self) -> None:
        """Stop a take being played back; the live sensor comes back."""
        self._play_stop.set()
        self._set_playing(None)

    def _cmd_set_model_settings(self, settings: dict[str, Any]) -> None:
        spotting = self.project.model.get("spotting")
        if isinstance(settings, dict) and "spotting" not in settings and spotting is not None:
            settings = {**settings, "spotting": spotting}  # the panel keeps spotting as it was
        self.project.model = settings
        if self.model is not None and self.project.apply_runtime_settings(self.model):
            self._set_model(self.model)  # new streams with them, no retraining
        self._edited()

    def _cmd_set_spotting_values(self, values: dict[str, Any], *checked: Any) -> bool:
        """:meth:`Engine._cmd_set_spotting_values` (an audit's thresholds applied, the costs,
        over OSC ``/gesturemap/costs`` too, the second opinions): an edit the window shows,
        once set."""
        done = super()._cmd_set_spotting_values(values, *checked)
        self.edits += done
        return done

    def _cmd_set_output_settings(self, settings: dict[str, Any]) -> None:
        from ..outputs.osc import OSCOutput

        self.project.outputs = settings
        old, new = self.output, OSCOutput(settings)
        new.held = old.held  # outputs a client stopped stay stopped (disableModelRunning)
        self.use_output(new)
        self.scenes.retire(old)  # closed unless a scene's route still sends on it
        self._build_wire()  # the compiled path's reply templates are the output's
        self.scenes.outputs_set()  # a scene playing keeps its outputs as edited
        self._edited()

    def _cmd_set_reject_below(self, value: float) -> None:
        """Set the project's ``outputs["reject_below"]`` (the monitor's slider), in force from
        the next frame on every output and view alike (:mod:`gesturemap.outputs.rejection`).

        The OSC output is kept, not rebuilt as :meth:`_cmd_set_output_settings` does: a
        slider dragged sends many values, and each would open a socket and repack the
        compiled path's templates between two frames."""
        value = float(check_number("outputs.reject_below", value, minimum=0.0, maximum=1.0))
        self.project.outputs = {**(self.project.outputs or {}), "reject_below": value}
        self.output.settings = dataclasses.replace(self.output.settings, reject_below=value)
        for wire in (self._wire, self._held_wire):  # the compiled path's (held while playing)
            if wire is not None:
                wire.reject = value
        self.use_output(self.output)  # MIDI's notes and the synth's one-shots
        self.scenes.outputs_set()  # a scene playing keeps its outputs as edited
        self._edited()

    def _cmd_set_synth_mapping(self, settings: dict[str, Any]) -> None:
        """Use the synth mapping ``settings`` (:meth:`SynthMapping.to_dict`): saved in the
        project's ``outputs["synth"]`` and swapped into the running synth by the I/O thread,
        which loads its sounds — never the frame path. Parameters glide to their new values.
        Settings saving no mapping (``{}``, or only their ``"audio"``): the project keeps none
        (its audio settings stay) and the synth plays the default for the model, following
        its kind and its outputs' ranges."""
        from ..synth import SynthMapping
        from ..synth.mapping import saves_mapping

        saved = saves_mapping(settings)
        # a bad mapping is refused here (counted); None: the synth follows the model
        mapping = SynthMapping.from_dict(settings) if saved else None
        before = (self.project.outputs or {}).get("synth")
        outputs = {**(self.project.outputs or {}), "synth": dict(settings)}
        if not settings:
            outputs.pop("synth")
        self.project.outputs = outputs
        synth = self.synth
        if synth is not None:
            def load() -> None:
                try:
                    synth.set_mapping(mapping)
                except GesturemapError as exc:  # a sound that does not decode (its header did)
                    self.command("_synth_mapping_refused", dict(settings), before, str(exc))
            self._io.put(load)
        self.scenes.outputs_set()  # a scene playing keeps its outputs as edited
        self._edited()

    def _cmd__synth_mapping_refused(self, settings: dict[str, Any], before: Any,
                                    why: str) -> None:
        """The synth could not load mapping ``settings`` and plays on with the one before:
        the project keeps that one (the next `gesturemap run` would not start on the one
        refused), unless another was set since; the refusal is said where the edit was."""
        if (self.project.outputs or {}).get("synth") == settings:
            outputs = dict(self.project.outputs or {})
            if before is None:
                outputs.pop("synth", None)
            else:
                outputs["synth"] = before
            self.project.outputs = outputs
            self.scenes.outputs_set()  # a scene playing keeps its outputs as edited
            self._edited()
        self._refuse("set_synth_mapping",
                     GesturemapError(f"the synth could not load this mapping: {why}"))

    def _cmd_save(
        self,
        folder: str | Path,
        done: threading.Event | None = None,
        errors: list[BaseException] | None = None,
    ) -> None:
        """Save the project into ``folder`` (on the I/O thread) and autosave there from now."""
        folder = Path(folder)
        previous = self.project_dir

        def job() -> None:
            try:
                self.project.save(folder)
                if self._hold.folder is not None:  # running: the lock moves with the folder
                    self._hold.move(folder)
                self._saves_recovered()  # every take is in that folder now
            except Exception as exc:
                # queued before ``done`` is set: applied before any later command of the window
                self.command("_save_failed", str(folder),
                             None if previous is None else str(previous))
                if errors is None:
                    raise
                errors.append(exc)  # the window says so: not an engine error (nor a training's)
            finally:
                if done is not None:
                    done.set()

        self.project_dir = folder
        self._io.put(job)

    def _cmd__save_failed(self, folder: str, previous: str | None) -> None:
        """A save into ``folder`` failed: the takes and edits go on into the folder they went
        to before (the window stays there too), which gets every take and edit made since the
        save was asked for (saved there as a whole)."""
        if self.project_dir != Path(folder):
            return  # saved elsewhere since
        self.project_dir = None if previous is None else Path(previous)
        self._autosave()
