"""The stage view's keys: a page-turner pedal (PageDown), F5 and Space work while the stage view
is the window in front, as they do in the main window."""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtWidgets

from gesturemap.project.default import default_project

from .windows import open_window

pytestmark = pytest.mark.timeout(120)


def _stage_in_front(qtbot, window):
    stage = window.show_stage(full_screen=False)
    stage.activateWindow()
    qtbot.waitUntil(lambda: QtWidgets.QApplication.activeWindow() is stage, timeout=5000)
    return stage


def test_a_pedal_resets_the_stream_from_the_stage_view(qtbot, tmp_path):
    """PageDown (what page-turner pedals send) and F5 in the stage view reset the model's
    stream; they reached only the main window, so a pedal on stage did nothing."""
    window = open_window(qtbot, default_project(), tmp_path / "p", engine="thread")
    qtbot.waitUntil(lambda: window.engine.frames_in > 10, timeout=10000)
    stage = _stage_in_front(qtbot, window)
    before = window.engine.resets["trigger"]
    qtbot.keyClick(stage, QtCore.Qt.Key.Key_PageDown)
    qtbot.waitUntil(lambda: window.engine.resets["trigger"] == before + 1, timeout=5000)
    qtbot.keyClick(stage, QtCore.Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.engine.resets["trigger"] == before + 2, timeout=5000)
    stage.close()


def test_space_records_from_the_stage_view(qtbot, tmp_path):
    window = open_window(qtbot, default_project(), tmp_path / "p", engine="thread")
    window.auto_train.setChecked(False)
    window.count_in.setValue(0)
    qtbot.waitUntil(lambda: window.engine.frames_in > 10, timeout=10000)
    stage = _stage_in_front(qtbot, window)
    qtbot.keyClick(stage, QtCore.Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.engine.recording, timeout=5000)
    stage.close()
