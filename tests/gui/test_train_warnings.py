"""What a training warns about reaches the window's training line (a GVF class whose takes'
lengths differ wildly: its speed 1 is the pace of its median take; a class the model's
settings leave out of training)."""

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


def _training(tmp_path, qtbot, project: Project, trainer: str) -> tuple[str, ...]:
    """Open a window on ``project`` with its training on a ``trainer``, train: the training
    line's warnings, one per line."""
    window = open_window(qtbot, project, tmp_path / "p", trainer=trainer)
    window.train()
    qtbot.waitUntil(lambda: "trained in" in window.train_status.text(), timeout=90000)
    return tuple(window.train_status.text().split("\n")[1:])


@pytest.mark.parametrize("trainer", ["process", "thread"])
def test_why_a_class_was_left_out_of_training_is_on_the_training_line(qtbot, tmp_path,
                                                                       trainer):
    """More Gaussians than a short class has frames (raised after its takes were recorded):
    the training leaves that class out and says why with ``warnings.warn``, in the training
    process (the app's own, or the engine's thread). That reached only the terminal: the
    window said the class's takes were "too short for the model's settings", not which
    setting (gaussians=10) nor how many frames it has."""
    rng = np.random.default_rng(0)
    project = Project("left-out", model={"kind": "gmm", "params": {"gaussians": 2}},
                      input_names=["x", "y"])
    for label, n in (("circle", 60), ("tap", 4)):
        for _ in range(2):
            project.add_take(rng.normal(size=(n, 2)) + (label == "tap"), label,
                             times=np.arange(n) / 100.0)
    project.model = {"kind": "gmm", "params": {"gaussians": 10}}  # 8 frames of tap
    assert _training(tmp_path, qtbot, project, trainer) == (
        "⚠ class 'tap' has 8 frame(s), fewer than gaussians=10: record a longer take or "
        "lower gaussians. Class 'tap' was left out of training until then.",)
