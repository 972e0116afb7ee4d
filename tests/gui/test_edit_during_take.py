"""An edit during a take (a class renamed, model settings applied), or Train now pressed
then, retrains once the take ends, never during it: the window's retrain after an edit came 150 ms later, while the take
was still being recorded, and the engine, which trains on the take so far and records on
(Wekinator's train mid-recording), cut the musician's one gesture into two takes (Qt
offscreen, the engine in a process of its own, frames over loopback OSC)."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from tests.stage_helpers import float_msg, free_port

from .windows import osc_window

pytestmark = pytest.mark.timeout(180)


@pytest.mark.parametrize("edit", ["rename", "model", "train"])
def test_an_edit_during_a_take_leaves_it_one_take(qtbot, tmp_path, edit):
    port = free_port()
    rng = np.random.default_rng(0)
    window = osc_window(qtbot, tmp_path / "p", port)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    engine = window.engine

    def send() -> bool:
        sender.sendto(float_msg("/wek/inputs", *rng.normal(size=2)), ("127.0.0.1", port))
        return False

    fired: list[int] = []
    window._retrain_timer.timeout.connect(lambda: fired.append(engine.frames_in))
    try:
        qtbot.waitUntil(lambda: send() or engine.frames_in > 0, timeout=60000)
        window.classes.setCurrentRow(0)
        window.start_recording()
        qtbot.waitUntil(lambda: send() or engine.recording, timeout=10000)
        start = engine.frames_in
        qtbot.waitUntil(lambda: send() or engine.frames_in > start + 5, timeout=10000)
        if edit == "rename":
            window.rename_class("circle", "round")
        elif edit == "model":
            window.set_model_settings({"kind": "gmm", "params": {"gaussians": 2}})
        else:
            window.train_button.click()
        # the take goes on past the edit's retrain (or, now, its first look at the take)
        qtbot.waitUntil(lambda: send() or (bool(fired) and engine.frames_in > fired[0] + 10)
                        if edit == "rename" else
                        send() or engine.trainings > 0 or len(fired) >= 2, timeout=20000)
        assert len(window.project.takes) == 4  # nothing ended the take
        window.stop_recording()
        qtbot.waitUntil(lambda: window._train_sent is None and not engine.recording
                        and len(window.project.takes) == 5, timeout=60000)
    finally:
        sender.close()
    label = "round" if edit == "rename" else "circle"
    assert [t.label for t in window.project.takes].count(label) == 3
    assert window.project.takes[-1].length >= 15  # the whole take, in one
    assert "trained in" in window.train_status.text()
    if edit == "model":
        assert window.project.model["params"]["gaussians"] == 2
