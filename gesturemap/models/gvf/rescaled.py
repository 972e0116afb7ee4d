"""GVF's recognizer HHMM on the frame brought back to each class's size
(``GVF(recognizer_input=...)``).

The recognizer HHMM's Gaussians hold absolute (standardised) values: a performance twice as
big as the templates lands in the wrong states and the HHMM, the stronger expert on
performances that look like the templates, is the one that fails. GVF knows each class's size
(its ``scale`` estimate), so, like the rescaled time warp (``gvf_speed``):

- ``"plain"``: the HHMM's own stream on the standardised frame (its decision:
  each class's HMM run on its own, ``recognizer_decision``).
- ``"rescaled"``: the same per-class forward passes, but class ``k``'s pass is fed
  ``start + (z - start) / scale_k``, the frame brought back to the template's size about the
  first frame since the reset (where GVF's scale acts), with the class's current scale
  estimate (the one the stream reports at this frame: causal); the delta part of the frame
  is the difference of the class's rescaled frames. The class's log-likelihood is that of
  the rescaled frames, as if the performance had been the template's size.
- ``"rescaled_jacobian"``: the same, plus the change of variables' term: the frames'
  density in the performer's units is the rescaled frames' divided by the scale per input
  (twice with deltas: the delta is rescaled too), ``-(1 + deltas) * sum_j log scale_kj``
  per frame after the first (the first frame is the start, not rescaled). A class that
  explains the frames only by shrinking them pays for it.

The passes run exactly as the HHMM stream's ``"cumulative"`` / ``"decaying"`` decision runs
them (``_filter.decision_forward``, the same emissions, the same ``TINY`` floor and
forgetting); only the frame each class sees differs. The hierarchical pass (the HHMM's
progress) is not run: the pool reads the decision alone. Nothing is allocated per frame.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._filter import DECISION_CUMULATIVE, _emissions, decision_forward
from .._kernels import TINY
from ..base import decision_settings

#: Values of ``GVF.recognizer_input``.
RECOGNIZER_INPUTS = ("plain", "rescaled", "rescaled_jacobian")

_JIT = {"cache": True, "nogil": True, "fastmath": False}


@njit(**_JIT)
def rescaled_decision_step(z, start, scales, first, deltas, jacobian, mode, keep, restart,
                           n_states, n_comp, left_right, weights, means_in, linv_in,
                           lognorm_in, trans, class_prior, prev, frame, emis, compb, front,
                           dalpha, dlik, slog):
    """One frame of every class's own forward pass on its rescaled frame; writes each class's
    decision log-likelihood into ``slog`` (C,).

    ``z`` (D,) standardised frame, ``start`` (D,) the first frame since the reset, ``scales``
    (C, D) the classes' scale estimates, ``first``: the first frame since the reset,
    ``jacobian``: add ``-(1 + deltas) * sum(log scales[k])`` after the first frame. ``prev``
    (C, D) each class's previous rescaled frame, ``frame`` (D or 2D,) a buffer; ``emis`` (C,
    N), ``compb`` (C, N, K), ``front`` (N,) buffers; ``dalpha`` (C, N) the passes' normalised
    forward variables, ``dlik`` (C,) this frame's one-step likelihoods; ``mode``/``keep``/
    ``restart`` the HHMM stream's decision settings."""
    c = dalpha.shape[0]
    d = z.shape[0]
    for k in range(c):
        for j in range(d):
            v = start[j] + (z[j] - start[j]) / scales[k, j]
            frame[j] = v
            if deltas:
                frame[d + j] = 0.0 if first else v - prev[k, j]
            prev[k, j] = v
        _emissions(frame, k, n_states[k], n_comp, weights, means_in, linv_in, lognorm_in,
                   emis, compb)
    decision_forward(first, mode, restart, n_states, left_right, class_prior, trans, emis,
                     dalpha, front, dlik)
    for k in range(c):
        v = dlik[k]
        lv = math.log(v if v > TINY else TINY)
        if jacobian and not first:
            s = 0.0
            for j in range(d):
                s += math.log(scales[k, j])
            lv -= (2.0 if deltas else 1.0) * s
        if first:
            slog[k] = lv
        elif mode == DECISION_CUMULATIVE:
            slog[k] += lv
        else:
            slog[k] = keep * slog[k] + lv


class RescaledRecognizer:
    """The recognizer HHMM's decision passes on each class's rescaled frame (see the module
    docstring); ``log`` (C,) holds the classes' decision log-likelihoods after
    :meth:`advance`."""

    def __init__(self, hhmm, decision: str, window: int, jacobian: bool) -> None:
        b = hhmm._bank()
        self._b = b
        c, nmax, kmax = b["weights"].shape[:3]
        d = int(hhmm.input_dim_)
        self._deltas = bool(hhmm.deltas)
        self._jacobian = bool(jacobian)
        self._mode, self._keep = decision_settings(decision, window)
        self._restart = 1.0 - self._keep
        self._start = np.zeros(d)
        self._prev = np.zeros((c, d))
        self._frame = np.zeros(2 * d if self._deltas else d)
        self._emis = np.zeros((c, nmax))
        self._compb = np.zeros((c, nmax, kmax))
        self._front = np.zeros(nmax)
        self._dalpha = np.zeros((c, nmax))
        self._dlik = np.zeros(c)
        self.log = np.zeros(c)
        self._seen = 0

    def reset(self) -> None:
        """Forget the frames seen: the next frame is the new start."""
        self._seen = 0

    def advance(self, z: np.ndarray, scales: np.ndarray) -> None:
        """Follow the standardised frame ``z`` with the classes' ``scales`` (C, D) at it."""
        first = self._seen == 0
        if first:
            self._start[:] = z
        self._seen += 1
        b = self._b
        rescaled_decision_step(z, self._start, scales, first, self._deltas, self._jacobian,
                               self._mode, self._keep, self._restart, b["n_states"],
                               b["n_comp"], b["left_right"], b["weights"], b["mean_in"],
                               b["linv_in"], b["lognorm_in"], b["trans"], b["prior"],
                               self._prev, self._frame, self._emis, self._compb, self._front,
                               self._dalpha, self._dlik, self.log)
