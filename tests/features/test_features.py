"""Tests of the streaming feature pipeline (gesturemap.features)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from gesturemap.data import Dataset
from gesturemap.errors import FormatError, GesturemapError, NotFittedError
from gesturemap.features import (
    STAGES,
    Derivative,
    LowPass,
    Magnitude,
    MovingAverage,
    MovingMedian,
    OneEuro,
    Pipeline,
    Resample,
    Select,
    Stage,
    Standardize,
    WindowStats,
    stage_from_dict,
)

IMU = ("ax", "ay", "az", "wx", "wy", "wz")


def noisy(T: int = 300, D: int = 4, seed: int = 0) -> np.ndarray:
    """A smooth random walk plus noise, (T, D)."""
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(size=(T, D)), axis=0) * 0.1 + rng.normal(size=(T, D))


def step_all(pipeline: Pipeline, X: np.ndarray, times=None, names=None):
    """Push the frames one by one into a fresh state; return (frames, times) stacked."""
    state = pipeline.start(X.shape[1], names)
    frames, stamps = [], []
    for i, frame in enumerate(X):
        out = state.push(frame, None if times is None else times[i])
        frames.append(out.copy())
        stamps.append(state.times.copy())
    return np.concatenate(frames), np.concatenate(stamps)


@pytest.fixture(scope="module")
def watch(datasets_dir: Path) -> list[np.ndarray]:
    """The recorded smartwatch IMU data set (50 Hz, 6 channels), as a list of recordings."""
    path = datasets_dir / "ShoulderExerciseWatch" / "ShoulderExerciseWatch_train.npz"
    with np.load(path, allow_pickle=False) as data:
        X, lengths = data["X_concat"], data["lengths"]
    return np.split(X, np.cumsum(lengths)[:-1])


# -- each stage against a direct computation ---------------------------------------------------


def test_empty_pipeline_is_identity():
    X = noisy()
    pipe = Pipeline()
    np.testing.assert_array_equal(pipe.transform_sequence(X), X)
    assert pipe.output_names(4) == ("in1", "in2", "in3", "in4")  # the one default naming
    assert pipe.output_names(2, ["a", "b"]) == ("a", "b")
    state = pipe.start(4)
    out = state.push(X[3])
    assert out.shape == (1, 4)
    np.testing.assert_array_equal(out[0], X[3])



@pytest.mark.parametrize("rate_hz", [None, 50.0, 30.0])
@pytest.mark.parametrize("with_times", [False, True])
def test_empty_pipeline_on_a_whole_recording_equals_pushing_frame_by_frame(rate_hz, with_times):
    # the vectorised path (every retrain of a default project takes it) gives the same frames
    # and the same times, to the bit, as the real-time path
    X = noisy(T=300, D=5) * 1e3
    times = (np.cumsum(np.random.default_rng(3).uniform(0.01, 0.03, 300)) if with_times
             else None)
    pipe = Pipeline(rate_hz=rate_hz)
    Y, t_batch = pipe.transform_sequence(X, times, return_times=True)
    Z, t_step = step_all(pipe, X, times)
    np.testing.assert_array_equal(Y, Z)
    np.testing.assert_array_equal(t_batch, t_step)
    assert Y is not X and not np.shares_memory(Y, X)


@pytest.mark.parametrize("bad", ["nan", "huge", "time"])
def test_empty_pipeline_names_the_bad_frame_of_a_recording(bad):
    X = noisy(T=40, D=3)
    times = np.arange(40) / 100.0
    if bad == "nan":
        X[17, 1] = np.nan
    elif bad == "huge":
        X[17, 2] = 1e25
    else:
        times[17] = np.inf
    with pytest.raises(GesturemapError, match=r"^frame 17 of 40: Bad frame"):
        Pipeline().transform_sequence(X, times)

def test_select_by_index_and_name():
    X = noisy(D=6)
    pipe = Pipeline([Select(("az", 0, "wy"))])
    assert pipe.output_names(6, IMU) == ("az", "ax", "wy")
    np.testing.assert_array_equal(pipe.transform_sequence(X, input_names=IMU), X[:, [2, 0, 4]])


def test_standardize_fit_matches_numpy_and_handles_constant_channels():
    rng = np.random.default_rng(1)
    A = rng.normal(3.0, 2.0, size=(200, 3))
    B = rng.normal(-1.0, 0.5, size=(100, 3))
    A[:, 1] = 0.1  # a constant channel: std would be (about) 0
    B[:, 1] = 0.1
    pipe = Pipeline([Standardize()]).fit([A, B])
    stage = pipe.stages[0]
    both = np.concatenate([A, B])
    np.testing.assert_allclose(stage.mean, both.mean(axis=0), rtol=1e-12)
    assert stage.std[1] == 1.0
    np.testing.assert_allclose(np.array(stage.std)[[0, 2]], both.std(axis=0)[[0, 2]], rtol=1e-12)
    Y = pipe.transform_sequence(both)
    np.testing.assert_allclose(Y.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Y.std(axis=0)[[0, 2]], 1.0, rtol=1e-12)
    np.testing.assert_allclose(Y[:, 1], 0.0, atol=1e-15)
    # A new value on the constant channel gives x - mean, not a division by ~0.
    assert pipe.start(3).push([0.0, 1.1, 0.0])[0, 1] == pytest.approx(1.0)


def test_standardize_is_fitted_on_what_reaches_it():
    seqs = [noisy(150, 3, seed=s) for s in range(3)]
    pipe = Pipeline([Select((0, 2)), Derivative(append=True), Standardize()], rate_hz=50.0)
    assert pipe.fit(seqs) is pipe
    Y = np.concatenate([pipe.transform_sequence(X) for X in seqs])
    assert Y.shape == (450, 4)
    np.testing.assert_allclose(Y.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(Y.std(axis=0), 1.0, rtol=1e-10)
    fitted = pipe.stages
    assert pipe.fit(seqs).stages == fitted  # fitting again gives the same parameters
    pipe.fit([s * 3.0 for s in seqs])  # refitting replaces what was learned
    np.testing.assert_allclose(pipe.stages[2].std, np.array(fitted[2].std) * 3.0, rtol=1e-10)


def test_fit_accepts_a_dataset_recordings_or_arrays():
    X, Z = noisy(D=6), noisy(D=6, seed=9)
    ds = Dataset(input_names=IMU)
    ds.add(X, label="circle")
    ds.add(Z, label="square")
    pipe = Pipeline([Select(("wx", "az")), Standardize()])
    fitted = pipe.fit(ds).stages  # channel names come from the dataset
    assert pipe.fit(list(ds), input_names=IMU).stages == fitted
    assert pipe.fit([X, Z], input_names=IMU).stages == fitted
    both = np.concatenate([X, Z])[:, [3, 2]]
    np.testing.assert_allclose(fitted[1].mean, both.mean(axis=0), rtol=1e-12)
    assert Pipeline([Standardize()]).fit(X) == Pipeline([Standardize()]).fit([X])


@pytest.mark.parametrize("N", [1, 4, 25])
def test_moving_average_matches_convolution(N):
    X = noisy(T=120, D=3)
    Y = Pipeline([MovingAverage(N)]).transform_sequence(X)
    counts = np.minimum(np.arange(1, 121), N)[:, None]  # frames in the window while it fills
    expected = np.stack([np.convolve(X[:, j], np.ones(N))[:120] for j in range(3)], axis=1)
    np.testing.assert_allclose(Y, expected / counts, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("N", [1, 2, 3, 5, 8])
def test_moving_median_matches_numpy_over_the_window(N):
    X = noisy(T=120, D=3)
    Y = Pipeline([MovingMedian(N)]).transform_sequence(X)
    expected = np.stack([np.median(X[max(0, t - N + 1): t + 1], axis=0) for t in range(120)])
    np.testing.assert_array_equal(Y, expected)
    stats = Pipeline([WindowStats(N, ("median", "mean"))]).transform_sequence(X)
    np.testing.assert_array_equal(stats[:, :3], expected)


def test_a_long_median_window_with_ties_matches_numpy_after_a_reset():
    """The window is kept sorted as frames come and go (one shift a frame): a frame that
    leaves must be taken out even when others hold the same value, and a reset empties it."""
    rng = np.random.default_rng(3)
    X = np.round(rng.standard_normal((700, 4)), 1)  # many equal values per channel
    X[::50, 2] = -0.0  # zeros of both signs
    N = 257
    state = Pipeline([WindowStats(N, ("median", "max"))]).start(4)
    for frame in X[:300]:
        state.push(frame)
    state.reset()
    Y = np.stack([state.push(frame)[0, :4].copy() for frame in X[300:]])
    rest = X[300:]
    expected = np.stack(
        [np.median(rest[max(0, t - N + 1): t + 1], axis=0) for t in range(len(rest))]
    )
    np.testing.assert_array_equal(Y, expected)


def test_the_median_window_is_kept_sorted_frame_by_frame():
    """The state keeps each channel of the window sorted as frames come and go (one shift a
    frame, not a sort: a 5,001-frame median on 6 channels cost 18 ms a frame sorted anew;
    timed in benchmarks, not here): after every frame its first rows are the window's
    values in order, ties and zeros of both signs included."""
    from gesturemap.features._states import WindowState

    rng = np.random.default_rng(4)
    X = np.round(rng.standard_normal((300, 3)), 1)
    X[::7, 1] = -0.0
    N = 31
    state = WindowState(3, N, ("median",), False)
    for t, frame in enumerate(X):
        state.step(float(t), frame)
        n = min(t + 1, N)
        np.testing.assert_array_equal(
            state._ordered[:n], np.sort(X[t + 1 - n: t + 1], axis=0)
        )


def test_moving_median_drops_a_lone_wild_sample_a_mean_spreads():
    X = np.tile(np.linspace(0.0, 1.0, 60)[:, None], (1, 2))
    X[30, 0] = 10.0  # one glitch on one channel (e.g. a corrupted serial value)
    med = Pipeline([MovingMedian(3)]).transform_sequence(X)
    mean = Pipeline([MovingAverage(3)]).transform_sequence(X)
    # the glitch never reaches the output: at most one step of the ramp (a neighbour's value)
    assert np.abs(med[:, 0] - med[:, 1]).max() <= 1.0 / 59 + 1e-12
    assert np.abs(mean[:, 0] - mean[:, 1]).max() > 3.0  # a mean carries it over 3 frames


def test_low_pass_matches_lfilter():
    X = noisy(T=400, D=3)
    for stage, rate, a in [
        (LowPass(alpha=0.2), None, 0.2),
        (LowPass(cutoff_hz=5.0), 100.0, None),
    ]:
        if a is None:
            r = 2 * math.pi * 5.0 / 100.0
            a = r / (r + 1)
        Y = Pipeline([stage], rate_hz=rate).transform_sequence(X)
        zi = (1 - a) * X[0]  # started on the first frame: y[0] = x[0]
        expected = np.stack(
            [signal.lfilter([a], [1, -(1 - a)], X[:, j], zi=zi[j : j + 1])[0] for j in range(3)],
            axis=1,
        )
        np.testing.assert_allclose(Y, expected, rtol=1e-10, atol=1e-12)


def test_low_pass_cutoff_follows_uneven_timestamps():
    rng = np.random.default_rng(2)
    t = np.cumsum(rng.uniform(0.005, 0.015, size=300))
    x = rng.normal(size=(300, 1))
    Y = Pipeline([LowPass(cutoff_hz=3.0)]).transform_sequence(x, timestamps=t)
    y = x[0, 0]
    for n in range(1, 300):
        r = 2 * math.pi * 3.0 * (t[n] - t[n - 1])
        y += r / (r + 1) * (x[n, 0] - y)
        assert Y[n, 0] == pytest.approx(y, rel=1e-12)


def one_euro_reference(x, t, min_cutoff, beta, d_cutoff):
    """The One Euro filter as written in Casiez et al. 2012, one scalar channel."""

    def alpha(cutoff, te):
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / te)

    out = [x[0]]
    x_hat, dx_hat = x[0], 0.0
    for n in range(1, len(x)):
        te = t[n] - t[n - 1]
        dx = (x[n] - x_hat) / te
        dx_hat = dx_hat + alpha(d_cutoff, te) * (dx - dx_hat)
        cutoff = min_cutoff + beta * abs(dx_hat)
        x_hat = x_hat + alpha(cutoff, te) * (x[n] - x_hat)
        out.append(x_hat)
    return np.array(out)


def test_one_euro_matches_the_paper():
    X = noisy(T=300, D=3) * 5
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.uniform(0.008, 0.012, size=300))
    Y = Pipeline([OneEuro(min_cutoff=0.8, beta=0.3, d_cutoff=2.0)]).transform_sequence(X, t)
    for j in range(3):
        np.testing.assert_allclose(
            Y[:, j], one_euro_reference(X[:, j], t, 0.8, 0.3, 2.0), rtol=1e-12
        )


@pytest.mark.parametrize(
    "stage",
    [OneEuro(min_cutoff=1e308, beta=1e308, d_cutoff=1e308), LowPass(cutoff_hz=1e308)],
    ids=["one_euro", "low_pass"],
)
def test_absurd_cutoffs_and_gaps_keep_the_filter_finite(stage):
    """r = 2 pi f dt overflows to inf for an absurd cutoff or a gap of 1e299 s: r / (r + 1)
    was inf / inf = NaN, and the filter gave NaN for ever. Its limit, 1, follows the input."""
    X = np.random.default_rng(0).standard_normal((50, 2))
    Y = Pipeline([stage]).transform_sequence(X, np.arange(50) * 1e299)
    assert np.isfinite(Y).all()
    np.testing.assert_allclose(Y, X, atol=1e-12)


def test_one_euro_reduces_jitter_and_lags_little_on_a_ramp():
    rate = 100.0
    t = np.arange(1000) / rate
    rng = np.random.default_rng(4)
    still = 1.0 + 0.05 * rng.normal(size=(1000, 1))
    y = Pipeline([OneEuro(min_cutoff=1.0, beta=0.5)], rate_hz=rate).transform_sequence(still)
    assert y[200:].std() < 0.25 * still[200:].std()  # jitter cut by more than 4x
    ramp = (2.0 * t)[:, None]  # 2 units per second
    lag_still = (ramp - Pipeline([OneEuro(1.0, 0.0)], rate_hz=rate).transform_sequence(ramp))[-1, 0]
    lag_fast = (ramp - Pipeline([OneEuro(1.0, 0.5)], rate_hz=rate).transform_sequence(ramp))[-1, 0]
    # beta = 0 is a plain 1 Hz low-pass: the lag is about slope * tau = 2 / (2 pi) units.
    assert lag_still == pytest.approx(2.0 / (2 * math.pi), rel=0.05)
    # With beta the cutoff rises with speed: less than half the lag, under 50 ms behind.
    assert 0 < lag_fast < 0.5 * lag_still
    assert lag_fast / 2.0 < 0.05


def test_derivatives_of_a_ramp_and_a_sine():
    rate = 200.0
    t = np.arange(400) / rate
    ramp = np.stack([3.0 * t - 1.0, -0.5 * t], axis=1)
    d1 = Pipeline([Derivative(1)], rate_hz=rate).transform_sequence(ramp)
    d2 = Pipeline([Derivative(2)], rate_hz=rate).transform_sequence(ramp)
    np.testing.assert_array_equal(d1[0], 0.0)  # no history yet
    np.testing.assert_allclose(d1[1:], [[3.0, -0.5]] * 399, rtol=1e-9)
    np.testing.assert_array_equal(d2[:2], 0.0)
    np.testing.assert_allclose(d2[2:], 0.0, atol=1e-8)

    w = 2 * math.pi * 1.5
    sine = np.sin(w * t)[:, None]
    dt = 1 / rate
    d1 = Pipeline([Derivative(1)], rate_hz=rate).transform_sequence(sine)[1:, 0]
    d2 = Pipeline([Derivative(2)], rate_hz=rate).transform_sequence(sine)[2:, 0]
    # Backward differences: the slope half a step back, the curvature one step back.
    np.testing.assert_allclose(d1, w * np.cos(w * (t[1:] - dt / 2)), atol=1e-3 * w)
    np.testing.assert_allclose(d2, -(w**2) * np.sin(w * (t[2:] - dt)), atol=1e-3 * w**2)


def test_derivatives_on_uneven_timestamps_are_exact_for_a_parabola():
    rng = np.random.default_rng(5)
    t = np.cumsum(rng.uniform(0.01, 0.03, size=200))
    x = (t**2)[:, None]
    out = Pipeline([Derivative(1, append=True)]).transform_sequence(x, timestamps=t)
    np.testing.assert_array_equal(out[:, 0], x[:, 0])  # input kept
    np.testing.assert_allclose(out[1:, 1], t[1:] + t[:-1], rtol=1e-9)  # (t1^2 - t0^2) / (t1 - t0)
    d2 = Pipeline([Derivative(2)]).transform_sequence(x, timestamps=t)
    np.testing.assert_allclose(d2[2:, 0], 2.0, rtol=1e-6)
    assert Pipeline([Derivative(2, append=True)]).output_names(1, ["p"]) == ("p", "d2_p")


def test_magnitude_appended_or_replacing():
    X = noisy(D=6)
    norm = np.linalg.norm(X[:, :3], axis=1)
    pipe = Pipeline([Magnitude(("ax", "ay", "az"), append=True)])
    assert pipe.output_names(6, IMU) == IMU + ("norm_ax_ay_az",)
    Y = pipe.transform_sequence(X, input_names=IMU)
    np.testing.assert_array_equal(Y[:, :6], X)
    np.testing.assert_allclose(Y[:, 6], norm, rtol=1e-14)

    pipe = Pipeline([Magnitude((3, 5, 4), name="gyro")])
    assert pipe.output_names(6, IMU) == ("ax", "ay", "az", "gyro")
    Y = pipe.transform_sequence(X)
    np.testing.assert_array_equal(Y[:, :3], X[:, :3])
    np.testing.assert_allclose(Y[:, 3], np.linalg.norm(X[:, 3:], axis=1), rtol=1e-14)

    # The norm takes the place of the group's first channel.
    pipe = Pipeline([Magnitude((1, 3))])
    assert pipe.output_names(6, IMU) == ("ax", "norm_ay_wx", "az", "wy", "wz")
    np.testing.assert_allclose(
        pipe.transform_sequence(X)[:, 1], np.hypot(X[:, 1], X[:, 3]), rtol=1e-14
    )


@pytest.mark.parametrize("N", [1, 7])
def test_window_stats_match_numpy_over_the_window(N):
    X = noisy(T=60, D=3)
    stats = ("max", "std", "mean", "min")
    pipe = Pipeline([WindowStats(N, stats, append=True)])
    names = pipe.output_names(3, ["a", "b", "c"])
    assert names[:3] == ("a", "b", "c")
    assert names[3:9] == ("a_max", "b_max", "c_max", "a_std", "b_std", "c_std")
    Y = pipe.transform_sequence(X)
    funcs = {"mean": np.mean, "std": np.std, "min": np.min, "max": np.max}
    for n in range(60):
        window = X[max(0, n - N + 1) : n + 1]
        expected = np.concatenate([X[n]] + [funcs[s](window, axis=0) for s in stats])
        np.testing.assert_allclose(Y[n], expected, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("rate_out", [50.0, 200.0])
def test_resample_a_100_hz_sine(rate_out):
    T = 301
    t = np.arange(T) / 100.0
    f = 2.0
    X = np.stack([np.sin(2 * math.pi * f * t), np.cos(2 * math.pi * f * t)], axis=1)
    pipe = Pipeline([Resample(rate_out)], rate_hz=100.0)
    assert pipe.output_rate_hz == rate_out and not pipe.emits_one
    Y, times = pipe.transform_sequence(X, return_times=True)
    assert len(Y) == int(round(3.0 * rate_out)) + 1  # the grid from 0 s to 3 s
    np.testing.assert_allclose(times, np.arange(len(Y)) / rate_out, atol=1e-12)
    truth = np.stack([np.sin(2 * math.pi * f * times), np.cos(2 * math.pi * f * times)], axis=1)
    # Linear interpolation between 100 Hz samples: error below (w h)^2 / 8.
    bound = (2 * math.pi * f / 100.0) ** 2 / 8
    np.testing.assert_allclose(Y, truth, atol=bound * 1.01)
    if rate_out == 50.0:  # every grid point falls on an input frame
        np.testing.assert_allclose(Y, X[::2], atol=1e-12)


def test_resample_emits_zero_one_or_several_frames_and_does_not_bridge_gaps():
    pipe = Pipeline([Resample(10.0, max_gap_s=0.5)])
    state = pipe.start(1)
    counts = []
    for t in [0.0, 0.04, 0.09, 0.1, 0.35, 2.0, 2.1]:
        counts.append(len(state.push([t * 10], t)))
    # 0.0 starts the grid; 0.04, 0.09: no grid point; 0.1: one; 0.35: 0.2 and 0.3;
    # 2.0: a 1.65 s gap, the grid starts again at 2.0; 2.1: one.
    assert counts == [1, 0, 0, 1, 2, 1, 1]
    np.testing.assert_allclose(state.times, [2.1])
    np.testing.assert_allclose(state.push([22.0], 2.2), [[22.0]])


# -- streaming = batch, round trips ----------------------------------------------------------------


def every_stage() -> list[Stage]:
    """One pipeline's worth of every stage type, as a 6-channel IMU would use them."""
    return [
        Select(("ax", "ay", "az", 3, 4)),
        LowPass(cutoff_hz=10.0),
        Magnitude(("ax", "ay", "az"), append=True),
        OneEuro(min_cutoff=1.5, beta=0.02, d_cutoff=1.0),
        MovingAverage(3),
        MovingMedian(3),
        LowPass(alpha=0.5),
        Derivative(2, append=True),
        Derivative(1, append=True),
        Resample(120.0, max_gap_s=0.2),
        WindowStats(5, ("mean", "min", "std", "max", "median"), append=True),
        Standardize(),
    ]


def test_every_stage_type_is_in_the_registry_and_covered():
    assert {s.kind for s in every_stage()} == set(STAGES)
    for kind, cls in STAGES.items():
        assert cls.kind == kind


@pytest.mark.parametrize("with_times", [False, True])
def test_transform_sequence_equals_stepping_frame_by_frame(with_times):
    X = noisy(T=250, D=6) * 3
    times = np.cumsum(np.random.default_rng(6).uniform(0.008, 0.012, 250)) if with_times else None
    pipe = Pipeline(every_stage(), rate_hz=100.0).fit([X], [times] if with_times else None, IMU)
    Y, t_batch = pipe.transform_sequence(X, times, IMU, return_times=True)
    Z, t_step = step_all(pipe, X, times, IMU)
    assert Y.shape == Z.shape == (len(t_batch), pipe.output_dim(6, IMU))
    assert len(t_batch) > 250  # upsampled
    np.testing.assert_array_equal(Y, Z)
    np.testing.assert_array_equal(t_batch, t_step)
    assert np.all(np.isfinite(Y))


def test_pipeline_json_round_trip_is_exact():
    X = noisy(T=200, D=6)
    pipe = Pipeline(every_stage(), rate_hz=100.0).fit([X], input_names=IMU)
    text = json.dumps(pipe.to_dict())
    back = Pipeline.from_dict(json.loads(text))
    assert back == pipe
    assert json.dumps(back.to_dict()) == text
    assert back.stages[-1].mean == pipe.stages[-1].mean  # fitted floats survive exactly
    np.testing.assert_array_equal(
        back.transform_sequence(X, input_names=IMU), pipe.transform_sequence(X, input_names=IMU)
    )
    assert Pipeline.from_dict(json.loads(json.dumps(Pipeline().to_dict()))) == Pipeline()


@pytest.mark.parametrize("stage", every_stage(), ids=lambda s: s.kind)
def test_stage_round_trip_and_read_only(stage):
    assert stage_from_dict(json.loads(json.dumps(stage.to_dict()))) == stage
    with pytest.raises(dataclasses.FrozenInstanceError):
        stage.append = True  # type: ignore[misc]


def test_reset_returns_to_a_fresh_state():
    X = noisy(T=100, D=6)
    pipe = Pipeline(every_stage(), rate_hz=100.0).fit([X], input_names=IMU)
    state = pipe.start(6, IMU)
    for frame in X[:60]:
        state.push(frame)
    state.reset()
    assert len(state.push(X[0])) == 1 and state.times[0] == 0.0
    rest = [state.push(frame).copy() for frame in X[1:]]
    np.testing.assert_array_equal(
        np.concatenate([pipe.start(6, IMU).push(X[0])] + rest),
        pipe.transform_sequence(X, input_names=IMU),
    )


def test_push_accepts_lists_ints_and_read_only_arrays():
    pipe = Pipeline([OneEuro(), Derivative()], rate_hz=50.0)
    a, b = pipe.start(3), pipe.start(3)
    frame = np.array([1.0, 2.0, 3.0])
    frame.flags.writeable = False
    for x in ([1, 2, 3], frame, np.array([1, 2, 3], dtype=np.int32)):
        np.testing.assert_array_equal(a.push(x), b.push(np.array([1.0, 2.0, 3.0])))


# -- bad input -------------------------------------------------------------------------------------

BAD_FRAMES = {
    "too short": [1.0, 2.0],
    "too long": [1.0, 2.0, 3.0, 4.0],
    "2-d": [[1.0, 2.0, 3.0]],
    "scalar": 1.0,
    "nan": [1.0, float("nan"), 3.0],
    "inf": [float("-inf"), 2.0, 3.0],
    "absurd": [1e300, 2.0, 3.0],
    "just too large": [1.0, -1e20, 3.0],
    "strings": ["1", "2", "3"],
    "ragged": [1.0, [2.0], 3.0],
    "none": None,
    "complex": np.array([1j, 2.0, 3.0]),
}


@pytest.mark.parametrize("name", list(BAD_FRAMES))
def test_bad_frame_is_rejected_and_leaves_the_state_unchanged(name):
    X = noisy(T=40, D=3)
    pipe = Pipeline(
        [OneEuro(), Derivative(2, append=True), WindowStats(4), Resample(70.0)], rate_hz=50.0
    )
    a, b = pipe.start(3), pipe.start(3)
    for frame in X[:20]:
        a.push(frame)
        b.push(frame)
    with pytest.raises(GesturemapError, match="Bad frame"):
        a.push(BAD_FRAMES[name])
    for frame in X[20:]:
        np.testing.assert_array_equal(a.push(frame), b.push(frame))
        np.testing.assert_array_equal(a.times, b.times)


@pytest.mark.parametrize("t", [float("nan"), float("inf"), 0.2, 0.1, "soon"])
def test_bad_time_is_rejected_and_leaves_the_state_unchanged(t):
    pipe = Pipeline([OneEuro(), Derivative()])
    a, b = pipe.start(2), pipe.start(2)
    for i in range(5):  # times 0.0 .. 0.2
        a.push([i, -i], i * 0.05)
        b.push([i, -i], i * 0.05)
    with pytest.raises(GesturemapError, match="time"):
        a.push([9.0, 9.0], t)
    np.testing.assert_array_equal(a.push([5.0, -5.0], 0.25), b.push([5.0, -5.0], 0.25))


def test_time_is_required_where_needed():
    with pytest.raises(GesturemapError, match="rate_hz"):
        state = Pipeline([Derivative()]).start(1)
        state.push([0.0])
        state.push([1.0])
    # Without time-based stages, frames need neither times nor a rate (times count frames).
    state = Pipeline([Select((0,))]).start(2)
    state.push([0.0, 1.0])
    state.push([0.0, 1.0])
    assert state.times[0] == 1.0


def test_bad_recording_names_the_frame():
    X = noisy(T=20, D=2)
    X[13, 1] = np.nan
    with pytest.raises(GesturemapError, match="frame 13 of 20"):
        Pipeline([OneEuro()], rate_hz=50.0).transform_sequence(X)


BAD_SETTINGS = [
    (
        lambda: MovingAverage(0),
        r"^MovingAverage\.window_frames: got 0; expected an integer >= 1 and <= 100000\. Average over 1",
    ),
    (lambda: MovingAverage(2.5), r"window_frames: got 2\.5; expected an integer"),
    (lambda: WindowStats(True), r"window_frames: got True"),
    (lambda: WindowStats(5, ("mean", "mode")), r"stats: got \('mean', 'mode'\).*among"),
    (
        lambda: MovingMedian(0),
        r"^MovingMedian\.window_frames: got 0; expected an integer >= 1 and <= 100000\. Take the median",
    ),
    (
        lambda: MovingMedian(100_001),
        r"^MovingMedian\.window_frames: got 100001; expected an integer >= 1 and <= 100000\.",
    ),
    (
        lambda: WindowStats(10**9, ("median",)),
        r"^WindowStats\.window_frames: got 1000000000; .*A window of 1 to 100000 frames\.",
    ),
    (lambda: LowPass(), r"LowPass\.cutoff_hz: got None; expected a cutoff .*LowPass\(alpha=0\.2\)"),
    (lambda: LowPass(cutoff_hz=5.0, alpha=0.3), r"LowPass\.alpha: got 0\.3; expected None when"),
    (lambda: LowPass(cutoff_hz=-1.0), r"cutoff_hz: got -1\.0; expected a number > 0"),
    (lambda: LowPass(alpha=1.5), r"alpha: got 1\.5; expected a number in \(0, 1\]\. Smaller alpha"),
    (
        lambda: Pipeline([LowPass(cutoff_hz=30.0)], rate_hz=50.0),
        r"^Pipeline stage 0: LowPass\.cutoff_hz: got 30\.0; .*Nyquist frequency 25 Hz.*Lower",
    ),
    (
        lambda: Pipeline([Resample(20.0), OneEuro(min_cutoff=12.0)], rate_hz=100.0),
        r"stage 1: OneEuro\.min_cutoff: got 12\.0; .*Nyquist frequency 10 Hz",
    ),
    (lambda: OneEuro(min_cutoff=0.0), r"OneEuro\.min_cutoff: got 0\.0; expected a number > 0"),
    (lambda: OneEuro(beta=-0.1), r"beta: got -0\.1; expected a number >= 0"),
    (lambda: OneEuro(d_cutoff=float("nan")), r"d_cutoff: got nan"),
    (lambda: Derivative(3), r"order: got 3; expected 1 or 2\. Chain two stages"),
    (lambda: Derivative(append="yes"), r"append: got 'yes'; expected true or false"),
    (lambda: Select(()), r"Select\.channels: got \(\); expected a non-empty list"),
    (lambda: Select((0, -1)), r"channels: got \(0, -1\);.*-1 is neither"),
    (lambda: Select((1, 1)), r"expected distinct channels"),
    (lambda: Magnitude(("ax",), name=""), r"Magnitude\.name: got ''"),
    (lambda: Resample(0.0), r"Resample\.rate_hz: got 0\.0; expected a number in \(0, 2000\]"),
    (lambda: Resample(100.0, max_gap_s=5000.0), r"max_gap_s: got 5000\.0;.*burst"),
    (
        lambda: Standardize(mean=(0.0, 1.0), std=(1.0, 0.0)),
        r"std: got \(1\.0, 0\.0\); expected a list of positive",
    ),
    (lambda: Standardize(mean=(0.0,)), r"std: got None; expected mean and std given together"),
    (lambda: Standardize(mean=(0.0, 1.0), std=(1.0,)), r"std: got \(1\.0,\); expected 2 values"),
    (lambda: Pipeline(rate_hz=-5), r"Pipeline\.rate_hz: got -5; expected a number > 0\. Give the"),
    (lambda: Pipeline(OneEuro()), r"Pipeline\.stages: got OneEuro.*a list of stages"),
    (lambda: Pipeline([OneEuro]), r"Pipeline\.stages\[0\]: got"),
    (lambda: Pipeline().start(0), r"input_dim: got 0"),
    (lambda: Pipeline().start(2, ["a", "a"]), r"expected distinct names"),
    (
        lambda: Pipeline([Select(("ax", "gx"))]).start(6, IMU),
        r"stage 0: Select\.channels: got \('ax', 'gx'\); .*No channel is named 'gx'",
    ),
    (lambda: Pipeline([Select((6,))]).output_dim(6), r"Index 6 does not exist"),
    (lambda: Pipeline([Select(("in1", 0))]).start(2), r"the same channel"),
    (
        lambda: Pipeline([Standardize(mean=(0.0,), std=(1.0,))]).start(2),
        r"Standardize\.mean: got 1 fitted channels; .*fit it again",
    ),
    (
        lambda: Pipeline().transform_sequence(np.zeros(5)),
        r"Pipeline\.X: got an array of shape \(5,\)",
    ),
]


@pytest.mark.parametrize("make, message", BAD_SETTINGS)
def test_bad_settings_are_rejected_with_clear_messages(make, message):
    with pytest.raises(GesturemapError, match=message):
        make()


def test_unfitted_standardize_says_what_to_do():
    with pytest.raises(NotFittedError, match=r"stage 1: .*Pipeline\.fit"):
        Pipeline([OneEuro(), Standardize()], rate_hz=50.0).start(3)
    with pytest.raises(GesturemapError, match="at least one"):
        Pipeline([Standardize()]).fit([])


@pytest.mark.parametrize(
    "d, message",
    [
        ({"type": "os.system", "channels": [0]}, r"type 'os\.system' is unknown; known types"),
        ({"channels": [0]}, r"type None is unknown"),
        ({"type": "select", "channels": [0], "command": "rm"}, r"unknown settings \['command'\]"),
        ({"type": "resample"}, r"lacks settings \['rate_hz'\]"),
        ({"type": "moving_average", "window_frames": -3}, r"window_frames: got -3"),
        ({"type": "standardize", "mean": [0.0], "std": ["x"]}, r"std: got \['x'\]"),
        ([1, 2], r"must be a JSON object"),
    ],
)
def test_stage_from_dict_rejects_bad_input(d, message):
    with pytest.raises(FormatError, match=message):
        stage_from_dict(d)


def test_pipeline_from_dict_rejects_bad_input():
    good = Pipeline([OneEuro()], rate_hz=50.0).to_dict()
    with pytest.raises(FormatError, match="newer gesturemap"):
        Pipeline.from_dict({**good, "version": 99})
    with pytest.raises(FormatError, match="format"):
        Pipeline.from_dict({**good, "format": "something.else"})
    with pytest.raises(FormatError, match="stage 0: .*min_cutoff"):
        Pipeline.from_dict({**good, "stages": [{"type": "one_euro", "min_cutoff": "fast"}]})
    with pytest.raises(FormatError, match="Nyquist"):
        Pipeline.from_dict({**good, "rate_hz": 1.0})


# -- real recorded data ----------------------------------------------------------------------------


def test_full_pipeline_over_recorded_imu_data(watch):
    train, test = watch[:8], watch[8]
    pipe = Pipeline(
        [
            Magnitude(("ax", "ay", "az"), name="acc", append=True),
            OneEuro(min_cutoff=2.0, beta=0.05),
            Derivative(1, append=True),
            WindowStats(10, ("mean", "std")),
            Standardize(),
        ],
        rate_hz=50.0,
    ).fit(train, input_names=IMU)
    names = pipe.output_names(6, IMU)
    assert len(names) == 28 and names[6] == "acc_mean" and names[-1] == "d_acc_std"
    Y_train = np.concatenate([pipe.transform_sequence(X, input_names=IMU) for X in train])
    np.testing.assert_allclose(Y_train.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(Y_train.std(axis=0), 1.0, rtol=1e-9)
    Y = pipe.transform_sequence(test, input_names=IMU)
    assert Y.shape == (len(test), 28) and np.all(np.isfinite(Y))
    # A held-out recording of the same exercises lands on the same scale.
    assert np.all(np.abs(Y.mean(axis=0)) < 2.0) and np.all(Y.std(axis=0) < 5.0)
    # The smoothed accelerometer norm stays close to the raw one (gravity, ~1 g).
    acc = np.linalg.norm(test[:, :3], axis=1)
    raw = Pipeline([Magnitude((0, 1, 2))]).transform_sequence(test)[:, 0]
    np.testing.assert_allclose(raw, acc, rtol=1e-14)
    assert 0.5 < np.median(acc) < 1.5


def test_resampling_recorded_data_keeps_the_recorded_frames(watch):
    X = watch[0]
    Y = Pipeline([Resample(100.0)], rate_hz=50.0).transform_sequence(X)
    assert Y.shape == (2 * len(X) - 1, 6)
    np.testing.assert_allclose(Y[::2], X, atol=1e-12)  # 50 Hz frames are on the 100 Hz grid
    np.testing.assert_allclose(Y[1::2], (X[1:] + X[:-1]) / 2, atol=1e-12)


def test_one_standardisation_for_the_pipeline_and_the_models():
    # the feature stage and the models' input standardisation compute the same mean and scale,
    # constant channels included (a channel of pure rounding noise around 0 keeps scale 1)
    from gesturemap.models._standardize import fit_standardization

    rng = np.random.default_rng(4)
    x = np.column_stack([rng.normal(3.0, 2.0, 500), np.full(500, 7.5),
                         1e-14 * rng.normal(size=500), rng.normal(-1e6, 1e-3, 500)])
    stage = Standardize().fit([x[:200], x[200:]])
    mean, scale = fit_standardization(x, True)
    np.testing.assert_allclose(stage.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(stage.std, scale, rtol=1e-12)
    assert scale[1] == 1.0 and scale[2] == 1.0 and scale[0] == pytest.approx(x[:, 0].std())
