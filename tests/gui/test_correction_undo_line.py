"""Undoing (or redoing) "that was X" retrains, and the training line says so: that retrain's
time, not the correction's (Qt offscreen, the engine in a process of its own)."""

from __future__ import annotations

import pytest

from gesturemap.project import Project

from .test_quality import _draw
from .windows import mislabelled_pad_project, open_window

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]


def _trained_line(window) -> bool:  # noqa: ANN001
    """The training line says the engine's latest training (and the window has taken it)."""
    ms = window.engine.last_train_ms
    return (window._train_sent is None and ms is not None and window.last_train_ms == ms
            and window.train_status.text().startswith(f"trained in {ms:.0f} ms"))


def test_undo_and_redo_of_a_correction_show_their_own_retrain(qtbot, tmp_path):
    project, _ = mislabelled_pad_project()
    window = open_window(qtbot, project, tmp_path / "proj", audio=False)
    n = len(window.project.takes)
    names = [window.classes.item(i).text() for i in range(window.classes.count())]
    window.classes.setCurrentRow(names.index("swipe"))
    _draw(qtbot, window, "swipe")
    trainings = window.engine.trainings
    window.correct_last_gesture()
    qtbot.waitUntil(lambda: window.engine.trainings > trainings and _trained_line(window),
                    timeout=60000)
    corrected = window.last_train_ms

    trainings = window.engine.trainings
    window.undo_stack.undo()
    assert window.train_status.text() == "that was swipe undone: training…"
    qtbot.waitUntil(lambda: len(window.project.takes) == n, timeout=20000)
    qtbot.waitUntil(lambda: window.engine.trainings > trainings, timeout=60000)
    qtbot.waitUntil(lambda: _trained_line(window), timeout=10000)
    assert window.last_train_ms != corrected  # the undo's own retrain

    trainings = window.engine.trainings
    window.undo_stack.redo()
    assert window.train_status.text() == "that was swipe again: training…"
    qtbot.waitUntil(lambda: len(window.project.takes) == n + 1, timeout=20000)
    qtbot.waitUntil(lambda: window.engine.trainings > trainings, timeout=60000)
    qtbot.waitUntil(lambda: _trained_line(window), timeout=10000)
    window.close()


def test_undoing_the_only_take_says_there_is_no_model(qtbot, tmp_path):
    """A correction that was the project's only take, undone: nothing is left to train on,
    and the line says so (it waited for a training that never comes)."""
    project = Project("one", classes=["circle", "swipe"],
                      model={"kind": "gmm", "params": {"gaussians": 1}},
                      sensor={"transport": "mouse", "profile": "mouse", "rate_hz": 100})
    window = open_window(qtbot, project, tmp_path / "proj", audio=False)
    window.classes.setCurrentRow(0)
    _draw(qtbot, window, "circle")
    window.correct_last_gesture()
    qtbot.waitUntil(lambda: len(window.project.takes) == 1 and window._train_sent is None,
                    timeout=60000)
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: not window.project.takes, timeout=20000)
    qtbot.waitUntil(lambda: window.train_status.text()
                    == "that was circle undone: no takes left, so no model", timeout=20000)
    assert window.engine.model is None
    window.close()
