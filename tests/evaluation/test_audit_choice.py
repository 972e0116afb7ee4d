"""The audit's choice over its curves: a costly class is pushed towards silence on its own
share of the budget while the others keep their choice, and the recall a choice loses on
performers it was not made on is estimated by choosing on some and counting on others."""

from __future__ import annotations

import numpy as np
import pytest

from gesturemap.evaluation.audit import _drop_on_others, choose

# two classes, three strictness levels (least to most strict)
FA = np.array([[1.0, 0.3, 0.02], [1.0, 0.3, 0.0]])
RECALL = np.array([[1.0, 0.9, 0.5], [1.0, 0.8, 0.6]])


def test_a_costly_class_keeps_its_share_of_the_budget_and_the_others_their_choice() -> None:
    ones = np.ones(2)
    plain, met = choose(FA, RECALL, 0.6, ones, ones)
    assert met and plain.tolist() == [1, 1]
    costed, met = choose(FA, RECALL, 0.6, np.array([10.0, 1.0]), ones)
    assert met and costed.tolist() == [2, 1]  # 10 x 0.02 within 0.6; class 1 as it was
    # a cost of 1 (or less) changes nothing; a share no level meets: the fewest, not met
    assert choose(FA, RECALL, 0.6, np.array([1.0, 0.5]), ones)[0].tolist() == [1, 1]
    pick, met = choose(FA, RECALL, 0.6, np.array([100.0, 1.0]), ones)
    assert pick.tolist() == [2, 1] and not met


def _per(recalls: dict[str, tuple[int, int]]) -> np.ndarray:
    """Counts (2 levels, 4 performers, 2 classes, 3): at the settings' level every class
    fires once a minute by mistake and finds both its gestures; one level stricter, nothing
    fires by mistake and each performer's class finds ``recalls[performer]`` gestures."""
    per = np.zeros((2, 4, 2, 3), dtype=np.int64)
    per[0, :, :, 0] = 1
    per[:, :, :, 2] = 2
    per[0, :, :, 1] = 2
    for u, g in enumerate("abcd"):
        per[1, u, :, 1] = recalls[g]
    return per


def _excess(per: np.ndarray) -> tuple[float, float, float]:
    ones = np.ones(2)
    # the counts now: at the settings' level, the first
    return _drop_on_others(per, list("abcd"), np.ones(4), per[0],
                           lambda fa, rec: choose(fa, rec, 1.0, ones, ones)[0])


def test_a_choice_made_on_its_own_performers_is_found_optimistic() -> None:
    # the budget needs one class raised: performers a and b lose nothing when class 0 is,
    # c and d nothing when class 1 is; a choice made on a and b loses on c and d
    excess, spread, share = _excess(_per({"a": (2, 0), "b": (2, 0), "c": (0, 2),
                                          "d": (0, 2)}))
    assert excess > 0.1 and spread == pytest.approx(0.0)  # half is lost on any other half
    # as a share of the gestures found at the settings' level (all of them here): the same
    assert share == pytest.approx(excess)
    # every performer alike: a choice looks on its performers as it does on others
    same, spread, share = _excess(_per({g: (2, 1) for g in "abcd"}))
    assert same == pytest.approx(0.0) and spread == pytest.approx(0.0)
    assert share == pytest.approx(0.0)
    # found at the settings' level by half the performers only: the share of what was
    # found grows by the inverse of what they found (half the gestures: twice the share)
    per = _per({"a": (2, 0), "b": (2, 0), "c": (0, 2), "d": (0, 2)})
    per[0, :, :, 1] = 1
    per[1, :, :, 1] = np.minimum(per[1, :, :, 1], 1)
    half, _, half_share = _excess(per)
    assert half_share == pytest.approx(2 * half) and half > 0.05
    # too few performers to split: no correction, no spread
    ones = np.ones(2)
    per = _per({g: (2, 0) for g in "abcd"})
    assert _drop_on_others(per, list("aabb"), np.ones(4), per[0],
                           lambda fa, rec: choose(fa, rec, 1.0, ones, ones)[0]) == (
        0.0, pytest.approx(float("nan"), nan_ok=True), 0.0)
