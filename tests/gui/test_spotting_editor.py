"""The model panel's spotting settings, edited as a person would, on a real window and engine.

A person turns spotting on, changes its settings and applies: the project keeps them (saved
in its folder) and the running engine's stream spots with them after the retrain. A wrong
value is refused with a message naming it, nothing is sent, and what was typed stays to be
corrected. Turning spotting off reaches the engine too.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

import gesturemap as gm
from gesturemap.errors import FormatError
from gesturemap.gui.spotting_editor import SpottingEditor
from gesturemap.gui.window import MainWindow
from gesturemap.models.spotting.core import SpottingStream
from gesturemap.project import Project
from tests.models.spotting.test_core_spotting import _gesture, _rest

pytestmark = pytest.mark.timeout(120)


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, QtCore.Qt.MouseButton.LeftButton)


def type_into(qtbot, field, text: str) -> None:
    """Replace a field's text as a person types it."""
    field.selectAll()
    qtbot.keyClick(field, QtCore.Qt.Key.Key_Delete)
    qtbot.keyClicks(field, text)


def saved_spotting(folder) -> object:
    """The spotting settings saved in ``folder`` ("unreadable" while an autosave is replacing
    its files: the caller polls again)."""
    try:
        return Project.load(folder).model.get("spotting", "off")
    except FormatError:
        return "unreadable"


def spotting_project() -> Project:
    rng = np.random.default_rng(5)
    project = Project("spotting", model={"kind": "hhmm", "params": {"states": 6}},
                      input_names=["x", "y"])
    for label in ("circle", "zigzag"):
        for _ in range(4):
            project.add_take(_gesture(label, int(rng.integers(45, 60)), rng), label)
    for _ in range(3):
        project.add_take(_rest(150, rng), gm.NULL)
    return project


def open_window(qtbot, project: Project, folder) -> MainWindow:
    """The window on ``project`` saved in ``folder`` and opened again, as a person would."""
    project.save(folder)
    window = MainWindow(Project.load(folder), folder, osc_in=None, trainer="thread",
                        engine="thread")
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.show()
    return window


def retrain_removes(qtbot, project: Project, folder, name: str, left: dict) -> None:
    """Open the window on ``project`` (its spotting with a second opinion ``name``, verifier
    or detector, that a gesture added since no longer fits) and retrain it from the Model tab:
    the line says the second opinion was removed and why, its button is off, and ``left`` (the
    settings without it) reach the engine and the folder."""
    window = open_window(qtbot, project, folder)
    engine, panel = window.engine, window.model_panel
    line, button = getattr(panel.spotting, name), getattr(panel.spotting, f"remove_{name}")
    assert line.text().startswith(f"{name}: on")
    trained = engine.trainings
    qtbot.mouseClick(panel.apply_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: engine.trainings > trained, timeout=60000)
    qtbot.waitUntil(lambda: line.text().startswith(
        f"{name}: none (removed at the last retraining: trained for the gestures"),
        timeout=10000)
    assert not button.isEnabled()
    assert name not in engine.project.model["spotting"]
    qtbot.waitUntil(lambda: saved_spotting(folder) == left, timeout=20000)
    assert name not in Project.load(folder).model["spotting"]


def test_spotting_settings_edited_in_the_window_reach_the_project_and_the_engine(
        qtbot, tmp_path):
    folder = tmp_path / "p"
    window = open_window(qtbot, spotting_project(), folder)
    engine = window.engine
    panel = window.model_panel
    editor = panel.spotting
    window.tabs.setCurrentWidget(panel)
    # the project does not spot: the editor shows it off, with the defaults as placeholders
    assert editor.isVisibleTo(panel) and not editor.isChecked()
    assert editor.fields["relative_threshold"].placeholderText() == str(gm.models.spotting.core.DEFAULT_THRESHOLD)
    trained = engine.trainings
    # on, a threshold and a refractory period typed
    editor.setChecked(True)
    type_into(qtbot, editor.fields["relative_threshold"], "0.45")
    type_into(qtbot, editor.fields["refractory_frames"], "40")
    click(qtbot, panel.apply_button)
    assert panel.message.text() == "" and editor.message.text() == ""
    wanted = {"relative_threshold": 0.45, "refractory_frames": 40}
    qtbot.waitUntil(lambda: engine.project.model.get("spotting") == wanted, timeout=5000)
    # the retrain's model runs in a spotting stream with those settings
    qtbot.waitUntil(lambda: engine.trainings > trained, timeout=60000)
    qtbot.waitUntil(lambda: isinstance(engine.stream, SpottingStream), timeout=20000)
    spotter = engine.stream.spotter
    assert spotter.threshold == 0.45 and spotter.refractory_frames == 40
    assert spotter.hold_frames == gm.models.spotting.core.DEFAULT_HOLD_FRAMES
    # kept in the project's folder
    qtbot.waitUntil(lambda: saved_spotting(folder) == wanted, timeout=10000)

    # a wrong value: refused with a message naming it, nothing sent, nothing lost
    sent: list[dict] = []
    real = panel._apply
    panel._apply = lambda s: (sent.append(s), real(s))
    type_into(qtbot, editor.fields["relative_threshold"], "-1")
    type_into(qtbot, editor.fields["hold_frames"], "12")
    assert "threshold" in editor.message.text()  # said as it is typed
    click(qtbot, panel.apply_button)
    assert sent == []
    assert panel.message.text().startswith("Not applied")
    assert "threshold" in panel.message.text() and "-1" in panel.message.text()
    assert "border" in editor.fields["relative_threshold"].styleSheet()
    assert editor.fields["relative_threshold"].text() == "-1" and editor.fields["hold_frames"].text() == "12"
    assert engine.project.model["spotting"] == wanted
    assert engine.stream.spotter.threshold == 0.45
    type_into(qtbot, editor.fields["relative_threshold"], "abc")
    click(qtbot, panel.apply_button)
    assert sent == [] and "threshold" in panel.message.text()
    type_into(qtbot, editor.fields["defer_frames"], "2.5")  # frames are whole numbers
    type_into(qtbot, editor.fields["relative_threshold"], "0.5")
    click(qtbot, panel.apply_button)
    assert sent == [] and "defer_frames" in panel.message.text()
    type_into(qtbot, editor.fields["defer_frames"], "30")
    type_into(qtbot, editor.fields["settle_ratio"], "0")  # must be above 0
    click(qtbot, panel.apply_button)
    assert sent == [] and "settle_ratio" in panel.message.text()
    assert editor.fields["settle_frames"].placeholderText() == "0"
    # corrected: sent, with the other edits kept
    type_into(qtbot, editor.fields["settle_ratio"], "0.7")
    type_into(qtbot, editor.fields["settle_frames"], "40")
    trained = engine.trainings
    click(qtbot, panel.apply_button)
    assert panel.message.text() == ""
    wanted = {"relative_threshold": 0.5, "refractory_frames": 40, "hold_frames": 12, "defer_frames": 30,
              "settle_frames": 40, "settle_ratio": 0.7}
    assert sent[-1]["spotting"] == wanted
    qtbot.waitUntil(lambda: engine.trainings > trained, timeout=60000)
    qtbot.waitUntil(lambda: isinstance(engine.stream, SpottingStream)
                    and engine.stream.spotter.threshold == 0.5, timeout=20000)
    assert engine.stream.spotter.defer_frames == 30 and engine.stream.spotter.hold_frames == 12
    assert engine.stream.spotter.settle_frames == 40 and engine.stream.spotter.settle_ratio == 0.7
    qtbot.waitUntil(lambda: saved_spotting(folder) == wanted, timeout=10000)
    assert engine.project.model["spotting"] == wanted

    # off: the engine runs the model's own stream after the retrain, the project has no spotting
    editor.setChecked(False)
    trained = engine.trainings
    click(qtbot, panel.apply_button)
    qtbot.waitUntil(lambda: "spotting" not in engine.project.model, timeout=5000)
    qtbot.waitUntil(lambda: engine.trainings > trained, timeout=60000)
    qtbot.waitUntil(lambda: engine.stream is not None
                    and not isinstance(engine.stream, SpottingStream), timeout=20000)
    qtbot.waitUntil(lambda: saved_spotting(folder) == "off", timeout=10000)


def test_the_editor_shows_a_projects_settings_back_and_keeps_what_it_does_not_show(qtbot):
    editor = SpottingEditor()
    qtbot.addWidget(editor)
    given = {"relative_threshold": 0.4, "hold_frames": 25, "min_stay": {"swipe": 0.0},
             "null_label": "rest"}
    editor.show_spotting(given)
    assert editor.isChecked() and editor.fields["relative_threshold"].text() == "0.4"
    # a class's own min_stay: kept as it is, its field not typed over
    assert editor.fields["min_stay"].text() == "" and not editor.fields["min_stay"].isEnabled()
    assert editor.spotting() == given and editor.problems() == []
    assert "swipe" in editor.kept.text()
    # a value typed equal to the default is not written out; an empty field is the default
    editor.fields["defer_frames"].setText("50")
    editor.fields["hold_frames"].setText("")
    assert editor.spotting() == {"relative_threshold": 0.4, "min_stay": {"swipe": 0.0},
                                 "null_label": "rest"}
    # a wrong value keeps the project's in what would be sent, and is named
    editor.fields["relative_threshold"].setText("0")
    assert editor.spotting()["relative_threshold"] == 0.4
    assert len(editor.problems()) == 1 and "relative_threshold" in editor.problems()[0]
    editor.show_spotting({**given, "bound_matches": True})
    assert editor.spotting()["bound_matches"] is True
    assert "bound_matches (kept as the project has it): True" in editor.kept.text()
    # a project with the names of earlier releases: shown and sent by the new names, the
    # classes' own absolute thresholds kept as they were
    old = {"threshold": 0.3, "thresholds": {"circle": 12.0}, "min_stays": {"swipe": 0.0}}
    editor.show_spotting(old)
    assert editor.fields["relative_threshold"].text() == "0.3"
    assert "circle" in editor.kept.text() and "swipe" in editor.kept.text()
    assert editor.spotting() == {"relative_threshold": 0.3, "thresholds": {"circle": 12.0},
                                 "min_stay": {"swipe": 0.0}}
    editor.show_spotting({"threshold": 0.3})
    assert editor.fields["relative_threshold"].text() == "0.3"
    assert editor.spotting() == {"relative_threshold": 0.3}
    editor.show_spotting(None)
    assert not editor.isChecked() and editor.spotting() is None and editor.problems() == []


def test_a_spotting_model_shows_and_keeps_the_deltas_it_trains_with(qtbot, tmp_path):
    """A spotting HHMM trains without deltas unless told otherwise: the panel shows that (not
    the kind's default, with deltas), and a person who ticks deltas gets them."""
    project = spotting_project()
    project.model = {"kind": "hhmm", "params": {"states": 6}, "spotting": {}}
    window = open_window(qtbot, project, tmp_path / "p")
    panel = window.model_panel
    window.tabs.setCurrentWidget(panel)
    box = panel.editors["deltas"]
    assert panel.spotting.isChecked() and not box.isChecked()
    assert window.engine.project.new_model().deltas is False
    box.setChecked(True)  # what the model's own default is: sent all the same
    click(qtbot, panel.apply_button)
    assert panel.message.text() == ""
    qtbot.waitUntil(lambda: window.engine.project.model["params"].get("deltas") is True,
                    timeout=10000)
    assert window.engine.project.new_model().deltas is True
    box.setChecked(False)
    click(qtbot, panel.apply_button)
    qtbot.waitUntil(lambda: window.engine.project.model["params"].get("deltas") is False,
                    timeout=10000)
