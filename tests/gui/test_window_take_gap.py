"""A take recorded in the window across a serial unplug (a socat pseudo-terminal pair, killed
and started again; the engine in its own process): the window says how long the sensor was
away, and the take list marks the take; the take is kept whole."""

from __future__ import annotations

import pytest

from gesturemap.project import Project

from ..sources.source_helpers import SocatLink, wait_until
from .windows import open_window

pytestmark = pytest.mark.timeout(180)

CHANNELS = ["acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"]


def _connected(window) -> bool:  # noqa: ANN001
    return any(s.get("connected") for s in (window.engine.stats().get("sources") or {}).values())


def test_the_window_says_the_sensor_was_away_during_a_take(qtbot, tmp_path):
    (tmp_path / "link").mkdir()
    link = SocatLink(tmp_path / "link")
    link.start()
    try:
        project = Project("board", model="gmm", input_names=CHANNELS)
        project.add_class("wave")
        project.sensor = {"transport": "serial", "profile": "arduino-imu-text",
                          "device": str(link.device)}
        window = open_window(qtbot, project, tmp_path / "p")
        window.count_in.setValue(0)
        window.auto_train.setChecked(False)
        qtbot.waitUntil(lambda: _connected(window), timeout=60000)
        window.classes.setCurrentRow(0)
        window.start_recording()
        qtbot.waitUntil(lambda: window.engine.recording, timeout=10000)
        link.imu_lines(0, 100)
        # every line read before the unplug: socat gone, the tty drops what was not yet read
        # (a loaded machine reads the last lines some ms late), and the take must hold all 200
        wait_until(lambda: window.engine.frames_in >= 100, timeout=20, what="the first frames")
        link.stop()  # unplugged
        qtbot.waitUntil(lambda: not _connected(window), timeout=10000)
        qtbot.wait(1500)
        link.start()  # plugged back: the source opens it again
        qtbot.waitUntil(lambda: _connected(window), timeout=20000)
        link.imu_lines(0, 100)  # (the board restarted: its clock from 0 again)
        wait_until(lambda: window.engine.frames_in >= 200, timeout=20, what="the frames")
        window.stop_recording()
        qtbot.waitUntil(lambda: len(window.project.takes) == 1, timeout=20000)
        said = window.statusBar().currentMessage
        qtbot.waitUntil(lambda: "the sensor was away for" in said(), timeout=10000)
    finally:
        link.stop()
    take = window.project.takes[0]
    assert take.length == 200 and take.gaps  # kept whole, marked (crossed from the engine)
    assert take.id in said() and f"away for {take.away_s:.1f} s during this take" in said()
    assert take.away_s >= 1.5
    item = window.dataset.tree.findItems(take.id, _match_flags(), 0)[0]
    assert item.text(1) == "200 ⚠"
    assert f"the sensor was away for {take.away_s:.1f} s" in item.toolTip(1)


def _match_flags():  # noqa: ANN202
    from PySide6 import QtCore

    return QtCore.Qt.MatchFlag.MatchExactly | QtCore.Qt.MatchFlag.MatchRecursive
