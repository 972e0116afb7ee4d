"""``delta_lag``: the HHMM's and GMM's delta over L frames, ``(x[t] - x[t-L]) / L`` (the
frames before the first taken to be the first). The same in training, ``predict`` and streams;
``delta_lag=1`` is the first difference the models had before the option, bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import FormatError, GesturemapError
from gesturemap.models import hhmm as hhmm_module
from gesturemap.models.base import restore
from gesturemap.models.gmm import DeltaFrames, with_deltas

from .test_live_decision import _vowels, last_labels

#: Log-likelihoods of ``HHMM(n_jobs=1)`` and ``GMM(n_jobs=1)`` (their defaults then,
#: first-difference deltas) trained on the first 6 takes per speaker of JapaneseVowels' training
#: file, on its first 10 test takes (``predict``'s and a reset stream's at the last frame),
#: computed by the code before ``delta_lag`` existed.
REFERENCE = Path(__file__).resolve().parents[1] / "data" / "deltas" / \
    "first_difference_reference.npz"


def _explicit(x: np.ndarray, lag: int) -> np.ndarray:
    """The definition, frame by frame."""
    return np.array([(x[t] - x[max(t - lag, 0)]) / lag for t in range(len(x))]).reshape(x.shape)


@pytest.mark.parametrize("lag", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("n", [1, 2, 5, 30])
def test_with_deltas_is_the_definition(lag, n):
    x = np.random.default_rng(n).normal(size=(n, 3))
    got = with_deltas(x, lag)
    np.testing.assert_array_equal(got[:, :3], x)
    np.testing.assert_allclose(got[:, 3:], _explicit(x, lag), rtol=1e-15, atol=0)
    assert not got[0, 3:].any()


def test_lag_one_is_the_first_difference_exactly():
    x = np.random.default_rng(1).normal(size=(40, 4))
    d = np.zeros_like(x)
    d[1:] = x[1:] - x[:-1]
    assert np.array_equal(with_deltas(x, 1), np.hstack([x, d]))
    assert np.array_equal(with_deltas(x), with_deltas(x, 1))


@pytest.mark.parametrize("lag", [1, 2, 4])
def test_frames_one_by_one_or_by_chunks_equal_the_batch(lag):
    """A stream's frames (one call per input, or :meth:`DeltaFrames.run` over chunks as the
    spotter runs them) equal :func:`with_deltas` over the frames since the reset, exactly."""
    x = np.random.default_rng(lag).normal(size=(50, 3))
    frames = DeltaFrames(3, True, lag)
    for _ in range(2):  # and again after a reset
        frames.reset()
        one = np.array([frames(f).copy() for f in x])
        assert np.array_equal(one, with_deltas(x, lag))
    for cuts in ([0, 1, 50], [0, 3, 4, 17, 50], [0, 25, 50]):
        frames.reset()
        chunks = [frames.run(x[a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        assert np.array_equal(np.vstack(chunks), with_deltas(x, lag))
    # a chunk, then single frames: the state after run() is the one stepping leaves
    frames.reset()
    head = frames.run(x[:7])
    tail = np.array([frames(f).copy() for f in x[7:]])
    assert np.array_equal(np.vstack([head, tail]), with_deltas(x, lag))


@pytest.fixture(scope="module")
def vowels(datasets_dir):
    """JapaneseVowels (12-D, 9 speakers): the first 6 training takes per speaker, the first 10
    test takes (the reference's data)."""
    return _vowels(datasets_dir, n_train=6, n_test=10)


@pytest.fixture
def hhmm_then(monkeypatch):
    """The HHMM's ``covariance="auto"`` threshold of then (2 frames per state per dimension,
    the GMM's; the HHMM's is 1): on these 6 takes a speaker it decides which
    classes are full."""
    monkeypatch.setattr(hhmm_module, "HHMM_AUTO_FULL_FRAMES_PER_DIM", 2.0)


def _live(model, seqs):
    """Each sequence's log-likelihoods at its last frame, the stream reset at its start."""
    return np.array([r.log_likelihoods for r in last_labels(model, seqs)])


@pytest.mark.parametrize("kind", ["hhmm", "gmm"])
def test_lag_one_gives_the_earlier_models_likelihoods(vowels, kind, hhmm_then):
    """``delta_lag=1`` trains and scores as the code before the option: the same
    log-likelihoods, batch and live (equal to the last bit on the machine that wrote the
    reference; the tolerance allows for another BLAS). The HHMM with its defaults of then
    (5 states, regularisation 0.01, the auto covariance's threshold 2: the defaults then)."""
    ref = np.load(REFERENCE, allow_pickle=False)
    ds, test, _ = vowels
    then = {"states": 5, "relative_regularization": 0.01} if kind == "hhmm" else {}
    make = {"hhmm": gm.HHMM, "gmm": gm.GMM}[kind]
    for model in [make(n_jobs=1, delta_lag=1, **then)]:
        model.fit(ds)
        batch = np.array([model.log_likelihood(s) for s in test])
        np.testing.assert_allclose(batch, ref[f"{kind}_loglik"], rtol=1e-12, atol=0)
        np.testing.assert_allclose(_live(model, test), ref[f"{kind}_live"], rtol=1e-12, atol=0)


@pytest.mark.parametrize("lag", [2, 4])
@pytest.mark.parametrize("kind", ["hhmm", "gmm"])
def test_a_longer_lag_changes_the_model_and_streams_as_predict(vowels, kind, lag, hhmm_then):
    ds, test, truth = vowels
    make = {"hhmm": gm.HHMM, "gmm": gm.GMM}[kind]
    then = {"states": 5, "relative_regularization": 0.01} if kind == "hhmm" else {}
    model = make(n_jobs=1, delta_lag=lag, **then).fit(ds)
    batch = np.array([model.log_likelihood(s) for s in test])
    ref = np.load(REFERENCE, allow_pickle=False)[f"{kind}_loglik"]
    assert not np.allclose(batch, ref)  # the option is used, in training and scoring
    np.testing.assert_allclose(_live(model, test), batch, rtol=1e-8)
    predicted = model.predict(test)
    assert np.mean([p == t for p, t in zip(predicted, truth, strict=True)]) > 0.7


def test_the_defaults_chosen_by_leave_one_dataset_out():
    """The GMM's CV chose the delta over 4 frames; the HHMM's joint grid
    chose 2 frames, 10 states, regularisation 0.05 (docs/decisions.md)."""
    hhmm = gm.HHMM()
    assert hhmm.delta_lag == 2 and hhmm.deltas is True
    assert hhmm.states == 10 and hhmm.relative_regularization == 0.05
    assert gm.GMM().delta_lag == 4 and gm.GMM().deltas is True


@pytest.mark.parametrize("kind", ["hhmm", "gmm"])
def test_save_and_load_keep_the_lag(vowels, kind, tmp_path):
    ds, test, _ = vowels
    make = {"hhmm": gm.HHMM, "gmm": gm.GMM}[kind]
    model = make(n_jobs=1, delta_lag=3).fit(ds)
    path = model.save(tmp_path / "m.json")
    loaded = gm.load(path)
    assert loaded.delta_lag == 3
    for s in test[:3]:
        np.testing.assert_array_equal(loaded.log_likelihood(s), model.log_likelihood(s))
    np.testing.assert_array_equal(_live(loaded, test[:3]), _live(model, test[:3]))
    # a file saved before the option existed does not name it: it loads with lag 1
    meta, arrays = model.dump()
    meta["params"].pop("delta_lag")
    assert restore(meta, arrays).delta_lag == 1


@pytest.mark.parametrize("bad", [0, -2, 2.5, True, "2", None])
@pytest.mark.parametrize("make", [gm.HHMM, gm.GMM])
def test_bad_lags_are_refused_at_fit_and_at_load(vowels, make, bad, tmp_path):
    ds, _, _ = vowels
    with pytest.raises(GesturemapError, match="delta_lag"):
        make(delta_lag=bad).fit(ds)
    with pytest.raises(GesturemapError, match="delta_lag"):
        gm.check_params(make.kind, {"delta_lag": bad})
    path = make(n_jobs=1, delta_lag=2).fit(ds).save(tmp_path / "m.json")
    meta = json.loads(path.read_text())
    meta["params"]["delta_lag"] = bad
    path.write_text(json.dumps(meta))
    with pytest.raises(FormatError, match="delta_lag"):
        gm.load(path)
