"""Wekinator's per-output switches over real loopback UDP, beyond the protocol's own tests
(tests/interop/wekinator/test_stage.py): what the performer switched stays switched when a
scene is recalled."""

from __future__ import annotations

import socket

import pytest

from gesturemap.project import Project
from tests.live.test_scenes import _regression_model
from tests.stage_helpers import (
    float_msg,
    loopback_engine,
    osc_message,
    osc_messages,
    osc_receiver,
    wait_for,
)

pytestmark = pytest.mark.timeout(180)


def _two_scenes(folder):  # noqa: ANN001, ANN202
    """Scene "verse" (level 0.2) and "chorus" (level 0.8, with gesturemap's own messages on:
    other output settings, so another output to send on), verse playing, no fade."""
    project = Project("scenes", model={"kind": "gmm", "params": {"gaussians": 1}},
                      output_names=["level"])
    project.input_dim = 2
    project.trained = _regression_model(0.2, 1)
    project.save_scene("verse")
    project.trained, project.outputs = _regression_model(0.8, 2), {"extras": True}
    project.save_scene("chorus")
    project.recall_scene("verse")
    project.scene_fade_s = 0.0
    project.save(folder)
    return folder


def test_a_held_output_stays_held_when_a_scene_is_recalled(tmp_path):
    """disableModelRunning 1 froze the level at the verse's 0.2; recalling the chorus (its
    own output settings) let it jump to 0.8: the performer's freeze was lost."""
    rx = osc_receiver()
    engine = loopback_engine(_two_scenes(tmp_path / "p"), rx)
    to = ("127.0.0.1", engine.osc_port)

    def level() -> float:
        sent = engine.frames_out
        tx.sendto(float_msg("/wek/inputs", 0.1, -0.2), to)
        wait_for(lambda: engine.frames_out == sent + 1, 30)
        got = osc_messages(rx, lambda m: any(a == "/wek/outputs" for a, _ in m))
        return [p for a, p in got if a == "/wek/outputs"][-1][0]

    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        wait_for(lambda: engine.scenes.ready, 60)
        assert level() == pytest.approx(0.2, abs=0.05)
        tx.sendto(osc_message("/wekinator/control/disableModelRunning", 1), to)
        tx.sendto(osc_message("/gesturemap/scene", "chorus"), to)
        wait_for(lambda: engine.model is engine.project.scene("chorus").trained, 30)
        assert level() == pytest.approx(0.2, abs=0.05)  # held through the recall
        tx.sendto(osc_message("/wekinator/control/enableModelRunning", 1), to)
        wait_for(lambda: engine.output.held is None, 30)
        assert level() == pytest.approx(0.8, abs=0.05)  # the chorus's model, followed again
        tx.sendto(osc_message("/gesturemap/scene", "verse"), to)
        wait_for(lambda: engine.model is engine.project.scene("verse").trained, 30)
        assert level() == pytest.approx(0.2, abs=0.05)  # nothing held left behind
    finally:
        engine.stop()
        tx.close()
        rx.close()
    assert engine.errors == 0 and engine.refused_commands == 0
