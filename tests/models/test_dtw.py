"""DTW: distances against a plain numpy DTW, streaming detection of a template in noise,
takes of different lengths, 1-NN accuracy on real data, saving, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import FormatError, GesturemapError, NotFittedError, TrainingCancelled
from gesturemap.models import _dtw_kernels
from gesturemap.models.base import Cancel
from gesturemap.models.dtw import DTWStream

from .classic.test_core import rewrite_arrays


def numpy_dtw(a: np.ndarray, b: np.ndarray) -> float:
    """Textbook DTW (squared Euclidean frame distance, symmetric unweighted steps)."""
    n, m = len(a), len(b)
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(n):
        for j in range(m):
            acc[i + 1, j + 1] = ((a[i] - b[j]) ** 2).sum() + min(acc[i, j], acc[i, j + 1],
                                                                  acc[i + 1, j])
    return float(acc[n, m])


def shape(kind: int, n: int) -> np.ndarray:
    """A 2-D gesture of ``n`` frames: a circle, a figure of eight or a zigzag."""
    t = np.linspace(0, 1, n)
    if kind == 0:
        return np.c_[np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)]
    if kind == 1:
        return np.c_[np.sin(2 * np.pi * t), np.sin(4 * np.pi * t)]
    return np.c_[2 * t - 1, np.abs((4 * t) % 2 - 1) * 2 - 1]


@pytest.fixture(scope="module")
def gestures() -> gm.Dataset:
    """Three classes, two takes each, every take of another length."""
    rng = np.random.default_rng(3)
    ds = gm.Dataset()
    for kind, label in enumerate(("circle", "eight", "zigzag")):
        for n in (30 + 10 * kind, 55 - 5 * kind):
            ds.add(shape(kind, n) + rng.normal(0, 0.03, (n, 2)), label=label)
    return ds


def test_kernel_matches_numpy_dtw_on_unequal_lengths():
    rng = np.random.default_rng(0)
    for n, m in [(1, 1), (1, 7), (9, 4), (23, 23), (17, 31)]:
        a, b = rng.normal(size=(n, 3)), rng.normal(size=(m, 3))
        assert _dtw_kernels.dtw(a, b, 1.0, np.inf) == pytest.approx(numpy_dtw(a, b), rel=1e-12)
        # a band can only make the distance larger; abandoning below it gives inf
        assert _dtw_kernels.dtw(a, b, 0.05, np.inf) >= numpy_dtw(a, b) - 1e-9
        assert _dtw_kernels.dtw(a, b, 1.0, numpy_dtw(a, b) * 0.99) == np.inf


def test_whole_sequence_distances_and_predict(gestures):
    model = gm.DTW(band=1.0, normalization="none", per_frame_distance=True).fit(gestures)
    query = shape(1, 47)
    expected = []
    for label in model.labels_:
        expected.append(min(numpy_dtw(query, r.inputs) / len(r.inputs)
                            for r in gestures.by_label(label)))
    np.testing.assert_allclose(model.distances(query), expected, rtol=1e-12)
    np.testing.assert_allclose(model.log_likelihood(query),
                               -np.array(expected) / model.temperature_, rtol=1e-12)
    queries = [shape(k, n) for k, n in ((0, 70), (2, 25), (1, 33), (0, 12))]
    assert model.predict(queries) == ["circle", "zigzag", "eight", "circle"]
    assert gm.DTW(n_jobs=1).fit(gestures).predict(queries) == model.predict(queries)


def test_stream_distance_is_the_best_subsequence_match(gestures):
    """At every frame, each class's distance is the least DTW distance from any stretch of the
    stream ending now to one of its templates (brute force over every start)."""
    model = gm.DTW(normalization="none", per_frame_distance=True, decision="decaying").fit(gestures)
    rng = np.random.default_rng(1)
    xs = np.vstack([rng.normal(0, 0.5, (6, 2)), shape(2, 20), rng.normal(0, 0.5, (4, 2))])
    res = model.stream().run(xs)
    # the default (cumulative) decision anchors every match at the reset: whole-sequence DTW
    anchored = model.set_params(decision="cumulative").stream().run(xs)
    for t in (0, 5, 17, 25, len(xs) - 1):
        for c, label in enumerate(model.labels_):
            best = min(numpy_dtw(xs[s:t + 1], r.inputs) / len(r.inputs)
                       for s in range(t + 1) for r in gestures.by_label(label))
            assert res[t].distances[c] == pytest.approx(best, rel=1e-12)
            whole = min(numpy_dtw(xs[:t + 1], r.inputs) / len(r.inputs)
                        for r in gestures.by_label(label))
            assert anchored[t].distances[c] == pytest.approx(whole, rel=1e-12)


def test_stream_detects_a_warped_gesture_in_noise(gestures):
    # a stream never reset: open-begin matching (the decaying decision), cost per template frame
    model = gm.DTW(decision="decaying", per_frame_distance=True).fit(gestures)
    rng = np.random.default_rng(2)
    gesture = shape(1, 64) + rng.normal(0, 0.03, (64, 2))  # slower than both "eight" takes
    noise = rng.normal(0, 0.4, (80, 2)) + [0.0, 1.5]
    xs = np.vstack([noise[:50], gesture, noise[50:]])
    res = model.stream().run(xs)
    matches = [t for t, r in enumerate(res) if r.match is not None]
    assert matches, "the gesture was never matched"
    assert {res[t].match for t in matches} == {"eight"}
    end = 50 + 64 - 1
    assert min(matches) >= 50 + 40  # not before most of the gesture was seen
    assert abs(int(np.argmin([r.distances[1] for r in res])) - end) <= 3
    assert res[end].label == "eight" and res[end].likelihoods[1] > 0.9
    assert res[end].progress[1] > 0.9
    assert 0.3 < res[50 + 32].progress[1] < 0.7  # half-way through
    assert all(r.match is None for r in res[:50])


def test_reset_and_threshold(gestures):
    model = gm.DTW().fit(gestures)
    assert model.threshold_ == pytest.approx(2 * model.typical_distance_)
    s = model.stream()
    first = s.step(shape(0, 30)[0])
    s.run(shape(0, 30))
    s.reset()
    again = s.step(shape(0, 30)[0])
    np.testing.assert_array_equal(first.distances, again.distances)
    never = gm.DTW(threshold=1e-9).fit(gestures).stream().run(shape(0, 40))
    assert all(r.match is None for r in never)


def test_japanese_vowels_at_least_the_1nn_dtw_baseline(datasets_dir):
    """README baseline, 1-NN DTW on globally standardised data: 0.959."""
    folder = datasets_dir / "JapaneseVowels"
    train, test = (np.load(folder / f"JapaneseVowels_{s}.npz") for s in ("train", "test"))
    ds = gm.Dataset()
    for x, y in zip(np.split(train["X_concat"], np.cumsum(train["lengths"])[:-1]),
                    train["y"], strict=True):
        ds.add(x, label=str(y))
    xs = np.split(test["X_concat"], np.cumsum(test["lengths"])[:-1])
    predicted = gm.DTW().fit(ds).predict(xs)
    assert np.mean(np.array(predicted) == test["y"]) >= 0.959


def test_save_load_identical(gestures, tmp_path):
    model = gm.DTW(threshold=0.5).fit(gestures)
    loaded = gm.load(model.save(tmp_path / "dtw"))
    xs = np.vstack([shape(2, 30), shape(0, 50)])
    for a, b in zip(model.stream().run(xs), loaded.stream().run(xs), strict=True):
        np.testing.assert_array_equal(a.distances, b.distances)
        np.testing.assert_array_equal(a.progress, b.progress)
        assert a.match == b.match
    assert loaded.typical_distance_ == model.typical_distance_
    assert loaded.predict([xs]) == model.predict([xs])


def test_one_take_and_regression_data():
    one = gm.Dataset()
    one.add(shape(0, 40), label="circle")
    model = gm.DTW().fit(one)
    assert model.typical_distance_ == 2.0  # no other take: the number of inputs
    r = model.stream().run(shape(0, 40))[-1]
    assert r.label == "circle" and r.match == "circle" and r.likelihoods.tolist() == [1.0]
    bimodal = gm.Dataset()
    bimodal.add(shape(0, 40), label="circle", outputs=np.zeros((40, 1)))
    with pytest.raises(GesturemapError, match="does not regress.*choose a regressor"):
        gm.DTW().fit(bimodal)


def test_bad_parameters_and_files(gestures, tmp_path):
    for kwargs, name in [({"band": 0}, "band: got 0"), ({"band": 1.5}, "band: got 1.5"),
                         ({"threshold": -1}, "threshold: got -1"),
                         ({"per_frame_distance": 1}, "per_frame_distance: got 1"),
                         ({"temperature": float("nan")}, "temperature: got nan"),
                         ({"prune": 1}, "prune: got 1"), ({"decimate": 0}, "decimate: got 0"),
                         ({"precision": "half"}, "precision: got 'half'")]:
        with pytest.raises(GesturemapError, match=name):
            gm.DTW(**kwargs).fit(gestures)
    path = gm.DTW().fit(gestures).save(tmp_path / "dtw")
    # a template running past the stored frames
    rewrite_arrays(path, lambda a: a["offsets"].__setitem__(-1, a["offsets"][-1] + 5))
    with pytest.raises(FormatError, match="offsets"):
        gm.load(path)


def test_cancelled_fit_leaves_the_model_as_it_was(gestures):
    """A cancelled fit assigns nothing: an untrained model stays untrained, a trained one keeps
    its templates, labels and calibration (they stay consistent)."""
    cancel = Cancel()
    cancel.set()
    fresh = gm.DTW()
    with pytest.raises(TrainingCancelled):
        fresh.fit(gestures, cancel=cancel)
    with pytest.raises(NotFittedError):
        fresh.stream()
    model = gm.DTW().fit(gestures)
    before = {k: v for k, v in vars(model).items() if k.endswith("_")}
    other = gm.Dataset()
    for label in ("a", "b"):
        for n in (20, 25):
            other.add(shape(len(label), n) * 3.0, label=label)
    with pytest.raises(TrainingCancelled):
        model.fit(other, cancel=cancel)
    after = {k: v for k, v in vars(model).items() if k.endswith("_")}
    assert after.keys() == before.keys()
    for k, v in before.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(after[k], v)
        else:
            assert after[k] == v, k
    assert model.stream().run(shape(0, 30))[-1].label == "circle"


def _hapt_segments(datasets_dir):
    """HAPT's postural transitions (6-D IMU): the first 4 subjects' takes to train, the next
    2 subjects' to stream."""
    z = np.load(datasets_dir / "HAPTTransitions" / "HAPT_transitions_train.npz",
                allow_pickle=False)
    xs = np.split(z["X_concat"].astype(np.float64), np.cumsum(z["lengths"])[:-1])
    subjects = sorted(set(z["subject"].tolist()))
    ds = gm.Dataset()
    for x, y, s in zip(xs, z["y"], z["subject"], strict=True):
        if s in subjects[:4]:
            ds.add(x, label=str(y))
    return ds, [x for x, s in zip(xs, z["subject"], strict=True) if s in subjects[4:6]]


def _frames_both_ways(segments, *streams):
    """Every frame of ``segments``, twice: the streams reset at each segment's start, then
    never reset (one long stream)."""
    for reset_each in (True, False):
        for i, seg in enumerate(segments):
            if reset_each or i == 0:
                for s in streams:
                    s.reset()
            yield from seg


class _SleepCount:
    """Templates asleep, woken, and moved on at the ring's end, frame after frame."""

    def __init__(self, stream):
        self.stream, self.asleep, self.woken, self.moved_on = stream, 0, 0, 0
        self.history = len(stream._prune[3])

    def step(self, frame):
        s = self.stream
        was_awake = s._awake.copy()
        result = s.step(frame)
        self.asleep += int((s._awake == 0).sum())
        self.woken += int(((was_awake == 0) & (s._awake == 1)).sum())
        lag = s._count[0] - 1 - s._prune[7]
        self.moved_on += int(((s._awake == 0) & (lag == self.history - 2)).sum())
        return result


def _assert_same_decisions(exact, pruned, cap):
    """The label, the match, the best distance and every distance under ``cap`` (with its
    progress) are the exact ones; the others are lower bounds over both; the likelihood
    ordering of the exact classes is the same, every pruned one below them."""
    assert pruned.label == exact.label and pruned.match == exact.match
    d, p = np.asarray(exact.distances), np.asarray(pruned.distances)
    kept = (d <= cap) | (np.arange(len(d)) == exact.label_index)
    np.testing.assert_array_equal(p[kept], d[kept])
    np.testing.assert_array_equal(np.asarray(pruned.progress)[kept],
                                  np.asarray(exact.progress)[kept])
    assert (p <= d).all() and (p[~kept] > max(cap, d[exact.label_index])).all()
    order_e = [c for c in np.argsort(-np.asarray(exact.log_likelihoods), kind="stable")
               if kept[c]]
    order_p = list(np.argsort(-np.asarray(pruned.log_likelihoods), kind="stable"))
    assert order_p[:len(order_e)] == order_e


@pytest.mark.parametrize(("normalization", "normalize"),
                         [("global", True), ("running", True), ("global", False)])
def test_pruned_stream_decides_as_the_exact_one_on_real_data(datasets_dir, normalization,
                                                             normalize):
    """Every frame of real IMU takes, streamed reset at each take's start and as one stream
    never reset (longer than the frames a pruning stream keeps: sleeping templates are moved
    on and woken from the ring): the same decisions with and without pruning."""
    ds, segments = _hapt_segments(datasets_dir)
    model = gm.DTW(normalization=normalization, per_frame_distance=normalize).fit(ds)
    pruned_model = gm.DTW(normalization=normalization, per_frame_distance=normalize, prune=True).fit(ds)
    cap = model.threshold_
    exact, pruned = model.stream(), pruned_model.stream()
    count = _SleepCount(pruned)
    for f in _frames_both_ways(segments, exact, pruned):
        _assert_same_decisions(exact.step(f), count.step(f), cap)
    assert len(np.vstack(segments)) > 2 * count.history
    # the pruning really ran: templates slept, woke, and were moved on at the ring's end
    assert count.asleep > 0 and count.woken > 0 and count.moved_on > 0


def test_spotting_matches_open_begin_whatever_the_models_decision(datasets_dir):
    """A spotter's DTW stream is open-begin (a gesture may start at any frame), whatever the
    model's ``decision`` or ``prune``: the same events at every frame of real takes played
    one after another. Over a default (cumulative) DTW the spotter once anchored every match
    at the last reset, so a gesture that did not begin right after an event was never found."""
    ds, segments = _hapt_segments(datasets_dir)
    xs = np.vstack(segments[:12])
    models = [gm.DTW().fit(ds), gm.DTW(prune=True).fit(ds), gm.DTW(decision="decaying").fit(ds)]
    streams = [gm.Spotter(m, relative_threshold=2.0, hold_frames=2, refractory_frames=0).stream()
               for m in models]
    events = 0
    for f in xs:
        first, *others = (s.step(f) for s in streams)
        for r in others:
            assert r.event == first.event
            np.testing.assert_array_equal(np.asarray(r.distances), np.asarray(first.distances))
        events += first.event is not None
    assert events >= 10


def test_a_default_dtw_spots_a_gesture_that_starts_after_a_rest(gestures):
    """``gm.spot`` over ``gm.DTW()`` finds gestures that begin anywhere in the stream (at
    ``threshold=1``: what the model itself calls a match, ``Result.match``)."""
    rng = np.random.default_rng(3)
    model = gm.DTW().fit(gestures)
    labels = list(model.labels_)
    rest = lambda n: rng.normal(0, 0.02, (n, 2))  # noqa: E731
    parts, truth = [rest(40)], []
    for kind, label in enumerate(labels):
        truth.append(label)
        parts += [shape(kind, 45) + rng.normal(0, 0.03, (45, 2)), rest(40)]
    events = gm.spot(model, np.vstack(parts), relative_threshold=1.0)
    assert [e.label for e in events] == truth


def test_decimated_templates(datasets_dir):
    """``decimate=2`` keeps about every other frame of each take (first and last kept), learns
    its threshold as a stream meets the templates, and still recognises real takes."""
    ds, segments = _hapt_segments(datasets_dir)
    full = gm.DTW().fit(ds)
    half = gm.DTW(decimate=2).fit(ds)
    lengths, kept = np.diff(full.offsets_), np.diff(half.offsets_)
    assert (np.abs(kept - np.round(lengths / 2)) <= 1).all()
    first = half.templates_[half.offsets_[:-1]]
    last = half.templates_[half.offsets_[1:] - 1]
    np.testing.assert_array_equal(first, full.templates_[full.offsets_[:-1]])
    np.testing.assert_array_equal(last, full.templates_[full.offsets_[1:] - 1])
    # a full-rate stream over half-rate templates costs about twice as much per template frame
    assert 1.3 < half.typical_distance_ / full.typical_distance_ < 3.0
    z = np.load(datasets_dir / "HAPTTransitions" / "HAPT_transitions_train.npz")
    subjects = sorted(set(z["subject"].tolist()))
    truth = [str(y) for y, s in zip(z["y"], z["subject"], strict=True) if s in subjects[4:6]]
    right = [np.mean([p == t for p, t in zip(m.predict(segments), truth, strict=True)])
             for m in (full, half)]
    assert right[1] >= right[0] - 0.1 and right[1] > 0.5, right


def test_single_precision_templates(datasets_dir):
    """``precision="float32"``: the stream reads its templates at half width (rounded once);
    distances within 1e-6 of the exact ones on real takes, the same label nearly always."""
    ds, segments = _hapt_segments(datasets_dir)
    exact = gm.DTW().fit(ds).stream()
    single = gm.DTW(precision="float32").fit(ds).stream()
    assert single._blocks.dtype == np.float32
    same = total = 0
    for seg in segments[:20]:
        exact.reset()
        single.reset()
        for f in seg:
            a, b = exact.step(f), single.step(f)
            np.testing.assert_allclose(b.distances, a.distances, rtol=1e-6)
            assert not np.array_equal(b.distances, a.distances)
            same += a.label == b.label
            total += 1
    assert same >= 0.99 * total


RESULT_ARRAYS = ("distances", "progress", "likelihoods", "log_likelihoods",
                 "instant_likelihoods", "instant_normalized_likelihoods")


def _stream_pair(model):
    """A stream of ``model`` whose templates sleep while they cannot be their class's best,
    and its default stream (every template updated at every frame)."""
    return DTWStream(model, exact_pruning=True), model.stream()


def _assert_identical(a, b, sa, sb):
    """Every output of two streams' frame equal to the last bit."""
    assert (a.label, a.label_index, a.match) == (b.label, b.label_index, b.match)
    for key in RESULT_ARRAYS:
        np.testing.assert_array_equal(np.asarray(getattr(a, key)), np.asarray(getattr(b, key)),
                                      err_msg=key)
    np.testing.assert_array_equal(sa.best_templates, sb.best_templates)


@pytest.mark.parametrize(("normalization", "normalize"),
                         [("global", True), ("running", True), ("global", False)])
def test_class_pruning_changes_no_output_on_real_data(datasets_dir, normalization, normalize):
    """``exact_pruning`` lets a template sleep while it cannot be its own class's best: at
    every frame of real IMU takes (reset at each take's start, then one stream never reset,
    longer than the frames kept for catching up), every distance, progress, likelihood, label,
    match and best template is the one of a stream that updates every template."""
    ds, segments = _hapt_segments(datasets_dir)
    model = gm.DTW(normalization=normalization, per_frame_distance=normalize).fit(ds)
    pruned, full = _stream_pair(model)
    count = _SleepCount(pruned)
    for f in _frames_both_ways(segments, pruned, full):
        _assert_identical(count.step(f), full.step(f), pruned, full)
    assert len(np.vstack(segments)) > 2 * count.history
    # it really ran: templates slept, woke (caught up from the ring) and were moved on
    assert count.asleep > 0 and count.woken > 0 and count.moved_on > 0


def test_class_pruning_changes_no_output_on_synthetic_takes(gestures):
    """Takes of one class far apart (one twice as large): the far ones sleep while the near
    one leads its class, and wake when the stream follows them; every output is the one of a
    stream that updates every template, frame after frame, whatever the classes' order."""
    rng = np.random.default_rng(5)
    ds = gm.Dataset()
    for kind, label in enumerate(("circle", "eight", "zigzag")):
        for n, size in ((40, 1.0), (48, 1.1), (44, 2.0)):
            ds.add(size * shape(kind, n) + rng.normal(0, 0.05, (n, 2)), label=label)
    for normalize in (True, False):
        model = gm.DTW(normalization="global", per_frame_distance=normalize).fit(ds)
        pruned, full = _stream_pair(model)
        count = _SleepCount(pruned)
        for kind in (0, 1, 2, 1, 0):
            for size in (1.0, 2.0):
                pruned.reset()
                full.reset()
                take = size * shape(kind, 45) + rng.normal(0, 0.05, (45, 2))
                for f in np.vstack([take, take[-1] + rng.normal(0, 0.05, (20, 2))]):
                    _assert_identical(count.step(f), full.step(f), pruned, full)
        assert count.asleep > 0 and count.woken > 0


def test_only_cumulative_streams_prune():
    """An open-begin stream has no non-decreasing bound: every template stays awake (where a
    cumulative stream lets some sleep)."""
    ds = gm.Dataset()
    for kind in range(3):
        for size in (1.0, 3.0):
            ds.add(size * shape(kind, 30), label=str(kind))
    frames = np.vstack([3.0 * shape(0, 30), shape(1, 30)])
    asleep = {}
    for decision in ("decaying", "cumulative"):
        stream = DTWStream(gm.DTW(decision=decision, normalization="global").fit(ds),
                           exact_pruning=True)
        asleep[decision] = sum(int((stream._awake == 0).sum()) for f in frames
                               if stream.step(f) is not None)
    assert asleep["decaying"] == 0 and asleep["cumulative"] > 0
