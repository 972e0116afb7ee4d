"""``GVF(max_step=K)``: how many template frames one frame may advance GVF's alignments
 — the fastest performance, relative to a template, that the aligned
speed and scale can follow."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError
from gesturemap.models.base import restore

from .test_align import own_take  # noqa: F401  (the fixture)
from .test_core import _shapes_dataset
from .test_speed import _hapt_replay


def _read(model, x, k, steps, how):
    model.set_params(alignment__max_step=steps, estimates__speed=how)  # run-time: no refit
    res = model.stream().run(x)
    n0 = int(0.3 * len(res))
    return (np.array([r.speed[k] for r in res])[n0:],
            np.array([r.scale[k].mean() for r in res])[n0:])


def test_the_limit_is_the_fastest_speed_the_since_reset_alignment_follows(own_take):  # noqa: F811
    # a take that is its class's only template, replayed 3 times faster: with a limit of 2
    # the alignment cannot keep up (speed <= 2, and the scale is read on the wrong template
    # frames: 0.48-0.52 on one take, up to 1.95 on the other); with 4 both are the factors
    # (measured: speed 2.97-3.09, scale 0.96-1.05)
    for model, take, k in own_take:
        x = _hapt_replay(take, 3.0, 1.0)
        speed, scale = _read(model, x, k, 2, "align")
        assert speed.max() <= 2.0 * 1.05, speed.max()
        assert np.abs(scale - 1.0).max() > 0.3  # measured: 0.52 and 0.95
        speed, scale = _read(model, x, k, 4, "align")
        assert np.all(np.abs(speed / 3.0 - 1.0) < 0.1), (speed.min(), speed.max())
        assert np.all(np.abs(scale - 1.0) < 0.1), (scale.min(), scale.max())


def test_the_default_is_issue_18ahs_choice_and_reads_slow_and_fast_alike(own_take):  # noqa: F811
    """48, chosen by cross-validation over 12, 24 and 48 (12 before; a frame's cost no longer grows with it, the
    sliding minimum). So free a limit neither races ahead on the take as recorded nor lags a
    take replayed faster or slower: both alignments read the factor (measured: within 4.2 %
    from x0.5 to x4; x8, 10 frames, 9.7 % and 14.1 % over)."""
    assert gm.GVF().alignment.max_step == 48
    for model, take, k in own_take:
        for factor in (0.5, 1.0, 2.0, 4.0, 8.0):
            x = _hapt_replay(take, factor, 1.0)
            for how in ("align", "align_open"):
                speed, scale = _read(model, x, k, 48, how)
                tol = 0.15 if factor == 8.0 else 0.05
                assert abs(speed[-1] / factor - 1.0) < tol, (how, factor, speed[-1])
                assert np.all(np.abs(scale - 1.0) < 0.15), (how, factor, scale.min(),
                                                            scale.max())


def test_the_open_alignment_has_the_same_limit(own_take):  # noqa: F811
    for model, take, k in own_take:
        x = _hapt_replay(take, 3.0, 1.0)
        speed, _ = _read(model, x, k, 2, "align_open")
        assert speed.max() <= 2.0 + 1e-9
        speed, _ = _read(model, x, k, 4, "align_open")
        assert abs(speed[-1] / 3.0 - 1.0) < 0.1, speed[-1]


def test_saved_and_loaded_with_the_model_and_older_files_keep_four(tmp_path):
    model = gm.GVF(50, alignment=gm.GVF.Alignment(max_step=8)).fit(_shapes_dataset())
    path = tmp_path / "gvf.json"
    model.save(path)
    assert gm.load(path).alignment.max_step == 8
    meta, arrays = model.dump()
    del meta["params"]["alignment"]["max_step"]  # a file saved before the parameter existed
    assert restore(json.loads(json.dumps(meta)), arrays).alignment.max_step == 4


@pytest.mark.parametrize("bad", [0, -1, 65, 2.5, True, "8", None])
def test_a_bad_limit_is_refused_with_its_name(bad):
    with pytest.raises(GesturemapError, match="alignment__max_step"):
        gm.GVF(50, alignment=gm.GVF.Alignment(max_step=bad)).fit(_shapes_dataset())
    model = gm.GVF(50).fit(_shapes_dataset())
    with pytest.raises(GesturemapError, match="alignment__max_step"):
        model.set_params(alignment__max_step=bad)


def _plain_predecessors(tot, length, a, n, t, max_step, start_cost, start_frames,
                        per_frame=True, young=0.0):
    """The per-cell loop the sliding minimum replaced (each cell reads its max_step + 1
    predecessors; strict ``<``, so ties go to the nearest); ``per_frame`` False: the
    connected rule's totals, plus ``young`` per frame a path lacks of
    ``start_frames`` (18x)."""
    pred = np.full(n, -1)
    for j in range(n):
        lo = np.inf
        for k in range(min(j, max_step) + 1):
            c = a + j - k
            if t > 0 and length[c] > 0.0:
                v = ((tot[c] + start_cost) / (length[c] + start_frames) if per_frame
                     else tot[c] + young * max(0.0, start_frames - length[c]))
                if v < lo:
                    lo, pred[j] = v, c
    return pred


@pytest.mark.parametrize("rule", [(True, 0.0), (False, 0.0), (False, 0.25)],
                         ids=["per frame", "connected", "connected, young cost"])
@pytest.mark.parametrize("max_step", [1, 2, 4, 12, 64])
def test_each_cells_predecessor_is_the_plain_loops(max_step, rule):
    from gesturemap.models.gvf.align_open import best_predecessors

    per_frame, young = rule
    rng = np.random.default_rng(max_step)
    for _ in range(200):
        n, a = int(rng.integers(1, 40)), int(rng.integers(0, 5))
        size = a + n + 3
        # few distinct values (ties), cells without a path, young and old paths, the first
        # frame
        tot = rng.integers(0, 4, size).astype(float)
        length = rng.choice([0.0, 1.0, 2.0, 5.0, 16.0, 24.0], size)
        t = float(rng.choice([0.0, 3.0, 3.0, 3.0]))
        norm, pred, queue = np.zeros(size), np.full(size, -7), np.zeros(size, dtype=np.int64)
        best_predecessors(tot, length, a, n, t, max_step, 4.0, 20.0, norm, pred, queue,
                          per_frame, young)
        want = _plain_predecessors(tot, length, a, n, t, max_step, 4.0, 20.0, per_frame, young)
        assert pred[a:a + n].tolist() == want.tolist()
        assert (pred[:a] == -7).all() and (pred[a + n:] == -7).all()  # its template only


@pytest.mark.parametrize("max_step", [1, 3, 12, 64])
def test_the_since_reset_alignments_costs_are_the_plain_loops(max_step):
    """align_step's least predecessor cost is a sliding minimum: the same costs, open ends
    and speeds as the loop over the max_step + 1 cells before each (ties and inf included)."""
    from gesturemap.models.gvf.align import (
        AlignPaths,
        AlignScratch,
        AlignSettings,
        AlignTemplates,
        align_step,
    )

    rng = np.random.default_rng(max_step)
    d = 3
    lengths = [7, 1, 30]  # three templates, one class each
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    class_offsets = np.arange(len(lengths) + 1, dtype=np.int64)
    size = int(offsets[-1])
    normed = rng.standard_normal((size, d))
    floor2 = np.full(len(lengths), 0.01)
    for t in (0, 1, 5):
        cost = rng.choice([0.0, 1.0, 2.0, np.inf], size) if t else np.zeros(size)
        want = np.zeros(size)
        z, x0 = rng.standard_normal(d), rng.standard_normal(d)
        inv = 1.0 / np.sqrt(0.7 + floor2)
        for m in range(len(lengths)):
            a, b = offsets[m], offsets[m + 1]
            for j in range(b - a):
                c = float(np.sum(((z - x0) * inv[m] - normed[a + j]) ** 2))
                prev = (0.0 if j == 0 else np.inf) if t == 0 else min(
                    cost[a + j - k] for k in range(min(j, max_step) + 1))
                want[a + j] = prev + c
        new, pos, best = np.zeros(size), np.zeros(3, dtype=np.int64), np.zeros(3)
        sums, speed = np.zeros((3, 5)), np.zeros(3)
        no = np.zeros((0, d))
        align_step(z, t, 0.7,
                   AlignTemplates(no, normed, offsets, class_offsets, floor2, np.ones(3), no),
                   AlignSettings(1.0, max_step, True),
                   AlignPaths(x0, cost, pos, best, np.zeros(3, dtype=np.int64), sums, speed, no,
                              no),
                   AlignScratch(new, np.zeros(size, dtype=np.int64)))
        np.testing.assert_array_equal(cost, want)  # written back into cost
        for m in range(3):
            seg = want[offsets[m]:offsets[m + 1]]
            assert pos[m] == int(np.argmin(seg)) and best[m] == seg.min()
