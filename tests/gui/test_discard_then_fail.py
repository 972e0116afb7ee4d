"""An untitled project discarded for another that then fails to open stays open, as it was,
and the window says so (Qt offscreen, real engine processes, a real second process holding a
project's lock)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtWidgets

from gesturemap.errors import FormatError
from gesturemap.gui.window import MainWindow
from gesturemap.project import Project
from gesturemap.project.default import default_project

from ..project.test_project_lock import HOLD

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]


@pytest.fixture
def said(monkeypatch):
    """The warnings the window shows, as (title, text)."""
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning",
                        staticmethod(lambda parent, title, text: shown.append((title, text))))
    return shown


def untitled_with_a_take(qtbot, tmp_path) -> MainWindow:  # noqa: ANN001
    """An untitled window (its engine in a process of its own) with one take recorded, whose
    changes the person chooses to discard when asked."""
    project = default_project()
    project.add_take(np.zeros((30, 4)), project.classes[0])
    window = MainWindow(project, autosave_dir=tmp_path / "autosave", osc_in=None,
                        trainer="thread", audio=False)
    qtbot.addWidget(window)
    window.show()
    assert window.modified  # an untitled project with a take: asked about, then discarded
    window._ask_save = lambda: "discard"
    return window


def record_a_take(qtbot, window) -> None:  # noqa: ANN001
    """Record a take of 30 frames, as the pad sends them."""
    from gesturemap.sources.base import Frame

    takes = len(window.project.takes)
    window.start_recording()
    qtbot.waitUntil(lambda: window.engine.recording, timeout=30000)
    for i in range(30):
        window.engine.queue.put(Frame(time.perf_counter(), np.full(4, i / 30.0), "pad"))
    window.stop_recording()
    qtbot.waitUntil(lambda: len(window.project.takes) == takes + 1, timeout=60000)


def assert_still_open(window, takes: int = 1) -> None:  # noqa: ANN001
    """The untitled project runs on, as it was: its engine, its take, its autosave folder."""
    assert window.folder is None and window.autosave_dir is not None
    assert window.autosave_dir.is_dir() and window.engine.alive
    assert len(window.project.takes) == takes
    assert len(Project.load(window.autosave_dir).takes) == takes
    window.refresh()
    assert window.windowTitle().startswith("gesturemap — ") and "untitled" in window.windowTitle()


def test_a_folder_that_is_no_project(qtbot, tmp_path, said):
    window = untitled_with_a_take(qtbot, tmp_path)
    stray = tmp_path / "holiday photos"
    stray.mkdir()
    assert window.open_folder(stray) is False
    assert [title for title, _ in said] == ["Cannot open"]
    assert str(stray) in said[0][1] and "not a gesturemap project" in said[0][1]
    assert "untitled project is still open" in said[0][1]
    assert_still_open(window)
    record_a_take(qtbot, window)  # and it still records: the window is usable
    autosave = window.autosave_dir
    window.close()  # discarded as it closes: now it is gone
    assert not autosave.exists()


def test_a_project_another_gesturemap_has_open(qtbot, tmp_path, said, repo_dir):
    busy = tmp_path / "busy"
    Project(classes=["a"]).save(busy)
    window = untitled_with_a_take(qtbot, tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(busy)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=repo_dir)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert window.open_folder(busy) is False
        assert [title for title, _ in said] == ["Cannot open"]
        assert "another gesturemap process" in said[0][1]
        assert "untitled project is still open" in said[0][1]
        assert_still_open(window)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    # free again: it opens, and the untitled project discarded then is gone
    autosave = window.autosave_dir
    assert window.open_folder(busy) is True
    assert window.folder == busy and window.engine.alive and not autosave.exists()
    window.close()


def test_a_new_project_whose_engine_cannot_start(qtbot, tmp_path, said, monkeypatch,
                                                  repo_dir):
    """The new project is made, but another gesturemap opens it before the window's engine
    does: the untitled project comes back from its autosave folder."""
    from gesturemap.project import lock

    window = untitled_with_a_take(qtbot, tmp_path)
    fresh = tmp_path / "fresh"
    real_create = __import__("gesturemap.project.create", fromlist=["x"]).create_project
    holders = []

    def create_then_taken(folder, **settings):  # noqa: ANN001, ANN003, ANN202
        made = real_create(folder, **settings)
        holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  cwd=repo_dir)
        holders.append(holder)
        assert holder.stdout.readline().strip() == "held"
        return made

    monkeypatch.setattr("gesturemap.project.create.create_project", create_then_taken)
    monkeypatch.setattr(lock, "check_free", lambda folder: None)
    try:
        assert window.new_project(fresh, model="gmm") is False
        assert [title for title, _ in said] == ["Cannot open"]
        assert "another gesturemap process" in said[0][1]
        assert "untitled project is still open" in said[0][1]
        assert_still_open(window)
    finally:
        for holder in holders:
            holder.stdin.close()
            holder.wait(timeout=30)
    window.close()


def test_a_project_before_that_cannot_open_again_leaves_a_new_untitled_one(
        qtbot, tmp_path, said, monkeypatch, repo_dir):
    """The other project's engine cannot start, and the project before cannot be read again
    (its folder damaged meanwhile): the window runs a new untitled project, and says so."""
    import gesturemap.gui.files as files
    from gesturemap.project import lock

    from .windows import open_window

    first, busy = tmp_path / "first", tmp_path / "busy"
    Project(classes=["a"]).save(busy)
    window = open_window(qtbot, Project("first", classes=["a", "b"]), first, audio=False)
    real_load = files.load_project

    def damaged_first(folder):  # noqa: ANN001, ANN202
        if Path(folder) == first:
            raise FormatError(f"{first}/project.json is damaged: cut short.")
        return real_load(folder)

    monkeypatch.setattr(files, "load_project", damaged_first)
    monkeypatch.setattr(lock, "check_free", lambda folder: None)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(busy)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=repo_dir)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert window.open_folder(busy) is False
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert [title for title, _ in said] == ["Cannot open"]
    text = said[0][1]
    assert "another gesturemap process" in text and "could not be opened again" in text
    assert "A new untitled project is open meanwhile." in text
    assert window.folder is None and window.autosave_dir.is_dir() and window.engine.alive
    window.refresh()
    assert "untitled" in window.windowTitle()
    window.close()
