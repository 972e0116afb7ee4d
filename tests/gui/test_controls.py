"""The main window's controls together (one window, offscreen): recolour a class, set the
rejection threshold, plot the features, overlay a take, switch the sensor.

Each change goes to the engine as a command and comes back through the engine's project, so
the test waits for the project to hold it and for every view to show it.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from gesturemap.features import Pipeline, Select
from gesturemap.gui.screenshots import gesture_path
from gesturemap.project import Project
from gesturemap.project.default import default_project
from tests.stage_helpers import free_port

from .windows import open_window

pytestmark = pytest.mark.timeout(120)


def pad_take(kind: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    xy = gesture_path(kind, 60) + np.random.default_rng(seed).normal(0, 0.004, (60, 2))
    return np.c_[xy, np.gradient(xy, 0.01, axis=0)], np.arange(60) / 100.0


def test_the_windows_controls(qtbot, tmp_path):
    project = default_project("controls")
    project.pipeline = Pipeline([Select(channels=["x", "y"])])
    for kind in ("circle", "swipe"):
        for seed in range(2):
            inputs, times = pad_take(kind, seed)
            project.add_take(inputs, kind, times=times)
    folder = tmp_path / "controls"
    window = open_window(qtbot, project, folder)
    qtbot.waitUntil(lambda: window.classes.count() == 3, timeout=10000)
    assert not window.targets.isVisible()  # a classification project: no target sliders

    # recolour a class: the project keeps it; the list, the monitor and the browser show it
    window.recolour_class("swipe", "#ff00ff")
    qtbot.waitUntil(
        lambda: (window.project.display or {}).get("class_colors") == {"swipe": "#ff00ff"},
        timeout=5000,
    )

    def item_colour() -> str:
        names = [window.classes.item(i).text() for i in range(window.classes.count())]
        return window.classes.item(names.index("swipe")).foreground().color().name()

    qtbot.waitUntil(lambda: item_colour() == "#ff00ff", timeout=2000)
    assert window.monitor.colours["swipe"].name() == "#ff00ff"
    assert window.monitor.bars.colours["swipe"].name() == "#ff00ff"
    qtbot.waitUntil(lambda: window.dataset.tree.topLevelItemCount() == 3, timeout=2000)
    # the browser redraws on the window's timer: it shows the colour within a few ticks
    qtbot.waitUntil(
        lambda: window.dataset.tree.topLevelItem(1).foreground(0).color().name() == "#ff00ff",
        timeout=2000,
    )

    # the rejection threshold: set on the monitor, the project's outputs.reject_below (what
    # OSC, MIDI and the synth follow), used by the stage view too
    window.monitor.threshold_slider.setValue(40)
    qtbot.waitUntil(
        lambda: (window.project.outputs or {}).get("reject_below") == 0.4, timeout=5000
    )
    stage = window.show_stage(full_screen=False)
    qtbot.waitUntil(lambda: stage.monitor.threshold == 0.4, timeout=2000)
    assert stage.monitor.colours["swipe"].name() == "#ff00ff"
    stage.close()

    # a take selected in the dataset browser is drawn over the live input plot
    window.tabs.setCurrentWidget(window.dataset)
    take = window.project.takes[2]
    window.dataset.select_take(take.id)
    qtbot.waitUntil(lambda: len(window.plot.overlay_curves) == 4, timeout=2000)
    _, y = window.plot.overlay_curves[0].getData()
    np.testing.assert_allclose(y, take.inputs[:, 0])

    # the plot shows the features (the pipeline keeps x and y) instead of the raw inputs
    qtbot.waitUntil(lambda: window.engine.frames_in > 10, timeout=10000)
    assert len(window.plot.curves) == 4
    window.plot_features.setChecked(True)
    qtbot.waitUntil(lambda: len(window.plot.curves) == 2, timeout=2000)
    assert window.plot.overlay_curves == []  # the take's raw inputs do not fit the features
    window.pad.move_to(0.25, 0.75)

    def last_y() -> float | None:
        y = window.plot.curves[1].getData()[1]
        return None if y is None or not len(y) else float(y[-1])

    qtbot.waitUntil(lambda: last_y() == pytest.approx(0.75), timeout=2000)
    window.plot_features.setChecked(False)
    qtbot.waitUntil(lambda: len(window.plot.curves) == 4, timeout=2000)

    # the sensor: an OSC sensor stops the mouse pad; back to the mouse, the pad feeds again
    port = free_port()
    panel = window.sensor_panel
    window.tabs.setCurrentWidget(panel)
    panel.transport.setCurrentText("osc")
    panel.profile.setCurrentText("wekinator")
    panel.port.setValue(port)
    qtbot.mouseClick(panel.apply_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (window.project.sensor or {}).get("port") == port, timeout=5000)
    qtbot.waitUntil(lambda: not window.pad.active, timeout=2000)
    qtbot.waitUntil(lambda: "wekinator" in panel.status.text(), timeout=3000)
    panel.transport.setCurrentText("mouse")
    qtbot.mouseClick(panel.apply_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.pad.active, timeout=5000)
    assert window.project.sensor["transport"] == "mouse"

    window.close()
    # everything set here was saved with the project (autosave)
    saved = Project.load(folder)
    assert saved.display == {"class_colors": {"swipe": "#ff00ff"}}
    assert saved.outputs["reject_below"] == 0.4
    assert saved.sensor["transport"] == "mouse"
