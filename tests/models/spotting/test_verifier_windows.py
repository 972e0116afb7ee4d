"""The spotting verifier reading two context windows at once: the statistics of the
``context`` frames before an event's start and of the nearest ``near`` of them, concatenated,
so that no cross-fit has to choose between the two lengths; stored in its JSON (``"near"``),
read from the live stream's ring at emission; a verifier without it is 12k's."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.evaluation.spotting.cv import StackedVerifier, Streams, make_dataset, nested_cv
from gesturemap.evaluation.spotting.streams import length_grid
from gesturemap.models.spotting.core import Spotter, check_settings
from gesturemap.models.spotting.verifier import (
    SpotVerifier,
    context_name,
    context_stats,
    event_row,
    parse_context,
    split_context,
    verifier_features,
)
from tests.models.spotting.test_verifier_context import (
    _right,
    bump_frames,
    bump_streams,
    eval_args,
    every_path_equal,
    rest_frames,
)
from tests.models.spotting.test_verifier_live import SETTINGS, _factory

BOTH = (50, 100)


def window_streams(seed: int) -> Streams:
    """Bump streams (one bump after another, all alike) after a still rest, then 75 frames: for
    label 1 a sway (channel 1, 1.5 Hz) of 25 frames then 50 still ones, for label 2 25 still
    frames, a sway of 25, 25 still. The 100 frames before a start hold a sway of 25 frames for
    both labels; only the nearest 50 tell them apart (no sway for label 1, one for label 2)."""
    def trial(rng: np.random.Generator, near: bool) -> tuple[np.ndarray, np.ndarray]:
        rest, bump = rest_frames(rng, False), bump_frames(rng)
        sway = rest_frames(rng, True)[:25]
        still = [rng.normal(0, 0.01, (25, 2)) for _ in range(2)]
        before = [still[0], sway, still[1]] if near else [sway, *still]
        return (np.vstack([rest, *before, bump]),
                np.array([0] * (len(rest) + 75) + [2 if near else 1] * len(bump)))
    return bump_streams(seed, trial, tail=80)


@pytest.fixture(scope="module")
def trained():
    """Verifiers with context 100, and with both 50 and 100, from subjects 0-1; a model on the
    same; subjects 2-3 held out."""
    st = window_streams(5)
    fit = {c: gm.fit_verifier(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                              gestures=[1, 2], context=[c], **SETTINGS) for c in (100, BOTH)}
    model = _factory().fit(make_dataset(st, range(4), lambda a: a))
    return st, fit[100], fit[BOTH], model


def test_both_windows_tell_what_the_longer_alone_cannot(trained) -> None:
    st, far_v, both_v, model = trained
    assert (far_v.context, far_v.near) == (100, 0)
    assert (both_v.context, both_v.near) == (100, 50)
    assert both_v.cv_["context"] == BOTH and both_v.cv_["context_scores"].keys() == {"50,100"}
    assert both_v.cv_["reason"].endswith("(context 50,100 frames)")
    right, total = _right(model, st, both_v)
    assert right == total == 32
    right, _ = _right(model, st, far_v)
    assert right <= 0.75 * total, right
    assert both_v.cv_["inner_score_with"] > far_v.cv_["inner_score_with"] + 0.3
    # what the two windows read: 2·D + 2 values each, the longer first
    assert len(both_v.mean) == len(far_v.mean) + 2 * 2 + 2


def test_the_near_window_is_the_last_frames_of_the_context() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (300, 3))
    ev = gm.Event("a", 150, 190, 200, 1.0)
    row = event_row(x[150:201], "a", 1.0, 1.0, ["a", "b"], context=x[50:150], near=50)
    assert row.shape == (4 * 3 + 1 + 2 + 1 + 2 * (2 * 3 + 2),)
    np.testing.assert_array_equal(row[-16:-8], context_stats(x[50:150]))
    np.testing.assert_array_equal(row[-8:], context_stats(x[100:150]))
    f = verifier_features([ev], x, {}, ["a", "b"], context=BOTH)
    np.testing.assert_array_equal(f[0], row)
    np.testing.assert_array_equal(verifier_features([ev], x, {}, ["a", "b"], context=(100, 50)),
                                  f)
    # causal, and the near window is read from the context's own frames
    y = x.copy()
    y[201:] += 5.0
    y[:50] -= 5.0
    np.testing.assert_array_equal(verifier_features([ev], y, {}, ["a", "b"], context=BOTH), f)
    y[120] += 1.0
    g = verifier_features([ev], y, {}, ["a", "b"], context=BOTH)
    assert not np.array_equal(g[0, -8:], f[0, -8:])
    y = x.copy()
    y[60] += 1.0
    g = verifier_features([ev], y, {}, ["a", "b"], context=BOTH)
    np.testing.assert_array_equal(g[0, -8:], f[0, -8:])
    assert not np.array_equal(g[0, -16:-8], f[0, -16:-8])
    # an event near the stream's start: fewer frames; none: its first frame stands in twice
    first = event_row(x[:51], "a", 1.0, 1.0, ["a", "b"], context=x[:0], near=50)
    np.testing.assert_array_equal(first[-16:-8], context_stats(x[:1]))
    np.testing.assert_array_equal(first[-8:], context_stats(x[:1]))


@pytest.mark.parametrize("frames", [None, 12])
def test_stepping_equals_spot_with_both_windows(trained, frames) -> None:
    """gm.spot, stepping, running in pieces and verifying after the fact read the same
    frames (the ring keeps the event's and the 100 before its start)."""
    st, _, v, model = trained
    plain = Spotter(model, **SETTINGS)
    live = Spotter(model, verifier=v, verifier_frames=frames, **SETTINGS)
    assert live.ring_frames_ == live.verifier_frames_ + 100
    changed = sum(every_path_equal(live, plain, model, st.sessions[i], frames)
                  for i in range(4, 8))
    assert changed >= 1


def test_json_round_trip_and_checked_near(trained) -> None:
    _, far_v, v, model = trained
    d = json.loads(json.dumps(v.to_dict()))
    assert (d["context"], d["near"]) == (100, 50)
    w = SpotVerifier.from_dict(d)
    assert (w.context, w.near, w.input_dim) == (100, 50, 2)
    assert w.to_dict() == d and "near=50" in repr(w)
    for k in ("mean", "scale", "coef", "intercept"):
        np.testing.assert_array_equal(getattr(w, k), getattr(v, k))
    assert check_settings({"verifier": v})["verifier"] == v.to_dict()
    for bad in (-1, 1.5, True, "50", 100, 150, None):
        with pytest.raises(gm.GesturemapError, match="near"):
            SpotVerifier.from_dict({**d, "near": bad})
    with pytest.raises(gm.GesturemapError, match="near"):  # no context, no near window
        SpotVerifier.from_dict({**d, "context": 0})
    # the near window's features must be there, and not there without it: a width that fits
    # another input dimension is refused by the spotter
    other = SpotVerifier.from_dict({k: x for k, x in d.items() if k != "near"})
    assert other.input_dim == 3
    with pytest.raises(gm.GesturemapError, match="3-dimensional frames"):
        Spotter(model, verifier=other, **SETTINGS)
    with pytest.raises(gm.GesturemapError, match="mean's length"):
        SpotVerifier.from_dict({**far_v.to_dict(), "near": 50})
    # a file without "near" (12k's layout) loads as before and is written back unchanged
    old = json.loads(json.dumps(far_v.to_dict()))
    assert "near" not in old
    o = SpotVerifier.from_dict(old)
    assert o.near == 0 and o.to_dict() == old
    assert Spotter(model, verifier=old, **SETTINGS).ring_frames_ == (
        Spotter(model, **SETTINGS).event_frames_ + 100)


def test_the_setting_as_a_pair_and_as_text() -> None:
    assert split_context(100) == (100, 0)
    assert split_context((50, 100)) == split_context([100, 50]) == (100, 50)
    assert context_name(BOTH) == "50,100" and context_name(50) == "50"
    assert parse_context("50,100") == BOTH and parse_context("100,50") == BOTH
    assert parse_context("50") == 50
    for bad in ("50,50", "0,50", "a", "1,2,3", "50,"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_context(bad)
    for bad in ((50, 50), (0, 50), (50,), (50, 1.5), (True, 50)):
        with pytest.raises(gm.GesturemapError, match="context"):
            split_context(bad)
    assert length_grid([0, (100, 50), 50], "context") == (0, BOTH, 50)
    assert length_grid([0, 50], "context") == (0, 50)  # several lengths stay a grid
    # a wait pair is (frames read, most frames waited for the movement to settle): kept as given
    assert length_grid([0, (10, 20)], "wait") == (0, (10, 20))
    for bad in ((0, 20), (10, 0), (10, 20, 30)):
        with pytest.raises(gm.GesturemapError, match="wait"):
            length_grid([bad], "wait")


def test_nested_cv_with_both_windows_decides_on_or_off_only() -> None:
    """``verifier_contexts=((50, 100),)``: one verifier per outer fold, its cross-fit only says
    whether it is used; applied live, it equals verifying after the fact."""
    st = window_streams(6)
    make = lambda c, context=0: StackedVerifier(c, context=context)  # noqa: E731
    res = nested_cv(st, _factory, {"gmm_frames": [40]}, lambda a: a, outer=2, inner=2,
                    log=lambda s: None, make_verifier=make, verifier_contexts=(BOTH,))
    for info in res["verifier"]:
        assert info["applied"] and info["context"] == BOTH, info
        assert list(info["context_scores"]) == ["50,100"]
        assert info["held_out_live_equals_after_the_fact"]
    assert res["metrics"]["f1"] > 0.95, res["metrics"]


def test_eval_spotting_verifier_both_windows(tmp_path, capsys) -> None:
    """`gesturemap eval --spotting --verify --verifier-context 50,100`."""
    from gesturemap.cli import main

    args = [*eval_args(tmp_path, window_streams(7)), "--verifier-context"]
    out = tmp_path / "report.json"
    assert main([*args, "50,100", "--json", str(out)]) == 0
    folds = json.loads(out.read_text())["verifier"]
    assert all(f["chosen"] and f["context"] == [50, 100] for f in folds), folds
    assert json.loads(out.read_text())["metrics"]["f1"] > 0.95
    assert "context scores {'50,100'" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([*args, "50,50"])
