"""`gesturemap replay` (gesturemap.live.replay) as a researcher reads it: the live stream's resets
are replayed where they happened, the results CSV holds any class name, and a log it cannot
replay is one clear error."""

from __future__ import annotations

import csv
import gc
from pathlib import Path

import numpy as np
import pytest

from gesturemap.errors import FormatError
from gesturemap.live.replay import replay_log
from gesturemap.log import SessionLog
from tests.stage_helpers import watch_reading

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


def _reset_log(folder: Path, times: np.ndarray, x: np.ndarray) -> Path:
    """Resets by frame (before rows 7, 30 and 31) and by time (before rows 12 and 45)."""
    with SessionLog(folder, {"input": ["a", "b"]}, t0=0.0) as log:
        for i, (t, row) in enumerate(zip(times, x, strict=True)):
            if i in (7, 30, 31):
                log.event(t - 0.004, "reset", reason="trigger", frame=log.accepted("input"))
            if i in (12, 45):
                log.event(t - 0.004, "reset", reason="trigger")
            log.write("input", t, row)
    return folder


@pytest.mark.parametrize("chunk_rows", [1, 7, 12, 29, 30, 31, 59])
def test_a_replay_in_chunks_is_the_replay_in_one_piece(tmp_path: Path, chunk_rows: int) -> None:
    """Chunks smaller than the log, with resets by frame and by time on and off their edges."""
    from gesturemap.live.replay import log_resets, replay_frames
    from gesturemap.project import Project

    folder = _project(tmp_path / "proj")
    times, x = _frames()
    log = _reset_log(tmp_path / "log", times, x)
    resets = log_resets(log, times)
    assert resets == [7, 12, 30, 31, 45]
    whole = replay_frames(Project.load(folder), times, x, resets)  # all frames in memory
    expected = [["t", "label", *sorted([LOW, HIGH])]] + [
        [repr(t), r.label, *map(repr, map(float, r.likelihoods))] for t, r in whole]
    assert replay_log(log, folder, out=tmp_path / "one.csv") == 60
    assert _replayed(tmp_path / "one.csv") == expected
    assert replay_log(log, folder, out=tmp_path / "r.csv", chunk_rows=chunk_rows) == 60
    assert (tmp_path / "r.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()


def test_replay_holds_a_chunk_not_the_session(tmp_path: Path, monkeypatch) -> None:
    """When the first chunk's frames have gone through the model, the replay has read no
    further in the log than that chunk. And no more Results are alive at any time than one
    chunk makes."""
    from gesturemap.live.frame_path import FramePath
    from gesturemap.models.base import Result

    folder = _project(tmp_path / "proj")
    times, x = _frames()
    log = _reset_log(tmp_path / "log", times, x)
    path = log / "input.csv"
    header, *rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
    read = watch_reading(monkeypatch, path)
    consumed, alive = [], []

    def results() -> int:
        # type(), not isinstance(): the collector's list may hold a weak proxy whose object
        # is gone, and isinstance() on it raises ReferenceError
        return sum(issubclass(type(o), Result) for o in gc.get_objects())

    gc.collect()
    before = results()
    step, count = FramePath.step, [0]

    def counting_step(self: FramePath, values: np.ndarray, t: float) -> list:
        count[0] += 1
        if count[0] % 10 == 0:
            alive.append(results() - before)
        if count[0] == 10:
            consumed.append(read[-1])
        return step(self, values, t)

    monkeypatch.setattr(FramePath, "step", counting_step)
    assert replay_log(log, folder, out=tmp_path / "r.csv", chunk_rows=10) == 60
    assert consumed == [len((header + "".join(rows[:10])).encode())], \
        "replay read past its first chunk before stepping its frames"
    assert len(alive) == 6 and max(alive) <= 10 + 2, alive  # not 60: results are not kept
    assert len(_replayed(tmp_path / "r.csv")) == 61


def test_an_interrupted_replay_leaves_no_half_file(tmp_path: Path) -> None:
    folder = _project(tmp_path / "proj")
    times, x = _frames()
    log = _reset_log(tmp_path / "log", times, x)
    path = log / "input.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[50] = "oops"  # found in the 5th chunk, after 40 rows are written
    path.write_text("\n".join(lines), encoding="utf-8")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.csv").write_text("an older replay\n")
    with pytest.raises(FormatError, match="line 51"):
        replay_log(log, folder, out=tmp_path / "out" / "new.csv",
                   events_out=tmp_path / "out" / "old.csv", chunk_rows=10)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["old.csv"]  # no temp file
    assert (tmp_path / "out" / "old.csv").read_text() == "an older replay\n"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        replay_log(log, folder, out=tmp_path / "nowhere" / "r.csv")
