"""gm.HMM: trained by hmmlearn, streamed by our causal forward; hmmlearn is the oracle."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hmmlearn.hmm import GaussianHMM

import gesturemap as gm

from .conftest import small_dataset


def _oracle(model: gm.HMM, i: int) -> GaussianHMM:
    """hmmlearn's own HMM with class ``i``'s learned parameters."""
    c = model.class_params_[i]
    n = len(c["startprob"])
    h = GaussianHMM(n_components=n, covariance_type="full")
    h.startprob_, h.transmat_, h.means_, h.covars_ = (c["startprob"], c["transmat"],
                                                      c["means"], c["covars"])
    return h


def _hmmlearn_left_right(x, lengths, n, n_iter, implementation="scaling"):
    """hmmlearn's own diagonal left-right GaussianHMM fitted on ``x`` from gm.HMM's start
    (equal segments, stay or move on at 0.5); not caught if hmmlearn raises."""
    from gesturemap.models.hmm import _initial_parameters

    means, covs = _initial_parameters(x, np.concatenate([[0], np.cumsum(lengths)]), n, True,
                                      0.001)
    h = GaussianHMM(n_components=n, covariance_type="diag", min_covar=0.001, n_iter=n_iter,
                    tol=0.01, params="stmc", init_params="", implementation=implementation)
    trans = np.eye(n) * 0.5 + np.eye(n, k=1) * 0.5
    trans[-1, -1] = 1.0
    h.startprob_, h.transmat_ = np.eye(1, n).ravel(), trans
    h.means_, h.covars_ = means, np.diagonal(covs, axis1=1, axis2=2).copy()
    return h.fit(x, lengths)


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
@pytest.mark.parametrize("transition", ["left-right", "ergodic"])
def test_log_likelihood_equals_hmmlearns_score(ref, covariance, transition):
    ds = small_dataset(ref, False)
    model = gm.HMM(4, covariance=covariance, transition=transition).fit(ds)
    xs = ref.x_test[100:220]
    z = (xs - model.mean_) / model.scale_  # the model works on standardised inputs
    expected = [_oracle(model, i).score(z) for i in range(len(model.labels_))]
    np.testing.assert_allclose(model.log_likelihood(xs), expected, rtol=1e-9)
    # streamed frame by frame: the cumulative log-likelihood at the last frame is the same
    last = model.stream().run(xs)[-1]
    np.testing.assert_allclose(last.log_likelihoods, expected, rtol=1e-9)


def test_training_is_hmmlearns_baum_welch(ref):
    """The learned parameters are those hmmlearn's own Baum-Welch reaches from the same start
    (our equal-segment initialisation, left-right structure)."""
    ds = small_dataset(ref, False)
    model = gm.HMM(3, em_max_iterations=5).fit(ds)
    recs = [r for r in ds if r.label == model.labels_[0]]
    x = (np.vstack([r.inputs for r in recs]) - model.mean_) / model.scale_
    h = _hmmlearn_left_right(x, [len(r.inputs) for r in recs], 3, 5)
    c = model.class_params_[0]
    np.testing.assert_allclose(c["means"], h.means_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c["transmat"], h.transmat_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c["covars"], h.covars_, rtol=1e-10, atol=1e-12)


def test_left_right_stays_left_right(ref):
    model = gm.HMM(4).fit(small_dataset(ref, False))
    for c in model.class_params_:
        assert np.allclose(np.tril(c["transmat"], -1), 0.0)
        assert c["startprob"][0] == pytest.approx(1.0)


def test_regression_data_is_refused_with_advice(ref):
    with pytest.raises(gm.GesturemapError, match="HHMM"):
        gm.HMM().fit(small_dataset(ref, True))


def test_short_takes_get_fewer_states():
    ds = gm.Dataset()
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        for _ in range(3):
            ds.add(rng.normal(size=(3, 2)) + (label == "b"), label=label)
    model = gm.HMM(states=8).fit(ds)
    assert all(len(c["startprob"]) == 3 for c in model.class_params_)
    assert model.training_info_["classes"]["a"]["states"] == 3


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # hmmlearn's scaling pass, on purpose
def test_a_fit_the_scaling_pass_leaves_non_finite_is_redone_in_the_log_domain(datasets_dir):
    """On a real take with first differences (ShoulderExerciseWatch, subject 5's whole "ER"
    recording; the whole "IR" class did it too), hmmlearn's "scaling" Baum-Welch ends on NaN
    parameters without an error: the model is the log domain's fit from the same start,
    finite, and says so."""
    z = np.load(datasets_dir / "ShoulderExerciseWatch" / "ShoulderExerciseWatch_train.npz")
    takes = np.split(z["X_concat"], np.cumsum(z["lengths"])[:-1])
    takes = [np.hstack([x, np.diff(x, axis=0, prepend=x[:1])])
             for x, y, subject, n in zip(takes, z["y"], z["subject"], z["full_lengths"],
                                         strict=True)
             if str(y) == "ER" and subject == 5 and len(x) == n]
    assert len(takes) == 1  # the cut keeps this one whole
    ds = gm.Dataset()
    for x in takes:
        ds.add(x, label="ER")
    model = gm.HMM(10).fit(ds)
    assert model.training_info_["classes"]["ER"]["implementation"] == "log"
    c = model.class_params_[0]
    assert all(np.isfinite(c[k]).all() for k in ("startprob", "transmat", "means", "covars"))
    x = (np.vstack(takes) - model.mean_) / model.scale_
    lengths = [len(t) for t in takes]
    fits = {impl: _hmmlearn_left_right(x, lengths, 10, 20, impl) for impl in ("scaling", "log")}
    assert not np.isfinite(fits["scaling"].means_).all()  # what the model must not keep
    np.testing.assert_allclose(c["means"], fits["log"].means_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c["transmat"], fits["log"].transmat_, rtol=1e-10, atol=1e-12)
    assert np.isfinite(model.log_likelihood(takes[0])).all()


#: Per-channel mean and standard deviation of every ShoulderExerciseWatch frame of the subjects
#: other than 8 (the full data set's, rounded; the repository keeps excerpts of most recordings)
WATCH_MEAN_BUT_SUBJECT_8 = np.array([-0.009, 0.387, -0.149, 0.025, -0.002, 0.015])
WATCH_STD_BUT_SUBJECT_8 = np.array([0.902, 0.498, 0.549, 0.998, 2.519, 1.074])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # hmmlearn's own fit, diverging
def test_a_baum_welch_that_diverges_keeps_its_last_finite_step(datasets_dir):
    """ShoulderExerciseWatch, every subject but 8, class "PEN" (whole recordings), 10 states,
    inputs standardised beforehand with every frame's mean and standard deviation (all classes,
    every subject but 8; of the full data set: the cut keeps excerpts of the other classes):
    hmmlearn's log-domain Baum-Welch reaches NaN after some iterations (a state that no
    longer leaves starves the next one). The model keeps the last parameters whose
    log-likelihood was finite: hmmlearn's own fit stopped one step before."""
    takes, labels, subjects = [], [], []
    for part in ("train", "test"):
        z = np.load(datasets_dir / "ShoulderExerciseWatch" / f"ShoulderExerciseWatch_{part}.npz")
        takes += np.split(z["X_concat"].astype(np.float64), np.cumsum(z["lengths"])[:-1])
        labels += [str(y) for y in z["y"]]
        subjects += [int(s) for s in z["subject"]]
    mean, std = WATCH_MEAN_BUT_SUBJECT_8, WATCH_STD_BUT_SUBJECT_8
    pen = [(takes[i] - mean) / std for i in range(len(takes))
           if subjects[i] != 8 and labels[i] == "PEN"]
    assert len(pen) == 18 and sum(map(len, pen)) == 23_641  # every one whole
    ds = gm.Dataset()
    for x in pen:
        ds.add(x, label="PEN")
    model = gm.HMM(10, em_max_iterations=30, standardize=False).fit(ds)
    info = model.training_info_["classes"]["PEN"]
    assert info["stopped"] == "not finite" and info["implementation"] == "log"
    c = model.class_params_[0]
    assert all(np.isfinite(c[k]).all() for k in ("startprob", "transmat", "means", "covars"))
    x = np.vstack(pen)
    lengths = [len(t) for t in pen]

    def hmmlearn_fit(n_iter):
        return _hmmlearn_left_right(x, lengths, 10, n_iter, "log")

    assert not np.isfinite(hmmlearn_fit(30).means_).all()  # the divergence is real
    h = hmmlearn_fit(info["iterations"] - 1)
    np.testing.assert_allclose(c["means"], h.means_, rtol=1e-10, atol=1e-12)
    expected = h.transmat_.copy()  # a state never seen to leave stays put (gm.HMM's repair)
    dead = ~(expected.sum(axis=1) > 0)
    expected[dead] = np.eye(10)[dead]
    np.testing.assert_allclose(c["transmat"], expected, rtol=1e-10, atol=1e-12)
    assert np.isfinite(model.log_likelihood(pen[0])).all()


def test_a_cancel_stops_baum_welch_between_two_steps(ref):
    """A retrain cancelled while a class trains stops at its next EM step, not only at the
    next class (hmmlearn's loop runs a step per call)."""
    from gesturemap.errors import TrainingCancelled
    from gesturemap.models.base import Cancel

    class AfterChecks(Cancel):
        def __init__(self, n):
            super().__init__()
            self.checks, self.n = 0, n

        def is_set(self):
            self.checks += 1
            return self.checks > self.n

    recordings = list(small_dataset(ref, False))
    ds = gm.Dataset()
    for r in recordings:
        if r.label == recordings[0].label:
            ds.add(r.inputs, label=r.label)  # one class: one check before it, then per step
    cancel = AfterChecks(3)
    model = gm.HMM(3, em_max_iterations=50, em_tolerance=0.0)
    with pytest.raises(TrainingCancelled):
        model.fit(ds, cancel=cancel)
    assert cancel.checks == 4
    assert not hasattr(model, "class_params_")


def test_a_full_covariance_of_alike_frames_is_floored_not_refused(tmp_path):
    """Takes held still in three postures: with full covariances each state sees frames all
    alike and hmmlearn's M-step (no floor) leaves a singular matrix. The model adds
    ``min_covar`` to its diagonal, says so, and recognises the takes (it refused to train)."""
    rng = np.random.default_rng(0)
    ds, tests = gm.Dataset(), []
    postures = {"up": [(0, 0), (1, 2), (2, 4)], "down": [(0, 0), (-1, 1), (-2, 3)]}
    for label, levels in postures.items():
        for i in range(4):
            lengths = rng.integers(5, 12, size=3)
            x = np.vstack([np.tile(v, (n, 1)) for v, n in zip(levels, lengths, strict=True)])
            (ds.add(x.astype(float), label=label) if i < 3 else tests.append((x, label)))
    model = gm.HMM(3, covariance="full").fit(ds)
    info = model.training_info_["classes"]
    assert all(info[lb]["floored_covariances"] > 0 for lb in postures)
    for c in model.class_params_:
        assert min(np.linalg.eigvalsh(v).min() for v in c["covars"]) > 0
    assert model.predict([x.astype(float) for x, _ in tests]) == [lb for _, lb in tests]
    loaded = gm.load(model.save(tmp_path / "m"))  # and it saves and loads
    np.testing.assert_array_equal(loaded.log_likelihood(tests[0][0].astype(float)),
                                  model.log_likelihood(tests[0][0].astype(float)))


# -- parameter names: EM stopping as the XMM models name it -----------------------------------


def test_the_old_em_names_warn_and_train_the_same_model(ref):
    """``iterations`` / ``tolerance`` (the names before ``em_max_iterations`` /
    ``em_tolerance``) still work this release: a DeprecationWarning names the new one, and
    the model is the one the new names train."""
    ds = small_dataset(ref, False)
    new = gm.HMM(3, em_max_iterations=4, em_tolerance=0.5).fit(ds)
    with pytest.warns(DeprecationWarning) as caught:
        old = gm.HMM(3, iterations=4, tolerance=0.5)
    assert sorted(str(w.message) for w in caught) == [
        "HMM: 'iterations' is deprecated; use 'em_max_iterations'.",
        "HMM: 'tolerance' is deprecated; use 'em_tolerance'."]
    assert {w.filename for w in caught} == {__file__}  # points at the caller's line
    assert old.get_params() == new.get_params()
    assert "iterations" not in old.get_params() and "tolerance" not in old.get_params()
    old.fit(ds)
    for a, b in zip(old.class_params_, new.class_params_, strict=True):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    # and through set_params
    model = gm.HMM(3)
    with pytest.warns(DeprecationWarning, match="use 'em_max_iterations'"):
        model.set_params(iterations=4)
    assert model.em_max_iterations == 4 and not hasattr(model, "iterations")
    with pytest.raises(gm.GesturemapError, match="give 'em_tolerance' only"):
        gm.HMM(3, tolerance=0.1, em_tolerance=0.2)


def test_the_new_em_names_are_checked_by_their_names():
    with pytest.raises(gm.GesturemapError, match="em_max_iterations"):
        gm.check_params("hmm", {"em_max_iterations": 0})
    with pytest.raises(gm.GesturemapError, match="em_tolerance"):
        gm.check_params("hmm", {"em_tolerance": -1.0})
    assert gm.check_params("hmm", {"em_tolerance": 0.1})["em_tolerance"] == 0.1


def test_a_model_saved_with_the_old_em_names_loads(ref, tmp_path):
    """A file written before the rename names ``iterations`` and ``tolerance``: it loads
    silently (the file is not the user's code) with those values under the new names, and
    decides as it did."""
    ds = small_dataset(ref, False)
    model = gm.HMM(3, em_max_iterations=6, em_tolerance=0.25).fit(ds)
    path = model.save(tmp_path / "old.json")
    doc = json.loads(path.read_text())
    params = doc["params"]
    params["iterations"] = params.pop("em_max_iterations")
    params["tolerance"] = params.pop("em_tolerance")
    path.write_text(json.dumps(doc))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = gm.load(path)
    assert loaded.get_params() == model.get_params()
    xs = ref.x_test[100:220]
    np.testing.assert_array_equal(loaded.log_likelihood(xs), model.log_likelihood(xs))


def test_a_frame_every_class_finds_impossible_does_not_tie_the_stream_for_good():
    # a glitch of 1e300 overflows every state's squared distance: each class's cumulative
    # log-likelihood was set to -1e300, which absorbed every later frame's, so the stream
    # stayed at even odds (the first class named) until a reset
    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    for _ in range(3):
        ds.add(rng.normal(size=(30, 3)), label="a")
        ds.add(rng.normal(size=(30, 3)) + 3, label="b")
    model = gm.HMM().fit(ds)
    take = ds[1].inputs
    stream = model.stream()
    stream.run(take[:5])
    glitch = stream.step(np.full(3, 1e300))
    np.testing.assert_array_equal(glitch.likelihoods, [0.5, 0.5])
    after = stream.run(take)[-1]
    assert after.label == "b"
    assert after.likelihoods[1] > 0.99
    # the batch computation agrees: the frames after the glitch decide
    glitched = np.vstack([take[:5], np.full((1, 3), 1e300), take])
    assert model.predict([glitched]) == ["b"]
