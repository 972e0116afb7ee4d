"""`gesturemap replay` of a regression project's session (mapping by demonstration): the
replay's CSV holds the values the model played, the very ones the live log's ``output.csv``
holds."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import numpy as np

from gesturemap.log import read_log

from ..stage_helpers import float_msg, logged_run, stop_run


def _regression_project(folder):  # noqa: ANN001, ANN202
    from gesturemap.project import Project

    project = Project(model={"kind": "linear", "params": {}}, output_names=["pitch", "gain"])
    rng = np.random.default_rng(0)
    for label, level in (("low", 0.1), ("high", 0.9)):
        for _ in range(3):
            x = level + np.linspace(0, 0.3, 40)[:, None] + 0.02 * rng.standard_normal((40, 2))
            project.add_take(x, label, outputs=np.hstack([2 * x[:, :1], 1 - x[:, 1:]]))
    project.train()
    project.save(folder)
    return folder


def test_replay_of_a_regression_session_gives_the_outputs_it_played(tmp_path, repo_dir):
    folder = _regression_project(tmp_path / "proj")
    logdir = tmp_path / "log"
    run, port = logged_run(folder, logdir)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i in range(80):
            level = 0.1 + 0.01 * i
            tx.sendto(float_msg("/wek/inputs", level, 1 - level), ("127.0.0.1", port))
            time.sleep(0.003)
        time.sleep(0.3)
    finally:
        tx.close()
        stop_run(run)
    live = read_log(logdir, ["output"])["output"]
    assert live.columns == ("pitch", "gain") and len(live.times) >= 60
    out = subprocess.run([sys.executable, "-m", "gesturemap.cli", "replay", str(logdir),
                          "--out", str(tmp_path / "r.csv")],
                         capture_output=True, text=True, timeout=300, cwd=repo_dir)
    assert out.returncode == 0, out.stderr
    with open(tmp_path / "r.csv") as handle:
        header = handle.readline().strip().split(",")
    assert header[:2] == ["t", "label"] and header[-2:] == ["pitch", "gain"]
    replayed = np.loadtxt(tmp_path / "r.csv", delimiter=",", skiprows=1,
                          usecols=[0, len(header) - 2, len(header) - 1], ndmin=2)
    np.testing.assert_array_equal(replayed[:, 0], live.times)
    np.testing.assert_array_equal(replayed[:, 1:], live.values)  # bit for bit, as live
