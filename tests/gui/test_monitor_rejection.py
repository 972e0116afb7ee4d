"""One rejection decision: the window's monitor and the stage view show the likeliest class as
unknown exactly on the frames whose /wek/outputs is class 0, with the threshold set by the
slider under the monitor (the project's ``outputs.reject_below``, which the Outputs tab shows).

A real engine (a process of its own, as the window runs it) hears frames over loopback OSC and
answers on loopback; the window is offscreen.
"""

from __future__ import annotations

import socket

import numpy as np
import pytest

from gesturemap.project import Project
from tests.rejection_helpers import answer, input_for, likelihoods
from tests.stage_helpers import float_msg, free_port, osc_messages, osc_receiver

from .windows import graded_window

pytestmark = pytest.mark.timeout(180)


def test_the_monitor_and_stage_view_show_unknown_exactly_when_osc_sends_class_0(
    qtbot, tmp_path
):
    rx = osc_receiver()
    port = free_port()
    folder = tmp_path / "graded"
    window, model = graded_window(qtbot, folder, rx, port)
    stage = window.show_stage(full_screen=False)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # the sensor opens on the engine's I/O thread: a frame is sent until one is answered
        first = input_for(model, 0.99)
        for _ in range(200):
            tx.sendto(float_msg("/wek/inputs", first), ("127.0.0.1", port))
            if osc_messages(rx, lambda g: bool(g), timeout=0.1):
                break
        else:
            pytest.fail("the engine never answered a frame")

        # the slider under the monitor sets the one threshold: the outputs and the Outputs tab
        window.monitor.threshold_slider.setValue(80)
        qtbot.waitUntil(
            lambda: (window.project.outputs or {}).get("reject_below") == 0.8, timeout=10000
        )
        assert window.outputs_panel.reject.value() == pytest.approx(0.8)
        assert window.outputs_panel.settings()["reject_below"] == pytest.approx(0.8)
        qtbot.waitUntil(lambda: stage.monitor.threshold == 0.8, timeout=5000)
        # drain what came before the threshold
        osc_messages(rx, lambda g: False, timeout=0.3)

        seen = []
        # p("high"): accepted, rejected, accepted, then "low" likeliest rejected and accepted,
        # then "high" rejected right after an accepted frame (no smoothing carries it over)
        for p_high in (0.99, 0.7, 0.85, 0.3, 0.05, 0.6, 0.97, 0.75):
            x = input_for(model, p_high)
            expected = likelihoods(model, x)
            sent = answer(tx, rx, port, x)
            for monitor in (window.monitor, stage.monitor):
                qtbot.waitUntil(
                    lambda m=monitor, e=expected: m.result is not None
                    and np.allclose(m.likelihoods, e, atol=1e-6),
                    timeout=10000,
                )
                # what the performer sees is what /wek/outputs sent for that frame
                assert monitor.rejected == (sent == 0.0), (p_high, sent)
                assert ("unknown" in monitor.big.text()) == (sent == 0.0), monitor.big.text()
            seen.append(sent)
        # Wekinator's numbers: 1 is "high", 2 is "low"; 0 none of them
        assert seen == [1.0, 0.0, 1.0, 0.0, 2.0, 0.0, 1.0, 0.0]
        assert "below 0.80" in window.monitor.caption.text()
    finally:
        tx.close()
        rx.close()
        stage.close()
        window.close()
    # saved with the project, where `gesturemap run` reads it
    assert Project.load(folder).outputs["reject_below"] == 0.8
