"""Nested spotting CV over model variants (issue 12s): the model variant chosen per outer fold
by its inner score only, and the held-out results those of the variant picked."""

from __future__ import annotations

import dataclasses

import pytest

from tests.test_evaluation_spotting import ramp_streams


def _run(variants):
    import gesturemap as gm
    from gesturemap.evaluation.spotting_variants import nested_cv_variants

    makers = {"plain": lambda: gm.GMM(gaussians=1, deltas=False),
              "deltas": lambda: gm.GMM(gaussians=1, deltas=True)}
    return nested_cv_variants(ramp_streams(4), {n: makers[n] for n in variants},
                              {"gmm_frames": [40], "threshold": [0.3, 0.5]}, lambda a: a,
                              outer=2, inner=2, log=lambda s: None)


def test_the_variant_that_tells_the_gestures_apart_is_picked_in_every_fold() -> None:
    """Ramps up and down: a GMM without deltas cannot tell them apart (same values), one with
    deltas can (the slope's sign). Each outer fold's inner CV sees it and picks the deltas
    variant; the held-out results are that variant's own, bit for bit."""
    from gesturemap.evaluation.spotting_variants import inner_score

    res = _run(["plain", "deltas"])
    assert res["variant"] == ["deltas", "deltas"]
    for fold in res["variants"]:
        assert fold["deltas"]["inner_score"] > fold["plain"]["inner_score"] + 0.2
        for r in fold.values():
            assert r["inner_score"] == inner_score(r)
    picked = [s for fold in res["variants"] for s in fold["deltas"]["sessions"]]
    assert [dataclasses.asdict(s) for s in res["sessions"]] == [
        dataclasses.asdict(s) for s in picked]
    assert res["chosen"] == [fold["deltas"]["chosen"][0] for fold in res["variants"]]
    plain = [s for fold in res["variants"] for s in fold["plain"]["sessions"]]
    assert res["sessions"] != plain
    assert res["metrics"]["f1"] > 0.9, res["metrics"]


def test_the_order_of_the_variants_does_not_change_the_pick() -> None:
    res = _run(["deltas", "plain"])
    assert res["variant"] == ["deltas", "deltas"]


def test_inner_score_reads_the_verifier_when_it_is_on_and_ties_go_to_the_earlier() -> None:
    from gesturemap.evaluation.spotting_variants import inner_score, pick_variant

    combo = {"threshold": 0.3}
    plain = {"chosen": [combo], "inner": [[({"threshold": 0.2}, {"f1": 0.9,
                                                                   "false_alarms_per_min": 0}),
                                           (combo, {"f1": 0.8, "false_alarms_per_min": 0.5})]]}
    assert inner_score(plain) == pytest.approx(0.6)  # 0.2 false alarms/min over the budget
    assert inner_score(plain, fa_budget=1.0) == pytest.approx(0.8)
    on = {**plain, "verifier": [{"applied": True, "inner_score_with": 0.7}]}
    off = {**plain, "verifier": [{"applied": False, "inner_score_with": 0.95}]}
    assert inner_score(on) == pytest.approx(0.7)
    assert inner_score(off) == pytest.approx(0.6)
    assert pick_variant({"a": plain, "b": off, "c": on}) == "c"
    assert pick_variant({"a": plain, "b": off}) == "a"
    with pytest.raises(ValueError, match="not in the inner table"):
        inner_score({"chosen": [{"threshold": 9}], "inner": plain["inner"]})
    with pytest.raises(ValueError, match="no variant"):
        pick_variant({})
