"""A class renamed in the window goes on being sent as its Wekinator number: the real window
(offscreen), its engine in a process of its own, frames in and /wek/outputs out on loopback."""

from __future__ import annotations

import contextlib
import socket

import pytest

from tests.rejection_helpers import answer
from tests.stage_helpers import float_msg, free_port, osc_messages, osc_receiver

from .windows import graded_window

pytestmark = pytest.mark.timeout(180)


@contextlib.contextmanager
def _answering_window(qtbot, folder):  # noqa: ANN001, ANN202
    """A window on the graded project whose classes keep Wekinator's numbers (high 3, low 7),
    once its engine answers frames: (window, the socket that sends to it, its port, the
    socket its answers come to)."""
    rx, port = osc_receiver(), free_port()
    window, _ = graded_window(qtbot, folder, rx, port, class_numbers={"high": 3, "low": 7})
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
        yield window, tx, port, rx
    finally:
        tx.close()
        rx.close()


def _retrained(qtbot, window) -> None:  # noqa: ANN001
    """Train, and wait until the engine runs the new model."""
    trained = window.engine.stats().get("trainings", 0)
    window.train()
    qtbot.waitUntil(lambda: window.engine.stats().get("trainings", 0) > trained,
                    timeout=60000)


def test_a_class_renamed_in_the_window_is_sent_as_the_number_it_had(qtbot, tmp_path):
    """A project whose classes keep Wekinator's numbers (high 3, low 7): renamed "up" in the
    window and trained, "high" was sent as 8 (a new class, after the highest number kept)
    until the project was opened again, where it was 3. Now it is 3 at once."""
    with _answering_window(qtbot, tmp_path / "p") as (window, tx, port, rx):
        assert answer(tx, rx, port, 1.0) == 3.0
        window.rename_class("high", "up")
        _retrained(qtbot, window)
        osc_messages(rx, lambda g: False, timeout=0.3)  # what came before the new model
        assert answer(tx, rx, port, 1.0) == 3.0
        assert answer(tx, rx, port, 0.0) == 7.0


def _record(tx, port: int, number: int, level: float) -> None:  # noqa: ANN001
    """Wekinator's way: class ``number`` selected, 40 frames at ``level`` recorded."""
    for address, *values in (("/wekinator/control/outputs", number),
                             ("/wekinator/control/startRecording",),
                             *[("/wek/inputs", level + 0.01 * (i % 5)) for i in range(40)],
                             ("/wekinator/control/stopRecording",)):
        tx.sendto(float_msg(address, *values), ("127.0.0.1", port))


def test_classes_added_in_the_window_keep_the_numbers_they_are_given(qtbot, tmp_path):
    """Classes added in the window to a project that keeps Wekinator's numbers (high 3,
    low 7): 'mid' is 8, but Wekinator's `outputs 8` was refused (the running output knew no
    8) and its frames were recorded as the class selected before; 'alpha' added next would
    have taken 8 and mid 9. Now each new class's number is the project's from the moment it
    is added, on the wire and for the control messages."""
    with _answering_window(qtbot, tmp_path / "p") as (window, tx, port, rx):
        for name, number, level in (("mid", 8, 3.0), ("alpha", 9, -2.0)):
            window.engine.command("add_class", name)
            qtbot.waitUntil(lambda n=name: n in window.project.classes, timeout=10000)
            assert window.project.outputs["class_numbers"][name] == number
            _record(tx, port, number, level)
        qtbot.waitUntil(lambda: len(window.project.takes) == 8, timeout=30000)
        assert [str(t.label) for t in window.project.takes[-2:]] == ["mid", "alpha"]
        _retrained(qtbot, window)
        osc_messages(rx, lambda g: False, timeout=0.3)  # what came before the new model
        assert answer(tx, rx, port, 3.0) == 8.0
        assert answer(tx, rx, port, -2.0) == 9.0
