"""The HHMM's time-warp speed (``estimate_speed``): real takes replayed slower and faster read
slower and faster, on the stream, in saved models and on OSC."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.live.engine import Engine
from gesturemap.project import Project
from gesturemap.sources.base import Frame

from ..stage_helpers import bundle_params, osc_receiver


def _replay(x: np.ndarray, speed: float) -> np.ndarray:
    n = max(2, int(round(len(x) / speed)))
    t = np.linspace(0, len(x) - 1, n)
    return np.stack([np.interp(t, np.arange(len(x)), x[:, j]) for j in range(x.shape[1])], 1)


@pytest.fixture(scope="module")
def hapt(datasets_dir):
    """An HHMM (defaults + speed) on HAPT's transitions of subjects other than 1 (25 Hz,
    standardised), and subject 1's takes."""
    z = np.load(datasets_dir / "HAPTTransitions" / "HAPT_transitions_train.npz")
    takes = [x[::2].astype(np.float64)
             for x in np.split(z["X_concat"], np.cumsum(z["lengths"])[:-1])]
    labels, subjects = z["y"].astype(str), z["subject"]
    train = [i for i in range(len(takes)) if subjects[i] != 1]
    x = np.vstack([takes[i] for i in train])
    mean, std = x.mean(0), x.std(0)
    ds = gm.Dataset()
    for i in train:
        ds.add((takes[i] - mean) / std, label=labels[i])
    model = gm.HHMM(estimate_speed=True, n_jobs=1).fit(ds)
    held = [((takes[i] - mean) / std, labels[i]) for i in range(len(takes)) if subjects[i] == 1]
    return model, held


def _speed_at(model, x, k, fraction):
    stream = model.stream()
    res = [stream.step(f) for f in x]
    return res[int(fraction * len(res))].speed[k]


def test_a_take_replayed_slower_or_faster_reads_slower_or_faster(hapt):
    model, held = hapt
    ratios = {0.5: [], 2.0: []}
    for x, label in held:
        k = model.labels_.index(label)
        for fraction in (0.5, 0.7, 0.9):
            base = _speed_at(model, x, k, fraction)
            for factor in ratios:
                ratios[factor].append(_speed_at(model, _replay(x, factor), k, fraction) / base)
    # at the same point of the gesture, twice as fast reads about twice the speed
    assert 1.7 < np.median(ratios[2.0]) < 2.3, np.median(ratios[2.0])
    assert 0.43 < np.median(ratios[0.5]) < 0.58, np.median(ratios[0.5])
    assert np.mean(np.abs(np.array(ratios[2.0]) / 2 - 1) <= 0.15) > 0.6


def test_the_speed_is_about_one_on_the_takes_the_model_learned(hapt):
    model, _ = hapt
    # state_frames_ end near the classes' typical take length: a typical take reads ~1
    last = np.nanmax(model.state_frames_, axis=1)
    assert np.all(last > 20) and np.all(last < 400)
    assert np.all(np.isfinite(model.state_frames_[:, : model.states]))


def test_speed_is_off_by_default_and_a_stream_with_it_is_not_lean(hapt):
    model, held = hapt
    plain = gm.HHMM(n_jobs=1).fit(_dataset(held[:4] * 2))
    stream = plain.stream()
    assert stream.lean and stream.step(held[0][0][0]).speed is None
    fast = model.stream()
    assert not fast.lean
    r = fast.step(held[0][0][0])
    assert r.speed.shape == (len(model.labels_),) and not r.speed.flags.writeable
    fast.reset()
    assert fast.step(held[0][0][0]).speed[0] == pytest.approx(r.speed[0])  # reset restarts it


def _dataset(pairs):
    ds = gm.Dataset()
    for x, label in pairs:
        ds.add(x, label=label)
    return ds


def test_the_setting_is_saved_checked_and_changes_at_run_time(hapt, tmp_path):
    model, held = hapt
    model.save(tmp_path / "m")
    loaded = gm.load(tmp_path / "m")
    assert loaded.estimate_speed is True
    x = held[0][0][:40]
    a = [r.speed for r in model.stream().run(x)]
    b = [r.speed for r in loaded.stream().run(x)]
    np.testing.assert_array_equal(a, b)
    with pytest.raises(gm.GesturemapError, match="estimate_speed"):
        gm.HHMM(estimate_speed="yes").check_params()
    loaded.set_params(estimate_speed=False)  # run-time: no retraining
    assert loaded.stream().step(x[0]).speed is None


def test_ergodic_classes_have_no_order_and_read_one():
    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    for label in ("a", "b"):
        for _ in range(3):
            ds.add(rng.normal(size=(30, 2)) + (label == "b"), label=label)
    model = gm.HHMM(3, transition="ergodic", estimate_speed=True, n_jobs=1).fit(ds)
    assert np.all(np.isnan(model.state_frames_))
    res = model.stream().run(rng.normal(size=(20, 2)))
    assert all(np.all(r.speed == 1.0) for r in res)


def test_the_engine_sends_an_hhmm_speed_on_osc():
    t = np.linspace(0, 1, 60)
    circle = np.c_[np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)]
    project = Project("speed", model={"kind": "hhmm",
                                      "params": {"states": 4, "estimate_speed": True}},
                      outputs={"extras": True})
    for k in range(3):
        project.add_take(circle + 0.01 * k, "circle")
        project.add_take(np.c_[2 * t - 1, 0.5 * t] + 0.01 * k, "line")
    project.train()
    rx = osc_receiver()
    engine = Engine(project, osc_in=None, osc_out=rx.getsockname(), trainer="thread").start()
    try:
        engine.command("start_running")
        for i, x in enumerate(circle[::2]):  # the circle twice as fast as it was recorded
            engine.queue.put(Frame(0.01 * i, x, "test"))
        speeds = bundle_params(rx, ("/gesturemap/speed",),
                               lambda got: len(got["/gesturemap/speed"]) >= 30)["/gesturemap/speed"]
    finally:
        engine.stop()
        rx.close()
    assert len(speeds) == 30 and all(len(s) == 2 for s in speeds)  # one per class
    assert 1.4 < speeds[-1][0] < 2.8, speeds[-1]  # labels sorted: the circle first
