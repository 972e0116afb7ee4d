"""A frame far from everything the model was trained on (a sensor unplugged or stuck at a
rail) is below XMM's density floor for every Gaussian of every class: clamped one by one,
every class got the same likelihood and every decision went to the first class, a gesture
fired by nothing. The frame is now clamped as a whole, and the nearest class wins, in the
stream, in the batch scores and in the explanations alike."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.models import _kernels

FAR = 1000.0


@pytest.fixture(scope="module")
def two_apart() -> gm.Dataset:
    """Two classes of the same shape, 10 apart: every frame far above both is nearer
    "high", every frame far below nearer "low"."""
    rng = np.random.default_rng(3)
    ds = gm.Dataset()
    for _ in range(3):
        take = rng.normal(0.0, 0.1, (40, 2)) + np.linspace(0.0, 1.0, 40)[:, None]
        ds.add(take, label="low")
        ds.add(take + 10.0, label="high")
    return ds


def _far_is_far(model: gm.GMM | gm.HHMM, x: np.ndarray) -> None:
    """The frame is below the floor for every Gaussian of every class (else this test would
    not test what it says)."""
    b = model._bank()
    z = model._model_inputs(x[None, :])[0]
    d = z.shape[0]
    real = b["weights"].reshape(-1) > 0  # (not the padding of a class with fewer)
    logs = [_kernels.log_density(z, mean, linv, lognorm)
            for mean, linv, lognorm in zip(b["mean_in"].reshape(-1, d)[real],
                                           b["linv_in"].reshape(-1, d, d)[real],
                                           b["lognorm_in"].reshape(-1)[real], strict=True)]
    assert max(logs) < np.log(_kernels.DENSITY_FLOOR)


@pytest.mark.parametrize("family", [gm.GMM, gm.HHMM])
@pytest.mark.parametrize("decision", ["window", "cumulative"])
def test_a_far_frame_goes_to_the_nearest_class_not_the_first(two_apart, family, decision):
    model = family(decision=decision).fit(two_apart)
    for sign, nearest in ((1.0, "high"), (-1.0, "low")):
        far = np.full((12, 2), sign * FAR)
        _far_is_far(model, far[0])
        stream = model.stream()
        assert [stream.step(x).label for x in far] == [nearest] * len(far), (sign, decision)
        assert model.predict([far]) == [nearest]
        assert gm.explain(model, far, contributions="leave-one-out").label == nearest


def test_a_stream_that_leaves_for_far_away_follows_the_nearest_class(two_apart):
    """From a "high" movement to a sensor stuck far below both: a GMM's window decision
    moves to "low" once the window holds only far frames (by the tie, it went to the first
    class, "high"). (A hierarchical HMM follows its transitions: it stays in its class.)"""
    model = gm.GMM(decision="window", likelihood_window=5).fit(two_apart)
    assert model.stream().labels[0] == "high"  # the first class: the tie's winner
    stream = model.stream()
    labels = [stream.step(x).label for x in two_apart[1].inputs]
    assert two_apart[1].label == "high" and labels[-1] == "high"
    labels = [stream.step(np.array([-FAR, -FAR])).label for _ in range(10)]
    assert labels[-1] == "low"


def test_frames_any_gaussian_reaches_are_clamped_as_xmm_clamps_them():
    """Near the model the clamp is XMM's, Gaussian by Gaussian (the XMM parity tests check
    the numbers): only a frame no Gaussian reaches is clamped as a whole, its Gaussians kept
    in their order however far apart they are."""
    floor, span = _kernels.DENSITY_FLOOR, _kernels.FAR_RANGE
    top = np.log(floor) + 1.0  # one Gaussian above the floor: not far
    assert _kernels.far_scale(top, top - 1e6) == 0.0
    assert _kernels.frame_density(top - 50.0, 0.0, top) == floor  # XMM's clamp
    assert _kernels.frame_density(top, 0.0, top) == pytest.approx(np.exp(top))
    top = np.log(floor) - 10.0  # none reaches the floor: kept in order, just below it
    scale = _kernels.far_scale(top, top - 2e6)
    densities = [_kernels.frame_density(top - gap, scale, top) for gap in (0.0, 1e5, 1e6, 2e6)]
    assert densities[0] == pytest.approx(floor, rel=1e-15)
    assert densities[-1] == pytest.approx(floor * np.exp(-span), rel=1e-12)
    assert densities == sorted(densities, reverse=True) and len(set(densities)) == 4
    assert _kernels.far_scale(-np.inf, np.inf) == 0.0  # no Gaussian scored: nothing to rank


def test_far_frames_weigh_next_to_nothing_against_ordinary_ones(two_apart):
    """A take with a glitch of far frames in the middle is decided by its ordinary frames,
    as with XMM's clamp: far frames only break a tie."""
    model = gm.GMM().fit(two_apart)
    labels = model.stream().labels
    take = two_apart[0].inputs.copy()
    assert two_apart[0].label == "low"
    take[10:30] = FAR  # twenty frames nearer "high"
    assert model.predict([take]) == ["low"]
    for sign, nearest in ((1.0, "high"), (-1.0, "low")):
        glitch = model.log_likelihood(np.full((20, 2), sign * FAR))
        assert glitch.argmax() == labels.index(nearest)
        assert np.ptp(glitch) <= 20 * _kernels.FAR_RANGE * (1 + 1e-6)
