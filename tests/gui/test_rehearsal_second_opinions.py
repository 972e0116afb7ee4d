"""The Rehearsal tab's second opinions (Qt offscreen, a real engine process, the training in
the window's worker process): from a rehearsal file with its gestures labelled, the window
stores the relabeller and the window detector that ``gesturemap train DIR --relabeler FILE
--detector FILE`` would store, in one undo step; a project changed meanwhile stores nothing;
and the engine refuses a second opinion that does not fit its model."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from PySide6 import QtCore

from gesturemap.cli import main
from gesturemap.errors import GesturemapError
from gesturemap.live.engine import Engine
from gesturemap.project import Project
from tests.evaluation.spotting.test_scores import ramp_streams
from tests.stage_helpers import wait_for
from tests.test_cli_train_verifier import _npz
from tests.test_cli_train_verifier import _project as ramp_project

from .windows import open_window


@pytest.fixture(scope="module")
def streams():
    return ramp_streams(4, excursions=True)


def _spotting(window):
    return window.project.model["spotting"]


def test_second_opinions_trained_in_the_window_as_the_command_line_trains_them(
        qtbot, tmp_path, streams, capsys):
    # what the command line stores, on a copy of the same project
    cli = tmp_path / "cli"
    ramp_project(cli, streams)
    path = str(_npz(tmp_path / "rehearsal.npz", streams))
    assert main(["train", str(cli), "--relabeler", path, "--detector", path]) == 0
    expected = Project.load(cli).model["spotting"]
    assert expected["verifier"]["summary"]["kind"] == "relabeller"  # there is work to do
    capsys.readouterr()

    folder = tmp_path / "proj"
    window = open_window(qtbot, ramp_project(tmp_path / "made", streams), folder)
    panel = window.rehearsal
    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: window.engine.model is not None, timeout=30000)
    assert not panel.second_button.isEnabled()  # no file with gestures labelled yet
    panel.use_files([path])
    assert panel.second_button.isEnabled()
    panel.second_button.click()
    assert panel.second_button.text() == "Cancel the second opinions"  # one at a time
    qtbot.waitUntil(lambda: "stored" in panel.second_status.text(), timeout=180000)
    text = panel.second_status.text()
    assert "relabeller chosen" in text and "detector " in text, text
    for key in ("verifier", "detector"):
        qtbot.waitUntil(lambda k=key: _spotting(window).get(k) == expected.get(k),
                        timeout=10000)
        qtbot.waitUntil(lambda k=key: Project.load(folder).model["spotting"].get(k)
                        == expected.get(k), timeout=10000)
    # the Model tab shows it and keeps it in the settings it sends
    qtbot.waitUntil(lambda: window.model_panel.spotting.spotting().get("verifier")
                    == expected["verifier"], timeout=5000)
    assert panel.second_button.isEnabled()

    # Ctrl+Z takes them back, in the window, the engine and the saved project
    window.activateWindow()
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "verifier" not in _spotting(window), timeout=10000)
    qtbot.waitUntil(lambda: "verifier" not in Project.load(folder).model["spotting"],
                    timeout=10000)
    qtbot.waitUntil(lambda: "verifier" not in window.model_panel.spotting.spotting(),
                    timeout=5000)


def _held_window(qtbot, tmp_path, streams):
    """A window on the ramps' project with the rehearsal file loaded, whose second opinions'
    result is held back while ``held[0]`` (the training stays under way for the window,
    however fast or loaded the machine): (window, folder, held)."""
    folder = tmp_path / "proj"
    window = open_window(qtbot, ramp_project(tmp_path / "made", streams), folder)
    qtbot.waitUntil(lambda: window.engine.model is not None, timeout=30000)
    window.rehearsal.use_files([str(_npz(tmp_path / "rehearsal.npz", streams))])
    worker, held = window.quality_worker, [True]
    poll = worker.poll_second_opinions
    worker.poll_second_opinions = lambda: None if held[0] else poll()
    return window, folder, held


def test_a_project_changed_while_they_trained_stores_nothing(qtbot, tmp_path, streams):
    window, folder, held = _held_window(qtbot, tmp_path, streams)
    panel = window.rehearsal
    panel.second_button.click()
    window.train_second_opinions()  # (from a shortcut, say) one at a time: it says so
    assert "being trained already" in panel.second_status.text()
    # a spotting setting changed meanwhile: the relabeller read the events of the old one
    window.engine_command("set_spotting_values", {"thresholds": {"1": 1.5}})
    qtbot.waitUntil(lambda: _spotting(window).get("thresholds") == {"1": 1.5}, timeout=10000)
    # while it trains, the tab shows the step its worker is at and counts the seconds
    def counted() -> int:
        found = re.search(r"… (relabeller|detector): [^()]+ \((\d+) s\)$",
                          panel.second_status.text())
        return int(found.group(2)) if found else 0
    # (its worker process starts and reads the rehearsal first: seconds beside other tests)
    qtbot.waitUntil(lambda: counted() >= 2, timeout=120000)
    assert panel.second_button.text() == "Cancel the second opinions"
    progress = window._second_progress
    assert progress is not None and os.path.exists(progress)
    held[0] = False
    qtbot.waitUntil(lambda: "changed while they trained" in panel.second_status.text(),
                    timeout=180000)
    assert not os.path.exists(progress)  # the step's file goes with the training
    assert panel.second_status.text().startswith("no second opinions: ")
    assert "verifier" not in _spotting(window)
    assert "verifier" not in Project.load(folder).model["spotting"]


def test_a_cancelled_training_ends_its_worker_and_stores_nothing(qtbot, tmp_path, streams):
    window, folder, held = _held_window(qtbot, tmp_path, streams)
    panel, worker = window.rehearsal, window.quality_worker
    panel.second_button.click()
    qtbot.waitUntil(lambda: bool(getattr(worker._long_pool, "_processes", None)),
                    timeout=30000)
    processes = list(worker._long_pool._processes.values())
    panel.second_button.click()  # now "Cancel the second opinions"
    assert panel.second_status.text() == "no second opinions: cancelled: nothing stored"
    assert panel.second_button.text() == "Train second opinions"
    qtbot.waitUntil(lambda: not any(p.is_alive() for p in processes), timeout=10000)
    held[0] = False
    qtbot.wait(500)
    assert "verifier" not in _spotting(window)
    assert "verifier" not in Project.load(folder).model["spotting"]
    # and the next training runs in a new worker, to the end
    panel.second_button.click()
    qtbot.waitUntil(lambda: "stored the relabeller" in panel.second_status.text(),
                    timeout=180000)
    qtbot.waitUntil(lambda: "verifier" in Project.load(folder).model["spotting"],
                    timeout=10000)


def test_the_engine_refuses_a_second_opinion_that_does_not_fit_its_model(tmp_path, streams):
    ramp_project(tmp_path / "other", streams)
    assert main(["train", str(tmp_path / "other"), "--relabeler",
                 str(_npz(tmp_path / "r.npz", streams))]) == 0
    verifier = Project.load(tmp_path / "other").model["spotting"]["verifier"]
    # a project with a third gesture: the relabeller names two
    project = ramp_project(tmp_path / "p", streams)
    project.add_take(np.linspace([0.0, 0.0], [1.0, 0.5], 40), "3")
    project.train()
    engine = Engine(project, osc_in=None, trainer="thread")
    before = dict(project.model["spotting"])
    with pytest.raises(GesturemapError, match="the verifier does not fit the running model"):
        engine._cmd_set_spotting_values({"verifier": verifier})
    assert project.model["spotting"] == before
    # running, the check is made off the frame path, and the refusal is the same
    engine.start()
    try:
        engine.command("set_spotting_values", {"verifier": verifier})
        wait_for(lambda: "set_spotting_values" in engine.refused)
        assert "the verifier does not fit the running model" in (
            engine.refused["set_spotting_values"][1])
        assert project.model["spotting"] == before
    finally:
        engine.stop()
