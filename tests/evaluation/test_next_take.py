"""gm.suggest_next_take: which class to record next, how, and why."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import gesturemap as gm
from tests.paths import REPO_DIR
from tests.recordings import hapt_transition_takes

T = np.linspace(0, 1, 40)[:, None]
SHAPES = {"a": np.hstack([T, T]), "b": np.hstack([T, -T]), "c": np.hstack([-T, T])}


def _take(rng, shape, length=40, scale=1.0, noise=0.05):
    t = np.linspace(0, 1, length)
    path = np.interp(t, np.linspace(0, 1, len(shape)), shape[:, 0]), np.interp(
        t, np.linspace(0, 1, len(shape)), shape[:, 1])
    return scale * np.column_stack(path) + rng.normal(scale=noise, size=(length, 2))


def _dataset(takes, **kw):
    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    for label, n in takes.items():
        for _ in range(n):
            ds.add(_take(rng, SHAPES.get(label, SHAPES["a"]), **kw.get(label, {})), label)
    return ds


def test_a_class_with_one_take_comes_first_and_the_suggestion_is_deterministic():
    ds = _dataset({"a": 3, "b": 3, "c": 1})
    s = gm.suggest_next_take(gm.GMM(gaussians=1), ds)
    assert isinstance(s, gm.NextTake)
    assert s.label == "c"
    assert "one take" in s.reason
    assert s.hint in ("slower", "faster", "bigger", "smaller")
    assert gm.suggest_next_take(gm.GMM(gaussians=1), ds) == s  # same takes, same answer
    assert s.text().startswith("next take: c, ")


def test_a_class_whose_takes_are_taken_for_another_is_asked_for_not_the_one_taking_them():
    # a is played two ways, half its takes like b: a's takes are taken for b. Another take of
    # a teaches the model where a ends; another take of b would widen b and let it take more
    # of a's, so b needs a take less than even c, which nothing is confused with
    rng = np.random.default_rng(1)
    ds = gm.Dataset()
    for i in range(4):
        ds.add(_take(rng, SHAPES["a" if i % 2 else "b"], noise=0.1), "a")
        ds.add(_take(rng, SHAPES["b"], noise=0.1), "b")
        ds.add(_take(rng, SHAPES["c"], noise=0.1), "c")
    s = gm.suggest_next_take(gm.GMM(gaussians=1), ds)
    assert (s.label, s.hint) == ("a", "unlike b")
    assert "taken for b" in s.reason
    need = dict(zip(s.labels, s.need, strict=True))
    assert need["b"] < need["c"] < need["a"]


def test_on_real_takes_the_class_winning_the_others_takes_is_asked_for_least(datasets_dir):
    # HAPT's transitions, the first three takes of each: the review takes every SIT_TO_LIE
    # take for STAND_TO_LIE, which also wins takes of other classes. The suggestion asks for
    # the class losing its takes, and the class winning them needs a take least
    takes, labels, _ = hapt_transition_takes(datasets_dir / "HAPTTransitions")
    ds = gm.Dataset()
    for c in sorted(set(labels)):
        for i in [i for i in range(len(takes)) if labels[i] == c][:3]:
            ds.add(takes[i], label=c)
    s = gm.suggest_next_take(gm.GMM(), ds)
    confusion = gm.review_takes(ds, gm.GMM()).summary.confusion
    lost = confusion.sum(axis=1) - np.diag(confusion)
    won = confusion.sum(axis=0) - np.diag(confusion)
    assert s.label == s.labels[int(np.argmax(lost))]
    assert s.hint == f"unlike {s.labels[int(np.argmax(confusion[s.labels.index(s.label)]))]}"
    assert int(np.argmin(s.need)) == int(np.argmax(won)) and won.max() >= 2


def test_the_prior_toward_balance_asks_for_the_class_with_fewer_takes():
    # three classes the model tells apart alike: the one with a take fewer comes first, and a
    # class two takes ahead of the fewest is never a candidate
    ds = _dataset({"a": 3, "b": 2, "c": 3})
    s = gm.suggest_next_take(gm.GMM(gaussians=1), ds)
    assert s.label == "b"
    rng = np.random.default_rng(3)
    ds = gm.Dataset()
    for i in range(4):  # a confused with b, but a has two takes more than c
        ds.add(_take(rng, SHAPES["a" if i % 2 else "b"], noise=0.1), "a")
        ds.add(_take(rng, SHAPES["b"], noise=0.1), "b")
        if i < 2:
            ds.add(_take(rng, SHAPES["c"], noise=0.1), "c")
    s = gm.suggest_next_take(gm.GMM(gaussians=1), ds)
    assert s.label == "c"
    need = dict(zip(s.labels, s.need, strict=True))
    assert need["a"] == need["b"] == 0.0 and 0.0 < need["c"] <= 1.0


def test_takes_all_alike_ask_for_a_slower_one_toward_the_others():
    # every take of a lasts 40 frames, the others' 80: a slower take of a (nearer the
    # others) teaches the model most; a has the fewest takes, so it is the only candidate
    ds = _dataset({"a": 2, "b": 4, "c": 4}, b={"length": 80}, c={"length": 80})
    s = gm.suggest_next_take(gm.GMM(gaussians=1), ds)
    assert (s.label, s.hint) == ("a", "slower")
    assert "as long" in s.reason
    ds = _dataset({"a": 2, "b": 4, "c": 4}, a={"length": 80}, b={"length": 40},
                  c={"length": 40})
    assert gm.suggest_next_take(gm.GMM(gaussians=1), ds).hint == "faster"


def test_the_null_class_is_asked_for_as_rest_between_gestures():
    rng = np.random.default_rng(2)
    ds = _dataset({"a": 4, "b": 4})
    for _ in range(2):
        ds.add(rng.normal(scale=0.3, size=(40, 2)), gm.NULL)
    s = gm.suggest_next_take(gm.GMM(gaussians=1), ds)
    assert s.label == gm.NULL
    assert s.hint.startswith("a take of rest between")


def test_fewer_than_two_classes_suggests_another_gesture():
    s = gm.suggest_next_take(gm.GMM(), _dataset({"a": 2}))
    assert s.label is None and "another gesture" in s.reason
    assert gm.suggest_next_take(gm.GMM(), gm.Dataset()).label is None


def test_gesturemap_eval_prints_the_next_take(tmp_path):
    ds = _dataset({"a": 3, "b": 3, "c": 1})
    project = gm.Project("p", classes=["a", "b", "c"], model="gmm")
    for r in ds:
        project.add_take(r.inputs, r.label)
    project.save(tmp_path / "p")
    env = {**os.environ, "PYTHONPATH": str(REPO_DIR)}
    out = subprocess.run([sys.executable, "-m", "gesturemap", "eval", str(tmp_path / "p")],
                         capture_output=True, text=True, env=env, timeout=300, check=True)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("next take:")]
    assert line and line[0].startswith("next take: c, "), out.stdout


@pytest.mark.parametrize("folds", [3])
def test_the_project_report_carries_the_suggestion(folds):
    from gesturemap.evaluation.quality import project_quality, suggest_for_project

    ds = _dataset({"a": 3, "b": 3, "c": 1})
    project = gm.Project("p", classes=["a", "b", "c"], model="gmm")
    for r in ds:
        project.add_take(r.inputs, r.label)
    report = project_quality(project, folds=folds).to_dict()
    assert report["next_take"]["label"] == "c"
    assert suggest_for_project(project, folds=folds).label == "c"


def test_fewer_than_two_classes_say_what_to_record():
    """No suggestion without two classes to compare: with none yet, the reason asks for two
    gestures (not for "another" one, as if one were there); with one, for another."""
    none = gm.suggest_next_take(gm.GMM(gaussians=1), gm.Dataset())
    assert none.label is None and "record two gestures" in none.reason
    assert "another" not in none.reason
    ds = gm.Dataset()
    ds.add(np.random.default_rng(0).normal(size=(20, 2)), label="circle")
    one = gm.suggest_next_take(gm.GMM(gaussians=1), ds)
    assert one.label is None and one.reason.startswith("only circle so far: record another")
