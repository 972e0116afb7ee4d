"""benchmarks/gvf_misses.py's other replays (docs/notes/issue-18z.md): the fast part kept at
its size, and the sensor's noise restored in a smaller replay."""

import numpy as np
from scipy.ndimage import uniform_filter1d

from benchmarks.gvf_eval import replay
from benchmarks.gvf_misses import FAST_WIDTH, fast_kept_replay, noise_restored_replay


def _take(n=120):
    t = np.linspace(0.0, 1.0, n)
    smooth = np.stack([np.sin(3 * t), t**2, np.cos(2 * t)], 1)
    noise = 0.05 * np.random.default_rng(3).standard_normal(smooth.shape)
    return smooth + noise


def test_fast_kept_unchanged_replay_gives_the_take_back():
    x = _take()
    np.testing.assert_allclose(fast_kept_replay(x, 1.0, 1.0), x, atol=1e-12)


def test_fast_kept_size_scales_the_slow_part_only():
    x = _take()
    smooth = uniform_filter1d(x, FAST_WIDTH, axis=0, mode="nearest")
    rest = x - smooth
    for size in (0.5, 2.0):
        y = fast_kept_replay(x, 1.0, size)
        np.testing.assert_allclose(y - rest, smooth[0] + size * (smooth - smooth[0]),
                                   atol=1e-12)
        # gvf_eval's replay scales the rest too: the two differ by (size - 1) times it
        np.testing.assert_allclose(replay(x, 1.0, size) - y,
                                   (size - 1) * (rest - rest[0]), atol=1e-12)


def test_fast_kept_speed_resamples_both_parts():
    x = _take()
    np.testing.assert_allclose(fast_kept_replay(x, 2.0, 1.0), replay(x, 2.0, 1.0), atol=1e-12)


def test_noise_restored_leaves_sizes_of_one_and_more_as_gvf_eval():
    x, play = _take(), noise_restored_replay(np.array([0.1, 0.2, 0.3]))
    for speed in (0.5, 1.0, 2.0):
        for size in (1.0, 2.0):
            assert np.array_equal(play(x, speed, size), replay(x, speed, size))


def test_noise_restored_adds_the_missing_noise_to_a_smaller_replay():
    sigma = np.array([0.1, 0.2, 0.3])
    x, play = _take(40000), noise_restored_replay(sigma)
    y = play(x, 1.0, 0.5)
    added = y - replay(x, 1.0, 0.5)
    assert np.array_equal(added[0], np.zeros(3))  # the first frame, the gesture's origin
    # a replay at 0.5 keeps a quarter of the noise's power: the rest, 0.75, is added back
    np.testing.assert_allclose(added[1:].std(axis=0), sigma * np.sqrt(0.75), rtol=0.03)
    assert np.all(np.abs(np.corrcoef(added[1:].T) - np.eye(3)) < 0.03)  # independent inputs
    assert np.array_equal(play(x, 1.0, 0.5), y)  # seeded by the take and the factors
    assert not np.array_equal(play(x, 2.0, 0.5)[1:10], replay(x, 2.0, 0.5)[1:10])
