"""The null class's covariance floor: an HHMM regularises each class relative to
the spread of its own data, so a null class trained on wide movement and on a still posture
gets Gaussians too wide for that posture; a gesture ending in it then out-scores the null on
every still frame. ``class_params={gm.NULL: {..., "relative_regularization": 0.01}}`` gives
the null class a floor of its own."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from tests.models.spotting.test_core_null_model import P, _sit, _wave  # P: the seated posture


def _walk(n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n)
    return np.c_[2 * np.sin(t / 5.0), 2 * np.cos(t / 7.0)] + rng.normal(0, 3.0, (n, 2))


def _seated(n: int, rng: np.random.Generator) -> np.ndarray:
    return P + rng.normal(0, 0.05, (n, 2))


@pytest.fixture(scope="module")
def case() -> tuple[gm.Dataset, np.ndarray]:
    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    for _ in range(5):
        ds.add(_sit(rng, int(rng.integers(30, 50)), ramp=4), label="sit")
        ds.add(_wave(rng, int(rng.integers(45, 55))), label="wave")
    for _ in range(4):  # null takes: wide movement and the seated posture
        ds.add(_walk(200, rng), label=gm.NULL)
        ds.add(_seated(100, rng), label=gm.NULL)
    # walking, one sit (frames 200..243), then seated for 800 frames
    stream = np.vstack([_walk(200, rng), _sit(rng, ramp=4), _seated(800, rng)])
    return ds, stream


def _model(ds: gm.Dataset, null_floor: float | None) -> gm.HHMM:
    null = {"states": 1, "gaussians": 4}
    if null_floor is not None:
        null["relative_regularization"] = null_floor
    return gm.HHMM(states=4, relative_regularization=0.1, deltas=False, n_jobs=1,
                   class_params={gm.NULL: null}).fit(ds)


def test_a_tight_null_floor_covers_the_posture_a_wide_one_misses(case) -> None:
    ds, stream = case
    wide = gm.spot(_model(ds, None), stream)
    assert len(wide) > 5 and all(e.label == "sit" for e in wide)
    assert sum(e.start >= 260 for e in wide) > 5  # fired while seated, no gesture there
    tight = gm.spot(_model(ds, 0.01), stream)
    assert [e.label for e in tight] == ["sit"]
    assert 190 <= tight[0].start and tight[0].end <= 260


def test_the_floor_is_the_null_class_own(case) -> None:
    ds, stream = case
    wide, tight = _model(ds, None), _model(ds, 0.01)
    assert tight.class_param(gm.NULL, "relative_regularization") == 0.01
    assert wide.class_param(gm.NULL, "relative_regularization") == 0.1
    for label in ("sit", "wave"):  # the gesture classes keep the model's floor
        assert tight.class_param(label, "relative_regularization") == 0.1
    seated = stream[300:]
    ratios = [max(np.median(gm.Spotter(m)._frame_llr(seated, 0, j)) for j in range(4))
              for m in (wide, tight)]
    assert ratios[0] > ratios[1] + 1.0, ratios
