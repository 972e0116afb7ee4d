"""Reading a session log chunk by chunk (gesturemap.log.read_stream_chunks): the chunks are
read_log's stream bit for bit, and the reader holds one chunk, not the file: it hands the first
chunk over having read no further."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from gesturemap.errors import FormatError, GesturemapError
from gesturemap.log import SessionLog, log_start, read_log, read_stream_chunks, stream_columns
from tests.stage_helpers import watch_reading


def _log(folder: Path, rows: int = 103) -> Path:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(rows, 3)) * 10.0 ** rng.integers(-300, 300, (rows, 3))
    with SessionLog(folder, {"input": ["a", "b", "c"], "other": ["x"]}, t0=0.0) as log:
        for i, row in enumerate(values):
            log.write("input", 1e5 + i / 200 + 1e-7 * i * i, row)
    return folder


@pytest.mark.parametrize("chunk_rows", [1, 10, 51, 102, 103, 104, 20_000])
def test_chunks_are_read_logs_stream_bit_for_bit(tmp_path: Path, chunk_rows: int) -> None:
    folder = _log(tmp_path / "s")
    with open(folder / "input.csv", "a", encoding="utf-8") as handle:
        handle.write("100.5,1.0,2")  # a line the kill cut short: skipped by both readers
    whole = read_log(folder)["input"]
    chunks = list(read_stream_chunks(folder, "input", chunk_rows=chunk_rows))
    assert [len(c.times) for c in chunks[:-1]] == [chunk_rows] * (len(chunks) - 1)
    assert 0 < len(chunks[-1].times) <= chunk_rows and len(whole.times) == 103
    assert all(c.columns == ("a", "b", "c") == whole.columns for c in chunks)
    times = np.concatenate([c.times for c in chunks])
    values = np.concatenate([c.values for c in chunks])
    assert times.tobytes() == whole.times.tobytes() and values.tobytes() == whole.values.tobytes()
    assert stream_columns(folder) == {"input": ("a", "b", "c"), "other": ("x",)}
    assert list(read_stream_chunks(folder, "other")) == []  # no row: no chunk
    assert read_log(folder)["other"].values.shape == (0, 1)


@pytest.mark.parametrize(("column", "bad"), [(1, "nan"), (2, "inf"), (1, "-1e30"), (0, "nan")])
def test_a_row_beyond_finite_below_is_named_by_its_line_in_the_file(tmp_path: Path, column: int,
                                                                    bad: str) -> None:
    """A frame the engine could not have logged (NaN, infinite, beyond the bound; a time that
    is not finite) is refused with its file and line when the reader is given the bound, in a
    later chunk too; without it, the number is read as any other."""
    with SessionLog(tmp_path / "s", {"input": ["a", "b"]}, t0=0.0) as log:
        for i in range(60):
            log.write("input", i / 100, np.array([0.5, -0.5]))
    path = tmp_path / "s" / "input.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    fields = lines[41].split(",")  # the file's line 42 (the header is line 1)
    fields[column] = bad
    lines[41] = ",".join(fields)
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(FormatError, match=f"input.csv is damaged: line 42 holds .*{lines[41]!r}"):
        list(read_stream_chunks(tmp_path / "s", "input", chunk_rows=10, finite_below=1e20))
    chunks = list(read_stream_chunks(tmp_path / "s", "input", chunk_rows=10))
    assert sum(len(c.times) for c in chunks) == 60
    assert read_log(tmp_path / "s")["input"].values.shape == (60, 2)


def test_a_damaged_line_in_a_later_chunk_is_named_by_its_line_in_the_file(tmp_path: Path) -> None:
    folder = _log(tmp_path / "s")
    path = folder / "input.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[57] = "0.5,1.0,oops,2.0"  # the file's line 58 (the header is line 1)
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(FormatError, match="input.csv is damaged: line 58 is not 4 numbers"):
        list(read_stream_chunks(folder, "input", chunk_rows=10))
    with pytest.raises(FormatError, match="line 58 is not 4 numbers"):
        read_log(folder)
    with pytest.raises(FormatError, match="no stream 'nope' .*its streams: input, other"):
        read_stream_chunks(folder, "nope")  # at once, not at the first chunk
    with pytest.raises(GesturemapError, match="chunk_rows"):
        read_stream_chunks(folder, "input", chunk_rows=0)


def test_the_reader_hands_over_a_chunk_having_read_only_that_chunk(tmp_path: Path,
                                                                   monkeypatch) -> None:
    folder = _log(tmp_path / "s")
    path = folder / "input.csv"
    header, *rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
    read = watch_reading(monkeypatch, path)
    chunks, consumed = [], []
    for chunk in read_stream_chunks(folder, "input", chunk_rows=20):
        chunks.append(chunk)
        consumed.append(read[-1])
    first = len((header + "".join(rows[:20])).encode())
    assert consumed[0] == first, "the reader read past its first chunk before handing it over"
    assert [len(c.times) for c in chunks] == [20] * 5 + [3]


def test_read_log_reads_some_streams_and_a_time_window(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    with SessionLog(folder, {"input": ["x"], "likelihoods": ["a", "b"]}, t0=0.0) as log:
        for i in range(1000):
            log.write("input", i / 100, [float(i)])
            log.write("likelihoods", i / 100, [0.5, 0.5])
    part = read_log(folder, ["input"], start=2.0, end=3.0)
    assert list(part) == ["input"]
    assert part["input"].values[:, 0].tolist() == list(range(200, 300))
    assert len(read_log(folder, end=0.5)["likelihoods"].times) == 50
    with pytest.raises(FormatError, match="no stream 'output'"):
        read_log(folder, ["output"])


def test_a_time_window_longer_than_a_chunk_reads_whole(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    with SessionLog(folder, {"input": ["x"]}, t0=0.0, max_queued=50_000) as log:
        for i in range(45_000):
            log.write("input", i / 100, [float(i)])
    part = read_log(folder, start=10.0, end=440.0)["input"]  # more rows than one chunk
    assert part.values[:, 0].tolist() == list(range(1000, 44_000))
    np.testing.assert_array_equal(part.times, np.arange(1000, 44_000) / 100)


def test_read_log_holds_about_its_arrays_not_twice_them(tmp_path: Path) -> None:
    """A long stream is parsed into arrays of the file's row count: the peak is the arrays
    and a chunk's text, not the chunks and their joined copy (2x the arrays, before)."""
    import tracemalloc

    folder = tmp_path / "s"
    values = np.random.default_rng(1).standard_normal((100_000, 16))
    with SessionLog(folder, {"input": [f"in{i}" for i in range(16)]}, t0=0.0,
                    max_queued=101_000) as log:
        for i, row in enumerate(values):
            log.write("input", i / 200, row)
    tracemalloc.start()
    try:
        stream = read_log(folder)["input"]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    arrays = stream.times.nbytes + stream.values.nbytes
    assert stream.values.shape == (100_000, 16)
    np.testing.assert_allclose(stream.values, values, rtol=1e-6)
    assert peak < 1.6 * arrays, (peak, arrays)


def test_a_minute_of_an_engine_log_is_read_from_its_start_and_a_window_that_misses_warns(
        tmp_path: Path) -> None:
    """The engine logs on the perf_counter clock: a minute from the session's start is read
    with log_start; a window given in seconds since the start (before, the logging guide's
    own example) read nothing, silently."""
    folder = tmp_path / "s"
    with SessionLog(folder, {"input": ["x"]}, t0=0.0) as log:  # the engine's clock
        t0 = log.start_t
        for i in range(200):
            log.write("input", t0 + i, [float(i)])
    assert log_start(folder) == pytest.approx(t0) and t0 > 100
    part = read_log(folder, ["input"], start=log_start(folder) + 60,
                    end=log_start(folder) + 120)["input"]
    assert part.values[:, 0].tolist() == list(range(60, 120))
    with pytest.warns(UserWarning, match=r"no row of 'input'.*log_start"):
        missed = read_log(folder, ["input"], start=60, end=120)["input"]
    assert len(missed.times) == 0
    with warnings.catch_warnings():  # a window that holds rows says nothing
        warnings.simplefilter("error")
        read_log(folder, ["input"], end=t0 + 5)
