"""A session log that opens while the engine runs (a new project learns its input size from
its first frame, and the log its columns with it) holds every frame and event from the
first: the engine keeps them for it while the I/O thread opens its files. Likelihoods of
classes the log was not opened with are counted as dropped, not lost without a word. A real
engine on a thread, its I/O thread held busy to make the opening slow."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from gesturemap.live.engine import Engine
from gesturemap.log import log_start, read_events, read_log
from gesturemap.project import Project
from gesturemap.sources.base import Frame
from tests.stage_helpers import wait_for

pytestmark = pytest.mark.timeout(120)


def _held_io(engine: Engine) -> threading.Event:
    """Hold the engine's I/O thread until the event returned is set."""
    release, held = threading.Event(), threading.Event()
    engine._io.put(lambda: (held.set(), release.wait(60)))
    assert held.wait(10)
    return release


def test_a_log_that_opens_late_still_holds_the_first_frames_and_events(tmp_path):
    project = Project("new", classes=["a", "b"])  # no input size yet
    engine = Engine(project, osc_in=("127.0.0.1", 0), trainer="thread",
                    log_dir=tmp_path / "log").start()
    release = threading.Event()
    try:
        release = _held_io(engine)  # the log's files wait behind it
        frames = np.random.default_rng(0).standard_normal((120, 3))
        for i, x in enumerate(frames[:50]):
            engine.queue.put(Frame(1.0 + 0.01 * i, x, "test"))
        engine.command("start_recording")
        for i, x in enumerate(frames[50:100], start=50):
            engine.queue.put(Frame(1.0 + 0.01 * i, x, "test"))
        engine.command("stop_recording")
        wait_for(lambda: engine.frames_in == 100 and len(engine.project.takes) == 1)
        assert engine.session_log is None  # still opening
        release.set()
        wait_for(lambda: engine.session_log is not None)
        for i, x in enumerate(frames[100:], start=100):
            engine.queue.put(Frame(1.0 + 0.01 * i, x, "test"))
        wait_for(lambda: engine.frames_in == len(frames))
    finally:
        release.set()
        engine.stop()
    times, rows, _ = read_log(tmp_path / "log")["input"]
    np.testing.assert_allclose(rows, frames, rtol=1e-6)  # every frame, in order
    np.testing.assert_allclose(times, 1.0 + 0.01 * np.arange(len(frames)))
    takes = [e for e in read_events(tmp_path / "log") if e.kind == "take"]
    assert len(takes) == 1 and takes[0].data["frames"] == 50
    session = json.loads((tmp_path / "log" / "session.json").read_text())
    assert session["dropped"]["input"] == 0


def test_likelihoods_of_other_classes_than_the_logs_are_counted(tmp_path):
    rng = np.random.default_rng(1)
    project = Project("two", classes=["a"])
    for _ in range(2):
        project.add_take(0.1 * rng.standard_normal((30, 2)), "a")
    project.model = {"kind": "gmm", "params": {"gaussians": 1}}
    project.train()
    engine = Engine(project, osc_in=("127.0.0.1", 0), trainer="thread",
                    log_dir=tmp_path / "log").start()
    try:
        engine.command("start_running")
        for i in range(20):
            engine.queue.put(Frame(1.0 + 0.01 * i, np.zeros(2), "test"))
        wait_for(lambda: engine.frames_out == 20)
        # a second class: the model's likelihoods no longer fit the log's one column
        engine.command("set_label", "b")
        engine.command("start_recording")
        for i in range(20, 50):
            engine.queue.put(Frame(1.0 + 0.01 * i, 1.0 + 0.1 * rng.standard_normal(2),
                                   "test"))
        engine.command("stop_recording")
        engine.command("train")
        wait_for(lambda: len(getattr(engine.model, "labels_", [])) == 2, timeout=60)
        out = engine.frames_out
        for i in range(50, 60):
            engine.queue.put(Frame(1.0 + 0.01 * i, np.ones(2), "test"))
        wait_for(lambda: engine.frames_out == out + 10)
    finally:
        engine.stop()
    log = read_log(tmp_path / "log")
    assert len(log["likelihoods"][1]) == 20 + 30  # the one-class model's frames
    session = json.loads((tmp_path / "log" / "session.json").read_text())
    assert session["dropped"]["likelihoods"] == 10


def test_a_log_that_opens_late_starts_at_its_first_frame(tmp_path):
    # log_start(DIR) is where a researcher reads "from the start": the frames held while the
    # log opened came before the opening, and a read from the start must hold them all
    project = Project("new", classes=["a"])  # no input size yet
    engine = Engine(project, osc_in=("127.0.0.1", 0), trainer="thread",
                    log_dir=tmp_path / "log").start()
    release = threading.Event()
    try:
        release = _held_io(engine)  # the frames arrive before the log's files open
        first = time.perf_counter()
        for i in range(20):
            engine.queue.put(Frame(first + 0.001 * i, np.full(2, float(i)), "test"))
        wait_for(lambda: engine.frames_in == 20)
        time.sleep(0.2)  # the log opens well after the first frame
        release.set()
        wait_for(lambda: engine.session_log is not None)
    finally:
        release.set()
        engine.stop()
    start = log_start(tmp_path / "log")
    assert start == pytest.approx(first, abs=1e-9)
    times, rows, _ = read_log(tmp_path / "log", ["input"], start=start)["input"]
    assert len(times) == 20 and rows[0, 0] == 0.0
    session = json.loads((tmp_path / "log" / "session.json").read_text())
    # the wall-clock start is the first frame's too, not the opening's
    opened = session["start_epoch"] + (time.perf_counter() - first)
    assert abs(opened - time.time()) < 0.1
