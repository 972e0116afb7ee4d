"""Undoing a class deletion brings the class back in its place in the class list, with its
takes and its colour (window offscreen, the engine in its own process)."""

from __future__ import annotations

import numpy as np

from gesturemap.gui.colours import class_colours
from gesturemap.project.default import default_project

from .windows import open_window, pad_take


def test_undoing_a_class_deletion_puts_the_class_back_in_its_place(qtbot, tmp_path):
    rng = np.random.default_rng(1)
    project = default_project()  # circle, swipe, zigzag
    for kind in ("circle", "swipe", "zigzag"):
        for _ in range(2):
            inputs, times = pad_take(kind, rng)
            project.add_take(inputs, kind, times=times)
    window = open_window(qtbot, project, tmp_path / "p")
    rows = lambda: [window.classes.item(i).text() for i in range(window.classes.count())]  # noqa: E731
    qtbot.waitUntil(lambda: rows() == ["circle", "swipe", "zigzag"], timeout=30000)
    colours = {k: c.name() for k, c in class_colours(window.project).items()}
    ids = {t.id for t in window.project.takes}
    window.delete_class("swipe", confirm=False)
    qtbot.waitUntil(lambda: rows() == ["circle", "zigzag"], timeout=30000)
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: {t.id for t in window.project.takes} == ids, timeout=30000)
    qtbot.waitUntil(lambda: rows() == ["circle", "swipe", "zigzag"], timeout=30000)
    assert [str(c) for c in window.project.classes] == ["circle", "swipe", "zigzag"]
    assert {k: c.name() for k, c in class_colours(window.project).items()} == colours
    window.undo_stack.redo()
    qtbot.waitUntil(lambda: rows() == ["circle", "zigzag"], timeout=30000)
    window.close()
