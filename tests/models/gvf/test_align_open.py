"""GVF's speed from an open-begin alignment that restarts for a next gesture and holds at a
held end (``estimates.speed="align_open"``: gvf_align_open)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError
from gesturemap.models.gvf import align_open as gvf_align_open

from .test_core import _replay, _shapes_dataset
from .test_recognizer import _same_stream
from .test_speed import _hapt, _hapt_replay

#: (speed, size) replays of a take
REPLAYS = [(sp, sc) for sp in (0.5, 1.0, 2.0) for sc in (1.0, 0.5, 2.0)]


@pytest.fixture(scope="module")
def two_takes(datasets_dir):
    """Subject 1's first two HAPT takes (STAND_TO_SIT, SIT_TO_STAND; 80 and 83 frames at 25
    Hz), each the only take of its class, beside subjects 3-6's takes of the other classes:
    each class's template is the take itself, so the truth of the speed is exactly the
    replay's factor. A model per speed estimate (300 particles, one scale for all inputs),
    reading the speed as the least-squares slope (``alignment.speed="slope"``, the measurements
    below; the chord, the default, in test_align_speed.py) and comparing
    the open alignment's paths per frame (``alignment.null_cost=0``; the connected rule, the
    default, in test_align_connected.py)."""
    ds, two = two_takes_dataset(datasets_dir)
    models = {how: gm.GVF(300, uniform_scale=True,
                          estimates=gm.GVF.Estimates(speed=how),
                          alignment=gm.GVF.Alignment(max_step=12, speed="slope", null_cost=0.0)).fit(ds)
              for how in ("align_open", "align")}
    return models, two


def two_takes_dataset(datasets_dir):
    """Subject 1's first two HAPT takes as the only takes of their classes, beside subjects
    3-6's takes of the other classes: the dataset, and the two (take, label)."""
    takes, labels, subjects = _hapt(datasets_dir)
    two = [i for i in range(len(takes)) if subjects[i] == 1][:2]
    ds = gm.Dataset()
    for i in two:
        ds.add(takes[i], label=labels[i])
    for j in range(len(takes)):
        if labels[j] not in {labels[i] for i in two} and 3 <= subjects[j] <= 6:
            ds.add(takes[j], label=labels[j])
    return ds, [(takes[i], labels[i]) for i in two]


def _speed(model, x, label):
    k = model.labels_.index(label)
    return np.array([r.speed[k] for r in model.stream().run(x)])


def test_on_a_real_take_it_reads_the_replays_speed(two_takes, monkeypatch):
    # measured: after 30 % of each replay (x0.5, x1, x2 in time, each at size x1, x0.5, x2),
    # every frame's speed / factor in [0.958, 1.100] on both takes with the default step limit
    # (alignment.max_step 12: the 1.100 is SIT_TO_STAND at x2, size x0.5, on the first
    # frames after 30 %, down to 1.024 at its end), [0.958, 1.082] with the limit of before (4)
    models, takes = two_takes
    model = models["align_open"]
    assert model.alignment.max_step == 12
    for steps, bound in ((12, 0.11), (4, 0.1)):
        monkeypatch.setattr(model, "alignment", model.alignment.replace(max_step=steps))  # (restored after the test)
        for take, label in takes:
            for sp, sc in REPLAYS:
                v = _speed(model, _hapt_replay(take, sp, sc), label)
                v = v[int(0.3 * len(v)):] / sp
                assert np.all(np.abs(v - 1.0) < bound), (steps, label, sp, sc, v.min(), v.max())


def _back_to_back(model, first, second, sp):
    y = _hapt_replay(second[0], sp, 1.0)
    k = model.labels_.index(second[1])
    res = model.stream().run(np.vstack([first[0], y]))[len(first[0]):]
    v = np.array([r.speed[k] for r in res]) / sp
    return v[int(0.3 * len(y)):]


def test_a_second_gesture_without_a_reset_reads_its_own_speed(two_takes):
    """Two different takes streamed back to back without a reset: the second one's class
    reads the second one's speed (the open-begin alignment begins a new path at its start);
    the since-reset alignment (``"align"``) misses the same bound on every frame."""
    models, (a, b) = two_takes
    for first, second in ((a, b), (b, a)):
        for sp in (0.5, 1.0, 2.0):
            # measured: speed / factor in [0.983, 1.026] after 30 % of the second take
            v = _back_to_back(models["align_open"], first, second, sp)
            assert np.all(np.abs(v - 1.0) < 0.05), (second[1], sp, v.min(), v.max())
            # measured: "align" reads 0.025-0.739 of the factor, no frame within 15 %
            v = _back_to_back(models["align"], first, second, sp)
            assert np.all(np.abs(v - 1.0) > 0.15), (second[1], sp, v.min(), v.max())


def test_a_held_end_keeps_the_last_speed(two_takes):
    """A take whose last frame is then held for 100 frames (4 s): the speed at the end of the
    hold over the speed at the take's last frame (measured 1.000 on both, every frame of the
    hold too); the since-reset alignment's slope decays (measured 0.413, 0.426)."""
    models, takes = two_takes
    for take, label in takes:
        x = np.vstack([take, np.repeat(take[-1:], 100, axis=0)])
        v = _speed(models["align_open"], x, label)
        held = v[len(take):] / v[len(take) - 1]
        assert held.min() >= 0.99, (label, held.min())
        v = _speed(models["align"], x, label)
        assert v[-1] / v[len(take) - 1] < 0.6, label


def _x():
    return np.vstack([_replay("wave", 1.3, 1.2), _replay("circle", 0.8, 0.9)])


def test_it_changes_the_speed_only_and_keeps_finite_speeds():
    ds = _shapes_dataset()
    x = _x()
    a = gm.GVF(300, random_state=2,
               recognizer=gm.GVF.Recognizer(gate=0.0),
               estimates=gm.GVF.Estimates(speed="sampled")).fit(ds).stream().run(x)
    model = gm.GVF(300, random_state=2,
                   recognizer=gm.GVF.Recognizer(gate=0.0),
                   estimates=gm.GVF.Estimates(speed="align_open")).fit(ds)
    b = model.stream().run(x)
    _same_stream(a, b, fields=("label", "likelihoods", "log_likelihoods", "progress",
                               "instant_likelihoods", "scale"))
    speeds = np.array([r.speed for r in b])
    assert np.isfinite(speeds).all() and (speeds > 0).all()
    assert not np.array_equal(speeds, [r.speed for r in a])
    # a still stream, then a huge jump: the step goes on, the speeds finite and positive
    s = model.stream()
    for f in (*[x[0]] * 30, x[0] + 1e6, *x[:20]):
        r = s.step(f)
        assert np.isfinite(r.speed).all() and (r.speed > 0).all()


def test_reset_starts_it_again_and_streams_are_independent():
    model = gm.GVF(300, random_state=2,
                   estimates=gm.GVF.Estimates(speed="align_open")).fit(_shapes_dataset())
    x = _x()
    s = model.stream()
    first = [r.speed.copy() for r in (s.step(f) for f in x[:60])]
    other = model.stream()
    for f in x[:25]:
        other.step(f)
    s.reset()
    again = [r.speed.copy() for r in (s.step(f) for f in x[:60])]
    np.testing.assert_array_equal(first, again)


def test_bad_settings_are_refused_with_their_name():
    ds = _shapes_dataset()
    for bad in ("align-open", "ALIGN_OPEN", "open", 2, None):
        with pytest.raises(GesturemapError, match="estimates__speed"):
            gm.GVF(100, estimates=gm.GVF.Estimates(speed=bad)).fit(ds)
    model = gm.GVF(100, estimates=gm.GVF.Estimates(speed="align_open")).fit(ds)
    with pytest.raises(GesturemapError, match="estimates__speed"):
        model.set_params(estimates__speed="align_opened")
    for bad in (0.5, -1.0, float("nan"), "long"):
        with pytest.raises(GesturemapError, match="estimates__speed_window"):
            gm.GVF(100, estimates=gm.GVF.Estimates(speed="align_open", speed_window=bad)).fit(ds)


def test_save_and_load_keep_the_setting(tmp_path):
    model = gm.GVF(200, random_state=3,
                   estimates=gm.GVF.Estimates(speed="align_open", speed_window=30.0)).fit(_shapes_dataset())
    path = model.save(tmp_path / "gvf")
    params = json.loads(path.read_text())["params"]  # plain JSON, no pickle
    assert params["estimates"]["speed"] == "align_open" and params["estimates"]["speed_window"] == 30.0
    loaded = gm.load(path)
    assert loaded.get_params() == model.get_params()
    x = _x()
    _same_stream(model.stream().run(x), loaded.stream().run(x))


def test_a_path_begun_away_from_the_start_posture_costs_its_distance(monkeypatch):
    """``START_POSTURE`` w > 0: a path begun on frame z costs ``w / 2`` times z's squared
    distance from its template's start posture (in the start spread plus the tolerance) more
    than with 0 (nothing: the code before it); at the start posture itself, nothing."""
    model = gm.GVF(50, estimates=gm.GVF.Estimates(speed="align_open")).fit(_shapes_dataset())
    begin = model.offsets_[:-1]  # each template's first cell
    var = model.start_stds_**2 + float(model.tolerance) ** 2
    for z in (model.start_means_[0], model.start_means_[0] + [0.5, -1.0]):
        tot = {}
        for w in (0.0, 10.0):
            monkeypatch.setattr(gvf_align_open, "START_POSTURE", w)
            s = model.stream()
            s.step(z * model.scale_ + model.mean_)
            tot[w] = s._align._open._tot[begin].copy()
        zs = (z * model.scale_ + model.mean_ - model.mean_) / model.scale_
        extra = 5.0 * ((zs - model.start_means_) ** 2 / var).sum(axis=1)
        np.testing.assert_allclose(tot[10.0] - tot[0.0], extra, rtol=1e-9, atol=1e-9)
        assert extra.max() > 1.0  # (another template's start is elsewhere)
    assert extra[0] > 1.0 and tot[10.0][0] > tot[0.0][0]
