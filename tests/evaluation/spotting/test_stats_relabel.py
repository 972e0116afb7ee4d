"""The summary-statistics relabeller of the spotting CV: a segment's start and end
posture, log length, per-channel mean and log std, through a multinomial logistic regression."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.evaluation.spotting.cv import SegmentStats, relabel, segment_stats

A, B, C = np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([-1.0, -1.0])


def _move(start: np.ndarray, end: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """From ``start`` to ``end``, with a wiggle symmetric in time around the midpoint: a move
    and its reverse have the same mean, spread and length; only their edges differ."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    wiggle = np.sin(np.pi * t) * np.array([0.5, -0.5])
    return start + (end - start) * t + wiggle + rng.normal(0, 0.05, (n, 2))


def _takes(rng: np.random.Generator, pairs: dict[str, tuple[np.ndarray, np.ndarray]],
           per_class: int) -> gm.Dataset:
    ds = gm.Dataset()
    for label, (s, e) in pairs.items():
        for _ in range(per_class):
            ds.add(_move(s, e, int(rng.integers(40, 60)), rng), label=label)
    return ds


def test_segment_stats_are_the_declared_features() -> None:
    x = np.arange(60, dtype=np.float64).reshape(30, 2)  # channel 0 even, channel 1 odd numbers
    f = segment_stats(x)
    assert f.shape == (9,)  # 5 D + 1
    np.testing.assert_allclose(f[0:2], x[:10].mean(0))  # start posture
    np.testing.assert_allclose(f[2:4], x[-10:].mean(0))  # end posture
    assert f[4] == pytest.approx(np.log(30))
    np.testing.assert_allclose(f[5:7], x.mean(0))
    np.testing.assert_allclose(f[7:9], np.log(x.std(0) + 1e-4))
    np.testing.assert_allclose(segment_stats(x[:4])[0:2], x[:4].mean(0))  # short: what it has
    assert segment_stats(np.zeros(5))[-1] == pytest.approx(np.log(1e-4))  # 1-D, still


def test_separates_classes_that_differ_only_in_start_and_end_posture() -> None:
    rng = np.random.default_rng(0)
    pairs = {"ab": (A, B), "ba": (B, A)}
    model = SegmentStats().fit(_takes(rng, pairs, 10))
    test = _takes(np.random.default_rng(1), pairs, 20)
    assert model.predict([r.inputs for r in test]) == [r.label for r in test]
    # the features other than the edges do not tell them apart: means and spreads overlap
    f = np.array([segment_stats(r.inputs) for r in test])
    ab = np.array([r.label == "ab" for r in test])
    assert np.all(np.abs(f[ab, 5:].mean(0) - f[~ab, 5:].mean(0)) < 0.1)
    assert model.predict([]) == []


def test_its_decision_is_sklearns_logistic_regression() -> None:
    """The plain arrays it keeps (scaler and coefficients) give sklearn's own prediction, for
    three classes and for two (where sklearn keeps one row of coefficients)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(2)
    for pairs in ({"ab": (A, B), "ba": (B, A), "ac": (A, C)}, {"ab": (A, B), "ac": (A, C)}):
        train = _takes(rng, pairs, 8)
        model = SegmentStats().fit(train)
        ref = make_pipeline(StandardScaler(), LogisticRegression(C=0.3, max_iter=3000))
        ref.fit(np.array([segment_stats(r.inputs) for r in train]), [r.label for r in train])
        # noisy segments, some of them ambiguous, so that the two could disagree
        segs = [_move(A, B, 50, rng) * rng.uniform(0.2, 1.5) + rng.normal(0, 0.3, 2)
                for _ in range(60)]
        assert model.predict(segs) == list(ref.predict(np.array([segment_stats(s)
                                                                  for s in segs])))
        proba = ref.predict_proba(np.array([segment_stats(s) for s in segs]))
        d = model.decision(segs)
        np.testing.assert_allclose(np.exp(d) / np.exp(d).sum(1, keepdims=True), proba,
                                   atol=1e-8)
        assert isinstance(model.labels_[0], str) and sorted(model.labels_) == sorted(pairs)


def test_relabel_with_it_fixes_swapped_labels_and_keeps_emission_times() -> None:
    rng = np.random.default_rng(3)
    pairs = {"ab": (A, B), "ba": (B, A)}
    model = SegmentStats().fit(_takes(rng, pairs, 10))
    parts, truth, t, at = [], [], 0, A
    for label in ("ab", "ba", "ab", "ba"):
        rest = at + rng.normal(0, 0.03, (int(rng.integers(60, 90)), 2))
        s, e = pairs[label]
        g = _move(s, e, int(rng.integers(40, 60)), rng)
        parts += [rest, g]
        truth.append((label, t + len(rest), t + len(rest) + len(g) - 1))
        t += len(rest) + len(g)
        at = e
    stream = np.vstack([*parts, at + rng.normal(0, 0.03, (50, 2))])
    swap = {"ab": "ba", "ba": "ab"}
    # emitted at the move's last frame (the takes it learnt from end there too)
    wrong = [gm.Event(swap[lb], s, e, e, 1.0 + k) for k, (lb, s, e) in enumerate(truth)]
    out = relabel(wrong, stream, model, context=0)
    assert [ev.label for ev in out] == [lb for lb, _, _ in truth]
    assert [(ev.start, ev.end, ev.emitted, ev.score) for ev in out] == [
        (ev.start, ev.end, ev.emitted, ev.score) for ev in wrong]
