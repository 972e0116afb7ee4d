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

Never above the audio server: the engine feeds the synth's callback, which runs in a thread of the
audio server's client at the server's priority minus :data:`JACK_CLIENT_OFFSET` (JACK; PipeWire's
JACK layer does the same). A real-time frame path above that callback preempts it and loses blocks
(measured: 178 and 269 lost blocks in 30 s under ``jackd`` at its default priority 10 against
21 under ``-P 70``). :func:`frame_priorities` reads the running server's priority
(:func:`audio_server_priority`, from ``/proc``) and places the engine's threads below its clients,
or leaves them at ordinary priority when there is no room below (docs/audio.md says what a
performer sets up; docs/performance.md has the latency figures against a bare echo).
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["AUDIO_SERVERS", "BACKGROUND_PRIORITY", "FRAME_PRIORITY", "JACK_CLIENT_OFFSET",
           "audio_server_priority", "frame_priorities", "priorities_now", "realtime_allowed",
           "exit_with_parent", "realtime_wanted", "schedule_threads", "tune_process"]

#: SCHED_FIFO priority of the frame path's threads (the engine's, a source's receiving thread).
FRAME_PRIORITY = 20
#: SCHED_FIFO priority of the engine's other Python threads (I/O, stats, the trainer's reader,
#: a window's snapshots). They share the GIL with the frame path: an ordinary thread preempted
#: by another program while it holds the GIL keeps the frame path waiting until the scheduler
#: brings it back (a priority inversion measured at several ms beside a busy window).
BACKGROUND_PRIORITY = 5
#: Programs whose real-time threads make the sound (their clients' callbacks run below them).
AUDIO_SERVERS = ("jackd", "jackdbus", "pipewire")
#: A JACK client's process-callback thread runs this far below the server's priority
#: (jackd -P 70: clients at 65).
JACK_CLIENT_OFFSET = 5


def _thread_priority(stat: str) -> tuple[int, int]:
    """(policy, rt_priority) from a ``/proc/<pid>/task/<tid>/stat`` line (fields 41 and 40;
    the command name in field 2 may hold spaces and parentheses, so count from its last ')')."""
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[38]), int(fields[37])


def audio_server_priority(proc: str = "/proc") -> int | None:
    """The highest real-time (SCHED_FIFO or SCHED_RR) priority among the threads of a running
    audio server (:data:`AUDIO_SERVERS`), or ``None`` when none runs with real-time threads."""
    best: int | None = None
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            with open(f"{proc}/{pid}/comm") as f:
                if f.read().strip() not in AUDIO_SERVERS:
                    continue
            tids = os.listdir(f"{proc}/{pid}/task")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        for tid in tids:
            try:
                with open(f"{proc}/{pid}/task/{tid}/stat") as f:
                    policy, priority = _thread_priority(f.read())
            except (OSError, ValueError, IndexError):
                continue
            if policy in (1, 2) and (best is None or priority > best):  # SCHED_FIFO, SCHED_RR
                best = priority
    return best


def frame_priorities(server_priority: int | None) -> tuple[int, int] | None:
    """SCHED_FIFO priorities (frame path, background threads) that stay below the audio server's
    clients, or ``None`` for ordinary scheduling when there is no room below them.

    With no real-time audio server: (:data:`FRAME_PRIORITY`, :data:`BACKGROUND_PRIORITY`). With one
    at priority ``p``: the frame path at most ``p - JACK_CLIENT_OFFSET - 1`` and the background
    threads one lower still; below 2 for the frame path there is no room and it stays ordinary.
    """
    if server_priority is None:
        return FRAME_PRIORITY, BACKGROUND_PRIORITY
    frame = min(FRAME_PRIORITY, server_priority - JACK_CLIENT_OFFSET - 1)
    if frame < 2:
        return None
    return frame, min(BACKGROUND_PRIORITY, frame - 1)


def priorities_now() -> tuple[int, int] | None:
    """:func:`frame_priorities` for the audio server running now (an engine calls it at start)."""
    return frame_priorities(audio_server_priority())


def realtime_wanted(realtime: bool) -> bool:
    """A program's ``realtime`` request, unless the environment turns it off
    (``GESTUREMAP_REALTIME=0``: how ``gesturemap bench --vs-floor`` measures the engine without
    real-time scheduling)."""
    return bool(realtime) and os.environ.get("GESTUREMAP_REALTIME", "1") != "0"


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


def exit_with_parent(parent: int | None = None, poll_s: float = 1.0) -> None:
    """End this process when ``parent`` (a process id) ends (a daemon thread waits for it).

    A pool worker (``concurrent.futures``) whose parent is killed never learns it: its call
    queue's pipe stays open at both ends inside the worker itself, so it waits forever, an
    orphan holding its memory. A window killed on stage would leave one behind each time.

    ``parent``: the starting process's id, as it gave it (the window's: a helper forked by
    the fork server is that server's child, not the window's). Without it, the process that
    is the parent now; a window killed while its worker was still starting is then never
    noticed. Already gone: this process ends at once."""
    import select
    import threading
    import time

    if parent is None:
        parent = os.getppid()
    try:
        # a pidfd names this very process (never another given its id later), and turns
        # readable when it ends, even while it waits, a zombie, for its own parent
        pidfd: int | None = os.pidfd_open(parent)
    except ProcessLookupError:
        os._exit(0)
    except (AttributeError, OSError):  # not Linux 5.3+: ask the kernel whether it is there
        pidfd = None
    ended = not _exists(parent) if pidfd is None else bool(select.select([pidfd], [], [], 0)[0])
    if ended:
        os._exit(0)

    def watch() -> None:
        if pidfd is not None:
            select.select([pidfd], [], [])
        else:
            while _exists(parent):
                time.sleep(poll_s)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's: there
        return True
    return True
