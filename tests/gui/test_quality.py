"""The Quality panel, the "why?" strip and "that was X" in the window (Qt offscreen, a real
engine process, the review in a worker process)."""

from __future__ import annotations

from gesturemap.gui.screenshots import gesture_path

from .windows import mislabelled_pad_project, open_window


def test_quality_panel_why_strip_and_correction(qtbot, tmp_path):
    project, wrong = mislabelled_pad_project()
    window = open_window(qtbot, project, tmp_path / "proj")
    # opened trained: the takes are reviewed (in the background) when the tab is shown
    window.tabs.setCurrentWidget(window.quality)
    qtbot.waitUntil(lambda: window.quality.report is not None, timeout=120000)
    report = window.quality.report
    worst = max(report["takes"], key=lambda t: t["suspicion"])
    assert worst["id"] == wrong and worst["likely_label"] == "circle"
    assert window.quality.suspicious.item(0).data(256) == wrong  # listed first
    assert "mislabelled" in window.quality.suspicious.item(0).text()
    # highlighted in the dataset browser's take list; a click selects it there
    qtbot.waitUntil(lambda: _background(window, wrong) is not None, timeout=5000)
    sent = []
    command = window.engine.command
    window.engine.command = lambda name, *args: (sent.append((name, *args)), command(name, *args))
    window.quality.take_clicked.emit(wrong)
    assert [t.id for t in window.dataset.selected_takes()] == [wrong]
    assert sent[-1][:2] == ("play_take", wrong)  # ... and played through the model

    # the "why?" strip explains the live decision while running
    window.engine_command("start_running")
    for x, y in gesture_path("zigzag", 60):
        window.pad.move_to(x, y)
        qtbot.wait(10)
    qtbot.waitUntil(lambda: " over " in window.why.text.text(), timeout=60000)
    assert "driven by" in window.why.text.text()

    # "that was swipe": the gesture since the last reset becomes a take; undo takes it back
    window.engine_command("reset")
    qtbot.wait(100)
    for x, y in gesture_path("swipe", 60):
        window.pad.move_to(x, y)
        qtbot.wait(10)
    n, trainings = len(window.project.takes), window.engine.trainings
    window.classes.setCurrentRow([window.classes.item(i).text()
                                  for i in range(window.classes.count())].index("swipe"))
    window.correct_last_gesture()
    qtbot.waitUntil(lambda: len(window.project.takes) == n + 1, timeout=20000)
    assert window.project.takes[-1].label == "swipe"
    qtbot.waitUntil(lambda: window.engine.trainings > trainings, timeout=30000)
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: len(window.project.takes) == n, timeout=20000)


def _background(window, take_id):
    tree = window.dataset.tree
    for i in range(tree.topLevelItemCount()):
        top = tree.topLevelItem(i)
        for k in range(top.childCount()):
            item = top.child(k)
            if item.data(0, 256) == take_id and item.background(0).style() != 0:
                return item.background(0).color().name()
    return None


def test_a_training_sent_by_another_client_is_reviewed_too(qtbot, tmp_path):
    """A correction and its undo over OSC (here: the engine commands they become) retrain
    the model without the window asking: the Quality tab reviews the new takes, and the
    "why?" strip explains with the model that runs (the worker's, retrained with it)."""
    project, _ = mislabelled_pad_project()
    window = open_window(qtbot, project, tmp_path / "proj")
    window.tabs.setCurrentWidget(window.quality)
    qtbot.waitUntil(lambda: window.quality.report is not None, timeout=120000)
    window.engine_command("reset")
    qtbot.wait(100)
    for x, y in gesture_path("zigzag", 60)[::-1]:  # a new gesture: a zigzag backwards
        window.pad.move_to(x, y)
        qtbot.wait(10)
    window.engine.command("correct", "backwards")  # as "/gesturemap/correct backwards"
    qtbot.waitUntil(lambda: "backwards" in (window.quality.report or {}).get("labels", []),
                    timeout=120000)
    window.engine.command("undo_correction")  # as "/gesturemap/undo"
    qtbot.waitUntil(lambda: window.quality.report is not None
                    and "backwards" not in window.quality.report["labels"], timeout=120000)
    assert "backwards" not in window.project.classes


def test_no_stale_why_once_one_class_is_left(qtbot, tmp_path):
    """Down to one class, nothing is reviewed: the panel and the "why?" strip say so instead
    of explaining the live gesture with the model of the classes that were deleted."""
    project, _ = mislabelled_pad_project()
    window = open_window(qtbot, project, tmp_path / "proj")
    window.tabs.setCurrentWidget(window.quality)
    qtbot.waitUntil(lambda: window.quality.report is not None, timeout=120000)
    for label in ("swipe", "zigzag"):
        window.engine_command("remove_class", label)
    qtbot.waitUntil(lambda: window.project.classes == ["circle"], timeout=10000)
    trainings = window.engine.trainings
    window.train()
    qtbot.waitUntil(lambda: window.engine.trainings > trainings, timeout=30000)
    qtbot.waitUntil(lambda: window.quality.report is None, timeout=5000)
    assert "two classes" in window.quality.status.text()
    window.engine_command("start_running")
    for x, y in gesture_path("circle", 60):
        window.pad.move_to(x, y)
        qtbot.wait(10)
    qtbot.wait(1500)  # the strip's refresh: twice a second
    assert " over " not in window.why.text.text()


def _draw(qtbot, window, kind: str) -> None:
    """A gesture on the pad, after a reset (where "that was X" starts)."""
    window.engine_command("reset")
    qtbot.wait(100)
    for x, y in gesture_path(kind, 60):
        window.pad.move_to(x, y)
        qtbot.wait(10)


def test_ctrl_z_takes_back_the_windows_correction_not_a_pedals(qtbot, tmp_path):
    """"That was swipe" in the window, then "/gesturemap/correct circle" from a pedal: Ctrl+Z
    undoes the window's own correction (its swipe take goes, the pedal's circle stays), and
    redo puts the swipe back."""
    project, _ = mislabelled_pad_project()
    window = open_window(qtbot, project, tmp_path / "proj")
    n = len(window.project.takes)
    names = [window.classes.item(i).text() for i in range(window.classes.count())]
    window.classes.setCurrentRow(names.index("swipe"))
    _draw(qtbot, window, "swipe")
    window.correct_last_gesture()
    qtbot.waitUntil(lambda: len(window.project.takes) == n + 1, timeout=20000)
    _draw(qtbot, window, "circle")
    window.engine.command("correct", "circle")  # as "/gesturemap/correct circle"
    qtbot.waitUntil(lambda: len(window.project.takes) == n + 2, timeout=20000)
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: len(window.project.takes) == n + 1, timeout=20000)
    assert window.project.takes[-1].label == "circle"
    window.undo_stack.redo()
    qtbot.waitUntil(lambda: len(window.project.takes) == n + 2, timeout=20000)
    assert sorted(t.label for t in window.project.takes[-2:]) == ["circle", "swipe"]


def test_the_why_strip_explains_the_decision_the_monitor_shows(qtbot, tmp_path):
    """A gesture, then the pad at rest: the model decides on every frame since the reset
    (cumulative, the default), and the "why?" strip explains those same frames, so it names
    the class the monitor shows (it explained the last take-length of frames: the rest)."""
    project, _ = mislabelled_pad_project()
    project.model = {"kind": "hhmm", "params": {"states": 4}}
    project.train()
    window = open_window(qtbot, project, tmp_path / "proj")
    window.tabs.setCurrentWidget(window.quality)
    qtbot.waitUntil(lambda: window.quality.report is not None, timeout=120000)
    window.engine_command("start_running")
    _draw(qtbot, window, "zigzag")
    qtbot.wait(800)  # at rest: the last take-length of frames is the rest only
    window.pad.stop()  # no frame more: the live label stays what it is
    qtbot.wait(300)
    live = window.engine.last_result.label
    window.why.text.setText("")
    qtbot.waitUntil(lambda: " over " in window.why.text.text(), timeout=30000)
    assert window.why.text.text().startswith(f"why? {live} over "), (live, window.why.text.text())


def test_a_review_of_takes_since_changed_is_not_shown(qtbot, tmp_path):
    """Takes recorded one after another (each retrains, each asks for a review) while the
    worker reviews the first two: the review of those two came back and the Quality tab
    showed it ("circle has one take only: record another", "next take: circle") with three
    of each recorded, until the next review ended. The worker hands back the latest only."""
    import numpy as np

    from gesturemap.gui.quality import QualityWorker
    from gesturemap.gui.quality_jobs import payload
    from gesturemap.project import Project

    rng = np.random.default_rng(0)
    project = Project("reviews", model={"kind": "gmm", "params": {"gaussians": 1}},
                      input_names=["x", "y"])
    worker = QualityWorker()
    try:
        for takes in (1, 3):
            while len(project.takes) < 2 * takes:
                for kind in ("circle", "swipe"):
                    if sum(t.label == kind for t in project.takes) < takes:
                        project.add_take(gesture_path(kind, 60) + rng.normal(size=(60, 2))
                                         * 0.01, kind, times=np.arange(60) / 100.0)
            worker.request_review(payload(project, tag=1))
        reviews = []
        qtbot.waitUntil(lambda: reviews.append(worker.poll()[0]) or reviews[-1] is not None,
                        timeout=120000)
        shown = reviews[-1]
        assert "error" not in shown, shown
        assert sorted(t["label"] for t in shown["takes"]) == ["circle"] * 3 + ["swipe"] * 3
        assert not worker.busy and worker.poll()[0] is None  # nothing else is coming
    finally:
        worker.close()
