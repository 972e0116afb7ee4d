"""gm.auto: chosen by cross-validation on the dataset's own takes, and selection_ tells the truth."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.models.search import (
    _describe,
    cross_validate,
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
    assert _describe(model)["params"] == chosen["params"] == sel["params"]
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


def test_bad_budget_is_refused(ref):
    with pytest.raises(gm.GesturemapError, match="budget_s"):
        gm.auto(small_dataset(ref, False), budget_s=0)


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
    assert norms == {"global", "take", "none"}


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
    assert sel["candidates"][sel["chosen"]]["name"] == "DTW z-normalised per take"
    assert sel["candidates"][1]["cv_score"] > sel["candidates"][0]["cv_score"]
    pred = model.predict([x for x, _ in tests])
    assert np.mean([p == y for p, (_, y) in zip(pred, tests, strict=True)]) >= 0.9
