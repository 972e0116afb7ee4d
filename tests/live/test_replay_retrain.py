"""`gesturemap replay` of a session whose model was retrained on stage: the retrained model
is not in the log, so the replay plays the project's model on every frame, and says so (the
results before the retraining are not the live ones)."""

from __future__ import annotations

import subprocess
import sys
import time

from gesturemap.log import read_events

from ..stage_helpers import OscPeer, logged_run, stop_run, two_level_project, wait_for


def _replay(logdir, out, repo_dir, *options):  # noqa: ANN001, ANN002, ANN202
    return subprocess.run([sys.executable, "-m", "gesturemap.cli", "replay", str(logdir),
                           "--out", str(out), *map(str, options)],
                          capture_output=True, text=True, timeout=300, cwd=repo_dir)


def test_replay_of_a_session_retrained_on_stage_says_its_results_part(tmp_path, repo_dir):
    folder = two_level_project(tmp_path / "proj")
    logdir = tmp_path / "log"
    run, port = logged_run(folder, logdir)
    peer = OscPeer(port)

    def frames(count: int) -> None:
        for _ in range(count):
            peer.send("/wek/inputs", 0.6, 0.6)
            time.sleep(0.003)

    try:
        frames(30)
        peer.record_and_train(lambda _: peer.send("/wek/inputs", 0.6, 0.6), [2.0])  # "low"
        wait_for(lambda: any(e.kind == "trained" for e in read_events(logdir)), timeout=120)
        peer.send("/wekinator/control/startRunning")
        frames(30)
        time.sleep(0.3)
    finally:
        peer.close()
        stop_run(run)
    out = _replay(logdir, tmp_path / "r.csv", repo_dir)
    assert out.returncode == 0, out.stderr
    assert "the model was retrained 1 time(s) during the session" in out.stderr
    assert "the results before the last retraining are not the live ones" in out.stderr
    # through another project the live results are not the comparison: nothing to say
    other = _replay(logdir, tmp_path / "o.csv", repo_dir, "--project",
                    two_level_project(tmp_path / "other"))
    assert other.returncode == 0 and "retrained" not in other.stderr, other.stderr


def test_replay_of_a_session_never_retrained_says_nothing_of_it(tmp_path, repo_dir):
    folder = two_level_project(tmp_path / "proj")
    logdir = tmp_path / "log"
    run, port = logged_run(folder, logdir)
    peer = OscPeer(port)
    try:
        for _ in range(30):
            peer.send("/wek/inputs", 0.1, 0.1)
            time.sleep(0.003)
        time.sleep(0.3)
    finally:
        peer.close()
        stop_run(run)
    out = _replay(logdir, tmp_path / "r.csv", repo_dir)
    assert out.returncode == 0 and "retrained" not in out.stderr, out.stderr
