"""LSL's streams tell what the outputs sent: `gesturemap run --lsl-out` over loopback.

With a project's ``outputs.reject_below``, a frame sent as class 0 (an empty
/gesturemap/label) gave no marker, so a recording named the likeliest class for frames the
audience heard as none; now an empty marker says that no class was sent from there on. A DTW
project's markers follow its match, and its data stream carries the distances its
/wek/outputs sends."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pylsl
import pytest

from ..rejection_helpers import (
    DTW_GESTURES,
    answer,
    dtw_project,
    dtw_results,
    graded_project,
    input_for,
    play_dtw_gestures,
)
from ..stage_helpers import LoopbackRun
from .test_lsl import _inlet

pytestmark = pytest.mark.serial("jack-lsl")


class _LSLRun(LoopbackRun):
    """`gesturemap run FOLDER --lsl-out` over loopback, its streams under :attr:`name`."""

    def __init__(self, folder: Path) -> None:
        self.name = f"gesturemap-test{time.monotonic_ns()}"
        super().__init__(folder, "--lsl-out", self.name)

    def answer(self, x: float) -> float:
        return answer(self.tx, self.rx, self.osc_port, x)


def _channel_labels(inlet: pylsl.StreamInlet) -> list[str]:
    ch = inlet.info(timeout=10).desc().child("channels").child("channel")
    labels = []
    while not ch.empty():
        labels.append(ch.child_value("label"))
        ch = ch.next_sibling()
    return labels


def _pull(inlet: pylsl.StreamInlet, count: int, timeout: float = 20.0) -> list:
    """At least ``count`` samples of ``inlet`` (all it has by then), waiting up to
    ``timeout`` seconds."""
    got: list = []
    end = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < end:
        chunk, _ = inlet.pull_chunk(timeout=0.5)
        got += chunk
    return got


def test_lsl_markers_follow_the_class_osc_sent(tmp_path):
    project = graded_project(reject_below=0.8)
    project.save(tmp_path / "p")
    model = project.trained
    run = _LSLRun(tmp_path / "p")
    try:
        markers = _inlet(f"{run.name}-markers")
        # "high"'s likelihood: 0.75 and 0.78 are its likeliest, below reject_below
        sent = [run.answer(input_for(model, p)) for p in (0.05, 0.75, 0.9, 0.78, 0.95, 0.1)]
        got = _pull(markers, 6)
    finally:
        run.stop()
    assert sent == [2.0, 0.0, 1.0, 0.0, 1.0, 2.0]  # Wekinator's numbers: "high" is 1
    assert [m[0] for m in got] == ["low", "", "high", "", "high", "low"]


def test_a_dtw_projects_lsl_streams_carry_its_distances_and_matches(tmp_path):
    """A DTW project's data stream carries each gesture's distance (what /wek/outputs
    sends) and its markers the gesture that matches, an empty marker while none does."""
    project = dtw_project()
    project.save(tmp_path / "p")
    model = project.trained
    expected = [r.distances for r in dtw_results(model)]
    run = _LSLRun(tmp_path / "p")
    try:
        markers = _inlet(f"{run.name}-markers")
        run.command("reset")
        assert run.answer(float(DTW_GESTURES[0][0])) > 0  # a distance: the data stream opens
        data = _inlet(run.name)
        channels = _channel_labels(data)
        sent = play_dtw_gestures(run, run.tx, run.rx, "/wek/outputs")
        samples = _pull(data, len(sent))
        samples += _pull(data, len(samples) + 1, timeout=1.0)  # any still on their way
        got = _pull(markers, 3)
    finally:
        run.stop()
    labels = list(model.labels_)
    assert channels == [*(f"likelihood:{c}" for c in labels), *(f"progress:{c}" for c in labels),
                        *(f"distance:{c}" for c in labels)]
    assert len(sent) == len(expected)
    distances = np.array(samples)[-len(expected):, 2 * len(labels):]
    np.testing.assert_array_equal(distances, np.array(expected, dtype=np.float32))
    assert [m[0] for m in got] == ["", "up", ""]  # no match, "up" matched, no match again
