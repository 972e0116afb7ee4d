"""The Quality panel's next-take line: the review's suggestion, shown between takes, hidden
while a take is recorded (Qt offscreen; the review is the window worker's own function)."""

from __future__ import annotations

import numpy as np

from gesturemap.gui.quality import QualityPanel
from gesturemap.gui.quality_jobs import payload, review
from gesturemap.project import Project


def _project(single: str) -> Project:
    rng = np.random.default_rng(5)
    project = Project("q", classes=["a", "b", "c"], model="gmm")
    t = np.linspace(0, 1, 40)[:, None]
    shapes = {"a": np.hstack([t, t]), "b": np.hstack([t, -t]), "c": np.hstack([-t, t])}
    for label in shapes:
        for _ in range(1 if label == single else 3):
            project.add_take(shapes[label] + rng.normal(scale=0.05, size=(40, 2)), label)
    return project


def test_the_next_take_line_follows_each_review_and_hides_during_a_take(qtbot):
    panel = QualityPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_report(review(payload(_project(single="c"))))
    assert panel.next_take.isVisible()
    assert panel.next_take.text().startswith("next take: c, ")
    panel.set_recording(True)
    assert not panel.next_take.isVisible() and panel.next_take.text() == ""
    # a review that comes during the take is kept for after it
    panel.show_report(review(payload(_project(single="a"))))
    assert not panel.next_take.isVisible()
    panel.set_recording(False)
    assert panel.next_take.isVisible()
    assert panel.next_take.text().startswith("next take: a, ")
    panel.show_report({"error": "no takes"})
    assert not panel.next_take.isVisible()
