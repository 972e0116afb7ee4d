"""Wekinator's classic models behind gesturemap's model API: kNN, SVM, decision tree, AdaBoost,
naive Bayes and MLP classifiers; MLP, kNN, linear and polynomial regressors.

As in Wekinator, every frame of every take is one training example. One class per kind: fitted
on a labelled dataset it is a classifier, fitted on a bimodal dataset (every take has
``outputs``) it is a regressor of the outputs from the inputs (the GMM/GMR convention).

scikit-learn trains them. Its fitted arrays are copied into the model (``arrays_``), saved as
``.npz`` (never a pickle), and read at run time by the numba kernels of
:mod:`gesturemap.models.classic._kernels`, which reproduce scikit-learn's predictions.

What a classifier's :class:`~gesturemap.models.Result` holds: ``instant_likelihoods`` are the
class probabilities of the frame (scikit-learn's ``predict_proba``); ``log_likelihoods`` their
logs summed since the last reset (``decision="cumulative"``, the default: at a gesture's last
frame the label is ``predict``'s), averaged over the last ``likelihood_window`` frames
(``"window"``, XMM's smoothing) or summed with forgetting (``"decaying"``), each probability
taken as at least :data:`MIN_PROBABILITY` so that one odd frame cannot veto a class;
``likelihoods`` their normalised exponentials; ``label`` the likeliest class. ``progress`` is
None (these models have no notion of time). ``log_likelihood(sequence)`` sums the same per-frame
log-probabilities over a sequence, so ``predict`` classifies whole gestures. A regressor gives
``output``; it does not recognise classes, so its class fields are uniform and ``predict``
refuses (use :meth:`ClassicModel.predict_outputs`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from ...errors import GesturemapError
from ...utils.thread_warnings import recording_warnings
from .._filter import DECISION_WINDOW
from .._standardize import StandardizingStream, fit_standardization
from ..base import (
    BaseModel,
    Cancel,
    ProgressCallback,
    Result,
    _frozen,
    bad_param,
    check_choice,
    check_float,
    check_size,
    decision_settings,
    register_model,
    split_dataset,
)
from . import _kernels as _k

#: Per-frame class probabilities count as at least this much in log-likelihoods.
MIN_PROBABILITY = 1e-4
#: Random seed of every scikit-learn estimator: training is deterministic.
RANDOM_STATE = 0

Evaluator = Callable[[np.ndarray, np.ndarray], None]


def _subsample(y: np.ndarray, max_frames: int) -> np.ndarray:
    """Indices of at most about ``max_frames`` frames, evenly spaced within each class (every
    class keeps at least one frame). ``max_frames=0`` keeps all."""
    n = len(y)
    if max_frames <= 0 or n <= max_frames:
        return np.arange(n)
    keep = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        m = max(1, int(round(max_frames * len(idx) / n)))
        keep.append(idx[np.unique(np.linspace(0, len(idx) - 1, m).round().astype(np.int64))])
    return np.sort(np.concatenate(keep))


def _get(arrays: dict[str, np.ndarray], name: str, shape: tuple[int | None, ...],
         integer: bool = False) -> np.ndarray:
    """A saved array with the expected number of dimensions and sizes (None: any size)."""
    a = np.asarray(arrays[name])
    if a.ndim != len(shape) or any(s is not None and s != n for s, n in
                                   zip(shape, a.shape, strict=True)):
        raise ValueError(f"array {name!r} has shape {a.shape}, expected {shape}")
    if integer:
        if a.dtype.kind not in "iu":
            raise ValueError(f"array {name!r} must hold integers")
        return np.ascontiguousarray(a, dtype=np.int64)
    a = np.ascontiguousarray(a, dtype=np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"array {name!r} has non-finite values")
    return a


class ClassicModel(BaseModel):
    """What the classic models share: frame-wise training, standardisation, streams, saving.

    Subclasses define ``_fit_classifier`` / ``_fit_regressor`` (scikit-learn to arrays),
    ``_evaluator`` (arrays to a per-frame function) and ``_check_arrays`` (on load).
    """

    kind: ClassVar[str] = "classic"
    runtime_params = ("likelihood_window", "decision")
    legacy_params = {"decision": "window"}  # saved before decisions existed
    can_classify: ClassVar[bool] = True
    can_regress: ClassVar[bool] = False

    # -- parameters ------------------------------------------------------------------------
    def _check_runtime_params(self) -> None:
        decision_settings(self.decision, self.likelihood_window)

    def _check_params(self) -> None:  # pragma: no cover - overridden
        pass

    def _check_common(self) -> None:
        self._check_runtime_params()
        check_size("max_frames", self.max_frames, 0)
        if not isinstance(self.standardize, bool):
            raise bad_param("standardize", self.standardize, "True or False")
        self._check_params()

    # -- training --------------------------------------------------------------------------
    def fit(self, dataset: Any, *, progress: ProgressCallback | None = None,
            cancel: Cancel | None = None) -> ClassicModel:
        """Train on every frame of every take of ``dataset`` (a :class:`gesturemap.Dataset`).

        A classifier of the labels; a regressor of the outputs when the takes have outputs.
        Returns ``self``; ``labels_`` holds the sorted labels.
        """
        start = time.perf_counter()
        self._check_common()
        classes, d_in, d_out = split_dataset(dataset)
        if d_out and not self.can_regress:
            raise GesturemapError(
                f"{type(self).__name__} ({self.kind!r}) is a classifier, but the takes have "
                "outputs (a regression dataset): use a regressor (mlp, knn, linear, "
                "polynomial), or record the takes without outputs."
            )
        if not d_out and not self.can_classify:
            raise GesturemapError(
                f"{type(self).__name__} ({self.kind!r}) is a regression model: give every "
                "take outputs (dataset.add(inputs, label=..., outputs=targets)), or choose a "
                "classifier (knn, svm, tree, adaboost, naive_bayes, mlp)."
            )
        x = np.vstack([c.inputs for c in classes])
        y = np.concatenate([np.full(len(c.inputs), i, dtype=np.int64)
                            for i, c in enumerate(classes)])
        keep = _subsample(y, int(self.max_frames))
        x, y = x[keep], y[keep]
        mean, scale = fit_standardization(x, self.standardize)
        z = np.ascontiguousarray((x - mean) / scale)
        if cancel is not None and cancel.is_set():
            from ...errors import TrainingCancelled

            raise TrainingCancelled("training was cancelled")
        if progress is not None:
            # the fit below is one call with nothing to report until it ends (seconds at 20
            # gestures x 60 channels): say what it is doing meanwhile
            progress(0.0, f"training {type(self).__name__} on {len(z):,} frames of "
                          f"{z.shape[1]} inputs")
        # (this thread's only: a fit may run beside others on the engine's threads)
        with recording_warnings() as caught:
            if d_out:
                outputs = np.vstack([c.outputs for c in classes])[keep]
                arrays = self._fit_regressor(z, np.ascontiguousarray(outputs))
            elif len(classes) == 1:
                arrays = {}  # one class: its probability is 1 whatever the frame
            else:
                arrays = self._fit_classifier(z, y, len(classes))
        # values so large their squares overflow (targets of 1e300) give a model no one can
        # load: refused here, so a retraining never replaces a good model with it
        broken = sorted(k for k, a in arrays.items()
                        if np.asarray(a).dtype.kind == "f" and not np.isfinite(a).all())
        if broken or not (np.isfinite(mean).all() and np.isfinite(scale).all()):
            raise GesturemapError(
                f"{type(self).__name__}: training gave non-finite parameters "
                f"({', '.join(broken) or 'the standardisation'}): the takes hold values too "
                f"large to train on (largest input {np.abs(x).max():.3g}"
                + (f", largest target {np.abs(outputs).max():.3g}" if d_out else "")
                + "); rescale them or remove those takes")
        if progress is not None:
            progress(1.0, "trained")
        self.labels_ = [c.label for c in classes]
        self.input_dim_, self.output_dim_ = d_in, d_out
        # "center": the training frames' mean, kept whether or not the model standardises:
        # gm.explain holds an occluded channel there (a tree keeps no other trace of it)
        self.arrays_ = {"mean": mean, "scale": scale, "center": x.mean(axis=0), **arrays}
        self.training_info_ = {
            "seconds": time.perf_counter() - start,
            "frames": int(len(z)),
            # e.g. an MLP that did not converge (scikit-learn's deprecation notices are not
            # the user's concern)
            "warnings": sorted({str(w.message).split("\n")[0][:200] for w in caught
                                if not issubclass(w.category, (FutureWarning,
                                                               DeprecationWarning))}),
        }
        return self

    def _fit_classifier(self, z: np.ndarray, y: np.ndarray,
                        n_classes: int) -> dict[str, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def _fit_regressor(self, z: np.ndarray,
                       outputs: np.ndarray) -> dict[str, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    # -- inference -------------------------------------------------------------------------
    @property
    def is_bimodal_(self) -> bool:
        self._check_fitted()
        return self.output_dim_ > 0

    def _evaluator(self) -> Evaluator:  # pragma: no cover - overridden
        raise NotImplementedError

    def _new_evaluator(self) -> Evaluator:
        """A per-frame function ``f(z, out)`` with its own scratch buffers (one per stream:
        streams may run on different threads). ``z`` is a standardised frame; ``out`` receives
        class probabilities (C,) or outputs (O,)."""
        if not self.output_dim_ and len(self.labels_) == 1:
            return lambda z, out: out.fill(1.0)
        return self._evaluator()

    def _standardized(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray((x - self.arrays_["mean"]) / self.arrays_["scale"])

    def _batch(self, x: np.ndarray) -> np.ndarray:
        """(T, C) probabilities or (T, O) outputs of every frame of a checked sequence."""
        z = self._standardized(x)
        out = np.zeros((len(z), self.output_dim_ or len(self.labels_)))
        f = self._new_evaluator()
        for t in range(len(z)):
            f(z[t], out[t])
        return out

    def _sequence_loglik(self, x: np.ndarray) -> np.ndarray:
        if self.output_dim_:
            return np.zeros(len(self.labels_))
        return np.log(np.maximum(self._batch(x), MIN_PROBABILITY)).sum(axis=0)

    def predict_proba(self, sequence: Any) -> np.ndarray:
        """(T, C) class probabilities of each frame of a (T, D_in) sequence (a classifier's)."""
        self._check_fitted()
        if self.output_dim_:
            raise GesturemapError(f"this {type(self).__name__} is a regressor: it has no "
                                  "class probabilities; use predict_outputs(sequence).")
        return self._batch(self._check_sequence(sequence))

    def predict_outputs(self, sequence: Any) -> np.ndarray:
        """(T, O) regression outputs of each frame of a (T, D_in) sequence (a regressor's)."""
        self._check_fitted()
        if not self.output_dim_:
            raise GesturemapError(f"this {type(self).__name__} is a classifier (trained "
                                  "without outputs): use predict or predict_proba.")
        return self._batch(self._check_sequence(sequence))

    def predict(self, sequences: Any) -> list[Any]:
        """The likeliest label of each whole (T, D_in) sequence (sum of per-frame
        log-probabilities)."""
        self._check_fitted()
        if self.output_dim_:
            raise GesturemapError(f"this {type(self).__name__} is a regressor: it does not "
                                  "recognise classes; use predict_outputs(sequence).")
        return super().predict(sequences)

    def stream(self) -> ClassicStream:
        """A new run-time stream (its own buffers) over this trained model."""
        self._check_fitted()
        return ClassicStream(self)

    # -- saving ----------------------------------------------------------------------------
    def _state_arrays(self) -> dict[str, np.ndarray]:
        return dict(self.arrays_)

    def _set_state_arrays(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        # what the arrays are checked against must be what the family can be: a classifier
        # read as a regressor of edited ``output_dim`` outputs would size its kernels' buffers
        # from that number and read or write outside its arrays
        if self.output_dim_ and not self.can_regress:
            raise ValueError(f"output_dim {self.output_dim_}: a {self.kind} is a classifier "
                             "(output_dim 0)")
        if not self.output_dim_ and not self.can_classify:
            raise ValueError(f"output_dim 0: a {self.kind} is a regressor (output_dim >= 1)")
        d = self.input_dim_
        loaded = {"mean": _get(arrays, "mean", (d,)), "scale": _get(arrays, "scale", (d,))}
        if not (loaded["scale"] > 0).all():
            raise ValueError("array 'scale' must be positive")
        if "center" in arrays:  # absent from models saved before it was kept
            loaded["center"] = _get(arrays, "center", (d,))
        self._check_common()
        if self.output_dim_ or len(self.labels_) > 1:
            loaded.update(self._check_arrays(arrays))
        self.arrays_ = loaded

    def _check_arrays(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        raise NotImplementedError  # pragma: no cover


class ClassicStream(StandardizingStream):
    """Run-time state of a classic model: its likelihood window and scratch buffers."""

    def __init__(self, model: ClassicModel) -> None:
        self.model = model
        self.labels = list(model.labels_)
        c = len(self.labels)
        self._init_standardization(model.arrays_["mean"], model.arrays_["scale"])
        self._eval = model._new_evaluator()
        self._regressor = model.output_dim_ > 0
        self.lean = not self._regressor  # a classifier: the engine sends from views()
        self._best = -1
        self._out = np.zeros(model.output_dim_)
        self._proba = np.zeros(c)
        self._mode, self._keep = decision_settings(model.decision,
                                                   model.likelihood_window)
        # the window's buffer is only read by the window decision
        window = int(model.likelihood_window) if self._mode == DECISION_WINDOW else 1
        self._logbuf = np.zeros((c, window))
        self._counts = np.zeros(c, dtype=np.int64)
        self._pos = np.zeros(c, dtype=np.int64)
        self._acc = np.zeros(c)
        self._slog = np.zeros(c)
        self._inorm = np.zeros(c)
        self._snorm = np.zeros(c)
        # a regressor's class fields never change: uniform, frozen once
        self._uniform = _frozen(np.full(c, 1.0 / c))
        self._uniform_log = _frozen(np.full(c, -np.log(c)))

    def reset(self) -> None:
        """Forget the frames seen so far (empties the likelihood window)."""
        self._counts[:] = 0
        self._best = -1
        self._pos[:] = 0

    def advance(self, frame: Any) -> int:
        """One (D_in,) frame; the label's index (:meth:`current` builds the Result)."""
        z = self._standardize(frame)
        if self._regressor:
            self._eval(z, self._out)
            self._best = 0
            return 0
        self._eval(z, self._proba)
        best = self._best = int(_k.smooth(self._proba, MIN_PROBABILITY, self._mode, self._keep,
                                          self._logbuf, self._counts, self._pos, self._acc,
                                          self._slog, self._inorm, self._snorm))
        return best

    def current(self) -> Result | None:
        """The last frame's frozen :class:`Result`, built from the stream's state."""
        best = self._best
        if best < 0:
            return None
        if self._regressor:
            u = self._uniform
            return Result(label=self.labels[0], label_index=0, likelihoods=u,
                          log_likelihoods=self._uniform_log, instant_likelihoods=u,
                          instant_normalized_likelihoods=u, output=_frozen(self._out))
        return Result(
            label=self.labels[best], label_index=best,
            likelihoods=_frozen(self._snorm), log_likelihoods=_frozen(self._slog),
            instant_likelihoods=_frozen(self._proba),
            instant_normalized_likelihoods=_frozen(self._inorm),
        )

    def step(self, frame: Any) -> Result:
        """One (D_in,) frame; returns a frozen :class:`Result`."""
        self.advance(frame)
        return self.current()  # type: ignore[return-value]

    def views(self) -> tuple[np.ndarray, np.ndarray | None]:
        return self._snorm, None


# ============================================================================================
# The models
# ============================================================================================
@register_model
class KNN(ClassicModel):
    """k nearest neighbours (Wekinator's kNN): classifier, or regressor on bimodal data.

    Parameters
    ----------
    k : neighbours (a class's probability is its share of the ``k`` nearest training frames;
        a regressor outputs their mean output).
    standardize : scale every input to zero mean and unit variance (training statistics)
        first, so that no sensor dominates the distance.
    max_frames : keep at most about this many training frames, evenly spaced in each class
        (0 = all): a step compares the frame with every kept frame.
    likelihood_window : frames over which log-probabilities are averaged (``decision="window"``)
        or forgotten (``"decaying"``) (run-time).
    decision : ``"cumulative"`` (label of everything since the reset, = ``predict``),
        ``"window"`` (XMM's) or ``"decaying"`` (never-reset streams) (run-time).
    """

    kind = "knn"
    can_regress = True

    def __init__(self, k: int = 5, *, standardize: bool = True, max_frames: int = 20000,
                 likelihood_window: int = 5, decision: str = "cumulative") -> None:
        self.k = k
        self.standardize = standardize
        self.max_frames = max_frames
        self.likelihood_window = likelihood_window
        self.decision = decision

    def _check_params(self) -> None:
        check_size("k", self.k)

    def _fit_classifier(self, z, y, n_classes):
        return {"train": z, "target": y}

    def _fit_regressor(self, z, outputs):
        return {"train": z, "outputs": outputs}

    def _evaluator(self) -> Evaluator:
        a = self.arrays_
        k = min(int(self.k), len(a["train"]))
        best_d, best_i = np.zeros(k), np.zeros(k, dtype=np.int64)
        train = a["train"]
        if self.output_dim_:
            outputs = a["outputs"]
            return lambda z, out: _k.knn_regress(z, train, outputs, k, best_d, best_i, out)
        target = a["target"]
        return lambda z, out: _k.knn_proba(z, train, target, k, best_d, best_i, out)

    def _check_arrays(self, arrays):
        train = _get(arrays, "train", (None, self.input_dim_))
        if len(train) == 0:
            raise ValueError("no training frames")
        if self.output_dim_:
            return {"train": train,
                    "outputs": _get(arrays, "outputs", (len(train), self.output_dim_))}
        target = _get(arrays, "target", (len(train),), integer=True)
        if target.min() < 0 or target.max() >= len(self.labels_):
            raise ValueError("array 'target' holds unknown class indices")
        return {"train": train, "target": target}


_SVM_FEW = ("{label} has {frames} training frame(s): the SVM calibrates its probabilities by "
            "cross-validation and needs at least 2 frames per class; record longer takes (or "
            "raise max_frames).")


@register_model
class SVM(ClassicModel):
    """Support vector machine classifier (Wekinator's SVM; scikit-learn's SVC, its
    probabilities calibrated by a sigmoid per class on cross-validated decision values).

    Parameters
    ----------
    kernel : ``"rbf"``, ``"linear"``, ``"poly"`` or ``"sigmoid"``.
    c : the soft-margin cost ``C`` (larger fits the training frames more closely).
    gamma : kernel coefficient (rbf, poly, sigmoid); 0 = scikit-learn's ``"scale"``,
        1 / (inputs * variance of the training inputs).
    degree, coef0 : of the polynomial kernel (coef0 also of the sigmoid kernel).
    standardize : scale inputs to zero mean and unit variance (training statistics) first.
    max_frames : train on at most about this many frames, evenly spaced in each class (0 = all;
        SVM training grows with the square of the number of frames).
    likelihood_window : frames over which log-probabilities are averaged (``decision="window"``)
        or forgotten (``"decaying"``) (run-time).
    decision : ``"cumulative"`` (label of everything since the reset, = ``predict``),
        ``"window"`` (XMM's) or ``"decaying"`` (never-reset streams) (run-time).
    """

    kind = "svm"

    def __init__(self, kernel: str = "rbf", *, c: float = 1.0, gamma: float = 0.0,
                 degree: int = 3, coef0: float = 0.0, standardize: bool = True,
                 max_frames: int = 5000, likelihood_window: int = 5,
                 decision: str = "cumulative") -> None:
        self.kernel = kernel
        self.c = c
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.standardize = standardize
        self.max_frames = max_frames
        self.likelihood_window = likelihood_window
        self.decision = decision

    def _check_params(self) -> None:
        check_choice("kernel", self.kernel, _k.SVM_KERNELS)
        check_float("c", self.c, 0.0, strict=True)
        check_float("gamma", self.gamma)
        check_size("degree", self.degree)
        check_float("coef0", self.coef0, -np.inf)

    def check_class_lengths(self, label: Any, lengths: Any) -> None:
        """See :meth:`BaseModel.check_class_lengths`: a class needs 2 frames (its
        probabilities are calibrated by cross-validation)."""
        if int(np.sum(lengths)) < 2:
            raise GesturemapError(_SVM_FEW.format(label=f"class {label!r}",
                                                  frames=int(np.sum(lengths))))

    def _fit_classifier(self, z, y, n_classes):
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import SVC

        smallest = int(np.bincount(y).min())
        if smallest < 2:
            raise GesturemapError(_SVM_FEW.format(label="a class", frames=smallest))
        svc = SVC(C=float(self.c), kernel=self.kernel, degree=int(self.degree),
                  gamma=float(self.gamma) if self.gamma > 0 else "scale",
                  coef0=float(self.coef0))
        # the probabilities: a sigmoid per class, fitted on held-out decision values (what
        # scikit-learn now recommends instead of libsvm's probability=True)
        cal = CalibratedClassifierCV(svc, method="sigmoid", cv=min(5, smallest),
                                     ensemble=False).fit(z, y)
        fitted = cal.calibrated_classifiers_[0]
        svc = fitted.estimator
        start = np.concatenate([[0], np.cumsum(svc.n_support_)]).astype(np.int64)
        return {"support_vectors": np.ascontiguousarray(svc.support_vectors_, dtype=np.float64),
                "start": start, "dual": np.ascontiguousarray(svc._dual_coef_),
                "intercept": np.ascontiguousarray(svc._intercept_),
                "gamma": np.array([float(svc._gamma)]),
                "calib_a": np.array([float(c.a_) for c in fitted.calibrators]),
                "calib_b": np.array([float(c.b_) for c in fitted.calibrators])}

    def _evaluator(self) -> Evaluator:
        a = self.arrays_
        c = len(self.labels_)
        kvals = np.zeros(len(a["support_vectors"]))
        dec, votes = np.zeros(c * (c - 1) // 2), np.zeros(c)
        kernel = _k.SVM_KERNELS.index(self.kernel)
        sv, start, dual, icpt = a["support_vectors"], a["start"], a["dual"], a["intercept"]
        ca, cb, gamma = a["calib_a"], a["calib_b"], float(a["gamma"][0])
        degree, coef0 = float(self.degree), float(self.coef0)
        return lambda z, out: _k.svm_proba(z, sv, start, dual, icpt, kernel, gamma, degree,
                                           coef0, ca, cb, kvals, dec, votes, out)

    def _check_arrays(self, arrays):
        c = len(self.labels_)
        pairs = c * (c - 1) // 2
        n_calib = 1 if c == 2 else c
        sv = _get(arrays, "support_vectors", (None, self.input_dim_))
        start = _get(arrays, "start", (c + 1,), integer=True)
        if start[0] != 0 or start[-1] != len(sv) or (np.diff(start) < 0).any():
            raise ValueError("array 'start' does not split the support vectors by class")
        return {"support_vectors": sv, "start": start,
                "dual": _get(arrays, "dual", (c - 1, len(sv))),
                "intercept": _get(arrays, "intercept", (pairs,)),
                "gamma": _get(arrays, "gamma", (1,)),
                "calib_a": _get(arrays, "calib_a", (n_calib,)),
                "calib_b": _get(arrays, "calib_b", (n_calib,))}


@register_model
class NaiveBayes(ClassicModel):
    """Gaussian naive Bayes classifier (Wekinator's naive Bayes; scikit-learn's GaussianNB).

    Parameters
    ----------
    var_smoothing : added to every variance, times the largest input variance.
    standardize, max_frames, likelihood_window, decision : as for :class:`DecisionTree`.
    """

    kind = "naive_bayes"

    def __init__(self, var_smoothing: float = 1e-9, *, standardize: bool = False,
                 max_frames: int = 0, likelihood_window: int = 5,
                 decision: str = "cumulative") -> None:
        self.var_smoothing = var_smoothing
        self.standardize = standardize
        self.max_frames = max_frames
        self.likelihood_window = likelihood_window
        self.decision = decision

    def _check_params(self) -> None:
        check_float("var_smoothing", self.var_smoothing)

    def _fit_classifier(self, z, y, n_classes):
        from sklearn.naive_bayes import GaussianNB

        nb = GaussianNB(var_smoothing=float(self.var_smoothing)).fit(z, y)
        if not (nb.var_ > 0).all():
            raise GesturemapError(
                "an input is constant within a class: naive Bayes needs var_smoothing > 0 "
                f"(got {self.var_smoothing!r}); try 1e-9."
            )
        return {"theta": nb.theta_, "var": nb.var_, "log_prior": np.log(nb.class_prior_)}

    def _evaluator(self) -> Evaluator:
        a = self.arrays_
        theta, var, log_prior = a["theta"], a["var"], a["log_prior"]
        return lambda z, out: _k.naive_bayes_proba(z, theta, var, log_prior, out)

    def _check_arrays(self, arrays):
        shape = (len(self.labels_), self.input_dim_)
        var = _get(arrays, "var", shape)
        if not (var > 0).all():
            raise ValueError("array 'var' must be positive")
        return {"theta": _get(arrays, "theta", shape), "var": var,
                "log_prior": _get(arrays, "log_prior", (len(self.labels_),))}
