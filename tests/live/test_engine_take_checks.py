"""A take or correction the model cannot train on is refused the moment it ends, saying why
(over OSC, in stats() and the log), never kept to break every retraining after it; a class
saved before that (a take too short for the model's settings) is left out of training with a
warning; a retraining that fails anyway is announced over OSC and the last good model plays
on. Real `gesturemap run` processes, loopback UDP, real project folders."""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from gesturemap.project import Project
from tests.stage_helpers import (
    float_msg,
    free_port,
    osc_messages,
    osc_receiver,
    start_run,
    stop_run,
    wait_for,
)
from tests.stage_helpers import osc_message as msg

pytestmark = pytest.mark.timeout(240)


def _two_classes(folder: Path, model: dict, frames: int = 40, labels=("low", "high")
                 ) -> Project:  # noqa: ANN001
    # gesturemap's own messages (/gesturemap/refused...) are the project's choice
    project = Project(model=model, outputs={"extras": True})
    rng = np.random.default_rng(8)
    for label, level in zip(labels, (0.1, 0.9), strict=True):
        for _ in range(2):
            ramp = np.linspace(0, 1, frames)[:, None]
            project.add_take(level + ramp * [0.3, -0.2] + 0.02 * rng.standard_normal(
                (frames, 2)), label)
    project.train()
    project.save(folder)
    return project


def _labels(folder: Path) -> list:
    return [t.label for t in Project.load(folder).takes]


@contextmanager
def _running(folder: Path):
    """`gesturemap run FOLDER` on free loopback ports: yields a function that sends it an OSC
    message and the socket its replies come to; then its stats file's counters."""
    import socket

    rx, port, stats = osc_receiver(), free_port(), folder.parent / "stats.json"
    proc, _ = start_run(folder, "--osc-in", f"127.0.0.1:{port}", "--osc-out",
                        f"127.0.0.1:{rx.getsockname()[1]}", "--stats", stats)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    counters: dict = {}
    try:
        yield (lambda data: tx.sendto(data, ("127.0.0.1", port))), rx, counters
    finally:
        stop_run(proc)
        tx.close()
        rx.close()
    counters.update(json.loads(stats.read_text()))


def _refusals(got: list) -> list[tuple]:
    return [params for address, params in got if address == "/gesturemap/refused"]


def test_a_correction_too_short_for_the_hhmm_is_refused_at_once(tmp_path):
    """/gesturemap/reset, 6 frames, /gesturemap/correct tiny was saved, and every retraining
    after it failed ("its longest take has 6 frame(s), fewer than states=10")."""
    folder = tmp_path / "p"
    _two_classes(folder, {"kind": "hhmm", "params": {"states": 10}})
    with _running(folder) as (send, rx, counters):
        send(msg("/gesturemap/reset"))
        for i in range(6):
            send(float_msg("/wek/inputs", 0.5, 0.1 * i))
        send(msg("/gesturemap/correct", "tiny"))
        got = osc_messages(rx, lambda g: _refusals(g))
        (command, why), = _refusals(got)
        assert command == "correct" and "states=10" in why and "tiny" in why
        assert "tiny" not in _labels(folder)
        # a gesture long enough is taken, and the model retrains with it
        send(msg("/gesturemap/reset"))
        for i in range(30):
            send(float_msg("/wek/inputs", 0.5, 0.03 * i))
        send(msg("/gesturemap/correct", "tiny"))
        got = osc_messages(rx, lambda g: any(a == "/wekinator/status/done-training"
                                             for a, _ in g), timeout=60)
        assert any(a == "/wekinator/status/done-training" for a, _ in got)
        assert not _refusals(got)
        wait_for(lambda: "tiny" in _labels(folder))
    assert counters["errors"] == 0 and counters["refused_commands"] == 1
    assert counters["trainings_failed"] == 0 and counters["trainings"] == 1


def test_a_wekinator_take_too_short_for_the_gmm_is_refused(tmp_path):
    folder = tmp_path / "p"
    _two_classes(folder, {"kind": "gmm", "params": {"gaussians": 3}}, labels=(1, 2))
    with _running(folder) as (send, rx, counters):
        send(msg("/wekinator/control/outputs", 3.0))  # a new class, number 3
        send(msg("/wekinator/control/startRecording"))
        for i in range(2):
            send(float_msg("/wek/inputs", 0.5, 0.1 * i))
        send(msg("/wekinator/control/stopRecording"))
        got = osc_messages(rx, lambda g: _refusals(g))
        (command, why), = _refusals(got)
        assert command == "stop_recording" and "gaussians=3" in why
    assert len(_labels(folder)) == 4
    assert counters["errors"] == 0 and counters["refused_commands"] == 1
    assert "record a longer take" in counters["refused"]["stop_recording"][1]


def test_a_saved_take_too_short_leaves_its_class_out_of_training(tmp_path):
    """A project saved with such a take (before they were refused): `gesturemap train` exited
    2 until the take was removed by hand. It now trains the other classes and says so."""
    folder = tmp_path / "p"
    project = _two_classes(folder, {"kind": "hhmm", "params": {"states": 10}})
    project.add_take(np.zeros((6, 2)) + 0.5, "tiny")  # the library's own add_take: no engine
    project.save(folder)
    done = subprocess.run([sys.executable, "-m", "gesturemap.cli", "train", str(folder)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "'tiny'" in done.stderr and "left out of training" in done.stderr
    assert Project.load(folder).trained.labels_ == ["high", "low"]


def test_a_failed_retraining_is_announced_and_the_last_model_plays_on(tmp_path):
    folder = tmp_path / "p"
    _two_classes(folder, {"kind": "hhmm", "params": {"states": 3}}, frames=6)
    settings = json.loads((folder / "project.json").read_text())
    settings["model"]["params"]["states"] = 10  # a setting no class can train on now
    (folder / "project.json").write_text(json.dumps(settings))
    with _running(folder) as (send, rx, counters):
        send(msg("/wekinator/control/train"))
        got = osc_messages(rx, lambda g: any(a == "/gesturemap/training_failed" for a, _ in g),
                           timeout=60)
        (why,), = [p for a, p in got if a == "/gesturemap/training_failed"]
        assert "states=10" in why
        for _ in range(20):  # the model trained before answers on
            send(float_msg("/wek/inputs", 0.9, 0.9))
        got = osc_messages(rx, lambda g: len([a for a, _ in g if a == "/gesturemap/label"]) == 20)
        labels = [p[0] for a, p in got if a == "/gesturemap/label"]
        assert len(labels) == 20 and labels[-1] == "high"
    assert counters["errors"] == 0 and counters["trainings_failed"] == 1
    assert counters["refused_commands"] == 1 and "states=10" in counters["training_failed"]
