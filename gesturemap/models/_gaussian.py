"""Gaussian helpers used when a model is fitted or loaded (not per frame).

From joint (input | output) means and covariances they precompute everything scoring and
regression need, so that a frame never inverts a matrix: the inverse Cholesky factor of each
input covariance, its log normalising constant, the regression matrix
``Sigma_oi Sigma_ii^-1`` and the conditional covariance of the output given the input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GesturemapError
from ._kernels import LOG_2PI, chol_precision, lower


@dataclass
class GaussianTerms:
    """Precomputed terms of a stack of Gaussians, shape prefix ``S`` (e.g. (K,) or (N, K))."""

    mean_in: np.ndarray  # S + (D_in,)
    linv_in: np.ndarray  # S + (D_in, D_in)
    lognorm_in: np.ndarray  # S
    mean_out: np.ndarray  # S + (D_out,)
    reg_a: np.ndarray  # S + (D_out, D_in)
    condcov: np.ndarray  # S + (D_out, D_out)


def gaussian_terms(means: np.ndarray, covs: np.ndarray, d_in: int, label: object = None,
                   ) -> GaussianTerms:
    """Precompute :class:`GaussianTerms` from joint ``means`` (S, D) and ``covs`` (S, D, D)."""
    shape = means.shape[:-1]
    d = means.shape[-1]
    d_out = d - d_in
    m = means.reshape(-1, d)
    c = covs.reshape(-1, d, d)
    s = m.shape[0]
    linv = np.zeros((s, d_in, d_in))
    lognorm = np.zeros(s)
    reg_a = np.zeros((s, d_out, d_in))
    condcov = np.zeros((s, d_out, d_out))
    for g in range(s):
        cii = np.ascontiguousarray(c[g, :d_in, :d_in])
        try:
            lv, logdet = chol_precision(cii)
        except np.linalg.LinAlgError:
            raise GesturemapError(
                f"a covariance matrix of class {label!r} is not positive definite: increase "
                "absolute_regularization or relative_regularization, or record more varied "
                "takes."
            ) from None
        linv[g] = lv
        lognorm[g] = -0.5 * (d_in * LOG_2PI + logdet)
        if d_out:
            coi = c[g, d_in:, :d_in]
            # Sigma_oi Sigma_ii^-1 = Sigma_oi L^-T L^-1
            low = lower(lv)
            a = coi @ low.T @ low
            reg_a[g] = a
            condcov[g] = c[g, d_in:, d_in:] - a @ c[g, :d_in, d_in:]
    return GaussianTerms(
        mean_in=np.ascontiguousarray(means[..., :d_in]),
        linv_in=linv.reshape(shape + (d_in, d_in)),
        lognorm_in=lognorm.reshape(shape),
        mean_out=np.ascontiguousarray(means[..., d_in:]),
        reg_a=reg_a.reshape(shape + (d_out, d_in)),
        condcov=condcov.reshape(shape + (d_out, d_out)),
    )


def pad_stack(arrays: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """Stack per-class arrays of different leading sizes into one zero-padded array."""
    out = np.zeros((len(arrays),) + shape)
    for i, a in enumerate(arrays):
        out[(i,) + tuple(slice(0, n) for n in a.shape)] = a
    return out


def fully_observed_covariances(x: np.ndarray, offsets: np.ndarray, parts: int,
                               diagonal: bool) -> np.ndarray:
    """XMM's initial covariances: every phrase cut into ``parts`` equal chunks; chunk ``n`` of
    every phrase pooled gives covariance ``n`` (``E[x x^T] - m m^T``). (parts, D, D)."""
    d = x.shape[1]
    # diagonal: only the per-channel second moments (O(T D), not O(T D^2))
    acc = np.zeros((parts, d) if diagonal else (parts, d, d))
    sums = np.zeros((parts, d))
    counts = np.zeros(parts)
    for p in range(len(offsets) - 1):
        seg = x[offsets[p]:offsets[p + 1]]
        step = len(seg) // parts
        for n in range(parts):
            chunk = seg[n * step:(n + 1) * step]
            if len(chunk):
                acc[n] += (chunk * chunk).sum(axis=0) if diagonal else chunk.T @ chunk
                sums[n] += chunk.sum(axis=0)
                counts[n] += len(chunk)
    out = np.zeros((parts, d, d))
    for n in range(parts):
        if counts[n] == 0:
            if len(x) < 2:
                continue
            out[n] = np.diag(x.var(axis=0)) if diagonal else np.cov(x.T, bias=True).reshape(d, d)
            continue
        mean = sums[n] / counts[n]
        if diagonal:
            out[n] = np.diag(acc[n] / counts[n] - mean * mean)
        else:
            out[n] = acc[n] / counts[n] - np.outer(mean, mean)
    return out


def saved_covariances(prefix: str, covs: np.ndarray) -> dict[str, np.ndarray]:
    """The arrays that save ``covs`` (..., d, d): ``{prefix}variances`` (..., d) when every
    matrix is diagonal (a diagonal model at 120 dimensions: 120 values a Gaussian, not 14,400
    — what a retrain sends back from its worker and a project writes), else
    ``{prefix}covariances``. :func:`loaded_covariances` reads either."""
    d = covs.shape[-1]
    off = covs * (1.0 - np.eye(d))
    if d > 1 and not off.any():
        return {f"{prefix}variances": np.ascontiguousarray(np.diagonal(covs, axis1=-2, axis2=-1))}
    return {f"{prefix}covariances": covs}


def loaded_covariances(prefix: str, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """The covariance matrices saved by :func:`saved_covariances` (or in full, as models
    saved before it were)."""
    if f"{prefix}covariances" in arrays:
        return np.asarray(arrays[f"{prefix}covariances"], dtype=np.float64)
    var = np.asarray(arrays[f"{prefix}variances"], dtype=np.float64)
    d = var.shape[-1] if var.ndim else 0
    covs = np.zeros(var.shape + (d,))
    idx = np.arange(d)
    covs[..., idx, idx] = var
    return covs
