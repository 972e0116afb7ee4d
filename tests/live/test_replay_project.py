"""`gesturemap replay LOG` as docs/guides/logging.md describes it: a log that `gesturemap run --log` recorded
names its project in session.json, and the replay goes through that project unless
``--project`` says another; a project moved since is found by its id in the log's folder or
one above it; a log that names none, or a project found nowhere, is one line saying to give
``--project``."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys

import numpy as np

from gesturemap.log import SessionLog, log_project, read_log
from gesturemap.project import Project

from ..stage_helpers import float_msg, logged_run, stop_run, two_level_project, wait_for


def _cli(repo_dir, *args):
    return subprocess.run([sys.executable, "-m", "gesturemap.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=repo_dir)


def _log_a_run(folder, logdir) -> int:  # noqa: ANN001
    """`gesturemap run FOLDER --log LOGDIR` of 60 frames, low then high; the frames logged."""
    run, port = logged_run(folder, logdir)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        tx.sendto(float_msg("/wekinator/control/startRunning"), ("127.0.0.1", port))
        for i in range(60):
            level = 0.1 if i < 30 else 0.9
            tx.sendto(float_msg("/wek/inputs", level, level), ("127.0.0.1", port))
        wait_for(lambda: len(read_log(logdir)["input"].times) == 60, 60)
    finally:
        tx.close()
        stop_run(run)
    return 60


def test_replay_of_a_run_log_goes_through_its_own_project(tmp_path, repo_dir):
    folder = two_level_project(tmp_path / "proj")
    logdir = tmp_path / "log"
    frames = _log_a_run(folder, logdir)
    assert log_project(logdir) == str(folder.resolve())
    out = _cli(repo_dir, "replay", logdir, "--out", tmp_path / "r.csv")
    assert out.returncode == 0, out.stderr
    assert f"through {folder.resolve()}" in out.stdout
    labels = np.loadtxt(tmp_path / "r.csv", delimiter=",", skiprows=1, usecols=1, dtype=str)
    assert len(labels) == frames and labels[0] == "low" and labels[-1] == "high"
    # --project still chooses another (here a copy) ...
    shutil.copytree(folder, tmp_path / "copy")
    out = _cli(repo_dir, "replay", logdir, "--project", tmp_path / "copy")
    assert out.returncode == 0 and f"through {tmp_path / 'copy'}" in out.stdout
    # ... and a project moved away since, from beside the log, is one line asking for it
    shutil.move(folder, tmp_path / "moved")
    out = _cli(repo_dir, "replay", logdir)
    uid = Project.load(tmp_path / "moved").uid
    assert out.returncode == 2 and out.stderr.strip() == (
        f"gesturemap replay: {logdir} was played by the project of id {uid}, no longer in "
        f"{folder.resolve()} nor in the log's folder or its parents: give --project DIR")


def test_replay_finds_its_project_moved_with_the_log_inside_it(tmp_path, repo_dir):
    """A session logged inside its project's folder; the folder then moved, and another
    project saved where it was. The replay looked only where the project had played: "no
    longer there" for the move, and a replay through the other project for the second."""
    folder = two_level_project(tmp_path / "proj")
    frames = _log_a_run(folder, folder / "logs" / "s1")
    shutil.move(folder, tmp_path / "gig")
    logdir = tmp_path / "gig" / "logs" / "s1"
    out = _cli(repo_dir, "replay", logdir, "--out", tmp_path / "r.csv")
    assert out.returncode == 0, out.stderr
    assert f"replayed {frames} frames of {logdir} through {(tmp_path / 'gig').resolve()}" in out.stdout
    labels = np.loadtxt(tmp_path / "r.csv", delimiter=",", skiprows=1, usecols=1, dtype=str)
    assert labels.tolist() == ["low"] * 30 + ["high"] * 30
    # another project where it played (its classes the other way round): not the one
    other = Project(classes=["low", "high"])
    for label, level in (("high", 0.1), ("low", 0.9)):
        other.add_take(level + np.zeros((40, 2)) + 0.01 * np.arange(40)[:, None], label)
    other.model = {"kind": "gmm", "params": {"gaussians": 1}}
    other.train()
    other.save(folder)
    out = _cli(repo_dir, "replay", logdir, "--out", tmp_path / "r2.csv")
    assert out.returncode == 0, out.stderr
    assert f"through {(tmp_path / 'gig').resolve()}" in out.stdout
    assert (tmp_path / "r2.csv").read_text() == (tmp_path / "r.csv").read_text()


def test_a_log_that_names_no_project_asks_for_one(tmp_path, repo_dir):
    logdir = tmp_path / "log"
    with SessionLog(logdir, {"input": ["a", "b"]}, t0=0.0) as log:
        log.write("input", 0.0, np.zeros(2))
    assert log_project(logdir) is None
    out = _cli(repo_dir, "replay", logdir)
    assert out.returncode == 2 and "give --project DIR" in out.stderr


_KILLED = """
import os, signal, sys
from gesturemap.log import SessionLog
log = SessionLog(sys.argv[1], {"input": ["in1", "in2"]}, t0=0.0)
for i in range(50):
    log.write("input", i / 100, [0.1, 0.1])
log.flush()
os.kill(os.getpid(), signal.SIGKILL)  # a crash: the log is never closed
"""


def test_replay_of_a_killed_sessions_log_says_it_has_no_end(tmp_path, repo_dir):
    folder = two_level_project(tmp_path / "proj")
    logdir = tmp_path / "log"
    killed = subprocess.run([sys.executable, "-c", _KILLED, str(logdir)], cwd=repo_dir,
                            capture_output=True, text=True, timeout=60)
    assert killed.returncode == -9, killed.stderr
    out = _cli(repo_dir, "replay", logdir, "--project", folder, "--out", tmp_path / "r.csv")
    assert out.returncode == 0, out.stderr
    assert "replayed 50 frames" in out.stdout
    assert "warning" in out.stderr and "has no end" in out.stderr and "killed" in out.stderr


def test_replay_through_a_project_of_another_sensor_names_both_sizes(tmp_path, repo_dir):
    folder = two_level_project(tmp_path / "proj")  # 2 inputs
    logdir = tmp_path / "log"
    with SessionLog(logdir, {"input": ["ax", "ay", "az"]}, t0=0.0):  # 3, and not one frame
        pass
    out = _cli(repo_dir, "replay", logdir, "--project", folder, "--out", tmp_path / "r.csv")
    assert out.returncode == 2 and not (tmp_path / "r.csv").exists()
    assert "logged 3 input channels (ax, ay, az)" in out.stderr and "takes 2" in out.stderr
