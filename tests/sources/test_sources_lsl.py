"""An LSL stream as the sensor: a real outlet and inlet on this machine (pylsl's liblsl)."""

from __future__ import annotations

import time

import numpy as np
import pylsl
import pytest

from gesturemap.errors import GesturemapError
from gesturemap.sources import FrameQueue
from gesturemap.sources.lsl import LSLSource, list_streams

from ..stage_helpers import osc_labels, osc_receiver, start_run, stop_run, two_level_project

# JACK servers and LSL streams are machine-wide: the tests that start them run one at a time
# (two JACK servers starting at once can fail)
pytestmark = pytest.mark.serial("jack-lsl")


def _outlet(name: str, n: int = 3, labels=None):  # noqa: ANN001, ANN202
    info = pylsl.StreamInfo(name, "Mocap", n, 100, "float32", f"{name}-id")
    if labels:
        ch = info.desc().append_child("channels")
        for label in labels:
            ch.append_child("channel").append_child_value("label", label)
    return pylsl.StreamOutlet(info)


def test_an_lsl_stream_becomes_frames(tmp_path):
    name = f"gm-test-mocap-{time.monotonic_ns()}"
    outlet = _outlet(name, labels=["hand_x", "hand_y", "hand_z"])
    queue = FrameQueue(64)
    src = LSLSource(queue, name).start()
    try:
        assert src.channel_names == ("hand_x", "hand_y", "hand_z")
        assert any(s["name"] == name and s["channels"] == 3 for s in list_streams(1.0))
        deadline = time.monotonic() + 5
        sent = 0
        while src.stats.frames_in < 20 and time.monotonic() < deadline:
            outlet.push_sample([sent, 2.0 * sent, -1.5])
            sent += 1
            time.sleep(0.01)
    finally:
        src.stop()
    frames = []
    while (f := queue.get(timeout=0.01)) is not None:
        frames.append(f.values)
    got = np.array(frames)
    assert len(got) >= 20
    k = got[0, 0]  # samples before the inlet connected are not replayed: count from there
    np.testing.assert_array_equal(got[:, 0], k + np.arange(len(got)))
    np.testing.assert_array_equal(got[:, 1], 2.0 * got[:, 0])
    assert (got[:, 2] == -1.5).all()


def test_the_samples_of_one_chunk_keep_their_own_times():
    """The samples of one pulled chunk all got the pull's time: a pipeline that uses time
    (OneEuro, Derivative) refused all but the first of them."""
    name = f"gm-test-chunk-{time.monotonic_ns()}"
    outlet = _outlet(name, n=2)
    queue = FrameQueue(256)
    src = LSLSource(queue, name).start()
    try:
        deadline = time.monotonic() + 5
        while not outlet.have_consumers() and time.monotonic() < deadline:
            time.sleep(0.005)
        stamp = pylsl.local_clock()
        outlet.push_chunk([[float(i), 0.0] for i in range(20)],
                          [stamp + i / 100 for i in range(20)])
        deadline = time.monotonic() + 5
        while src.stats.frames_in < 20 and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        src.stop()
    frames = queue.drain()
    assert [f.values[0] for f in frames] == list(range(20))
    np.testing.assert_allclose(np.diff([f.t for f in frames]), 0.01, atol=1e-6)


def test_a_missing_stream_says_which_there_are():
    name = f"gm-test-other-{time.monotonic_ns()}"
    outlet = _outlet(name)
    with pytest.raises(GesturemapError, match=name):
        LSLSource(FrameQueue(4), "no-such-stream").start()
    del outlet


def test_run_with_an_lsl_sensor_answers_over_osc(tmp_path):
    """`gesturemap run --lsl-in`: LSL in gives an answer (the model's label over OSC)."""
    folder = two_level_project(tmp_path / "p")
    name = f"gm-test-sensor-{time.monotonic_ns()}"
    outlet = _outlet(name, n=2)
    rx = osc_receiver()
    proc, line = start_run(
        folder,
        "--lsl-in",
        name,
        "--osc-in",
        "127.0.0.1:0",
        "--osc-out",
        f"127.0.0.1:{rx.getsockname()[1]}",
    )
    labels = []
    try:
        assert f"LSL stream {name!r}" in line, line
        time.sleep(0.5)
        for level in [0.9] * 30 + [0.1] * 30:
            outlet.push_sample([level, level])
            time.sleep(0.005)
        labels = osc_labels(rx, 60)
    finally:
        stop_run(proc)
        rx.close()
    assert proc.returncode == 0
    assert "high" in labels[:30] and labels[-1] == "low", labels
