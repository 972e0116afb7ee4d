"""Tests of gesturemap.log: session logs written from a real-time thread, read anywhere."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from gesturemap.errors import FormatError, GesturemapError
from gesturemap.log import SessionLog, read_events, read_labels, read_log

REPO_DIR = Path(__file__).resolve().parent.parent


def _awkward_floats(rows: int, columns: int, seed: int = 0) -> np.ndarray:
    """Floats over the whole float64 range, with the values text formats get wrong."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(rows, columns)) * 10.0 ** rng.integers(-300, 300, (rows, columns))
    special = [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -0.0, 0.1, 1 / 3, 1e23]
    flat = values.reshape(-1)
    flat[: len(special)] = special
    return values


def test_floats_and_times_round_trip_exactly(tmp_path: Path) -> None:
    values = _awkward_floats(500, 4)
    times = np.cumsum(np.random.default_rng(1).random(500)) + 1e5  # perf_counter-like times
    with SessionLog(tmp_path / "s", {"input": ["a", "b", "c", "d"]}, t0=1e5) as log:
        for t, row in zip(times, values, strict=True):
            assert log.write("input", t, row)
    stream = read_log(tmp_path / "s")["input"]
    assert stream.columns == ("a", "b", "c", "d")
    assert stream.values.view(np.int64).tolist() == values.view(np.int64).tolist()  # -0.0 too
    assert np.array_equal(stream.times, times - 1e5)


def test_write_copies_the_callers_buffer_and_takes_scalars_and_lists(tmp_path: Path) -> None:
    log = SessionLog(tmp_path / "s", {"x": ["v"], "xy": ["x", "y"]}, t0=0.0)
    buffer = np.zeros(2)
    for i in range(5):
        buffer[:] = (i, -i)  # the engine reuses its buffers
        log.write("xy", float(i), buffer)
        log.write("x", float(i), np.float64(i) if i % 2 else i)
    log.write("xy", 5.0, [5, -5])
    log.close()
    streams = read_log(tmp_path / "s")
    assert streams["xy"].values.tolist() == [[i, -i] for i in range(6)]
    assert streams["x"].values[:, 0].tolist() == list(range(5))
    assert streams["xy"].times.tolist() == list(range(6))


def _small_log(folder: Path) -> np.ndarray:
    values = _awkward_floats(50, 3, seed=2)
    log = SessionLog(folder, {"features": ["f1", "f2", 'f3 "z", y']}, t0=0.0)
    for i, row in enumerate(values):
        log.write("features", i / 100, row)
    log.label(0.0, "circle")
    log.event(0.5, "train", takes=3)
    log.close()
    return values


def test_csv_files_open_with_numpy_loadtxt(tmp_path: Path) -> None:
    values = _small_log(tmp_path / "s")
    table = np.loadtxt(tmp_path / "s" / "features.csv", delimiter=",", skiprows=1)
    assert np.array_equal(table[:, 1:], values) and np.array_equal(table[:, 0], np.arange(50) / 100)


def test_csv_files_open_with_pandas(tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")  # a test extra; gesturemap itself needs only numpy
    values = _small_log(tmp_path / "s")
    frame = pandas.read_csv(tmp_path / "s" / "features.csv")
    assert list(frame.columns) == ["t", "f1", "f2", 'f3 "z", y']
    assert np.array_equal(frame.to_numpy()[:, 1:], values)
    events = pandas.read_csv(tmp_path / "s" / "events.csv")
    assert events["kind"].tolist() == ["train"] and json.loads(events["data"][0]) == {"takes": 3}
    assert pandas.read_csv(tmp_path / "s" / "labels.csv")["label"].tolist() == ["circle"]


def test_the_guides_pandas_lines_read_every_label_as_written(tmp_path, monkeypatch, repo_dir):
    """docs/guides/logging.md's pandas lines, run on a log of awkward class names: pandas'
    own guesses read the classes "NA" and "None" as missing (as a frame of no class), and
    classes 1 and 2 of a Wekinator project as the numbers 1.0 and 2.0."""
    pandas = pytest.importorskip("pandas")
    guide = (repo_dir / "docs" / "guides" / "logging.md").read_text(encoding="utf-8")
    block = guide.split("```python\nimport pandas as pd\n", 1)[1].split("```", 1)[0]
    written = ["1", "2", None, "NA", "None", "a,b"]
    with SessionLog(tmp_path / "session", {"input": ["x"]}, t0=0.0) as log:
        for i, label in enumerate(written):
            log.write("input", i / 100, [float(i)])
            log.label(i / 100, label)
    monkeypatch.chdir(tmp_path)
    names: dict = {"pd": pandas}
    exec(block, names)  # noqa: S102 - the guide's own lines
    assert names["labels"]["label"].tolist() == [label or "" for label in written]
    assert names["frames"]["label"].tolist() == [label or "" for label in written]
    assert names["frames"]["x"].tolist() == [float(i) for i in range(len(written))]
    assert read_labels(tmp_path / "session")[1] == written


def test_session_json_records_streams_files_start_and_end(tmp_path: Path) -> None:
    before = time.time()
    log = SessionLog(tmp_path / "s", {"input": ["x"]}, meta={"project": "theremin"})
    document = json.loads((tmp_path / "s" / "session.json").read_text())
    assert document["format"] == "gesturemap.session" and document["version"] == 1
    assert before <= document["start_epoch"] <= time.time() and document["end"] is None
    assert document["streams"] == {"input": ["x"]} and document["meta"] == {"project": "theremin"}
    assert document["files"] == {
        "input": "input.csv",
        "labels": "labels.csv",
        "events": "events.csv",
    }
    log.write("input", log.t0 + 0.25, [1.0])
    log.close()
    log.close()  # twice is fine
    assert not log.write("input", log.t0 + 0.5, [2.0])  # after close: dropped, counted
    document = json.loads((tmp_path / "s" / "session.json").read_text())
    assert document["start_epoch"] <= document["end_epoch"] <= time.time()
    assert document["end"].startswith(document["start"][:4])
    assert document["rows"]["input"] == 1 and document["dropped"]["input"] == 0
    assert log.dropped["input"] == 1
    assert read_log(tmp_path / "s")["input"].times.tolist() == [0.25]


def test_labels_and_events(tmp_path: Path) -> None:
    log = SessionLog(tmp_path / "s", {"input": ["x"]}, t0=0.0)
    log.label(1.0, "circle, big")
    log.label(2.0, None)
    log.label(3.0, 7)
    log.event(0.5, "record", take="take-000001", note='a "quoted",\nline')
    log.event(4.0, "odd data", value=float("nan"), thing=object)
    log.close()
    times, labels = read_labels(tmp_path / "s")
    assert times.tolist() == [1.0, 2.0, 3.0] and labels == ["circle, big", None, "7"]
    events = read_events(tmp_path / "s")
    assert [(e.t, e.kind) for e in events] == [(0.5, "record"), (4.0, "odd data")]
    assert events[0].data == {"take": "take-000001", "note": 'a "quoted",\nline'}
    assert np.isnan(events[1].data["value"]) and "object" in events[1].data["thing"]


def test_any_column_names_and_no_numeric_stream_at_all(tmp_path: Path) -> None:
    names = ["up, fast", 'the "big" one', " spaced "]
    with SessionLog(tmp_path / "s", {"likelihoods": names}, t0=0.0) as log:
        log.write("likelihoods", 0.0, [0.5, 0.25, 0.25])
    stream = read_log(tmp_path / "s")["likelihoods"]
    assert stream.columns == tuple(names) and stream.values.tolist() == [[0.5, 0.25, 0.25]]
    table = np.loadtxt(tmp_path / "s" / "likelihoods.csv", delimiter=",", skiprows=1, ndmin=2)
    assert table.tolist() == [[0.0, 0.5, 0.25, 0.25]]
    with SessionLog(tmp_path / "e", {}, t0=0.0) as log:  # labels and events only
        log.label(1.0, "a")
    assert read_log(tmp_path / "e") == {} and read_labels(tmp_path / "e")[1] == ["a"]


def test_write_never_raises_on_bad_rows(tmp_path: Path) -> None:
    log = SessionLog(tmp_path / "s", {"input": ["x", "y"]}, t0=0.0)
    assert log.write("input", 0.0, [1.0, 2.0])
    log.write("input", 1.0, [1.0])  # wrong width: dropped by the writer
    log.write("nowhere", 2.0, [1.0, 2.0])  # unknown stream
    log.write("input", 3.0, object())  # not numbers at all
    log.write("input", 4.0, ["a", "b"])
    log.write("input", 5.0, [3.0, 4.0])
    log.close()
    assert read_log(tmp_path / "s")["input"].values.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert log.dropped["input"] == 3 and log.dropped["nowhere"] == 1
    assert log.stats()["rows"]["input"] == 2


def test_write_never_blocks_and_drops_when_the_queue_is_full(tmp_path: Path) -> None:
    log = SessionLog(tmp_path / "s", {"input": ["x", "y", "z"]}, max_queued=1000, t0=0.0)
    frame = np.arange(3.0)
    finished = threading.Event()
    accepted = []

    def engine() -> None:
        accepted.append(sum(log.write("input", i * 1e-3, frame) for i in range(100_000)))
        finished.set()

    thread = threading.Thread(target=engine)
    thread.start()
    # A generous bound: 100k writes take well under a second; this only checks they return.
    assert finished.wait(30), "write() blocked"
    thread.join()
    log.close()
    written = log.stats()["rows"]["input"]
    assert written == accepted[0] and written + log.dropped["input"] == 100_000
    assert log.dropped["input"] > 0  # 1000 rows of room cannot hold 100k writes in 0.1 s
    assert len(read_log(tmp_path / "s")["input"].times) == written
    assert np.all(np.diff(read_log(tmp_path / "s")["input"].times) > 0)  # in order


def test_flush_makes_rows_readable_while_the_log_is_open(tmp_path: Path) -> None:
    log = SessionLog(tmp_path / "s", {"input": ["x"]}, t0=0.0, flush_interval_s=1.0)
    for i in range(10):
        log.write("input", i, [i])
    log.flush()
    assert read_log(tmp_path / "s")["input"].values[:, 0].tolist() == list(range(10))
    log.close()


def test_reader_skips_a_line_cut_short(tmp_path: Path) -> None:
    with SessionLog(tmp_path / "s", {"input": ["x", "y"]}, t0=0.0) as log:
        log.write("input", 0.0, [1.0, 2.0])
        log.event(0.0, "start")
    with open(tmp_path / "s" / "input.csv", "a") as handle:
        handle.write("0.01,3.5")  # the kill came in the middle of a line
    with open(tmp_path / "s" / "events.csv", "a") as handle:
        handle.write('0.2,stop,"{""a')
    assert read_log(tmp_path / "s")["input"].values.tolist() == [[1.0, 2.0]]
    assert [e.kind for e in read_events(tmp_path / "s")] == ["start"]


def test_reader_skips_a_label_cut_inside_its_line_break(tmp_path: Path) -> None:
    with SessionLog(tmp_path / "s", {}, t0=0.0) as log:
        log.label(1.0, "x")
        log.label(2.0, "two\nlines")  # a class name with a line break: quoted over two lines
    path = tmp_path / "s" / "labels.csv"
    assert read_labels(tmp_path / "s")[1] == ["x", "two\nlines"]
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("two\n") + 4], encoding="utf-8")  # killed right there
    times, labels = read_labels(tmp_path / "s")
    assert times.tolist() == [1.0] and labels == ["x"]  # not a label "two\n" that never was
    path.write_text('t,label\n1.0,x\n2.0,"a"b\n', encoding="utf-8")  # no writer's line
    with pytest.raises(FormatError, match="labels.csv is damaged at line 3"):
        read_labels(tmp_path / "s")


def test_damaged_logs_raise_format_errors(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="none does not exist: a session log is a folder"):
        read_log(tmp_path / "none")
    (tmp_path / "file").write_text("x")
    with pytest.raises(FormatError, match="file is not a folder: a session log is a folder"):
        read_log(tmp_path / "file")
    with SessionLog(tmp_path / "s", {"input": ["x"]}, t0=0.0) as log:
        log.write("input", 0.0, [1.0])
    with pytest.raises(GesturemapError, match="already holds a session log"):
        SessionLog(tmp_path / "s", {"input": ["x"]})
    path = tmp_path / "s" / "input.csv"
    path.write_text("t,x\n0.0,1.0\n0.1,oops\n")
    with pytest.raises(FormatError, match="input.csv is damaged: line 3 is not 2 numbers"):
        read_log(tmp_path / "s")  # the line a researcher opens the file at
    path.write_text("t,y\n")
    with pytest.raises(FormatError, match="first line"):
        read_log(tmp_path / "s")
    path.unlink()
    with pytest.raises(FormatError, match="missing"):
        read_log(tmp_path / "s")
    (tmp_path / "s" / "session.json").write_text('{"format": "gesturemap.session", "version": 2}')
    with pytest.raises(FormatError, match="newer"):
        read_log(tmp_path / "s")


def test_a_folder_of_sessions_or_a_project_is_named_as_such(tmp_path: Path) -> None:
    """A folder holding two sessions' logs (one a day), or the project folder, given instead
    of a session's log said only "session.json does not exist"; now it names the logs inside
    to give, or says that it is a project."""
    for name in ("monday", "tuesday"):
        with SessionLog(tmp_path / "sessions" / name, {"input": ["x"]}, t0=0.0) as log:
            log.write("input", 0.0, [1.0])
    (tmp_path / "sessions" / "notes").mkdir()
    with pytest.raises(FormatError, match="sessions is not a session log; it holds 2 session "
                                          "log\\(s\\): monday, tuesday; give one of them, e.g. "
                                          ".*sessions/monday"):
        read_log(tmp_path / "sessions")
    assert read_log(tmp_path / "sessions" / "monday")["input"][1].tolist() == [[1.0]]
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "project.json").write_text("{}")
    with pytest.raises(FormatError, match="project is a project, not a session log"):
        read_log(tmp_path / "project")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FormatError, match="session.json does not exist"):
        read_log(tmp_path / "empty")


@pytest.mark.parametrize(
    ("streams", "message"),
    [
        ([("input", ["x"])], "streams"),
        ({"events": ["x"]}, "stream name"),
        ({"../up": ["x"]}, "stream name"),
        ({"input": []}, "columns"),
        ({"input": ["a\nb"]}, "columns"),
        ({"input": ["a", "a"]}, "columns"),
        ({"input": "abc"}, "columns"),
    ],
)
def test_bad_streams_are_refused(tmp_path: Path, streams: dict, message: str) -> None:
    with pytest.raises(GesturemapError, match=message):
        SessionLog(tmp_path / "s", streams)
    assert not (tmp_path / "s" / "session.json").exists()


_LOGGER = textwrap.dedent(
    """
    import sys, time
    from gesturemap.log import SessionLog

    log = SessionLog(sys.argv[1], {"input": ["i", "sin"]})
    print("started", flush=True)
    i = 0
    start = time.perf_counter()
    while True:
        due = start + i / 200.0
        while time.perf_counter() < due:
            time.sleep(0.0005)
        t = time.perf_counter()
        log.write("input", t, [float(i), float(i) ** 0.5])
        i += 1
    """
)


def test_sigkill_at_200_hz_keeps_all_but_the_last_second(tmp_path: Path) -> None:
    folder = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=str(REPO_DIR))
    process = subprocess.Popen(
        [sys.executable, "-c", _LOGGER, str(folder)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "started"
        time.sleep(1.6)
    finally:
        process.send_signal(signal.SIGKILL)
        killed_at = time.time()
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    start = json.loads((folder / "session.json").read_text())["start_epoch"]
    stream = read_log(folder)["input"]
    assert stream.times[-1] >= (killed_at - start) - 1.0, "more than the last second is lost"
    count = len(stream.times)
    assert count >= 100  # 200 Hz for over a second
    assert stream.values[:, 0].tolist() == list(range(count))  # nothing lost before the end
    assert np.array_equal(stream.values[:, 1], np.arange(count, dtype=float) ** 0.5)


def test_time_column_says_what_it_is(tmp_path: Path) -> None:
    """Default: seconds since start. The engine's t0 = 0 (its own clock, for bit-exact replay):
    session.json says so and gives the start's t to subtract."""
    own = SessionLog(tmp_path / "a", {"x": ["v"]})
    own.close()
    doc = json.loads((tmp_path / "a" / "session.json").read_text())
    assert doc["time_unit"] == "seconds since start" and doc["start_t"] == 0.0
    before = time.perf_counter()
    engine_like = SessionLog(tmp_path / "b", {"x": ["v"]}, t0=0.0)
    engine_like.write("x", time.perf_counter() + 0.25, [1.0])
    engine_like.close()
    doc = json.loads((tmp_path / "b" / "session.json").read_text())
    assert "subtract start_t" in doc["time_unit"] and before <= doc["start_t"] <= time.perf_counter()
    t = np.loadtxt(tmp_path / "b" / "x.csv", delimiter=",", skiprows=1, ndmin=2)[0, 0]
    assert 0.25 <= t - doc["start_t"] < 1.25  # seconds since start, once start_t is subtracted


@pytest.mark.parametrize("columns", [5, ["a", 3], {"a": 1}])
def test_a_session_json_whose_columns_are_no_names_is_a_format_error(tmp_path: Path,
                                                                     columns) -> None:
    """A hand-edited session.json: one clear error from every reader and from `gesturemap
    replay` (exit 2), not a TypeError traceback."""
    from gesturemap.cli import main

    with SessionLog(tmp_path / "log", {"input": ["x"]}) as log:
        log.write("input", 0.0, [1.0])
    session = tmp_path / "log" / "session.json"
    document = json.loads(session.read_text())
    document["streams"]["input"] = columns
    session.write_text(json.dumps(document))
    with pytest.raises(FormatError, match="columns of stream 'input'"):
        read_log(tmp_path / "log")
    assert main(["replay", str(tmp_path / "log"), "--out", str(tmp_path / "r.csv")]) == 2
