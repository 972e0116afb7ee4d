"""A session in which running was stopped, then started again: ``labels.csv`` has a row for
every frame, with an empty label where the model answered none (the outputs sent nothing),
so a researcher joining it with ``input.csv`` on ``t`` loses no frame; `gesturemap replay`
writes the same rows, time for time and label for label."""

from __future__ import annotations

import csv
import socket
import subprocess
import sys

import pytest

from gesturemap.log import read_events, read_labels, read_log

from ..stage_helpers import float_msg, logged_run, stop_run, two_level_project, wait_for

pytestmark = pytest.mark.slow


def test_labels_have_a_row_for_every_frame_live_and_replayed(tmp_path, repo_dir):
    folder = two_level_project(tmp_path / "proj")
    logdir = tmp_path / "log"
    run, port = logged_run(folder, logdir)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send(address: str, *values: float) -> None:
        tx.sendto(float_msg(address, *values), ("127.0.0.1", port))

    try:
        for level, frames in ((0.1, 20), ("stopRunning", 0), (0.9, 20), ("startRunning", 0),
                              (0.9, 10), (0.1, 10)):
            if isinstance(level, str):  # a command acts after the frames sent before it
                send(f"/wekinator/control/{level}")
            for _ in range(frames):
                send("/wek/inputs", level, level)
        wait_for(lambda: len(read_log(logdir, ["input"])["input"].times) == 60, 60)
    finally:
        tx.close()
        stop_run(run)
    inputs = read_log(logdir, ["input"])["input"]
    times, labels = read_labels(logdir)
    assert times.tolist() == inputs.times.tolist()
    assert labels[20:40] == [None] * 20 and None not in labels[:20] + labels[40:]
    running = [(e.data["on"], e.data["frame"]) for e in read_events(logdir)
               if e.kind == "running"]
    assert running == [(True, 0), (False, 20), (True, 40)]
    out = subprocess.run([sys.executable, "-m", "gesturemap.cli", "replay", str(logdir),
                          "--out", str(tmp_path / "r.csv")],
                         capture_output=True, text=True, timeout=300, cwd=repo_dir)
    assert out.returncode == 0, out.stderr
    with open(tmp_path / "r.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    assert [float(row[0]) for row in rows] == times.tolist()
    assert [row[1] or None for row in rows] == labels
