"""The take review of a DTW project with a class switched off (Wekinator's per-gesture on/off,
DTW's ``inactive``): that class is never recognised, so its takes came back as "probably
mislabelled", suspicion 1.0, with advice to delete them — the examples Wekinator kept switched
off. They are not reviewed now; the other classes' reviews are those of a project without
them."""

from __future__ import annotations

import numpy as np

from gesturemap.evaluation.quality import project_quality
from gesturemap.project import Project


def _project(inactive):
    project = Project("dtw-off", model={"kind": "dtw", "params": {"inactive": inactive}})
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 30)[:, None]
    for label, shape in ((1, np.sin(2 * np.pi * t)), (2, t ** 2), (3, np.cos(3 * t))):
        for _ in range(4):
            project.add_take(np.hstack([shape, -shape]) + 0.05 * rng.standard_normal((30, 2)),
                             label)
    return project


def test_the_takes_of_a_switched_off_class_are_not_reviewed():
    off = project_quality(_project([2]))
    assert len(off.take_ids) == 8
    assert {str(r.label) for r in off.reviews} == {"1", "3"}
    assert not any(r.suspicion > 0.5 for r in off.reviews)
    on = project_quality(_project(None))
    assert len(on.take_ids) == 12


def test_a_project_of_one_take_per_class_says_no_take_could_be_checked():
    """``gesturemap eval DIR`` on takes that cannot be checked (one per class) printed
    "nan% of the takes recognised from the others" after "2 trainings, one per take"."""
    project = Project("single", model={"kind": "dtw"})
    t = np.linspace(0, 1, 30)[:, None]
    for label, shape in ((1, np.sin(2 * np.pi * t)), (2, t ** 2)):
        project.add_take(np.hstack([shape, -shape]), label)
    text = project_quality(project).text()
    assert "nan" not in text and "trainings" not in text.splitlines()[0]
    assert "no take could be checked" in text.splitlines()[0]
