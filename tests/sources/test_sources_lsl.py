"""An LSL stream as the sensor: a real outlet and inlet on this machine (pylsl's liblsl)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pylsl
import pytest

from gesturemap.errors import GesturemapError
from gesturemap.sources import FrameQueue
from gesturemap.sources.lsl import RESOLVE_TIMEOUT_S, LSLSource, list_streams

from ..stage_helpers import (
    osc_labels,
    osc_receiver,
    rest_of,
    start_run,
    stop_run,
    two_level_project,
)

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


def _one_chunk(tag: str, change=None):  # noqa: ANN001, ANN202
    """Push 20 samples 10 ms apart as one chunk (``change`` edits their stamps) into an
    LSLSource; the frames it made and its stats."""
    name = f"gm-test-{tag}-{time.monotonic_ns()}"
    outlet = _outlet(name, n=2)
    queue = FrameQueue(256)
    src = LSLSource(queue, name).start()
    try:
        deadline = time.monotonic() + 5
        while not outlet.have_consumers() and time.monotonic() < deadline:
            time.sleep(0.005)
        stamp = pylsl.local_clock()
        stamps = [stamp + i / 100 for i in range(20)]
        if change is not None:
            change(stamps, stamp)
        outlet.push_chunk([[float(i), 0.0] for i in range(20)], stamps)
        deadline = time.monotonic() + 5
        while src.stats.frames_in < 20 and time.monotonic() < deadline:
            time.sleep(0.005)
        snap = src.stats.snapshot()
    finally:
        src.stop()
    return queue.drain(), snap


def test_the_samples_of_one_chunk_keep_their_own_times():
    """The samples of one pulled chunk all got the pull's time: a pipeline that uses time
    (OneEuro, Derivative) refused all but the first of them."""
    frames, _ = _one_chunk("chunk")
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


def test_ctrl_c_while_run_looks_for_its_stream_ends_it_at_once(tmp_path):
    """Ctrl-C while `gesturemap run --lsl-in` looks for a stream that is not there: the run
    ends within a fraction of the 5-s look, as interrupted (130), and leaves no log."""
    folder = two_level_project(tmp_path / "p")
    name = f"gm-test-absent-{time.monotonic_ns()}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gesturemap.cli", "run", str(folder), "--no-audio",
         "--lsl-in", name, "--osc-in", "127.0.0.1:0", "--log", str(tmp_path / "logs"),
         "--log-level", "info"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        said = []
        for line in proc.stderr:  # (ends at the process's end, if it never says it looks)
            said.append(line)
            if "looking for LSL stream" in line:
                break
        assert proc.poll() is None, f"ended by itself ({proc.returncode}): {''.join(said)}"
        # a second into the look, not at its first instant: the signal then comes while the
        # look waits (a wait inside liblsl held it until the 5 s were over)
        time.sleep(1.0)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = rest_of(proc)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "gesturemap run: interrupted" in err and "not found" not in err, err
    assert took < RESOLVE_TIMEOUT_S - 2.0, took  # the look had 4 s left
    assert not (tmp_path / "logs").exists() or not any((tmp_path / "logs").iterdir())


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_sigterm_or_sighup_while_run_looks_for_its_stream_ends_it_at_once(tmp_path, sig,
                                                                          request):
    """A service manager's SIGTERM, or the terminal's SIGHUP, while `gesturemap run --lsl-in`
    looks for a stream that is not there: the run ends within a fraction of the look, with
    0 as a run these signals stop, and leaves no log (before, the look went on to its end
    and the run failed with "not found" and 2)."""
    if not hasattr(signal, sig):
        pytest.skip(f"no {sig} here")
    folder = two_level_project(tmp_path / "p")
    logs = tmp_path / "logs"
    run = subprocess.Popen(
        [sys.executable, "-m", "gesturemap.cli", "run", str(folder), "--no-audio", "--lsl-in",
         f"gm-test-gone-{time.monotonic_ns()}", "--osc-in", "127.0.0.1:0", "--log", str(logs),
         "--log-level", "info"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    request.addfinalizer(lambda: run.poll() is not None or (run.kill(), run.wait()))
    said = ""
    while "looking for LSL stream" not in said:
        line = run.stderr.readline()
        assert line, f"ended before it looked ({run.poll()}): {said}"
        said += line
    time.sleep(1.0)  # inside the look, which has 4 s left
    t0 = time.monotonic()
    run.send_signal(getattr(signal, sig))
    rest = rest_of(run)[1]
    elapsed = time.monotonic() - t0
    assert run.returncode == 0, rest
    assert f"stopped ({sig}) before it started" in rest and "not found" not in rest, rest
    assert elapsed < RESOLVE_TIMEOUT_S - 2.0, elapsed
    assert not logs.exists() or not any(logs.iterdir())


def _wait(condition, timeout: float = 15.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def _push_until(outlet, src, value: float, count: int, n: int = 3) -> None:  # noqa: ANN001
    """Push ``value`` samples until ``src`` counted ``count`` frames (generous: a loaded
    machine)."""
    deadline = time.monotonic() + 15
    while src.stats.frames_in < count and time.monotonic() < deadline:
        outlet.push_sample([value] * n)
        time.sleep(0.005)


@pytest.mark.parametrize("source_id", ["new", ""])
def test_a_stream_that_comes_back_is_read_again(source_id):
    """The sending app restarted (same name; a new uid, a new or no source id): the source
    stayed silent for good (new source id: liblsl's recovery looks for the old one) or counted
    an error every 10 ms (no source id: nothing to recover), with no outage in the stats."""
    name = f"gm-test-back-{time.monotonic_ns()}"
    outlet = pylsl.StreamOutlet(pylsl.StreamInfo(name, "Mocap", 3, 100, "float32", f"{name}-a"))
    queue = FrameQueue(4096)
    src = LSLSource(queue, name).start()
    try:
        _push_until(outlet, src, 1.0, 10)
        assert src.stats.frames_in >= 10
        del outlet  # the app quit
        assert _wait(lambda: src.stats.away_since is not None), "the outage was not noticed"
        assert not src.stats.connected
        sid = f"{name}-b" if source_id else ""
        outlet = pylsl.StreamOutlet(pylsl.StreamInfo(name, "Mocap", 3, 50, "float32", sid))
        before = src.stats.frames_in
        _push_until(outlet, src, 2.0, before + 10)
    finally:
        src.stop()
    values = [f.values[0] for f in queue.drain()]
    assert values.count(2.0) >= 10, "the stream that came back was not read"
    stats = src.stats
    assert stats.reconnects == 1 and stats.errors == 0
    assert len(stats.outages) == 1 and stats.away_since is None
    assert stats.outages[0][1] > stats.outages[0][0]


def test_a_stream_back_with_other_channels_is_not_read():
    """Back with 5 channels where the project reads 3: its samples would not fit (said, the
    outage goes on); a 3-channel one of the same name beside it is read."""
    name = f"gm-test-unfit-{time.monotonic_ns()}"
    outlet = _outlet(name)
    queue = FrameQueue(4096)
    src = LSLSource(queue, name).start()
    try:
        _push_until(outlet, src, 1.0, 10)
        del outlet
        assert _wait(lambda: src.stats.away_since is not None)
        wide = pylsl.StreamOutlet(pylsl.StreamInfo(name, "Mocap", 5, 100, "float32", "wide"))
        before = src.stats.frames_in
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            wide.push_sample([5.0] * 5)
            time.sleep(0.01)
        assert src.stats.frames_in == before and src.stats.away_since is not None
        assert src.stats.bad_packets == 0  # not read at all
        narrow = pylsl.StreamOutlet(pylsl.StreamInfo(name, "Mocap", 3, 100, "float32", ""))
        _push_until(narrow, src, 3.0, before + 10)
    finally:
        src.stop()
    values = [f.values for f in queue.drain()]
    assert {len(v) for v in values} == {3}
    assert sum(v[0] == 3.0 for v in values) >= 10
    assert src.stats.reconnects == 1 and src.stats.errors == 0


def test_a_burst_of_ten_thousand_samples_is_not_lost_inside_lsl():
    """An app that flushes a backlog of 10,000 samples at once (100 Hz): the inlet's buffer
    held 10 s of it (1,000 samples) and liblsl dropped the other 9,000 without a word."""
    name = f"gm-test-burst-{time.monotonic_ns()}"
    outlet = _outlet(name, n=2)
    queue = FrameQueue(16384)
    src = LSLSource(queue, name).start()
    try:
        assert _wait(outlet.have_consumers)
        stamp = pylsl.local_clock()
        burst = np.column_stack([np.arange(10000), np.zeros(10000)]).astype(np.float32)
        outlet.push_chunk(burst, [stamp - (10000 - i) / 100 for i in range(10000)])
        assert _wait(lambda: src.stats.frames_in >= 10000, timeout=30)
    finally:
        src.stop()
    got = [f.values[0] for f in queue.drain()]
    assert got == list(range(10000))
    assert src.stats.dropped_frames == 0 and src.stats.bad_packets == 0


def test_a_stream_with_other_channels_than_the_project_is_refused_at_start():
    """A 5-channel stream for a project that reads 2: `gesturemap run` said it listened, then
    refused every frame (counted in the stats only, nothing said, no answer ever)."""
    from gesturemap.sources.settings import build_sensor_source

    name = f"gm-test-wide-{time.monotonic_ns()}"
    outlet = _outlet(name, n=5)
    src = build_sensor_source({"transport": "lsl", "stream": name}, FrameQueue(4), input_dim=2)
    with pytest.raises(GesturemapError, match="has 5 channels; the project reads 2"):
        src.start()
    src.stop()
    del outlet


def test_of_two_streams_with_one_name_the_one_that_fits_is_read():
    name = f"gm-test-twins-{time.monotonic_ns()}"
    wide = _outlet(name, n=5)
    narrow = pylsl.StreamOutlet(pylsl.StreamInfo(name, "Mocap", 2, 100, "float32", "narrow"))
    _wait(lambda: len(pylsl.resolve_byprop("name", name, minimum=2, timeout=0.5)) == 2)
    queue = FrameQueue(256)
    src = LSLSource(queue, name, size=2).start()
    try:
        _push_until(narrow, src, 4.0, 10, n=2)
        wide.push_sample([5.0] * 5)
    finally:
        src.stop()
    assert src.stats.frames_in >= 10 and src.stats.bad_packets == 0
    assert all(f.values.tolist() == [4.0, 4.0] for f in queue.drain())


def test_stamps_no_clock_shows_are_counted_in_the_stats(caplog):
    """An outlet that stamps a sample with no time (NaN) or one far ahead (a wrong clock):
    its frame is timed on arrival, and the stats say how often (before, the frames were
    timed so, and nothing said it)."""

    def spoil(stamps, stamp):  # noqa: ANN001, ANN202
        stamps[5], stamps[12] = float("nan"), stamp + 100.0

    frames, snap = _one_chunk("stamps", spoil)
    assert [f.values[0] for f in frames] == list(range(20))
    assert np.all(np.diff([f.t for f in frames]) > 0)
    assert snap["clock_glitches"] == 2 and snap["clock_resyncs"] == 0, snap
    assert "stamp(s) no clock shows" in caplog.text
