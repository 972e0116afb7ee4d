"""A class's own ``min_stay`` (``Spotter(min_stay={label: fraction})``) and the nested CV
step that chooses it per class on the inner folds."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError
from tests.models.spotting.test_core_deltas import _ramp, _rest


@pytest.fixture(scope="module")
def two_class() -> tuple[gm.HHMM, np.ndarray]:
    """Ramps "up" and steps "down" (a drop, then a slow return), 3-state HHMMs with deltas,
    and a stream of both between rests."""
    rng = np.random.default_rng(3)
    ds = gm.Dataset()
    for _ in range(6):
        ds.add(_ramp(True, int(rng.integers(35, 45)), rng), label="up")
        ds.add(_ramp(False, int(rng.integers(35, 45)), rng), label="down")
        ds.add(_rest(60, float(rng.integers(0, 2)), rng), label=gm.NULL)
    model = gm.HHMM(states=3, deltas=True, class_params={gm.NULL: {"states": 1}}).fit(ds)
    parts, level = [], 0.0
    for _ in range(8):
        parts += [_rest(int(rng.integers(60, 90)), level, rng),
                  _ramp(level == 0.0, int(rng.integers(35, 45)), rng)]
        level = 1.0 - level
    return model, np.vstack([*parts, _rest(80, level, rng)])


def test_a_class_min_stay_changes_that_class_only(two_class) -> None:
    model, x = two_class
    plain = gm.Spotter(model)
    same = gm.Spotter(model, min_stay={"up": plain.min_stay, "down": plain.min_stay})
    assert same.spot(x) == plain.spot(x)
    assert {e.label for e in plain.spot(x)} == {"up", "down"}
    # "up" cannot leave its states before 50 times their expected duration: it never
    # completes; "down"'s minimum is the global one
    sp = gm.Spotter(model, min_stay={"up": 50.0})
    i, j = sp.labels.index("up"), sp.labels.index("down")
    base = gm.Spotter(model, min_stay=0.0)
    assert np.array_equal(sp._min_stay[j], base._min_stay[j])
    assert np.all(sp._min_stay[i][: model.class_params_[model.labels_.index("up")]["transition"]
                                  .shape[0]] > base._min_stay[i].max())
    events = sp.spot(x)
    assert "up" not in {e.label for e in events}
    # every "down" ramp is still found, where it was (the scores of up and down no longer
    # compete, so a match may begin a few frames elsewhere)
    down = [e for e in base.spot(x) if e.label == "down"]
    assert len(down) == len(events) == 4
    assert all(abs(a.end - b.end) <= 5 for a, b in zip(down, events, strict=True))


def test_a_class_min_stay_is_checked_and_read_from_json(two_class) -> None:
    from gesturemap.models.spotting.core import check_settings

    model, x = two_class
    with pytest.raises(GesturemapError, match="min_stay key"):
        gm.Spotter(model, min_stay={"sideways": 0.5})
    with pytest.raises(GesturemapError, match="min_stay"):
        gm.Spotter(model, min_stay={"up": -1.0})
    with pytest.raises(GesturemapError, match="min_stay"):
        gm.Spotter(model, min_stay=[0.5])
    with pytest.raises(GesturemapError, match="min_stay"):
        check_settings({"min_stay": {"up": "long"}})
    assert check_settings({"min_stay": {"up": 0.5}}) == {"min_stay": {"up": 0.5}}
    # a numbered class keyed by its number as text (JSON), as thresholds are
    ds = gm.Dataset()
    rng = np.random.default_rng(0)
    for _ in range(4):
        ds.add(_ramp(True, 40, rng), label=7)
        ds.add(_ramp(False, 40, rng), label=8)
    numbered = gm.HHMM(states=3, deltas=True).fit(ds)
    sp = gm.Spotter(numbered, min_stay={"7": 2.0})
    assert sp.min_stays == {7: 2.0}
