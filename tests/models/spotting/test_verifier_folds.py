"""K-fold cross-fitting of the spotting verifier: ``fit_verifier(folds=K)``, the
nested CV's ``verifier_folds``, ``gesturemap eval --spotting --verify --verifier-folds K``.
Each detection the verifier learns from (and each score that switches it on) comes from a
spotter trained on the other K - 1 folds of groups, never on its own group; 2 folds are the
halves of before; more folds than groups are refused."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.evaluation.spotting import cv as spotting_cv
from gesturemap.evaluation.spotting import streams as spot_streams
from gesturemap.evaluation.spotting.cv import StackedVerifier, nested_cv
from gesturemap.evaluation.spotting.streams import cross_fit_folds, grouped_folds
from gesturemap.models.spotting.verifier import VerifierUnavailable
from tests.models.spotting.test_verifier_context import context_streams
from tests.models.spotting.test_verifier_live import SETTINGS, _factory


def _spied(monkeypatch) -> tuple[list[set[int]], list[tuple[int, np.ndarray]]]:
    """Record, in order, the sessions each model of the cross-fit trains on, and which model
    (its number) spots which frames."""
    trained: list[set[int]] = []
    spotted: list[tuple[int, np.ndarray]] = []
    real = spot_streams.make_dataset

    def make_dataset(st, idx, features, **kw):
        trained.append({int(i) for i in idx})
        return real(st, idx, features, **kw)

    class Spotter(spot_streams.Spotter):
        def spot(self, x, *a, **kw):
            spotted.append((len(trained) - 1, x))
            return super().spot(x, *a, **kw)

    # (the cross-fit's spotters are trained and spot in spot_streams.cross_fit_spotters)
    monkeypatch.setattr(spot_streams, "make_dataset", make_dataset)
    monkeypatch.setattr(spot_streams, "Spotter", Spotter)
    return trained, spotted


@pytest.mark.parametrize("folds", [2, 3, 4])
def test_every_detection_comes_from_a_spotter_that_never_saw_its_group(monkeypatch,
                                                                       folds) -> None:
    st = context_streams(2)  # 8 sessions, 4 subjects (2 sessions each)
    trained, spotted = _spied(monkeypatch)
    v = gm.fit_verifier(_factory, st.sessions, st.labels, st.subject, gestures=[1, 2],
                        context=50, folds=folds, **SETTINGS)
    assert v.cv_["folds"] == folds and len(trained) == folds
    seen = []
    for model, x in spotted:
        i = next(k for k, s in enumerate(st.sessions) if s.shape == x.shape
                 and np.array_equal(s, x))
        seen.append(i)
        # the model spotting session i trained on every other fold's groups, none of its own
        assert st.subject[i] not in {st.subject[j] for j in trained[model]}
        assert trained[model] == {j for j in range(8) if st.subject[j] != st.subject[i]
                                  and j not in _fold_of(st.subject, folds, i)}
    assert sorted(seen) == list(range(8))  # every session spotted once
    assert v.cv_["inner_counts"]["detections"] == sum(v.cv_["targets"].values()) > 0


def _fold_of(subject: np.ndarray, folds: int, i: int) -> set[int]:
    return {int(j) for f in grouped_folds(subject, folds) if i in f for j in f}


def test_two_folds_are_the_halves_of_before() -> None:
    st = context_streams(2)
    kw = {"gestures": [1, 2], "context": [0, 50], **SETTINGS}
    default = gm.fit_verifier(_factory, st.sessions, st.labels, st.subject, **kw)
    two = gm.fit_verifier(_factory, st.sessions, st.labels, st.subject, folds=2, **kw)
    np.testing.assert_array_equal(default.coef, two.coef)
    assert default.to_dict() == two.to_dict() and default.cv_ == two.cv_
    assert default.cv_["folds"] == 2
    # the halves: the sorted groups dealt round-robin
    parts = cross_fit_folds(st.subject, 2)
    assert [sorted(set(st.subject[p])) for p in parts] == [[0, 2], [1, 3]]
    four = gm.fit_verifier(_factory, st.sessions, st.labels, st.subject, folds=4, **kw)
    assert four.context == 50 and four.cv_["chosen"]
    assert four.cv_["inner_counts"]["detections"] == default.cv_["inner_counts"]["detections"]


@pytest.mark.parametrize("folds, error, message", [
    (5, VerifierUnavailable, "over 5 folds needs at least 5 groups.*come from 4.*folds <= 4"),
    (1, gm.GesturemapError, "folds"),
    (2.5, gm.GesturemapError, "folds"),
    ("4", gm.GesturemapError, "folds"),
])
def test_a_bad_number_of_folds_is_refused(folds, error, message) -> None:
    st = context_streams(2)
    with pytest.raises(error, match=message):
        gm.fit_verifier(_factory, st.sessions, st.labels, st.subject, gestures=[1, 2],
                        folds=folds, **SETTINGS)


def _own_subjects(st):
    """The bump streams with each session its own subject (8 groups)."""
    return dataclasses.replace(st, subject=np.arange(len(st.sessions)))


def test_nested_cv_cross_fits_the_verifier_over_its_own_folds(monkeypatch) -> None:
    st = _own_subjects(context_streams(3))
    make = lambda c, context=0: StackedVerifier(c, context=context)  # noqa: E731
    args = (st, _factory, {"gmm_frames": [40]}, lambda a: a)
    kw = {"outer": 2, "inner": 2, "log": lambda s: None, "make_verifier": make,
          "verifier_contexts": (0, 50)}
    default = nested_cv(*args, **kw)
    for same in (None, 2):  # the inner CV's folds: the run of before
        res = nested_cv(*args, **kw, verifier_folds=same)
        assert res["verifier"] == default["verifier"] and res["metrics"] == default["metrics"]
        assert all("folds" not in info for info in res["verifier"])
    fits = []
    real = spotting_cv._fit
    monkeypatch.setattr(spotting_cv, "_fit", lambda st_, idx, *a: fits.append(set(
        map(int, idx))) or real(st_, idx, *a))
    parts_seen = []
    real_parts = spotting_cv._cross_fit_parts

    def parts(st_, train, k, *a):
        out = real_parts(st_, train, k, *a)
        parts_seen.append((set(map(int, train)), out[0]))
        return out
    monkeypatch.setattr(spotting_cv, "_cross_fit_parts", parts)
    res = nested_cv(*args, **kw, verifier_folds=4)
    assert len(parts_seen) == 2
    for train, ps in parts_seen:
        assert len(ps) == 4
        tests = [set(map(int, p[0])) for p in ps]
        assert set().union(*tests) == train and sum(map(len, tests)) == len(train)
        for t in tests:  # each part spotted by a model trained on the other three
            assert train - t in fits
            assert {i for _, i in ps[tests.index(t)][1]} == t
    for info in res["verifier"]:
        assert info["folds"] == 4 and info["applied"] and info["context"] == 50, info
        assert info["held_out_live_equals_after_the_fact"]
    assert res["metrics"]["f1"] > 0.95, res["metrics"]
    with pytest.raises(VerifierUnavailable, match="at least 5 groups"):
        nested_cv(*args, **kw, verifier_folds=5)  # 4 training subjects per outer fold
    with pytest.raises(ValueError, match="verifier_folds"):
        nested_cv(*args, **kw, verifier_folds=4, verify_in_loop=True)


def _npz(tmp_path, st):
    path = tmp_path / "bumps.npz"
    np.savez(path, X_concat=np.vstack(st.sessions), labels_concat=np.concatenate(st.labels),
             lengths=[len(x) for x in st.sessions], subject=st.subject, gesture_labels=[1, 2])
    return path


def test_eval_spotting_verifier_folds(tmp_path, capsys) -> None:
    """`gesturemap eval --spotting --verify --verifier-folds K`: each fold's verifier is
    cross-fitted over K folds of its training subjects; more than they hold is refused
    before any training (exit 2, one line)."""
    from gesturemap.cli import main

    st = _own_subjects(context_streams(4))
    args = ["eval", "--spotting", "--train", str(_npz(tmp_path, st)), "--folds", "2",
            "--model", "gmm", "--param", "gaussians=1", "--param", "deltas=false", "--spot",
            "gmm_frames=40", "--quiet", "--verify", "--verifier-context", "0", "50"]
    reports = {}
    for k in ("2", "4"):
        out = tmp_path / f"report{k}.json"
        assert main([*args, "--verifier-folds", k, "--json", str(out)]) == 0
        reports[k] = json.loads(out.read_text())
    out = tmp_path / "default.json"
    assert main([*args, "--json", str(out)]) == 0
    assert json.loads(out.read_text()) == reports["2"]
    assert [f["folds"] for f in reports["4"]["verifier"]] == [4, 4]
    assert all(f["chosen"] and f["context"] == 50 for f in reports["4"]["verifier"])
    assert reports["4"]["metrics"]["f1"] > 0.95
    assert len(reports["4"]["fold_metrics"]) == 2
    capsys.readouterr()
    assert main([*args, "--verifier-folds", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert "at least 5 groups" in err and "\n" not in err
