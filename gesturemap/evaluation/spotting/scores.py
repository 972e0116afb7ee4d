"""Event-level evaluation of spotting on streams with per-frame labels.

The protocol is HAPT's (``datasets/HAPTTransitions/README.md``), written for any stream:

- a ground-truth event is a maximal run of one gesture label ``(label, start, end)``, ``end`` its
  last frame; every frame not in a gesture is null;
- a detection is ``(label, t)``, ``t`` the frame at which it was emitted. Per session, detections
  are processed in increasing ``t``; a detection is a true positive when a not-yet-matched
  ground-truth event of the same label has ``start <= t <= end + tolerance`` (among several, the
  one with the smallest ``end``); each ground-truth event matches at most one detection; every
  other detection is a false positive;
- reported: micro precision / recall / F1 over all events, macro F1 over the gesture classes,
  median and 90th-percentile delay ``(t - end) / rate`` over true positives, and false positives
  per minute of null frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["SessionResult", "ground_truth_events", "match_detections", "spotting_metrics"]


def ground_truth_events(labels: np.ndarray, gestures: Iterable[Any]) -> list[tuple[Any, int, int]]:
    """Maximal runs of one gesture label in a (T,) per-frame label array: ``(label, start,
    end)`` with ``end`` the run's last frame. Labels not in ``gestures`` are null."""
    labels = np.asarray(labels)
    gest = set(gestures)
    out = []
    if len(labels) == 0:
        return out
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change - 1, [len(labels) - 1]])
    for s, e in zip(starts, ends, strict=True):
        lb = labels[s]
        lb = lb.item() if isinstance(lb, np.generic) else lb
        if lb in gest:
            out.append((lb, int(s), int(e)))
    return out


@dataclass
class SessionResult:
    """One session's matching: true positives as ``(label, t, end)``, false positives as
    ``(label, t)``, missed ground-truth events as ``(label, start, end)``, the number of
    null frames, and how many of the false positives were emitted inside a real gesture's
    window (``start <= t <= end + tolerance``: that gesture named wrong, or found twice)."""

    true_positives: list[tuple[Any, int, int]] = field(default_factory=list)
    false_positives: list[tuple[Any, int]] = field(default_factory=list)
    missed: list[tuple[Any, int, int]] = field(default_factory=list)
    null_frames: int = 0
    misnamed: int = 0


def match_detections(truth: Sequence[tuple[Any, int, int]],
                     detections: Sequence[tuple[Any, int]], tolerance: int = 50,
                     null_frames: int = 0) -> SessionResult:
    """Match one session's detections ``(label, t)`` to its ground truth ``(label, start,
    end)`` by the rule above (``tolerance`` frames after an event's end still count)."""
    matched = [False] * len(truth)
    res = SessionResult(null_frames=int(null_frames))
    for label, t in sorted(detections, key=lambda d: d[1]):
        best = -1
        for i, (glabel, start, end) in enumerate(truth):
            if matched[i] or glabel != label or not (start <= t <= end + tolerance):
                continue
            if best < 0 or end < truth[best][2]:
                best = i
        if best < 0:
            res.false_positives.append((label, int(t)))
            res.misnamed += any(start <= t <= end + tolerance for _, start, end in truth)
        else:
            matched[best] = True
            res.true_positives.append((label, int(t), int(truth[best][2])))
    res.missed = [g for g, m in zip(truth, matched, strict=True) if not m]
    return res


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def spotting_metrics(sessions: Sequence[SessionResult], classes: Sequence[Any],
                     rate_hz: float = 50.0) -> dict[str, Any]:
    """The report of the protocol over matched sessions.

    Returns a dict: ``precision``, ``recall``, ``f1`` (micro), ``macro_f1``, ``per_class``
    ({label: {precision, recall, f1, support}}), ``delay_median_s``, ``delay_p90_s``,
    ``false_alarms_per_min``, and the counts ``true_positives``, ``false_positives``
    (``false_inside_gestures`` of them emitted inside a real gesture: named wrong or found
    twice; the others fell on null), ``missed``, ``events``, ``null_minutes``.
    """
    tp = [x for s in sessions for x in s.true_positives]
    fp = [x for s in sessions for x in s.false_positives]
    fn = [x for s in sessions for x in s.missed]
    p, r, f = _f1(len(tp), len(fp), len(fn))
    per_class = {}
    for c in classes:
        ctp = sum(1 for x in tp if x[0] == c)
        cfp = sum(1 for x in fp if x[0] == c)
        cfn = sum(1 for x in fn if x[0] == c)
        cp, cr, cf = _f1(ctp, cfp, cfn)
        per_class[c] = {"precision": cp, "recall": cr, "f1": cf, "support": ctp + cfn,
                        "true_positives": ctp, "false_positives": cfp}
    delays = np.array([(t - end) / rate_hz for _, t, end in tp])
    null_min = sum(s.null_frames for s in sessions) / rate_hz / 60.0
    return {
        "precision": p, "recall": r, "f1": f,
        "macro_f1": float(np.mean([v["f1"] for v in per_class.values()])) if classes else 0.0,
        "per_class": per_class,
        "delay_median_s": float(np.median(delays)) if len(delays) else float("nan"),
        "delay_p90_s": float(np.percentile(delays, 90)) if len(delays) else float("nan"),
        "false_alarms_per_min": len(fp) / null_min if null_min > 0 else float("nan"),
        "true_positives": len(tp), "false_positives": len(fp),
        "false_inside_gestures": sum(s.misnamed for s in sessions), "missed": len(fn),
        "events": len(tp) + len(fn), "null_minutes": null_min,
    }
