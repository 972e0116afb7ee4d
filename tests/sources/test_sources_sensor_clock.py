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


@pytest.mark.parametrize("glitch", [1e6, 92.345 - 12.345 + 0.3, float("inf")])
def test_one_stamp_far_ahead_of_its_receipt_moves_no_frame_after_it(glitch):
    """A corrupt line (a stamp of 1e9 ms, a wrong digit putting it 80 s ahead) is no time a
    board's clock shows: its frame is timed on receipt, counted, and the frames after it
    keep their board steps on the receipt clock (before, every later frame ran days or
    minutes ahead of its receipt, for good)."""
    clock = SensorClock()
    r0 = 1000.0
    before = [clock.map(j * 0.01, r0 + j * 0.01 + 0.002) for j in range(30)]
    odd = clock.map(glitch, r0 + 0.30 + 0.002)
    after = [clock.map(j * 0.01, r0 + j * 0.01 + 0.002) for j in range(31, 400)]
    assert odd == pytest.approx(r0 + 0.302)
    np.testing.assert_allclose(after, r0 + np.arange(31, 400) * 0.01, atol=0.003)
    assert np.all(np.diff([*before, odd, *after]) > 0)
    assert clock.glitches == 1  # (an infinite stamp too: no time a clock shows)


def test_a_repeated_stamp_while_frames_run_ahead_still_gives_increasing_times():
    """A backlog (2 s of stamps in one read) runs ahead of the receipt; a stamp repeated
    then (a board clock that stood still for a line) raised ZeroDivisionError and lost the
    read."""
    clock = SensorClock()
    r0 = 50.0
    times = [clock.map(j * 0.01, r0 + j * 0.01) for j in range(10)]
    times += clock.map_many([0.1 + j * 0.01 for j in range(200)], r0 + 0.11)  # a backlog
    for _ in range(3):
        times.append(clock.map(2.09, r0 + 0.12))  # the last stamp, again
    times += [clock.map(2.09 + j * 0.01, r0 + 0.12 + j * 0.01) for j in range(1, 50)]
    assert np.all(np.diff(times) > 0)
