"""Frame-by-frame (causal) inference kernels: one call per sensor frame.

Each kernel updates the run-time state arrays owned by a stream object in place and writes its
results into preallocated output arrays: nothing is allocated per frame, nothing raises on
numerical trouble. The arithmetic mirrors XMM's ``filter()`` so that a model imported from XMM
reproduces XMM's outputs; where XMM would output -inf or NaN (a class whose probability mass
underflowed to exactly zero) these kernels stay finite: the log of a zero likelihood is
``LOG_ZERO``, a progress with nothing to average keeps its previous value, and a forward
pass whose total mass vanished restarts on the current frame.

What the label is decided on (``decision``, a run-time parameter of every model):

- ``DECISION_WINDOW`` (XMM's): the mean of the last ``likelihood_window`` log instant
  likelihoods. For a hierarchical HMM the instant likelihood is a class's share of the
  two-level forward mass, so the classes also compete through the top level's exits.
- ``DECISION_CUMULATIVE`` (the default): the sum, since the last reset, of each class's log
  one-step predictive likelihood ``log p(x_t | x_reset..t-1, class)``, i.e. the log-likelihood
  of the whole segment under the class, computed exactly as the batch ``log_likelihood`` computes
  it (an HMM runs a second, independent forward pass per class for it). At the last frame of a
  gesture the label is what ``predict`` says about that gesture.
- ``DECISION_DECAYING`` (streams that are never reset): the same sum with exponential
  forgetting, ``L_t = keep * L_t-1 + log p(x_t | ...)``, ``keep = 1 - 1 / likelihood_window``;
  the per-class HMM pass may also restart at any frame (probability ``1 - keep``), so a class
  can follow a new occurrence of its gesture.
- ``DECISION_FOLLOWING`` (an HHMM's, for a stream that may or may not be reset): the
  cumulative sum, restarted on a frame where a new gesture must have begun (:func:`_follow`):
  the frame is less likely under the class decided so far than any frame of that class's
  takes was (its ``floor``, a log-likelihood learned at fit, with a margin); or, in a stream
  not reset for longer than any take, a class taken up afresh explains the frame far better
  than the decided class's pass; or ``horizon`` frames have passed since the last reset or
  restart. The restarted per-class passes may pick their gesture up at any state. A stream
  reset at each gesture's start, on gestures like the takes, does not restart: its decision
  is the cumulative one.
"""

from __future__ import annotations

import inspect
import math
from collections import namedtuple

from numba import njit

# (the densities are O(D) for a diagonal factor, see chol_precision)
from ._kernels import LOG_ZERO, TINY, gmm_frame_terms, hmm_frame_emissions

_JIT = {"cache": True, "nogil": True, "fastmath": False}

#: Codes of the ``decision`` modes (see the module docstring).
DECISION_WINDOW, DECISION_CUMULATIVE, DECISION_DECAYING, DECISION_FOLLOWING = 0, 1, 2, 3
#: The modes' names, in code order.
DECISIONS = ("window", "cumulative", "decaying", "following")


@njit(**_JIT)
def _push_log(logbuf, counts, pos, cl, value):
    """XMM's circular likelihood buffer: push ``log(value)``; return the mean of what it holds."""
    w = logbuf.shape[1]
    logbuf[cl, pos[cl]] = math.log(value) if value > 0.0 else LOG_ZERO
    pos[cl] = (pos[cl] + 1) % w
    if counts[cl] < w:
        counts[cl] += 1
    s = 0.0
    for i in range(counts[cl]):
        s += logbuf[cl, i]
    return s / counts[cl]


@njit(**_JIT)
def _push_decision(mode, keep, logbuf, counts, pos, acc, cl, value):
    """Add one frame's likelihood ``value`` of class ``cl`` to what its label is decided on;
    return the class's decision log-likelihood (see the module docstring).

    ``counts[cl] == 0`` marks the first frame since a reset. The cumulative and decaying sums
    take ``log(max(value, TINY))``, exactly as the batch log-likelihoods do."""
    if mode == DECISION_WINDOW:
        return _push_log(logbuf, counts, pos, cl, value)
    lv = math.log(value if value > TINY else TINY)
    if counts[cl] == 0:
        acc[cl] = lv
        counts[cl] = 1
    elif mode == DECISION_CUMULATIVE or mode == DECISION_FOLLOWING:
        acc[cl] += lv
    else:
        acc[cl] = keep * acc[cl] + lv
    return acc[cl]


@njit(**_JIT)
def decision_forward(first, mode, restart, n_states, left_right, class_prior, trans, emis,
                     dalpha, front, out):
    """The per-class forward pass the cumulative and decaying decisions read: ``out[c]`` =
    ``p(x_t | x_reset..t-1, class c)``, each class's HMM on its own (no top level, no cyclic
    transition), exactly as :func:`~gesturemap.models._kernels.hmm_sequence_loglik` runs it.
    ``dalpha`` (C, N) holds the normalised forward variables; ``first``: the first frame since
    a reset. In the decaying mode the pass may restart at any frame (probability ``restart``)
    and restarts when its mass vanished."""
    n_classes = dalpha.shape[0]
    keep = 1.0 - restart
    for cl in range(n_classes):
        n = n_states[cl]
        norm = 0.0
        for j in range(n):
            if left_right[cl]:
                init = 1.0 if j == 0 else 0.0
            else:
                init = class_prior[cl, j]
            if first:
                a = init
            else:
                a = 0.0
                for i in range(n):
                    a += dalpha[cl, i] * trans[cl, i, j]
                if mode == DECISION_DECAYING:
                    a = keep * a + restart * init
            front[j] = a * emis[cl, j]
            norm += front[j]
        if mode == DECISION_DECAYING and not norm > TINY and not first:
            norm = 0.0  # the class lost track: start again on this frame
            for j in range(n):
                if left_right[cl]:
                    front[j] = emis[cl, 0] if j == 0 else 0.0
                else:
                    front[j] = class_prior[cl, j] * emis[cl, j]
                norm += front[j]
        _store(cl, n, front, norm, dalpha, out)


@njit(**_JIT)
def _store(cl, n, front, norm, dalpha, out):
    """Class ``cl``'s forward pass after a frame: its predictive likelihood ``norm`` into
    ``out[cl]``, its ``front`` normalised into ``dalpha[cl]`` (by at least TINY)."""
    out[cl] = norm
    if not norm > TINY:
        norm = TINY
    for j in range(n):
        dalpha[cl, j] = front[j] / norm


@njit(**_JIT)
def _fresh(cl, n_states, left_right, class_prior, emis):
    """``p(x_t | class cl's gesture taken up at this frame, at any of its states)``."""
    n = n_states[cl]
    s = 0.0
    for j in range(n):
        s += (1.0 / n if left_right[cl] else class_prior[cl, j]) * emis[cl, j]
    return s


@njit(**_JIT)
def _follow(started, since, floor, ratio, longest, horizon, n_states, left_right, class_prior,
            emis, dalpha, front, dlik, smoothed_log, counts):
    """The following decision's restart (see the module docstring), after the per-class
    passes read this frame. The class decided so far is ``smoothed_log``'s best; the passes
    (and the sums: ``counts`` 0) start again on this frame, each class's at any of its
    states, when

    - the decided class finds the frame less likely than its ``floor``;
    - the stream has not been reset for longer than the ``longest`` take (so it is not reset
      at each gesture) and a class taken up afresh here explains the frame better than the
      decided class's pass does, by more than ``ratio`` (nats);
    - ``horizon`` frames have passed since the last reset or restart.

    A restart on a frame that no class taken up afresh explains above its floor (a jump of the
    sensor, a glitch) does not hold: the passes restart again on the next frame, and so on
    until a frame some class's takes could have begun with. Otherwise that one frame, hundreds
    of nats below every class, would weigh in each class's sum for the whole gesture, and
    the class least surprised by the jump (the one with the widest spread) would win it.

    ``since`` (3,): frames since the last reset or restart, since the last reset, and 1 while
    the last restart was on such a frame."""
    if started[0] == 0:
        since[0] = 0
        since[1] = 0
        since[2] = 0
        return
    since[0] += 1
    since[1] += 1
    best = 0
    for c in range(smoothed_log.shape[0]):
        if smoothed_log[c] > smoothed_log[best]:
            best = c
    lv = math.log(dlik[best] if dlik[best] > TINY else TINY)
    restart = since[2] != 0 or lv < floor[best] or (horizon > 0 and since[0] >= horizon)
    if not restart and longest > 0 and since[1] > longest:
        fresh = 0.0
        for c in range(dalpha.shape[0]):
            fresh = max(fresh, _fresh(c, n_states, left_right, class_prior, emis))
        restart = fresh > TINY and math.log(fresh) - lv > ratio
    if not restart:
        return
    since[0] = 0
    since[2] = 1
    for cl in range(dalpha.shape[0]):
        n = n_states[cl]
        norm = 0.0
        for j in range(n):
            init = 1.0 / n if left_right[cl] else class_prior[cl, j]
            front[j] = init * emis[cl, j]
            norm += front[j]
        _store(cl, n, front, norm, dalpha, dlik)
        counts[cl] = 0
        if math.log(norm if norm > TINY else TINY) >= floor[cl]:
            since[2] = 0


@njit(**_JIT)
def _normalise(inst, smoothed_log, inst_norm, smoothed_norm):
    """Normalised instant and smoothed likelihoods; index of the likeliest class.

    ``exp`` of the smoothed log-likelihoods is normalised after subtracting their maximum, which
    equals XMM's plain normalisation whenever that is finite and stays finite when it is not.
    """
    n = inst.shape[0]
    best = 0
    for c in range(n):
        if c == 0 or smoothed_log[c] > smoothed_log[best]:
            best = c
    s = 0.0
    for c in range(n):
        smoothed_norm[c] = math.exp(smoothed_log[c] - smoothed_log[best])
        s += smoothed_norm[c]
    for c in range(n):
        smoothed_norm[c] /= s
    s = 0.0
    for c in range(n):
        s += inst[c]
    for c in range(n):
        inst_norm[c] = inst[c] / s if s > 0.0 else 1.0 / n
    return best


@njit(**_JIT)
def _gaussian_regression(x, mean_in, mean_out, reg_a, condcov, out, cov, weight):
    """Add ``weight * (mean_out + A (x - mean_in))`` to ``out`` and ``weight**2 * condcov`` to
    ``cov``: the conditional mean and covariance of one Gaussian given the input."""
    dout, din = reg_a.shape
    for o in range(dout):
        v = mean_out[o]
        for i in range(din):
            v += reg_a[o, i] * (x[i] - mean_in[i])
        out[o] += weight * v
        for o2 in range(dout):
            cov[o, o2] += weight * weight * condcov[o, o2]


@njit(**_JIT)
def _multiclass_output(mixture, best, smoothed_norm, class_out, class_cov, out, cov):
    n, dout = class_out.shape
    out[:] = 0.0
    cov[:, :] = 0.0
    if not mixture:
        out[:] = class_out[best]
        cov[:, :] = class_cov[best]
        return
    for c in range(n):
        w = smoothed_norm[c]
        for o in range(dout):
            out[o] += w * class_out[c, o]
            for o2 in range(dout):
                cov[o, o2] += w * class_cov[c, o, o2]


@njit(**_JIT)
def gmm_step(
    x,
    n_comp,
    weights,
    means_in,
    linv_in,
    lognorm_in,
    mean_out,
    reg_a,
    condcov,
    bimodal,
    mixture,
    mode,
    keep,
    logbuf,
    counts,
    pos,
    acc,
    inst,
    beta,
    smoothed_log,
    inst_norm,
    smoothed_norm,
    class_out,
    class_cov,
    out,
    cov,
):
    """One frame through a multi-class GMM (GMR when ``bimodal``). Returns the likeliest class.

    The frame is clamped as a whole (:func:`~gesturemap.models._kernels.frame_density`)."""
    n_classes = weights.shape[0]
    gmm_frame_terms(x, n_comp, weights, means_in, linv_in, lognorm_in, beta)
    for cl in range(n_classes):
        s = 0.0
        for c in range(n_comp[cl]):
            s += beta[cl, c]
        for c in range(n_comp[cl]):
            beta[cl, c] /= s
        inst[cl] = s
        smoothed_log[cl] = _push_decision(mode, keep, logbuf, counts, pos, acc, cl, s)
        if bimodal:
            class_out[cl, :] = 0.0
            class_cov[cl, :, :] = 0.0
            for c in range(n_comp[cl]):
                _gaussian_regression(
                    x,
                    means_in[cl, c],
                    mean_out[cl, c],
                    reg_a[cl, c],
                    condcov[cl, c],
                    class_out[cl],
                    class_cov[cl],
                    beta[cl, c],
                )
    best = _normalise(inst, smoothed_log, inst_norm, smoothed_norm)
    if bimodal:
        _multiclass_output(mixture, best, smoothed_norm, class_out, class_cov, out, cov)
    return best


@njit(**_JIT)
def _hier_init(n_states, left_right, class_prior, top_prior, emis, alpha, inst, exit_lik):
    n_classes = alpha.shape[0]
    norm = 0.0
    for cl in range(n_classes):
        alpha[cl, :, :] = 0.0
        n = n_states[cl]
        if left_right[cl]:
            alpha[cl, 0, 0] = top_prior[cl] * emis[cl, 0]
            inst[cl] = alpha[cl, 0, 0]
        else:
            s = 0.0
            for i in range(n):
                alpha[cl, 0, i] = class_prior[cl, i] * emis[cl, i]
                s += alpha[cl, 0, i]
            inst[cl] = s
        exit_lik[cl] = 0.0
        norm += inst[cl]
    if not norm > 0.0:
        norm = TINY
    alpha /= norm


@njit(**_JIT)
def _hier_update(
    n_states,
    left_right,
    trans,
    class_prior,
    exit_p,
    top_prior,
    top_trans,
    top_exit,
    emis,
    alpha,
    front,
    v1,
    v2,
    inst,
    exit_lik,
):
    """XMM's forward update of the two-level hierarchical HMM. Returns the total mass."""
    n_classes = alpha.shape[0]
    for cl in range(n_classes):
        s1 = 0.0
        s2 = 0.0
        for k in range(n_states[cl]):
            s1 += alpha[cl, 1, k]
            s2 += alpha[cl, 2, k]
        v1[cl] = s1
        v2[cl] = s2
    norm = 0.0
    for dst in range(n_classes):
        n = n_states[dst]
        entry = 0.0
        for src in range(n_classes):
            entry += v1[src] * top_trans[src, dst] + top_prior[dst] * v2[src]
        if left_right[dst]:
            front[0] = trans[dst, 0, 0] * alpha[dst, 0, 0] + entry
            for k in range(1, n):
                f = 0.0
                if exit_p[dst, k] < 1.0:
                    f += trans[dst, k, k] / (1.0 - exit_p[dst, k]) * alpha[dst, 0, k]
                if exit_p[dst, k - 1] < 1.0:
                    f += trans[dst, k - 1, k] / (1.0 - exit_p[dst, k - 1]) * alpha[dst, 0, k - 1]
                front[k] = f
        else:
            for k in range(n):
                f = 0.0
                for j in range(n):
                    if exit_p[dst, j] < 1.0:
                        f += trans[dst, j, k] / (1.0 - exit_p[dst, j]) * alpha[dst, 0, j]
                front[k] = f + class_prior[dst, k] * entry
        el = 0.0
        il = 0.0
        for k in range(n):
            tmp = emis[dst, k] * front[k]
            e = exit_p[dst, k]
            alpha[dst, 2, k] = top_exit[dst] * e * tmp
            alpha[dst, 1, k] = (1.0 - top_exit[dst]) * e * tmp
            alpha[dst, 0, k] = (1.0 - e) * tmp
            el += alpha[dst, 1, k] + alpha[dst, 2, k]
            il += alpha[dst, 0, k] + alpha[dst, 1, k] + alpha[dst, 2, k]
            norm += tmp
        exit_lik[dst] = el
        inst[dst] = il
    return norm


@njit(**_JIT)
def _single_init(cl, n, left_right, class_prior, emis, alpha):
    alpha[cl, :, :] = 0.0
    norm = 0.0
    for i in range(n):
        if left_right[cl]:
            a = emis[cl, 0] if i == 0 else 0.0
        else:
            a = class_prior[cl, i] * emis[cl, i]
        alpha[cl, 0, i] = a
        norm += a
    if norm > 0.0:
        for i in range(n):
            alpha[cl, 0, i] /= norm
        return norm
    for i in range(n):
        alpha[cl, 0, i] = 1.0 / n
    return 1.0


@njit(**_JIT)
def _single_update(cl, n, left_right, trans, emis, alpha, front):
    for j in range(n):
        a = 0.0
        if left_right[cl]:
            a = alpha[cl, 0, j] * trans[cl, j, j]
            if j > 0:
                a += alpha[cl, 0, j - 1] * trans[cl, j - 1, j]
            elif n > 1:
                a += alpha[cl, 0, n - 1] * trans[cl, n - 1, 0]
        else:
            for i in range(n):
                a += alpha[cl, 0, i] * trans[cl, i, j]
        front[j] = a * emis[cl, j]
    norm = 0.0
    for j in range(n):
        norm += front[j]
    if norm > 1e-300:
        for j in range(n):
            alpha[cl, 0, j] = front[j] / norm
        return norm
    return -1.0


@njit(**_JIT)
def hhmm_step(  # noqa: C901, PLR0915 - a numba kernel: one pass kept whole, as a call per piece costs per frame
    x,
    started,
    hierarchical,
    estimator,
    mixture,
    bimodal,
    n_states,
    n_comp,
    left_right,
    weights,
    means_in,
    linv_in,
    lognorm_in,
    trans,
    class_prior,
    exit_p,
    top_prior,
    top_trans,
    top_exit,
    mean_out,
    reg_a,
    condcov,
    alpha,
    mode,
    keep,
    restart,
    trans_plain,
    dalpha,
    dlik,
    acc,
    logbuf,
    counts,
    pos,
    emis,
    compb,
    front,
    v1,
    v2,
    state_out,
    state_cov,
    inst,
    exit_lik,
    exit_ratio,
    smoothed_log,
    inst_norm,
    smoothed_norm,
    progress,
    likeliest_state,
    class_out,
    class_cov,
    out,
    cov,
    floor,
    ratio,
    longest,
    horizon,
    since,
):
    """One frame through a multi-class (hierarchical) HMM, HMR when ``bimodal``.

    ``estimator``: 0 full, 1 windowed, 2 likeliest state. ``started[0]`` says whether the
    forward pass has seen a frame since the last reset. ``mode``/``keep``: the decision (see
    the module docstring); the cumulative, decaying and following ones run
    :func:`decision_forward` on ``trans_plain`` (no cyclic transition) into
    ``dalpha``/``dlik``; the following one restarts them where :func:`_follow` says (``floor``
    (C,), ``ratio``, ``longest``, ``horizon``, ``since`` (3,)). Returns the likeliest class.
    """
    n_classes = alpha.shape[0]
    hmm_frame_emissions(x, n_states, n_comp, weights, means_in, linv_in, lognorm_in, compb, emis)
    if mode != DECISION_WINDOW:
        decision_forward(started[0] == 0, mode, restart, n_states, left_right, class_prior,
                         trans_plain, emis, dalpha, front, dlik)
    if mode == DECISION_FOLLOWING:
        _follow(started, since, floor, ratio, longest, horizon, n_states, left_right,
                class_prior, emis, dalpha, front, dlik, smoothed_log, counts)
    if hierarchical:
        restart = started[0] == 0
        if not restart:
            norm = _hier_update(
                n_states,
                left_right,
                trans,
                class_prior,
                exit_p,
                top_prior,
                top_trans,
                top_exit,
                emis,
                alpha,
                front,
                v1,
                v2,
                inst,
                exit_lik,
            )
            if norm > 0.0 and math.isfinite(norm):
                alpha /= norm
            else:
                restart = True  # every class vanished: start again on this frame
        if restart:
            _hier_init(n_states, left_right, class_prior, top_prior, emis, alpha, inst, exit_lik)
        for cl in range(n_classes):
            exit_ratio[cl] = exit_lik[cl] / inst[cl] if inst[cl] > 0.0 else 0.0
    else:
        for cl in range(n_classes):
            n = n_states[cl]
            norm = -1.0
            if started[0] != 0:
                norm = _single_update(cl, n, left_right, trans, emis, alpha, front)
            if norm < 0.0:
                norm = _single_init(cl, n, left_right, class_prior, emis, alpha)
            inst[cl] = norm
            exit_lik[cl] = 0.0
            exit_ratio[cl] = 0.0
    started[0] = 1

    # per class: likeliest state, window, time progression, smoothed log-likelihood
    for cl in range(n_classes):
        n = n_states[cl]
        best_state = 0
        best = alpha[cl, 0, 0] + alpha[cl, 1, 0]
        for i in range(1, n):
            a = alpha[cl, 0, i] + alpha[cl, 1, i]
            if a > best:
                best = a
                best_state = i
        likeliest_state[cl] = best_state
        lo = max(best_state - n // 2, 0)
        hi = min(best_state + n // 2, n)
        wnorm = 0.0
        for i in range(lo, hi):
            wnorm += alpha[cl, 0, i] + alpha[cl, 1, i]
        if wnorm > 0.0 and n > 1:
            p = 0.0
            for i in range(lo, hi):
                p += (alpha[cl, 0, i] + alpha[cl, 1, i] + alpha[cl, 2, i]) * i / wnorm
            # XMM's average counts the exit probability (alpha[2]) above but not in wnorm, so
            # near a gesture's end it rises above 1: a progress is at most 1
            progress[cl] = min(p / (n - 1), 1.0)
        elif n == 1:
            progress[cl] = 0.0
        # else: nothing to average (XMM gives NaN): keep the previous progress
        v = inst[cl] if mode == DECISION_WINDOW else dlik[cl]
        smoothed_log[cl] = _push_decision(mode, keep, logbuf, counts, pos, acc, cl, v)

        if bimodal:
            dout = class_out.shape[1]
            class_out[cl, :] = 0.0
            class_cov[cl, :, :] = 0.0
            if estimator == 2:
                lo_r = best_state
                hi_r = best_state + 1
                const = 1.0
            elif estimator == 1:
                lo_r = lo
                hi_r = hi
                const = wnorm if wnorm > 0.0 else 1.0
            else:
                lo_r = 0
                hi_r = n
                const = 1.0
            for i in range(lo_r, hi_r):
                s = 0.0
                for c in range(n_comp[cl]):
                    s += compb[cl, i, c]
                state_out[:] = 0.0
                state_cov[:, :] = 0.0
                for c in range(n_comp[cl]):
                    b = compb[cl, i, c] / s if s > 0.0 else 1.0 / n_comp[cl]
                    _gaussian_regression(
                        x,
                        means_in[cl, i, c],
                        mean_out[cl, i, c],
                        reg_a[cl, i, c],
                        condcov[cl, i, c],
                        state_out,
                        state_cov,
                        b,
                    )
                if estimator == 2:
                    w = 1.0
                else:
                    w = alpha[cl, 0, i] + alpha[cl, 1, i]
                for o in range(dout):
                    class_out[cl, o] += w * state_out[o] / const
                    for o2 in range(dout):
                        class_cov[cl, o, o2] += w * w * state_cov[o, o2] / const

    best_class = _normalise(inst, smoothed_log, inst_norm, smoothed_norm)
    if bimodal:
        _multiclass_output(mixture, best_class, smoothed_norm, class_out, class_cov, out, cov)
    return best_class


def _arguments_of(kernel: object, name: str) -> type:
    """A namedtuple of ``kernel``'s arguments after the frame, in the kernel's order: a stream
    builds it once, by keyword, and calls ``kernel(x, *args)``. Built by name, two arrays of the
    same shape cannot trade places; the dispatch costs what positional arrays cost."""
    params = list(inspect.signature(getattr(kernel, "py_func", kernel)).parameters)  # type: ignore[attr-defined]
    return namedtuple(name, params[1:])


#: :func:`hhmm_step`'s arguments after the frame (a stream's settings, the model's arrays and
#: the stream's run-time arrays), by name.
HHMMArgs = _arguments_of(hhmm_step, "HHMMArgs")
#: :func:`gmm_step`'s arguments after the frame, by name.
GMMArgs = _arguments_of(gmm_step, "GMMArgs")
