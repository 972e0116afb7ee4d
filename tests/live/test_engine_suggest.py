"""``/gesturemap/suggest``: the take to record next, asked for over OSC and answered with
``/gesturemap/suggestion label hint reason`` (a real engine over loopback UDP)."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from gesturemap.live.engine import TAKES_CHANGED, TRAINING_FIRST, Engine
from gesturemap.project import Project
from tests.stage_helpers import float_msg, osc_messages, osc_receiver, wait_for
from tests.stage_helpers import osc_message as msg

pytestmark = pytest.mark.timeout(120)


def _project() -> Project:
    """Three gestures on two channels: a and b with three takes each, c with one."""
    rng = np.random.default_rng(3)
    project = Project("suggest", classes=["a", "b", "c"], model="gmm")
    t = np.linspace(0, 1, 40)[:, None]
    shapes = {"a": np.hstack([t, t]), "b": np.hstack([t, -t]), "c": np.hstack([-t, t])}
    for label, takes in (("a", 3), ("b", 3), ("c", 1)):
        for _ in range(takes):
            project.add_take(shapes[label] + rng.normal(scale=0.05, size=(40, 2)), label)
    project.train()
    return project


def _suggestions(rx, timeout: float = 10.0) -> list[tuple]:  # noqa: ANN001
    got = osc_messages(rx, lambda g: any(a == "/gesturemap/suggestion" for a, _ in g), timeout)
    return [p for a, p in got if a == "/gesturemap/suggestion"]


def test_suggest_is_answered_with_the_class_hint_and_reason():
    rx = osc_receiver()
    engine = Engine(_project(), osc_in=("127.0.0.1", 0), osc_out=rx.getsockname(),
                    trainer="thread").start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        target = ("127.0.0.1", engine.osc_port)
        for i in range(20):  # running: frames go on while the takes are reviewed
            tx.sendto(float_msg("/wek/inputs", i / 20, i / 20), target)
        tx.sendto(msg("/gesturemap/suggest"), target)
        (label, hint, reason), = _suggestions(rx)
        assert label == "c"  # its only take
        assert hint in ("slower", "faster", "bigger", "smaller")
        assert "one take" in reason
        assert engine.last_suggestion == (label, hint, reason)
        wait_for(lambda: engine.frames_in == 20)
        assert engine.stats()["errors"] == 0
    finally:
        engine.stop()
        tx.close()
        rx.close()


def test_suggest_is_refused_during_a_take_and_answered_after_it():
    rx = osc_receiver()
    project = _project()
    engine = Engine(project, osc_in=("127.0.0.1", 0), osc_out=rx.getsockname(),
                    trainer="thread").start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        target = ("127.0.0.1", engine.osc_port)
        tx.sendto(msg("/wekinator/control/outputs", 3.0), target)
        tx.sendto(msg("/wekinator/control/startRecording"), target)
        for i in range(10):
            tx.sendto(float_msg("/wek/inputs", -i / 10, i / 10), target)
        tx.sendto(msg("/gesturemap/suggest"), target)
        wait_for(lambda: "suggest" in engine.refused)
        assert "not during a take" in engine.refused["suggest"][1]
        assert engine.last_suggestion is None
        tx.sendto(msg("/wekinator/control/stopRecording"), target)
        wait_for(lambda: len(project.takes) == 8)
        tx.sendto(msg("/gesturemap/suggest"), target)
        (label, _hint, reason), = _suggestions(rx)
        assert label in ("a", "b", "c") and reason
    finally:
        engine.stop()
        tx.close()
        rx.close()


def _bigger_project() -> Project:
    """Four gestures, four takes each, an HHMM: a suggestion's cross-validation takes a while
    (far longer than a training command takes to follow it)."""
    rng = np.random.default_rng(5)
    project = Project("suggest", classes=["a", "b", "c", "d"], model="hhmm")
    t = np.linspace(0, 1, 80)[:, None]
    for k, label in enumerate(project.classes):
        for _ in range(4):
            shape = np.hstack([np.sin(3 * t * (k + 1)), np.cos(2 * t * (k + 1))])
            project.add_take(shape + rng.normal(scale=0.05, size=shape.shape), label)
    project.train()
    return project


def test_the_training_process_answers_and_a_training_cancels_it():
    """The suggestion is worked out in the training process, as trainings are; a training
    asked right after it cancels it instead of waiting behind it, and the reason says why: a
    training of the same takes went first, or the takes changed meanwhile."""
    rx = osc_receiver()
    engine = Engine(_bigger_project(), osc_in=("127.0.0.1", 0), osc_out=rx.getsockname(),
                    trainer="process").start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        target = ("127.0.0.1", engine.osc_port)
        tx.sendto(msg("/gesturemap/suggest"), target)
        (label, _hint, reason), = _suggestions(rx, timeout=120)  # a process starts first
        assert label in ("a", "b", "c", "d") and reason
        assert engine.trainer.mode == "process" and engine._suggest_job.done()
        trainings = engine.trainings
        tx.sendto(msg("/gesturemap/suggest"), target)
        tx.sendto(msg("/wekinator/control/train"), target)
        (label, _hint, reason), = _suggestions(rx, timeout=60)
        assert (label, reason) == ("", TRAINING_FIRST)  # the takes did not change
        wait_for(lambda: engine.trainings == trainings + 1, 60)

        # a correction while it is worked out: a take more, and its training
        frames = engine.frames_in
        for k in range(40):
            tx.sendto(float_msg("/wek/inputs", np.sin(k / 7), np.cos(k / 5)), target)
        wait_for(lambda: engine.frames_in == frames + 40, 60)
        tx.sendto(msg("/gesturemap/suggest"), target)
        tx.sendto(msg("/gesturemap/correct", "b"), target)
        (label, _hint, reason), = _suggestions(rx, timeout=60)
        assert len(engine.project.takes) == 17
        assert (label, reason) == ("", TAKES_CHANGED)
        wait_for(lambda: engine.trainings == trainings + 2, 60)
        assert engine.stats()["errors"] == 0
    finally:
        engine.stop()
        tx.close()
        rx.close()
