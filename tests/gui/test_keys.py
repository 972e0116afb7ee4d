"""Space records from the number boxes beside the Record button: the count-in, a take's
length and a regression target, set by typing, then Space with the hands on the sensor."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from gesturemap.project.default import default_project

from .windows import mapping_project, open_window

pytestmark = pytest.mark.timeout(120)


def _focused(qtbot, window, box) -> None:
    """``box`` has the keyboard's focus in the active window (keys reach it as typed)."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QtWidgets.QApplication.activeWindow() is window, timeout=5000)
    box.setFocus()
    qtbot.waitUntil(lambda: QtWidgets.QApplication.focusWidget() is box, timeout=5000)


def _space_records_from(qtbot, window, box) -> None:
    _focused(qtbot, window, box)
    takes = len(window.project.takes)
    qtbot.keyClick(box, QtCore.Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.engine.recording, timeout=5000)
    frames = window.engine.frames_in
    qtbot.waitUntil(lambda: window.engine.frames_in >= frames + 12, timeout=5000)
    qtbot.keyClick(box, QtCore.Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: len(window.project.takes) == takes + 1, timeout=10000)


def test_space_records_from_the_count_in_and_take_length_boxes(qtbot, tmp_path):
    """A count-in or a take length just typed kept the focus, and Space went into the box as
    text: nothing was recorded."""
    window = open_window(qtbot, default_project(), tmp_path / "p", engine="thread")
    window.auto_train.setChecked(False)
    qtbot.waitUntil(lambda: window.engine.frames_in > 10, timeout=10000)
    for box in (window.count_in, window.take_length):
        _focused(qtbot, window, box)
        qtbot.keyClick(box, QtCore.Qt.Key.Key_A, QtCore.Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(box, "0")  # typed: no count-in, takes until stopped
        _space_records_from(qtbot, window, box)
    assert [t.label for t in window.project.takes] == ["circle", "circle"]


def test_space_records_from_a_target_box_with_the_target_typed(qtbot, tmp_path):
    window = open_window(qtbot, mapping_project("pitch"), tmp_path / "mapping", engine="thread")
    window.auto_train.setChecked(False)
    qtbot.waitUntil(lambda: window.targets.names == ["pitch"], timeout=10000)
    qtbot.waitUntil(lambda: window.engine.frames_in > 10, timeout=10000)
    box = window.targets.boxes[0]
    _focused(qtbot, window, box)
    qtbot.keyClick(box, QtCore.Qt.Key.Key_A, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(box, "0.75")
    _space_records_from(qtbot, window, box)
    (take,) = window.project.takes
    np.testing.assert_allclose(take.outputs, 0.75)


def test_redo_and_quit_answer_every_key_of_the_platform(qtbot, tmp_path):
    """Redo kept only the platform's first binding (Ctrl+Y on Linux: Ctrl+Shift+Z did
    nothing), and Quit had no key where the platform names none."""
    window = open_window(qtbot, default_project(), tmp_path / "p", engine="thread",
                         audio=False)
    window.rename_class("circle", "round")
    qtbot.waitUntil(lambda: "round" in [str(c) for c in window.project.classes], timeout=5000)
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: "circle" in [str(c) for c in window.project.classes], timeout=5000)
    window.activateWindow()
    qtbot.waitUntil(lambda: QtWidgets.QApplication.activeWindow() is window, timeout=5000)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier
                   | QtCore.Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: "round" in [str(c) for c in window.project.classes], timeout=5000)
    quit_keys = [a.shortcuts() for a in window.menuBar().actions()[0].menu().actions()
                 if a.text() == "&Quit"]
    assert quit_keys and quit_keys[0], "Quit has no key"
