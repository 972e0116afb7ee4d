"""A whole session in the window, driven as a person would (pytest-qt, offscreen).

Start on the default project, add a class, record takes by moving over the mouse pad with
space to start and stop, retrain after each take, run, watch the monitor follow the input,
delete a take and undo it, save, close, reopen, and find it all there.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from gesturemap.gui.pad import MousePad
from gesturemap.gui.screenshots import gesture_path
from gesturemap.gui.window import MainWindow
from gesturemap.project import Project
from gesturemap.project.default import DEFAULT_CLASSES, MOUSE_CHANNELS, default_project

pytestmark = pytest.mark.timeout(180)

#: Pad frames the hand takes to glide to a gesture's start.
GLIDE_FRAMES = 15


def path(kind: str) -> np.ndarray:
    """A gesture on the pad, (n, 2) positions in 0..1 ("shake": the zigzag)."""
    return gesture_path("zigzag" if kind == "shake" else kind, 60)


class PadDriver:
    """The pad in this test: its clock says exactly 10 ms per tick, and during a gesture the
    test ticks it once per point (its timer's ticks are held). The pad's velocity channels
    divide by the time between ticks, so on a loaded machine a real clock and timer record and
    replay a different gesture each run (and the monitor's answer with it)."""

    def __init__(self) -> None:
        self.t = time.perf_counter()
        self.manual = False

    def perf_counter(self) -> float:
        self.t += 0.01
        return self.t


@pytest.fixture
def pad_driver(monkeypatch):
    import gesturemap.gui.pad as pad_module

    driver = PadDriver()
    monkeypatch.setattr(pad_module, "time", SimpleNamespace(perf_counter=driver.perf_counter))
    timer_tick = MousePad.tick

    def tick(self, by_test: bool = False) -> None:
        if by_test or not driver.manual:
            timer_tick(self)

    monkeypatch.setattr(MousePad, "tick", tick)
    return driver


def perform(qtbot, window: MainWindow, kind: str, answers: list[str] | None = None) -> None:
    """Move over the pad along a gesture, one pad frame per point (the pad samples at 100 Hz;
    its timer is held meanwhile so that each point is exactly one frame). With ``answers``,
    the engine's label after each of the gesture's last frames is appended to it."""
    pad = window.pad
    driver = window.pad_driver
    driver.manual = True
    try:
        # the hand glides to where the gesture starts, as a mouse does (a pointer that jumped
        # there would make one frame of huge velocity between two gestures)
        start = path(kind)[0]
        here = np.array(pad._pos, dtype=float)
        for a in np.linspace(0.0, 1.0, GLIDE_FRAMES + 1)[1:]:
            pad.move_to(*(here + a * (start - here)))
            pad.tick(by_test=True)
            qtbot.wait(10)
        base = settled_frames(qtbot, window)
        for i, (x, y) in enumerate(path(kind)):
            pad.move_to(x, y)
            pad.tick(by_test=True)
            qtbot.wait(10)
            if answers is not None and i > 40:
                qtbot.waitUntil(lambda n=i: window.engine.frames_in >= base + n + 1,
                                timeout=10000)
                answers.append(str(window.engine.last_result.label))
    finally:
        driver.manual = False


def settled_frames(qtbot, window: MainWindow) -> int:
    """The engine's frame count once the frames the pad already sent have all arrived (the
    count stays the same for 0.2 s)."""
    last = -1
    for _ in range(100):
        qtbot.wait(200)
        now = window.engine.frames_in
        if now == last:
            return now
        last = now
    raise AssertionError("the engine's frame count never settled")


def press_space(qtbot, window: MainWindow) -> None:
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Space)


def record(qtbot, window: MainWindow, label: str, kind: str) -> None:
    names = [window.classes.item(i).text() for i in range(window.classes.count())]
    window.classes.setCurrentRow(names.index(label))
    takes = len(window.project.takes)
    window.pad.move_to(*path(kind)[0])
    qtbot.wait(30)
    press_space(qtbot, window)
    # the engine's state holds this start (not an older snapshot's "recording")
    qtbot.waitUntil(lambda: window.engine.recording and window.engine.record_commands
                    == window._record_commands_sent, timeout=10000)
    perform(qtbot, window, kind)
    pressed = time.perf_counter()
    press_space(qtbot, window)
    try:
        qtbot.waitUntil(lambda: len(window.project.takes) == takes + 1, timeout=10000)
    except qtbot.TimeoutError:
        e = window.engine  # what the engine (its process's snapshot) and the window were at
        state = dict(recording=e.recording, frames_in=e.frames_in, takes=len(window.project.takes),
                     errors=e.errors, refused=e.stats().get("refused_commands"),
                     record_started=window._record_started, button=window.record_button.isChecked(),
                     count_in=window.count_in.value(), take_length=window.take_length.value(),
                     active=QtWidgets.QApplication.activeWindow(),
                     focus=QtWidgets.QApplication.focusWidget(),
                     shown=[w for w in QtWidgets.QApplication.topLevelWidgets() if w.isVisible()],
                     pressed=pressed, activations=getattr(window, "_test_activations", None))
        raise AssertionError(f"no take {takes + 1} of {label!r}: {state}") from None


def wait_trained(qtbot, window: MainWindow, labels: set[str]) -> None:
    qtbot.waitUntil(
        lambda: (
            window.engine.model is not None
            and set(map(str, window.engine.model.labels_)) == labels
            and window._train_sent is None
        ),
        timeout=20000,
    )


def likeliest_during(qtbot, window: MainWindow, kind: str) -> list[str]:
    """The engine's label after each of the gesture's last frames (what the monitor shows)."""
    seen: list[str] = []
    perform(qtbot, window, kind, seen)
    qtbot.wait(200)  # the monitor's timer draws the last of them
    return seen


def test_a_whole_session(qtbot, tmp_path, pad_driver):
    autosave = tmp_path / "autosave"
    window = MainWindow(default_project(), autosave_dir=autosave, osc_in=None, trainer="thread")
    window.pad_driver = pad_driver
    window._test_activations = []
    window.record_shortcut.activated.connect(
        lambda: window._test_activations.append(time.perf_counter()))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert [window.classes.item(i).text() for i in range(3)] == list(DEFAULT_CLASSES)

    # the pad is the sensor: frames arrive, and the plot shows x, y, vx, vy
    qtbot.waitUntil(lambda: window.engine.frames_in > 10, timeout=10000)
    assert [c.name() for c in window.plot.curves] == list(MOUSE_CHANNELS)

    window.add_class("shake")
    qtbot.waitUntil(lambda: "shake" in window.project.classes, timeout=10000)
    qtbot.waitUntil(lambda: window.current_class() == "shake", timeout=10000)

    for label, kind in (("circle", "circle"), ("swipe", "swipe"), ("shake", "shake")):
        for _ in range(2):
            record(qtbot, window, label, kind)
    assert len(window.project.takes) == 6
    assert all(t.inputs.shape[1] == 4 and t.length > 20 for t in window.project.takes)
    # autosave: every take is on disk already
    qtbot.waitUntil(lambda: len(list((autosave / "takes").glob("*.npz"))) == 6, timeout=10000)

    # retrained after the takes, running at once, timing shown
    wait_trained(qtbot, window, {"circle", "swipe", "shake"})
    assert window.engine.running and window.run_button.isChecked()
    assert "trained in" in window.train_status.text()
    assert window.last_train_ms is not None

    # the monitor follows the input
    circle = likeliest_during(qtbot, window, "circle")
    swipe = likeliest_during(qtbot, window, "swipe")
    assert circle.count("circle") > len(circle) // 2, circle
    assert swipe.count("swipe") > len(swipe) // 2, swipe
    # its bars are the likelihoods of the engine's latest frame, as the outputs sent them
    qtbot.waitUntil(lambda: np.allclose(window.monitor.likelihoods,
                                        window.engine.last_result.likelihoods), timeout=5000)
    assert len(window.monitor.bars.labels) == 3

    # delete a take in the dataset browser, then undo and redo
    window.tabs.setCurrentWidget(window.dataset)
    qtbot.waitUntil(lambda: window.dataset.tree.topLevelItemCount() == 4, timeout=10000)
    victim = window.project.takes[2]
    window.dataset.select_take(victim.id)
    assert window.dataset.selected_takes() == [victim]
    qtbot.mouseClick(window.dataset.delete_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(window.project.takes) == 5, timeout=10000)
    assert victim.id not in [t.id for t in window.project.takes]
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: len(window.project.takes) == 6, timeout=10000)
    back = window.project.takes[-1]
    assert back.label == victim.label and np.array_equal(back.inputs, victim.inputs)
    window.undo_stack.redo()
    qtbot.waitUntil(lambda: len(window.project.takes) == 5, timeout=10000)
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: len(window.project.takes) == 6, timeout=10000)
    wait_trained(qtbot, window, {"circle", "swipe", "shake"})

    # save as, then close: nothing left unsaved, so no question asked
    saved = tmp_path / "my-gestures"
    assert window.modified
    assert window.save_to(saved)
    assert not window.modified and not autosave.exists()

    def never(*_):
        raise AssertionError("asked to save although everything was saved")

    window._ask_save = never
    takes = [(t.label, t.inputs.copy()) for t in window.project.takes]
    window.close()

    # reopen: the classes, the takes and the trained model are all there
    project = Project.load(saved)
    assert project.classes == [*DEFAULT_CLASSES, "shake"]
    assert [(t.label, t.length) for t in project.takes] == [(lb, len(x)) for lb, x in takes]
    assert all(np.array_equal(t.inputs, x) for t, (_, x) in zip(project.takes, takes, strict=True))
    assert project.trained is not None
    again = MainWindow(project, saved, osc_in=None, trainer="thread")
    again.pad_driver = pad_driver
    qtbot.addWidget(again)
    again.show()
    assert again.engine.running
    # the reopened window's pad is live before the gesture starts (on a cold start the first
    # frames come late), and the gesture starts a fresh forward pass
    qtbot.waitUntil(lambda: again.engine.frames_in > 20, timeout=10000)
    again.engine.command("start_running")
    qtbot.wait(50)
    swipe = likeliest_during(qtbot, again, "swipe")
    assert swipe.count("swipe") > len(swipe) // 2, swipe
    again._ask_save = never
    again.close()


def test_space_right_after_a_stop_starts_the_next_take(qtbot, tmp_path):
    """A performer stopping a take and starting the next at once: the second Space comes
    before the engine has published the stop, so its state still says "recording". The window
    used to stop again (nothing) instead of starting: the next take was never recorded, and
    the Space after it started one instead (test_a_whole_session failed so, now and then)."""
    window = MainWindow(default_project(), autosave_dir=tmp_path / "autosave", osc_in=None,
                        trainer="thread", engine="thread", audio=False)
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.show()
    qtbot.waitExposed(window)
    engine = window.engine
    qtbot.waitUntil(lambda: engine.frames_in > 10, timeout=10000)
    window.classes.setCurrentRow(0)
    press_space(qtbot, window)
    qtbot.waitUntil(lambda: engine.recording and engine.record_commands == 1, timeout=10000)
    frames = engine.frames_in  # frames enough for the model's 8 states (shorter: refused)
    qtbot.waitUntil(lambda: engine.frames_in >= frames + 12, timeout=10000)
    with engine._frame_lock:  # the engine is busy: what the window sends waits its turn
        press_space(qtbot, window)  # stop
        assert engine.recording  # not applied yet: the state the window reads says recording
        press_space(qtbot, window)  # start the next take
        assert window._record_started is not None and window.record_button.isChecked()
    qtbot.waitUntil(lambda: engine.record_commands == 3, timeout=10000)
    assert engine.recording  # the next take is under way
    qtbot.waitUntil(lambda: len(window.project.takes) == 1, timeout=10000)
    press_space(qtbot, window)  # and the Space after it stops it
    qtbot.waitUntil(lambda: not engine.recording, timeout=10000)
    assert window._record_started is None
