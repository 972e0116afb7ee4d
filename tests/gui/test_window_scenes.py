"""The window recalls the project's scenes: Ctrl+1..Ctrl+9 and the Scenes menu, on the
window's engine process (Qt offscreen), as a program change or /gesturemap/scene does."""

from __future__ import annotations

from PySide6 import QtCore

from gesturemap.gui.window import MainWindow
from gesturemap.project import Project

from ..stage_helpers import project_with_scenes


def _current(window: MainWindow) -> str | None:
    return (window.engine.stats().get("scenes") or {}).get("current")


def _open(qtbot, tmp_path) -> MainWindow:  # noqa: ANN001
    """The window on the two-scene project, its scenes known to its engine."""
    folder = project_with_scenes(tmp_path / "piece")
    window = MainWindow(Project.load(folder), folder, osc_in=None, trainer="thread")
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.scene_names() == ["plain", "swapped"], timeout=60000)
    return window


def test_keys_and_menu_recall_scenes(qtbot, tmp_path):
    window = _open(qtbot, tmp_path)
    # a window's shortcuts answer in the active window (a busy machine may not have made it so)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=10000)
    sent: list[str] = []
    recall = window.recall_scene
    window.recall_scene = lambda which: sent.append(which) or recall(which)
    ctrl = QtCore.Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(window, QtCore.Qt.Key.Key_2, ctrl)
    assert sent == [1]  # the key reached the window's shortcut
    qtbot.waitUntil(lambda: _current(window) == "swapped", timeout=30000)
    window._fill_scenes()
    actions = [a for a in window.scenes_menu.actions() if a.isCheckable()]
    assert [a.text() for a in actions] == ["&1  plain", "&2  swapped"]
    qtbot.waitUntil(lambda: (window._fill_scenes() or True)
                    and [a.isChecked() for a in window.scenes_menu.actions()] == [False, True],
                    timeout=5000)
    window.scenes_menu.actions()[0].trigger()  # the menu's entry
    qtbot.waitUntil(lambda: _current(window) == "plain", timeout=30000)
    recalls = window.engine.stats()["scenes"]["recalls"]
    qtbot.keyClick(window, QtCore.Qt.Key.Key_5, ctrl)  # no fifth scene: nothing sent
    assert not window.recall_scene(4)
    qtbot.wait(300)
    assert window.engine.stats()["scenes"]["recalls"] == recalls
    assert window.engine.stats()["scenes"]["unknown"] == 0
    assert "no scene" in window.statusBar().currentMessage()


def test_the_menu_checks_no_scene_once_a_training_replaced_its_model(qtbot, tmp_path):
    # a model trained while a scene plays is the project's own mapping from then on: the
    # menu must not go on ticking the scene, as if its model still played
    window = _open(qtbot, tmp_path)
    assert window.recall_scene("swapped")

    def checked() -> list[bool]:
        window._fill_scenes()
        return [a.isChecked() for a in window.scenes_menu.actions() if a.isCheckable()]

    qtbot.waitUntil(lambda: checked() == [False, True], timeout=30000)
    window.engine.command("train")
    qtbot.waitUntil(lambda: (window.engine.stats()["scenes"]["playing"] is None), timeout=60000)
    assert window.engine.stats()["scenes"]["current"] == "swapped"  # recalled last, not playing
    assert checked() == [False, False]
