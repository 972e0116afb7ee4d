"""The noise-kept replay of benchmarks/gvf_misses.py (docs/notes/issue-18z.md): the take's
smooth part follows the size factor, the rest keeps its recorded size."""

import numpy as np
from scipy.ndimage import uniform_filter1d

from benchmarks.gvf_eval import replay
from benchmarks.gvf_misses import NOISE_WIDTH, noise_kept_replay


def _take():
    t = np.linspace(0.0, 1.0, 120)
    smooth = np.stack([np.sin(3 * t), t**2, np.cos(2 * t)], 1)
    noise = 0.05 * np.random.default_rng(3).standard_normal(smooth.shape)
    return smooth + noise


def test_unchanged_replay_gives_the_take_back():
    x = _take()
    np.testing.assert_allclose(noise_kept_replay(x, 1.0, 1.0), x, atol=1e-12)


def test_size_scales_the_smooth_part_only():
    x = _take()
    smooth = uniform_filter1d(x, NOISE_WIDTH, axis=0, mode="nearest")
    rest = x - smooth
    for size in (0.5, 2.0):
        y = noise_kept_replay(x, 1.0, size)
        np.testing.assert_allclose(y - rest, smooth[0] + size * (smooth - smooth[0]),
                                   atol=1e-12)
        # gvf_eval's replay scales the rest too: the two differ by (size - 1) times it
        np.testing.assert_allclose(replay(x, 1.0, size) - y,
                                   (size - 1) * (rest - rest[0]), atol=1e-12)


def test_speed_resamples_both_parts():
    x = _take()
    y = noise_kept_replay(x, 2.0, 1.0)
    assert len(y) == len(replay(x, 2.0, 1.0))
    np.testing.assert_allclose(y, replay(x, 2.0, 1.0), atol=1e-12)
