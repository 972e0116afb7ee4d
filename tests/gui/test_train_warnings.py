"""What a training warns about reaches the window's training line (a GVF class whose takes'
lengths differ wildly: its speed 1 is the pace of its median take)."""

from __future__ import annotations

import numpy as np
import pytest

from gesturemap.project import Project

from .windows import open_window

pytestmark = pytest.mark.timeout(120)


def _project(lengths: tuple[int, ...]) -> Project:
    project = Project("warned", model={"kind": "gvf", "params": {"particles": 100}},
                      input_names=["x", "y"])
    for label, shape in (("circle", lambda a: np.c_[np.cos(a), np.sin(a)]),
                         ("wave", lambda a: np.c_[a, 0.3 * np.sin(3 * a)])):
        for n in (lengths if label == "circle" else (40, 44, 48)):
            x = shape(np.linspace(0, 2 * np.pi, n))
            project.add_take(x, label, times=np.arange(n) / 50.0)
    return project


@pytest.mark.parametrize("lengths, warned", [((3, 4, 60), True), ((40, 44, 48), False)])
def test_the_training_line_shows_what_the_training_warned_about(qtbot, tmp_path, lengths,
                                                                 warned):
    window = open_window(qtbot, _project(lengths), tmp_path / "p")
    window.train()
    qtbot.waitUntil(lambda: "trained in" in window.train_status.text(), timeout=60000)
    text = window.train_status.text()
    assert ("⚠ GVF: the takes of class 'circle' last 3 to 60 frames" in text) is warned
    assert ("⚠" in text) is warned
    assert len(window.engine.train_warnings) == int(warned)  # (the engine process's snapshot)
