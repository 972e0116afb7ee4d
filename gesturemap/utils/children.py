"""Helper processes started by gesturemap (the training worker, the window's engine and review
workers) and Ctrl-C.

Ctrl-C in a terminal sends SIGINT to every process of the foreground group, children included.
The parent decides when its helpers stop (it closes their pipe), and each helper ignores SIGINT
once it runs; but a helper that is still starting (importing numpy, numba and gesturemap, a
second or more) has not got that far, and Python there raises KeyboardInterrupt: a performer who
stops ``gesturemap run`` just after it starts saw "Fatal Python error: init_import_site" or a
page of traceback from a process they never asked for.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

__all__ = ["ctrl_c_kept_from_children"]


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
