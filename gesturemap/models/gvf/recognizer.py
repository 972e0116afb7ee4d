"""GVF's second expert on the class (``GVF(recognizer_weight=...)``): the HHMM trained inside
``GVF.fit``, and how its per-class log-likelihood is read before the log-linear pool.

``recognizer_decision``:

- ``"decaying"``: the HHMM's forward log-likelihood since the reset with the GVF's forgetting
  (``1 / likelihood_window`` per frame, the HHMM's ``"decaying"`` decision): the same memory
  as the particles' evidence.
- ``"cumulative"``: the forward log-likelihood since the reset, no forgetting (the HHMM's
  package decision, as the HHMM alone decides): late in a gesture the whole gesture counts.

Both are run-time (the HHMM is the same; only its stream's decision changes). Files saved
before the setting existed load with ``"decaying"`` (what they ran).

``recognizer_schedule``, the pool's weight frame by frame:

- ``"constant"``: ``w = recognizer_weight`` at every frame.
- ``"progress"``: ``w_t = w + (1 - w) * p_t``, ``p_t`` the gesture's expected progress, the
  particles' progress per class at this frame averaged under the previous frame's pooled
  class posterior (``sum_k post_k * progress_k``, clipped to [0, 1]; 0 at the first frame
  after a reset): the constant pool at a gesture's start, the HHMM alone at its end, where
  its likelihood of the whole gesture is strongest. The same ``w_t`` for every class, so the
  classes' scores stay comparable. Nothing of the current frame's decision is used.

Run-time too; files saved before it existed load with ``"constant"`` (what they ran).

``recognizer_input``: what the HHMM is fed, ``"plain"`` (the standardised frame)
or each class's frame brought back to its size by its scale estimate (``"rescaled"``,
``"rescaled_jacobian"``: see ``gvf_rescaled``).

``recognizer_gate``, a width ``g`` in log units (0: off): the frame's weight
moves towards 1 (the HHMM alone) when the GVF's own estimates say the performance looks like
the templates, ``w_t = w + (1 - w) * exp(-dev_t / g)``, ``dev_t`` the previous frame's pooled
posterior's average over the classes of ``|log speed_k| + mean_j |log scale_kj|`` (this
frame's estimates; 0 weight change at the first frame after a reset, no posterior yet). It
acts after the schedule (on its ``w_t``). Both run-time; files saved before them load with
``"plain"`` and 0 (what they ran). Cross-validation on HAPT's training subjects chose
``"plain"`` over the rescaled inputs and a gate of 0.5, the edge of its grid; a second one,
over 0.5, 1, 2 and 4, chose 1, the default.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from ...data import Dataset
from ...errors import GesturemapError, TrainingCancelled
from ..base import Cancel, bad_param, check_choice, check_float, restore
from ..hhmm import HHMM
from .rescaled import RECOGNIZER_INPUTS, RescaledRecognizer

#: Values of ``GVF.recognizer_decision``.
RECOGNIZER_DECISIONS = ("decaying", "cumulative")
#: Values of ``GVF.recognizer_schedule``.
RECOGNIZER_SCHEDULES = ("constant", "progress")


def recognizer_window(likelihood_window: float) -> int:
    """The recognizer's ``likelihood_window`` (an integer) for the GVF's."""
    return max(1, int(round(float(likelihood_window))))


def check_recognizer_params(model: Any) -> None:
    """``recognizer_weight`` in [0, 1]; ``recognizer_decision`` one of
    :data:`RECOGNIZER_DECISIONS`, ``recognizer_schedule`` of :data:`RECOGNIZER_SCHEDULES`."""
    w = check_float("recognizer_weight", model.recognizer_weight)
    if w > 1.0:
        raise bad_param("recognizer_weight", w, "a weight in [0, 1]",
                        "0 is the particle filter alone, 1 the HHMM alone on the class.")
    check_choice("recognizer_decision", model.recognizer_decision, RECOGNIZER_DECISIONS)
    check_choice("recognizer_schedule", model.recognizer_schedule, RECOGNIZER_SCHEDULES)
    check_choice("recognizer_input", model.recognizer_input, RECOGNIZER_INPUTS)
    check_float("recognizer_gate", model.recognizer_gate,
                hint="A width in log units of speed and scale; 0 turns the gate off.")


def scheduled_weight(w: float, post: np.ndarray, progress: np.ndarray) -> float:
    """``recognizer_schedule="progress"``: the pool's weight ``w + (1 - w) * p`` at the
    expected progress ``p = sum(post * progress)`` (clipped to [0, 1]) of the gesture under
    the class posterior ``post`` (the previous frame's)."""
    p = min(1.0, max(0.0, float(np.dot(post, progress))))
    return w + (1.0 - w) * p


@njit(cache=True, nogil=True)
def gated_weight(w, gate, post, speeds, scales):
    """``recognizer_gate``: the pool's weight ``w + (1 - w) * exp(-dev / gate)``, ``dev``
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
        self.rescaled = None
        how = model.recognizer_input
        if how != "plain":
            self.rescaled = RescaledRecognizer(
                model.recognizer_, model.recognizer_decision,
                recognizer_window(model.likelihood_window), how == "rescaled_jacobian")
        # the HHMM's decision log-likelihoods, as the pool reads them
        self.hlog = self.rec._slog if self.rescaled is None else self.rescaled.log
        self.weight = float(model.recognizer_weight)
        self.progress_schedule = model.recognizer_schedule == "progress"
        self.gate = float(model.recognizer_gate)
        self.pooled = np.zeros(c)
        self._part = np.zeros(c)  # the particles' share (no array made per frame)
        self.started = False  # a frame pooled since the reset (else no posterior yet)
        self.last_weight = self.weight  # the weight of the last frame pooled

    def reset(self) -> None:
        self.rec.reset()
        if self.rescaled is not None:
            self.rescaled.reset()
        self.started = False

    def pool(self, z: np.ndarray, log: np.ndarray, best: int, progress: np.ndarray,
             post: np.ndarray, speeds: np.ndarray | None = None,
             scales: np.ndarray | None = None, absurd: bool = False) -> tuple[int, np.ndarray]:
        """The class log-posterior of the two experts (log-linear pool): ``(1 - w)`` times
        the particles' smoothed evidence ``log`` plus ``w`` times the HHMM's log-likelihood
        of the frames (standardised ``z``) since the reset, and the likeliest class (the
        particles' ``best`` if nothing is left to pool). ``w`` is ``recognizer_weight``, or
        with the ``"progress"`` schedule :func:`scheduled_weight` at the particles'
        ``progress`` under ``post``, the previous frame's pooled posterior (unused at the
        first frame after a reset: ``p = 0``), then with ``recognizer_gate``
        :func:`gated_weight` at the particles' ``speeds`` and ``scales`` (C, D; this frame's)
        under ``post``; ``recognizer_input`` other than ``"plain"`` feeds the HHMM each
        class's frame rescaled by its ``scales``. An ``absurd`` frame (the stream's
        ``_absurd.is_absurd``) is not fed to the HHMM: its log-likelihood (about -1e60
        for every class at 1e30) would drown the classes' differences until the next reset."""
        if not absurd:
            if self.rescaled is None:
                self.rec.advance(z)
            else:
                self.rescaled.advance(z, scales)
        w = self.weight
        if self.started:
            if self.progress_schedule:
                w = scheduled_weight(w, post, progress)
            if self.gate > 0.0:
                w = gated_weight(w, self.gate, post, speeds, scales)
        self.started, self.last_weight = True, w
        pooled = self.pooled
        # the HHMM's decision sums (its stream's, or the rescaled passes')
        np.multiply(self.hlog, w, out=pooled)
        np.multiply(log, 1.0 - w, out=self._part)
        pooled += self._part
        top = int(np.argmax(pooled))
        if not np.isfinite(pooled[top]):  # nothing left to pool: the particles alone
            return best, log
        return top, pooled


def recognizer_pool(model: Any, c: int) -> RecognizerPool | None:
    """The second expert of a GVF stream over ``c`` classes (None at
    ``recognizer_weight=0``)."""
    return RecognizerPool(model, c) if float(model.recognizer_weight) > 0 else None


def recognizer_stream(model: Any) -> Any:
    """The recognizer HHMM's stream for a GVF stream (``recognizer_weight > 0``), its
    decision set from ``recognizer_decision`` (and the window from ``likelihood_window``)."""
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


#: The GVF's HHMMs' settings, whatever the HHMM's defaults: ``delta_lag=1`` because the time
#: warp's kernel (gvf_speed.warp_step) builds the first difference itself; the regularisation
#: the GVF's grids were run with (XMM's 0.01, not the HHMM's own default).
RECOGNIZER_HHMM = {"delta_lag": 1, "relative_regularization": 0.01}


def fit_hhmm(states: int, likelihood_window: float, standardized: Dataset,
             cancel: Cancel | None, what: str) -> HHMM:
    """An HHMM of ``states`` states per class (``RECOGNIZER_HHMM``, the HHMM's other defaults)
    on the GVF's standardised takes: the recognizer, or the time warp's own (``speed_states``).
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
