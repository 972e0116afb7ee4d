"""`gesturemap replay` of a session in which the rejection threshold (``reject_below``) was
changed while it played: the log records each threshold with the frame it took effect, and
the replay sets it there, so its labels are the ones the outputs sent, frame for frame."""

from __future__ import annotations

import csv
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from gesturemap.live.replay import replay_log
from gesturemap.log import read_events, read_labels, read_log
from gesturemap.project import Project
from gesturemap.sources.base import Frame, Source
from tests.stage_helpers import osc_message, wait_for

pytestmark = pytest.mark.timeout(300)

#: Inputs between the two classes: the likeliest class's likelihood runs from about 0.6 to
#: 0.99, so each threshold below rejects other frames.
LEVELS = np.linspace(0.46, 0.56, 12)


def _project(folder):  # noqa: ANN001, ANN202
    """Two classes, deciding frame by frame (XMM's window of one frame), no threshold."""
    project = Project(classes=["a", "b"])
    rng = np.random.default_rng(0)
    for label, level in (("a", 0.1), ("b", 0.9)):
        for _ in range(3):
            project.add_take(level + 0.15 * rng.standard_normal((40, 2)), label)
    project.model = {"kind": "gmm", "params": {"gaussians": 1, "deltas": False,
                                               "decision": "window", "likelihood_window": 1}}
    project.train()
    project.save(folder)
    return folder


def _replayed_labels(path) -> list:  # noqa: ANN001
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    return [row[1] or None for row in rows]


def test_replay_sets_the_thresholds_the_session_set_where_it_set_them(tmp_path, repo_dir):
    """The window's slider set reject_below to 0.95 mid-session, then its Outputs tab to 0.8.
    Nothing of it was logged: the replay labelled every frame by the project's saved 0.8,
    so the frames sent before the slider moved (no threshold: every one a class) came back
    rejected where their likeliest class was below 0.8."""
    from gesturemap.gui.session import WindowEngine

    folder = _project(tmp_path / "proj")
    logdir = tmp_path / "log"
    engine = WindowEngine(Project.load(folder), project_dir=folder, log_dir=logdir,
                          osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", 9),
                          trainer="thread").start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        def frames(total: int) -> None:
            for i in range(48):
                v = float(LEVELS[i % len(LEVELS)])
                tx.sendto(osc_message("/wek/inputs", v, v), ("127.0.0.1", engine.osc_port))
            wait_for(lambda: engine.frames_out == total, 60)

        frames(48)
        engine.command("set_reject_below", 0.95)  # the monitor's slider
        frames(96)
        engine.command("set_output_settings", {**engine.project.outputs, "reject_below": 0.8})
        frames(144)  # the Outputs tab's Apply
        assert engine.stats()["errors"] == 0
    finally:
        tx.close()
        engine.stop()
    assert Project.load(folder).outputs["reject_below"] == 0.8  # what a replay read alone
    thresholds = [(e.data["value"], e.data["frame"]) for e in read_events(logdir)
                  if e.kind == "reject_below"]
    assert thresholds == [(0.0, 0), (0.95, 48), (0.8, 96)]
    live = read_labels(logdir)[1]
    assert len(live) == 144
    rejected = [sum(label is None for label in live[i:i + 48]) for i in (0, 48, 96)]
    assert rejected[0] == 0 and rejected[1] > rejected[2] > 0  # each threshold told apart
    out = subprocess.run([sys.executable, "-m", "gesturemap.cli", "replay", str(logdir),
                          "--out", str(tmp_path / "r.csv")],
                         capture_output=True, text=True, timeout=300, cwd=repo_dir)
    assert out.returncode == 0, out.stderr
    assert _replayed_labels(tmp_path / "r.csv") == live
    # through another project, its own threshold decides every frame, as its model does
    other = Project.load(folder)
    other.outputs = {**other.outputs, "reject_below": 0.9}
    other.save(tmp_path / "other")
    replay_log(logdir, tmp_path / "other", out=tmp_path / "o.csv")
    likelihoods = read_log(logdir, ["likelihoods"])["likelihoods"].values
    assert _replayed_labels(tmp_path / "o.csv") == [
        None if lk.max() < 0.9 else "ab"[int(lk.argmax())] for lk in likelihoods]


class _Streaming(Source):
    """A sensor streaming already as the engine starts: its first frames come as it opens
    (a serial port's buffered lines), before the engine has finished starting."""

    def _open(self) -> None:
        for _ in range(6):
            self.queue.put(Frame(time.perf_counter(), np.array([0.5, 0.5]), self.name))

    def _step(self) -> None:
        self._stopping.wait(0.05)


def _streaming_session(tmp_path):  # noqa: ANN001, ANN202
    """A session of 6 frames sent as class a, then the threshold set to 0.95 (saved with the
    project): the project's folder and the log's."""
    from gesturemap.gui.session import WindowEngine

    folder = _project(tmp_path / "proj")
    logdir = tmp_path / "log"
    engine = WindowEngine(Project.load(folder), project_dir=folder, log_dir=logdir,
                          osc_in=None, sources=[lambda q, _: _Streaming(q, name="s")],
                          trainer="thread").start()
    try:
        wait_for(lambda: engine.frames_out == 6, 60)
        engine.command("set_reject_below", 0.95)
        wait_for(lambda: (engine.project.outputs or {}).get("reject_below") == 0.95, 60)
    finally:
        engine.stop()
    return folder, logdir


def test_the_threshold_is_logged_before_a_sensor_streaming_at_start(tmp_path):
    """Frames that came while the engine started were logged before the threshold they
    were sent by: the replay labelled them by the project's saved threshold, set later in
    the session (0.95), and rejected frames the outputs had sent as class a."""
    folder, logdir = _streaming_session(tmp_path)
    assert [(e.data["value"], e.data["frame"]) for e in read_events(logdir)
            if e.kind == "reject_below"] == [(0.0, 0), (0.95, 6)]
    live = read_labels(logdir)[1]
    assert live == ["a"] * 6
    replay_log(logdir, folder, out=tmp_path / "r.csv")
    assert _replayed_labels(tmp_path / "r.csv") == live


def test_a_replay_through_the_project_moved_since_sets_the_session_thresholds(tmp_path,
                                                                            repo_dir):
    """The project's folder was moved after the session (to another disk, renamed), and the
    session replayed with ``--project`` naming it where it is now. It was taken for another
    project: its saved threshold (0.95) labelled every frame, and the 6 frames the outputs
    had sent as class a came back rejected. The log names the project by its id too, which
    the move keeps."""
    folder, logdir = _streaming_session(tmp_path)
    moved = tmp_path / "elsewhere" / "renamed"
    moved.parent.mkdir()
    folder.rename(moved)
    out = subprocess.run([sys.executable, "-m", "gesturemap.cli", "replay", str(logdir),
                          "--project", str(moved), "--out", str(tmp_path / "r.csv")],
                         capture_output=True, text=True, timeout=300, cwd=repo_dir)
    assert out.returncode == 0, out.stderr
    assert _replayed_labels(tmp_path / "r.csv") == read_labels(logdir)[1] == ["a"] * 6
