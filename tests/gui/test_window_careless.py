"""What a careless user does in the window: Train with no takes, "that was X" with nothing to
correct, Space while a take plays back, Delete on the take playing, Save As into a folder that
cannot be written, and a mouse pad still moving after the engine process died."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np

from gesturemap.gui.remote import _PadQueue
from gesturemap.gui.window import MainWindow
from gesturemap.project import Project
from gesturemap.project.default import default_project
from gesturemap.sources.base import Frame

from .windows import untitled_window


def _project_with_takes(seconds: float = 2.0):
    """The default project with a take of circle and of swipe, the pad held at x = 0.2 (100 Hz,
    ``seconds`` long): played at x0.25, one plays for 4 x ``seconds``."""
    project = default_project()
    n = int(seconds * 100)
    times = np.arange(n) / 100.0
    for label, y in (("circle", 0.3), ("swipe", 0.7)):
        inputs = np.column_stack([np.full(n, 0.2), np.full(n, y), np.zeros(n), np.zeros(n)])
        project.add_take(inputs, label, times=times)
    return project


def _synced(qtbot, window: MainWindow) -> None:
    """Wait until the engine applied every command sent before this one."""
    edits = window.engine.edits
    window.engine_command("set_display", {"synced": time.perf_counter()})
    qtbot.waitUntil(lambda: window.engine.edits > edits, timeout=5000)


def _play(qtbot, window: MainWindow, take_id: str) -> None:
    window.tabs.setCurrentWidget(window.dataset)
    qtbot.waitUntil(lambda: window.dataset.take(take_id) is not None, timeout=5000)
    window.dataset.select_take(take_id)
    window.dataset.speed.setCurrentText("×0.25")
    window.dataset.play_button.click()
    qtbot.waitUntil(lambda: window.engine.stats()["playing"] == take_id, timeout=5000)


def test_train_with_no_takes_says_so(qtbot, tmp_path):
    """The engine refuses the command: the window said "training… N ms" for ever."""
    window = untitled_window(qtbot, tmp_path)
    window.train_button.click()
    qtbot.waitUntil(lambda: window._train_sent is None, timeout=5000)
    assert window.train_status.text() == "not trained: no takes recorded yet"


def _until(qtbot, window: MainWindow, condition, what: str) -> None:  # noqa: ANN001
    """Wait for ``condition`` (a training on a machine busy with other tests can take
    seconds); timed out, say what the window and the engine showed."""
    try:
        qtbot.waitUntil(condition, timeout=60000)
    except Exception as exc:
        stats = window.engine.stats()
        raise AssertionError(
            f"{what}: takes {[t.label for t in window.engine.project.takes]}, training line "
            f"{window.train_status.text()!r}, trainings {window.engine.trainings}, refused "
            f"{stats.get('refused')}, errors {stats.get('errors')}") from exc


def test_nothing_to_correct_is_said_and_its_undo_does_nothing(qtbot, tmp_path):
    """C with no gesture since the last take: the engine refuses it; the window said
    "training…" for ever, and Ctrl+Z on that step took out the take of the correction before."""
    project = _project_with_takes(0.3)
    project.sensor = {"transport": "osc", "host": "127.0.0.1", "port": 0}  # the pad is off
    window = untitled_window(qtbot, tmp_path, project)
    window.train()
    _until(qtbot, window, lambda: window._train_sent is None and window.engine.running,
           "the first training")
    window.reset_stream()
    handled = window.engine.frames_in
    t0 = time.perf_counter()
    for i in range(20):  # a gesture of 0.2 s from a 100 Hz sensor
        window.engine.queue.put(Frame(t0 + i / 100, np.array([0.2, 0.3, 0, i]), "osc"))
    _until(qtbot, window, lambda: window.engine.frames_in == handled + 20, "the gesture's frames")
    window.correct_last_gesture("circle")  # a real correction: a third take
    _until(qtbot, window,
           lambda: len(window.engine.project.takes) == 3 and window._train_sent is None,
           "the correction")
    kept = window.engine.project.takes[-1].id
    window.correct_last_gesture("swipe")  # no frame since that take
    _until(qtbot, window, lambda: window._train_sent is None, "the refusal")
    assert window.train_status.text().startswith("nothing to correct: no gesture")
    window.undo_stack.undo()  # the refused step: nothing happens
    _synced(qtbot, window)
    assert kept in [t.id for t in window.engine.project.takes]
    window.undo_stack.undo()  # the real correction's step
    _until(qtbot, window, lambda: kept not in [t.id for t in window.engine.project.takes],
           "the undo")


def test_a_take_recorded_during_a_playback_records_the_pad(qtbot, tmp_path):
    """Space while a take plays back: the new take held the frames played back (x = 0.2)
    instead of the pad's (x = 0.9)."""
    window = untitled_window(qtbot, tmp_path, _project_with_takes())
    _play(qtbot, window, window.engine.project.takes[0].id)
    window.pad.move_to(0.9, 0.9)
    window.classes.setCurrentRow(2)  # zigzag
    window.auto_train.setChecked(False)
    window.toggle_recording()
    qtbot.waitUntil(lambda: window.engine.recording, timeout=5000)
    qtbot.waitUntil(lambda: window.engine.stats()["playing"] is None, timeout=5000)
    frames = window.engine.frames_in
    qtbot.waitUntil(lambda: window.engine.frames_in >= frames + 10, timeout=5000)
    window.toggle_recording()
    qtbot.waitUntil(lambda: len(window.engine.project.takes) == 3, timeout=5000)
    take = window.engine.project.takes[-1]
    assert take.label == "zigzag" and len(take.inputs) >= 10
    assert np.allclose(np.asarray(take.inputs)[:, 0], 0.9)


def test_deleting_the_take_playing_stops_it(qtbot, tmp_path):
    """The take went on playing (8 s here) with the live sensor muted after its deletion."""
    window = untitled_window(qtbot, tmp_path, _project_with_takes())
    take_id = window.engine.project.takes[0].id
    _play(qtbot, window, take_id)
    window.dataset.delete_selected()
    qtbot.waitUntil(lambda: window.engine.stats()["playing"] is None, timeout=2000)
    assert take_id not in [t.id for t in window.engine.project.takes]


def test_a_failed_save_as_keeps_saving_takes_where_they_were(qtbot, tmp_path):
    """The engine went on "autosaving" into the folder it could not write: every take and
    edit after it was in memory only (a crash lost them)."""
    folder = tmp_path / "p"
    _project_with_takes(0.3).save(folder)
    window = MainWindow(Project.load(folder), folder, osc_in=None, trainer="thread",
                        audio=False, engine="thread")
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.show()
    (tmp_path / "a-file").write_text("not a folder")
    assert not window.save_to(tmp_path / "a-file" / "project")
    assert window.folder == folder
    window.auto_train.setChecked(False)
    window.classes.setCurrentRow(2)
    window.toggle_recording()
    qtbot.waitUntil(lambda: window.engine.recording, timeout=5000)
    frames = window.engine.frames_in
    # a take long enough for the HHMM's 8 states (a shorter one is refused at its end)
    qtbot.waitUntil(lambda: window.engine.frames_in >= frames + 12, timeout=5000)
    window.toggle_recording()
    qtbot.waitUntil(lambda: len(window.engine.project.takes) == 3, timeout=5000)
    new = window.engine.project.takes[-1].id
    qtbot.waitUntil(lambda: (folder / "takes" / f"{new}.npz").is_file(), timeout=5000)


def test_the_pad_says_nothing_when_the_engine_process_is_gone():
    """A dead engine process (before the window restarts it, or after it gave up): each pad
    tick raised BrokenPipeError, a traceback 100 times a second."""

    def broken(data: bytes) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    owner = SimpleNamespace(_send_bytes=broken, exception=None)
    assert _PadQueue(owner).put(Frame(0.0, np.zeros(4), "mouse")) is False
    assert "engine process gone" in owner.exception


def test_the_window_goes_on_drawing_while_a_big_project_saves(qtbot, tmp_path, monkeypatch):
    """Save waited on the window's thread (300 takes: up to 3 s frozen, the live plot
    stopped): the window's timers now go on while the engine saves, and the save still
    answers whether it worked."""
    from PySide6 import QtCore

    folder = tmp_path / "p"
    _project_with_takes(0.3).save(folder)
    window = MainWindow(Project.load(folder), folder, osc_in=None, trainer="thread",
                        audio=False, engine="thread")
    qtbot.addWidget(window)
    window.show()
    real_save = Project.save
    # the save goes on only once the window's timer has ticked a few times after it began:
    # a save that holds the window's thread never sees them (what is measured is whether the
    # window's events run during a save, not how fast: a loaded machine ticks late, not never)
    ticks: list[float] = []
    ticked = threading.Event()
    saw_ticks = []

    def slow_save(self, target, *args, **kwargs):
        saw_ticks.append(ticked.wait(60))  # a big project on a slow disk
        return real_save(self, target, *args, **kwargs)

    def tick() -> None:
        ticks.append(time.monotonic())
        if len(ticks) >= 5:
            ticked.set()

    monkeypatch.setattr(Project, "save", slow_save)
    timer = QtCore.QTimer()
    timer.timeout.connect(tick)
    timer.start(20)
    assert window.save_to(tmp_path / "saved") is True
    timer.stop()
    assert (tmp_path / "saved" / "project.json").is_file()
    assert window.folder == tmp_path / "saved"
    # the window ticked while the save waited (0 ticks while a save blocked it: no save
    # went on until the wait gave up)
    assert saw_ticks and all(saw_ticks), (saw_ticks, len(ticks))


def test_a_save_waiting_on_an_engine_process_that_ends_hears_it_at_once():
    """The engine process ended while a save waited for its answer: the window waited its
    whole timeout (60 s), then said "timed out". The reader now answers every pending reply
    when the process's pipe closes, and a save sent after that is answered at once."""
    import itertools
    import threading

    from gesturemap.gui.remote import EngineProcess

    class _Closed:
        def recv_bytes(self):
            raise EOFError

    done, errors = threading.Event(), []
    owner = SimpleNamespace(_states=_Closed(), _replies={7: (done, errors)},
                            _stopped=threading.Event(), _started=threading.Event(),
                            exception=None)
    EngineProcess._receive(owner)
    assert done.is_set() and "ended before it answered" in str(errors[0])
    assert owner._stopped.is_set() and owner._replies == {}
    later, later_errors = threading.Event(), []
    owner._tokens, owner._send_bytes = itertools.count(8), None  # nothing may be sent
    EngineProcess.command(owner, "save", "/tmp/nowhere", later, later_errors)
    assert later.is_set() and "not running" in str(later_errors[0])


def test_a_take_with_no_frame_is_said_during_a_first_starts_preparation(qtbot, tmp_path):
    """A machine's first start: the training line shows the kernels' preparation. Space
    twice with the sensor silent: "not recorded: no frame came…" was replaced by the
    preparation's progress at the window's next tick, so the musician never read why nothing
    was recorded. It stays under the progress until the next take."""
    from gesturemap.live.prepare import PREPARING

    project = default_project()
    project.sensor = {"transport": "osc", "host": "127.0.0.1", "port": 0}  # the pad is off
    window = untitled_window(qtbot, tmp_path, project)
    preparing = (0.1, f"{PREPARING}: 10%")
    window.engine.trainer.preparing = preparing  # (what the training process reports)
    qtbot.waitUntil(lambda: window.train_status.text() == preparing[1], timeout=5000)
    window.start_recording()
    qtbot.waitUntil(lambda: window.engine.recording, timeout=5000)
    window.stop_recording()
    qtbot.waitUntil(lambda: "no frame came" in window.train_status.text(), timeout=10000)
    for _ in range(3):  # the window's timer, ticking on
        window.refresh()
        text = window.train_status.text()
        assert text.startswith(preparing[1]) and "not recorded: no frame came" in text, text
    window.engine.trainer.preparing = None  # prepared: the refusal is what is left to say
    window.refresh()
    assert window.train_status.text().startswith("not recorded: no frame came")
