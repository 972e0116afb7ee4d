"""The synth panel, as a widget on a real engine: edit the mapping the way a person would,
apply it live, find it in the running synth and in the saved project."""

from __future__ import annotations

import os
import threading
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
from PySide6 import QtCore, QtWidgets

from gesturemap.gui.session import WindowEngine
from gesturemap.gui.synth_panel import NONE, SynthPanel, audio_light
from gesturemap.project import Project
from gesturemap.project.default import default_project
from gesturemap.synth import Synth, SynthMapping


@pytest.fixture()
def engine(tmp_path):
    folder = tmp_path / "project"
    project = default_project("synth-panel")
    project.save(folder)
    engine = WindowEngine(project, project_dir=folder, osc_in=None, trainer="thread").start()
    # the real synth, fed by the engine, without a sound card: the test renders it offline
    engine.synth = Synth(None, base_dir=folder)
    yield engine
    engine.stop()


@pytest.fixture()
def panel(qtbot, engine):
    panel = SynthPanel(lambda settings: engine.command("set_synth_mapping", settings))
    qtbot.addWidget(panel)
    panel.show_mapping(
        (engine.project.outputs or {}).get("synth"),
        classes=engine.project.classes,
        outputs=0,
        folder=engine.project_dir,
    )
    panel.resize(1000, 800)
    panel.show()
    return panel


def _wav(path, seconds=0.5, rate=44100, hz=330.0):
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, 0.5 * np.sin(2 * np.pi * hz * t), rate)
    return path


def test_default_mapping_shown_with_the_project_classes(panel):
    default = SynthMapping.default(outputs=0)  # a classifier: no regression output to route
    assert panel.routes.rowCount() == len(default.routes)
    routes = [(r["source"], r["target"]) for r in panel.settings()["routes"]]
    assert routes == [("likelihood:*", "loudness"), ("likelihood:*", "follower_gain"),
                      ("progress:*", "follower_position")]
    assert panel.follower.currentText() == "pad"
    assert [panel.oneshots.item(r, 0).text() for r in range(panel.oneshots.rowCount())] == [
        "circle",
        "swipe",
        "zigzag",
    ]
    sources = panel.sources()
    assert "likelihood:circle" in sources and "progress:zigzag" in sources
    shown = SynthMapping.from_dict(panel.settings())
    classes = ["circle", "swipe", "zigzag"]  # the same synth, whichever way it is written
    np.testing.assert_array_equal(shown.route_table(classes), default.route_table(classes))
    np.testing.assert_array_equal(shown.smoothing_ms(), default.smoothing_ms())
    np.testing.assert_array_equal(shown.base_values(), default.base_values())
    assert (shown.follower_sound, shown.oneshots) == (default.follower_sound, default.oneshots)


def test_edit_apply_live_and_saved(qtbot, panel, engine, monkeypatch, tmp_path):
    # a new route: the circle's likelihood drives the pitch, 200..800 Hz, exponential
    row = panel.add_route()
    panel.routes.cellWidget(row, 0).setCurrentText("likelihood:circle")
    panel.routes.cellWidget(row, 1).setCurrentText("pitch_hz")
    assert panel.routes.cellWidget(row, 5).value() == 8000.0  # the target's full range
    panel.routes.cellWidget(row, 4).setValue(200.0)
    panel.routes.cellWidget(row, 5).setValue(800.0)
    panel.routes.cellWidget(row, 6).setCurrentText("exp")
    panel.parameters["master_gain"].setValue(0.5)
    # the follower plays a file the user picks (inside the project folder: saved relative)
    wav = _wav(engine.project_dir / "breath.wav")
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (str(wav), ""))
    panel.choose_follower_file()
    assert panel.follower.currentText() == "breath.wav"
    # swipe plays the bell when it is recognised
    panel.oneshots.cellWidget(1, 1).setCurrentText("bell")
    apply_button = panel.findChild(QtWidgets.QPushButton, "apply")
    qtbot.mouseClick(apply_button, QtCore.Qt.MouseButton.LeftButton)
    assert panel.status.text().startswith("applied"), panel.status.text()

    # the engine saved it in the project, and the running synth uses it
    qtbot.waitUntil(lambda: engine.synth.mapping.follower_sound == "breath.wav", timeout=5000)
    saved = engine.project.outputs["synth"]
    assert saved["follower_sound"] == "breath.wav"
    assert saved["oneshots"] == {"swipe": "bell"}
    assert saved["parameters"] == {"mod_depth": 1.5, "master_gain": 0.5}
    route = saved["routes"][-1]
    assert (route["source"], route["target"], route["curve"]) == (
        "likelihood:circle",
        "pitch_hz",
        "exp",
    )
    assert (route["out_min"], route["out_max"]) == (200.0, 800.0)
    synth = engine.synth
    assert len(synth._config.follower) == pytest.approx(0.5 * synth.rate, abs=2)  # resampled
    assert synth._config.bank_names == ("bell",)
    # what the synth plays: the likeliest class at full likelihood -> 800 Hz
    result = SimpleNamespace(  # what update() reads of a model's Result
        label_index=0, likelihoods=np.array([1.0, 0.0, 0.0]), output=None, progress=None,
        event=None,
    )
    synth.update(result, ["circle", "swipe", "zigzag"])
    assert synth._targets[0] == pytest.approx(800.0)
    assert synth._targets[11] == pytest.approx(0.5)  # master gain

    # saved in the project folder: a reopened project has the same mapping
    done, errors = threading.Event(), []
    engine.command("save", engine.project_dir, done, errors)
    assert done.wait(10) and not errors
    again = Project.load(engine.project_dir)
    assert again.outputs["synth"] == saved


def test_a_bad_mapping_is_not_sent(qtbot, panel, engine):
    sent = []
    panel._apply = sent.append
    row = panel.add_route()
    panel.routes.cellWidget(row, 3).setValue(0.0)  # in_max == in_min
    assert not panel.apply()
    assert "in_max" in panel.status.text()
    panel.remove_route()
    panel.follower.setCurrentText("no-such-file.wav")
    assert not panel.apply()
    assert "No file at" in panel.status.text()
    panel.follower.setCurrentText(NONE)
    assert panel.apply() and sent and sent[-1]["follower_sound"] is None


def test_audio_light():
    assert audio_light(None) == ("off", "no synth")
    lost = audio_light({"audio_callbacks": 900, "audio_lost": True})
    assert lost[0] == "bad" and "audio server gone" in lost[1]
    assert audio_light({}, "no audio output device found: ...")[0:2] == ("bad", "no audio device")
    assert audio_light({"audio_callbacks": 0, "audio_underruns": 0})[0] == "warn"
    state, detail = audio_light(
        {"audio_callbacks": 900, "audio_underruns": 0, "callback_us_p99": 25.0}
    )
    assert state == "ok" and "25 µs" in detail
    assert audio_light({"audio_callbacks": 900, "audio_underruns": 2}) == ("warn", "2 underruns")


def test_window_engine_process_without_audio_device_runs_on_and_says_why(qtbot, tmp_path):
    """The window's engine process asks for the synth; this machine has no sound card (and no
    JACK server for this test): the engine runs without it, the light says why, and a mapping
    applied from the panel still reaches the project."""
    from gesturemap.gui.remote import EngineProcess

    folder = tmp_path / "project"
    project = default_project("no-device")
    project.save(folder)
    old = os.environ.get("JACK_DEFAULT_SERVER")
    os.environ["JACK_DEFAULT_SERVER"] = f"gm-absent-{os.getpid()}"  # the child inherits it
    os.environ["JACK_NO_START_SERVER"] = "1"
    try:
        engine = EngineProcess(project, project_dir=folder, trainer="thread", audio=True).start()
    finally:
        os.environ.pop("JACK_NO_START_SERVER")
        if old is None:
            os.environ.pop("JACK_DEFAULT_SERVER")
        else:
            os.environ["JACK_DEFAULT_SERVER"] = old
    try:
        assert engine.audio_error and "no audio output device" in engine.audio_error
        panel = SynthPanel(lambda settings: engine.command("set_synth_mapping", settings))
        qtbot.addWidget(panel)
        panel.show_mapping(None, classes=project.classes, folder=folder)
        panel.parameters["master_gain"].setValue(0.25)
        assert panel.apply()
        qtbot.waitUntil(
            lambda: (
                ((engine.project.outputs or {}).get("synth") or {})
                .get("parameters", {})
                .get("master_gain")
                == 0.25
            ),
            timeout=10000,
        )
        panel.show_audio(engine.stats(), engine.audio_error)
        assert panel.audio_status.property("state") == "bad"
        text = panel.audio_status.text()
        assert "no audio device" in text
        # said once, in the window's words: no command-line option to type
        assert text.count("JACK server") == 1 and "--" not in text, text
    finally:
        engine.stop()


@pytest.mark.parametrize("frames", [0, 1])
def test_a_sound_file_with_no_sound_is_not_applied(qtbot, panel, engine, frames):
    """A WAV of 0 or 1 sample passed the panel's check: "applied", the project kept a
    mapping the synth refused (the next `gesturemap run` would not start) and the synth went
    on with the old one, an I/O error counted."""
    sf.write(engine.project_dir / "silent.wav", np.zeros(frames), 48000)
    panel.follower.setCurrentText("silent.wav")
    assert not panel.apply()
    assert panel.status.text().startswith("not applied") and "silent.wav" in panel.status.text()
    assert "2 samples" in panel.status.text(), panel.status.text()
    assert (engine.project.outputs or {}).get("synth", {}).get("follower_sound") != "silent.wav"


@pytest.mark.serial("jack-lsl")
def test_the_audio_light_tells_a_refused_rate_from_a_missing_device():
    """JACK at 48 kHz and a project asking for 44.1 kHz: the light said "no audio device"."""
    from gesturemap.synth import NoAudioDeviceError, check_output
    from tests.jack_audio import jack_audio

    with jack_audio(None, "light"):
        with pytest.raises(NoAudioDeviceError) as refused:
            check_output({"samplerate": 44100})
        with pytest.raises(NoAudioDeviceError) as missing:
            check_output({"device": "no such card"})
    assert audio_light({}, refused.value.problem) == (
        "bad", "the audio device refused the settings")
    assert audio_light({}, missing.value.problem) == ("bad", "no audio device")


def test_a_sound_the_synth_cannot_decode_is_said_after_applied(qtbot, panel, engine):
    """A FLAC whose header reads but whose audio does not decode passed the panel's check: the
    tab said "applied", the synth refused it on loading (an I/O error counted, nothing said)
    and played on with the old mapping, while the project kept the one refused (the next
    `gesturemap run` would not start)."""
    t = np.arange(22050) / 44100
    path = engine.project_dir / "broken.flac"
    sf.write(path, 0.5 * np.sin(2 * np.pi * 330 * t), 44100)
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 4, len(data)):  # the audio frames garbled, the header whole
        data[i] = (data[i] * 7 + 13) % 256
    path.write_bytes(bytes(data))
    before = engine.synth.mapping.follower_sound
    panel.show_refusal(engine.stats())  # as the window's timer does
    panel.follower.setCurrentText("broken.flac")
    assert panel.apply() and panel.status.text().startswith("applied")

    def said() -> bool:
        panel.show_refusal(engine.stats())
        return panel.status.text().startswith("not applied")

    qtbot.waitUntil(said, timeout=20000)
    assert "broken.flac" in panel.status.text() and "plays the mapping before" in panel.status.text()
    qtbot.waitUntil(lambda: (engine.project.outputs or {}).get("synth", {}).get(
        "follower_sound") != "broken.flac", timeout=10000)
    assert engine.synth.mapping.follower_sound == before
    assert panel.follower.currentText() == "broken.flac"  # the edit stays, to be fixed
    assert engine.errors == 0


def test_the_synth_tab_says_an_applied_mapping_plays_nothing_without_an_audio_device(
        qtbot, tmp_path, monkeypatch):
    """No sound card (and no JACK server): the audio light said "no audio device" while the
    Synth tab said "applied: 3 routes", as if the mapping played. It says the mapping is kept
    and what will play it, in the light's words; the mapping still reaches the project."""
    from .windows import open_window

    monkeypatch.setenv("JACK_DEFAULT_SERVER", f"gm-absent-{os.getpid()}")  # the engine's too
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    window = open_window(qtbot, default_project("no-device"), tmp_path / "project")
    assert window.audio_error and "no audio output device" in window.audio_error
    qtbot.waitUntil(lambda: "no audio device" in window.audio_light.text(), timeout=30000)
    _applied_says(qtbot, window, "applied: 3 routes, kept in the project; no audio device: "
                  "nothing plays until a sound card or a JACK server is there")


def test_the_synth_tab_says_an_applied_mapping_plays_nothing_with_no_audio(qtbot, tmp_path):
    """The window opened with --no-audio: the Synth tab said "applied: 3 routes" as if the
    mapping played. It says the built-in synth is off and what brings it back; the mapping
    still reaches the project, and the audio light says why it is off."""
    from .windows import open_window

    window = open_window(qtbot, default_project("no-audio"), tmp_path / "project", audio=False)
    qtbot.waitUntil(lambda: "--no-audio" in window.audio_light.text(), timeout=30000)
    assert "--no-audio" in window.synth_panel.audio_status.text()
    _applied_says(qtbot, window, "applied: 3 routes, kept in the project; the built-in synth "
                  "is off (opened with --no-audio): nothing plays until the project is opened "
                  "without --no-audio")


def test_the_synth_tab_says_the_synth_is_off_with_the_engine_on_a_thread_of_the_window(
        qtbot, tmp_path):
    """A window whose engine runs on one of its threads has no built-in synth: the Synth tab
    said "audio: no synth", and "applied: 3 routes" as if the mapping played, while the
    window's light said why. It says so as the process engine's --no-audio status does."""
    from .windows import open_window

    window = open_window(qtbot, default_project("thread"), tmp_path / "project",
                         engine="thread")
    off = "the built-in synth is off (the engine runs on a thread of the window, which has no synth)"
    qtbot.waitUntil(lambda: window.synth_panel.audio_status.text().startswith(f"audio: {off}"),
                    timeout=30000)
    assert "the mapping is kept in the project" in window.synth_panel.audio_status.text()
    _applied_says(qtbot, window, f"applied: 3 routes, kept in the project; {off}: nothing "
                  "plays until the project is opened with `gesturemap open`")


def _applied_says(qtbot, window, start: str) -> None:  # noqa: ANN001
    """Apply a master gain of 0.25 in ``window``'s Synth tab: its status starts with
    ``start``, the mapping reaches the project all the same, and the status stays."""
    panel = window.synth_panel
    panel.parameters["master_gain"].setValue(0.25)
    assert panel.apply()
    text = panel.status.text()
    assert text.startswith(start), text
    qtbot.waitUntil(lambda: ((window.project.outputs or {}).get("synth") or {}).get(
        "parameters", {}).get("master_gain") == 0.25, timeout=30000)
    assert panel.status.text() == text  # the window's refreshes keep saying it


def test_an_applied_mapping_says_when_the_audio_server_goes(qtbot, panel):
    """The audio server stopped after Apply (the light: "audio server gone"): the tab's
    "applied" says the same from then on."""
    panel.show_audio({"audio_callbacks": 900, "audio_underruns": 0})
    assert panel.apply() and panel.status.text() == "applied: 3 routes"
    panel.show_audio({"audio_callbacks": 900, "audio_lost": True})
    assert panel.status.text().startswith("applied: 3 routes, kept in the project; audio "
                                          "server gone (JACK stopped?): silent until")


def test_a_dtw_projects_synth_tab_shows_the_default_it_plays(qtbot, tmp_path):
    """A DTW project saved with no synth mapping: the Synth tab shows the DTW default (what
    the synth plays, loud on a match, silent at rest), so that Apply keeps it."""
    from ..rejection_helpers import dtw_project
    from .windows import open_window

    window = open_window(qtbot, dtw_project(), tmp_path / "dtw", engine="thread", audio=False)
    shown = SynthMapping.from_dict(window.synth_panel.settings())
    default = SynthMapping.default(0, "dtw")
    assert [(r.source, r.target) for r in shown.routes] == [
        ("likelihood:*", "loudness"), ("likelihood:*", "follower_gain"),
        ("progress:*", "follower_position")]
    classes = ["down", "up"]
    np.testing.assert_array_equal(shown.route_table(classes), default.route_table(classes))
    np.testing.assert_array_equal(shown.base_values(), default.base_values())


def test_the_synth_tab_shows_the_default_of_a_model_kind_chosen_later(qtbot, tmp_path):
    """A classifier project with no synth mapping saved, turned into a DTW one in the Model
    tab: the synth plays the DTW default, and the Synth tab shows it (Apply keeps what
    plays); a musician's edit in the tab is kept, the rest follows."""
    from gesturemap.project.settings import stage_model

    from ..rejection_helpers import graded_project
    from .windows import open_window

    window = open_window(qtbot, graded_project(), tmp_path / "p", engine="thread", audio=False)
    panel = window.synth_panel

    classes = ["high", "low"]

    def shows(kind: str | None) -> bool:
        """The routes shown are the default's for ``kind``, range and curve included."""
        shown = SynthMapping.from_dict(panel.settings()).route_table(classes)
        default = SynthMapping.default(0, kind).route_table(classes)
        return shown.shape == default.shape and bool((shown == default).all())

    assert shows(None)
    window.engine.command("set_model_settings", stage_model("dtw"))
    qtbot.waitUntil(lambda: shows("dtw"), timeout=30000)
    panel.parameters["master_gain"].setValue(0.5)  # the musician's edit, not applied
    window.engine.command("set_model_settings", stage_model("gmm"))
    # the routes the musician left alone follow; the edit stays
    qtbot.waitUntil(lambda: shows(None), timeout=30000)
    assert panel.parameters["master_gain"].value() == 0.5


def test_the_synth_tab_shows_the_default_over_the_outputs_recorded(qtbot, tmp_path):
    """A regression recorded over 0..127 (MIDI-like targets) and 0..10, no mapping saved: the
    Synth tab shows the default's routes reading them over those ranges, as the synth plays
    them (it showed 0..1, and Apply would have saved the top pitch from 1 up); takes recorded
    over a wider range follow."""
    from .windows import open_window

    project = Project(classes=["a"], output_names=["note", "bright"])
    x = np.linspace(0.0, 1.0, 50)[:, None]
    project.add_take(x, "a", outputs=np.hstack([127.0 * x, 10.0 * x]))
    project.model = {"kind": "gmm", "params": {"gaussians": 2}}
    project.train()
    window = open_window(qtbot, project, tmp_path / "p", engine="thread", audio=False)
    panel = window.synth_panel

    def shown() -> dict:
        return {r["source"]: (r["in_min"], r["in_max"]) for r in panel.settings()["routes"]}

    assert shown()["output:0"] == (0.0, 127.0)
    assert shown()["output:1"] == (0.0, 10.0)
    wider = Project(classes=["a"], output_names=["note", "bright"])
    wider.add_take(x, "a", outputs=np.hstack([254.0 * x, 10.0 * x]))
    panel.follow(None, "gmm", panel.ranges_of(wider))
    assert shown()["output:0"] == (0.0, 254.0)


def _rms(block: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(block, dtype=np.float64))))


def test_default_goes_back_to_the_default_mapping(qtbot, panel, engine, monkeypatch):
    """A mapping saved, then the Default button: it asks first (Cancel keeps everything),
    then shows the default and applies it — the project saves no mapping any more, and the
    synth plays the default for the model again (silent with nothing trained)."""
    buttons = QtWidgets.QMessageBox.StandardButton
    panel.parameters["master_gain"].setValue(0.25)
    panel.parameters["follower_gain"].setValue(0.8)  # a pad that plays throughout
    panel.remove_route()  # the last route: the follower's position
    assert panel.apply()
    qtbot.waitUntil(lambda: "synth" in (engine.project.outputs or {}), timeout=5000)
    qtbot.waitUntil(lambda: engine.synth.mapping.parameters.get("follower_gain") == 0.8,
                    timeout=5000)
    assert _rms(engine.synth.render(9600)[4800:]) > 0.01  # the saved mapping plays the pad
    panel.follow(engine.project.outputs["synth"], None, [])  # as the window's refresh does
    default_button = panel.findChild(QtWidgets.QPushButton, "default")
    asked = []

    def cancel(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        asked.append(args[2])
        return buttons.Cancel

    monkeypatch.setattr(QtWidgets.QMessageBox, "question", staticmethod(cancel))
    qtbot.mouseClick(default_button, QtCore.Qt.MouseButton.LeftButton)
    assert asked and "saved in this project" in asked[0]
    assert panel.parameters["master_gain"].value() == 0.25  # nothing discarded
    assert engine.project.outputs["synth"]["parameters"]["master_gain"] == 0.25

    monkeypatch.setattr(QtWidgets.QMessageBox, "question",
                        staticmethod(lambda *a, **k: buttons.Discard))
    qtbot.mouseClick(default_button, QtCore.Qt.MouseButton.LeftButton)
    shown = SynthMapping.from_dict(panel.settings())
    default = SynthMapping.default(0)
    classes = ["circle", "swipe", "zigzag"]
    np.testing.assert_array_equal(shown.route_table(classes), default.route_table(classes))
    np.testing.assert_array_equal(shown.base_values(), default.base_values())
    assert panel.status.text().startswith("applied: the default")
    assert not panel.edited()
    # none saved: the synth follows the model (its kind, its outputs' ranges) again
    qtbot.waitUntil(lambda: "synth" not in (engine.project.outputs or {}), timeout=5000)
    qtbot.waitUntil(lambda: engine.synth.mapping == SynthMapping.default(None), timeout=5000)
    engine.synth.render(9600)  # the pad's gain glides down
    assert _rms(engine.synth.render(9600)) < 1e-4
    # the window's refreshes keep showing it, and a second Default asks nothing
    panel.follow(None, None, [])
    np.testing.assert_array_equal(
        SynthMapping.from_dict(panel.settings()).route_table(classes), default.route_table(classes))
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", staticmethod(cancel))
    asked.clear()
    assert panel.use_default() and not asked


def test_default_keeps_where_the_synth_plays(qtbot, engine):
    """A project whose synth settings say where it plays (its "audio") keeps them when the
    Default button drops its mapping; settings saying only that play the default mapping,
    never a silent one with no routes."""
    audio = {"samplerate": 44100, "blocksize": 256}
    settings = {"audio": audio, "routes": [{"source": "likelihood:*", "target": "brightness"}]}
    panel = SynthPanel(lambda s: engine.command("set_synth_mapping", s))
    qtbot.addWidget(panel)
    panel.show_mapping(settings, classes=engine.project.classes, folder=engine.project_dir)
    assert panel.use_default()  # the conftest answers Discard
    qtbot.waitUntil(lambda: (engine.project.outputs or {}).get("synth") == {"audio": audio},
                    timeout=5000)
    assert panel.settings()["audio"] == audio
    assert len(SynthMapping.from_dict(panel.settings()).routes) == 3
    synth = Synth({"audio": audio})
    assert synth.audio.samplerate == 44100
    assert synth.mapping == SynthMapping.default(None)


def test_apply_and_default_show_what_they_sent_while_the_engine_plays_the_mapping_before(qtbot):
    """The window's refreshes read the mapping the engine plays, which is the one before
    until the engine has taken the one sent: the tab put the old mapping back for a moment
    after Default, or after two Applies in a row."""
    sent = []
    panel = SynthPanel(sent.append)  # an engine that has taken nothing yet
    qtbot.addWidget(panel)
    saved = {"routes": [{"source": "likelihood:*", "target": "loudness"}],
             "parameters": {"master_gain": 0.5}}
    panel.show_mapping(saved, classes=["a", "b"])
    gain = panel.parameters["master_gain"]
    gain.setValue(0.25)
    assert panel.apply()
    panel.follow(saved)  # a refresh: the engine plays the saved mapping still
    assert gain.value() == 0.25
    gain.setValue(0.5)
    assert panel.apply()
    for in_force in (saved, sent[0], sent[1]):  # the engine takes one, then the other
        panel.follow(in_force)
        assert gain.value() == 0.5, f"the tab showed {gain.value()} with {in_force} in force"
    assert not panel.edited()  # (closing the project asks nothing about this tab)
    default_button = panel.findChild(QtWidgets.QPushButton, "default")
    qtbot.mouseClick(default_button, QtCore.Qt.MouseButton.LeftButton)  # (Discard: conftest)
    assert sent[-1] == {}
    for in_force in (sent[1], None):  # before the engine takes the default, and after
        panel.follow(in_force)
        assert (panel.routes.rowCount(), gain.value()) == (3, 1.0), in_force
        assert panel.status.text().startswith("applied: the default")
    recalled = {**saved, "parameters": {"master_gain": 0.75}}  # then a scene recalled
    panel.follow(recalled)
    assert (panel.routes.rowCount(), gain.value()) == (1, 0.75)


def test_a_mapping_refused_stays_shown_as_an_edit_not_applied(qtbot):
    """The engine refuses a mapping Apply sent (a sound that does not decode): the synth
    plays the one before, and the tab keeps the edit to fix, as not applied."""
    sent = []
    panel = SynthPanel(sent.append)
    qtbot.addWidget(panel)
    saved = {"routes": [{"source": "likelihood:*", "target": "loudness"}]}
    panel.show_mapping(saved, classes=["a"])
    panel.show_refusal({"refused": {}})
    panel.parameters["master_gain"].setValue(0.25)
    assert panel.apply() and not panel.edited()
    panel.show_refusal({"refused": {"set_synth_mapping": (1, "it does not decode")}})
    panel.follow(saved)  # what the engine plays on
    assert panel.parameters["master_gain"].value() == 0.25 and panel.edited()
    assert panel.status.text().startswith("not applied: it does not decode")
