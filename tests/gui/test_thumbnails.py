"""The Dataset tab's thumbnail thread at the window's close: closing while a project of many
long takes is still being drawn ends the thread before the window's objects go, and nothing
reaches a deleted Qt object (a real window offscreen, its engine on a thread)."""

from __future__ import annotations

import threading

import pytest
from PySide6 import QtCore, QtWidgets

from gesturemap.gui.window import MainWindow
from gesturemap.project import Project

from .test_open_drawing import long_takes_project

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]


def drawing_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "gesturemap-thumbnails"]


def test_closing_the_window_while_thumbnails_are_drawn_ends_their_thread(
        qtbot, tmp_path, monkeypatch, capfd):
    folder = tmp_path / "big"
    long_takes_project(folder)
    raised: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: raised.append(args.exc_value))
    warned: list[str] = []
    previous = QtCore.qInstallMessageHandler(lambda kind, context, text: warned.append(text))
    try:
        window = MainWindow(Project.load(folder), folder, osc_in=None, trainer="thread",
                            engine="thread", audio=False)
        window._ask_save = lambda: "discard"
        window.show()
        window.refresh()
        assert window.dataset.thumbnails_pending > 0 and drawing_threads()  # still drawing
        window.close()
        assert not drawing_threads(), "the thumbnail thread ran on past the window's close"
        window.deleteLater()
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
        QtWidgets.QApplication.processEvents()
    finally:
        QtCore.qInstallMessageHandler(previous)
    assert not raised
    said = capfd.readouterr().err
    assert "already deleted" not in said and "Traceback" not in said, said
    assert not [w for w in warned if "deleted" in w or "thread" in w.lower()], warned
