"""A spotting verifier that waits for the movement to settle: with a wait
``(read, settle)`` it reads the ``read`` frames after the stream is still again — the posture
the gesture ended in — and the event comes then, at most ``settle`` frames after the spotter's
emission (then it reads the last ``read`` frames whatever they are). Checked against a plain re-statement of the rule, in a stream, in
gm.spot, run in pieces and mixed, from JSON, and chosen by its cross-fit."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.evaluation.spotting.cv import Streams, make_dataset
from gesturemap.evaluation.spotting.scores import ground_truth_events
from gesturemap.models.spotting.core import Spotter
from gesturemap.models.spotting.verifier import (
    NULL,
    SpotVerifier,
    due_frames,
    parse_wait,
    split_wait,
    verifier_features,
    wait_name,
)
from tests.models.spotting.test_verifier_context import bump_frames, bump_streams
from tests.models.spotting.test_verifier_live import SETTINGS, _factory

SETTLE = (10, 60)  # read 10 frames once still, 60 frames after the emission at the latest


def still_at(x: np.ndarray, t: int) -> bool:
    """The settle rule written out: the mean squared change over the last 10 frame-to-frame
    steps up to ``t`` at most 0.2 times that over the last 100 (fewer at the stream's start)."""
    steps = [float(np.sum((x[k] - x[k - 1]) ** 2)) for k in range(max(1, t - 99), t + 1)]
    if not steps:
        return True
    return np.mean(steps[-10:]) <= 0.2 * np.mean(steps)


def reference_dues(x: np.ndarray, emitted: list[int], read: int, cap: int) -> list:
    """When each event is read: ``read`` frames after its settle frame (the first still frame
    from the emission on; at once when that is the emission), ``cap`` frames after the
    emission if that is sooner; one per frame, in order; None past the end."""
    out, last = [], -1
    for e in emitted:
        s = next((t for t in range(e, min(e + cap, len(x))) if still_at(x, t)), None)
        due = max(e + cap if s is None else e if s == e else min(s + read, e + cap), last + 1)
        if due >= len(x) or (out and out[-1] is None):
            out.append(None)
            continue
        out.append(due)
        last = due
    return out


def settle_streams(seed: int) -> Streams:
    """Bump streams (:func:`bump_streams`): the same bump (0 -> 1 -> 0 on channel 0), then
    18-25 frames of swaying on channel 1 (mean 0, the same for both labels), then a still
    posture: channel 1 at +0.5 after label 1, at -0.5 after label 2. Only the posture after
    the movement settles tells them apart; 10 frames after the emission are still swaying
    (and once settled, the 10 frames read end within the 1 s a detection may come late)."""
    def trial(rng: np.random.Generator, minus: bool) -> tuple[np.ndarray, np.ndarray]:
        bump = bump_frames(rng)
        n = int(rng.integers(18, 26))
        sway = rng.normal(0, 0.01, (n, 2))
        sway[:, 1] += 0.4 * np.sin(2 * np.pi * 2.0 * np.arange(n) / 50)
        rest = rng.normal(0, 0.01, (int(rng.integers(90, 110)), 2))
        rest[:, 1] += -0.5 if minus else 0.5
        before = rng.normal(0, 0.01, (60, 2))
        return (np.vstack([before, bump, sway, rest]),
                np.array([0] * 60 + [2 if minus else 1] * len(bump) + [0] * (n + len(rest))))
    return bump_streams(seed, trial)


@pytest.fixture(scope="module")
def trained():
    st = settle_streams(4)
    fit = {w: gm.fit_verifier(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                              gestures=[1, 2], wait=[w], **SETTINGS) for w in (10, SETTLE)}
    model = _factory().fit(make_dataset(st, range(4), lambda a: a))
    return st, fit[10], fit[SETTLE], model


def test_the_rule_on_a_known_stream() -> None:
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 0.01, (100, 2)), rng.normal(0, 1.0, (50, 2)),
                   rng.normal(0, 0.01, (600, 2))])
    get = lambda lo, hi: x[lo:hi]  # noqa: E731
    (due,) = due_frames([110], get, len(x), 15, 80)
    s = due - 15
    assert 150 <= s <= 162 and still_at(x, s) and not any(still_at(x, t) for t in range(110, s))
    assert due_frames([110], get, len(x), 15, 30) == [140]  # still moving: read at the cap
    # two events settling on the same frame: the second is read on the next one
    assert due_frames([110, 112], get, len(x), 15, 80) == [due, due + 1]
    # not due before the stream's end: None, and so is every event after it
    assert due_frames([110, 112], get, due, 15, 80) == [None, None]
    # already still at the emission: read at once (the last 15 frames, the posture)
    e = next(t for t in range(150, len(x)) if still_at(x, t) and not still_at(x, t - 1))
    assert due_frames([e], get, len(x), 15, 80) == [e]
    assert due_frames([e - 1], get, len(x), 15, 80) == [e + 15]
    for emitted in ([110, 112], [5, 110, 300], [0, 149, 151], [e - 1, e], [e, e + 1]):
        assert due_frames(emitted, get, len(x), 15, 80) == reference_dues(x, emitted, 15, 80)
    # without settling it is the plain wait: read frames after the emission
    assert due_frames([110, 112], get, len(x), 20, 0) == [130, 132]
    found: list = []
    due_frames([110, 200], get, len(x), 15, 80, settles=found)
    assert found[0] == s and 200 <= found[1] <= 200 + 80 - 15 and still_at(x, found[1])
    # 2 s after the last movement, steady noise never counts as still: read at the cap
    assert not any(still_at(x, t) for t in range(400, 480))
    assert due_frames([400], get, len(x), 15, 80) == [480]
    found = []
    due_frames([110], get, len(x), 15, 30, settles=found)
    assert found == [None]  # not still before it no longer matters


def test_the_setting_as_a_pair_and_as_text() -> None:
    assert split_wait(20) == (20, 0) and split_wait((10, 60)) == split_wait([10, 60]) == SETTLE
    assert wait_name(SETTLE) == "10,60" and wait_name(20) == "20"
    assert parse_wait("10,60") == SETTLE and parse_wait("20") == 20
    for bad in ((0, 80), (15, 0), (15, 15), (20, 15), (15,), (15, 80, 1), (15, 1.5),
                (True, 80), (15, 2000)):
        with pytest.raises(gm.GesturemapError, match="wait"):
            split_wait(bad)


def test_only_the_settled_posture_tells_the_classes_apart(trained) -> None:
    st, fixed, v, model = trained
    assert (fixed.wait, fixed.settle, v.wait, v.settle) == (10, 0, 10, 60)
    right = {10: 0, SETTLE: 0}
    for i in range(4, 8):
        x = st.sessions[i]
        truth = ground_truth_events(st.labels[i], [1, 2])
        spotted = gm.spot(model, x, **SETTINGS)
        assert len(spotted) == len(truth)
        for w, verifier in ((10, fixed), (SETTLE, v)):
            events = gm.spot(model, x, verifier=verifier, **SETTINGS)
            assert len(events) == len(truth)
            right[w] += sum(str(e.label) == str(lb)
                            for e, (lb, _, _) in zip(events, truth, strict=True))
        # read once settled: after the swaying, before the next gesture starts
        dues = [e.emitted for e in gm.spot(model, x, verifier=v, **SETTINGS)]
        for d, (_, _, end), nxt in zip(dues, truth, [*truth[1:], None], strict=True):
            assert end + 15 < d <= end + 50 and (nxt is None or d < nxt[1]), (d, end, nxt)
    assert right[SETTLE] == 32 and right[10] <= 24, right
    # its own cross-fit (small folds) saw it too
    assert v.cv_["chosen"] and fixed.cv_["inner_counts"]["wrong_after"] >= (
        3 * v.cv_["inner_counts"]["wrong_after"] + 5), (fixed.cv_, v.cv_)


def post_hoc(sp: Spotter, v: SpotVerifier, x: np.ndarray, frames: int) -> list:
    """The spotter's events verified after the fact, each read when :func:`reference_dues`
    says, those not due before the end left out."""
    events = sp.spot(x)
    dues = reference_dues(x, [e.emitted for e in events], v.wait, v.settle)
    keep = [k for k, d in enumerate(dues) if d is not None]
    events, dues = [events[k] for k in keep], [dues[k] for k in keep]
    typical = dict(zip(sp.labels, sp.typical_scores_.tolist(), strict=True))
    said = v.predict(verifier_features(events, x, typical, v.classes,
                                       max_frames=frames, wait=(v.wait, v.settle),
                                       dues=dues))
    return [dataclasses.replace(e, label=lb, emitted=d)
            for e, lb, d in zip(events, said, dues, strict=True) if lb != NULL]


def test_stepping_equals_spot_equals_after_the_fact(trained) -> None:
    st, _, v, model = trained
    plain = Spotter(model, **SETTINGS)
    live = Spotter(model, verifier=v, **SETTINGS)
    assert live.ring_frames_ >= live.verifier_frames_ + 10 + 60 + 100
    for i in range(4, 8):
        x = st.sessions[i]
        expected = post_hoc(plain, v, x, live.verifier_frames_)
        assert len(expected) == 8
        assert live.spot(x) == expected
        s = live.stream()
        assert [r.event for r in map(s.step, x) if r.event is not None] == expected
        s = live.stream()
        assert [ev for part in np.array_split(x, 7) for ev in s.run_events(part)] == expected
        # pieces cut while events wait (settled 30 frames on, not yet 3 frames on), then
        # stepping from a cut where the waiting event has settled but is not yet read
        cuts = [e.emitted + k for k, e in zip((3, 30) * 4, plain.spot(x), strict=True)]
        s = live.stream()
        assert [ev for part in np.split(x, cuts) for ev in s.run_events(part)] == expected
        s = live.stream()
        got = s.run_events(x[:cuts[1]])
        assert len(s._waiting) == 1 and s._waiting[0][1] is not None
        got += [r.event for r in map(s.step, x[cuts[1]:cuts[4]]) if r.event is not None]
        got += s.run_events(x[cuts[4]:])
        assert got == expected
        assert gm.spot(model, x, verifier=json.loads(json.dumps(v.to_dict())),
                       **SETTINGS) == expected


def test_json_round_trip_and_checked_settle(trained) -> None:
    _, fixed, v, model = trained
    d = json.loads(json.dumps(v.to_dict()))
    assert (d["wait"], d["settle"]) == SETTLE and "settle" not in fixed.to_dict()
    w = SpotVerifier.from_dict(d)
    assert (w.wait, w.settle, w.input_dim) == (10, 60, 2)
    assert "settle=60" in repr(w)
    for bad in (-1, 2.5, True, "80", 10_000, 10, 5):
        with pytest.raises(gm.GesturemapError, match="settle"):
            SpotVerifier.from_dict({**d, "settle": bad})
    with pytest.raises(gm.GesturemapError, match="settle"):  # settling before reading nothing
        SpotVerifier.from_dict({**fixed.to_dict(), "wait": 0, "settle": 60})


def test_fit_verifier_chooses_the_settled_read_by_its_cross_fit(trained) -> None:
    st, fixed, v, _ = trained
    w = gm.fit_verifier(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                        gestures=[1, 2], wait=[0, 10, SETTLE], **SETTINGS)
    assert (w.wait, w.settle) == SETTLE and tuple(w.cv_["wait"]) == SETTLE
    assert w.cv_["context_scores"]["0+10,60"] == v.cv_["inner_score_with"]
    assert w.cv_["context_scores"]["0+10"] == fixed.cv_["inner_score_with"]
    assert "once settled, at most 60 frames on" in w.cv_["reason"]
    np.testing.assert_array_equal(w.coef, v.coef)


@pytest.mark.parametrize("seed", [0, 2, 4])
def test_an_event_settles_while_another_waits_ahead_of_it(trained, seed) -> None:
    """Two gestures 12 frames of swaying apart: the second is emitted while the first waits,
    and the stream is still again after the first's search for stillness is over but before
    its cap — the second's settle frame must be noted then, not once it is first in line."""
    _, _, v, model = trained
    rng = np.random.default_rng(seed)
    before, first = rng.normal(0, 0.01, (60, 2)), bump_frames(rng)
    sway = rng.normal(0, 0.01, (12, 2))
    sway[:, 1] += 0.4 * np.sin(2 * np.pi * 2.0 * np.arange(12) / 50)
    x = np.vstack([before, first, sway, bump_frames(rng),
                   rng.normal(0, 0.01, (100, 2)) + [0, 0.5]])
    plain = Spotter(model, **SETTINGS)
    live = Spotter(model, verifier=v, **SETTINGS)
    expected = post_hoc(plain, v, x, live.verifier_frames_)
    assert len(expected) == 2 and expected[1].emitted - expected[0].emitted < 10
    s = live.stream()
    waited = 0
    got = []
    for f in x:
        r = s.step(f)
        waited = max(waited, len(s._waiting))
        got += [r.event] if r.event is not None else []
    assert waited == 2 and got == expected == live.spot(x)
