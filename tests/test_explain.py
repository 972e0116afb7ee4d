"""gm.explain: the decision, its margin, the channels that drove it, where it was decided."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import multivariate_normal

import gesturemap as gm
from gesturemap.models import Featured

NOISE = 3


def _vowels(datasets: Path, split: str, noise_seed: int) -> gm.Dataset:
    """JapaneseVowels (12 real channels) with NOISE channels of pure noise appended, as loud
    as the real ones."""
    z = np.load(datasets / "JapaneseVowels" / f"JapaneseVowels_{split}.npz")
    xs = np.split(z["X_concat"], np.cumsum(z["lengths"])[:-1])
    rng = np.random.default_rng(noise_seed)
    ds = gm.Dataset()
    for x, label in zip(xs, z["y"], strict=True):
        ds.add(np.hstack([x, rng.normal(size=(len(x), NOISE)) * x.std()]), label=int(label))
    return ds


@pytest.fixture(scope="module")
def vowels(datasets_dir: Path) -> tuple[gm.Dataset, gm.Dataset]:
    return _vowels(datasets_dir, "train", 0), _vowels(datasets_dir, "test", 1)


@pytest.mark.parametrize("model, bottom", [(gm.GMM(), NOISE), (gm.HHMM(), NOISE),
                                           (gm.KNN(), NOISE + 1)])
def test_noise_channels_rank_last(vowels, model, bottom):
    """Summed over held-out gestures, the channels of pure noise drive the decisions least."""
    train, test = vowels
    model.fit(train)
    total = np.zeros(train.input_dim)
    for i in range(0, len(test), 15):
        ex = gm.explain(model, test[i].inputs)
        assert ex.channel_contributions.shape == (train.input_dim,)
        total += ex.channel_contributions
    noise = set(range(train.input_dim - NOISE, train.input_dim))
    last = set(np.argsort(total)[:bottom].tolist())
    assert noise <= last, (np.round(total, 1), sorted(last))


def test_ignored_channels_contribute_nothing_and_restore_accuracy(vowels):
    train, test = vowels
    noisy = gm.HHMM(states=5).fit(train)
    ex = gm.explain(noisy, test[0].inputs)
    worst = ex.ranking()[-NOISE:]
    clean = gm.HHMM(states=5, ignore_channels=worst).fit(train)
    ex2 = gm.explain(clean, test[0].inputs)
    assert np.all(ex2.channel_contributions[worst] == 0)
    assert set(ex2.ignored) == set(worst)


def test_marginal_contribution_is_exact():
    """For a one-Gaussian GMM a channel's leave-one-out contribution is the margin minus the
    margin of the Gaussians with that channel's row and column dropped (checked with scipy)."""
    rng = np.random.default_rng(3)
    ds = gm.Dataset()
    for label, shift in (("a", 0.0), ("b", 1.0)):
        for _ in range(3):
            x = rng.normal(size=(60, 3)) @ rng.normal(size=(3, 3)) * 0.3
            x[:, 0] += shift
            ds.add(x, label=label)
    model = gm.GMM(1, deltas=False).fit(ds)  # the oracle below knows no delta features
    seq = ds[0].inputs[:20]
    ex = gm.explain(model, seq, contributions="leave-one-out")

    def ll(cols: list[int]) -> np.ndarray:
        out = []
        for c in model.class_params_:
            m, s = c["means"][0][cols], c["covariances"][0][np.ix_(cols, cols)]
            out.append(multivariate_normal(m, s).logpdf(seq[:, cols]).sum())
        return np.array(out)

    full = ll([0, 1, 2])
    i, j = model.labels_.index(ex.label), model.labels_.index(ex.runner_up)
    assert ex.margin == pytest.approx(full[i] - full[j], rel=1e-6)
    for ch in range(3):
        rest = ll([k for k in range(3) if k != ch])
        assert ex.channel_contributions[ch] == pytest.approx(
            ex.margin - (rest[i] - rest[j]), rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("model", [gm.GMM(2), gm.HHMM(4), gm.KNN(), gm.DTW(), gm.SVM(),
                                   gm.DecisionTree(), gm.NaiveBayes(), gm.AdaBoost(rounds=5),
                                   gm.MLP(max_iter=50)])
def test_every_family_explains(model):
    rng = np.random.default_rng(0)
    ds = gm.Dataset(input_names=["x", "y", "z"])
    for label, freq in (("circle", 1.0), ("swipe", 3.0)):
        for _ in range(3):
            t = np.linspace(0, 1, 40)
            x = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t),
                          rng.normal(size=40) * 0.1], axis=1)
            ds.add(x + rng.normal(size=x.shape) * 0.05, label=label)
    model.fit(ds)
    ex = gm.explain(model, ds[4].inputs, dataset=ds)
    assert ex.label == model.predict([ds[4].inputs])[0] == "swipe"
    assert ex.runner_up == "circle" and ex.margin > 0
    assert ex.text.startswith("swipe over circle, ")
    assert ex.channel_contributions.shape == (3,) and np.isfinite(ex.channel_contributions).all()
    assert ex.channel_names == ("x", "y", "z")
    assert 0 <= ex.decided[0] < ex.decided[1] <= 40
    assert ex.nearest[0].index == 4 and ex.nearest[0].distance == pytest.approx(0.0, abs=1e-9)
    assert gm.explain(model, ds[4].inputs).nearest is None  # no dataset: no nearest takes


def test_margin_words():
    from gesturemap.explain import margin_words

    assert margin_words("circle", "swipe", np.log(12)) == "circle over swipe, 12× as likely"
    assert "more than 1000×" in margin_words("a", "b", 50.0)
    assert "close call" in margin_words("a", "b", 0.1)


@pytest.mark.parametrize("model", [gm.GMM(2), gm.HHMM(3)], ids=["GMR", "HMR"])
def test_regression_models_explain_their_recognition(model):
    """A bimodal model's Gaussians are joint over inputs and outputs: marginalising an input
    out keeps the outputs, and the channel that separates the classes comes first."""
    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    for label, shift in (("a", 0.0), ("b", 2.0)):
        for _ in range(3):
            x = rng.normal(size=(40, 3))
            x[:, 0] += shift
            ds.add(x, label=label, outputs=2 * x[:, :1] + rng.normal(size=(40, 1)) * 0.1)
    model.fit(ds)
    ex = gm.explain(model, ds[4].inputs)
    assert ex.label == "b" and ex.ranking()[0] == 0
    with pytest.raises(gm.GesturemapError, match="only regresses"):
        gm.explain(gm.KNN().fit(ds), ds[0].inputs)


@pytest.mark.parametrize("model", [
    gm.DecisionTree(), gm.AdaBoost(rounds=5), gm.NaiveBayes(), gm.SVM(standardize=False),
    gm.MLP(max_iter=300),
    # gm.auto's candidates: the model behind its own feature stages
    Featured.of(gm.HHMM(states=3)), Featured.of(gm.HMM(), standardize=False),
    Featured.of(gm.DecisionTree(), deltas=False)],
    ids=["tree", "adaboost", "naive_bayes", "svm-raw", "mlp", "featured-hhmm",
         "featured-hmm-raw", "featured-tree"])
def test_the_channel_that_tells_the_classes_apart_drives_without_a_dataset(model, tmp_path):
    """Without ``dataset=`` (the window's live "why?"), an occluded channel is held at the
    model's own training mean, saved with the model: a gesture held still on the channel that
    parts the classes is explained by that channel, not by the others."""
    rng = np.random.default_rng(1)
    ds = gm.Dataset()
    for label, shift in (("a", 0.0), ("b", 3.0)):
        for _ in range(4):
            x = rng.normal(size=(50, 4))
            x[:, 2] += shift
            ds.add(x, label=label)
    gesture = rng.normal(size=(50, 4))
    gesture[:, 2] = 3.0  # the performer holds the "b" level on channel 2
    model.fit(ds)
    ex = gm.explain(model, gesture)
    assert ex.label == "b" and ex.ranking()[0] == 2, np.round(ex.channel_contributions, 2)
    assert ex.channel_contributions[2] > 0.25 * ex.margin  # it carries the decision
    model.save(tmp_path / "m.json")
    again = gm.explain(gm.load(tmp_path / "m.json"), gesture)
    np.testing.assert_allclose(again.channel_contributions, ex.channel_contributions)


def test_one_class_is_decided_from_the_first_frame():
    """With one class nothing parts: the decision holds from the first frame over the whole
    gesture, and the summary says no "decided in frames 0-1"."""
    rng = np.random.default_rng(2)
    ds = gm.Dataset()
    for _ in range(3):
        ds.add(rng.normal(size=(30, 2)), label="only")
    gesture = rng.normal(size=(30, 2))
    for model in (gm.GMM(1), gm.KNN(), gm.DTW()):
        ex = gm.explain(model.fit(ds), gesture, dataset=ds)
        assert ex.runner_up is None and ex.margin == np.inf
        assert ex.decided == (0, 30) and ex.parted_at == 0
        assert not ex.channel_contributions.any()
        assert ex.summary().startswith("only (the only class)") and "decided" not in ex.summary()


def test_a_dataset_of_other_channels_is_refused_clearly():
    """``dataset=`` must be in the gesture's space (the model's inputs): a dataset of raw
    sensor channels beside a model of features is named, with what to pass instead, rather
    than an IndexError, or nearest takes computed on the wrong channels."""
    rng = np.random.default_rng(3)
    wide, narrow = gm.Dataset(), gm.Dataset()
    for label in ("a", "b"):
        for _ in range(2):
            x = rng.normal(size=(20, 4))
            wide.add(x, label=label)
            narrow.add(x[:, :2], label=label)
    for model, gesture, other in ((gm.GMM(1).fit(wide), wide[0].inputs, narrow),
                                  (gm.GMM(1).fit(narrow), narrow[0].inputs, wide)):
        with pytest.raises(gm.GesturemapError,
                           match=r"dataset: takes of \d channels, the gesture has \d: .*trained on"):
            gm.explain(model, gesture, dataset=other)


def _hapt_with_noise(datasets: Path) -> tuple[gm.Dataset, list[np.ndarray]]:
    """HAPT's postural transitions (6-D IMU): two thirds of the subjects to train on, the
    others' takes held out; the real channels standardised on the training frames, then NOISE
    channels of standard-normal noise appended."""
    z = np.load(datasets / "HAPTTransitions" / "HAPT_transitions_train.npz")
    xs = np.split(z["X_concat"].astype(np.float64), np.cumsum(z["lengths"])[:-1])
    rank = {s: r for r, s in enumerate(np.unique(z["subject"]))}
    held = [rank[s] % 3 == 0 for s in z["subject"]]
    frames = np.vstack([x for x, h in zip(xs, held, strict=True) if not h])
    mean, std = frames.mean(axis=0), frames.std(axis=0)
    rng = np.random.default_rng(0)
    noisy = [np.hstack([(x - mean) / std, rng.normal(size=(len(x), NOISE))]) for x in xs]
    train = gm.Dataset()
    for x, label, h in zip(noisy, z["y"], held, strict=True):
        if not h:
            train.add(x, label=str(label))
    return train, [x for x, h in zip(noisy, held, strict=True) if h]


def test_noise_channels_rank_last_on_a_motion_sensor(datasets_dir):
    """On an IMU the axes are correlated: without one of them alone the margin barely moves
    while its partners stand in, so leaving one channel out ranks pure noise above real axes
    more often. The Shapley values rank the three noise channels the least influential on more
    held-out takes than leave-one-out does (here 0.84 against 0.76)."""
    train, held_out = _hapt_with_noise(datasets_dir)
    model = gm.GMM().fit(train)
    noise = set(range(6, 6 + NOISE))

    def share(contributions: str) -> float:
        last = [set(np.argsort(np.abs(gm.explain(model, x, contributions=contributions)
                                      .channel_contributions))[:NOISE].tolist()) == noise
                for x in held_out]
        return float(np.mean(last))

    shapley, alone = share("shapley"), share("leave-one-out")
    assert shapley >= 0.8 and shapley > alone, (shapley, alone)


def test_shapley_contributions_are_exact_and_add_up_to_the_margin():
    """Each channel's contribution is its Shapley value over the coalitions of channels, each
    coalition scored by the Gaussians marginalised onto it (checked with scipy); together
    they make the margin. Unknown ``contributions`` are refused by name."""
    rng = np.random.default_rng(4)
    ds = gm.Dataset()
    for label, shift in (("a", 0.0), ("b", 0.7)):
        for _ in range(3):
            x = rng.normal(size=(50, 3)) @ rng.normal(size=(3, 3)) * 0.3
            x[:, :2] += shift
            ds.add(x, label=label)
    model = gm.GMM(1, deltas=False).fit(ds)
    seq = ds[0].inputs[:25]
    ex = gm.explain(model, seq)
    i, j = model.labels_.index(ex.label), model.labels_.index(ex.runner_up)

    def margin(cols: list[int]) -> float:
        if not cols:
            return 0.0
        ll = [multivariate_normal(c["means"][0][cols], c["covariances"][0][np.ix_(cols, cols)])
              .logpdf(seq[:, cols]).sum() for c in model.class_params_]
        return ll[i] - ll[j]

    others = {0: [1, 2], 1: [0, 2], 2: [0, 1]}
    for ch, (p, q) in others.items():
        expected = (margin([ch]) + (margin([ch, p]) - margin([p])) / 2
                    + (margin([ch, q]) - margin([q])) / 2 + margin([0, 1, 2])
                    - margin([p, q])) / 3
        assert ex.channel_contributions[ch] == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert ex.channel_contributions.sum() == pytest.approx(ex.margin, rel=1e-9)
    with pytest.raises(gm.GesturemapError, match="contributions='gradient'"):
        gm.explain(model, seq, contributions="gradient")


@pytest.mark.parametrize("model", [gm.GMM(2), gm.HHMM(3)], ids=["GMM", "HHMM"])
def test_contributions_score_every_class_or_only_the_two_alike(model):
    """A GMM, and an HHMM's whole-sequence score, score each class on its own: explaining
    with the two classes the margin reads only gives the very values (bit for bit) that
    marginalising and scoring all four classes of the fitted model gives."""
    import copy

    from gesturemap.utils.shapley import shapley_values

    rng = np.random.default_rng(5)
    ds = gm.Dataset()
    for label in range(4):
        mix = rng.normal(size=(3, 3)) * 0.4
        for _ in range(3):
            x = np.cumsum(rng.normal(size=(40, 3)), axis=0) * 0.1 @ mix
            x[:, label % 3] += 0.3 * label
            ds.add(x, label=label)
    model.fit(ds)
    seq = ds[4].inputs
    d = seq.shape[1]
    ll = model._sequence_loglik(seq)
    best, second = np.argsort(-ll, kind="stable")[:2]

    def worth(mask: np.ndarray) -> float:
        """The margin with the channels outside ``mask`` marginalised out of all 4 classes."""
        cols = np.flatnonzero(mask)
        keep = np.concatenate([cols, cols + d])  # the inputs, then their deltas
        clone = copy.copy(model)
        clone.class_params_ = [
            {**c, "means": np.ascontiguousarray(c["means"][..., keep]),
             "covariances": np.ascontiguousarray(c["covariances"][..., keep, :][..., keep])}
            for c in model.class_params_]
        clone.input_dim_ = len(cols)
        clone._bank_cache = None
        all_four = clone._sequence_loglik(np.ascontiguousarray(seq[:, mask]))
        return float(all_four[best] - all_four[second])

    margin = float(ll[best] - ll[second])
    expected = shapley_values(worth, d, full=margin, empty=0.0)
    assert np.array_equal(gm.explain(model, seq).channel_contributions, expected)
    leave_one_out = [margin - worth(np.arange(d) != j) for j in range(d)]
    assert np.array_equal(gm.explain(model, seq, contributions="leave-one-out")
                          .channel_contributions, leave_one_out)


@pytest.mark.parametrize("family", [gm.GMM, gm.HHMM])
def test_against_the_others_the_channels_share_out_the_margin_over_their_mean(datasets_dir,
                                                                              family):
    train, held_out = _hapt_with_noise(datasets_dir)  # 9 channels: exact Shapley values
    model = family().fit(train)
    x = held_out[0]
    ex = gm.explain(model, x, against="others")
    ll, best = ex.log_likelihoods, ex.labels.index(ex.label)
    assert ex.against == "others"
    assert ex.shared == pytest.approx(ll[best] - np.delete(ll, best).mean())
    assert ex.channel_contributions.sum() == pytest.approx(ex.shared)
    # the default shares out the margin over the runner-up, which the explanation states
    runner = gm.explain(model, x)
    assert runner.against == "runner_up" and runner.shared == runner.margin
    assert runner.channel_contributions.sum() == pytest.approx(runner.margin)
    assert (runner.label, runner.runner_up, runner.margin) == (ex.label, ex.runner_up, ex.margin)
    with pytest.raises(gm.GesturemapError, match="against=.all."):
        gm.explain(model, x, against="all")
