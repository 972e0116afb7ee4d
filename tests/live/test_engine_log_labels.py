"""A session log's labels are what the outputs sent: `gesturemap run --log` over loopback UDP,
its /gesturemap/label read back frame by frame. A classifier's frame below
``outputs.reject_below`` went out as class 0 with an empty label, and a DTW frame that matched
nothing as no match: the log holds no label there (the likelihoods stay as the model gave
them), and `gesturemap replay` gives the very same labels back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gesturemap.log import read_events, read_labels, read_log

from ..rejection_helpers import (
    DTW_GESTURES,
    dtw_matches,
    dtw_project,
    dtw_results,
    graded_project,
    input_for,
    play_dtw_gestures,
)
from ..stage_helpers import LoopbackRun, osc_messages

pytestmark = pytest.mark.slow


class _LoggedRun(LoopbackRun):
    """`gesturemap run FOLDER --log LOGDIR` over loopback, answering on a socket of ours."""

    def __init__(self, folder: Path, logdir: Path) -> None:
        super().__init__(folder, "--log", logdir)

    def label(self, x: float) -> str:
        """Send the one-value frame ``x``; the /gesturemap/label text it sent back."""
        self.send("/wek/inputs", x)
        got = osc_messages(self.rx, lambda g: any(a == "/gesturemap/label" for a, _ in g),
                           timeout=30)
        labels = [p[0] for a, p in got if a == "/gesturemap/label"]
        assert len(labels) == 1, got
        return labels[0]


def _replayed(logdir: Path, tmp_path: Path, repo_dir: Path) -> Path:
    """`gesturemap replay LOGDIR --out`: the CSV it wrote."""
    out = subprocess.run([sys.executable, "-m", "gesturemap.cli", "replay", str(logdir),
                          "--out", str(tmp_path / "r.csv")],
                         capture_output=True, text=True, timeout=300, cwd=repo_dir)
    assert out.returncode == 0, out.stderr
    return tmp_path / "r.csv"


def _replayed_labels(logdir: Path, tmp_path: Path, repo_dir: Path) -> list[str | None]:
    labels = np.loadtxt(_replayed(logdir, tmp_path, repo_dir), delimiter=",", skiprows=1,
                        usecols=1, dtype=str, ndmin=1)
    return [label or None for label in labels.tolist()]


def test_a_frame_sent_as_class_0_is_logged_with_no_label(tmp_path, repo_dir):
    project = graded_project(reject_below=0.8, extras=True)
    project.save(tmp_path / "proj")
    model = project.trained
    # "high"'s likelihood on each frame: 0.75 and 0.78 are its likeliest, below reject_below
    levels = [0.05, 0.75, 0.9, 0.78, 0.95, 0.1]
    run = _LoggedRun(tmp_path / "proj", tmp_path / "log")
    try:
        sent = [run.label(input_for(model, p)) for p in levels]
    finally:
        run.stop()
    assert sent == ["low", "", "high", "", "high", "low"]
    times, logged = read_labels(tmp_path / "log")
    assert logged == [label or None for label in sent]
    # the likelihoods are the model's, rejected or not
    likelihoods = read_log(tmp_path / "log", ["likelihoods"])["likelihoods"]
    high = likelihoods.columns.index("high")
    np.testing.assert_allclose(likelihoods.values[:, high], levels, atol=1e-3)
    np.testing.assert_array_equal(likelihoods.times, times)
    assert _replayed_labels(tmp_path / "log", tmp_path, repo_dir) == logged


def test_a_dtw_frame_that_matches_nothing_is_logged_with_no_label(tmp_path, repo_dir):
    project = dtw_project(extras=True)
    project.save(tmp_path / "proj")
    matches = dtw_matches(project.trained)
    assert None in matches and "up" in matches
    run = _LoggedRun(tmp_path / "proj", tmp_path / "log")
    sent = []
    try:
        for frames in DTW_GESTURES:
            run.command("reset")  # a gesture starts: the matcher from scratch, as dtw_matches steps it
            sent += [run.label(float(x)) for x in frames]
    finally:
        run.stop()
    assert sent == [m or "" for m in matches]
    _, logged = read_labels(tmp_path / "log")
    # at rest "down" is the likeliest gesture (0.975), yet nothing matched and none was sent
    assert logged == matches
    likelihoods = read_log(tmp_path / "log", ["likelihoods"])["likelihoods"]
    down = likelihoods.columns.index("down")
    assert likelihoods.values[0, down] > 0.9
    assert sum(e.kind == "reset" for e in read_events(tmp_path / "log")) >= len(DTW_GESTURES)
    assert _replayed_labels(tmp_path / "log", tmp_path, repo_dir) == logged


def test_a_dtw_projects_log_holds_the_distances_its_outputs_sent(tmp_path, repo_dir):
    project = dtw_project()
    project.save(tmp_path / "proj")
    model = project.trained
    expected = [r.distances for r in dtw_results(model)]
    run = _LoggedRun(tmp_path / "proj", tmp_path / "log")
    try:
        sent = play_dtw_gestures(run, run.tx, run.rx, "/wek/outputs")
    finally:
        run.stop()
    logged = read_log(tmp_path / "log", ["distances"])["distances"]
    assert logged.columns == tuple(model.labels_)
    np.testing.assert_array_equal(logged.values, np.array(expected))  # every bit of them
    # what /wek/outputs sent (float32, by Wekinator's gesture numbers: "down" 1, "up" 2)
    order = [model.labels_.index(g) for g in ("down", "up")]
    np.testing.assert_allclose(np.array(sent), logged.values[:, order], rtol=1e-6)
    # the replay gives them back, bit for bit
    replay = _replayed(tmp_path / "log", tmp_path, repo_dir)
    with open(replay) as handle:
        header = handle.readline().strip().split(",")
    columns = [f"distance:{c}" for c in model.labels_]
    assert header == ["t", "label", *model.labels_, *columns]
    replayed = np.loadtxt(replay, delimiter=",", skiprows=1, ndmin=2,
                          usecols=[header.index(c) for c in columns])
    np.testing.assert_array_equal(replayed, logged.values)
