"""Spotting's null model option: with null takes, ``null_model="null+gestures"``
puts every gesture state beside the null class's states in the null model."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.models.gmm import with_deltas
from gesturemap.models.spotting.core import check_settings, spotting_stream

P = np.array([3.0, 3.0])  # the "sitting" posture: a gesture's end, never in the null takes


def _rest(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.normal(0, 0.3, (n, 2))


def _sit(rng: np.random.Generator, hold: int = 40, ramp: int = 20) -> np.ndarray:
    t = np.linspace(0, 1, ramp)[:, None]
    return np.vstack([t * P, np.tile(P, (hold, 1))]) + rng.normal(0, 0.1, (ramp + hold, 2))


def _wave(rng: np.random.Generator, n: int) -> np.ndarray:
    t = np.linspace(0, 1, n)
    return np.c_[np.sin(4 * np.pi * t), -2 * t] * 1.5 + rng.normal(0, 0.1, (n, 2))


@pytest.fixture(scope="module")
def case() -> tuple[gm.Dataset, np.ndarray]:
    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    for _ in range(5):
        ds.add(_sit(rng, int(rng.integers(30, 50))), label="sit")
        ds.add(_wave(rng, int(rng.integers(45, 55))), label="wave")
    for _ in range(4):
        ds.add(_rest(200, rng), label=gm.NULL)
    # rest, one sit (frames 200..259), then the performer stays seated for 800 frames
    stream = np.vstack([_rest(200, rng), _sit(rng), P + rng.normal(0, 0.1, (800, 2))])
    return ds, stream


@pytest.fixture(scope="module")
def model(case) -> gm.HHMM:
    return gm.HHMM(states=4).fit(case[0])


def test_held_end_posture_fires_by_default_and_not_with_gestures_in_the_null(case,
                                                                              model) -> None:
    stream = case[1]
    default = gm.spot(model, stream)
    assert len(default) > 5 and all(e.label == "sit" for e in default)
    assert sum(e.start >= 260 for e in default) > 5  # fired while seated, no gesture there
    events = gm.spot(model, stream, null_model="null+gestures")
    assert [e.label for e in events] == ["sit"]
    assert 190 <= events[0].start and events[0].end <= 270


def test_spot_equals_stepping_with_gestures_in_the_null(case, model) -> None:
    stream = case[1]
    spotter = gm.Spotter(model, null_model="null+gestures", relative_threshold=0.3)
    s = spotter.stream()
    stepped = [r.event for r in (s.step(f) for f in stream) if r.event is not None]
    assert stepped == gm.spot(model, stream, null_model="null+gestures", relative_threshold=0.3)
    assert stepped


def test_gestures_in_the_null_bound_the_ratio(case, model) -> None:
    on = gm.Spotter(model, null_model="null+gestures")
    off = gm.Spotter(model)
    x = with_deltas(case[1][300:], model.delta_lag)  # seated, as the Gaussians see it
    n_states = int(np.sum(on._b["n_states"]))
    for sp, bounded in ((on, True), (off, False)):
        llr = np.max([sp._frame_llr(x, 0, j) for j in range(4)])
        assert (llr <= np.log(2 * n_states) + 1e-9) == bounded, llr
    assert np.isclose(on._null["w"].sum(), 1.0) and np.isclose(off._null["w"].sum(), 1.0)


def test_without_null_takes_the_option_changes_nothing(case) -> None:
    ds = gm.Dataset()
    for r in case[0]:
        if r.label != gm.NULL:
            ds.add(r.inputs, label=r.label)
    model = gm.HHMM(states=4).fit(ds)
    a, b = gm.Spotter(model), gm.Spotter(model, null_model="null+gestures")
    assert np.array_equal(a.typical_scores_, b.typical_scores_)
    assert a.spot(case[1]) == b.spot(case[1])


@pytest.mark.parametrize("bad", ["gestures", "NULL", "", None, 1, ["null"]])
def test_bad_null_models_are_refused(model, bad) -> None:
    with pytest.raises(gm.GesturemapError, match="null_model"):
        gm.Spotter(model, null_model=bad)
    with pytest.raises(gm.GesturemapError, match="null\\+gestures"):
        check_settings({"null_model": bad})


def test_the_setting_survives_json(case, model) -> None:
    settings = json.loads(json.dumps(check_settings({"null_model": "null+gestures"})))
    stream = spotting_stream(model, settings)
    assert stream.spotter.null_model == "null+gestures"
    events = stream.spotter.spot(case[1])
    assert events == gm.spot(model, case[1], null_model="null+gestures")


def test_the_ratio_refuses_frames_of_another_width(model) -> None:
    """The raw inputs of a model with deltas are half its width: refused, not read past."""
    with pytest.raises(gm.GesturemapError, match="4 dimensions"):
        gm.Spotter(model)._frame_llr(np.zeros((5, 2)), 0, 0)
