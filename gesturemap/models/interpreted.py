"""The step kernels streams call: compiled by numba, or interpreted while they compile.

On a machine that never ran gesturemap, numba compiles a model's kernels the first time they
run: seconds of work, while the performer waits for the first take's model. The first start
therefore trains that model in a process whose numba runs its kernels as plain Python
(``NUMBA_DISABLE_JIT``: the same code, a few hundred times slower, but with nothing to
compile), and the engine steps it with the *interpreted twins* of the step kernels until
another process has put the compiled ones into numba's disk cache (:mod:`gesturemap.live.prepare`).
Loading them from the cache then takes a fraction of a second, and the streams switch to them
between two frames: both run the same code on the same state arrays.

Streams call their step kernel through :data:`STEP` (``STEP.hhmm_step(...)``), never through
the kernel module, so that one place decides which of the two runs. A DTW stream calls several
(its column update, its per-take statistics, its window, its check of absurd frames): each is
switched on its own, as numba's cache comes to hold it.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

from ..features.pipeline import all_below
from . import _absurd, _filter, _kernels
from . import _dtw_kernels as _dk
from . import _dtw_take_kernels as _dtk
from . import _dtw_window_kernels as _dwk

log = logging.getLogger(__name__)


#: The compiled step kernels, by the name streams call them by.
_COMPILED = {
    "hhmm_step": _filter.hhmm_step, "gmm_step": _filter.gmm_step,
    # a DTW stream's, whatever its normalisation
    "dtw_is_absurd": _absurd.is_absurd, "spring_step": _dk.spring_step,
    "dtw_summarise": _dk.summarise, "running_znorm": _dk.running_znorm,
    "take_statistics": _dtk.take_statistics, "take_columns": _dtk.take_columns,
    "window_znorm": _dwk.window_znorm, "window_class_distances": _dwk.window_class_distances,
}

#: The step kernels of a DTW stream.
_DTW_STEPS = ("dtw_is_absurd", "spring_step", "dtw_summarise", "running_znorm",
              "take_statistics", "take_columns", "window_znorm", "window_class_distances")


class StepKernels:
    """The kernels the streams step with, one attribute each (read once per frame)."""

    __slots__ = tuple(_COMPILED)
    hhmm_step: Callable[..., Any]
    gmm_step: Callable[..., Any]
    dtw_is_absurd: Callable[..., Any]
    spring_step: Callable[..., Any]
    dtw_summarise: Callable[..., Any]
    running_znorm: Callable[..., Any]
    take_statistics: Callable[..., Any]
    take_columns: Callable[..., Any]
    window_znorm: Callable[..., Any]
    window_class_distances: Callable[..., Any]

    def __init__(self) -> None:
        for name, kernel in _COMPILED.items():
            setattr(self, name, kernel)


#: The step kernels in use in this process.
STEP = StepKernels()

#: Per model kind, the kernels its training calls from Python (checked in numba's cache: one
#: not there is compiled by the training itself, seconds on a new machine) and the names of
#: its step kernels in :data:`STEP`. Every one counts: a first start cut short leaves some
#: of them cached and not the others, and then the first take's training would wait for the
#: rest to compile. Kinds not listed wait for their kernels to compile (their training and
#: step are too slow interpreted, or their streams call kernels of their own). A DTW
#: project's first takes need it most: its client sends no train and expects each gesture
#: matched as soon as it is recorded (Wekinator's DTW), and its training (templates stored,
#: a typical distance measured between them) is light enough to run as Python.
INTERPRETABLE: dict[str, tuple[tuple[Any, ...], tuple[str, ...]]] = {
    # (the pipeline's check of its frames, then the model's own)
    "hhmm": ((all_below, _kernels.hmm_baum_welch, _kernels.hmm_frame_logliks,
              _kernels.chol_precision), ("hhmm_step",)),
    "gmm": ((all_below, _kernels.gmm_em, _kernels.kmeans_first_phrase), ("gmm_step",)),
    # its typical distance measured in steps (the last row alone, or a band of rows), and the
    # choice of its normalisation, which z-normalises windows
    "dtw": ((all_below, _dk.dtw_last_row, _dk.dtw_rows, _dwk.window_znorm), _DTW_STEPS),
}

#: Per kind, the step kernels a first start's preparation compiles whatever the project's
#: settings (a DTW stream's others depend on its normalisation): one of them not cached also
#: makes the preparation long, and the first takes then go to the interpreted worker.
_PREPARED_STEPS = {"hhmm": ("hhmm_step",), "gmm": ("gmm_step",),
                   "dtw": ("dtw_is_absurd", "dtw_summarise", "spring_step")}

_lock = threading.Lock()


def _log(x: float) -> float:
    if x > 0.0:
        return math.log(x)
    return -math.inf if x == 0.0 else math.nan


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0.0 else math.nan


#: ``math`` as compiled kernels see it: where Python raises (the log of 0, an exponential that
#: overflows, the square root of a negative number), numba returns -inf, inf or nan and the
#: kernel goes on. The interpreted kernels use it, so that they do what the compiled ones do.
NUMBA_MATH = types.SimpleNamespace(
    **{name: getattr(math, name) for name in dir(math) if not name.startswith("_")})
NUMBA_MATH.log, NUMBA_MATH.exp, NUMBA_MATH.sqrt = _log, _exp, _sqrt


def interpreted(kernel: Any, _twins: dict[int, Any] | None = None) -> Callable[..., Any]:
    """The Python function behind the numba kernel ``kernel``, calling the Python functions
    behind the kernels it calls (numba's dispatchers in its module's names are replaced by
    their twins): the kernel's own code, run by the interpreter, nothing compiled."""
    twins: dict[int, Any] = {} if _twins is None else _twins
    py_func = getattr(kernel, "py_func", None)
    if py_func is None:  # numba runs every kernel as Python already (NUMBA_DISABLE_JIT)
        return kernel  # type: ignore[no-any-return]
    if id(kernel) in twins:
        return twins[id(kernel)]  # type: ignore[no-any-return]
    names = dict(py_func.__globals__)
    if names.get("math") is math:
        names["math"] = NUMBA_MATH
    twin = types.FunctionType(py_func.__code__, names, py_func.__name__,
                              py_func.__defaults__, py_func.__closure__)
    twins[id(kernel)] = twin
    for name, value in list(names.items()):
        if hasattr(value, "py_func") and hasattr(value, "signatures"):  # a numba dispatcher
            names[name] = interpreted(value, twins)
    return twin


def kernel_cached(dispatcher: Any) -> bool:
    """Whether numba's disk cache holds ``dispatcher`` (a ``@njit(cache=True)`` function)
    compiled for this machine from its current source: then loading it takes a fraction of a
    second and needs no process of its own. Reads numba's own index (not a public API: any
    surprise answers False, and the caller takes the longer, always safe way)."""
    return bool(_cached_signatures(dispatcher))


def _cached_signatures(dispatcher: Any) -> list[Any]:
    try:
        from numba.core.registry import cpu_target

        magic = cpu_target.target_context.codegen().magic_tuple()
        index = dispatcher._cache._cache_file._load_index()
        return [key[0] for key in index
                if isinstance(key, tuple) and len(key) > 1 and key[1] == magic]
    except Exception:  # noqa: BLE001 - numba's internals moved: "not known to be cached"
        return []


def _load_cached(dispatcher: Any) -> bool:
    """Load every signature of ``dispatcher`` that numba's cache holds for this machine (the
    cache is read, nothing compiled). False when it holds none or loading failed."""
    signatures = _cached_signatures(dispatcher)
    if not signatures:
        return False
    try:
        for signature in signatures:
            if signature not in dispatcher.overloads:
                dispatcher.compile(signature)
    except Exception as exc:  # noqa: BLE001 - stay interpreted: slower, never wrong
        log.info("could not load %s from numba's cache: %s", dispatcher.__name__, exc)
        return False
    return True


def training_needs_compiling(kind: str) -> bool:
    """Whether training and stepping a ``kind`` model here would compile kernels first
    (numba's cache does not hold every one of them) and an interpreted training can stand in
    meanwhile."""
    if kind not in INTERPRETABLE:
        return False
    kernels = [*INTERPRETABLE[kind][0], *(_COMPILED[name] for name in _PREPARED_STEPS[kind])]
    return not all(kernel_cached(k) for k in kernels)


def interpret_steps(kind: str) -> bool:
    """Step ``kind``'s streams with interpreted kernels where numba's cache does not hold the
    compiled ones (on the first start, until :func:`compile_steps`). True when interpreting."""
    if kind not in INTERPRETABLE:
        return False
    interpreting = False
    with _lock:
        for name in INTERPRETABLE[kind][1]:
            if getattr(STEP, name) is _COMPILED[name] and not kernel_cached(_COMPILED[name]):
                setattr(STEP, name, interpreted(_COMPILED[name]))
            interpreting |= getattr(STEP, name) is not _COMPILED[name]
    return interpreting


def compile_steps() -> tuple[str, ...]:
    """Switch every interpreted step kernel whose compiled form numba's cache now holds to the
    compiled one, loaded from the cache (a fraction of a second, on the caller's thread: never
    the frame path). Returns the names still interpreted."""
    still = []
    with _lock:
        for name, compiled in _COMPILED.items():
            if getattr(STEP, name) is compiled:
                continue
            if _load_cached(compiled):
                setattr(STEP, name, compiled)  # one attribute: the next frame runs it
            else:
                still.append(name)
    return tuple(still)


def interpreting() -> tuple[str, ...]:
    """The step kernels this process runs interpreted now."""
    return tuple(name for name, compiled in _COMPILED.items() if getattr(STEP, name) is not compiled)


def interpret_every_kernel() -> None:
    """In a process whose numba runs every kernel as Python (``NUMBA_DISABLE_JIT``, the
    interpreted worker of a first start): give the kernel modules :data:`NUMBA_MATH`, so that
    a training goes where the compiled one goes instead of raising on a log of 0."""
    for name, module in list(sys.modules.items()):
        if (name.startswith("gesturemap.") and getattr(module, "math", None) is math
                and (hasattr(module, "njit") or hasattr(module, "numba"))):
            module.math = NUMBA_MATH  # type: ignore[attr-defined]
