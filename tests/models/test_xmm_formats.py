"""XMM files as they exist in the wild (tests/data/xmm, SOURCES.md there), and the export back."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import FormatError
from gesturemap.interop.xmm.model_export import (
    model_to_xmm,
    save_xmm_model,
    save_xmm_training_set,
    training_set_to_xmm,
)

DATA = Path(__file__).parent.parent / "data" / "xmm"


def _json(name: str) -> dict:
    path = DATA / name
    raw = path.read_bytes()
    return json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)


def test_cpp_xmm_1x_model():
    model = gm.load_xmm(DATA / "xmm-cpp" / "test_gmm.json")
    assert model.kind == "gmm" and model.labels_ == ["1", "2", "3"]
    assert model.input_dim_ == 6 and model.gaussians == 10 and model.likelihood_window == 40
    doc = _json("xmm-cpp/test_gmm.json")
    assert np.allclose(model.class_params_[0]["means"][0], doc["models"][0]["components"][0]["mean"])


@pytest.mark.parametrize("kind", ["gmm", "hhmm"])
def test_xmm_0x_models_recognise_xmms_own_test_data(kind):
    """XMM 0.x's example models (2015), read from their 0.x field names, recognise the test
    phrases XMM's examples shipped with them: phrase k is class k."""
    model = gm.load_xmm(DATA / "xmm-0x" / f"{kind}_model.json")
    assert model.labels_ == ["1", "2", "3"]
    if kind == "hhmm":
        assert model.states == 10 and model.input_dim_ == 3
    else:
        assert model.gaussians == 3 and model.input_dim_ == 6
    phrases = [np.loadtxt(DATA / "xmm-0x" / f"{kind}_test_data{k}.txt") for k in (1, 2, 3)]
    assert model.predict(phrases) == ["1", "2", "3"]


def test_xmm_0x_gmm_numbers_are_the_files():
    from scipy.stats import multivariate_normal

    model = gm.load_xmm(DATA / "xmm-0x" / "gmm_model.json")
    doc = _json("xmm-0x/gmm_model.json")
    g = doc["models"][1]["GMM"]
    x = np.loadtxt(DATA / "xmm-0x" / "gmm_test_data2.txt")[0]
    expected = np.log(
        sum(
            w * multivariate_normal(c["mean"], np.reshape(c["covariance"], (6, 6))).pdf(x)
            for w, c in zip(g["mixturecoefficients"], g["components"], strict=True)
        )
    )
    assert model.log_likelihood(x[None])[1] == pytest.approx(expected, rel=1e-9)


def test_soundworks_export_and_its_training_set(tmp_path):
    model = gm.load_xmm(DATA / "soundworks" / "exampleModel.json")
    assert model.labels_ == ["branches", "gadoue", "nage", "tempete", "vent"]
    (tmp_path / "set.json").write_bytes(
        gzip.decompress((DATA / "soundworks" / "exampleTrainingSet.json.gz").read_bytes())
    )
    ds = gm.Dataset.from_xmm(tmp_path / "set.json")
    assert len(list(ds)) == 12 and ds.input_names[0] == "accelGravX"
    # the exported model was trained on those phrases: it recognises most of them
    recs = list(ds)
    hits = np.mean(
        [p == r.label for p, r in zip(model.predict([r.inputs for r in recs]), recs, strict=True)]
    )
    assert hits >= 0.75
    small = gm.Dataset.from_xmm(DATA / "xmm-client" / "3gestures-unimodal-dim6.json")
    assert [r.label for r in small] == ["vent", "tempete", "branches", "vent"]
    assert [r.length for r in small] == [90, 88, 43, 79]


def test_como_session_files_json5():
    model = gm.load_xmm(DATA / "como-elements-fred" / ".ml-model.json")
    assert model.kind == "hhmm" and model.states == 4 and model.input_dim_ == 11
    assert model.labels_ == sorted(
        ["silence1.mp3", "bubble.mp3", "birds.mp3", "beats2.mp3", "chord1.mp3"]
    )
    ds = gm.Dataset.from_xmm(DATA / "como-elements-fred" / ".ml-processed-examples.debug.json")
    recs = list(ds)
    assert len(recs) == 6 and recs[0].inputs.shape[1] == 11
    assert set(r.label for r in recs) == set(model.labels_)
    # CoMo's model was trained on these examples: each is recognised as its own label
    assert model.predict([r.inputs for r in recs]) == [r.label for r in recs]


def test_rapid_mix_wrapped_files(tmp_path):
    """The wrappers CoMo's rapid-mix adapters write, around real files."""
    inner = _json("soundworks/exampleModel.json")
    wrapped = {
        "docType": "rapid-mix:ml-model",
        "docVersion": "1.0.0",
        "target": {"name": "xmm:gmm", "version": "1.0.0"},
        "payload": inner,
    }
    (tmp_path / "m.json").write_text(json.dumps(wrapped))
    a = gm.load_xmm(tmp_path / "m.json")
    b = gm.load_xmm(DATA / "soundworks" / "exampleModel.json")
    x = np.zeros((5, 6))
    assert np.array_equal(a.log_likelihood(x), b.log_likelihood(x))
    # a training set, as xmmToRapidMixTrainingSet writes it, from the real xmm-client set
    xmm = _json("xmm-client/3gestures-unimodal-dim6.json")
    data = [
        {
            "label": p["label"],
            "output": [],
            "input": np.reshape(p["data"], (p["length"], 6)).tolist(),
        }
        for p in xmm["phrases"]
    ]
    rm = {
        "docType": "rapid-mix:ml-training-set",
        "docVersion": "1.0.0",
        "payload": {
            "inputDimension": 6,
            "outputDimension": 0,
            "columnNames": {"input": xmm["column_names"], "output": []},
            "data": data,
        },
    }
    (tmp_path / "s.json").write_text(json.dumps(rm))
    got = list(gm.Dataset.from_xmm(tmp_path / "s.json"))
    want = list(gm.Dataset.from_xmm(DATA / "xmm-client" / "3gestures-unimodal-dim6.json"))
    assert [r.label for r in got] == [r.label for r in want]
    assert all(np.array_equal(g.inputs, w.inputs) for g, w in zip(got, want, strict=True))


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("como-vox-test/.ml-model.json", "no classes"),  # RAPID-MIX wrapped, JSON5, untrained
        ("como-vox-test/ml-config.json", "CoMo ml-config"),
        ("como-elements-fred/ml-config.json", "CoMo ml-config"),
        ("soundworks/exampleModelConfig.json", "keys gaussians"),
        ("xmm-client/3gestures-unimodal-dim6.json", "XMM training set"),
    ],
)
def test_other_files_are_refused_by_name(name, says):
    with pytest.raises(FormatError, match=says):
        gm.load_xmm(DATA / name)


def test_a_model_is_not_a_training_set():
    with pytest.raises(FormatError, match="not an XMM training set.*it is an XMM model"):
        gm.Dataset.from_xmm(DATA / "xmm-cpp" / "test_gmm.json")


# ---- export back ------------------------------------------------------------------------------


def _dataset(bimodal: bool = False) -> gm.Dataset:
    rng = np.random.default_rng(3)
    ds = gm.Dataset(["a", "b"], ["y"] if bimodal else None)
    for label, sign in (("up", 1.0), ("down", -1.0)):
        for _ in range(3):
            t = np.linspace(0, 1, 30)[:, None]
            x = np.hstack([sign * t, np.sin(3 * t)]) + 0.05 * rng.normal(size=(30, 2))
            ds.add(x, label=label, outputs=sign * t if bimodal else None)
    return ds


@pytest.mark.parametrize(
    "make",
    [
        lambda: gm.GMM(gaussians=2, deltas=False, decision="window"),
        lambda: gm.HHMM(states=4, deltas=False, decision="window"),
        lambda: gm.HHMM(states=3, transition="ergodic", covariance="diagonal", deltas=False,
                        decision="window"),
    ],
)
@pytest.mark.parametrize("bimodal", [False, True])
def test_model_round_trip_through_xmm_json(make, bimodal, tmp_path):
    ds = _dataset(bimodal)
    model = make().fit(ds)
    save_xmm_model(model, tmp_path / "m.json")
    back = gm.load_xmm(tmp_path / "m.json")
    assert back.labels_ == [str(lb) for lb in model.labels_]
    s1, s2 = model.stream(), back.stream()
    for frame in list(ds)[0].inputs:
        r1, r2 = s1.step(frame), s2.step(frame)
        assert np.allclose(r1.likelihoods, r2.likelihoods, rtol=1e-12, atol=1e-15)
        if bimodal:
            assert np.allclose(r1.output, r2.output)


@pytest.mark.parametrize("kind", ["gmm", "hhmm", "gmr", "hmr"])
def test_model_json_layout_is_xmms(kind, reference_dir):
    """The same keys as XMM 1.x's own files (reference/xmm/*/model.xmm.json), at every
    level: XMM's C++ reads the inverse covariances and determinants from the file."""
    ref = json.loads((reference_dir / kind / "model.xmm.json").read_text())
    bimodal = kind in ("gmr", "hmr")
    xmm_like = {"deltas": False, "decision": "window"}  # what an XMM model can express
    model = (gm.HHMM(states=4, **xmm_like) if kind in ("hhmm", "hmr")
             else gm.GMM(gaussians=2, **xmm_like)).fit(
        _dataset(bimodal)
    )
    doc = model_to_xmm(model)

    def keys(d: dict) -> set:
        return set(d)

    assert keys(doc) == keys(ref)
    assert keys(doc["shared_parameters"]) == keys(ref["shared_parameters"])
    assert keys(doc["configuration"]["default_parameters"]) == keys(
        ref["configuration"]["default_parameters"]
    )
    mine, theirs = doc["models"][0], ref["models"][0]
    assert keys(mine) == keys(theirs)
    if "states" in theirs:
        mine, theirs = mine["states"][0], theirs["states"][0]
        assert keys(mine) == keys(theirs)
        assert len(doc["models"][0]["transition"]) == 2 * 4  # left-right: 2 per state
    assert keys(mine["components"][0]) == keys(theirs["components"][0])
    # an inverse covariance is the inverse of its covariance
    c = mine["components"][0]
    d = c["dimension"]
    assert np.allclose(
        np.reshape(c["inverse_covariance"], (d, d)) @ np.reshape(c["covariance"], (d, d)), np.eye(d)
    )


def test_only_gmm_and_hhmm_have_an_xmm_layout():
    with pytest.raises(gm.GesturemapError, match="GMM and HHMM"):
        model_to_xmm(gm.DTW().fit(_dataset()))


def test_training_set_round_trip(tmp_path):
    for bimodal in (False, True):
        ds = _dataset(bimodal)
        save_xmm_training_set(ds, tmp_path / "s.json")
        back = list(gm.Dataset.from_xmm(tmp_path / "s.json"))
        assert [r.label for r in back] == [r.label for r in ds]
        assert all(np.array_equal(a.inputs, b.inputs) for a, b in zip(ds, back, strict=True))
        if bimodal:
            assert all(np.array_equal(a.outputs, b.outputs) for a, b in zip(ds, back, strict=True))
    assert training_set_to_xmm(_dataset())["dimension"] == 2


def test_export_command(tmp_path):
    # XMM's models have no delta features: an XMM-compatible model
    project = gm.Project("p", model={"kind": "gmm", "params": {"deltas": False}},
                         input_names=["a", "b"])
    for r in _dataset():
        project.add_take(r.inputs, r.label)
    project.train()
    project.save(tmp_path / "p")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gesturemap",
            "export",
            str(tmp_path / "p"),
            "--arff",
            str(tmp_path / "p.arff"),
            "--xmm-set",
            str(tmp_path / "s.json"),
            "--xmm-model",
            str(tmp_path / "m.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert len(list(gm.Dataset.from_xmm(tmp_path / "s.json"))) == 6
    assert gm.load_xmm(tmp_path / "m.json").labels_ == ["down", "up"]
    from gesturemap.interop.wekinator import arff

    summary = arff.takes_from_arff(arff.read_arff(tmp_path / "p.arff"))
    assert summary.task == "classification" and len(summary.takes) == 6
    # class numbers in the rows, read back as the names the file's comments give them
    assert sorted({t.label for t in summary.takes}) == ["down", "up"]
    # which number is which class (the model's order, as /wek/outputs numbers them): said by
    # the command, and kept in the file's comments
    assert "classes as numbers: 1 down, 2 up" in done.stdout
    assert (tmp_path / "p.arff").read_text().startswith("% class 1: down\n% class 2: up\n@relation")


def test_export_of_a_model_with_deltas_says_how_to_train_one_without(tmp_path):
    # a project trained at the defaults (deltas on) from the command line: the way out is in
    # the project's settings, which the message names, not a Python keyword
    project = gm.Project("p", model="gmm", input_names=["a", "b"])
    for r in _dataset():
        project.add_take(r.inputs, r.label)
    project.train()
    project.save(tmp_path / "p")
    done = subprocess.run(
        [sys.executable, "-m", "gesturemap", "export", str(tmp_path / "p"),
         "--xmm-set", str(tmp_path / "s.json"), "--xmm-model", str(tmp_path / "m.json")],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert '"deltas": false' in done.stderr and "project.json" in done.stderr
    assert "gesturemap train" in done.stderr
    # refused: the training set asked for beside the model is not written either
    assert "nothing written" in done.stderr
    assert not (tmp_path / "s.json").exists() and not (tmp_path / "m.json").exists()


@pytest.mark.parametrize("kind", ["gmm", "gmr", "hhmm", "hmr"])
def test_xmm_reference_model_round_trips_to_xmms_own_numbers(kind, reference_dir):
    """XMM's own trained models (reference/xmm), imported and written back: every Gaussian
    carries XMM's covariance, inverse, determinants and output covariance."""
    ref_file = reference_dir / kind / "model.xmm.json"
    ref = json.loads(ref_file.read_text())
    doc = model_to_xmm(gm.load_xmm(ref_file))
    theirs = {m["label"]: m for m in ref["models"]}
    for mine in doc["models"]:
        other = theirs[mine["label"]]
        pairs = (
            zip(mine["states"], other["states"], strict=True)
            if "states" in mine
            else [(mine, other)]
        )
        for a, b in pairs:
            assert np.allclose(a["mixture_coeffs"], b["mixture_coeffs"])
            for ca, cb in zip(a["components"], b["components"], strict=True):
                for key in (
                    "mean",
                    "covariance",
                    "inverse_covariance",
                    "inverse_covariance_input",
                    "output_covariance",
                ):
                    assert np.allclose(ca[key], cb[key], rtol=1e-6, atol=1e-9), key
                for key in ("covariance_determinant", "covariance_determinant_input"):
                    assert ca[key] == pytest.approx(cb[key], rel=1e-6)
        if "states" in mine:
            assert np.allclose(mine["transition"], other["transition"])
            assert np.allclose(mine["exitProbabilities"], other["exitProbabilities"])


def test_import_command_takes_sets_and_models(tmp_path):
    run = [sys.executable, "-m", "gesturemap", "import"]
    done = subprocess.run([*run, str(DATA / "como-elements-fred" /
                                     ".ml-processed-examples.debug.json"),
                           "--project", str(tmp_path / "set")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "6 takes, 5 classes" in done.stdout
    assert len(gm.Project.load(tmp_path / "set").takes) == 6
    done = subprocess.run([*run, str(DATA / "como-elements-fred" / ".ml-model.json"),
                           "--project", str(tmp_path / "model")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    project = gm.Project.load(tmp_path / "model")
    assert project.trained is not None and project.trained.kind == "hhmm"
    assert project.input_dim == 11 and not project.takes
    done = subprocess.run([*run, str(DATA / "como-vox-test" / "ml-config.json"),
                           "--project", str(tmp_path / "config")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "CoMo ml-config" in done.stderr


def test_a_model_with_deltas_is_refused_with_the_fix():
    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    for label in ("a", "b"):
        for _ in range(2):
            ds.add(rng.normal(size=(30, 2)), label=label)
    model = gm.GMM(gaussians=1, deltas=True).fit(ds)
    with pytest.raises(gm.GesturemapError, match="deltas=False"):
        model_to_xmm(model)


def test_a_model_that_ignores_channels_is_not_written_as_xmm():
    # it was written as a model of its kept channels, without a word: XMM would then read the
    # first channels of every frame, not the kept ones
    from gesturemap.interop.xmm.model_export import model_to_xmm

    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    for r in _dataset():
        ds.add(np.c_[rng.normal(size=len(r.inputs)), r.inputs], label=r.label)
    model = gm.GMM(gaussians=2, deltas=False, decision="window", ignore_channels=[0]).fit(ds)
    with pytest.raises(gm.GesturemapError, match=r"ignores channels \[0\] of its 3"):
        model_to_xmm(model)
    assert model_to_xmm(gm.GMM(gaussians=2, deltas=False, decision="window").fit(_dataset()))


def test_one_phrase_file_as_xmm_client_wrote_it(tmp_path):
    """A single phrase, the layout of wiml-prototype's public/uploads/phrases/Walk.json
    (Ircam-RnD, xmm-client's PhraseMaker, 2016): no 'phrases' list, and 'length' counting the
    values (3324 for 554 frames of 6). It was refused ("not an XMM training set"); it is one
    take of its label."""
    frames = np.arange(554 * 6, dtype=float).reshape(554, 6) / 7.0
    doc = {"label": "Walk", "bimodal": False, "dimension": 6, "dimension_input": 0,
           "column_names": ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"],
           "data": frames.ravel().tolist(), "length": frames.size}
    path = tmp_path / "Walk.json"
    path.write_text(json.dumps(doc))
    ds = gm.Dataset.from_xmm(path)
    (rec,) = list(ds)
    assert rec.label == "Walk" and np.array_equal(rec.inputs, frames)
    assert tuple(ds.input_names) == tuple(doc["column_names"])
    # a phrase whose length is its frame count, and one without length, read alike
    for length in (554, None):
        path.write_text(json.dumps({**doc, "length": length} if length else
                                   {k: v for k, v in doc.items() if k != "length"}))
        assert np.array_equal(next(iter(gm.Dataset.from_xmm(path))).inputs, frames)
    # a length that fits neither reading stays an error
    path.write_text(json.dumps({**doc, "length": 500}))
    with pytest.raises(FormatError, match="expected length 500"):
        gm.Dataset.from_xmm(path)


def test_a_como_session_model_decides_over_its_sessions_likelihood_window(tmp_path):
    # CoMo decodes a session's model over the window its ml-config.json gives (10 for fred);
    # the model file holds none
    session = DATA / "como-elements-fred"
    assert gm.load_xmm(session / ".ml-model.json").likelihood_window == 10
    from gesturemap.cli import main

    assert main(["import", str(session / ".ml-model.json"), "--project",
                 str(tmp_path / "gm")]) == 0
    project = gm.Project.load(tmp_path / "gm")
    assert project.trained.likelihood_window == project.model["params"]["likelihood_window"] == 10
    alone = tmp_path / "alone" / ".ml-model.json"  # copied without its session: the default
    alone.parent.mkdir()
    alone.write_bytes((session / ".ml-model.json").read_bytes())
    assert gm.load_xmm(alone).likelihood_window == 5
