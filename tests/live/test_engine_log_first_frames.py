"""`gesturemap run --log` of a new project (its input size learned from its first frame):
the first frames are logged with the times they arrived at, none held up behind the first.

A new project starts its feature pipeline at its first frame, on the frame path; the kernel
that start uses must already be loaded then (numba's first load in a process takes some
0.4 s, during which the source read no packet: the frames behind the first were stamped, and
logged, that much late, and those still unread at a Ctrl-C were lost)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import numpy as np

from gesturemap.log import read_log

from ..stage_helpers import logged_run, osc_message, stop_run


def test_a_new_projects_first_frames_are_logged_when_they_came(tmp_path, repo_dir):
    subprocess.run([sys.executable, "-m", "gesturemap.cli", "new", str(tmp_path / "p")],
                   check=True, capture_output=True, timeout=120, cwd=repo_dir)
    logdir = tmp_path / "log"
    run, port = logged_run(tmp_path / "p", logdir)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = []
    try:
        for i in range(10):
            sent.append(time.perf_counter())  # the engine's clock: the log's times are on it
            tx.sendto(osc_message("/wek/inputs", float(i), 0.5, 0.5), ("127.0.0.1", port))
            time.sleep(0.02)
        time.sleep(0.3)
    finally:
        tx.close()
        stop_run(run)
    logged = read_log(logdir, ["input"])["input"]
    assert logged.values[:, 0].tolist() == [float(i) for i in range(10)]
    late = logged.times - np.array(sent)
    # each frame stamped as it came (a loaded machine may hold one up a little; the first
    # frame's pipeline start held the next ones up some 0.4 s)
    assert late.max() < 0.3, late.round(3).tolist()
