"""The engine in-process: replay gives identical outputs, bad input never stops it, swaps are
between frames."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

import gesturemap as gm
from gesturemap.features import OneEuro, Pipeline
from gesturemap.live.engine import Engine
from gesturemap.live.replay import replay_log
from gesturemap.log import read_log
from gesturemap.project import Project


def _msg(address, *values, tag=None):
    b = OscMessageBuilder(address)
    for v in values:
        b.add_arg(v, tag)
    return b.build().dgram


@pytest.fixture(scope="module")
def trained_project(reference_dir, tmp_path_factory):
    ds = gm.Dataset.from_xmm(reference_dir / "data" / "trainingset_unimodal.xmm.json")
    project = Project("engine-test", model={"kind": "hhmm", "params": {"states": 8}},
                      pipeline=Pipeline([OneEuro(min_cutoff=2.0, beta=0.1)], rate_hz=100.0))
    for rec in ds:
        project.add_take(rec.inputs, rec.label)
    project.train()
    folder = tmp_path_factory.mktemp("proj")
    project.save(folder)
    return folder


def _engine(folder, tmp_path, **kw):
    project = Project.load(folder)
    return Engine(project, osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", 9),
                  trainer="thread", **kw)


def test_logged_session_replays_to_identical_outputs(trained_project, reference_dir, tmp_path):
    x = np.load(reference_dir / "data" / "X_test.npy").astype(np.float64)[:300]
    logdir = tmp_path / "log"
    engine = _engine(trained_project, tmp_path, log_dir=logdir).start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for frame in x:
            tx.sendto(_msg("/wek/inputs", *map(float, frame)), ("127.0.0.1", engine.osc_port))
            time.sleep(0.001)
        deadline = time.monotonic() + 10
        while engine.frames_out < len(x) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        engine.stop()
        tx.close()
    assert engine.frames_out == len(x)
    logged = read_log(logdir)
    t_in, inputs, _ = logged["input"]
    np.testing.assert_array_equal(inputs, x.astype(np.float32).astype(np.float64))
    # the features the model saw are logged too (raw input, features, outputs...)
    project = Project.load(trained_project)
    _, feats, names = logged["features"]
    assert list(names) == list(project.pipeline.output_names(6, project.input_names))
    expected = project.pipeline.transform_sequence(inputs, t_in, project.input_names)
    np.testing.assert_allclose(feats, expected, rtol=1e-12, atol=1e-12)
    _, lik, columns = logged["likelihoods"]
    out = tmp_path / "replayed.csv"
    assert replay_log(logdir, trained_project, out=out) == len(x)
    replayed = np.loadtxt(out, delimiter=",", skiprows=1, usecols=range(2, 2 + len(columns)))
    np.testing.assert_array_equal(replayed, lik)


def test_bad_packets_never_stop_the_engine(trained_project, reference_dir, tmp_path):
    rng = np.random.default_rng(3)
    x = np.load(reference_dir / "data" / "X_test.npy").astype(np.float64)
    engine = _engine(trained_project, tmp_path).start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bad = [b"", b"\x00", b"/wek/inputs\x00", _msg("/wek/inputs", 1.0, 2.0),
           _msg("/wek/inputs", *(["x"] * 6)), _msg("/wek/inputs", *([float("nan")] * 6)),
           _msg("/wek/inputs", *([float("inf")] * 6)), _msg("/wek/inputs", *([1e300] * 6), tag="d"),
           b"#bundle\x00" + b"\x00" * 8 + b"\x00\x00\x00\xff"]
    good = 0
    try:
        for i in range(3000):
            if i % 10 == 0:
                tx.sendto(_msg("/wek/inputs", *map(float, x[good % len(x)])),
                          ("127.0.0.1", engine.osc_port))
                good += 1
            elif i % 10 == 5:
                tx.sendto(rng.bytes(int(rng.integers(1, 200))), ("127.0.0.1", engine.osc_port))
            else:
                tx.sendto(bad[i % len(bad)], ("127.0.0.1", engine.osc_port))
            if i % 50 == 0:
                time.sleep(0.002)
        deadline = time.monotonic() + 10
        while engine.frames_out < good and time.monotonic() < deadline:
            time.sleep(0.01)
        stats = engine.stats()
    finally:
        engine.stop()
        tx.close()
    assert stats["frames_out"] == good == 300
    assert stats["bad_packets"] >= 2400
    assert stats["errors"] == 0
    assert all(t.name != "gesturemap-engine" or not t.is_alive() for t in engine._threads)


def test_swap_happens_between_frames(trained_project, reference_dir, tmp_path):
    x = np.load(reference_dir / "data" / "X_test.npy").astype(np.float64)
    engine = _engine(trained_project, tmp_path).start()
    other = gm.GMM(2).fit(gm.Dataset.from_xmm(reference_dir / "data" /
                                              "trainingset_unimodal.xmm.json"))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i, frame in enumerate(x[:200]):
            if i == 100:
                engine.command("swap_model", other)
            tx.sendto(_msg("/wek/inputs", *map(float, frame)), ("127.0.0.1", engine.osc_port))
            time.sleep(0.001)
        deadline = time.monotonic() + 10
        while engine.frames_out < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        engine.stop()
        tx.close()
    assert engine.frames_out == 200 and engine.errors == 0
    assert engine.model is other and engine.last_result.progress is None


def test_regression_mapping_by_demonstration(tmp_path):
    """Wekinator's way: hold target values while moving, train, then the outputs follow."""
    from gesturemap.sources.base import Frame

    project = Project("regression", model={"kind": "gmm", "params": {"gaussians": 2}},
                      output_names=["pitch", "brightness"])
    engine = Engine(project, osc_in=None, trainer="thread").start()
    rng = np.random.default_rng(0)
    t = [0.0]

    def feed(center, n=80):
        for _ in range(n):
            t[0] += 0.005
            engine.queue.put(Frame(t[0], center + rng.normal(0, 0.05, 2), "test"))
        time.sleep(0.2)

    try:
        for center, targets in (((0.0, 0.0), (0.2, 0.9)), ((1.0, 1.0), (0.8, 0.1))):
            engine.command("set_outputs", *targets)
            engine.command("start_recording")
            feed(np.array(center))
            engine.command("stop_recording")
        engine.done_training.clear()
        assert engine.stats()["take_to_model_ms"] is None
        engine.command("train")
        assert engine.done_training.wait(30)
        engine.command("start_running")
        feed(np.array([1.0, 1.0]), 20)
        r = engine.last_result
        stats = engine.stats()
    finally:
        engine.stop()
    # the performer's wait: from the end of the take to the new model's first answer, which
    # includes the whole training
    assert stats["take_to_model_ms"] >= stats["last_train_ms"] > 0
    assert [tk.outputs.shape for tk in project.takes] == [(80, 2), (80, 2)]
    assert r is not None and r.output is not None
    np.testing.assert_allclose(r.output, [0.8, 0.1], atol=0.05)


def test_training_progress_is_reported_while_training(reference_dir):
    """The window shows how far a long training is: (fraction, message) while it runs."""
    ds = gm.Dataset.from_xmm(reference_dir / "data" / "trainingset_unimodal.xmm.json")
    project = Project("progress", model={"kind": "hhmm", "params": {
        "states": 10, "em_min_iterations": 400, "em_max_iterations": 400}})
    for rec in ds:
        project.add_take(rec.inputs, rec.label)
    engine = Engine(project, osc_in=None, trainer="thread").start()
    seen = []
    try:
        assert engine.training_progress is None
        engine.command("train")
        deadline = time.monotonic() + 120
        while not engine.done_training.is_set() and time.monotonic() < deadline:
            if engine.training_progress is not None:
                seen.append(engine.training_progress)
            time.sleep(0.005)
        assert engine.done_training.is_set()
    finally:
        engine.stop()
    fractions = [f for f, _ in seen]
    assert any(0 < f < 1 for f in fractions) and fractions == sorted(fractions)
    assert any("class" in m for _, m in seen)
    assert engine.training_progress is None


def test_a_take_stopped_while_frames_wait_keeps_them_and_nothing_after():
    """Commands take effect in the order they came among the frames: a take stopped while the
    engine thread was busy (a loaded machine) keeps the frames that arrived before the stop —
    it used to apply the stop first and lose them, or the whole take — and none after it."""
    from gesturemap.sources.base import Frame

    # a kNN trains on takes of any length (an HHMM's states would refuse these short ones)
    project = Project("order", classes=["a"], model="knn")
    engine = Engine(project, osc_in=None, trainer="thread").start()
    try:
        engine.queue.put(Frame(time.perf_counter(), np.zeros(3), "test"))  # learns 3 inputs
        deadline = time.monotonic() + 10
        while engine.frames_in < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        with engine._frame_lock:  # the engine thread is busy: everything below waits in line
            engine.command("start_recording", "a")
            for k in range(5):
                engine.queue.put(Frame(time.perf_counter(), np.full(3, k + 1.0), "test"))
            engine.command("stop_recording")
            for _ in range(4):
                engine.queue.put(Frame(time.perf_counter(), np.full(3, -1.0), "test"))
            engine.command("start_recording", "a")
            engine.queue.put(Frame(time.perf_counter(), np.full(3, 9.0), "test"))
            engine.command("stop_recording")
            assert engine.frames_in == 1 and not project.takes
        deadline = time.monotonic() + 10
        while len(project.takes) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        engine.stop()
    assert engine.frames_in == 11
    assert [t.inputs[:, 0].tolist() for t in project.takes] == [[1, 2, 3, 4, 5], [9]]


def test_frames_of_another_width_than_the_project_are_said_not_only_counted(caplog):
    """A sensor whose frames have another number of values than the project's inputs (a
    profile of another device, a second source) had every frame dropped in silence."""
    import logging

    from gesturemap.sources.base import Frame

    project = Project("width", classes=["a"], model="knn")
    project.input_dim = 2
    engine = Engine(project, osc_in=None, trainer="thread").start()
    try:
        with caplog.at_level(logging.WARNING, logger="gesturemap"):
            for _ in range(50):
                engine.queue.put(Frame(time.perf_counter(), np.zeros(6), "test"))
            deadline = time.monotonic() + 10
            while engine.frames_in < 50 and time.monotonic() < deadline:
                time.sleep(0.005)
    finally:
        engine.stop()
    assert engine.bad_frames == 50
    said = [r.getMessage() for r in caplog.records if "refused a frame of 6 values" in
            r.getMessage()]
    assert len(said) == 1 and "the project takes 2 inputs" in said[0], said  # once, not 50
