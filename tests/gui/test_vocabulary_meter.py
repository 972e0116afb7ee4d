"""The vocabulary guide in the window (Qt offscreen, a real engine, the guide in the quality
worker process): while a take is recorded the meter follows it, names the nearest class and
warns when the take collides; the Quality tab lists the takes that blur a class."""

from __future__ import annotations

import pytest

from gesturemap.gui.screenshots import gesture_path

from .test_session import pad_driver  # noqa: F401 - a fixture
from .windows import mislabelled_pad_project, open_window

pytestmark = pytest.mark.timeout(180)


def _record(qtbot, window, label: str, kind: str) -> dict:
    """Record a take of ``label`` while drawing ``kind`` on the pad; the meter's last check,
    read while the take is still being recorded."""
    names = [window.classes.item(i).text() for i in range(window.classes.count())]
    window.classes.setCurrentRow(names.index(label))
    window.pad.move_to(*gesture_path(kind, 60)[0])
    qtbot.wait(50)
    updates = window.distinct.updates
    window.start_recording()
    # one pad frame per point, 10 ms apart on the pad's clock (pad_driver): on a loaded
    # machine the pad's own timer would sample another gesture each run
    window.pad_driver.manual = True
    try:
        for x, y in gesture_path(kind, 60):
            window.pad.move_to(x, y)
            window.pad.tick(by_test=True)
            qtbot.wait(10)
        # the meter is refreshed while recording: a check of most of the gesture comes
        # back. The pad's timer stays held meanwhile: on a loaded machine the (low-priority)
        # guide takes seconds, and the timer would add that long a tail of the pad standing
        # still to the take, which then looks like no class
        qtbot.waitUntil(lambda: window.distinct.updates > updates + 1
                        and window.distinct.last["frames"] >= 40, timeout=30000)
        last = dict(window.distinct.last)
    finally:
        window.pad_driver.manual = False
    assert window.distinct.bar.value() == round(100 * last["score"])
    window.stop_recording()
    return last


def test_the_meter_follows_the_take_and_warns_when_it_collides(qtbot, tmp_path,
                                                                pad_driver):  # noqa: F811
    project, wrong = mislabelled_pad_project()
    window = open_window(qtbot, project, tmp_path / "proj")
    window.pad_driver = pad_driver
    window.count_in.setValue(0)
    window.auto_train.setChecked(False)  # the takes recorded here must not retrain the guide
    window.tabs.setCurrentWidget(window.quality)
    qtbot.waitUntil(lambda: window.quality.report is not None, timeout=120000)
    # the Quality tab: the circle recorded as a swipe blurs swipe into circle
    blurs = [window.quality.blurs.item(i) for i in range(window.quality.blurs.count())]
    assert [b.data(256) for b in blurs] == [wrong]
    assert blurs[0].text().startswith("swipe → circle")

    clear = _record(qtbot, window, "zigzag", "zigzag")
    assert not clear["collides"] and clear["label"] == "zigzag"
    assert not window.distinct.warning.isVisible()

    copied = _record(qtbot, window, "zigzag", "circle")  # a circle recorded as a zigzag
    assert copied["collides"] and copied["nearest"] == "circle"
    assert window.distinct.warning.isVisible()
    assert "collides with circle" in window.distinct.warning.text()
    assert copied["score"] < clear["score"]


def _a_check_asked(qtbot, tmp_path, pad_driver):  # noqa: ANN001, ANN202, F811
    """A window whose meter is refreshed by hand (its timer stopped), recording a circle as a
    zigzag, the guide's check of it asked; the window and the clock the refreshes count from."""
    import time

    project, _ = mislabelled_pad_project()
    window = open_window(qtbot, project, tmp_path / "proj")
    window.count_in.setValue(0)
    window.auto_train.setChecked(False)
    engine = window.engine
    window.tabs.setCurrentWidget(window.quality)
    qtbot.waitUntil(lambda: window.quality.report is not None, timeout=120000)  # the guide's
    window.timer.stop()  # the meter is refreshed by hand, at the moments that matter
    names = [window.classes.item(i).text() for i in range(window.classes.count())]
    window.classes.setCurrentRow(names.index("zigzag"))
    t = time.perf_counter()
    window.start_recording()
    qtbot.waitUntil(lambda: engine.recording, timeout=10000)
    window._refresh_distinctness(t)  # the take starts here
    pad_driver.manual = True
    for x, y in gesture_path("circle", 60):  # a circle recorded as a zigzag
        window.pad.move_to(x, y)
        window.pad.tick(by_test=True)
        qtbot.wait(10)
    qtbot.waitUntil(lambda: engine.feature_ring.count - window._take_from >= 40,
                    timeout=10000)
    window._refresh_distinctness(t + 1)  # the guide's check of it is asked
    assert window.quality_worker._distinct is not None
    return window, t


def test_a_check_of_the_last_take_is_not_shown_during_the_next(qtbot, tmp_path,
                                                               pad_driver):  # noqa: F811
    """A stop and a start between two ticks of the window's timer (a pedal, Space twice) are
    a new take for the meter, and the guide's check of the last take that comes back during
    the next one is not shown as the new take's."""
    window, t = _a_check_asked(qtbot, tmp_path, pad_driver)
    engine = window.engine
    first = engine.record_commands
    qtbot.waitUntil(lambda: window.quality_worker._distinct.done(), timeout=60000)
    assert window.quality_worker._distinct.result()["collides"]  # a check worth showing
    updates = window.distinct.updates
    window.stop_recording()  # …and is back, unread, when the next take has started
    window.start_recording()
    qtbot.waitUntil(lambda: engine.recording and engine.record_commands >= first + 2,
                    timeout=10000)
    window._refresh_distinctness(t + 2)
    assert window.distinct.updates == updates and window.distinct.last is None
    assert not window.distinct.warning.isVisible()
    assert window.distinct.nearest.text() == "recording zigzag: judged after a few frames…"
    window.stop_recording()


def test_a_take_that_stopped_is_judged_or_said_unjudged(qtbot, tmp_path,
                                                        pad_driver):  # noqa: F811
    """The check of a take that comes back after the take stopped (the worker was busy with a
    review, say) is that take's verdict and is shown; a take too short for any check says so.
    Both left the meter saying "recording zigzag: judged after a few frames…" with nothing
    being recorded."""
    window, t = _a_check_asked(qtbot, tmp_path, pad_driver)
    engine = window.engine
    window.stop_recording()
    qtbot.waitUntil(lambda: not engine.recording, timeout=10000)
    window._refresh_distinctness(t + 1.1)  # stopped: the check under way, or back already
    assert not window.distinct.nearest.text().startswith("recording"), \
        window.distinct.nearest.text()
    qtbot.waitUntil(lambda: window.quality_worker._distinct is None
                    or window.quality_worker._distinct.done(), timeout=60000)
    window._refresh_distinctness(t + 2)
    assert window.distinct.last is not None and window.distinct.last["collides"]
    assert window.distinct.warning.isVisible()
    window.start_recording()  # a take stopped before any check was asked
    qtbot.waitUntil(lambda: engine.recording, timeout=10000)
    window._refresh_distinctness(t + 3)
    window.stop_recording()
    qtbot.waitUntil(lambda: not engine.recording, timeout=10000)
    window._refresh_distinctness(t + 3.1)
    assert window.distinct.nearest.text() == "zigzag: the take ended before it could be judged"


def test_the_meter_judges_while_a_review_is_under_way(qtbot, tmp_path,
                                                      pad_driver):  # noqa: F811
    """A take recorded right after the window opened, while the takes' first review is under
    way, is judged: the meter's checks waited behind the review (ten trainings and more) in
    the one quality worker, and there was no guide to check with before it, so for about
    twenty seconds the meter said nothing. The review here is held (its worker kept busy
    until the test lets it go) for as long as the meter takes."""
    import math
    import os
    import subprocess

    project, _ = mislabelled_pad_project()
    window = open_window(qtbot, project, tmp_path / "proj")
    window.pad_driver = pad_driver
    window.count_in.setValue(0)
    window.auto_train.setChecked(False)
    worker = window.quality_worker
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    held = worker._executor().submit(subprocess.run, ["head", "-c", "1", str(gate)])
    qtbot.waitUntil(lambda: window.engine.running and window._engine_started, timeout=30000)
    window._request_review()  # the first review: behind the job holding its worker
    try:
        names = [window.classes.item(i).text() for i in range(window.classes.count())]
        window.classes.setCurrentRow(names.index("zigzag"))
        window.start_recording()
        qtbot.waitUntil(lambda: window.engine.recording, timeout=10000)
        pad_driver.manual = True
        for x, y in gesture_path("circle", 60):  # a circle recorded as a zigzag
            window.pad.move_to(x, y)
            window.pad.tick(by_test=True)
            qtbot.wait(10)
        qtbot.waitUntil(lambda: window.distinct.last is not None
                        and window.distinct.last["frames"] >= 40, timeout=60000)
        assert worker.busy and not held.done()  # judged while the review waits
        last = window.distinct.last
        assert last["collides"] and last["nearest"] == "circle"
        assert window.distinct.warning.isVisible()
    finally:
        pad_driver.manual = False
        with open(gate, "w") as release:  # the review goes on
            release.write("x")
    window.stop_recording()
    qtbot.waitUntil(lambda: window.quality.report is not None, timeout=120000)
    # the review's thresholds, chosen from the takes, now calibrate the meter's guide
    calibration = window.quality.report["calibration"]
    assert calibration["key"] == window._takes_key()
    qtbot.waitUntil(lambda: not window.engine.recording, timeout=10000)
    judged = _record(qtbot, window, "zigzag", "circle")
    typical = calibration["typical_frames"]["zigzag"]
    share = min(calibration["thresholds"], key=lambda s: abs(s - judged["frames"] / typical))
    assert judged["threshold"] == calibration["thresholds"][share]
    assert judged["score"] == pytest.approx(
        1 / (1 + math.exp(-judged["margin"] / calibration["scale"])), rel=1e-9)
