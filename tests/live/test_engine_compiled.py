"""The compiled frame path: a ``/wek/inputs`` datagram through a lean HHMM stream
to the reply bytes in one compiled call. What a client, the log and the window see must be
what the ordinary path gives; whatever the compiled path does not take goes the ordinary way."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

import gesturemap as gm
from gesturemap.data import class_numbers
from gesturemap.live.compiled import CompiledWire
from gesturemap.outputs.osc import OSCOutput
from gesturemap.project import Project

from .swap_trace import trace_swap
from .test_engine_lean import _engine, _received, _same, _same_logs, _wait_frame


@pytest.fixture(scope="module")
def dataset(reference_dir):
    return gm.Dataset.from_xmm(reference_dir / "data" / "trainingset_unimodal.xmm.json")


def _msg(values, tag="f", address="/wek/inputs"):
    b = OscMessageBuilder(address)
    for v in values:
        b.add_arg(int(v) if tag in "ih" else float(v), tag)
    return b.build().dgram


def _bundle(values):
    m = OscMessageBuilder("/wek/inputs")
    for v in values:
        m.add_arg(float(v), "f")
    b = OscBundleBuilder(IMMEDIATELY)
    b.add_content(m.build())
    return b.build().dgram


def _refused(frame):
    """Datagrams the compiled path must leave to the ordinary one (each a bad packet there)."""
    good = _msg(frame)
    nan = frame.copy()
    nan[0] = np.nan
    return [_msg(nan), _msg(frame[:-1]), good[:-4], good + b"\0\0\0\0", _msg(frame * 1e13),
            b"\xff" * 40, b"/wek/inputs\0,f"]


@pytest.mark.parametrize("make", [
    lambda: gm.HHMM(states=4), lambda: gm.HHMM(states=4, deltas=False),
    lambda: gm.GMM(gaussians=2), lambda: gm.GMM(gaussians=2, deltas=False),
    lambda: gm.HHMM(states=4, delta_lag=3), lambda: gm.GMM(gaussians=2, delta_lag=1),
    lambda: gm.HHMM(states=4, decision="following")],
    ids=["hhmm", "hhmm-no-deltas", "gmm", "gmm-no-deltas", "hhmm-lag3", "gmm-lag1",
         "hhmm-following"])
@pytest.mark.parametrize("extras", [False, True], ids=["wekinator", "extras"])
def test_the_compiled_call_encodes_the_bytes_the_lean_path_sends(dataset, make, extras):
    """Without sockets: every frame's datagrams (/wek/outputs, and the bundle of gesturemap's
    own messages where the project asks for them) equal ``send_class_arrays``' for the same
    stream state (tags f, d and i, a reset in the middle), and a datagram the compiled path
    refuses changes nothing."""
    model = make().fit(dataset)
    ref, wired = model.stream(), model.stream()
    out = OSCOutput({"extras": extras})
    sent = []
    out._send = lambda d: sent.append(bytes(d))
    numbers = class_numbers(list(model.labels_))
    wire = CompiledWire.build(wired, out, "/wek/inputs", model.input_dim_, numbers)
    assert wire is not None
    x = np.concatenate([rec.inputs for rec in dataset][:2])[:240]
    # then frames far from every Gaussian (a sensor stuck at a rail): clamped as a whole
    d_in = x.shape[1]
    x = np.concatenate([x, np.full((10, d_in), 1e3), np.full((10, d_in), -1e3)])
    rx = np.zeros(65536, dtype=np.uint8)
    for k, frame in enumerate(x):
        if k == 120:
            ref.reset()
            wired.reset()
        tag = "fdi"[k % 3]
        values = np.round(frame * 10) if tag == "i" else frame
        decoded = np.float32(values).astype(np.float64) if tag == "f" else values.astype(float)
        if k % 10 == 5:  # refused: the stream's state stays as it is
            before = wire.fb.copy(), wire.ib.copy()
            for d in _refused(frame):
                rx[: len(d)] = np.frombuffer(d, np.uint8)
                assert wire.step(rx, len(d)) == -1, d
            assert np.array_equal(before[0], wire.fb) and np.array_equal(before[1], wire.ib)
        i = ref.advance(decoded)
        sent.clear()
        assert out.send_class_arrays(ref.labels[i], i, numbers[i], *ref.views())
        d = _msg(values, tag)
        rx[: len(d)] = np.frombuffer(d, np.uint8)
        assert wire.step(rx, len(d)) == 0
        res = wire.res
        assert int(res[0]) == i
        replies = [bytes(wire.out[: res[1]]), bytes(wire.out[res[1] : res[2]])]
        assert replies[: 1 + extras] == sent, k
        assert extras or res[2] == res[1]  # no bundle when gesturemap's own messages are off
        assert np.array_equal(wire.x, decoded)
        wired._best = i
        _same(wired.current(), ref.current())


def _script(engine, tx, target, frames, swap_to, label):
    """The frames over UDP one at a time to ``target``: a take recorded from a sixth to a
    quarter, a /gesturemap/reset at a third, a model swap at two thirds, datagrams the
    compiled path refuses now and then, and the ordinary path's own kinds of frames (a
    bundle, "h" tags) among the compiled ones."""
    n = len(frames)
    for k, f in enumerate(frames):
        if k == n // 6:  # a take of the frames from n/6 to n/4
            engine.command("start_recording", label)
        if k == n // 4:
            engine.command("stop_recording")
        if k == n // 3:
            tx.sendto(_msg([], address="/gesturemap/reset"), target)
        if k == 2 * n // 3:
            engine.command("swap_model", swap_to)
        if k % 25 == 7:
            for d in _refused(f):
                tx.sendto(d, target)
        d = _bundle(f) if k % 25 == 11 else _msg(f, "h" if k % 25 == 13 else "f")
        tx.sendto(d, target)
        _wait_frame(engine, k)


def _run(folder, frames, swap_to, log_dir, monkeypatch, compiled, label):
    """The frames over UDP one at a time (a take recorded from a sixth to a quarter, a
    /gesturemap/reset at a third, a model swap at two thirds, datagrams the compiled path
    refuses now and then): the replies, last_result, stats, the take's inputs."""
    monkeypatch.setenv("GESTUREMAP_COMPILED", "1" if compiled else "0")
    rx, engine, tx = _engine(folder, log_dir)
    target = ("127.0.0.1", engine.osc_port)
    n = len(frames)
    try:
        _script(engine, tx, target, frames, swap_to, label)
        last = engine.last_result
        stats = engine.stats()
        assert engine.frames_out == n
    finally:
        engine.stop()
        tx.close()
    take = engine.project.takes[-1]
    assert take.label == label and len(take.inputs) == n // 4 - n // 6
    return _received(rx), last, stats, take.inputs


@pytest.mark.parametrize("kind,extras", [("hhmm", True), ("gmm", True), ("hhmm", False)])
def test_the_compiled_path_sends_and_logs_what_the_ordinary_path_does(dataset, tmp_path,
                                                                     monkeypatch, kind, extras):
    params = {"states": 4} if kind == "hhmm" else {"gaussians": 2}
    project = Project("compiled", model={"kind": kind, "params": params},
                      outputs={"extras": extras})
    for rec in dataset:
        project.add_take(rec.inputs, rec.label)
    project.train()
    project.save(tmp_path / "proj")
    # swapped in at two thirds
    other = (gm.HHMM(states=3) if kind == "hhmm" else gm.GMM(gaussians=1)).fit(dataset)
    frames = np.concatenate([rec.inputs for rec in dataset][:4])[:360]
    label = dataset.labels[0]
    c_out, c_last, c_stats, c_take = _run(tmp_path / "proj", frames, other, tmp_path / "l1",
                                          monkeypatch, True, label)
    p_out, p_last, p_stats, p_take = _run(tmp_path / "proj", frames, other, tmp_path / "l2",
                                          monkeypatch, False, label)
    assert np.array_equal(c_take, p_take)  # the take recorded the same frames
    # /wek/outputs (and the bundle of gesturemap's own messages, when on), every frame
    assert len(p_out) == (1 + extras) * len(frames)
    assert c_out == p_out  # byte for byte, in the same order
    _same(c_last, p_last)
    assert len(c_last.likelihoods) == len(other.labels_)  # the swapped model answered last
    for key in ("frames_in", "frames_out", "bad_packets", "bad_frames", "errors", "resets"):
        assert c_stats[key] == p_stats[key], key
    refused = len(_refused(frames[0]))
    assert c_stats["bad_packets"] == refused * len(range(7, len(frames), 25))
    # the compiled path took most frames (not the refused ones, nor bundles and "h" tags,
    # nor those that came while the engine thread held the frame path); the other, none
    assert p_stats["frames_compiled"] == 0
    assert p_stats["frames_plain"] == len(frames)
    assert c_stats["frames_compiled"] >= len(frames) // 2
    assert c_stats["frames_compiled"] + c_stats["frames_plain"] == len(frames)
    _same_logs(tmp_path / "l1", tmp_path / "l2", len(frames))


def test_a_stream_the_compiled_path_does_not_cover_gets_no_wire(dataset, reference_dir):
    out = OSCOutput({})
    numbers = class_numbers(list(dataset.labels))
    d = dataset.input_dim
    assert CompiledWire.build(gm.KNN(k=1).fit(dataset).stream(), out, "/wek/inputs",
                              d, numbers) is None
    bimodal = gm.Dataset.from_xmm(reference_dir / "data" / "trainingset_bimodal.xmm.json")
    assert CompiledWire.build(gm.HHMM(states=4).fit(bimodal).stream(), out, "/wek/inputs",
                              bimodal.input_dim, numbers) is None  # a regression
    hhmm = gm.HHMM(states=4).fit(dataset)
    assert CompiledWire.build(hhmm.stream(), out, "/wek/inputs", d + 1, numbers) is None
    assert CompiledWire.build(hhmm.stream(), out, "/wek/*", d, numbers) is None
    assert CompiledWire.build(hhmm.stream(), out, "/wek/inputs", d, numbers) is not None


def _hhmm_project(dataset, folder):
    project = Project("compiled", model={"kind": "hhmm", "params": {"states": 4}})
    for rec in dataset:
        project.add_take(rec.inputs, rec.label)
    project.train()
    project.save(folder)


@pytest.mark.parametrize("outcome", ["ready", "failed"])
def test_start_never_waits_for_the_kernel(dataset, tmp_path, monkeypatch, outcome):
    """The kernel compiles on a thread of its own (about 30 s on a machine that never ran
    it): ``start`` returns at once, every frame meanwhile is answered by the ordinary path,
    and the compiled path takes over once it is ready; a kernel that does not compile leaves
    the ordinary path answering and says so in ``stats()``."""
    from gesturemap.live import replies as engine_wire

    gate, began = threading.Event(), threading.Event()

    def slow_warm():  # stands in for numba compiling: held until the test lets it go
        began.set()
        assert gate.wait(30)
        if outcome == "failed":
            raise RuntimeError("no compiler")
        real_warm()

    real_warm = engine_wire.warm_kernel
    monkeypatch.setattr(engine_wire, "warm_kernel", slow_warm)
    monkeypatch.setenv("GESTUREMAP_COMPILED", "1")
    _hhmm_project(dataset, tmp_path / "proj")
    t0 = time.monotonic()
    rx, engine, tx = _engine(tmp_path / "proj", None)
    target = ("127.0.0.1", engine.osc_port)
    frames = np.concatenate([rec.inputs for rec in dataset][:2])[:120]
    try:
        assert time.monotonic() - t0 < 20  # start did not wait for the gate (30 s)
        assert began.wait(10)
        assert engine.stats()["compiled"] == "compiling"
        for k, f in enumerate(frames[:60]):
            tx.sendto(_msg(f), target)
            _wait_frame(engine, k)
        assert engine.frames_out == 60
        assert engine.stats()["frames_compiled"] == 0  # all answered while compiling
        gate.set()
        deadline = time.monotonic() + 60
        while engine.stats()["compiled"] == "compiling" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert engine.stats()["compiled"] == outcome
        for k, f in enumerate(frames[60:], 60):
            tx.sendto(_msg(f), target)
            _wait_frame(engine, k)
        stats = engine.stats()
    finally:
        gate.set()
        engine.stop()
        tx.close()
    assert stats["frames_out"] == len(frames)
    assert len(_received(rx)) == len(frames)  # every frame answered: /wek/outputs alone
    if outcome == "ready":
        assert stats["frames_compiled"] >= 30  # the compiled path took over
    else:
        assert stats["frames_compiled"] == 0 and stats["errors"] == 0


def test_an_engine_without_the_compiled_path_says_so(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("GESTUREMAP_COMPILED", "0")
    _hhmm_project(dataset, tmp_path / "proj")
    rx, engine, tx = _engine(tmp_path / "proj", None)
    try:
        assert engine.stats()["compiled"] == "off"
    finally:
        engine.stop()
        tx.close()
        rx.close()


def _sensor_engine(folder, address, monkeypatch, compiled):
    """An Engine reading a sensor built from settings (as ``gesturemap run`` opens a project's
    OSC sensor: a source factory, no ``osc_in``), on ``address``."""
    from gesturemap.live.engine import Engine
    from gesturemap.sources.settings import build_sensor_source

    monkeypatch.setenv("GESTUREMAP_COMPILED", "1" if compiled else "0")
    project = Project.load(folder)
    settings = {"transport": "osc", "profile": "wekinator", "port": 0, "address": address}

    def factory(queue, on_control):
        return build_sensor_source(settings, queue, on_control, input_dim=project.input_dim)

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    engine = Engine(project, osc_in=None, osc_out=("127.0.0.1", rx.getsockname()[1]),
                    sources=[factory], trainer="thread").start()
    return rx, engine, socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


@pytest.mark.parametrize("address", ["/myphone/accel", "/myphone/*/accel"])
def test_a_sensor_source_on_its_own_address_takes_the_compiled_path(dataset, tmp_path,
                                                                   monkeypatch, address):
    """The compiled path answers the sensor's own single address (the wire follows it), with
    the ordinary path's bytes; a wildcard address keeps the ordinary path."""
    _hhmm_project(dataset, tmp_path / "proj")
    frames = np.concatenate([rec.inputs for rec in dataset][:2])[:120]
    runs = []
    for compiled in (True, False):
        rx, engine, tx = _sensor_engine(tmp_path / "proj", address, monkeypatch, compiled)
        src = engine.sources[0]
        target = ("127.0.0.1", src.port)
        try:
            deadline = time.monotonic() + 60
            while (compiled and "*" not in address and src.compiled is None
                   and time.monotonic() < deadline):
                time.sleep(0.01)
            for k, f in enumerate(frames):
                tx.sendto(_msg(f, address=address.replace("*", "dev1")), target)
                tx.sendto(_msg(f), target)  # /wek/inputs: not this sensor's, ignored
                _wait_frame(engine, k)
            stats = engine.stats()
        finally:
            engine.stop()
            tx.close()
        runs.append((_received(rx), stats))
    (c_out, c_stats), (p_out, p_stats) = runs
    assert len(p_out) == len(frames) and c_out == p_out  # /wek/outputs alone
    assert c_stats["frames_out"] == p_stats["frames_out"] == len(frames)
    assert p_stats["frames_compiled"] == 0
    if "*" in address:
        assert c_stats["frames_compiled"] == 0 and c_stats["compiled"] == "off"
    else:
        assert c_stats["frames_compiled"] >= len(frames) // 2, c_stats["frames_compiled"]


@pytest.mark.parametrize("trainer", ["process", "thread"])
def test_a_retrained_model_is_swapped_in_with_no_stream_built_between_two_frames(
        dataset, tmp_path, monkeypatch, trainer):
    """A retrain's model comes with its stream made and packed for the compiled path on the
    trainer's side (``ready_stream``): the swap between two frames only installs it. Built
    there, the stream and its packing (every array allocated and copied) held the frame
    after the swap about a millisecond, 2 ms with the thread trainer."""
    from gesturemap.live.engine import Engine
    from gesturemap.models.hhmm import HHMMStream

    monkeypatch.setenv("GESTUREMAP_COMPILED", "1")
    during_swap = trace_swap(monkeypatch, "_cmd__trained")
    _hhmm_project(dataset, tmp_path / "proj")
    rx, engine, tx = _engine(tmp_path / "proj", None)
    engine.stop()  # (the helper's engine trains with a thread: one of each kind here)
    engine = Engine(Project.load(tmp_path / "proj"), osc_in=("127.0.0.1", 0),
                    osc_out=("127.0.0.1", rx.getsockname()[1]), trainer=trainer).start()
    target = ("127.0.0.1", engine.osc_port)
    frames = np.concatenate([rec.inputs for rec in dataset][:2])[:40]
    try:
        before = engine.stream
        engine.command("train")
        deadline = time.monotonic() + 60
        while engine.trainings == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert engine.trainings == 1
        for k, f in enumerate(frames):
            tx.sendto(_msg(f), target)
            _wait_frame(engine, k)
        stats = engine.stats()
        stream, wire = engine.stream, engine._wire
    finally:
        engine.stop()
        tx.close()
        rx.close()
    assert stream is not before and isinstance(stream, HHMMStream)
    assert wire is not None and wire.stream is stream  # the compiled path follows the new one
    assert during_swap == []  # nothing built or packed while the frames waited
    assert stats["frames_out"] == len(frames) and stats["errors"] == 0
