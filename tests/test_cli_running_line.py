"""`gesturemap run`'s start-up line says what the project runs: its outputs for a regression
(one model per output, or one model of every output), its classes for a classification.
Before, a regression project said "running 1 class" (its one take label)."""

from __future__ import annotations

import pytest

from gesturemap.cli import _running
from gesturemap.interop.wekinator import project as wk

from .interop.wekinator.test_project import unpack
from .stage_helpers import start_run, stop_run


@pytest.mark.parametrize("name, says", [
    ("pong-puck", ", running 1 output (outputs-1)"),
    ("iml4hci-assignment2", ", running 3 outputs (outputs-1, outputs-2, outputs-3)"),
    ("eeg-hand", ", running 2 classes"),
])
def test_running_says_outputs_or_classes(name, says, tmp_path):
    project, _ = wk.import_wekinator(unpack(name, tmp_path), tmp_path / "gm")
    assert _running(project.train(), project.output_names) == says


def test_run_of_a_regression_project_says_its_outputs(tmp_path):
    project, _ = wk.import_wekinator(unpack("pong-puck", tmp_path), tmp_path / "gm")
    project.train()
    project.save(tmp_path / "gm")
    proc, line = start_run(tmp_path / "gm", "--osc-in", "127.0.0.1:0", "--osc-out",
                           "127.0.0.1:9", "--trainer", "thread")
    stop_run(proc)
    assert ", running 1 output (outputs-1) " in line and "class" not in line, line


def test_a_sensor_saved_for_the_network_says_it_listens_here_alone(tmp_path):
    """A project whose OSC sensor the window saved on 0.0.0.0 (a phone): `gesturemap run`
    listens on 127.0.0.1 until --osc-in says otherwise, and its start-up line says so and how,
    rather than leave the performer wondering why the phone's packets never arrive."""
    import json
    import socket

    from gesturemap.project import Project

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    Project("phone").save(tmp_path / "p")
    file = tmp_path / "p" / "project.json"
    data = json.loads(file.read_text())
    data["sensor"] = {"transport": "osc", "profile": "wekinator", "host": "0.0.0.0", "port": port}
    file.write_text(json.dumps(data))

    proc, line = start_run(tmp_path / "p", "--osc-out", "127.0.0.1:9", "--trainer", "thread")
    stop_run(proc)
    assert f"listening on 127.0.0.1:{port} " in line, line
    assert f"--osc-in 0.0.0.0:{port} does" in line, line

    proc, line = start_run(tmp_path / "p", "--osc-in", "127.0.0.1:0", "--osc-out", "127.0.0.1:9",
                           "--trainer", "thread")
    stop_run(proc)
    assert "saved for" not in line, line  # the person chose the interface: nothing to say
