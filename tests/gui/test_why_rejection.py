"""The "why?" strip agrees with the rejection: on frames /wek/outputs sends as class 0 (the
monitor's "unknown") it says the likeliest class was below the threshold, with the numbers,
instead of explaining a decision for that class. A real engine (its own process) hears frames
over loopback OSC and answers on loopback; the window is offscreen."""

from __future__ import annotations

import socket

import pytest

from tests.rejection_helpers import answer, input_for
from tests.stage_helpers import free_port, osc_receiver

from .windows import graded_window

pytestmark = pytest.mark.timeout(300)


def _keep_sending(qtbot, tx, rx, port, x, condition) -> list[float]:  # noqa: ANN001
    """Send frame ``x`` (and read its /wek/outputs class) until ``condition()``: the strip is
    explained from the latest frames, twice a second."""
    sent: list[float] = []

    def step() -> bool:
        sent.append(answer(tx, rx, port, x))
        qtbot.wait(20)
        return condition()

    qtbot.waitUntil(step, timeout=120000)
    return sent


def test_the_why_strip_says_unknown_on_the_frames_osc_sends_as_class_0(qtbot, tmp_path):
    rx = osc_receiver()
    port = free_port()
    window, model = graded_window(qtbot, tmp_path / "graded", rx, port, reject_below=0.8)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    why = window.why.text
    try:
        qtbot.waitUntil(lambda: window.quality.report is not None, timeout=120000)
        unsure, sure = input_for(model, 0.7), input_for(model, 0.97)
        sent = _keep_sending(qtbot, tx, rx, port, sure, lambda: " over " in why.text())
        assert sent[-1] == 1.0 and why.text().startswith("why? high over low")
        sent = _keep_sending(qtbot, tx, rx, port, unsure, lambda: window.monitor.rejected
                             and "unknown" in why.text())
        assert sent[-1] == 0.0  # what OSC sent for it: none of the classes
        assert why.text().startswith(
            "why? unknown: the likeliest class, high, has likelihood 0.70, below the "
            "rejection threshold 0.80"), why.text()
        sent = _keep_sending(qtbot, tx, rx, port, sure, lambda: "unknown" not in why.text())
        assert sent[-1] == 1.0 and why.text().startswith("why? high over low")
    finally:
        tx.close()
        rx.close()
        window.close()
