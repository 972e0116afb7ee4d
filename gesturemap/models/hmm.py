"""A plain hidden Markov model per class, trained by hmmlearn, streamed by our causal forward.

Each class gets one :class:`hmmlearn.hmm.GaussianHMM` (one Gaussian per state), trained with
hmmlearn's Baum-Welch on that class's takes. hmmlearn's own inference is whole-sequence only
(forward-backward smoothing looks into the future), so the run-time side is ours: a
frame-by-frame forward step in the log domain (:mod:`._hmm_kernels`). A stream's cumulative
log-likelihood after the frames of a gesture is exactly the batch log-likelihood of that
gesture, so the live decision of a stream reset at the gesture's start equals ``predict``.

Unlike :class:`~gesturemap.models.HHMM` there is no top level joining the classes and no
likelihood window: the label is the class with the largest log-likelihood since the last
``reset()``. Reset the stream when a gesture starts (the engine does on a take start, on
``/gesturemap/reset`` and on a detected onset).
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np

from ..errors import GesturemapError, TrainingCancelled
from ..utils.thread_warnings import silencing_warnings
from . import _hmm_kernels as _k
from ._standardize import StandardizingStream, fit_standardization
from .base import (
    BaseModel,
    Cancel,
    ProgressCallback,
    Result,
    _frozen,
    check_choice,
    check_float,
    check_size,
    register_model,
    split_dataset,
)

COVARIANCES = ("diagonal", "full")
TRANSITIONS = ("left-right", "ergodic")


def _initial_parameters(x: np.ndarray, offsets: np.ndarray, states: int, diagonal: bool,
                        min_covar: float) -> tuple[np.ndarray, np.ndarray]:
    """Means and covariances from every take cut into ``states`` equal parts (part n of every
    take pooled gives state n): a deterministic start suited to gestures that unfold in order."""
    d = x.shape[1]
    means = np.zeros((states, d))
    covs = np.zeros((states, d, d))
    overall = np.cov(x.T, bias=True).reshape(d, d) if len(x) > 1 else np.eye(d)
    for n in range(states):
        parts = []
        for p in range(len(offsets) - 1):
            seg = x[offsets[p]:offsets[p + 1]]
            lo = (n * len(seg)) // states
            hi = max(lo + 1, ((n + 1) * len(seg)) // states)
            parts.append(seg[lo:hi])
        chunk = np.vstack(parts)
        means[n] = chunk.mean(axis=0)
        c = np.cov(chunk.T, bias=True).reshape(d, d) if len(chunk) > 1 else overall.copy()
        covs[n] = c + min_covar * np.eye(d)
    if diagonal:
        covs = covs * np.eye(d)
    return means, covs


def _params(hmm: Any) -> tuple:
    """(startprob, transmat, means, covars) as ``_set_params`` takes them back (hmmlearn gives
    full covariance matrices whatever ``covariance_type`` and takes diagonal ones as rows)."""
    covars = np.array(hmm.covars_, dtype=np.float64)
    if hmm.covariance_type == "diag":
        covars = np.diagonal(covars, axis1=1, axis2=2).copy()
    return tuple(np.array(v, dtype=np.float64) for v in (
        hmm.startprob_, hmm.transmat_, hmm.means_)) + (covars,)


def _set_params(hmm: Any, params: tuple) -> None:
    hmm.startprob_, hmm.transmat_, hmm.means_, hmm.covars_ = (v.copy() for v in params)


def _em(hmm: Any, x: np.ndarray, lengths: np.ndarray, start: tuple, iterations: int,
        tol: float, cancel: Cancel | None = None) -> dict[str, Any]:
    """hmmlearn's Baum-Welch loop, one iteration per ``fit`` call (``hmm.n_iter`` is 1), so
    that a step whose log-likelihood or parameters are not finite, or whose parameters
    hmmlearn refuses, is undone: the fit stops on the last parameters whose log-likelihood was
    finite. Where every step is finite this is hmmlearn's own ``fit`` with
    ``n_iter=iterations`` (its stopping rule: a gain under ``tol``), but for a transition row
    EM leaves at zero (a state never seen to leave), which stays put. Raises ValueError when
    not even the start gives a finite log-likelihood, and TrainingCancelled between two steps
    once ``cancel`` is set."""
    _set_params(hmm, start)
    history: list[float] = []
    good = None  # the last parameters whose log-likelihood was finite
    current = start
    for _ in range(iterations):
        if cancel is not None and cancel.is_set():
            raise TrainingCancelled("training was cancelled")
        try:
            hmm.fit(x, lengths)  # the E-step on ``current``, then the M-step
        except ValueError:  # hmmlearn refuses ``current`` (e.g. a covariance it cannot use)
            if not history:
                raise
            break
        logprob = float(hmm.monitor_.history[-1])
        if not math.isfinite(logprob):
            break
        good = current
        history.append(logprob)
        current = _params(hmm)
        if not all(np.isfinite(v).all() for v in current):
            break
        trans = current[1]
        dead = ~(trans.sum(axis=1) > 0)  # hmmlearn would refuse the zero row next step
        if dead.any():
            trans[dead] = np.eye(len(trans))[dead]
            hmm.transmat_ = trans.copy()
        if len(history) >= 2 and history[-1] - history[-2] < tol:
            return {"iterations": len(history), "stopped": "converged"}
    else:
        return {"iterations": len(history), "stopped": "iterations"}
    if good is None:
        raise ValueError("Baum-Welch's log-likelihood is not finite from its start")
    _set_params(hmm, good)
    return {"iterations": len(history), "stopped": "not finite"}


def _baum_welch(hmm: Any, x: np.ndarray, lengths: np.ndarray, start: tuple, iterations: int,
                tol: float, cancel: Cancel | None = None) -> dict[str, Any]:
    """Fit ``hmm`` (hmmlearn, ``n_iter=1``) on ``x`` from ``start`` (startprob, transmat,
    means, covars); returns how it stopped and which forward-backward it used.

    hmmlearn's "scaling" forward-backward is the log domain's fit several times faster where
    it holds, but on long, sharply modelled takes it either underflows ("forward pass
    failed") or, with no error at all, ends on NaN parameters (ShoulderExerciseWatch with
    deltas: 2 of 7 classes): such a class is fitted again in the log
    domain from the same start. The log domain can still diverge to NaN after some
    iterations; :func:`_em` then keeps the last finite step."""
    # hmmlearn logs a non-monotone EM step or a short take (and stops): what it reached is
    # kept, and the messages would flood a performer's console
    hmm_log = logging.getLogger("hmmlearn")
    level = hmm_log.level
    hmm_log.setLevel(logging.CRITICAL)
    try:
        with silencing_warnings():  # (this thread's only: classes train on threads at once)
            try:
                out = _em(hmm, x, lengths, start, iterations, tol, cancel)
                if out["stopped"] != "not finite":
                    return {**out, "implementation": "scaling"}
            except TrainingCancelled:
                raise
            except ValueError:
                pass
            hmm.set_params(implementation="log")
            return {**_em(hmm, x, lengths, start, iterations, tol, cancel),
                    "implementation": "log"}
    finally:
        hmm_log.setLevel(level)


def _floored(covars: np.ndarray, min_covar: float) -> tuple[np.ndarray, int]:
    """(n, D, D) full covariances, each whose smallest eigenvalue is under ``min_covar``
    shifted along its diagonal until it is ``min_covar``, and how many. hmmlearn's
    full-covariance M-step adds no floor: a state whose frames are all alike (a held posture,
    a sensor repeating its last value) ends on a singular or nearly singular matrix, which
    hmmlearn's own scoring patches at each call and our kernels cannot invert, or turn into
    densities without bound. (Its diagonal M-step adds ``covars_prior`` to every variance:
    those stay positive.)"""
    out = covars.copy()
    count = 0
    for j in range(len(out)):
        shift = min_covar - np.linalg.eigvalsh(out[j]).min()
        if shift > 0.0:
            out[j] = out[j] + shift * np.eye(out.shape[1])
            count += 1
    return out, count


@register_model
class HMM(BaseModel):
    """One Gaussian HMM per class, trained by hmmlearn (recognition only).

    Parameters
    ----------
    states : states per class (a class with takes shorter than this gets fewer).
    covariance : ``"diagonal"`` or ``"full"`` covariance per state.
    transition : ``"left-right"`` (each state stays or moves to the next; starts in the
        first) or ``"ergodic"`` (any state to any state).
    em_max_iterations : most Baum-Welch iterations (hmmlearn's ``n_iter``).
    em_tolerance : stop when an iteration raises the training log-likelihood (summed over
        the class's takes, in nats) by less than this absolute amount (hmmlearn's ``tol``;
        the XMM models' ``em_percent_change`` is relative instead).
    min_covar : floor added to every variance (hmmlearn's ``min_covar``), in standardised
        units when ``standardize``.
    standardize : scale every input to zero mean and unit variance (statistics of all the
        training frames) first.

    The names ``iterations`` and ``tolerance`` of earlier releases are still accepted (with a
    DeprecationWarning) and read from models saved with them.
    """

    kind = "hmm"
    renamed_params = {"iterations": "em_max_iterations", "tolerance": "em_tolerance"}

    def __init__(self, states: int = 5, *, covariance: str = "diagonal",
                 transition: str = "left-right", em_max_iterations: int = 20,
                 em_tolerance: float = 0.01, min_covar: float = 0.001,
                 standardize: bool = True) -> None:
        self.states = states
        self.covariance = covariance
        self.transition = transition
        self.em_max_iterations = em_max_iterations
        self.em_tolerance = em_tolerance
        self.min_covar = min_covar
        self.standardize = standardize

    def _check_params(self) -> None:
        check_size("states", self.states)
        check_choice("covariance", self.covariance, COVARIANCES)
        check_choice("transition", self.transition, TRANSITIONS)
        check_size("em_max_iterations", self.em_max_iterations, limit="iterations")
        check_float("em_tolerance", self.em_tolerance)
        check_float("min_covar", self.min_covar, strict=True)
        if not isinstance(self.standardize, (bool, np.bool_)):
            raise GesturemapError(f"standardize={self.standardize!r}: expected True or False.")

    def fit(self, dataset: Any, *, progress: ProgressCallback | None = None,
            cancel: Cancel | None = None) -> HMM:
        """Train one GaussianHMM per class of ``dataset`` with hmmlearn; returns ``self``."""
        from hmmlearn.hmm import GaussianHMM

        start = time.perf_counter()
        self._check_params()
        classes, d_in, d_out = split_dataset(dataset)
        if d_out:
            raise GesturemapError(
                "HMM recognises gestures only: this dataset has output values (regression); "
                "use gm.HHMM (HMR) or gm.GMM (GMR) for a mapping by demonstration."
            )
        mean, scale = fit_standardization(np.vstack([c.inputs for c in classes]),
                                          bool(self.standardize))
        diagonal = self.covariance == "diagonal"
        left_right = self.transition == "left-right"
        fitted, info = [], {}
        for ci, cd in enumerate(classes):
            if cancel is not None and cancel.is_set():
                raise TrainingCancelled("training was cancelled")
            x = (cd.inputs - mean) / scale
            lengths = np.diff(cd.offsets)
            n = max(1, min(int(self.states), int(lengths.min())))
            means, covs = _initial_parameters(x, cd.offsets, n, diagonal, float(self.min_covar))
            # "scaling" first, "log" where it fails (:func:`_baum_welch`)
            hmm = GaussianHMM(n_components=n, covariance_type="diag" if diagonal else "full",
                              min_covar=float(self.min_covar), n_iter=1,
                              tol=float(self.em_tolerance), params="stmc", init_params="",
                              implementation="scaling")
            if left_right:
                trans = np.eye(n) * 0.5 + np.eye(n, k=1) * 0.5
                trans[-1, -1] = 1.0
                startprob = np.eye(1, n).ravel()
            else:
                trans = np.full((n, n), 1.0 / n)
                startprob = np.full(n, 1.0 / n)
            covars = np.diagonal(covs, axis1=1, axis2=2).copy() if diagonal else covs
            try:
                how = _baum_welch(hmm, x, lengths, (startprob, trans, means, covars),
                                  int(self.em_max_iterations), float(self.em_tolerance),
                                  cancel)
            except TrainingCancelled:
                raise
            except (ValueError, np.linalg.LinAlgError) as exc:
                raise GesturemapError(
                    f"class {cd.label!r}: hmmlearn could not train its HMM ({exc}); try "
                    "fewer states, covariance='diagonal' or a larger min_covar."
                ) from None
            transmat = np.asarray(hmm.transmat_, dtype=np.float64).copy()  # no zero row (_em)
            covars = np.asarray(hmm.covars_, dtype=np.float64)  # (n, D, D) whatever the type
            covars, floored = (covars, 0) if diagonal else _floored(covars,
                                                                     float(self.min_covar))
            fitted.append({"startprob": np.asarray(hmm.startprob_, dtype=np.float64),
                           "transmat": transmat,
                           "means": np.asarray(hmm.means_, dtype=np.float64),
                           "covars": covars})
            info[str(cd.label)] = {"iterations": how["iterations"], "states": n,
                                   "converged": how["stopped"] == "converged", **how,
                                   "floored_covariances": floored}
            if progress is not None:
                progress((ci + 1) / len(classes), f"class {cd.label!r} trained")
        self.labels_ = [c.label for c in classes]
        self.input_dim_, self.output_dim_ = d_in, 0
        self.mean_, self.scale_ = mean, scale
        self.class_params_ = fitted
        self._build()
        self.training_info_ = {"seconds": time.perf_counter() - start, "classes": info}
        return self

    # -- inference -------------------------------------------------------------------------
    def _build(self) -> None:
        """Padded per-class arrays for the kernels (log probabilities, inverse Cholesky)."""
        cls = self.class_params_
        nmax = max(len(c["startprob"]) for c in cls)
        d = self.input_dim_
        cn = len(cls)
        self._n_states = np.array([len(c["startprob"]) for c in cls], dtype=np.int64)
        self._log_start = np.full((cn, nmax), -np.inf)
        self._log_trans = np.full((cn, nmax, nmax), -np.inf)
        self._means = np.zeros((cn, nmax, d))
        self._linv = np.zeros((cn, nmax, d, d))
        self._lognorm = np.zeros((cn, nmax))
        with np.errstate(divide="ignore"):
            for i, c in enumerate(cls):
                n = len(c["startprob"])
                self._log_start[i, :n] = np.log(c["startprob"])
                self._log_trans[i, :n, :n] = np.log(c["transmat"])
                self._means[i, :n] = c["means"]
                covs = c["covars"]
                if covs.ndim == 2:  # diagonal variances
                    covs = np.stack([np.diag(v) for v in covs])
                for j in range(n):
                    try:
                        low = np.linalg.cholesky(covs[j])
                    except np.linalg.LinAlgError:
                        raise GesturemapError(
                            f"class {self.labels_[i]!r}: a covariance is not positive "
                            "definite; increase min_covar.") from None
                    self._linv[i, j] = np.linalg.inv(low)
                self._lognorm[i, :n] = _k.lognorm_of(self._linv[i, :n])

    def stream(self) -> HMMStream:
        """A new run-time stream (its own forward variables) over this trained model."""
        self._check_fitted()
        return HMMStream(self)

    def _sequence_loglik(self, x: np.ndarray) -> np.ndarray:
        z = np.ascontiguousarray((x - self.mean_) / self.scale_)
        out = np.zeros(len(self.labels_))
        _k.hmm_sequence_loglik(z, self._n_states, self._log_start, self._log_trans,
                               self._means, self._linv, self._lognorm, out)
        return out

    # -- saving ----------------------------------------------------------------------------
    _ARRAYS = ("startprob", "transmat", "means", "covars")

    def _state_arrays(self) -> dict[str, np.ndarray]:
        arrays = {"mean": self.mean_, "scale": self.scale_}
        for i, c in enumerate(self.class_params_):
            for key in self._ARRAYS:
                arrays[f"c{i}_{key}"] = c[key]
        return arrays

    def _set_state_arrays(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        d = self.input_dim_
        classes = []
        for i in range(len(self.labels_)):
            a = {k: np.asarray(arrays[f"c{i}_{k}"], dtype=np.float64) for k in self._ARRAYS}
            n = a["startprob"].shape[0]
            shapes = {"transmat": (n, n), "means": (n, d)}
            for key, shape in shapes.items():
                if a[key].shape != shape:
                    raise ValueError(f"class {i} {key} has shape {a[key].shape}, not {shape}")
            if a["covars"].shape not in ((n, d), (n, d, d)):
                raise ValueError(f"class {i} covars has shape {a['covars'].shape}")
            if not all(np.isfinite(v).all() for v in a.values()):
                raise ValueError(f"class {i} has non-finite parameters")
            classes.append(a)
        mean = np.asarray(arrays["mean"], dtype=np.float64).reshape(d)
        scale = np.asarray(arrays["scale"], dtype=np.float64).reshape(d)
        if not (np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise ValueError("standardisation statistics are not valid")
        self.mean_, self.scale_ = mean, scale
        self.class_params_ = classes
        self._build()


class HMMStream(StandardizingStream):
    """Run-time state of an :class:`HMM`: log forward variables and cumulative likelihoods."""

    def __init__(self, model: HMM) -> None:
        self.model = model
        self.labels = list(model.labels_)
        c = len(self.labels)
        nmax = model._log_start.shape[1]
        self._init_standardization(model.mean_, model.scale_)
        self._started = np.zeros(1, dtype=np.int64)
        self._alpha = np.zeros((c, nmax))
        self._new_alpha = np.zeros((c, nmax))
        self._loglik = np.zeros(c)
        self._inst = np.zeros(c)
        self._inst_norm = np.zeros(c)
        self._norm = np.zeros(c)
        self._progress = np.zeros(c)
        self._lstate = np.zeros(c, dtype=np.int64)

    def reset(self) -> None:
        """Forget the frames seen so far: the next frame starts a new gesture."""
        self._started[0] = 0
        self._loglik[:] = 0.0
        self._progress[:] = 0.0

    def step(self, frame: Any) -> Result:
        """One (D_in,) frame; the label is the likeliest class since the last reset."""
        z = self._standardize(frame)
        m = self.model
        best = _k.hmm_forward_step(z, self._started, m._n_states, m._log_start, m._log_trans,
                                   m._means, m._linv, m._lognorm, self._alpha,
                                   self._new_alpha, self._loglik, self._inst, self._progress,
                                   self._lstate)
        np.subtract(self._loglik, self._loglik[best], out=self._norm)
        np.exp(self._norm, out=self._norm)
        self._norm /= self._norm.sum()
        np.subtract(self._inst, self._inst.max(), out=self._inst_norm)
        np.exp(self._inst_norm, out=self._inst_norm)
        self._inst_norm /= self._inst_norm.sum()
        return Result(
            label=self.labels[best], label_index=int(best),
            likelihoods=_frozen(self._norm), log_likelihoods=_frozen(self._loglik),
            instant_likelihoods=_frozen(np.exp(self._inst)),
            instant_normalized_likelihoods=_frozen(self._inst_norm),
            progress=_frozen(self._progress), likeliest_state=_frozen(self._lstate),
        )
