"""A session log on a failing disk: a full disk (a file-size limit, which any user can set)
and a log folder removed while `gesturemap run --log` plays. The performance goes on, the
rows that could not be written are counted, the files keep whole rows, the failure is said
once, and the run stops cleanly."""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from gesturemap.log import read_log

from .stage_helpers import float_msg, free_port, start_run, stop_run, two_level_project

REPO_DIR = Path(__file__).resolve().parent.parent

# Rows 0..599 with the disk full after about 4 KB (the file-size limit, as a full disk: writes
# fail with EFBIG), then room again for rows 600..999.
_FULL_THEN_ROOM = textwrap.dedent(
    """
    import json, resource, signal, sys
    from gesturemap.log import SessionLog
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, not kills
    log = SessionLog(sys.argv[1], {"input": ["a", "b"]}, t0=0.0)
    hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
    resource.setrlimit(resource.RLIMIT_FSIZE, (4000, hard))
    for i in range(600):
        log.write("input", float(i), [float(i), i / 3])
    log.flush()
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
    for i in range(600, 1000):
        log.write("input", float(i), [float(i), i / 3])
    log.close()
    print(json.dumps(log.stats()))
    """
)


def test_rows_lost_to_a_full_disk_are_counted_and_the_file_keeps_whole_rows(
        tmp_path: Path) -> None:
    folder = tmp_path / "log"
    # as a researcher runs it: an I/O error is counted and said, not raised (raise mode
    # raises the log's last write error at close, to catch bugs)
    env = {**os.environ, "GESTUREMAP_RAISE": "0"}
    out = subprocess.run([sys.executable, "-c", _FULL_THEN_ROOM, str(folder)],
                         capture_output=True, text=True, timeout=60, cwd=REPO_DIR, env=env)
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout)
    assert stats["write_errors"] >= 1
    stream = read_log(folder)["input"]  # whole rows: the part of a row cut by the limit is gone
    kept = stream.values[:, 0].astype(int).tolist()
    assert kept == sorted(kept) and kept[-400:] == list(range(600, 1000))
    assert np.array_equal(stream.values[:, 1], stream.values[:, 0] / 3)
    # what reached the file is "rows"; the rest is "lost", in the counters and session.json
    assert stats["rows"]["input"] == len(kept)
    assert stats["lost"]["input"] == 1000 - len(kept) > 0
    session = json.loads((folder / "session.json").read_text())
    assert session["rows"]["input"] == len(kept) and session["lost"]["input"] == 1000 - len(kept)
    # said once when it starts, and the count at the end
    said = [line for line in out.stderr.splitlines() if "session log" in line]
    assert len(said) == 2, out.stderr
    assert "cannot write" in said[0] and f"{1000 - len(kept)} rows were not written" in said[1]


def test_a_replay_of_a_log_with_rows_lost_says_how_many(tmp_path: Path) -> None:
    """The frames a full disk kept out of the log are not replayed: the model steps the frames
    on either side of the gap as if they followed each other, so the replay's results part
    from the live ones there. The researcher comparing them is told, with the count."""
    folder = tmp_path / "log"
    env = {**os.environ, "GESTUREMAP_RAISE": "0"}
    subprocess.run([sys.executable, "-c", _FULL_THEN_ROOM, str(folder)], check=True,
                   capture_output=True, text=True, timeout=60, cwd=REPO_DIR, env=env)
    lost = json.loads((folder / "session.json").read_text())["lost"]["input"]
    assert lost > 0
    project = two_level_project(tmp_path / "proj")
    done = subprocess.run([sys.executable, "-m", "gesturemap.cli", "replay", str(folder),
                           "--project", str(project), "--out", str(tmp_path / "out.csv")],
                          capture_output=True, text=True, timeout=120, cwd=REPO_DIR)
    assert done.returncode == 0, done.stderr
    assert f"{lost} input row(s) of the session were not written" in done.stderr, done.stderr
    # a whole log replays without it
    whole = tmp_path / "whole"
    from gesturemap.log import SessionLog

    with SessionLog(whole, {"input": ["a", "b"]}, t0=0.0) as log:
        for i in range(20):
            log.write("input", i / 100, np.array([0.9, 0.9]))
    done = subprocess.run([sys.executable, "-m", "gesturemap.cli", "replay", str(whole),
                           "--project", str(project), "--out", str(tmp_path / "out2.csv")],
                          capture_output=True, text=True, timeout=120, cwd=REPO_DIR)
    assert done.returncode == 0 and "not written" not in done.stderr, done.stderr


def test_a_run_whose_log_folder_is_removed_plays_on_counts_and_stops_cleanly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GESTUREMAP_RAISE", "0")  # as on stage (see the test above)
    project = two_level_project(tmp_path / "proj")
    logdir, stats_file = tmp_path / "log", tmp_path / "stats.json"
    port = free_port()
    run, _ = start_run(project, "--osc-in", f"127.0.0.1:{port}", "--osc-out", "127.0.0.1:9",
                       "--log", logdir, "--stats", stats_file)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        tx.sendto(float_msg("/wekinator/control/startRunning"), ("127.0.0.1", port))
        for i in range(300):
            if i == 100:
                shutil.rmtree(logdir)  # the researcher's folder deleted mid-session
            tx.sendto(float_msg("/wek/inputs", 0.1, 0.1), ("127.0.0.1", port))
            time.sleep(0.005)
        time.sleep(1.5)  # a sync (0.5 s) and a refresh of --stats (1 s)
    finally:
        tx.close()
        out, err = stop_run(run)
    assert run.returncode == 0, err
    assert "stopped; 300 frames in, 300 out" in out  # the performance went on, and ended
    stats = json.loads(stats_file.read_text())  # written at exit too
    assert stats["frames_out"] == 300
    assert stats["log_rows_lost"] >= 300 and stats["log_write_errors"] >= 1
    said = [line for line in err.splitlines() if "session log" in line]
    assert any("was removed" in line for line in said[:1]), err
    assert len(said) <= 3, err  # said once; the end not recorded; the count


_OPEN_ON_A_FULL_DISK = textwrap.dedent(
    """
    import resource, signal, sys
    from gesturemap.log import SessionLog
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, hard))
    try:
        SessionLog(sys.argv[1], {"input": ["a"]})
    except OSError as error:
        print(error)
        print("errno", error.errno)
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
    with SessionLog(sys.argv[1], {"input": ["a"]}) as log:  # room again: the same folder
        log.write("input", 0.5, [1.0])
    """
)


def test_a_log_that_cannot_open_says_so_and_leaves_its_folder_free(tmp_path: Path) -> None:
    folder = tmp_path / "log"
    out = subprocess.run([sys.executable, "-c", _OPEN_ON_A_FULL_DISK, str(folder)],
                         capture_output=True, text=True, timeout=60, cwd=REPO_DIR)
    assert out.returncode == 0, out.stderr
    # the message first (no "[Errno 27]" before it), the errno still there for code
    assert out.stdout.startswith(f"cannot open the session log in {folder}: "), out.stdout
    assert f"errno {errno.EFBIG}" in out.stdout
    assert read_log(folder)["input"].values.tolist() == [[1.0]]


@pytest.mark.parametrize("before", ["missing", "empty"])
def test_a_run_that_cannot_start_leaves_no_log_and_runs_again_once_mended(tmp_path, before):
    """The port taken by another program: `gesturemap run --log` says so and exits 2, as a
    bad input; the log it had begun (written before the port was found busy) and the folders
    made for it are gone, so the same command, run again once the port is free, logs there
    (it was refused: "already holds a session log")."""
    project = two_level_project(tmp_path / "project")
    log = tmp_path / "sessions" / "today" / "take-1"
    if before == "empty":
        log.mkdir(parents=True)
    port = free_port()
    command = [sys.executable, "-m", "gesturemap.cli", "run", str(project), "--no-audio",
               "--osc-in", f"127.0.0.1:{port}", "--osc-out", "127.0.0.1:9", "--log", str(log)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind(("127.0.0.1", port))
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "cannot listen" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert "--osc-in HOST:PORT" in done.stderr  # the option that moves the port is named
    if before == "missing":
        assert not (tmp_path / "sessions").exists()
    else:
        assert log.is_dir() and list(log.iterdir()) == []
    run, _ = start_run(project, "--osc-in", f"127.0.0.1:{port}", "--osc-out", "127.0.0.1:9",
                       "--log", str(log))
    stop_run(run)
    assert run.returncode == 0
    assert (log / "session.json").is_file()
