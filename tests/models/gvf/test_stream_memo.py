"""A GVF's streams share what they derive from the model's arrays (gesturemap/models/
_stream_memo.py): the engine builds a retrained model's stream on its frame path, where the
tolerance Gaussians of every template frame and the alignments' normed templates cost 50-60 ms
at 20 gestures x 60 channels. Shared, a stream follows exactly as one built anew, and a changed
setting or a refit is never read from the memo."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.models.base import restore


def _takes(seed: int = 0, scale: float = 1.0) -> gm.Dataset:
    rng = np.random.default_rng(seed)
    ds = gm.Dataset()
    t = np.linspace(0, 1, 50)[:, None]
    for k in range(3):
        for _ in range(3):
            x = scale * np.hstack([np.sin(2 * np.pi * (t + 0.3 * k)),
                                   np.cos(2 * np.pi * (k + 1) * t), t ** (k + 1)])
            ds.add(x + 0.02 * rng.standard_normal(x.shape), label=f"c{k}")
    return ds


def _follow(model: gm.GVF, x: np.ndarray) -> np.ndarray:
    return np.array([np.r_[r.likelihoods, r.speed, r.scale.ravel(), r.progress]
                     for r in model.stream().run(x)])


def _fresh(model: gm.GVF) -> gm.GVF:
    """The same model with no memo: saved and loaded (new arrays)."""
    return restore(*model.dump())


def test_streams_share_the_derived_arrays_and_follow_as_a_fresh_one():
    ds = _takes()
    model = gm.GVF(300, templates=gm.GVF.Templates(learned_tolerance=True)).fit(ds)
    a, b = model.stream(), model.stream()
    assert a._inv_vars is b._inv_vars and a._align._normed is b._align._normed
    x = ds[4].inputs[::-1].copy()
    np.testing.assert_array_equal(_follow(model, x), _follow(_fresh(model), x))


@pytest.mark.parametrize("change", [{"tolerance": 0.3}, {"templates__learned_tolerance": True},
                                    {"alignment__floor": 0.2}])
def test_a_changed_setting_is_not_read_from_the_memo(change):
    ds = _takes()
    model = gm.GVF(300).fit(ds)
    x = ds[7].inputs
    before = _follow(model, x)
    model.set_params(**change)
    after = _follow(model, x)
    assert not np.array_equal(before, after)
    np.testing.assert_array_equal(after, _follow(_fresh(model), x))


def test_a_refit_is_not_read_from_the_memo():
    model = gm.GVF(300).fit(_takes())
    old = model.stream()._inv_vars
    other = _takes(seed=1, scale=3.0)
    model.fit(other)
    assert model.stream()._inv_vars is not old
    x = other[2].inputs
    np.testing.assert_array_equal(_follow(model, x), _follow(_fresh(model), x))


def test_a_copy_keeps_its_own_memo():
    """copy.copy shares the original's attribute values: a copy given other settings must
    neither read the original's derived arrays nor replace them."""
    import copy

    model = gm.GVF(300).fit(_takes())
    shared_before = model.stream()._inv_vars
    clone = copy.copy(model)
    clone.tolerance = 0.3
    assert clone.stream()._inv_vars is not shared_before
    assert model.stream()._inv_vars is shared_before
