"""gesturemap computes what IRCAM's XMM computes: inference and training, frame by frame."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import gesturemap as gm

from .conftest import REFERENCE_SETTINGS, reference_model
from .xmm_reference import run_gmr_mixture, run_hhmm

VARIANTS = {"gmm": "gmm", "hhmm": "hhmm", "gmr": "gmr_mc-likeliest", "hmr": "hmr_full_mc-likeliest"}


def _stack(results, name):
    return np.array([getattr(r, name) for r in results])


def _close_where_finite(ours, ref, atol=0.0, rtol=0.0):
    ref = ref.reshape(ours.shape)
    finite = np.isfinite(ref)
    assert np.isfinite(ours).all(), "gesturemap must stay finite where XMM is not"
    np.testing.assert_allclose(ours[finite], ref[finite], atol=atol, rtol=rtol)
    return finite


@pytest.mark.parametrize("kind", list(VARIANTS))
def test_imported_model_reproduces_xmm_oracle(ref, kind):
    model = gm.load_xmm(ref.dir / kind / "model.xmm.json")
    variant = VARIANTS[kind]
    assert model.labels_ == ["g0", "g1", "g2", "g3", "g4"]
    res = model.stream().run(ref.x_test)
    o = lambda name: ref.oracle(variant, name)  # noqa: E731
    _close_where_finite(_stack(res, "likelihoods"), o("smoothed_normalized_likelihoods"), atol=1e-6)
    np.testing.assert_array_equal(_stack(res, "label_index"), o("likeliest"))
    _close_where_finite(_stack(res, "log_likelihoods"), o("smoothed_log_likelihoods"), rtol=1e-6)
    _close_where_finite(_stack(res, "instant_likelihoods"), o("instant_likelihoods"), rtol=1e-6)
    _close_where_finite(
        _stack(res, "instant_normalized_likelihoods"),
        o("instant_normalized_likelihoods"),
        atol=1e-6,
    )
    if kind in ("hhmm", "hmr"):
        # XMM's progress overshoots 1 near a gesture's end (it counts the exit probability
        # in its average but not in the normaliser): gesturemap's stops at 1, equal elsewhere
        assert np.nanmax(o("progress")) > 1.0, "the overshoot is covered"
        ours = _stack(res, "progress")
        assert np.nanmax(ours) <= 1.0
        fin = _close_where_finite(ours, np.minimum(o("progress"), 1.0), atol=1e-6)
        assert (~fin).sum() > 100, "the oracle's NaN progress (underflowed classes) is covered"
        np.testing.assert_array_equal(_stack(res, "likeliest_state"), o("likeliest_state"))
        _close_where_finite(
            _stack(res, "exit_likelihoods"), o("exit_likelihood"), atol=1e-6, rtol=1e-6
        )
        _close_where_finite(_stack(res, "exit_ratios"), o("exit_ratio"), atol=1e-6)
    if kind in ("gmr", "hmr"):
        _close_where_finite(_stack(res, "output"), o("output_values"), atol=1e-4)
        _close_where_finite(_stack(res, "output_covariance"), o("output_covariance"), atol=1e-4)
        _close_where_finite(_stack(res, "class_outputs"), o("class_output_values"), atol=1e-4)
        _close_where_finite(
            _stack(res, "class_output_covariances"), o("class_output_covariance"), atol=1e-4
        )


def test_underflowed_class_stays_finite_and_ranks_last(ref):
    """Where XMM's smoothed log-likelihood is -inf, ours is finite and below every finite one."""
    model = gm.load_xmm(ref.dir / "hhmm" / "model.xmm.json")
    res = model.stream().run(ref.x_test)
    ours = _stack(res, "log_likelihoods")
    xmm = ref.oracle("hhmm", "smoothed_log_likelihoods")
    gone = np.isneginf(xmm)
    assert gone.any()
    assert np.isfinite(ours).all()
    for t in np.where(gone.any(axis=1))[0]:
        finite = ~gone[t]
        if finite.any():
            assert ours[t][gone[t]].max() < ours[t][finite].min()


@pytest.mark.parametrize("kind", ["gmm", "gmr"])
def test_gmm_training_reaches_xmm_parameters(ref, trained, kind):
    model = trained(kind)
    means = ref.params_array(kind, "means")
    covs = ref.params_array(kind, "covariances")
    weights = ref.params_array(kind, "mixture_coeffs")
    status = ref.params["training_status"][kind]
    for c, cls in enumerate(model.class_params_):
        scale_m = np.abs(means[c]).max()
        scale_c = np.abs(covs[c]).max()
        np.testing.assert_allclose(cls["means"], means[c], atol=1e-3 * scale_m)
        np.testing.assert_allclose(
            cls["covariances"].reshape(covs[c].shape), covs[c], atol=1e-3 * scale_c
        )
        np.testing.assert_allclose(cls["weights"], weights[c], atol=1e-6)
        assert cls["iterations"] == status[f"g{c}"]["iterations"]
        assert cls["log_likelihood"] == pytest.approx(status[f"g{c}"]["log_likelihood"], rel=1e-6)


@pytest.mark.parametrize("kind", ["hhmm", "hmr"])
def test_hmm_training_reaches_xmm_parameters(ref, trained, kind):
    model = trained(kind)
    means = ref.params_array(kind, "state_means")
    covs = ref.params_array(kind, "state_covariances")
    trans = ref.params_array(kind, "transition")
    status = ref.params["training_status"][kind]
    for c, cls in enumerate(model.class_params_):
        np.testing.assert_allclose(cls["means"], means[c], atol=1e-3 * np.abs(means[c]).max())
        np.testing.assert_allclose(
            cls["covariances"].reshape(covs[c].shape), covs[c], atol=1e-3 * np.abs(covs[c]).max()
        )
        t = cls["transition"]
        ours = np.stack([np.diag(t), np.append(np.diag(t, 1), 0.0)], axis=1).ravel()
        np.testing.assert_allclose(ours, trans[c], atol=1e-6)
        assert cls["iterations"] == status[f"g{c}"]["iterations"]
    np.testing.assert_allclose(model.top_prior_, ref.params_array(kind, "top_prior"))
    np.testing.assert_allclose(model.top_transition_, ref.params_array(kind, "top_transition"))
    np.testing.assert_allclose(
        model.top_exit_transition_, ref.params_array(kind, "top_exit_transition")
    )
    exit_p = np.stack([c["exit_probabilities"] for c in model.class_params_])
    np.testing.assert_allclose(exit_p, ref.params_array(kind, "exit_probabilities"))


@pytest.mark.parametrize("kind", list(VARIANTS))
def test_trained_model_outputs_match_xmm(ref, trained, kind):
    res = trained(kind).stream().run(ref.x_test)
    variant = VARIANTS[kind]
    likeliest = ref.oracle(variant, "likeliest")
    assert np.mean(_stack(res, "label_index") == likeliest) >= 0.99
    xmm = ref.oracle(variant, "smoothed_normalized_likelihoods")
    np.testing.assert_allclose(_stack(res, "likelihoods"), xmm, atol=1e-3)
    if kind in ("gmr", "hmr"):
        np.testing.assert_allclose(
            _stack(res, "output"), ref.oracle(variant, "output_values"), atol=1e-3
        )


def test_reference_settings_are_explicit_not_defaults():
    """XMM's behaviour stays one set of explicit settings away, whatever the defaults."""
    model = reference_model("hhmm")
    for key, value in REFERENCE_SETTINGS.items():
        assert model.get_params()[key] == value


# -- run-time settings not covered by the oracle: checked against xmm_reference.py ------------
FRAMES = slice(150, 290)  # across the boundary between two test gestures


@pytest.mark.parametrize("hierarchical", [True, False])
@pytest.mark.parametrize("transition", ["left-right", "ergodic"])
def test_hhmm_settings_match_reference_algorithm(ref, hierarchical, transition):
    ds = ref.unimodal
    model = gm.HHMM(
        6, 1, transition=transition, hierarchical=hierarchical, **REFERENCE_SETTINGS
    ).fit(ds)
    xs = ref.x_test[FRAMES]
    ours = model.stream().run(xs)
    expected = run_hhmm(model, xs, hierarchical)
    for r, e in zip(ours, expected, strict=True):
        np.testing.assert_allclose(r.instant_likelihoods, e["inst"], rtol=1e-9, atol=1e-300)
        np.testing.assert_allclose(r.likelihoods, e["smoothed"], atol=1e-9)
        _close_where_finite(r.progress, np.minimum(e["progress"], 1.0), atol=1e-9)  # at most 1
        assert r.label == e["label"]


@pytest.mark.parametrize("estimator", ["full", "windowed", "likeliest"])
@pytest.mark.parametrize("mixture", [False, True])
def test_hmr_estimators_match_reference_algorithm(ref, estimator, mixture):
    model = gm.HHMM(
        6, 2, **{**REFERENCE_SETTINGS, "em_max_iterations": 12, "em_min_iterations": 12}
    ).fit(ref.bimodal)
    model.set_params(
        regression_estimator=estimator, multiclass_regression="mixture" if mixture else "likeliest"
    )
    xs = ref.x_test[FRAMES]
    ours = model.stream().run(xs)
    expected = run_hhmm(model, xs, True, estimator=estimator, mixture=mixture)
    for r, e in zip(ours, expected, strict=True):
        np.testing.assert_allclose(r.output, e["output"], atol=1e-9)
        np.testing.assert_allclose(r.output_covariance, e["output_cov"], atol=1e-9)


def test_gmr_mixture_matches_reference_algorithm(ref, trained):
    model = copy.deepcopy(trained("gmr"))
    model2 = gm.load_xmm(ref.dir / "gmr" / "model.xmm.json")
    for m in (model, model2):
        m.set_params(multiclass_regression="mixture")
        xs = ref.x_test[FRAMES]
        ours = m.stream().run(xs)
        for r, e in zip(ours, run_gmr_mixture(m, xs), strict=True):
            np.testing.assert_allclose(r.output, e["output"], atol=1e-9)
            np.testing.assert_allclose(r.output_covariance, e["output_cov"], atol=1e-9)
