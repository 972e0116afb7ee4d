"""Classic models: the array kernels give scikit-learn's predictions on real data, saved
models give identical outputs, and wrong uses fail clearly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import AdaBoostClassifier
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import PolynomialFeatures
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

import gesturemap as gm
from gesturemap.errors import FormatError, GesturemapError

from ..conftest import small_dataset


def rewrite_arrays(path, change):
    """Change a saved model's arrays in place (``change(arrays)``), as a hand-edited file would;
    its checksum is dropped so that only the arrays' own checks can refuse it."""
    arrays = dict(np.load(path.with_suffix(".npz")))
    change(arrays)
    np.savez(path.with_suffix(".npz"), **arrays)
    meta = json.loads(path.read_text())
    meta.pop("arrays_sha256", None)
    path.write_text(json.dumps(meta))


def _frames(model, ds):
    """The standardised training frames and class indices a classic model was fitted on."""
    x = np.vstack([r.inputs for lb in model.labels_ for r in ds.by_label(lb)])
    y = np.concatenate([np.full(len(r.inputs), i) for i, lb in enumerate(model.labels_)
                        for r in ds.by_label(lb)])
    z = (x - model.arrays_["mean"]) / model.arrays_["scale"]
    return z, y


def _z(model, x):
    return (x - model.arrays_["mean"]) / model.arrays_["scale"]


CLASSIFIERS = {
    "knn": (lambda: gm.KNN(4), lambda: KNeighborsClassifier(4, algorithm="brute")),
    "svm": (lambda: gm.SVM(c=2.0),
            lambda: CalibratedClassifierCV(SVC(C=2.0), ensemble=False)),
    "svm-poly": (lambda: gm.SVM("poly", degree=2, coef0=1.0),
                 lambda: CalibratedClassifierCV(SVC(kernel="poly", degree=2, coef0=1.0),
                                                ensemble=False)),
    "tree": (lambda: gm.DecisionTree(max_depth=8),
             lambda: DecisionTreeClassifier(max_depth=8, random_state=0)),
    "adaboost": (lambda: gm.AdaBoost(20),
                 lambda: AdaBoostClassifier(DecisionTreeClassifier(max_depth=1),
                                            n_estimators=20, random_state=0)),
    "naive_bayes": (lambda: gm.NaiveBayes(), lambda: GaussianNB()),
    "mlp": (lambda: gm.MLP(8, max_iter=60),
            lambda: MLPClassifier((8,), max_iter=60, random_state=0)),
}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_classifier_probabilities_match_scikit_learn(ref, name):
    ours, theirs = CLASSIFIERS[name]
    ds = small_dataset(ref, False, per_class=3)
    model = ours().fit(ds)
    z, y = _frames(model, ds)
    sk = theirs().fit(z, y)
    x = ref.x_test[::7]
    expected = sk.predict_proba(_z(model, x))
    got = model.predict_proba(x)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).mean() == 1.0
    # the stream's instant probabilities are the same numbers
    res = model.stream().run(x[:40])
    np.testing.assert_allclose([r.instant_likelihoods for r in res], expected[:40],
                               rtol=1e-6, atol=1e-9)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", ["svm", "mlp", "adaboost"])
def test_two_class_probabilities_match_scikit_learn(ref, name):
    """Two classes take other paths (one sigmoid, one logistic output unit)."""
    ours, theirs = CLASSIFIERS[name]
    src = small_dataset(ref, False)
    ds = gm.Dataset()
    for r in src:
        if r.label in src.labels[:2]:
            ds.add(r.inputs, label=r.label)
    model = ours().fit(ds)
    z, y = _frames(model, ds)
    expected = theirs().fit(z, y).predict_proba(_z(model, ref.x_test[::9]))
    np.testing.assert_allclose(model.predict_proba(ref.x_test[::9]), expected, rtol=1e-6,
                               atol=1e-9)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", ["knn", "mlp", "linear", "polynomial", "ridge"])
def test_regressor_outputs_match_scikit_learn(ref, name):
    ds = small_dataset(ref, True, per_class=3)
    model = {"knn": lambda: gm.KNN(3), "mlp": lambda: gm.MLP(8, max_iter=50),
             "linear": lambda: gm.Linear(), "polynomial": lambda: gm.Polynomial(3),
             "ridge": lambda: gm.Polynomial(2, alpha=0.5)}[name]().fit(ds)
    z, _ = _frames(model, ds)
    targets = np.vstack([r.outputs for lb in model.labels_ for r in ds.by_label(lb)])
    x = ref.x_test[::5]
    zx = _z(model, x)
    if name == "knn":
        expected = KNeighborsRegressor(3, algorithm="brute").fit(z, targets).predict(zx)
    elif name == "mlp":
        mean, scale = targets.mean(axis=0), targets.std(axis=0)
        net = MLPRegressor(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(z, (targets - mean) / scale)
        expected = net.predict(zx).reshape(len(x), -1) * scale + mean
    else:
        degree = {"linear": 1, "polynomial": 3, "ridge": 2}[name]
        poly = PolynomialFeatures(degree, include_bias=False)
        reg = Ridge(alpha=0.5) if name == "ridge" else LinearRegression()
        expected = reg.fit(poly.fit_transform(z), targets).predict(poly.transform(zx))
    got = model.predict_outputs(x)
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)
    res = model.stream().run(x[:30])
    np.testing.assert_allclose([r.output for r in res], expected[:30], rtol=1e-7, atol=1e-9)
    assert res[0].progress is None


@pytest.mark.parametrize("factory", [lambda: gm.KNN(3), lambda: gm.SVM(), gm.DecisionTree,
                                     gm.AdaBoost, gm.NaiveBayes, lambda: gm.MLP(max_iter=30)])
def test_classifiers_recognise_whole_gestures(ref, factory):
    """Summing per-frame log-probabilities classifies whole test gestures of the reference."""
    model = factory().fit(ref.unimodal)
    bounds = np.load(ref.dir / "data" / "test_segment_bounds.npy")
    segments = [ref.x_test[bounds[i]:bounds[i + 1]] for i in range(len(bounds) - 1)]
    truth = [f"g{ref.test_class[bounds[i]]}" for i in range(len(bounds) - 1)]
    predicted = model.predict(segments)
    assert np.mean([p == t for p, t in zip(predicted, truth, strict=True)]) >= 0.8


def test_saved_models_give_identical_outputs(ref, tmp_path):
    ds, bi = small_dataset(ref, False), small_dataset(ref, True)
    x = ref.x_test[:80]
    for i, model in enumerate([gm.SVM().fit(ds), gm.AdaBoost(10).fit(ds), gm.MLP().fit(bi),
                               gm.Polynomial(2).fit(bi), gm.Linear().fit(bi)]):
        loaded = gm.load(model.save(tmp_path / f"m{i}"))
        assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
        for a, b in zip(model.stream().run(x), loaded.stream().run(x), strict=True):
            np.testing.assert_array_equal(a.instant_likelihoods, b.instant_likelihoods)
            np.testing.assert_array_equal(a.likelihoods, b.likelihoods)
            if a.output is not None:
                np.testing.assert_array_equal(a.output, b.output)


def test_tampered_tree_is_refused(ref, tmp_path):
    """A saved tree whose child points backwards would loop forever: load refuses it."""
    path = gm.DecisionTree().fit(small_dataset(ref, False)).save(tmp_path / "tree")
    rewrite_arrays(path, lambda a: a["left"].__setitem__(0, 0))
    with pytest.raises(FormatError, match="children"):
        gm.load(path)


@pytest.mark.parametrize("make, output_dim", [
    (lambda: gm.SVM(), 5), (lambda: gm.SVM(), 100000), (lambda: gm.DecisionTree(), 5),
    (lambda: gm.AdaBoost(5), 5), (lambda: gm.NaiveBayes(), 5), (lambda: gm.Polynomial(2), 0),
    (lambda: gm.Linear(), 0)])
def test_a_saved_output_count_the_family_cannot_have_is_refused(ref, tmp_path, make,
                                                               output_dim):
    """A classifier's file edited to say it has outputs (or a regressor's to say none) was
    loaded, and its first step read or wrote outside its arrays (a crash of the process:
    "double free or corruption", a segmentation fault) or returned other nodes' values."""
    model = make()
    data = small_dataset(ref, output_dim == 0 and not model.can_classify)
    path = model.fit(data).save(tmp_path / "m")
    doc = json.loads(Path(path).read_text())
    doc["output_dim"] = output_dim
    Path(path).write_text(json.dumps(doc))
    # 100,000 outputs is beyond any model's channels: refused before the family's own check
    with pytest.raises(FormatError, match=f"output_dim(: got)? {output_dim}"):
        gm.load(path)


def test_smoothing_window_and_single_class(ref):
    ds = small_dataset(ref, False)
    model = gm.KNN(1, likelihood_window=3, decision="window").fit(ds)
    res = model.stream().run(ref.x_test[:20])
    per_frame = np.log(np.maximum(model.predict_proba(ref.x_test[:20]), 1e-4))
    for t in range(20):
        np.testing.assert_allclose(res[t].log_likelihoods,
                                   per_frame[max(0, t - 2):t + 1].mean(axis=0))
        assert res[t].label == model.labels_[int(np.argmax(res[t].log_likelihoods))]
    # the default decision sums them since the reset (predict's log-likelihood)
    res = model.set_params(decision="cumulative").stream().run(ref.x_test[:20])
    for t in range(20):
        np.testing.assert_allclose(res[t].log_likelihoods, per_frame[:t + 1].sum(axis=0))
    one = gm.Dataset()
    one.add(ref.x_test[:30], label="only")
    for factory in (gm.KNN, gm.SVM, gm.MLP, gm.DecisionTree):
        r = factory().fit(one).stream().step(ref.x_test[0])
        assert r.label == "only" and r.likelihoods.tolist() == [1.0]


def test_wrong_kind_of_dataset_and_bad_parameters(ref):
    cls_ds, reg_ds = small_dataset(ref, False), small_dataset(ref, True)
    for model in (gm.SVM(), gm.DecisionTree(), gm.AdaBoost(), gm.NaiveBayes()):
        with pytest.raises(GesturemapError, match="is a classifier.*use a regressor"):
            model.fit(reg_ds)
    for model in (gm.Linear(), gm.Polynomial()):
        with pytest.raises(GesturemapError, match="regression model.*outputs"):
            model.fit(cls_ds)
    with pytest.raises(GesturemapError, match="regressor.*predict_outputs"):
        gm.MLP(max_iter=5).fit(reg_ds).predict([ref.x_test[:10]])
    # one message shape (gesturemap.utils.validation): "name: got value; expected ..."
    for model, name in [(gm.KNN(0), "k: got 0"), (gm.SVM("cubic"), "kernel: got 'cubic'"),
                        (gm.SVM(c=0), "c: got 0"),
                        (gm.MLP(activation="softsign"), "activation: got 'softsign'"),
                        (gm.Polynomial(0), "degree: got 0"), (gm.AdaBoost(0), "rounds: got 0"),
                        (gm.KNN(standardize="yes"), "standardize: got 'yes'"),
                        (gm.Polynomial(40), "degree: got 40")]:
        with pytest.raises(GesturemapError, match=name):
            model.fit(reg_ds if isinstance(model, gm.Polynomial) else cls_ds)


def test_max_frames_keeps_every_class(ref):
    ds = small_dataset(ref, False)
    model = gm.KNN(1, max_frames=30).fit(ds)
    assert 25 <= len(model.arrays_["train"]) <= 35
    assert set(model.arrays_["target"].tolist()) == {0, 1, 2}


@pytest.mark.parametrize("k", [1, 5])
def test_knn_neighbours_with_early_abandoning_are_the_exact_ones(k):
    # the kernel stops summing a training frame's distance once it exceeds the k-th best: the
    # neighbours (ties: the earlier frame first) and their distances stay the exact ones
    from gesturemap.models.classic._kernels import knn_neighbours

    rng = np.random.default_rng(k)
    train = rng.normal(size=(3000, 60))
    train[1500] = train[200]  # an exact tie: the earlier frame comes first
    for z in (rng.normal(size=60), train[200] + 1e-9, train[2999].copy()):
        best_d, best_i = np.zeros(k), np.zeros(k, dtype=np.int64)
        assert knn_neighbours(z, train, k, best_d, best_i) == k
        dist = ((z - train) ** 2).sum(axis=1)
        order = np.argsort(dist, kind="stable")[:k]
        np.testing.assert_array_equal(best_i, order)
        np.testing.assert_allclose(best_d, dist[order], rtol=1e-12)


def test_adaboost_on_takes_too_alike_says_so_in_gesturemap_words():
    # scikit-learn's own ValueError ("... worse than random ...") came through as is
    x = np.random.default_rng(0).normal(size=(30, 3))
    ds = gm.Dataset()
    ds.add(x, label="a")
    ds.add(x.copy(), label="b")
    with pytest.raises(GesturemapError, match="AdaBoost cannot be trained on these takes"):
        gm.AdaBoost().fit(ds)


def test_naive_bayes_far_frame_gives_even_odds_not_nan():
    # beyond 1e154 every class's squared distance overflows to inf: the softmax of log
    # probabilities all -inf was NaN, and predict's argmax over NaN named the first class
    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    ds.add(rng.normal(size=(20, 2)), label="a")
    ds.add(rng.normal(size=(20, 2)) + 3, label="b")
    model = gm.NaiveBayes().fit(ds)
    far = np.array([[1e200, 1e200]])
    np.testing.assert_array_equal(model.predict_proba(far), [[0.5, 0.5]])
    np.testing.assert_allclose(model.log_likelihood(far), np.log([0.5, 0.5]))
    near_b = np.array([[1e154, 1e154]])  # still finite: b (mean 3) is nearer
    assert model.predict([near_b]) == ["b"]


@pytest.mark.parametrize("make", [gm.Linear, lambda: gm.Polynomial(degree=2)],
                         ids=["linear", "polynomial"])
def test_saved_powers_that_overflow_the_degree_check_are_refused(tmp_path, make):
    # powers of 2**62 summed past int64 to a negative total that passed the degree check;
    # the first frame's multiplication loop then ran 2**62 times (the stream hung)
    import hashlib

    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    x = rng.normal(size=(30, 3))
    ds.add(x, label="a", outputs=x[:, :2])
    path = make().fit(ds).save(tmp_path / "m")
    npz = path.with_suffix(".npz")
    arrays = dict(np.load(npz))
    arrays["powers"] = np.full_like(arrays["powers"], 2**62)
    np.savez(npz, **arrays)
    meta = json.loads(path.read_text())
    meta["arrays_sha256"] = hashlib.sha256(npz.read_bytes()).hexdigest()
    path.write_text(json.dumps(meta))
    with pytest.raises(FormatError, match="powers"):
        gm.load(path)
