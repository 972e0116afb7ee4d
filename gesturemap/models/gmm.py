"""Gaussian mixture models per class: recognition (GMM) and regression (GMR).

One GMM is trained per class, as in XMM. Fitted on a bimodal dataset (each take has input and
output frames), every Gaussian is joint over input and output and the model regresses the
output from the input (Gaussian mixture regression).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ..errors import GesturemapError, TrainingCancelled
from . import _filter, _kernels
from ._gaussian import (
    fully_observed_covariances,
    gaussian_terms,
    loaded_covariances,
    pad_stack,
    saved_covariances,
)
from .base import (
    DECISIONS,
    BaseModel,
    Cancel,
    ClassData,
    FrozenBlock,
    ProgressCallback,
    Result,
    StreamBase,
    check_choice,
    check_float,
    check_int,
    check_size,
    decision_settings,
    register_model,
    regularization,
    saved_probabilities,
    split_dataset,
)
from .interpreted import STEP

COVARIANCE_MODES = ("full", "diagonal", "auto")
#: ``covariance="auto"``: a class's Gaussians are full when it has at least this many frames per
#: Gaussian per model dimension, else diagonal. A full covariance estimates D(D+1)/2 values; with
#: fewer than 2·D frames per Gaussian it is mostly regularisation, costs O(D^2) a frame and
#: O(D^3) an EM iteration, where a diagonal one costs O(D).
AUTO_FULL_FRAMES_PER_DIM = 2.0
#: ``covariance="auto"`` is diagonal above this many model dimensions, whatever the frames: a
#: full covariance costs O(D^2) a frame and O(D^3) an EM iteration, and at 20 gestures × 10
#: states a full model's step passes the scaling budget (100 µs) from about 32 dimensions
#: (measured: 46 µs at 16, 64 at 24, 88–119 at 32, 162–217 at 48; retrain 0.9 / 1.7 / 2.5 /
#: 6.2 s with 10 takes of 150 frames a class), so more takes never make a wide project slow.
#: No shared dataset has more than 24 model dimensions (deltas included), so no chosen default
#: depends on it.
AUTO_FULL_MAX_DIM = 32


def resolve_covariance(mode: str, frames: int, gaussians: int, dim: int,
                       frames_per_dim: float | None = None) -> str:
    """``"full"`` or ``"diagonal"`` for a class of ``frames`` frames (``gaussians`` in all);
    ``"auto"`` is full from ``frames_per_dim`` frames per Gaussian per dimension (default
    :data:`AUTO_FULL_FRAMES_PER_DIM`, the GMM's; the HHMM passes its own) and at most
    :data:`AUTO_FULL_MAX_DIM` dimensions."""
    mode = check_choice("covariance", mode, COVARIANCE_MODES)
    if mode != "auto":
        return mode
    if dim > AUTO_FULL_MAX_DIM:
        return "diagonal"
    per_dim = AUTO_FULL_FRAMES_PER_DIM if frames_per_dim is None else frames_per_dim
    return "full" if frames >= per_dim * dim * gaussians else "diagonal"
MULTICLASS_REGRESSION = ("likeliest", "mixture")


def check_gmm_lengths(label: Any, lengths: Any, gaussians: int) -> None:
    """Raise if a class of takes of ``lengths`` frames has fewer frames than Gaussians."""
    total = int(np.sum(lengths))
    if total < gaussians:
        raise GesturemapError(
            f"class {label!r} has {total} frame(s), fewer than gaussians={gaussians}: record "
            "a longer take or lower gaussians."
        )


def fit_gmm(x: np.ndarray, offsets: np.ndarray, gaussians: int, relative: float,
            absolute: float, diagonal: bool, em: tuple[int, int, float], cancel: Cancel,
            label: Any = None) -> dict[str, Any]:
    """XMM's GMM training on one class's frames ``x`` (T, D) (phrases split by ``offsets``).

    K-means (centres started on the first phrase) gives the means, chunks of every phrase the
    covariances, then EM runs until XMM's stopping rule.
    """
    t_total, d = x.shape
    check_gmm_lengths(label, [t_total], gaussians)
    reg = regularization(x, relative, absolute)
    x32 = np.ascontiguousarray(x, dtype=np.float32)
    first = int(offsets[1] - offsets[0])
    if first < gaussians:
        first = t_total  # the first take is too short to seed every centre: seed on all
    centers = _kernels.kmeans_first_phrase(x32, first, gaussians, 50)
    means = centers.astype(np.float64)
    covs = fully_observed_covariances(x, offsets, gaussians, diagonal)
    covs[:, np.arange(d), np.arange(d)] += reg
    weights = np.full(gaussians, 1.0 / gaussians)
    try:
        it, ll, status = _kernels.gmm_em(x, weights, means, covs, reg, diagonal, em[0], em[1],
                                         em[2], cancel.flag)
    except np.linalg.LinAlgError:  # a Cholesky inside the kernel (no regularisation at all)
        status = 2
    if status == 1:
        raise TrainingCancelled("training was cancelled")
    if status == 2:
        raise GesturemapError(
            f"class {label!r}: a covariance stopped being positive definite during training; "
            "increase absolute_regularization or relative_regularization."
        )
    return {"weights": weights, "means": means, "covariances": covs, "iterations": int(it),
            "log_likelihood": float(ll)}


class ClassCache:
    """Trained classes kept by a fingerprint of everything their training reads (the class's
    frames, its parameters): retraining after a new take of one class fits that class only.

    Training is deterministic, so a class taken from here is exactly the class a new fit would
    give. Off unless :attr:`enabled` (the training worker process turns it on); bounded.
    """

    def __init__(self, size: int = 256) -> None:
        self.enabled = False
        self.size = size
        self.hits = 0
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            out = self._items.get(key)
            if out is None:
                return None
            self._items.move_to_end(key)
            self.hits += 1
        return _copy_fitted(out)

    def put(self, key: str, fitted: dict[str, Any]) -> None:
        with self._lock:
            self._items[key] = _copy_fitted(fitted)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def _copy_fitted(fitted: dict[str, Any]) -> dict[str, Any]:
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in fitted.items()}


#: The process's cache of trained classes (see :class:`ClassCache`).
CLASS_CACHE = ClassCache()


def class_key(model: BaseModel, cd: ClassData) -> str:
    """The fingerprint of one class's training: model kind, the parameters training reads
    (the class's own overrides resolved; run-time ones and n_jobs left out), label, frames."""
    params = {k: v for k, v in model.get_params().items()
              if k not in model.runtime_params and k not in ("n_jobs", "class_params")}
    params.update({k: model.class_param(cd.label, k) for k in model.class_overridable})
    h = hashlib.sha256()
    h.update(json.dumps([model.kind, repr(cd.label), params], sort_keys=True,
                        default=repr).encode())
    for a in (cd.inputs, cd.outputs, cd.offsets):
        if a is not None:
            h.update(str(a.shape).encode())
            h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def train_classes(classes: list[ClassData], fit_one: Any,
                  cancel: Cancel | None, progress: ProgressCallback | None,
                  n_jobs: int | None, model: BaseModel | None = None) -> list[dict[str, Any]]:
    """Train every class (on several threads when there are several cores: the kernels
    release the GIL), reporting progress as classes finish. With ``model`` and the
    :data:`CLASS_CACHE` enabled, a class trained before on the same frames and parameters is
    reused."""
    cancel = cancel or Cancel()
    jobs = n_jobs if n_jobs is not None else min(len(classes), os.cpu_count() or 1)
    done = [0]
    lock = threading.Lock()
    cache = CLASS_CACHE if model is not None and CLASS_CACHE.enabled else None

    def one(cd: ClassData) -> dict[str, Any]:
        if cancel.is_set():
            raise TrainingCancelled("training was cancelled")
        key = class_key(model, cd) if cache is not None else None  # type: ignore[arg-type]
        out = cache.get(key) if key is not None else None
        if out is None:
            out = fit_one(cd, cancel)
            if key is not None:
                cache.put(key, out)
        with lock:
            done[0] += 1
            if progress is not None:
                progress(done[0] / len(classes), f"class {cd.label!r} trained")
        return out

    # One BLAS thread: a class's numpy work is on small matrices, where OpenBLAS's own
    # threads (one per core by default) spin and contend with the class threads here and with
    # the engine: at 20 classes x 60 channels a retrain took 1.2 s of CPU with them, 0.28 s
    # without, and less wall time too.
    with threadpool_limits(limits=1, user_api="blas"):
        if jobs <= 1 or len(classes) <= 1:
            return [one(cd) for cd in classes]
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(one, cd) for cd in classes]
            try:
                return [f.result() for f in futures]
            except BaseException:
                cancel.set()
                raise


def with_deltas(x: np.ndarray, lag: int = 1) -> np.ndarray:
    """(T, D) -> (T, 2D): each frame followed by its delta over ``lag`` frames,
    ``(x[t] - x[t-lag]) / lag``, where the frames before the first one are taken to be the
    first one (so the delta is 0 at the first frame and ``(x[t] - x[0]) / lag`` while
    ``t < lag``): what a stream computes frame by frame since its reset. ``lag=1`` is the first
    difference ``x[t] - x[t-1]``."""
    d = np.zeros_like(x)
    if lag == 1:
        d[1:] = x[1:] - x[:-1]
    elif len(x):
        past = np.concatenate([np.repeat(x[:1], min(lag, len(x)), axis=0), x[:-lag]])
        d[:] = (x - past[: len(x)]) / lag
    return np.ascontiguousarray(np.hstack([x, d]))


class DeltaFrames:
    """A stream's side of ``deltas``: the model's frame (input, then its delta over ``lag``
    frames since the reset, as :func:`with_deltas` computes it) built in a preallocated
    buffer. The last ``lag`` inputs are kept in a ring (``_prev``, row ``_pos`` the oldest);
    a reset makes the next input fill it."""

    def __init__(self, d_in: int, enabled: bool, lag: int = 1) -> None:
        self.enabled = enabled
        self.lag = int(lag)
        self.frame = np.zeros(2 * d_in if enabled else d_in)
        self._prev = np.zeros((self.lag, d_in))
        self._pos = np.zeros(1, dtype=np.int64)  # an array: the compiled path shares it
        self._first = True
        self._d = d_in

    def reset(self) -> None:
        self._first = True

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if not self.enabled:
            return x
        d = self._d
        self.frame[:d] = x
        if self._first:
            self.frame[d:] = 0.0
            self._prev[:] = x
            self._pos[0] = 0
            self._first = False
            return self.frame
        pos = int(self._pos[0])
        delta = self.frame[d:]
        np.subtract(x, self._prev[pos], out=delta)
        if self.lag > 1:
            delta /= self.lag
        self._prev[pos] = x
        self._pos[0] = (pos + 1) % self.lag
        return self.frame

    def run(self, xs: np.ndarray) -> np.ndarray:
        """(T, D) inputs -> their (T, 2D) frames, as calling this on each in turn would give
        (the deltas of the first ones reach into the inputs before ``xs`` since the reset);
        the state is left as after the last one."""
        if not self.enabled or not len(xs):
            return xs
        lag = self.lag
        if self._first:
            past = np.repeat(xs[:1], lag, axis=0)
        else:  # the ring, oldest first
            past = np.roll(self._prev, -int(self._pos[0]), axis=0)
        ext = np.concatenate([past, xs])
        delta = xs - ext[: len(xs)]
        if lag > 1:
            delta /= lag
        self._prev[:] = ext[len(xs):]
        self._pos[0] = 0
        self._first = False
        return np.ascontiguousarray(np.hstack([xs, delta]))


class _ModelCommon(BaseModel):
    """Checks shared by GMM and HHMM."""

    # saved before these parameters existed: no deltas, XMM's window decision
    legacy_params = {"deltas": False, "decision": "window", "delta_lag": 1}
    #: the values of ``decision`` the model's stream knows
    decisions: tuple[str, ...] = DECISIONS

    @property
    def model_dim_(self) -> int:
        """Inputs the Gaussians see: ``input_dim_``, doubled with ``deltas``."""
        return int(self.input_dim_) * (2 if getattr(self, "deltas", False) else 1)

    def _model_inputs(self, x: np.ndarray) -> np.ndarray:
        return with_deltas(x, int(self.delta_lag)) if self.deltas else x

    def _check_common(self) -> None:
        if not isinstance(self.deltas, (bool, np.bool_)):
            raise GesturemapError(f"deltas={self.deltas!r}: expected True or False.")
        check_size("delta_lag", self.delta_lag,
                   hint="Try 1 (the first difference) or a few frames, e.g. 2 or 4")
        check_float("relative_regularization", self.relative_regularization)
        check_float("absolute_regularization", self.absolute_regularization)
        if self.relative_regularization == 0 and self.absolute_regularization == 0:
            raise GesturemapError(
                "relative_regularization and absolute_regularization are both 0: a constant "
                "input channel would make a covariance singular. Set absolute_regularization "
                "> 0 (XMM's default is 0.001)."
            )
        check_choice("covariance", self.covariance, COVARIANCE_MODES)
        check_size("em_min_iterations", self.em_min_iterations, 0, limit="iterations")
        check_size("em_max_iterations", self.em_max_iterations, 0, limit="iterations")
        check_float("em_percent_change", self.em_percent_change)
        if self.n_jobs is not None:
            check_int("n_jobs", self.n_jobs, 1)

    def _check_runtime_params(self) -> None:
        decision_settings(self.decision, self.likelihood_window, self.decisions)
        check_choice("multiclass_regression", self.multiclass_regression, MULTICLASS_REGRESSION)

    def _em(self) -> tuple[int, int, float]:
        return (int(self.em_min_iterations), int(self.em_max_iterations),
                float(self.em_percent_change))

    def _begin_fit(self, dataset: Any) -> list[ClassData]:
        self._check_common()
        self._check_runtime_params()
        classes, d_in, d_out = split_dataset(dataset)
        self._check_class_params([c.label for c in classes])
        self._pending_dims = (d_in, d_out)
        if self.deltas:
            # every take gets its deltas (from its own first frame)
            lag = int(self.delta_lag)
            for cd in classes:
                cd.inputs = np.vstack([with_deltas(cd.inputs[a:b], lag) for a, b in
                                       zip(cd.offsets[:-1], cd.offsets[1:], strict=True)])
        return classes

    def _finish_fit(self, classes: list[ClassData], fitted: list[dict[str, Any]],
                    seconds: float) -> None:
        self.labels_ = [c.label for c in classes]
        self.input_dim_, self.output_dim_ = self._pending_dims
        self.class_params_ = fitted
        self.training_info_ = {
            "seconds": seconds,
            "classes": {str(c.label): {"iterations": f["iterations"],
                                       "log_likelihood": f["log_likelihood"]}
                        for c, f in zip(classes, fitted, strict=True)},
            "warnings": self._small_inputs(classes),
        }
        self._bank_cache = None

    def _small_inputs(self, classes: list[ClassData]) -> list[str]:
        """The warning for inputs that all vary less than the absolute regularisation adds to
        every variance (XMM's 0.001 by default): the Gaussians are then wider than the
        movements, and the classes may all look alike (a sensor in small units, e.g. metres
        for hand movements of a few millimetres). Also said with ``warnings.warn``."""
        d = self.input_dim_
        var = np.vstack([c.inputs[:, :d] for c in classes]).var(axis=0)
        floor = float(self.absolute_regularization)
        if not len(var) or float(var.max()) > floor:
            return []
        note = (f"{type(self).__name__}: every input varies less than the absolute "
                f"regularisation ({floor:g}) adds to its variance (largest variance "
                f"{float(var.max()):.2g}): the model may not tell the classes apart. Scale the "
                "inputs up (a Standardize stage in the project's pipeline), or lower "
                "absolute_regularization.")
        warnings.warn(note, stacklevel=4)
        return [note]

    @property
    def is_bimodal_(self) -> bool:
        self._check_fitted()
        return self.output_dim_ > 0


@register_model
class GMM(_ModelCommon):
    """Gaussian mixture model per class; Gaussian mixture regression on bimodal data.

    Parameters (XMM's names. Defaults chosen by leave-one-dataset-out cross-validation on three
    real datasets, docs/decisions.md: ``gaussians=4`` (XMM: 1), ``deltas=True`` (XMM: no
    deltas) over ``delta_lag=4`` frames, ``decision="cumulative"`` (XMM: the
    sliding window). XMM's default model: ``GMM(1, deltas=False, decision="window")``.)
    ----------
    gaussians : Gaussians per class (at most 1,000, as every size: see
        :mod:`gesturemap.models.limits`).
    relative_regularization : added to each covariance diagonal, times the standard deviation
        of that dimension in the class's data ...
    absolute_regularization : ... or at least this much.
    covariance : ``"full"``, ``"diagonal"`` or ``"auto"`` (default): per class, full when it has
        at least 2 frames per Gaussian per model dimension (``AUTO_FULL_FRAMES_PER_DIM``; the
        HHMM's threshold is 1 frame per state, ``HHMM_AUTO_FULL_FRAMES_PER_DIM``) and at most
        32 model dimensions (``AUTO_FULL_MAX_DIM``), else diagonal — a full covariance of 120
        dimensions from 150 frames is mostly regularisation, and costs O(D^2) a frame where a
        diagonal one costs O(D). ``class_params_[i]["covariance"]`` says which was used.
    likelihood_window : frames over which log-likelihoods are averaged (``decision="window"``,
        at most 100,000: each stream keeps them) or forgotten (``"decaying"``: the time
        constant, any length) (run-time).
    decision : what the live label is decided on (run-time): ``"cumulative"`` (default) the
        log-likelihood of every frame since the stream's reset, so that at a gesture's last
        frame the label is what ``predict`` says of the gesture; ``"window"`` XMM's mean over
        the last ``likelihood_window`` frames (XMM's behaviour); ``"decaying"`` the cumulative
        sum with forgetting, for a stream that is never reset. See docs/decisions.md.
    deltas : the Gaussians also see each input's delta (``(x[t] - x[t-L]) / L`` with
        ``L = delta_lag``, 0 at a take's or a stream's first frame): the direction of a
        movement, not only its place.
    delta_lag : ``L``, the frames the delta spans, at most 1,000 (GMM default 4, HHMM default
        1, both chosen by leave-one-dataset-out, docs/decisions.md; 1 is the first difference
        ``x[t] - x[t-1]``, the only delta before the option existed, and what a saved file
        that does not name it loads with). Causal: a stream keeps its last ``L`` inputs. Until
        ``L`` frames have been seen since a take's start or a stream's reset, the delta is
        taken from the first frame, ``(x[t] - x[0]) / L``, in training, ``predict`` and
        streams alike.
    multiclass_regression : ``"likeliest"`` (the likeliest class's output) or ``"mixture"``
        (outputs weighted by the classes' normalised likelihoods) (run-time).
    em_min_iterations, em_max_iterations, em_percent_change : EM stopping rules (XMM's: at
        least 10 iterations, then stop when the log-likelihood changes by at most 0.01 %;
        ``em_max_iterations > 0`` runs exactly that many when it is >= the minimum).
    class_params : per-class overrides, e.g. ``{"circle": {"gaussians": 5}}``.
    n_jobs : threads used to train classes in parallel (default: one per core).
    """

    kind = "gmm"
    runtime_params = ("likelihood_window", "multiclass_regression", "decision")
    class_overridable = ("gaussians", "relative_regularization", "absolute_regularization",
                         "covariance")

    def __init__(self, gaussians: int = 4, *, relative_regularization: float = 0.01,
                 absolute_regularization: float = 0.001, covariance: str = "auto",
                 likelihood_window: int = 5, multiclass_regression: str = "likeliest",
                 em_min_iterations: int = 10, em_max_iterations: int = 0,
                 em_percent_change: float = 0.01, class_params: dict | None = None,
                 n_jobs: int | None = None, decision: str = "cumulative",
                 deltas: bool = True, delta_lag: int = 4) -> None:
        self.decision = decision
        self.deltas = deltas
        self.delta_lag = delta_lag
        self.gaussians = gaussians
        self.relative_regularization = relative_regularization
        self.absolute_regularization = absolute_regularization
        self.covariance = covariance
        self.likelihood_window = likelihood_window
        self.multiclass_regression = multiclass_regression
        self.em_min_iterations = em_min_iterations
        self.em_max_iterations = em_max_iterations
        self.em_percent_change = em_percent_change
        self.class_params = class_params
        self.n_jobs = n_jobs

    def _check_common(self) -> None:
        check_size("gaussians", self.gaussians)
        super()._check_common()

    def check_class_lengths(self, label: Any, lengths: Sequence[int]) -> None:
        """See :meth:`BaseModel.check_class_lengths`: at least one frame per Gaussian."""
        check_gmm_lengths(label, lengths,
                          check_size("gaussians", self.class_param(label, "gaussians")))

    def fit(self, dataset: Any, *, progress: ProgressCallback | None = None,
            cancel: Cancel | None = None) -> GMM:
        """Train one GMM per class of ``dataset`` (a :class:`gesturemap.Dataset`).

        Returns ``self``; ``labels_`` holds the sorted labels.
        """
        start = time.perf_counter()
        classes = self._begin_fit(dataset)
        em = self._em()

        def fit_one(cd: ClassData, cancel: Cancel) -> dict[str, Any]:
            k = check_size("gaussians", self.class_param(cd.label, "gaussians"))
            cov = resolve_covariance(self.class_param(cd.label, "covariance"),
                                     len(cd.joint), k, cd.joint.shape[1])
            out = fit_gmm(cd.joint, cd.offsets, k,
                          check_float("relative_regularization",
                                      self.class_param(cd.label, "relative_regularization")),
                          check_float("absolute_regularization",
                                      self.class_param(cd.label, "absolute_regularization")),
                          cov == "diagonal", em, cancel, cd.label)
            out["covariance"] = cov
            return out

        fitted = train_classes(classes, fit_one, cancel, progress, self.n_jobs, self)
        self._finish_fit(classes, fitted, time.perf_counter() - start)
        return self

    # -- inference -------------------------------------------------------------------------
    def _bank(self) -> dict[str, np.ndarray]:
        bank = getattr(self, "_bank_cache", None)
        if bank is not None:
            return bank
        self._check_fitted()
        kmax = max(len(c["weights"]) for c in self.class_params_)
        d_in = self.model_dim_
        terms = [gaussian_terms(c["means"], c["covariances"], d_in, lb)
                 for c, lb in zip(self.class_params_, self.labels_, strict=True)]
        d_out = self.output_dim_
        bank = {
            "n_comp": np.array([len(c["weights"]) for c in self.class_params_], dtype=np.int64),
            "weights": pad_stack([c["weights"] for c in self.class_params_], (kmax,)),
            "mean_in": pad_stack([t.mean_in for t in terms], (kmax, d_in)),
            "linv_in": pad_stack([t.linv_in for t in terms], (kmax, d_in, d_in)),
            "lognorm_in": pad_stack([t.lognorm_in for t in terms], (kmax,)),
            "mean_out": pad_stack([t.mean_out for t in terms], (kmax, d_out)),
            "reg_a": pad_stack([t.reg_a for t in terms], (kmax, d_out, d_in)),
            "condcov": pad_stack([t.condcov for t in terms], (kmax, d_out, d_out)),
        }
        self._bank_cache = bank
        return bank

    def stream(self) -> GMMStream:
        """A new run-time stream (its own likelihood buffers) over this trained model."""
        self._check_fitted()
        return GMMStream(self)

    def _sequence_loglik(self, x: np.ndarray) -> np.ndarray:
        b = self._bank()
        out = np.zeros(len(self.labels_))
        _kernels.gmm_sequence_loglik(self._model_inputs(x), b["n_comp"], b["weights"],
                                     b["mean_in"], b["linv_in"],
                                     b["lognorm_in"], out)
        return out

    # -- saving ----------------------------------------------------------------------------
    def _state_arrays(self) -> dict[str, np.ndarray]:
        arrays = {}
        for i, c in enumerate(self.class_params_):
            arrays[f"c{i}_weights"] = c["weights"]
            arrays[f"c{i}_means"] = c["means"]
            arrays.update(saved_covariances(f"c{i}_", c["covariances"]))
        return arrays

    def _state_meta(self) -> dict[str, Any]:
        return {"class_covariance": [c["covariance"] for c in self.class_params_]}

    def _set_state_arrays(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        classes = []
        d = self.model_dim_ + self.output_dim_
        for i in range(len(self.labels_)):
            w = np.asarray(arrays[f"c{i}_weights"], dtype=np.float64)
            m = np.asarray(arrays[f"c{i}_means"], dtype=np.float64)
            c = loaded_covariances(f"c{i}_", arrays)
            k = w.shape[0]
            if w.ndim != 1 or m.shape != (k, d) or c.shape != (k, d, d):
                raise ValueError(f"class {i} arrays have shapes {w.shape}, {m.shape}, {c.shape}")
            if not (np.isfinite(m).all() and np.isfinite(c).all()):
                raise ValueError(f"class {i} has non-finite parameters")
            saved_probabilities(f"class {i}'s weights", w, positive_sum=True)
            classes.append({"weights": w, "means": m, "covariances": c,
                            "covariance": meta["class_covariance"][i],
                            "iterations": 0, "log_likelihood": 0.0})
        self.class_params_ = classes
        self._bank_cache = None
        self._bank()  # fail now, not at the first frame, if a covariance is unusable


class GMMStream(StreamBase):
    """Run-time state of a :class:`GMM`: likelihood buffers and preallocated outputs."""

    def __init__(self, model: GMM) -> None:
        self.model = model
        self._b = model._bank()
        self.labels = list(model.labels_)
        c = len(self.labels)
        kmax = self._b["weights"].shape[1]
        d_out = model.output_dim_
        self._din = model.input_dim_
        self._frames = DeltaFrames(self._din, bool(model.deltas), int(model.delta_lag))
        self._bimodal = d_out > 0
        self.lean = not self._bimodal  # a classifier: the engine sends from views()
        self._best = -1
        self._mixture = model.multiclass_regression == "mixture"
        self._mode, self._keep = decision_settings(model.decision, model.likelihood_window)
        # the window's buffer is only read by the window decision
        window = int(model.likelihood_window) if self._mode == _filter.DECISION_WINDOW else 1
        self._logbuf = np.zeros((c, window))
        self._counts = np.zeros(c, dtype=np.int64)
        self._pos = np.zeros(c, dtype=np.int64)
        self._acc = np.zeros(c)
        self._beta = np.zeros((c, kmax))
        # what the Result shows, in one buffer each (FrozenBlock: one copy a frame)
        self._block = FrozenBlock(snorm=(c,), slog=(c,), inst=(c,), inorm=(c,))
        self._snorm, self._slog, self._inst, self._inorm = self._block.arrays.values()
        self._out_block = FrozenBlock(out=(d_out,), cov=(d_out, d_out), cout=(c, d_out),
                                      ccov=(c, d_out, d_out))
        self._out, self._cov, self._cout, self._ccov = self._out_block.arrays.values()
        # the kernel's arguments, by name (the arrays above, shared, not copied)
        b = self._b
        self._args = _filter.GMMArgs(
            n_comp=b["n_comp"], weights=b["weights"], means_in=b["mean_in"],
            linv_in=b["linv_in"], lognorm_in=b["lognorm_in"], mean_out=b["mean_out"],
            reg_a=b["reg_a"], condcov=b["condcov"], bimodal=self._bimodal,
            mixture=self._mixture, mode=self._mode, keep=self._keep, logbuf=self._logbuf,
            counts=self._counts, pos=self._pos, acc=self._acc, inst=self._inst,
            beta=self._beta, smoothed_log=self._slog, inst_norm=self._inorm,
            smoothed_norm=self._snorm, class_out=self._cout, class_cov=self._ccov,
            out=self._out, cov=self._cov)

    def reset(self) -> None:
        """Forget the frames seen so far (empties the likelihood buffers)."""
        self._counts[:] = 0
        self._pos[:] = 0
        self._frames.reset()
        self._best = -1

    def advance(self, frame: Any) -> int:
        """Filter one (D_in,) frame; the label's index (:meth:`current` builds the Result)."""
        best = self._best = int(STEP.gmm_step(self._frames(self._check_frame(frame)),
                                                 *self._args))
        return best

    def current(self) -> Result | None:
        """The last frame's frozen :class:`Result`, built from the stream's state."""
        best = self._best
        if best < 0:
            return None
        snorm, slog, inst, inorm = self._block.frozen()
        common = dict(label=self.labels[best], label_index=best, likelihoods=snorm,
                      log_likelihoods=slog, instant_likelihoods=inst,
                      instant_normalized_likelihoods=inorm)
        if not self._bimodal:
            return Result(**common)
        out, cov, cout, ccov = self._out_block.frozen()
        return Result(**common, output=out, output_covariance=cov, class_outputs=cout,
                      class_output_covariances=ccov)

    def step(self, frame: Any) -> Result:
        """Filter one (D_in,) frame; returns a frozen :class:`Result`."""
        self.advance(frame)
        return self.current()  # type: ignore[return-value]

    def views(self) -> tuple[np.ndarray, np.ndarray | None]:
        return self._snorm, None

    @property
    def beta(self) -> np.ndarray:
        """(C, K) posterior of each Gaussian given the last frame."""
        return self._beta.copy()
