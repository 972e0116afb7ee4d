"""Wekinator's control messages as real clients send them, over loopback OSC: an argument to a
command that takes none ("startRunning 1"), class numbers as floats ("startDtwRecording 2.0"
from Pd), class numbers in a project of named classes, and a cancelTrain that follows train at
once."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

from gesturemap.live.engine import Engine
from gesturemap.project import Project


def _msg(address: str, *values: object) -> bytes:
    b = OscMessageBuilder(address)
    for v in values:
        b.add_arg(v)
    return b.build().dgram


def _wait(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        time.sleep(0.005)


def _project(labels, kind: str = "gmm") -> Project:
    project = Project("control", model={"kind": kind, "params": {}})
    rng = np.random.default_rng(0)
    for i, label in enumerate(labels * 2):
        project.add_take(rng.normal(size=(30, 2)) + 3 * (i % len(labels)), label)
    return project


@pytest.fixture
def wire():
    made = []

    def start(project: Project):
        engine = Engine(project, osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", 9),
                        trainer="thread").start()
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        made.append((engine, tx))

        def send(address, *values):
            tx.sendto(_msg(address, *values), ("127.0.0.1", engine.osc_port))
        return engine, send

    yield start
    for engine, tx in made:
        engine.stop()
        tx.close()


def _record(engine, send, start: tuple, stop: tuple) -> None:
    takes = len(engine.project.takes)
    send(*start)
    _wait(lambda: engine.recording)
    for i in range(20):
        send("/wek/inputs", float(i), 1.0)
    _wait(lambda: engine.frames_in >= 20)
    send(*stop)
    _wait(lambda: len(engine.project.takes) == takes + 1)


def test_an_argument_to_a_command_that_takes_none_is_ignored(wire):
    """Clients send "stopRunning 1", "train 1": Wekinator ignores the argument; so does the
    engine (before, the command failed with an error and never took effect)."""
    engine, send = wire(_project(["a", "b"]))
    send("/wekinator/control/train", 1)
    _wait(lambda: engine.trainings == 1)
    send("/wekinator/control/startRunning", 1)
    _wait(lambda: engine.running)
    send("/wekinator/control/stopRunning", 1.0)
    _wait(lambda: not engine.running)
    send("/wekinator/control/outputs", 1)
    _record(engine, send, ("/wekinator/control/startRecording",),
            ("/wekinator/control/stopRecording", 1))
    assert engine.errors == 0 and engine.refused_commands == 0


def test_class_numbers_name_the_classes_of_a_named_project(wire):
    """``outputs N`` selects the class ``/wek/outputs`` sends N for (before, a take of a
    named project was refused as "label: got 1; expected a str" and lost)."""
    engine, send = wire(_project(["circle", "swipe"]))
    send("/wekinator/control/train")
    _wait(lambda: engine.trainings == 1)
    assert engine._class_numbers == [1.0, 2.0]  # circle, swipe
    send("/wekinator/control/outputs", 2.0)
    _record(engine, send, ("/wekinator/control/startRecording",),
            ("/wekinator/control/stopRecording",))
    assert engine.project.takes[-1].label == "swipe"
    send("/wekinator/control/outputs", 3)  # no third class: refused, the class stays
    _wait(lambda: engine.refused_commands == 1)
    assert engine.current_label == "swipe" and engine.errors == 0


def test_a_dtw_gesture_number_may_come_as_a_float(wire):
    """Pd sends ``startDtwRecording 2`` as a float: the take is gesture 2 (before, its label
    was 2.0 and stopDtwRecording refused the take)."""
    engine, send = wire(_project([1, 2], kind="dtw"))
    _record(engine, send, ("/wekinator/control/startDtwRecording", 2.0),
            ("/wekinator/control/stopDtwRecording", 1))
    assert engine.project.takes[-1].label == 2
    assert engine.errors == 0 and engine.refused_commands == 0


def test_an_address_that_only_ends_in_a_verb_is_unknown(wire):
    engine, send = wire(_project(["a", "b"]))
    send("/wekinator/control/train")
    send("/wekinator/control/startRunning")
    _wait(lambda: engine.running)
    send("/wekinator/control/foo/stopRunning")
    send("/wekinator/control/outputs", 1)  # a known message after it: both were read
    _wait(lambda: engine.current_label == "a")
    assert engine.running


def test_cancel_train_right_after_train_is_not_lost(wire):
    """``train`` hands the takes to the trainer from the I/O thread; a ``cancelTrain`` that
    arrives before that hand-over used to find no training to cancel, and the training ran
    to its end. Here the I/O thread is held until both commands have been applied."""
    engine, send = wire(_project(["a", "b"]))
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        held.set()
        release.wait(10)

    engine._io.put(hold)
    held.wait(10)
    send("/wekinator/control/train")
    send("/wekinator/control/cancelTrain")
    _wait(lambda: engine._train_cancel.is_set())
    release.set()
    time.sleep(0.5)
    _wait(lambda: engine._io.empty())
    assert engine.trainings == 0 and engine._train_job is None
    send("/wekinator/control/train")  # a training after it runs
    _wait(lambda: engine.trainings == 1)
