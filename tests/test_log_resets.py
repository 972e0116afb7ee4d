"""A live session's stream resets reach its log, and `gesturemap replay` resets where the live
stream did: a real `gesturemap run --log` over loopback UDP, with `/gesturemap/reset` between
gestures and motion onsets, replayed through its project; the replayed likelihoods are the
logged live ones at every frame."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import numpy as np

from gesturemap.log import read_events, read_log
from gesturemap.project import Project

from .stage_helpers import float_msg, logged_run, stop_run


def _project(folder):
    """A 2-input GMM deciding on every frame since the reset (the default, "cumulative"):
    what it says after a reset depends on where the reset was; the onset detector on."""
    project = Project(classes=["low", "high"])
    rng = np.random.default_rng(0)
    for label, level in (("low", 0.1), ("high", 0.9)):
        for _ in range(3):
            take = level + 0.02 * rng.standard_normal((40, 2))
            take[15:25] += np.sin(np.linspace(0, np.pi, 10))[:, None] * 0.3  # a movement
            project.add_take(take, label)
    project.model = {"kind": "gmm", "params": {"gaussians": 1}, "onset": True}
    project.train()
    project.save(folder)
    return folder


def test_replay_of_a_run_log_resets_where_the_live_stream_did(tmp_path, repo_dir):
    folder = _project(tmp_path / "proj")
    logdir = tmp_path / "log"
    run, port = logged_run(folder, logdir)
    rng = np.random.default_rng(1)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = 0
    try:
        # a trained project runs from the start: stopped and started again, its stream resets
        tx.sendto(float_msg("/wekinator/control/stopRunning"), ("127.0.0.1", port))
        tx.sendto(float_msg("/wekinator/control/startRunning"), ("127.0.0.1", port))
        for gesture, level in enumerate((0.1, 0.9, 0.1, 0.9)):
            if gesture % 2:  # two resets by a trigger, two by motion after a rest
                tx.sendto(float_msg("/gesturemap/reset"), ("127.0.0.1", port))
            for i in range(40):
                move = 0.4 * np.sin(np.pi * (i - 20) / 10) if 20 <= i < 30 else 0.0
                frame = level + move + 0.002 * rng.standard_normal(2)
                tx.sendto(float_msg("/wek/inputs", *frame), ("127.0.0.1", port))
                sent += 1
                time.sleep(0.004)
        time.sleep(0.5)
    finally:
        tx.close()
        stop_run(run)
    live = read_log(logdir)
    assert len(live["input"][1]) == sent  # loopback: nothing lost
    resets = [e for e in read_events(logdir) if e.kind == "reset"]
    reasons = [e.data["reason"] for e in resets]
    assert reasons.count("trigger") == 2 and "onset" in reasons and "running" in reasons
    assert all(isinstance(e.data["frame"], int) for e in resets)
    out = subprocess.run([sys.executable, "-m", "gesturemap.cli", "replay", str(logdir),
                          "--out", str(tmp_path / "r.csv")],
                         capture_output=True, text=True, timeout=300, cwd=repo_dir)
    assert out.returncode == 0, out.stderr
    replayed = np.loadtxt(tmp_path / "r.csv", delimiter=",", skiprows=1, usecols=(2, 3))
    logged = live["likelihoods"][1]
    assert replayed.shape == logged.shape == (sent, 2)
    np.testing.assert_allclose(replayed, logged, rtol=0, atol=1e-9)
    # the resets mattered: one unbroken stream says something else after the first
    stream = Project.load(folder).trained.stream()
    unbroken = np.array([stream.step(x).likelihoods for x in live["input"][1]])
    assert np.abs(unbroken - logged).max() > 0.1
