"""gm.review_takes: cross-validation on the user's takes finds mislabelled ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gesturemap as gm


def _flipped(datasets: Path, fraction: float, seed: int) -> tuple[gm.Dataset, set[int]]:
    """JapaneseVowels' training takes with ``fraction`` of the labels changed at random."""
    z = np.load(datasets / "JapaneseVowels" / "JapaneseVowels_train.npz")
    xs = np.split(z["X_concat"], np.cumsum(z["lengths"])[:-1])
    y = [int(v) for v in z["y"]]
    rng = np.random.default_rng(seed)
    flipped = rng.choice(len(y), int(round(fraction * len(y))), replace=False)
    for i in flipped:
        y[i] = int(rng.choice([c for c in range(1, 10) if c != y[i]]))
    ds = gm.Dataset()
    for x, label in zip(xs, y, strict=True):
        ds.add(x, label=label)
    return ds, set(flipped.tolist())


@pytest.mark.parametrize("model", [gm.GMM(), gm.KNN()])
def test_finds_flipped_labels(datasets_dir, model):
    ds, flipped = _flipped(datasets_dir, 0.05, seed=1)
    reviews = gm.review_takes(ds, model, folds=5)
    assert [r.index for r in reviews] == list(range(len(ds)))
    assert getattr(model, "labels_", None) is None  # the model given is never fitted
    flagged = {r.index for r in reviews if r.verdict.startswith("probably mislabelled")}
    recall = len(flagged & flipped) / len(flipped)
    precision = len(flagged & flipped) / max(1, len(flagged))
    assert recall >= 0.8 and precision >= 0.6, (recall, precision)
    # the most suspicious takes are the flipped ones
    top = sorted(reviews, key=lambda r: -r.suspicion)[:len(flipped)]
    assert len({r.index for r in top} & flipped) >= 0.8 * len(flipped)
    for r in reviews:
        assert 0.0 <= r.suspicion <= 1.0
        if r.index in flagged:
            assert r.likely_label != r.label


def test_summary_and_verdicts():
    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    centres = {"a": 0.0, "b": 4.0, "c": 8.0}
    for label, c in centres.items():
        for _ in range(4):
            ds.add(rng.normal(c, 1.0, size=(30, 2)), label=label)
    ds.add(rng.normal(centres["b"], 1.0, size=(30, 2)), label="a")  # a "b" labelled "a"
    ds.add(rng.normal(2.0, 1.0, size=(30, 2)), label="solo")  # one take only
    reviews = gm.review_takes(ds, gm.GMM(1))
    assert reviews.summary.folds == 10
    bad = reviews[12]
    assert bad.likely_label == "b" and bad.verdict == "probably mislabelled (looks like b)"
    assert bad.suspicion > 0.9
    assert all(r.verdict == "fits" for r in reviews[:12] if r.label != "a" or r.index != 12)
    assert reviews[13].verdict.startswith("only take of solo")
    s = reviews.summary
    assert s.labels == ["a", "b", "c", "solo"]
    assert s.confusion.sum() == 13 and s.confusion[0, 1] == 1
    assert s.recall[0] == pytest.approx(4 / 5) and s.precision[1] == pytest.approx(4 / 5)
    assert s.needs_take == "solo" and "one take" in s.advice
    assert "confusion" in s.table()


def test_needs_take_is_the_worst_class():
    rng = np.random.default_rng(1)
    ds = gm.Dataset()
    for label, c in (("a", 0.0), ("b", 0.5), ("c", 9.0)):
        for _ in range(6):
            ds.add(rng.normal(c, 1.0, size=(2, 2)), label=label)
    s = gm.review_takes(ds, gm.GMM(1)).summary
    assert s.needs_take in ("a", "b") and s.recall[2] == 1.0


def test_refuses_one_class():
    ds = gm.Dataset()
    ds.add(np.zeros((5, 2)), label="a")
    with pytest.raises(gm.GesturemapError, match="two classes"):
        gm.review_takes(ds, gm.GMM())


def test_a_model_and_a_dataset_swapped_are_named_as_such():
    """Reviewing takes names the dataset first, suggesting the next take the model first: a
    swap ended in "'GMM' object is not iterable", far from the call."""
    ds = gm.Dataset()
    for label in ("a", "b"):
        ds.add(np.zeros((5, 2)), label=label)
    with pytest.raises(TypeError, match=r"review_takes\(dataset, model\): got a GMM as the "
                                        r"dataset and a Dataset as the model; are they swapped"):
        gm.review_takes(gm.GMM(), ds)
    with pytest.raises(TypeError, match=r"suggest_next_take\(model, dataset\): got a GMM as "
                                        r"the dataset and a Dataset as the model"):
        gm.suggest_next_take(ds, gm.GMM())


def test_arrays_without_labels_are_named_as_not_takes():
    """A list of arrays (the takes without their labels) ended in "'numpy.ndarray' object has
    no attribute 'label'" deep inside."""
    takes = [np.zeros((5, 2)), np.ones((5, 2))]
    with pytest.raises(TypeError, match=r"suggest_next_take\(model, dataset\): the dataset "
                                        r"holds a ndarray, not a labelled take"):
        gm.suggest_next_take(gm.GMM(), takes)
    with pytest.raises(TypeError, match="not a labelled take: give a gm.Dataset"):
        gm.review_takes(takes, gm.GMM())


def _renamed(names: dict[str, str], seed: int = 4) -> gm.Dataset:
    """The same takes (three overlapping classes, recorded interleaved) under ``names``."""
    rng = np.random.default_rng(seed)
    ds = gm.Dataset()
    for _ in range(7):
        for label, c in (("p", 0.0), ("q", 0.3), ("r", 0.6)):
            ds.add(rng.normal(c, 1.0, size=(20, 2)), label=names[label])
    return ds


@pytest.mark.parametrize("model", [gm.GMM(1), gm.HHMM(states=2)], ids=["gmm", "hhmm"])
def test_renaming_the_classes_changes_no_figure_of_the_review(model):
    """The folds followed the classes' sorted names: renaming a class dealt the same takes
    into other folds, and one take's suspicion went from 0.83 to 0.01."""
    a = gm.review_takes(_renamed({"p": "a", "q": "b", "r": "c"}), model, folds=5)
    back = {"z": "a", "y": "b", "x": "c"}  # the sorted order reversed
    b = gm.review_takes(_renamed({"p": "z", "q": "y", "r": "x"}), model, folds=5)
    assert [r.fold for r in a] == [r.fold for r in b]
    assert [r.suspicion for r in a] == pytest.approx([r.suspicion for r in b], abs=1e-9)
    assert [r.likely_label for r in a] == [back[r.likely_label] for r in b]
    assert len({r.fold for r in a}) == 5 and max(r.suspicion for r in a) > 0.5


def test_ties_between_classes_go_to_the_one_recorded_first():
    """Two classes with one take each: the review and the suggestion ask for the one recorded
    first, whatever the names' sorted order."""
    rng = np.random.default_rng(2)
    for first, second in (("a", "b"), ("b", "a")):
        ds = gm.Dataset()
        for _ in range(3):
            ds.add(rng.normal(0.0, 1.0, size=(10, 2)), label="many")
        ds.add(rng.normal(5.0, 1.0, size=(10, 2)), label=first)
        ds.add(rng.normal(-5.0, 1.0, size=(10, 2)), label=second)
        assert gm.review_takes(ds, gm.GMM(1)).summary.needs_take == first
        assert gm.suggest_next_take(gm.GMM(1), ds).label == first
