"""The Rehearsal tab (Qt offscreen, a real engine process, the audit in the window's worker
process): the window's figures are ``gm.audit``'s on the same inputs, nothing is written
before Apply, Apply and Ctrl+Z, and costs edited in the window steer the next audit (and
the running spotter: tests/live/test_engine_costs.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6 import QtCore

from gesturemap.cli import main
from gesturemap.evaluation.audit import audit
from gesturemap.evaluation.rehearsal import rehearsal_frames
from gesturemap.evaluation.spotting.streams import read_stream_file
from gesturemap.project import Project, kept_rehearsals
from gesturemap.project.lock import LOCK_FILE
from gesturemap.utils.storage import save_npz
from tests.recordings import ramp, rehearsal_project, rest

from .windows import open_window

BUDGET = 1.0


def _project_and_rehearsal(tmp_path, **settings):
    """The project and its rehearsal (:func:`tests.recordings.rehearsal_project`), the
    rehearsal as a stream file outside the project's folder."""
    project, x = rehearsal_project(**settings)
    path = tmp_path / "rehearsal.npz"
    save_npz(path, X_concat=x, labels_concat=np.zeros(len(x), dtype=np.int64),
             lengths=np.array([len(x)]))
    return project, path


def _expected(folder, path, costs=None):
    """``gm.audit`` on the same inputs, as ``gesturemap audit DIR REHEARSAL`` runs it."""
    project = Project.load(folder)
    recordings, labels, _, _, rate = rehearsal_frames([str(path)], project)
    return audit(project.trained, recordings, BUDGET, costs, labels=labels,
                 takes=project.dataset(), rate_hz=rate,
                 spotting=project.model["spotting"])


def _files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != LOCK_FILE}


def _spotting(window):
    return window.project.model["spotting"]


def _audit_file(qtbot, panel, path) -> None:
    """Audit the rehearsal file ``path`` in the tab, at :data:`BUDGET`, and wait for its
    result (a refusal fails the test, with the reason)."""
    panel.use_files([str(path)])
    panel.budget.setValue(BUDGET)
    panel.audit_button.click()
    qtbot.waitUntil(lambda: panel.result is not None
                    or panel.status.text().startswith("no audit"), timeout=120000)
    assert panel.result is not None, panel.status.text()


def test_audit_in_the_window_apply_undo_and_costs(qtbot, tmp_path):
    project, path = _project_and_rehearsal(tmp_path)
    folder = tmp_path / "proj"
    window = open_window(qtbot, project, folder)
    panel = window.rehearsal
    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: window.engine.model is not None, timeout=30000)
    expected = _expected(folder, path)
    assert expected.baseline_false_alarms["explosion"] > 0  # the audit has work to do
    before = _files(folder)

    panel.use_files([str(path)])
    panel.budget.setValue(BUDGET)
    panel.audit_button.click()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=120000)
    result = panel.result
    assert "error" not in result
    # the window's figures are gm.audit's
    assert result["thresholds"] == expected.thresholds
    assert result["predicted_false_alarms"] == expected.predicted_false_alarms
    assert result["predicted_recall"] == expected.predicted_recall
    assert result["baseline_false_alarms"] == expected.baseline_false_alarms
    assert result["met"] == expected.met
    rows = {panel.table.item(i, 0).text(): [panel.table.item(i, j).text() for j in range(1, 6)]
            for i in range(panel.table.rowCount())}
    assert sorted(rows) == sorted(expected.labels)
    for lb in expected.labels:
        assert rows[lb][0] == f"{expected.baseline_false_alarms[lb]:.2f}"
        assert rows[lb][1] == f"{expected.predicted_false_alarms[lb]:.2f}"
        assert rows[lb][3] == f"{100 * expected.predicted_recall[lb]:.0f}%"
        assert rows[lb][4].startswith(f"{expected.thresholds[lb]:.1f} ")
    assert ("met" in panel.verdict.text()) and (
        ("NOT" in panel.verdict.text()) == (not expected.met))
    # what a rehearsal this long can show of the budget, said with the verdict
    assert result["shown"] == expected.shown
    assert "95 % upper bound" in panel.verdict.text()
    assert ("Too short to show the budget" in panel.verdict.text()) == (not expected.shown)
    assert result["recall_drop"] == expected.recall_drop
    assert f"new performers: about {100 * expected.recall_drop:.0f}%" in panel.verdict.text()
    assert result["found_share_lost"] == expected.found_share_lost
    assert (f", {100 * expected.found_share_lost:.0f}% of those the present thresholds find"
            in panel.verdict.text())
    assert panel.triggers.count() == max(len(expected.events), 1)
    # one curve per gesture, and one circle each at the proposed threshold
    assert len(panel.plot.getPlotItem().listDataItems()) == 2 * len(expected.labels)
    # nothing written before Apply
    qtbot.wait(300)
    assert _files(folder) == before
    assert "thresholds" not in _spotting(window)

    # Apply: into the project's spotting settings, saved; Ctrl+Z takes them back
    panel.apply_button.click()
    qtbot.waitUntil(lambda: _spotting(window).get("thresholds") == expected.thresholds,
                    timeout=10000)
    qtbot.waitUntil(lambda: Project.load(folder).model["spotting"].get("thresholds")
                    == expected.thresholds, timeout=10000)
    # applied: a second press would change nothing, so there is none
    qtbot.waitUntil(lambda: not panel.apply_button.isEnabled(), timeout=5000)
    # the Model tab keeps them in the settings it sends
    qtbot.waitUntil(lambda: "thresholds" in window.model_panel.spotting.spotting(),
                    timeout=5000)
    window.activateWindow()
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "thresholds" not in _spotting(window), timeout=10000)
    qtbot.waitUntil(lambda: "thresholds" not in Project.load(folder).model["spotting"],
                    timeout=10000)
    qtbot.waitUntil(lambda: "thresholds" not in window.model_panel.spotting.spotting(),
                    timeout=5000)
    qtbot.waitUntil(panel.apply_button.isEnabled, timeout=5000)  # taken back: to apply again

    # a costly false explosion, typed in the window: stored, and the next audit follows it
    box = panel.findChild(type(panel.budget), "cost.explosion.false")
    box.setValue(10.0)
    stored = {"explosion": {"false": 10.0, "miss": 1.0}}
    qtbot.waitUntil(lambda: _spotting(window).get("costs") == stored, timeout=10000)
    qtbot.waitUntil(lambda: Project.load(folder).model["spotting"].get("costs") == stored,
                    timeout=10000)
    costed = _expected(folder, path, costs=stored)
    assert costed.multipliers["explosion"] > expected.multipliers["explosion"]
    panel.audit_button.click()
    qtbot.waitUntil(lambda: panel.result is not result and panel.result is not None,
                    timeout=120000)
    assert panel.result["costs"] == costed.costs  # with the level explosion competes from
    assert panel.result["thresholds"] == costed.thresholds
    assert panel.result["predicted_false_alarms"] == costed.predicted_false_alarms
    # undo the costs: back to none, and the boxes show it
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: "costs" not in _spotting(window), timeout=10000)
    qtbot.waitUntil(lambda: box.value() == 1.0, timeout=5000)


def test_a_cost_waiting_for_an_untrained_gesture_neither_stops_the_audit_nor_is_lost(
        qtbot, tmp_path):
    """A cost or a threshold given for a gesture declared but not trained yet waits in the
    settings (the spotter sets it aside): the audit follows the others, and Apply keeps both
    (it replaced the thresholds whole, erasing the waiting one)."""
    project, path = _project_and_rehearsal(tmp_path)
    project.add_class("thunder")
    waiting = {"false": 5.0, "miss": 1.0}
    costs = {"explosion": {"false": 10.0, "miss": 1.0}, "thunder": waiting}
    project.model = {**project.model, "spotting": {"costs": costs,
                                                   "thresholds": {"thunder": 12.0}}}
    folder = tmp_path / "proj"
    window = open_window(qtbot, project, folder)
    panel = window.rehearsal
    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: window.engine.model is not None, timeout=30000)
    _audit_file(qtbot, panel, path)
    expected = _expected(folder, path, costs={"explosion": costs["explosion"]})
    assert panel.result["thresholds"] == expected.thresholds
    panel.apply_button.click()
    qtbot.waitUntil(lambda: Project.load(folder).model["spotting"].get("thresholds")
                    == {**expected.thresholds, "thunder": 12.0}, timeout=10000)
    assert Project.load(folder).model["spotting"]["costs"] == {**expected.costs,
                                                               "thunder": waiting}


def test_the_now_columns_are_the_projects_thresholds(qtbot, tmp_path):
    """The tab's "now" columns were the default level's, whatever thresholds the project
    stored (after an Apply, its own thresholds showed the default level's false triggers)."""
    import gesturemap as gm

    project, path = _project_and_rehearsal(tmp_path)
    spotter = gm.Spotter(project.trained)
    strict = 2.6 * spotter.typical_scores_[spotter.labels.index("explosion")]
    project.model = {**project.model, "spotting": {"thresholds": {"explosion": strict}}}
    folder = tmp_path / "proj"
    window = open_window(qtbot, project, folder)
    panel = window.rehearsal
    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: window.engine.model is not None, timeout=30000)
    saved = Project.load(folder)
    recordings, _, _, _, rate = rehearsal_frames([str(path)], saved)
    minutes = sum(len(x) for x in recordings) / rate / 60.0

    def per_minute(**thresholds):  # explosion's false triggers: the rehearsal is all null
        return sum(str(ev.label) == "explosion" for x in recordings
                   for ev in gm.spot(saved.trained, x, **thresholds)) / minutes

    stored, default = per_minute(thresholds={"explosion": strict}), per_minute()
    assert f"{stored:.2f}" != f"{default:.2f}"
    _audit_file(qtbot, panel, path)
    rows = {panel.table.item(i, 0).text(): i for i in range(panel.table.rowCount())}
    now = panel.table.item(rows["explosion"], 1)
    assert now.text() == f"{stored:.2f}"
    assert f"{strict:.1f}" in now.toolTip()
    expected = _expected(folder, path)  # with the project's spotting settings, as stored
    assert panel.result["baseline_false_alarms"] == expected.baseline_false_alarms
    assert panel.result["baseline_recall"] == expected.baseline_recall
    assert panel.result["baseline_thresholds"]["explosion"] == strict
    assert panel.result["thresholds"] == expected.thresholds


def test_a_cost_edited_in_the_table_leaves_the_other_costs_as_stored(qtbot, tmp_path):
    """Editing swell's miss cost rewrote every cost from the boxes: explosion lost the level
    an audit made it compete from (the spotter then held its runner-up back from another
    score), and a cost waiting for a gesture not trained yet was dropped."""
    project, _ = _project_and_rehearsal(tmp_path)
    project.add_class("thunder")
    costly = {"false": 10.0, "miss": 1.0, "competes_from": 40.0}
    waiting = {"false": 5.0, "miss": 1.0}
    project.model = {**project.model, "spotting": {"costs": {"explosion": costly,
                                                             "thunder": waiting}}}
    folder = tmp_path / "proj"
    window = open_window(qtbot, project, folder)
    panel = window.rehearsal
    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: window.engine.model is not None, timeout=30000)
    qtbot.waitUntil(lambda: panel.findChild(type(panel.budget), "cost.swell.miss") is not None,
                    timeout=10000)
    panel.findChild(type(panel.budget), "cost.swell.miss").setValue(0.5)
    expected = {"explosion": costly, "thunder": waiting, "swell": {"false": 1.0, "miss": 0.5}}
    qtbot.waitUntil(lambda: _spotting(window).get("costs", {}).get("swell") is not None,
                    timeout=10000)
    assert _spotting(window)["costs"] == expected
    qtbot.waitUntil(lambda: Project.load(folder).model["spotting"].get("costs") == expected,
                    timeout=10000)


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_a_rehearsal_recorded_in_the_window_is_audited_and_never_a_take(qtbot, tmp_path, mode):
    """The sensor's frames while "Record a rehearsal" is down are the rehearsal: all of
    them, in order, and no take; the audit is gm.audit's on them. The engine in a process
    of its own or on a thread of the window's."""
    from gesturemap.evaluation.rehearsal import recorded_rehearsal
    from gesturemap.sources.base import Frame

    # an OSC sensor (the mouse pad is then off): the frames below stand for its
    project, _ = _project_and_rehearsal(
        tmp_path, sensor={"transport": "osc", "host": "127.0.0.1", "port": 0})
    folder = tmp_path / "proj"
    window = open_window(qtbot, project, folder, engine=mode)
    panel = window.rehearsal
    engine = window.engine
    qtbot.waitUntil(lambda: engine.model is not None, timeout=30000)
    qtbot.waitUntil(lambda: not window.pad.active, timeout=5000)
    rng = np.random.default_rng(4)
    takes = [t.id for t in window.project.takes]
    x = np.vstack([rest(rng, 1, 300), ramp(rng, False, 40), rest(rng, 0, 260)])
    panel.record.click()
    assert panel.record.isChecked()
    start = engine.ring.count
    t0 = 1000.0
    for i, frame in enumerate(x):  # 50 frames/s of sensor time, sent at once
        engine.queue.put(Frame(t0 + 0.02 * i, frame, "test"))
    qtbot.waitUntil(lambda: engine.ring.count - start >= len(x), timeout=20000)
    qtbot.wait(100)  # the timer's read of the last frames
    panel.record.click()
    times, frames = window.recorded_rehearsal()
    np.testing.assert_allclose(frames, x)
    np.testing.assert_allclose(times, t0 + 0.02 * np.arange(len(x)))
    assert f"{len(x)} frames" in panel.source.text()
    panel.budget.setValue(BUDGET)
    panel.audit_button.click()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=120000)
    assert "error" not in panel.result, panel.result
    saved = Project.load(folder)
    assert [t.id for t in saved.takes] == takes == [t.id for t in window.project.takes]
    recordings, labels, rate = recorded_rehearsal(saved, frames, times)
    expected = audit(saved.trained, recordings, BUDGET, None, labels=labels,
                     takes=saved.dataset(), rate_hz=rate,
                     spotting=saved.model["spotting"])
    assert panel.result["null_minutes"] == expected.null_minutes
    assert expected.null_minutes == pytest.approx(len(x) / 50 / 60)
    assert panel.result["thresholds"] == expected.thresholds
    assert panel.result["baseline_false_alarms"] == expected.baseline_false_alarms
    # the project keeps it (it existed nowhere else), frames and times, as a stream file
    qtbot.waitUntil(lambda: "kept in the project as rehearsal-" in panel.source.text(),
                    timeout=20000)
    (kept,) = kept_rehearsals(folder)
    np.testing.assert_allclose(read_stream_file(kept)[0], x)
    np.testing.assert_allclose(np.load(kept)["times_concat"], times)
    assert panel.kept_paths == [str(kept)]
    # and `gesturemap audit DIR` audits it as the window did
    assert main(["audit", str(folder), "--budget", str(BUDGET), "--json",
                 str(tmp_path / "kept.json")]) == 0
    from_file = json.loads((tmp_path / "kept.json").read_text())
    assert from_file["thresholds"] == expected.thresholds
    assert from_file["null_minutes"] == pytest.approx(expected.null_minutes)


def test_a_loaded_file_kept_in_the_project_is_the_rehearsal_when_it_opens_again(
        qtbot, tmp_path):
    """Keep in the project copies the loaded file (nothing before it is pressed); the project
    opened again starts from every rehearsal it keeps; Remove moves one into the trash."""
    project, path = _project_and_rehearsal(tmp_path)
    folder = tmp_path / "proj"
    window = open_window(qtbot, project, folder)
    panel = window.rehearsal
    qtbot.waitUntil(lambda: window.engine.model is not None, timeout=30000)
    assert not panel.kept.isEnabled() and not panel.keep_button.isEnabled()
    panel.use_files([str(path)])
    assert panel.keep_button.isEnabled()
    qtbot.wait(1200)  # two listings of the folder: loading alone keeps nothing
    assert kept_rehearsals(folder) == []
    panel.keep_button.click()
    qtbot.waitUntil(lambda: "kept in the project as rehearsal" in panel.status.text(),
                    timeout=20000)
    (kept,) = kept_rehearsals(folder)
    assert kept.name == "rehearsal.npz" and kept.read_bytes() == path.read_bytes()
    # the copy stands for the file: the original can go
    assert panel.paths == [str(kept)] and panel.chosen_kept() == str(kept)
    assert not panel.keep_button.isEnabled() and panel.remove_button.isEnabled()
    path.unlink()
    window.close()

    window = open_window(qtbot, Project.load(folder), folder)
    panel = window.rehearsal
    qtbot.waitUntil(lambda: panel.paths == [str(kept)], timeout=20000)
    assert panel.kept.currentIndex() == 0 and "every rehearsal the project keeps (1)" in (
        panel.source.text())
    qtbot.waitUntil(lambda: window.engine.model is not None, timeout=30000)
    panel.budget.setValue(BUDGET)
    panel.audit_button.click()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=120000)
    expected = _expected(folder, kept)
    assert panel.result["thresholds"] == expected.thresholds
    assert panel.result["baseline_false_alarms"] == expected.baseline_false_alarms

    panel.choose_kept(1)
    assert panel.remove_button.isEnabled()
    panel.remove_button.click()
    qtbot.waitUntil(lambda: "moved to the project's trash" in panel.status.text(),
                    timeout=20000)
    assert kept_rehearsals(folder) == [] and panel.paths is None
    assert (folder / "trash" / "rehearsals" / "rehearsal.npz").exists()
    qtbot.waitUntil(lambda: not panel.kept.isEnabled(), timeout=5000)


def _osc_sensor_window(qtbot, tmp_path):
    """A window on the rehearsal project with an OSC sensor (the mouse pad off), its model
    running: (window, folder)."""
    project, _ = _project_and_rehearsal(
        tmp_path, sensor={"transport": "osc", "host": "127.0.0.1", "port": 0})
    folder = tmp_path / "proj"
    window = open_window(qtbot, project, folder)
    qtbot.waitUntil(lambda: window.engine.model is not None, timeout=30000)
    return window, folder


def test_a_rehearsal_being_recorded_when_the_window_closes_is_kept(qtbot, tmp_path):
    from gesturemap.sources.base import Frame

    window, folder = _osc_sensor_window(qtbot, tmp_path)
    panel, engine = window.rehearsal, window.engine
    qtbot.waitUntil(lambda: not window.pad.active, timeout=5000)
    x = np.vstack([rest(np.random.default_rng(5), 1, 200)])
    panel.record.click()
    start = engine.ring.count
    for i, frame in enumerate(x):
        engine.queue.put(Frame(50.0 + 0.02 * i, frame, "test"))
    qtbot.waitUntil(lambda: engine.ring.count - start >= len(x), timeout=20000)
    qtbot.wait(100)  # the timer's read of the last frames
    window.close()  # still recording
    (kept,) = kept_rehearsals(folder)
    np.testing.assert_allclose(read_stream_file(kept)[0], x)


def test_a_rehearsal_a_controller_records_shows_in_the_tab_and_its_list(qtbot, tmp_path):
    """``/gesturemap/rehearsal 1`` ... ``0`` (the engine's command, as OSC gives it): the tab
    says a rehearsal is being recorded, then lists the one the project keeps."""
    from gesturemap.sources.base import Frame

    window, folder = _osc_sensor_window(qtbot, tmp_path)
    panel, engine = window.rehearsal, window.engine
    window.engine_command("rehearsal", 1)
    qtbot.waitUntil(lambda: "being recorded from a controller" in panel.status.text(),
                    timeout=10000)
    for i, frame in enumerate(rest(np.random.default_rng(6), 0, 100)):
        engine.queue.put(Frame(70.0 + 0.02 * i, frame, "test"))
    qtbot.waitUntil(lambda: engine.stats().get("frames_in", 0) >= 100, timeout=20000)
    window.engine_command("rehearsal", 0)
    qtbot.waitUntil(lambda: "rehearsal stopped" in panel.status.text(), timeout=10000)
    qtbot.waitUntil(lambda: len(panel.kept_paths) == 1, timeout=10000)
    assert [str(p) for p in kept_rehearsals(folder)] == panel.kept_paths


def _rehearse_then_stop_from_a_controller(qtbot, window, seed: int, frames: int):  # noqa: ANN001, ANN202
    """Press Record a rehearsal, send ``frames`` frames of rest, then stop it as a
    controller's ``/gesturemap/rehearsal 0`` does; returns the frames."""
    from gesturemap.sources.base import Frame

    panel, engine = window.rehearsal, window.engine
    qtbot.waitUntil(lambda: not window.pad.active, timeout=5000)
    panel.record.click()
    qtbot.waitUntil(lambda: engine.stats().get("rehearsing"), timeout=10000)
    x = rest(np.random.default_rng(seed), 0, frames)
    for i, frame in enumerate(x):
        engine.queue.put(Frame(90.0 + 0.02 * i, frame, "test"))
    qtbot.waitUntil(lambda: engine.stats().get("frames_in", 0) >= len(x), timeout=20000)
    window.engine_command("rehearsal", 0)  # as the OSC message gives it
    return x


def test_a_window_rehearsal_a_controller_stops_is_kept_once(qtbot, tmp_path):
    """The window's rehearsal is the engine's: a controller's ``/gesturemap/rehearsal 0``
    stops it, the button comes up by itself, and the project keeps it once, with no
    refusal for a second stop."""
    window, folder = _osc_sensor_window(qtbot, tmp_path)
    panel, engine = window.rehearsal, window.engine
    x = _rehearse_then_stop_from_a_controller(qtbot, window, 9, 120)
    qtbot.waitUntil(lambda: not panel.record.isChecked(), timeout=10000)
    assert "the engine stopped it" in panel.source.text()
    qtbot.waitUntil(lambda: len(panel.kept_paths) == 1, timeout=10000)
    (kept,) = kept_rehearsals(folder)
    np.testing.assert_allclose(read_stream_file(kept)[0], x)
    qtbot.wait(1200)  # two more listings: nothing else kept, nothing refused
    assert len(kept_rehearsals(folder)) == 1
    assert "rehearsal" not in engine.stats().get("refused", {})
    assert "being recorded from a controller" not in panel.status.text()


def test_a_rehearsal_started_and_stopped_between_two_looks_still_ends_the_windows(
        qtbot, tmp_path):
    """The window lists the engine's state twice a second: a controller's stop that comes
    before its first look at the started rehearsal (a busy machine) still ends the window's
    rehearsal (before, the window never saw it recording and kept the button down)."""
    import time

    window, folder = _osc_sensor_window(qtbot, tmp_path)
    panel, engine = window.rehearsal, window.engine
    window._kept_at = time.perf_counter() + 3600  # the window does not look meanwhile
    _rehearse_then_stop_from_a_controller(qtbot, window, 10, 60)
    qtbot.waitUntil(lambda: not engine.stats().get("rehearsing"), timeout=10000)
    window._kept_at = 0.0  # it looks again
    qtbot.waitUntil(lambda: not panel.record.isChecked(), timeout=10000)
    assert "the engine stopped it" in panel.source.text()
    qtbot.waitUntil(lambda: len(panel.kept_paths) == 1, timeout=10000)
    assert "rehearsal" not in engine.stats().get("refused", {})


def test_an_audit_while_a_scene_plays_audits_the_scenes_model(qtbot, tmp_path):
    """A scene recalled in the window plays its own model and settings; the audit's worker
    read the project's own mapping from the folder instead, and after waiting for a save
    that never makes the two alike, said "the project's folder does not hold the model that
    runs". It audits the scene's model, as gm.audit does on that scene."""
    import copy

    project, path = _project_and_rehearsal(tmp_path)
    own_settings, own_model = copy.deepcopy(project.model), project.trained
    project.model = {**project.model, "params": {**project.model["params"], "states": 3}}
    project.train()
    project.save_scene("verse")
    project.model, project.trained = own_settings, own_model
    folder = tmp_path / "proj"
    window = open_window(qtbot, project, folder)
    panel = window.rehearsal
    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: window.scene_names() == ["verse"], timeout=60000)
    assert window.recall_scene("verse")
    qtbot.waitUntil(lambda: (window.engine.stats().get("scenes") or {}).get("current")
                    == "verse", timeout=30000)
    scene = Project.load(folder)
    scene.recall_scene("verse")
    recordings, labels, _, _, rate = rehearsal_frames([str(path)], scene)
    expected = audit(scene.trained, recordings, BUDGET, labels=labels, takes=scene.dataset(),
                     rate_hz=rate, spotting=scene.model["spotting"])
    panel.use_files([str(path)])
    panel.budget.setValue(BUDGET)
    panel.audit_button.click()
    qtbot.waitUntil(lambda: panel.result is not None or "no audit" in panel.status.text(),
                    timeout=120000)
    assert panel.result is not None, panel.status.text()
    assert panel.result["thresholds"] == expected.thresholds
    assert panel.result["baseline_false_alarms"] == expected.baseline_false_alarms


def test_space_while_a_rehearsal_records_records_no_take(qtbot, tmp_path):
    """Space pressed by habit in the middle of a rehearsal recorded a take of its frames as
    well (and retrained the model the rehearsal is to audit), saying nothing."""
    project, _ = _project_and_rehearsal(tmp_path)
    window = open_window(qtbot, project, tmp_path / "proj", engine="thread", audio=False)
    qtbot.waitUntil(lambda: window.engine.model is not None, timeout=30000)
    takes = len(window.project.takes)
    window.rehearsal.record.click()
    assert window.rehearsal.record.isChecked()
    window.start_recording()
    assert not window.record_button.isChecked()
    assert "a rehearsal is being recorded" in window.train_status.text()
    qtbot.wait(300)
    assert not window.engine.recording
    window.rehearsal.record.click()
    window.stop_recording()
    qtbot.wait(300)
    assert len(window.project.takes) == takes
    # nor does a rehearsal start while a take records
    window.start_recording()
    qtbot.waitUntil(lambda: window.engine.recording, timeout=5000)
    window.rehearsal.record.click()
    assert not window.rehearsal.record.isChecked()
    assert "a take is being recorded" in window.rehearsal.source.text()
    qtbot.wait(300)
    assert not window.engine.stats().get("rehearsing")
