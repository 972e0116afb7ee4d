"""GVF's second expert on the class (``GVF(recognizer=GVF.Recognizer(weight=...))``): the
HHMM trained inside ``GVF.fit``, and how its per-class log-likelihood is read before the
log-linear pool.

``Recognizer.decision``:

- ``"decaying"``: the HHMM's forward log-likelihood since the reset with the GVF's forgetting
  (``1 / likelihood_window`` per frame, the HHMM's ``"decaying"`` decision): the same memory
  as the particles' evidence.
- ``"cumulative"``: the forward log-likelihood since the reset, no forgetting (the HHMM's
  package decision, as the HHMM alone decides): late in a gesture the whole gesture counts.

Both are run-time (the HHMM is the same; only its stream's decision changes). Files saved
before the setting existed load with ``"decaying"`` (what they ran).

The pool's weight is ``Recognizer.weight`` at every frame, except that with
``Recognizer.gate``, a width ``g`` in log units (0: off), it moves towards 1 (the HHMM alone)
when the GVF's own estimates say the performance looks like the templates, ``w_t = w + (1 -
w) * exp(-dev_t / g)``, ``dev_t`` the previous frame's pooled posterior's average over the
classes of ``|log speed_k| + mean_j |log scale_kj|`` (this frame's estimates; no change at
the first frame after a reset, no posterior yet). Run-time; files saved before it load with 0
(what they ran). Cross-validation on HAPT's training subjects chose a gate of 0.5, the edge of
its grid; a second one, over 0.5, 1, 2 and 4, chose 1, the default. The same
cross-validations rejected a weight that grows with the gesture's progress and an HHMM fed
each class's frame rescaled by its scale estimate (both removed).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from ...data import Dataset
from ...errors import GesturemapError, TrainingCancelled
from ..base import Cancel, restore
from ..hhmm import HHMM
from .params import RECOGNIZER_DECISIONS  # noqa: F401 - its home before


def recognizer_window(likelihood_window: float) -> int:
    """The recognizer's ``likelihood_window`` (an integer) for the GVF's."""
    return max(1, int(round(float(likelihood_window))))


@njit(cache=True, nogil=True)
def gated_weight(w, gate, post, speeds, scales):
    """``recognizer.gate``: the pool's weight ``w + (1 - w) * exp(-dev / gate)``, ``dev``
    the average under ``post`` (C,) of ``|log speeds[k]| + mean_j |log scales[k, j]|``."""
    c, d = scales.shape
    dev = 0.0
    for k in range(c):
        s = 0.0
        for j in range(d):
            s += abs(math.log(scales[k, j]))
        dev += post[k] * (abs(math.log(speeds[k])) + s / d)
    return w + (1.0 - w) * math.exp(-dev / gate)


class RecognizerPool:
    """A GVF stream's second expert on the class: the recognizer HHMM's stream and the
    log-linear pool of its log-likelihoods with the particles' evidence."""

    def __init__(self, model: Any, c: int) -> None:
        self.rec = recognizer_stream(model)
        # the HHMM's decision log-likelihoods, as the pool reads them
        self.hlog = self.rec._slog
        self.weight = float(model.recognizer.weight)
        self.gate = float(model.recognizer.gate)
        self.pooled = np.zeros(c)
        self._part = np.zeros(c)  # the particles' share (no array made per frame)
        self.started = False  # a frame pooled since the reset (else no posterior yet)
        self.last_weight = self.weight  # the weight of the last frame pooled

    def reset(self) -> None:
        self.rec.reset()
        self.started = False

    def pool(self, z: np.ndarray, log: np.ndarray, best: int, progress: np.ndarray,
             post: np.ndarray, speeds: np.ndarray | None = None,
             scales: np.ndarray | None = None, absurd: bool = False) -> tuple[int, np.ndarray]:
        """The class log-posterior of the two experts (log-linear pool): ``(1 - w)`` times
        the particles' smoothed evidence ``log`` plus ``w`` times the HHMM's log-likelihood
        of the frames (standardised ``z``) since the reset, and the likeliest class (the
        particles' ``best`` if nothing is left to pool). ``w`` is ``recognizer.weight``, or
        with ``recognizer.gate`` :func:`gated_weight` at the particles' ``speeds`` and
        ``scales`` (C, D; this frame's) under ``post``, the previous frame's pooled posterior
        (unused at the first frame after a reset; ``progress`` is unused). An ``absurd`` frame (the
        stream's ``_absurd.is_absurd``) is not fed to the HHMM: its log-likelihood (about -1e60 for
        every class at 1e30) would drown the classes' differences until the next reset."""
        del progress
        if not absurd:
            self.rec.advance(z)
        w = self.weight
        if self.started and self.gate > 0.0:
            w = gated_weight(w, self.gate, post, speeds, scales)
        self.started, self.last_weight = True, w
        pooled = self.pooled
        # the HHMM's decision sums (its stream's)
        np.multiply(self.hlog, w, out=pooled)
        np.multiply(log, 1.0 - w, out=self._part)
        pooled += self._part
        top = int(np.argmax(pooled))
        if not np.isfinite(pooled[top]):  # nothing left to pool: the particles alone
            return best, log
        return top, pooled


def recognizer_pool(model: Any, c: int) -> RecognizerPool | None:
    """The second expert of a GVF stream over ``c`` classes (None at
    ``recognizer.weight=0``)."""
    return RecognizerPool(model, c) if float(model.recognizer.weight) > 0 else None


def recognizer_stream(model: Any) -> Any:
    """The recognizer HHMM's stream for a GVF stream (``recognizer.weight > 0``), its
    decision set from ``recognizer.decision`` (and the window from ``likelihood_window``)."""
    rec = getattr(model, "recognizer_", None)
    if rec is None:
        raise GesturemapError(
            f"recognizer__weight={model.recognizer.weight} but this GVF was trained "
            "without a recognizer (recognizer__weight=0 at fit, or saved before it "
            "existed): fit it again with recognizer__weight > 0, or set it to 0.")
    window = recognizer_window(model.likelihood_window)
    decision = model.recognizer.decision
    if rec.likelihood_window != window or rec.decision != decision:
        rec.set_params(decision=decision, likelihood_window=window)
    return rec.stream()


#: The recognizer HHMM's settings, whatever the HHMM's defaults: those the GVF's grids were
#: run with (first differences, ``delta_lag=1``; XMM's regularisation 0.01, not the HHMM's
#: own default).
RECOGNIZER_HHMM = {"delta_lag": 1, "relative_regularization": 0.01}


def fit_hhmm(states: int, likelihood_window: float, standardized: Dataset,
             cancel: Cancel | None, what: str) -> HHMM:
    """An HHMM of ``states`` states per class (``RECOGNIZER_HHMM``, the HHMM's other defaults)
    on the GVF's standardised takes: the recognizer.
    ``what`` names the GVF setting(s) behind it and what to do about a failure, for the
    error."""
    try:
        return HHMM(int(states), decision="decaying", **RECOGNIZER_HHMM,
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
