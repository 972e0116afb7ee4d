"""Opening a main window on a saved project, for the window tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gesturemap.gui.screenshots import gesture_path
from gesturemap.gui.window import MainWindow
from gesturemap.project import Project
from gesturemap.project.default import MOUSE_CHANNELS, default_project


def open_window(qtbot, project: Project, folder: Path, engine: str = "process",
                audio: bool = True, trainer: str = "thread") -> MainWindow:
    """Save ``project`` into ``folder`` and show a window on it (training on a thread, or in
    a process of its own as the app trains with ``trainer="process"``; the engine in a
    process of its own, or ``engine="thread"``; ``audio=False`` as ``gesturemap open
    --no-audio`` opens it); the window never asks to save when the test closes it."""
    project.save(folder)
    window = MainWindow(Project.load(folder), folder, osc_in=None, trainer=trainer,
                        engine=engine, audio=audio)
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"  # no modal question when the test ends
    window.show()
    return window


def untitled_window(qtbot, tmp_path: Path, project: Project | None = None) -> MainWindow:
    """A window on ``project`` (the default project if None), untitled (its autosave in
    ``tmp_path``), its engine and training on threads, no synth; it never asks to save."""
    window = MainWindow(project or default_project(), autosave_dir=tmp_path / "autosave",
                        osc_in=None, trainer="thread", audio=False, engine="thread")
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.show()
    return window


def pad_take(kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A take as the pad records it: x, y, vx, vy at 100 Hz, and its times."""
    pos = gesture_path(kind, 60) + rng.normal(size=(60, 2)) * 0.005
    return np.hstack([pos, np.gradient(pos, 0.01, axis=0)]), np.arange(60) * 0.01


def mislabelled_pad_project() -> tuple[Project, str]:
    """The default project with four pad takes each of circle, swipe and zigzag and one circle
    recorded as a swipe, trained (a GMM): the project and the mislabelled take's id."""
    rng = np.random.default_rng(0)
    project = default_project()
    project.model = {"kind": "gmm", "params": {"gaussians": 2}}
    for kind in ("circle", "swipe", "zigzag"):
        if kind not in project.classes:
            project.add_class(kind)
        for _ in range(4):
            inputs, times = pad_take(kind, rng)
            project.add_take(inputs, kind, times=times)
    inputs, times = pad_take("circle", rng)
    wrong = project.add_take(inputs, "swipe", times=times)  # a circle recorded as a swipe
    project.train()
    return project, wrong.id


def mapping_project(*outputs: str) -> Project:
    """A regression project on the mouse pad (a GMR), with these outputs' targets."""
    return Project(
        "mapping",
        model={"kind": "gmm", "params": {"gaussians": 1}},
        sensor={"transport": "mouse", "profile": "mouse", "rate_hz": 100},
        input_names=list(MOUSE_CHANNELS),
        output_names=list(outputs),
    )


def graded_window(qtbot, folder: Path, rx, port: int, **outputs) -> tuple[MainWindow, object]:  # noqa: ANN001, ANN003
    """A window (its engine in a process of its own) on the graded project of
    ``tests.rejection_helpers``, hearing ``/wek/inputs`` on loopback ``port`` and answering on
    socket ``rx``, with ``outputs`` settings: the window and the trained model."""
    from tests.rejection_helpers import graded_project

    project = graded_project(port=rx.getsockname()[1], **outputs)
    project.sensor = {"transport": "osc", "host": "127.0.0.1", "port": port}
    project.save(folder)
    window = MainWindow(Project.load(folder), folder, osc_in=None, trainer="thread")
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.show()
    return window, project.trained


def osc_window(qtbot, folder: Path, port: int) -> MainWindow:
    """A window (its engine in a process of its own, no synth) on a trained GMM project of
    two classes, circle and swipe, of two takes each (x, y at 100 Hz), its sensor an OSC
    one on loopback ``port`` (``/wek/inputs``)."""
    rng = np.random.default_rng(0)
    project = Project("osc", model={"kind": "gmm", "params": {"gaussians": 1}},
                      input_names=["x", "y"])
    for label in ("circle", "swipe"):
        for _ in range(2):
            project.add_take(rng.normal(size=(30, 2)) + (label == "swipe"), label,
                             times=np.arange(30) / 100.0)
    project.train()
    project.sensor = {"transport": "osc", "host": "127.0.0.1", "port": port}
    return open_window(qtbot, project, folder, audio=False)
