"""File > New…: a new project from the window, as `gesturemap new` makes one; the window then
works in it (its own engine, title, recent list)."""

from __future__ import annotations

import pytest
from PySide6 import QtGui, QtWidgets

from gesturemap.gui.new_project import EMPTY, NewProjectDialog
from gesturemap.project import Project, lock
from gesturemap.project.default import default_project

from .windows import open_window

pytestmark = pytest.mark.timeout(180)


def test_file_menu_starts_with_new(qtbot, tmp_path):
    window = open_window(qtbot, default_project(), tmp_path / "old")
    file_menu = window.menuBar().actions()[0].menu()
    first = file_menu.actions()[0]
    assert first.text() == "&New…"
    assert first.shortcut() == QtGui.QKeySequence(QtGui.QKeySequence.StandardKey.New)


def test_new_project_makes_the_folder_and_works_there(qtbot, tmp_path):
    old = tmp_path / "old"
    window = open_window(qtbot, default_project(), old)
    fresh = tmp_path / "songs" / "fresh"
    assert window.new_project(fresh, model="gmm", outputs=2)
    assert window.folder == fresh and (fresh / "project.json").is_file()
    assert window.project.model["kind"] == "gmm" and list(window.project.output_names) == ["out1", "out2"]
    assert Project.load(fresh).model["kind"] == "gmm"
    assert "fresh" in window.windowTitle() and window.recent_menu.actions()[0].text() == str(
        fresh.resolve())
    assert lock.holder(old) is None  # the old project's engine stopped, its folder freed
    assert [r["source"] for r in window.synth_panel.settings()["routes"]][:2] == [
        "output:0", "output:1"]  # its two outputs drive the synth
    # a preset: its takes and trained model come along
    assert window.new_project(tmp_path / "drums", preset="air-drums")
    assert window.project.takes and window.engine.model is not None


def test_a_folder_that_cannot_take_it_is_refused_and_the_project_kept(qtbot, tmp_path,
                                                                        monkeypatch):
    said = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning",
                        staticmethod(lambda parent, title, text: said.append(text)))
    window = open_window(qtbot, default_project(), tmp_path / "old")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    assert not window.new_project(busy)
    assert "is not empty" in said[0]
    assert window.folder == tmp_path / "old" and window.engine is not None
    assert not (busy / "project.json").exists()


def test_the_dialog_asks_what_gesturemap_new_takes(qtbot, tmp_path):
    dialog = NewProjectDialog(tmp_path)
    qtbot.addWidget(dialog)
    assert not dialog.ok_button.isEnabled()  # no folder yet
    dialog.folder.setText(str(tmp_path / "p"))
    assert dialog.ok_button.isEnabled()
    dialog.model.setCurrentText("knn")
    dialog.outputs.setValue(1)
    assert dialog.values() == {"folder": str(tmp_path / "p"), "model": "knn", "outputs": 1,
                               "inputs": None}
    dialog.start.setCurrentText("preset: air-drums")
    assert not dialog.model.isEnabled() and not dialog.outputs.isEnabled()
    assert dialog.values() == {"folder": str(tmp_path / "p"), "preset": "air-drums"}
    dialog.start.setCurrentText(EMPTY)
    assert dialog.model.isEnabled()
