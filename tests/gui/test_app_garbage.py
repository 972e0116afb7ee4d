"""The app collects Python's cyclic garbage in its GUI thread only: left automatic, the
collector runs in whichever thread allocates, and a background thread freeing Qt objects
deadlocks against the GUI thread deleting others."""

from __future__ import annotations

import gc
import signal
import time
import weakref

import pytest
from PySide6 import QtWidgets

import gesturemap.gui as gui
from gesturemap.project import Project


class _Node:
    pass


def test_the_app_collects_on_a_timer_in_its_gui_thread(monkeypatch, tmp_path) -> None:
    folder = tmp_path / "p"
    Project("gc", classes=["a", "b"]).save(folder)
    seen = {}

    def exec_(app):  # in the event loop's place: what the app set up before it
        seen["automatic"] = gc.isenabled()
        nodes = [_Node() for _ in range(2000)]
        for n in nodes:
            n.me = n  # cycles: only a collection frees them
        ref = weakref.ref(nodes[0])
        del nodes, n
        end = time.monotonic() + 3.0
        while ref() is not None and time.monotonic() < end:
            app.processEvents()  # the collector's timer fires here, in this thread
            time.sleep(0.01)
        seen["freed"] = ref() is None
        return 0

    monkeypatch.setattr(QtWidgets.QApplication, "exec", exec_)
    try:
        assert gui.main(folder, trainer="thread", audio=False) == 0
    finally:
        gc.enable()
        for w in QtWidgets.QApplication.topLevelWidgets():
            w.close()
    assert seen == {"automatic": False, "freed": True}


def test_a_script_that_opened_the_window_goes_on_as_it_was(monkeypatch, tmp_path) -> None:
    """Closed, the window left its own Ctrl-C handler (a first Ctrl-C in the script that
    opened it closed a window already gone instead of raising KeyboardInterrupt) and
    Python's automatic garbage collection off."""
    folder = tmp_path / "p"
    Project("gc", classes=["a", "b"]).save(folder)
    names = ["SIGINT", "SIGTERM"]
    before = {n: signal.getsignal(getattr(signal, n)) for n in names}
    gc_was = gc.isenabled()
    during = {}

    def exec_(app):  # noqa: ANN001 - in the event loop's place: what the window set up
        during.update({n: signal.getsignal(getattr(signal, n)) for n in names})
        during["gc"] = gc.isenabled()
        return 0

    monkeypatch.setattr(QtWidgets.QApplication, "exec", exec_)
    try:
        assert gui.main(folder, trainer="thread", audio=False) == 0
    finally:
        for w in QtWidgets.QApplication.topLevelWidgets():
            w.close()
    # the window had its own (so this test would see them left)
    assert during["SIGINT"] is not before["SIGINT"] and during["gc"] is False
    assert {n: signal.getsignal(getattr(signal, n)) for n in names} == before
    assert gc.isenabled() is gc_was


def test_a_window_opened_anywhere_is_collected_in_its_gui_thread_only(qtbot, tmp_path) -> None:
    """A window opened by a script, the screenshots tool or the latency benchmark (not by
    :func:`gesturemap.gui.main`): while it is open, a background thread making cyclic garbage
    never runs the collector (it once freed a Qt object there and froze the window against
    its GUI thread); the GUI thread collects that garbage on its timer; once closed,
    collection is automatic again."""
    import threading

    from tests.gui.windows import open_window

    gc.collect()
    assert gc.isenabled()
    window = open_window(qtbot, Project("gc", classes=["a", "b"]), tmp_path / "p",
                         engine="thread", audio=False)
    collectors: list[int] = []

    def seen(phase: str, _info: dict) -> None:
        if phase == "start":
            collectors.append(threading.get_ident())

    made = []

    def make_garbage() -> None:  # far past the threshold that starts an automatic collection
        for _ in range(20_000):
            n = _Node()
            n.me = n
        made.append(weakref.ref(n))

    gc.callbacks.append(seen)
    try:
        automatic = gc.isenabled()
        thread = threading.Thread(target=make_garbage)
        thread.start()
        thread.join()
        background = list(collectors)
        qtbot.waitUntil(lambda: made[0]() is None, timeout=5000)  # the GUI thread's timer
    finally:
        gc.callbacks.remove(seen)
    assert background == []
    assert collectors and set(collectors) == {threading.main_thread().ident}
    assert automatic is False
    window.close()
    assert gc.isenabled()


def test_a_window_that_fails_to_open_leaves_collection_as_it_was(monkeypatch, qtbot, tmp_path):
    from gesturemap.gui.window import MainWindow

    def fails(self, project):  # noqa: ANN001, ARG001 - as an engine that cannot start
        raise RuntimeError("no engine")

    monkeypatch.setattr(MainWindow, "_open_engine", fails)
    folder = tmp_path / "p"
    Project("gc", classes=["a", "b"]).save(folder)
    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="no engine"):
        MainWindow(Project.load(folder), folder, trainer="thread", engine="thread", audio=False)
    assert gc.isenabled()
