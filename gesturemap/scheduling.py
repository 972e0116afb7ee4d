"""How the operating system schedules gesturemap's threads: the choices of an application.

A library object never changes process-wide state. The programs (``gesturemap run``, the
window's engine process) decide, and ask for it here:

- :func:`tune_process` — hand the GIL over within 0.5 ms instead of 5 ms, and freeze what exists
  now out of the garbage collector's scans (shorter collector pauses). Process-wide: called by
  the program once its engine has started.
- real-time scheduling of the engine's own threads (``Engine(realtime=True)``, which calls
  :func:`schedule_threads`): SCHED_FIFO where permitted (root, or an rtprio limit), the frame
  path's threads pinned to one core, the engine's other Python threads below them (they share
  the GIL with the frame path: see :data:`BACKGROUND_PRIORITY`). Where it is not permitted,
  nothing changes.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["BACKGROUND_PRIORITY", "FRAME_PRIORITY", "realtime_allowed", "schedule_threads",
           "tune_process"]

#: SCHED_FIFO priority of the frame path's threads (the engine's, a source's receiving thread).
FRAME_PRIORITY = 20
#: SCHED_FIFO priority of the engine's other Python threads (I/O, stats, the trainer's reader,
#: a window's snapshots). They share the GIL with the frame path: an ordinary thread preempted
#: by another program while it holds the GIL keeps the frame path waiting until the scheduler
#: brings it back (a priority inversion measured at several ms beside a busy window).
BACKGROUND_PRIORITY = 5


def realtime_allowed() -> bool:
    """Whether this process may ask for real-time scheduling (root, or an rtprio limit)."""
    if not hasattr(os, "sched_setscheduler"):
        return False
    try:
        import resource

        return os.geteuid() == 0 or resource.getrlimit(resource.RLIMIT_RTPRIO)[0] > 0
    except (ImportError, OSError, AttributeError):
        return False


def schedule_threads(threads: list[Any], priority: int, pin: bool = False) -> int:
    """SCHED_FIFO at ``priority`` for each started thread of ``threads`` (``None`` entries are
    skipped) and, with ``pin``, the last core, where permitted; otherwise they stay as they are.
    Returns how many threads were given real-time scheduling."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    done = 0
    for thread in threads:
        native = getattr(thread, "native_id", None)
        if not native:
            continue
        try:
            os.sched_setscheduler(native, os.SCHED_FIFO, os.sched_param(priority))
            done += 1
            if pin and len(cpus) > 1:
                os.sched_setaffinity(native, {cpus[-1]})
        except (AttributeError, OSError):
            pass
    return done


def tune_process() -> None:
    """Process-wide tuning for a program that runs an engine (see the module's docstring)."""
    import gc
    import sys

    sys.setswitchinterval(0.0005)
    gc.freeze()
