"""One model per output with its own inputs (Wekinator's mapping), through the model API, a
saved file, a project and the engine's OSC outputs."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import FormatError, GesturemapError
from gesturemap.live.engine import Engine
from gesturemap.project import Project


def _data(seed=0, takes=4, length=60):
    """Three inputs; outputs: 'pitch' = 2 a + 1 (a regression of input a alone) and 'cls',
    a class number that is 1 in the first half of each take and 2 in the second, told apart
    by input c only. Labels 'up' / 'down' are told apart by input b's sign."""
    rng = np.random.default_rng(seed)
    ds = gm.Dataset(["a", "b", "c"], ["pitch", "cls"])
    for label, sign in (("up", 1.0), ("down", -1.0)):
        for _ in range(takes):
            a = rng.uniform(-1, 1, length)
            b = sign * (1.5 + 0.3 * rng.standard_normal(length))
            half = np.arange(length) < length // 2
            c = np.where(half, -2.0, 2.0) + 0.3 * rng.standard_normal(length)
            x = np.c_[a, b, c]
            y = np.c_[2 * a + 1, np.where(half, 1, 2)]
            ds.add(x, label=label, outputs=y)
    return ds


SPECS = [
    {"kind": "knn", "params": {"k": 3}, "inputs": ["b"], "target": "label"},
    {"kind": "linear", "inputs": ["a"], "target": "pitch"},
    {"kind": "tree", "inputs": [2], "target": "cls", "type": "classifier", "name": "part"},
]


def test_each_output_is_its_own_model_on_its_own_inputs():
    train, test = _data(0), _data(1)
    model = gm.PerOutput(SPECS).fit(train)
    assert model.labels_ == ["down", "up"] and model.output_dim_ == 3
    assert model.output_names_ == ["label", "pitch", "part"]
    # the same models fitted alone on the selected columns give the same values
    knn = gm.KNN(k=3).fit(_select(train, [1], None))
    linear = gm.Linear().fit(_select(train, [0], 0))
    s, s_knn, s_lin = model.stream(), knn.stream(), linear.stream()
    rec = test[0]
    for frame in rec.inputs[:20]:
        r, rk, rl = s.step(frame), s_knn.step(frame[[1]]), s_lin.step(frame[[0]])
        assert r.label == rk.label
        np.testing.assert_array_equal(r.likelihoods, rk.likelihoods)
        assert r.output[0] == knn.labels_.index(rk.label) + 1  # Wekinator's class number
        assert r.output[1] == rl.output[0]
    # and they learned what they should: pitch = 2a + 1, the part from input c, the label from b
    outputs = np.concatenate([model.predict_outputs(r.inputs) for r in test])
    targets = np.concatenate([r.outputs for r in test])
    np.testing.assert_allclose(outputs[:, 1], targets[:, 0], atol=1e-9)
    assert np.mean(outputs[:, 2] == targets[:, 1]) > 0.95
    assert model.predict([r.inputs for r in test]) == [r.label for r in test]


def _select(ds, cols, target):
    out = gm.Dataset()
    for r in ds:
        out.add(r.inputs[:, cols], label=r.label,
                outputs=None if target is None else r.outputs[:, [target]])
    return out


def test_saved_and_loaded_gives_the_same_outputs(tmp_path):
    train, test = _data(0), _data(2)
    model = gm.PerOutput(SPECS).fit(train)
    path = model.save(tmp_path / "m.json")
    back = gm.load(path)
    assert isinstance(back, gm.PerOutput) and back.labels_ == model.labels_
    a, b = model.stream(), back.stream()
    for frame in np.concatenate([r.inputs for r in test])[:100]:
        np.testing.assert_array_equal(a.step(frame).output, b.step(frame).output)
    # a tampered file: an output's model swapped for another kind
    import json

    meta = json.loads(path.read_text())
    meta["params"]["outputs"][1]["kind"] = "knn"
    path.write_text(json.dumps(meta))
    with pytest.raises(FormatError):
        gm.load(path)


def test_an_output_whose_model_ignores_channels_predicts_as_it_runs_and_reloads(tmp_path):
    """An output's model with ignore_channels drops them from the output's columns in the
    batch decision as in its stream (predict gave it every column: wrong labels), and its
    saved file loads (its columns were compared with its kept channels: "damaged")."""
    train, test = _data(0), _data(1)
    spec = {"kind": "gmm", "params": {"gaussians": 2, "ignore_channels": [1]},
            "inputs": ["c", "a", "b"]}  # the model sees c and b
    model = gm.PerOutput([spec]).fit(train)
    alone = gm.GMM(gaussians=2, ignore_channels=[1]).fit(_select(train, [2, 0, 1], None))
    takes = [r.inputs for r in test]
    predicted = model.predict(takes)
    assert predicted == alone.predict([x[:, [2, 0, 1]] for x in takes])
    assert predicted == [model.stream().run(x)[-1].label for x in takes]
    assert predicted == [r.label for r in test]
    back = gm.load(model.save(tmp_path / "m.json"))
    assert back.predict(takes) == predicted
    np.testing.assert_array_equal(back.log_likelihood(takes[0]), model.log_likelihood(takes[0]))
    a, b = model.stream(), back.stream()
    for frame in takes[0]:
        ra, rb = a.step(frame), b.step(frame)
        np.testing.assert_array_equal(ra.output, rb.output)
        np.testing.assert_array_equal(ra.log_likelihoods, rb.log_likelihoods)


def test_bad_settings_and_data_give_clear_errors():
    with pytest.raises(GesturemapError, match="kind"):
        gm.PerOutput([{"kind": "nope"}])
    with pytest.raises(GesturemapError, match="unknown"):
        gm.PerOutput([{"kind": "knn", "input": ["a"]}])
    with pytest.raises(GesturemapError, match="outputs"):
        gm.PerOutput([])
    with pytest.raises(GesturemapError, match="classifier"):
        gm.PerOutput([{"kind": "knn", "target": "label", "type": "regressor"}])
    with pytest.raises(GesturemapError, match="'zz' is not a channel"):
        gm.PerOutput([{"kind": "knn", "inputs": ["zz"]}]).fit(_data())
    labels_only = gm.Dataset()
    labels_only.add(np.zeros((5, 2)), label="a")
    labels_only.add(np.ones((5, 2)), label="b")
    with pytest.raises(GesturemapError, match="no target values"):
        gm.PerOutput([{"kind": "linear", "target": 0}]).fit(labels_only)


def test_a_project_with_one_model_per_output_runs_in_the_engine():
    """Trained in the trainer (process), run by the engine: /wek/outputs carries one value
    per output, as Wekinator sends them."""
    train = _data(0)
    project = Project("per-output", model={"kind": "per_output", "params": {"outputs": SPECS}},
                      input_names=["a", "b", "c"], output_names=["pitch", "cls"])
    for r in train:
        project.add_take(r.inputs, r.label, outputs=r.outputs)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(5)
    engine = Engine(project, osc_in=None, osc_out=("127.0.0.1", rx.getsockname()[1]),
                    trainer="process").start()
    try:
        engine.command("train")
        assert engine.done_training.wait(60)
        assert isinstance(engine.model, gm.PerOutput)
        engine.command("start_running")
        frame = _data(3)[0].inputs[5]
        from gesturemap.sources.base import Frame

        deadline = time.monotonic() + 5
        while engine.frames_out == 0 and time.monotonic() < deadline:
            engine.queue.put(Frame(time.perf_counter(), frame, "test"))
            time.sleep(0.02)
        data = rx.recv(65536)
        while not data.startswith(b"/wek/outputs"):
            data = rx.recv(65536)
    finally:
        engine.stop()
        rx.close()
    from gesturemap.sources.osc import decode_message

    _, values = decode_message(data)
    expected = engine.model.stream().step(frame).output
    np.testing.assert_allclose(values, expected, rtol=1e-6)
    assert len(values) == 3 and values[0] == 2.0  # 'up' is the second class
