"""`gesturemap replay` (gesturemap.offline) as a researcher reads it: the live stream's resets
are replayed where they happened, the results CSV holds any class name, and a log it cannot
replay is one clear error."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from gesturemap.errors import FormatError
from gesturemap.log import SessionLog
from gesturemap.offline import replay_log

LOW, HIGH = "low, slow", 'hïgh "é"'  # a comma, quotes, non-ASCII: a CSV must keep them


def _project(folder: Path) -> Path:
    """A 2-input GMM deciding on every frame since its last reset (the default): its label
    after a reset depends on where the stream was reset."""
    from gesturemap.project import Project

    project = Project(classes=[LOW, HIGH])
    rng = np.random.default_rng(0)
    for label, level in ((LOW, 0.1), (HIGH, 0.9)):
        for _ in range(3):
            project.add_take(level + 0.02 * rng.standard_normal((40, 2)), label)
    project.model = {"kind": "gmm", "params": {"gaussians": 1}}
    project.train()
    project.save(folder)
    return folder


def _frames() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = np.vstack([0.1 + 0.02 * rng.standard_normal((30, 2)),
                   0.9 + 0.02 * rng.standard_normal((30, 2))])
    return 100.0 + np.arange(60) / 100.0, x


def _live_labels(folder: Path, x: np.ndarray, reset_at: int) -> list[str]:
    """What the engine's stream says, reset before frame ``reset_at`` (a gesture starts)."""
    from gesturemap.project import Project

    stream = Project.load(folder).trained.stream()
    labels = []
    for i, frame in enumerate(x):
        if i == reset_at:
            stream.reset()
        labels.append(stream.step(frame).label)
    return labels


def _replayed(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


@pytest.mark.parametrize("by", ["frame", "time"])
def test_replay_resets_the_stream_where_the_live_one_was_reset(tmp_path: Path, by: str) -> None:
    folder = _project(tmp_path / "proj")
    times, x = _frames()
    with SessionLog(tmp_path / "log", {"input": ["a", "b"]}, t0=0.0) as log:
        for i, (t, row) in enumerate(zip(times, x, strict=True)):
            if i == 30:  # /gesturemap/reset between frames 29 and 30
                data = {"frame": log.accepted("input")} if by == "frame" else {}
                log.event(times[29] + 0.004, "reset", reason="trigger", **data)
            log.write("input", t, row)
    live = _live_labels(folder, x, 30)
    assert live[31] == HIGH  # the reset matters: without it the low frames still weigh
    assert _live_labels(folder, x, -1)[31] == LOW
    assert replay_log(tmp_path / "log", folder, out=tmp_path / "r.csv") == 60
    rows = _replayed(tmp_path / "r.csv")
    assert rows[0] == ["t", "label", *sorted([LOW, HIGH])]  # the model's labels_ order
    assert [r[1] for r in rows[1:]] == live
    assert [float(r[0]) for r in rows[1:]] == times.tolist()


def test_session_log_counts_the_rows_it_accepted(tmp_path: Path) -> None:
    with SessionLog(tmp_path / "log", {"input": ["a"]}, max_queued=3) as log:
        assert log.accepted("input") == 0
        for t in range(5):  # two are dropped: the queue holds 3
            log.write("input", float(t), [1.0])
        log.label(0.0, "x")
        assert log.accepted("input") == 3 and log.accepted("labels") == 0
        assert log.accepted("nope") == 0 and log.accepted(["unhashable"]) == 0  # type: ignore[arg-type]


def test_a_log_without_an_input_stream_is_a_format_error(tmp_path: Path) -> None:
    folder = _project(tmp_path / "proj")
    with SessionLog(tmp_path / "log", {"imu": ["a", "b"]}, t0=0.0) as log:
        log.write("imu", 1.0, [0.1, 0.1])
    with pytest.raises(FormatError, match="no 'input' stream to replay.*imu"):
        replay_log(tmp_path / "log", folder)
