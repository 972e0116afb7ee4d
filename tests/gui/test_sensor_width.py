"""A sensor whose width changes mid-session (an app's extra channel switched on): the window's
sensor line says why its frames are refused, not only how many (Qt offscreen, the engine in a
process of its own, frames over loopback OSC)."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from gesturemap.project import Project
from tests.stage_helpers import float_msg, free_port

from .windows import open_window

pytestmark = pytest.mark.timeout(120)


def test_the_sensor_line_says_why_frames_are_refused_while_they_are(qtbot, tmp_path):
    port = free_port()
    project = Project("width", model={"kind": "gmm", "params": {"gaussians": 1}},
                      input_names=["x", "y", "z"])
    project.sensor = {"transport": "osc", "host": "127.0.0.1", "port": port}
    window = open_window(qtbot, project, tmp_path / "p", audio=False)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send(width: int) -> bool:
        sender.sendto(float_msg("/wek/inputs", *np.full(width, 0.5)), ("127.0.0.1", port))
        return False

    try:
        # frames of the project's width until the engine has them (its sensor is open)
        qtbot.waitUntil(lambda: send(3) or window.engine.frames_in > 0, timeout=60000)
        assert " — " not in window.sensor_status.text()
        frames = window.engine.frames_in
        qtbot.waitUntil(lambda: send(5) or "refused a frame" in window.sensor_status.text(),
                        timeout=30000)
        line = window.sensor_status.text()
        assert "— wekinator: refused a frame of 5 values; expected 3" in line, line
        frames = window.engine.frames_in  # (the last of width 3 may have come meanwhile)
        # the sensor back to its width: the line no longer says it once a look finds no new
        # refusal
        qtbot.waitUntil(lambda: send(3) or (window.engine.frames_in > frames
                                            and " — " not in window.sensor_status.text()),
                        timeout=30000)
    finally:
        sender.close()
