"""The HHMM's ``decision="following"``: the cumulative decision on a stream reset at each
gesture (same labels, same numbers, on real HAPT transitions), a label that follows the
performer on a stream never reset (postures switching, gestures back to back), and its floors
and longest take saved with the model."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gesturemap as gm

from .test_live_decision import _segments

POSES = np.array([[0.1, 0.1], [0.9, 0.1], [0.5, 0.9], [0.9, 0.9]])


def _posture_dataset() -> gm.Dataset:
    rng = np.random.default_rng(1)
    ds = gm.Dataset()
    for c, p in enumerate(POSES, 1):
        for _ in range(2):
            ds.add(p + 0.02 * rng.standard_normal((30, 2)), label=c)
    return ds


def _posture_model() -> gm.HHMM:
    return gm.HHMM(n_jobs=1).fit(_posture_dataset())


def _switching(seconds_per_pose: int = 20, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    order = [1, 2, 3, 4, 2, 1, 3, 4, 1, 3, 2, 4]
    x = np.vstack([POSES[c - 1] + 0.02 * rng.standard_normal((seconds_per_pose, 2))
                   for c in order])
    return x, np.repeat(order, seconds_per_pose)


@pytest.fixture(scope="module")
def hapt_model(datasets_dir):
    ds, test, truth = _segments(datasets_dir)
    return gm.HHMM(n_jobs=1).fit(ds), test, truth, ds


def test_postures_switching_without_a_reset_are_followed_frame_by_frame():
    """A new pose shows at once, not after it has been held as long as the last one."""
    model = _posture_model()
    x, y = _switching()
    right = {}
    for decision in ("following", "cumulative"):
        model.set_params(decision=decision)
        labels = np.array([r.label for r in model.stream().run(x)])
        right[decision] = float(np.mean(labels == y))
    assert right["following"] >= 0.95, right
    assert right["cumulative"] < 0.5, right  # what it replaces as a project's default


def test_on_a_stream_reset_at_each_gesture_it_is_the_cumulative_decision(hapt_model):
    """Real HAPT transitions of held-out subjects, each from a reset: every frame's label and
    decision log-likelihoods are the cumulative decision's (``predict`` at the last frame)."""
    model, test, _, _ = hapt_model
    for a, b in _both_reset_at_each(model, test):
        assert a.label == b.label
        np.testing.assert_array_equal(a.log_likelihoods, b.log_likelihoods)
    model.set_params(decision="cumulative")


def _back_to_back(model, seqs, truth) -> dict[str, float]:
    """Per decision, the share of ``seqs`` labelled right at their last frame when they come
    one after another in one stream never reset."""
    ends = np.cumsum([len(s) for s in seqs]) - 1
    x = np.vstack(seqs)
    right = {}
    for decision in ("cumulative", "following"):
        model.set_params(decision=decision)
        labels = [r.label for r in model.stream().run(x)]
        right[decision] = float(np.mean([labels[e] == t for e, t in
                                         zip(ends, truth, strict=True)]))
    return right


def _both_reset_at_each(model, seqs):
    """(cumulative result, following result) of every frame of ``seqs``, two streams reset
    at each sequence's start."""
    streams = []
    for decision in ("cumulative", "following"):
        model.set_params(decision=decision)
        streams.append(model.stream())
    for seq in seqs:
        for s in streams:
            s.reset()
        for f in seq:
            yield streams[0].step(f), streams[1].step(f)


def test_gestures_back_to_back_without_a_reset_are_followed(hapt_model):
    """The held-out transitions one after another, never reset: the cumulative decision
    sticks to what came first; the following one names most gestures by their end."""
    model, test, truth, _ = hapt_model
    right = _back_to_back(model, test, truth)
    model.set_params(decision="cumulative")
    assert right["following"] >= 0.5 and right["following"] > 3 * right["cumulative"], right


def test_the_floors_and_the_longest_take_are_saved_with_the_model(tmp_path):
    model = _posture_model()
    assert model.longest_take_ == 30 and np.isfinite(model.frame_floor_).all()
    model.save(tmp_path / "m.json")
    back = gm.load(tmp_path / "m.json")
    np.testing.assert_array_equal(back.frame_floor_, model.frame_floor_)
    assert back.longest_take_ == 30
    x, _ = _switching()
    for m in (model, back):
        m.set_params(decision="following")
    a = [r.label for r in model.stream().run(x)]
    assert a == [r.label for r in back.stream().run(x)]


def test_a_model_saved_before_the_following_decision_runs_it_as_cumulative(tmp_path):
    """No floors, no longest take in the file: it never restarts (the cumulative decision)."""
    model = _posture_model()
    path = model.save(tmp_path / "m.json")
    meta = json.loads(path.read_text())
    del meta["longest_take"]
    arrays = dict(np.load(path.with_suffix(".npz")))
    del arrays["frame_floor"]
    from gesturemap.models.base import restore

    old = restore(meta, arrays)
    assert old.longest_take_ == 0 and np.all(old.frame_floor_ == -np.inf)
    x, _ = _switching()
    old.set_params(decision="following")
    model.set_params(decision="cumulative")
    assert [r.label for r in old.stream().run(x)] == [r.label for r in model.stream().run(x)]


def test_only_the_hhmm_knows_the_following_decision():
    with pytest.raises(gm.GesturemapError, match="decision"):
        gm.GMM(decision="following").fit(_tiny())


def _tiny() -> gm.Dataset:
    ds = gm.Dataset()
    ds.add(np.zeros((10, 2)) + np.arange(10)[:, None], label="a")
    return ds


def test_dtw_following_is_anchored_for_a_gesture_and_open_begin_after(hapt_model):
    """DTW's following decision: a stream reset at each gesture (no longer than the longest
    take) gives the cumulative distances exactly; gestures back to back with no reset are
    matched open-begin once the longest take's length has passed."""
    _, test, truth, ds = hapt_model
    model = gm.DTW().fit(ds)
    longest = int(np.diff(model.offsets_).max())
    short = [s for s in test if len(s) <= longest]
    assert len(short) >= 10
    for a, b in _both_reset_at_each(model, short):
        np.testing.assert_array_equal(a.distances, b.distances)
    right = _back_to_back(model, test, truth)
    assert right["following"] > 2 * right["cumulative"], right


def test_a_jump_between_gestures_does_not_decide_the_next_one(repo_dir):
    """The pointer jumps from where a circle ended to where a swipe begins: the velocity
    channels spike on one frame far below every class's takes. The decision restarts there,
    but not *on* that frame: the swipe is then decided as a swipe, not as the class with the
    widest spread (shake), which the jump alone favoured for the whole gesture."""
    from gesturemap.project.default import default_project

    rec = np.load(repo_dir / "tests" / "data" / "pad" / "jump_between_gestures.npz")
    project = default_project()
    project.add_class("shake")
    for key in sorted(k for k in rec.files if k.startswith("take")):
        project.add_take(rec[key], key.split("_", 1)[1])
    stream = project.train().stream()
    frames = rec["stream"]
    speed = np.abs(frames[:, 2:]).sum(axis=1)
    jump = int(np.argmax(speed))
    labels = [str(stream.step(f).label) for f in frames[: jump + 60]]
    swipe_end = labels[jump + 41:]
    assert swipe_end.count("swipe") == len(swipe_end), labels[jump:]
    # the decision reads the swipe alone: restarted at the jump, nothing of the circle
    assert stream.decided_frames is not None and stream.decided_frames <= 60


def test_the_frames_since_a_restart_score_as_the_decision_with_taken_up_anywhere():
    """Postures switching without a reset restart the decision; the frames since the last
    restart, scored by ``taken_up_anywhere()`` (each class taken up at any state, as the
    restart does), give the stream's decision log-likelihoods exactly: what the window's
    "why?" strip explains. The model's own score begins each left-right class at its first
    state, and on those frames it is another number (and may name another class). (Without
    deltas: the stream's deltas across a restart read the frames before it.)"""
    model = gm.HHMM(n_jobs=1, deltas=False, decision="following").fit(_posture_dataset())
    anywhere = model.taken_up_anywhere()
    assert not model._anywhere  # the original is untouched
    x, _ = _switching(seconds_per_pose=15)
    stream = model.stream()
    restarted = differs = 0
    for i, frame in enumerate(x):
        r = stream.step(frame)
        start = stream.decided_from
        assert start == i + 1 - stream.decided_frames  # no reset: counted from the first
        if start == 0:
            np.testing.assert_allclose(model.log_likelihood(x[:i + 1]), r.log_likelihoods)
            continue
        restarted += 1
        span = x[start:i + 1]
        np.testing.assert_allclose(anywhere.log_likelihood(span), r.log_likelihoods,
                                   rtol=1e-9, atol=1e-9)
        assert anywhere.predict([span])[0] == r.label
        differs += not np.allclose(model.log_likelihood(span), r.log_likelihoods)
    assert restarted > 100 and differs == restarted
