"""Causal forward kernels of :class:`gesturemap.models.hmm.HMM` (one Gaussian per state).

Pure functions over arrays, one call per frame, nothing allocated: the forward variables are
kept in the log domain, so a class's cumulative log-likelihood after T frames is exactly the
whole-sequence log-likelihood ``log p(x_1..x_T)`` that hmmlearn's ``score`` computes, and the
decision of a stream reset at a gesture's start equals the batch decision on that gesture.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._kernels import LOG_2PI

_JIT = {"cache": True, "nogil": True, "fastmath": False}
_NEG_INF = -np.inf


@njit(**_JIT)
def _log_gauss(x, mean, linv, lognorm):
    d = mean.shape[0]
    maha = 0.0
    for i in range(d):
        y = 0.0
        for k in range(i + 1):
            y += linv[i, k] * (x[k] - mean[k])
        maha += y * y
    return lognorm - 0.5 * maha


@njit(**_JIT)
def hmm_forward_step(z, started, n_states, log_start, log_trans, means, linv, lognorm,
                     alpha, new_alpha, loglik, inst, progress, lstate):
    """One frame ``z`` (D,) through every class's HMM.

    ``alpha`` (C, N) are log forward variables normalised to sum 1 per class (their
    log-sum-exp is 0); ``loglik`` (C,) accumulates ``log p(z_t | z_1..z_t-1)``, written to
    ``inst``. ``progress`` is the expected state index over ``N - 1``; ``lstate`` the likeliest
    state. Returns the index of the class with the largest cumulative log-likelihood.
    """
    n_classes = n_states.shape[0]
    blown = 0
    for c in range(n_classes):
        n = n_states[c]
        for j in range(n):
            e = _log_gauss(z, means[c, j], linv[c, j], lognorm[c, j])
            if started[0] == 0:
                v = log_start[c, j]
            else:
                m = _NEG_INF
                for i in range(n):
                    t = alpha[c, i] + log_trans[c, i, j]
                    if t > m:
                        m = t
                if m == _NEG_INF:
                    v = _NEG_INF
                else:
                    s = 0.0
                    for i in range(n):
                        s += math.exp(alpha[c, i] + log_trans[c, i, j] - m)
                    v = m + math.log(s)
            new_alpha[c, j] = v + e
        m = _NEG_INF
        for j in range(n):
            if new_alpha[c, j] > m:
                m = new_alpha[c, j]
        if m == _NEG_INF or not math.isfinite(m):
            # every state impossible (or a numerical blow-up): restart this class here
            for j in range(n):
                alpha[c, j] = -math.log(n)
            inst[c] = -1e300
            loglik[c] = -1e300
            blown += 1
            continue
        s = 0.0
        for j in range(n):
            s += math.exp(new_alpha[c, j] - m)
        norm = m + math.log(s)
        inst[c] = norm
        loglik[c] += norm
        expected = 0.0
        best_j = 0
        for j in range(n):
            alpha[c, j] = new_alpha[c, j] - norm
            p = math.exp(alpha[c, j])
            expected += p * j
            if alpha[c, j] > alpha[c, best_j]:
                best_j = j
        lstate[c] = best_j
        progress[c] = expected / (n - 1) if n > 1 else 1.0
    started[0] = 1
    if blown == n_classes:
        # every class found the frame impossible (a glitch far outside every state, whose
        # squared distance overflows): the evidence restarts here for all alike. Left at
        # -1e300 each, every later frame's log-likelihood was absorbed (-1e300 - 71 ==
        # -1e300) and the classes stayed tied, the first one named, until a reset.
        for c in range(n_classes):
            loglik[c] = 0.0
    best = 0
    for c in range(1, n_classes):
        if loglik[c] > loglik[best]:
            best = c
    return best


@njit(**_JIT)
def hmm_sequence_loglik(x, n_states, log_start, log_trans, means, linv, lognorm, out):
    """(C,) whole-sequence log-likelihood of ``x`` (T, D): the forward step over every frame."""
    c_n = n_states.shape[0]
    nmax = log_start.shape[1]
    alpha = np.zeros((c_n, nmax))
    new_alpha = np.zeros((c_n, nmax))
    inst = np.zeros(c_n)
    progress = np.zeros(c_n)
    lstate = np.zeros(c_n, dtype=np.int64)
    started = np.zeros(1, dtype=np.int64)
    out[:] = 0.0
    for t in range(x.shape[0]):
        hmm_forward_step(x[t], started, n_states, log_start, log_trans, means, linv, lognorm,
                         alpha, new_alpha, out, inst, progress, lstate)


def lognorm_of(linv: np.ndarray) -> np.ndarray:
    """Log normalising constants of Gaussians given their inverse Cholesky factors (..., D, D)."""
    d = linv.shape[-1]
    logdet_prec = 2.0 * np.log(np.abs(np.diagonal(linv, axis1=-2, axis2=-1))).sum(axis=-1)
    return -0.5 * d * LOG_2PI + 0.5 * logdet_prec
