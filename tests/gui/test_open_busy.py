"""The window's Open refuses a project another gesturemap process is writing, saying which,
before it closes the project it has (Qt offscreen, a real second process holding the lock)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PySide6 import QtWidgets

from gesturemap.gui.window import MainWindow
from gesturemap.project import Project

from ..project.test_project_lock import HOLD

pytestmark = pytest.mark.timeout(120)

def _window(qtbot, folder, mode="thread") -> MainWindow:
    window = MainWindow(Project.load(folder), folder, osc_in=None, trainer="thread",
                        engine=mode, audio=False)
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.show()
    return window


def test_open_refuses_a_busy_project_and_keeps_the_open_one(qtbot, tmp_path, monkeypatch,
                                                            repo_dir):
    first, busy = tmp_path / "first", tmp_path / "busy"
    for folder in (first, busy):
        project = Project(classes=["a"])
        project.add_take(np.zeros((20, 2)), "a")
        project.save(folder)
    window = _window(qtbot, first)
    shown = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning",
                        staticmethod(lambda parent, title, text: shown.append((title, text))))
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(busy)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=repo_dir)
    try:
        assert holder.stdout.readline().strip() == "held"
        engine = window.engine
        assert window.open_folder(busy) is False
        assert len(shown) == 1 and shown[0][0] == "Cannot open"
        assert "another gesturemap process" in shown[0][1] and f"pid {holder.pid}" in shown[0][1]
        assert window.folder == first and window.engine is engine  # the open one kept
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert window.open_folder(busy) is True  # free again: it opens
    assert window.folder == busy
    window.close()


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_save_as_moves_the_lock_to_the_new_folder(qtbot, tmp_path, repo_dir, mode):
    from ..project.test_project_lock import _probe

    first, second = tmp_path / "first", tmp_path / "second"
    project = Project(classes=["a"])
    project.add_take(np.zeros((20, 2)), "a")
    project.save(first)
    window = _window(qtbot, first, mode)
    try:
        assert _probe(first, repo_dir) == "busy"  # the running engine holds its folder
        assert window.save_to(second) is True
        assert _probe(second, repo_dir) == "busy" and _probe(first, repo_dir) == "free"
    finally:
        window.close()
    assert _probe(second, repo_dir) == "free"  # closed: nothing held
