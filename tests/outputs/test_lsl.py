"""LSL out over a real outlet and inlet on this machine: `gesturemap run --lsl-out` publishes
likelihoods and labels for OSC frames in, so LabRecorder can record them."""

from __future__ import annotations

import socket
import time

import numpy as np
import pylsl
import pytest

from gesturemap.outputs.lsl import LSLOutput, stream_name

from ..project.test_presets import _osc_message
from ..stage_helpers import start_run, stop_run, two_level_project

# JACK servers and LSL streams are machine-wide: the tests that start them run one at a time
# (two JACK servers starting at once can fail)
pytestmark = pytest.mark.serial("jack-lsl")


def test_stream_names_start_with_gesturemap():
    assert stream_name(None) == "gesturemap"
    assert stream_name("gesturemap-lab2") == "gesturemap-lab2"
    assert stream_name("lab2") == "gesturemap-lab2"


def _inlet(name: str) -> pylsl.StreamInlet:
    found = pylsl.resolve_byprop("name", name, timeout=10)
    assert found, f"no LSL stream {name!r}"
    inlet = pylsl.StreamInlet(found[0])
    inlet.open_stream(timeout=5)
    return inlet


def test_run_publishes_likelihoods_and_markers(tmp_path):
    folder = two_level_project(tmp_path / "p")
    suffix = f"test{time.monotonic_ns()}"
    proc, line = start_run(
        folder, "--osc-in", "127.0.0.1:0", "--osc-out", "127.0.0.1:9", "--lsl-out", suffix
    )
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    name = f"gesturemap-{suffix}"
    try:
        assert f"LSL streams {name!r}" in line, line
        port = int(line.split("listening on 127.0.0.1:")[1].split()[0])
        markers = _inlet(f"{name}-markers")
        tx.sendto(_osc_message("/wek/inputs", [0.9, 0.9]), ("127.0.0.1", port))  # opens it
        data = _inlet(name)
        info = data.info(timeout=5)
        ch = info.desc().child("channels").child("channel")
        labels = []
        while not ch.empty():
            labels.append(ch.child_value("label"))
            ch = ch.next_sibling()
        assert labels == ["likelihood:high", "likelihood:low"]
        time.sleep(0.3)
        for level in [0.9] * 20 + [0.1] * 20:
            tx.sendto(_osc_message("/wek/inputs", [level, level]), ("127.0.0.1", port))
            time.sleep(0.005)
        time.sleep(0.5)
        samples, _ = data.pull_chunk(timeout=2.0)
        marks, _ = markers.pull_chunk(timeout=2.0)
    finally:
        stop_run(proc)
        tx.close()
    assert proc.returncode == 0
    got = np.array(samples)
    assert got.shape[1] == 2 and len(got) >= 30
    assert got[-1, 1] > 0.9 and got[-25, 0] > 0.9  # "low" at the end, "high" before
    assert [m[0] for m in marks][-2:] == ["high", "low"]


def _opened(out: LSLOutput) -> None:
    """Wait until the outlet of the frames' layout has opened (on its own thread): waiting
    for the frame path, or taken by it already."""
    deadline = time.monotonic() + 10
    while out._opened.empty() and (out._held is not None or out._outlet is None):
        assert time.monotonic() < deadline, "the outlet never opened"
        time.sleep(0.005)


def test_layout_change_opens_a_new_stream():
    out = LSLOutput(f"layout-test{time.monotonic_ns()}").start()

    class R:
        def __init__(self, n):  # noqa: ANN001
            self.likelihoods = np.ones(n) / n
            self.progress = None
            self.output = None
            self.label_index = 0
            self.event = None

    out.update(R(2), ["a", "b"])
    _opened(out)
    out.update(R(2), ["a", "b"])
    first = out._outlet
    out.update(R(3), ["a", "b", "c"])  # a class added by a retrain
    _opened(out)
    out.update(R(3), ["a", "b", "c"])
    assert out._outlet is not first and out.stats()["lsl_samples"] == 4
    assert out.stats()["lsl_send_errors"] == 0 and out.stats()["lsl_dropped"] == 0
    out.stop()


def test_a_new_layouts_outlet_opens_off_the_frame_path_and_keeps_the_frames_meanwhile(
        monkeypatch):
    """A class renamed or added (a retrain, a scene recalled) changes the channels: the new
    outlet was opened inside update(), on the frame path, which waited on liblsl (1 to 17 ms
    measured). It opens on a thread of its own now, and the frames answered meanwhile reach
    the new stream afterwards, each with the time it was answered."""
    import threading

    frame_path = threading.current_thread()
    opened_on = []
    slow = threading.Event()  # liblsl taking its time to open the new layout's outlet

    class Outlet(pylsl.StreamOutlet):
        def __init__(self, info, *args, **kwargs) -> None:  # noqa: ANN001
            opened_on.append((info.channel_count(), threading.current_thread()))
            if info.channel_count() == 3 and threading.current_thread() is not frame_path:
                assert slow.wait(30)
            super().__init__(info, *args, **kwargs)

    def stream(channels: int) -> pylsl.StreamInfo:
        found = pylsl.resolve_bypred(f"name='gesturemap-{name}' and channel_count="
                                     f"{channels}", timeout=10)
        assert found, f"no stream of {channels} channels"
        return found[0]

    monkeypatch.setattr(pylsl, "StreamOutlet", Outlet)
    name = f"opening{time.monotonic_ns()}"
    out = LSLOutput(name).start()
    try:
        out.update(_Answer(0), ["a", "b"])
        stream(2)
        # the stream is found as liblsl publishes it, before its outlet is handed over (to
        # the queue, or already taken by that first update when the opener was quicker)
        deadline = time.monotonic() + 10
        while out._opened.empty() and out._outlet is None:
            assert time.monotonic() < deadline, "the outlet was never handed over"
            time.sleep(0.005)
        out.update(_Answer(1), ["a", "b"])
        stamps = []
        for _ in range(3):  # the class renamed: three frames before its outlet opened
            out.update(_Three(), ["a", "b", "c"])
            stamps.append(pylsl.local_clock())
        deadline = time.monotonic() + 10
        while not any(n == 3 for n, _ in opened_on):  # the new layout's outlet opening
            assert time.monotonic() < deadline, opened_on
            time.sleep(0.005)
        data = [(n, t) for n, t in opened_on if n in (2, 3)]
        assert [n for n, _ in data] == [2, 3]
        assert all(t is not frame_path for _, t in data), data
        assert out.stats()["lsl_samples"] == 2  # held, not pushed yet
        slow.set()
        inlet = pylsl.StreamInlet(stream(3))
        inlet.open_stream(timeout=5)
        time.sleep(0.2)  # (the inlet's connection settles: LSL gives no signal for it)
        out.update(_Three(), ["a", "b", "c"])  # the held frames, then this one
        samples, times = [], []
        deadline = time.monotonic() + 10
        while len(samples) < 4 and time.monotonic() < deadline:
            chunk, at = inlet.pull_chunk(timeout=0.5)
            samples += chunk
            times += at
        assert len(samples) == 4 and np.allclose(samples, [[0.2, 0.3, 0.5]] * 4)
        assert times[0] <= stamps[0] and times[2] <= stamps[2] < times[3]
        stats = out.stats()
        assert stats["lsl_samples"] == 6 and stats["lsl_dropped"] == 0
        assert stats["lsl_send_errors"] == 0
    finally:
        out.stop()


def test_the_outlet_a_layout_change_replaces_is_released_off_the_frame_path(monkeypatch):
    """A class added by a retrain opens a new data stream; releasing the old outlet waits on
    liblsl (25 ms measured), and it was done inside update(), on the frame path. It is now
    released on a thread of its own."""
    import threading

    released = []

    class Outlet(pylsl.StreamOutlet):
        def __del__(self) -> None:
            released.append(threading.current_thread())
            super().__del__()

    monkeypatch.setattr(pylsl, "StreamOutlet", Outlet)
    out = LSLOutput(f"release{time.monotonic_ns()}").start()
    try:
        out.update(_Answer(0), ["a", "b"])
        _opened(out)
        out.update(_Answer(1), ["a", "b"])
        assert released == []
        out.update(_Three(), ["a", "b", "c"])  # a class added by a retrain
        deadline = time.monotonic() + 10
        while not released and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(released) == 1 and released[0] is not threading.current_thread(), released
        assert out.stats()["lsl_send_errors"] == 0 and out.stats()["lsl_samples"] >= 2
    finally:
        out.stop()


class _Three:
    likelihoods = np.array([0.2, 0.3, 0.5])
    progress = None
    output = None
    label_index = 2
    event = None


class _Answer:
    def __init__(self, i: int) -> None:
        self.likelihoods = np.array([i % 2, 1 - i % 2], dtype=float)
        self.progress = None
        self.output = None
        self.label_index = i % 2
        self.event = None


def test_a_stopped_output_started_again_publishes_again():
    """stop() then start(): the layout kept from before made every later frame push into no
    outlet (counted as send errors, the data stream gone for good)."""
    out = LSLOutput(f"restart{time.monotonic_ns()}").start()
    for i in range(5):
        out.update(_Answer(i), ["a", "b"])
    out.stop()
    out.start()
    try:
        out.update(_Answer(0), ["a", "b"])  # opens the data stream again
        data = _inlet(out.name)
        deadline = time.monotonic() + 10
        got = []
        i = 0
        while len(got) < 5 and time.monotonic() < deadline:
            out.update(_Answer(i), ["a", "b"])
            i += 1
            samples, _ = data.pull_chunk(timeout=0.05)
            got += samples
    finally:
        out.stop()
    assert out.stats()["lsl_send_errors"] == 0
    assert len(got) >= 5 and all(len(s) == 2 for s in got)


def test_a_second_output_of_the_same_name_says_so(caplog):
    """Two outlets of one name (and one source id: a copy of the project run beside it) were
    published without a word, and a recorder took either for the other."""
    name = f"clash{time.monotonic_ns()}"
    first = LSLOutput(name, source_id="p1").start()
    time.sleep(1.5)  # its own look is over: only the second one's finds another
    with caplog.at_level("WARNING", logger="gesturemap.outputs.lsl"):
        second = LSLOutput(name, source_id="p1").start()
        try:
            deadline = time.monotonic() + 10
            while not any("another stream" in r.getMessage() for r in caplog.records):
                assert time.monotonic() < deadline, "the clash was never said"
                time.sleep(0.05)
        finally:
            second.stop()
            first.stop()
    said = [r.getMessage() for r in caplog.records if "another stream" in r.getMessage()]
    assert len(said) == 1 and f"gesturemap-{name}" in said[0] and "same source id" in said[0]


def test_a_lone_output_says_nothing_of_a_clash(caplog):
    with caplog.at_level("WARNING", logger="gesturemap.outputs.lsl"):
        out = LSLOutput(f"alone{time.monotonic_ns()}").start()
        time.sleep(1.5)  # its look is over
        out.stop()
    assert not [r for r in caplog.records if "another stream" in r.getMessage()]
