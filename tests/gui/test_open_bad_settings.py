"""The window's Open on a project.json edited by hand with a wrong type: the message names the
file and the entry, and the project open before stays open (Qt offscreen)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6 import QtWidgets

from gesturemap.gui.window import MainWindow
from gesturemap.project import PROJECT_FILE, Project

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("engine", ["thread", "process"])
def test_open_says_which_setting_is_wrong_and_keeps_the_open_project(qtbot, tmp_path,
                                                                     monkeypatch, engine):
    first, bad = tmp_path / "first", tmp_path / "bad"
    for folder in (first, bad):
        project = Project(classes=["a"])
        project.add_take(np.zeros((20, 2)), "a")
        project.save(folder)
    path = bad / PROJECT_FILE
    document = json.loads(path.read_text())
    document["outputs"] = {"scales": 3}
    path.write_text(json.dumps(document))
    before = path.read_bytes()
    window = MainWindow(Project.load(first), first, osc_in=None, trainer="thread",
                        engine=engine, audio=False)
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.show()
    shown = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning",
                        staticmethod(lambda parent, title, text: shown.append((title, text))))
    try:
        running = window.engine
        assert window.open_folder(bad) is False
        assert [title for title, _ in shown] == ["Cannot open"]
        assert str(path) in shown[0][1] and "outputs.scales: got 3; expected a list" in shown[0][1]
        assert window.folder == first and window.engine is running
    finally:
        window.close()
    assert path.read_bytes() == before
