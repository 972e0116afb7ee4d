"""Spotting over a model trained with ``deltas``: the spotter scores the model as trained
(every frame followed by its difference from the previous one), not only its raw-input part."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.evaluation.spotting.scores import match_detections


def _ramp(up: bool, n: int, rng: np.random.Generator) -> np.ndarray:
    v = np.linspace(0.0, 1.0, n)
    return np.c_[v if up else v[::-1], np.zeros(n)] + rng.normal(0, 0.03, (n, 2))


def _rest(n: int, level: float, rng: np.random.Generator) -> np.ndarray:
    return np.c_[np.full(n, level), np.zeros(n)] + rng.normal(0, 0.03, (n, 2))


@pytest.fixture(scope="module")
def ramps() -> tuple[gm.Dataset, np.ndarray, list[tuple[str, int, int]]]:
    """"up" (0 -> 1) and "down" (1 -> 0) visit the same values: a one-state model of either
    has the same raw-input distribution, only the deltas' signs tell them apart."""
    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    for _ in range(5):
        ds.add(_ramp(True, int(rng.integers(35, 45)), rng), label="up")
        ds.add(_ramp(False, int(rng.integers(35, 45)), rng), label="down")
    for level in (0.0, 1.0, 0.0, 1.0):
        ds.add(_rest(150, level, rng), label=gm.NULL)
    parts, truth, t, level = [], [], 0, 0.0
    for _ in range(6):
        r = _rest(int(rng.integers(60, 100)), level, rng)
        g = _ramp(level == 0.0, int(rng.integers(35, 45)), rng)
        parts += [r, g]
        truth.append(("up" if level == 0.0 else "down", t + len(r), t + len(r) + len(g) - 1))
        t += len(r) + len(g)
        level = 1.0 - level
    parts.append(_rest(80, level, rng))
    return ds, np.vstack(parts), truth


def test_the_spotter_scores_the_deltas(ramps) -> None:
    ds, stream, truth = ramps
    model = gm.GMM(gaussians=1, deltas=True).fit(ds)
    spotter = gm.Spotter(model, gmm_frames=40)
    # the Gaussians it scores have the model's whole input dimension (raw + deltas)
    assert model.model_dim_ == 4
    assert spotter._b["means"].shape[-1] == 4 and spotter._null["mean"].shape[-1] == 4
    events = gm.spot(spotter, stream)
    # the direction of every ramp is found: only the deltas can tell it
    assert [e.label for e in events] == [lb for lb, _, _ in truth], events
    res = match_detections(truth, [(e.label, e.emitted) for e in events], tolerance=25)
    assert len(res.true_positives) == len(truth) and not res.false_positives


def test_without_deltas_the_direction_is_not_known(ramps) -> None:
    """The counterpart: the same model without deltas cannot tell the ramps apart (so the
    test above depends on the deltas being scored)."""
    ds, stream, truth = ramps
    model = gm.GMM(gaussians=1, deltas=False).fit(ds)
    events = gm.spot(model, stream, gmm_frames=40)
    assert [e.label for e in events] != [lb for lb, _, _ in truth]


@pytest.mark.parametrize("make", [lambda: gm.HHMM(states=3, deltas=True),
                                  lambda: gm.GMM(gaussians=1, deltas=True),
                                  lambda: gm.HHMM(states=3, deltas=True, delta_lag=3),
                                  lambda: gm.GMM(gaussians=1, deltas=True, delta_lag=2)],
                         ids=["hhmm", "gmm", "hhmm-lag3", "gmm-lag2"])
def test_spot_equals_stepping_with_deltas(ramps, make) -> None:
    ds, stream, _ = ramps
    model = make().fit(ds)
    spotter = gm.Spotter(model, gmm_frames=40)
    batch = gm.spot(spotter, stream)
    assert len(batch) >= 4
    s = spotter.stream()
    stepped = [ev for ev in (s.step(f).event for f in stream) if ev is not None]
    assert stepped == batch
    # stepping part of the stream, then running the rest in one call: the first frame of the
    # rest takes its delta from the last stepped frame, as stepping does
    cut = (batch[1].start + batch[1].end) // 2  # inside a gesture, where the deltas matter
    s2 = spotter.stream()
    head = [ev for ev in (s2.step_event(f) for f in stream[:cut]) if ev is not None]
    assert head + s2.run_events(stream[cut:]) == batch
    # and after a reset the deltas start again from 0
    s2.reset()
    assert s2.run_events(stream) == batch
