"""SensorClock with synthetic board clocks that run fast or slow, jittered receipts and chunks:
a frame is never mapped after its receipt, the steps are the stamps', the lag is bounded."""

from __future__ import annotations

import random

import numpy as np
import pytest

from gesturemap.sources.base import SensorClock


def run(rate: float, *, hz: float = 100.0, seconds: float = 30.0, chunk: int = 1,
        latency: tuple[float, float] = (0.002, 0.004), seed: int = 0):
    """Map frames sampled at ``hz`` (true time), stamped by a board clock running at ``rate``
    times real time, received ``chunk`` at a time after a random latency (in order)."""
    rnd = random.Random(seed)
    clock = SensorClock()
    true, stamps, receipts, mapped = [], [], [], []
    previous = 0.0
    for k in range(0, int(seconds * hz), chunk):
        ks = range(k, k + chunk)
        sampled = [5000.0 + j / hz for j in ks]
        receipt = max(previous + 1e-4, sampled[-1] + rnd.uniform(*latency))
        previous = receipt
        stamped = [j / hz * rate for j in ks]
        mapped += clock.map_many(stamped, receipt)
        true += sampled
        stamps += stamped
        receipts += [receipt] * chunk
    return clock, np.array(true), np.array(stamps), np.array(receipts), np.array(mapped)


@pytest.mark.parametrize("rate", [1.01, 1.002, 0.998, 0.99])
@pytest.mark.parametrize("chunk", [1, 12])
def test_a_drifting_board_clock_is_followed_never_ahead_of_receipt(rate, chunk):
    hz = 256.0 if chunk > 1 else 100.0
    clock, true, stamps, receipts, mapped = run(rate, hz=hz, chunk=chunk)
    # never after its receipt: the engine's latency (now - frame time) is never negative
    assert (mapped <= receipts + 1e-9).all(), (mapped - receipts).max()
    # the lag behind the true sampling time stays bounded (the old clock: up to 1 s)
    lag = (true - mapped)[int(hz):]
    assert lag.max() < 0.03 and -0.03 < lag.min(), (lag.min(), lag.max())
    # the steps are the stamps' (not the receipts' jitter), within the clock's drift
    steps = np.diff(mapped) / np.diff(stamps)
    assert (steps > 0.4).all() and (steps < 1.5).all(), (steps.min(), steps.max())
    assert np.median(np.abs(steps - 1 / rate)) < 0.02
    assert clock.resyncs == 0


def test_steps_follow_the_stamps_not_the_receipt_jitter():
    _, _, stamps, receipts, mapped = run(1.0, latency=(0.001, 0.009))
    mapped_error = np.abs(np.diff(mapped) - np.diff(stamps))[100:]
    receipt_error = np.abs(np.diff(receipts) - np.diff(stamps))[100:]
    assert np.percentile(mapped_error, 95) < 0.2 * np.percentile(receipt_error, 95)


def test_a_chunk_is_anchored_on_its_last_sample_not_its_first():
    """The first sample of a chunk waited longest: anchored on it, the others ran ahead."""
    clock = SensorClock()
    times = clock.map_many([10.0 + j / 100 for j in range(20)], 500.0)
    assert times[-1] == pytest.approx(500.0) and max(times) <= 500.0
    np.testing.assert_allclose(np.diff(times), 0.01, atol=1e-9)


def test_a_stamp_that_goes_back_takes_the_offset_again_and_times_still_increase():
    clock = SensorClock()
    before = clock.map_many([7200.0, 7200.01, 7200.02], 100.0)
    after = clock.map_many([0.0, 0.01, 0.02], 100.005)  # restarted 5 ms later
    assert clock.resyncs == 1
    times = np.array(before + after)
    assert (np.diff(times) >= 0.009).all(), np.diff(times)
    later = [clock.map(0.02 + j / 100, 100.03 + j / 100) for j in range(1, 300)]
    assert max(t - (100.03 + j / 100) for j, t in enumerate(later, 1)) <= 1e-9  # caught up
    assert (np.diff([*after, *later]) > 0.004).all()


def test_a_backlog_keeps_nearly_the_board_steps_and_catches_up():
    """Three seconds of stamps read within a few milliseconds (a buffered dump)."""
    clock = SensorClock()
    times = []
    for part in range(10):
        stamps = [(30 * part + j) / 100 for j in range(30)]
        times += clock.map_many(stamps, 50.0 + part * 0.001)
    steps = np.diff(times)
    assert (steps > 0.009).all() and (steps <= 0.0100001).all(), (steps.min(), steps.max())
    later = [clock.map(3.0 + j / 100, 53.0 + j / 100) for j in range(1, 400)]
    assert later[-1] <= 53.0 + 399 / 100 + 1e-9
