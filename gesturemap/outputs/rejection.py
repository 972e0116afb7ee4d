"""Rejection: the one decision, for every output and view, that a frame chose no class.

A project has one setting, ``outputs.reject_below`` (0..1; 0: never). A classifier's frame is
rejected when the likelihood of its likeliest class, ``result.likelihoods[result.label_index]``
(the model's own normalised likelihood, after its ``likelihood_window``: nothing smooths it
further), is below it. A regression frame is never rejected: its values are the answer.

A DTW frame (its result carries ``distances``) chose no class when no gesture matches
(``result.match`` is None), whatever ``reject_below`` and the likelihoods say: Wekinator's DTW
sends a distance per gesture on ``/wek/outputs`` and a gesture's own message when it matches,
so "no class" is what DTW sends, "no match", and the class chosen is the gesture that matches.

On a rejected frame ``/wek/outputs`` sends class 0 and the label is empty, MIDI releases its
note, the synth starts no one-shot and its ``*`` routes leave their parameters at rest, the
session log's ``labels.csv`` (and a replay's) holds no label, and the window's monitor and the
stage view show "unknown" ("no match" for DTW, whose ``/wek/outputs`` carries its distances
still). They all ask this module, so none of them can show or play what another rejected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["below", "reject_below", "rejected"]


def below(likelihoods: np.ndarray, label_index: int, threshold: float) -> bool:
    """Whether the likeliest class's likelihood ``likelihoods[label_index]`` is below
    ``threshold`` (0: never), for a classifier's frame given as arrays."""
    return threshold > 0.0 and float(likelihoods[label_index]) < threshold


def rejected(result: Any, threshold: float) -> bool:
    """Whether ``result`` (a :class:`~gesturemap.models.base.Result`) chose no class under
    ``threshold``: a DTW frame when no gesture matches (``threshold`` aside); a classifier's
    frame :func:`below` it; a regression frame never."""
    if getattr(result, "distances", None) is not None:
        return getattr(result, "match", None) is None
    return result.output is None and below(result.likelihoods, result.label_index, threshold)


def reject_below(outputs: Mapping[str, Any] | None) -> float:
    """The project's rejection threshold read from its ``outputs`` settings (0: none)."""
    return float((outputs or {}).get("reject_below") or 0.0)
