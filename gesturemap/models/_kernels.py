"""Numeric kernels of the probabilistic models, compiled with numba.

Pure functions over arrays, apart from the classes that hold state (as hmmlearn keeps its
``_hmmc`` kernels apart from its estimators). Every kernel is ``nogil`` so that classes can be
trained on several threads at once, and ``cache=True`` so that a second start of the program
does not compile again.

The arithmetic follows IRCAM's XMM (the reference implementation of these models) step by step,
so that a model loaded from XMM gives XMM's numbers; where XMM would produce a non-finite value
(an underflowed class, a zero division), these kernels stay finite and say so in a comment.

Shapes use: ``C`` classes, ``N`` states (padded to the largest class), ``K`` Gaussians per
state or per GMM (padded), ``D`` dimension of the Gaussians, ``T`` frames.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: XMM clamps every Gaussian density to at least this value (and replaces NaN/inf by it).
DENSITY_FLOOR = 1e-180
#: XMM's transition regularization in Baum-Welch re-estimation.
TRANSITION_REGULARIZATION = 1e-5
#: Smallest positive normal double: a floor for divisions.
TINY = 2.2250738585072014e-308
#: The log-likelihood given to a frame whose likelihood is exactly 0 (XMM: -inf). Finite, yet
#: below any mean of finite logs (each is >= -744.4) over windows of up to 1e9 frames, so a
#: class that vanished ranks last exactly as it does in XMM.
LOG_ZERO = -1e12
LOG_2PI = math.log(2.0 * math.pi)

_JIT = {"cache": True, "nogil": True, "fastmath": False}


# --------------------------------------------------------------------------------------------
# Gaussian densities
# --------------------------------------------------------------------------------------------
@njit(**_JIT)
def _is_diagonal(cov):
    d = cov.shape[0]
    for i in range(d):
        for j in range(d):
            if i != j and cov[i, j] != 0.0:
                return False
    return True


@njit(**_JIT)
def chol_precision(cov):
    """Inverse of the lower Cholesky factor of ``cov`` and ``log det cov``.

    Returns ``(linv, logdet)`` with ``linv @ (x - mean)`` whose squared norm is the Mahalanobis
    distance: scoring a frame then never inverts a matrix. Raises numpy's LinAlgError when
    ``cov`` is not positive definite (the caller turns that into a clear error).

    A diagonal ``cov`` is factored in O(D) and its factor's diagonal is also copied into the
    (otherwise zero, never read) upper part of row 0: ``linv[0]`` then holds the whole diagonal
    in one contiguous row, which the density kernels read instead of the O(D^2) triangle (and
    a full factor's ``linv[0, D-1]`` is exactly 0, so the two never mix). :func:`lower` gives
    the plain triangular factor for matrix products.
    """
    d = cov.shape[0]
    linv = np.zeros((d, d))
    logdet = 0.0
    if d > 1 and _is_diagonal(cov):
        for i in range(d):
            if not (cov[i, i] > 0.0):
                raise np.linalg.LinAlgError("Matrix is not positive definite.")
            linv[i, i] = 1.0 / math.sqrt(cov[i, i])
            linv[0, i] = linv[i, i]
            logdet += math.log(cov[i, i])
        return linv, logdet
    low = np.linalg.cholesky(cov)
    for i in range(d):
        linv[i, i] = 1.0 / low[i, i]
        logdet += 2.0 * math.log(low[i, i])
        for j in range(i):
            s = 0.0
            for k in range(j, i):
                s += low[i, k] * linv[k, j]
            linv[i, j] = -s / low[i, i]
    return linv, logdet


def lower(linv: np.ndarray) -> np.ndarray:
    """The triangular factor without the diagonal copy in row 0 (for matrix products)."""
    return np.tril(linv)


@njit(**_JIT)
def mahalanobis(x, mean, linv):
    """``|linv (x - mean)|^2``; O(D) from row 0 for a diagonal factor (see chol_precision)."""
    d = mean.shape[0]
    maha = 0.0
    if d > 1 and linv[0, d - 1] != 0.0:
        row = linv[0]
        for i in range(d):
            y = row[i] * (x[i] - mean[i])
            maha += y * y
        return maha
    for i in range(d):
        y = 0.0
        for k in range(i + 1):
            y += linv[i, k] * (x[k] - mean[k])
        maha += y * y
    return maha


@njit(**_JIT)
def density(x, mean, linv, lognorm):
    """XMM's clamped Gaussian density of one frame: ``max(N(x; mean, cov), 1e-180)``."""
    maha = mahalanobis(x, mean, linv)
    p = math.exp(lognorm - 0.5 * maha)
    if not (p >= DENSITY_FLOOR) or p == math.inf:
        p = DENSITY_FLOOR
    return p


# A frame far from everything the models were trained on (a sensor unplugged or stuck at a
# rail, a value the pipeline did not scale) has every Gaussian of every class below XMM's
# floor. XMM's clamp then gives every class the same likelihood: such a frame is no evidence
# for any class, and when a decision holds nothing else (a stream started on such frames, a
# window full of them) the tie goes to the first class, a gesture fired by nothing. The
# decision paths (the streams, the batch log-likelihoods, the explanations built on them)
# therefore clamp a frame as a whole: when some Gaussian of some class reaches the floor, each
# is clamped as XMM clamps it; when none does, the frame's Gaussians keep their order just
# below the floor, their log ratios to the likeliest scaled into FAR_RANGE. A far frame stays
# next to no evidence (FAR_RANGE is far below any difference a frame near the model makes) but
# a tie now goes to the nearest class. Training keeps XMM's clamp (its models stay XMM's).

#: The span of a far frame's log densities below the floor, once scaled (nats): small enough
#: that a thousand far frames weigh less than one ordinary frame's evidence, large enough to
#: outlast the rounding of a log-likelihood summed over a long stream (about 1e-10 at 1e6).
FAR_RANGE = 1e-6


@njit(**_JIT)
def log_density(x, mean, linv, lognorm):
    """The log of a Gaussian's density at ``x``, unclamped (:func:`density` is its ``exp``,
    clamped)."""
    return lognorm - 0.5 * mahalanobis(x, mean, linv)


@njit(**_JIT)
def _extremes(ld, top, bottom):
    """``top`` and ``bottom`` (the largest and the smallest finite log density so far) with
    ``ld`` seen too."""
    if ld > top:
        top = ld
    if bottom > ld > -math.inf:
        bottom = ld
    return top, bottom


@njit(**_JIT)
def far_scale(top, bottom):
    """How a frame is clamped, from its Gaussians' (every class's) largest and smallest finite
    log densities: 0.0 when some Gaussian reaches XMM's floor (or none was scored), each then
    clamped as XMM clamps it; else the frame is far from all of them, and the factor that
    scales their log ratios to the likeliest into :data:`FAR_RANGE`."""
    if not top > -math.inf or math.exp(top) >= DENSITY_FLOOR:
        return 0.0
    spread = top - bottom
    return FAR_RANGE / spread if spread > FAR_RANGE else 1.0


@njit(**_JIT)
def frame_density(ld, scale, top):
    """A Gaussian's density in a frame, from its log density ``ld``: XMM's clamp when
    ``scale`` is 0 (:func:`far_scale`), else the floor times its scaled ratio to the
    likeliest's (``top``): at most :data:`FAR_RANGE` nats below the floor."""
    if scale > 0.0:
        p = DENSITY_FLOOR * math.exp((ld - top) * scale)
        return p if p > 0.0 else DENSITY_FLOOR * math.exp(-FAR_RANGE)  # (a NaN: the least)
    p = math.exp(ld)
    if not (p >= DENSITY_FLOOR) or p == math.inf:
        p = DENSITY_FLOOR
    return p


# --------------------------------------------------------------------------------------------
# K-means (XMM's GMM initialisation), in float32 like XMM's
# --------------------------------------------------------------------------------------------
@njit(**_JIT)
def kmeans_first_phrase(x32, first_length, k, max_iterations):
    """K-means on ``x32`` (T, D) float32, centres initialised on the first phrase.

    The first phrase (``x32[:first_length]``) is cut into ``k`` equal chunks whose means start
    the centres; then Lloyd iterations run until no centre moves (relative threshold 1e-20,
    at most ``max_iterations``), all in float32 as XMM computes them.
    """
    t_total, d = x32.shape
    centers = np.zeros((k, d), dtype=np.float32)
    step = first_length // k
    offset = 0
    for c in range(k):
        for t in range(step):
            for j in range(d):
                centers[c, j] += x32[offset + t, j] / np.float32(step)
        offset += step
    for _ in range(max_iterations):
        previous = centers.copy()
        centers[:, :] = 0.0
        counts = np.zeros(k, dtype=np.int64)
        for t in range(t_total):
            best = 0
            best_dist = np.float32(0.0)
            for c in range(k):
                dist = np.float32(0.0)
                for j in range(d):
                    diff = x32[t, j] - previous[c, j]
                    dist += diff * diff
                dist = np.float32(math.sqrt(dist))
                if c == 0 or dist < best_dist:
                    best = c
                    best_dist = dist
            counts[best] += 1
            for j in range(d):
                centers[best, j] += x32[t, j]
        for c in range(k):
            if counts[c] > 0:
                for j in range(d):
                    centers[c, j] /= np.float32(counts[c])
        if k < 2:
            moved = np.float32(0.0)
            for j in range(d):
                diff = previous[0, j] - centers[0, j]
                moved += diff * diff
            if moved == 0.0:
                break
            continue
        mean_dist = np.float32(0.0)
        max_var = np.float32(0.0)
        for a in range(k):
            for b in range(k):
                if a != b:
                    s = np.float32(0.0)
                    for j in range(d):
                        diff = centers[a, j] - centers[b, j]
                        s += diff * diff
                    mean_dist += np.float32(math.sqrt(s))
            s = np.float32(0.0)
            for j in range(d):
                diff = previous[a, j] - centers[a, j]
                s += diff * diff
            v = np.float32(math.sqrt(s))
            if v > max_var:
                max_var = v
        mean_dist /= np.float32(k * (k - 1))
        max_var /= np.float32(k)
        if mean_dist > 0 and max_var / mean_dist < 1e-20:
            break
        if max_var == 0.0:
            break
    return centers


# --------------------------------------------------------------------------------------------
# EM stopping rule (XMM's)
# --------------------------------------------------------------------------------------------
@njit(**_JIT)
def em_converged(step, log_prob, old_log_prob, min_iterations, max_iterations, percent_change):
    """XMM's rule: a fixed count when ``max >= min`` (and max > 0), else at least ``min``
    iterations and then a relative change of the log-likelihood at most ``percent_change`` %."""
    if step >= 1000:
        return True
    if max_iterations > 0 and max_iterations >= min_iterations:
        return step >= max_iterations
    if step < min_iterations:
        return False
    if log_prob == 0.0:
        return True
    return 100.0 * abs((log_prob - old_log_prob) / log_prob) <= percent_change


@njit(**_JIT)
def _update_bank(covs, linv, lognorm):
    """Recompute Cholesky factors of a stack of covariances; False if one is not PD."""
    kk, d = covs.shape[0], covs.shape[1]
    for c in range(kk):
        for i in range(d):
            if not (covs[c, i, i] > 0.0):
                return False
        lv, logdet = chol_precision(covs[c])
        linv[c] = lv
        lognorm[c] = -0.5 * (d * LOG_2PI + logdet)
    return True


# --------------------------------------------------------------------------------------------
# GMM training (one class)
# --------------------------------------------------------------------------------------------
@njit(**_JIT)
def gmm_em(
    x, weights, means, covs, reg, diagonal, min_iterations, max_iterations, percent_change, cancel
):
    """XMM's EM for one class's GMM, in place on ``weights`` (K,), ``means`` (K, D), ``covs``
    (K, D, D). ``reg`` (D,) is added to the diagonal after every M-step. ``cancel`` is a
    one-element int array another thread may set to 1 to stop.

    Returns ``(iterations, log_likelihood, status)``; status 0 ok, 1 cancelled, 2 a covariance
    stopped being positive definite.
    """
    t_total, d = x.shape
    k = weights.shape[0]
    linv = np.zeros((k, d, d))
    lognorm = np.zeros(k)
    if not _update_bank(covs, linv, lognorm):
        return 0, -np.inf, 2
    p = np.zeros((t_total, k))
    log_prob = -1.7976931348623157e308
    old = log_prob
    it = 0
    while not em_converged(it, log_prob, old, min_iterations, max_iterations, percent_change):
        if cancel[0] != 0:
            return it, log_prob, 1
        old = log_prob
        # E-step
        log_prob = 0.0
        e = np.zeros(k)
        for t in range(t_total):
            norm = 0.0
            for c in range(k):
                v = weights[c] * density(x[t], means[c], linv[c], lognorm[c])
                if v == 0.0 or not math.isfinite(v):
                    v = 1e-100
                p[t, c] = v
                norm += v
            for c in range(k):
                p[t, c] /= norm
                e[c] += p[t, c]
            log_prob += math.log(norm)
        # M-step
        for c in range(k):
            weights[c] = e[c] / t_total
            if e[c] <= 0.0:
                continue  # an empty component keeps its parameters (XMM would divide by 0)
            for j in range(d):
                s = 0.0
                for t in range(t_total):
                    s += p[t, c] * x[t, j]
                means[c, j] = s / e[c]
            for j1 in range(d):
                for j2 in range(j1, d):
                    if diagonal and j1 != j2:
                        covs[c, j1, j2] = 0.0
                        covs[c, j2, j1] = 0.0
                        continue
                    s = 0.0
                    for t in range(t_total):
                        s += p[t, c] * (x[t, j1] - means[c, j1]) * (x[t, j2] - means[c, j2])
                    covs[c, j1, j2] = s / e[c]
                    covs[c, j2, j1] = covs[c, j1, j2]
            for j in range(d):
                covs[c, j, j] += reg[j]
        if not _update_bank(covs, linv, lognorm):
            return it, log_prob, 2
        it += 1
    return it, log_prob, 0


# --------------------------------------------------------------------------------------------
# HMM training (one class): Baum-Welch with XMM's scaling and regularisation
# --------------------------------------------------------------------------------------------
@njit(**_JIT)
def _emissions(x, weights, means, linv, lognorm, out_state, out_comp):
    """State emission probabilities (T, N) and per-component terms (T, N, K)."""
    t_total = x.shape[0]
    n, k = weights.shape
    for t in range(t_total):
        for i in range(n):
            s = 0.0
            for c in range(k):
                v = weights[i, c] * density(x[t], means[i, c], linv[i, c], lognorm[i, c])
                out_comp[t, i, c] = v
                s += v
            out_state[t, i] = s


@njit(**_JIT)
def hmm_baum_welch(  # noqa: C901, PLR0915 - a numba kernel: one pass kept whole, as a call per piece costs per frame
    x,
    offsets,
    prior,
    trans,
    weights,
    means,
    covs,
    reg,
    diagonal,
    left_right,
    min_iterations,
    max_iterations,
    percent_change,
    cancel,
):
    """XMM's Baum-Welch for one class, in place.

    ``x`` (T, D) holds the class's phrases back to back, ``offsets`` (P+1,) their bounds.
    ``prior`` (N,), ``trans`` (N, N) (left-right: only the diagonal and the first
    super-diagonal are used), ``weights`` (N, K), ``means`` (N, K, D), ``covs`` (N, K, D, D).
    As in XMM the transitions are left unnormalised between iterations and normalised at the end.

    Returns ``(iterations, log_likelihood, status)`` (status as in :func:`gmm_em`).
    """
    t_total, d = x.shape
    n, k = weights.shape
    n_phrases = offsets.shape[0] - 1
    linv = np.zeros((n, k, d, d))
    lognorm = np.zeros((n, k))
    for i in range(n):
        if not _update_bank(covs[i], linv[i], lognorm[i]):
            return 0, -np.inf, 2
    b = np.zeros((t_total, n))
    bc = np.zeros((t_total, n, k))
    alpha = np.zeros((t_total, n))
    beta = np.zeros((t_total, n))
    gamma = np.zeros((t_total, n))
    ct = np.zeros(t_total)
    log_prob = -1.7976931348623157e308
    old = log_prob
    it = 0
    while not em_converged(it, log_prob, old, min_iterations, max_iterations, percent_change):
        if cancel[0] != 0:
            return it, log_prob, 1
        old = log_prob
        log_prob = 0.0
        _emissions(x, weights, means, linv, lognorm, b, bc)
        eps = np.zeros((n, n))
        gsum = np.zeros(n)
        prior_acc = np.zeros(n)
        for ph in range(n_phrases):
            t0 = offsets[ph]
            t1 = offsets[ph + 1]
            if t1 <= t0:
                continue
            # forward
            norm = 0.0
            for i in range(n):
                if left_right:
                    alpha[t0, i] = b[t0, 0] if i == 0 else 0.0
                else:
                    alpha[t0, i] = prior[i] * b[t0, i]
                norm += alpha[t0, i]
            if norm > 0.0:
                for i in range(n):
                    alpha[t0, i] /= norm
                ct[t0] = 1.0 / norm
            else:
                for i in range(n):
                    alpha[t0, i] = 1.0 / n
                ct[t0] = 1.0
            log_prob -= math.log(ct[t0])
            for t in range(t0 + 1, t1):
                norm = 0.0
                for j in range(n):
                    a = 0.0
                    if left_right:
                        a = alpha[t - 1, j] * trans[j, j]
                        if j > 0:
                            a += alpha[t - 1, j - 1] * trans[j - 1, j]
                        elif n > 1:
                            a += alpha[t - 1, n - 1] * trans[n - 1, 0]
                    else:
                        for i in range(n):
                            a += alpha[t - 1, i] * trans[i, j]
                    a *= b[t, j]
                    alpha[t, j] = a
                    norm += a
                if norm <= 1e-300:
                    norm = 1e-300  # XMM returns a zero scale here and its log-likelihood is inf
                for j in range(n):
                    alpha[t, j] /= norm
                ct[t] = 1.0 / norm
                log_prob += math.log(norm)
            # backward
            for i in range(n):
                beta[t1 - 1, i] = ct[t1 - 1]
            for t in range(t1 - 2, t0 - 1, -1):
                for i in range(n):
                    s = 0.0
                    if left_right:
                        s = trans[i, i] * beta[t + 1, i] * b[t + 1, i]
                        if i < n - 1:
                            s += trans[i, i + 1] * beta[t + 1, i + 1] * b[t + 1, i + 1]
                    else:
                        for j in range(n):
                            s += trans[i, j] * beta[t + 1, j] * b[t + 1, j]
                    s *= ct[t]
                    if not math.isfinite(s):
                        s = 1e100
                    beta[t, i] = s
            for t in range(t0, t1):
                for i in range(n):
                    gamma[t, i] = alpha[t, i] * beta[t, i] / ct[t]
                    gsum[i] += gamma[t, i]
            for i in range(n):
                prior_acc[i] += gamma[t0, i]
            # transitions: XMM's regularisation, then expected counts
            if left_right:
                for i in range(n):
                    eps[i, i] += TRANSITION_REGULARIZATION
                    if i < n - 1:
                        eps[i, i + 1] += TRANSITION_REGULARIZATION
                    else:
                        eps[i, i] += TRANSITION_REGULARIZATION
            for t in range(t0, t1 - 1):
                for i in range(n):
                    if left_right:
                        eps[i, i] += alpha[t, i] * trans[i, i] * beta[t + 1, i] * b[t + 1, i]
                        if i < n - 1:
                            eps[i, i + 1] += (
                                alpha[t, i] * trans[i, i + 1] * beta[t + 1, i + 1] * b[t + 1, i + 1]
                            )
                    else:
                        for j in range(n):
                            eps[i, j] += alpha[t, i] * trans[i, j] * beta[t + 1, j] * b[t + 1, j]
        # responsibilities per mixture component, then the M-step
        gsum_c = np.zeros((n, k))
        wsum = np.zeros((n, k))
        newmeans = np.zeros((n, k, d))
        for t in range(t_total):
            for i in range(n):
                if k == 1:
                    r = gamma[t, i]
                    gsum_c[i, 0] += r
                    for j in range(d):
                        newmeans[i, 0, j] += r * x[t, j]
                else:
                    norm = 0.0
                    for c in range(k):
                        norm += bc[t, i, c]
                    for c in range(k):
                        r = gamma[t, i] * bc[t, i, c]
                        if norm > 0.0:
                            r /= norm
                        bc[t, i, c] = r  # reuse the buffer for the responsibilities
                        gsum_c[i, c] += r
                        for j in range(d):
                            newmeans[i, c, j] += r * x[t, j]
        for i in range(n):
            total = 0.0
            for c in range(k):
                wsum[i, c] = gsum_c[i, c]
                total += gsum_c[i, c]
            for c in range(k):
                weights[i, c] = wsum[i, c] / total if total > 0 else 1.0 / k
                if gsum_c[i, c] > 0.0:
                    for j in range(d):
                        means[i, c, j] = newmeans[i, c, j] / gsum_c[i, c]
        for i in range(n):
            for c in range(k):
                if not gsum_c[i, c] > 0.0:
                    continue  # an unvisited state keeps its Gaussian (XMM resets it to 0)
                acc = np.zeros((d, d))
                for t in range(t_total):
                    r = gamma[t, i] if k == 1 else bc[t, i, c]
                    for j1 in range(d):
                        dj1 = x[t, j1] - means[i, c, j1]
                        if diagonal:
                            acc[j1, j1] += r * dj1 * dj1
                        else:
                            for j2 in range(j1, d):
                                acc[j1, j2] += r * dj1 * (x[t, j2] - means[i, c, j2])
                for j1 in range(d):
                    for j2 in range(j1, d):
                        covs[i, c, j1, j2] = acc[j1, j2] / gsum_c[i, c]
                        covs[i, c, j2, j1] = covs[i, c, j1, j2]
                    covs[i, c, j1, j1] += reg[j1]
            if not _update_bank(covs[i], linv[i], lognorm[i]):
                return it, log_prob, 2
        if not left_right:
            s = 0.0
            for i in range(n):
                s += prior_acc[i]
            if s > 0.0:
                for i in range(n):
                    prior[i] = prior_acc[i] / s
        for i in range(n):
            den = gsum[i] + 2.0 * TRANSITION_REGULARIZATION
            for j in range(n):
                if left_right and not (j == i or j == i + 1):
                    continue
                trans[i, j] = eps[i, j] / den
        it += 1
    # XMM normalises transitions (and the prior) when training ends
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += trans[i, j]
        if s > 0.0:
            for j in range(n):
                trans[i, j] /= s
    return it, log_prob, 0


# --------------------------------------------------------------------------------------------
# Whole-sequence log-likelihoods (batch evaluation)
# --------------------------------------------------------------------------------------------
@njit(**_JIT)
def gmm_frame_terms(x, n_comp, weights, means, linv, lognorm, terms):
    """Every class's Gaussians' terms ``weight * density`` (C, K) for the frame ``x``, the
    frame clamped as a whole (see :func:`frame_density`)."""
    top, bottom = -math.inf, math.inf
    for cl in range(weights.shape[0]):
        for c in range(n_comp[cl]):
            ld = log_density(x, means[cl, c], linv[cl, c], lognorm[cl, c])
            terms[cl, c] = ld
            top, bottom = _extremes(ld, top, bottom)
    scale = far_scale(top, bottom)
    for cl in range(weights.shape[0]):
        for c in range(n_comp[cl]):
            terms[cl, c] = weights[cl, c] * frame_density(terms[cl, c], scale, top)


@njit(**_JIT)
def gmm_sequence_loglik(x, n_comp, weights, means, linv, lognorm, out):
    """Sum over frames of log p(x_t | class) for each class of a GMM bank. ``out`` (C,).

    Each frame is clamped as a whole (see :func:`frame_density`), as the stream does."""
    terms = np.zeros(weights.shape)
    out[:] = 0.0
    for t in range(x.shape[0]):
        gmm_frame_terms(x[t], n_comp, weights, means, linv, lognorm, terms)
        for cl in range(weights.shape[0]):
            v = 0.0
            for c in range(n_comp[cl]):
                v += terms[cl, c]
            out[cl] += math.log(max(v, TINY))


@njit(**_JIT)
def hmm_frame_emissions(xt, n_states, n_comp, weights, means, linv, lognorm, terms, b):
    """Every class's state emissions ``b`` (C, N) for the frame ``xt`` and their Gaussians'
    terms ``weight * density`` (C, N, K), the frame clamped as a whole (see
    :func:`frame_density`)."""
    top, bottom = -math.inf, math.inf
    for cl in range(weights.shape[0]):
        for i in range(n_states[cl]):
            for c in range(n_comp[cl]):
                ld = log_density(xt, means[cl, i, c], linv[cl, i, c], lognorm[cl, i, c])
                terms[cl, i, c] = ld
                top, bottom = _extremes(ld, top, bottom)
    scale = far_scale(top, bottom)
    for cl in range(weights.shape[0]):
        for i in range(n_states[cl]):
            v = 0.0
            for c in range(n_comp[cl]):
                terms[cl, i, c] = weights[cl, i, c] * frame_density(terms[cl, i, c], scale, top)
                v += terms[cl, i, c]
            b[cl, i] = v


@njit(**_JIT)
def _forward_frame(b, first, cl, n, left_right, prior, trans, alpha, prev):
    """One frame of class ``cl``'s scaled forward pass, from its state emissions ``b`` (N,)
    (``first``: a sequence starts): returns ``p(x_t | the frames before, class cl)`` (at
    least TINY); ``prev`` becomes the normalised forward variables (``alpha``: scratch)."""
    norm = 0.0
    for j in range(n):
        if first:
            a = (1.0 if j == 0 else 0.0) if left_right[cl] else prior[cl, j]
        else:
            a = 0.0
            for i in range(n):
                a += prev[i] * trans[cl, i, j]
        alpha[j] = a * b[j]
        norm += alpha[j]
    if not norm > TINY:
        norm = TINY
    for j in range(n):
        prev[j] = alpha[j] / norm
    return norm


@njit(**_JIT)
def hmm_sequence_loglik(
    x, n_states, n_comp, left_right, prior, trans, weights, means, linv, lognorm, out
):
    """Forward log-likelihood of the whole sequence under each class's HMM. ``out`` (C,).

    Each frame is clamped as a whole (see :func:`frame_density`), as the stream does."""
    n_classes, nmax, kmax = weights.shape[0], weights.shape[1], weights.shape[2]
    alpha = np.zeros(nmax)
    prev = np.zeros((n_classes, nmax))
    b = np.zeros((n_classes, nmax))
    terms = np.zeros((n_classes, nmax, kmax))
    out[:] = 0.0
    for t in range(x.shape[0]):
        hmm_frame_emissions(x[t], n_states, n_comp, weights, means, linv, lognorm, terms, b)
        for cl in range(n_classes):
            out[cl] += math.log(_forward_frame(b[cl], t == 0, cl, n_states[cl], left_right,
                                               prior, trans, alpha, prev[cl]))


@njit(**_JIT)
def hmm_frame_logliks(
    x, offsets, cl, n_states, n_comp, left_right, prior, trans, weights, means, linv, lognorm,
    out
):
    """Each frame's log predictive likelihood ``log p(x_t | x_start..t-1)`` under class
    ``cl``'s HMM, every take (``offsets``: (P+1,) bounds in ``x``) run from its own start, as
    :func:`hmm_sequence_loglik` sums them wherever some Gaussian reaches XMM's floor (the
    frames are clamped as XMM clamps them, one class alone: its own takes are near it):
    ``out`` (T,)."""
    n = n_states[cl]
    alpha = np.zeros(n)
    prev = np.zeros(n)
    b = np.zeros(n)
    for p in range(offsets.shape[0] - 1):
        for t in range(offsets[p], offsets[p + 1]):
            for i in range(n):  # XMM's clamp: the class's own takes, as trained
                v = 0.0
                for c in range(n_comp[cl]):
                    v += weights[cl, i, c] * density(x[t], means[cl, i, c], linv[cl, i, c],
                                                     lognorm[cl, i, c])
                b[i] = v
            out[t] = math.log(_forward_frame(b, t == offsets[p], cl, n, left_right, prior,
                                             trans, alpha, prev))


# --------------------------------------------------------------------------------------------
# Time warp
# --------------------------------------------------------------------------------------------
@njit(**_JIT)
def time_warp_speed(alpha, state_frames, seen, speed):
    """Each class's speed (C,) against its training takes: the expected position in its
    states, ``state_frames`` (C, N: where each state lies in the gesture, in frames; NaN for
    an unordered class or padding), under the forward variables ``alpha`` (C, 3, N), over
    the ``seen`` frames since the reset. A class with no forward mass (or no order) keeps
    its previous value in ``speed``."""
    c, _, n = alpha.shape
    frames = max(seen, 1)
    for k in range(c):
        total = 0.0
        where = 0.0
        for i in range(n):
            pos = state_frames[k, i]
            if pos != pos:  # NaN: no order, or padding
                continue
            a = alpha[k, 0, i] + alpha[k, 1, i] + alpha[k, 2, i]
            total += a
            where += a * pos
        if total > 0.0:
            speed[k] = where / total / frames
    return speed
