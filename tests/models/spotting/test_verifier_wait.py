"""The spotting verifier's wait (second variant): it also reads the frames just
after the spotter's emission, and the event is emitted that many frames later — in a stream,
in gm.spot and run in pieces alike; stored in its JSON; chosen by its cross-fit."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.evaluation.spotting.cv import StackedVerifier, Streams, make_dataset, nested_cv
from gesturemap.evaluation.spotting.scores import ground_truth_events
from gesturemap.models.spotting.core import Spotter
from gesturemap.models.spotting.verifier import MAX_WAIT, SpotVerifier
from tests.models.spotting.test_verifier_context import (
    bump_frames,
    bump_streams,
    live_equals_post_hoc,
    rest_frames,
)
from tests.models.spotting.test_verifier_live import SETTINGS, _factory


def after_streams(seed: int) -> Streams:
    """Bump streams (8 sessions, 2 per subject) of the same bump (0 -> 1 -> 0 on channel 0)
    after 60 still frames, then 10 still frames, then a rest: still after label 1, swaying on channel 1
    (1.5 Hz) after label 2. The spotter emits 7-9 frames after a bump's end, so only frames
    after its emission tell the two apart."""
    def trial(rng: np.random.Generator, sway: bool) -> tuple[np.ndarray, np.ndarray]:
        bump, rest = bump_frames(rng), rest_frames(rng, sway)
        return (np.vstack([rng.normal(0, 0.01, (60, 2)), bump, rng.normal(0, 0.01, (10, 2)),
                           rest]),
                np.array([0] * 60 + [2 if sway else 1] * len(bump) + [0] * (10 + len(rest))))
    return bump_streams(seed, trial)


@pytest.fixture(scope="module")
def trained():
    st = after_streams(2)
    fit = {w: gm.fit_verifier(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                              gestures=[1, 2], wait=w, **SETTINGS) for w in (0, 20)}
    both = gm.fit_verifier(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                           gestures=[1, 2], wait=20, context=50, **SETTINGS)
    model = _factory().fit(make_dataset(st, range(4), lambda a: a))
    return st, fit[0], fit[20], both, model


def test_only_the_frames_after_the_emission_tell_the_classes_apart(trained) -> None:
    st, plain_v, v, _, model = trained
    assert (plain_v.wait, v.wait) == (0, 20)
    right = {0: 0, 20: 0}
    for i in range(4, 8):
        x = st.sessions[i]
        truth = [str(lb) for lb, _, _ in ground_truth_events(st.labels[i], [1, 2])]
        spotted = gm.spot(model, x, **SETTINGS)
        for w, verifier in ((0, plain_v), (20, v)):
            events = gm.spot(model, x, verifier=verifier, **SETTINGS)
            assert len(events) == len(truth) == len(spotted)
            assert [e.emitted for e in events] == [e.emitted + w for e in spotted]
            right[w] += sum(str(e.label) == t for e, t in zip(events, truth, strict=True))
    assert right[20] == 32 and right[0] <= 24, right
    assert v.cv_["chosen"] and v.cv_["inner_counts"]["wrong_after"] == 0


@pytest.mark.parametrize("which", ["wait", "wait and context"])
def test_stepping_equals_spot_with_a_waiting_verifier(trained, which) -> None:
    st, _, v, both, model = trained
    v = v if which == "wait" else both
    assert (v.context, v.wait) == ((0, 20) if which == "wait" else (50, 20))
    plain = Spotter(model, **SETTINGS)
    live = Spotter(model, verifier=v, **SETTINGS)
    assert live.ring_frames_ == live.verifier_frames_ + v.context + 20
    for i in range(4, 8):
        x = st.sessions[i]
        expected = live_equals_post_hoc(live, plain, x)
        # pieces cut 5 frames after each spotter emission: every event is due in the next
        cuts = [e.emitted + 5 for e in plain.spot(x)]
        s = live.stream()
        assert [ev for part in np.split(x, cuts) for ev in s.run_events(part)] == expected
        # pieces, then stepping: the waiting event comes out of step
        s = live.stream()
        got = s.run_events(x[:cuts[0]])
        got += [r.event for r in map(s.step, x[cuts[0]:]) if r.event is not None]
        assert got == expected


def test_an_event_due_after_the_end_never_comes_and_reset_forgets_it(trained) -> None:
    st, _, v, _, model = trained
    x = st.sessions[4]
    first = Spotter(model, **SETTINGS).spot(x)[0]
    short = x[:first.emitted + 5]
    assert len(gm.spot(model, short, **SETTINGS)) == 1
    assert gm.spot(model, short, verifier=v, **SETTINGS) == []
    s = Spotter(model, verifier=v, **SETTINGS).stream()
    s.run_events(short)
    assert len(s._waiting) == 1
    s.reset()
    assert s._waiting == [] and s.run_events(x[:50]) == []


def test_json_round_trip_and_checked_wait(trained) -> None:
    _, plain_v, _, both, model = trained
    d = json.loads(json.dumps(both.to_dict()))
    assert (d["wait"], d["context"]) == (20, 50)
    w = SpotVerifier.from_dict(d)
    assert (w.wait, w.context, w.input_dim) == (20, 50, 2)
    np.testing.assert_array_equal(w.coef, both.coef)
    for bad in (-1, 2.5, True, "20", MAX_WAIT + 1, None):
        with pytest.raises(gm.GesturemapError, match="wait"):
            SpotVerifier.from_dict({**d, "wait": bad})
    # without its wait the same width reads as another input dimension: the spotter refuses it
    with pytest.raises(gm.GesturemapError, match="3-dimensional frames"):
        Spotter(model, verifier={**d, "wait": 0}, **SETTINGS)
    old = plain_v.to_dict()
    assert "wait" not in old and SpotVerifier.from_dict(old).wait == 0


def test_fit_verifier_chooses_the_wait_by_its_cross_fit(trained) -> None:
    st, plain_v, v, _, _ = trained
    w = gm.fit_verifier(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                        gestures=[1, 2], wait=[0, 20], **SETTINGS)
    assert (w.wait, w.cv_["wait"], w.cv_["context"]) == (20, 20, 0)
    assert w.cv_["context_scores"] == {"0+0": plain_v.cv_["inner_score_with"],
                                       "0+20": v.cv_["inner_score_with"]}
    np.testing.assert_array_equal(w.coef, v.coef)


def test_nested_cv_chooses_the_wait_and_applies_it_live() -> None:
    st = after_streams(3)
    make = lambda c, **kw: StackedVerifier(c, **kw)  # noqa: E731
    res = nested_cv(st, _factory, {"gmm_frames": [40]}, lambda a: a, outer=2, inner=2,
                    log=lambda s: None, make_verifier=make, verifier_waits=(0, 20))
    for info in res["verifier"]:
        assert info["applied"] and (info["wait"], info["context"]) == (20, 0), info
        assert info["held_out_live_equals_after_the_fact"]
    assert res["metrics"]["f1"] > 0.95, res["metrics"]
    # the events come 20 frames after the spotter's (the delays tell)
    for i, events in res["events"].items():
        ends = [e for _, _, e in ground_truth_events(st.labels[i], [1, 2])]
        assert all(27 <= ev.emitted - end <= 29 for ev, end in zip(events, ends, strict=True))
