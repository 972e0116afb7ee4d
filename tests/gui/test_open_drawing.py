"""Creating or opening a project keeps the window drawing while the old engine process stops
and the new one starts (seconds: a spawn and its imports), and says it is opening (Qt
offscreen, real engine processes)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from gesturemap.project import Project
from gesturemap.project.default import default_project

from .windows import open_window

# each bounds how long the window's thread stands still: with the machine to itself, as the
# suite's other latency bounds are (its other workers' engine processes start meanwhile else)
pytestmark = [pytest.mark.timeout(240), pytest.mark.slow, pytest.mark.alone]

#: the longest the window's thread may go without running its timers while a project opens
MAX_GAP_S = 0.2
#: the same while a project of many long takes opens and its Dataset tab is drawn (the
#: thumbnail worker shares the window's GIL: on a machine loaded by other work the window's
#: thread waits longer for it; drawn on the window's thread, the takes stood still 3 s)
LONG_TAKES_MAX_GAP_S = 0.5


class GapProbe:
    """A timer ticking every 10 ms on the window's thread: the longest interval between two
    ticks (how long the window went without drawing), and what the window said meanwhile."""

    def __init__(self, window) -> None:  # noqa: ANN001
        self.window = window
        self.said: set[str] = set()
        self.timer = QtCore.QTimer(window)  # (it ends with the window)
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.restart()
        self.timer.start()

    def restart(self) -> None:
        self.last = time.perf_counter()
        self.longest = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last)
        self.last = now
        self.said.add(self.window.train_status.text())

    def during(self, action):  # noqa: ANN001, ANN201
        """Run ``action`` with the window's events going on: its result, and the longest gap."""
        QtWidgets.QApplication.processEvents()
        self.restart()
        result = action()
        self._tick()
        return result, self.longest


def test_creating_a_project_on_a_slow_disk_keeps_the_window_drawing(qtbot, tmp_path,
                                                                     monkeypatch):
    """A new project's files are each synced to the disk as they are written: on a busy disk
    that waited a third of a second, with the window standing still while it did."""
    from gesturemap.project import create

    real = create.create_project

    def slow_disk(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        time.sleep(0.6)  # the writes' syncs, as a busy disk makes them wait
        return real(*args, **kwargs)

    monkeypatch.setattr(create, "create_project", slow_disk)
    window = open_window(qtbot, default_project(), tmp_path / "old", audio=False)
    probe = GapProbe(window)
    opened, gap = probe.during(lambda: window.new_project(tmp_path / "fresh", model="gmm"))
    assert opened and window.folder == tmp_path / "fresh" and window.engine.alive
    assert gap < LONG_TAKES_MAX_GAP_S, f"the window stood still {gap * 1e3:.0f} ms"
    assert "creating the project…" in probe.said


def test_new_and_open_keep_the_window_drawing(qtbot, tmp_path):
    old = tmp_path / "old"
    window = open_window(qtbot, default_project(), old, audio=False)
    probe = GapProbe(window)
    first = window.engine
    opened, gap = probe.during(lambda: window.new_project(tmp_path / "fresh", model="gmm"))
    assert opened and window.folder == tmp_path / "fresh" and window.engine is not first
    assert window.engine.alive and not first.alive
    assert gap < MAX_GAP_S, f"the window stood still {gap * 1e3:.0f} ms creating a project"
    assert "opening the project…" in probe.said
    opened, gap = probe.during(lambda: window.open_folder(old))
    assert opened and window.folder == old and window.engine.alive
    assert gap < MAX_GAP_S, f"the window stood still {gap * 1e3:.0f} ms opening a project"
    opened, gap = probe.during(lambda: window.open_folder(old))  # the same one again
    assert opened and window.folder == old and window.engine.alive
    assert gap < MAX_GAP_S, f"the window stood still {gap * 1e3:.0f} ms reopening a project"
    # once open, the window reads the new engine as ever
    window.refresh()
    assert window.train_status.text() == "not trained"
    assert window.project.name == Project.load(old).name
    probe.timer.stop()
    window.close()


def long_takes_project(folder, takes: int = 120, frames: int = 2000) -> Project:  # noqa: ANN001
    """A project of many long takes (20 s each at 100 Hz, 8 channels), saved in ``folder``."""
    rng = np.random.default_rng(0)
    project = Project("long takes", classes=["a", "b", "c"])
    for i in range(takes):
        project.add_take(np.cumsum(rng.normal(size=(frames, 8)), axis=0), "abc"[i % 3],
                         times=np.arange(frames) * 0.01)
    project.save(folder)
    return project


def test_a_project_of_many_long_takes_opens_with_the_window_drawing(qtbot, tmp_path):
    """Reading the takes and drawing the Dataset tab's thumbnails happen off the window's
    thread: the window stood still for seconds while a project of many long takes opened."""
    big = long_takes_project(tmp_path / "big")
    window = open_window(qtbot, default_project(), tmp_path / "small", audio=False)
    window.tabs.setCurrentWidget(window.dataset)
    probe = GapProbe(window)

    tree = window.dataset.tree

    def shown() -> list[QtWidgets.QTreeWidgetItem]:
        return [tree.topLevelItem(i).child(j) for i in range(tree.topLevelItemCount())
                for j in range(tree.topLevelItem(i).childCount())]

    def open_and_show() -> bool:
        opened = window.open_folder(tmp_path / "big")
        # until the Dataset tab shows every take with its picture
        qtbot.waitUntil(lambda: len(shown()) == len(big.takes)
                        and all(not it.icon(2).isNull() for it in shown()), timeout=120000)
        return opened

    opened, gap = probe.during(open_and_show)
    assert opened and window.folder == tmp_path / "big"
    assert "opening the project…" in probe.said
    assert gap < LONG_TAKES_MAX_GAP_S, (
        f"the window stood still {gap * 1e3:.0f} ms opening long takes")
    assert window.dataset.summary.text().startswith(f"{len(big.takes)} takes")
    probe.timer.stop()
    window.close()


def test_an_engine_that_cannot_start_is_said_and_the_project_before_kept(
        qtbot, tmp_path, monkeypatch, repo_dir):
    import subprocess
    import sys

    from gesturemap.project import lock

    from ..project.test_project_lock import HOLD

    first, busy = tmp_path / "first", tmp_path / "busy"
    Project(classes=["a"]).save(busy)
    window = open_window(qtbot, Project("first", classes=["a", "b"]), first, audio=False)
    shown = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning",
                        staticmethod(lambda parent, title, text: shown.append((title, text))))
    # another gesturemap takes the folder between the window's check and its engine's start
    monkeypatch.setattr(lock, "check_free", lambda folder: None)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(busy)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=repo_dir)
    try:
        assert holder.stdout.readline().strip() == "held"
        probe = GapProbe(window)
        opened, gap = probe.during(lambda: window.open_folder(busy))
        assert opened is False
        assert [title for title, _ in shown] == ["Cannot open"]
        assert str(busy) in shown[0][1] and "another gesturemap process" in shown[0][1]
        assert "ProjectBusy" not in shown[0][1]  # said in words, not a type name
        # the project before runs again, as it was
        assert window.folder == first and window.engine.alive
        assert [str(c) for c in window.project.classes] == ["a", "b"]
        assert gap < MAX_GAP_S, f"the window stood still {gap * 1e3:.0f} ms"
        window.refresh()
        assert window.windowTitle().startswith("gesturemap — first")
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    probe.timer.stop()
    window.close()


def test_a_dead_engine_restarts_with_the_window_drawing(qtbot, tmp_path):
    import os
    import signal

    window = open_window(qtbot, default_project(), tmp_path / "p", audio=False)
    probe = GapProbe(window)
    dead = window.engine.pid

    def crash_and_restart() -> None:
        os.kill(dead, signal.SIGKILL)  # as a crash in a library would
        qtbot.waitUntil(lambda: window.engine_restarts == 1 and window.engine.alive,
                        timeout=60000)

    _, gap = probe.during(crash_and_restart)
    assert window.engine.pid != dead
    assert "opening the project…" in probe.said and "restarted" in window.train_status.text()
    assert gap < MAX_GAP_S, f"the window stood still {gap * 1e3:.0f} ms restarting its engine"
    probe.timer.stop()
    window.close()
