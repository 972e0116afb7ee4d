"""A class renamed in the window goes on being sent as its Wekinator number: the real window
(offscreen), its engine in a process of its own, frames in and /wek/outputs out on loopback."""

from __future__ import annotations

import socket

import pytest

from tests.rejection_helpers import answer
from tests.stage_helpers import float_msg, free_port, osc_messages, osc_receiver

from .windows import graded_window

pytestmark = pytest.mark.timeout(180)


def test_a_class_renamed_in_the_window_is_sent_as_the_number_it_had(qtbot, tmp_path):
    """A project whose classes keep Wekinator's numbers (high 3, low 7): renamed "up" in the
    window and trained, "high" was sent as 8 (a new class, after the highest number kept)
    until the project was opened again, where it was 3. Now it is 3 at once."""
    rx, port = osc_receiver(), free_port()
    window, _ = graded_window(qtbot, tmp_path / "p", rx, port,
                              class_numbers={"high": 3, "low": 7})
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # the sensor opens on the engine's I/O thread: a frame is sent until one is answered
        for _ in range(200):
            tx.sendto(float_msg("/wek/inputs", 1.0), ("127.0.0.1", port))
            if osc_messages(rx, lambda g: bool(g), timeout=0.1):
                break
        else:
            pytest.fail("the engine never answered a frame")
        osc_messages(rx, lambda g: False, timeout=0.3)  # the answers to those frames
        assert answer(tx, rx, port, 1.0) == 3.0
        trained = window.engine.stats().get("trainings", 0)
        window.rename_class("high", "up")
        window.train()
        qtbot.waitUntil(lambda: window.engine.stats().get("trainings", 0) > trained,
                        timeout=60000)
        osc_messages(rx, lambda g: False, timeout=0.3)  # what came before the new model
        assert answer(tx, rx, port, 1.0) == 3.0
        assert answer(tx, rx, port, 0.0) == 7.0
    finally:
        tx.close()
        rx.close()
