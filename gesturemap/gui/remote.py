"""The window's engine in a process of its own.

Painting and plotting are Python work on the window's GIL; an engine thread in the same process
waits behind them, and its OSC outputs came up to ~20 ms late while the window redrew (see
docs/performance.md). So the window runs its engine — sources, pipeline, model, OSC out, synth,
training — in a child process: the window talks to the engine only through commands and
snapshots, so the engine can live in a process of its own.

- :class:`EngineProcess` is what the window holds. It has the attributes the window reads
  (``project``, ``model``, ``last_result``, ``ring``, ``running``, ``recording``, counters,
  ``stats()``) and :meth:`EngineProcess.command`, like an in-process
  :class:`~gesturemap.gui.session.WindowEngine`. Its state is one
  :class:`~gesturemap.live.snapshot.EngineSnapshot`, taken by the child's engine thread between two
  frames, shipped whole and swapped in with one assignment.
- The child runs a :class:`~gesturemap.gui.session.WindowEngine` on the project folder, applies
  the window's commands between two frames, and sends its state about 30 times a second: the
  engine's latest snapshot, the new input frames, and — when it changed — the project (its
  settings and takes; the arrays of each take cross once).
- Messages are in the one wire format (:mod:`gesturemap.live.codec`: JSON plus raw array bytes):
  nothing is pickled.
- The child watches its pipe: when the window process dies, even killed, the child sees the
  pipe close, stops the engine (finishing its saves) and exits. Takes are saved by the child as
  they end, so killing the window never loses a completed take.

This module imports no Qt: the child process never loads it.
"""

from __future__ import annotations

import atexit
import dataclasses
import itertools
import json
import os
import struct
import threading
import time
from collections import deque
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..errors import GesturemapError
from ..live.codec import decode, encode
from ..live.snapshot import EngineSnapshot
from ..project.opinions import OPINIONS
from ..utils.children import ctrl_c_kept_from_children, helper_context, in_this_environment
from ..utils.faults import raise_mode
from ..utils.scheduling import tune_process
from .session import InputRing, TakeRef, WindowEngine

__all__ = ["EngineProcess"]

_FRAME = b"F"  # a mouse-pad frame: F, time (float64), values (float64); anything else
               # on the pipe is a wire message (gesturemap.live.codec)


def _frame_bytes(t: float, values: np.ndarray) -> bytes:
    return _FRAME + struct.pack("<d", t) + np.ascontiguousarray(values, dtype=np.float64).tobytes()


# -- what crosses: results and projects ----------------------------------------------------------
def _result_dict(r: Any) -> dict[str, Any]:
    d = {f.name: getattr(r, f.name) for f in dataclasses.fields(r)}
    if d.get("event") is not None:  # a spotted gesture (a dataclass): as a plain dict
        d["event"] = dataclasses.asdict(d["event"])
    return d


def _result(d: dict[str, Any]) -> Any:
    from ..models.base import Result
    from ..models.spotting.core import Event

    known = {f.name for f in dataclasses.fields(Result)}
    d = {k: v for k, v in d.items() if k in known}
    if isinstance(d.get("event"), dict):
        d["event"] = Event(**d["event"])
    return Result(**d)


def _recent_events(engine: Any, since: int) -> tuple[int, list[Any]]:
    """The gestures the engine spotted after the first ``since`` ones: (count, [(t, label,
    score)...]). The engine thread appends meanwhile: copy again if it did."""
    for _ in range(5):
        try:
            count = engine.events_spotted
            recent = list(engine.recent_events)
            break
        except RuntimeError:  # deque mutated during the copy
            continue
    else:
        return since, []
    new = count - since
    return count, [list(e) for e in recent[max(0, len(recent) - new):]] if new > 0 else []


def _take_dict(take: Any) -> dict[str, Any]:
    return {"id": take.id, "label": take.label, "inputs": take.inputs, "times": take.times,
            "outputs": take.outputs, "created": take.created,
            "gaps": [list(gap) for gap in take.gaps]}


def _project_message(project: Any, sent: set[str]) -> dict[str, Any]:
    """The project's document, and the arrays of the takes not yet sent (engine thread)."""
    takes = list(project.takes)
    doc = project._document(None, takes, list(project._removed))
    new = [_take_dict(t) for t in takes if t.id not in sent]
    sent.update(t.id for t in takes)
    return {"document": doc, "new_takes": new}


#: the spotting settings that can hold megabytes of numbers (the second opinions: a window
#: detector's trees): encoding one as JSON holds the child's GIL for tens of milliseconds, the
#: engine thread's frames waiting behind it, so each crosses once and then by name (as a
#: take's arrays do)
_HEAVY = OPINIONS
_HEAVY_SENT = "__sent_as__"
_HEAVY_SAME = "__same_as__"
#: heavy values the child remembers having sent (the newest; the window keeps as many)
HEAVY_KEPT = 8


_PACKED = "__list_as_array__"
#: lists shorter than this cross as they are
PACK_FROM = 256


def _pack(value: Any) -> Any:
    """``value`` with its long lists of numbers as arrays (raw bytes on the wire, where a
    JSON list of 50,000 floats takes ~10 ms to write); :func:`_unpack` gives the lists back."""
    if isinstance(value, dict):
        return {k: _pack(v) for k, v in value.items()}
    if isinstance(value, list) and len(value) >= PACK_FROM:
        try:
            array = np.asarray(value)
        except ValueError:  # ragged
            return value
        if array.dtype.kind in "if" and array.size and array.tolist() == value:
            return {_PACKED: array}
    return value


def _unpack(value: Any) -> Any:
    if isinstance(value, dict):
        if _PACKED in value and len(value) == 1:
            return value[_PACKED].tolist()
        return {k: _unpack(v) for k, v in value.items()}
    return value


def _lighten(message: dict[str, Any], sent: list[tuple[Any, str]], names: Any) -> None:
    """Replace in the project message the heavy spotting values already in ``sent`` (value,
    name) by their name, and name the others (added to ``sent``; the oldest forgotten)."""
    doc = message["document"]
    spotting = (doc.get("model") or {}).get("spotting")
    if not isinstance(spotting, dict) or not any(
            isinstance(spotting.get(k), dict) for k in _HEAVY):
        return
    light = dict(spotting)
    for key in _HEAVY:
        value = spotting.get(key)
        if not isinstance(value, dict):
            continue
        name = next((n for v, n in sent if v is value), None)
        if name is not None:
            light[key] = {_HEAVY_SAME: name}
        else:
            name = f"{key}-{next(names)}"
            sent.append((value, name))
            del sent[:-HEAVY_KEPT]
            light[key] = {_HEAVY_SENT: name, "value": _pack(value)}
    message["document"] = {**doc, "model": {**doc["model"], "spotting": light}}


def _heavy_back(doc: dict[str, Any], heavy: dict[str, Any]) -> dict[str, Any]:
    """The document with the heavy spotting values :func:`_lighten` named put back (the
    same object each time a value crosses by name); ``heavy`` keeps them by name."""
    spotting = (doc.get("model") or {}).get("spotting")
    if not isinstance(spotting, dict):
        return doc
    full = dict(spotting)
    for key in _HEAVY:
        value = spotting.get(key)
        if isinstance(value, dict) and _HEAVY_SENT in value:
            heavy[value[_HEAVY_SENT]] = full[key] = _unpack(value["value"])
            while len(heavy) > HEAVY_KEPT:
                heavy.pop(next(iter(heavy)))
        elif isinstance(value, dict) and _HEAVY_SAME in value:
            full[key] = heavy[value[_HEAVY_SAME]]
    return {**doc, "model": {**doc["model"], "spotting": full}}


def _mirror(message: dict[str, Any], cache: dict[str, Any],
            heavy: dict[str, Any] | None = None) -> Any:
    """A Project rebuilt from :func:`_project_message`; ``cache`` keeps takes by id,
    ``heavy`` the heavy spotting values by name (:func:`_lighten`)."""
    from ..project import Take, project_from_document

    for d in message["new_takes"]:
        cache[d["id"]] = Take(d["id"], d["label"], d["inputs"], d["times"], d["outputs"],
                              d["created"], tuple(tuple(g) for g in d.get("gaps") or ()))
    heavy = {} if heavy is None else heavy
    doc = _heavy_back(message["document"], heavy)
    project = project_from_document(Path("<engine>"), doc)
    for entry in doc["takes"]:
        take = cache[entry["id"]]
        project._add_loaded(dataclasses.replace(take, label=entry["label"]))
    # the checked copy stands for what crossed: checked once, the same object every time
    sent = (message["document"].get("model") or {}).get("spotting")
    spotting = project.model.get("spotting")
    if isinstance(sent, dict) and isinstance(spotting, dict):
        for key in _HEAVY:
            ref = sent.get(key)
            if isinstance(ref, dict) and spotting.get(key) is not None:
                name = ref.get(_HEAVY_SENT) or ref.get(_HEAVY_SAME)
                if name in heavy:
                    heavy[name] = spotting[key]
    return project


# -- the child process ---------------------------------------------------------------------------
def _engine_main(commands: Any, states: Any, config: str) -> None:
    """The child process: run a WindowEngine on the project folder until told to stop or until
    the window's end of the pipe closes."""
    import signal

    from ..synth.synth import NoAudioDeviceError

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the window's to handle
    cfg = json.loads(config)
    send_lock = threading.Lock()

    def send(message: dict[str, Any]) -> None:
        data = encode(message)
        with send_lock:
            states.send_bytes(data)

    audio_error = None
    try:
        try:
            engine = _child_engine(cfg)
            engine.start()
        except NoAudioDeviceError as exc:  # no sound card: run on without the synth, and say so
            audio_error = exc.problem  # what is wrong: the window says what to do
            engine = _child_engine({**cfg, "audio": None})
            engine.start()
    except BaseException as exc:  # say why (a refusal in its own words), then exit
        send({"kind": "failed", "error": _said(exc)})
        return
    tune_process()  # this process is the window's engine program (gesturemap.utils.scheduling)
    send({"kind": "started", "osc_port": engine.osc_port, "audio_error": audio_error})
    sender = _Snapshots(engine, send, float(cfg.get("snapshot_hz", 30.0)))
    thread = threading.Thread(target=sender.loop, name="gesturemap-snapshots", daemon=True)
    thread.start()
    # they share the GIL with the frame path: see Engine.background_threads
    engine.background_threads([thread, threading.main_thread()])
    refs: dict[int, Any] = {}
    try:
        while True:
            try:
                data = commands.recv_bytes()
            except (EOFError, OSError):
                break  # the window is gone
            try:
                if data[:1] == _FRAME:
                    from ..sources.base import Frame

                    (t,) = struct.unpack_from("<d", data, 1)
                    values = np.frombuffer(data, np.float64, offset=9)
                    engine.queue.put(Frame(t, values, "pad"))
                    continue
                message = decode(data)
                if message["kind"] == "stop":
                    break
                _child_command(engine, message, refs, send)
            except Exception as exc:  # a bad message is counted; the engine runs on
                engine._count_error(exc, "window message")
    finally:
        sender.stop.set()
        thread.join(timeout=2)
        error = None
        try:
            engine.stop()
        except BaseException as exc:
            error = f"{type(exc).__name__}: {exc}"
        try:
            sender.send_state(final=True)
            send({"kind": "stopped", "error": error})
        except (OSError, ValueError):
            pass


class _ChildEngine(WindowEngine):
    """The window's engine, plus the project snapshot command of the child process."""

    def _cmd__snapshot_project(self, sent: set[str], box: list[Any],
                               done: threading.Event) -> None:
        try:
            box.append(_project_message(self.project, sent))
        finally:
            done.set()


def _child_engine(cfg: dict[str, Any]) -> Any:
    from ..project import Project

    folder = Path(cfg["project_dir"])
    project = Project.load(folder)
    synth = None
    audio = cfg.get("audio")
    if audio:
        from ..synth import Synth
        from ..synth.synth import output_devices

        output_devices()  # no device: NoAudioDeviceError before anything starts
        # no mapping saved (None): the default for the model that plays, whatever its kind (a
        # model of another kind trained in the window included)
        synth = Synth((project.outputs or {}).get("synth"), audio=audio if isinstance(audio, dict) else None, base_dir=folder)
    osc_in = tuple(cfg["osc_in"]) if cfg.get("osc_in") else None
    engine = _ChildEngine(project, project_dir=folder, osc_in=osc_in, trainer=cfg["trainer"],
                          realtime=True,
                          ring_frames=int(cfg.get("ring_frames", 1000)), synth=synth)
    # the class the window shows picked is current before the sensor's port opens: a pedal's
    # startRecording in the first moments records it (the window's own set_label may come later)
    engine.current_label = cfg.get("label")
    return engine



def _said(exc: BaseException) -> str:
    """An error as the window says it: gesturemap's own refusals are written for the user
    (their type name would only stand in front); anything else keeps its type."""
    return str(exc) if isinstance(exc, GesturemapError) else f"{type(exc).__name__}: {exc}"

def _child_command(engine: Any, message: dict[str, Any], refs: dict[int, Any],
                   send: Any) -> None:
    name, args = message["name"], list(message.get("args", []))
    if name in ("remove_take", "restore_take", "relabel_take"):
        key, take_id = args[0]["ref"], args[0]["id"]
        args[0] = refs.setdefault(key, TakeRef(take_id))
    if name == "save":
        done, errors = threading.Event(), []
        token = message["token"]

        def reply() -> None:
            done.wait(60)
            send({"kind": "reply", "token": token, "done": done.is_set(), "edits": engine.edits,
                  "errors": [_said(e) for e in errors]})

        engine.command("save", args[0], done, errors)
        threading.Thread(target=reply, daemon=True).start()
        return
    engine.command(name, *args)


class _Snapshots:
    """Sends the engine's state to the window ~30 times a second (child process)."""

    def __init__(self, engine: Any, send: Any, rate_hz: float) -> None:
        self.engine = engine
        self.send = send
        self.period = 1.0 / rate_hz
        self.stop = threading.Event()
        self._ring_sent = 0
        self._features_sent = 0
        self._events_sent = 0
        self._result: Any = None
        self._stats_at = 0.0
        self._feature_names: list[str] = []
        self._signature: Any = None
        self._project_sent: set[str] = set()
        #: the heavy spotting values sent (value, name): they cross once (:func:`_lighten`)
        self._heavy_sent: list[tuple[Any, str]] = []
        self._heavy_names = itertools.count(1)
        #: how long a state message waits for the engine thread's project snapshot
        self.project_timeout_s = 2.0

    def loop(self) -> None:
        while not self.stop.wait(self.period):
            try:
                self.send_state()
            except (OSError, ValueError):
                return  # the window is gone

    def _new_frames(self, ring: Any, sent: int) -> tuple[int, Any]:
        count = ring.count
        new = min(count - sent, ring.capacity)
        if new <= 0:
            return count, None
        t, v = ring.latest(new)
        return count, {"t": t, "v": v}

    def _project_signature(self) -> Any:
        e = self.engine
        p = e.project
        takes = p.takes
        # a scene recalled swaps the project's model and outputs settings (no edit counted):
        # the window's copy follows it (the Outputs and Model tabs show the scene's, and the
        # Rehearsal tab's audit replays the mapping that plays)
        scenes = getattr(e, "scenes", None)
        return (e.edits, len(takes), takes[-1].id if takes else None, tuple(p.classes),
                p.input_dim, p.input_names, p.output_names, e.trainings,
                getattr(e, "mapping_changes", 0), getattr(scenes, "recalls", 0))

    def send_state(self, final: bool = False) -> None:
        e = self.engine
        if final:
            e._publish()  # the engine thread has stopped: the last state, taken now
        snap = e.snapshot  # one consistent state, taken by the engine thread between frames
        r = snap.last_result
        if r is not self._result:
            self._result = r
            result = None if r is None else _result_dict(r)
            sent_result = True
        else:
            result, sent_result = None, False
        msg: dict[str, Any] = {"kind": "state", "snapshot": snap.to_message(result),
                               "result_changed": sent_result}
        self._ring_sent, msg["ring"] = self._new_frames(e.ring, self._ring_sent)
        self._features_sent, msg["feature_ring"] = self._new_frames(e.feature_ring,
                                                                    self._features_sent)
        self._events_sent, events = _recent_events(e, self._events_sent)
        if events:
            msg["events"] = events
        # the count that goes with these events (the snapshot's may be a frame older)
        msg["events_spotted"] = self._events_sent
        names = list(e.feature_ring.names)
        if names != self._feature_names:
            self._feature_names = msg["feature_names"] = names
        now = time.perf_counter()
        if final or now - self._stats_at >= 0.5:
            self._stats_at = now
            msg["stats"] = e.stats()
        signature = self._project_signature()
        if signature != self._signature:
            # the takes whose arrays this message carries count as sent only once it is sent:
            # a message built too late (a busy engine thread) is dropped, and its takes'
            # arrays go with the next one (else the window would wait for them forever)
            pending = set(self._project_sent)
            if final:  # the engine thread has stopped: nothing changes the project now
                msg["project"] = _project_message(e.project, pending)
            else:
                # built on the engine thread, between two frames: a consistent project
                done = threading.Event()
                box: list[Any] = []
                e.command("_snapshot_project", pending, box, done)
                if done.wait(self.project_timeout_s) and box:
                    msg["project"] = box[0]
            if "project" in msg:
                heavy = list(self._heavy_sent)
                _lighten(msg["project"], heavy, self._heavy_names)
                self._signature = signature
                self._project_sent = pending
                self._heavy_sent = heavy
        self.send(msg)


# -- the window's side ---------------------------------------------------------------------------
class _ModelInfo:
    """What the window knows of the engine's model: its labels."""

    def __init__(self, labels: list[Any]) -> None:
        self.labels_ = labels


class _OutputInfo:
    """What the window knows of the engine's OSC output: where it sends, and its errors."""

    def __init__(self, host: str, port: int, send_errors: int = 0) -> None:
        self.settings = SimpleNamespace(host=host, port=port)
        self.send_errors = send_errors


class _PadQueue:
    """``put(frame)`` for the mouse pad: frames go down the pipe to the engine process."""

    def __init__(self, owner: EngineProcess) -> None:
        self._owner = owner

    def put(self, frame: Any) -> bool:
        try:
            self._owner._send_bytes(_frame_bytes(frame.t, frame.values))
        except (OSError, ValueError) as exc:  # the engine process died: the window restarts it
            owner = self._owner
            owner.exception = owner.exception or f"engine process gone ({exc})"
        return False


class EngineProcess:
    """A :class:`~gesturemap.gui.session.WindowEngine` running in a child process.

    Parameters
    ----------
    project : Project
        The project as the window opens it. It must live in ``project_dir``; if that folder
        has no project yet, the project is saved there first.
    project_dir : path
        The project's folder (or an untitled project's autosave folder): the engine process
        loads the project from it and saves every take and edit there.
    osc_in : (host, port) or None
    trainer : "process" or "thread"
    audio : bool or dict, default False
        Play the project's synth mapping on the built-in synth (in the engine process); a dict
        of :class:`~gesturemap.synth.AudioSettings` fields overrides the project's. With no
        audio device the engine runs without the synth and :attr:`audio_error` says why.
    ring_frames : int, default 1000
        Input frames kept for the window's plot.
    snapshot_hz : float, default 30
    """

    def __init__(self, project: Any, *, project_dir: str | os.PathLike[str],
                 osc_in: tuple[str, int] | None = None, trainer: str = "process",
                 audio: bool | dict[str, Any] = False, ring_frames: int = 1000,
                 snapshot_hz: float = 30.0, label: Any = None) -> None:
        self.project_dir = Path(project_dir)
        if not (self.project_dir / "project.json").exists():
            project.save(self.project_dir)
        self.project = project
        trained = getattr(project, "trained", None)
        out = dict(getattr(project, "outputs", None) or {})
        #: the engine's latest state (:class:`~gesturemap.live.snapshot.EngineSnapshot`), replaced
        #: whole when a snapshot arrives; the properties below read it
        self.snapshot = EngineSnapshot(
            running=trained is not None,
            labels=None if trained is None else tuple(trained.labels_),
            output_host=out.get("host", "127.0.0.1"), output_port=int(out.get("port", 12000)))
        self._model_info: Any = None
        self._edits_saved = 0  # edits the engine process confirmed in a save's reply
        self._events_counted = 0  # the count sent with the spotted events received
        #: the latest gestures spotted, as (t, label, score)
        self.recent_events: deque[tuple[float, str, float]] = deque(maxlen=256)
        self.ring = InputRing(ring_frames)
        self.feature_ring = InputRing(ring_frames)
        self.osc_port: int | None = None
        self.queue = _PadQueue(self)
        self.exception: str | None = None
        #: why the synth could not start (no audio device...), or None
        self.audio_error: str | None = None
        self._stats: dict[str, Any] = {}
        self._config = json.dumps({
            "project_dir": str(self.project_dir), "osc_in": list(osc_in) if osc_in else None,
            "trainer": trainer, "audio": audio if isinstance(audio, dict) else bool(audio),
            "ring_frames": ring_frames,
            "snapshot_hz": snapshot_hz, "label": label})
        self._send_lock = threading.Lock()
        self._replies: dict[int, tuple[threading.Event, list[Any]]] = {}
        self._tokens = itertools.count(1)
        self._ref_keys = itertools.count(1)
        self._takes: dict[str, Any] = {}
        self._heavy: dict[str, Any] = {}  # the heavy spotting values, by name (_lighten)
        self._started = threading.Event()
        self._stopped = threading.Event()
        self._process: Any = None
        self._commands: Any = None
        self._states: Any = None
        self._receiver: threading.Thread | None = None
        #: the last state message's arrival (time.perf_counter())
        self.last_snapshot = 0.0
        #: snapshots that could not be applied (should stay 0)
        self.snapshot_errors = 0

    # -- the engine's state, read from the latest snapshot ------------------------------------
    running = property(lambda self: self.snapshot.running)
    recording = property(lambda self: self.snapshot.recording)
    record_commands = property(lambda self: self.snapshot.record_commands)
    current_label = property(lambda self: self.snapshot.current_label)
    last_result = property(lambda self: self.snapshot.last_result)
    frames_in = property(lambda self: self.snapshot.frames_in)

    @property
    def events_spotted(self) -> int:
        """Gestures spotted so far: at least as many as the events received."""
        return max(self.snapshot.events_spotted, self._events_counted)

    trainings = property(lambda self: self.snapshot.trainings)
    last_train_ms = property(lambda self: self.snapshot.last_train_ms)
    train_warnings = property(lambda self: self.snapshot.train_warnings)
    training_progress = property(lambda self: self.snapshot.training_progress)
    errors = property(lambda self: self.snapshot.errors)

    @property
    def edits(self) -> int:
        """Project edits the engine applied (as of the last snapshot or save reply)."""
        return max(self.snapshot.edits, self._edits_saved)

    @property
    def model(self) -> Any:
        """What the window knows of the engine's model (its ``labels_``), or None."""
        labels = self.snapshot.labels
        if labels is None:
            return None
        info = self._model_info
        if info is None or tuple(info.labels_) != labels:
            info = self._model_info = _ModelInfo(list(labels))
        return info

    #: whether the project is a DTW one: the engine's own test (this process's copy of the
    #: project is the engine's), so the window's controls and the engine cannot disagree
    _dtw_project = WindowEngine._dtw_project

    @property
    def output(self) -> _OutputInfo:
        """Where the engine sends OSC, and its send errors."""
        snap = self.snapshot
        return _OutputInfo(snap.output_host, snap.output_port, snap.output_send_errors)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, timeout_s: float = 60.0) -> EngineProcess:
        """Start the engine process and wait until its engine runs (raises if it cannot)."""
        ctx = helper_context()
        cmd_read, cmd_write = ctx.Pipe(duplex=False)
        state_read, state_write = ctx.Pipe(duplex=False)
        target, args = in_this_environment(_engine_main, cmd_read, state_write, self._config)
        self._process = ctx.Process(target=target, args=args, name="gesturemap-engine",
                                    daemon=False)
        # not a daemon: it starts a training worker of its own. It ends when told to stop or
        # when its pipe closes — at the latest when this process exits, even killed.
        with ctrl_c_kept_from_children():
            self._process.start()
        atexit.register(self._close_pipe)
        cmd_read.close()
        state_write.close()
        self._commands, self._states = cmd_write, state_read
        self._receiver = threading.Thread(target=self._receive, name="gesturemap-engine-rx",
                                          daemon=True)
        self._receiver.start()
        if not self._started.wait(timeout_s) or self.exception is not None:
            self._kill()
            raise GesturemapError(
                f"the engine process did not start: {self.exception or 'timed out'}")
        return self

    def stop(self, timeout_s: float = 20.0) -> None:
        """Stop the engine (it finishes its saves) and wait for its process to end."""
        if self._process is None:
            return
        try:
            self._send_bytes(encode({"kind": "stop"}))
        except (OSError, ValueError):
            pass
        self._stopped.wait(timeout_s)
        self._process.join(timeout=5)
        self._kill()
        if self._receiver is not None:
            self._receiver.join(timeout=2)
        if self.exception and raise_mode():
            raise GesturemapError(f"the engine process failed: {self.exception}")

    def _close_pipe(self) -> None:
        """Close the command pipe: the engine process sees it and stops by itself."""
        try:
            self._commands.close()
        except (OSError, AttributeError):
            pass

    def _kill(self) -> None:
        proc = self._process
        if proc is not None and proc.is_alive():
            proc.kill()
            proc.join(timeout=5)
        self._close_pipe()
        atexit.unregister(self._close_pipe)

    @property
    def alive(self) -> bool:
        """Whether the engine process is running (False once it stopped or died)."""
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        """The engine process's id."""
        return None if self._process is None else self._process.pid

    # -- commands ----------------------------------------------------------------------------
    def _send_bytes(self, data: bytes) -> None:
        with self._send_lock:
            self._commands.send_bytes(data)

    def command(self, name: str, *args: Any) -> None:
        """Send a command to the engine (never waits for it to run).

        Arguments cross as JSON and arrays. ``save`` takes ``(folder, done, errors)`` as on
        :class:`~gesturemap.gui.session.WindowEngine`: ``done`` (a threading.Event) is set and
        ``errors`` filled when the engine process has saved. Take edits take a
        :class:`~gesturemap.gui.session.TakeRef`.
        """
        message: dict[str, Any] = {"kind": "command", "name": name}
        if name == "save":
            folder, done, errors = args
            token = next(self._tokens)
            self._replies[token] = (done, errors)
            if self._stopped.is_set() and self._replies.pop(token, None) is not None:
                errors.append(GesturemapError("the engine process is not running"))
                done.set()  # no answer would ever come
                return
            message["token"] = token
            args = (str(folder),)
        elif name in ("remove_take", "restore_take", "relabel_take"):
            ref = args[0]
            if getattr(ref, "key", None) is None:
                ref.key = next(self._ref_keys)
            if name == "remove_take" and ref.take is None:
                ref.take = next((t for t in self.project.takes if t.id == ref.id), None)
            args = ({"ref": ref.key, "id": ref.id}, *args[1:])
        message["args"] = list(args)
        try:
            self._send_bytes(encode(message))
        except (OSError, ValueError) as exc:
            self.exception = self.exception or f"engine process gone ({exc})"

    def stats(self) -> dict[str, Any]:
        """The engine's health counters (as of the last snapshot)."""
        return dict(self._stats) or {"dropped_frames": 0, "bad_packets": 0,
                                     "step_us_p50": None, "latency_us_p99": None}

    # -- snapshots ---------------------------------------------------------------------------
    def _receive(self) -> None:
        while True:
            try:
                message = decode(self._states.recv_bytes())
            except (EOFError, OSError):
                break
            kind = message["kind"]
            if kind == "state":
                try:
                    self._apply_state(message)
                except Exception as exc:  # keep receiving; the window shows the last state
                    self.snapshot_errors += 1
                    self.exception = self.exception or f"snapshot: {type(exc).__name__}: {exc}"
            elif kind == "started":
                self.osc_port = message["osc_port"]
                self.audio_error = message.get("audio_error")
                self._started.set()
            elif kind == "reply":
                done, errors = self._replies.pop(message["token"], (None, None))
                if done is not None:
                    self._edits_saved = max(self._edits_saved, message["edits"])
                    errors.extend(GesturemapError(e) for e in message["errors"])
                    if message["done"]:
                        done.set()
            elif kind == "failed":
                self.exception = message["error"]
                self._started.set()
            elif kind == "stopped":
                if message.get("error"):
                    self.exception = message["error"]
                self._stopped.set()
        # the process is gone: whatever waits on a reply (a save) hears it now, not at its
        # timeout
        for token in list(self._replies):
            done, errors = self._replies.pop(token, (None, None))
            if done is not None:
                errors.append(GesturemapError("the engine process ended before it answered"))
                done.set()
        self._stopped.set()
        self._started.set()

    def _apply_state(self, m: dict[str, Any]) -> None:
        if "project" in m:
            self.project = _mirror(m["project"], self._takes, self._heavy)
        for key in ("ring", "feature_ring"):
            new = m.get(key)
            if new is not None:
                ring = getattr(self, key)
                for t, v in zip(new["t"], new["v"], strict=True):
                    ring.push(float(t), v)
        if "feature_names" in m:
            self.feature_ring.names = tuple(m["feature_names"])
        for t, label, score in m.get("events", ()):
            self.recent_events.append((float(t), str(label), float(score)))
        self._events_counted = max(self._events_counted, int(m.get("events_spotted", 0)))
        if "stats" in m:
            self._stats = m["stats"]
        snap = m["snapshot"]
        if m.get("result_changed"):
            result = None if snap["last_result"] is None else _result(snap["last_result"])
        else:
            result = self.snapshot.last_result
        # the state last, in one assignment: a window waiting on a counter then finds the
        # project and the model in place
        self.snapshot = EngineSnapshot.from_message(snap, result)
        self.last_snapshot = time.perf_counter()
