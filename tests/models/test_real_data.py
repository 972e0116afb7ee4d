"""On real recorded data, the default models recognise whole recordings at least as well as
hmmlearn's baselines (standardised inputs, the datasets' train/test split by speaker or subject).

JapaneseVowels is whole here: its README's baseline. ShoulderExerciseWatch is cut (5-s excerpts
of most recordings: tests/data/shared/datasets/ShoulderExerciseWatch/README.md): the baseline
is hmmlearn's measured on the same cut. The figures on the whole watch data are a benchmark
(``GESTUREMAP_SHARED=... python3 benchmarks/real_data.py``)."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm

#: hmmlearn GaussianHMM per class: JapaneseVowels, the best of ergodic 5 st. / left-right 10 st.
#: (its README's table); ShoulderExerciseWatch's cut, left-right 10 st. (0.690; 5 st.: 0.643),
#: measured as benchmarks/watch_hmm_baselines.py does, on standardised inputs
HMMLEARN_BASELINE = {"JapaneseVowels": 0.978, "ShoulderExerciseWatch": 0.690}


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
    # gm.HHMM() on JapaneseVowels missed this bar with 10 states (0.976, with 5 classes
    # diagonal at 10 states) and meets it with the covariance threshold (0.984)
    acc = _accuracy(datasets_dir, name, factory())
    assert acc >= HMMLEARN_BASELINE[name], f"{name}: {acc:.3f}"


def test_xmm_defaults_fall_short_on_real_data(datasets_dir):
    """Why the defaults differ from XMM's: XMM's own settings do worse on real data (the whole
    JapaneseVowels: 0.976, under hmmlearn's 0.978 that ``gm.HHMM()`` reaches; on the whole
    watch data too, 0.714 against 0.738: benchmarks/real_data.py)."""
    xmm = gm.HHMM(10, relative_regularization=0.01, em_percent_change=0.01, deltas=False,
                  decision="window")
    assert _accuracy(datasets_dir, "JapaneseVowels", xmm) < HMMLEARN_BASELINE["JapaneseVowels"]
