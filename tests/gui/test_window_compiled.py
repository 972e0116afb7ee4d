"""The window's engine on the compiled frame path: its OSC sensor, opened after
start from the project's sensor settings, answers a ``/wek/inputs`` datagram (or the sensor's
own single address) in one compiled call, and the window sees what it saw on the ordinary
path: the plot's rings, the take, the log; a take played back still mutes the live sensor.

Real parts: loopback UDP in and out, the engine's own threads, a session log on disk. Each
scenario runs twice, ``GESTUREMAP_COMPILED`` on and off, and the two must agree byte for byte.
"""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.gui.session import WindowEngine
from gesturemap.log import read_log
from gesturemap.project import Project
from tests.stage_helpers import free_port

from ..live.test_engine_compiled import _msg, _refused, _script
from ..live.test_engine_lean import _received, _same, _same_logs, _wait_frame

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def dataset(reference_dir):
    return gm.Dataset.from_xmm(reference_dir / "data" / "trainingset_unimodal.xmm.json")


@pytest.fixture(scope="module")
def folder(dataset, tmp_path_factory):
    project = Project("window-compiled", model={"kind": "hhmm", "params": {"states": 4}},
                      outputs={"extras": True})  # the bundle too, byte for byte
    for rec in dataset:
        project.add_take(rec.inputs, rec.label)
    project.train()
    path = tmp_path_factory.mktemp("window-compiled") / "proj"
    project.save(path)
    return path




def _until(condition, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.005)
    return False


def _osc(address=None, profile="wekinator"):
    settings = {"transport": "osc", "profile": profile, "port": free_port()}
    if address:
        settings["address"] = address
    return settings


def _start(folder, sensor, log_dir, monkeypatch, compiled):
    """(reply socket, a WindowEngine whose OSC sensor is ``sensor``, a sending socket), once
    the sensor listens and, with the compiled path on, once its kernel is ready."""
    monkeypatch.setenv("GESTUREMAP_COMPILED", "1" if compiled else "0")
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    rx.bind(("127.0.0.1", 0))
    project = Project.load(folder)
    project.sensor = sensor
    engine = WindowEngine(project, osc_in=None, osc_out=("127.0.0.1", rx.getsockname()[1]),
                          trainer="thread", log_dir=log_dir).start()
    _listening(engine, sensor, compiled)
    return rx, engine, socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def _listening(engine, sensor, compiled, takes=True):
    """Wait until the sensor ``sensor`` listens (and, with ``takes``, has the compiled path)."""
    assert _until(lambda: any(s.port == sensor["port"] for s in engine._sensor_sources))
    src = engine._sensor_sources[0]
    if compiled and takes:
        assert _until(lambda: src.compiled is not None
                      and engine._wire_address == next(iter(src.addresses))), \
            engine.stats()["compiled"]
    return src


def _sensor_run(folder, frames, swap_to, log_dir, monkeypatch, compiled, label):
    """The frames over UDP to the sensor one at a time (a take from a sixth to a quarter, a
    /gesturemap/reset at a third, a model swap at two thirds, refused datagrams, bundles and
    "h" tags now and then): the replies, last_result, stats, the take, the two rings."""
    sensor = _osc()
    rx, engine, tx = _start(folder, sensor, log_dir, monkeypatch, compiled)
    target = ("127.0.0.1", sensor["port"])
    n = len(frames)
    try:
        _script(engine, tx, target, frames, swap_to, label)
        last = engine.last_result
        stats = engine.stats()
        rings = [r.latest() for r in (engine.ring, engine.feature_ring)]
    finally:
        engine.stop()
        tx.close()
    take = engine.project.takes[-1]
    assert take.label == label and len(take.inputs) == n // 4 - n // 6
    return _received(rx), last, stats, take.inputs, rings


def test_the_window_engine_answers_its_sensor_compiled_as_the_ordinary_path_does(
        dataset, folder, tmp_path, monkeypatch):
    frames = np.concatenate([rec.inputs for rec in dataset][:4])[:360]
    n = len(frames)
    other = gm.HHMM(states=3).fit(dataset)  # swapped in at two thirds
    label = dataset.labels[0]
    c_out, c_last, c_stats, c_take, c_rings = _sensor_run(folder, frames, other,
                                                          tmp_path / "l1", monkeypatch, True,
                                                          label)
    p_out, p_last, p_stats, p_take, p_rings = _sensor_run(folder, frames, other,
                                                          tmp_path / "l2", monkeypatch, False,
                                                          label)
    assert len(p_out) == 2 * n and c_out == p_out  # byte for byte, in order
    assert np.array_equal(c_take, p_take)
    _same(c_last, p_last)
    assert len(c_last.likelihoods) == len(other.labels_)
    for key in ("frames_in", "frames_out", "bad_packets", "bad_frames", "errors", "resets"):
        assert c_stats[key] == p_stats[key], key
    assert c_stats["bad_packets"] == len(_refused(frames[0])) * len(range(7, n, 25))
    # the rings hold every frame, the same values; their times are each run's own clock,
    # those the log wrote for the same frames
    for (_, cv), (_, pv) in zip(c_rings, p_rings, strict=True):
        assert cv.shape == (n, frames.shape[1]) and np.array_equal(cv, pv)
    assert np.array_equal(c_rings[0][1], c_rings[1][1])  # no stage: the features are the input
    sent = np.float32(frames).astype(np.float64)
    sent[13::25] = np.trunc(frames[13::25])  # those went as "h" (integers)
    assert np.array_equal(c_rings[0][1], sent)
    for rings, log in ((c_rings, tmp_path / "l1"), (p_rings, tmp_path / "l2")):
        logged = read_log(log)["input"].times
        assert np.array_equal(rings[0][0], logged) and np.array_equal(rings[1][0], logged)
    # the compiled path took most frames; the other run none
    assert c_stats["compiled"] == "ready" and p_stats["compiled"] == "off"
    assert p_stats["frames_compiled"] == 0
    assert c_stats["frames_compiled"] >= n // 2
    assert c_stats["frames_compiled"] + c_stats["frames_plain"] == n
    _same_logs(tmp_path / "l1", tmp_path / "l2", n)


def _playback_run(folder, live, monkeypatch, compiled):
    """Live frames, then a take played back (at half speed) while the live sensor sends for
    the first quarter of it, then live frames again: the replies, the ring's values, the
    stats, the frames compiled during the playback, the take's inputs."""
    sensor = _osc()
    rx, engine, tx = _start(folder, sensor, None, monkeypatch, compiled)
    target = ("127.0.0.1", sensor["port"])
    try:
        take = engine.project.takes[0]
        seconds = len(take.inputs) / 100 / 0.5  # 100 frames/s (no times), half speed
        for k, f in enumerate(live[:40]):
            tx.sendto(_msg(f), target)
            _wait_frame(engine, k)
        before = engine.frames_compiled
        engine.command("play_take", take.id, 0.5)
        assert _until(lambda: engine.stats()["playing"] == take.id, 10)
        t0, sent = time.monotonic(), 0
        while time.monotonic() - t0 < seconds / 4:  # the live sensor keeps sending
            tx.sendto(_msg(live[40 + sent % 40]), target)
            sent += 1
            time.sleep(0.004)
        assert engine.stats()["playing"] == take.id  # (all sent while it played)
        assert _until(lambda: engine.stats()["playing"] is None, 30)
        during = engine.frames_compiled - before
        base = engine.frames_out
        for k, f in enumerate(live[80:120]):
            tx.sendto(_msg(f), target)
            _wait_frame(engine, base + k)
        stats = engine.stats()
        _, ring = engine.ring.latest()
    finally:
        engine.stop()
        tx.close()
    assert sent >= 20  # the live sensor sent during the playback
    return _received(rx), ring, stats, during, take.inputs


def test_a_take_played_back_mutes_the_live_sensor_on_the_compiled_path(
        dataset, folder, monkeypatch):
    """While a take plays back, the live sensor's datagrams answer nothing, reach neither ring
    nor the model — as on the ordinary path; before and after, the compiled path takes them."""
    live = np.concatenate([rec.inputs for rec in dataset][2:4])[:120]
    c_out, c_ring, c_stats, c_during, take_frames = _playback_run(folder, live, monkeypatch,
                                                                  True)
    p_out, p_ring, p_stats, _, _ = _playback_run(folder, live, monkeypatch, False)
    expected = np.concatenate([np.float32(live[:40]), take_frames, np.float32(live[80:120])])
    assert np.array_equal(c_ring, expected) and np.array_equal(p_ring, expected)
    n = len(expected)
    assert c_stats["frames_in"] == p_stats["frames_in"] == n
    assert len(c_out) == len(p_out) == 2 * n and c_out == p_out
    assert c_during == 0  # nothing compiled while the take played
    assert c_stats["frames_compiled"] >= 40  # the live frames before and after: most compiled
    assert p_stats["frames_compiled"] == 0


def _reopen_run(folder, frames, monkeypatch, compiled):
    """One engine, its sensor reopened four times with other settings, frames sent to each:
    the replies, and per sensor the frames answered and the frames compiled."""
    sensors = [_osc(), _osc("/myphone/accel"), _osc("/myphone/*/accel"), _osc("/zig/accel"),
               _osc()]
    # /zig/accel with the touchosc profile: 3 values a message, not the project's 6
    sensors[3]["profile"] = "touchosc-accelerometer"
    takes = [True, True, False, False, True]
    rx, engine, tx = _start(folder, sensors[0], None, monkeypatch, compiled)
    phases = []
    try:
        for i, (sensor, compiles) in enumerate(zip(sensors, takes, strict=True)):
            if i == 3:  # another width than the project's: refused as it opens, said why
                engine.command("set_sensor", sensor)
                assert _until(lambda: engine.stats()["sensor_error"] is not None
                              and not engine._sensor_sources, 10)
                assert "sends frames of 3 values" in engine.stats()["sensor_error"]
                phases.append((0, 0, False))
                continue
            if i:
                engine.command("set_sensor", sensor)
                _listening(engine, sensor, compiled, compiles)
            src = engine._sensor_sources[0]
            address = next(iter(src.addresses)).replace("*", "dev1")
            target = ("127.0.0.1", sensor["port"])
            out0, c0 = engine.frames_out, engine.frames_compiled
            chunk = frames[40 * i: 40 * i + 40]
            tx.sendto(_msg(chunk[0], address="/wek/other"), target)  # ignored here
            for k, f in enumerate(chunk):
                tx.sendto(_msg(f, address=address), target)
                _wait_frame(engine, out0 + k)
            phases.append((engine.frames_out - out0, engine.frames_compiled - c0,
                           src.compiled is not None))
        stats = engine.stats()
    finally:
        engine.stop()
        tx.close()
    return _received(rx), phases, stats


def test_a_sensor_reopened_with_other_settings_gets_or_loses_the_compiled_path(
        dataset, folder, monkeypatch):
    """/wek/inputs, then another single address (the wire follows it), a wildcard address
    (the ordinary path), a sensor of another frame size (refused: no path), then
    /wek/inputs again."""
    frames = np.concatenate([rec.inputs for rec in dataset][:4])[:200]
    c_out, c_phases, c_stats = _reopen_run(folder, frames, monkeypatch, True)
    p_out, p_phases, p_stats = _reopen_run(folder, frames, monkeypatch, False)
    assert c_out == p_out and len(p_out) == 2 * 40 * 4
    assert [p[0] for p in c_phases] == [p[0] for p in p_phases] == [40, 40, 40, 0, 40]
    assert [p[1] for p in p_phases] == [0] * 5
    compiled = [p[1] for p in c_phases]
    assert compiled[0] >= 20 and compiled[1] >= 20 and compiled[4] >= 20, compiled
    assert compiled[2] == compiled[3] == 0, compiled
    assert [p[2] for p in c_phases] == [True, True, False, False, True]
    assert c_stats["frames_compiled"] == sum(compiled)
    for key in ("frames_in", "frames_out", "errors", "bad_frames"):
        assert c_stats[key] == p_stats[key], key
