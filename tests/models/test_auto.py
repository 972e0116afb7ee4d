"""gm.auto: chosen by cross-validation on the dataset's own takes, and selection_ tells the truth."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.models.search import (
    cross_validate,
    describe,
    model_from_description,
    take_folds,
)

from .conftest import small_dataset


def _candidates():
    # a few cheap, different candidates (the full default list is for real use)
    return [("GMM 1", lambda: gm.GMM(1)), ("HHMM 4 states", lambda: gm.HHMM(4)),
            ("DTW", lambda: gm.DTW()), ("HMM 3 states", lambda: gm.HMM(3)),
            ("kNN", lambda: gm.KNN(3))]


@pytest.fixture(scope="module")
def picked(ref):
    ds = small_dataset(ref, False, per_class=3)
    return ds, gm.auto(ds, budget_s=300, candidates=_candidates())


def test_selection_describes_the_model_returned(picked):
    ds, model = picked
    sel = model.selection_
    chosen = sel["candidates"][sel["chosen"]]
    # the returned model is exactly the chosen candidate: same kind, same parameters
    assert model.kind == chosen["model"] == sel["model"]
    assert describe(model)["params"] == chosen["params"] == sel["params"]
    assert sel["cv_score"] == chosen["cv_score"] == max(
        c["cv_score"] for c in sel["candidates"] if c["cv_score"] is not None)
    # ... and fitted on the whole dataset: it predicts as a fresh fit of those settings does
    fresh = model_from_description(chosen).fit(ds)
    xs = [r.inputs for r in ds]
    assert model.predict(xs) == fresh.predict(xs)
    for a, b in zip(model.stream().run(xs[0]), fresh.stream().run(xs[0]), strict=True):
        np.testing.assert_array_equal(a.log_likelihoods, b.log_likelihoods)


def test_every_cv_score_is_reproducible(picked):
    """Each candidate's recorded CV score is what cross-validating its settings gives."""
    ds, model = picked
    sel = model.selection_
    recs = list(ds)
    held, how = take_folds([r.label for r in recs], 5, 0)
    assert how == sel["cv"] and len(held) == sel["folds"] == 3  # 3 takes a class: LOTO
    for cand in sel["candidates"]:
        assert cand["status"] == "ok", cand
        again = cross_validate(lambda c=cand: model_from_description(c), recs, held)
        assert again["cv_score"] == pytest.approx(cand["cv_score"], abs=1e-12)
        assert again["fold_scores"] == pytest.approx(cand["fold_scores"], abs=1e-12)
        assert cand["fit_seconds"] > 0


def test_folds_hold_out_whole_takes_and_keep_every_class():
    labels = ["a"] * 4 + ["b"] * 7 + ["c"] * 5
    held, how = take_folds(labels, folds=5, seed=1)
    assert len(held) == 4 and "4 folds" in how
    everything = np.concatenate(held)
    assert sorted(everything.tolist()) == list(range(len(labels)))  # each take once
    for test in held:
        train = set(range(len(labels))) - set(test.tolist())
        assert {labels[i] for i in train} == {"a", "b", "c"}
        assert {labels[i] for i in test} == {"a", "b", "c"}


def test_the_same_seed_deals_the_same_folds_in_every_process():
    """Text labels hash differently in each process (hash randomisation): the folds, and so
    every CV score and the choice, must not depend on it ("the same seed, the same choice")."""
    import os
    import subprocess
    import sys

    code = ("from gesturemap.models.search import take_folds; "
            "labels = [c for c in ('swipe', 'circle', 'shake', 'tap', 'wave') for _ in range(7)]; "
            "print([h.tolist() for h in take_folds(labels, folds=5, seed=0)[0]])")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": str(h)},
                           check=True).stdout for h in range(6)}
    assert len(outs) == 1, outs


def test_grouped_folds_hold_out_whole_groups():
    labels = ["a", "b"] * 6
    groups = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    held, how = take_folds(labels, folds=3, groups=groups)
    assert len(held) == 3 and "groups" in how
    for test in held:
        inside = {groups[i] for i in test}
        outside = {groups[i] for i in range(len(labels)) if i not in set(test.tolist())}
        assert not inside & outside


def test_grouped_folds_keep_every_class_in_every_training_part():
    """Groups are dealt with their classes in view: a class two groups recorded never has
    both held out at once (it would be scored untrained), whatever the seed; when the folds
    asked for leave no such deal, there are more of them (one group a fold always works)."""
    labels, groups = [], []
    for g in ("P1", "P2", "P3", "P4", "P5", "P6"):
        for c in ("a", "b", "c") if g in ("P2", "P4") else ("a", "b"):
            labels.append(c)
            groups.append(g)
    triangle = (["x", "y", "y", "z", "x", "z"], ["A", "A", "B", "B", "C", "C"])
    for lab, grp, folds, k in ((labels, groups, 5, 5), (labels, groups, 2, 2),
                               (*triangle, 2, 3)):
        for seed in range(10):
            held, how = take_folds(lab, folds, seed, grp)
            assert len(held) == k and how.startswith(f"{k} folds"), how
            assert ("fewer would hold out every group of a class" in how) == (k > folds)
            assert sorted(np.concatenate(held).tolist()) == list(range(len(lab)))
            for test in held:
                out = set(test.tolist())
                assert not {grp[i] for i in out} & {grp[i] for i in range(len(lab))
                                                    if i not in out}
                assert {lab[i] for i in range(len(lab)) if i not in out} == set(lab), seed


def test_a_class_of_a_single_group_cannot_be_cross_validated(ref):
    """A class one group recorded (or groups that are the labels) cannot be held out without
    being scored untrained: no cross-validation, as for a single take, and the reason says
    which class and group, not to record more takes."""
    ds = small_dataset(ref, False, per_class=2)
    labels = [r.label for r in ds]
    lonely = labels[-1]
    groups = ["solo" if lb == lonely else f"p{i % 2}" for i, lb in enumerate(labels)]
    for grp in (groups, labels):
        model = gm.auto(ds, budget_s=30, groups=grp, candidates=_candidates())
        sel = model.selection_
        assert sel["chosen"] is None and sel["cv"] is None and sel["candidates"] == []
        assert sel["reason"].startswith("cannot cross-validate: too few groups per class")
        assert "takes" not in sel["reason"] and "Fitted GMM 1 instead" in sel["reason"]
    assert f"class {lonely} only in group solo" in gm.auto(
        ds, budget_s=30, groups=groups, candidates=_candidates()).selection_["reason"]


def test_a_single_class_is_not_cross_validated(ref):
    """With one class every candidate names it for every take (CV 1.0 for all): no CV, and
    the reason says so and what was fitted."""
    ds = gm.Dataset()
    for rec in list(small_dataset(ref, False, per_class=3))[:3]:
        ds.add(rec.inputs, label=rec.label)
    model = gm.auto(ds, budget_s=30, candidates=_candidates())
    sel = model.selection_
    assert sel["chosen"] is None and sel["cv_score"] is None and sel["candidates"] == []
    assert "single class" in sel["reason"] and "Fitted GMM 1 instead" in sel["reason"]
    assert isinstance(model, gm.GMM)


def test_one_take_of_a_class_falls_back_with_a_reason(ref):
    ds = small_dataset(ref, False, per_class=2)
    lonely = [r for r in ds][0]
    ds1 = gm.Dataset()
    for r in ds:
        if r.label != lonely.label or r is lonely:
            ds1.add(r.inputs, label=r.label)
    model = gm.auto(ds1, budget_s=30, candidates=_candidates())
    sel = model.selection_
    assert sel["chosen"] is None and sel["cv_score"] is None and sel["candidates"] == []
    assert "single take" in sel["reason"] and str(lonely.label) in sel["reason"]
    assert "2 takes" in sel["reason"]
    assert isinstance(model, gm.GMM)  # the first candidate's settings: the fallback
    assert model.predict([lonely.inputs]) == [lonely.label]


def test_a_failing_candidate_is_listed_not_fatal(ref):
    ds = small_dataset(ref, False, per_class=2)
    # more states than the takes have frames: HHMM refuses to train
    cands = [("too many states", lambda: gm.HHMM(100000)), ("GMM", lambda: gm.GMM(1))]
    model = gm.auto(ds, budget_s=60, candidates=cands)
    sel = model.selection_
    assert sel["candidates"][0]["status"].startswith("failed") and \
        sel["candidates"][0]["cv_score"] is None
    assert sel["chosen"] == 1 and isinstance(model, gm.GMM)


def test_selection_is_saved_with_the_model(picked, tmp_path):
    _, model = picked
    loaded = gm.load(model.save(tmp_path / "m"))
    assert gm.models.selection_of(loaded) == json.loads(json.dumps(model.selection_))


def test_a_loaded_model_has_its_selection_back(picked, tmp_path):
    """The models guide says model.selection_ is saved with the model; gm.load gave a model
    without it (AttributeError), the record only in training_info_["selection"]."""
    _, model = picked
    loaded = gm.load(model.save(tmp_path / "m"))
    assert loaded.selection_ == json.loads(json.dumps(model.selection_))
    assert loaded.selection_["chosen_name"] == model.selection_["chosen_name"]


def test_bad_budget_is_refused(ref):
    with pytest.raises(gm.GesturemapError, match="budget_s"):
        gm.auto(small_dataset(ref, False), budget_s=0)


@pytest.mark.parametrize("kwargs", [{"budget_s": float("nan")}, {"budget_s": float("inf")},
                                    {"budget_s": True}, {"folds": 0}, {"folds": 1},
                                    {"folds": -1}, {"folds": 2.5}, {"folds": True}])
def test_bad_budgets_and_folds_are_refused_in_one_line(ref, kwargs):
    name = next(iter(kwargs))
    with pytest.raises(gm.GesturemapError, match=f"^{name}=.* is not valid: expected") as info:
        gm.auto(small_dataset(ref, False), **kwargs)
    assert "\n" not in str(info.value)


def test_numpy_numbers_are_budgets_and_folds(ref):
    ds = small_dataset(ref, False)
    for budget, folds in ((np.int64(30), np.int64(2)), (np.float32(30.0), 2)):
        sel = gm.auto(ds, budget_s=budget, folds=folds, candidates=_candidates()[:2]).selection_
        assert sel["budget_s"] == 30.0 and type(sel["budget_s"]) is float
        assert sel["folds"] == 2 and sel["chosen"] is not None


class _ColdStart(gm.KNN):
    """A kNN whose first fit in the process takes a second (a family's one-time start, as
    hmmlearn's import and first fit); it counts its fits."""

    fits = 0

    def fit(self, dataset, **kwargs):
        _ColdStart.fits += 1
        if _ColdStart.fits == 1:
            time.sleep(1.0)
        return super().fit(dataset, **kwargs)


def test_a_familys_one_time_start_is_not_counted_as_its_fit_time(ref):
    """The first fit of a family in a fresh process (about 1 s for hmmlearn, 11 ms warm) is not
    the candidate's fit time: its other folds are not skipped as overrunning the budget. Once
    warm, nothing more is fitted than the folds and the final fit."""
    ds = small_dataset(ref, False, per_class=5)  # 5 folds
    cands = [("kNN", lambda: gm.KNN(3)), ("cold start", lambda: _ColdStart(3))]
    model = gm.auto(ds, budget_s=3, candidates=cands)
    cold = model.selection_["candidates"][1]
    assert cold["status"] == "ok" and cold["fit_seconds"] < 0.5, cold
    fits = _ColdStart.fits
    again = gm.auto(ds, budget_s=3, candidates=cands[1:])
    assert _ColdStart.fits - fits == 5 + 1  # warm: the folds and the final fit only
    assert again.selection_["candidates"][0]["fold_scores"] == cold["fold_scores"]


def test_regression_is_scored_by_r2(ref):
    ds = small_dataset(ref, True, per_class=2)
    model = gm.auto(ds, budget_s=120, candidates=[("GMR", lambda: gm.GMM(2)),
                                                  ("linear", lambda: gm.Linear())])
    sel = model.selection_
    assert all(c["cv_score"] is not None and c["cv_score"] <= 1.0 for c in sel["candidates"])
    assert model.stream().step(list(ds)[0].inputs[0]).output is not None


def test_default_candidates_try_every_dtw_normalization():
    from gesturemap.models.search import default_candidates
    norms = {m.normalization_ for m in (f() for _, f in default_candidates())
             if isinstance(m, gm.DTW)}
    # the defaults' DTW chooses between global and per-window z-normalisation itself
    assert norms == {"auto", "take", "none"}


def _offset_takes(rng, n_per_class):
    """Two shapes, every take at its own offset and size (a sensor worn differently each
    time): only a per-take normalisation sees the shape."""
    t = np.linspace(0, 1, 40)
    shapes = {"up-down": np.stack([np.sin(np.pi * t), t], 1),
              "down-up": np.stack([-np.sin(np.pi * t), t], 1)}
    ds, tests = gm.Dataset(), []
    for label, shape in shapes.items():
        for i in range(2 * n_per_class):
            x = shape * rng.uniform(0.5, 2.0) + rng.normal(0, 5.0, size=2)
            x = x + rng.normal(0, 0.02, size=x.shape)
            if i < n_per_class:
                ds.add(x, label=label)
            else:
                tests.append((x, label))
    return ds, tests


def test_auto_picks_per_take_normalization_where_takes_are_offset():
    from gesturemap.models.search import default_candidates
    take = [c for c in default_candidates() if c[0] == "DTW z-normalised per take"]
    ds, tests = _offset_takes(np.random.default_rng(3), 6)
    model = gm.auto(ds, budget_s=120, candidates=[("DTW defaults", lambda: gm.DTW()), *take])
    sel = model.selection_
    # DTW's default chooses a per-window z-normalisation on such takes by itself, so it sees
    # the shape as well as the per-take candidate; a global standardisation would not
    assert [c["cv_score"] for c in sel["candidates"]] == [1.0, 1.0]
    assert model.normalization_ in ("window", "take")
    glob = gm.auto(ds, budget_s=120, candidates=[
        ("DTW global", lambda: gm.DTW(normalization="global")), *take]).selection_
    assert glob["candidates"][1]["cv_score"] > glob["candidates"][0]["cv_score"]
    pred = model.predict([x for x, _ in tests])
    assert np.mean([p == y for p, (_, y) in zip(pred, tests, strict=True)]) >= 0.9
