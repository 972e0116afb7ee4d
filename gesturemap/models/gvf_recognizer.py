"""GVF's second expert on the class (``GVF(recognizer_weight=...)``): the HHMM trained inside
``GVF.fit``, and how its per-class log-likelihood is read before the log-linear pool.

``recognizer_decision``:

- ``"decaying"``: the HHMM's forward log-likelihood since the reset with the GVF's forgetting
  (``1 / likelihood_window`` per frame, the HHMM's ``"decaying"`` decision): the same memory
  as the particles' evidence (issue 18e).
- ``"cumulative"``: the forward log-likelihood since the reset, no forgetting (the HHMM's
  package decision, as the HHMM alone decides): late in a gesture the whole gesture counts.

Both are run-time (the HHMM is the same; only its stream's decision changes). Files saved
before the setting existed load with ``"decaying"`` (what they ran).
"""

from __future__ import annotations

from typing import Any

from ..errors import GesturemapError
from .base import bad_param, check_choice, check_float

#: Values of ``GVF.recognizer_decision``.
RECOGNIZER_DECISIONS = ("decaying", "cumulative")


def recognizer_window(likelihood_window: float) -> int:
    """The recognizer's ``likelihood_window`` (an integer) for the GVF's."""
    return max(1, int(round(float(likelihood_window))))


def check_recognizer_params(model: Any) -> None:
    """``recognizer_weight`` in [0, 1]; ``recognizer_decision`` one of
    :data:`RECOGNIZER_DECISIONS`."""
    w = check_float("recognizer_weight", model.recognizer_weight)
    if w > 1.0:
        raise bad_param("recognizer_weight", w, "a weight in [0, 1]",
                        "0 is the particle filter alone, 1 the HHMM alone on the class.")
    check_choice("recognizer_decision", model.recognizer_decision, RECOGNIZER_DECISIONS)


def recognizer_stream(model: Any) -> Any:
    """The recognizer HHMM's stream for a GVF stream (None at ``recognizer_weight=0``), its
    decision set from ``recognizer_decision`` (and the window from ``likelihood_window``)."""
    if float(model.recognizer_weight) <= 0:
        return None
    rec = getattr(model, "recognizer_", None)
    if rec is None:
        raise GesturemapError(
            f"recognizer_weight={model.recognizer_weight} but this GVF was trained "
            "without a recognizer (recognizer_weight=0 at fit, or saved before it "
            "existed): fit it again with recognizer_weight > 0, or set it to 0.")
    window = recognizer_window(model.likelihood_window)
    decision = model.recognizer_decision
    if rec.likelihood_window != window or rec.decision != decision:
        rec.set_params(decision=decision, likelihood_window=window)
    return rec.stream()
