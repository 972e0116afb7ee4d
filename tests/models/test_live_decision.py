"""The live decision equals the batch decision for a whole gesture, for every family, on real
recordings; the decaying decision forgets; DTW's normalisations against an independent 1-NN
DTW oracle (pure numpy, written apart from the numba kernels)."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm


def _segments(datasets_dir):
    """HAPT's postural transitions (6-D IMU, 6 classes): 4 train subjects, 2 test subjects,
    standardised with the training statistics."""
    z = np.load(datasets_dir / "HAPTTransitions" / "HAPT_transitions_train.npz",
                allow_pickle=False)
    xs = np.split(z["X_concat"].astype(np.float64), np.cumsum(z["lengths"])[:-1])
    y = [str(v) for v in z["y"]]
    subject = z["subject"]
    subjects = sorted(set(subject.tolist()))
    train = [i for i in range(len(xs)) if subject[i] in subjects[:4]]
    test = [i for i in range(len(xs)) if subject[i] in subjects[4:6]]
    stacked = np.vstack([xs[i] for i in train])
    mean, std = stacked.mean(axis=0), stacked.std(axis=0)
    ds = gm.Dataset()
    for i in train:
        ds.add((xs[i] - mean) / std, label=y[i])
    return ds, [(xs[i] - mean) / std for i in test], [y[i] for i in test]


def _vowels(datasets_dir, n_train=6, n_test=40):
    """JapaneseVowels (12-D, 9 speakers): a few takes per speaker, the first test takes."""
    def read(part):
        z = np.load(datasets_dir / "JapaneseVowels" / f"JapaneseVowels_{part}.npz",
                    allow_pickle=False)
        return (np.split(z["X_concat"].astype(np.float64), np.cumsum(z["lengths"])[:-1]),
                [str(v) for v in z["y"]])
    tx, ty = read("train")
    qx, qy = read("test")
    ds = gm.Dataset()
    seen: dict[str, int] = {}
    for x, y in zip(tx, ty, strict=True):
        if seen.get(y, 0) < n_train:
            ds.add(x, label=y)
            seen[y] = seen.get(y, 0) + 1
    return ds, qx[:n_test], qy[:n_test]


@pytest.fixture(scope="module")
def hapt(datasets_dir):
    return _segments(datasets_dir)


@pytest.fixture(scope="module")
def vowels(datasets_dir):
    return _vowels(datasets_dir)


def last_labels(model, seqs):
    stream = model.stream()
    out = []
    for s in seqs:
        stream.reset()
        r = None
        for f in s:
            r = stream.step(f)
        out.append(r)
    return out


FAMILIES = {
    "hhmm": lambda: gm.HHMM(6),
    "hhmm-flat": lambda: gm.HHMM(6, hierarchical=False),
    "hhmm-ergodic-diagonal": lambda: gm.HHMM(4, 2, transition="ergodic", covariance="diagonal"),
    "hhmm-no-deltas": lambda: gm.HHMM(6, deltas=False),
    "gmm": lambda: gm.GMM(3),
    # the delta over 2 and 4 frames (delta_lag): causal, so the stream still decides as predict
    "hhmm-lag2": lambda: gm.HHMM(6, delta_lag=2),
    "hhmm-lag4": lambda: gm.HHMM(6, delta_lag=4),
    "gmm-lag1": lambda: gm.GMM(3, delta_lag=1),  # the GMM's default is 4
    "gmm-lag2": lambda: gm.GMM(3, delta_lag=2),
    "dtw": lambda: gm.DTW(),
    "dtw-none": lambda: gm.DTW(normalization="none", per_frame_distance=True),
    # per-take statistics so far, templates alike: what a stream can know
    "dtw-running": lambda: gm.DTW(normalization="running"),
    "knn": lambda: gm.KNN(5, max_frames=3000),
    "naive_bayes": lambda: gm.NaiveBayes(),
    "tree": lambda: gm.DecisionTree(),
}


@pytest.mark.parametrize("name", list(FAMILIES))
def test_live_label_at_the_last_frame_is_predicts(hapt, name):
    """A stream reset at the gesture's start decides at its last frame what ``predict`` decides
    on the whole gesture, gesture by gesture; what it decides on is the batch figure."""
    ds, test, truth = hapt
    model = FAMILIES[name]().fit(ds)
    predicted = model.predict(test)
    results = last_labels(model, test)
    assert [r.label for r in results] == predicted
    # the decision is the batch computation, not merely the same argmax
    for seq, r in zip(test[:5], results[:5], strict=True):
        np.testing.assert_allclose(r.log_likelihoods, model.log_likelihood(seq), rtol=1e-8)
    # and it recognises the gestures: well above chance (1/6) even for a single tree; a model
    # that learned nothing would fail here
    assert np.mean([p == t for p, t in zip(predicted, truth, strict=True)]) > 0.45


def test_xmm_window_decision_is_one_setting_away_and_drifts(hapt):
    """``decision="window"`` is XMM's (mean log instant likelihood over the window): at a
    gesture's last frame it disagrees with ``predict`` far more often than a few points -
    the drift the cumulative default removes."""
    ds, test, _ = hapt
    model = gm.HHMM(6, decision="window").fit(ds)
    predicted = model.predict(test)
    results = last_labels(model, test)
    agree = np.mean([r.label == p for r, p in zip(results, predicted, strict=True)])
    assert agree < 0.8
    # its log-likelihoods are the window's mean of log instant likelihoods
    stream = model.stream()
    rs = stream.run(test[0])
    w = model.likelihood_window
    inst = np.log(np.array([r.instant_likelihoods for r in rs]))
    np.testing.assert_allclose(rs[-1].log_likelihoods, inst[-w:].mean(axis=0), rtol=1e-9)


def test_decaying_decision_forgets_in_a_stream_never_reset(hapt):
    """Two gestures of different classes back to back, no reset in between: the decaying
    decision (time constant 60 frames, segments ~150) follows the second gesture far better
    than the cumulative one, which the first gesture holds back. (An HMM's
    decaying pass may also restart at any frame, so even a very long time constant differs
    from the cumulative pass on a second gesture; a GMM's does not.)"""
    ds, test, truth = hapt
    pairs = [(i, j) for i in range(len(test)) for j in range(len(test))
             if truth[i] != truth[j]][::7][:60]
    cumulative = gm.HHMM(6).fit(ds)
    # without forgetting, a GMM's decaying sum is the cumulative one
    seq = np.vstack([test[0], test[1]])
    gmm_long = gm.GMM(3, decision="decaying", likelihood_window=10**12).fit(ds)
    np.testing.assert_allclose(gmm_long.stream().run(seq)[-1].log_likelihoods,
                               gmm_long.log_likelihood(seq), rtol=1e-6)
    decaying = gm.HHMM(6, decision="decaying", likelihood_window=60).fit(ds)
    hits = {"decaying": 0, "cumulative": 0}
    for i, j in pairs:
        seq = np.vstack([test[i], test[j]])
        for name, model in (("decaying", decaying), ("cumulative", cumulative)):
            hits[name] += model.stream().run(seq)[-1].label == truth[j]
    # measured: on the second gesture alone predict gets 0.75 of these right; after the first
    # gesture the cumulative decision 0.30, the decaying one 0.55 (it decides mostly on the
    # last ~60 frames, not on the whole gesture: what forgetting costs)
    assert hits["decaying"] >= hits["cumulative"] + 0.15 * len(pairs)
    assert hits["decaying"] / len(pairs) > 2.5 / 6  # chance: 1/6


def test_gmm_and_classic_decisions_on_vowels(vowels):
    """Same equality on another dataset (12-D speech frames), for the frame-wise families."""
    ds, test, _ = vowels
    for model in (gm.GMM(2), gm.HHMM(5), gm.KNN(3), gm.MLP(16, max_iter=200)):
        model.fit(ds)
        assert [r.label for r in last_labels(model, test)] == model.predict(test)


def test_unknown_decision_is_refused_with_the_choices():
    with pytest.raises(gm.GesturemapError, match="decision"):
        gm.GMM(decision="latest").fit(gm.Dataset())
    with pytest.raises(gm.GesturemapError, match="decision"):
        gm.DTW(decision="window").set_params(decision="window")


# ---------------------------------------------------------------------------------------------
# DTW normalisations against an independent 1-NN DTW
# ---------------------------------------------------------------------------------------------
def oracle_dtw(a: np.ndarray, b: np.ndarray) -> float:
    """Textbook DTW: squared Euclidean frame distance, symmetric unweighted steps, no band."""
    cost = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)
    acc = np.full((len(a) + 1, len(b) + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(len(a)):
        for j in range(len(b)):
            acc[i + 1, j + 1] = cost[i, j] + min(acc[i, j], acc[i, j + 1], acc[i + 1, j])
    return float(acc[-1, -1])


def causal_znorm(q: np.ndarray) -> np.ndarray:
    """Frame t z-normalised by the mean and spread of frames 0..t (a constant input only
    centred)."""
    out = np.zeros_like(q)
    for t in range(len(q)):
        seen = q[:t + 1]
        std = seen.std(0)
        out[t] = (q[t] - seen.mean(0)) / np.where(std > 1e-12, std, 1.0)
    return out


def oracle_1nn(train, labels, queries, norm: str) -> list[str]:
    if norm == "running":
        train, queries = [causal_znorm(s) for s in train], [causal_znorm(s) for s in queries]
    elif norm == "take":
        z = lambda s: (s - s.mean(0)) / np.where(s.std(0) > 0, s.std(0), 1.0)  # noqa: E731
        train, queries = [z(s) for s in train], [z(s) for s in queries]
    elif norm == "global":
        x = np.vstack(train)
        mean, std = x.mean(0), x.std(0)
        train = [(s - mean) / std for s in train]
        queries = [(s - mean) / std for s in queries]
    out = []
    for q in queries:
        d = [oracle_dtw(q, t) for t in train]
        out.append(labels[int(np.argmin(d))])
    return out


@pytest.mark.parametrize("norm", ["global", "take", "running", "none"])
def test_dtw_predict_is_the_1nn_oracle(vowels, norm):
    ds, test, _ = vowels
    train = [r.inputs for r in ds]
    labels = [r.label for r in ds]
    # raw vowels differ in scale per channel: make the normalisations matter
    scale = np.linspace(0.2, 5.0, train[0].shape[1])
    train = [t * scale + 3.0 for t in train]
    test = [q * scale + 3.0 for q in test[:25]]
    fitted = gm.Dataset()
    for t, lb in zip(train, labels, strict=True):
        fitted.add(t, label=lb)
    model = gm.DTW(normalization=norm, per_frame_distance=False).fit(fitted)
    expected = oracle_1nn(train, labels, test, norm)
    assert model.predict(test) == expected
    if norm != "take":
        # streamed (reset at the start): the same label at the last frame
        assert [r.label for r in last_labels(model, test)] == expected


def _take_stats(seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = seen.mean(0), seen.std(0)
    return mean, np.where(std > 1e-12 * np.maximum(1.0, np.abs(mean)), std, 1.0)


def oracle_take_stream(q: np.ndarray, template: np.ndarray, anchored: bool = True) -> float:
    """The per-take stream's distance at ``q``'s last frame, with explicit warping paths:
    at frame t every cell extends the least of its predecessors (diagonal, vertical,
    horizontal, the first of equals) costed as whole paths over ``q[:t + 1]`` z-normalised
    by ``q[:t + 1]``'s own statistics; the last cell's path costed with the whole query's.
    Before the template's first frame: an empty path at the reset (``anchored``), or at
    every frame (open-begin)."""
    def cost(path, mean, scale):
        return sum(float((((q[a] - mean) / scale - template[j]) ** 2).sum()) for a, j in path)

    m = len(template)
    old: list = [None] * m
    for t in range(len(q)):
        mean, scale = _take_stats(q[:t + 1])
        new: list = [None] * m
        for j in range(m):
            start = () if (t == 0 or not anchored) else None
            diag = old[j - 1] if j > 0 else start
            left = new[j - 1] if j > 0 else (None if anchored else ())
            options = [p for p in (diag, old[j], left) if p is not None]
            if options:
                costs = [cost(p, mean, scale) for p in options]
                new[j] = options[int(np.argmin(costs))] + ((t, j),)
        old = new
    return cost(old[-1], *_take_stats(q))


def test_dtw_take_stream_scores_whole_paths_by_the_take_statistics_so_far(vowels):
    """With per-take z-normalisation a stream knows the gesture's statistics only so far:
    each cell keeps its path's sums and is costed with the statistics of the frames seen.
    At the last frame, every class's distance is the oracle's (explicit paths), and never
    below ``predict``'s exact per-take distance (the least over every path)."""
    ds, test, _ = vowels
    scale = np.linspace(0.2, 5.0, test[0].shape[1])  # an offset and spreads that matter
    fitted = gm.Dataset()
    for rec in list(ds)[::4]:
        fitted.add(rec.inputs * scale + 3.0, label=rec.label)
    model = gm.DTW(normalization="take", per_frame_distance=False).fit(fitted)
    templates = [(r.inputs - r.inputs.mean(0)) / r.inputs.std(0) for r in fitted]
    for q in (test[3] * scale + 3.0, test[11] * scale + 3.0):
        r = model.stream().run(q)[-1]
        per_class: dict[str, float] = {}
        for rec, tpl in zip(fitted, templates, strict=True):
            d = oracle_take_stream(q, tpl)
            per_class[rec.label] = min(per_class.get(rec.label, np.inf), d)
        np.testing.assert_allclose(r.distances, [per_class[lb] for lb in model.labels_],
                                   rtol=1e-9)
        exact = model.distances(q)
        assert (np.asarray(r.distances) >= exact * (1 - 1e-12)).all()


def test_dtw_take_stream_open_begin_follows_the_oracle(vowels):
    """The same paths with open-begin matching (``decision="decaying"``): a match may start
    at any frame, its cost still read with the statistics since the reset."""
    ds, test, _ = vowels
    fitted = gm.Dataset()
    for rec in list(ds)[::9]:
        fitted.add(rec.inputs, label=rec.label)
    model = gm.DTW(normalization="take", per_frame_distance=False, decision="decaying").fit(fitted)
    q = np.vstack([test[5], test[20]])
    r = model.stream().run(q)[-1]
    per_class: dict[str, float] = {}
    for rec in fitted:
        tpl = (rec.inputs - rec.inputs.mean(0)) / rec.inputs.std(0)
        d = oracle_take_stream(q, tpl, anchored=False)
        per_class[rec.label] = min(per_class.get(rec.label, np.inf), d)
    np.testing.assert_allclose(r.distances, [per_class[lb] for lb in model.labels_], rtol=1e-9)


def test_dtw_take_stream_ignores_pruning(hapt):
    """A per-take stream's costs change with the take's statistics, so no bound holds: with
    ``prune`` it updates every template, and every output is the unpruned stream's."""
    ds, test, _ = hapt
    plain = gm.DTW(normalization="take").fit(ds).stream()
    pruned = gm.DTW(normalization="take", prune=True).fit(ds).stream()
    for q in test[:3]:
        plain.reset()
        pruned.reset()
        for f in q:
            a, b = plain.step(f), pruned.step(f)
            assert a.label == b.label and a.match == b.match
            np.testing.assert_array_equal(np.asarray(a.distances), np.asarray(b.distances))


def test_dtw_take_stream_stays_near_predict_on_real_takes(datasets_dir):
    """The per-take stream's label at a gesture's last frame against ``predict`` on the
    first 120 test takes of JapaneseVowels (every training take a template): within 0.05
    of its accuracy. The stream that normalised each frame by the statistics so far and
    kept the columns of those values read 0.478 where ``predict`` reads 0.662 on the whole
    test set."""
    ds, test, truth = _vowels(datasets_dir, n_train=1000, n_test=120)
    model = gm.DTW(normalization="take", per_frame_distance=False).fit(ds)
    live = [r.label for r in last_labels(model, test)]
    batch = model.predict(test)
    acc_live = np.mean([a == b for a, b in zip(live, truth, strict=True)])
    acc_batch = np.mean([a == b for a, b in zip(batch, truth, strict=True)])
    assert acc_live >= acc_batch - 0.05, (acc_live, acc_batch)
    assert np.mean([a == b for a, b in zip(live, batch, strict=True)]) >= 0.75


def test_dtw_standardize_spelling_still_loads(vowels):
    ds, test, _ = vowels
    old = gm.DTW(standardize=False).fit(ds)
    assert old.normalization_ == "none"
    assert old.predict(test[:5]) == gm.DTW(normalization="none").fit(ds).predict(test[:5])


def test_a_model_saved_before_decisions_and_deltas_loads_as_it_behaved(vowels):
    """Files saved before ``decision`` and ``deltas`` existed do not name them: they load with
    the behaviour they had (no deltas, XMM's window; DTW open-begin), not the new defaults."""
    from gesturemap.models.base import restore

    ds, test, _ = vowels
    for old, expected in ((gm.HHMM(4, deltas=False, decision="window"), "window"),
                          (gm.GMM(2, deltas=False, decision="window"), "window"),
                          (gm.KNN(3, decision="window"), "window"),
                          (gm.DTW(decision="decaying"), "decaying")):
        old.fit(ds)
        meta, arrays = old.dump()
        meta["params"].pop("decision")
        meta["params"].pop("deltas", None)
        loaded = restore(meta, arrays)
        assert loaded.decision == expected
        assert getattr(loaded, "deltas", False) is False
        a, b = old.stream().run(test[0]), loaded.stream().run(test[0])
        np.testing.assert_array_equal(a[-1].log_likelihoods, b[-1].log_likelihoods)
