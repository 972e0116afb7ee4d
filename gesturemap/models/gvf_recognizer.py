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

import numpy as np

from ..data import Dataset
from ..errors import GesturemapError, TrainingCancelled
from .base import Cancel, bad_param, check_choice, check_float, restore
from .hhmm import HHMM

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


def fit_hhmm(states: int, likelihood_window: float, standardized: Dataset,
             cancel: Cancel | None, what: str) -> HHMM:
    """An HHMM of ``states`` states per class (the HHMM's other defaults) on the GVF's
    standardised takes: the recognizer, or the time warp's own (``speed_states``). ``what``
    names the GVF setting(s) behind it and what to do about a failure, for the error."""
    try:
        return HHMM(int(states), decision="decaying",
                    likelihood_window=recognizer_window(likelihood_window)).fit(
            standardized, cancel=cancel)
    except TrainingCancelled:
        raise
    except GesturemapError as exc:
        raise GesturemapError(f"the GVF's {what.format(exc=exc)}") from None


def dump_hhmm(hhmm: HHMM | None, prefix: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """An HHMM's saved meta and its arrays named with ``prefix`` (nothing for None)."""
    if hhmm is None:
        return {}, {}
    meta, arrays = hhmm.dump()
    return meta, {prefix + k: v for k, v in arrays.items()}


def load_hhmm(meta: Any, arrays: dict[str, np.ndarray], prefix: str, labels: list[Any],
              d: int) -> HHMM | None:
    """A saved HHMM over the GVF's labels and inputs (its arrays named with ``prefix``), or
    None (``meta`` None: trained without one, or saved before it existed)."""
    if meta is None:
        return None
    n = len(prefix)
    hhmm = restore(meta, {k[n:]: v for k, v in arrays.items() if k.startswith(prefix)})
    if not isinstance(hhmm, HHMM) or hhmm.labels_ != labels or hhmm.input_dim_ != d:
        raise ValueError(f"the saved HHMM ({prefix}*) does not match the model's classes "
                         "and inputs")
    return hhmm
