"""The dataset browser on a big project: a new take draws one thumbnail, not every take's.

At 20 gestures x 60 channels (150 takes), redrawing every take's thumbnail after each take
froze the window for seconds (benchmarks/studio_scale.py ``window``). The browser is driven
as the window drives it: ``refresh`` with the engine's project after each edit.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtGui

import gesturemap.gui.dataset as dataset_module
from gesturemap.gui.dataset import DatasetBrowser
from gesturemap.project import Project

pytestmark = pytest.mark.timeout(60)


def big_project(classes: int = 4, takes: int = 3, channels: int = 8) -> Project:
    rng = np.random.default_rng(0)
    project = Project("browser", model={"kind": "hhmm", "params": {}})
    for c in range(classes):
        for _ in range(takes):
            project.add_take(rng.normal(size=(int(rng.integers(20, 40)), channels)), f"g{c}")
    return project


@pytest.fixture
def drawn(monkeypatch):
    """The takes whose thumbnail the browser drew (by their number of frames and first
    value, which tell these takes apart)."""
    calls: list[tuple[int, float]] = []
    real = dataset_module.take_pixmap

    def counting(inputs, size, colour):
        calls.append((len(inputs), float(inputs[0, 0])))
        return real(inputs, size, colour)

    monkeypatch.setattr(dataset_module, "take_pixmap", counting)
    return calls


def test_a_new_take_draws_only_its_own_thumbnail(qtbot, drawn):
    project = big_project()
    browser = DatasetBrowser(lambda *a: None, QtGui.QUndoStack(), lambda: None)
    qtbot.addWidget(browser)
    browser.refresh(project)
    assert len(drawn) == len(project.takes)  # the first time, every take
    drawn.clear()
    new = project.add_take(np.full((25, 8), 7.0), "g2")
    browser.refresh(project)
    assert drawn == [(25, 7.0)]
    # the tree shows every take, each with its thumbnail
    shown = [browser.tree.topLevelItem(i).child(j)
             for i in range(browser.tree.topLevelItemCount())
             for j in range(browser.tree.topLevelItem(i).childCount())]
    assert sorted(item.text(0) for item in shown) == sorted(t.id for t in project.takes)
    assert all(not item.icon(2).isNull() for item in shown)
    assert new.id in [item.text(0) for item in shown]


def test_a_relabelled_take_is_drawn_again_in_its_new_colour(qtbot, drawn):
    project = big_project()
    browser = DatasetBrowser(lambda *a: None, QtGui.QUndoStack(), lambda: None)
    qtbot.addWidget(browser)
    browser.refresh(project)
    drawn.clear()
    take = project.takes[0]
    project.relabel_take(take.id, "g3")
    browser.refresh(project)
    assert drawn == [(take.length, float(take.inputs[0, 0]))]
    # a take removed, then nothing is drawn at all
    drawn.clear()
    project.remove_take(project.takes[-1].id)
    browser.refresh(project)
    assert drawn == []
