"""Wekinator's per-output switches over real loopback UDP, beyond the protocol's own tests
(tests/interop/wekinator/test_stage.py): what the performer switched stays switched when a
scene is recalled."""

from __future__ import annotations

import json
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


def _two_outputs(folder):  # noqa: ANN001, ANN202
    """A trained regression of outputs "a" and "b": both near 0.2 at x=0, near 0.8 at x=1."""
    import numpy as np

    project = Project("switches", model={"kind": "gmm", "params": {"gaussians": 2}},
                      output_names=["a", "b"])
    rng = np.random.default_rng(6)
    for level, x in ((0.2, 0.0), (0.8, 1.0)):
        for _ in range(2):
            project.add_take(x + 0.02 * rng.standard_normal((40, 2)), "take",
                             outputs=np.full((40, 2), level))
    project.train()
    project.save(folder)
    return folder


def _saved(folder) -> dict:  # noqa: ANN001
    """The switches in the project's file, as written ({} for none)."""
    return json.loads((folder / "project.json").read_text()).get("switches") or {}


class _Client:
    """A Wekinator client of an engine over loopback: sends, reads /wek/outputs."""

    def __init__(self, engine, rx) -> None:  # noqa: ANN001
        self.engine, self.rx = engine, rx
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.to = ("127.0.0.1", engine.osc_port)

    def control(self, verb: str, *numbers: int) -> None:
        self.tx.sendto(osc_message("/wekinator/control/" + verb, *numbers), self.to)

    def answer(self, x: float) -> tuple:
        sent = self.engine.frames_out
        self.tx.sendto(float_msg("/wek/inputs", x, x), self.to)
        wait_for(lambda: self.engine.frames_out == sent + 1, 30)
        got = osc_messages(self.rx, lambda m: any(a == "/wek/outputs" for a, _ in m))
        return tuple([p for a, p in got if a == "/wek/outputs"][-1])

    def frame(self, x: float) -> None:
        """A frame the engine reads (recording: none is answered)."""
        read = self.engine.frames_in
        self.tx.sendto(float_msg("/wek/inputs", x, x), self.to)
        wait_for(lambda: self.engine.frames_in == read + 1, 30)

    def close(self) -> None:
        self.engine.stop()
        self.tx.close()
        self.rx.close()


def test_switches_are_kept_with_the_project(tmp_path):
    """Wekinator saves each output's run and record switches with its project. Here a
    project opened again (a restart between two sets) had every output running and
    recording: the output frozen for the piece followed the gesture again."""
    folder = _two_outputs(tmp_path / "p")
    client = _Client(loopback_engine(folder, rx := osc_receiver()), rx)
    try:
        assert client.answer(0.0) == pytest.approx((0.2, 0.2), abs=0.05)
        client.control("disableModelRunning", 2)
        client.control("disableModelRecording", 1, 2)
        wait_for(lambda: _saved(folder).get("recording_off") == [1, 2], 30)
    finally:
        client.close()
    assert _saved(folder) == {"held": {"2": pytest.approx(0.2, abs=0.05)},
                              "recording_off": [1, 2]}
    client = _Client(loopback_engine(folder, rx := osc_receiver()), rx)
    try:
        a, b = client.answer(1.0)
        assert a == pytest.approx(0.8, abs=0.05) and b == pytest.approx(0.2, abs=0.05)
        takes = len(client.engine.project.takes)
        client.control("startRecording")
        for _ in range(10):
            client.frame(1.0)
        client.control("stopRecording")
        wait_for(lambda: not client.engine.recording, 30)
        assert len(client.engine.project.takes) == takes  # recording still off
        client.control("enableModelRunning", 2)
        client.control("enableModelRecording", 1, 2)
        client.control("startRunning")  # the recording stopped it
        wait_for(lambda: client.engine.output.held is None and client.engine.running, 30)
        assert client.answer(1.0) == pytest.approx((0.8, 0.8), abs=0.05)
        wait_for(lambda: _saved(folder) == {}, 30)  # all on: saved as before switches
    finally:
        client.close()


def test_a_damaged_switches_entry_names_the_file_and_the_value(tmp_path):
    """A project.json edited by hand with an output number 0: the error names the file, the
    entry and the value, and nothing is opened half-way."""
    from gesturemap.errors import FormatError

    folder = _two_outputs(tmp_path / "p")
    document = json.loads((folder / "project.json").read_text())
    document["switches"] = {"held": {"0": 0.5}}
    (folder / "project.json").write_text(json.dumps(document))
    with pytest.raises(FormatError) as error:
        Project.load(folder)
    assert "project.json" in str(error.value) and "switches.held" in str(error.value)
    assert "'0'" in str(error.value)
