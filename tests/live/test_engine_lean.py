"""The lean frame path: a classifier's stream steps without building a Result, the
engine sends its reply from the stream's own arrays and builds the Result only when someone
reads it. Everything a client or the log sees must be what the plain path gives."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

import gesturemap as gm
from gesturemap.live.engine import Engine
from gesturemap.log import read_labels, read_log
from gesturemap.project import Project

RESULT_FIELDS = ("label", "label_index", "likelihoods", "log_likelihoods", "instant_likelihoods",
                 "instant_normalized_likelihoods", "progress", "likeliest_state",
                 "exit_likelihoods", "exit_ratios", "output", "output_covariance",
                 "class_outputs", "class_output_covariances")


def _same(a, b):
    for name in RESULT_FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            assert np.array_equal(x, y), name
        else:
            assert x == y, name


@pytest.fixture(scope="module")
def dataset(reference_dir):
    return gm.Dataset.from_xmm(reference_dir / "data" / "trainingset_unimodal.xmm.json")


@pytest.mark.parametrize("make", [lambda: gm.HHMM(states=4), lambda: gm.GMM(gaussians=2),
                                  lambda: gm.KNN(k=3)], ids=["hhmm", "gmm", "knn"])
def test_advance_then_current_is_step_at_every_frame(dataset, make):
    model = make().fit(dataset)
    x = np.concatenate([rec.inputs for rec in dataset][:3])
    plain, lean = model.stream(), model.stream()
    assert lean.lean and lean.current() is None
    for k, frame in enumerate(x):
        if k == len(x) // 2:  # a gesture starts: both reset
            plain.reset()
            lean.reset()
            assert lean.current() is None  # nothing since the reset
        r = plain.step(frame)
        i = lean.advance(frame)
        assert i == r.label_index
        likelihoods, progress = lean.views()
        assert np.array_equal(likelihoods, r.likelihoods)
        assert (progress is None and r.progress is None) or np.array_equal(progress, r.progress)
        _same(lean.current(), r)


def test_a_regression_stream_is_not_lean(reference_dir):
    ds = gm.Dataset.from_xmm(reference_dir / "data" / "trainingset_bimodal.xmm.json")
    assert not gm.HHMM(states=4).fit(ds).stream().lean


def _msg(values):
    b = OscMessageBuilder("/wek/inputs")
    for v in values:
        b.add_arg(float(v), "f")
    return b.build().dgram


def _engine(folder, log_dir):
    """(the reply socket, an engine on the project answering to it, a sending socket)."""
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    rx.bind(("127.0.0.1", 0))
    engine = Engine(Project.load(folder), osc_in=("127.0.0.1", 0),
                    osc_out=("127.0.0.1", rx.getsockname()[1]), trainer="thread",
                    log_dir=log_dir).start()
    return rx, engine, socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def _same_logs(a, b, n):
    """The two session logs' input and likelihood rows (``n`` each) and labels are equal."""
    logs = [read_log(d) for d in (a, b)]
    for name in ("likelihoods", "input"):
        assert len(logs[0][name].values) == n
        assert np.array_equal(logs[0][name].values, logs[1][name].values), name
    labels = [read_labels(d)[1] for d in (a, b)]
    assert labels[0] == labels[1] and len(labels[0]) > 0


def _wait_frame(engine, k):
    deadline = time.monotonic() + 10  # one at a time: every frame on the frame path
    while engine.frames_out <= k and time.monotonic() < deadline:
        time.sleep(0.0005)


def _received(rx):
    """The datagrams waiting on ``rx``, in order (the socket is closed)."""
    rx.setblocking(False)
    got = []
    try:
        while True:
            got.append(rx.recv(65536))
    except BlockingIOError:
        pass
    rx.close()
    return got


def _run(folder, frames, lean, log_dir):
    rx, engine, tx = _engine(folder, log_dir)
    built = [0]
    try:
        stream = engine.stream
        assert stream.lean
        stream.lean = lean
        current = stream.current

        def counted():
            built[0] += 1
            return current()

        stream.current = counted
        for k, f in enumerate(frames):
            tx.sendto(_msg(f), ("127.0.0.1", engine.osc_port))
            _wait_frame(engine, k)
        last = engine.last_result
        assert engine.frames_out == len(frames)
    finally:
        engine.stop()
        tx.close()
    return _received(rx), last, built[0]


@pytest.mark.parametrize("model", [{"kind": "hhmm", "params": {"states": 4}},
                                   {"kind": "gmm", "params": {"gaussians": 2}}],
                         ids=["hhmm", "gmm"])
@pytest.mark.parametrize("extras", [True, False], ids=["extras", "wekinator"])
def test_the_lean_path_sends_and_logs_what_the_plain_path_does(dataset, tmp_path, model,
                                                               extras):
    """Also what the Results read when the compiled path has moved the stream's arrays into
    its own buffers (the HHMM's lie one after another there, the GMM's do not)."""
    project = Project("lean", model=model, outputs={"extras": extras})
    for rec in dataset:
        project.add_take(rec.inputs, rec.label)
    project.train()
    project.save(tmp_path / "proj")
    frames = np.concatenate([rec.inputs for rec in dataset][:2])[:200]
    lean_out, lean_last, lean_built = _run(tmp_path / "proj", frames, True, tmp_path / "l1")
    plain_out, plain_last, plain_built = _run(tmp_path / "proj", frames, False, tmp_path / "l2")
    # /wek/outputs (and the bundle of gesturemap's own messages, when on), every frame
    assert len(plain_out) == (1 + extras) * len(frames)
    assert lean_out == plain_out  # byte for byte, in the same order
    _same(lean_last, plain_last)
    # the plain path builds a Result every frame; the lean one only when read (the window's
    # snapshot at 30 Hz, last_result above): far fewer
    assert plain_built >= len(frames)
    assert lean_built <= len(frames) // 4
    _same_logs(tmp_path / "l1", tmp_path / "l2", len(frames))


def test_the_synth_takes_a_lean_stream_s_arrays_as_it_takes_results(dataset):
    """The engine feeds the synth from the stream's arrays on the lean path: its targets and
    one-shot triggers after every frame are those :meth:`Synth.update` gives for the Result."""
    from gesturemap.synth import Synth, SynthMapping

    model = gm.HHMM(states=4).fit(dataset)
    names = list(model.labels_)
    mapping = SynthMapping.default()
    mapping.oneshots.update({str(names[0]): "wood", str(names[1]): "bell"})
    # no minimum interval between one-shots: both synths decide on the likelihoods alone (with
    # one, microseconds between their clocks could put a frame on either side of it)
    mapping.onset_min_interval_ms = 0.0
    plain_synth, lean_synth = Synth(mapping), Synth(mapping)
    plain, lean = model.stream(), model.stream()
    x = np.concatenate([rec.inputs for rec in dataset][:3])
    for frame in x:
        plain_synth.update(plain.step(frame), names)
        i = lean.advance(frame)
        lik, progress = lean.views()
        lean_synth.update_arrays(i, lik, progress, names)
        assert np.array_equal(lean_synth._targets, plain_synth._targets)
        assert np.array_equal(lean_synth._trig, plain_synth._trig)
    assert plain_synth._trig.sum() > 0  # one-shots fired along the way
    assert lean_synth.update_errors == plain_synth.update_errors == 0
