"""The window shows spotted gestures on a timeline under the live plot, and counts them."""

from __future__ import annotations

import time

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.gui.window import MainWindow
from gesturemap.project import Project
from gesturemap.sources.base import Frame
from tests.gui.windows import open_window
from tests.models.spotting.test_core_spotting import _gesture, _rest


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_timeline_shows_and_counts_spotted_gestures(qtbot, tmp_path, mode):
    rng = np.random.default_rng(5)
    project = Project("spotting", model={"kind": "hhmm", "params": {"states": 6},
                                         "spotting": {}}, input_names=["x", "y"])
    for label in ("circle", "zigzag"):
        for _ in range(5):
            project.add_take(_gesture(label, int(rng.integers(45, 60)), rng), label)
    for _ in range(4):
        project.add_take(_rest(150, rng), gm.NULL)
    project.train()
    order = ["zigzag", "circle", "zigzag"]
    parts = []
    for label in order:
        parts += [_rest(int(rng.integers(80, 120)), rng),
                  _gesture(label, int(rng.integers(45, 60)), rng)]
    parts.append(_rest(60, rng))
    x = np.vstack(parts)
    assert [e.label for e in gm.spot(project.trained, x)] == order
    if mode == "process":
        window = open_window(qtbot, project, tmp_path / "p")
    else:
        project.save(tmp_path / "p")
        window = MainWindow(Project.load(tmp_path / "p"), tmp_path / "p", osc_in=None,
                            trainer="thread", engine="thread")
        qtbot.addWidget(window)
        window._ask_save = lambda: "discard"
        window.show()
    engine = window.engine
    qtbot.waitUntil(lambda: engine.running, timeout=20000)
    # the whole performance within the timeline's last seconds
    t0 = time.perf_counter() - 0.004 * len(x)
    for i, frame in enumerate(x):
        engine.queue.put(Frame(t0 + 0.004 * i, frame, "test"))
    qtbot.waitUntil(lambda: engine.events_spotted == len(order), timeout=20000)
    qtbot.waitUntil(lambda: [lb for _, lb in window.timeline.shown] == order, timeout=5000)
    qtbot.waitUntil(
        lambda: window.timeline.count.toPlainText() == f"gestures spotted: {len(order)}",
        timeout=2000,
    )
    # drawn where they happened: in the past, inside the view
    assert all(-window.timeline.seconds <= t <= 0.5 for t, _ in window.timeline.shown)
