"""A DTW model lays its templates out for streaming once, not at every ``stream()``.

The engine builds the new model's stream on its frame path when it swaps a retrained model
in; laying the templates out there (a Python loop over every block of every template) held the
frames for 15-20 ms at 20 gestures x 60 channels (150 takes). The trainer loads the model's
kernels off the frame path (``load_kernels``), which now also lays the templates out.
"""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.models import _dtw_kernels
from gesturemap.models.base import load_kernels, restore


def takes(seed: int = 0) -> gm.Dataset:
    rng = np.random.default_rng(seed)
    ds = gm.Dataset()
    for c in range(3):
        base = np.cumsum(rng.normal(size=(40, 4)), axis=0)
        for _ in range(3):
            ds.add(base[: int(rng.integers(30, 41))] + 0.1 * rng.normal(size=(1, 4)), f"g{c}")
    return ds


@pytest.fixture
def layouts(monkeypatch):
    """How many times the templates were laid out for a stream."""
    count = [0]
    real = _dtw_kernels.template_blocks

    def counting(*args, **kwargs):
        count[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(_dtw_kernels, "template_blocks", counting)
    return count


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_streams_after_load_kernels_lay_out_nothing(layouts, precision):
    # as the engine gets a retrained model: restored from the training process's wire form,
    # its kernels loaded by the trainer's reader thread, then its stream built on the frame path
    meta, arrays = gm.DTW(precision=precision).fit(takes()).dump()
    model = restore(meta, arrays)
    assert load_kernels(model)
    laid_out = layouts[0]
    assert laid_out == 1
    streams = [model.stream() for _ in range(3)]
    assert layouts[0] == laid_out
    # every stream still answers as a model that never shared its layout
    fresh = gm.DTW(precision=precision).fit(takes())
    query = takes(seed=1)[4].inputs
    for stream in streams:
        mine = fresh.stream()
        for frame in query:
            a, b = stream.step(frame), mine.step(frame)
            assert a.label == b.label
            np.testing.assert_array_equal(a.distances, b.distances)


def test_a_refit_lays_the_new_templates_out(layouts):
    model = gm.DTW().fit(takes())
    model.stream()
    before = model.stream().step(takes(seed=1)[0].inputs[0]).distances
    model.fit(takes(seed=2))
    count = layouts[0]
    after = model.stream().step(takes(seed=1)[0].inputs[0]).distances
    assert layouts[0] == count + 1
    expected = gm.DTW().fit(takes(seed=2)).stream().step(takes(seed=1)[0].inputs[0]).distances
    np.testing.assert_array_equal(after, expected)
    assert not np.array_equal(before, after)
