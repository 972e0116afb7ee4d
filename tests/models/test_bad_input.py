"""Bad data, settings, frames and files give clear errors, never a crash deep inside numpy."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import FormatError, GesturemapError, NotFittedError

from .conftest import small_dataset

MODELS = [lambda: gm.GMM(3), lambda: gm.HHMM(10)]
MODELS += [lambda: gm.KNN(), lambda: gm.SVM(), lambda: gm.DecisionTree(), lambda: gm.AdaBoost(5),
           lambda: gm.NaiveBayes(), lambda: gm.MLP(max_iter=20), lambda: gm.DTW()]
MODELS += [lambda: gm.GVF(200)]


@pytest.mark.parametrize("factory", MODELS)
def test_empty_dataset(factory):
    with pytest.raises(GesturemapError, match="empty dataset"):
        factory().fit(gm.Dataset())


def test_class_with_a_single_frame():
    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    ds.add(rng.normal(size=(40, 3)), label="a")
    ds.add(rng.normal(size=(1, 3)), label="b")
    with pytest.raises(GesturemapError, match=r"'b' has 1 frame.*gaussians=3"):
        gm.GMM(3).fit(ds)
    with pytest.raises(GesturemapError, match=r"'b'.*1 frame.*states=10"):
        gm.HHMM(10).fit(ds)
    # one Gaussian / one state: a single frame is a regularised model, finite everywhere
    for model in (gm.GMM(1).fit(ds), gm.HHMM(1).fit(ds)):
        res = model.stream().run(rng.normal(size=(20, 3)))
        assert np.isfinite([r.likelihoods for r in res]).all()


def test_class_shorter_than_its_states():
    rng = np.random.default_rng(1)
    ds = gm.Dataset()
    ds.add(rng.normal(size=(50, 2)), label="long")
    ds.add(rng.normal(size=(7, 2)), label="short")
    with pytest.raises(GesturemapError, match=r"'short'.*7 frame.*states=10.*lower states"):
        gm.HHMM(10).fit(ds)
    model = gm.HHMM(10, class_params={"short": {"states": 3}}).fit(ds)
    assert len(model.class_params_[1]["prior"]) == 3


def test_constant_columns_give_a_regularised_model():
    rng = np.random.default_rng(2)
    ds = gm.Dataset()
    for label in ("a", "b"):
        x = rng.normal(size=(60, 3))
        x[:, 1] = 5.0  # a constant channel (a sensor axis that never moves)
        ds.add(x, label=label)
    for model in (gm.GMM(2).fit(ds), gm.HHMM(4).fit(ds)):
        res = model.stream().run(np.c_[rng.normal(size=40), np.full(40, 5.0),
                                       rng.normal(size=40)])
        assert np.isfinite([r.likelihoods for r in res]).all()
    with pytest.raises(GesturemapError, match="absolute_regularization"):
        gm.GMM(2, relative_regularization=0.0, absolute_regularization=0.0).fit(ds)


def test_dataset_rejects_bad_recordings():
    ds = gm.Dataset()
    ds.add(np.zeros((10, 3)), label="a")
    with pytest.raises(GesturemapError):
        ds.add(np.zeros((10, 4)), label="b")  # mismatched dimensions
    with pytest.raises(GesturemapError):
        ds.add(np.array([[0.0, np.nan, 1.0]] * 5), label="b")
    with pytest.raises(GesturemapError):
        ds.add(np.zeros((10, 3)), label=3)  # labels of mixed types
    assert len(ds) == 1


@pytest.mark.parametrize("name,value", [
    ("gaussians", 0), ("gaussians", 2.5), ("covariance", "spherical"),
    ("relative_regularization", -1.0), ("likelihood_window", 0),
    ("em_percent_change", float("nan")),
])
def test_bad_parameters_name_the_parameter(ref, name, value):
    ds = small_dataset(ref, False)
    with pytest.raises(GesturemapError, match=name):
        gm.GMM(**{name: value}).fit(ds)


@pytest.mark.parametrize("name,value", [("states", 0), ("transition", "circular"),
                                        ("regression_estimator", "best"),
                                        ("hierarchical", "yes")])
def test_bad_hmm_parameters(ref, name, value):
    with pytest.raises(GesturemapError, match=name):
        gm.HHMM(**{name: value}).fit(small_dataset(ref, False))


def test_unknown_parameter_and_override(ref):
    with pytest.raises(GesturemapError, match="stattes"):
        gm.HHMM().set_params(stattes=3)
    with pytest.raises(GesturemapError, match="class_params"):
        gm.GMM(class_params={"g0": {"states": 3}}).fit(small_dataset(ref, False))


def test_not_fitted():
    for model in (gm.GMM(), gm.HHMM()):
        with pytest.raises(NotFittedError, match="fit"):
            model.stream()
        with pytest.raises(NotFittedError):
            model.predict([np.zeros((3, 2))])


@pytest.mark.parametrize("factory", MODELS)
def test_bad_frames_and_sequences(ref, factory):
    model = factory().fit(small_dataset(ref, False))
    s = model.stream()
    good = s.step(ref.x_test[0])
    for frame in (np.zeros(5), np.zeros(7), np.zeros((2, 6)), [np.nan] * 6,
                  [0, 0, np.inf, 0, 0, 0], "abcdef"):
        with pytest.raises(GesturemapError):
            s.step(frame)
    # the stream is unharmed: the next good frame continues where it was
    s2 = model.stream()
    s2.step(ref.x_test[0])
    np.testing.assert_array_equal(s.step(ref.x_test[1]).likelihoods,
                                  s2.step(ref.x_test[1]).likelihoods)
    assert good.label in model.labels_
    with pytest.raises(GesturemapError, match=r"expected \(T, 6\)"):
        model.log_likelihood(np.zeros((4, 3)))
    with pytest.raises(GesturemapError, match="NaN"):
        model.predict([np.full((4, 6), np.nan)])


def test_damaged_tampered_and_newer_files(ref, tmp_path):
    model = gm.HHMM(4).fit(small_dataset(ref, False))
    path = model.save(tmp_path / "m")
    meta = json.loads(path.read_text())

    path.write_text(path.read_text()[:50])  # truncated
    with pytest.raises(FormatError):
        gm.load(path)

    newer = dict(meta, version=99)
    path.write_text(json.dumps(newer))
    with pytest.raises(FormatError, match="newer"):
        gm.load(path)

    evil = dict(meta, model="os.system")
    path.write_text(json.dumps(evil))
    with pytest.raises(FormatError, match="unknown model"):
        gm.load(path)

    path.write_text(json.dumps(meta))
    arrays = dict(np.load(path.with_suffix(".npz")))
    arrays["c0_means"] = arrays["c0_means"][:2]  # tampered shape
    np.savez(path.with_suffix(".npz"), **arrays)
    with pytest.raises(FormatError):
        gm.load(path)

    path.with_suffix(".npz").write_bytes(b"not a zip file")
    with pytest.raises(FormatError):
        gm.load(path)


def test_load_xmm_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(FormatError):
        gm.load_xmm(bad)
    bad.write_text(json.dumps({"models": []}))
    with pytest.raises(FormatError):
        gm.load_xmm(bad)
    with pytest.raises(FormatError):
        gm.load_xmm(tmp_path / "missing.json")


@pytest.mark.parametrize("factory", [
    lambda: gm.HHMM(4, relative_regularization=0.0, absolute_regularization=1e-8,
                    covariance="full", deltas=False, n_jobs=1),
    lambda: gm.GMM(2, relative_regularization=0.0, absolute_regularization=1e-8,
                   covariance="full", deltas=False, n_jobs=1)])
def test_no_regularisation_on_collinear_inputs_is_a_clear_error(factory):
    """Two inputs that move together, in units of 10^4, with no relative regularisation: a
    covariance cannot be factored (it raised numpy's bare LinAlgError from the EM kernel)."""
    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    for label, slope in (("a", 2.0), ("b", -1.0)):
        for _ in range(3):
            t = np.cumsum(rng.normal(size=40)) * 1e4
            ds.add(np.stack([t, t * slope], 1), label=label)
    with pytest.raises(GesturemapError, match="increase absolute_regularization"):
        factory().fit(ds)


@pytest.mark.parametrize("factory", [gm.HHMM, gm.GMM])
def test_inputs_smaller_than_the_regularisation_are_warned_about(factory):
    # hand movements of a few millimetres in metres: the absolute regularisation (0.001 added
    # to every variance) makes every class's Gaussians wider than the movements, and every
    # class scored the same; nothing said so
    t = np.linspace(0, 1, 40)
    small, fine = gm.Dataset(), gm.Dataset()
    for c in (1, 2):
        for _ in range(3):
            x = np.c_[np.sin(2 * np.pi * c * t), np.cos(2 * np.pi * c * t)]
            small.add(x * 0.001, label=str(c))
            fine.add(x, label=str(c))
    with pytest.warns(UserWarning, match=r"every input varies less than the absolute "
                                         r"regularisation \(0\.001\)"):
        model = factory().fit(small)
    assert len(model.training_info_["warnings"]) == 1
    assert factory().fit(fine).training_info_["warnings"] == []
    assert factory(absolute_regularization=1e-9).fit(small).training_info_["warnings"] == []
