"""Training off the caller's thread: progress, cancellation, and a warm worker process.

Two ways, one interface (:class:`TrainingJob`):

- ``Trainer("thread")`` fits a fresh copy of the model on a background thread. The numeric
  kernels release the GIL, so the caller keeps running; the Python glue around them still takes
  the GIL for short moments.
- ``Trainer("process")`` keeps one warm worker process (numba kernels already loaded) and sends
  it datasets. Nothing the worker does can delay the caller's real-time thread: this is the
  choice for the engine and the window (see docs/architecture.md, "The one-way data flow").

Data crosses the process boundary in the one wire format (:mod:`gesturemap.live.codec`: JSON plus raw
array bytes), never as pickles. The model being trained is never the one in use: a job returns a new,
fitted model that the caller swaps in when it likes.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..errors import GesturemapError, TrainingCancelled
from ..models.base import BaseModel, Cancel, load_kernels, params_from_json, restore
from ..models.interpreted import training_needs_compiling
from ..project.settings import search_settings
from ..utils.children import ctrl_c_kept_from_children, helper_context, in_this_environment
from ..utils.frame_budget import note_frame_cost
from ..utils.terminal import WARNINGS_PREFIX, StderrWriter, plain_warnings
from ..utils.thread_warnings import recording_warnings
from .codec import decode, encode

# one environment change at a time (the interpreted worker's start sets a variable for it)
_ENVIRONMENT = threading.Lock()


class TrainingJob:
    """One training run. ``progress`` goes from 0 to 1; ``result()`` waits for the model."""

    def __init__(self, on_progress: Callable[[float, str], None] | None = None,
                 on_done: Callable[[TrainingJob], None] | None = None) -> None:
        self.progress = 0.0
        self.message = "queued"
        self.seconds: float | None = None
        #: CPU seconds the training process spent on the job (every thread), when it ran in
        #: one: what the job costs, whatever else the machine was doing meanwhile
        self.cpu_seconds: float | None = None
        self._on_progress = on_progress
        self._on_done = on_done
        self._event = threading.Event()
        self._model: BaseModel | None = None
        self._error: BaseException | None = None
        self._cancel_hook: Callable[[], None] | None = None
        self.started = time.perf_counter()
        #: the fitted feature pipeline, for a job that trained a whole project
        self.pipeline: Any = None
        #: whether the model was trained interpreted (a first start, while the kernels compile)
        self.interpreted = False

    def _report(self, fraction: float, message: str) -> None:
        self.progress = fraction
        self.message = message
        if self._on_progress is not None:
            try:
                self._on_progress(fraction, message)
            except Exception:  # a broken callback must not kill training
                pass

    def _finish(self, model: BaseModel | None, error: BaseException | None) -> None:
        if model is not None:  # its kernels loaded now, not at its first frame in the engine
            load_kernels(model)
        self._model, self._error = model, error
        self.seconds = time.perf_counter() - self.started
        if model is not None:
            self._report(1.0, "done")
        self._event.set()
        if self._on_done is not None:
            try:
                self._on_done(self)
            except Exception:
                pass

    def cancel(self) -> None:
        """Ask training to stop; ``result()`` then raises :class:`TrainingCancelled`."""
        if self._cancel_hook is not None and not self._event.is_set():
            self._cancel_hook()

    def done(self) -> bool:
        return self._event.is_set()

    @property
    def cancelled(self) -> bool:
        return isinstance(self._error, TrainingCancelled)

    def result(self, timeout: float | None = None) -> BaseModel:
        """The trained model; re-raises the training error (or TimeoutError)."""
        if not self._event.wait(timeout):
            raise TimeoutError(f"training did not finish within {timeout} s")
        if self._error is not None:
            raise self._error
        assert self._model is not None
        return self._model


def ordinary_scheduling() -> None:
    """Training runs at ordinary priority, whatever the thread or process that started it."""
    if hasattr(os, "sched_setscheduler"):
        try:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        except OSError:
            pass


def _fresh(model: BaseModel, n_jobs: int | None = None) -> BaseModel:
    fresh = type(model)(**model.get_params())
    if n_jobs is not None:
        fresh.n_jobs = n_jobs
    return fresh


# -- what crosses to the worker (plain dicts of JSON values and arrays: see gesturemap.live.codec) --
def _dataset_message(dataset: Any) -> dict[str, Any]:
    recs = list(dataset)
    return {"labels": [r.label.item() if isinstance(r.label, np.generic) else r.label
                       for r in recs],
            "inputs": [np.asarray(r.inputs) for r in recs],
            "outputs": [None if r.outputs is None else np.asarray(r.outputs) for r in recs]}


def _dataset_from_message(m: dict[str, Any]) -> Any:
    from ..data import Dataset

    ds = Dataset()
    for label, x, y in zip(m["labels"], m["inputs"], m["outputs"], strict=True):
        ds.add(x, label=label, outputs=y)
    return ds


def _project_message(project: Any) -> dict[str, Any]:
    """What training a project needs: its settings and raw takes (the pipeline runs in the
    trainer, not on the caller's process)."""
    takes = list(project.takes)
    return {
        "name": project.name, "model": project.model, "pipeline": project.pipeline.to_dict(),
        "input_names": None if project.input_names is None else list(project.input_names),
        "output_names": None if project.output_names is None else list(project.output_names),
        "classes": list(project.classes), "input_dim": project.input_dim,
        "labels": [t.label for t in takes], "inputs": [t.inputs for t in takes],
        "times": [t.times for t in takes], "outputs": [t.outputs for t in takes],
    }


def _project_from_message(m: dict[str, Any]) -> Any:
    from ..features import Pipeline
    from ..project import Project

    project = Project(m["name"], model=m["model"], pipeline=Pipeline.from_dict(m["pipeline"]),
                      input_names=m["input_names"], output_names=m["output_names"],
                      classes=m["classes"])
    if m["input_dim"] is not None:
        project.input_dim = m["input_dim"]
    for label, x, t, y in zip(m["labels"], m["inputs"], m["times"], m["outputs"], strict=True):
        project.add_take(x, label, times=t, outputs=y)
    return project


#: The warnings a training already said on the terminal (its text, category and line): said
#: there once, as Python says a warning once per place, however many retrainings warn again.
_SAID: dict[Any, Any] = {}


def _telling_warnings(fit: Callable[[], tuple[BaseModel, Any]]) -> tuple[BaseModel, Any]:
    """Run ``fit() -> (model, pipeline)`` and add what it warned about (a class left out of
    training, a take the resampling emptied, a model's note on its inputs) to the model's
    ``training_info_["warnings"]``: the engine publishes those, and the window shows them on
    its training line; said with ``warnings.warn`` alone they reached only a terminal, which
    a musician at the window does not read. Deprecations and numerical noise (every warning
    that is no UserWarning) are not the musician's concern. Every warning is said on the
    terminal as before, whether the training succeeds or fails."""
    # every one, each time (a retraining that warns again is told again), of this thread only:
    # fits run on the engine's training and search threads at once
    with recording_warnings() as caught:
        try:
            model, pipeline = fit()
        finally:
            told = list(caught)
    for w in told:  # (after the recording ends: to the terminal, or the command's writer)
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, registry=_SAID)
    notes = [" ".join(str(w.message).split()) for w in told
             if issubclass(w.category, UserWarning)]
    if notes:
        info = getattr(model, "training_info_", None)
        info = dict(info) if isinstance(info, dict) else {}
        before = info.get("warnings")
        before = [str(n) for n in before] if isinstance(before, list) else []
        # a model that keeps a note in training_info_ says it with warnings.warn too: once
        seen = {" ".join(b.split()) for b in before}
        info["warnings"] = before + [n for n in dict.fromkeys(notes) if n not in seen]
        model.training_info_ = info
    return model, pipeline


def _fit_project(project: Any, n_jobs: int | None, cancel: Cancel,
                 progress: Callable[[float, str], None]) -> tuple[BaseModel, dict[str, Any]]:
    """Fit the project's pipeline, then a new model on its dataset: (model, fitted pipeline)."""
    project.fit_pipeline()
    dataset = project.dataset()
    model = _fresh(project.new_model(), n_jobs)
    model.fit(dataset, cancel=cancel, progress=progress)
    note_frame_cost(model, dataset)
    return model, project.pipeline.to_dict()


def _suggestion(project: Any, cancel: Cancel) -> dict[str, Any]:
    """:func:`gesturemap.evaluation.quality.suggest_for_project` as plain values."""
    from ..evaluation.quality import suggest_for_project

    s = suggest_for_project(project, cancel=cancel)
    return {"label": None if s.label is None else str(s.label), "hint": s.hint,
            "reason": s.reason}


def auto_settings(model_settings: dict[str, Any] | None) -> dict[str, float] | None:
    """The search settings of a project's model settings (``"auto": true`` or a dict with
    ``budget_s`` and ``margin``), or None when the project does not ask for a search
    (read as the project checked them: :func:`gesturemap.project.settings.search_settings`)."""
    return search_settings((model_settings or {}).get("auto"))


def _with_jobs(factory: Callable[[], BaseModel], n_jobs: int) -> Callable[[], BaseModel]:
    def make() -> BaseModel:
        model = factory()
        if hasattr(model, "n_jobs"):
            model.n_jobs = n_jobs
        return model

    return make


def _spotting_candidates(candidates: list[tuple[str, Callable[[], BaseModel]]]
                         ) -> list[tuple[str, Callable[[], BaseModel]]]:
    """The search candidates a project that spots may swap in: the kinds that spot, an HHMM
    or GMM without deltas as the project's own spotting model trains (``effective_params``)."""
    from ..models.spotting.core import SPOT_KINDS

    def without_deltas(factory: Callable[[], BaseModel]) -> Callable[[], BaseModel]:
        def make() -> BaseModel:
            model = factory()
            model.deltas = False
            return model

        return make

    out = []
    for name, factory in candidates:
        kind = factory().kind
        if kind in ("hhmm", "gmm"):
            out.append((name + ", no deltas", without_deltas(factory)))
        elif kind in SPOT_KINDS:
            out.append((name, factory))
    return out


def _with_runtime_settings(settings: dict[str, Any], factory: Callable[[], BaseModel]
                           ) -> Callable[[], BaseModel]:
    from ..project.training import carry_runtime_settings

    def make() -> BaseModel:
        model = factory()
        carry_runtime_settings(settings, model)
        return model

    return make


def _search_project(project: Any, budget_s: float, cancel: Cancel,
                    progress: Callable[[float, str], None],
                    n_jobs: int | None = None) -> tuple[BaseModel, dict[str, Any]]:
    """Fit the project's pipeline, then :func:`gesturemap.auto` on its dataset, with the
    project's own model settings as the first candidate (so ``selection_["candidates"][0]``
    is the CV score of the model the quick retrain fitted): (winner, fitted pipeline). Every
    other candidate has the project's run-time settings its family has (``decision``,
    ``likelihood_window``...: :func:`~gesturemap.project.training.carry_runtime_settings`),
    so it is scored, and runs, as it will in the project."""
    from ..models.search import auto, default_candidates, describe

    project.fit_pipeline()
    dataset = project.dataset()
    own = project.new_model()
    bimodal = bool(project.output_names)
    others = default_candidates(bimodal)
    task = None
    if isinstance((project.model or {}).get("spotting"), dict):
        # a project that spots keeps a model that spots: a winner of another family would
        # silence its events
        others = _spotting_candidates(others)
        from ..models.spotting.choose import spotting_candidates
        from ..models.spotting.core import NULL

        if any(r.label == NULL for r in dataset):
            # with takes of "anything else" the candidates are scored as they will be used,
            # by the events they find in a stream, among the spotters gm.auto tries
            others, task = spotting_candidates(), "spotting"
    others = [(name, _with_runtime_settings(project.model, f)) for name, f in others]
    cands = [(f"project's model ({own.kind})", project.new_model)]
    cands += [c for c in others if describe(c[1]()) != describe(own)]
    if n_jobs is not None:  # the search's share of the cores (one, beside a retrain)
        cands = [(name, _with_jobs(f, n_jobs)) for name, f in cands]
    model = auto(dataset, budget_s, candidates=cands, cancel=cancel, progress=progress,
                 task=task)
    note_frame_cost(model, dataset)
    return model, project.pipeline.to_dict()


def search_verdict(selection: dict[str, Any], margin: float) -> str | None:
    """Why a project's search keeps the project's own model (its first candidate) instead of
    its winner, or None to take the winner: another candidate whose complete CV score beats
    the project model's by ``margin`` (or has one where the project model's did not finish).
    The engine's background search and ``gesturemap train --auto`` decide by it."""
    cands = selection.get("candidates") or []
    current = cands[0].get("cv_score") if cands else None
    best = selection.get("cv_score")
    if best is None or selection.get("chosen") in (None, 0):
        return selection.get("reason") or "the project's model is the best"
    if current is not None and best < current + margin:
        return f"best CV {best:.3f} is not above the current {current:.3f} by {margin:g}"
    return None


def search_offline(project: Any, budget_s: float, margin: float) -> BaseModel:
    """``gesturemap train --auto``: the search's winner (the project's pipeline fitted), taken
    or turned down by :func:`search_verdict` as the engine's background search does. Turned
    down, the project's own model is fitted instead, the engine's current model, and its
    ``selection_`` is the search's, saying that the first candidate was kept, and why."""
    from ..models.search import describe, selection_of

    winner, _ = _search_project(project, budget_s, Cancel(), lambda f, m: None)
    sel = dict(selection_of(winner) or {})
    why = search_verdict(sel, margin)
    if why is None or sel.get("chosen") in (None, 0):  # the winner, or the project's model
        return winner
    own = project.new_model().fit(project.dataset())
    note_frame_cost(own, project.dataset())
    first = sel["candidates"][0]
    sel.update(chosen=0, chosen_name=first["name"], **describe(own),
               cv_score=first["cv_score"],
               reason=f"kept the project's model over {sel.get('chosen_name')}: {why}")
    own.selection_ = sel
    own.training_info_ = {**(getattr(own, "training_info_", None) or {}), "selection": sel}
    return own


def _model_spec(model: BaseModel) -> dict[str, Any]:
    from ..models.base import jsonable_params

    return {"model": model.kind, "params": jsonable_params(model.get_params())}


def warm_up(kinds: Iterable[str] | None = None) -> None:
    """Load every model's compiled kernels now (from numba's disk cache), not at the first real
    job: each registered kind (or each of ``kinds``) is fitted and stepped once on a tiny
    dataset of each kind it takes (labelled, and with outputs)."""
    from ..data import Dataset
    from ..models.base import MODEL_REGISTRY
    from ..models.search import mark_warm

    rng = np.random.default_rng(0)
    labelled, bimodal = Dataset(), Dataset()
    for label in ("a", "b"):
        x = rng.normal(size=(30, 2))
        labelled.add(x, label=label)
        bimodal.add(x, label=label, outputs=rng.normal(size=(30, 1)))
    small = {"gmm": {"gaussians": 2}, "hhmm": {"states": 3, "gaussians": 2}}
    for kind, cls in MODEL_REGISTRY.items():
        if kind == "per_output" or (kinds is not None and kind not in kinds):
            continue  # per_output is made of the others
        for ds in (labelled, bimodal):
            model = cls(**small.get(kind, {}))
            if hasattr(model, "n_jobs"):
                model.n_jobs = 1
            try:
                model.fit(ds)
            except GesturemapError:  # this kind does not learn this kind of data
                continue
            model.stream().step(np.zeros(2))
            model.log_likelihood(np.zeros((2, 2)))
            mark_warm(cls)  # a search need not warm it up again (gm.auto's warm_up)


#: What a training says when the interpreted worker of a first start runs it.
INTERPRETED = "training while the models are prepared for this machine"

#: The job number of the worker's own preparation messages (never a real job's).
PREPARATION = -1


def _worker_job(cmd: dict[str, Any], cancel: Cancel, progress: Callable[[float, str], None]
                ) -> tuple[BaseModel, dict[str, Any] | None]:
    """One job of the worker that makes a model: (the model, the fitted pipeline or None)."""
    from ..models.base import MODEL_REGISTRY

    if cmd["op"] == "search_project":  # gm.auto on a whole project
        project = _project_from_message(cmd["data"])
        return _search_project(project, float(cmd["budget_s"]), cancel, progress,
                               cmd["n_jobs"])
    if cmd["op"] == "train_project":  # pipeline, dataset and model all here
        project = _project_from_message(cmd["data"])
        return _fit_project(project, cmd["n_jobs"], cancel, progress)
    spec = cmd["model"]
    model = MODEL_REGISTRY[spec["model"]](**params_from_json(spec["params"]))
    dataset = _dataset_from_message(cmd["data"])
    model.fit(dataset, cancel=cancel, progress=progress)
    note_frame_cost(model, dataset)
    return model, None


def _worker_main(conn: Any, nice: int = 5, prepare: dict[str, Any] | None = None,  # noqa: PLR0915 - the worker's loop: one message kind after another
                 interpreted: bool = False) -> None:
    """The worker process: receive jobs, train, send back the fitted model (wire format).

    ``prepare`` (:func:`gesturemap.live.prepare.preparation_message`): compile the kernels of that
    project's model first, reporting progress, while jobs queue up; None: every model kind's
    (a worker that serves any kind of job). ``interpreted``: a worker started with numba's
    compiler off (``NUMBA_DISABLE_JIT``), which trains the first takes while the other one
    compiles: it loads and prepares nothing."""
    import signal

    # Ctrl-C in a terminal reaches the whole process group: the parent decides when the
    # worker stops (it closes the pipe), so the worker ignores it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    prefix = os.environ.get(WARNINGS_PREFIX)
    writer = StderrWriter() if prefix else None
    if writer is not None:
        # started by the command line: a training's warning is one line as the command's
        # own are, written by a thread of its own (a paused terminal would otherwise hold the
        # training at its warning, and the new model with it)
        plain_warnings(prefix, writer)
    ordinary_scheduling()  # never a real-time policy inherited from the parent
    # one BLAS thread for the whole process: its training spreads classes over threads of its
    # own, and a search must keep to its one core (OpenBLAS's threads would spin on the other,
    # the engine's)
    from threadpoolctl import threadpool_limits

    blas = threadpool_limits(limits=1, user_api="blas")  # noqa: F841 - kept for the process
    from ..models.gmm import CLASS_CACHE

    # a retrain after a new take refits only the classes whose frames changed
    CLASS_CACHE.enabled = os.environ.get("GESTUREMAP_CLASS_CACHE", "1") != "0"
    try:  # training yields the CPU to the real-time path (engine, audio) when both want it
        os.nice(nice)
    except OSError:
        pass

    cancels: dict[int, Cancel] = {}
    jobs: list[dict[str, Any]] = []
    cond = threading.Condition()
    alive = [True]

    def listen() -> None:
        while True:
            try:
                cmd = decode(conn.recv_bytes())
            except (EOFError, OSError):
                break
            if cmd["op"] == "cancel":
                c = cancels.get(cmd["job"])
                if c is not None:
                    c.set()
            elif cmd["op"] in ("train", "train_project", "search_project", "suggest_project"):
                with cond:
                    jobs.append(cmd)
                    cancels[cmd["job"]] = Cancel()
                    cond.notify()
            elif cmd["op"] == "stop":
                break
        with cond:
            alive[0] = False
            cond.notify()

    threading.Thread(target=listen, daemon=True).start()
    send_lock = threading.Lock()

    def send(obj: dict[str, Any]) -> None:
        data = encode(obj)
        with send_lock:
            try:
                conn.send_bytes(data)
            except (BrokenPipeError, ConnectionResetError, EOFError):
                # the parent is gone (killed): nothing waits for this answer, and the worker
                # holds nothing of the user's (the parent saves). It ends here, from whichever
                # thread reports, rather than raising a traceback into the run's terminal
                os._exit(0)

    # jobs sent meanwhile queue up (the listener runs): they need these kernels anyway
    if interpreted:
        from ..models.interpreted import interpret_every_kernel

        interpret_every_kernel()
    elif prepare is None:
        warm_up()
    else:
        from .prepare import prepare_project

        def prepared(f: float, m: str) -> None:
            send({"job": PREPARATION, "op": "progress", "fraction": f, "message": m})

        seconds = prepare_project(prepare, prepared)
        send({"job": PREPARATION, "op": "prepared", "seconds": seconds})

    while True:
        with cond:
            while not jobs and alive[0]:
                cond.wait()
            if not jobs:
                if writer is not None:  # what it has yet to say, if the terminal reads
                    writer.close(0.5)
                return
            cmd = jobs.pop(0)
        job_id = cmd["job"]
        cancel = cancels[job_id]

        def progress(f: float, m: str, j: int = job_id) -> None:
            send({"job": j, "op": "progress", "fraction": f, "message": m})

        cpu0 = time.process_time()
        try:
            if cmd["op"] == "suggest_project":  # the next take to record: an answer, no model
                send({"job": job_id, "op": "answer",
                      "value": _suggestion(_project_from_message(cmd["data"]), cancel)})
                continue
            model, pipeline = _telling_warnings(
                lambda c=cmd, x=cancel, r=progress: _worker_job(c, x, r))
            meta, arrays = model.dump()
            send({"job": job_id, "op": "done", "meta": meta, "arrays": arrays,
                  "pipeline": pipeline, "cpu_seconds": time.process_time() - cpu0})
        except TrainingCancelled:
            send({"job": job_id, "op": "cancelled"})
        except Exception as exc:  # report every training failure to the caller
            send({"job": job_id, "op": "error", "type": type(exc).__name__,
                  "message": str(exc)})
        finally:
            cancels.pop(job_id, None)


class Trainer:
    """Runs training jobs in the background (``"thread"`` or a warm ``"process"``)."""

    def __init__(self, mode: str = "process", *, n_jobs: int | None = None,
                 nice: int = 5) -> None:
        if mode not in ("thread", "process"):
            raise GesturemapError(f"mode={mode!r}: expected 'thread' or 'process'.")
        self.mode = mode
        #: niceness the worker process adds to its own (a search runs nicer than a retrain)
        self.nice = nice
        #: threads a training may use (overrides the model's n_jobs); the engine leaves one
        #: core to the real-time path
        self.n_jobs = n_jobs
        self._jobs: dict[int, TrainingJob] = {}
        self._next = 0
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Any = None
        self._prepare: dict[str, Any] | None = None
        #: the worker's preparation of the project's kernels under way: (fraction, message),
        #: or None (none asked, or done)
        self.preparing: tuple[float, str] | None = None
        #: seconds the last preparation took (None before one ended)
        self.prepared_s: float | None = None
        #: called (on a reader thread) when the preparation has ended
        self.on_prepared: Callable[[], None] | None = None
        # the interpreted worker of a first start (None: none, or its part is over)
        self._interp_conn: Any = None
        self._interp_kind: str | None = None
        self._owners: dict[int, Any] = {}  # job id -> the connection of the worker it went to
        self._payloads: dict[int, bytes] = {}  # an interpreted job's message, to send again

    # -- process plumbing --------------------------------------------------------------------
    def _ensure_worker(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            return
        from .prepare import PREPARING, prepared_before

        prepare = self._prepare
        if prepare is not None:
            # decided here, once: the worker follows (prepared before, it loads the kernels as
            # it starts and says nothing), so the two never disagree on a first start
            again = prepared_before(prepare)
            prepare = {**prepare, "prepared_before": again}
            if not again:
                self.preparing = (0.0, f"{PREPARING}: 0%")
        self._proc, self._conn = self._spawn(prepare, interpreted=False)

    def _spawn(self, prepare: dict[str, Any] | None, *, interpreted: bool) -> tuple[Any, Any]:
        """Start a worker process and the thread that reads it: (process, connection)."""
        # the interpreted worker is a fresh interpreter: numba reads NUMBA_DISABLE_JIT as it is
        # imported, and the fork server imported it compiling. The setting is in this
        # process's environment only while that worker starts: no other worker starts then
        # (it would read it too)
        with _ENVIRONMENT, ctrl_c_kept_from_children():
            ctx = mp.get_context("spawn") if interpreted else helper_context()
            parent, child = ctx.Pipe(duplex=True)
            target, args = _worker_main, (child, self.nice, prepare, interpreted)
            if not interpreted:
                target, args = in_this_environment(target, *args)
            proc = ctx.Process(target=target, args=args, daemon=True, name="gesturemap-trainer")
            if not interpreted:
                proc.start()
            else:  # numba reads it when the child imports it: every kernel there stays Python
                os.environ["NUMBA_DISABLE_JIT"] = "1"
                try:
                    proc.start()
                finally:
                    del os.environ["NUMBA_DISABLE_JIT"]
        child.close()
        threading.Thread(target=self._read, args=(parent, interpreted), daemon=True,
                         name="gesturemap-trainer-reader").start()
        return proc, parent

    def _read(self, conn: Any, interpreted: bool = False) -> None:
        while True:
            try:
                msg = conn.recv_bytes()
            except (EOFError, OSError):
                break
            try:
                info = decode(msg)
            except ValueError:  # cannot happen between our own processes; never fatal
                continue
            if info["job"] == PREPARATION:
                self._on_preparation(info)
                continue
            job = self._jobs.get(info["job"])
            if job is None:
                continue
            op = info["op"]
            if op == "progress":
                job._report(info["fraction"], info["message"])
                continue
            if op == "error" and interpreted and self._retry_compiled(info["job"]):
                continue  # the compiled worker trains it: an interpreted failure is not final
            self._jobs.pop(info["job"], None)
            self._owners.pop(info["job"], None)
            self._payloads.pop(info["job"], None)
            if op == "answer":  # a job whose result is plain values (a suggestion)
                job._finish(info["value"], None)
            elif op == "done":
                job.cpu_seconds = info.get("cpu_seconds")
                job.interpreted = interpreted
                try:
                    if info.get("pipeline") is not None:
                        from ..features import Pipeline

                        job.pipeline = Pipeline.from_dict(info["pipeline"])
                    arrays = {k: np.array(v) for k, v in info["arrays"].items()}  # writable
                    job._finish(restore(info["meta"], arrays), None)
                except Exception as exc:
                    job._finish(None, exc)
            elif op == "cancelled":
                job._finish(None, TrainingCancelled("training was cancelled"))
            else:
                job._finish(None, GesturemapError(f"{info['type']}: {info['message']}"))
        # the worker died: fail what was pending on it
        if not interpreted:
            self.preparing = None
        for job_id, owner in list(self._owners.items()):
            if owner is conn and not (interpreted and self._retry_compiled(job_id)):
                self._owners.pop(job_id, None)
                job = self._jobs.pop(job_id, None)
                if job is not None:
                    job._finish(None, GesturemapError("the training process ended"))

    def _on_preparation(self, info: dict[str, Any]) -> None:
        """The worker's preparation moved on: say so, also on every job waiting behind it."""
        if info["op"] == "prepared":
            self.preparing = None
            self.prepared_s = float(info["seconds"])
            self._stop_interpreted()
            if self.on_prepared is not None:
                self.on_prepared()
            return
        self.preparing = (float(info["fraction"]), str(info["message"]))
        for job_id, job in list(self._jobs.items()):
            # the jobs waiting behind it (the interpreted worker's say their own progress)
            if self._owners.get(job_id) is self._conn:
                job._report(0.0, self.preparing[1])

    def _retry_compiled(self, job_id: int) -> bool:
        """Send a job the interpreted worker failed to the compiling worker (it trains once its
        kernels are ready). False when there is nothing to resend."""
        with self._lock:
            payload = self._payloads.pop(job_id, None)
            if payload is None or self._conn is None or job_id not in self._jobs:
                return False
            self._owners[job_id] = self._conn
            try:
                self._conn.send_bytes(payload)
            except OSError:
                return False
        return True

    def _stop_interpreted(self) -> None:
        """The kernels are compiled: the interpreted worker finishes what it has, then ends.
        What it has not finished yet goes to the compiled worker too (the first answer is
        the job's): an interpreted training that is slow, or stuck, never keeps a model
        waiting once the compiled one can train it."""
        with self._lock:
            conn, self._interp_conn = self._interp_conn, None
            if conn is not None:
                try:
                    conn.send_bytes(encode({"op": "stop"}))
                except OSError:
                    pass
            pending = [job_id for job_id, owner in self._owners.items() if owner is conn]
        if conn is not None:
            for job_id in pending:
                self._retry_compiled(job_id)

    def start_worker(self, prepare: dict[str, Any] | None = None) -> None:
        """Start the worker process now. ``prepare``
        (:func:`gesturemap.live.prepare.preparation_message`): it compiles that project's kernels
        first (:attr:`preparing` says how far); None: every model kind's. Where the project's
        training would compile first (a new machine), a second, interpreted worker trains the
        first takes meanwhile (:mod:`gesturemap.models.interpreted`)."""
        if self.mode == "process":
            with self._lock:
                if self._proc is None or not self._proc.is_alive():
                    self._prepare = prepare
                self._ensure_worker()
                kind = ((prepare or {}).get("model") or {}).get("kind")
                if (prepare is not None and self._interp_conn is None
                        and self.preparing is not None and training_needs_compiling(kind)):
                    _, self._interp_conn = self._spawn(None, interpreted=True)
                    self._interp_kind = kind

    # -- public ----------------------------------------------------------------------------
    def train(self, model: BaseModel, dataset: Any, *,
              on_progress: Callable[[float, str], None] | None = None,
              on_done: Callable[[TrainingJob], None] | None = None) -> TrainingJob:
        """Start training a fresh copy of ``model`` (same parameters) on ``dataset``."""
        job = TrainingJob(on_progress, on_done)
        if self.mode == "thread":
            cancel = Cancel()
            job._cancel_hook = cancel.set
            fresh = _fresh(model, self.n_jobs)
            snapshot = _dataset_from_message(decode(encode(_dataset_message(dataset))))

            def run() -> None:
                ordinary_scheduling()
                def fit() -> tuple[BaseModel, None]:
                    fresh.fit(snapshot, progress=job._report, cancel=cancel)
                    note_frame_cost(fresh, snapshot)
                    return fresh, None

                try:
                    job._finish(_telling_warnings(fit)[0], None)
                except BaseException as exc:
                    job._finish(None, exc)

            threading.Thread(target=run, daemon=True, name="gesturemap-training").start()
            return job
        self._send_job(job, "train", _dataset_message(dataset),
                       model=_model_spec(_fresh(model, self.n_jobs)))
        return job

    def train_project(self, project: Any, *,
                      on_progress: Callable[[float, str], None] | None = None,
                      on_done: Callable[[TrainingJob], None] | None = None) -> TrainingJob:
        """Train a project from its raw takes: fit its feature pipeline, run every take
        through it and fit a new model of its settings — all in the trainer (with a worker
        process, none of it holds the caller's GIL). ``job.result()`` is the model and
        ``job.pipeline`` the fitted pipeline; the project itself is not changed."""
        job = TrainingJob(on_progress, on_done)
        message = _project_message(project)
        if self.mode == "thread":
            return self._project_thread(job, message, lambda p, c, r: _fit_project(
                p, self.n_jobs, c, r))
        self._send_job(job, "train_project", message)
        return job

    def search_project(self, project: Any, budget_s: float = 20.0, *,
                       on_progress: Callable[[float, str], None] | None = None,
                       on_done: Callable[[TrainingJob], None] | None = None) -> TrainingJob:
        """Search a family and settings for a project (:func:`gesturemap.auto` on its
        dataset, the project's own model first) in the trainer. ``job.result()`` is the
        winner, with its ``selection_`` in ``training_info_["selection"]``; ``job.pipeline``
        the fitted pipeline. Cancel it when the takes change."""
        job = TrainingJob(on_progress, on_done)
        message = _project_message(project)
        if self.mode == "thread":
            return self._project_thread(job, message, lambda p, c, r: _search_project(
                p, budget_s, c, r, self.n_jobs))
        self._send_job(job, "search_project", message, budget_s=float(budget_s))
        return job

    def suggest_project(self, project: Any, *,
                        on_done: Callable[[TrainingJob], None] | None = None) -> TrainingJob:
        """Work out which class to record next for ``project``
        (:func:`gesturemap.evaluation.quality.suggest_for_project`: a cross-validation of its
        takes) in the trainer, off the caller's GIL. ``job.result()`` is a dict with
        ``label`` (str, or None), ``hint`` and ``reason``. Cancel it when the takes change."""
        job = TrainingJob(None, on_done)
        if self.mode == "thread":
            cancel = Cancel()
            job._cancel_hook = cancel.set
            snapshot = _project_from_message(decode(encode(_project_message(project))))

            def run() -> None:
                ordinary_scheduling()
                try:
                    job._finish(_suggestion(snapshot, cancel), None)
                except BaseException as exc:
                    job._finish(None, exc)

            threading.Thread(target=run, daemon=True, name="gesturemap-suggestion").start()
            return job
        self._send_job(job, "suggest_project", _project_message(project))
        return job

    @staticmethod
    def _project_thread(job: TrainingJob, message: dict[str, Any],
                        fit: Callable[[Any, Cancel, Callable[[float, str], None]],
                                      tuple[BaseModel, dict[str, Any]]]) -> TrainingJob:
        """Run ``fit(project snapshot, cancel, report) -> (model, pipeline dict)`` on a
        background thread for ``job``."""
        cancel = Cancel()
        job._cancel_hook = cancel.set
        snapshot = _project_from_message(decode(encode(message)))

        def run() -> None:
            ordinary_scheduling()
            try:
                model, pipeline = _telling_warnings(lambda: fit(snapshot, cancel, job._report))
                from ..features import Pipeline

                job.pipeline = Pipeline.from_dict(pipeline)
                job._finish(model, None)
            except BaseException as exc:
                job._finish(None, exc)

        threading.Thread(target=run, daemon=True, name="gesturemap-training").start()
        return job

    def _send_job(self, job: TrainingJob, op: str, data: dict[str, Any], **extra: Any) -> None:
        with self._lock:
            self._ensure_worker()
            job_id = self._next
            self._next += 1
            self._jobs[job_id] = job
            conn = self._conn
            interpreted = self._interpreted_takes(op, data, extra)
            if interpreted:
                conn = self._interp_conn
            self._owners[job_id] = conn

            def cancel_job() -> None:
                with self._lock:
                    try:  # to the worker that has it now (a failed interpreted job moves)
                        self._owners.get(job_id, conn).send_bytes(
                            encode({"op": "cancel", "job": job_id}))
                    except OSError:
                        pass

            job._cancel_hook = cancel_job
            payload = encode({"op": op, "job": job_id, "n_jobs": self.n_jobs, "data": data,
                              **extra})
            if interpreted:  # never "queued": it starts at once, beside the preparation
                job._report(0.0, INTERPRETED)
                self._payloads[job_id] = payload
            elif self.preparing is not None:  # it waits for the preparation: say so at once
                job._report(0.0, self.preparing[1])
            conn.send_bytes(payload)

    def _interpreted_takes(self, op: str, data: dict[str, Any], extra: dict[str, Any]) -> bool:
        """Whether a job goes to the interpreted worker: a training (not a search) of the
        project's own model kind while the other worker still compiles its kernels."""
        if self._interp_conn is None or self.preparing is None or op not in ("train",
                                                                            "train_project"):
            return False
        spec = data.get("model") if op == "train_project" else extra.get("model")
        kind = (spec or {}).get("kind") or (spec or {}).get("model")
        return bool(kind == self._interp_kind)

    def close(self) -> None:
        """Stop the worker processes (pending jobs fail)."""
        self._stop_interpreted()
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.send_bytes(encode({"op": "stop"}))
                except OSError:
                    pass
            if self._proc is not None:
                # a worker still compiling a first start's kernels reads no message until
                # it is done, tens of seconds on: it holds nothing of the user's (a job waiting
                # behind it fails anyway) and numba writes each cache file whole (a temporary
                # file renamed), so it is ended now rather than after 5 s of a closing window
                self._proc.join(timeout=0.2 if self.preparing is not None else 5)
                if self._proc.is_alive():
                    self._proc.terminate()
            self._proc = None

    def __enter__(self) -> Trainer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
