"""The stacked verifier of spotting (spotting_cv.StackedVerifier): trained on the spotter's own
out-of-fold detections, switched on by a cross-fit over the inner folds of nested_cv."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.evaluation.spotting.cv import (
    StackedVerifier,
    Streams,
    VerifierUnavailable,
    detection_targets,
    nested_cv,
    verifier_features,
)
from gesturemap.evaluation.spotting.scores import ground_truth_events
from gesturemap.models.spotting.core import NULL, Event
from tests.evaluation.spotting.test_scores import ramp_streams


def _run(st: Streams, verify: bool, grid: dict | None = None) -> dict:
    return nested_cv(st, lambda: gm.GMM(gaussians=1, deltas=False),
                     grid or {"gmm_frames": [40]}, lambda a: a, outer=2, inner=2,
                     log=lambda s: None,
                     make_verifier=(lambda c: StackedVerifier(c)) if verify else None)


@pytest.mark.parametrize("excursions", [False, True])
def test_cross_fitted_verifier_is_chosen_and_fixes_confusions_and_null(excursions: bool) -> None:
    st = ramp_streams(4, excursions)
    plain, verified = _run(st, False), _run(st, True)
    assert plain["metrics"]["f1"] < 0.6  # the spotter alone confuses the ramps
    assert [v["applied"] for v in verified["verifier"]] == [True, True], verified["verifier"]
    for v in verified["verifier"]:
        assert v["inner_score_with"] > v["inner_score_without"]
        assert v["held_out_counts"]["fixed"] > 0 and v["held_out_counts"]["broken"] == 0
        # held out, the events come from the live path (Spotter(..., verifier=...)), and they
        # are those of verifying the spotter's events after the fact
        assert v["held_out_live_equals_after_the_fact"] is True
        if excursions:
            assert v["held_out_counts"]["null_dropped"] > 0
    assert verified["metrics"]["f1"] > 0.95, verified["metrics"]
    assert verified["chosen"] == plain["chosen"]  # the spotter setting is chosen as before
    for i, events in verified["events"].items():
        # kept events are the spotter's own (frames, score, emission time), relabelled
        before = {(e.start, e.end, e.emitted, e.score) for e in plain["events"][i]}
        assert {(e.start, e.end, e.emitted, e.score) for e in events} <= before
        truth = [str(lb) for lb, _, _ in ground_truth_events(st.labels[i], st.gestures)]
        assert len(events) >= len(truth) - 1


def test_verifier_without_detections_falls_back_to_the_spotter() -> None:
    """A spotter that never fires leaves nothing to train on: off, with a reason, and the
    run is the one without a verifier."""
    st = ramp_streams(4, False)
    grid = {"gmm_frames": [40], "relative_threshold": [1e6]}
    plain, verified = _run(st, False, grid), _run(st, True, grid)
    assert [v["applied"] for v in verified["verifier"]] == [False, False]
    assert all("no training detections" in v["reason"] for v in verified["verifier"])
    assert verified["sessions"] == plain["sessions"]
    assert verified["events"] == plain["events"]


def test_verifier_with_one_label_or_a_missing_class_is_unavailable() -> None:
    v = StackedVerifier(["a", "b"])
    f = np.zeros((4, 3))
    with pytest.raises(VerifierUnavailable, match="1 label"):
        v.fit(f, ["a"] * 4)
    with pytest.raises(VerifierUnavailable, match="class"):
        v.fit(np.arange(12.0).reshape(4, 3), ["a", "a", NULL, NULL])
    with pytest.raises(VerifierUnavailable):  # a ValueError: nested_cv's fallback catches it
        raise VerifierUnavailable("x")
    assert issubclass(VerifierUnavailable, ValueError)


def test_verifier_keeps_emission_times_and_drops_null() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (400, 2))
    x[100:140, 0] += 5.0  # "a" moves channel 0
    x[200:240, 1] += 5.0  # "b" moves channel 1
    events = [Event("b", 100, 139, 150, 3.0), Event("a", 200, 239, 245, 2.0),
              Event("a", 300, 339, 339, 1.0)]  # the third on noise
    typical = {"a": 2.0, "b": 2.0}
    f = verifier_features(events, x, typical, ["a", "b"])
    assert f.shape == (3, 4 * 2 + 1 + 2 + 1)
    # causal: frames after emitted never change a row
    y = x.copy()
    y[151:] = 0.0
    assert np.array_equal(verifier_features(events[:1], y, typical, ["a", "b"]), f[:1])
    assert f[0, -3:].tolist() == [0.0, 1.0, np.log(1.5)]
    assert verifier_features([], x, typical, ["a", "b"]).shape == (0, 12)
    # trained on rows like these, with the right targets
    rows, targets = [], []
    for k in range(30):
        lab = ["a", "b", NULL][k % 3]
        xx = rng.normal(0, 1, (100, 2))
        if lab != NULL:
            xx[20:60, 0 if lab == "a" else 1] += 5.0
        said = ["a", "b"][rng.integers(2)]
        ev = Event(said, 20, 59, 59 + int(rng.integers(0, 10)), float(rng.uniform(1.0, 4.0)))
        rows.append(verifier_features([ev], xx, typical, ["a", "b"]))
        targets.append(lab)
    v = StackedVerifier(["a", "b"]).fit(np.vstack(rows), targets)
    kept = v.apply(events, f)
    assert [(e.label, e.start, e.end, e.emitted, e.score) for e in kept] == [
        ("a", 100, 139, 150, 3.0), ("b", 200, 239, 245, 2.0)]
    assert kept[0] == dataclasses.replace(events[0], label="a")
    assert v.apply([], f[:0]) == []


def test_detection_targets_follow_the_matching_with_labels_ignored() -> None:
    truth = [(7, 100, 150), (8, 160, 170), (9, 400, 450)]
    ev = [Event("8", 90, 120, 130, 1.0),   # in 7's window, wrong label: target "7"
          Event("7", 90, 120, 140, 1.0),   # 7 taken; 8's window starts at 160: null
          Event("8", 150, 165, 175, 1.0),  # in 8's window (and 7's, taken): "8"
          Event("9", 300, 350, 399, 1.0),  # before 9's start: null
          Event("9", 420, 450, 500, 1.0)]  # end + 50 exactly: "9"
    assert detection_targets(list(reversed(ev)), truth, 50) == [
        "9", NULL, "8", NULL, "7"]
    assert detection_targets([], truth) == []


def test_verifier_and_relabel_grid_are_exclusive() -> None:
    st = ramp_streams(4, False)
    with pytest.raises(ValueError, match="exclusive"):
        nested_cv(st, lambda: gm.GMM(gaussians=1, deltas=False),
                  {"gmm_frames": [40], "relabel_context": [None, 0]}, lambda a: a,
                  outer=2, inner=2, log=lambda s: None, make_verifier=StackedVerifier)


def _in_loop(st: Streams, grid: dict, in_loop: bool) -> dict:
    return nested_cv(st, lambda: gm.GMM(gaussians=1, deltas=False), grid, lambda a: a,
                     outer=2, inner=2, log=lambda s: None,
                     make_verifier=lambda c: StackedVerifier(c), verify_in_loop=in_loop)


def test_in_loop_scores_every_setting_both_ways_and_picks_the_better_pairing() -> None:
    """With the verifier in the loop every setting's inner detections are
    cross-fitted; a setting scores the better of plain and verified, the best setting wins and
    the verifier is on at the outer test iff its verified score won. On the ramps with null
    excursions the plain scores tie (the first setting is chosen without the loop) while the
    verified ones do not: the loop picks the other setting, whose verified score is higher."""
    st = ramp_streams(4, True)
    grid = {"gmm_frames": [40], "threshold": [0.1, 0.9]}
    before, loop = _in_loop(st, grid, False), _in_loop(st, grid, True)
    assert "in_loop" not in before
    assert [c["threshold"] for c in before["chosen"]] == [0.1, 0.1]
    assert [c["threshold"] for c in loop["chosen"]] == [0.9, 0.9]
    for fo, both in enumerate(loop["in_loop"]):
        assert [b["setting"] for b in both] == [{"gmm_frames": 40, "threshold": t}
                                                for t in (0.1, 0.9)]
        plain = {c["threshold"]: m["f1"] - max(0.0, m["false_alarms_per_min"] - 0.3)
                 for c, m in loop["inner"][fo]}
        for b in both:  # every setting scored both ways
            assert b["plain"] == plain[b["setting"]["threshold"]]
            assert isinstance(b["verified"], float)
            assert b["verified_wins"] == (b["verified"] > b["plain"])
            assert b["score"] == max(b["plain"], b["verified"])
        k = max(range(2), key=lambda j: both[j]["score"])
        assert [b.get("chosen", False) for b in both] == [j == k for j in range(2)]
        assert both[k]["setting"] == loop["chosen"][fo]
        assert both[k]["verified"] > both[0]["verified"]  # the pairing the plain rule misses
        v = loop["verifier"][fo]
        assert v["applied"] == both[k]["verified_wins"] is True
        assert v["inner_score_with"] == both[k]["verified"]
        assert v["inner_score_without"] == both[k]["plain"]
        assert v["held_out_live_equals_after_the_fact"] is True
    assert loop["metrics"]["f1"] >= before["metrics"]["f1"]


@pytest.mark.parametrize("excursions", [False, True])
def test_in_loop_with_one_setting_or_off_changes_nothing(excursions: bool) -> None:
    """With ``verify_in_loop`` off, nested_cv is today's (the default, and the argument given
    False); with one setting the loop's choice and verifier decision are the plain rule's, so
    every result is the same bit for bit."""
    st = ramp_streams(4, excursions)
    grid = {"gmm_frames": [40]}
    today = _run(st, True, grid)
    off, on = _in_loop(st, grid, False), _in_loop(st, grid, True)
    assert off.keys() == today.keys() and "in_loop" not in off
    for k in today:
        assert off[k] == today[k], k
        assert on[k] == today[k], k
    assert [b[0]["verified_wins"] for b in on["in_loop"]] == [v["applied"]
                                                              for v in today["verifier"]]


def test_in_loop_needs_a_verifier() -> None:
    with pytest.raises(ValueError, match="verify_in_loop"):
        nested_cv(ramp_streams(4), lambda: gm.GMM(gaussians=1, deltas=False),
                  {"gmm_frames": [40]}, lambda a: a, outer=2, inner=2, log=lambda s: None,
                  verify_in_loop=True)
