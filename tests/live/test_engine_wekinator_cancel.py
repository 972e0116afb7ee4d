"""Wekinator's ``cancelTrain`` with nothing to cancel, over real loopback UDP: Wekinator warns
and does nothing (no training under way; a DTW project, whose gestures are stored as they are
recorded), so a client hears nothing and loses nothing; here it is refused, and said."""

from __future__ import annotations

import numpy as np
import pytest

from gesturemap.live.engine import Engine
from gesturemap.project import Project
from tests.stage_helpers import float_msg, osc_messages, osc_receiver, wait_for

pytestmark = pytest.mark.timeout(180)

POSES = {1: (0.1, 0.1), 2: (0.9, 0.1)}
DONE = "/wekinator/status/done-training"


def _send(engine: Engine, rx, *messages: bytes) -> None:  # noqa: ANN001
    """``messages`` in one OSC bundle (one datagram), from ``rx``'s socket."""
    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
    from pythonosc.osc_message import OscMessage

    b = OscBundleBuilder(IMMEDIATELY)
    for m in messages:
        b.add_content(OscMessage(m))
    rx.sendto(b.build().dgram, ("127.0.0.1", engine.osc_port))


def _control(verb: str, *values: float) -> bytes:
    return float_msg("/wekinator/control/" + verb, *values)


def _takes(project: Project, labels: tuple[int, ...]) -> Project:
    rng = np.random.default_rng(3)
    for label in labels:
        for _ in range(2):
            project.add_take(np.array(POSES[label]) + 0.02 * rng.standard_normal((30, 2)),
                             label)
    project.train()
    return project


@pytest.fixture
def engine_of():
    made: list = []

    def start(project: Project):  # noqa: ANN202
        rx = osc_receiver()
        engine = Engine(project, osc_in=("127.0.0.1", 0),
                        osc_out=("127.0.0.1", rx.getsockname()[1]), trainer="thread").start()
        made.append((engine, rx))
        return engine, rx

    yield start
    for engine, rx in made:
        engine.stop()
        rx.close()


def test_cancel_train_with_no_training_under_way_is_refused_and_answers_nothing(engine_of):
    """Wekinator warns ("not currently training") and sends nothing. Here it was taken in
    silence: nothing counted nor said, a patch's stray cancel looked like one that worked."""
    project = _takes(Project(model={"kind": "gmm", "params": {"gaussians": 1}}), (1, 2))
    engine, rx = engine_of(project)
    model = engine.model
    _send(engine, rx, _control("cancelTrain"))
    wait_for(lambda: "wek_cancel_train" in engine.refused, 30)
    assert "no training is under way" in engine.refused["wek_cancel_train"][1]
    assert engine.model is model and engine.errors == 0
    # the client heard nothing of it; its next train is answered once, as ever
    _send(engine, rx, _control("train"))
    wait_for(lambda: engine.trainings == 1, 60)
    assert [a for a, _ in osc_messages(rx, lambda m: len(m) >= 1, 10)] == [DONE]


def test_cancel_train_in_a_dtw_project_leaves_the_gesture_just_recorded_in_use(engine_of):
    """A DTW gesture is ready as soon as it is recorded, and Wekinator's DTW ignores
    cancelTrain. Here it cancelled the storing of the gesture just recorded: the take was
    kept, but never matched (the templates in use stayed those of before)."""
    project = _takes(Project(model={"kind": "dtw", "params": {}}), (1,))
    engine, rx = engine_of(project)
    _send(engine, rx, _control("startDtwRecording", 2))
    rng = np.random.default_rng(5)
    frames = [float_msg("/wek/inputs", *(np.array(POSES[2]) + 0.02 * rng.standard_normal(2)))
              for _ in range(30)]
    for frame in frames:
        rx.sendto(frame, ("127.0.0.1", engine.osc_port))
    wait_for(lambda: engine.frames_in == 30, 30)
    # the controller's stop and a stray cancel, in one datagram: one right after the other
    _send(engine, rx, _control("stopDtwRecording"), _control("cancelTrain"))
    wait_for(lambda: sum(t.label == 2 for t in engine.project.takes) == 1, 30)
    wait_for(lambda: list(getattr(engine.model, "labels_", [])) == [1, 2], 30)
    wait_for(lambda: "wek_cancel_train" in engine.refused, 30)
    assert "DTW" in engine.refused["wek_cancel_train"][1] and engine.errors == 0
