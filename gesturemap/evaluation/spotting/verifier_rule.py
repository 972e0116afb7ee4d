"""The rule that switches a spotting verifier on.

A verifier's cross-fit (:func:`gesturemap.evaluation.spotting.cv.fit_verifier`, the nested
CV's) gives two inner scores on the same detections: the spotter's alone ("off") and the
cross-fitted verifier's ("on"). By default the verifier is on iff "on" is strictly higher —
a decision a few detections can swing. :class:`VerifierRule` makes it stricter, in two ways
that can be combined:

- ``margin``: "on" must beat "off" by at least ``margin`` (0: strictly; the
  scores are micro F1 minus false alarms per minute beyond a budget, so a gain can exceed 1);
- ``confidence``: a paired bootstrap over the groups (subjects) of the inner sessions — the
  groups drawn with replacement ``resamples`` times (``seed``), each draw scoring "on" and
  "off" on the same sessions — and "on" must score strictly higher in at least that fraction
  of the draws.

With neither (``VerifierRule()``, or ``rule=None``) the decision is the strict comparison
alone. :data:`DEFAULT_RULE` (a confidence of 0.9, margin 0) is ``fit_verifier``'s default:
on HAPT, in runs declared before they were made, it scored 0.808 held-out micro F1 against
0.785 for the strict comparison (nested leave-subjects-out) and 0.805 either way at the
package defaults; no margin could tell a gain most subjects share from one some subjects
reverse (docs/spotting.md, "Verifying events").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...utils.validation import check_float, check_int, validation_error

__all__ = ["DEFAULT_RULE", "VerifierRule", "apply_rule", "paired_bootstrap", "parse_confidence",
           "verifier_rule"]


@dataclasses.dataclass(frozen=True)
class VerifierRule:
    """When a cross-fitted verifier is switched on (see the module's docstring)."""

    margin: float = 0.0
    confidence: float | None = None
    resamples: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        check_float("verifier margin", self.margin)
        q = self.confidence
        if q is not None and check_float("verifier confidence", q, strict=True) > 1:
            raise validation_error("verifier confidence", q,
                                   "None or a fraction, 0 < confidence <= 1")
        check_int("verifier resamples", self.resamples, 1)
        check_int("verifier seed", self.seed, 0)

    @property
    def plain(self) -> bool:
        """True when this is the strict comparison of before (nothing more to decide)."""
        return self.margin == 0 and self.confidence is None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


DEFAULT_RULE = VerifierRule(confidence=0.9)


def verifier_rule(margin: float = 0.0, confidence: float | None = None
                  ) -> VerifierRule | None:
    """The rule of the command lines' ``--verifier-margin`` / ``--verifier-confidence``
    (``--verify-margin`` / ``--verify-confidence`` in the benchmark): None for the rule of
    before (margin 0, no bootstrap)."""
    rule = VerifierRule(margin=margin, confidence=confidence)
    return None if rule.plain else rule


def parse_confidence(text: str) -> float | None:
    """``--verifier-confidence``'s value: a fraction, or ``none`` (no bootstrap)."""
    return None if text.strip().lower() == "none" else float(text)


def paired_bootstrap(on: Sequence[Any], off: Sequence[Any], groups: Sequence[Any],
                     score: Callable[[list[Any]], float], resamples: int = 1000,
                     seed: int = 0) -> float:
    """The fraction of ``resamples`` paired draws in which ``on`` scores strictly higher than
    ``off``. ``on`` and ``off``: one result per session, the same sessions in the same order
    (verified and not); ``groups``: each session's group. A draw takes as many groups as
    there are, with replacement (``numpy.random.default_rng(seed)``), and scores the sessions
    of the groups drawn, each as often as drawn, with and without the verifier."""
    if not len(on) == len(off) == len(groups):
        raise ValueError(f"{len(on)} verified sessions, {len(off)} plain, {len(groups)} groups")
    names = sorted(set(groups), key=str)
    members = {g: [k for k, h in enumerate(groups) if h == g] for g in names}
    rng = np.random.default_rng(seed)
    wins = 0
    for _ in range(resamples):
        idx = [k for j in rng.integers(0, len(names), len(names)) for k in members[names[j]]]
        wins += score([on[k] for k in idx]) > score([off[k] for k in idx])
    return wins / resamples


def apply_rule(info: dict[str, Any], rule: VerifierRule, on: Sequence[Any], off: Sequence[Any],
               groups: Sequence[Any], score: Callable[[list[Any]], float]) -> dict[str, Any]:
    """``info`` (a cross-fit's report: ``inner_score_with``, ``inner_score_without``) decided
    again by ``rule``: ``applied``, ``reason`` and ``rule`` (the rule, the margin seen, and
    with a confidence the bootstrap's fraction of wins) set. ``on`` / ``off`` / ``groups``:
    the inner sessions' results verified and not, and their groups (for the bootstrap)."""
    gain = info["inner_score_with"] - info["inner_score_without"]
    applied = gain > 0 and gain >= rule.margin
    report: dict[str, Any] = {**rule.to_dict(), "gain": gain}
    why = [f"gain {gain:+.3f}" + (f" (margin {rule.margin:g})" if rule.margin else "")]
    if rule.confidence is not None:
        wins = paired_bootstrap(on, off, groups, score, rule.resamples, rule.seed)
        report["bootstrap_wins"] = wins
        applied = applied and wins >= rule.confidence
        why.append(f"on wins {wins:.3f} of {rule.resamples} paired bootstrap draws "
                   f"(needs {rule.confidence:g})")
    verdict = "on" if applied else "off"
    return {**info, "applied": applied, "rule": report,
            "reason": f"{verdict}: {info['reason'].split(': ', 1)[1]}; {', '.join(why)}"}
