"""`gesturemap replay` of a session whose model was retrained on stage: the models retrained
before the last are not in the log, so the replay plays the project's model (the last one
trained) before the last retraining too, and says so (the results before it are not the live
ones); from the last retraining on it plays what the session played."""

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


def _retrained_session(folder, logdir, level: float, scene: str | None = None) -> None:  # noqa: ANN001
    """A logged `gesturemap run` of ``folder``: frames at ``level``, ``scene`` recalled (when
    given), a take of class 2 ("low") recorded Wekinator's way and trained, then running
    again, more frames."""
    from ..stage_helpers import osc_message

    run, port = logged_run(folder, logdir)
    peer = OscPeer(port)

    def frames(count: int) -> None:
        for _ in range(count):
            peer.send("/wek/inputs", level, level)
            time.sleep(0.003)

    try:
        peer.send("/wekinator/control/startRunning")
        frames(20)
        if scene is not None:
            peer.tx.sendto(osc_message("/gesturemap/scene", scene), ("127.0.0.1", port))
            wait_for(lambda: any(e.kind == "scene" for e in read_events(logdir)), timeout=60)
            frames(20)
        peer.record_and_train(lambda _: peer.send("/wek/inputs", level, level), [2.0])
        wait_for(lambda: any(e.kind == "trained" for e in read_events(logdir)), timeout=120)
        peer.send("/wekinator/control/startRunning")
        frames(40)
        time.sleep(0.3)
    finally:
        peer.close()
        stop_run(run)


def test_replay_of_a_session_retrained_on_stage_says_its_results_part(tmp_path, repo_dir):
    folder = two_level_project(tmp_path / "proj")
    logdir = tmp_path / "log"
    _retrained_session(folder, logdir, 0.6)
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


def test_a_retraining_while_a_scene_plays_is_replayed_from_its_frame(tmp_path, repo_dir):
    """Retrained while a scene plays, the session plays the retrained model (the project's
    own, saved with it) from the retraining on; the replay swaps it in at the same frame,
    so from there its labels are the live ones, not the scene's."""
    import csv

    from ..stage_helpers import project_with_scenes

    folder = project_with_scenes(tmp_path / "proj")  # "swapped": its classes the other way
    logdir = tmp_path / "log"
    _retrained_session(folder, logdir, 0.1, scene="swapped")
    out = _replay(logdir, tmp_path / "r.csv", repo_dir)
    assert out.returncode == 0, out.stderr

    def labels(path) -> list[str]:  # noqa: ANN001
        with open(path, newline="") as f:
            return [row["label"] for row in csv.DictReader(f)]

    live, replayed = labels(logdir / "labels.csv"), labels(tmp_path / "r.csv")
    trained = next(e for e in read_events(logdir) if e.kind == "trained")
    with open(logdir / "labels.csv", newline="") as f:
        after = sum(float(row["t"]) < trained.t for row in csv.DictReader(f))
    assert live[after:].count("low") >= 30  # the retrained model, the project's mapping
    assert replayed[after:] == live[after:]
    swapped = next(e for e in read_events(logdir) if e.kind == "scene").data["frame"]
    assert "high" in live[swapped:after]  # the scene played until then, in the replay too
    assert replayed[swapped:after] == live[swapped:after]
    # the retraining names the first frame its model answered, as a recall does (no frame
    # was on its way meanwhile: recording had stopped running)
    assert trained.data["frame"] == after
