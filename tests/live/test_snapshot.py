"""The engine's state is published whole: a frozen EngineSnapshot taken between two frames."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from gesturemap.live.codec import decode, encode
from gesturemap.live.engine import Engine
from gesturemap.live.snapshot import EngineSnapshot
from gesturemap.project import Project
from gesturemap.sources.base import Frame


def _project() -> Project:
    rng = np.random.default_rng(1)
    project = Project("snap", model={"kind": "knn", "params": {}})
    for label, centre in (("a", 0.0), ("b", 5.0)):
        project.add_take(centre + rng.normal(size=(30, 2)), label)
    project.train()
    return project


def _wait(cond, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.01)
    return cond()


def test_the_engine_publishes_a_consistent_frozen_snapshot():
    engine = Engine(_project(), osc_in=None, osc_out=("127.0.0.1", 9), trainer="thread")
    first = engine.snapshot
    assert first.running and first.labels == ("a", "b") and first.frames_in == 0
    engine.start()
    try:
        for i in range(40):
            engine.queue.put(Frame(float(i) / 100, np.array([5.0, 5.0]), "test"))
        assert _wait(lambda: engine.snapshot.frames_in == 40)
        snap = engine.snapshot
        assert snap is not first
        # taken between two frames: every frame counted in was answered, and the result is
        # the last frame's
        assert snap.frames_out == snap.frames_in == 40
        assert snap.last_result is not None and snap.last_result.label == "b"
        assert snap.output_port == 9 and snap.taken_at > first.taken_at
        with pytest.raises(dataclasses.FrozenInstanceError):
            snap.running = False  # type: ignore[misc]
        engine.command("stop_running")
        assert _wait(lambda: not engine.snapshot.running)
        assert snap.running  # an old snapshot never changes
    finally:
        engine.stop()


def test_a_snapshot_crosses_the_wire_whole():
    snap = EngineSnapshot(running=True, recording=False, current_label=3, labels=("x", 2),
                          frames_in=7, training_progress=(0.5, "fitting"), edits=4,
                          train_warnings=("class 'x': uneven takes",),
                          output_host="10.0.0.2", output_port=9000, taken_at=12.5)
    back = EngineSnapshot.from_message(decode(encode({"s": snap.to_message()}))["s"])
    assert back == snap
    # a newer engine's extra field is ignored, not fatal
    m = snap.to_message()
    m["something_new"] = 1
    assert EngineSnapshot.from_message(m) == snap


def test_the_window_reads_the_engine_process_state_from_one_snapshot(tmp_path):
    from gesturemap.gui.remote import EngineProcess

    link = EngineProcess(_project(), project_dir=tmp_path / "p")  # not started: no process
    assert link.running and list(link.model.labels_) == ["a", "b"]
    state = EngineSnapshot(running=False, recording=True, current_label="b", labels=("a", "b"),
                           frames_in=12, trainings=2, errors=1, edits=5, output_port=7000)
    link._apply_state({"kind": "state", "snapshot": state.to_message(None),
                       "result_changed": True, "ring": None, "feature_ring": None})
    assert link.snapshot == state
    assert (link.running, link.recording, link.current_label, link.frames_in, link.trainings,
            link.errors, link.edits, link.output.settings.port) == (
        False, True, "b", 12, 2, 1, 5, 7000)
    assert link.last_result is None


def test_a_project_snapshot_built_too_late_still_brings_its_takes(tmp_path):
    # A busy engine thread (a first training compiling its kernels holds the GIL) may build
    # the project's snapshot after the state message gave up waiting. That late snapshot is
    # dropped; the takes it would have carried must come with the next one, or the window
    # waits for their arrays forever (a take recorded and never shown).
    import threading

    from gesturemap.gui.remote import EngineProcess, _ChildEngine, _Snapshots

    engine = _ChildEngine(_project(), osc_in=None, trainer="thread")  # not started
    sent: list = []
    snapshots = _Snapshots(engine, lambda m: sent.append(decode(encode(m))), 30.0)
    snapshots.project_timeout_s = 0.05
    snapshots.send_state()  # nobody runs the engine's commands: it gives up
    assert "project" not in sent[-1]
    engine._apply_commands()  # the engine thread catches up, too late
    snapshots.project_timeout_s = 10.0
    later = threading.Timer(0.1, engine._apply_commands)
    later.start()
    snapshots.send_state()
    later.join()
    assert "project" in sent[-1] and engine.errors == 0
    link = EngineProcess(_project(), project_dir=tmp_path / "p")  # the window's side
    for message in sent:
        link._apply_state(message)
    assert link.snapshot_errors == 0
    assert [t.label for t in link.project.takes] == ["a", "b"]
    assert all(t.inputs.shape == (30, 2) for t in link.project.takes)
    engine.output.close()  # never started: its OSC output socket is all it opened
