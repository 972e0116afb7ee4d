"""Inference kernels of the classic models (kNN, SVM, trees, AdaBoost, naive Bayes, MLP, linear
and polynomial regression), compiled with numba.

scikit-learn trains these models; its fitted arrays (tree nodes, support vectors, network
weights...) are then read by these pure functions, so that a saved model is only arrays (never
a pickle) and one frame costs a few microseconds instead of scikit-learn's ~100 µs per call.
Each kernel reproduces the arithmetic of the scikit-learn (or libsvm) method it replaces; the
tests check the parity on real data.

Every kernel writes into preallocated arrays and allocates nothing per frame. Shapes use ``C``
classes, ``D`` inputs, ``N`` training frames (kNN) or support vectors (SVM), ``O`` outputs.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._filter import _normalise, _push_decision

_JIT = {"cache": True, "nogil": True, "fastmath": False}

#: Hidden-layer activations of the MLP (codes used by :func:`mlp_forward`).
ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
#: Output layers of the MLP: softmax (classes), logistic (two classes), identity (regression).
OUT_SOFTMAX, OUT_LOGISTIC, OUT_IDENTITY = 0, 1, 2
#: SVM kernels (codes used by :func:`svm_proba`).
SVM_KERNELS = ("linear", "poly", "rbf", "sigmoid")


@njit(**_JIT)
def standardize(x, mean, scale, z):
    for i in range(x.shape[0]):
        z[i] = (x[i] - mean[i]) / scale[i]


@njit(**_JIT)
def smooth(proba, floor, mode, keep, logbuf, counts, pos, acc, smoothed_log, inst_norm,
           smoothed_norm):
    """The decision over per-frame class probabilities (each at least ``floor``, so that one
    frame cannot veto a class): XMM's likelihood window, or the cumulative / decaying sum of
    their logs (see :mod:`gesturemap.models._filter`). Returns the likeliest class."""
    for c in range(proba.shape[0]):
        smoothed_log[c] = _push_decision(mode, keep, logbuf, counts, pos, acc, c,
                                         max(proba[c], floor))
    return _normalise(proba, smoothed_log, inst_norm, smoothed_norm)


@njit(**_JIT)
def softmax(v, out):
    """``out = exp(v) / sum(exp(v))`` (computed after subtracting the largest value);
    ``out`` may be ``v``."""
    top = -np.inf
    for c in range(v.shape[0]):
        top = max(top, v[c])
    if math.isinf(top):
        # the limit: every value -inf (a frame so far from every class that each squared
        # distance overflows), or the +inf ones sharing it; exp(inf - inf) would be NaN,
        # and predict's argmax over NaN log-likelihoods always named the first class
        s = 0.0
        for c in range(v.shape[0]):
            out[c] = 1.0 if v[c] == top else 0.0
            s += out[c]
        for c in range(v.shape[0]):
            out[c] /= s
        return
    s = 0.0
    for c in range(v.shape[0]):
        out[c] = math.exp(v[c] - top)
        s += out[c]
    for c in range(v.shape[0]):
        out[c] /= s


# --------------------------------------------------------------------------------------------
# k nearest neighbours (brute force: exact, and fast for the few thousand frames a live
# performance is trained on)
# --------------------------------------------------------------------------------------------
@njit(**_JIT)
def knn_neighbours(z, train, k, best_d, best_i):
    """Indices of the ``k`` training frames nearest to ``z`` (squared Euclidean), nearest first
    (ties: the earlier frame first)."""
    n = train.shape[0]
    dim = z.shape[0]
    found = 0
    for j in range(n):
        d = 0.0
        if found < k:
            for i in range(dim):
                u = z[i] - train[j, i]
                d += u * u
        else:
            # early abandoning, exact: the sum only grows, and a frame is kept only when its
            # distance is below the k-th best; checked every 8 channels (the sums stay the
            # same, in the same order, so kept distances are bit-identical)
            bound = best_d[k - 1]
            i = 0
            while i < dim:
                stop = min(i + 8, dim)
                for ii in range(i, stop):
                    u = z[ii] - train[j, ii]
                    d += u * u
                if d >= bound:
                    break
                i = stop
        if found < k:
            pos = found
            found += 1
        elif d < best_d[k - 1]:
            pos = k - 1
        else:
            continue
        while pos > 0 and best_d[pos - 1] > d:
            best_d[pos] = best_d[pos - 1]
            best_i[pos] = best_i[pos - 1]
            pos -= 1
        best_d[pos] = d
        best_i[pos] = j
    return found


@njit(**_JIT)
def knn_proba(z, train, target, k, best_d, best_i, proba):
    """scikit-learn's uniform-weight ``predict_proba``: the share of each class among the
    ``k`` nearest frames (``target`` holds class indices)."""
    found = knn_neighbours(z, train, k, best_d, best_i)
    proba[:] = 0.0
    for j in range(found):
        proba[target[best_i[j]]] += 1.0 / found


@njit(**_JIT)
def knn_regress(z, train, outputs, k, best_d, best_i, out):
    """The mean output of the ``k`` nearest training frames (uniform weights)."""
    found = knn_neighbours(z, train, k, best_d, best_i)
    out[:] = 0.0
    for j in range(found):
        for o in range(out.shape[0]):
            out[o] += outputs[best_i[j], o]
    for o in range(out.shape[0]):
        out[o] /= found


# --------------------------------------------------------------------------------------------
# SVM: libsvm's one-against-one decision values, turned into one-vs-rest scores and calibrated
# by a sigmoid per class (scikit-learn's CalibratedClassifierCV(SVC(), method="sigmoid",
# ensemble=False))
# --------------------------------------------------------------------------------------------
@njit(**_JIT)
def _svm_kernel(kernel, z, sv, gamma, degree, coef0):
    s = 0.0
    if kernel == 2:  # rbf
        for i in range(z.shape[0]):
            u = z[i] - sv[i]
            s += u * u
        return math.exp(-gamma * s)
    for i in range(z.shape[0]):
        s += z[i] * sv[i]
    if kernel == 0:
        return s
    if kernel == 1:
        return (gamma * s + coef0) ** degree
    return math.tanh(gamma * s + coef0)


@njit(**_JIT)
def _expit(v):
    if v >= 0.0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


@njit(**_JIT)
def svm_proba(z, sv, start, dual, intercept, kernel, gamma, degree, coef0, calib_a, calib_b,
              kvals, dec, votes, proba):
    """Calibrated probabilities of a C-SVC with ``C`` classes.

    ``sv`` (N, D) support vectors grouped by class (class ``c`` owns rows ``start[c]`` to
    ``start[c + 1]``), ``dual`` (C - 1, N) and ``intercept`` (C (C - 1) / 2,) as scikit-learn
    keeps them for libsvm (``_dual_coef_``, ``_intercept_``); ``calib_a``, ``calib_b`` the
    sigmoid of each class (one for two classes).
    """
    n_classes = proba.shape[0]
    for j in range(sv.shape[0]):
        kvals[j] = _svm_kernel(kernel, z, sv[j], gamma, degree, coef0)
    p = 0
    for i in range(n_classes):
        for j in range(i + 1, n_classes):
            s = 0.0
            for m in range(start[i], start[i + 1]):
                s += dual[j - 1, m] * kvals[m]
            for m in range(start[j], start[j + 1]):
                s += dual[i, m] * kvals[m]
            dec[p] = s + intercept[p]  # > 0: a vote for class i
            p += 1
    if n_classes == 2:  # scikit-learn's decision function is -dec, for the second class
        proba[1] = _expit(-(calib_a[0] * -dec[0] + calib_b[0]))
        proba[0] = 1.0 - proba[1]
        return
    # scikit-learn's _ovr_decision_function: votes plus confidences squashed below 1/3
    votes[:] = 0.0
    proba[:] = 0.0  # the summed confidences, for now
    p = 0
    for i in range(n_classes):
        for j in range(i + 1, n_classes):
            proba[i] += dec[p]
            proba[j] -= dec[p]
            if dec[p] < 0.0:
                votes[j] += 1.0
            else:
                votes[i] += 1.0
            p += 1
    total = 0.0
    for c in range(n_classes):
        f = votes[c] + proba[c] / (3.0 * (abs(proba[c]) + 1.0))
        proba[c] = _expit(-(calib_a[c] * f + calib_b[c]))
        total += proba[c]
    for c in range(n_classes):
        proba[c] = proba[c] / total if total != 0.0 else 1.0 / n_classes
        if 1.0 < proba[c] <= 1.0 + 1e-5:
            proba[c] = 1.0


# --------------------------------------------------------------------------------------------
# Decision trees and AdaBoost (trees stored back to back)
# --------------------------------------------------------------------------------------------
@njit(**_JIT)
def forest_sum(x, roots, left, right, feature, threshold, value, out):
    """Sum of the leaf values each tree reaches. scikit-learn compares float32 inputs with its
    float64 thresholds: ``x`` must hold the float32-rounded values."""
    out[:] = 0.0
    for r in range(roots.shape[0]):
        node = roots[r]
        while left[node] >= 0:
            if x[feature[node]] <= threshold[node]:
                node = left[node]
            else:
                node = right[node]
        for c in range(out.shape[0]):
            out[c] += value[node, c]


@njit(**_JIT)
def tree_proba(x, roots, left, right, feature, threshold, value, proba):
    forest_sum(x, roots, left, right, feature, threshold, value, proba)


@njit(**_JIT)
def adaboost_proba(x, roots, left, right, feature, threshold, value, proba):
    """SAMME's probabilities: softmax of the decision divided by (C - 1); the leaf values
    already hold each stump's weighted, normalised vote."""
    forest_sum(x, roots, left, right, feature, threshold, value, proba)
    n = proba.shape[0]
    for c in range(n):
        proba[c] /= max(n - 1, 1)
    softmax(proba, proba)


# --------------------------------------------------------------------------------------------
# Gaussian naive Bayes
# --------------------------------------------------------------------------------------------
@njit(**_JIT)
def naive_bayes_proba(z, theta, var, log_prior, proba):
    """scikit-learn's GaussianNB ``predict_proba``: normalised exp of the joint log-likelihood."""
    for c in range(proba.shape[0]):
        a = 0.0
        b = 0.0
        for i in range(z.shape[0]):
            a += math.log(2.0 * math.pi * var[c, i])
            u = z[i] - theta[c, i]
            b += u * u / var[c, i]
        proba[c] = log_prior[c] - 0.5 * a - 0.5 * b
    softmax(proba, proba)


# --------------------------------------------------------------------------------------------
# Multi-layer perceptron (weights of every layer back to back)
# --------------------------------------------------------------------------------------------
@njit(**_JIT)
def mlp_forward(z, sizes, weights, biases, hidden_act, out_act, buf_a, buf_b, out):
    """The forward pass of scikit-learn's MLP. Layer ``l`` maps ``sizes[l]`` to ``sizes[l+1]``
    units; its weights are ``weights`` from ``sum(sizes[i] * sizes[i+1] for i < l)`` on, row-major
    (in, out), as ``coefs_[l]``."""
    for i in range(sizes[0]):
        buf_a[i] = z[i]
    w0 = 0
    b0 = 0
    n_layers = sizes.shape[0] - 1
    for layer in range(n_layers):
        n_in = sizes[layer]
        n_out = sizes[layer + 1]
        for o in range(n_out):
            s = biases[b0 + o]
            for i in range(n_in):
                s += buf_a[i] * weights[w0 + i * n_out + o]
            if layer < n_layers - 1:
                if hidden_act == 1:
                    s = 1.0 / (1.0 + math.exp(-s))
                elif hidden_act == 2:
                    s = math.tanh(s)
                elif hidden_act == 3:
                    s = max(s, 0.0)
            buf_b[o] = s
        for o in range(n_out):
            buf_a[o] = buf_b[o]
        w0 += n_in * n_out
        b0 += n_out
    n_out = sizes[n_layers]
    if out_act == OUT_LOGISTIC:  # two classes: one logistic unit gives P(second class)
        p = 1.0 / (1.0 + math.exp(-buf_a[0]))
        out[0] = 1.0 - p
        out[1] = p
    elif out_act == OUT_SOFTMAX:
        softmax(buf_a[:n_out], out)
    else:
        for o in range(n_out):
            out[o] = buf_a[o]


# --------------------------------------------------------------------------------------------
# Linear and polynomial regression
# --------------------------------------------------------------------------------------------
@njit(**_JIT)
def polynomial_regress(z, powers, coef, intercept, feats, out):
    """``coef @ phi(z) + intercept`` with ``phi(z)[f] = prod_i z[i] ** powers[f, i]`` (linear
    regression: ``powers`` is the identity)."""
    for f in range(powers.shape[0]):
        v = 1.0
        for i in range(powers.shape[1]):
            for _ in range(powers[f, i]):
                v *= z[i]
        feats[f] = v
    for o in range(out.shape[0]):
        s = intercept[o]
        for f in range(feats.shape[0]):
            s += coef[o, f] * feats[f]
        out[o] = s
