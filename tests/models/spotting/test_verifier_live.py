"""The spotting verifier as a live part of spotting: plain arrays that predict as
scikit-learn does, JSON in and out with checked values, applied by a Spotter as it emits (in a
stream and in gm.spot alike, on the frames its ring holds), and trained by gm.fit_verifier."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.evaluation.spotting.cv import make_dataset
from gesturemap.models.spotting.core import NULL, Spotter, check_settings
from gesturemap.models.spotting.verifier import (
    SpotVerifier,
    VerifierUnavailable,
    event_row,
    verifier_features,
)
from tests.evaluation.spotting.test_scores import ramp_streams

SETTINGS = {"gmm_frames": 40}


def _factory() -> gm.GMM:
    return gm.GMM(gaussians=1, deltas=False)


@pytest.fixture(scope="module")
def trained():
    """Ramps up and down a GMM without deltas confuses, and null excursions it fires on:
    a verifier from subjects 0-1 (fit_verifier), a model on the same, subjects 2-3 held out."""
    st = ramp_streams(4, excursions=True)
    v = gm.fit_verifier(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                        gestures=[1, 2], **SETTINGS)
    model = _factory().fit(make_dataset(st, range(4), lambda a: a))
    return st, v, model


def test_fit_verifier_reports_its_cross_fit_and_is_chosen(trained) -> None:
    _, v, _ = trained
    assert isinstance(v, gm.SpotVerifier)
    cv = v.cv_
    assert cv["chosen"] is True, cv
    assert cv["inner_score_with"] > cv["inner_score_without"]
    assert cv["reason"].startswith("on: cross-fitted inner score")
    assert cv["targets"]["1"] > 0 and cv["targets"]["2"] > 0 and cv["targets"][NULL] > 0
    assert cv["inner_counts"]["fixed"] > 0
    assert v.classes == ["1", "2"] and sorted(v.labels) == ["1", "2", NULL]
    json.dumps(cv)  # the report is plain values


def test_prediction_is_sklearns_for_many_and_two_labels() -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    f = rng.normal(0, 1, (120, 4 * 2 + 1 + 2 + 1)) * rng.uniform(0.1, 10, 12) + 3.0
    for targets in (rng.choice(["a", "b", NULL], 120), rng.choice(["a", "b"], 120)):
        f[:, 0] += (targets == "a") * 2.0  # something to learn
        v = SpotVerifier.fit(f, list(targets), ["a", "b"])
        mean, scale = f.mean(0), f.std(0)
        clf = LogisticRegression(C=0.3, max_iter=3000).fit((f - mean) / scale, list(targets))
        test = rng.normal(0, 1, (200, f.shape[1])) * f.std(0) + f.mean(0)
        assert v.predict(test) == [str(c) for c in clf.predict((test - mean) / scale)]
        dec = clf.decision_function((test - mean) / scale)
        mine = v.decision(test)
        if dec.ndim == 1:  # two labels: sklearn's one column is the difference of ours
            np.testing.assert_allclose(mine[:, 1] - mine[:, 0], dec, rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_array_equal(mine, dec)


def test_dict_round_trip_through_json_and_checked_values(trained) -> None:
    _, v, _ = trained
    d = json.loads(json.dumps(v.to_dict()))
    w = SpotVerifier.from_dict(d)
    for k in ("mean", "scale", "coef", "intercept"):
        np.testing.assert_array_equal(getattr(w, k), getattr(v, k))
    assert (w.classes, w.labels, w.edge) == (v.classes, v.labels, v.edge)
    bad = [({**d, "coef": d["coef"][:-1]}, "coef's shape"),
           ({**d, "mean": [*d["mean"][:-1], float("nan")]}, "finite"),
           ({**d, "scale": [0.0] * len(d["scale"])}, "positive"),
           ({**d, "labels": ["1", "3", NULL]}, "labels"),
           ({**d, "classes": []}, "classes"),
           ({**d, "mean": d["mean"][:-1], "scale": d["scale"][:-1]}, "mean's length"),
           ({k: x for k, x in d.items() if k != "intercept"}, "intercept"),
           ({**d, "weights": [1]}, "unknown key"),
           ({**d, "format": 99}, "format"),
           ({**d, "edge": 0}, "edge"),
           ("pickle", "a dict")]
    for value, words in bad:
        with pytest.raises(gm.GesturemapError, match=words):
            SpotVerifier.from_dict(value)
        with pytest.raises(gm.GesturemapError, match="spotting verifier"):
            check_settings({"verifier": value})
    assert check_settings({"relative_threshold": 0.3, "verifier": v})["verifier"] == v.to_dict()


def test_a_verifier_for_other_gestures_or_inputs_is_refused(trained) -> None:
    st, v, model = trained
    d = v.to_dict()
    other = {**d, "classes": ["1", "9"], "labels": ["1", "9", NULL]}
    with pytest.raises(gm.GesturemapError, match="trained for the gestures"):
        Spotter(model, verifier=other, **SETTINGS)
    wide = SpotVerifier(d["classes"], d["labels"], np.zeros(4 * 3 + 4), np.ones(4 * 3 + 4),
                        np.zeros((3, 4 * 3 + 4)), np.zeros(3))
    with pytest.raises(gm.GesturemapError, match="3-dimensional frames"):
        Spotter(model, verifier=wide, **SETTINGS)
    # the engine's stream spots on without it
    stream = gm.models.spotting.core.spotting_stream(model, {**SETTINGS, "verifier": other})
    assert stream.spotter.verifier is None


def _post_hoc(sp: Spotter, v: SpotVerifier, x: np.ndarray, frames: int) -> list:
    """The spotter's events verified after the fact (12g's path), on the same frames."""
    events = sp.spot(x)
    typical = dict(zip(sp.labels, sp.typical_scores_.tolist(), strict=True))
    said = v.predict(verifier_features(events, x, typical, v.classes, max_frames=frames))
    return [dataclasses.replace(e, label=lb) for e, lb in zip(events, said, strict=True)
            if lb != NULL]


def _stepped(sp: Spotter, x: np.ndarray) -> list:
    s = sp.stream()
    return [r.event for r in map(s.step, x) if r.event is not None]


def test_live_verification_equals_verifying_after_the_fact(trained) -> None:
    st, v, model = trained
    plain = Spotter(model, **SETTINGS)
    live = Spotter(model, verifier=v, **SETTINGS)
    assert plain.stream()._ring is None  # no verifier, no ring (the default)
    changed = 0
    for i in range(4, 8):
        x = st.sessions[i]
        expected = _post_hoc(plain, v, x, live.event_frames_)
        got = gm.spot(model, x, verifier=v, **SETTINGS)
        assert got == expected
        assert _stepped(live, x) == expected
        # a verifier in the settings as JSON does the same
        assert gm.spot(model, x, verifier=json.loads(json.dumps(v.to_dict())),
                       **SETTINGS) == expected
        changed += plain.spot(x) != expected
        # every event the ring can hold is seen whole: the longest allowed fits
        assert all(e.emitted - e.start + 1 <= live.verifier_frames_ for e in plain.spot(x))
    assert changed >= 2  # the verifier relabels or drops events on most sessions


def test_an_event_longer_than_the_ring_is_seen_clipped_in_spot_and_stream(trained) -> None:
    st, v, model = trained
    plain = Spotter(model, **SETTINGS)
    short = Spotter(model, verifier=v, verifier_frames=12, **SETTINGS)
    for i in (4, 6):
        x = st.sessions[i]
        assert any(e.emitted - e.start + 1 > 12 for e in plain.spot(x))
        expected = _post_hoc(plain, v, x, 12)
        assert expected != _post_hoc(plain, v, x, None) or i == 6
        assert short.spot(x) == expected
        assert _stepped(short, x) == expected
        # spot in pieces (one stream, several runs) sees the ring across them
        s = short.stream()
        pieces = [ev for part in np.array_split(x, 7) for ev in s.run_events(part)]
        assert pieces == expected


def test_a_failing_verifier_passes_events_through_and_counts(trained, monkeypatch) -> None:
    st, v, model = trained
    x = st.sessions[5]
    sp = Spotter(model, verifier=v, **SETTINGS)

    def boom(*a, **k):
        raise FloatingPointError("broken")

    monkeypatch.setattr(sp.verifier, "check", boom)
    s = sp.stream()
    events = [r.event for r in map(s.step, x) if r.event is not None]
    assert events == Spotter(model, **SETTINGS).spot(x)
    assert s.verifier_failures == len(events) > 0 and s.verifier_dropped == 0


def test_a_verifier_over_a_model_ignoring_a_channel_reads_every_channel() -> None:
    """A model told to ignore a channel still takes it: fit_verifier trains the verifier on
    the frames as given (3 channels), and a spotter over that model takes the verifier (it
    compared those 3 with the model's 2 kept channels and refused it), keeps the full frames
    in its ring and verifies alike in a stream and in gm.spot."""
    st = ramp_streams(4, excursions=True)
    rng = np.random.default_rng(0)
    wide = dataclasses.replace(st, sessions=[np.c_[x, rng.normal(0, 1.0, len(x))]
                                             for x in st.sessions])

    def factory() -> gm.GMM:
        return gm.GMM(gaussians=1, deltas=False, ignore_channels=[2])

    v = gm.fit_verifier(factory, wide.sessions[:4], wide.labels[:4], wide.subject[:4],
                        gestures=[1, 2], **SETTINGS)
    assert v.input_dim == 3
    model = factory().fit(make_dataset(wide, range(4), lambda a: a))
    live = Spotter(model, verifier=v, **SETTINGS)
    changed = 0
    for x in wide.sessions[4:]:
        events = live.spot(x)
        assert _stepped(live, x) == events
        changed += events != Spotter(model, **SETTINGS).spot(x)
    assert changed  # the verifier relabels or drops events


def test_features_are_12gs(trained) -> None:
    """The live row is 12g's: segment stats, the one-hot, log(score / typical)."""
    rng = np.random.default_rng(0)
    frames = rng.normal(0, 1, (30, 2))
    row = event_row(frames, "2", 3.0, 2.0, ["1", "2"])
    assert row.shape == (4 * 2 + 1 + 2 + 1,)
    assert row[-3:].tolist() == [0.0, 1.0, np.log(1.5)]
    np.testing.assert_array_equal(row[:2], frames[:10].mean(0))
    assert event_row(frames, "1", -1.0, 2.0, ["1", "2"])[-1] == np.log(1e-3)


def test_fit_verifier_explains_what_it_cannot_do() -> None:
    st = ramp_streams(4)
    with pytest.raises(VerifierUnavailable, match="one group"):
        gm.fit_verifier(_factory, st.sessions[:2], st.labels[:2], [0, 0], gestures=[1, 2])
    with pytest.raises(VerifierUnavailable, match="no training detections"):
        gm.fit_verifier(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                        gestures=[1, 2], relative_threshold=1e6, **SETTINGS)
    with pytest.raises(VerifierUnavailable, match="label arrays"):
        gm.fit_verifier(_factory, st.sessions[:4], st.labels[:3])
    with pytest.raises(VerifierUnavailable, match="shape"):
        gm.fit_verifier(_factory, st.sessions[:2], [st.labels[0], st.labels[0][:5]])
    with pytest.raises(gm.GesturemapError, match="spotting key"):
        gm.fit_verifier(_factory, st.sessions[:4], st.labels[:4], thresh=0.3)
    with pytest.raises(gm.GesturemapError, match="expected a function"):
        gm.fit_verifier(3, st.sessions[:4], st.labels[:4])
    # a gesture the spotter never finds: no detection of it to learn from
    lab = [np.where(x == 2, 0, x) for x in st.labels[:4]]
    lab[0] = lab[0].copy()
    lab[0][np.flatnonzero(st.labels[0] == 2)[:3]] = 2  # a 3-frame "gesture 2", never spotted
    with pytest.raises(gm.GesturemapError):
        gm.fit_verifier(_factory, st.sessions[:4], lab, st.subject[:4], gestures=[1, 2],
                        **SETTINGS)


def test_fit_verifier_takes_project_model_settings(trained) -> None:
    st, v, _ = trained
    w = gm.fit_verifier({"kind": "gmm", "params": {"gaussians": 1, "deltas": False},
                         "spotting": {**SETTINGS, "verifier": v.to_dict()}},
                        st.sessions[:4], st.labels[:4], st.subject[:4], gestures=[1, 2])
    np.testing.assert_allclose(w.coef, v.coef)
    assert w.cv_ == v.cv_


def test_eval_spotting_verify_trains_a_verifier_per_fold_on_its_training_subjects(
        tmp_path, capsys) -> None:
    """`gesturemap eval --spotting --verify`: each fold's verifier comes from its training
    subjects only (their own cross-fitting), is on where that chose it, and the held-out
    sessions are spotted with it: better than the same folds without."""
    from gesturemap.cli import main

    st = ramp_streams(4, excursions=True)
    path = tmp_path / "ramps.npz"
    np.savez(path, X_concat=np.vstack(st.sessions), labels_concat=np.concatenate(st.labels),
             lengths=[len(x) for x in st.sessions], subject=st.subject, gesture_labels=[1, 2])
    args = ["eval", "--spotting", "--train", str(path), "--folds", "2", "--model", "gmm",
            "--param", "gaussians=1", "--param", "deltas=false", "--spot", "gmm_frames=40",
            "--quiet"]
    reports = {}
    for flag in ((), ("--verify",)):
        out = tmp_path / f"report{len(flag)}.json"
        assert main([*args, *flag, "--json", str(out)]) == 0
        reports[flag] = json.loads(out.read_text())
    plain, verified = reports[()], reports[("--verify",)]
    assert "verifier" not in plain
    folds = verified["verifier"]
    assert len(folds) == 2 and all(f["chosen"] for f in folds), folds
    assert all(f["reason"].startswith("on: cross-fitted") for f in folds)
    assert verified["metrics"]["f1"] > plain["metrics"]["f1"] + 0.1, (
        verified["metrics"], plain["metrics"])
    assert verified["metrics"]["false_positives"] < plain["metrics"]["false_positives"]
    assert "fold 1: verifier on" in capsys.readouterr().out
