"""The Synth tab shows the synth mapping in force after a scene recall, and its Apply never
sends the mapping of the scene left behind (window offscreen, the engine in its process)."""

from __future__ import annotations

import os

from gesturemap.project import Project

from ..stage_helpers import project_with_scenes
from .windows import open_window


def _scenes_on_two_mappings(folder):  # noqa: ANN001, ANN202
    """The scenes project: "plain" plays with a master gain of 0.5 and the "pad" sound,
    "swapped" with 0.25 and the "bell" sound; the project opens with "plain"'s mapping."""
    project_with_scenes(folder)
    project = Project.load(folder)
    plain = {"routes": [{"source": "likelihood:*", "target": "loudness"}],
             "parameters": {"master_gain": 0.5}, "follower_sound": "pad"}
    project.outputs = {"extras": True, "synth": plain}
    project.save_scene("plain")
    project.trained = project.scene("swapped").trained
    project.outputs = {"extras": True, "synth": {**plain, "parameters": {"master_gain": 0.25},
                                                 "follower_sound": "bell"}}
    project.save_scene("swapped")
    project.outputs = {"extras": True, "synth": plain}
    return project


def test_the_synth_tab_follows_a_scene_recall_and_applies_no_stale_mapping(
        qtbot, tmp_path, monkeypatch):
    # no audio device here, nor a JACK server: the mapping is the project's all the same
    monkeypatch.setenv("JACK_DEFAULT_SERVER", f"gm-absent-{os.getpid()}")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    window = open_window(qtbot, _scenes_on_two_mappings(tmp_path / "piece"), tmp_path / "piece")
    qtbot.waitUntil(lambda: window.scene_names() == ["plain", "swapped"], timeout=60000)
    panel = window.synth_panel
    assert panel.parameters["master_gain"].value() == 0.5
    panel.parameters["oneshot_gain"].setValue(0.3)  # an edit of the musician's own, not applied
    assert window.recall_scene("swapped")
    qtbot.waitUntil(lambda: panel.parameters["master_gain"].value() == 0.25, timeout=30000)
    assert panel.follower.currentText() == "bell"
    assert panel.parameters["oneshot_gain"].value() == 0.3
    assert panel.apply()
    synth = lambda: (window.project.outputs or {}).get("synth") or {}  # noqa: E731
    qtbot.waitUntil(lambda: synth().get("parameters", {}).get("oneshot_gain") == 0.3,
                    timeout=30000)
    # the scene's mapping stays in force: only the edit was new
    assert synth()["parameters"]["master_gain"] == 0.25
    assert synth()["follower_sound"] == "bell"


def test_a_scene_with_no_synth_mapping_shows_the_default_it_plays(qtbot, tmp_path, monkeypatch):
    """A scene saved without a synth mapping plays the default one: the Synth tab shows the
    default's routes, where it showed a mapping with none (silent, had Apply sent it)."""
    from gesturemap.synth import SynthMapping

    monkeypatch.setenv("JACK_DEFAULT_SERVER", f"gm-absent-{os.getpid()}")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    folder = tmp_path / "piece"
    project = _scenes_on_two_mappings(folder)
    project.trained = project.scene("swapped").trained
    project.outputs = {"extras": True}  # "swapped" saved with no synth mapping of its own
    project.save_scene("swapped")
    project.outputs = {"extras": True, "synth": {
        "routes": [{"source": "likelihood:*", "target": "loudness"}],
        "parameters": {"master_gain": 0.5}}}
    window = open_window(qtbot, project, folder)
    qtbot.waitUntil(lambda: window.scene_names() == ["plain", "swapped"], timeout=60000)
    panel = window.synth_panel
    assert panel.parameters["master_gain"].value() == 0.5
    assert window.recall_scene("swapped")
    qtbot.waitUntil(lambda: panel.parameters["master_gain"].value() == 1.0, timeout=30000)
    shown = SynthMapping.from_dict(panel.settings())
    default = SynthMapping.default(0)
    classes = ["high", "low"]
    assert [(r.source, r.target) for r in shown.routes] == [
        (r.source, r.target) for r in default.routes]
    assert (shown.route_table(classes) == default.route_table(classes)).all()
    assert (shown.base_values() == default.base_values()).all()


def test_default_and_apply_show_their_mapping_at_once_in_the_window(qtbot, tmp_path):
    """The table read right after the click, and after the window's next refresh (the
    engine, in its process, has not taken the mapping yet), and once the engine has."""
    from PySide6 import QtCore, QtWidgets

    from gesturemap.project.default import default_project

    project = default_project()
    project.outputs = {**(project.outputs or {}), "synth": {
        "routes": [{"source": "likelihood:*", "target": "loudness"}],
        "parameters": {"master_gain": 0.5}}}
    window = open_window(qtbot, project, tmp_path / "p", audio=False)
    panel, gain = window.synth_panel, window.synth_panel.parameters["master_gain"]
    synth = lambda: (window.project.outputs or {}).get("synth")  # noqa: E731
    assert (panel.routes.rowCount(), gain.value()) == (1, 0.5)
    left = QtCore.Qt.MouseButton.LeftButton
    qtbot.mouseClick(panel.findChild(QtWidgets.QPushButton, "default"), left)
    window.refresh()
    assert (panel.routes.rowCount(), gain.value()) == (3, 1.0)
    qtbot.waitUntil(lambda: synth() is None, timeout=30000)
    window.refresh()
    assert (panel.routes.rowCount(), gain.value()) == (3, 1.0)
    gain.setValue(0.25)
    qtbot.mouseClick(panel.findChild(QtWidgets.QPushButton, "apply"), left)
    window.refresh()
    assert (panel.routes.rowCount(), gain.value()) == (3, 0.25)
    qtbot.waitUntil(lambda: (synth() or {}).get("parameters", {}).get("master_gain") == 0.25,
                    timeout=30000)
    window.refresh()
    assert (panel.routes.rowCount(), gain.value()) == (3, 0.25) and not panel.edited()
    window.close()


def test_a_class_renamed_or_added_keeps_its_one_shot_in_the_synth_tab(qtbot, tmp_path):
    """A one-shot and a route chosen for a class follow its rename, in the project and in
    the tab (which lists a class added since it opened too): Apply sends them by the new
    name, never by the old one."""
    from gesturemap.project.default import default_project

    project = default_project()
    first = str(project.classes[0])
    project.outputs = {**(project.outputs or {}), "synth": {
        "routes": [{"source": f"likelihood:{first}", "target": "loudness"}],
        "oneshots": {first: "chime"}}}
    window = open_window(qtbot, project, tmp_path / "p", audio=False)
    panel = window.synth_panel
    synth = lambda: (window.project.outputs or {}).get("synth") or {}  # noqa: E731

    def rows() -> dict[str, str]:
        return {panel.oneshots.item(r, 0).text(): panel.oneshots.cellWidget(r, 1).currentText()
                for r in range(panel.oneshots.rowCount())}

    window.rename_class(first, "ring")
    qtbot.waitUntil(lambda: synth().get("oneshots") == {"ring": "chime"}, timeout=30000)
    assert synth()["routes"][0]["source"] == "likelihood:ring"
    window.add_class("bell")
    qtbot.waitUntil(lambda: "bell" in [str(c) for c in window.project.classes], timeout=30000)
    window.refresh()
    assert rows()["ring"] == "chime" and first not in rows() and "bell" in rows(), rows()
    assert panel.routes.cellWidget(0, 0).currentText() == "likelihood:ring"
    assert not panel.edited()
    assert panel.apply(), panel.status.text()
    qtbot.waitUntil(lambda: not panel._sent, timeout=30000)
    assert synth().get("oneshots") == {"ring": "chime"}
    window.close()
