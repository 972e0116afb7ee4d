"""``gm.auto`` choosing for spotting: the candidates, the held-out takes played as one stream,
the score of a spotter's events, and the first path a user writes on real HAPT sessions."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError
from gesturemap.models.spotting.choose import (
    event_f1,
    spotting_candidates,
    take_stream,
)


def _wave(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """A 2-D gesture: a rise on one channel and back (``up``), or on the other (``side``)."""
    t = np.linspace(0.0, np.pi, n)
    x = np.zeros((n, 2))
    x[:, 0 if kind == "up" else 1] = 3.0 * np.sin(t)
    return x + rng.normal(0.0, 0.1, x.shape)


def _dataset(null: bool = True, seed: int = 0) -> gm.Dataset:
    """Six takes each of two gestures, and (``null``) six takes of still noise."""
    rng = np.random.default_rng(seed)
    ds = gm.Dataset()
    for k in range(6):
        for kind in ("up", "side"):
            ds.add(_wave(kind, 30 + 2 * k, rng), label=kind)
        if null:
            ds.add(rng.normal(0.0, 0.1, (30, 2)), label=gm.NULL)
    return ds


def test_take_stream_plays_each_gesture_after_a_null_take() -> None:
    ds = _dataset()
    x, truth = take_stream(list(ds), seed=3)
    takes = {id(r): r for r in ds}
    assert len(truth) == 12 and {lb for lb, _, _ in truth} == {"up", "side"}
    # a null take (30 frames) before every gesture and one at the end
    assert len(x) == sum(len(r.inputs) for r in takes.values() if r.label != gm.NULL) + 13 * 30
    starts = [s for _, s, _ in truth]
    assert starts == sorted(starts) and starts[0] == 30
    for (label, s, e), (_, s2, _) in zip(truth, truth[1:] + [(None, len(x), 0)],
                                         strict=True):
        assert s2 - e - 1 == 30  # the next null take, exactly
        assert np.abs(x[s:e + 1, 0 if label == "up" else 1]).max() > 2.0
    again, same = take_stream(list(ds), seed=3)
    assert np.array_equal(again, x) and same == truth
    assert take_stream(list(ds), seed=4)[1] != truth  # the order is the seed's


def test_event_f1_counts_hits_misses_and_false_alarms() -> None:
    ev = lambda label, t: gm.Event(label, t - 5, t, t, 1.0)  # noqa: E731
    truth = [("a", 10, 29), ("b", 50, 69), ("a", 90, 109)]
    assert event_f1([ev("a", 20), ev("b", 75), ev("a", 110)], truth) == 1.0
    # "b" at 80 is half the take's length after its end (10 frames): too late, a false alarm
    # and a miss; a second "a" in the first take is a false alarm
    assert event_f1([ev("a", 20), ev("a", 25), ev("b", 80), ev("a", 110)], truth) == \
        pytest.approx(2 * 2 / (4 + 3))
    assert event_f1([ev("b", 20)], truth) == 0.0  # the wrong name
    assert event_f1([], []) == 0.0


def test_auto_chooses_for_spotting_when_the_dataset_holds_null_takes() -> None:
    ds = _dataset()
    model = gm.auto(ds, budget_s=30, folds=2)
    sel = model.selection_
    assert sel["task"] == "spotting" and "gm.spot" in sel["score"]
    assert [c["name"] for c in sel["candidates"]] == [n for n, _ in spotting_candidates()]
    assert sel["chosen"] is not None and sel["cv_score"] is not None
    assert model.kind in gm.models.spotting.core.SPOT_KINDS and not model.deltas
    # what the CV scored is what spots: two gestures in a still stream are found
    rng = np.random.default_rng(9)
    still = lambda n: rng.normal(0.0, 0.1, (n, 2))  # noqa: E731
    stream = np.vstack([still(60), _wave("up", 34, rng), still(60), _wave("side", 34, rng),
                        still(60)])
    assert [e.label for e in gm.spot(model, stream)] == ["up", "side"]


def test_auto_chooses_for_recognition_without_null_takes_or_with_own_candidates() -> None:
    quick = [("GMM", lambda: gm.GMM(1))]
    assert gm.auto(_dataset(null=False), candidates=quick).selection_["task"] == "recognition"
    # a caller's own list is scored as asked: for recognition unless task says spotting
    assert gm.auto(_dataset(), candidates=quick).selection_["task"] == "recognition"
    sel = gm.auto(_dataset(), candidates=quick, task="spotting", folds=2).selection_
    assert sel["task"] == "spotting" and sel["cv_score"] is not None
    # asked for, spotting without null takes (the threshold model is the null model)
    sel = gm.auto(_dataset(null=False), task="spotting", budget_s=5, folds=2).selection_
    assert sel["task"] == "spotting" and sel["candidates"][0]["name"].startswith("HHMM")


def test_a_task_that_does_not_fit_the_dataset_is_refused() -> None:
    with pytest.raises(GesturemapError, match="task='tracking'"):
        gm.auto(_dataset(), task="tracking")
    with pytest.raises(GesturemapError, match="without outputs"):
        gm.auto(_dataset(), task="regression")
    with_outputs = gm.Dataset()
    rng = np.random.default_rng(0)
    for k in range(4):
        with_outputs.add(rng.normal(size=(20, 2)), label=str(k % 2),
                         outputs=rng.normal(size=(20, 1)))
    with pytest.raises(GesturemapError, match="with outputs"):
        gm.auto(with_outputs, task="spotting")


@pytest.mark.slow
def test_the_first_path_a_user_writes_spots_held_out_hapt_sessions(datasets_dir) -> None:
    """``gm.spot(gm.auto(ds), session)`` on two sessions of a subject it never saw, trained on
    the takes ``gesturemap eval --spotting`` cuts from four sessions of two others. A search
    that chose for naming takes picks a model with delta features (the HHMM's default, the
    winner on HAPT's takes), which finds 2 of 12 transitions here; every spotting candidate
    finds at least 6, whichever the budget lets the search choose."""
    from gesturemap.evaluation.spotting.cv import load_streams, make_dataset, match_session
    from gesturemap.evaluation.spotting.scores import spotting_metrics

    st = load_streams(str(datasets_dir / "HAPTTransitions" / "HAPT_train_streams.npz"))
    assert st.subject.tolist() == [1, 1, 3, 3, 5, 5, 6, 6]
    ds = make_dataset(st, range(4), lambda x: x)

    def f1(model: gm.models.BaseModel) -> float:
        held = [match_session(st, i, gm.spot(model, st.sessions[i])) for i in (6, 7)]
        return spotting_metrics(held, [str(g) for g in st.gestures], st.rate_hz)["f1"]

    chosen = gm.auto(ds, budget_s=8, folds=3)
    assert chosen.selection_["task"] == "spotting"
    naming = gm.HHMM().fit(ds)
    assert f1(chosen) >= 0.5 and f1(chosen) - f1(naming) >= 0.25
