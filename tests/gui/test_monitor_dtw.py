"""A DTW project's monitor shows what DTW sends, as Wekinator's DTW does: the gesture whose
match message went out, or "no match" while none matches (whatever the likelihoods and the
project's rejection threshold say), and no rejection threshold to set. A real engine (its own
process) hears frames over loopback OSC and answers on loopback; the window is offscreen."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from gesturemap.gui.monitor import Monitor
from gesturemap.gui.panels import OutputsPanel
from gesturemap.gui.window import MainWindow
from gesturemap.project import Project
from tests.rejection_helpers import dtw_project
from tests.stage_helpers import float_msg, free_port, osc_messages, osc_receiver

pytestmark = pytest.mark.timeout(300)


def _dtw_project(reply_port: int, port: int) -> Project:
    """DTW on one input: "up" a ramp 0 -> 1, "down" 1 -> 0; rejecting below 0.95."""
    project = dtw_project(port=reply_port, reject_below=0.95)
    project.sensor = {"transport": "osc", "host": "127.0.0.1", "port": port}
    return project


def _perform(window, tx, rx, port: int, frames) -> list:  # noqa: ANN001
    """A gesture from a reset: its frames one by one, each answered; what came back."""
    window.engine_command("reset")
    got = []
    for x in frames:
        tx.sendto(float_msg("/wek/inputs", float(x)), ("127.0.0.1", port))
        got += osc_messages(rx, lambda g: any(a == "/wek/outputs" for a, _ in g), timeout=20)
    return got


def test_the_monitor_shows_the_dtw_match_not_the_likeliest_class(qtbot, tmp_path):
    rx, port = osc_receiver(), free_port()
    project = _dtw_project(rx.getsockname()[1], port)
    folder = tmp_path / "dtw"
    project.save(folder)
    # at rest on 1.0: "down" is likeliest (0.97, above the threshold), but nothing matches
    s = project.trained.stream()
    rest = [s.step(np.array([1.0])) for _ in range(30)][-1]
    assert rest.match is None and rest.label == "down" and max(rest.likelihoods) > 0.95
    window = MainWindow(Project.load(folder), folder, osc_in=None, trainer="thread")
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.show()
    # no rejection slider (it would change nothing DTW sends): a line says where DTW's
    # threshold is set instead
    qtbot.waitUntil(lambda: window.monitor.dtw_note.isVisible(), timeout=10000)
    assert not window.monitor.threshold_slider.isVisible()
    assert "Model tab" in window.monitor.dtw_note.text()
    # the Outputs tab's "send class 0 below", the same setting, is greyed out and says why
    assert not window.outputs_panel.reject.isEnabled()
    assert "Model tab" in window.outputs_panel.reject.toolTip()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _ in range(200):  # the sensor opens on the engine's I/O thread
            tx.sendto(float_msg("/wek/inputs", 0.5), ("127.0.0.1", port))
            if osc_messages(rx, lambda g: bool(g), timeout=0.1):
                break
        else:
            pytest.fail("the engine never answered a frame")
        got = _perform(window, tx, rx, port, np.full(30, 1.0))
        outputs = [v for a, v in got if a == "/wek/outputs"]
        assert all(len(v) == 2 and 0.0 not in v for v in outputs)  # distances, never class 0
        assert not [a for a, _ in got if a.startswith("/output_")]  # no match message
        qtbot.waitUntil(lambda: "no match" in window.monitor.big.text(), timeout=10000)
        assert "down" in window.monitor.caption.text()
        got = _perform(window, tx, rx, port, np.linspace(0, 1, 30))
        matched = [a for a, _ in got if a.startswith("/output_")]
        assert matched, got  # "up" matched: its message went out
        qtbot.waitUntil(lambda: window.monitor.big.text() == "up", timeout=10000)
        assert not window.monitor.rejected
    finally:
        tx.close()
        rx.close()
        window.close()


def test_the_rejection_threshold_comes_back_when_the_model_is_no_longer_dtw(qtbot):
    monitor, panel = Monitor(threshold_control=True), OutputsPanel(lambda s: None)
    qtbot.addWidget(monitor)
    qtbot.addWidget(panel)
    tip = panel.reject.toolTip()
    for dtw in (True, False):
        monitor.set_dtw(dtw)
        panel.set_dtw(dtw)
        assert monitor.threshold_row.isHidden() == dtw
        assert monitor.dtw_note.isHidden() != dtw
        assert panel.reject.isEnabled() != dtw
    assert panel.reject.toolTip() == tip
