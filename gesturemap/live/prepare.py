"""Preparing the compiled kernels a project needs, before the performer needs them.

numba compiles each kernel the first time it runs on a machine and keeps the result in its disk
cache (``cache=True``); every later start loads it in a fraction of a second. On a machine that
never ran gesturemap, compiling what one model needs takes seconds (an HHMM's training and
step about 10 s on a 2-core machine), and everything a whole install could need takes about a
minute. So the first take must not be the moment compiling starts:

- the training process prepares **the project's own model** as soon as the window or
  ``gesturemap run`` starts: it trains the project's settings on a few synthetic takes of the
  project's shape and steps the result, which compiles (or loads) exactly the kernels the
  first real take will use. Its progress is reported (:data:`PREPARING`), so the window says
  what is happening instead of "queued";
- the engine's compiled frame path is compiled in a short-lived process of its own
  (:func:`compile_frame_path_kernel`), at low priority: compiling holds the GIL and numba's
  compiler lock for tens of seconds, which must not happen in the process whose thread
  answers frames.

Training and stepping a model use different kernels, so the two compile at once on two cores:
while the training process trains the synthetic takes, a short-lived process steps a tiny
model of the same kind saved with the package (a *seed*, ``gesturemap/seeds/``), which
compiles the step's kernels into the cache without training anything.

The performer does not wait for any of it. For an HHMM, a GMM or DTW (the kinds of
:data:`gesturemap.models.interpreted.INTERPRETABLE`), a second worker whose numba runs every
kernel as plain Python trains the takes recorded meanwhile (about half a second for a first
take), and the engine steps that model with the interpreted step kernels; once the preparation
has ended, later trainings go to the compiled worker and the engine loads the compiled step
kernels from the cache between two frames (:mod:`gesturemap.models.interpreted`).

Other model kinds compile at their first use (a model chosen later in the window).

A preparation that ended is noted beside numba's cache (:func:`prepared_before`), for the
settings that decide the kernels. Later starts of a project of those settings say nothing of a
preparation and start no seed's process: the training process loads the kernels from the cache
as it starts, and the first take trains at once.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

#: What the window and the training line say while the kernels are prepared.
PREPARING = "preparing the models for this machine (first start only)"

#: Frames per synthetic take: more than any default number of states, so every kind trains.
_FRAMES = 80


def _marker(message: dict[str, Any]) -> Path | None:
    """The file that says the kernels of ``message``'s project were prepared into numba's
    cache as it is now (None: no place to keep it). It lives where numba keeps its cache
    (``NUMBA_CACHE_DIR``, else the package's ``__pycache__``), so that clearing the cache
    clears it too, and its name changes with anything that makes numba compile again: the
    project's settings, this gesturemap's source files, numba and Python."""
    import hashlib
    import json

    import numba

    root = Path(__file__).resolve().parents[1]
    cache = os.environ.get("NUMBA_CACHE_DIR")
    folder = Path(cache) if cache else root / "__pycache__"
    # what decides the kernels: the settings, and whether there are outputs to map (other
    # kernels). Not the project's name, its classes' names, nor how many inputs and outputs:
    # numba compiles a kernel for its arguments' types, and an array of 2 or of 60 columns
    # is one type. (A new project learns its input size from its first take: counted in,
    # its second start would prepare everything again, and say "first start only".)
    shape = {"model": message.get("model"), "pipeline": message.get("pipeline"),
             "outputs": bool(message.get("output_names"))}
    digest = hashlib.sha256(json.dumps(shape, sort_keys=True, default=str).encode())
    digest.update(f"{numba.__version__} {sys.version} {sys.platform}".encode())
    try:
        for path in sorted(root.rglob("*.py")):
            stat = path.stat()
            digest.update(f"{path.relative_to(root)} {stat.st_mtime_ns} {stat.st_size}".encode())
    except OSError:
        return None
    return folder / "gesturemap-prepared" / digest.hexdigest()[:32]


def prepared_before(message: dict[str, Any] | None) -> bool:
    """Whether the kernels of ``message``'s project (:func:`preparation_message`) are in
    numba's cache already: a start after the first loads them as it goes, and says nothing
    of a preparation."""
    marker = None if message is None else _marker(message)
    return marker is not None and marker.is_file()


def _mark_prepared(message: dict[str, Any]) -> None:
    marker = _marker(message)
    if marker is None:
        return
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        from ..utils.storage import atomic_write_text

        atomic_write_text(marker, "prepared\n")
    except OSError as exc:  # a read-only install: the next start prepares again, no harm
        log.info("could not note the preparation in %s: %s", marker, exc)


def preparation_message(project: Any) -> dict[str, Any]:
    """The settings of ``project`` that decide which kernels it needs (model, pipeline, shape),
    as plain values for the training process: no take crosses."""
    return {
        "name": str(project.name), "model": project.model,
        "pipeline": project.pipeline.to_dict(),
        "input_names": None if project.input_names is None else list(project.input_names),
        "output_names": None if project.output_names is None else list(project.output_names),
        "classes": [c for c in project.classes if isinstance(c, str | int)],
        "input_dim": project.input_dim,
    }


#: Where the seeds are: one tiny trained model per kind (and ``<kind>-bimodal``, trained with
#: outputs), written by :func:`write_seeds`, stepped by :func:`step_seed`.
SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"

#: The kinds with seeds: those whose step has kernels of its own to compile.
SEED_KINDS = ("hhmm", "gmm", "dtw", "gvf")


def _seed_name(kind: str, bimodal: bool) -> str:
    return f"{kind}-bimodal" if bimodal else kind


def write_seeds(folder: Path = SEEDS_DIR) -> list[Path]:
    """Train and save the seeds (run after a change to a model's file format; a test checks
    that every seed loads and steps with the code as it is)."""
    from ..models.base import MODEL_REGISTRY

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in SEED_KINDS:
        for bimodal in (False, True):
            message = {"model": {"kind": kind, "params": {}}, "classes": [],
                       "pipeline": {"format": "gesturemap.feature_pipeline", "version": 1,
                                    "rate_hz": None, "stages": []},
                       "output_names": ["y"] if bimodal else None, "input_dim": 2}
            project = _synthetic_project(message)
            project.fit_pipeline()
            model = MODEL_REGISTRY[kind]()
            try:
                model.fit(project.dataset())
            except Exception:  # noqa: BLE001 - a kind that does not learn outputs
                continue
            written.append(model.save(folder / _seed_name(kind, bimodal)))
    return written


def step_seed(kind: str, bimodal: bool) -> bool:
    """Load the seed of ``kind`` and step it once: its step's kernels are compiled (or loaded)
    in this process, without its training's. False when there is no such seed."""
    from ..models.base import load

    path = SEEDS_DIR / f"{_seed_name(kind, bimodal)}.json"
    if not path.is_file():
        return False
    model = load(path)
    model.stream().step(np.zeros(int(model.input_dim_)))
    return True


def _step_seed_elsewhere(message: dict[str, Any]) -> subprocess.Popen | None:
    """Start a process that steps the seed of the project's model kind (None: no seed)."""
    kind = (message.get("model") or {}).get("kind")
    bimodal = bool(message.get("output_names"))
    if kind not in SEED_KINDS or not (SEEDS_DIR / f"{_seed_name(kind, bimodal)}.json").is_file():
        return None
    # nicer than the training process it comes from: on a first start an interpreted worker
    # trains the performer's first takes meanwhile, and that is what someone waits for. It
    # ends with that process (a window closed during the preparation leaves no compiler on)
    code = ("import os\ntry:\n    os.nice(5)\nexcept OSError:\n    pass\n"
            "from gesturemap.utils.scheduling import exit_with_parent\n"
            f"exit_with_parent({os.getpid()})\n"
            f"from gesturemap.live.prepare import step_seed\nstep_seed({kind!r}, {bimodal!r})\n")
    return _child(code)


def _child(code: str) -> subprocess.Popen | None:
    """A Python process running ``code`` with this gesturemap (spawned with ``subprocess``:
    vfork and exec, no copy of this process's pages, so an audio callback running here is not
    stalled by it); None if it could not start."""
    env = dict(os.environ)
    # the child imports the same gesturemap as this process, wherever it was imported from
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    try:
        return subprocess.Popen([sys.executable, "-c", code], env=env, close_fds=True,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    except OSError as exc:
        log.info("could not start a compile process: %s", exc)
        return None


def _synthetic_project(message: dict[str, Any]) -> Any:
    """A project with ``message``'s settings and two classes of two synthetic takes each."""
    from ..features import Pipeline
    from ..project import Project

    dim = int(message.get("input_dim") or len(message.get("input_names") or ()) or 2)
    outputs = message.get("output_names") or None
    classes = [c for c in message.get("classes") or [] if c not in (None, "")][:2]
    classes += [c for c in ("a", "b") if c not in classes][: 2 - len(classes)]
    project = Project(message.get("name") or "prepare", model=message["model"],
                      pipeline=Pipeline.from_dict(message["pipeline"]),
                      input_names=message.get("input_names"), output_names=outputs,
                      classes=classes)
    rng = np.random.default_rng(0)
    t = np.linspace(0.0, 2 * np.pi, _FRAMES)
    for k, label in enumerate(classes):
        for _ in range(2):
            x = np.sin(t[:, None] * (k + 1) + np.arange(dim)) + 0.1 * rng.normal(size=(_FRAMES, dim))
            y = None if not outputs else rng.normal(size=(_FRAMES, len(outputs)))
            project.add_take(x, label, outputs=y)
    return project


def prepare_project(message: dict[str, Any],
                    report: Callable[[float, str], None] | None = None) -> float:
    """Compile (or load from numba's cache) the kernels that training and running the project
    of ``message`` (:func:`preparation_message`) use: its pipeline, its model's training, its
    model's step (and spotting, when it spots). Best effort: a setting the synthetic takes
    cannot train leaves its kernels to the first real training. Returns the seconds it took."""
    import time

    from .frame_path import FramePath, model_stream

    t0 = time.perf_counter()
    # prepared before: every kernel loads from the cache, nothing compiles. The synthetic
    # takes still load the training's kernels ahead of the first real take (a second or
    # so), silently, with no process stepping a seed beside it (an interpreter's start and
    # imports, seconds of CPU for nothing)
    again = message.get("prepared_before")  # the training process's parent decides
    if again is None:
        again = prepared_before(message)

    def say(fraction: float) -> None:
        if report is not None and not again:
            report(fraction, f"{PREPARING}: {fraction:.0%}")

    say(0.0)
    # the step's kernels, on the other core meanwhile
    seed = None if again else _step_seed_elsewhere(message)
    seeded = True
    try:
        project = _synthetic_project(message)
        project.fit_pipeline()
        dataset = project.dataset()
        say(0.1)
        model = project.new_model()
        if hasattr(model, "n_jobs"):
            model.n_jobs = 1
        model.fit(dataset)
        say(0.6)
        if seed is not None:  # its kernels are loaded from the cache, not compiled twice
            seeded = seed.wait() == 0
            seed = None
        first = next(iter(dataset)).inputs
        model_stream(project, model, warm=True).step(np.asarray(first[0], dtype=np.float64))
        say(0.9)
        # the engine's streaming pipeline, pushed frames as the frame path does
        path = FramePath(project)
        raw = project.takes[0].inputs
        path.start(raw.shape[1])
        for i in range(3):
            path.push(raw[i], i * 0.01)
        model.log_likelihood(first[:4])
    except Exception as exc:  # noqa: BLE001 - a preparation only; the real training tells
        log.info("kernels not all prepared ahead (%s: %s); the first training compiles them",
                 type(exc).__name__, exc)
    else:
        if seeded and not again:  # (a seed that failed: its kernels compile at first use)
            _mark_prepared(message)
    if seed is not None:
        seed.wait()
    say(1.0)
    return time.perf_counter() - t0


_FRAME_PATH_CHILD = (
    "import os\n"
    "try:\n    os.nice(10)\nexcept OSError:\n    pass\n"
    "from gesturemap.live.compiled import warm\n"
    "warm()\n"
)


def compile_frame_path_kernel(stop: Callable[[], bool] | None = None,
                              timeout_s: float = 600.0) -> bool:
    """Compile the engine's compiled frame path into numba's disk cache in a process of its
    own, at low priority, and wait for it (the caller's thread waits without the GIL). The
    caller then loads the kernel from the cache, a fraction of a second. ``stop()`` true ends the wait and the process. False when the
    process failed; the caller compiles in-process then, as it would have."""
    import time

    child = _child(_FRAME_PATH_CHILD)
    if child is None:
        return False
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            child.wait(timeout=0.2)
            break
        except subprocess.TimeoutExpired:
            if (stop is not None and stop()) or time.monotonic() > deadline:
                child.kill()
                child.wait()
                return False
    if child.returncode != 0:
        log.info("the frame path's compile process failed (exit code %s)", child.returncode)
    return child.returncode == 0
