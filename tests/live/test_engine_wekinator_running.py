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


def _wek_outputs(rx: socket.socket, count: int) -> list[tuple]:
    """The next ``count`` /wek/outputs received (a match's /output_N between them skipped)."""
    got = osc_messages(rx, lambda m: sum(a == "/wek/outputs" for a, _ in m) >= count, 10)
    return [p for a, p in got if a == "/wek/outputs"]


def _take_then_run(wek: Wek, gesture: int, take: np.ndarray, burst: np.ndarray) -> None:
    """Gesture ``gesture``'s ``take`` recorded over Wekinator's DTW messages, then
    stopDtwRecording, startRunning and the frames of ``burst`` in one datagram, as a client
    sends them in a row: the burst reaches the engine before any training can have stored
    the take."""
    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder

    wek.control("startDtwRecording", gesture)
    for row in take:
        wek.send("/wek/inputs", *row)
    wait_for(lambda: wek.engine.frames_in == len(take), 30)
    b = OscBundleBuilder(IMMEDIATELY)
    for address in ("/wekinator/control/stopDtwRecording", "/wekinator/control/startRunning"):
        b.add_content(OscMessageBuilder(address).build())
    for row in burst:
        m = OscMessageBuilder("/wek/inputs")
        for v in row:
            m.add_arg(float(v), "f")
        b.add_content(m.build())
    wek.tx.sendto(b.build().dgram, ("127.0.0.1", wek.engine.osc_port))


RISING = np.linspace(0, 1, 30)[:, None].repeat(2, 1)
FALLING = np.hstack([RISING[:, :1], 1 - RISING[:, :1]])


def test_a_dtw_gesture_recorded_is_answered_by_the_model_playing_until_its_own_is_in(
        tmp_path, wek_of):
    """stopDtwRecording then startRunning at once, in a project whose model plays gesture 1,
    the take one of gesture 2: while its template was being stored, /wek/outputs carried
    gesture 1's distance and +inf for gesture 2 (a patch scaling the distances jumped to
    infinity). Now the frames meanwhile carry what the model playing knows (gesture 1's
    distance alone), and the first frame after the new model is in carries both, finite."""
    project = Project(model={"kind": "dtw", "params": {}})
    project.add_take(RISING, 1)
    project.train()
    project.save(tmp_path / "p")
    wek = wek_of(tmp_path / "p")
    engine = wek.engine
    _take_then_run(wek, 2, FALLING, RISING[:10])
    window = _wek_outputs(wek.rx, 10)
    # then one frame at a time, each sent knowing whether the new model was in before it
    after: list[tuple] = []
    for row in np.tile(RISING, (40, 1)):
        known = list(engine.model.labels_) == [1, 2]
        wek.send("/wek/inputs", *row)
        (values,) = _wek_outputs(wek.rx, 1)
        if known:
            after.append(values)
        elif after:
            raise AssertionError("the model went back to gesture 1 alone")
        if len(after) >= 10:
            break
    # every frame answered, none with +inf: gesture 1's distance alone until the new model
    # is in (on a loaded machine it may come before the tenth), then both
    assert len(window) == 10 and all(np.isfinite(v).all() for v in window), window
    widths = [len(v) for v in window]
    assert widths == sorted(widths) and set(widths) <= {1, 2}, window
    assert len(after) >= 10, "the new model never came"
    assert all(len(v) == 2 and np.isfinite(v).all() for v in after), after
    assert engine.running and engine.stats()["errors"] == 0


def test_a_first_dtw_template_being_stored_sends_no_distances_until_it_is_in(tmp_path, wek_of):
    """The first gesture of a DTW project recorded, then startRunning at once: while its
    template was being stored, /wek/outputs carried +inf ("no template") for the gesture
    just recorded. Wekinator matches a take from the next frame and never says that; with no
    model to answer yet, nothing is sent until the template is in, then its distances."""
    project = Project(model={"kind": "dtw", "params": {}})
    project.save(tmp_path / "p")
    wek = wek_of(tmp_path / "p")
    engine = wek.engine
    _take_then_run(wek, 1, RISING, RISING[:10])
    sent = len(RISING) + 10
    wait_for(lambda: engine.frames_in == sent and engine.model is not None, 60)
    for row in RISING:
        wek.send("/wek/inputs", *row)
    wait_for(lambda: engine.frames_in == sent + len(RISING), 30)
    with engine._frame_lock:  # the last frame's answer sent
        pass
    got = osc_messages(wek.rx, lambda m: False, 0.5)
    outputs = [p for a, p in got if a == "/wek/outputs"]
    assert all(len(v) == 1 and np.isfinite(v).all() for v in outputs), outputs
    # every frame after the template is in answered (those before it may be too)
    assert len(RISING) <= len(outputs) <= len(RISING) + 10
    assert "/output_1" in [a for a, _ in got]  # the gesture performed matches
    assert engine.running and engine.stats()["errors"] == 0
