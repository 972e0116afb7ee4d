"""`gesturemap replay` of a session in which scenes were recalled on stage: each recall is
replayed at the frame it came before, with the crossfade the engine played, so the labels,
likelihoods and regression outputs are the live ones, bit for bit."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from gesturemap.log import read_events, read_labels, read_log

from ..stage_helpers import logged_run, osc_message, stop_run


def _scenes_project(folder):  # noqa: ANN001, ANN202
    """A linear regression over 2 inputs with two scenes: "up" (the outputs rise with the
    inputs) and "down" (they fall); the project plays "down" when it opens."""
    from gesturemap.project import Project

    def trained(sign: float):  # noqa: ANN202
        p = Project(model={"kind": "linear", "params": {}}, output_names=["pitch", "gain"])
        rng = np.random.default_rng(0)
        for label, level in (("a", 0.1), ("b", 0.9)):
            for _ in range(3):
                x = level + np.linspace(0, 0.3, 40)[:, None] + 0.02 * rng.standard_normal((40, 2))
                p.add_take(x, label, outputs=np.hstack([sign * 2 * x[:, :1],
                                                        1 - sign * x[:, 1:]]))
        p.train()
        return p

    project = trained(1.0)
    project.save_scene("up")
    project.trained = trained(-1.0).trained
    project.save_scene("down")
    project.scene_fade_s = 0.3
    project.save(folder)
    return folder


def test_replay_recalls_the_scenes_the_session_recalled(tmp_path, repo_dir):
    folder = _scenes_project(tmp_path / "proj")
    logdir = tmp_path / "log"
    run, port = logged_run(folder, logdir)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def frames(count: int) -> None:
        for i in range(count):
            level = 0.3 + 0.002 * i
            tx.sendto(osc_message("/wek/inputs", level, level), ("127.0.0.1", port))
            time.sleep(0.004)

    try:
        frames(40)
        tx.sendto(osc_message("/gesturemap/scene", "up"), ("127.0.0.1", port))
        frames(120)  # through the whole fade
        tx.sendto(osc_message("/gesturemap/scene", "down"), ("127.0.0.1", port))
        frames(20)  # within the fade: the next one starts where this one is
        tx.sendto(osc_message("/gesturemap/scene", "up"), ("127.0.0.1", port))
        frames(120)
        time.sleep(0.3)
    finally:
        tx.close()
        stop_run(run)
    assert [e.data["name"] for e in read_events(logdir) if e.kind == "scene"] == [
        "up", "down", "up"]
    live = read_log(logdir, ["output", "likelihoods"])
    assert len(live["output"].times) >= 250
    assert np.ptp(live["output"].values[:, 0]) > 1.0  # the scenes played: outputs -1 .. 1
    out = subprocess.run([sys.executable, "-m", "gesturemap.cli", "replay", str(logdir),
                          "--out", str(tmp_path / "r.csv")],
                         capture_output=True, text=True, timeout=300, cwd=repo_dir)
    assert out.returncode == 0, out.stderr
    with open(tmp_path / "r.csv") as handle:
        header = handle.readline().strip().split(",")
    assert header == ["t", "label", "a", "b", "pitch", "gain"]
    replayed = np.loadtxt(tmp_path / "r.csv", delimiter=",", skiprows=1, usecols=[0, 2, 3, 4, 5])
    labels = np.loadtxt(tmp_path / "r.csv", delimiter=",", skiprows=1, usecols=1, dtype=str)
    np.testing.assert_array_equal(replayed[:, 0], live["output"].times)
    np.testing.assert_array_equal(replayed[:, 3:], live["output"].values)  # the fades too
    np.testing.assert_array_equal(replayed[:, 1:3], live["likelihoods"].values)
    assert labels.tolist() == read_labels(logdir)[1]
    # a project that no longer has a scene the session recalled: said, not silently wrong
    from gesturemap.live.replay import replay_log
    from gesturemap.project import Project

    other = Project.load(folder)
    other.remove_scene("up")
    other.save(tmp_path / "other")
    with pytest.warns(UserWarning, match="has no scene 'up' that the session recalled"):
        replay_log(logdir, tmp_path / "other")
