"""The ready projects in presets/: each loads from where gesturemap finds its data, trains, and
runs on replayed data through the real engine into the built-in synth.

(tests/test_packaging.py checks that an installed wheel carries every file of presets/ and that
``presets_dir()`` finds them there.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from gesturemap._io import presets_dir
from gesturemap.engine import Engine
from gesturemap.project import Project
from gesturemap.sources.replay import ReplaySource
from gesturemap.synth import Synth

PRESETS = ["air-drums", "conducting-follower", "phone-tilt-fm", "watch-exercises", "xy-pad-filter"]
CLASSIFIERS = {"air-drums", "conducting-follower", "watch-exercises"}


def test_the_presets_are_there():
    found = sorted(p.name for p in presets_dir().iterdir() if (p / "project.json").is_file())
    assert found == PRESETS
    readme = (presets_dir() / "README.md").read_text()
    for name in PRESETS:  # each documents its sensor, what to do and what it drives
        section = readme.split(f"## {name} ", 1)[1].split("\n## ", 1)[0]
        for field in ("**Sensor**", "**Do**", "**Drives**", "**Takes**"):
            assert field in section, (name, field)


def _replay_file(project: Project, tmp_path, classifier: bool):
    """The preset's own takes back to back (a classifier's: one take per class, each after a
    take of the first class), as a data set file the replay source plays."""
    takes = list(project.takes)
    if classifier:
        first = {}
        for take in takes:
            first.setdefault(take.label, take)
        rest = first[project.classes[0]]
        takes = [t for c in project.classes[1:] for t in (rest, first[c])] + [rest]
    x = np.concatenate([t.inputs for t in takes])
    path = tmp_path / "replay.npz"
    np.savez(path, X_concat=x, lengths=np.array([len(x)]), y=np.array(["replay"]))
    return path, len(x), takes


def _offline(project: Project, x: np.ndarray) -> list:
    state = project.pipeline.start(x.shape[1], project.input_names)
    stream = project.trained.stream()
    rate = project.pipeline.rate_hz or 50.0
    return [stream.step(f) for i, frame in enumerate(x) for f in state.push(frame, i / rate)]


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_trains_and_runs_through_the_engine(name, tmp_path):
    folder = presets_dir() / name
    project = Project.load(folder)
    assert project.trained is not None and project.takes
    shipped = project.trained.labels_
    classifier = name in CLASSIFIERS

    # retrains from its takes
    model = project.train()
    assert model.labels_ == shipped

    # the model does what the preset promises, on its own takes
    if classifier:
        right = [
            max(set(labels), key=labels.count) == str(take.label)
            for take in project.takes
            for labels in [[str(r.label) for r in _offline(project, take.inputs)]]
        ]
        assert np.mean(right) >= 0.9, (name, right)
    else:
        predicted, targets = [], []
        for take in project.takes:
            results = _offline(project, take.inputs)
            predicted.append(np.array([r.output for r in results]))
            targets.append(take.outputs[-len(results) :])
        predicted, targets = np.concatenate(predicted), np.concatenate(targets)
        for k in range(targets.shape[1]):
            r = np.corrcoef(predicted[:, k], targets[:, k])[0, 1]
            assert r > 0.9, (name, project.output_names[k], r)

    # runs: replayed frames -> engine (pipeline, model, OSC out) -> the built-in synth
    replay, frames, _ = _replay_file(project, tmp_path, classifier)
    # one-shots need the onsets' real spacing (a minimum interval in ms): 4x real time
    speed = 4.0 if project.outputs["synth"].get("oneshots") else None
    rate = project.sensor["rate_hz"]

    def source(queue, on_control):  # noqa: ANN001, ANN202
        return ReplaySource(queue, replay, speed=speed, rate_hz=rate)

    synth = Synth(project.outputs["synth"], base_dir=folder)  # its sounds load
    engine = Engine(
        project, osc_in=None, osc_out=("127.0.0.1", 9), sources=[source], trainer="thread"
    )
    engine.start()
    engine.synth = synth  # fed by the engine; rendered offline below (no sound card here)
    try:
        deadline = time.monotonic() + 60
        while engine.frames_in < frames and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)
    finally:
        engine.stop()
    stats = engine.stats()
    assert stats["frames_in"] == frames, stats
    assert stats["frames_out"] > 0.9 * frames and stats["errors"] == 0, stats
    assert stats["synth_update_errors"] == 0
    sound = synth.render(int(synth.rate * 0.5))
    assert np.isfinite(sound).all()
    if project.outputs["synth"].get("oneshots"):
        onsets = int(synth._trig.sum())
        assert onsets >= len(project.classes) - 1, (name, onsets)  # every sounding class hit
    else:
        assert np.sqrt(np.mean(sound**2)) > 1e-3, name  # the continuous voices sound


def test_new_project_from_a_preset(tmp_path):
    dest = tmp_path / "my-drums"
    done = subprocess.run(
        [sys.executable, "-m", "gesturemap.cli", "new", str(dest), "--preset", "air-drums"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "from preset air-drums" in done.stdout
    mine = Project.load(dest)
    preset = Project.load(presets_dir() / "air-drums")
    assert mine.classes == preset.classes and len(mine.takes) == len(preset.takes)
    assert mine.trained is not None and mine.outputs == preset.outputs

    def uid(folder):  # noqa: ANN001, ANN202
        return json.loads((folder / "project.json").read_text())["uid"]

    assert uid(dest) != uid(presets_dir() / "air-drums")  # a project of its own
    bad = subprocess.run(
        [sys.executable, "-m", "gesturemap.cli", "new", str(tmp_path / "x"), "--preset", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "air-drums" in bad.stderr  # lists what exists
