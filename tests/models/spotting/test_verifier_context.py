"""The spotting verifier's context: statistics of the frames before an event's
start, read from the live stream's ring at emission (no added delay), stored in the verifier's
JSON, chosen among several lengths by its cross-fit; a verifier without one is 12h's."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.evaluation.spotting.cv import StackedVerifier, Streams, make_dataset, nested_cv
from gesturemap.evaluation.spotting.scores import ground_truth_events
from gesturemap.models.spotting.core import NULL, Spotter, check_settings
from gesturemap.models.spotting.verifier import (
    MAX_CONTEXT,
    SpotVerifier,
    context_span,
    context_stats,
    event_row,
    verifier_features,
)
from tests.models.spotting.test_verifier_live import SETTINGS, _factory


def bump_frames(rng: np.random.Generator) -> np.ndarray:
    """35-44 frames of a bump 0 -> 1 -> 0 on channel 0 (2 channels, a little noise)."""
    n = int(rng.integers(35, 45))
    bump = rng.normal(0, 0.01, (n, 2))
    bump[:, 0] += np.sin(np.pi * np.arange(n) / (n - 1))
    return bump


def rest_frames(rng: np.random.Generator, sway: bool) -> np.ndarray:
    """80-99 frames of rest at 0, still or swaying on channel 1 (1.5 Hz, amplitude 0.3)."""
    m = int(rng.integers(80, 100))
    rest = rng.normal(0, 0.01, (m, 2))
    if sway:
        rest[:, 1] += 0.3 * np.sin(2 * np.pi * 1.5 * np.arange(m) / 50 + rng.uniform(0, 6))
    return rest


def bump_streams(seed: int, trial: Any, tail: int = 0) -> Streams:
    """8 sessions (2 per subject) of 8 trials each, ``trial(rng, sway)`` -> (frames, frame
    labels) with label 1 (``sway`` False) or 2 (True) on its bump, then ``tail`` still frames."""
    rng = np.random.default_rng(seed)
    xs, labels = [], []
    for _ in range(8):
        made = [trial(rng, bool(rng.integers(0, 2))) for _ in range(8)]
        xs.append(np.vstack([*(x for x, _ in made), rng.normal(0, 0.01, (tail, 2))]))
        labels.append(np.concatenate([*(y for _, y in made), np.zeros(tail, dtype=int)]))
    return Streams(xs, labels, np.arange(8) // 2, [1, 2], 50.0)


def context_streams(seed: int) -> Streams:
    """Bump streams (:func:`bump_streams`): one bump (0 -> 1 -> 0 on channel 0) after another,
    label 1 after a still rest, label 2 after a rest swaying on channel 1 (1.5 Hz), then 25
    still frames before the bump. The bumps are the same, so only the frames before an event's
    start tell the two apart."""
    def trial(rng: np.random.Generator, sway: bool) -> tuple[np.ndarray, np.ndarray]:
        rest, bump = rest_frames(rng, sway), bump_frames(rng)
        return (np.vstack([rest, rng.normal(0, 0.01, (25, 2)), bump]),
                np.array([0] * (len(rest) + 25) + [2 if sway else 1] * len(bump)))
    return bump_streams(seed, trial, tail=80)


@pytest.fixture(scope="module")
def trained():
    """Verifiers without and with 50 frames of context from subjects 0-1 (fit_verifier), a
    model on the same; subjects 2-3 held out."""
    st = context_streams(2)
    fit = {c: gm.fit_verifier(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                              gestures=[1, 2], context=c, **SETTINGS) for c in (0, 50)}
    model = _factory().fit(make_dataset(st, range(4), lambda a: a))
    return st, fit[0], fit[50], model


def _right(model, st: Streams, v: SpotVerifier | None) -> tuple[int, int]:
    """Held-out events whose label is the truth's, of all true events (same count needed)."""
    right = total = 0
    for i in range(4, 8):
        events = gm.spot(model, st.sessions[i], verifier=v, **SETTINGS)
        truth = [str(lb) for lb, _, _ in ground_truth_events(st.labels[i], [1, 2])]
        assert len(events) == len(truth)
        right += sum(str(e.label) == t for e, t in zip(events, truth, strict=True))
        total += len(truth)
    return right, total


def test_only_the_context_tells_the_classes_apart(trained) -> None:
    st, plain_v, ctx_v, model = trained
    assert (plain_v.context, ctx_v.context) == (0, 50)
    right, total = _right(model, st, ctx_v)
    assert right == total == 32
    # the spotter alone, and the verifier that sees only the event, guess
    for v in (None, plain_v):
        right, _ = _right(model, st, v)
        assert right <= 0.75 * total, right
    assert ctx_v.cv_["inner_counts"]["wrong_after"] == 0
    assert plain_v.cv_["inner_counts"]["wrong_after"] > 10
    assert ctx_v.cv_["inner_score_with"] > plain_v.cv_["inner_score_with"] + 0.5


def test_fit_verifier_chooses_the_context_by_its_cross_fit(trained) -> None:
    st, plain_v, ctx_v, _ = trained
    v = gm.fit_verifier(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                        gestures=[1, 2], context=[0, 50], **SETTINGS)
    assert v.context == 50 and v.cv_["context"] == 50
    assert v.cv_["context_scores"] == {"0": plain_v.cv_["inner_score_with"],
                                       "50": ctx_v.cv_["inner_score_with"]}
    np.testing.assert_array_equal(v.coef, ctx_v.coef)
    assert v.cv_["reason"].endswith("(context 50 frames)")
    assert "context" not in plain_v.cv_ and "context_scores" not in plain_v.cv_
    with pytest.raises(gm.GesturemapError, match="context"):
        gm.fit_verifier(_factory, st.sessions[:4], st.labels[:4], context=-1, **SETTINGS)


def post_hoc(sp: Spotter, v: SpotVerifier, x: np.ndarray, frames: int) -> list:
    """The spotter's events verified after the fact, with the verifier's context and wait:
    each ``wait`` frames later, those not due before the end left out."""
    events = [e for e in sp.spot(x) if e.emitted + v.wait < len(x)]
    typical = dict(zip(sp.labels, sp.typical_scores_.tolist(), strict=True))
    said = v.predict(verifier_features(events, x, typical, v.classes, max_frames=frames,
                                       context=(v.near, v.context) if v.near else v.context,
                                       wait=v.wait))
    return [dataclasses.replace(e, label=lb, emitted=e.emitted + v.wait)
            for e, lb in zip(events, said, strict=True) if lb != NULL]


def live_equals_post_hoc(live: Spotter, plain: Spotter, x: np.ndarray) -> list:
    """``live.spot`` and stepping ``live``'s stream give :func:`post_hoc`'s events: those."""
    expected = post_hoc(plain, live.verifier, x, live.verifier_frames_)
    assert live.spot(x) == expected
    s = live.stream()
    assert [r.event for r in map(s.step, x) if r.event is not None] == expected
    return expected


def every_path_equal(live: Spotter, plain: Spotter, model: Any, x: np.ndarray,
                     frames: int | None) -> bool:
    """:func:`live_equals_post_hoc`, and so do running ``live``'s stream in 7 pieces and
    ``gm.spot`` with the verifier from JSON; whether the verifier changed the spotter's
    events."""
    expected = live_equals_post_hoc(live, plain, x)
    s = live.stream()
    assert [ev for part in np.array_split(x, 7) for ev in s.run_events(part)] == expected
    assert gm.spot(model, x, verifier=json.loads(json.dumps(live.verifier.to_dict())),
                   verifier_frames=frames, **SETTINGS) == expected
    return plain.spot(x) != expected


@pytest.mark.parametrize("frames", [None, 12])
def test_stepping_equals_spot_with_a_context_verifier(trained, frames) -> None:
    """gm.spot, stepping, running in pieces and verifying after the fact see the same frames:
    the event's (clipped to ``verifier_frames``) and the 50 before its start the ring keeps."""
    st, _, v, model = trained
    plain = Spotter(model, **SETTINGS)
    live = Spotter(model, verifier=v, verifier_frames=frames, **SETTINGS)
    assert live.ring_frames_ == live.verifier_frames_ + 50
    s = live.stream()
    assert s._ring.shape == (live.verifier_frames_ + 50, 2)
    changed = sum(every_path_equal(live, plain, model, st.sessions[i], frames)
                  for i in range(4, 8))
    assert changed >= 2


def test_the_context_is_the_frames_before_the_start() -> None:
    ev = gm.Event("a", 100, 140, 150, 1.0)
    assert context_span(ev, 50) == (50, 100)
    assert context_span(ev, 50, max_frames=60) == (50, 100)
    assert context_span(ev, 50, max_frames=20) == (81, 100)  # the ring: 20 + 50 frames
    assert context_span(gm.Event("a", 10, 40, 50, 1.0), 50) == (0, 10)
    assert context_span(gm.Event("a", 0, 40, 50, 1.0), 50) == (0, 0)
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (200, 3))
    row = event_row(x[100:151], "a", 1.0, 1.0, ["a", "b"], context=x[50:100])
    assert row.shape == (4 * 3 + 1 + 2 + 1 + 2 * 3 + 2,)
    np.testing.assert_array_equal(row[-8:], context_stats(x[50:100]))
    np.testing.assert_allclose(row[-8:-5], x[50:100].mean(0))
    np.testing.assert_allclose(row[-5:-2], np.log(x[50:100].std(0) + 1e-4))
    # nothing before the start (the stream's first frame): the event's first frame stands in
    np.testing.assert_array_equal(event_row(x[:51], "a", 1.0, 1.0, ["a", "b"],
                                            context=x[:0])[-8:], context_stats(x[:1]))
    # causal: frames after the emission change nothing, frames before the context neither
    events = [ev]
    f = verifier_features(events, x, {}, ["a", "b"], context=50)
    y = x.copy()
    y[151:] += 5.0
    y[:50] -= 5.0
    np.testing.assert_array_equal(verifier_features(events, y, {}, ["a", "b"], context=50), f)
    y[60] += 1.0
    assert not np.array_equal(verifier_features(events, y, {}, ["a", "b"], context=50), f)


def test_json_round_trip_and_checked_context(trained) -> None:
    _, plain_v, v, model = trained
    d = json.loads(json.dumps(v.to_dict()))
    assert d["context"] == 50
    w = SpotVerifier.from_dict(d)
    assert w.context == 50 and w.input_dim == 2
    for k in ("mean", "scale", "coef", "intercept"):
        np.testing.assert_array_equal(getattr(w, k), getattr(v, k))
    assert check_settings({"verifier": v})["verifier"] == v.to_dict()
    for bad in (-1, 1.5, True, "50", MAX_CONTEXT + 1, None):
        with pytest.raises(gm.GesturemapError, match="context"):
            SpotVerifier.from_dict({**d, "context": bad})
    # the context's features must be there (and not there without it): a width that fits no
    # input dimension is refused on load; one that fits another is refused by the spotter
    with pytest.raises(gm.GesturemapError, match="mean's length"):
        SpotVerifier.from_dict({**d, "context": 0})
    other = SpotVerifier.from_dict({**plain_v.to_dict(), "context": 50})
    assert other.input_dim == 1
    with pytest.raises(gm.GesturemapError, match="1-dimensional frames"):
        Spotter(model, verifier=other, **SETTINGS)


def test_a_verifier_file_without_context_loads_as_before(trained) -> None:
    """12h's layout (no ``context`` key) loads with no context, and is written back
    unchanged; its stream's ring is the event's frames only."""
    st, v, _, model = trained
    d = json.loads(json.dumps(v.to_dict()))
    assert set(d) == {"format", "classes", "labels", "edge", "mean", "scale", "coef",
                      "intercept"}
    w = SpotVerifier.from_dict(d)
    assert w.context == 0 and w.to_dict() == d
    sp = Spotter(model, verifier=d, **SETTINGS)
    assert sp.ring_frames_ == sp.verifier_frames_ == sp.event_frames_
    assert len(sp.stream()._ring) == sp.event_frames_


def test_nested_cv_chooses_the_context_and_applies_it_live() -> None:
    """``verifier_contexts``: each outer fold's cross-fit picks the context length; the
    held-out sessions spotted live with it equal verifying after the fact; one length 0 is
    the run without the option."""
    st = context_streams(3)
    make = lambda c, context=0: StackedVerifier(c, context=context)  # noqa: E731
    args = (st, _factory, {"gmm_frames": [40]}, lambda a: a)
    kw = {"outer": 2, "inner": 2, "log": lambda s: None, "make_verifier": make}
    res = nested_cv(*args, **kw, verifier_contexts=(0, 50))
    for info in res["verifier"]:
        assert info["applied"] and info["context"] == 50, info
        assert info["context_scores"]["50"] > info["context_scores"]["0"]
        assert info["held_out_live_equals_after_the_fact"]
    assert res["metrics"]["f1"] > 0.95, res["metrics"]
    one = nested_cv(*args, **kw, verifier_contexts=(0,))
    default = nested_cv(*args, **kw)
    assert one["verifier"] == default["verifier"]
    assert one["metrics"] == default["metrics"]
    assert all("context" not in info for info in default["verifier"])


def eval_args(tmp_path: Any, st: Streams) -> list[str]:
    """`gesturemap eval --spotting ... --verify` on the streams ``st`` (saved in
    ``tmp_path``), 2 folds, a GMM."""
    path = tmp_path / "bumps.npz"
    np.savez(path, X_concat=np.vstack(st.sessions), labels_concat=np.concatenate(st.labels),
             lengths=[len(x) for x in st.sessions], subject=st.subject, gesture_labels=[1, 2])
    return ["eval", "--spotting", "--train", str(path), "--folds", "2", "--model", "gmm",
            "--param", "gaussians=1", "--param", "deltas=false", "--spot", "gmm_frames=40",
            "--quiet", "--verify"]


def test_eval_spotting_verifier_context(tmp_path, capsys) -> None:
    """`gesturemap eval --spotting --verify --verifier-context 0 50`: each fold's cross-fit
    chooses the length, and the held-out sessions are spotted with it."""
    from gesturemap.cli import main

    args = eval_args(tmp_path, context_streams(4))
    reports = {}
    for ctx in (["0"], ["0", "50"]):
        out = tmp_path / f"report{len(ctx)}.json"
        assert main([*args, "--verifier-context", *ctx, "--json", str(out)]) == 0
        reports[len(ctx)] = json.loads(out.read_text())
    folds = reports[2]["verifier"]
    assert all(f["chosen"] and f["context"] == 50 for f in folds), folds
    assert all("context" not in f for f in reports[1]["verifier"])
    assert reports[2]["metrics"]["f1"] > reports[1]["metrics"]["f1"] + 0.2
    assert "context scores {'0'" in capsys.readouterr().out
    # by default the cross-fit chooses among 0, 1 and 2 s before each start (--rate 50)
    out = tmp_path / "default.json"
    assert main([*args, "--json", str(out)]) == 0
    folds = json.loads(out.read_text())["verifier"]
    assert all(set(f["context_scores"]) == {"0", "50", "100"} for f in folds), folds
