"""A GVF class trained from a single take borrows the spreads of the classes of several takes
(gesturemap/models/gvf_spreads.py)."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.models.gvf.spreads import borrow_spreads


def _arrays(rng, n_templates, d=3, frames=(5, 7, 4, 6)):
    spreads = [rng.random(d) for _ in range(n_templates)]
    posture = [rng.random((frames[t % len(frames)], d)) for t in range(n_templates)]
    starts = [rng.random(d) for _ in range(n_templates)]
    return spreads, posture, starts


def test_a_class_of_one_take_borrows_the_mean_of_the_other_classes_spreads():
    rng = np.random.default_rng(0)
    # classes: 3 takes (2 templates), 1 take (1 template), 2 takes (1 template)
    spreads, posture, starts = _arrays(rng, 4)
    class_starts = [rng.random(3) for _ in range(3)]
    before = ([s.copy() for s in spreads], [p.copy() for p in posture],
              [s.copy() for s in starts])
    borrow_spreads([3, 1, 2], [2, 1, 1], spreads, posture, starts, class_starts)
    several = [0, 1, 3]  # the templates of the classes of several takes: untouched
    for t in several:
        np.testing.assert_array_equal(spreads[t], before[0][t])
        np.testing.assert_array_equal(posture[t], before[1][t])
        np.testing.assert_array_equal(starts[t], before[2][t])
    np.testing.assert_allclose(spreads[2], np.mean([before[0][t] for t in several], axis=0))
    frames = np.vstack([before[1][t] for t in several])
    assert posture[2].shape == before[1][2].shape
    np.testing.assert_allclose(posture[2], np.broadcast_to(frames.mean(0), posture[2].shape))
    np.testing.assert_allclose(starts[2], (class_starts[0] + class_starts[2]) / 2)


@pytest.mark.parametrize("n_takes", [[2, 3, 5], [1, 1, 1]])
def test_nothing_is_borrowed_when_the_classes_are_alike(n_takes):
    """Every class of several takes (the default stream is the same as before, bit for bit),
    or every class of one take (nothing to borrow from)."""
    rng = np.random.default_rng(1)
    spreads, posture, starts = _arrays(rng, 3)
    before = ([s.copy() for s in spreads], [p.copy() for p in posture],
              [s.copy() for s in starts])
    borrow_spreads(n_takes, [1, 1, 1], spreads, posture, starts, [rng.random(3)] * 3)
    for a, b in zip((spreads, posture, starts), before, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


def test_fit_gives_a_class_of_one_take_the_borrowed_spreads():
    rng = np.random.default_rng(2)
    ds = gm.Dataset()
    for label, n in (("a", 3), ("b", 1), ("c", 2)):
        for _ in range(n):
            t = np.linspace(0, 1, 30)[:, None]
            ds.add(np.hstack([np.sin(3 * t + len(label)), t ** 2, np.cos(2 * t)])
                   + 0.1 * rng.standard_normal((30, 3)), label=label)
    model = gm.GVF(60,
                   templates=gm.GVF.Templates(learned_tolerance=True, per_class=1),
                   recognizer=gm.GVF.Recognizer(weight=0.0),
                   estimates=gm.GVF.Estimates(scale="sampled")).fit(ds)
    assert model.spreads_[1].min() > 0 and model.start_stds_[1].min() > 0
    np.testing.assert_allclose(model.spreads_[1], model.spreads_[[0, 2]].mean(0))
    b = model.posture_spreads_[model.offsets_[1]:model.offsets_[2]]
    np.testing.assert_allclose(b, np.broadcast_to(b[0], b.shape))
    assert b.min() > 0


def test_on_real_transitions_a_take_is_recognised_when_it_is_its_own_template(datasets_dir):
    """HAPT postural transitions (25 Hz, HAPT's transition takes at 25 Hz): 12 takes of
    gvf_eval's training subjects, 2 per class, each the only take of its class, the other
    classes from the other training subjects' takes (gvf_eval's own take as template), the
    particle filter alone on the class; replayed unchanged, the take's class leads at the
    end. With the bare tolerance for the class of one take (before the spreads were
    borrowed), 2 of the 12."""
    from tests.recordings import hapt_transition_takes as load_takes

    takes, labels, subjects = load_takes(datasets_dir / "HAPTTransitions")
    test_subjects = {5, 7, 11, 17, 21, 26, 28}  # gvf_eval's held-out subjects: not used
    train = [i for i in range(len(takes)) if subjects[i] not in test_subjects]
    pick = []
    for label in sorted(set(labels)):
        of_class = [i for i in train if labels[i] == label]
        pick += of_class[::max(1, len(of_class) // 2)][:2]
    right = 0
    for i in pick:
        ds = gm.Dataset()
        ds.add(takes[i], label=labels[i])
        for j in train:
            if labels[j] != labels[i] and subjects[j] != subjects[i]:
                ds.add(takes[j], label=labels[j])
        model = gm.GVF(300, tolerance=0.15, uniform_scale=True, random_state=0,
                       templates=gm.GVF.Templates(learned_tolerance=True),
                       recognizer=gm.GVF.Recognizer(weight=0.0),
                       estimates=gm.GVF.Estimates(scale="sampled")).fit(ds)
        right += model.stream().run(takes[i])[-1].label == labels[i]
    assert right >= 10
