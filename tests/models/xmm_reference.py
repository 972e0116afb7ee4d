"""A slow, literal re-statement of XMM's filtering algorithms in plain Python.

Written from XMM's published algorithms (GMM filter, HMM forward with the cyclic transition,
the two-level hierarchical forward, the regression estimators), independently of gesturemap's
numba kernels, to check the run-time settings that XMM's oracle files do not cover: ergodic
transitions, non-hierarchical runs, windowed and likeliest regression, mixture multi-class
regression. Loops over plain floats; only scipy is used for the Gaussian log-density.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import multivariate_normal


def gauss(x, mean, cov):
    """XMM's clamped density."""
    p = math.exp(multivariate_normal(mean=mean, cov=cov, allow_singular=False).logpdf(x))
    if not p >= 1e-180 or math.isinf(p):
        p = 1e-180
    return p


class ClassHMM:
    """One class of a trained gesturemap HHMM, read from ``model.class_params_[i]``."""

    def __init__(self, c: dict, d_in: int, hierarchical: bool) -> None:
        self.n = len(c["prior"])
        self.k = c["weights"].shape[1]
        self.w = c["weights"]
        self.means = c["means"]
        self.covs = c["covariances"]
        self.d_in = d_in
        self.prior = c["prior"]
        self.trans = c["transition"].copy()
        self.lr = c["transition_mode"] == "left-right"
        self.exit = c["exit_probabilities"]
        if not hierarchical and self.n > 1:
            self.trans[self.n - 1, 0] = 0.05  # XMM's cyclic transition

    def comp(self, x, i, c):
        di = self.d_in
        return self.w[i, c] * gauss(x, self.means[i, c, :di], self.covs[i, c, :di, :di])

    def emission(self, x, i):
        return sum(self.comp(x, i, c) for c in range(self.k))

    def state_regression(self, x, i):
        di = self.d_in
        dens = [self.comp(x, i, c) for c in range(self.k)]
        tot = sum(dens)
        out = 0.0
        cov = 0.0
        for c in range(self.k):
            b = dens[c] / tot
            m, s = self.means[i, c], self.covs[i, c]
            a = s[di:, :di] @ np.linalg.inv(s[:di, :di])
            out = out + b * (m[di:] + a @ (x - m[:di]))
            cov = cov + b * b * (s[di:, di:] - a @ s[:di, di:])
        return out, cov


def run_hhmm(model, xs, hierarchical, estimator="full", mixture=False):
    """Per-frame dicts of what XMM's HierarchicalHMM::filter computes."""
    labels = model.labels_
    cl = [ClassHMM(c, model.input_dim_, hierarchical) for c in model.class_params_]
    nc = len(cl)
    w = model.likelihood_window
    tp, tt, te = model.top_prior_, model.top_transition_, model.top_exit_transition_
    alpha = [np.zeros((3, m.n)) for m in cl]
    bufs = [[] for _ in cl]
    out = []
    for t, x in enumerate(xs):
        em = [[m.emission(x, i) for i in range(m.n)] for m in cl]
        inst = [0.0] * nc
        if hierarchical:
            if t == 0:
                norm = 0.0
                for c, m in enumerate(cl):
                    alpha[c][:] = 0.0
                    if m.lr:
                        alpha[c][0, 0] = tp[c] * em[c][0]
                    else:
                        for i in range(m.n):
                            alpha[c][0, i] = m.prior[i] * em[c][i]
                    inst[c] = alpha[c].sum()
                    norm += inst[c]
                for c in range(nc):
                    alpha[c] /= norm
            else:
                v1 = [a[1].sum() for a in alpha]
                v2 = [a[2].sum() for a in alpha]
                new = []
                norm = 0.0
                for d, m in enumerate(cl):
                    entry = sum(v1[s] * tt[s][d] + tp[d] * v2[s] for s in range(nc))
                    a0 = alpha[d][0]
                    front = np.zeros(m.n)
                    if m.lr:
                        front[0] = m.trans[0, 0] * a0[0] + entry
                        for k in range(1, m.n):
                            front[k] = (
                                m.trans[k, k] / (1 - m.exit[k]) * a0[k]
                                + m.trans[k - 1, k] / (1 - m.exit[k - 1]) * a0[k - 1]
                            )
                    else:
                        for k in range(m.n):
                            front[k] = (
                                sum(m.trans[j, k] / (1 - m.exit[j]) * a0[j] for j in range(m.n))
                                + m.prior[k] * entry
                            )
                    a = np.zeros((3, m.n))
                    for k in range(m.n):
                        tmp = em[d][k] * front[k]
                        a[2, k] = te[d] * m.exit[k] * tmp
                        a[1, k] = (1 - te[d]) * m.exit[k] * tmp
                        a[0, k] = (1 - m.exit[k]) * tmp
                        norm += tmp
                    inst[d] = a.sum()
                    new.append(a)
                alpha = [a / norm for a in new]
        else:
            for c, m in enumerate(cl):
                a = np.zeros(m.n)
                if t == 0:
                    for i in range(m.n):
                        a[i] = (em[c][0] if i == 0 else 0.0) if m.lr else m.prior[i] * em[c][i]
                else:
                    prev = alpha[c][0]
                    for j in range(m.n):
                        if m.lr:
                            s = prev[j] * m.trans[j, j]
                            s += (
                                prev[j - 1] * m.trans[j - 1, j]
                                if j > 0
                                else (prev[m.n - 1] * m.trans[m.n - 1, 0])
                            )
                        else:
                            s = sum(prev[i] * m.trans[i, j] for i in range(m.n))
                        a[j] = s * em[c][j]
                inst[c] = a.sum()
                alpha[c] = np.zeros((3, m.n))
                alpha[c][0] = a / inst[c]
        res = {"inst": np.array(inst), "progress": [], "out": [], "cov": []}
        smoothed = []
        for c, m in enumerate(cl):
            wts = alpha[c][0] + alpha[c][1]
            ls = 0
            for i in range(1, m.n):
                if wts[i] > wts[ls]:
                    ls = i
            lo, hi = max(ls - m.n // 2, 0), min(ls + m.n // 2, m.n)
            wn = wts[lo:hi].sum()
            full = alpha[c].sum(axis=0)
            res["progress"].append(
                sum(full[i] * i / wn for i in range(lo, hi)) / (m.n - 1) if wn > 0 else math.nan
            )  # XMM: NaN
            bufs[c] = (bufs[c] + [math.log(inst[c]) if inst[c] > 0 else -math.inf])[-w:]
            smoothed.append(sum(bufs[c]) / len(bufs[c]))
            if model.output_dim_:
                if estimator == "likeliest":
                    o, cv = m.state_regression(xs[t], ls)
                else:
                    rng = range(m.n) if estimator == "full" else range(lo, hi)
                    const = 1.0 if estimator == "full" or wn <= 0 else wn  # XMM: 1 if <= 0
                    o, cv = 0.0, 0.0
                    for i in rng:
                        so, sc = m.state_regression(xs[t], i)
                        o = o + wts[i] * so / const
                        cv = cv + wts[i] ** 2 * sc / const
                res["out"].append(o)
                res["cov"].append(cv)
        smoothed = np.array(smoothed)
        e = np.exp(smoothed - smoothed.max())
        res["smoothed"] = e / e.sum()
        res["likeliest"] = int(np.argmax(smoothed))
        res["label"] = labels[res["likeliest"]]
        res["progress"] = np.array(res["progress"])
        if model.output_dim_:
            co, cc = np.array(res["out"]), np.array(res["cov"])
            if mixture:
                res["output"] = (res["smoothed"][:, None] * co).sum(0)
                res["output_cov"] = (res["smoothed"][:, None, None] * cc).sum(0)
            else:
                res["output"] = co[res["likeliest"]]
                res["output_cov"] = cc[res["likeliest"]]
        out.append(res)
    return out


def run_gmr_mixture(model, xs):
    """XMM's GMR with the mixture multi-class estimator (smoothed normalised weights)."""
    di = model.input_dim_
    w = model.likelihood_window
    bufs = [[] for _ in model.class_params_]
    out = []
    for x in xs:
        outs, covs, smoothed = [], [], []
        for c, cls in enumerate(model.class_params_):
            dens = [
                cls["weights"][k] * gauss(x, cls["means"][k, :di], cls["covariances"][k, :di, :di])
                for k in range(len(cls["weights"]))
            ]
            tot = sum(dens)
            o, cv = 0.0, 0.0
            for k, dk in enumerate(dens):
                b = dk / tot
                m, s = cls["means"][k], cls["covariances"][k]
                a = s[di:, :di] @ np.linalg.inv(s[:di, :di])
                o = o + b * (m[di:] + a @ (x - m[:di]))
                cv = cv + b * b * (s[di:, di:] - a @ s[:di, di:])
            outs.append(o)
            covs.append(cv)
            bufs[c] = (bufs[c] + [math.log(tot)])[-w:]
            smoothed.append(sum(bufs[c]) / len(bufs[c]))
        smoothed = np.array(smoothed)
        e = np.exp(smoothed - smoothed.max())
        e /= e.sum()
        out.append(
            {
                "output": (e[:, None] * np.array(outs)).sum(0),
                "output_cov": (e[:, None, None] * np.array(covs)).sum(0),
            }
        )
    return out
