"""The same behavioural checks for every model (river-style common checks)."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.models._kernels import hmm_sequence_loglik

from .conftest import small_dataset

FACTORIES = {
    "gmm": lambda: gm.GMM(2, likelihood_window=4, deltas=False),
    "gmr": lambda: gm.GMM(2, likelihood_window=4, deltas=False),
    "hhmm": lambda: gm.HHMM(5, 1),
    "hhmm-ergodic-diag": lambda: gm.HHMM(4, 2, transition="ergodic", covariance="diagonal"),
    "hmr": lambda: gm.HHMM(5, 2, regression_estimator="windowed"),
    "hhmm-decaying": lambda: gm.HHMM(4, 1, decision="decaying"),
    "gmr-deltas": lambda: gm.GMM(2, deltas=True),
}
BIMODAL = {"gmr", "hmr", "gmr-deltas"}
# Wekinator's classic models: classifiers, and regressors on the bimodal dataset
CLASSIC = {
    "knn": lambda: gm.KNN(3),
    "svm": lambda: gm.SVM(),
    "tree": lambda: gm.DecisionTree(),
    "adaboost": lambda: gm.AdaBoost(10),
    "naive_bayes": lambda: gm.NaiveBayes(),
    "mlp": lambda: gm.MLP(8, max_iter=40),
}
CLASSIC_REGRESSORS = {
    "knn-regressor": lambda: gm.KNN(3),
    "mlp-regressor": lambda: gm.MLP(8, max_iter=40),
    "linear": lambda: gm.Linear(),
    "polynomial": lambda: gm.Polynomial(2),
}
FACTORIES.update(CLASSIC)
FACTORIES["dtw"] = lambda: gm.DTW()
# hmmlearn-trained HMM; a model behind its own delta + standardisation stages (gm.auto's)
FACTORIES["hmm"] = lambda: gm.HMM(4)
FACTORIES["featured"] = lambda: gm.models.Featured.of(gm.HHMM(4), deltas=True)
# its step is stochastic: seeded, so a stream is reproducible
FACTORIES["gvf"] = lambda: gm.GVF(200, random_state=3)
FACTORIES.update(CLASSIC_REGRESSORS)
BIMODAL |= set(CLASSIC_REGRESSORS)
# one model per output, each on its own inputs (Wekinator's mapping)
FACTORIES["per_output"] = lambda: gm.PerOutput([
    {"kind": "gmm", "params": {"gaussians": 2, "likelihood_window": 4, "deltas": False},
     "inputs": [0, 1, 2]},
    {"kind": "linear", "inputs": [3, 4, 5], "target": 0},
    {"kind": "knn", "params": {"k": 3}, "target": 1},
])
BIMODAL.add("per_output")


@pytest.fixture(params=list(FACTORIES))
def case(request, ref):
    name = request.param
    ds = small_dataset(ref, name in BIMODAL)
    return name, FACTORIES[name], ds, ref.x_test[100:260]


def _arrays(model):
    return model._state_arrays()


def test_fit_returns_self_and_sorted_labels(case):
    _, factory, ds, _ = case
    model = factory()
    assert model.fit(ds) is model
    assert model.labels_ == sorted(ds.labels)
    assert model.input_dim_ == ds.input_dim
    # a per-output model has as many outputs as it declares
    outputs = len(model.outputs) if isinstance(model, gm.PerOutput) else ds.output_dim
    assert model.output_dim_ == outputs


def test_fit_twice_equals_fit_once(case):
    _, factory, ds, _ = case
    once = factory().fit(ds)
    twice = factory().fit(ds).fit(ds)
    a, b = _arrays(once), _arrays(twice)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_input_untouched(case):
    _, factory, ds, xs = case
    before = [(r.inputs.copy(), None if r.outputs is None else r.outputs.copy()) for r in ds]
    xs_before = xs.copy()
    model = factory().fit(ds)
    model.stream().run(xs)
    model.log_likelihood(xs)
    for r, (x, y) in zip(ds, before, strict=True):
        np.testing.assert_array_equal(r.inputs, x)
        if y is not None:
            np.testing.assert_array_equal(r.outputs, y)
    np.testing.assert_array_equal(xs, xs_before)


def test_step_by_step_equals_run_and_reset_restarts(case):
    _, factory, ds, xs = case
    model = factory().fit(ds)
    s = model.stream()
    stepped = [s.step(f) for f in xs]
    s.reset()
    again = s.run(xs)
    for a, b in zip(stepped, again, strict=True):
        np.testing.assert_array_equal(a.likelihoods, b.likelihoods)
        np.testing.assert_array_equal(a.instant_likelihoods, b.instant_likelihoods)
        if a.output is not None:
            np.testing.assert_array_equal(a.output, b.output)
        if a.progress is not None:
            np.testing.assert_array_equal(a.progress, b.progress)


def test_streams_sharing_a_model_are_independent(case):
    _, factory, ds, xs = case
    model = factory().fit(ds)
    alone = model.stream().run(xs)
    s1, s2 = model.stream(), model.stream()
    for i, f in enumerate(xs):
        r1 = s1.step(f)
        s2.step(xs[-1 - i])  # another performer, other frames
        np.testing.assert_array_equal(r1.likelihoods, alone[i].likelihoods)


def test_step_matches_batch_computation(case):
    """For a GMM the smoothed log-likelihood is the mean of batch per-frame log-densities."""
    name, factory, ds, xs = case
    model = factory().fit(ds)
    res = model.stream().run(xs)
    if name == "per_output":
        # its class fields are its classifier's, on that output's inputs
        cols = model.columns_[model.primary_]
        primary = model.models_[model.primary_]
        alone = primary.stream().run(xs[:, cols])
        for r, a in zip(res, alone, strict=True):
            np.testing.assert_array_equal(r.log_likelihoods, a.log_likelihoods)
        np.testing.assert_array_equal(model.log_likelihood(xs), primary.log_likelihood(xs[:, cols]))
    elif name in CLASSIC_REGRESSORS:
        np.testing.assert_array_equal([r.output for r in res], model.predict_outputs(xs))
    elif name == "dtw":
        # a stream's distance is the best match ending now, over every start: at most the
        # whole-sequence distance (unbanded), which starts at the first frame
        model.set_params(band=1.0)
        assert (res[-1].distances <= model.distances(xs) * (1 + 1e-12)).all()
        np.testing.assert_allclose(model.log_likelihood(xs),
                                   -model.distances(xs) / model.temperature_)
    elif name == "hmm":
        # a stream's cumulative log-likelihood is the batch one of everything since its reset,
        # so its label is predict's on that prefix
        for t in (0, 1, len(xs) // 2, len(xs) - 1):
            np.testing.assert_allclose(res[t].log_likelihoods, model.log_likelihood(xs[:t + 1]),
                                       rtol=1e-10)
            assert res[t].label == model.predict([xs[:t + 1]])[0]
    elif name == "featured":
        # the feature stages, then the inner model: as the inner model on transformed frames
        feats = model.pipeline_.transform_sequence(xs)
        np.testing.assert_allclose(model._transform(xs), feats, rtol=1e-13, atol=1e-13)
        alone = model.inner_.stream().run(feats)
        for r, a in zip(res, alone, strict=True):
            np.testing.assert_array_equal(r.log_likelihoods, a.log_likelihoods)
        np.testing.assert_allclose(model.log_likelihood(xs), model.inner_.log_likelihood(feats),
                                   rtol=1e-10)
    elif name == "gvf":
        # a whole sequence is followed by a fresh stream with the same seed
        np.testing.assert_array_equal(model.log_likelihood(xs), res[-1].log_likelihoods)
        assert model.predict([xs]) == [res[-1].label]
        for r in res:
            assert r.speed.shape == (3,) and r.scale.shape == (3, ds.input_dim)
            assert ((r.progress >= 0) & (r.progress <= 1)).all()
    elif name in ("gmm", "gmr") or name in CLASSIC:
        per_frame = np.array([model.log_likelihood(f[None, :]) for f in xs])
        # the default decision: the log-likelihood of every frame since the reset
        assert model.decision == "cumulative"
        for t in range(len(xs)):
            np.testing.assert_allclose(res[t].log_likelihoods, per_frame[:t + 1].sum(axis=0),
                                       rtol=1e-10)
        # XMM's: the mean over the likelihood window
        model.set_params(decision="window")
        res = model.stream().run(xs)
        w = model.likelihood_window
        for t in range(len(xs)):
            expected = per_frame[max(0, t - w + 1):t + 1].mean(axis=0)
            np.testing.assert_allclose(res[t].log_likelihoods, expected, rtol=1e-10)
        np.testing.assert_allclose(model.log_likelihood(xs), per_frame.sum(axis=0), rtol=1e-10)
    elif name == "gmr-deltas":
        for t in (0, 1, 17, len(xs) - 1):
            np.testing.assert_allclose(res[t].log_likelihoods, model.log_likelihood(xs[:t + 1]),
                                       rtol=1e-10)
    else:
        # the HHMMs, hierarchical or not: whatever the model's own decision, the cumulative one
        # reads each class's HMM on its own — the batch log-likelihood of the frames since the
        # reset, at every frame
        for hierarchical in (True, False):
            model.set_params(decision="cumulative", hierarchical=hierarchical)
            res = model.stream().run(xs)
            for t in range(len(xs)):
                np.testing.assert_allclose(res[t].log_likelihoods,
                                           model.log_likelihood(xs[:t + 1]), rtol=1e-9,
                                           err_msg=f"hierarchical={hierarchical}, frame {t}")
        # a non-hierarchical HMM runs XMM's forward pass on each class alone, with its cyclic
        # transition (last state -> first): the logs of its instant likelihoods p(x_t | x_<t),
        # summed since the reset, are the batch forward log-likelihood of the prefix under that
        # chain, at every frame (its decision above is still the plain chain's)
        summed = np.cumsum(np.log([r.instant_likelihoods for r in res]), axis=0)
        cyclic = np.array([_cyclic_loglik(model, xs[:t + 1]) for t in range(len(xs))])
        np.testing.assert_allclose(summed, cyclic, rtol=1e-9)
        assert len(model.predict([xs])) == 1


def _cyclic_loglik(model, x):
    """Each class's batch forward log-likelihood of ``x`` with XMM's cyclic transition."""
    b = model._bank()
    out = np.zeros(len(model.labels_))
    hmm_sequence_loglik(model._model_inputs(x), b["n_states"], b["n_comp"], b["left_right"],
                        b["prior"], b["trans_cyclic"], b["weights"], b["mean_in"], b["linv_in"],
                        b["lognorm_in"], out)
    return out


def test_save_load_round_trip_is_exact(case, tmp_path):
    _, factory, ds, xs = case
    model = factory().fit(ds)
    path = model.save(tmp_path / "model")
    loaded = gm.load(path)
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    assert loaded.labels_ == model.labels_
    for a, b in zip(model.stream().run(xs), loaded.stream().run(xs), strict=True):
        np.testing.assert_array_equal(a.likelihoods, b.likelihoods)
        np.testing.assert_array_equal(a.log_likelihoods, b.log_likelihoods)
        if a.output is not None:
            np.testing.assert_array_equal(a.output, b.output)
            np.testing.assert_array_equal(a.output_covariance, b.output_covariance)
    assert not any(p.suffix == ".pkl" for p in tmp_path.iterdir())
    with np.load(path.with_suffix(".npz"), allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)


def test_results_are_frozen(case):
    _, factory, ds, xs = case
    model = factory().fit(ds)
    r = model.stream().step(xs[0])
    with pytest.raises(ValueError):
        r.likelihoods[0] = 1.0
    with pytest.raises(AttributeError):
        r.label = "other"  # type: ignore[misc]
    assert r.likelihoods.sum() == pytest.approx(1.0)
    # the label is the class at label_index, and that is the likeliest class
    assert r.label == model.labels_[r.label_index]
    assert r.label_index == int(np.argmax(r.likelihoods))


def test_results_keep_their_values(case):
    """Every array a Result holds is read-only and stays as it was when the stream moves on
    (the HHMM / GMM streams freeze theirs as views of one copy a frame: FrozenBlock)."""
    _, factory, ds, xs = case
    stream = factory().fit(ds).stream()
    first = stream.step(xs[0])
    arrays = {f.name: getattr(first, f.name) for f in dataclasses.fields(first)
              if isinstance(getattr(first, f.name), np.ndarray)}
    kept = {name: a.copy() for name, a in arrays.items()}
    assert {"likelihoods", "log_likelihoods", "instant_likelihoods"} <= set(arrays)
    for x in xs[1:]:
        stream.step(x)
    for name, a in arrays.items():
        assert not a.flags.writeable, name
        np.testing.assert_array_equal(a, kept[name], err_msg=name)
    later = stream.step(xs[-1])
    assert any(not np.array_equal(getattr(later, name), kept[name]) for name in arrays)


def test_label_is_the_likeliest_class(case):
    """At every frame the label is the class with the largest ``log_likelihoods``; with the
    default ``"cumulative"`` decision, the label at a sequence's last frame is ``predict``'s."""
    name, factory, ds, xs = case
    model = factory().fit(ds)
    res = model.stream().run(xs)
    for r in res:
        assert r.label_index == int(np.argmax(r.log_likelihoods))
        assert r.label == model.labels_[r.label_index]
    # a per-output model decides with its classifier; Wekinator's regressors recognise no
    # class (their label is the first one throughout)
    decider = model.models_[model.primary_] if name == "per_output" else model
    if name not in CLASSIC_REGRESSORS and getattr(decider, "decision", "cumulative") == "cumulative":
        assert res[-1].label == model.predict([xs])[0]


def test_runtime_parameters_apply_to_new_streams(ref):
    ds = small_dataset(ref, True)
    model = gm.HHMM(5, 1).fit(ds)
    xs = ref.x_test[100:140]
    full = model.stream().run(xs)
    model.set_params(regression_estimator="likeliest", likelihood_window=3)
    changed = model.stream().run(xs)
    assert not np.allclose([r.output for r in full], [r.output for r in changed])
    model.set_params(regression_estimator="full", likelihood_window=5)
    back = model.stream().run(xs)
    np.testing.assert_array_equal([r.output for r in full], [r.output for r in back])


def test_class_params_override_one_class(ref):
    ds = small_dataset(ref, False)
    label = ds.labels[0]
    model = gm.HHMM(6, 1, class_params={label: {"states": 3, "covariance": "diagonal"}}).fit(ds)
    assert len(model.class_params_[0]["prior"]) == 3
    assert len(model.class_params_[1]["prior"]) == 6
    cov = model.class_params_[0]["covariances"][0, 0]
    assert np.count_nonzero(cov - np.diag(np.diag(cov))) == 0
    alone = gm.Dataset()
    for r in ds.by_label(label):
        alone.add(r.inputs, label=label)
    single = gm.HHMM(3, 1, covariance="diagonal").fit(alone)
    np.testing.assert_allclose(model.class_params_[0]["means"], single.class_params_[0]["means"])
    res = model.stream().run(ref.x_test[:50])
    assert np.isfinite([r.likelihoods for r in res]).all()


def test_parallel_and_serial_training_agree(ref):
    ds = small_dataset(ref, False)
    a = gm.HHMM(5, n_jobs=1).fit(ds)
    b = gm.HHMM(5, n_jobs=2).fit(ds)
    for key, value in a._state_arrays().items():
        np.testing.assert_array_equal(value, b._state_arrays()[key])


def test_predict_recognises_whole_test_gestures(ref, trained):
    bounds = np.load(ref.dir / "data" / "test_segment_bounds.npy")
    segments = [ref.x_test[bounds[i]:bounds[i + 1]] for i in range(len(bounds) - 1)]
    truth = [f"g{ref.test_class[bounds[i]]}" for i in range(len(bounds) - 1)]
    for kind in ("gmm", "hhmm"):
        assert trained(kind).predict(segments) == truth


def test_model_copy_is_independent(ref, trained):
    model = copy.deepcopy(trained("gmm"))
    model.set_params(likelihood_window=2)
    assert trained("gmm").likelihood_window == 10


def test_a_numbered_class_is_overridden_by_its_number_as_text(ref, tmp_path):
    """JSON settings (a project's, the window's) key overrides by text: "2" reaches class 2,
    also after saving and loading the model."""
    src = small_dataset(ref, False)
    ds = gm.Dataset()
    for r in src:
        ds.add(r.inputs, label=src.labels.index(r.label) + 1)
    model = gm.HHMM(6, 1, class_params={"2": {"states": 3}}).fit(ds)
    assert model.labels_ == [1, 2, 3]
    assert [len(c["prior"]) for c in model.class_params_] == [6, 3, 6]
    loaded = gm.load(model.save(tmp_path / "m"))
    assert loaded.class_param(2, "states") == 3 and loaded.class_param(1, "states") == 6
