"""Hierarchical hidden Markov models: recognition and following (HHMM), regression (HMR).

One HMM per class (a "primitive"), each with ``states`` states of ``gaussians`` Gaussians,
trained with Baum-Welch as in XMM. At run time the classes are joined by a top level (prior,
class-to-class transitions, exit probabilities) into XMM's two-level hierarchical HMM, so that
the forward pass can leave one gesture and enter the next; ``hierarchical=False`` runs every
class's HMM on its own instead. The forward pass gives each class's likelihood and the time
progression within its gesture; on a bimodal dataset the states regress the output (HMR).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import GesturemapError, TrainingCancelled
from . import _filter, _kernels
from ._gaussian import gaussian_terms, loaded_covariances, pad_stack, saved_covariances
from .base import (
    FOLLOWING_DECISIONS,
    Cancel,
    ClassData,
    FrozenBlock,
    ProgressCallback,
    Result,
    StreamBase,
    _frozen,
    check_choice,
    check_float,
    check_number,
    check_size,
    decision_settings,
    register_model,
    regularization,
    saved_probabilities,
)
from .gmm import DeltaFrames, _ModelCommon, fit_gmm, resolve_covariance, train_classes
from .interpreted import STEP

TRANSITIONS = ("left-right", "ergodic")
REGRESSION_ESTIMATORS = ("full", "windowed", "likeliest")
#: ``covariance="auto"``: a class's states are full when it has at least this many frames per
#: state (times Gaussians per state) per model dimension, else diagonal. The GMM's threshold
#: (``gmm.AUTO_FULL_FRAMES_PER_DIM``) is 2; the HHMM's 1 was chosen by leave-one-dataset-out
#: (at 10 states, 2 made most of JapaneseVowels' classes diagonal inside CV, mean CV
#: 0.898 against 0.904). It still keeps wide inputs with few takes diagonal: 20 gestures × 60
#: channels × 5 takes of 150 frames is 750 frames a class, 10 states × 120 dimensions need 1,200.
HHMM_AUTO_FULL_FRAMES_PER_DIM = 1.0
#: XMM's defaults for the top level and the exit of the last state.
DEFAULT_EXIT_PROBABILITY_LAST_STATE = 0.1
DEFAULT_EXIT_TRANSITION = 0.1
#: XMM adds this cyclic transition (last state -> first) when running classes on their own.
CYCLIC_TRANSITION = 0.05


def check_hmm_lengths(label: Any, lengths: Any, states: int, gaussians: int) -> None:
    """Raise if a class of takes of ``lengths`` frames cannot train an HMM of ``states``
    states of ``gaussians`` Gaussians: its longest take must give every state a frame, and
    each state's share of the takes must seed its Gaussians."""
    lengths = np.asarray(lengths, dtype=np.int64)
    longest = int(lengths.max()) if lengths.size else 0
    if longest < states:
        raise GesturemapError(
            f"class {label!r}: its longest take has {longest} frame(s), fewer than "
            f"states={states}; record a longer take or lower states."
        )
    share = int(np.sum(lengths // states))
    if gaussians > 1 and share < gaussians:
        raise GesturemapError(
            f"class {label!r}: its takes give each of its {states} states {share} frame(s), "
            f"fewer than gaussians={gaussians}; record longer takes or lower gaussians."
        )


def fit_hmm(cd: ClassData, states: int, gaussians: int, relative: float, absolute: float,
            diagonal: bool, left_right: bool, em: tuple[int, int, float],
            cancel: Cancel) -> dict[str, Any]:
    """XMM's HMM training for one class: states seeded by a GMM on each state's share of every
    phrase, then Baum-Welch until XMM's stopping rule."""
    x = cd.joint
    d = x.shape[1]
    lengths = np.diff(cd.offsets)
    check_hmm_lengths(cd.label, lengths, states, gaussians)
    reg = regularization(x, relative, absolute)
    means = np.zeros((states, gaussians, d))
    covs = np.zeros((states, gaussians, d, d))
    weights = np.full((states, gaussians), 1.0 / gaussians)
    for n in range(states):
        segs = []
        for p in range(len(lengths)):
            step = int(lengths[p]) // states
            if step:
                start = int(cd.offsets[p]) + n * step
                segs.append(x[start:start + step])
        seg = np.vstack(segs)
        seg_offsets = np.concatenate([[0], np.cumsum([len(s) for s in segs])]).astype(np.int64)
        if gaussians == 1:
            # one Gaussian: XMM's EM reaches its fixed point (the segment's mean and biased
            # covariance plus the segment's regularisation) at the first iteration
            seg_reg = regularization(seg, relative, absolute)
            m = seg.mean(axis=0)
            diff = seg - m
            c = diff.T @ diff / len(seg)
            if diagonal:
                c = np.diag(np.diag(c))
            c[np.arange(d), np.arange(d)] += seg_reg
            means[n, 0] = m
            covs[n, 0] = c
        else:
            g = fit_gmm(seg, seg_offsets, gaussians, relative, absolute, diagonal, em, cancel,
                        cd.label)
            means[n] = g["means"]
            covs[n] = g["covariances"]
    trans = np.zeros((states, states))
    prior = np.zeros(states)
    if left_right:
        for i in range(states - 1):
            trans[i, i] = 0.5
            trans[i, i + 1] = 0.5
        trans[states - 1, states - 1] = 1.0
        prior[0] = 1.0
    else:
        trans[:] = 1.0 / states
        prior[:] = 1.0 / states
    try:
        it, ll, status = _kernels.hmm_baum_welch(
            x, cd.offsets, prior, trans, weights, means, covs, reg, diagonal, left_right,
            em[0], em[1], em[2], cancel.flag)
    except np.linalg.LinAlgError:  # a Cholesky inside the kernel (no regularisation at all)
        status = 2
    if status == 1:
        raise TrainingCancelled("training was cancelled")
    if status == 2:
        raise GesturemapError(
            f"class {cd.label!r}: a covariance stopped being positive definite during "
            "training; increase absolute_regularization or relative_regularization."
        )
    exit_p = np.zeros(states)
    exit_p[-1] = DEFAULT_EXIT_PROBABILITY_LAST_STATE
    return {"prior": prior, "transition": trans, "weights": weights, "means": means,
            "covariances": covs, "exit_probabilities": exit_p, "iterations": int(it),
            "log_likelihood": float(ll)}


#: The longest expected stay in one state counted by the time-warp speed, in frames (a state
#: that never leaves would otherwise put its class's gesture infinitely far).
MAX_STATE_FRAMES = 1000.0
#: ``decision="following"``: a class's floor lies below its takes' least likely frame by this
#: many times the spread of its takes' frames (median minus least likely), and by at least
#: :data:`FOLLOW_MARGIN_MIN` nats, so that a performance less like the takes than they are like
#: each other does not restart the decision in the middle of a gesture (8: no restart in any
#: held-out recording of HAPT, the watch exercises or JapaneseVowels, reset at its start,
#: where 3 restarted in 1 of 25 HAPT transitions with 4 training subjects; a pose switch
#: still falls hundreds of nats below it; docs/wekinator.md).
FOLLOW_MARGIN_SPREADS = 8.0
FOLLOW_MARGIN_MIN = 10.0
#: ``decision="following"``, in a stream not reset for longer than the longest take: the
#: decision restarts where a class taken up afresh (at any of its states) explains a frame
#: better than the decided class's pass by more than this many nats (a new gesture began).
FOLLOW_RATIO = 10.0
#: ``decision="following"``: the horizon (frames without a reset or restart after which the
#: decision restarts) is this many times the longest take.
FOLLOW_HORIZON_TAKES = 1.5
#: The largest ``longest_take_`` a saved model may give, in frames: beyond any take a project
#: keeps (2^25 numbers), and 1.5 times it stays far within the stream's int64 frame counts.
MAX_LONGEST_TAKE = 1 << 32


def _check_class_probabilities(i: int, a: dict[str, np.ndarray]) -> None:
    """A saved class's probabilities in [0, 1], its prior and every state's Gaussian weights
    not all 0 (:func:`~gesturemap.models.base.saved_probabilities`)."""
    saved_probabilities(f"class {i}'s prior", a["prior"], positive_sum=True)
    saved_probabilities(f"class {i}'s transition", a["transition"])
    saved_probabilities(f"class {i}'s weights", a["weights"], positive_sum=True)
    saved_probabilities(f"class {i}'s exit_probabilities", a["exit_probabilities"])


def follow_settings(model: HHMM, classes: list[ClassData]) -> tuple[np.ndarray, int]:
    """What ``decision="following"`` restarts on, learned from the training takes: per class,
    the floor of a frame's log predictive likelihood (see :data:`FOLLOW_MARGIN_SPREADS`), and
    the longest take, in frames."""
    b = model._bank()
    floors = np.full(len(classes), -np.inf)
    longest = 0
    for k, cd in enumerate(classes):
        longest = max(longest, int(np.diff(cd.offsets).max()))
        ll = np.zeros(len(cd.inputs))
        _kernels.hmm_frame_logliks(
            np.ascontiguousarray(cd.inputs, dtype=np.float64), cd.offsets.astype(np.int64), k,
            b["n_states"], b["n_comp"], b["left_right"], b["prior"], b["trans"], b["weights"],
            b["mean_in"], b["linv_in"], b["lognorm_in"], ll)
        low = float(ll.min())
        spread = float(np.median(ll)) - low
        floors[k] = low - max(FOLLOW_MARGIN_MIN, FOLLOW_MARGIN_SPREADS * spread)
    return floors, longest


@register_model
class HHMM(_ModelCommon):
    """Hierarchical HMM per class (HMR when fitted on bimodal data).

    Parameters (XMM's names. Defaults chosen by leave-one-dataset-out cross-validation on three
    real datasets, docs/decisions.md: ``states=10``, ``relative_regularization=0.05`` (XMM:
    0.01), ``deltas=True`` (XMM: no deltas) over ``delta_lag=2`` frames (one joint grid of the
    three; the GMM's own grid chose a lag of 4), ``decision="cumulative"`` (XMM: the
    sliding window), ``em_percent_change=0.05`` (XMM: 0.01).
    XMM's behaviour: ``HHMM(10, relative_regularization=0.01, deltas=False,
    decision="window", em_percent_change=0.01)``.)
    ----------
    states : states per class (at most 1,000).
    gaussians : Gaussians per state (at most 1,000).
    relative_regularization, absolute_regularization : as for :class:`GMM`.
    covariance : as for :class:`GMM`, but ``"auto"`` (default) is full for a class with at
        least 1 frame per state (times ``gaussians``) per model dimension
        (``HHMM_AUTO_FULL_FRAMES_PER_DIM``; the GMM's threshold is 2) and at most 32 model
        dimensions (``gmm.AUTO_FULL_MAX_DIM``, for cost): the threshold chosen by
        leave-one-dataset-out, where the threshold 2 made most of JapaneseVowels'
        classes diagonal at 10 states. ``class_params_[i]["covariance"]`` says which was used.
    transition : ``"left-right"`` (gestures unfold in order) or ``"ergodic"``.
    hierarchical : join the classes with a top level (run-time).
    regression_estimator : ``"full"`` (every state), ``"windowed"`` (states around the
        likeliest) or ``"likeliest"`` (the likeliest state only) (run-time).
    multiclass_regression, likelihood_window, deltas, delta_lag, em_* , class_params,
        n_jobs : as for GMM.
    estimate_speed : results carry ``speed`` (run-time): per class, how fast the gesture is
        performed against the class's training takes (1 = as recorded, 2 = twice as fast),
        read from the forward pass as the HMM's time warp: the expected position in the
        class's left-right states, in the frames the training takes spent reaching it
        (``state_frames_``), over the frames since the stream's reset. Off by default: a
        stream that estimates speed builds a Result every frame (the engine's lean path
        sends likelihoods and progress only). Ergodic classes have no order: their speed
        stays 1.
    decision : as for GMM (run-time), or ``"following"``. ``"cumulative"`` (default),
        ``"decaying"`` and ``"following"`` decide on each class's HMM run on its own (a second
        forward pass; ``"cumulative"`` gives exactly ``log_likelihood`` of the frames since the
        reset); ``"window"`` on the instant likelihoods of the (hierarchical) forward pass, as
        XMM does. ``"following"`` (a project's default, docs/wekinator.md) is
        ``"cumulative"`` restarted where a new gesture must have begun: on a frame less likely
        under the class decided so far than any frame of its takes (``frame_floor_``), or
        where, in a stream not reset for longer than ``longest_take_``, a class taken up afresh
        explains a frame far better than the decided class, or after 1.5 times the longest
        take without a reset; a stream reset at each gesture does not restart on gestures
        like the takes. ``progress``, the instant
        likelihoods and the regression always come from the (hierarchical) pass. XMM's
        behaviour: ``decision="window"`` (and XMM's other settings, see above).

    Attributes (beside GMM's)
    ----------
    frame_floor_ : (C,) each class's floor of a frame's log predictive likelihood
        (``decision="following"``); -inf in a model saved before it existed.
    longest_take_ : the longest training take, in frames (``decision="following"``: a stream
        not reset for longer is not reset at each gesture); 0 in a model saved before.
    """

    kind = "hhmm"
    decisions = FOLLOWING_DECISIONS
    runtime_params = ("likelihood_window", "multiclass_regression", "hierarchical",
                      "regression_estimator", "decision", "estimate_speed")
    class_overridable = ("states", "gaussians", "relative_regularization",
                         "absolute_regularization", "covariance", "transition")

    def __init__(self, states: int = 10, gaussians: int = 1, *,
                 relative_regularization: float = 0.05, absolute_regularization: float = 0.001,
                 covariance: str = "auto", transition: str = "left-right",
                 hierarchical: bool = True, regression_estimator: str = "full",
                 likelihood_window: int = 5, multiclass_regression: str = "likeliest",
                 em_min_iterations: int = 10, em_max_iterations: int = 0,
                 em_percent_change: float = 0.05, class_params: dict | None = None,
                 n_jobs: int | None = None, decision: str = "cumulative",
                 deltas: bool = True, estimate_speed: bool = False, delta_lag: int = 2) -> None:
        self.decision = decision
        self.estimate_speed = estimate_speed
        self.deltas = deltas
        self.delta_lag = delta_lag
        self.states = states
        self.gaussians = gaussians
        self.relative_regularization = relative_regularization
        self.absolute_regularization = absolute_regularization
        self.covariance = covariance
        self.transition = transition
        self.hierarchical = hierarchical
        self.regression_estimator = regression_estimator
        self.likelihood_window = likelihood_window
        self.multiclass_regression = multiclass_regression
        self.em_min_iterations = em_min_iterations
        self.em_max_iterations = em_max_iterations
        self.em_percent_change = em_percent_change
        self.class_params = class_params
        self.n_jobs = n_jobs

    def _check_common(self) -> None:
        check_size("states", self.states)
        check_size("gaussians", self.gaussians)
        check_choice("transition", self.transition, TRANSITIONS)
        super()._check_common()

    def _check_runtime_params(self) -> None:
        super()._check_runtime_params()
        if not isinstance(self.hierarchical, (bool, np.bool_)):
            raise GesturemapError(f"hierarchical={self.hierarchical!r}: expected True or False.")
        check_choice("regression_estimator", self.regression_estimator, REGRESSION_ESTIMATORS)
        if not isinstance(self.estimate_speed, (bool, np.bool_)):
            raise GesturemapError(
                f"estimate_speed={self.estimate_speed!r}: expected True or False.")

    def check_class_lengths(self, label: Any, lengths: Sequence[int]) -> None:
        """See :meth:`BaseModel.check_class_lengths`: the longest take has at least as many
        frames as the class's states (and enough for its Gaussians per state)."""
        check_hmm_lengths(label, lengths, check_size("states", self.class_param(label, "states")),
                          check_size("gaussians", self.class_param(label, "gaussians")))

    def fit(self, dataset: Any, *, progress: ProgressCallback | None = None,
            cancel: Cancel | None = None) -> HHMM:
        """Train one HMM per class of ``dataset``; returns ``self``."""
        start = time.perf_counter()
        classes = self._begin_fit(dataset)
        em = self._em()

        def fit_one(cd: ClassData, cancel: Cancel) -> dict[str, Any]:
            p = {k: self.class_param(cd.label, k) for k in self.class_overridable}
            tr = check_choice("transition", p["transition"], TRANSITIONS)
            n_states = check_size("states", p["states"])
            n_gauss = check_size("gaussians", p["gaussians"])
            cov = resolve_covariance(p["covariance"], len(cd.joint), n_states * n_gauss,
                                     cd.joint.shape[1], HHMM_AUTO_FULL_FRAMES_PER_DIM)
            out = fit_hmm(cd, n_states, n_gauss,
                          check_float("relative_regularization", p["relative_regularization"]),
                          check_float("absolute_regularization", p["absolute_regularization"]),
                          cov == "diagonal", tr == "left-right", em, cancel)
            out["covariance"] = cov
            out["transition_mode"] = tr
            return out

        fitted = train_classes(classes, fit_one, cancel, progress, self.n_jobs, self)
        self._finish_fit(classes, fitted, time.perf_counter() - start)
        c = len(classes)
        self.top_prior_ = np.full(c, 1.0 / c)
        self.top_transition_ = np.full((c, c), 1.0 / c)
        self.top_exit_transition_ = np.full(c, DEFAULT_EXIT_TRANSITION)
        self.frame_floor_, self.longest_take_ = follow_settings(self, classes)
        return self

    # -- inference -------------------------------------------------------------------------
    def _bank(self) -> dict[str, np.ndarray]:
        bank = getattr(self, "_bank_cache", None)
        if bank is not None:
            return bank
        self._check_fitted()
        cls = self.class_params_
        nmax = max(len(c["prior"]) for c in cls)
        kmax = max(c["weights"].shape[1] for c in cls)
        d_in, d_out = self.model_dim_, self.output_dim_
        terms = [gaussian_terms(c["means"], c["covariances"], d_in, lb)
                 for c, lb in zip(cls, self.labels_, strict=True)]
        bank = {
            "n_states": np.array([len(c["prior"]) for c in cls], dtype=np.int64),
            "n_comp": np.array([c["weights"].shape[1] for c in cls], dtype=np.int64),
            "left_right": np.array([c["transition_mode"] == "left-right" for c in cls]),
            "weights": pad_stack([c["weights"] for c in cls], (nmax, kmax)),
            "mean_in": pad_stack([t.mean_in for t in terms], (nmax, kmax, d_in)),
            "linv_in": pad_stack([t.linv_in for t in terms], (nmax, kmax, d_in, d_in)),
            "lognorm_in": pad_stack([t.lognorm_in for t in terms], (nmax, kmax)),
            "mean_out": pad_stack([t.mean_out for t in terms], (nmax, kmax, d_out)),
            "reg_a": pad_stack([t.reg_a for t in terms], (nmax, kmax, d_out, d_in)),
            "condcov": pad_stack([t.condcov for t in terms], (nmax, kmax, d_out, d_out)),
            "trans": pad_stack([c["transition"] for c in cls], (nmax, nmax)),
            "prior": pad_stack([c["prior"] for c in cls], (nmax,)),
            "exit_p": pad_stack([c["exit_probabilities"] for c in cls], (nmax,)),
            "top_prior": np.ascontiguousarray(self.top_prior_, dtype=np.float64),
            "top_trans": np.ascontiguousarray(self.top_transition_, dtype=np.float64),
            "top_exit": np.ascontiguousarray(self.top_exit_transition_, dtype=np.float64),
        }
        # XMM adds a cyclic transition (last state -> first) when classes run on their own
        cyc = bank["trans"].copy()
        for i, n in enumerate(bank["n_states"]):
            if n > 1:
                cyc[i, n - 1, 0] = CYCLIC_TRANSITION
        bank["trans_cyclic"] = cyc
        self._bank_cache = bank
        return bank

    @property
    def state_frames_(self) -> np.ndarray:
        """(C, N) where each state of each class lies in its gesture, in frames from the start:
        the frames spent in the states before it plus half its own, each state's stay being
        its expected duration ``1 / (1 - a_ii)`` under the trained transitions (capped at
        :data:`MAX_STATE_FRAMES`), the last state's the median of the others' (the takes end
        in it, so training never sees it left). NaN for ergodic classes (no order) and
        padding."""
        b = self._bank()
        c, nmax = b["trans"].shape[:2]
        out = np.full((c, nmax), np.nan)
        for k in range(c):
            n = int(b["n_states"][k])
            if not b["left_right"][k]:
                continue
            stay = np.diagonal(b["trans"][k])[:n]
            frames = np.minimum(1.0 / np.maximum(1.0 - stay, 1.0 / MAX_STATE_FRAMES),
                                MAX_STATE_FRAMES)
            if n > 1:  # the last state never leaves in training (its takes end there)
                frames[-1] = np.median(frames[:-1])
            out[k, :n] = np.cumsum(frames) - frames / 2.0
        return out

    def stream(self) -> HHMMStream:
        """A new run-time stream (its own forward variables) over this trained model.

        The run-time parameters (``hierarchical``, ``regression_estimator``,
        ``multiclass_regression``, ``likelihood_window``) are read now.
        """
        self._check_fitted()
        return HHMMStream(self)

    #: True in a copy made by :meth:`taken_up_anywhere`: its whole-sequence score begins
    #: each class at any of its states
    _anywhere = False

    def taken_up_anywhere(self) -> HHMM:
        """A copy whose whole-sequence score (``log_likelihood``, ``predict``,
        :func:`gesturemap.explain`) takes each class's gesture up at any of its states, as
        the ``"following"`` decision's passes do when it restarts (a left-right class at each
        state alike, an ergodic one at its prior): scored on the frames since a restart, it
        gives the decision's own log-likelihoods, where this model's score would begin every
        left-right class at its first state (a gesture begun at the frame), and may name
        another class. The original is untouched. With ``deltas``, the stream's deltas across
        the restart read the frames before it, which the copy does not see."""
        clone = copy.copy(self)
        clone._anywhere = True
        return clone

    def _sequence_loglik(self, x: np.ndarray) -> np.ndarray:
        b = self._bank()
        out = np.zeros(len(self.labels_))
        left_right, prior = b["left_right"], b["prior"]
        if self._anywhere:  # as _filter._follow takes the classes up (see taken_up_anywhere)
            prior = prior.copy()
            for k, n in enumerate(b["n_states"]):
                if left_right[k]:
                    prior[k, :n] = 1.0 / n
            left_right = np.zeros_like(left_right)  # the kernel then reads ``prior``
        _kernels.hmm_sequence_loglik(self._model_inputs(x), b["n_states"], b["n_comp"],
                                     left_right, prior,
                                     b["trans"], b["weights"], b["mean_in"], b["linv_in"],
                                     b["lognorm_in"], out)
        return out

    # -- saving ----------------------------------------------------------------------------
    _ARRAYS = ("prior", "transition", "weights", "means", "covariances", "exit_probabilities")

    def _state_arrays(self) -> dict[str, np.ndarray]:
        arrays = {"top_prior": self.top_prior_, "top_transition": self.top_transition_,
                  "top_exit_transition": self.top_exit_transition_,
                  # none for an XMM model (no takes): -inf, that restart rule off
                  "frame_floor": getattr(self, "frame_floor_",
                                         np.full(len(self.labels_), -np.inf))}
        for i, c in enumerate(self.class_params_):
            for key in self._ARRAYS:
                if key == "covariances":
                    arrays.update(saved_covariances(f"c{i}_", c[key]))
                else:
                    arrays[f"c{i}_{key}"] = c[key]
        return arrays

    def _state_meta(self) -> dict[str, Any]:
        return {"class_covariance": [c["covariance"] for c in self.class_params_],
                "class_transition": [c["transition_mode"] for c in self.class_params_],
                # an XMM model (gm.load_xmm) has no takes of its own: 0, the following
                # decision's rule on the longest take off
                "longest_take": int(getattr(self, "longest_take_", 0))}

    def _set_state_arrays(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        c = len(self.labels_)
        d = self.model_dim_ + self.output_dim_
        classes = []
        for i in range(c):
            a = {k: (loaded_covariances(f"c{i}_", arrays) if k == "covariances" else
                     np.asarray(arrays[f"c{i}_{k}"], dtype=np.float64)) for k in self._ARRAYS}
            n, k = a["weights"].shape
            shapes = {"prior": (n,), "transition": (n, n), "means": (n, k, d),
                      "covariances": (n, k, d, d), "exit_probabilities": (n,)}
            for key, shape in shapes.items():
                if a[key].shape != shape:
                    raise ValueError(f"class {i} {key} has shape {a[key].shape}, not {shape}")
            if not all(np.isfinite(v).all() for v in a.values()):
                raise ValueError(f"class {i} has non-finite parameters")
            _check_class_probabilities(i, a)
            a["covariance"] = meta["class_covariance"][i]
            a["transition_mode"] = check_choice("transition", meta["class_transition"][i],
                                                TRANSITIONS)
            a["iterations"] = 0
            a["log_likelihood"] = 0.0
            classes.append(a)
        self.class_params_ = classes
        self.top_prior_ = np.asarray(arrays["top_prior"], dtype=np.float64).reshape(c)
        self.top_transition_ = np.asarray(arrays["top_transition"], dtype=np.float64).reshape(c, c)
        self.top_exit_transition_ = np.asarray(arrays["top_exit_transition"],
                                               dtype=np.float64).reshape(c)
        saved_probabilities("top_prior", self.top_prior_, positive_sum=True)
        saved_probabilities("top_transition", self.top_transition_)
        saved_probabilities("top_exit_transition", self.top_exit_transition_)
        # saved before the following decision existed: it never restarts on a floor nor a
        # longest take (it is then the cumulative decision)
        floor = arrays.get("frame_floor")
        self.frame_floor_ = (np.full(c, -np.inf) if floor is None
                             else np.asarray(floor, dtype=np.float64).reshape(c))
        if np.isnan(self.frame_floor_).any() or np.isposinf(self.frame_floor_).any():
            raise ValueError("frame_floor is not finite nor -inf")
        # a frame count the stream compares with its own (an int64): a damaged 1e300 loaded
        # fine and overflowed at the first frame
        self.longest_take_ = int(check_number("longest_take", meta.get("longest_take", 0),
                                              minimum=0, maximum=MAX_LONGEST_TAKE,
                                              integer=True))
        self._bank_cache = None
        self._bank()


class HHMMStream(StreamBase):
    """Run-time state of an :class:`HHMM`: forward variables, buffers, preallocated outputs."""

    def __init__(self, model: HHMM) -> None:
        self.model = model
        b = self._b = model._bank()
        self.labels = list(model.labels_)
        c = len(self.labels)
        nmax, kmax = b["weights"].shape[1:3]
        d_out = model.output_dim_
        self._din = model.input_dim_
        self._frames = DeltaFrames(self._din, bool(model.deltas), int(model.delta_lag))
        self._bimodal = d_out > 0
        self._speed_on = bool(model.estimate_speed)
        # a classifier: the engine sends from views() (no speed there)
        self.lean = not self._bimodal and not self._speed_on
        self._seen = 0  # frames since the reset (the speed's clock)
        self._state_frames = model.state_frames_ if self._speed_on else None
        #: the last speed of each class (kept where a class has no forward mass left)
        self._last_speed = np.ones(c)
        self._best = -1
        self._hier = bool(model.hierarchical)
        self._trans = b["trans"] if self._hier else b["trans_cyclic"]
        self._estimator = REGRESSION_ESTIMATORS.index(model.regression_estimator)
        self._mixture = model.multiclass_regression == "mixture"
        self._mode, self._keep = decision_settings(model.decision, model.likelihood_window,
                                                   model.decisions)
        self._restart = 1.0 - self._keep
        # the following decision's floors and horizon (a model without them: never restarts)
        floor = getattr(model, "frame_floor_", None)
        self._floor = (np.full(c, -np.inf) if floor is None
                       else np.array(floor, dtype=np.float64))
        self._longest = int(getattr(model, "longest_take_", 0) or 0)
        self._since = np.zeros(3, dtype=np.int64)
        self._dalpha = np.zeros((c, nmax))
        self._dlik = np.zeros(c)
        self._acc = np.zeros(c)
        self._started = np.zeros(1, dtype=np.int64)
        self._alpha = np.zeros((c, 3, nmax))
        # the window's buffer is only read by the window decision
        window = int(model.likelihood_window) if self._mode == _filter.DECISION_WINDOW else 1
        self._logbuf = np.zeros((c, window))
        self._counts = np.zeros(c, dtype=np.int64)
        self._pos = np.zeros(c, dtype=np.int64)
        self._emis = np.zeros((c, nmax))
        self._compb = np.zeros((c, nmax, kmax))
        self._front = np.zeros(nmax)
        self._v1 = np.zeros(c)
        self._v2 = np.zeros(c)
        self._sout = np.zeros(d_out)
        self._scov = np.zeros((d_out, d_out))
        # what the Result shows, in one buffer each (FrozenBlock: one copy a frame), in the
        # kernel's argument order, so the compiled path's packing keeps them one block
        self._block = FrozenBlock(inst=(c,), exit=(c,), exit_ratio=(c,), slog=(c,),
                                  inorm=(c,), snorm=(c,), progress=(c,))
        self._inst, self._exit, self._exit_ratio, self._slog, self._inorm, self._snorm, \
            self._progress = self._block.arrays.values()
        self._out_block = FrozenBlock(out=(d_out,), cov=(d_out, d_out), cout=(c, d_out),
                                      ccov=(c, d_out, d_out))
        self._out, self._cov, self._cout, self._ccov = self._out_block.arrays.values()
        self._lstate = np.zeros(c, dtype=np.int64)
        # the kernel's arguments, by name (the arrays above, shared, not copied)
        self._args = _filter.HHMMArgs(
            started=self._started, hierarchical=self._hier, estimator=self._estimator,
            mixture=self._mixture, bimodal=self._bimodal, n_states=b["n_states"],
            n_comp=b["n_comp"], left_right=b["left_right"], weights=b["weights"],
            means_in=b["mean_in"], linv_in=b["linv_in"], lognorm_in=b["lognorm_in"],
            trans=self._trans, class_prior=b["prior"], exit_p=b["exit_p"],
            top_prior=b["top_prior"], top_trans=b["top_trans"], top_exit=b["top_exit"],
            mean_out=b["mean_out"], reg_a=b["reg_a"], condcov=b["condcov"], alpha=self._alpha,
            mode=self._mode, keep=self._keep, restart=self._restart, trans_plain=b["trans"],
            dalpha=self._dalpha, dlik=self._dlik, acc=self._acc, logbuf=self._logbuf,
            counts=self._counts, pos=self._pos, emis=self._emis, compb=self._compb,
            front=self._front, v1=self._v1, v2=self._v2, state_out=self._sout,
            state_cov=self._scov, inst=self._inst, exit_lik=self._exit,
            exit_ratio=self._exit_ratio, smoothed_log=self._slog, inst_norm=self._inorm,
            smoothed_norm=self._snorm, progress=self._progress,
            likeliest_state=self._lstate, class_out=self._cout, class_cov=self._ccov,
            out=self._out, cov=self._cov, floor=self._floor, ratio=float(FOLLOW_RATIO),
            longest=self._longest, horizon=int(np.ceil(FOLLOW_HORIZON_TAKES * self._longest)),
            since=self._since)

    def reset(self) -> None:
        """Forget the frames seen so far: the next frame starts a new forward pass."""
        self._started[0] = 0
        self._since[:] = 0
        self._best = -1
        self._seen = 0
        self._last_speed[:] = 1.0
        self._counts[:] = 0
        self._pos[:] = 0
        self._progress[:] = 0.0
        self._frames.reset()

    @property
    def decided_frames(self) -> int | None:
        """The frames a ``"following"`` decision reads now: those since the last reset or
        restart (None for the other decisions, or before a frame)."""
        if self._mode != _filter.DECISION_FOLLOWING or not self._started[0]:
            return None
        return int(self._since[0]) + 1

    @property
    def decided_from(self) -> int | None:
        """Where the frames a ``"following"`` decision reads begin, counted from the first
        frame since the last reset (0): 0 while it has not restarted since; past a restart
        the frame it restarted on, where its passes took each class up at any of its states
        (score them with :meth:`HHMM.taken_up_anywhere`). It changes only at a reset or a
        restart, so a copy of the frames since the reset taken a few frames later still finds
        them (``decided_frames`` counts back from the latest frame). None for the other
        decisions, or before a frame."""
        if self._mode != _filter.DECISION_FOLLOWING or not self._started[0]:
            return None
        # since[1] counts the frames since the reset, since[0] those since the reset or
        # restart: equal until a restart zeroes since[0]
        return int(self._since[1]) - int(self._since[0])

    @property
    def alpha(self) -> np.ndarray:
        """(C, 3, N) forward variables (in-gesture, exit to any class, exit to the top)."""
        return self._alpha.copy()

    def advance(self, frame: Any) -> int:
        """Filter one (D_in,) frame; the label's index (:meth:`current` builds the Result)."""
        best = self._best = int(STEP.hhmm_step(self._frames(self._check_frame(frame)),
                                                  *self._args))
        self._seen += 1
        return best

    def _speed(self) -> np.ndarray:
        """(C,) each class's time-warp speed: the expected position in its states (in the
        training takes' frames) over the frames seen since the reset."""
        return _kernels.time_warp_speed(self._alpha, self._state_frames, self._seen,
                                        self._last_speed)

    def current(self) -> Result | None:
        """The last frame's frozen :class:`Result`, built from the stream's state."""
        best = self._best
        if best < 0:
            return None
        inst, exit_, ratio, slog, inorm, snorm, progress = self._block.frozen()
        if not self._hier:
            exit_ = ratio = None
        out, cov, cout, ccov = self._out_block.frozen() if self._bimodal else (None,) * 4
        return Result(
            label=self.labels[best], label_index=best, likelihoods=snorm,
            log_likelihoods=slog, instant_likelihoods=inst,
            instant_normalized_likelihoods=inorm, progress=progress,
            likeliest_state=_frozen(self._lstate), exit_likelihoods=exit_, exit_ratios=ratio,
            output=out, output_covariance=cov, class_outputs=cout,
            class_output_covariances=ccov,
            speed=_frozen(self._speed()) if self._speed_on else None,
        )

    def step(self, frame: Any) -> Result:
        """Filter one (D_in,) frame; returns a frozen :class:`Result`."""
        self.advance(frame)
        return self.current()  # type: ignore[return-value]

    def views(self) -> tuple[np.ndarray, np.ndarray | None]:
        return self._snorm, self._progress
