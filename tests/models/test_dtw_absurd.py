"""A DTW stream skips an absurd frame (a corrupted but finite value): every match since the
reset would otherwise carry its cost and the label would stay stuck until the next reset."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gesturemap as gm

T = np.linspace(0, 1, 90)[:, None]


def _gesture(c: int, rng: np.random.Generator, size: float = 1.0) -> np.ndarray:
    f = np.array([1.0 + c, 2.0 - 0.5 * c, 0.5 + c])
    return size * np.sin(2 * np.pi * f * T + c) + 0.05 * rng.standard_normal((len(T), 3))


def _model(**params) -> gm.DTW:
    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    for c in range(3):
        for _ in range(3):
            ds.add(_gesture(c, rng), f"g{c}")
    return gm.DTW(**params).fit(ds)


def _run(model: gm.DTW, frames: np.ndarray) -> list:
    stream = model.stream()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return [stream.step(f) for f in frames]


@pytest.mark.parametrize("normalization", ["global", "none", "take", "window"])
@pytest.mark.parametrize("value", [1e30, -1e30, 1e200])
@pytest.mark.parametrize("where", [0, 40])
def test_an_absurd_frame_is_skipped_as_if_it_had_not_come(normalization, value, where):
    model = _model(normalization=normalization)
    rng = np.random.default_rng(5)
    for c in range(3):
        take = _gesture(c, rng)
        bad = np.insert(take, where, np.full(3, value), axis=0)
        clean, dirty = _run(model, take), _run(model, bad)
        del dirty[where]
        # every answer after the frame is the clean run's, to the last bit
        assert [r.label for r in dirty] == [r.label for r in clean]
        np.testing.assert_array_equal(np.array([r.distances for r in dirty]),
                                      np.array([r.distances for r in clean]))
        assert clean[-1].label == f"g{c}"


def test_the_skipped_frame_answers_the_last_result_or_nothing_ahead():
    model = _model()
    stream = model.stream()
    first = stream.step(np.full(3, 1e30))  # before any real frame: no class ahead
    assert np.all(np.isinf(first.distances)) and first.match is None
    np.testing.assert_allclose(first.likelihoods, 1 / 3)
    r = stream.step(_gesture(1, np.random.default_rng(1))[0])
    assert stream.step(np.full(3, -1e30)) is r


def test_a_big_real_movement_is_not_skipped():
    """20 times a trained gesture's size is a movement, not a corrupted value: it is matched
    (its distances change), not skipped."""
    model = _model()
    rng = np.random.default_rng(3)
    big = _gesture(2, rng, size=20.0)
    results = _run(model, big)
    assert len({tuple(r.distances) for r in results[5:]}) > 10
