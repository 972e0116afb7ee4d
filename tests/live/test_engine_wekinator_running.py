"""Wekinator's training and running states on its control messages, over real loopback UDP:
every training a client waits for ends with done-training (cancelled or failed too), and
startRunning acts only when Wekinator's would."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from gesturemap.project import Project
from tests.stage_helpers import float_msg, loopback_engine, osc_messages, osc_receiver, wait_for

pytestmark = pytest.mark.timeout(180)

DONE = "/wekinator/status/done-training"


def _poses(folder: Path, model: dict, frames: int = 40, trained: bool = False) -> Path:
    """A project of classes 1 and 2 (Wekinator's numbers), two takes each, saved in folder."""
    project = Project(model=model)
    rng = np.random.default_rng(4)
    for label, level in ((1, 0.1), (2, 0.9)):
        for _ in range(2):
            project.add_take(level + 0.02 * rng.standard_normal((frames, 2)), label)
    if trained:
        project.train()
    project.save(folder)
    return folder


GMM = {"kind": "gmm", "params": {"gaussians": 1, "decision": "window", "likelihood_window": 1}}


class Wek:
    """A Wekinator client of an engine: sends to its control port, reads its replies."""

    def __init__(self, engine, rx: socket.socket) -> None:  # noqa: ANN001
        self.engine, self.rx = engine, rx
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send(self, address: str, *values: float) -> None:
        self.tx.sendto(float_msg(address, *values), ("127.0.0.1", self.engine.osc_port))

    def bundle(self, *addresses: str) -> None:
        """Messages with no argument, in one OSC bundle (one datagram)."""
        from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
        from pythonosc.osc_message_builder import OscMessageBuilder

        b = OscBundleBuilder(IMMEDIATELY)
        for address in addresses:
            b.add_content(OscMessageBuilder(address).build())
        self.tx.sendto(b.build().dgram, ("127.0.0.1", self.engine.osc_port))

    def control(self, verb: str, *values: float) -> None:
        self.send("/wekinator/control/" + verb, *values)

    def received(self, enough, timeout: float = 10.0) -> list[str]:  # noqa: ANN001
        """The addresses received, until ``enough(addresses)`` or ``timeout``."""
        got = osc_messages(self.rx, lambda m: enough([a for a, _ in m]), timeout)
        return [a for a, _ in got]

    def close(self) -> None:
        self.tx.close()
        self.rx.close()


@pytest.fixture
def wek_of(tmp_path):
    """``wek_of(folder)``: the project in folder run by an engine, and a client of it."""
    made = []

    def start(folder: Path) -> Wek:
        rx = osc_receiver()
        engine = loopback_engine(folder, rx)
        made.append(Wek(engine, rx))
        return made[-1]

    yield start
    for wek in made:
        wek.close()
        wek.engine.stop()


def test_cancel_train_is_answered_with_done_training(tmp_path, wek_of):
    """A client that trains waits for done-training before it starts running; Wekinator says
    it when a cancelled training ends too. Here nothing came, and the client waited for
    ever."""
    wek = wek_of(_poses(tmp_path / "p", {"kind": "hhmm", "params": {"states": 10}},
                        frames=600))
    # in one datagram, so that the cancel comes before a training of a tenth of a second ends
    wek.bundle("/wekinator/control/train", "/wekinator/control/cancelTrain")
    assert wek.received(lambda a: DONE in a, timeout=30).count(DONE) == 1
    assert wek.engine.model is None and wek.engine.trainings == 0  # cancelled: no model
    # a later training is answered as ever, once
    wek.control("train")
    wait_for(lambda: wek.engine.trainings == 1, 60)
    assert wek.received(lambda a: DONE in a, timeout=10).count(DONE) == 1


def test_a_failed_training_is_answered_with_done_training(tmp_path, wek_of):
    """A training that fails (a setting no class can train on) ends, as Wekinator's does
    when its learner fails: done-training, and the last good model plays on."""
    folder = _poses(tmp_path / "p", {"kind": "hhmm", "params": {"states": 3}}, frames=6,
                    trained=True)
    project = Project.load(folder)
    project.model = {"kind": "hhmm", "params": {"states": 10}}  # takes of 6 frames: too short
    project.save(folder)
    wek = wek_of(folder)
    before = wek.engine.model
    wek.control("train")
    assert DONE in wek.received(lambda a: DONE in a, timeout=60)
    assert wek.engine.trainings_failed == 1 and wek.engine.model is before


def _refused(engine, name: str) -> int:  # noqa: ANN001
    return int(engine.refused.get(name, [0, ""])[0])


def test_start_running_with_nothing_trained_is_refused_as_wekinators(tmp_path, wek_of):
    """Wekinator refuses startRunning before anything is trained. Here it was taken, and
    the next training (a client's train, with no startRunning after it) started answering
    every frame unasked."""
    wek = wek_of(_poses(tmp_path / "p", GMM))
    wek.control("startRunning")
    wait_for(lambda: _refused(wek.engine, "wek_start_running") == 1)
    assert not wek.engine.running
    assert "train" in wek.engine.refused["wek_start_running"][1]
    wek.control("train")
    assert DONE in wek.received(lambda a: DONE in a, timeout=60)
    for _ in range(5):
        wek.send("/wek/inputs", 0.1, 0.1)
    wait_for(lambda: wek.engine.frames_in == 5)
    assert not wek.engine.running and wek.engine.frames_out == 0  # not running: no answer
    wek.control("startRunning")  # trained now: it runs
    for _ in range(5):
        wek.send("/wek/inputs", 0.1, 0.1)
    outputs = wek.received(lambda a: a.count("/wek/outputs") == 5)
    assert outputs.count("/wek/outputs") == 5 and wek.engine.running


def test_start_running_sent_with_train_runs_the_model_when_it_comes(tmp_path, wek_of):
    """Wekinator refuses startRunning while it trains; a script sending train and
    startRunning at once is answered from the moment the model is in (said in
    docs/wekinator.md)."""
    wek = wek_of(_poses(tmp_path / "p", GMM))
    wek.control("train")
    wek.control("startRunning")
    wait_for(lambda: wek.engine.trainings == 1, 60)
    assert wek.engine.running and _refused(wek.engine, "wek_start_running") == 0


def _dtw(folder: Path, outputs: dict | None = None) -> Path:
    """A DTW project of gestures 1 (a rising line) and 2 (a falling one), three takes each."""
    project = Project(model={"kind": "dtw", "params": {}}, outputs=outputs)
    rng = np.random.default_rng(5)
    t = np.linspace(0, 1, 30)[:, None]
    for _ in range(3):
        project.add_take(np.hstack([t, t]) + 0.01 * rng.standard_normal((30, 2)), 1)
        project.add_take(np.hstack([t, 1 - t]) + 0.01 * rng.standard_normal((30, 2)), 2)
    project.save(folder)
    return folder


def test_start_running_again_mid_gesture_loses_nothing(tmp_path, wek_of):
    """A second startRunning (a patch's toggle sending it again) changes nothing in
    Wekinator. Here it reset the stream: a DTW gesture under way when it came was lost, its
    /output_1 never sent."""
    wek = wek_of(_dtw(tmp_path / "p"))
    wek.control("startRunning")
    wait_for(lambda: wek.engine.running and wek.engine.model is not None, 60)
    sent = 0

    def frames(values) -> None:  # noqa: ANN001
        nonlocal sent
        for v in values:
            wek.send("/wek/inputs", v, v)
            sent += 1
        wait_for(lambda: wek.engine.frames_in == sent, 30)

    rising = np.linspace(0, 1, 30)
    frames(rising[:15])
    wek.control("startRunning")
    frames(rising[15:])
    frames(np.ones(10))  # the gesture's end, held: still gesture 1
    got = wek.received(lambda a: a.count("/wek/outputs") >= sent)
    assert got.count("/wek/outputs") == sent and got.count("/output_1") == 1
    assert _refused(wek.engine, "wek_start_running") == 0


def _ten_frames_with_no_template(wek: Wek) -> None:
    """Start running, delete every template, then send 10 frames."""
    wek.control("startRunning")
    wait_for(lambda: wek.engine.running and wek.engine.model is not None, 60)
    wek.control("deleteAllExamples")
    wait_for(lambda: not wek.engine.project.takes and wek.engine.model is None, 60)
    for v in np.linspace(0, 1, 10):
        wek.send("/wek/inputs", v, v)


def test_a_dtw_project_with_every_template_deleted_sends_inf_per_gesture(tmp_path, wek_of):
    """Wekinator's DTW runs on after deleteAllExamples and sends Double.MAX_VALUE for each
    gesture on /wek/outputs (+inf as the float32 its OSC library writes). Here /wek/outputs
    fell silent: a patch reading one value per gesture each frame got nothing."""
    wek = wek_of(_dtw(tmp_path / "p"))
    _ten_frames_with_no_template(wek)
    got = osc_messages(wek.rx, lambda m: len(m) >= 10, timeout=10)
    assert [a for a, _ in got] == ["/wek/outputs"] * 10
    assert all(len(p) == 2 and np.isposinf(p).all() for _, p in got)  # gestures 1 and 2
    assert wek.engine.running and wek.engine.stats()["errors"] == 0


def test_a_dtw_project_with_every_template_deleted_sends_no_match_extras(tmp_path, wek_of):
    """With gesturemap's own messages on, a DTW frame that matches nothing sends an empty
    label (0) after /wek/outputs. With every template deleted, the frames sent /wek/outputs
    alone: a patch following /gesturemap/label kept the last gesture it named. Now each
    frame sends what a frame with no match sends: the empty label, no gesture likely."""
    wek = wek_of(_dtw(tmp_path / "p", {"extras": True}))
    _ten_frames_with_no_template(wek)
    got = osc_messages(wek.rx, lambda m: len(m) >= 30, timeout=10)
    assert [a for a, _ in got] == ["/wek/outputs", "/gesturemap/label",
                                   "/gesturemap/likelihoods"] * 10
    for (_, distances), (_, label), (_, likelihoods) in zip(got[::3], got[1::3], got[2::3],
                                                            strict=True):
        assert len(distances) == 2 and np.isposinf(distances).all()  # gestures 1 and 2
        assert label == ("", 0.0) and likelihoods == (0.0, 0.0)
    assert wek.engine.running and wek.engine.stats()["errors"] == 0
