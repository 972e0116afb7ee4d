"""ignore_channels: the channels named never reach the model, in fit and in every step."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm

FAMILIES = [gm.GMM(2), gm.HHMM(3), gm.KNN(), gm.DTW(), gm.SVM(), gm.NaiveBayes()]


def _data(seed: int = 0) -> gm.Dataset:
    rng = np.random.default_rng(seed)
    ds = gm.Dataset()
    for label, shift in (("a", 0.0), ("b", 2.0)):
        for _ in range(3):
            x = rng.normal(size=(30, 4))
            x[:, 0] += shift
            ds.add(x, label=label)
    return ds


def _reduced(ds: gm.Dataset, kept: list[int]) -> gm.Dataset:
    out = gm.Dataset()
    for r in ds:
        out.add(r.inputs[:, kept], label=r.label)
    return out


@pytest.mark.parametrize("model", FAMILIES, ids=lambda m: type(m).__name__)
def test_same_as_training_without_the_channels(model, tmp_path):
    ds = _data()
    params = model.get_params()
    ignoring = type(model)(**{**params, "ignore_channels": [1, 3]}).fit(ds)
    plain = type(model)(**params).fit(_reduced(ds, [0, 2]))
    seq = ds[1].inputs
    np.testing.assert_allclose(ignoring.log_likelihood(seq), plain.log_likelihood(seq[:, [0, 2]]))
    # the ignored channels may hold anything: nothing changes
    scrambled = seq.copy()
    scrambled[:, [1, 3]] = 1e3
    np.testing.assert_allclose(ignoring.log_likelihood(scrambled), ignoring.log_likelihood(seq))
    s1, s2 = ignoring.stream(), plain.stream()
    for f in scrambled[:10]:
        r1, r2 = s1.step(f), s2.step(f[[0, 2]])
        np.testing.assert_allclose(r1.log_likelihoods, r2.log_likelihoods)
    with pytest.raises(gm.GesturemapError):
        s1.step(f[[0, 2]])  # a stream takes the full frame
    path = ignoring.save(tmp_path / "m")
    loaded = gm.load(path)
    assert loaded.get_params()["ignore_channels"] == [1, 3]
    np.testing.assert_allclose(loaded.log_likelihood(seq), ignoring.log_likelihood(seq))
    np.testing.assert_allclose(loaded.stream().step(seq[0]).log_likelihoods,
                               ignoring.stream().step(seq[0]).log_likelihoods)


def test_refit_without_ignoring_sees_every_channel():
    ds = _data()
    model = gm.GMM(1, ignore_channels=[2]).fit(ds)
    assert model.input_dim_ == 3 and model.full_input_dim_ == 4
    model.set_params(ignore_channels=None).fit(ds)
    assert model.input_dim_ == 4 and model.kept_channels_ is None


@pytest.mark.parametrize("bad", [[4], [-1], ["x"], [0, 1, 2, 3], [True]])
def test_bad_ignore_channels(bad):
    with pytest.raises(gm.GesturemapError, match="ignore_channels"):
        gm.GMM(1, ignore_channels=bad).fit(_data())


def test_project_settings_accept_it():
    project = gm.Project(model={"kind": "gmm", "params": {"ignore_channels": [1]}})
    assert project.new_model().ignore_channels == [1]


def test_a_featured_models_inner_model_may_ignore_features(tmp_path):
    """Featured's inner model with ignore_channels: Featured's batch log-likelihood gave the
    inner model every feature (wrong scores, wrong labels) and its saved file did not load
    (the features compared with the inner model's kept ones: "damaged")."""
    ds = _data()
    ignoring = gm.models.Featured({"model": "gmm", "params": {"gaussians": 2,
                                                              "ignore_channels": [1, 3]}},
                                  deltas=False).fit(ds)
    plain = gm.models.Featured({"model": "gmm", "params": {"gaussians": 2}},
                               deltas=False).fit(_reduced(ds, [0, 2]))
    seqs = [r.inputs for r in ds]
    for seq in seqs:
        np.testing.assert_allclose(ignoring.log_likelihood(seq),
                                   plain.log_likelihood(seq[:, [0, 2]]))
    loaded = gm.load(ignoring.save(tmp_path / "m"))
    for seq in seqs:
        np.testing.assert_array_equal(loaded.log_likelihood(seq), ignoring.log_likelihood(seq))
    np.testing.assert_array_equal(loaded.stream().step(seqs[0][0]).log_likelihoods,
                                  ignoring.stream().step(seqs[0][0]).log_likelihoods)
