"""Corrections in the moment: "/gesturemap/correct X" over loopback OSC relabels the last
gesture, adds it as a take, and the retrained model answers with it; "/gesturemap/undo"
takes it back."""

from __future__ import annotations

import re
import socket
import time

import numpy as np
import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

import gesturemap as gm
from gesturemap.gui.session import WindowEngine
from gesturemap.live.engine import Engine
from gesturemap.project import Project


def _msg(address, *values):
    b = OscMessageBuilder(address)
    for v in values:
        b.add_arg(v)
    return b.build().dgram


def _shape(name: str, rng: np.random.Generator) -> np.ndarray:
    t = np.linspace(0, 1, 60)
    if name == "circle":
        x = np.c_[np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)]
    elif name == "line":
        x = np.c_[2 * t - 1, 0.2 * np.ones_like(t)]
    else:  # zigzag: unknown to the first model
        x = np.c_[np.sign(np.sin(6 * np.pi * t)) * 1.5, -1.5 + 0 * t]
    return x + rng.normal(size=x.shape) * 0.02


def _wait(cond, seconds=20.0):
    end = time.monotonic() + seconds
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)
    return cond()


def _trained(name: str, gaussians: int, rng: np.random.Generator) -> Project:
    """Two takes each of a circle and a line, trained."""
    project = Project(name, model={"kind": "gmm", "params": {"gaussians": gaussians}})
    for shape in ("circle", "line"):
        for _ in range(2):
            project.add_take(_shape(shape, rng), shape)
    project.train()
    return project


def _started(project: Project, folder=None, kind=Engine) -> tuple[Engine, socket.socket]:
    """An engine on ``project`` listening on a free loopback port; ``engine.send(dgram)``."""
    eng = kind(project, project_dir=folder, osc_in=("127.0.0.1", 0),
               osc_out=("127.0.0.1", 9), trainer="thread").start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    eng.send = lambda data: tx.sendto(data, ("127.0.0.1", eng.osc_port))
    return eng, tx


@pytest.fixture
def engine():
    eng, tx = _started(_trained("correct", 2, np.random.default_rng(0)))
    yield eng
    eng.stop()
    tx.close()


def _perform(engine, frames, counter: str = "frames_out") -> None:
    """Reset, then send ``frames``; wait until the engine counted them (``frames_in`` when
    no model runs yet)."""
    engine.send(_msg("/gesturemap/reset"))
    start = getattr(engine, counter)
    for f in frames:
        engine.send(_msg("/wek/inputs", *map(float, f)))
        time.sleep(0.0005)
    assert _wait(lambda: getattr(engine, counter) >= start + len(frames))


def test_correction_reaches_the_model_and_undo_takes_it_back(engine):
    rng = np.random.default_rng(1)
    zig = _shape("zigzag", rng)
    _perform(engine, zig)
    assert engine.last_result.label in ("circle", "line")
    trainings = engine.trainings
    engine.send(_msg("/gesturemap/correct", "zigzag"))
    assert _wait(lambda: engine.trainings > trainings), engine.errors
    take = engine.project.takes[-1]
    assert take.label == "zigzag" and take.id == engine.corrections[-1]
    np.testing.assert_allclose(np.asarray(take.inputs), zig, rtol=1e-6)  # float32 on the wire
    assert "zigzag" in engine.model.labels_
    _perform(engine, _shape("zigzag", rng))
    assert engine.last_result.label == "zigzag"

    trainings = engine.trainings
    engine.send(_msg("/gesturemap/undo"))
    assert _wait(lambda: engine.trainings > trainings), engine.errors
    assert all(t.label != "zigzag" for t in engine.project.takes)
    assert "zigzag" not in engine.model.labels_ and not engine.corrections


def test_correct_without_a_gesture_or_with_an_empty_label(engine):
    refused = engine.refused_commands
    engine.send(_msg("/gesturemap/reset"))
    engine.send(_msg("/gesturemap/correct", "circle"))  # nothing performed since the reset
    assert _wait(lambda: engine.refused_commands > refused)
    n = len(engine.project.takes)
    _perform(engine, _shape("circle", np.random.default_rng(2)))
    refused = engine.refused_commands
    # "that was nothing" is a null take, which only spotting reads: without spotting it
    # would be a class of its own, renumbering the others on /wek/outputs, so it is refused
    engine.send(_msg("/gesturemap/correct", ""))
    assert _wait(lambda: engine.refused_commands > refused)
    assert len(engine.project.takes) == n and engine.errors == 0
    engine.project.model = {**engine.project.model, "spotting": {}}
    engine.send(_msg("/gesturemap/correct", ""))
    assert _wait(lambda: len(engine.project.takes) == n + 1)
    assert engine.project.takes[-1].label == gm.NULL


def test_correction_labels_follow_the_projects_classes():
    """A numbered project (Wekinator's classes) takes "2" or 2.0 as class 2; names stay text."""
    rng = np.random.default_rng(3)
    numbered = Project("numbers", model={"kind": "gmm", "params": {"gaussians": 1}})
    for label in (1, 2):
        numbered.add_take(_shape("circle", rng), label)
    engine = Engine(numbered, osc_in=None, osc_out=("127.0.0.1", 9), trainer="thread")
    try:
        assert engine.correction_label("2") == 2 and engine.correction_label(2.0) == 2
        named = Project("names")
        named.add_take(_shape("line", rng), "line")
        engine.project = named
        assert engine.correction_label("circle") == "circle"
    finally:
        engine.output.close()


def test_undoing_corrections_leaves_the_project_and_its_folder_as_before(tmp_path):
    """A correction naming a new class, corrected twice and undone twice: the class goes
    with its last take (the window's class list, project.json), the folder reloads as the
    engine has it, and the model knows the classes of the takes; redo brings both back."""
    rng = np.random.default_rng(4)
    project = _trained("undo", 1, rng)
    folder = tmp_path / "proj"
    project.save(folder)
    before = (list(project.classes), [t.id for t in project.takes])
    engine, tx = _started(Project.load(folder), folder)
    try:
        for _ in range(2):
            _perform(engine, _shape("zigzag", rng))
            trainings = engine.trainings
            engine.send(_msg("/gesturemap/correct", "zigzag"))
            assert _wait(lambda t=trainings: engine.trainings > t), engine.errors
        assert engine.project.classes == [*before[0], "zigzag"]
        for _ in range(2):
            trainings = engine.trainings
            engine.send(_msg("/gesturemap/undo"))
            assert _wait(lambda t=trainings: engine.trainings > t), engine.errors
        assert (list(engine.project.classes), [t.id for t in engine.project.takes]) == before
        assert engine.model.labels_ == before[0]
        trainings = engine.trainings
        engine.command("redo_correction")
        assert _wait(lambda: engine.trainings > trainings), engine.errors
        assert engine.project.classes == [*before[0], "zigzag"]
        engine.command("undo_correction")
        assert _wait(lambda: engine.trainings > trainings + 1), engine.errors
    finally:
        engine.stop()
        tx.close()
    assert engine.errors == 0
    saved = Project.load(folder)
    assert list(saved.classes) == before[0]
    assert [t.id for t in saved.takes] == before[1]
    assert saved.trained.labels_ == before[0]


def test_a_refused_correction_keeps_the_gesture_for_another_try():
    """In a numbered project (Wekinator's classes) "that was two" is refused (a name among
    numbers); the gesture stays, so "that was 2" right after adds it."""
    rng = np.random.default_rng(5)
    project = Project("numbers", model={"kind": "gmm", "params": {"gaussians": 1}})
    for label, shape in ((1, "circle"), (2, "line")):
        for _ in range(2):
            project.add_take(_shape(shape, rng), label)
    project.train()
    engine, tx = _started(project)
    try:
        gesture = _shape("line", rng)
        _perform(engine, gesture)
        refused = engine.refused_commands
        engine.send(_msg("/gesturemap/correct", "two"))
        assert _wait(lambda: engine.refused_commands > refused)
        assert len(engine.project.takes) == 4 and engine.project.classes == [1, 2]
        trainings = engine.trainings
        engine.send(_msg("/gesturemap/correct", 2))
        assert _wait(lambda: engine.trainings > trainings), engine.refused_commands
        take = engine.project.takes[-1]
        assert take.label == 2 and take.id == engine.corrections[-1]
        np.testing.assert_allclose(np.asarray(take.inputs), gesture, rtol=1e-6)
    finally:
        engine.stop()
        tx.close()


def test_a_correction_while_a_take_is_recorded_is_refused(engine):
    """"That was line" in the middle of a take of circle would put the same frames into two
    takes of two classes: refused, the take goes on and ends as it was recorded."""
    rng = np.random.default_rng(6)
    engine.command("start_recording", "circle")
    take = _shape("circle", rng)
    _perform(engine, take[:30])
    refused = engine.refused_commands
    engine.send(_msg("/gesturemap/correct", "line"))
    assert _wait(lambda: engine.refused_commands > refused)
    _perform(engine, take[30:])
    n = len(engine.project.takes)
    engine.command("stop_recording")
    assert _wait(lambda: len(engine.project.takes) == n + 1)
    assert [t.label for t in engine.project.takes[-1:]] == ["circle"] and not engine.corrections
    np.testing.assert_allclose(np.asarray(engine.project.takes[-1].inputs), take, rtol=1e-6)


def test_a_correction_in_a_project_of_outputs_says_why_it_is_refused():
    """A regression project has outputs, not classes: "that was X" is refused in its words
    (what the window shows), and the gesture stays."""
    rng = np.random.default_rng(7)
    project = Project("outputs", model={"kind": "gmm", "params": {"gaussians": 1}},
                      output_names=["pitch", "level"])
    for shape in ("circle", "line"):
        x = _shape(shape, rng)
        project.add_take(x, "take", outputs=x * 0.5)
    project.train()
    engine, tx = _started(project, kind=WindowEngine)
    try:
        _perform(engine, _shape("zigzag", rng))
        engine.send(_msg("/gesturemap/correct", "zigzag"))
        assert _wait(lambda: "correct" in engine.stats()["refused"])
        assert re.match(r"correct: .*outputs \(pitch, level\)",
                        engine.stats()["refused"]["correct"][1])
        assert len(engine.project.takes) == 2 and len(engine._gesture) == 60
    finally:
        engine.stop()
        tx.close()


def test_the_windows_undo_names_its_correction(engine):
    """The window's correction carries a name: its undo takes out that take, not a later
    OSC correction's; after its take was deleted, its undo is refused (not an error)."""
    rng = np.random.default_rng(8)
    _perform(engine, _shape("line", rng))
    engine.command("correct", "line", "window-1")
    _perform(engine, _shape("circle", rng))
    engine.send(_msg("/gesturemap/correct", "circle"))
    assert _wait(lambda: len(engine.corrections) == 2)
    window_take, osc_take = engine.corrections
    engine.command("undo_correction", "window-1")
    assert _wait(lambda: engine.corrections == [osc_take])
    assert all(t.id != window_take for t in engine.project.takes)
    engine.command("redo_correction", "window-1")
    assert _wait(lambda: len(engine.corrections) == 2)
    redone = engine.corrections[-1]
    engine.command("remove_takes", [redone])
    refused, errors = engine.refused_commands, engine.errors
    engine.command("undo_correction", "window-1")
    assert _wait(lambda: engine.refused_commands > refused) and engine.errors == errors
    assert [t.label for t in engine.project.takes[-1:]] == ["circle"]


def test_a_take_played_back_is_no_gesture_to_correct():
    """A take played back (a click on a suspicious take in the Quality tab) is not the
    performer's gesture: "that was circle" during or after it added a copy of that take
    under another label. It is refused while the take plays; afterwards its frames are gone."""
    project = _trained("played", 1, np.random.default_rng(9))
    engine = WindowEngine(project, osc_in=None, osc_out=("127.0.0.1", 9),
                          trainer="thread").start()
    try:
        take_id = project.takes[2].id  # a line
        engine.command("play_take", take_id, 0.5)
        assert _wait(lambda: engine.stats()["playing"] == take_id)
        engine.command("correct", "circle")
        assert _wait(lambda: "correct" in engine.refused)
        assert "played back" in engine.refused["correct"][1]
        assert _wait(lambda: engine.stats()["playing"] is None)
        engine.command("correct", "circle")
        assert _wait(lambda: engine.refused["correct"][0] == 2)
        assert len(engine.project.takes) == 4 and not engine.corrections
    finally:
        engine.stop()


def test_undoing_the_only_take_leaves_no_model(tmp_path):
    """A new project's first take came from "that was circle"; undone, the project has no
    take and no class, and no model of them runs on (nor is saved)."""
    folder = tmp_path / "new"
    Project("new", model={"kind": "gmm", "params": {"gaussians": 1}}).save(folder)
    engine, tx = _started(Project.load(folder), folder)
    try:
        _perform(engine, _shape("circle", np.random.default_rng(10)), "frames_in")
        engine.send(_msg("/gesturemap/correct", "circle"))
        assert _wait(lambda: engine.trainings == 1), engine.errors
        assert engine.model.labels_ == ["circle"]
        engine.send(_msg("/gesturemap/undo"))
        assert _wait(lambda: not engine.project.takes)
        assert _wait(lambda: engine.model is None)
        assert engine.project.classes == [] and engine.last_result is None
    finally:
        engine.stop()
        tx.close()
    saved = Project.load(folder)
    assert not saved.takes and saved.trained is None


def test_the_last_gesture_holds_no_frame_and_a_correction_takes_its_newest_frames(
        monkeypatch):
    """The engine keeps the last gesture's values in a ring made once, not the frames'
    own arrays: forgetting a gesture (each reset, take, startRunning) then frees nothing
    and a correction copies one block, where a queue of arrays held up to 8,192 of them,
    freed one by one on each reset (0.3-0.6 ms) and stacked by each correction (2-5 ms),
    on the frame path. The correction still takes the newest frames, oldest first."""
    import weakref

    from gesturemap.live import engine as engine_module
    from gesturemap.sources.base import Frame

    monkeypatch.setattr(engine_module, "GESTURE_FRAMES", 50)
    eng = Engine(_trained("ring", 2, np.random.default_rng(0)), osc_in=None,
                 osc_out=("127.0.0.1", 9), trainer="thread").start()
    try:
        eng.command("reset")
        frames = _shape("circle", np.random.default_rng(1))
        frames = np.concatenate([frames, frames[:20]])  # 80 frames: the ring goes round
        alive = []
        for i, f in enumerate(frames):
            values = np.array(f, dtype=np.float64)
            alive.append(weakref.ref(values))
            eng.queue.put(Frame(100.0 + 0.01 * i, values, "test"))
            del values
        assert _wait(lambda: eng.frames_in == len(frames))
        assert sum(ref() is not None for ref in alive) <= 2  # (the newest, in passing)
        takes = len(eng.project.takes)
        eng.command("correct", "circle")
        assert _wait(lambda: len(eng.project.takes) == takes + 1)
        take = eng.project.takes[-1]
    finally:
        eng.stop()
    assert np.array_equal(take.inputs, frames[-50:])
    assert np.allclose(take.times, 0.01 * np.arange(50))
