"""Wekinator's ``train`` while a training is under way, over real loopback UDP against a
`gesturemap run` of its own: the training goes on (Wekinator ignores a second train while it
trains), each training that runs is answered with one done-training, and a take recorded
meanwhile is trained right after it, never left out."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from gesturemap.project import Project
from tests.stage_helpers import OscPeer, free_port, read_stats, start_run, stop_run, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

DONE = "/wekinator/status/done-training"
POSES = {1: (0.1, 0.1), 2: (0.9, 0.1), 3: (0.5, 0.9)}
#: an HHMM whose training takes a second or more here (a client's train comes well within it)
SLOW = {"kind": "hhmm", "params": {"states": 20, "gaussians": 3}}


def _slow_project(folder: Path, frames: int = 1500) -> Path:
    """Classes 1 and 2 (Wekinator's numbers), four long takes each, untrained, in folder."""
    project = Project(model=SLOW)
    rng = np.random.default_rng(4)
    for label in (1, 2):
        for _ in range(4):
            project.add_take(POSES[label] + 0.02 * rng.standard_normal((frames, 2)), label)
    project.save(folder)
    return folder


def _stage(folder: Path, stats: Path) -> tuple[object, OscPeer]:
    client = OscPeer(free_port())
    run, _ = start_run(folder, "--osc-in", f"127.0.0.1:{client.port_in}", "--osc-out",
                       f"127.0.0.1:{client.port_out}", "--stats", stats)
    return run, client


def _dones(messages: list) -> int:
    return sum(m.address == DONE for m in messages)


def test_train_sent_again_while_training_does_not_hold_the_model_back(tmp_path):
    """A client sending train every quarter of a second (a script training after each take,
    a button pressed again while it waits) gets its model when the first training ends,
    answered once. Each train cancelled the training under way and started it again: while
    they came, no model ever came, nor any done-training."""
    folder = _slow_project(tmp_path / "p")
    run, client = _stage(folder, tmp_path / "stats.json")
    got: list = []
    sent = 0
    try:
        deadline = time.monotonic() + 150
        while not _dones(got) and time.monotonic() < deadline:
            client.send("/wekinator/control/train")
            sent += 1
            got += client.replies(lambda g: _dones(g) > 0, 0.25)
        assert _dones(got) == 1, f"no done-training after {sent} trains"
        assert sent > 3  # the trains did come while it trained
    finally:
        client.close()
        stop_run(run)
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["trainings"] >= 1 and stats["errors"] == 0


def test_a_take_recorded_while_training_is_trained_right_after(tmp_path):
    """A take of a new class recorded, Wekinator's way, while the first training runs, then
    train: the training under way is answered, and another with the new take follows it and
    is answered in turn; running, the new pose is named."""
    folder = _slow_project(tmp_path / "p", frames=600)
    run, client = _stage(folder, tmp_path / "stats.json")
    rng = np.random.default_rng(9)
    try:
        client.send("/wekinator/control/train")
        client.send("/wekinator/control/outputs", 3)
        client.send("/wekinator/control/startRecording")
        for _ in range(60):
            client.send("/wek/inputs", *(np.array(POSES[3]) + 0.02 * rng.standard_normal(2)))
            time.sleep(0.003)
        client.send("/wekinator/control/stopRecording")
        # the first training (the kernels loaded in a new process: seconds) is still on
        assert _dones(client.replies(lambda g: False, 0)) == 0
        client.send("/wekinator/control/train")
        got = client.replies(lambda g: _dones(g) == 2, 150)
        assert _dones(got) == 2
        client.send("/wekinator/control/startRunning")
        wait_for(lambda: read_stats(tmp_path / "stats.json").get("trainings") == 2, 30)
        answers: list = []
        for _ in range(5):
            client.send("/wek/inputs", *POSES[3])
            answers += client.replies(lambda g: len(g) >= 1, 10)
    finally:
        client.close()
        stop_run(run)
    assert [m.address for m in answers] == ["/wek/outputs"] * 5
    assert [m.params[0] for m in answers][-1] == 3.0
    assert Project.load(folder).trained.labels_ == [1, 2, 3]


def test_train_after_cancel_train_trains_once_and_is_answered_once(tmp_path):
    """A client's "retrain" (cancelTrain, then train, in one bundle while a training is
    under way): the cancelled training is not answered, the new one is, once, and its model
    plays."""
    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder

    from tests.stage_helpers import loopback_engine, osc_messages, osc_receiver

    folder = _slow_project(tmp_path / "p", frames=300)
    rx = osc_receiver()
    engine = loopback_engine(folder, rx)
    try:
        b = OscBundleBuilder(IMMEDIATELY)
        for verb in ("train", "cancelTrain", "train"):
            b.add_content(OscMessageBuilder("/wekinator/control/" + verb).build())
        rx.sendto(b.build().dgram, ("127.0.0.1", engine.osc_port))
        wait_for(lambda: engine.trainings == 1, 120)
        got = osc_messages(rx, lambda m: False, 1.0)
    finally:
        engine.stop()
        rx.close()
    assert [a for a, _ in got] == [DONE]
    assert engine.model is not None and engine.trainings == 1
