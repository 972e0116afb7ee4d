"""``"align_anchor"``'s end read from the stream (gvf_align_anchor's ``LATCH_END``,
``SETTLE_SHARE``, ``STILL_RATIO``, ``PASS_SHARE``): a gesture cut
short and held restarts the next one."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.models.gvf import align_anchor as gvf_align_anchor

from .test_align_anchor import _speeds_and_anchors
from .test_align_open import two_takes_dataset
from .test_speed import _hapt_replay

#: 18t's rows: the end rule only (18s's row 5) with the end latched, the new beginning
#: followed until its path has passed 0.7 of its template, and a held end
HELD_END = {"FACTOR": 1000.0, "CANDIDATE_POSTURE": 10.0, "LATCH_END": True,
            "SETTLE_SHARE": 0.7, "STILL_RATIO": 0.5, "PASS_SHARE": 0.5}


@pytest.fixture(scope="module")
def two_takes(datasets_dir):
    """Subject 1's first two HAPT takes, each its class's only take (the truth of the speed
    is the replay's factor), beside subjects 3-6's takes of the other classes."""
    ds, two = two_takes_dataset(datasets_dir)
    return gm.GVF(300, uniform_scale=True,
                  estimates=gm.GVF.Estimates(speed="align_anchor"),
                  alignment=gm.GVF.Alignment(max_step=12, speed="slope")).fit(ds), two


def _cut_and_held(take, share=0.7, frames=20):
    """The first ``share`` of a take, then its last frame held ``frames`` frames."""
    x = take[: int(share * len(take))]
    return np.vstack([x, np.repeat(x[-1:], frames, axis=0)])


@pytest.mark.parametrize("held_end, reading, bound",
                         [(True, "slope", 0.05), (False, "slope", 0.05), (True, "chord", 0.07)])
def test_a_gesture_cut_short_and_held_restarts_the_next(two_takes, monkeypatch, held_end,
                                                         reading, bound):
    """A first take cut at 70 % (its anchored path never reaches its template's last 5 %),
    held still 20 frames, then the second take at x0.5, x1, x2 without a reset: with the held
    end the second's class re-anchors on the second take's first frame and reads its speed
    (measured: exactly there, speed / factor in [0.983, 1.026] after 30 % of it with the
    slope, [0.977, 1.067] with the chord, the package's reading); with the
    end rule of 18s only it stays on the first take's anchor (measured: speed / factor from
    0.07 to 1.53)."""
    for name, value in HELD_END.items():
        monkeypatch.setattr(gvf_align_anchor, name, value)
    if not held_end:
        monkeypatch.setattr(gvf_align_anchor, "LATCH_END", False)
        monkeypatch.setattr(gvf_align_anchor, "SETTLE_SHARE", 0.0)
        monkeypatch.setattr(gvf_align_anchor, "STILL_RATIO", 0.0)
    model, (a, b) = two_takes
    monkeypatch.setattr(model, "alignment", model.alignment.replace(speed=reading))  # (restored after the test)
    for first, second in ((a, b), (b, a)):
        k = model.labels_.index(second[1])
        x = _cut_and_held(first[0])
        n = len(x)
        for sp in (0.5, 1.0, 2.0):
            y = _hapt_replay(second[0], sp, 1.0)
            v, anchor = _speeds_and_anchors(model, np.vstack([x, y]), k)
            v = v[n:][int(0.3 * len(y)):] / sp
            if held_end:
                assert abs(anchor[-1] - n) <= 2, (second[1], sp, anchor[-1], n)
                assert np.all(np.abs(v - 1.0) < bound), (second[1], sp, v.min(), v.max())
            else:
                assert anchor[-1] < n - 2, (second[1], sp, anchor[-1], n)
                assert not np.all(np.abs(v - 1.0) < bound), (second[1], sp)


def test_motion_step_reads_a_held_end():
    """Moving frames are not still; held frames after them are once the recent energy has
    fallen under the ratio times the mean; ratio 0 never reads it."""
    rng = np.random.default_rng(0)
    moving = np.cumsum(rng.normal(size=(60, 3)), axis=0)
    frames = np.vstack([moving, np.repeat(moving[-1:], 15, axis=0)])
    for ratio in (0.5, 0.0):
        prev, state = np.zeros(3), np.zeros(3)
        still = [gvf_align_anchor.motion_step(f, prev, state, float(t), 0.8, ratio)
                 for t, f in enumerate(frames)]
        if ratio == 0.0:
            assert not any(still)
            continue
        assert not any(still[:60])
        assert all(still[65:]), still[60:]
        np.testing.assert_allclose(prev, frames[-1])


class _Toy:
    """Two classes of one 10-frame template each, both alignments' per-cell arrays, for
    :func:`gvf_align_anchor.anchor_step` frame by frame."""

    def __init__(self, latch, settle):
        self.latch, self.settle = latch, settle
        n, d = 20, 2
        self.offsets = np.array([0, 10, 20])
        self.class_offsets = np.array([0, 1, 2])
        self.o = {"tot": np.ones(n), "length": np.ones(n), "xs": np.zeros((n, d)),
                  "energy": np.ones(n), "reg": np.zeros((n, 7)), "born": np.zeros(n),
                  "rec": np.zeros(n), "cell": np.full(2, -1), "cost": np.ones(2),
                  "speed": np.array([1.5, 0.5])}
        self.a = {k: v.copy() for k, v in self.o.items()}
        self.a["speed"] = np.ones(2)
        self.anchor, self.t_end, self.latched = np.zeros(2), np.full(2, -1.0), np.full(2, -1.0)
        self.out = np.zeros(2)

    def step(self, t):
        o, a = self.o, self.a
        gvf_align_anchor.anchor_step(
            float(t), self.offsets, self.class_offsets, o["tot"], o["length"], o["xs"],
            o["energy"], o["reg"], o["born"], o["rec"], o["cell"], o["cost"], o["speed"],
            a["tot"], a["length"], a["xs"], a["energy"], a["reg"], a["born"], a["rec"],
            a["cell"], a["cost"], a["speed"], self.anchor, self.t_end, 1000.0, 1.0, 0.05,
            True, True, self.out, self.latched, self.latch, False, 0.5, self.settle)


@pytest.mark.parametrize("latch", [True, False])
def test_the_end_is_latched_until_the_class_takes_over(latch):
    """Class 0's anchored path reaches its template's end on frame 5 while it fits best; on
    frame 6 class 1 fits best (its path has not ended) and class 0's candidate, begun on
    frame 6, qualifies: latched, class 0 takes over (its anchor 6, the candidate's speed);
    read afresh, the end is gone and it keeps its anchor."""
    toy = _Toy(latch, 0.0)
    toy.a["cell"][:] = [9, 12]
    toy.a["cost"][:] = [1.0, 2.0]
    toy.step(5)
    assert toy.t_end[0] == 5.0 and toy.anchor[0] == 0.0
    toy.a["cost"][:] = [3.0, 2.0]
    toy.o["cell"][0] = 3
    toy.o["born"][:10] = 6.0
    toy.step(6)
    assert toy.anchor[0] == (6.0 if latch else 0.0)
    assert toy.out[0] == (1.5 if latch else 1.0)
    assert toy.anchor[1] == 0.0


@pytest.mark.parametrize("settle", [0.7, 0.0])
def test_a_new_beginning_is_followed_until_it_settles(settle):
    """After class 0 took over at the end (frame 6, its path at 0.3 of its template), a newer
    candidate begun on frame 7 takes over again while the path has not passed ``settle``
    of its template; with ``settle`` 0 the first candidate after the end stays; once the
    path has passed it, a newer one does not."""
    toy = _Toy(True, settle)
    toy.a["cell"][:] = [9, 12]
    toy.a["cost"][:] = [1.0, 2.0]
    toy.step(5)
    toy.a["cost"][:] = [3.0, 2.0]
    toy.o["cell"][0] = 3
    toy.o["born"][:10] = 6.0
    toy.step(6)
    assert toy.anchor[0] == 6.0 and toy.a["cell"][0] == 3
    toy.o["cell"][0] = 2
    toy.o["born"][:10] = 7.0
    toy.step(7)
    assert toy.anchor[0] == (7.0 if settle else 6.0)
    if settle:  # the path past 0.7 of its template: settled, a newer candidate waits
        toy.a["cell"][0] = 8
        toy.o["cell"][0] = 1
        toy.o["born"][:10] = 8.0
        toy.step(8)
        assert toy.anchor[0] == 7.0 and toy.latched[0] == -1.0
