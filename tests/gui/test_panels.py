"""The window's panels, each on its own, driven as a person would, on a real engine.

Each test builds the widget alone (no main window), wires it to a real
:class:`~gesturemap.gui.session.WindowEngine` on a real small project (the default mouse
project with recorded gestures, or a two-output regression project) and checks that what the
person did reached the engine and the project.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6 import QtCore, QtGui
from pythonosc.udp_client import SimpleUDPClient

from gesturemap.gui.colours import class_colours
from gesturemap.gui.dataset import DatasetBrowser
from gesturemap.gui.monitor import Monitor
from gesturemap.gui.panels import ModelPanel
from gesturemap.gui.plots import OutputsPlot, SignalPlot
from gesturemap.gui.screenshots import gesture_path
from gesturemap.gui.sensor_panel import SensorPanel
from gesturemap.gui.session import WindowEngine
from gesturemap.gui.targets import TargetsPanel
from gesturemap.project import Project
from gesturemap.project.default import default_project
from gesturemap.sources.base import Frame
from tests.stage_helpers import free_port

pytestmark = pytest.mark.timeout(60)

RATE_HZ = 100.0


def pad_take(kind: str, n: int = 70, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A mouse-pad take of a gesture: (n, 4) x, y, vx, vy at 100 Hz, and its times."""
    xy = gesture_path(kind, n) + np.random.default_rng(seed).normal(0, 0.004, (n, 2))
    v = np.gradient(xy, 1.0 / RATE_HZ, axis=0)
    return np.c_[xy, v], np.arange(n) / RATE_HZ


def mouse_project() -> Project:
    project = default_project()
    for kind in ("circle", "swipe"):
        for seed in range(3):
            inputs, times = pad_take(kind, seed=seed)
            project.add_take(inputs, kind, times=times)
    return project


def regression_project() -> Project:
    """Two inputs mapped to two sound parameters (a GMR)."""
    return Project(
        "map",
        model={"kind": "gmm", "params": {"gaussians": 2}},
        input_names=["x", "y"],
        output_names=["pitch", "cutoff"],
    )


def started(project: Project) -> WindowEngine:
    return WindowEngine(project, osc_in=None, trainer="thread").start()


def wait_trained(qtbot, engine: WindowEngine, trainings: int = 1) -> None:
    qtbot.waitUntil(lambda: engine.trainings >= trainings, timeout=20000)


@pytest.fixture
def engine(qtbot):
    engine = started(mouse_project())
    yield engine
    engine.stop()


# -- regression targets ------------------------------------------------------------------------
def test_target_sliders_set_the_outputs_recorded_with_each_frame(qtbot):
    project = regression_project()
    engine = started(project)
    try:
        panel = TargetsPanel(engine.command)
        qtbot.addWidget(panel)
        panel.show_outputs(project.output_names)
        assert panel.isVisibleTo(None) or panel.names == ["pitch", "cutoff"]
        # the person drags the sliders to the sound they want, then moves while recording
        panel.sliders[0].setValue(250)  # 0.25 of 0..1
        panel.boxes[1].setValue(0.8)
        assert panel.values() == pytest.approx([0.25, 0.8])
        engine.command("start_recording")
        qtbot.waitUntil(lambda: engine.recording, timeout=2000)
        put = engine.queue.put
        for i in range(20):
            put(Frame(float(i) / RATE_HZ + 1.0, np.array([i / 20, 1 - i / 20]), "test"))
        qtbot.waitUntil(lambda: engine.frames_in >= 20, timeout=2000)
        # half-way through the take, a new target
        panel.sliders[0].setValue(1000)
        qtbot.waitUntil(lambda: engine.current_outputs[0] == 1.0, timeout=2000)
        for i in range(20, 40):
            put(Frame(float(i) / RATE_HZ + 1.0, np.array([i / 40, 0.5]), "test"))
        qtbot.waitUntil(lambda: engine.frames_in >= 40, timeout=2000)
        engine.command("stop_recording")
        qtbot.waitUntil(lambda: len(project.takes) == 1, timeout=2000)
        outputs = project.takes[0].outputs
        assert outputs.shape == (40, 2)
        np.testing.assert_allclose(outputs[:20], [[0.25, 0.8]] * 20)
        np.testing.assert_allclose(outputs[20:], [[1.0, 0.8]] * 20)
        # a classification project has no targets: the panel hides
        panel.show_outputs(None)
        assert not panel.isVisibleTo(None) and panel.sliders == []
    finally:
        engine.stop()


def test_a_target_the_person_set_holds_until_a_take_records_it(qtbot):
    """While a model runs the targets show its outputs (Wekinator's sliders do); a target the
    person set is not overwritten by them before the next take records it, and follows the
    model again once that take has begun."""
    sent = []
    panel = TargetsPanel(lambda *a: sent.append(a))
    qtbot.addWidget(panel)
    panel.show_outputs(["pitch", "cutoff"])
    panel.follow([0.2, 0.9])  # the model's outputs, shown
    assert panel.values() == pytest.approx([0.2, 0.9]) and sent == []
    panel.sliders[0].setValue(800)  # the person sets pitch, lets go of the slider
    panel.follow([0.2, 0.9])  # the model runs on: pitch holds, cutoff follows
    panel.follow([0.3, 0.7])
    assert panel.values() == pytest.approx([0.8, 0.7])
    panel.boxes[1].setValue(0.1)  # then types a cutoff
    panel.follow([0.3, 0.7])
    assert panel.values() == pytest.approx([0.8, 0.1])
    panel.send_current()  # a take begins: it records what the person set
    assert sent[-1] == ("set_outputs", pytest.approx(0.8), pytest.approx(0.1))
    panel.follow([0.4, 0.6])  # after it, the rows follow the model again
    assert panel.values() == pytest.approx([0.4, 0.6])
    panel.set_values([0.5, 0.5])  # set all at once (a preset): held as well
    panel.follow([0.4, 0.6])
    assert panel.values() == pytest.approx([0.5, 0.5])


# -- the monitor: rejection threshold, regression band ---------------------------------------
def test_the_rejection_threshold_turns_a_weak_class_into_unknown(qtbot, engine):
    engine.command("train")
    wait_trained(qtbot, engine)
    labels = [str(lb) for lb in engine.model.labels_]

    def results(kind: str) -> list:
        stream = engine.model.stream()
        return [stream.step(f) for f in pad_take(kind, seed=7)[0]]

    base = results("circle")[0]

    def frame(k: int, p: float):  # noqa: ANN202 - class k the likeliest, at p
        lik = np.full(len(labels), (1 - p) / (len(labels) - 1))
        lik[k] = p
        return dataclasses.replace(base, label=labels[k], label_index=k, likelihoods=lik)

    # the model's own frames (sure of their class), and frames of every likelihood between
    frames = results("swipe")[:5] + [frame(k, p) for k in range(len(labels))
                                     for p in (0.95, 0.55, 0.7, 0.85, 0.74, 0.76)]
    top = np.array([r.likelihoods[r.label_index] for r in frames])
    monitor = Monitor(threshold_control=True)
    qtbot.addWidget(monitor)
    colours = class_colours(engine.project)
    monitor.set_colours(colours)
    sent = []
    monitor.threshold_changed.connect(lambda v: engine.command("set_reject_below", v))
    monitor.threshold_changed.connect(sent.append)
    # no threshold: the likeliest class shows, whatever its likelihood
    for r in frames:
        monitor.show_result(r, labels)
        assert monitor.big.text() == str(r.label) and not monitor.rejected
        assert monitor.big.styleSheet() == f"color: {colours[str(r.label)].name()}"
    # the person sets a threshold some frames' likeliest class does not reach: those frames,
    # and only those, are unknown and greyed out (their own likelihood, as the outputs read
    # it: no smoothing of the monitor's own carries a frame over the threshold)
    threshold = 0.75
    monitor.threshold_slider.setValue(75)
    assert sent == [threshold]
    for r, p in zip(frames, top, strict=True):
        monitor.show_result(r, labels)
        assert monitor.rejected == (p < threshold) == monitor.bars.rejected
        if monitor.rejected:
            assert "unknown" in monitor.big.text() and "#4a5568" in monitor.big.styleSheet()
            assert f"likelihood {p:.2f} below {threshold:.2f}" in monitor.caption.text()
        else:
            assert monitor.big.text() == str(r.label)
    assert monitor.bars.threshold == threshold
    # the project's outputs.reject_below: what OSC, MIDI and the synth follow
    qtbot.waitUntil(
        lambda: (engine.project.outputs or {}).get("reject_below") == threshold, timeout=2000
    )
    assert engine.output.settings.reject_below == threshold
    assert "rejection_threshold" not in (engine.project.display or {})
    # the stage view reads it there and decides the same
    stage_monitor = Monitor()
    qtbot.addWidget(stage_monitor)
    stage_monitor.set_threshold(engine.project.outputs["reject_below"])
    for r, p in zip(frames, top, strict=True):
        stage_monitor.show_result(r, labels)
        assert stage_monitor.rejected == (p < threshold)
    # and turning it off shows the class at once
    monitor.threshold_slider.setValue(0)
    monitor.show_result(frames[int(np.argmin(top))], labels)
    assert not monitor.rejected and "unknown" not in monitor.big.text()
    qtbot.waitUntil(lambda: engine.output.settings.reject_below == 0.0, timeout=2000)


def test_regression_outputs_show_with_a_variance_band(qtbot):
    project = regression_project()
    s = np.linspace(0, 1, 60)
    project.add_take(np.c_[s, s], "take", outputs=np.c_[s, 1 - s])
    project.add_take(np.c_[s, 1 - s] + 0.01, "take", outputs=np.c_[s * 0.5, s])
    model = project.train()
    stream = model.stream()
    monitor = Monitor()
    qtbot.addWidget(monitor)
    monitor.output_names = ["pitch", "cutoff"]
    for x in s:
        r = stream.step(np.array([x, x]))
        monitor.show_result(r, [str(lb) for lb in model.labels_])
    plot = monitor.outputs_plot
    assert plot is not None and plot.values.shape == (60, 2)
    np.testing.assert_allclose(plot.values[-1], r.output)
    np.testing.assert_allclose(plot.stds[-1], np.sqrt(np.diag(r.output_covariance)))
    assert (plot.stds > 0).all()
    low, high = plot._edges[0]
    np.testing.assert_allclose(high.yData - low.yData, 2 * plot.stds[:, 0])
    assert monitor.outputs.text().startswith("outputs:")


# -- the dataset browser: overlay and playback -------------------------------------------------
def test_a_selected_take_overlays_the_plot_and_plays_back_through_the_model(qtbot, engine):
    engine.command("train")
    wait_trained(qtbot, engine)
    engine.command("stop_running")
    browser = DatasetBrowser(engine.command, QtGui.QUndoStack(), lambda: None)
    plot = SignalPlot()
    qtbot.addWidget(browser)
    qtbot.addWidget(plot)
    browser.take_selected.connect(
        lambda take_id: plot.set_overlay(
            browser.take(take_id).times if take_id else None,
            browser.take(take_id).inputs if take_id else None,
            browser.colours.get("swipe"),
        )
    )
    browser.refresh(engine.project)
    swipe = [t for t in engine.project.takes if t.label == "swipe"][0]
    with qtbot.waitSignal(browser.take_selected) as signal:
        browser.select_take(swipe.id)
    assert signal.args == [swipe.id]
    assert len(plot.overlay_curves) == 4
    plot.show_frames(np.array([0.0, 1.0]), np.zeros((2, 4)), 1.0)
    x, y = plot.overlay_curves[1].getData()
    np.testing.assert_allclose(y, swipe.inputs[:, 1])
    assert x[-1] == pytest.approx(0.0) and x[0] == pytest.approx(-swipe.times[-1])
    # play it: the engine replays its frames at their recorded timing through the model
    frames = engine.frames_in
    qtbot.mouseClick(browser.play_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: engine.stats()["playing"] == swipe.id, timeout=2000)
    assert engine.running
    qtbot.waitUntil(lambda: engine.stats()["playing"] is None, timeout=5000)
    assert engine.frames_in - frames == swipe.length
    assert engine.last_result is not None and engine.last_result.label == "swipe"
    _, played = engine.ring.latest(swipe.length)
    np.testing.assert_allclose(played, swipe.inputs)
    # a second play, at a quarter of the speed (so that it is still playing whatever the
    # machine's load), can be stopped half-way; live frames are muted meanwhile
    browser.speed.setCurrentText("×0.25")
    qtbot.mouseClick(browser.play_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: engine.stats()["playing"] == swipe.id, timeout=2000)
    assert engine.stats()["playing_speed"] == 0.25
    engine.queue.put(Frame(1e6, np.full(4, 9.0), "mouse"))
    qtbot.mouseClick(browser.stop_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: engine.stats()["playing"] is None, timeout=2000)
    _, seen = engine.ring.latest()
    assert not (seen == 9.0).all(axis=1).any()
    # none selected: no overlay
    browser.tree.clearSelection()
    assert plot.overlay_curves == []


# -- class colours -----------------------------------------------------------------------------
def test_a_class_colour_is_saved_and_used_by_the_browser_and_monitor(qtbot, engine, tmp_path):
    browser = DatasetBrowser(engine.command, QtGui.QUndoStack(), lambda: None)
    qtbot.addWidget(browser)
    browser.refresh(engine.project)
    top = browser.tree.topLevelItem(1)
    assert top.text(0) == "swipe"
    default = top.foreground(0).color().name()
    engine.command("set_display", {"class_colors": {"swipe": "#ff00ff"}})
    qtbot.waitUntil(lambda: engine.project.display is not None, timeout=2000)
    browser.refresh(engine.project)
    assert browser.tree.topLevelItem(1).foreground(0).color().name() == "#ff00ff" != default
    assert browser.tree.topLevelItem(0).foreground(0).color().name() == "#4299e1"
    bars = Monitor()
    qtbot.addWidget(bars)
    bars.set_colours(class_colours(engine.project))
    assert bars.bars.colours["swipe"].name() == "#ff00ff"
    # renaming the class keeps its colour; saving keeps it in project.json
    engine.command("rename_class", "swipe", "slide")
    qtbot.waitUntil(lambda: "slide" in engine.project.classes, timeout=2000)
    assert class_colours(engine.project)["slide"].name() == "#ff00ff"
    engine.project.save(tmp_path / "p")
    assert Project.load(tmp_path / "p").display["class_colors"] == {"slide": "#ff00ff"}


# -- model panel: per-class overrides ----------------------------------------------------------
def test_per_class_overrides_reach_the_trained_model(qtbot, engine):
    sent = []
    panel = ModelPanel(
        lambda settings: (sent.append(settings), engine.command("set_model_settings", settings))
    )
    qtbot.addWidget(panel)
    panel.show_settings(engine.project.model)
    panel.set_classes([str(c) for c in engine.project.classes])
    over = panel.overrides
    assert set(over.checks) == {
        "states",
        "gaussians",
        "relative_regularization",
        "absolute_regularization",
        "covariance",
        "transition",
    }
    over.class_box.setCurrentText("swipe")
    over.checks["states"].setChecked(True)
    over.editors["states"].setValue(3)
    over.class_box.setCurrentText("circle")  # the swipe's override is kept
    assert not over.checks["states"].isChecked()
    assert over.editors["states"].value() == 8  # the model's own value
    over.checks["relative_regularization"].setChecked(True)
    over.editors["relative_regularization"].setValue(0.2)
    over.class_box.setCurrentText("swipe")
    assert over.checks["states"].isChecked() and over.editors["states"].value() == 3
    qtbot.mouseClick(panel.apply_button, QtCore.Qt.MouseButton.LeftButton)
    assert sent[-1]["params"]["class_params"] == {
        "swipe": {"states": 3},
        "circle": {"relative_regularization": 0.2},
    }
    qtbot.waitUntil(lambda: "class_params" in engine.project.model["params"], timeout=2000)
    engine.command("train")
    wait_trained(qtbot, engine)
    model = engine.model
    assert model.class_param("swipe", "states") == 3
    assert model.class_param("circle", "states") == 8
    assert model.class_param("circle", "relative_regularization") == 0.2
    # shown again from the project's settings
    again = ModelPanel(lambda s: None)
    qtbot.addWidget(again)
    again.set_classes(["circle", "swipe"])
    again.show_settings(engine.project.model)
    assert again.settings() == engine.project.model


# -- sensor settings ---------------------------------------------------------------------------
def test_the_sensor_panel_opens_an_osc_source_on_the_port_and_address_given(qtbot, engine):
    panel = SensorPanel(lambda settings: engine.command("set_sensor", settings))
    qtbot.addWidget(panel)
    panel.show_settings(engine.project.sensor)
    assert panel.transport.currentText() == "mouse" and not panel.osc_box.isVisibleTo(panel)
    panel.transport.setCurrentText("osc")
    panel.profile.setCurrentText("wekinator")
    assert panel.port.value() == 6448 and panel.address.text() == "/wek/inputs"
    port = free_port()
    panel.port.setValue(port)
    panel.address.setText("/my/sensor")
    qtbot.mouseClick(panel.apply_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: engine.project.sensor.get("port") == port, timeout=2000)
    assert engine.project.sensor["address"] == "/my/sensor"
    assert engine.project.sensor["transport"] == "osc"
    qtbot.waitUntil(lambda: "wekinator" in engine.stats()["sources"], timeout=3000)
    panel.show_status(engine.stats())  # listening, but no sensor heard: not "connected"
    assert "wekinator: open, nothing received yet" in panel.status.text()
    frames = engine.frames_in
    client = SimpleUDPClient("127.0.0.1", port)
    client.send_message("/wek/inputs", [9.0, 9.0, 9.0, 9.0])  # not the address set: ignored
    for i in range(5):
        client.send_message("/my/sensor", [0.1 * i, 0.2, 0.3, 0.4])
    qtbot.waitUntil(lambda: engine.frames_in >= frames + 5, timeout=3000)
    _, values = engine.ring.latest(5)
    np.testing.assert_allclose(values[:, 0], [0.0, 0.1, 0.2, 0.3, 0.4])
    panel.show_status(engine.stats())
    assert "wekinator: connected" in panel.status.text()
    # a serial sensor of another width than the project's: the panel says why, and the OSC
    # source closed
    panel.transport.setCurrentText("serial")
    assert panel.serial_box.isVisibleTo(panel)
    panel.profile.setCurrentText("arduino-imu-text")
    panel.device.setCurrentText("")
    qtbot.mouseClick(panel.apply_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: engine.stats()["sensor_error"] is not None, timeout=3000)
    assert engine.stats()["sources"] == {}
    panel.show_status(engine.stats())
    assert "sends frames of 6 values" in panel.status.text()
    assert "takes 4 inputs" in panel.status.text()
    # and the panel shows what the project holds
    other = SensorPanel(lambda s: None)
    qtbot.addWidget(other)
    other.show_settings(
        {"transport": "osc", "profile": "wekinator", "port": port, "address": "/my/sensor"}
    )
    assert other.settings()["port"] == port and other.settings()["address"] == "/my/sensor"


def test_picking_osc_listens_where_wekinator_clients_send(qtbot):
    # the list opened on FaceOSC (port 8338, face-tracker addresses): a phone app sending
    # /wek/inputs to 6448, as gesturemap run and the docs expect, was heard by nothing
    panel = SensorPanel(lambda s: None)
    qtbot.addWidget(panel)
    panel.show_settings(None)
    panel.transport.setCurrentText("osc")
    assert panel.profile.currentText() == "wekinator"
    assert panel.settings()["port"] == 6448 and panel.address.text() == "/wek/inputs"
    panel.transport.setCurrentText("serial")
    assert panel.profile.currentText() == "arduino-imu-text"
    # a project's own profile still shows as saved
    panel.show_settings({"transport": "osc", "profile": "faceosc"})
    assert panel.profile.currentText() == "faceosc" and panel.settings()["port"] == 8338


def test_the_feature_ring_holds_the_pipelines_output(qtbot):
    from gesturemap.features import Pipeline
    from gesturemap.features.stages import Select

    project = default_project()
    project.pipeline = Pipeline([Select(channels=["vx", "vy"])])
    engine = started(project)
    try:
        for i in range(10):
            engine.queue.put(
                Frame(1.0 + i / RATE_HZ, np.array([i, 2.0 * i, 3.0 * i, 4.0 * i]), "test")
            )
        qtbot.waitUntil(lambda: engine.feature_ring.count == 10, timeout=2000)
        assert engine.feature_ring.names == ("vx", "vy")
        times, feats = engine.feature_ring.latest()
        _, raw = engine.ring.latest()
        np.testing.assert_allclose(feats, raw[:, 2:])
        np.testing.assert_allclose(times, 1.0 + np.arange(10) / RATE_HZ)
    finally:
        engine.stop()


def test_the_signal_plots_range_follows_the_signal_with_slack_until_taken_by_hand(qtbot):
    """The vertical range moves when the signal leaves it or fills little of it, not on every
    refresh (each move redraws the axis and its grid); a vertical drag or zoom hands it to the
    performer, and the "A" button gives it back."""
    plot = SignalPlot()
    qtbot.addWidget(plot)
    view = plot.getPlotItem().getViewBox()
    t = np.linspace(0, 4, 400)
    wave = np.sin(6 * t)[:, None]

    def y_range():
        return tuple(view.viewRange()[1])

    plot.show_frames(t, wave, 4.0)
    first = y_range()
    assert first[0] < -0.99 and first[1] > 0.99
    # the same wave, a little smaller: no move
    plot.show_frames(t, 0.8 * wave, 4.0)
    assert y_range() == first
    # the signal leaves the range: it grows to hold it
    plot.show_frames(t, 3 * wave, 4.0)
    assert y_range()[0] < -2.99 and y_range()[1] > 2.99
    # it fills little of it: the range shrinks back around it
    plot.show_frames(t, 0.5 * wave, 4.0)
    assert -0.7 < y_range()[0] < -0.49 and 0.49 < y_range()[1] < 0.7
    # a vertical zoom by hand: the range stays where the performer put it
    view.scaleBy((1, 4))
    view.sigRangeChangedManually.emit([False, True])
    by_hand = y_range()
    plot.show_frames(t, 5 * wave, 4.0)
    assert y_range() == by_hand
    # the "A" button: it follows the signal again
    plot.getPlotItem().autoBtnClicked()
    plot.show_frames(t, 5 * wave, 4.0)
    assert y_range()[0] < -4.99 and y_range()[1] > 4.99 and y_range()[1] < 7


def test_the_outputs_plot_moves_its_range_only_when_the_outputs_leave_it(qtbot):
    plot = OutputsPlot(points=50)
    qtbot.addWidget(plot)
    view = plot.getPlotItem().getViewBox()
    for i in range(50):
        plot.push(np.array([np.sin(i / 5)]), np.array([0.01]))
    first = tuple(view.viewRange()[1])
    assert first[0] < -1.0 and first[1] > 1.0
    for i in range(50, 60):  # the same sine goes on: the range stays
        plot.push(np.array([np.sin(i / 5)]), np.array([0.01]))
    assert tuple(view.viewRange()[1]) == first
    plot.push(np.array([4.0]), np.array([0.01]))  # beyond it: it grows to hold it
    assert view.viewRange()[1][1] > 4.0
    # another number of outputs starts afresh
    for _ in range(3):
        plot.push(np.array([0.1, 0.2]), None)
    assert view.viewRange()[1][1] < 1.0
