"""The last gesture's frames (what a correction relabels): a ring written in place."""

from __future__ import annotations

import numpy as np

from gesturemap.live.last_gesture import LastGesture


def test_the_newest_frames_come_back_oldest_first_with_times_from_zero():
    gesture = LastGesture(capacity=5)
    assert len(gesture) == 0 and gesture.frames()[0].shape == (0, 0)
    for i in range(3):
        gesture.append(np.array([i, -i], dtype=float), 10.0 + i)
    inputs, times = gesture.frames()
    assert np.array_equal(inputs, [[0, 0], [1, -1], [2, -2]])
    assert np.array_equal(times, [0.0, 1.0, 2.0])
    for i in range(3, 8):  # round the ring: the three oldest are gone
        gesture.append(np.array([i, -i], dtype=float), 10.0 + i)
    inputs, times = gesture.frames()
    assert len(gesture) == 5
    assert np.array_equal(inputs[:, 0], [3, 4, 5, 6, 7])
    assert np.array_equal(times, [0.0, 1.0, 2.0, 3.0, 4.0])
    inputs[:] = 99  # a copy: the ring is not the caller's
    assert np.array_equal(gesture.frames()[0][:, 0], [3, 4, 5, 6, 7])


def test_clear_forgets_and_a_frame_of_another_width_starts_again():
    gesture = LastGesture(capacity=4)
    for i in range(6):
        gesture.append(np.full(2, float(i)), float(i))
    gesture.clear()
    assert len(gesture) == 0 and len(gesture.frames()[1]) == 0
    gesture.append(np.full(2, 7.0), 20.0)
    assert np.array_equal(gesture.frames()[0], [[7.0, 7.0]])
    gesture.append(np.full(3, 8.0), 21.0)
    inputs, times = gesture.frames()
    assert np.array_equal(inputs, [[8.0, 8.0, 8.0]]) and np.array_equal(times, [0.0])
