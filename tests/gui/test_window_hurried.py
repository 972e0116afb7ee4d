"""A musician in a hurry, in the real window (offscreen) with its real engine process: a class
renamed or deleted while a take of it is recorded, another project opened while a take, a
count-in or a training goes on."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6 import QtWidgets

from gesturemap.project.default import default_project

from .windows import open_window, pad_take

pytestmark = pytest.mark.timeout(180)


def _project():
    """The default project (circle, swipe, zigzag) with two pad takes of circle and swipe."""
    rng = np.random.default_rng(1)
    project = default_project()
    for kind in ("circle", "swipe"):
        for _ in range(2):
            inputs, times = pad_take(kind, rng)
            project.add_take(inputs, kind, times=times)
    return project


def _pick(window, name: str) -> None:
    window.classes.setCurrentRow([str(c) for c in window.project.classes].index(name))


def _perform(qtbot, window, seconds: float) -> None:
    """Move the pad in circles for ``seconds`` (the pad samples it at 100 Hz)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        a = 6.0 * (end - time.monotonic())
        window.pad.move_to(0.5 + 0.3 * np.cos(a), 0.5 + 0.3 * np.sin(a))
        qtbot.wait(10)


def _start_take(qtbot, window, name: str) -> None:
    _pick(window, name)
    window.toggle_recording()
    qtbot.waitUntil(lambda: window.engine.recording, timeout=10000)
    _perform(qtbot, window, 0.4)


def _settled(qtbot, window) -> None:
    """Wait until the engine stopped recording, trained what was asked and the window saw
    every edit sent before this (a colour, sent last, came back)."""
    window.recolour_class("zigzag", "#123456")
    qtbot.waitUntil(lambda: not window.engine.recording and window._train_sent is None
                    and (window.project.display or {}).get("class_colors", {}).get("zigzag")
                    == "#123456", timeout=30000)


def _labels(window) -> list[str]:
    return sorted(str(t.label) for t in window.project.takes)


def _on_disk(folder) -> set[str]:
    return {p.stem for p in (folder / "takes").glob("*.npz")}


def test_renaming_the_class_being_recorded_takes_the_take_along(qtbot, tmp_path):
    """The take ended under the class's old name, which came back as a fourth class (and
    the class renamed got none of it)."""
    folder = tmp_path / "p"
    window = open_window(qtbot, _project(), folder)
    window.auto_train.setChecked(False)  # no retraining in the middle: one take, whole
    _start_take(qtbot, window, "swipe")
    window.rename_class("swipe", "slide")
    _perform(qtbot, window, 0.4)
    assert "slide" in window.monitor.caption.text()
    window.toggle_recording()
    _settled(qtbot, window)
    assert [str(c) for c in window.project.classes] == ["circle", "slide", "zigzag"]
    assert _labels(window) == ["circle", "circle", "slide", "slide", "slide"]
    # every take saved (the engine's save goes on after the window saw the take: waited for)
    qtbot.waitUntil(lambda: {t.id for t in window.project.takes} <= _on_disk(folder),
                    timeout=10000)
    window.close()


def test_deleting_the_class_being_recorded_takes_the_take_along(qtbot, tmp_path, monkeypatch):
    """The take under way brought the deleted class back when it stopped, and what was
    performed after the deletion became a take of the class picked next."""
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", staticmethod(
        lambda *args, **kwargs: QtWidgets.QMessageBox.StandardButton.Yes))
    folder = tmp_path / "p"
    window = open_window(qtbot, _project(), folder)
    _start_take(qtbot, window, "swipe")
    window.delete_class("swipe")
    assert not window.record_button.isChecked() and not window.pad.recording
    _perform(qtbot, window, 0.4)
    window.toggle_recording()  # Space again: a new take of the class picked now
    _perform(qtbot, window, 0.4)
    window.toggle_recording()
    _settled(qtbot, window)
    assert [str(c) for c in window.project.classes] == ["circle", "zigzag"]
    assert _labels(window) == ["circle", "circle", "circle"]  # the new take is a circle
    # the two swipes in the project's trash (the take under way dropped)
    qtbot.waitUntil(lambda: len(list((folder / "trash").glob("take-*.npz"))) == 2,
                    timeout=10000)
    # every take saved (the engine's save goes on after the window saw the take: waited for)
    qtbot.waitUntil(lambda: {t.id for t in window.project.takes} <= _on_disk(folder),
                    timeout=10000)
    window.close()


def test_opening_a_project_while_training_says_nothing_of_that_training(qtbot, tmp_path):
    """The new project's training line said "training… N ms" for ever: the window waited
    for the training of the project it had closed."""
    folder, other = tmp_path / "p", tmp_path / "other"
    default_project().save(other)
    window = open_window(qtbot, _project(), folder)
    window.train()
    assert window.open_folder(other) is True
    qtbot.wait(500)
    assert not window.train_status.text().startswith("training")
    window.close()


def test_opening_a_project_during_a_take_or_count_in_records_nothing_there(qtbot, tmp_path):
    """The window went on showing a take under way (button, pad border) in the project it
    opened, and a count-in under way started a take there when it ended."""
    folder, other = tmp_path / "p", tmp_path / "other"
    default_project().save(other)
    window = open_window(qtbot, _project(), folder)
    _start_take(qtbot, window, "circle")
    assert window.open_folder(other) is True
    assert not window.record_button.isChecked() and not window.pad.recording
    assert len(_on_disk(folder)) == 5  # the take under way is kept in its own project
    window.count_in.setValue(1)
    window.toggle_recording()  # a count-in of a second...
    assert window.open_folder(folder) is True  # ...and back to the first project meanwhile
    _perform(qtbot, window, 2.5)
    assert not window.engine.recording and window.record_button.isChecked() is False
    assert len(window.project.takes) == 5
    window.close()


def test_opening_a_project_with_a_damaged_take_says_what_was_left_out(qtbot, tmp_path,
                                                                      monkeypatch):
    """A take's file cut short (a disk full, a copy interrupted): the project opened without
    it and only the terminal said so; the musician saw one take fewer, and no why."""
    shown = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning", staticmethod(
        lambda parent, title, text, *args: shown.append((title, text))))
    folder, damaged = tmp_path / "p", tmp_path / "damaged"
    _project().save(damaged)
    npz = sorted((damaged / "takes").glob("*.npz"))[0]
    cut = npz.read_bytes()[:200]
    npz.write_bytes(cut)
    window = open_window(qtbot, default_project(), folder)
    assert window.open_folder(damaged) is True
    assert window.folder == damaged and len(window.project.takes) == 3
    assert len(shown) == 1 and npz.stem in shown[0][1], shown
    assert npz.read_bytes() == cut  # left as it was
    window.close()


def test_a_class_named_as_another_or_an_edit_refused_is_said(qtbot, tmp_path):
    """Renaming a class as another one, or Play pressed during a take: nothing happened and
    only the log said why."""
    window = open_window(qtbot, _project(), tmp_path / "p")
    window.rename_class("circle", "swipe")
    assert "there is a class 'swipe' already" in window.statusBar().currentMessage()
    _settled(qtbot, window)
    assert [str(c) for c in window.project.classes] == ["circle", "swipe", "zigzag"]
    window.add_class("zigzag")
    assert window.current_class() == "zigzag"
    _start_take(qtbot, window, "zigzag")
    window.tabs.setCurrentWidget(window.dataset)
    qtbot.waitUntil(lambda: window.dataset.take(window.project.takes[0].id) is not None,
                    timeout=5000)
    window.dataset.select_take(window.project.takes[0].id)
    window.dataset.play_button.click()  # the engine refuses it: a take is being recorded
    qtbot.waitUntil(lambda: "stop recording first" in window.statusBar().currentMessage(),
                    timeout=5000)
    assert "play_take" not in window.statusBar().currentMessage()  # the user's words
    window.toggle_recording()
    _settled(qtbot, window)
    window.close()


def test_a_fixed_length_stopped_by_hand_leaves_the_next_take_its_length(qtbot, tmp_path):
    """1 s takes: a take stopped by hand at 0.4 s and another started at once — the first
    take's timer stopped the second 0.6 s later, a take cut short."""
    window = open_window(qtbot, _project(), tmp_path / "p")
    window.auto_train.setChecked(False)
    window.take_length.setValue(1.0)
    _start_take(qtbot, window, "circle")
    window.toggle_recording()
    qtbot.waitUntil(lambda: not window.engine.recording, timeout=5000)
    window.toggle_recording()
    started = time.monotonic()
    qtbot.waitUntil(lambda: window.engine.recording, timeout=5000)
    qtbot.waitUntil(lambda: not window.engine.recording, timeout=5000)
    assert time.monotonic() - started >= 0.9
    window.close()


def test_a_count_in_cancelled_and_started_again_counts_in_once(qtbot, tmp_path):
    """Space during a one-second count-in, and Space again: the first count-in's timer still
    began a take half a second early, and the second one's began another when it ended,
    cutting the performance into two takes."""
    window = open_window(qtbot, _project(), tmp_path / "p")
    window.auto_train.setChecked(False)
    window.count_in.setValue(1)
    window.toggle_recording()
    qtbot.wait(300)
    window.toggle_recording()  # cancelled
    qtbot.wait(200)
    window.toggle_recording()  # and again
    started = time.monotonic()
    qtbot.waitUntil(lambda: window.engine.recording, timeout=5000)
    assert time.monotonic() - started >= 0.9  # a whole second of count-in
    _perform(qtbot, window, 1.0)
    window.toggle_recording()
    _settled(qtbot, window)
    assert len(window.project.takes) == 5  # one take: the performance whole
    window.close()


def test_a_take_no_frame_came_to_is_said(qtbot, tmp_path):
    """The sensor silent (an OSC sensor not sending), Space twice: the training line said
    "trained · take → new model" as if a take had been recorded."""
    project = _project()
    project.sensor = {"transport": "osc", "host": "127.0.0.1", "port": 0}  # the pad is off
    window = open_window(qtbot, project, tmp_path / "p")
    window.toggle_recording()
    qtbot.waitUntil(lambda: window.engine.recording, timeout=10000)
    qtbot.wait(300)
    window.toggle_recording()
    qtbot.waitUntil(lambda: "no frame came" in window.train_status.text(), timeout=10000)
    qtbot.wait(500)  # the training that followed, done since, does not say it over
    assert window.train_status.text().startswith("not recorded: no frame came")
    assert len(window.project.takes) == 4
    window.close()


def test_a_model_refused_then_another_applied_at_once_says_the_one_that_trained(qtbot,
                                                                              tmp_path):
    """Linear applied by mistake (a regression model: refused), then an MLP at once: the
    training line said Linear was refused — the MLP's training, done and playing, was never
    said (the refusal, late, was taken for the MLP's)."""
    window = open_window(qtbot, _project(), tmp_path / "p")
    panel = window.model_panel
    panel.kind.setCurrentText("linear")
    assert panel.apply()
    qtbot.wait(150)  # its training refused meanwhile, not yet said
    panel.kind.setCurrentText("mlp")
    assert panel.apply()
    qtbot.waitUntil(lambda: window._train_sent is None, timeout=30000)
    qtbot.wait(1200)  # the engine's counters came since: nothing more is said
    assert window.project.model["kind"] == "mlp" and window.engine.running
    assert window.train_status.text().startswith("trained in"), window.train_status.text()
    window.close()


def test_a_project_of_numbered_classes_asks_for_a_number(qtbot, tmp_path):
    """A Wekinator project's classes are numbers: a class added or renamed as a word raised
    ValueError in the window (a traceback, nothing said)."""
    from gesturemap.project import Project

    project = Project(classes=[1, 2, 3], input_names=["x", "y", "vx", "vy"])
    window = open_window(qtbot, project, tmp_path / "p")
    window.add_class("abc")
    assert "classes are numbers" in window.statusBar().currentMessage()
    window.rename_class("1", "one")
    assert "classes are numbers" in window.statusBar().currentMessage()
    window.add_class("04")
    qtbot.waitUntil(lambda: window.project.classes == [1, 2, 3, 4] and
                    window.current_class() == "4", timeout=10000)
    window.close()


def test_undo_after_a_rename_finds_the_class_by_its_name(qtbot, tmp_path):
    """A take deleted, its class renamed, Ctrl+Z: the take came back under the old name, a
    fourth class beside the renamed one (the rename was not on the undo stack)."""
    window = open_window(qtbot, _project(), tmp_path / "p")
    window.tabs.setCurrentWidget(window.dataset)
    take = next(t for t in window.project.takes if t.label == "circle")
    qtbot.waitUntil(lambda: window.dataset.take(take.id) is not None, timeout=5000)
    window.dataset.select_take(take.id)
    window.dataset.delete_selected()
    qtbot.waitUntil(lambda: window.dataset.take(take.id) is None, timeout=5000)
    window.rename_class("circle", "cercle")
    qtbot.waitUntil(lambda: "cercle" in window.project.classes, timeout=5000)
    window.undo_stack.undo()  # the name back...
    window.undo_stack.undo()  # ...then the take
    qtbot.waitUntil(lambda: len(window.project.takes) == 4, timeout=5000)
    _settled(qtbot, window)
    assert [str(c) for c in window.project.classes] == ["circle", "swipe", "zigzag"]
    assert _labels(window) == ["circle", "circle", "swipe", "swipe"]
    window.undo_stack.redo()
    window.undo_stack.redo()
    qtbot.waitUntil(lambda: "cercle" in window.project.classes
                    and len(window.project.takes) == 3, timeout=5000)
    window.close()


def test_closing_during_a_count_in_begins_no_take(qtbot, tmp_path):
    """The count-in's timer outlived the window closed: it sent a take's start to the engine
    process stopped (an error: "engine process gone")."""
    window = open_window(qtbot, _project(), tmp_path / "p")
    window.count_in.setValue(1)
    window.toggle_recording()
    qtbot.wait(200)
    window.close()
    qtbot.wait(1500)
    assert window.engine.exception is None


def test_opening_the_same_project_during_a_take_keeps_the_take(qtbot, tmp_path):
    """File > Open on the project open, a take under way (the engine on a thread): the
    project was read before its engine had saved the take, which the window then lost
    track of — and the next take was given its id."""
    folder = tmp_path / "p"
    window = open_window(qtbot, _project(), folder, engine="thread")
    _start_take(qtbot, window, "circle")
    assert window.open_folder(folder) is True
    assert len(window.project.takes) == 5
    _start_take(qtbot, window, "swipe")
    window.toggle_recording()
    _settled(qtbot, window)
    assert len(window.project.takes) == 6
    qtbot.waitUntil(lambda: _on_disk(folder) == {t.id for t in window.project.takes},
                    timeout=10000)
    window.close()


def test_space_stops_a_take_begun_elsewhere(qtbot, tmp_path):
    """A take started by an OSC client (Wekinator's startRecording, a pedal's message): the
    window showed it recording, but Space and the Record button did nothing to it."""
    window = open_window(qtbot, _project(), tmp_path / "p")
    window.engine.command("start_recording", "circle")  # as the OSC control does
    qtbot.waitUntil(lambda: window.engine.recording, timeout=10000)
    _perform(qtbot, window, 0.5)
    window.toggle_recording()
    _settled(qtbot, window)
    assert len(window.project.takes) == 5 and _labels(window).count("circle") == 3
    window.close()


def test_undo_after_a_class_deletion_brings_the_class_back_with_its_takes(qtbot, tmp_path,
                                                                          monkeypatch):
    """A take of swipe deleted, then the swipe class with its other take, Ctrl+Z: the class
    deletion was not on the undo stack, so Ctrl+Z restored the take deleted before it, and
    swipe came back with that one take; its other take stayed in the trash."""
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", staticmethod(
        lambda *args, **kwargs: QtWidgets.QMessageBox.StandardButton.Yes))
    folder = tmp_path / "p"
    window = open_window(qtbot, _project(), folder)
    window.tabs.setCurrentWidget(window.dataset)
    first, second = (t.id for t in window.project.takes if t.label == "swipe")
    qtbot.waitUntil(lambda: window.dataset.take(first) is not None, timeout=5000)
    window.dataset.select_take(first)
    window.dataset.delete_selected()
    qtbot.waitUntil(lambda: window.dataset.take(first) is None, timeout=5000)
    window.delete_class("swipe")
    qtbot.waitUntil(lambda: "swipe" not in window.project.classes, timeout=5000)
    window.undo_stack.undo()  # the class, with the take it had
    _settled(qtbot, window)
    assert sorted(str(c) for c in window.project.classes) == ["circle", "swipe", "zigzag"]
    assert {t.id for t in window.project.takes if t.label == "swipe"} == {second}
    window.undo_stack.undo()  # then the take deleted before it
    qtbot.waitUntil(lambda: len(window.project.takes) == 4, timeout=5000)
    assert _labels(window) == ["circle", "circle", "swipe", "swipe"]
    window.undo_stack.redo()
    window.undo_stack.redo()  # the class deleted again, its take into the trash
    qtbot.waitUntil(lambda: "swipe" not in window.project.classes
                    and len(window.project.takes) == 2, timeout=5000)
    qtbot.waitUntil(lambda: {first, second} <= {p.stem for p in (folder / "trash")
                                                .glob("take-*.npz")}, timeout=10000)
    window.close()


def test_space_pressed_twice_at_once_is_said_as_such(qtbot, tmp_path):
    """Space twice at once with the pad sending 100 frames a second: "no frame came while
    recording (is the sensor sending?...)", which sent the musician to a sensor that works."""
    window = open_window(qtbot, _project(), tmp_path / "p")
    qtbot.waitUntil(lambda: window.engine.frames_in > 10, timeout=10000)
    for _ in range(5):  # a pad frame may come between the two presses (a take of one): again
        before = len(window.project.takes)
        window.toggle_recording()
        window.toggle_recording()
        qtbot.waitUntil(lambda: "nothing was recorded" in window.train_status.text()  # noqa: B023
                        or len(window.project.takes) > before, timeout=10000)  # noqa: B023
        if len(window.project.takes) == before:
            break
    assert len(window.project.takes) == before, "a frame came between the presses 5 times"
    assert window.train_status.text().startswith(
        "not recorded: no frame came between the start and the stop (pressed twice")
    window.close()


def test_a_save_refused_names_the_folder_once(qtbot, tmp_path, monkeypatch):
    """Saving into a folder that holds other files: the message said the folder twice
    ("F: F is not empty and is not a gesturemap project; …")."""
    shown = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning", staticmethod(
        lambda parent, title, text, *args: shown.append((title, text))))
    window = open_window(qtbot, _project(), tmp_path / "p")
    other = tmp_path / "letters"
    other.mkdir()
    (other / "to-mum.txt").write_text("hello")
    assert window.save_to(other) is False
    assert shown == [("Not saved", f"{other} is not empty and is not a gesturemap project; "
                                   "save into a new or empty folder.")], shown
    assert [p.name for p in other.iterdir()] == ["to-mum.txt"]
    window.close()
