"""Helper processes started by gesturemap (the training worker, the window's engine and review
workers) and Ctrl-C.

Ctrl-C in a terminal sends SIGINT to every process of the foreground group, children included.
The parent decides when its helpers stop (it closes their pipe), and each helper ignores SIGINT
once it runs; but a helper that is still starting (importing numpy, numba and gesturemap, a
second or more) has not got that far, and Python there raises KeyboardInterrupt: a performer who
stops ``gesturemap run`` just after it starts saw "Fatal Python error: init_import_site" or a
page of traceback from a process they never asked for.

The helpers start from a fork server (:func:`helper_context`): a clean process that imported
gesturemap once. A helper forked from it starts in milliseconds where a fresh interpreter spends
a second or two importing numpy, numba and gesturemap — every time a project is opened, a
training process restarts or a review worker is started again after a cancel.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["ctrl_c_kept_from_children", "helper_context", "in_this_environment"]

#: What the fork server imports once, before it forks any helper: the training worker's module
#: (gesturemap with every model kind, numpy and numba); the helpers' own modules add little.
PRELOAD = ["gesturemap.live.trainer"]

# Variables read once, when numba, numpy or Python start: a helper forked from a server started
# with other values would keep the server's (NUMBA_CACHE_DIR, NUMBA_DISABLE_JIT...), so it is
# started as a fresh interpreter instead
_READ_AT_START = ("NUMBA_", "PYTHON", "OPENBLAS_", "OMP_", "MKL_")
_server_lock = threading.Lock()
_server_environment: dict[str, str] | None = None


def _read_at_start() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(_READ_AT_START)}


def helper_context() -> Any:
    """The multiprocessing context a helper process starts in.

    Never "fork": the parent may hold audio, MIDI, Qt or engine threads, and a fork keeps only
    the calling one (a lock another thread held stays locked forever in the child). The fork
    server is a fresh, single-threaded interpreter that imported gesturemap
    (:data:`PRELOAD`); the helpers it forks are as clean as spawned ones, without the import.
    Where there is no fork server (Windows), or where a variable read at an interpreter's
    start (:data:`_READ_AT_START`) differs from the server's, a fresh interpreter ("spawn").
    Start the process inside :func:`ctrl_c_kept_from_children`, with its target wrapped by
    :func:`in_this_environment`.
    """
    global _server_environment
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    now = _read_at_start()
    with _server_lock:
        if _server_environment is None:
            from multiprocessing import forkserver

            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            # started here, so that what it was started with is known; with SIGINT blocked,
            # which its helpers inherit (a Ctrl-C while it imports would print a traceback)
            with ctrl_c_kept_from_children():
                forkserver.ensure_running()
            _server_environment = now
            return ctx
        if _server_environment == now:
            return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def in_this_environment(target: Callable[..., Any], *args: Any) -> tuple[Any, tuple[Any, ...]]:
    """``(target, args)`` for ``Process(target=..., args=...)``: the helper runs ``target`` with
    this process's environment variables as they are now (a forked helper starts with its fork
    server's, which may be older: a setting exported since would be missed)."""
    return _with_environment, (dict(os.environ), target, *args)


def _with_environment(environ: dict[str, str], target: Callable[..., Any], *args: Any) -> Any:
    os.environ.clear()
    os.environ.update(environ)
    return target(*args)


@contextlib.contextmanager
def ctrl_c_kept_from_children() -> Iterator[None]:
    """Start child processes inside this block: they start with SIGINT blocked.

    A thread's blocked-signal mask survives fork and exec (``subprocess`` and multiprocessing's
    "spawn" restore the caller's mask in the child), so the child never sees the terminal's
    Ctrl-C, from its first instruction on. Only the calling thread's mask changes, and only for
    the block: a Ctrl-C meanwhile goes to the parent's other threads (Python's handler runs it in
    the main thread as usual) or waits, pending, until the block ends. Nothing is lost.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no process groups to share Ctrl-C
        yield
        return
    # multiprocessing starts its resource tracker at a first start() the same way, then
    # *unblocks* SIGINT, which would undo this block before the child is spawned: have it
    # running first
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
