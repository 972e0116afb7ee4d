"""On real recorded data, the default models recognise whole recordings at least as well as
the hmmlearn baselines of the datasets' READMEs (standardised inputs, official split)."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm

#: hmmlearn GaussianHMM per class, best of ergodic 5 st. / left-right 10 st. (README tables)
HMMLEARN_BASELINE = {"JapaneseVowels": 0.978, "ShoulderExerciseWatch": 0.738}


def _split(path):
    z = np.load(path, allow_pickle=False)
    xs = np.split(z["X_concat"], np.cumsum(z["lengths"])[:-1])
    return xs, [str(v) for v in z["y"]]


def _accuracy(datasets_dir, name, model):
    train_x, train_y = _split(datasets_dir / name / f"{name}_train.npz")
    test_x, test_y = _split(datasets_dir / name / f"{name}_test.npz")
    stacked = np.vstack(train_x)
    mean, std = stacked.mean(axis=0), stacked.std(axis=0)
    std[std == 0] = 1.0
    ds = gm.Dataset()
    for x, y in zip(train_x, train_y, strict=True):
        ds.add((x - mean) / std, label=y)
    model.fit(ds)
    predicted = model.predict([(x - mean) / std for x in test_x])
    return float(np.mean([p == y for p, y in zip(predicted, test_y, strict=True)]))


@pytest.mark.parametrize("factory", [gm.HHMM, gm.GMM], ids=["hhmm", "gmm"])
@pytest.mark.parametrize("name", list(HMMLEARN_BASELINE))
def test_default_models_match_hmmlearn(datasets_dir, name, factory):
    # gm.HHMM() on JapaneseVowels missed this bar after issue 10f (0.976, with 5 classes
    # diagonal at 10 states) and meets it again since issue 10g's covariance threshold (0.984)
    acc = _accuracy(datasets_dir, name, factory())
    assert acc >= HMMLEARN_BASELINE[name], f"{name}: {acc:.3f}"


def test_xmm_defaults_fall_short_on_watch(datasets_dir):
    """Why the defaults differ from XMM's: XMM's own settings do worse on this real data."""
    xmm = gm.HHMM(10, relative_regularization=0.01, em_percent_change=0.01, deltas=False,
                  decision="window")
    assert _accuracy(datasets_dir, "ShoulderExerciseWatch", xmm) < HMMLEARN_BASELINE[
        "ShoulderExerciseWatch"]
