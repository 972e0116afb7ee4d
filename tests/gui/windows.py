"""Opening a main window on a saved project, for the window tests."""

from __future__ import annotations

from pathlib import Path

from gesturemap.gui.window import MainWindow
from gesturemap.project import Project


def open_window(qtbot, project: Project, folder: Path, engine: str = "process") -> MainWindow:
    """Save ``project`` into ``folder`` and show a window on it (training on a thread; the
    engine in a process of its own, or ``engine="thread"``); the window never asks to save
    when the test closes it."""
    project.save(folder)
    window = MainWindow(Project.load(folder), folder, osc_in=None, trainer="thread",
                        engine=engine)
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"  # no modal question when the test ends
    window.show()
    return window
