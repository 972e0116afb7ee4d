"""Recording takes, with Wekinator's semantics on its control messages.

Wekinator adds one example per frame while it records, labelled with the output values current
at that frame (``/wekinator/control/outputs`` sets them; before any, each output's default:
class 1, or 0). Its control messages act on that state:

- ``startRecording`` starts a new training round (a second one while recording keeps every
  frame recorded so far) and stops running (``startDtwRecording`` too);
- ``outputs`` while recording changes the label of the frames that follow;
- ``train`` while recording trains on the examples so far and recording goes on;
- ``startRunning`` stops recording.

Here the frames of a recording are kept as takes, so that the window lists them and a take can
be played back, relabelled or deleted: a take is a stretch of frames with one label. A take ends
where the label changes (the next frames start a take of the new label), at a second
``startRecording``, at ``train`` (the take so far trains; the next one goes on recording), and
at ``stopRecording`` or ``startRunning``. A regression project's frames carry their output
values frame by frame (the targets current at each frame), as they always did.

A take recorded while its sensor was away (a serial board unplugged and plugged back, a MIDI
controller's port gone) keeps its frames as they came, with the hole in their times: it is
marked (:attr:`gesturemap.project.Take.gaps`, from the sources' outages), counted
(``stats()["takes_with_gaps"]``, ``["last_take_gap"]``), and said — in the log, in the
session log's ``take`` event (``away_s``) and over OSC (``/gesturemap/take_gap ID WHY``) — so
that the musician decides whether to record it again. Nothing is cut or dropped.

A mixin of :class:`gesturemap.live.engine.Engine`: every ``_cmd_*`` runs on the engine thread,
between two frames; saving is the I/O thread's.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..errors import GesturemapError
from ..project.takes import describe_gaps

__all__ = ["Recording", "merge_gaps"]


def merge_gaps(spans: list[tuple[float, float]], t0: float) -> tuple[tuple[float, float], ...]:
    """Outages ``(from, to)`` (:func:`time.perf_counter` seconds, possibly overlapping: two
    sources away at once) as a take's gaps: ``(start_s, length_s)`` from ``t0``, merged, in
    order, to the millisecond."""
    merged: list[list[float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    gaps = ((round(a - t0, 3), round(b - a, 3)) for a, b in merged)
    return tuple((max(start, 0.0), length) for start, length in gaps if length > 0)


class Recording:
    """Takes recorded live (mixed into :class:`gesturemap.live.engine.Engine`)."""

    project: Any
    project_dir: Any
    stream: Any
    recording: bool
    running: bool
    rehearsing: bool
    current_label: Any
    current_outputs: Any
    resets: dict[str, int]
    _io: Any
    _take: Any
    _check_take: Any
    _take_label: Any
    _take_t0: float
    _take_ended_at: float | None
    _is_regression: Any
    _dtw_project: Any
    _reset_stream: Any
    _clear_gesture: Any
    _log_event: Any
    _cmd_train: Any
    _cmd_start_running: Any
    _cmd_stop_running: Any
    output: Any
    model: Any
    _trains_asked: int
    _trains_answered: int
    recording_off: bool
    path: Any
    frames_out: int
    _outputs_at: int
    _outputs_set: Any
    label_for_number: Any
    sources: list[Any]
    _errlog: Any
    _notice: Any
    _refuse: Any
    #: takes recorded while a sensor was away, and the last of them ({take, label, away_s,
    #: gaps, text}, replaced whole: stats() reads it on another thread), or None (defaults
    #: until the engine records one)
    takes_with_gaps = 0
    last_take_gap: dict[str, Any] | None = None
    bad_frames: int
    #: takes a recording kept, all told; and when the last recording stopped, the bad input
    #: counted and the takes kept until then (a recording that kept nothing while bad input
    #: came says so at its stop: a client sending frames of another size hears why). Taken
    #: at a stop, not at a start: the sources count bad packets as they come, before the
    #: engine thread applies the start queued with them
    takes_recorded = 0
    _recording_marks: tuple[int, int] = (0, 0)

    def _cmd_start_recording(self, *args: Any) -> None:
        """Start a take of class ``args[0]`` (else the class set last; none set yet: class 1,
        Wekinator's default). A take under way ends first, its frames kept."""
        self._no_take_while_rehearsing("start_recording")
        if args:
            self.current_label = args[0]
        if not self._is_regression() and self.current_label is None:
            self.current_label = self.label_for_number(1)
        if self.recording:
            self._next_take()
        else:
            self._begin_take()

    def _cmd_start_numbered(self, number: Any) -> None:
        """Wekinator's ``startDtwRecording N``: record gesture N (by its Wekinator number,
        :meth:`label_for_number`). Taken as Wekinator's DTW takes it, and only so: in a DTW
        project, for a gesture the project has (one that declares its gestures, as an import
        does, naming each gesture's message: no new gesture, which would change the number
        of distances its client reads on /wek/outputs), and not while a gesture is being
        recorded (Wekinator goes on recording that one: its frames must not be split off into
        another gesture's template)."""
        if not self._dtw_project():
            raise GesturemapError("startDtwRecording: only a DTW project records gestures so; "
                                  "this one records with outputs N and startRecording "
                                  "(Wekinator ignores startDtwRecording there)")
        self._no_take_while_rehearsing(f"startDtwRecording {number}")
        label = self.label_for_number(number)
        # an imported Wekinator project names each of its gestures' messages: those are its
        # gestures (a new project names none, and each number recorded becomes one)
        declared = self.output.settings.gesture_messages
        if declared and str(int(float(number))) not in declared and not self.project.has_class(
                label):
            gestures = ", ".join(sorted(declared, key=lambda k: (len(k), k)))
            raise GesturemapError(f"startDtwRecording {number}: the project's gestures are "
                                  f"{gestures} (Wekinator records no other either)")
        if self.recording:
            raise GesturemapError(f"startDtwRecording {number}: gesture {self._take_label} is "
                                  "being recorded and goes on; send stopDtwRecording first "
                                  "(as Wekinator)")
        self.current_label = label
        self._record_stopping_running()

    def _record_stopping_running(self) -> None:
        """Record under the class current now. Running stops, and stays stopped until
        ``startRunning``: Wekinator's controller stops running before either recording starts
        (its DTW model resumes running after a take only when the take was started from its
        window, not over OSC), so a client hears no match, nor distances, for the gesture it
        is teaching."""
        self._cmd_stop_running()
        self._cmd_start_recording()

    def _cmd_wek_start_recording(self) -> None:
        """Wekinator's ``startRecording``: the frames that follow are recorded under the
        output values current (an argument, as "startRecording 1" from a message box, is no
        class: Wekinator ignores it). Only a supervised project records so: Wekinator takes
        the message in a DTW project and does nothing, where a take of the class set last
        would become a template (a controller's record toggle, sent whatever the project)."""
        if self._dtw_project():
            raise GesturemapError("startRecording: a DTW project records a gesture with "
                                  "startDtwRecording N (Wekinator ignores startRecording there)")
        self._no_take_while_rehearsing("startRecording")
        self._take_model_outputs()
        self._record_stopping_running()

    def _no_take_while_rehearsing(self, command: str) -> None:
        """Refuse a take while a rehearsal records (``/gesturemap/rehearsal 1``, a pedal): the
        same frames would be a take and ordinary movement at once, so the audit would count
        the gesture performed for the take as a false trigger of the spotter, and the take
        would retrain the model the rehearsal audits. The window refuses its Space alike."""
        if self.rehearsing:
            raise GesturemapError(f"{command}: a rehearsal is being recorded, and its frames "
                                  "never become a take; stop it first (/gesturemap/rehearsal 0)")

    def _take_model_outputs(self) -> None:
        """The model's last answer made the values recorded, when it answered a frame since
        ``outputs`` last came: Wekinator's running overwrites its current output values with
        each frame's computed ones, and a startRecording with no outputs since records under
        them (the class the model gave the last pose; an output held by
        disableModelRunning keeps its held value, as Wekinator computes none for it)."""
        result = self.path.result() if self.frames_out > self._outputs_at else None
        if result is None:
            return
        held = self.output.held
        if not self._is_regression():
            if held is None or np.isnan(held[0]):
                self.current_label = result.label
                return
            try:  # the class it holds (0, held below reject_below, is none: left as it is)
                self.current_label = self.label_for_number(float(held[0]))
            except GesturemapError:
                pass
            return
        values = result.output
        if values is None or len(values) != len(self.current_outputs):
            return
        if held is not None and len(held) == len(values):
            values = np.where(np.isnan(held), values, held)
        self.current_outputs = np.array(values, dtype=np.float64)

    def _cmd_stop_dtw_recording(self) -> None:
        """Wekinator's ``stopDtwRecording``: the gesture's take ends (none under way: nothing
        happens, as in Wekinator). Outside a DTW project Wekinator does nothing with it: a
        recording of classes under way goes on."""
        if not self._dtw_project():
            raise GesturemapError("stopDtwRecording: only a DTW project records gestures; "
                                  "this one stops recording with stopRecording (Wekinator "
                                  "ignores stopDtwRecording there)")
        self._cmd_stop_recording()

    def _cmd_wek_stop_recording(self) -> None:
        """Wekinator's ``stopRecording``: the take under way ends. A DTW project refuses it,
        as Wekinator's DTW ignores it (a gesture ends with stopDtwRecording): a controller's
        record toggle, sent whatever the project, would end a gesture's template early."""
        if self._dtw_project():
            raise GesturemapError("stopRecording: a DTW project ends a gesture with "
                                  "stopDtwRecording (Wekinator ignores stopRecording there); "
                                  "nothing changed")
        try:
            self._cmd_stop_recording()
        except GesturemapError as exc:
            # a take refused at its end (too short, too many classes) is said as before,
            # under the stop a client's patch already listens for
            self._refuse("stop_recording", exc)

    def _cmd_stop_recording(self) -> None:
        if not self.recording:
            return
        self.recording = False
        if self._end_take() is None:
            self._say_nothing_recorded()
            return
        self._recording_marks = (self._bad_input(), self.takes_recorded)
        if self._dtw_project():
            # Wekinator's DTW runs on its examples as soon as they are recorded, with no
            # train message: the templates are stored again at once (milliseconds)
            self._cmd_train()

    def _bad_input(self) -> int:
        """Packets the sources refused and frames the engine refused, so far."""
        return sum(getattr(getattr(s, "stats", None), "bad_packets", 0)
                   for s in list(self.sources)) + self.bad_frames

    def _say_nothing_recorded(self) -> None:
        """A recording that kept no frame while bad input came: refused at its stop, saying
        why (the recording has stopped all the same). Without it a client whose frames have
        another size than the project's hears nothing until ``train`` says "no takes"."""
        bad_at, takes_at = self._recording_marks
        bad_now = self._bad_input()
        self._recording_marks = (bad_now, self.takes_recorded)
        bad = bad_now - bad_at
        if self.takes_recorded != takes_at or bad <= 0:
            return
        size = self.project.input_dim
        sizes = f"frames of another size than the project's {size} inputs" if size else \
            "frames of another size"
        raise GesturemapError(f"the recording stopped with nothing recorded, and {bad} "
                              "packet(s) or frame(s) were refused since the recording before "
                              f"({sizes}, or malformed: the log says which)")

    def _cmd_set_outputs(self, *values: Any) -> None:
        """Wekinator's ``outputs``: the targets recorded with the next frames (regression),
        or the class of the next frames, by its number (classification). While recording,
        a new class ends the take under way and the next frames start one of the new class.
        A DTW project refuses it: its takes are of the gesture startDtwRecording N names, and
        Wekinator's DTW has no output values to set (a gesture being recorded would end
        there, its second half a template of another gesture). A value refused while
        recording leaves the values before current, and the frames go on being recorded
        under them, as Wekinator records on under the value it had."""
        if self._dtw_project():
            raise GesturemapError("outputs: a DTW project records the gesture that "
                                  "startDtwRecording N names, and has no output values to "
                                  "set (as in Wekinator); nothing changed")
        try:
            self._set_outputs(values)
        except GesturemapError as exc:
            if not self.recording:
                raise
            # Wekinator ignores the value it refuses and records on under the values it had:
            # so do the frames here, and the refusal says which take they go on into
            raise GesturemapError(f"{exc}; recording goes on: the frames that follow "
                                  f"{self._recorded_as()}, as in Wekinator") from None
        if self.recording and not self._is_regression() and self.current_label != self._take_label:
            self._next_take()

    def _recorded_as(self) -> str:
        """What becomes of the frames recorded from now on, in words."""
        if self.recording_off:
            return "are kept out of the takes (disableModelRecording)"
        if not self._is_regression():
            return f"are recorded as class {self._take_label}"
        values = ", ".join(f"{v:g}" for v in self.current_outputs)
        return f"are recorded with the outputs ({', '.join(self.project.output_names)}) at {values}"

    def _set_outputs(self, values: tuple[Any, ...]) -> None:
        """``outputs``' values made current, or GesturemapError saying why not (nothing
        changed)."""
        from ..sources.base import MAX_ABS_VALUE

        try:
            vals = np.asarray([float(v) for v in values], dtype=np.float64)
        except (TypeError, ValueError):
            raise GesturemapError(f"outputs {values!r:.80} are not numbers") from None
        if not vals.size:  # a message box sending the address alone
            what = (f"one value per output ({', '.join(self.project.output_names)})"
                    if self._is_regression() else "the class number")
            raise GesturemapError(f"outputs: no value given; send {what}, as Wekinator "
                                  "expects; the values before stay current")
        if not np.isfinite(vals).all():
            raise GesturemapError(f"outputs {values!r:.80} are not finite")
        if self._is_regression():
            # the targets of the next takes: refused now, with the values before kept, rather
            # than the take they would be recorded with refused (and lost) at its stop
            size = len(self.project.output_names)
            if vals.size != size:
                raise GesturemapError(f"outputs: {vals.size} values; the project has {size} "
                                      f"outputs ({', '.join(self.project.output_names)})")
            if np.abs(vals).max() > MAX_ABS_VALUE:
                raise GesturemapError(f"outputs {values!r:.80}: beyond ±{MAX_ABS_VALUE:g}, "
                                      "as no sensor value may be")
            self.current_outputs = vals
            self._outputs_set(vals)
            return
        if vals.size != 1:
            # Wekinator ignores outputs of another length than its outputs (a patch made for
            # a project of two outputs): its first value is no class of this one
            raise GesturemapError(f"outputs: {vals.size} values; a classifier project has one "
                                  "output, its class number")
        try:  # (a float: a numpy scalar would show as "np.float64(2.5)" in the refusal)
            label = self.label_for_number(float(vals[0]))
        except GesturemapError as exc:
            raise GesturemapError(f"outputs: {exc}; the class set before stays current"
                                  ) from None
        self.current_label = label
        self._outputs_set(vals)

    def _cmd_set_label(self, label: Any) -> None:
        self.current_label = label

    def _train_while_recording(self) -> None:
        """``train`` during a recording (Wekinator trains on the examples so far and goes on
        recording): the take so far ends, so that it trains, and the next frames start
        another take of the same class."""
        if self.recording:
            self._next_take()

    def _cmd_wek_start_running(self) -> None:
        """Wekinator's ``startRunning``: a recording under way stops first (the window's own
        start, after a training, leaves a take being recorded alone). As in Wekinator, it is
        refused when there is nothing to run, and changes nothing when running already: the
        stream goes on unreset, so a DTW gesture matching now does not fire a second time."""
        nothing = self._nothing_to_run()
        if nothing is not None:
            raise GesturemapError(f"startRunning: {nothing}")
        if self.recording:
            self._cmd_stop_recording()
        if not self.running:
            self._cmd_start_running()

    def _nothing_to_run(self) -> str | None:
        """Why Wekinator would refuse ``startRunning`` now (None: it would run). A training
        under way is no refusal here (Wekinator's is): its model answers when it comes, so a
        script that sends train and startRunning at once runs as its author meant."""
        if self._dtw_project():
            if self.project.takes or self.model is not None:
                return None
            return ("no gesture recorded yet: record one with startDtwRecording first "
                    "(Wekinator does not run without one either)")
        if self.model is not None or self._trains_asked > self._trains_answered:
            return None
        return ("nothing trained yet: send train, then startRunning (Wekinator does not run "
                "untrained either)")

    def _begin_take(self) -> None:
        # the take's state first: a stream that fails to reset must not lose the take
        self._take = None  # its bounded buffer is made at the first frame (its width)
        self._take_label = self.current_label if not self._is_regression() else "take"
        self._take_t0 = time.perf_counter()
        self.recording = True
        if self.stream is not None:  # a take starts a gesture: the model follows it from here
            try:
                self._reset_stream("take")
            except Exception as exc:  # noqa: BLE001 - counted; the take goes on
                self._count_error(exc, "reset")
            self.resets["take"] += 1

    def _next_take(self) -> None:
        """The take under way ends and another begins at once (another class, a train): a
        refused take (too short to train on) is said and counted, and recording goes on."""
        try:
            self._end_take()
        finally:
            self._begin_take()

    def _end_take(self) -> Any:
        """The frames recorded since the take began, added to the project as a take (saved
        by the I/O thread); None when no frame came. Raises GesturemapError for a take the
        model could not train on (said, not kept)."""
        buffer, self._take = self._take, None
        if buffer is None or not len(buffer):
            return None
        inputs, times, outputs = buffer.arrays()  # handed over whole
        self._check_take("take", inputs, self._take_label, times)
        gaps = self._take_gaps(self._take_t0, time.perf_counter())
        take = self.project.add_take(inputs, self._take_label, times=times, outputs=outputs,
                                     gaps=gaps)
        self.takes_recorded += 1
        self._clear_gesture()
        self._take_ended_at = time.perf_counter()
        away = {"away_s": take.away_s} if gaps else {}
        self._log_event("take", id=take.id, label=str(take.label), frames=len(inputs), **away)
        if gaps:
            self._say_gaps(take)
        if self.project_dir is not None:
            folder = self.project_dir
            self._io.put(lambda: self._save(f"take {take.id} ({take.label})", folder,
                                            lambda: self.project.save_take(folder, take)))
        self._take_added(take)
        return take

    def _take_gaps(self, t0: float, t1: float) -> tuple[tuple[float, float], ...]:
        """When a source was away between ``t0`` and ``t1`` (the take's span), as its gaps."""
        spans: list[tuple[float, float]] = []
        for src in list(self.sources):  # (one read: the window may replace the list)
            between = getattr(getattr(src, "stats", None), "outages_between", None)
            if between is not None:
                spans += between(t0, t1)
        return merge_gaps(spans, t0) if spans else ()

    def _say_gaps(self, take: Any) -> None:
        """A take with a hole: counted, and said in the log and over OSC (the window shows
        ``last_take_gap``)."""
        text = describe_gaps(take.gaps)
        self.takes_with_gaps += 1
        self.last_take_gap = {"take": take.id, "label": str(take.label), "away_s": take.away_s,
                              "gaps": [list(gap) for gap in take.gaps], "text": text}
        self._errlog("take gap", "take %s (%s): %s; kept as it is, its frames with a hole "
                     "there (delete it and record it again if it matters)",
                     take.id, take.label, text)  # fmt: skip
        self._notice("take_gap", take.id, text)

    def _take_added(self, take: Any) -> None:
        """A hook: a take was added by a recording (the window counts it as an edit)."""
