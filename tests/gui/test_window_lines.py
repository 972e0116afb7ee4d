"""What the window's lines say after the musician moved on: another project opened, a refusal
followed by a success, a class named at length. Each line once kept what was no longer true
(the project before's "why?" and distinctness; "not renamed" beside the new name) or widened
the window beyond the screen."""

from __future__ import annotations

import numpy as np
from PySide6 import QtWidgets

from gesturemap.models import HHMM
from gesturemap.project.default import default_project

from .windows import untitled_window


def test_another_project_opened_shows_nothing_of_the_one_before(qtbot, tmp_path):
    window = untitled_window(qtbot, tmp_path)
    window.why.show_explanation({"text": "circle over swipe, more than 1000× as likely",
                                 "drivers": ["vy", "x"], "decided_s": [0.1, 1.7],
                                 "length_s": 1.9})
    window.distinct.show_distinctness({"label": "swipe", "nearest": "circle", "margin": 5.07,
                                       "frames": 20, "score": 0.9, "collides": False})
    assert "circle over swipe" in window.why.text.text()
    assert "nearest circle" in window.distinct.nearest.text()
    assert window.new_project(tmp_path / "b", model="gmm")
    qtbot.waitUntil(lambda: window.project.model.get("kind") == "gmm", timeout=10000)
    assert window.why.text.text() == "why? — (explained while running)"
    assert window.distinct.nearest.text() == "distinctness: shown while a take is recorded"
    assert window.distinct.last is None and window.distinct.bar.value() == 0


def test_a_success_after_a_refusal_is_what_the_status_bar_says(qtbot, tmp_path):
    window = untitled_window(qtbot, tmp_path)
    window.rename_class("circle", "swipe")  # there is one: refused
    assert "not renamed" in window.statusBar().currentMessage()
    window.rename_class("circle", "round")
    qtbot.waitUntil(lambda: "round" in [str(c) for c in window.project.classes], timeout=5000)
    assert "not renamed" not in window.statusBar().currentMessage()
    assert "renamed 'round'" in window.statusBar().currentMessage()
    window.add_class("swipe")  # there is one: picked
    assert "already" in window.statusBar().currentMessage()
    window.add_class("tap")
    assert "already" not in window.statusBar().currentMessage()


def test_a_class_named_at_length_does_not_widen_the_window(qtbot, tmp_path):
    """An 80-character name widened the window from 1280 to 1502 px (300: 3097 px), the class
    list's buttons squeezed to "enam" and "Delet"."""
    # one word: a line wraps between words, never inside one (264 characters)
    long_name = "a_gesture_named_at_great_length_" * 8
    project = default_project()
    project.rename_class("circle", long_name)
    rng = np.random.default_rng(0)
    for label in (long_name, "swipe"):
        for _ in range(2):
            project.add_take(rng.normal(size=(40, 4)) + (label == "swipe"), label,
                             times=np.arange(40) * 0.01)
    window = untitled_window(qtbot, tmp_path, project)
    window.resize(1280, 780)
    qtbot.wait(100)
    window.timer.stop()  # the lines below stay as set (not running, the timer clears them)
    width, buttons = window.width(), window.findChildren(QtWidgets.QPushButton)
    model = HHMM(states=2).fit(project.dataset())
    result = model.stream().run(project.takes[0].inputs)[-1]
    labels = [str(lb) for lb in model.labels_]
    window.monitor.show_result(result, labels)
    window.why.show_explanation({"text": f"{long_name} over swipe, 3× as likely",
                                 "drivers": ["x"], "decided_s": [0.1, 0.4], "length_s": 0.4})
    window.distinct.start(long_name)
    window.distinct.show_distinctness({"label": long_name, "nearest": "swipe", "margin": 1.0,
                                       "frames": 20, "score": 0.7, "collides": True,
                                       "reason": "too close"})
    qtbot.wait(200)
    assert window.width() <= width, (window.width(), width)
    assert window.width() <= 1280
    assert long_name not in window.monitor.big.text()  # shortened, both ends kept
    assert window.monitor.big.text().startswith("a_gesture") and "…" in window.monitor.big.text()
    for button in buttons:  # every button still shows its whole label
        if button.isVisible() and button.text():
            hint = button.sizeHint().width()
            assert button.width() >= min(hint, button.minimumSizeHint().width()), button.text()


def test_a_project_opened_with_its_model_says_it_waits_for_the_sensor(qtbot, tmp_path):
    """A saved project opened, its model running, the sensor not sending yet: the monitor's
    caption (the stage view's too) said "not running: record a few takes, then train" to a
    musician with takes and a model; once a frame comes, the model's answer."""
    import socket

    from tests.stage_helpers import float_msg, free_port

    from .windows import osc_window

    port = free_port()
    window = osc_window(qtbot, tmp_path / "p", port)
    qtbot.waitUntil(lambda: window.engine.running and window.engine.model is not None,
                    timeout=60000)
    qtbot.waitUntil(lambda: window.monitor.caption.text() != "not running: record a few "
                    "takes, then train", timeout=5000)
    assert window.monitor.caption.text() == "running: waiting for the sensor's first frame"
    assert window.monitor.big.text() == "—"
    stage = window.show_stage(full_screen=False)  # the same on the stage view
    qtbot.waitUntil(lambda: stage.monitor.caption.text() == window.monitor.caption.text(),
                    timeout=5000)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        qtbot.waitUntil(lambda: sender.sendto(float_msg("/wek/inputs", 1.0, 1.0),
                                              ("127.0.0.1", port)) and
                        window.monitor.caption.text().startswith("likelihood"), timeout=30000)
    finally:
        sender.close()
    assert window.monitor.big.text() == "swipe"
    assert stage.monitor.big.text() == "swipe"
    assert stage.monitor.caption.text() == window.monitor.caption.text()
