"""Spotting: gestures found in an unsegmented stream, everything else ignored."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.evaluation.spotting.scores import match_detections


def _gesture(label: str, n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)
    if label == "circle":
        x = np.c_[np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)]
    else:  # "zigzag": along x, up and down in y
        x = np.c_[2 * t - 1, np.abs(((4 * t) % 2) - 1) * 2 - 1]
    return x * 2.0 + rng.normal(0, 0.08, x.shape)


def _rest(n: int, rng: np.random.Generator) -> np.ndarray:
    # the performer idles near the origin, drifting slowly
    return np.cumsum(rng.normal(0, 0.02, (n, 2)), axis=0) + rng.normal(0, 0.05, (n, 2))


@pytest.fixture(scope="module")
def data() -> tuple[gm.Dataset, np.ndarray, list[tuple[str, int, int]]]:
    rng = np.random.default_rng(3)
    ds = gm.Dataset()
    for label in ("circle", "zigzag"):
        for _ in range(5):
            ds.add(_gesture(label, int(rng.integers(45, 60)), rng), label=label)
    for _ in range(4):
        ds.add(_rest(150, rng), label=gm.NULL)
    parts, truth, t = [], [], 0
    for label in ("circle", "zigzag", "zigzag", "circle"):
        r = _rest(int(rng.integers(80, 140)), rng)
        g = _gesture(label, int(rng.integers(45, 60)), rng)
        parts += [r, g]
        truth.append((label, t + len(r), t + len(r) + len(g) - 1))
        t += len(r) + len(g)
    parts.append(_rest(100, rng))
    return ds, np.vstack(parts), truth


def test_null_and_event_are_public() -> None:
    assert gm.NULL == "null"
    ev = gm.Event("circle", 3, 10, 12, 1.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.label = "x"  # type: ignore[misc]
    assert "event" in {f.name for f in dataclasses.fields(gm.Result)}


@pytest.mark.parametrize("use_null", [True, False])
def test_hhmm_spots_every_gesture_and_nothing_else(data, use_null) -> None:
    ds, stream, truth = data
    if not use_null:  # the threshold model built from the gesture states (Lee & Kim)
        train = gm.Dataset()
        for r in ds:
            if r.label != gm.NULL:
                train.add(r.inputs, label=r.label)
        ds = train
    model = gm.HHMM(states=6).fit(ds)
    events = gm.spot(model, stream)
    res = match_detections(truth, [(e.label, e.emitted) for e in events], tolerance=25)
    assert len(res.true_positives) == len(truth), (events, truth)
    assert res.false_positives == []
    for e in events:
        assert e.start <= e.end <= e.emitted
        assert e.label != gm.NULL


@pytest.mark.parametrize("make", [lambda: gm.HHMM(states=6), lambda: gm.GMM(gaussians=2),
                                  lambda: gm.DTW()])
def test_spot_equals_stepping(data, make) -> None:
    ds, stream, _ = data
    model = make().fit(ds)
    spotter = gm.Spotter(model, relative_threshold=0.3)
    s = spotter.stream()
    stepped = []
    for i, frame in enumerate(stream):
        r = s.step(frame)
        assert isinstance(r, gm.Result)
        if r.event is not None:
            assert r.event.emitted == i  # emitted on the frame it is returned
            stepped.append(r.event)
    assert stepped == gm.spot(model, stream, relative_threshold=0.3)
    assert gm.spot(spotter, stream) == stepped
    # a reset stream starts again at frame 0 and finds the same events
    s.reset()
    again = [r.event for r in s.run(stream) if r.event is not None]
    assert again == stepped


def test_step_keeps_the_models_own_result(data) -> None:
    ds, stream, _ = data
    model = gm.HHMM(states=6).fit(ds)
    plain = model.stream().run(stream[:50])
    spotted = gm.Spotter(model).stream().run(stream[:50])
    for a, b in zip(plain, spotted, strict=True):
        assert a.label == b.label
        np.testing.assert_array_equal(a.log_likelihoods, b.log_likelihoods)


def test_higher_threshold_emits_fewer_events(data) -> None:
    ds, stream, _ = data
    model = gm.HHMM(states=6).fit(ds)
    low = gm.spot(model, stream, relative_threshold=0.05, refractory_frames=0, min_duration=0.0)
    high = gm.spot(model, stream, relative_threshold=5.0)
    assert len(high) < len(low)
    assert high == []


def test_refractory_period_spaces_events(data) -> None:
    ds, stream, _ = data
    model = gm.HHMM(states=6).fit(ds)
    events = gm.spot(model, stream, relative_threshold=0.05, refractory_frames=60, min_duration=0.0)
    gaps = np.diff([e.emitted for e in events])
    assert len(events) >= 2 and np.all(gaps > 60)


def test_bad_settings_say_what_to_do(data) -> None:
    ds, _, _ = data
    model = gm.HHMM(states=6).fit(ds)
    with pytest.raises(gm.GesturemapError, match="relative_threshold"):
        gm.Spotter(model, relative_threshold=-1)
    with pytest.raises(gm.GesturemapError, match="a dict"):
        gm.Spotter(model, thresholds=0.4)  # one fraction for all is relative_threshold
    with pytest.raises(gm.GesturemapError, match="thresholds key"):
        gm.Spotter(model, thresholds={"nope": 1.0})
    with pytest.raises(gm.GesturemapError, match="HHMM, GMM and DTW"):
        gm.Spotter(gm.KNN().fit(ds))


def test_relabel_reads_only_frames_up_to_emission(data) -> None:
    from gesturemap.evaluation.spotting.cv import relabel

    ds, stream, truth = data

    class Seen:  # a classifier that records what it is shown
        def __init__(self) -> None:
            self.segments: list[np.ndarray] = []

        def predict(self, segs):
            self.segments += [np.array(s) for s in segs]
            return ["zigzag"] * len(segs)

    events = [gm.Event("circle", 300, 350, 360, 2.0), gm.Event("circle", 5, 40, 41, 1.0)]
    seen = Seen()
    out = relabel(events, stream, seen, context=20)
    assert [e.label for e in out] == ["zigzag", "zigzag"]
    assert [(e.start, e.end, e.emitted, e.score) for e in out] == [
        (e.start, e.end, e.emitted, e.score) for e in events]
    np.testing.assert_array_equal(seen.segments[0], stream[280:361])
    np.testing.assert_array_equal(seen.segments[1], stream[0:42])  # context cut at frame 0
    assert relabel([], stream, seen) == []


def test_relabel_by_dtw_corrects_a_wrong_label(data) -> None:
    from gesturemap.evaluation.spotting.cv import relabel

    ds, stream, truth = data
    gestures = gm.Dataset()
    for r in ds:
        if r.label != gm.NULL:
            gestures.add(r.inputs, label=r.label)
    dtw = gm.DTW(normalization="take", n_jobs=1).fit(gestures)
    swap = {"circle": "zigzag", "zigzag": "circle"}
    wrong = [gm.Event(swap[lb], s, e, e + 3, 1.0) for lb, s, e in truth]
    assert [e.label for e in relabel(wrong, stream, dtw)] == [lb for lb, _, _ in truth]


def test_a_dtw_event_never_starts_before_the_stream():
    """DTW's event start is its match's length in template frames counted back from the
    end: a template that begins held still, matched by a stream that starts moving at once,
    put the start 40 frames before the stream's first frame."""
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 40)[:, None]
    moves = {"a": np.hstack([np.sin(2 * np.pi * t), t]),
             "b": np.hstack([np.cos(2 * np.pi * t) - 1, -t])}
    ds = gm.Dataset()
    for label, y in moves.items():
        for _ in range(3):  # held still for 40 frames, then the movement
            take = np.vstack([np.tile(y[:1], (40, 1)), y])
            ds.add(take + rng.normal(0, 0.01, take.shape), label=label)
    model = gm.DTW(n_jobs=1).fit(ds)
    seq = np.vstack([moves["a"], moves["b"]]) + rng.normal(0, 0.01, (80, 2))
    events = gm.spot(model, seq, relative_threshold=1.0, hold_frames=1, refractory_frames=5,
                     min_duration=0.0)
    assert [e.label for e in events] == ["a"]
    assert events[0].start == 0 and events[0].end == 39 and events[0].emitted == 40
    stream = gm.Spotter(model, relative_threshold=1.0, hold_frames=1, refractory_frames=5,
                        min_duration=0.0).stream()
    stepped = [r.event for r in (stream.step(f) for f in seq) if r.event is not None]
    assert stepped == events


def _with_noise(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``x`` with a channel of loud noise first (the channel a model is told to ignore)."""
    return np.c_[rng.normal(0, 3.0, len(x)), x]


@pytest.mark.parametrize(("make", "threshold"), [
    (lambda **k: gm.HHMM(states=6, **k), 0.3),
    (lambda **k: gm.HHMM(states=6, deltas=False, **k), 0.3),
    (lambda **k: gm.GMM(gaussians=2, **k), 0.3),
    (lambda **k: gm.DTW(n_jobs=1, **k), 1.0)], ids=["hhmm", "hhmm-no-deltas", "gmm", "dtw"])
def test_spotting_over_a_model_ignoring_channels(data, make, threshold) -> None:
    """A spotter takes the frames its model takes, ignored channels included, and drops them
    once: a stream stepped on them gave a shape error (HHMM with deltas, GMM, DTW) or read the
    wrong channels (HHMM without deltas). Its events are gm.spot's and those of the same model
    trained on the kept channels alone."""
    ds, stream, _ = data
    rng = np.random.default_rng(8)
    noisy = gm.Dataset()
    for r in ds:
        noisy.add(_with_noise(r.inputs, rng), label=r.label)
    full = _with_noise(stream, rng)
    model = make(ignore_channels=[0]).fit(noisy)
    alone = make().fit(ds)
    s = gm.Spotter(model, relative_threshold=threshold).stream()
    stepped = [r.event for r in map(s.step, full) if r.event is not None]
    expected = gm.spot(alone, stream, relative_threshold=threshold)
    assert expected and stepped == expected
    assert gm.spot(model, full, relative_threshold=threshold) == expected
    with pytest.raises(gm.GesturemapError, match=r"expects \(3,\)"):
        s.step(stream[0])  # the kept channels alone are not a frame of this model
