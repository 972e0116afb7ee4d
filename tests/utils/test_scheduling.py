"""Process-wide tuning is the program's choice: an Engine used as a library leaves the process's
scheduling, GIL switch interval and collector alone; ``realtime=True`` and tune_process() do
what the stage program asks."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time

import numpy as np
import pytest

from gesturemap.live.engine import Engine
from gesturemap.project import Project
from gesturemap.utils import scheduling


def _policy(thread: threading.Thread) -> int:
    return os.sched_getscheduler(thread.native_id)


def _project() -> Project:
    project = Project("sched", model={"kind": "knn", "params": {}})
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        project.add_take(rng.normal(size=(20, 3)), label)
    project.train()
    return project


@pytest.mark.skipif(not hasattr(os, "sched_getscheduler"), reason="Linux scheduling only")
def test_a_library_engine_leaves_the_process_alone():
    switch = sys.getswitchinterval()
    frozen = gc.get_freeze_count()
    engine = Engine(_project(), osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", 9),
                    trainer="thread").start()
    try:
        threads = list(engine._threads) + [s._thread for s in engine.sources]
        assert threads and all(_policy(t) == os.SCHED_OTHER for t in threads if t.is_alive())
        assert sys.getswitchinterval() == switch and gc.get_freeze_count() == frozen
        assert engine.stats()["realtime_priority"] is False
    finally:
        engine.stop()


@pytest.mark.skipif(not scheduling.realtime_allowed(), reason="needs root or an rtprio limit")
def test_realtime_true_schedules_the_engine_threads():
    engine = Engine(_project(), osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", 9),
                    trainer="thread", realtime=True).start()
    try:
        engine_thread = next(t for t in engine._threads if t.name == "gesturemap-engine")
        deadline = time.monotonic() + 5
        while not engine.realtime and time.monotonic() < deadline:
            time.sleep(0.01)
        assert engine.stats()["realtime_priority"] is True
        assert _policy(engine_thread) == os.SCHED_FIFO
        assert _policy(engine.sources[0]._thread) == os.SCHED_FIFO
        io = next(t for t in engine._threads if t.name == "gesturemap-io")
        # (20, 5) with no audio server running; below a running one's clients otherwise
        frame, background = engine.priorities
        assert os.sched_getparam(engine_thread.native_id).sched_priority == frame
        assert os.sched_getparam(io.native_id).sched_priority == background
        assert background < frame <= scheduling.FRAME_PRIORITY
    finally:
        engine.stop()


def test_tune_process_sets_the_switch_interval_and_freezes(monkeypatch):
    switch = sys.getswitchinterval()
    try:
        scheduling.tune_process()
        assert sys.getswitchinterval() == pytest.approx(0.0005)
        assert gc.get_freeze_count() > 0
    finally:
        sys.setswitchinterval(switch)
        gc.unfreeze()


def test_a_worker_whose_window_died_before_it_started_ends_at_once():
    """A worker told its window's id ends at once when that window is already gone, and
    stays while its window lives, whichever process started it."""
    import subprocess

    child = ("import sys, time\n"
             "from gesturemap.utils.scheduling import exit_with_parent\n"
             "exit_with_parent(int(sys.argv[1]))\n"
             "time.sleep(30)\n")
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait(20)
    gone = subprocess.run([sys.executable, "-c", child, str(ended.pid)], timeout=20)
    assert gone.returncode == 0
    # a window that lives, though another process started the worker (a fork server)
    window = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    alive = subprocess.Popen([sys.executable, "-c", child, str(window.pid)])
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            alive.wait(timeout=3)
        # killed outright, and left unreaped a while (a zombie): the worker ends anyway
        window.kill()
        assert alive.wait(timeout=30) == 0
    finally:
        window.kill()
        window.wait(10)
        alive.kill()
        alive.wait(10)
