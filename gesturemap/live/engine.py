"""The real-time engine: the one owner of the feature pipeline and the model stream.

Threads (docs/architecture.md, "The one-way data flow"):

- source threads parse and enqueue :class:`~gesturemap.sources.Frame` s into a bounded queue;
- the **engine thread** (here) takes frames one by one: features -> model step -> outputs, and
  between two frames applies commands (record, train, run, swap in a trained model…). Idle, a
  source thread runs the same frame path itself for the frame it just received
  (:meth:`Engine._direct`, one thread hop less; a lock keeps one frame path at a time, in order);
- an **I/O thread** saves takes and models and prepares training data, so that no file write
  or data preparation ever runs on the frame path;
- training runs in a warm worker **process** (:class:`~gesturemap.live.trainer.Trainer`);
  the finished model comes back as a command and is swapped in between two frames;
- a **stats thread** writes the health counters to a JSON file every second.

The frame path never raises: a bad frame is counted and skipped, an unexpected error is
counted and logged at most once a second (with ``GESTUREMAP_RAISE=1``, as in the tests, it is
kept and re-raised by :meth:`Engine.stop`).
"""

from __future__ import annotations

import copy
import functools
import inspect
import logging
import math
import os
import queue as queue_mod
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..data import class_numbers
from ..errors import GesturemapError, TrainingCancelled
from ..features.pipeline import all_below
from ..models.interpreted import compile_steps, interpret_steps
from ..outputs.osc import DEFAULT_ADDRESSES, OSCOutput
from ..outputs.ranges import output_ranges
from ..outputs.rejection import rejected
from ..project.lock import FolderHold
from ..sources.base import FrameQueue
from ..utils.faults import RateLimitedLog, raise_mode
from ..utils.scheduling import priorities_now, realtime_allowed, realtime_wanted, schedule_threads
from .compiled import ready_stream
from .edits import TakeEdits
from .frame_path import FramePath, load_output_check, model_stream
from .health import Health, Percentiles
from .last_gesture import GESTURE_FRAMES, LastGesture
from .notices import Notices
from .prepare import preparation_message
from .recording import Recording
from .rehearsals import KeptRehearsals
from .replies import FrameWire, no_template_result
from .saving import ProjectSaves
from .scenes import SceneCommands, SceneRuntime
from .search import BackgroundSearch
from .snapshot import EngineSnapshot
from .switches import ModelSwitches
from .take_buffer import TakeRecording

log = logging.getLogger("gesturemap.live.engine")

#: Wekinator's control messages (under /wekinator/control/) and the engine command each maps to.
WEKINATOR_CONTROL = {
    "startRecording": "wek_start_recording", "stopRecording": "wek_stop_recording",
    "train": "wek_train", "cancelTrain": "wek_cancel_train", "startRunning": "wek_start_running",
    "stopRunning": "stop_running", "deleteAllExamples": "delete_all",
    "deleteExamplesForOutput": "delete_for_output", "outputs": "set_outputs",
    "setInputNames": "set_input_names", "setOutputNames": "set_output_names",
    "startDtwRecording": "start_numbered", "stopDtwRecording": "stop_dtw_recording",
    "enableModelRunning": "enable_running", "disableModelRunning": "disable_running",
    "enableModelRecording": "enable_recording", "disableModelRecording": "disable_recording",
}

WEKINATOR_PREFIX = "/wekinator/control/"
#: Commands that take no argument (one sent anyway is ignored).
NO_ARGUMENTS = frozenset(("wek_start_recording", "stop_recording", "wek_stop_recording",
                          "stop_dtw_recording", "train", "wek_train", "cancel_train", "wek_cancel_train",
                          "start_running", "wek_start_running", "stop_running", "delete_all",
                          "undo_correction", "undo", "reset", "suggest"))

#: gesturemap's own control messages (``/gesturemap/VERB``) -> engine commands.
GESTUREMAP_CONTROL = {"correct": "correct", "undo": "undo", "reset": "reset",
                      "restore": "restore_takes", "suggest": "suggest",
                      "scene": "scene", "costs": "costs", "rehearsal": "rehearsal"}

#: What gesturemap itself sends under /gesturemap/ (labels, likelihoods, notices...): one of
#: these coming in is its own output looped back to its input, left alone (a refusal would be
#: a notice, which would loop back in turn), where any other unknown /gesturemap/ address is
#: refused and said.
OWN_ADDRESSES = frozenset(a for a in DEFAULT_ADDRESSES.values()
                          if a is not None and a.startswith("/gesturemap/"))

#: How often the engine thread publishes an :class:`EngineSnapshot` (per second).
SNAPSHOT_HZ = 30.0

#: OSC address that resets the model streams (a gesture starts).
RESET_ADDRESS = "/gesturemap/reset"
RECORD_COMMANDS = frozenset(("start_recording", "start_numbered", "wek_start_recording",
                             "stop_recording", "wek_stop_recording", "stop_dtw_recording"))


#: A suggestion under way answers requests that come meanwhile, for at most this long (a
#: review that never answered must not silence the requests after it).
SUGGEST_WAIT_S = 60.0

#: ``/gesturemap/suggestion``'s reason when a training came while it was worked out.
TAKES_CHANGED = "no suggestion: the takes changed while it was worked out; ask again"
#: Its reason when a training came first, the takes and settings as they were (a client
#: sending ``train`` after ``suggest``): the suggestion gave way, nothing changed.
TRAINING_FIRST = ("no suggestion: a training started while it was worked out and went first; "
                  "ask again")


#: a command's signature, read once (control messages arrive on a source's receiving thread)
_signature = functools.cache(inspect.signature)


def _wrong_arguments(command: Any, args: list[Any]) -> str | None:
    """Why ``args`` from a control message cannot go to ``command`` (None: they can): an OSC
    blob (it reads as a number in Python, but is none), or more or fewer arguments than the
    command takes."""
    if any(isinstance(a, bytes | bytearray) for a in args):
        return "an OSC blob is no argument of a control message"
    try:
        _signature(command.__func__).bind(None, *args)  # None: the engine itself
    except TypeError:
        given = len(args)
        return f"{given} argument{'s' if given != 1 else ''} is not what it takes"
    return None


def _second_opinions_mismatch(model: Any, spotting: dict[str, Any], keys: list[str]
                              ) -> str | None:
    """What of the second opinions ``keys`` (``"verifier"``, ``"detector"``) of the spotting
    settings ``spotting`` does not fit ``model``, or None: one that did not would be switched
    off at every stream built, while the project went on holding it."""
    from ..project.training import detector_mismatch, verifier_mismatch

    for key in keys:
        wrong = (verifier_mismatch if key == "verifier" else detector_mismatch)(model, spotting)
        if wrong is not None:
            return f"the {key} does not fit the running model: {wrong}"
    return None


def _checked_thresholds(value: Any) -> dict[str, float]:
    """Per-class spotting thresholds as a checked ``{label: number > 0}``."""
    if not isinstance(value, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) and v > 0
            for v in value.values()):
        raise GesturemapError(f"thresholds: {value!r:.80}; expected {{gesture: a number > 0}}")
    return {str(k): float(v) for k, v in value.items()}


def _training_read(project: Any) -> tuple[Any, ...]:
    """What a training reads of ``project``: its takes (frozen, compared as objects: a take
    recorded, deleted or relabelled is another tuple) and its settings."""
    # the settings copied: a dict changed in place must not compare equal to itself
    return (project.takes, copy.deepcopy((project.model, project.input_names,
                                          project.output_names)),
            project.pipeline.to_dict(), project.classes, project.input_dim)


def _suggestion_of(job: Any) -> tuple[str, str, str]:
    """A finished suggestion job as ``/gesturemap/suggestion``'s three strings."""
    try:
        value = job.result(timeout=0)
    except TrainingCancelled:
        return "", "", TAKES_CHANGED
    except Exception as exc:  # noqa: BLE001 - takes the model cannot train on: said why
        return "", "", f"no suggestion: {exc}"
    return ("" if value["label"] is None else value["label"]), value["hint"], value["reason"]


class Engine(Recording, TakeEdits, TakeRecording, Notices, BackgroundSearch, Health, FrameWire,
             SceneCommands, KeptRehearsals, ModelSwitches, ProjectSaves):
    """Runs a project live: sources in, features, model, OSC out; records takes; trains.

    Parameters
    ----------
    project : gesturemap.project.Project
    project_dir : path, optional
        Where the project lives: takes are saved there as soon as they end (autosave), and the
        trained model after every training.
    osc_in : (host, port) or None
        Listen for ``/wek/inputs`` frames and Wekinator's control messages there (port 0: a
        free port, read back from :attr:`osc_port`). ``None``: no OSC input.
    osc_out : (host, port) or None
        Where results go (default: the project's setting, Wekinator's 127.0.0.1:12000).
    sources : list of callables ``factory(queue, on_control) -> Source``, optional
        More sources (serial, replay…), built on the engine's queue.
    log_dir : path, optional
        Log every stream of the session there (:class:`gesturemap.log.SessionLog`).
    stats_file : path, optional
        Health counters as JSON, rewritten every second and at stop.
    trainer : "process" or "thread"
        Where training runs (a process keeps it off this process's GIL).
    realtime : bool, default False
        Ask for real-time scheduling of the engine's threads where permitted
        (:mod:`gesturemap.utils.scheduling`); ``gesturemap run`` and the window's engine process
        do. Off, the engine leaves the operating system's scheduling as it is.
    """

    #: the next-take suggestion under way in the trainer (None: none asked), and what
    #: cancels it before the I/O thread has sent it there
    _suggest_job: Any = None
    _suggest_cancel: threading.Event | None = None
    #: when the suggestion under way was asked for (-inf: none is)
    _suggest_asked = -math.inf
    #: what the suggestion under way read of the project (:func:`_training_read`)
    _suggest_read: Any = None
    #: rows held for a session log being opened (None: none is): input frames among them,
    #: and the frames beyond what it holds
    _log_backlog: list[tuple[Any, ...]] | None = None
    _log_backlog_inputs = 0
    _log_backlog_missed = 0
    #: the first frame's stamp, for a session log that opens at it: the session's start
    _log_first_t: float | None = None
    #: the stamp of the frame on the plain path (its source's time): a scene's crossfade is
    #: timed by it, as the replay of the session's log times it
    frame_t = 0.0
    #: trainings asked for, and the latest of them answered (one is under way while they
    #: differ); mapping changes (scene recalls) so far: a training asked for before one was
    #: for the mapping left, and its model is never swapped in
    _trains_asked = _trains_answered = 0
    mapping_changes = 0
    #: what the training under way read of the project (:func:`_training_read`), and
    #: whether another training follows it (a train came that it does not answer)
    _train_read: Any = None
    _train_again = False
    #: an autosave is queued on the I/O thread and has not started: the next edits share it
    _save_waiting = False
    #: a first start's kernels are being prepared: models run without spotting meanwhile
    _spotting_waits = False

    def __init__(self, project: Any, *, project_dir: str | os.PathLike[str] | None = None,
                 osc_in: tuple[str, int] | None = ("127.0.0.1", 6448),
                 osc_out: tuple[str, int] | None = None,
                 sources: list[Callable[..., Any]] | None = None,
                 log_dir: str | os.PathLike[str] | None = None,
                 stats_file: str | os.PathLike[str] | None = None,
                 trainer: str = "process", queue_size: int = 4096,
                 synth: Any = None, sinks: list[Any] | None = None,
                 realtime: bool = False) -> None:
        self.project = project
        #: the frame path: feature pipeline state and model stream (engine thread only)
        self.path = FramePath(project)
        #: whether the engine asks for real-time scheduling of its threads
        self.realtime_requested = realtime_wanted(realtime)
        #: SCHED_FIFO (frame path, background) priorities chosen at start, or None: ordinary
        self.priorities: tuple[int, int] | None = None
        #: more outputs (MIDI, LSL): ``start()``, ``update(result, labels)`` once per frame (never
        #: raises), ``stop()``, ``stats()``; opened at start, closed at stop
        self.sinks = list(sinks or [])
        self.project_dir = Path(project_dir) if project_dir else None
        self._hold = FolderHold()  # the project folder's lock while running (project.lock)
        self.queue = FrameQueue(queue_size)
        self._osc_in = osc_in
        self._source_factories = list(sources or [])
        self.sources: list[Any] = []
        out_settings = dict(getattr(project, "outputs", None) or {})
        if osc_out is not None:
            out_settings["host"], out_settings["port"] = osc_out[0], int(osc_out[1])
        self.output = OSCOutput(out_settings)
        #: the project's scenes on stage (prepared on the I/O thread at start)
        self.scenes = SceneRuntime(self, osc_out)
        #: the built-in synth (gesturemap.synth.Synth) or None; fed once per frame
        self.synth = synth
        self._log_dir = Path(log_dir) if log_dir else None
        self.session_log: Any = None
        self._logged_features = 0  # the width of the log's features stream (0: none)
        self._stats_file = Path(stats_file) if stats_file else None
        self._trainer_mode = trainer
        self.trainer: Any = None
        #: (name, args, frames put before it): a command takes effect after the frames before
        #: it, before those after it (a take stopped with frames still queued keeps them)
        self._commands: deque[tuple[str, tuple[Any, ...], int]] = deque()
        self._io: queue_mod.Queue[Callable[[], None] | None] = queue_mod.Queue()
        self._stop = threading.Event()
        #: held by whichever thread runs the frame path: the engine thread, or a source
        #: thread handling its own frame while the engine is idle (see _direct)
        self._frame_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._errlog = RateLimitedLog(log)
        self.exception: BaseException | None = None
        # engine-thread state
        self._logged_labels: list[str] = []
        #: whether a lean HHMM's or GMM's frames take the compiled path (engine_wire._compiled)
        self.compiled_path = os.environ.get("GESTUREMAP_COMPILED", "1") != "0"
        #: the compiled path's kernel: "off", "compiling", "ready", "failed" (engine_wire)
        self._wire, self.frames_compiled, self.compiled_state = None, 0, "off"
        self._set_model(getattr(project, "trained", None))
        self.running = self.model is not None
        self.recording = False
        #: the last answer to /gesturemap/suggest: (label, hint, reason), or None
        self.last_suggestion: tuple[str, str, str] | None = None
        self._take: Any = None  # the take's TakeBuffer, made at its first frame (its width)
        self._take_label: Any = None
        self._take_t0 = 0.0
        # the frames since the last reset or take: what "that was X" relabels (bounded)
        self._gesture = LastGesture(GESTURE_FRAMES)
        self._init_corrections(), self._init_notices()
        self._init_rehearsals(), self._restore_switches(), self._init_saving()
        self._train_job: Any = None
        self._train_cancel = threading.Event()
        self.current_outputs = np.zeros(len(getattr(project, "output_names", None) or []))
        self.current_label: Any = None
        # health
        self.frames_in = 0
        self.frames_out = 0
        self.bad_frames = 0
        self.errors = 0
        #: commands refused as they stand (startRecording before any class, train without
        #: takes...): the sender's mistake, not a fault of gesturemap, so not in ``errors``
        self.refused_commands = 0
        #: takes deleted by control messages (deleteAllExamples...), newest batch last: each
        #: batch a list of take ids, in the project's trash until restored (restore_takes)
        self.control_deletions: list[list[str]] = []
        #: trainings done, and those done interpreted on a first start while the kernels
        #: compiled (:mod:`gesturemap.models.interpreted`)
        self.trainings = self.trainings_interpreted = 0
        self.last_train_ms: float | None = None
        #: CPU time the training process spent on the last retrain (None with a thread)
        self.last_train_cpu_ms: float | None = None
        #: the performer's wait in ms, from a take's end to its model's first answer (or None)
        self.last_take_to_model_ms: float | None = None
        self._take_ended_at: float | None = None
        self._first_frame_pending = False
        #: start and stop recording commands applied so far, from any sender (the window tells
        #: by it whether the state it reads holds its own last one)
        self.record_commands = 0
        self._step_us = Percentiles()
        self._latency_us = Percentiles()
        #: gestures spotted so far, and the latest ones as (t, label, score), newest last
        self.events_spotted = 0
        self.recent_events: deque[tuple[float, str, float]] = deque(maxlen=256)
        self.done_training = threading.Event()
        self.osc_port: int | None = None
        self.realtime = False
        # the background search (gm.auto) after each retrain, when the project asks for it
        self.searcher: Any = None
        self._search_job: Any = None
        self._search_queue: queue_mod.Queue[Callable[[], None] | None] | None = None
        #: what the last search did (shown by the window, in stats()["search"]), or None
        self.search_status: dict[str, Any] | None = None
        self.searches_swapped = 0
        #: stream resets by cause: a take starting, an explicit trigger (OSC
        #: /gesturemap/reset, the window's key), an onset of motion
        self.resets = {"take": 0, "trigger": 0, "onset": 0}
        self._onset = self._onset_detector()
        if self._onset is not None:  # a saved project's takes give the threshold at once
            self._onset.calibrate(t.inputs for t in getattr(project, "takes", []))
        #: the latest :class:`~gesturemap.live.snapshot.EngineSnapshot` (a latest-value slot: read
        #: it from any thread; the engine thread replaces it whole between two frames)
        self.snapshot = EngineSnapshot()
        self._snapshot_due = 0.0
        self._publish()

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Engine:
        """Open the sources and start every thread. Raises ProjectBusy (first: one writer per
        project folder) if another process writes the project, if a port cannot be opened, or
        :class:`~gesturemap.synth.NoAudioDeviceError` (saying what to do) if the synth has no
        audio device — after closing everything it had opened (on Ctrl-C too)."""
        self._hold.move(self.project_dir)
        started = False
        try:  # a failure on the way, or Ctrl-C: everything opened so far closed, the lock freed
            self._start_parts()
            started = True
        finally:
            if not started:
                self.stop()
        # the stats file is there once the engine runs, not a second later: a monitor (or a
        # script) started with the engine reads it at once
        self._write_stats()
        return self

    def _start_parts(self) -> None:
        """:meth:`start`'s work, in order; on any exception (KeyboardInterrupt included) the
        caller stops what was started."""
        from ..sources.osc import OSCSource

        if self._osc_in is not None:
            # The project's input size, when it knows it, is the frames' size: a frame of
            # another size is counted and dropped, never adopted: a stray message must not
            # become the size every later frame is held to.
            src = OSCSource(self.queue, host=self._osc_in[0], port=int(self._osc_in[1]),
                            channel_names=self._input_names() or None,
                            on_control=self._on_control, size=self.project.input_dim)
            self.sources.append(src)
        for factory in self._source_factories:
            self.sources.append(factory(self.queue, self._on_control))
        self.priorities = priorities_now()  # before any thread starts: below the audio server
        if self._log_dir is not None and self.project.input_dim is not None:
            self._open_log()
            self._log_reject_below()  # before any frame: the threshold of the first
        if self.project.input_dim is not None:
            self._start_pipeline(self.project.input_dim)
        else:
            # a new project starts its pipeline at its first frame, on the frame path: the
            # kernel that start uses is loaded now (numba's first load in a process takes
            # some 0.4 s, which held that frame and every packet behind it; their stamps,
            # taken when the source reads them, were late by as much in the session log)
            all_below(np.empty(0), 1.0)
        load_output_check()  # a regression's first frame: not loaded there either
        from .trainer import Trainer

        # With real-time scheduling the frame path preempts training wherever it runs, so
        # training may use every core; without it, one core stays free for the frame path.
        cores = os.cpu_count() or 1
        fifo = self.realtime_requested and self.priorities is not None and realtime_allowed()
        self.trainer = Trainer(self._trainer_mode, n_jobs=cores if fifo else max(1, cores - 1))
        self.trainer.start_worker(prepare=preparation_message(self.project))  # not at take 1
        self._interpret_until_compiled()
        if self._search_settings() is not None:
            # started now, before any audio stream: starting a process later would fork
            # while the audio callback runs
            self._ensure_searcher()
        for target, name in ((self._run, "engine"), (self._io_loop, "io"),
                             (self._stats_loop, "stats")):
            t = threading.Thread(target=target, name=f"gesturemap-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        if getattr(self.project, "scenes", None):
            self._io.put(self.scenes.prepare)
        if os.environ.get("GESTUREMAP_DIRECT", "1") != "0":
            self.queue.set_direct(self._direct)
            self._install_compiled()
        for src in self.sources:
            src.start()
        for sink in self.sinks:
            sink.start()
        self.use_output(self.output)  # the sinks that choose a class take its reject_below
        self._retrain_lost_model()
        if self._osc_in is not None:  # where `gesturemap restore` reaches a running engine
            self.osc_port = self.sources[0].port
            self._hold.describe(osc=[self._osc_in[0], self.osc_port])
        # The receiving threads are on the real-time path too. They share one core with the
        # engine thread: a frame handed over then wakes a thread on a core that is already
        # awake, instead of waking an idle core (costly on virtual machines).
        engine_thread = next(t for t in self._threads if t.name == "gesturemap-engine")
        self.realtime_threads([engine_thread, *(getattr(s, "_thread", None) for s in self.sources)])
        self.background_threads([t for t in self._threads if t is not engine_thread]
                                + [getattr(self.trainer, "_reader", None),
                                   getattr(self.searcher, "_reader", None)])
        if self.synth is not None:
            # The audio stream starts last: starting the training process forks this one, and
            # while fork() copies the address space every page fault of the process waits,
            # the audio callback's included (measured: start-up underruns when the stream ran
            # first). Nothing forks once the stream is running.
            self.synth.start()

    def realtime_threads(self, threads: list[Any]) -> None:
        """With ``realtime=True``: give threads of the real-time path (the engine's, a source's
        receiving thread, which may run the frame path itself) real-time scheduling and the
        same core, where permitted. Call it for a source started after :meth:`start` too."""
        if self.realtime_requested and self.priorities is not None:
            pin = os.environ.get("GESTUREMAP_PIN", "1") != "0"
            schedule_threads(threads, self.priorities[0], pin)

    def background_threads(self, threads: list[Any]) -> None:
        """With ``realtime=True``: real-time scheduling below the frame path's for this
        process's other Python threads (I/O, stats, the trainer's reader, a window's
        snapshots), where permitted (see :data:`gesturemap.utils.scheduling.BACKGROUND_PRIORITY`)."""
        if self.realtime_requested and self.priorities is not None:
            schedule_threads(threads, self.priorities[1])

    def stop(self) -> None:
        """Stop sources and threads; finish a take or keep a rehearsal being recorded; write
        the last stats."""
        for src in self.sources:
            try:
                src.stop()
            except Exception as exc:  # keep stopping the rest
                self.exception = self.exception or exc
        self.command("stop_recording")
        if self._rehearsal_armed:  # a rehearsal under way is kept, as a take is
            self.command("rehearsal", 0)
        self._stop.set()
        for t in self._threads:
            if t.name == "gesturemap-engine":
                t.join(timeout=5)
        if self._threads:  # after the take just ended is saved (or not): a last try, said
            self._io.put(self._last_try)
        self._io.put(None)
        for t in self._threads:
            t.join(timeout=10)
        if self.trainer is not None:
            self.trainer.close()
        if self._search_queue is not None:
            self._search_queue.put(None)
        if self.searcher is not None:
            self.searcher.close()
        if self.synth is not None:
            try:
                self.synth.stop()
            except Exception as exc:
                self.exception = self.exception or exc
        for sink in self.sinks:
            try:
                sink.stop()
            except Exception as exc:
                self.exception = self.exception or exc
        if self.session_log is not None:
            try:  # (raises only in raise mode: the log's last write error)
                self.session_log.close()
            except Exception as exc:
                self.exception = self.exception or exc
        self._write_stats()
        self.scenes.close()
        self.output.close()
        self._hold.move(None)
        if self.exception is not None and raise_mode():
            raise self.exception

    def __enter__(self) -> Engine:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- commands -----------------------------------------------------------------------------
    def command(self, name: str, *args: Any) -> None:
        """Queue a command for the engine thread (thread-safe, never blocks): it takes
        effect after the frames put before it and before those put after it."""
        self._commands.append((name, args, self.queue.put_count))

    def _on_control(self, address: str, args: list[Any]) -> None:
        """A control message from a source's thread, queued for the engine thread; one it
        cannot be (an unknown verb, a blob, arguments the command does not take) is queued
        as a refusal, counted and said like any other."""
        if address == RESET_ADDRESS:
            self.command("reset")
            return
        if address in OWN_ADDRESSES:
            return
        verb = address.rsplit("/", 1)[-1]
        ours = address.startswith("/gesturemap/")
        name = (GESTUREMAP_CONTROL if ours else WEKINATOR_CONTROL).get(verb)
        if name is None or address != ("/gesturemap/" if ours else WEKINATOR_PREFIX) + verb:
            self.command("_refused", "control", f"{address:.80}: not a control message "
                         "gesturemap takes (docs/osc.md lists them)")
            return
        # Wekinator ignores an argument to a command that takes none (clients send "1")
        args = [] if name in NO_ARGUMENTS else list(args)
        wrong = _wrong_arguments(getattr(self, "_cmd_" + name), args)
        if wrong is not None:
            self.command("_refused", name, f"{address}: {wrong}")
            return
        self.command(name, *args)

    def use_output(self, output: Any) -> None:
        """Send on ``output`` (an :class:`OSCOutput`) from the next frame (engine thread). The
        sinks that choose a class (MIDI's notes) and the synth's one-shots follow its
        ``reject_below``: below it no class is chosen, on every output alike. Outputs held by
        ``disableModelRunning`` stay held: the performer froze them, not the scene (a scene
        recalled with other output settings sends on another output)."""
        if output is not self.output:
            output.held, self.output.held = self.output.held, None
        self.output = output
        for sink in [*self.sinks, *([self.synth] if self.synth is not None else [])]:
            if hasattr(sink, "reject_below"):
                sink.reject_below = output.settings.reject_below
        self._log_reject_below()

    #: the rejection threshold the session log last recorded (None: none yet)
    _reject_logged: float | None = None

    def _log_reject_below(self) -> None:
        """With a session log open or opening, log the rejection threshold when it is not the
        one logged last (the log opening, the window's slider or Outputs tab, a scene's
        outputs): a ``reject_below`` event naming the first ``input`` row it decides, where
        ``gesturemap replay`` sets it too. Without it a replay labelled every frame by the
        project's saved threshold, the last one set, not the one each frame was sent by."""
        value = float(self.output.settings.reject_below)
        row = self._next_log_row()
        if row is None or value == self._reject_logged:
            return
        self._reject_logged = value
        self._log_event("reject_below", value=value, frame=row)

    def _cmd__add_sink(self, sink: Any) -> None:
        """Send to ``sink`` too from the next frame (one opened while running: the window's
        MIDI output), set as the others are to the output's ``reject_below`` and the DTW
        model's match threshold: set on another thread, a model swapped in meanwhile would
        leave it the last model's."""
        if hasattr(sink, "reject_below"):
            sink.reject_below = self.output.settings.reject_below
        if hasattr(sink, "match_threshold"):
            sink.match_threshold = self._match_threshold
        self.sinks = [*self.sinks, sink]  # one rebinding: the frame path sees old or new

    def _cmd__refused(self, name: str, why: str) -> None:
        self._refuse(name, GesturemapError(why))

    def _apply_commands(self, before: int | None = None) -> None:
        """Apply the waiting commands (only those sent before frame number ``before`` was
        put, when given), in order."""
        commands = self._commands
        while commands:
            if before is not None and commands[0][2] > before:
                return
            name, args, _ = commands.popleft()
            try:
                getattr(self, "_cmd_" + name)(*args)
            except GesturemapError as exc:
                self._refuse(name, exc)
            except Exception as exc:
                self._count_error(exc, f"command {name}")
            self._drop_outdated_search()
            if name in RECORD_COMMANDS:  # after it took effect: the window reads both
                self.record_commands += 1

    def _cmd_train(self) -> None:
        """Retrain now (the window, a correction, an edit): a training under way or on its
        way is cancelled and this one, of the project as it is now, answers in its place, so
        that what plays once trained is what was asked for last."""
        self._train_while_recording()  # the take so far trains; recording goes on
        if not self.project.takes:
            raise GesturemapError("train: no takes recorded yet")
        self._cmd_cancel_train()  # the training under way or on its way
        self._start_training()

    def _cmd_wek_train(self) -> None:
        """Wekinator's ``train``. A training under way goes on, as Wekinator's does (it
        ignores train while it trains): restarted at each train, it would keep a client that
        sends train faster than a training lasts (a button pressed twice, a script training
        after each take) from ever getting a model. What that training does not cover (a take
        recorded since it started, a setting changed, or it was cancelled) is trained right
        after it, so the newest takes are never left out; each training is answered once.
        A DTW project refuses it, as Wekinator's DTW ignores it: its gestures are matched as
        they are recorded, and the take of a gesture being recorded would end there, cut
        into two templates."""
        if self._dtw_project():
            raise GesturemapError("train: a DTW project needs no training, its gestures are "
                                  "matched as soon as they are recorded (Wekinator ignores "
                                  "train there too); nothing changed")
        if self._trains_asked == self._trains_answered:
            self._cmd_train()
            return
        self._train_while_recording()  # the take so far trains; recording goes on
        if not self.project.takes:
            raise GesturemapError("train: no takes recorded yet")
        if self._train_cancel.is_set() or _training_read(self.project) != self._train_read:
            self._train_again = True

    def _start_training(self) -> None:
        """Hand the project's takes and settings to the trainer (from the I/O thread); the
        training is answered once, by ``_trained``."""
        self._cancel_search()  # its takes are out of date
        if self._suggest_cancel is not None:  # so is a suggestion's: it must not hold it up
            self._suggest_cancel.set()
        if self._suggest_job is not None:
            self._suggest_job.cancel()
        started = time.perf_counter()
        # set by cancelTrain, which may come before the I/O thread has handed this one over
        self._train_cancel = cancelled = threading.Event()
        self._trains_asked += 1
        if self._dtw_project():  # with no model: its first template is on its way now
            self._size_dtw_values()
        self._train_read = _training_read(self.project)
        # each training is answered once (its model, its failure, or None), told which it
        # was and for which mapping
        asked = (started, self._trains_asked, self.mapping_changes)

        # The trainer gets the raw takes (packed on the I/O thread): fitting the pipeline and
        # running every take through it (Python per frame) happen there, off this GIL.
        def send() -> None:
            if cancelled.is_set():
                self.command("_trained", None, *asked)
                return
            def done(j: Any) -> None:  # the trainer's thread: the new model's stream made here
                j.stream = ready_stream(j)
                self.command("_trained", j, *asked)

            try:
                self._train_job = job = self.trainer.train_project(self.project, on_done=done)
                if cancelled.is_set():
                    job.cancel()
            except Exception as exc:
                self._count_error(exc, "train")
                self.command("_trained", None, *asked)

        self._io.put(send)

    @property
    def training_progress(self) -> tuple[float, str] | None:
        """The training under way (else the kernels' preparation): (fraction, message), or None."""
        job = self._train_job
        if job is None or job.done():
            return getattr(self.trainer, "preparing", None)
        return job.progress, job.message

    @property
    def train_warnings(self) -> tuple[str, ...]:
        """What the running model's training warned about (``training_info_["warnings"]``)."""
        info = getattr(self.model, "training_info_", None)
        notes = info.get("warnings") if isinstance(info, dict) else None
        return tuple(str(n) for n in notes) if isinstance(notes, list) else ()

    def _cmd_cancel_train(self) -> None:
        self._train_again = False  # a training asked for while it trained: cancelled too
        self._train_cancel.set()
        if self._train_job is not None and not self._train_job.done():
            self._train_job.cancel()

    def _cmd_wek_cancel_train(self) -> None:
        """Wekinator's ``cancelTrain``: the training under way is cancelled (and answered
        with done-training). With none under way, or in a DTW project (whose gestures are
        stored as they are recorded: cancelling that would leave the gesture just recorded
        out of the matching), Wekinator warns and does nothing: refused here, nothing sent
        to the client."""
        if self._dtw_project():
            raise GesturemapError("cancelTrain: a DTW project has no training to cancel (its "
                                  "gestures are ready as they are recorded)")
        if self._trains_asked == self._trains_answered:
            raise GesturemapError("cancelTrain: no training is under way")
        self._cmd_cancel_train()

    def _mapping_changed(self, why: str) -> None:
        """The project's mapping was replaced between two frames (``why``: a scene was
        recalled). A training under way trains the mapping before it (its model settings,
        read when it started) and would replace the new mapping's model with one of the
        mapping left: it is cancelled, its model never swapped in, and that is said."""
        self.mapping_changes += 1
        if self._trains_asked > self._trains_answered:
            self._cmd_cancel_train()
            text = (f"training cancelled: {why} while it trained the mapping before; "
                    "train again to retrain this one")
            self._errlog("training cancelled", "%s", text)
            self._log_event("training_cancelled", reason=text)
            self._notice("training_failed", text)

    def _cmd__trained(self, job: Any, started: float, number: int = 0,
                      mapping: int | None = None) -> None:
        self._trains_answered = max(self._trains_answered, number)
        self._answer_training(job, started, number, mapping)
        if self._dtw_project():  # no model came: a first template no longer on its way
            self._size_dtw_values()
        if self._train_again and number == self._trains_asked:
            self._train_again = False
            if self.project.takes:  # (all deleted meanwhile: nothing to train)
                self._start_training()

    def _answer_training(self, job: Any, started: float, number: int,
                         mapping: int | None) -> None:
        """Training number ``number`` ended: its model swapped in, or why not said."""
        if job is None or job.cancelled:
            if not self._train_again:  # a train after the cancel: the next training answers
                self._training_ended(number)
            return
        if mapping is not None and mapping != self.mapping_changes:
            # asked for before a scene was recalled: its model is the mapping's left
            self._training_ended(number)
            return
        try:
            model = job.result(timeout=0)
        except Exception as exc:  # the last good model plays on; said on OSC and the window
            self._training_failed(exc)
            self._training_ended(number)
            return
        if job.pipeline is not None:  # fitted with the model, swapped in with it
            self.project.pipeline = job.pipeline
        self.project.check_verifier(model)  # a verifier that no longer fits: removed, said
        self._note_left_out(model)
        self._set_model(model, ready=getattr(job, "stream", None))
        self._start_pipeline(self.project.input_dim)
        self.trainings, self.training_failed = self.trainings + 1, None
        self.trainings_interpreted += bool(getattr(job, "interpreted", False))
        self.last_train_ms = (time.perf_counter() - started) * 1e3
        cpu = getattr(job, "cpu_seconds", None)
        self.last_train_cpu_ms = None if cpu is None else cpu * 1e3
        self._first_frame_pending = self._take_ended_at is not None
        # the first frame the new model answers: where a replay of the log swaps it in too
        self._log_event("trained", ms=self.last_train_ms, frame=self._next_log_row())
        if not self._dtw_project():
            # Wekinator says done-training for its supervised models only: its DTW matches
            # on the examples as they are recorded, with no training to wait for, and its
            # clients hear nothing but /wek/outputs and the gestures' messages
            self.output.send_status("status")
        self.done_training.set()
        if self.project_dir is not None:
            folder = self.project_dir
            self._io.put(lambda: self._save("the trained model", folder,
                                            lambda: self.project.save(folder)))
        if self._onset_settings() != self._onset_given:  # changed in the window since
            self._onset = self._onset_detector()
        if self._onset is not None:
            takes = [t.inputs for t in self.project.takes]
            onset = self._onset
            self._io.put(lambda: onset.calibrate(takes))
        if self._search_settings() is not None and not self._train_again:
            self._start_search()

    def _training_ended(self, number: int) -> None:
        """Training number ``number`` ended with no model (cancelled, failed, or asked for
        before a scene was recalled). Wekinator says done-training whenever its training
        ends, cancelled or failed too, and its clients wait for it before they start running:
        without it they would wait for ever. One replaced by a later retraining (the
        window's, an edit's) is not answered: that one answers the same wait."""
        if number == self._trains_asked and not self._dtw_project():
            self.output.send_status("status")

    def _cmd_suggest(self) -> None:
        """``/gesturemap/suggest``: which class to record next, and how, answered with
        ``/gesturemap/suggestion label hint reason``. Never during a take (its frames are not
        a take yet, and the performer is busy): refused. The takes are reviewed in the
        training process (a cross-validation: seconds of Python that must not share this
        process's GIL with the frame path), from a copy made on the I/O thread; a training
        asked meanwhile cancels it (the answer would be about takes that are gone)."""
        if self.recording:
            raise GesturemapError("suggest: not during a take; ask again when it has ended")
        now = time.perf_counter()
        if now - self._suggest_asked < SUGGEST_WAIT_S:
            return  # one under way: its answer answers this one too (a client asking again)
        self._suggest_asked = now
        self._suggest_read = _training_read(self.project)
        from ..evaluation.quality import copy_of, settings_of

        # the takes as they are now (a tuple of frozen takes) and the settings
        settings, takes = settings_of(self.project), self.project.takes

        # set by a training asked before the I/O thread has handed this one over
        self._suggest_cancel = cancelled = threading.Event()

        def send() -> None:
            if cancelled.is_set():
                self.command("_suggested", "", "", TAKES_CHANGED)
                return
            try:
                self._suggest_job = job = self.trainer.suggest_project(
                    copy_of(settings, takes),
                    on_done=lambda j: self.command("_suggested", *_suggestion_of(j)))
            except Exception as exc:  # noqa: BLE001 - said to the performer, never fatal
                self.command("_suggested", "", "", f"no suggestion: {exc}")
                return
            if cancelled.is_set():
                job.cancel()

        self._io.put(send)

    def _cmd__suggested(self, label: str, hint: str, reason: str) -> None:
        self._suggest_asked = -math.inf  # answered: the next request is worked out again
        if reason == TAKES_CHANGED and _training_read(self.project) == self._suggest_read:
            reason = TRAINING_FIRST  # cancelled by a training of the very same takes
        self.last_suggestion = (label, hint, reason)
        self.output.send_texts("suggestion", label, hint, reason)

    def _cmd_swap_model(self, model: Any) -> None:
        """Run with ``model`` from the next frame on (the window's and tests' entry point)."""
        self._set_model(model)

    def _cmd_set_spotting_values(self, values: dict[str, Any], checked_for: Any = None,
                                 wrong: str | None = None) -> bool:
        """Replace some of the spotting settings (the window's Apply of a rehearsal audit's
        ``thresholds``, its ``costs``, the second opinions trained in its Rehearsal tab:
        ``verifier``, ``detector``; and their undo): each key given takes its value, None
        removes it, the others stay. A verifier or detector that does not fit the running
        model (its gestures, its frames) is refused, and nothing changes. Saved as every
        edit; the model runs with them from the next frame, without retraining. Returns
        whether they were set now: while the engine runs, a verifier or detector is first
        checked on the I/O thread (reading a detector takes about 13 ms, too long between two
        frames), which then sends the command again with the model it checked them for
        (``checked_for``) and what does not fit (``wrong``)."""
        from ..models.spotting.costs import check_costs

        spotting = self._spotting_settings()
        if not isinstance(spotting, dict):
            raise GesturemapError("the project does not spot gestures, so it has no "
                                  "thresholds or costs to set: turn spotting on in the Model "
                                  "tab first")
        if not isinstance(values, dict):
            raise GesturemapError(f"spotting settings: {values!r:.80} are not settings "
                                  "(expected names and their values)")
        new = dict(spotting)
        for key, value in values.items():
            if key == "costs" and value is not None:
                value = check_costs(value) or None
            elif key == "thresholds" and value is not None:
                value = _checked_thresholds(value)
            elif key not in ("costs", "thresholds", "verifier", "detector"):
                raise GesturemapError(f"spotting setting {key!r:.60}: only the thresholds, "
                                      "the costs and the second opinions (verifier, detector) "
                                      "are set here; the Model tab sets the others")
            if value is None:
                new.pop(key, None)
            else:
                new[key] = value
        given = [k for k in ("verifier", "detector") if values.get(k) is not None]
        model = self.model
        if given and model is not None and checked_for is not model:
            if self._threads:
                self._io.put(lambda: self.command("set_spotting_values", values, model,
                                                  _second_opinions_mismatch(model, new, given)))
                return False
            wrong = _second_opinions_mismatch(model, new, given)
        if wrong is not None:
            raise GesturemapError(f"second opinion not stored: {wrong}")
        self.project.model = {**self.project.model, "spotting": new}
        self.scenes.spotting_set()  # a scene playing keeps its thresholds and costs
        if model is not None and not self._retuned(set(values)):
            # a spotter with the new settings (its decision follows them), no retraining
            self._set_model(model)
        self._autosave()
        return True

    def _retuned(self, changed: set[str]) -> bool:
        """Thresholds and costs alone changed: the running spotter follows them in place
        (between two frames, its streams' state kept: a gesture under way is not lost, and
        nothing is calibrated again). False when it cannot (another setting changed, or no
        spotter of the running model runs): then a new spotter is built."""
        spotter = getattr(self.stream, "spotter", None)
        if (not changed <= {"thresholds", "costs"} or spotter is None
                or getattr(spotter, "model", None) is not self.model):
            return False
        try:
            self._retune(spotter)
        except GesturemapError:
            return False  # as the constructor would refuse it: the full path says why
        return True

    def _retune(self, spotter: Any) -> None:
        """``spotter`` decides by the project's thresholds and costs as they are now."""
        from ..models.spotting.core import set_aside

        spotting = (self.project.model or {}).get("spotting") or {}
        # a class the running model does not spot (not trained yet, or retrained without
        # it): its values wait in the settings, and the spotter decides without them
        kept, _ = set_aside(spotter.labels, {k: spotting.get(k) for k in ("thresholds", "costs")})
        spotter.retune(kept["thresholds"], kept["costs"])

    def _cmd_costs(self, label: Any, false: Any, miss: Any) -> None:
        """``/gesturemap/costs LABEL FALSE MISS``: what a false trigger and a miss of gesture
        ``LABEL`` cost (stored in the spotting settings: the spotter decides by them from the
        next frame, the next rehearsal audit chooses thresholds by them; 1 and 1 take the
        class's costs out). All three are needed: a message without them is refused, never
        read as 1 and 1 (which would take the class's costs out)."""
        from ..models.spotting.costs import check_costs, with_cost

        spotting = self._spotting_settings()
        null = spotting.get("null_label", "null") if isinstance(spotting, dict) else "null"
        gestures = {str(c): c for c in self.project.classes if str(c) != str(null)}
        if isinstance(label, float) and label.is_integer():
            label = int(label)  # a numbered class sent as a float (Max, TouchOSC): 2.0 is 2
        if label is None or str(label) not in gestures:
            raise GesturemapError(f"costs: {label!r} is no gesture of the project (its "
                                  f"gestures: {', '.join(gestures) or 'none'})")
        costs = spotting.get("costs") if isinstance(spotting, dict) else None
        one = check_costs({str(label): {"false": false, "miss": miss}})[str(label)]
        costs = with_cost(costs, str(label), one)
        self._cmd_set_spotting_values({"costs": costs or None})

    @property
    def last_result(self) -> Any:
        """The last frame's :class:`Result` (None before the first), built when read: a
        lean stream builds none per frame (:meth:`_lean`)."""
        path = self.path
        if path.stale:
            with self._frame_lock:
                return path.result()
        return path.last

    @property
    def stream(self) -> Any:
        """The model stream frames go through (None: no model)."""
        return self.path.stream

    @stream.setter
    def stream(self, stream: Any) -> None:
        self.path.stream = stream
        self._reset_pending = True  # a new stream: like a reset, it reads from the next frame

    def _interpret_until_compiled(self) -> None:
        """On a first start (numba's cache lacks the project's step kernels), step with their
        interpreted twins until the training process's preparation has compiled them: the
        first take's model answers at once instead of compiling here, on the frame path."""
        trainer = self.trainer
        kind = (getattr(self.project, "model", None) or {}).get("kind")
        if trainer is None or trainer.preparing is None or not interpret_steps(kind):
            return

        # the spotter's kernels are among those the preparation compiles: warming a spotting
        # stream here meanwhile would compile them a second time, in this process (the GIL
        # held beside the frame path for seconds, and a stop waiting on the I/O thread). The
        # first takes' models answer without spotting until the kernels are in the cache
        self._spotting_waits = True

        def compiled() -> None:  # on the I/O thread: loading from the cache holds the GIL
            still = compile_steps()
            if still:
                log.info("step kernels %s stay interpreted (numba's cache did not load them)",
                         ", ".join(still))
            self._spotting_waits = False
            model = self.model
            if model is not None and self._spotting_settings() is not None:
                self.command("_spotting_ready", model,
                             model_stream(self.project, model, warm=True))

        trainer.on_prepared = lambda: self._io.put(compiled)

    def _spotting_settings(self) -> dict[str, Any] | None:
        """The project's spotting settings (None: spotting is off)."""
        return (getattr(self.project, "model", None) or {}).get("spotting")

    def _set_model(self, model: Any, stream: Any = None, ready: Any = None) -> None:
        """Run with ``model`` from the next frame on, through ``stream`` when given (one
        made ahead, off the frame path), else a stream of the project's settings: ``ready``,
        when given, is ``model.stream()`` made ahead (:func:`~gesturemap.live.compiled.ready_stream`), taken wherever
        the model's own stream is wanted, so that the swap builds no stream between two
        frames."""
        before = getattr(self, "model", None)
        same, self.model = model is before, model
        # with a "spotting" setting the stream also spots gestures (Result.event)
        spotting = self._spotting_settings()
        if stream is not None:
            self.stream = stream
        elif model is not None and spotting is not None and self._spotting_waits:
            # spots once the kernels are prepared
            self.stream = model.stream() if ready is None else ready
        elif model is not None and spotting is not None and self._threads:
            # running: the spotter (its calibration, its kernels loaded) is prepared on the
            # I/O thread, never on the frame path. Meanwhile a new model answers with its own
            # stream; the same model with other settings keeps the stream it runs, so a
            # spotter goes on spotting (by the old settings) until the new one takes over
            if not (same and self.stream is not None):
                self.stream = model.stream() if ready is None else ready
            self._io.put(lambda: self.command(
                "_spotting_ready", model, model_stream(self.project, model, warm=True)))
        elif ready is not None and spotting is None:
            self.stream = ready
        else:
            self.stream = model_stream(self.project, model, warm=True)
        if self.synth is not None:  # one-shots fire on spotted gestures, not on likelihoods
            self.synth.spot_events = getattr(self.stream, "spotter", None) is not None
            # with no mapping saved, the default routes read the outputs over the targets
            # recorded (a model trained on 0..127 would sit at the top pitch from 1 up)
            self.synth.output_ranges = output_ranges(self.project)
        self.project.trained = model
        labels = list(getattr(model, "labels_", None) or [])
        self._model_labels = labels  # one list object per model: the synth rebinds on change
        self._labels = [str(lb) for lb in labels]
        # Wekinator's class number of each class (one rule: data.class_numbers), by the
        # project's numbers: a class added or renamed since the output was opened has its own
        self._class_numbers = class_numbers(labels,
                                            (self.project.outputs or {}).get("class_numbers"))
        self._log_likelihoods = self._labels == self._logged_labels
        self._set_dtw_wire(model, labels)
        self._build_wire()
        if model is None and before is not None and getattr(self, "running", False):
            self._release_outputs()

    def _set_dtw_wire(self, model: Any, labels: list[Any]) -> None:
        """Wekinator's DTW on the wire: per-gesture distances on /wek/outputs, one value per
        gesture of the model playing and of the project's declared gestures
        (``outputs.gesture_messages``; +inf for a gesture without a template, as Wekinator's
        float of Double.MAX_VALUE), and the gesture's own message on a match (default
        /output_N)."""
        self._dtw_last = -1
        messages = dict(self.output.settings.gesture_messages)
        numbers = [int(n) for n in self._class_numbers]
        # a spotted gesture sends its match message too, whatever the model
        self._match_address = {str(lb): messages.get(str(n), f"/output_{n}")
                               for lb, n in zip(labels, numbers, strict=True)}
        dtw = getattr(model, "kind", None) == "dtw"
        # MIDI's controllers and the synth's routes: each gesture's closeness to a match, by
        # the model's threshold
        self._match_threshold = model.threshold_ if dtw else None
        for sink in [*self.sinks, *([self.synth] if self.synth is not None else [])]:
            if hasattr(sink, "match_threshold"):
                sink.match_threshold = self._match_threshold
        if dtw:
            self._dtw_positions = np.array([n - 1 for n in numbers], dtype=np.int64)
            self._dtw_addresses = [messages.get(str(n), f"/output_{n}") for n in numbers]
        self._dtw_values = None
        self._size_dtw_values()

    def _size_dtw_values(self) -> None:
        """Size the distances a DTW project sends on /wek/outputs to the gestures of the model
        playing: one per gesture it has a template of, or the project declares (+inf for a
        declared one it lacks, as Wekinator's for a gesture with no example). A gesture
        recorded since that model was made gets its value with the model that has its
        template: until that one is swapped in, the frames are answered by the model playing
        exactly as before the take, not with a new +inf for the gesture just recorded (a patch
        scaling the distances would jump to infinity for the tenth of a second storing the
        template lasts). With no model, +inf per gesture of the project while no template is
        on its way (every take deleted: Wekinator's DTW with no example), and nothing while
        the first one is (see :meth:`_first_template_coming`). Called as the model changes, as
        a training starts or is answered, and as running starts."""
        from ..interop.wekinator.examples import output_count

        model = self.model
        if getattr(model, "kind", None) == "dtw":
            declared = len(self.output.settings.gesture_messages)
            count = max([declared, *(int(n) for n in self._class_numbers), 0])
            if self._dtw_values is None or len(self._dtw_values) != count:
                self._dtw_values = np.full(count, np.inf)
            return
        self._dtw_values = None
        if model is None and self._dtw_project() and not self._first_template_coming():
            count = output_count(self.project)
            if count:
                self._dtw_values = np.full(count, np.inf)
                self._no_template = no_template_result(self._dtw_values)

    def _first_template_coming(self) -> bool:
        """Whether a DTW project with no model has one on its way: takes, and a training
        storing them not answered yet. Its frames are then not answered at all, as before
        running starts: Wekinator's DTW matches a take from the frame after it, never sending
        "no template" (+inf) for a gesture just recorded, and gesturemap's first distances are
        those of the model that has the take, from the frame after it is swapped in. Waiting
        for it on the frame path would hold every frame back for the tenth of a second (more
        on a first start) that storing the takes lasts."""
        return bool(self.project.takes) and self._trains_asked > self._trains_answered

    def _cmd__spotting_ready(self, model: Any, stream: Any) -> None:
        """The spotting stream prepared for ``model`` (unless another model came since)."""
        if model is self.model:
            self.stream = stream
            # built from the settings of when it was asked for: thresholds or costs retuned
            # since then are the ones that hold
            spotter = getattr(stream, "spotter", None)
            if spotter is not None:
                try:
                    self._retune(spotter)
                except GesturemapError as exc:
                    self._count_error(exc, "spotting settings")
            if self.synth is not None:
                self.synth.spot_events = getattr(stream, "spotter", None) is not None

    def _cmd_start_running(self) -> None:
        self.running = True
        self._dtw_last = -1
        if self.model is None and self._dtw_project() and self.project.takes \
                and not self._training_current():
            self._cmd_train()  # a DTW client never sends train (see _cmd_stop_recording)
        if self._dtw_project():
            self._size_dtw_values()
        self._reset_stream("running")
        self._clear_gesture()

    def _training_current(self) -> bool:
        """Whether a training under way (or on its way) trains the project as it is now: a
        DTW project's take stores its templates as it ends, and a startRunning sent right
        after it must not cancel that training to start the same one again, later."""
        return (self._trains_asked > self._trains_answered and not self._train_cancel.is_set()
                and _training_read(self.project) == self._train_read)

    def _cmd_stop_running(self) -> None:
        self.running = False
        # no frame answers now, so none would release the note a class left sounding, nor
        # move the synth's voice from where the last frame left it: both go to rest
        self._release_outputs()

    def _silence_sinks(self) -> None:
        for sink in self.sinks:
            silence = getattr(sink, "silence", None)
            if silence is not None:
                silence()

    def _release_outputs(self) -> None:
        """Running stopped, or the model went away while running (every take deleted, a
        correction's only take undone): no frame answers from now on, so none would release
        what the last one started. MIDI's note is released and the synth's voice goes to
        rest, once, here."""
        self._silence_sinks()
        if self.synth is not None:
            self.synth.rest()

    def _autosave(self) -> None:
        """Save the project after an edit (on the I/O thread). Edits that come faster than
        saves share one: a save waiting to start writes the project as it is when it starts,
        every edit before it included, so a controller's knob sending ``/gesturemap/costs``
        a hundred times a second queues one save, not a hundred (each writes the whole
        project, and the scenes' streams and the takes wait behind them)."""
        if self.project_dir is None or self._save_waiting:
            return
        folder = self.project_dir
        self._save_waiting = True

        def save() -> None:
            self._save_waiting = False  # an edit from now on needs a save after this one
            self._save("the project's changes", folder, lambda: self.project.save(folder))

        self._io.put(save)

    # -- the frame path -----------------------------------------------------------------------
    def _is_regression(self) -> bool:
        return bool(getattr(self.project, "output_names", None))

    def _input_names(self) -> list[str]:
        return list(getattr(self.project, "input_names", None) or [])

    def _start_pipeline(self, input_dim: int) -> None:
        self.path.start(input_dim)

    def _realtime_priority(self) -> None:
        """With ``realtime=True``, ask the OS to schedule the engine thread ahead of ordinary
        work (SCHED_FIFO), where permitted (root, or rtprio in limits.conf); otherwise carry
        on as we are. Never above a running audio server's clients (``self.priorities``)."""
        if not self.realtime_requested or self.priorities is None:
            return
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(self.priorities[0]))
            self.realtime = True
        except (AttributeError, OSError):
            self.realtime = False

    def _run(self) -> None:
        self._realtime_priority()
        q = self.queue
        lock = self._frame_lock
        period = 1.0 / SNAPSHOT_HZ
        while not self._stop.is_set():
            q.wait(period)
            with lock:
                self._pending()
                if time.perf_counter() >= self._snapshot_due:
                    self._publish()
        with lock:
            self._apply_commands()
            self._publish()

    def _publish(self) -> None:
        """Build the state snapshot and publish it (engine thread, between two frames)."""
        now = time.perf_counter()
        self._snapshot_due = now + 1.0 / SNAPSHOT_HZ
        out = self.output
        labels = getattr(self.model, "labels_", None) if self.model is not None else None
        self.snapshot = EngineSnapshot(
            running=self.running, recording=self.recording, current_label=self.current_label,
            labels=None if labels is None else tuple(labels), last_result=self.path.result(),
            frames_in=self.frames_in, frames_out=self.frames_out,
            events_spotted=self.events_spotted, trainings=self.trainings,
            last_train_ms=self.last_train_ms, train_warnings=self.train_warnings,
            training_progress=self.training_progress,
            errors=self.errors, edits=getattr(self, "edits", 0),
            record_commands=self.record_commands,
            output_host=out.settings.host, output_port=int(out.settings.port),
            output_send_errors=out.send_errors, taken_at=now)

    def _pending(self) -> None:
        """Apply the waiting commands and handle the queued frames, oldest first (with the
        frame lock held)."""
        q = self.queue
        # read before looking at the queue: every frame numbered below it is queued or handled
        count = q.put_count
        while len(q):  # no lock (nor list) when nothing waits: the direct path's common case
            frames, numbers, count = q.drain_numbered()
            for i, frame in zip(numbers, frames, strict=True):
                if self._commands:
                    self._apply_commands(i)  # those sent before this frame came
                self._handle(frame)
        if self._commands:
            # those sent before every frame still to come; a later one waits for the frames
            # sent before it, queued since (the next round takes them)
            self._apply_commands(count)

    def _handle(self, frame: Any) -> None:
        try:
            self._frame(frame)
        except Exception as exc:  # never let the frame path raise
            self._count_error(exc, "frame")

    def _direct(self, frame: Any) -> bool:
        """A source thread's frame, handled on that thread when the engine is idle: one thread
        hop less between the packet and the answer. The frame lock keeps one frame path at a
        time and the order (queued frames first); busy, the frame goes to the queue."""
        lock = self._frame_lock
        if self._stop.is_set() or not lock.acquire(blocking=False):
            return False
        try:
            self._pending()
            self._handle(frame)
        finally:
            lock.release()
        return True

    def _frame(self, frame: Any) -> None:
        t_in = self.frame_t = frame.t
        self.frames_in += 1
        values = frame.values
        if self.path.state is None:
            # a new project learns its input size from its first frame
            if self.project.input_dim is None:
                self.project.input_dim = len(values)
                if self._log_dir is not None:  # now the log knows its columns
                    # opened off the frame path; the frames until then are held for it
                    self._log_backlog = []
                    self._log_backlog_inputs = self._log_backlog_missed = 0
                    self._log_first_t = t_in
                    self._io.put(lambda: self._open_log(handover=True))
                    self._log_reject_below()  # the threshold this first frame is sent by
            self._start_pipeline(self.project.input_dim)
        if len(values) != self.project.input_dim:
            self.bad_frames += 1
            # said (at most once a second): a sensor of another width is otherwise silence
            self._errlog("frame size", "refused a frame of %d values: the project takes %d "
                         "inputs (a sensor or profile of another width?)", len(values),
                         self.project.input_dim)
            return
        t0 = time.perf_counter()
        try:
            feats = self.path.push(values, t_in)
        except GesturemapError:
            self.bad_frames += 1
            return
        slog = self.session_log
        stream = self.stream
        lean = (self.running and stream is not None and stream.lean and self._onset is None
                and not self.sinks and self._dtw_values is None and self.output.held is None)
        if lean:  # the reply first, from the stream's arrays; the frame is kept after it
            self._lean(stream, feats, t_in, slog)
        self._keep(values, t_in, slog, t0, lean, feats)

    def _keep(self, values: Any, t_in: float, slog: Any, t0: float, lean: bool,
              feats: Any) -> None:
        """The frame kept (gesture, take, log, onset), then, unless ``lean`` sent them, its
        feature frames through the stream and their replies; the timing counters."""
        self._gesture.append(values, t_in)
        if self.recording and not self.recording_off:
            self._record(values, t_in)
        if self._rehearsal_armed:
            self._rehearse(values, t_in)
        wrote = False  # (a row the log dropped is no row a reset can name)
        if slog is not None:
            wrote = slog.write("input", t_in, values)
            for f in feats if self._logged_features else ():  # a width changed by a retrain:
                if len(f) == self._logged_features:  # its frames are not logged
                    slog.write("features", t_in, f)
        elif self._log_backlog is not None:  # the log is opening: held for it
            self._hold_for_log(("input", t_in, values))
            wrote = True
        if self._onset is not None and self._onset.step(values) and self.stream is not None:
            self._reset_stream("onset", written=wrote)  # motion starts after a rest
            self._clear_gesture()
            self.resets["onset"] += 1
        if self._reset_pending:  # the first frame the stream reads since its reset (the "why?")
            self._reset_pending, self.stream_reset_t = False, t_in
        answering = self.running and self.stream is not None
        if answering is not self._answering_logged and (
                slog is not None or self._log_backlog is not None):
            self._log_answering(answering, wrote)
        if not answering:  # labels.csv has a row for every frame: none sent while stopped
            if self.running and self._dtw_values is not None:  # DTW with no template left
                self._send_no_template()
            self._log_no_label(t_in, slog, len(feats))
        else:
            labels = self._labels
            synth = self.synth
            answer = self.path.answer
            for f in () if lean else feats:
                r = answer(f)
                if self._dtw_values is not None:
                    self._send_dtw(r)
                else:
                    self.output.send(r, self._class_numbers[r.label_index])
                if synth is not None:
                    synth.update(r, self._model_labels)
                for sink in self.sinks:
                    sink.update(r, self._model_labels)
                self.frames_out += 1
                ev = r.event
                if ev is not None:
                    self._spotted(t_in, ev, slog)
                if slog is not None:
                    if self._log_likelihoods:
                        slog.write("likelihoods", t_in, r.likelihoods)
                        if self._log_distances and r.distances is not None:
                            slog.write("distances", t_in, r.distances)
                    elif self._logged_labels:  # other classes than the log's columns
                        slog.drop("likelihoods")
                        if self._log_distances:
                            slog.drop("distances")
                    if r.output is not None:
                        slog.write("output", t_in, r.output)
                    # the class the outputs sent: none on a frame they sent as no class
                    # (below reject_below, a DTW frame that matches nothing)
                    slog.label(t_in, None if rejected(r, self.output.settings.reject_below)
                               else labels[r.label_index])
            now = time.perf_counter()
            self._step_us.add((now - t0) * 1e6)
            self._latency_us.add((now - t_in) * 1e6)
            if self._first_frame_pending:
                self._first_frame_pending = False
                self.last_take_to_model_ms = (now - self._take_ended_at) * 1e3
                self._take_ended_at = None

    #: whether the model answered frames as the session log last said (None: not said yet)
    _answering_logged: bool | None = None

    def _log_answering(self, answering: bool, wrote: bool) -> None:
        """The session log being open or opening, log whether the model answers frames (running,
        with a model) from this frame on: a ``running`` event naming its ``input`` row, where
        ``gesturemap replay`` stops or starts answering too (as the log opens, and at each
        change)."""
        self._answering_logged = answering
        self._log_event("running", on=answering, frame=max(0, self._next_log_row() - int(wrote)))

    def _log_no_label(self, t_in: float, slog: Any, steps: int) -> None:
        """The empty labels of the ``steps`` feature frames of a frame no model answered
        (running stopped, nothing trained): a row for each, as for a frame answered."""
        for _ in range(steps):
            if slog is not None:
                slog.label(t_in, None)
            elif self._log_backlog is not None:  # the log is opening: held for it
                self._hold_for_log(("label", t_in, None))

    def _dtw_project(self) -> bool:
        return (self.project.model or {}).get("kind") == "dtw"

    # -- I/O, logs, stats ---------------------------------------------------------------------
    def _io_loop(self) -> None:
        while True:
            job = self._io.get()
            if job is None:
                return
            try:
                job()
            except Exception as exc:
                self._count_error(exc, "io")

    def _next_log_row(self) -> int | None:
        """The index in the session log's ``input`` stream of the next frame it takes (None:
        no log is open nor opening): an event names with it the first frame after it."""
        if self.session_log is not None:
            return self.session_log.accepted("input")
        if self._log_backlog is not None:
            return self._log_backlog_inputs
        return None

    def _log_event(self, kind: str, **data: Any) -> None:
        if self.session_log is not None:
            self.session_log.event(time.perf_counter(), kind, **data)
        elif self._log_backlog is not None:  # the log is opening: held for it
            self._hold_for_log(("event", time.perf_counter(), kind, data))
