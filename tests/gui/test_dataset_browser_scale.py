"""The dataset browser on a big project: a new take draws one thumbnail, not every take's,
and thumbnails are drawn off the window's thread.

At 20 gestures x 60 channels (150 takes), redrawing every take's thumbnail after each take
froze the window for seconds (benchmarks/studio_scale.py ``window``). The browser is driven
as the window drives it: ``refresh`` with the engine's project after each edit.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6 import QtGui

import gesturemap.gui.thumbnails as thumbnails_module
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


class _Drawn(list):
    """(frames, first value) per thumbnail drawn, and ``threads``: the thread of each."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[int] = []


@pytest.fixture
def drawn(monkeypatch):
    """The takes whose thumbnail the browser drew (by their number of frames and first
    value, which tell these takes apart), and the thread each was drawn on."""
    calls = _Drawn()
    real = thumbnails_module.take_image

    def counting(inputs, size, colour):
        calls.append((len(inputs), float(inputs[0, 0])))
        calls.threads.append(threading.get_ident())
        return real(inputs, size, colour)

    monkeypatch.setattr(thumbnails_module, "take_image", counting)
    return calls


def refreshed(qtbot, browser, project) -> None:  # noqa: ANN001
    """``browser.refresh(project)``, then wait for its thumbnails (drawn on a worker)."""
    browser.refresh(project)
    qtbot.waitUntil(lambda: browser.thumbnails_pending == 0, timeout=30000)


def test_a_new_take_draws_only_its_own_thumbnail(qtbot, drawn):
    project = big_project()
    browser = DatasetBrowser(lambda *a: None, QtGui.QUndoStack(), lambda: None)
    qtbot.addWidget(browser)
    refreshed(qtbot, browser, project)
    assert len(drawn) == len(project.takes)  # the first time, every take
    drawn.clear()
    new = project.add_take(np.full((25, 8), 7.0), "g2")
    refreshed(qtbot, browser, project)
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
    refreshed(qtbot, browser, project)
    drawn.clear()
    take = project.takes[0]
    project.relabel_take(take.id, "g3")
    refreshed(qtbot, browser, project)
    assert drawn == [(take.length, float(take.inputs[0, 0]))]
    # a take removed, then nothing is drawn at all
    drawn.clear()
    project.remove_take(project.takes[-1].id)
    refreshed(qtbot, browser, project)
    assert drawn == []


def test_thumbnails_are_drawn_off_the_window_thread_and_say_loading_meanwhile(qtbot, drawn):
    rng = np.random.default_rng(1)
    project = Project("long", classes=["a", "b"])
    for i in range(12):  # takes of 30 s at 100 Hz
        project.add_take(np.cumsum(rng.normal(size=(3000, 6)), axis=0), "ab"[i % 2])
    browser = DatasetBrowser(lambda *a: None, QtGui.QUndoStack(), lambda: None)
    qtbot.addWidget(browser)
    browser.refresh(project)  # returns without drawing: the thumbnails come later
    items = {browser.tree.topLevelItem(i).child(j).text(0): browser.tree.topLevelItem(i).child(j)
             for i in range(browser.tree.topLevelItemCount())
             for j in range(browser.tree.topLevelItem(i).childCount())}
    assert sorted(items) == sorted(t.id for t in project.takes)
    assert browser.thumbnails_pending == len(project.takes)
    assert all(item.text(2) == "loading…" and item.icon(2).isNull() for item in items.values())
    # a take can be picked while its picture is still being drawn
    browser.select_take(project.takes[3].id)
    assert [t.id for t in browser.selected_takes()] == [project.takes[3].id]
    qtbot.waitUntil(lambda: browser.thumbnails_pending == 0, timeout=30000)
    assert all(item.text(2) == "" and not item.icon(2).isNull() for item in items.values())
    assert len(drawn) == len(project.takes)
    assert threading.get_ident() not in drawn.threads


def test_a_long_take_is_drawn_as_its_whole_range():
    """A take of more frames than the picture has pixels is reduced to each pixel column's
    extremes: its highest and lowest moments still show."""
    from PySide6 import QtCore

    inputs = np.zeros((5000, 1))
    inputs[2500, 0] = 1.0  # one frame up: a thin spike mid-take
    inputs[4000, 0] = -1.0  # and one down
    image = thumbnails_module.take_image(inputs, QtCore.QSize(150, 44),
                                         QtGui.QColor("#ff0000"))
    background = QtGui.QColor("#1a202c").rgb()
    # the top and bottom rows (3 px margins) are reached at the spike's and the dip's columns
    top = [x for x in range(6, 150) if image.pixel(x, 3) != background]
    bottom = [x for x in range(6, 150) if image.pixel(x, 40) != background]
    assert top and all(70 <= x <= 80 for x in top), top
    assert bottom and all(110 <= x <= 120 for x in bottom), bottom
