"""covariance="auto": diagonal Gaussians where a class has few frames for its dimension, full
elsewhere; diagonal Gaussians are scored from one contiguous row with the same result."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from scipy.stats import multivariate_normal

import gesturemap as gm
from gesturemap.models._kernels import chol_precision, density, lower, mahalanobis
from gesturemap.models.base import restore
from gesturemap.models.gmm import AUTO_FULL_FRAMES_PER_DIM, AUTO_FULL_MAX_DIM, resolve_covariance
from gesturemap.models.hhmm import HHMM_AUTO_FULL_FRAMES_PER_DIM


def test_diagonal_factor_scores_like_the_full_computation():
    rng = np.random.default_rng(1)
    d = 7
    cov = np.diag(rng.uniform(0.2, 3.0, d))
    mean, x = rng.standard_normal(d), rng.standard_normal(d)
    linv, logdet = chol_precision(cov)
    assert linv[0, d - 1] != 0.0  # the diagonal copied into row 0
    np.testing.assert_allclose(lower(linv), np.diag(1 / np.sqrt(np.diag(cov))))
    np.testing.assert_allclose(logdet, np.log(np.linalg.det(cov)))
    np.testing.assert_allclose(mahalanobis(x, mean, linv),
                               (x - mean) @ np.linalg.solve(cov, x - mean))
    lognorm = -0.5 * (d * np.log(2 * np.pi) + logdet)
    np.testing.assert_allclose(density(x, mean, linv, lognorm),
                               multivariate_normal(mean, cov).pdf(x))
    # a full covariance keeps the plain triangular factor
    a = rng.standard_normal((d, d))
    full = a @ a.T + np.eye(d)
    lf, _ = chol_precision(full)
    assert np.all(np.triu(lf, 1) == 0.0)
    np.testing.assert_allclose(mahalanobis(x, mean, lf),
                               (x - mean) @ np.linalg.solve(full, x - mean))


def test_resolve_covariance_follows_frames_per_dimension():
    d, k = 20, 5
    enough = int(AUTO_FULL_FRAMES_PER_DIM * d * k)
    assert resolve_covariance("auto", enough, k, d) == "full"
    assert resolve_covariance("auto", enough - 1, k, d) == "diagonal"
    assert resolve_covariance("full", 10, k, d) == "full"
    assert resolve_covariance("diagonal", 10**6, k, d) == "diagonal"
    # another threshold (the HHMM's) moves the boundary
    assert resolve_covariance("auto", d * k, k, d, frames_per_dim=1.0) == "full"
    assert resolve_covariance("auto", d * k - 1, k, d, frames_per_dim=1.0) == "diagonal"


def test_auto_is_diagonal_above_the_dimension_cap_whatever_the_frames():
    """A wide project never trains full covariances, however many takes it has: at 20
    gestures x 60 channels x 10 takes the frames alone would make them full (a retrain of
    about 50 s and a step of 2-6 ms, as measured when the threshold was chosen)."""
    assert AUTO_FULL_MAX_DIM == 32
    many = 10**7
    assert resolve_covariance("auto", many, 10, AUTO_FULL_MAX_DIM) == "full"
    assert resolve_covariance("auto", many, 10, AUTO_FULL_MAX_DIM + 1) == "diagonal"
    assert resolve_covariance("auto", many, 10, 120, frames_per_dim=1.0) == "diagonal"
    assert resolve_covariance("full", 10, 10, 120) == "full"  # asked for: still full
    # through the models: 17 channels + deltas (34-D) with plenty of frames stays diagonal,
    # 16 channels (32-D) goes full
    for channels, mode in ((17, "diagonal"), (16, "full")):
        for model in (gm.HHMM(2), gm.GMM(1)):
            model.fit(_takes(2, channels, 2, frames=200))
            assert {c["covariance"] for c in model.class_params_} == {mode}, (model, channels)


def test_hhmm_is_full_from_one_frame_per_state_per_dimension():
    """The HHMM's threshold (1) is its own: a class of 20 frames of a 4-D model
    (2 channels + deltas) is full at 5 states and diagonal with one frame less, where a GMM
    of 5 Gaussians needs twice as many frames."""
    assert HHMM_AUTO_FULL_FRAMES_PER_DIM == 1.0 and AUTO_FULL_FRAMES_PER_DIM == 2.0
    for frames, mode in ((20, "full"), (19, "diagonal")):
        hhmm = gm.HHMM(5).fit(_takes(2, 2, 1, frames=frames))
        assert {c["covariance"] for c in hhmm.class_params_} == {mode}
    gmm = gm.GMM(5).fit(_takes(2, 2, 1, frames=20))
    assert {c["covariance"] for c in gmm.class_params_} == {"diagonal"}
    assert {c["covariance"] for c in gm.GMM(5).fit(_takes(2, 2, 1, frames=40)).class_params_
            } == {"full"}


def _takes(classes, channels, takes, frames=60, seed=0):
    rng = np.random.default_rng(seed)
    ds = gm.Dataset()
    t = np.linspace(0, 1, frames)[:, None]
    for c in range(classes):
        f = rng.uniform(0.5, 2, channels)
        for _ in range(takes):
            ds.add(np.sin(2 * np.pi * f * t + c) + 0.1 * rng.standard_normal((frames, channels)),
                   f"g{c}")
    return ds


@pytest.mark.parametrize("factory", [lambda: gm.HHMM(3), lambda: gm.GMM(2)],
                         ids=["hhmm", "gmm"])
def test_auto_is_diagonal_for_wide_inputs_and_full_for_narrow_ones(factory):
    wide = factory().fit(_takes(3, 30, 2))  # 120 frames a class, 60-D model (deltas)
    assert {c["covariance"] for c in wide.class_params_} == {"diagonal"}
    cov = wide.class_params_[0]["covariances"].reshape(-1, 60, 60)[0]
    assert np.all(cov[~np.eye(60, dtype=bool)] == 0.0)
    narrow = factory().fit(_takes(3, 2, 4))  # 240 frames a class, 4-D model
    assert {c["covariance"] for c in narrow.class_params_} == {"full"}


def _pairs(ds):
    return [(r.inputs, r.label) for r in ds]


def test_auto_recognises_held_out_takes_of_wide_inputs():
    pairs = _pairs(_takes(4, 30, 4, seed=2))
    train, test = gm.Dataset(), pairs[3::4]  # the last take of every class is held out
    for i, (x, y) in enumerate(pairs):
        if i % 4 != 3:
            train.add(x, y)
    for model in (gm.HHMM(4), gm.GMM(2)):  # 180 frames a class: 4 x 60 (HHMM), 2 x 2 x 60
        model.fit(train)
        assert {c["covariance"] for c in model.class_params_} == {"diagonal"}
        assert list(model.predict([x for x, _ in test])) == [y for _, y in test]


@pytest.mark.parametrize("name", ["ShoulderExerciseWatch", "JapaneseVowels",
                                  "HAPTTransitions"])
def test_auto_keeps_full_covariances_on_the_shared_datasets(datasets_dir, name):
    """The default models are full-covariance on the shared datasets (the leave-one-dataset-out
    grids' spelling). With the GMM's threshold (2) the HHMM's 10 states would make
    5 of JapaneseVowels' 9 classes diagonal (377-465 frames, under 2 x 10 states x 24
    dimensions); the HHMM's own threshold (1) keeps them full."""
    path = next((datasets_dir / name).glob("*train*.npz"))
    with np.load(path, allow_pickle=False) as z:
        lengths, labels, d = z["lengths"], z["y"], 2 * z["X_concat"].shape[1]  # + deltas
    frames = Counter()
    for n, y in zip(lengths, labels, strict=True):
        frames[str(y)] += int(n)
    for model, per_dim in ((gm.HHMM(), HHMM_AUTO_FULL_FRAMES_PER_DIM), (gm.GMM(), None)):
        k = model.gaussians * getattr(model, "states", 1)
        modes = Counter(resolve_covariance(model.covariance, n, k, d, per_dim)
                        for n in frames.values())
        assert set(modes) == {"full"}
        if model.kind == "hhmm" and name == "JapaneseVowels":
            gmm_rule = Counter(resolve_covariance(model.covariance, n, k, d)
                               for n in frames.values())
            assert gmm_rule == {"diagonal": 5, "full": 4}


def test_default_hhmm_trains_full_covariances_on_japanese_vowels(datasets_dir):
    """What ``fit`` does, not only the rule: every class of ``gm.HHMM()`` on JapaneseVowels'
    training data is full (the leave-one-dataset-out grid's setting)."""
    with np.load(datasets_dir / "JapaneseVowels" / "JapaneseVowels_train.npz") as z:
        xs = np.split(z["X_concat"], np.cumsum(z["lengths"])[:-1])
        ys = [str(v) for v in z["y"]]
    ds = gm.Dataset()
    for x, y in zip(xs, ys, strict=True):
        ds.add(x, label=y)
    model = gm.HHMM(n_jobs=1).fit(ds)
    assert [c["covariance"] for c in model.class_params_] == ["full"] * 9


@pytest.mark.parametrize("factory", [lambda: gm.HHMM(3), lambda: gm.GMM(2)],
                         ids=["hhmm", "gmm"])
def test_diagonal_models_save_variances_and_load_exactly(tmp_path, factory):
    # a diagonal model's save (and what a retrain's worker sends back) holds d variances a
    # Gaussian, not d x d; it loads to the same matrices, and files with full matrices (saved
    # before) still load
    wide = factory().fit(_takes(3, 30, 2))
    meta, arrays = wide.dump()
    assert not any(k.endswith("_covariances") for k in arrays)
    assert arrays["c0_variances"].shape[-1] == 60
    assert sum(a.nbytes for a in arrays.values()) < 100_000
    back = restore(meta, arrays)
    for a, b in zip(wide.class_params_, back.class_params_, strict=True):
        np.testing.assert_array_equal(a["covariances"], b["covariances"])
    x = _takes(1, 30, 2, seed=5)[0].inputs
    np.testing.assert_array_equal(wide.log_likelihood(x), back.log_likelihood(x))
    old = {k: v for k, v in arrays.items() if not k.endswith("_variances")}
    for i, c in enumerate(wide.class_params_):
        old[f"c{i}_covariances"] = c["covariances"]
    older = restore(meta, old)
    np.testing.assert_array_equal(wide.log_likelihood(x), older.log_likelihood(x))
    wide.save(tmp_path / "m")
    np.testing.assert_array_equal(gm.load(tmp_path / "m").log_likelihood(x),
                                  wide.log_likelihood(x))
    # a full-covariance model keeps its matrices
    narrow = factory().fit(_takes(3, 2, 4))
    assert any(k.endswith("_covariances") for k in narrow.dump()[1])
