"""The window never opens a port to the network on a project file's word alone, and undoes a
deletion that came over OSC. Qt offscreen, real loopback sockets, real files."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

from gesturemap.gui.window import MainWindow
from gesturemap.project import Project
from tests.stage_helpers import free_port

pytestmark = pytest.mark.timeout(120)


def _window(qtbot, project: Project, folder, confirm: bool | None = None) -> MainWindow:
    project.save(folder)
    window = MainWindow(Project.load(folder), folder, osc_in=None, trainer="thread",
                        engine="thread", audio=False)
    asked = []
    if confirm is not None:
        window.confirm_network = lambda host, port: asked.append(host) or confirm
    window.asked = asked
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.show()
    return window


def _sensor(window: MainWindow):
    sources = window.engine._sensor_sources
    return sources[0] if sources and sources[0].running else None


def test_a_project_asking_for_every_interface_listens_on_loopback_until_confirmed(
    qtbot, tmp_path
):
    project = Project(sensor={"transport": "osc", "host": "0.0.0.0", "port": 0})
    window = _window(qtbot, project, tmp_path / "p", confirm=False)
    qtbot.waitUntil(lambda: _sensor(window) is not None, timeout=10000)
    assert _sensor(window).host == "127.0.0.1"
    qtbot.waitUntil(lambda: window.asked == ["0.0.0.0"], timeout=10000)
    assert _sensor(window).host == "127.0.0.1"  # refused: stays on this machine
    assert window.engine.project.sensor["host"] == "0.0.0.0"  # the file is not rewritten

    other = _window(qtbot, project, tmp_path / "q", confirm=True)
    qtbot.waitUntil(lambda: other.asked == ["0.0.0.0"], timeout=10000)
    qtbot.waitUntil(lambda: _sensor(other) is not None and _sensor(other).host == "0.0.0.0",
                    timeout=10000)
    assert other.engine.stats()["network_request"] is None


def test_the_sensor_panel_asks_before_opening_the_network(qtbot, tmp_path):
    window = _window(qtbot, Project(), tmp_path / "p", confirm=False)
    window.set_sensor_settings({"transport": "osc", "host": "0.0.0.0", "port": 0})
    qtbot.waitUntil(lambda: _sensor(window) is not None, timeout=10000)
    assert window.asked == ["0.0.0.0"] and _sensor(window).host == "127.0.0.1"




@pytest.mark.parametrize("mode", ["thread", "process"])
def test_delete_all_examples_over_osc_is_undone_in_the_window(qtbot, tmp_path, mode):
    port = free_port()
    project = Project(sensor={"transport": "osc", "host": "127.0.0.1", "port": port})
    rng = np.random.default_rng(2)
    for i in range(3):
        project.add_take(rng.normal(size=(12, 2)), "ab"[i % 2])
    folder = tmp_path / "p"
    project.save(folder)
    window = MainWindow(Project.load(folder), folder, osc_in=None, trainer="thread",
                        engine=mode, audio=False)
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.show()

    def listening() -> bool:
        sources = window.engine.stats().get("sources") or {}
        return any(s.get("connected") for s in sources.values())

    qtbot.waitUntil(listening, timeout=20000)
    ids = [t.id for t in window.project.takes]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        tx.sendto(OscMessageBuilder("/wekinator/control/deleteAllExamples").build().dgram,
                  ("127.0.0.1", port))
    qtbot.waitUntil(lambda: len(window.project.takes) == 0, timeout=10000)
    qtbot.waitUntil(lambda: window.undo_stack.canUndo(), timeout=10000)
    assert "by OSC" in window.undo_stack.undoText()
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: [t.id for t in window.project.takes] == ids, timeout=10000)
    window.undo_stack.redo()
    qtbot.waitUntil(lambda: len(window.project.takes) == 0, timeout=10000)
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: len(window.project.takes) == 3, timeout=10000)
    qtbot.waitUntil(lambda: len(list((folder / "takes").glob("*.npz"))) == 3, timeout=10000)
    assert not list((folder / "trash").glob("*.npz"))


def test_undoing_a_delete_in_the_window_brings_the_take_back_from_the_trash(qtbot, tmp_path):
    from PySide6 import QtCore

    folder = tmp_path / "p"
    project = Project()
    rng = np.random.default_rng(3)
    for i in range(3):
        project.add_take(rng.normal(size=(12, 2)), "ab"[i % 2])
    window = _window(qtbot, project, folder)
    window.tabs.setCurrentWidget(window.dataset)
    qtbot.waitUntil(lambda: window.dataset.tree.topLevelItemCount() == 2, timeout=10000)
    window.dataset.select_take("take-000001")
    qtbot.mouseClick(window.dataset.delete_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (folder / "trash" / "take-000001.npz").exists(), timeout=10000)
    assert not (folder / "takes" / "take-000001.npz").exists()
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: (folder / "takes" / "take-000001.npz").exists(), timeout=10000)
    assert "take-000001" in [t.id for t in window.engine.project.takes]  # its own id
    # no stale copy left in the trash (its two files move one after the other: the data, then
    # the description)
    qtbot.waitUntil(lambda: not list((folder / "trash").glob("*")), timeout=10000)


def _listening_window(qtbot, project: Project, folder) -> MainWindow:
    """The window on ``project`` saved in ``folder``, once its OSC sensor listens."""
    project.save(folder)
    window = MainWindow(Project.load(folder), folder, osc_in=None, trainer="thread",
                        engine="thread", audio=False)
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.show()
    qtbot.waitUntil(lambda: any(s.get("connected") for s in (
        window.engine.stats().get("sources") or {}).values()), timeout=20000)
    return window


def test_a_per_output_deletion_over_osc_is_undone_and_redone_in_the_window(qtbot, tmp_path):
    port = free_port()
    specs = [{"target": n, "type": "regressor", "kind": "linear"} for n in "ab"]
    project = Project(sensor={"transport": "osc", "host": "127.0.0.1", "port": port},
                      output_names=["a", "b"],
                      model={"kind": "per_output", "params": {"outputs": specs}})
    rng = np.random.default_rng(7)
    for label in ("take", "outputs 2", "take"):
        project.add_take(rng.normal(size=(12, 2)), label, outputs=rng.normal(size=(12, 2)))
    folder = tmp_path / "p"
    window = _listening_window(qtbot, project, folder)
    before = {t.id: t.label for t in window.project.takes}

    def labels() -> dict:
        return {t.id: t.label for t in window.project.takes}

    message = OscMessageBuilder("/wekinator/control/deleteExamplesForOutput")
    message.add_arg(2)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        tx.sendto(message.build().dgram, ("127.0.0.1", port))
    after = {"take-000000": "outputs 1", "take-000002": "outputs 1"}
    qtbot.waitUntil(lambda: labels() == after, timeout=10000)
    qtbot.waitUntil(lambda: window.undo_stack.canUndo(), timeout=10000)
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: labels() == before, timeout=10000)
    window.undo_stack.redo()
    qtbot.waitUntil(lambda: labels() == after, timeout=10000)
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: labels() == before, timeout=10000)
    qtbot.waitUntil(lambda: {t.id: t.label for t in Project.load(folder).takes} == before,
                    timeout=10000)


def test_a_correction_refused_over_osc_is_said_in_the_window(qtbot, tmp_path):
    """The window did not send it, so it waited for nothing: the refusal used to be in the log
    only."""
    port = free_port()
    project = Project(sensor={"transport": "osc", "host": "127.0.0.1", "port": port},
                      model={"kind": "hhmm", "params": {"states": 10}})
    folder = tmp_path / "p"
    window = _listening_window(qtbot, project, folder)
    # the window's first look at the engine's counters (what it compares later ones with)
    qtbot.waitUntil(lambda: getattr(window, "_failures_seen", None) is not None, timeout=10000)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        frames = [("/wek/inputs", 0.1 * i, 0.2) for i in range(5)]
        for address, *values in [("/gesturemap/reset",), *frames, ("/gesturemap/correct",
                                                                    "tiny")]:
            message = OscMessageBuilder(address)
            for v in values:
                message.add_arg(v)
            tx.sendto(message.build().dgram, ("127.0.0.1", port))
    qtbot.waitUntil(lambda: "refused" in window.train_status.text(), timeout=10000)
    assert "states=10" in window.train_status.text()
    # in the person's words: not the command's name the log and OSC clients read
    assert "correct:" not in window.train_status.text(), window.train_status.text()
    assert window.engine.project.takes == ()
