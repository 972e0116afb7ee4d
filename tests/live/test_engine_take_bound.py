"""A take is bounded (a forgotten stopRecording cost about 1.2 GB an hour) and handed over
whole when it ends (stopping it held the frames in proportion to its length): real engines
over loopback UDP."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

from gesturemap.live import take_buffer
from gesturemap.live.engine import Engine
from gesturemap.project import Project
from gesturemap.sources.base import Frame
from tests.stage_helpers import float_msg, osc_messages, osc_receiver, wait_for
from tests.stage_helpers import osc_message as msg

pytestmark = pytest.mark.timeout(120)


def test_a_take_that_reaches_its_bound_ends_there_and_is_kept(monkeypatch, tmp_path):
    monkeypatch.setattr(take_buffer, "MAX_TAKE_VALUES", 300)  # 2 inputs + time: 100 frames
    rx = osc_receiver()
    project = Project.new(tmp_path / "p", inputs=2)
    project.model = {"kind": "knn", "params": {}}
    project.outputs = {"extras": True}  # gesturemap's own messages: the project's choice
    engine = Engine(project, project_dir=tmp_path / "p", osc_in=("127.0.0.1", 0),
                    osc_out=rx.getsockname(), trainer="thread").start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        target = ("127.0.0.1", engine.osc_port)
        tx.sendto(msg("/wekinator/control/outputs", 1.0), target)
        tx.sendto(msg("/wekinator/control/startRecording"), target)
        for i in range(150):
            tx.sendto(float_msg("/wek/inputs", i, -i), target)
        got = osc_messages(rx, lambda g: any(a == "/gesturemap/take_stopped" for a, _ in g))
        (why,), = [p for a, p in got if a == "/gesturemap/take_stopped"]
        assert "100 frames" in why
        wait_for(lambda: engine.frames_in == 150 and not engine.recording)
        wait_for(lambda: len(project.takes) == 1)
        assert project.takes[0].inputs[:, 0].tolist() == list(range(100))  # the first ones
        tx.sendto(msg("/wekinator/control/startRecording"), target)  # the next take: anew
        for _ in range(5):
            tx.sendto(float_msg("/wek/inputs", 7, 7), target)
        tx.sendto(msg("/wekinator/control/stopRecording"), target)
        wait_for(lambda: len(project.takes) == 2)
        assert project.takes[1].length == 5
        assert engine.stats()["errors"] == 0
    finally:
        engine.stop()
        tx.close()
        rx.close()


def test_a_long_take_is_handed_over_without_a_copy(tmp_path):
    """The take's frames stay where they were recorded: the array the project keeps is the
    one the frames were written into, shrunk to the take's length."""
    project = Project("long", classes=["a"], model="knn")
    width, frames = 64, 20_000
    engine = Engine(project, osc_in=None, trainer="thread", queue_size=frames + 1).start()
    try:
        engine.command("start_recording", "a")
        rng = np.random.default_rng(0)
        rows = rng.normal(size=(frames, width))
        for row in rows:
            engine.queue.put(Frame(time.perf_counter(), row, "test"))
        wait_for(lambda: engine.frames_in == frames)
        written = engine._take._inputs  # the buffer the frame path wrote into
        engine.command("stop_recording")
        wait_for(lambda: len(project.takes) == 1)
    finally:
        engine.stop()
    take = project.takes[0]
    assert take.inputs is written and take.inputs.shape == (frames, width)
    assert not take.inputs.flags.writeable
    assert np.array_equal(take.inputs, rows)
