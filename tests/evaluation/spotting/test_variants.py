"""Nested spotting CV over model variants: the model variant chosen per outer fold
by its inner score only, and the held-out results those of the variant picked."""

from __future__ import annotations

import dataclasses

import pytest

from tests.evaluation.spotting.test_scores import ramp_streams


def _run(variants):
    import gesturemap as gm
    from gesturemap.evaluation.spotting.variants import nested_cv_variants

    makers = {"plain": lambda: gm.GMM(gaussians=1, deltas=False),
              "deltas": lambda: gm.GMM(gaussians=1, deltas=True)}
    return nested_cv_variants(ramp_streams(4), {n: makers[n] for n in variants},
                              {"gmm_frames": [40], "threshold": [0.3, 0.5]}, lambda a: a,
                              outer=2, inner=2, log=lambda s: None)


def test_the_variant_that_tells_the_gestures_apart_is_picked_in_every_fold() -> None:
    """Ramps up and down: a GMM without deltas cannot tell them apart (same values), one with
    deltas can (the slope's sign). Each outer fold's inner CV sees it and picks the deltas
    variant; the held-out results are that variant's own, bit for bit."""
    from gesturemap.evaluation.spotting.variants import inner_score

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
    from gesturemap.evaluation.spotting.variants import inner_score, pick_variant

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


def test_per_class_min_stay_frees_each_class_that_gains_and_reports_true_metrics() -> None:
    """From a setting whose min_stay (50 times each state's expected duration) lets no class
    of a 3-state HHMM complete, the step gives each class in turn the value 0 and keeps it because the inner
    score rises: both classes end with their own min_stay 0, and the metrics it returns are
    those of spotting the inner sessions with that setting."""
    import numpy as np

    import gesturemap as gm
    from gesturemap.evaluation.spotting.cv import _evaluate
    from gesturemap.evaluation.spotting.scores import spotting_metrics
    from gesturemap.evaluation.spotting.streams import make_dataset
    from gesturemap.evaluation.spotting.variants import per_class_min_stay

    st = ramp_streams(4)
    ident = lambda a: a  # noqa: E731
    model = gm.HHMM(states=3, deltas=True).fit(make_dataset(st, np.arange(4), ident))
    parts = [(np.arange(4, 8), {}, model)]
    start = {"min_stay": 50.0}

    def metrics(combo):
        return spotting_metrics(_evaluate(model, None, combo, st, np.arange(4, 8), ident, {}),
                                ["1", "2"], st.rate_hz)

    before = metrics(start)
    assert before["f1"] == 0.0
    combo, m = per_class_min_stay(st, parts, (start, before), ident, values=(0.0, 50.0))
    assert combo == {"min_stay": {"1": 0.0, "2": 0.0}}
    assert m == metrics(combo)
    assert m["f1"] > 0.9
    # at a setting that already lets both complete, nothing is worth changing
    free = {"min_stay": 0.0}
    assert per_class_min_stay(st, parts, (free, metrics(free)), ident,
                              values=(0.0, 50.0))[0] == free


def test_nested_cv_keeps_the_refined_setting_in_its_inner_table() -> None:
    import gesturemap as gm
    from gesturemap.evaluation.spotting.cv import nested_cv
    from gesturemap.evaluation.spotting.variants import inner_score, per_class_min_stay

    res = nested_cv(ramp_streams(4), lambda: gm.HHMM(states=3, deltas=True),
                    {"min_stay": [50.0]}, lambda a: a, outer=2, inner=2,
                    log=lambda s: None,
                    refine=lambda *a: per_class_min_stay(*a, values=(0.0, 50.0)))
    for k, chosen in enumerate(res["chosen"]):
        assert chosen["min_stay"] == {"1": 0.0, "2": 0.0}
        part = {"chosen": [chosen], "inner": [res["inner"][k]]}
        assert inner_score(part) > 0.8
    assert res["metrics"]["f1"] > 0.9
    with pytest.raises(ValueError, match="refine"):
        nested_cv(ramp_streams(4), lambda: gm.GMM(), {"relabel_context": [None]},
                  lambda a: a, refine=per_class_min_stay)
