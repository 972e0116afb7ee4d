"""A project with a class or an input channel called "t" (a letters vocabulary, a sensor's
own "t" channel) runs with `--log` and replays: the time keeps the files' first column."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from gesturemap.log import read_labels, read_log

from .stage_helpers import logged_run, osc_message, stop_run


def _letters_project(folder):  # noqa: ANN001, ANN202
    from gesturemap.project import Project

    project = Project(input_names=["t", "x"])
    rng = np.random.default_rng(0)
    for label, level in (("s", 0.1), ("t", 0.5), ("u", 0.9)):
        for _ in range(3):
            project.add_take(level + 0.02 * rng.standard_normal((40, 2)), label)
    project.model = {"kind": "gmm", "params": {"gaussians": 1, "decision": "window",
                                               "likelihood_window": 1}}
    project.train()
    project.save(folder)
    return folder


def test_a_class_and_a_channel_called_t_are_logged_and_replayed(tmp_path, repo_dir):
    folder = _letters_project(tmp_path / "proj")
    logdir = tmp_path / "log"
    run, port = logged_run(folder, logdir)  # it used to refuse to start
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i in range(60):
            level = (0.1, 0.5, 0.9)[i // 20]
            tx.sendto(osc_message("/wek/inputs", level, level), ("127.0.0.1", port))
            time.sleep(0.003)
        time.sleep(0.3)
    finally:
        tx.close()
        stop_run(run)
    logged = read_log(logdir)
    assert logged["input"].columns == ("t", "x")
    assert logged["likelihoods"].columns == ("s", "t", "u")
    sent = np.float32([(0.1, 0.5, 0.9)[i // 20] for i in range(60)])  # OSC floats
    np.testing.assert_array_equal(logged["input"].values[:, 0], sent)
    labels = read_labels(logdir)[1]
    assert labels[:20] == ["s"] * 20 and labels[20:40] == ["t"] * 20
    frame = pd.read_csv(logdir / "likelihoods.csv")  # time first; the class "t" as pandas names it
    assert frame.columns.tolist() == ["t", "s", "t.1", "u"]
    np.testing.assert_array_equal(frame["t"].to_numpy(), logged["likelihoods"].times)
    out = subprocess.run([sys.executable, "-m", "gesturemap.cli", "replay", str(logdir),
                          "--out", str(tmp_path / "r.csv")],
                         capture_output=True, text=True, timeout=300, cwd=repo_dir)
    assert out.returncode == 0, out.stderr
    replayed = pd.read_csv(tmp_path / "r.csv")
    assert replayed["label"].tolist() == labels
    np.testing.assert_array_equal(replayed[["s", "t.1", "u"]].to_numpy(),
                                  logged["likelihoods"].values)
