"""`gesturemap run` on a project.json edited by hand with a wrong type: one line naming the file,
the entry and what is expected, exit code 2, no traceback, the project untouched (the real
command, in a process of its own)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from gesturemap.cli import EXIT_USAGE
from gesturemap.project import PROJECT_FILE, Project

pytestmark = pytest.mark.timeout(180)

#: (project.json's block, its value, the entry the message names); each of these once ended
#: `gesturemap run` in a traceback (or opened nothing, saying why only later)
CASES = [
    ("sensor", {"transport": "osc", "profile": "wekinator", "port": "abc"}, "sensor.port"),
    ("sensor", {"transport": "osc", "profile": 5}, "sensor.profile"),
    ("outputs", {"addresses": ["/a/b", "/c"]}, "outputs.addresses"),
    ("outputs", {"scales": 3}, "outputs.scales"),
    ("outputs", {"midi": 5}, "outputs.midi"),
    ("model", {"kind": "hhmm", "params": {}, "onset": {"threshold": "high"}},
     "model.onset.threshold"),
    ("model", {"kind": "hhmm", "params": {}, "auto": {"budget_s": "x"}}, "model.auto.budget_s"),
    ("model", {"kind": "gmm", "params": {"gaussians": "abc"}}, "model.params.gaussians"),
    ("model", {"kind": "hhmm", "params": {"states": 0}}, "model.params.states"),
    ("model", {"kind": "hhmm", "params": {"class_params": {"a": {"states": 0}}}},
     "model.params.class_params['a'].states"),
]


@pytest.mark.parametrize(("block", "value", "entry"), CASES, ids=[c[2] for c in CASES])
def test_run_refuses_a_bad_setting_in_one_line(tmp_path, block, value, entry):
    folder = tmp_path / "p"
    project = Project(classes=["a"])
    project.add_take(np.zeros((20, 2)), "a")
    project.save(folder)
    path = folder / PROJECT_FILE
    document = json.loads(path.read_text())
    document[block] = value
    path.write_text(json.dumps(document))
    before = path.read_bytes()
    # a run that got past the settings would listen until stopped: the timeout fails it
    done = subprocess.run([sys.executable, "-m", "gesturemap.cli", "run", str(folder),
                           "--no-audio"], capture_output=True, text=True, timeout=60)
    assert done.returncode == EXIT_USAGE == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"gesturemap run: {path} ")
    assert f"{entry}: got " in done.stderr and "expected" in done.stderr
    assert path.read_bytes() == before


def test_run_refuses_a_sensor_profile_of_another_width_in_one_line(tmp_path):
    """A 2-input project run with `--profile zigsim` (6 values a frame) started, then dropped
    every frame without a word."""
    folder = tmp_path / "p"
    project = Project(classes=["a"])
    project.add_take(np.zeros((20, 2)), "a")
    project.save(folder)
    done = subprocess.run([sys.executable, "-m", "gesturemap.cli", "run", str(folder),
                           "--no-audio", "--profile", "zigsim"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == EXIT_USAGE, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert "sends frames of 6 values" in done.stderr and "takes 2 inputs" in done.stderr
