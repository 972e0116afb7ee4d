"""The window's rough edges, fixed: tab bar steady, Synth tab fits 1280x780, Save makes a new
folder, the pad says when another sensor feeds the model, "no audio device" says what to do."""

from __future__ import annotations

import pytest
from PySide6 import QtWidgets

from gesturemap.gui.window import MainWindow
from gesturemap.project.default import default_project

from ..jack_midi import jack_midi  # noqa: F401 - a fixture
from .windows import open_window


def _window(qtbot, tmp_path) -> MainWindow:
    window = MainWindow(
        default_project(),
        autosave_dir=tmp_path / "autosave",
        osc_in=None,
        trainer="thread",
        audio=False,
    )
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.resize(1280, 780)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_tab_bar_stays_put_and_synth_tab_fits(qtbot, tmp_path):
    window = _window(qtbot, tmp_path)
    qtbot.wait(200)
    places = []
    for _ in range(2):
        for i in range(window.tabs.count()):
            window.tabs.setCurrentIndex(i)
            qtbot.wait(50)
            places.append(window.tabs.mapTo(window, window.tabs.tabBar().pos()).x())
    assert len(set(places)) == 1, places
    window.tabs.setCurrentWidget(window.synth_panel)
    qtbot.wait(100)
    scroll = window.synth_panel.findChild(QtWidgets.QScrollArea)
    assert scroll.horizontalScrollBar().maximum() == 0  # nothing cut off on the right
    apply = window.synth_panel.findChild(QtWidgets.QPushButton, "apply")
    # Apply sits under the scrolling part, so it is in view however far that scrolls
    assert not scroll.isAncestorOf(apply) and apply.isVisible()
    bottom = apply.mapTo(window, apply.rect().bottomLeft()).y()
    assert 0 < bottom <= window.height()
    window.grab().save(str(tmp_path / "synth-1280x780.png"))


def test_save_as_makes_a_new_folder(qtbot, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path)
    target = tmp_path / "new" / "my-gestures"  # neither folder exists yet
    monkeypatch.setattr(
        QtWidgets.QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    assert window.save_as_dialog()
    assert (target / "project.json").is_file() and window.folder == target


def test_pad_says_the_sensor_is_osc(qtbot, tmp_path):
    project = default_project()
    project.sensor = {"transport": "osc", "profile": "touchosc-accelerometer", "port": 0}
    window = open_window(qtbot, project, tmp_path / "p")
    qtbot.waitUntil(lambda: "osc" in window.pad.off_text, timeout=10000)
    assert not window.pad.active and "touchosc-accelerometer" in window.pad.off_text
    assert "move here" not in window.pad.off_text


def test_no_audio_device_says_what_to_do(qtbot, tmp_path):
    window = _window(qtbot, tmp_path)
    window.audio_error = "no audio output device found: PortAudio sees none."
    window._update_audio()
    assert "start a JACK server" in window.synth_panel.audio_status.text()
    assert "Synth tab" in window.audio_light.text()
    assert "connect a sound card" in window.audio_light.toolTip()


def test_autosave_goes_where_the_platform_keeps_app_data(tmp_path, monkeypatch):
    """Qt's QStandardPaths (XDG_DATA_HOME on Linux, Application Support on macOS, LocalAppData
    on Windows), not a path built by hand."""
    from PySide6.QtCore import QStandardPaths

    from gesturemap.gui import autosave_folder, data_folder

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    qt = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    assert data_folder() == tmp_path / "xdg" / "gesturemap" and qt == str(tmp_path / "xdg")
    folder = autosave_folder()
    assert folder.parent == data_folder() / "autosave" and folder.name.startswith("untitled-")


@pytest.mark.serial("jack-lsl")  # a JACK server of its own: see tests/jack_midi.py
def test_window_engine_opens_the_projects_midi_output(jack_midi, tmp_path):  # noqa: F811
    """The project's outputs["midi"] in the window's engine too; a missing port is reported
    in stats()["midi_error"] and the engine runs on."""
    import time

    import numpy as np

    from gesturemap.gui.session import WindowEngine
    from gesturemap.project import Project
    from gesturemap.sources.base import Frame

    from ..jack_midi import jack_in, wait_for
    from ..stage_helpers import two_level_project

    folder = two_level_project(tmp_path / "p")
    project = Project.load(folder)
    port, got = jack_in("window-synth")
    try:
        for wanted, ok in (("window-synth", True), ("no-such-port", False)):
            project.outputs = {**(project.outputs or {}), "midi": {"port": wanted}}
            engine = WindowEngine(project, osc_in=None, trainer="thread").start()
            try:
                assert wait_for(lambda e=engine: e.sinks or e.stats()["midi_error"], 10)
                for level in (0.9, 0.1, 0.9):
                    engine.queue.put(Frame(time.perf_counter(), np.array([level, level]), "t"))
                    time.sleep(0.05)
                if ok:
                    assert wait_for(lambda: any(m[0] == 0x90 for m in got), 5), got
                    assert engine.stats()["midi_error"] is None
                else:
                    assert "no-such-port" in engine.stats()["midi_error"]
                    assert engine.frames_out >= 3  # it ran on
            finally:
                engine.stop()
    finally:
        port.delete()
