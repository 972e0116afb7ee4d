"""Control messages a confused or misconfigured controller sends, over loopback OSC to a real
engine: each is refused on arrival (counted, said, never an error) and nothing already there
is lost — no stray DTW gesture number that makes every reply too large to send, no regression
target that loses the next take or poisons training, no blob read as a number, no extra
argument counted as gesturemap's fault, no request that piles up work."""

from __future__ import annotations

import logging
import socket
import time

import numpy as np
import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

from gesturemap.errors import GesturemapError
from gesturemap.live.engine import Engine
from gesturemap.project import Project
from tests.stage_helpers import wait_for

pytestmark = pytest.mark.timeout(120)

W = "/wekinator/control/"


def _msg(address: str, *values: object) -> bytes:
    b = OscMessageBuilder(address)
    for v in values:  # a float beyond float32's range goes as a double, as Max can send it
        b.add_arg(v, "d" if isinstance(v, float) and abs(v) > 3e38 else None)
    return b.build().dgram


def _wait(condition, timeout: float = 20.0) -> None:  # noqa: ANN001
    wait_for(condition, timeout)


@pytest.fixture
def wire():
    made = []

    def start(project: Project):
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(2.0)
        engine = Engine(project, osc_in=("127.0.0.1", 0),
                        osc_out=("127.0.0.1", rx.getsockname()[1]), trainer="thread").start()
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        made.append((engine, tx, rx))

        def send(address, *values):
            tx.sendto(_msg(address, *values), ("127.0.0.1", engine.osc_port))
        return engine, send, rx

    yield start
    for engine, tx, rx in made:
        engine.stop()
        tx.close()
        rx.close()


def _refusals(engine: Engine, name: str) -> int:
    return int(engine.refused.get(name, [0, ""])[0])


def _dtw_project() -> Project:
    project = Project("dtw", model={"kind": "dtw", "params": {}})
    rng = np.random.default_rng(0)
    for label in (1, 2, 1, 2):
        project.add_take(rng.normal(size=(30, 2)) + 3 * label, label)
    return project


def _wek_outputs(rx: socket.socket) -> int:
    """The number of values of the next /wek/outputs the engine sends."""
    from pythonosc.osc_message import OscMessage

    while True:
        message = OscMessage(rx.recv(65536))
        if message.address == "/wek/outputs":
            return len(message.params)


def test_a_stray_dtw_gesture_number_is_refused_and_the_replies_keep_their_size(wire):
    engine, send, rx = wire(_dtw_project())
    send(W + "startRunning")
    _wait(lambda: engine.running and engine.model is not None)
    send("/wek/inputs", 0.0, 0.0)
    assert _wek_outputs(rx) == 2  # one distance per gesture
    for number in (20000, 0, -1, 1001, 2.5):
        refused = _refusals(engine, "start_numbered")
        send(W + "startDtwRecording", number)
        _wait(lambda r=refused: _refusals(engine, "start_numbered") == r + 1)
        assert not engine.recording
    for _ in range(10):
        send("/wek/inputs", 0.0, 0.0)
    send(W + "stopDtwRecording")
    send("/wek/inputs", 0.0, 0.0)
    assert _wek_outputs(rx) == 2
    assert sorted({t.label for t in engine.project.takes}) == [1, 2]
    assert engine.errors == 0 and engine.stats()["output_send_errors"] == 0


def _regression_project() -> Project:
    project = Project("reg", model={"kind": "mlp", "params": {"hidden": 4}},
                      output_names=["pitch", "level"])
    rng = np.random.default_rng(1)
    for level in (0.2, 0.8):
        project.add_take(rng.normal(size=(30, 2)) + level, "take",
                         outputs=np.tile([level, 1 - level], (30, 1)))
    return project


def test_regression_targets_of_the_wrong_size_or_absurd_are_refused_and_the_next_take_kept(
        wire):
    engine, send, _ = wire(_regression_project())
    send(W + "outputs", 0.3, 0.7)
    good = np.float32([0.3, 0.7])  # OSC floats are 32-bit
    _wait(lambda: np.array_equal(engine.current_outputs, good))
    for bad in ((0.5,), (0.1, 0.2, 0.3), (1e300, 1.0), (b"1", 1.0)):
        refused = _refusals(engine, "set_outputs")
        send(W + "outputs", *bad)
        _wait(lambda r=refused: _refusals(engine, "set_outputs") == r + 1)
    assert np.array_equal(engine.current_outputs, good)  # the last good targets stay
    takes = len(engine.project.takes)
    send(W + "startRecording")
    for i in range(30):
        send("/wek/inputs", 0.01 * i, 0.5)
    _wait(lambda: engine.frames_in >= 30)
    send(W + "stopRecording")
    _wait(lambda: len(engine.project.takes) == takes + 1)
    np.testing.assert_array_equal(engine.project.takes[-1].outputs, np.tile(good, (30, 1)))
    send(W + "train")
    _wait(lambda: engine.trainings == 1, timeout=60)
    assert engine.errors == 0 and engine.training_failed is None


def test_training_on_targets_too_large_is_refused_not_saved():
    """Targets whose squares overflow (1e300, from a file or the Python API) give no model
    that could be loaded: the training says so instead of returning it."""
    import gesturemap as gm

    project = _regression_project()
    project.add_take(np.zeros((30, 2)), "take", outputs=np.tile([1e300, 1.0], (30, 1)))
    with pytest.raises(GesturemapError, match="too large"):
        project.train()
    assert project.trained is None
    with pytest.raises(GesturemapError, match="non-finite"):
        gm.MLP(hidden=4).fit(project.dataset())


def test_class_numbers_outside_wekinators_and_blobs_are_refused(wire):
    project = Project("classes", model={"kind": "gmm", "params": {}})
    rng = np.random.default_rng(2)
    for label in (1, 2, 1, 2):
        project.add_take(rng.normal(size=(30, 2)) + 3 * label, label)
    engine, send, _ = wire(project)
    send(W + "outputs", 2)
    _wait(lambda: engine.current_label == 2)
    for bad in (0, -3, 1e300, 2.5, b"1"):
        refused = _refusals(engine, "set_outputs")
        send(W + "outputs", bad)
        _wait(lambda r=refused: _refusals(engine, "set_outputs") == r + 1)
    assert engine.current_label == 2
    # a blob is no class number: nothing is deleted
    send(W + "deleteExamplesForOutput", b"1")
    _wait(lambda: _refusals(engine, "delete_for_output") == 1)
    assert len(engine.project.takes) == 4
    assert engine.errors == 0


def test_extra_arguments_and_unknown_verbs_are_refusals_not_errors(wire):
    project = Project("spot", model={"kind": "gmm", "params": {}})
    rng = np.random.default_rng(3)
    for label in ("a", "b", "a", "b"):
        project.add_take(rng.normal(size=(30, 2)) + (3 if label == "b" else 0), label)
    engine, send, _ = wire(project)
    send("/gesturemap/correct", 2, "x", 3)
    _wait(lambda: _refusals(engine, "correct") == 1)
    assert "argument" in engine.refused["correct"][1]
    send("/gesturemap/costs", "a", 1.0, 1.0, 1.0)
    _wait(lambda: _refusals(engine, "costs") == 1)
    for verb in ("selectInputsForOutput", "enablePerformanceMode", "foo"):
        send(W + verb, 1)
    _wait(lambda: _refusals(engine, "control") == 3)
    assert "selectInputsForOutput" not in engine.refused["control"][1]  # the last one's
    assert "foo" in engine.refused["control"][1]
    assert engine.errors == 0


def test_repeated_suggest_requests_are_answered_by_the_one_under_way(wire, monkeypatch):
    from gesturemap.live import engine as engine_module

    project = Project("next", model={"kind": "gmm", "params": {}})
    rng = np.random.default_rng(4)
    for label in ("a", "b", "a", "b", "a"):
        project.add_take(rng.normal(size=(30, 2)) + (3 if label == "b" else 0), label)
    engine, send, _ = wire(project)
    asked = []
    real = engine.trainer.suggest_project

    def counted(*args, **kwargs):  # noqa: ANN202
        asked.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine.trainer, "suggest_project", counted)
    for _ in range(50):
        send("/gesturemap/suggest")
    _wait(lambda: engine.last_suggestion is not None, timeout=60)
    time.sleep(0.3)
    assert len(asked) == 1
    assert engine.last_suggestion[0] in ("a", "b")
    send("/gesturemap/suggest")  # answered: the next request is worked out again
    _wait(lambda: len(asked) == 2, timeout=30)
    assert engine_module.SUGGEST_WAIT_S >= 10 and engine.errors == 0


def test_a_refused_packets_log_line_is_bounded(wire, caplog):
    project = Project("log", model={"kind": "gmm", "params": {}})
    project.input_dim = 2
    engine, send, _ = wire(project)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with caplog.at_level(logging.WARNING, logger="gesturemap"):
            # 16,000 type tags and 8 bytes of arguments: refused, its type tags quoted
            tags = b"," + b"f" * 16000
            packet = b"/wek/inputs\0" + tags + b"\0" * (4 - len(tags) % 4) + b"\0" * 8
            tx.sendto(packet, ("127.0.0.1", engine.osc_port))
            _wait(lambda: any("refused an OSC packet" in r.getMessage()
                              for r in caplog.records))
    finally:
        tx.close()
    line = next(r.getMessage() for r in caplog.records
                if "refused an OSC packet" in r.getMessage())
    assert len(line) < 1000
