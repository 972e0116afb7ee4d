"""DTW ``inactive``: a class switched off (Wekinator's per-gesture on/off) keeps its takes in
the dataset but never matches; the model trained without it is the model of the others."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError

from .test_dtw import shape


def _dataset() -> gm.Dataset:
    rng = np.random.default_rng(3)
    ds = gm.Dataset()
    for label in (1, 2, 3):
        for n in (40, 46, 52):
            ds.add(shape(label - 1, n) + rng.normal(scale=0.02, size=(n, 2)), label=label)
    return ds


def test_a_class_switched_off_never_matches_even_when_performed():
    ds = _dataset()
    gesture = shape(1, 45)  # class 2, performed exactly
    on = gm.DTW(decision="cumulative").fit(ds)
    stream = on.stream()
    assert [stream.step(f) for f in gesture][-1].match == 2
    off = gm.DTW(decision="cumulative", inactive=[2]).fit(ds)
    assert off.labels_ == [1, 3]
    s = off.stream()
    results = [s.step(f) for f in gesture]
    assert all(r.label != 2 and r.match != 2 for r in results)
    assert off.predict([gesture]) != [2]
    # the same model as one trained on the other classes' takes only (nothing else changes)
    others = gm.Dataset()
    for r in ds:
        if r.label != 2:
            others.add(r.inputs, label=r.label)
    plain = gm.DTW(decision="cumulative").fit(others)
    np.testing.assert_array_equal(off.templates_, plain.templates_)
    assert off.threshold_ == plain.threshold_


def test_inactive_as_text_saved_and_loaded(tmp_path):
    ds = _dataset()
    model = gm.DTW(inactive=["2"]).fit(ds)  # JSON settings key a number as text
    assert model.labels_ == [1, 3]
    loaded = gm.load(model.save(tmp_path / "m"))
    assert loaded.get_params()["inactive"] == ["2"] and loaded.labels_ == [1, 3]


def test_every_class_switched_off_or_a_bad_value_is_refused():
    ds = _dataset()
    with pytest.raises(GesturemapError, match="every class with takes is switched off"):
        gm.DTW(inactive=[1, 2, 3]).fit(ds)
    with pytest.raises(GesturemapError, match="inactive"):
        gm.DTW(inactive=2).fit(ds)
    with pytest.raises(GesturemapError, match="inactive"):
        gm.DTW(inactive=[True]).fit(ds)
