"""The window detector in the window: one line says whether the project's spotting has one,
and a button removes it (saved, and in effect at once)."""

from __future__ import annotations

import pytest
from PySide6 import QtCore

import gesturemap as gm
from gesturemap.gui.spotting_editor import SpottingEditor
from gesturemap.models.spotting.core import SpottingStream
from tests.evaluation.spotting.test_scores import ramp_streams
from tests.gui.test_spotting_editor import open_window, retrain_removes, saved_spotting
from tests.test_cli_train_verifier import SPOTTING, _project

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def detector():
    st = ramp_streams(4, excursions=True)
    d = gm.fit_detector(st.sessions[:4], st.labels[:4], gestures=[1, 2], trees=5,
                        max_leaves=8, window=20, before=5, hop=2)
    return st, d.to_dict()


def test_the_line_says_none_or_on(qtbot, detector) -> None:
    editor = SpottingEditor()
    qtbot.addWidget(editor)
    editor.show_spotting(dict(SPOTTING))
    assert editor.detector.text() == "detector: none"
    assert not editor.remove_detector.isEnabled()
    d = detector[1]
    editor.show_spotting({**SPOTTING, "detector": d})
    assert editor.detector.text() == (
        f"detector: on (trained for 1, 2; windows of 20 frames, events at probability "
        f"{d['settings']['tau']}, {len(d['feature'])} nodes)")
    assert editor.remove_detector.isEnabled()
    assert editor.spotting()["detector"] == d  # kept when the settings are sent


def test_remove_detector_reaches_the_engine_and_the_folder(qtbot, tmp_path, detector) -> None:
    st, d = detector
    folder = tmp_path / "p"
    window = open_window(qtbot, _project(tmp_path / "made", st,
                                         spotting={**SPOTTING, "detector": d}), folder)
    engine, panel = window.engine, window.model_panel
    editor = panel.spotting
    window.tabs.setCurrentWidget(panel)
    assert editor.detector.text().startswith("detector: on (trained for 1, 2")
    qtbot.waitUntil(lambda: isinstance(engine.stream, SpottingStream)
                    and engine.stream.spotter.detector is not None, timeout=60000)
    qtbot.mouseClick(editor.remove_detector, QtCore.Qt.MouseButton.LeftButton)
    assert editor.detector.text() == "detector: none"
    assert not editor.remove_detector.isEnabled()
    qtbot.waitUntil(lambda: engine.project.model.get("spotting") == SPOTTING, timeout=5000)
    qtbot.waitUntil(lambda: saved_spotting(folder) == SPOTTING, timeout=20000)
    qtbot.waitUntil(lambda: isinstance(engine.stream, SpottingStream)
                    and engine.stream.spotter.detector is None, timeout=60000)


def test_a_retrain_that_drops_the_detector_is_shown(qtbot, tmp_path, detector) -> None:
    import numpy as np

    st, d = detector
    project = _project(tmp_path / "made", st, spotting={**SPOTTING, "detector": d})
    project.add_take(np.linspace([0.0, 0.0], [1.0, 0.5], 40), "3")  # a gesture it never saw
    retrain_removes(qtbot, project, tmp_path / "p", "detector", SPOTTING)
