"""The spotting verifier in the window: one read-only line says whether the
project's spotting has a verifier (and its cross-fitted F1 with and without), a button removes
it (saved and in effect at once), and a retraining that no longer fits it says it was removed.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

import gesturemap as gm
from gesturemap.gui.spotting_editor import SpottingEditor
from gesturemap.models.spotting.core import SpottingStream
from tests.evaluation.spotting.test_scores import ramp_streams
from tests.gui.test_spotting_editor import open_window, retrain_removes, saved_spotting
from tests.test_cli_train_verifier import MODEL, SPOTTING, _project

pytestmark = pytest.mark.timeout(180)

SUMMARY = {"gestures": ["1", "2"], "chosen": True, "f1_with": 0.8125, "f1_without": 0.7391,
           "detections": 57, "recordings": 4, "groups": 2}


@pytest.fixture(scope="module")
def verifier():
    st = ramp_streams(4, excursions=True)
    v = gm.fit_verifier({**MODEL, "spotting": SPOTTING}, st.sessions[:4], st.labels[:4],
                        st.subject[:4], gestures=[1, 2])
    v.summary = dict(SUMMARY)
    return st, v.to_dict()


def test_the_line_says_none_or_on_with_the_figures(qtbot, verifier) -> None:
    editor = SpottingEditor()
    qtbot.addWidget(editor)
    editor.show_spotting(dict(SPOTTING))
    assert editor.verifier.text() == "verifier: none"
    assert not editor.remove_verifier.isEnabled()
    editor.show_spotting({**SPOTTING, "verifier": verifier[1]})
    assert editor.verifier.text() == ("verifier: on (trained for 1, 2; cross-fit F1 0.81 vs "
                                      "0.74 without, 57 detections)")
    assert editor.remove_verifier.isEnabled()
    assert editor.spotting()["verifier"] == verifier[1]  # kept when the settings are sent
    without = {k: v for k, v in verifier[1].items() if k != "summary"}  # trained in Python
    editor.show_spotting({**SPOTTING, "verifier": without})
    assert editor.verifier.text() == "verifier: on (trained for 1, 2)"
    # one that reads the frames before each start (and waits after the emission) says so
    editor.show_spotting({**SPOTTING, "verifier": {**verifier[1], "context": 100, "wait": 20}})
    assert editor.verifier.text() == (
        "verifier: on (trained for 1, 2; cross-fit F1 0.81 vs 0.74 without, 57 detections; "
        "reads 100 frames before each start; waits 20 frames after each emission)")
    editor.show_spotting({**SPOTTING, "verifier": {**verifier[1], "wait": 10, "settle": 40}})
    assert editor.verifier.text().endswith(
        "; reads 10 frames once the movement settles, at most 40 frames after each emission)")
    editor.show_spotting({**SPOTTING, "verifier": {**verifier[1], "context": 100, "near": 50}})
    assert editor.verifier.text().endswith(
        "; reads 100 frames before each start (and the nearest 50 apart))")


def test_remove_verifier_reaches_the_engine_and_the_folder(qtbot, tmp_path, verifier) -> None:
    st, v = verifier
    folder = tmp_path / "p"
    window = open_window(qtbot, _project(tmp_path / "made", st, spotting={**SPOTTING,
                                                                          "verifier": v}),
                         folder)
    engine, panel = window.engine, window.model_panel
    editor = panel.spotting
    window.tabs.setCurrentWidget(panel)
    assert editor.verifier.text().startswith("verifier: on (trained for 1, 2; cross-fit F1")
    qtbot.mouseClick(editor.remove_verifier, QtCore.Qt.MouseButton.LeftButton)
    assert editor.verifier.text() == "verifier: none"
    assert not editor.remove_verifier.isEnabled()
    qtbot.waitUntil(lambda: engine.project.model.get("spotting") == SPOTTING, timeout=5000)
    qtbot.waitUntil(lambda: saved_spotting(folder) == SPOTTING, timeout=20000)
    qtbot.waitUntil(lambda: isinstance(engine.stream, SpottingStream)
                    and engine.stream.spotter.verifier is None, timeout=60000)


def test_a_retrain_that_drops_the_verifier_is_shown(qtbot, tmp_path, verifier) -> None:
    st, v = verifier
    project = _project(tmp_path / "made", st, spotting={**SPOTTING, "verifier": v})
    project.add_take(np.linspace([0.0, 0.0], [1.0, 0.5], 40), "3")  # a gesture it never saw
    retrain_removes(qtbot, project, tmp_path / "p", "verifier", SPOTTING)
