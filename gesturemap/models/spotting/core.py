"""Continuous spotting with null rejection: gestures found in an unsegmented stream.

A :class:`Spotter` wraps a trained model and emits one :class:`Event` per detected gesture,
causally (an event emitted at frame ``t`` used frames ``0..t`` only), and nothing for anything
else. :func:`spot` runs the same frame-by-frame code over a whole recording.

How (HHMM and GMM): every gesture class's HMM (a GMM is a one-state HMM) is matched against the
stream with a free start — a Viterbi pass in which a match may begin at any frame, the HMM
counterpart of open-begin DTW — each frame scored by its log-likelihood ratio between the
class's state and a **null model**:

- with non-gesture takes (recordings labelled :data:`NULL`, trained as a class of the model),
  the null model is the mixture of that class's states;
- without them, Lee & Kim's (1999) threshold model: every gesture state in one ergodic model
  with uniform transitions, whose per-frame likelihood is the plain mixture of all states;
- ``null_model="null+gestures"`` with null takes: both, half the mass each.

A match's score is its summed log-likelihood ratio. A class's match counts once its score
reaches ``relative_threshold`` times the class's *typical* score (what a take of the class is expected to
score, computed from the trained states: each state's expected log-likelihood ratio, estimated on
frames drawn from the state, times its expected duration ``1 / (1 - a_ii)``), and once it spans
``min_duration`` times the class's expected duration. Classes compete by score (the likeliest
explanation of the stream wins); the best candidate is emitted when its score has not improved
for ``hold_frames`` frames (so ``end`` is the frame where the match peaked), then
``refractory_frames`` frames ignore everything and every partial match starts afresh. The
thresholds are model-implied, so one number fits gestures of any length, dimension or
rate.

DTW: each class's open-begin DTW distance (the model's stream) is the score; a class counts
while its distance is under ``relative_threshold`` times the model's calibrated ``threshold_``;
a class named in ``thresholds`` has that absolute score (or distance) instead.

The defaults were chosen by leave-subjects-out cross-validation on HAPT's training subjects
(see docs/spotting.md).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from ...errors import GesturemapError
from .._gaussian import gaussian_terms, pad_stack
from ..base import (
    ChannelDropStream,
    Result,
    StreamBase,
    bad_param,
    check_choice,
    check_float,
    check_int,
    check_model,
    frame_dim,
)
from ..gmm import DeltaFrames
from . import _kernels as _k
from .detector import DetectorMerge, WindowDetector
from .verifier import NULL, SETTLE_LONG, SpotVerifier  # NULL: gm.NULL, beside it
from .waiting import VerifierQueue, as_int_label

#: Defaults chosen by leave-subjects-out cross-validation on HAPT (docs/spotting.md).
DEFAULT_THRESHOLD = 0.4
DEFAULT_MIN_DURATION = 0.3
DEFAULT_HOLD_FRAMES = 10
DEFAULT_REFRACTORY_FRAMES = 25
DEFAULT_MAX_STAY = 1.0
DEFAULT_MAX_DURATION = 2.0
DEFAULT_MIN_STAY = 0.0
#: Chosen by the nested leave-subjects-out CV on HAPT in every outer fold (docs/spotting.md).
DEFAULT_DEFER_FRAMES = 50
#: 0: a deferring rival counts by its partial score alone (every inner CV on HAPT chose 0
#: over 1).
DEFAULT_DEFER_PROJECTION = 0.0
#: 0: a candidate due for emission does not wait for the movement to settle.
DEFAULT_SETTLE_FRAMES = 0
#: Settled: the short motion average below this fraction of the long one. 0.8: the best ratio
#: of an inner-fold exploration on HAPT's training subjects (0.3 to 1.2 at 50 frames), the
#: one the nested run then measured.
DEFAULT_SETTLE_RATIO = 0.8
#: "null": the null class's states when there are null takes (else every gesture state);
#: "null+gestures": with null takes, those and every gesture state, half the mass each.
NULL_MODELS = ("null", "null+gestures")
DEFAULT_NULL_MODEL = "null"
#: False: a partial match longer than ``max_duration`` allows is refused at the decision only,
#: and may keep its state from a younger match meanwhile (bounding them gained +0.005 on HAPT's
#: inner folds, but a paired held-out run on fresh partitions scored 0.767 with against 0.788
#: without, so off; docs/spotting.md).
DEFAULT_BOUND_MATCHES = False
#: A GMM has no duration model: its class's typical gesture lasts this many frames.
DEFAULT_GMM_FRAMES = 50
#: the model kinds a stream can spot gestures over
SPOT_KINDS = ("hhmm", "gmm", "dtw")
#: Frames drawn from each state to estimate its expected log-likelihood ratio (fixed seed).
CALIBRATION_SAMPLES = 256
#: A state's expected duration is capped (a state that never leaves would make it infinite).
MAX_STATE_FRAMES = 1000.0


@dataclass(frozen=True, slots=True)
class Event:
    """One detected gesture.

    Attributes
    ----------
    label : the gesture's label.
    start, end : first and last frame of the match (frame indices since the stream began or
        was reset).
    emitted : the frame at which the event was emitted (causal: frames ``0..emitted`` were used);
        ``emitted >= end``.
    score : the match's score (summed log-likelihood ratio against the null model for HMMs;
        threshold minus distance for DTW).
    """

    label: Any
    start: int
    end: int
    emitted: int
    score: float


#: ``Spotter``'s default ``verifier`` and ``detector``: the model's own, if it has one
#: (:func:`model_spotting`)
FROM_MODEL = "model"


def _from_model(value: Any) -> bool:
    return isinstance(value, str) and value == FROM_MODEL


class Spotter:
    """A trained model's spotting parameters: read-only, shared by many streams.

    Parameters
    ----------
    model : a fitted :class:`~gesturemap.HHMM`, :class:`~gesturemap.GMM` or
        :class:`~gesturemap.DTW`. Its class :data:`NULL` (``null_label``), if any, is the null
        model and is never emitted.
    relative_threshold : a match counts from this fraction of its class's typical score
        (HMMs), or while its distance is under this times the model's ``threshold_`` (DTW);
        default 0.4. One number for every class: the thresholds are model-implied.
    thresholds : optional ``{label: score}``: those classes' own absolute thresholds (scores,
        or DTW distances, as a rehearsal audit reports them in ``audit.thresholds``),
        overriding the relative one; the classes it does not name keep it.
    min_duration : a match counts when it spans at least this fraction of its class's expected
        duration (HMMs: from the transition probabilities; DTW: the class's median take).
    hold_frames : a candidate is emitted once its score has not improved for this many frames.
    refractory_frames : frames after an event during which nothing else is emitted.
    null_label : the label of the non-gesture class (default :data:`NULL`).
    null_model : HMMs: what each frame's likelihood ratio is taken against. ``"null"``
        (default): the null class's states when the model has one, else every gesture state
        (Lee & Kim's threshold model). ``"null+gestures"``: with a null class, the mixture of
        its states (half the mass, each state alike) and of every gesture state (the other
        half, each state alike), so that no gesture state can out-explain the null model by
        more than ``log(2 * gesture states)`` per frame (a posture the null takes never show
        is not a gesture's for that alone); without a null class the same as ``"null"``.
    gmm_frames : typical duration of a GMM class, in frames (a GMM has no duration model).
    max_duration : a match counts when it spans at most this many times its class's expected
        duration.
    min_stay : a match leaves a state only after this fraction of the state's expected
        duration (so a class cannot rush through the states that tell it from another): one
        number for every class, or a dict ``{label: fraction}`` of classes' own (a gesture
        whose performers differ most in how long they hold its first posture may need none
        while the others need it); the classes it does not name keep the default, 0.
    max_stay : after this many times its expected duration in one state, a match gains nothing
        more there (frames can only lower its score): a start posture held for long is not
        more of the gesture.
    defer_frames : HMMs: a candidate due for emission waits up to this many more frames while
        another class's partial match, begun by the candidate's end and past its first state,
        scores above it (the candidate may be the first part of a longer gesture: stand-to-sit
        inside stand-to-lie); if that match completes above it, it is emitted instead. 0: off.
    defer_projection : a rival counts as above the candidate when its partial score plus this
        fraction of what its remaining states typically add (their share of the class's
        typical score) is above it; 0: its partial score alone.
    settle_frames : HMMs: a candidate due for emission waits up to this many more frames
        while the stream is still moving (its motion energy — squared frame-to-frame change —
        averaged over about 0.2 s is above ``settle_ratio`` times its average over about 2 s);
        a class whose match completes above it meanwhile replaces it, so the event is named
        once the movement is over (a stand-to-sit that goes on lying down is a stand-to-lie).
        0: off.
    settle_ratio : the movement has settled when the short motion average is below this
        fraction of the long one.
    bound_matches : HMMs: drop a partial match inside the Viterbi pass once it spans more
        frames than ``max_duration`` allows, so that a younger match may take its state (by
        default such a match is only refused when it completes).
    verifier : a :class:`~.spot_verifier.SpotVerifier` (or its ``to_dict()``), trained for
        this model's gesture labels (``gm.fit_verifier``): each emitted event is checked on its
        frames ``start .. emitted`` and dropped (the verifier says null) or relabelled.
        ``"model"`` (default): the one ``gm.auto`` trained for the model from a dataset's
        rehearsals (:func:`model_spotting`), if any. None: events are emitted as the
        spotter finds them.
    verifier_frames : the most recent frames a stream keeps for the verifier (an event's frames
        before them are not seen, in a stream and in :meth:`spot` alike). Default: the longest
        event the settings allow (``max_duration`` times the longest class's expected duration,
        plus ``hold_frames``, ``defer_frames`` and ``settle_frames``). A verifier with a
        ``context`` also sees that many frames before each event's start, one with a ``wait``
        that many after the spotter's emission (the event comes that much later): the ring
        holds ``verifier_frames + context + wait`` frames (``ring_frames_``).
    detector : a :class:`~.detector.WindowDetector` (or its ``to_dict()``) trained for this
        model's gesture labels and frames (``gm.fit_detector``), merged causally with the
        spotter's events (after the verifier): a spotter's event passes unless the detector
        gave its gesture under the detector's ``support`` over its last ``gap`` frames; the
        detector's own event is held ``hold`` frames and passes when no event passed in the
        ``gap`` frames before; nothing passes within ``gap`` frames after a passed event.
        ``"model"`` (default): the one ``gm.auto`` trained for the model from a dataset's
        rehearsals, if any. None: the spotter's events only.
    costs : optional error costs ``{label: cost of a false trigger}`` or ``{label: {"false":
        c, "miss": c}}`` (:func:`~.costs.check_costs`; a rehearsal audit chooses
        ``thresholds`` that follow them). HMMs: a class whose false trigger costs more than
        1 competes from a lower score than its threshold (``"competes_from"`` in its costs,
        as the rehearsal audit stores it: its threshold without the cost; else its
        ``relative_threshold`` level): when its match is the likeliest there but below its
        threshold, nothing fires (the movement looks most like that gesture; firing the
        runner-up instead would be a false trigger too), rather than the runner-up.
    threshold, min_stays : the names of earlier releases for ``relative_threshold`` and the
        dict of ``min_stay``: still accepted (with a DeprecationWarning).

    Attributes
    ----------
    relative_threshold, thresholds : the fraction for every class, and the classes' own
        scores (``{label: score}``); ``threshold`` is the fraction too (its earlier name).
    min_stay, min_stays : the fraction for every class, and the classes' own
        (``{label: fraction}``), as given by ``min_stay`` (and ``min_stays``).
    """

    def __init__(self, model: Any, *, relative_threshold: float = DEFAULT_THRESHOLD,
                 thresholds: dict | None = None,
                 min_duration: float = DEFAULT_MIN_DURATION,
                 hold_frames: int = DEFAULT_HOLD_FRAMES,
                 refractory_frames: int = DEFAULT_REFRACTORY_FRAMES,
                 null_label: Any = NULL,
                 gmm_frames: int = DEFAULT_GMM_FRAMES,
                 max_stay: float = DEFAULT_MAX_STAY,
                 max_duration: float = DEFAULT_MAX_DURATION,
                 min_stay: float | dict = DEFAULT_MIN_STAY,
                 defer_frames: int = DEFAULT_DEFER_FRAMES,
                 defer_projection: float = DEFAULT_DEFER_PROJECTION,
                 settle_frames: int = DEFAULT_SETTLE_FRAMES,
                 settle_ratio: float = DEFAULT_SETTLE_RATIO,
                 null_model: str = DEFAULT_NULL_MODEL,
                 bound_matches: bool = DEFAULT_BOUND_MATCHES,
                 verifier: Any = FROM_MODEL, verifier_frames: int | None = None,
                 costs: dict | None = None, detector: Any = FROM_MODEL,
                 threshold: float | None = None,
                 min_stays: dict[Any, float] | None = None) -> None:
        check_model("Spotter(model)", model)
        model._check_fitted()
        self.model = model
        for old, given in (("threshold", threshold), ("min_stays", min_stays)):
            if given is not None:
                warnings.warn(f"Spotter: {old!r} is deprecated; use {RENAMED[old]!r}"
                              f"{RENAMED_HOW[old]}.", DeprecationWarning, stacklevel=2)
        if threshold is not None:
            if relative_threshold != DEFAULT_THRESHOLD:
                raise bad_param("threshold", threshold, "nothing beside relative_threshold "
                                "(its new name): give relative_threshold only")
            relative_threshold = threshold
        if thresholds is not None and not isinstance(thresholds, dict):
            raise bad_param("thresholds", thresholds, "a dict {label: score} of classes' own "
                            "absolute thresholds (one fraction of every class's typical score "
                            "is relative_threshold)")
        min_stay, min_stays = per_class_setting("min_stay", min_stay, min_stays)
        self.relative_threshold = check_value("relative_threshold", relative_threshold)
        self.threshold = self.relative_threshold  # its earlier name, still read
        self.min_duration = check_value("min_duration", min_duration)
        self.hold_frames = check_value("hold_frames", hold_frames)
        self.refractory_frames = check_value("refractory_frames", refractory_frames)
        self.gmm_frames = check_value("gmm_frames", gmm_frames)
        self.max_stay = check_value("max_stay", max_stay)
        self.max_duration = check_value("max_duration", max_duration)
        self.min_stay = check_value("min_stay", min_stay)
        self.defer_frames = check_value("defer_frames", defer_frames)
        self.defer_projection = check_value("defer_projection", defer_projection)
        self.settle_frames = check_value("settle_frames", settle_frames)
        self.settle_ratio = check_value("settle_ratio", settle_ratio)
        self.null_label = null_label
        self.null_model = check_choice("null_model", null_model, NULL_MODELS)
        self.bound_matches = check_bound(bound_matches)
        labels = list(model.labels_)
        self.labels = [lb for lb in labels if lb != null_label]
        if not self.labels:
            raise GesturemapError(
                "the model knows only the null class: record takes of at least one gesture.")
        self.thresholds = self._per_class("thresholds", thresholds or {}, "score")
        self.min_stays = {lb: check_value("min_stay", v) for lb, v in
                          self._per_class("min_stay", min_stays, "fraction").items()}
        self._class_index = [labels.index(lb) for lb in self.labels]
        self.has_null_ = null_label in labels
        kind = getattr(model, "kind", "")
        if kind in ("hhmm", "gmm"):
            self.mode = "hmm"
            self._build_hmm(labels)
        elif kind == "dtw":
            self.mode = "dtw"
            self._build_dtw()
        else:
            raise GesturemapError(
                f"spotting works over HHMM, GMM and DTW models, not {type(model).__name__}: "
                "train one of those (e.g. gm.HHMM()) to spot gestures in a stream.")
        self.thresholds_ = np.array([
            float(self.thresholds[lb]) if lb in self.thresholds else self.threshold * s
            for lb, s in zip(self.labels, self.typical_scores_, strict=True)])
        self.costs = self._checked_costs(costs)
        self.compete_ = self._compete_levels()
        # classes compete by their summed log-likelihood ratio (the likeliest explanation of
        # the stream wins); DTW's by the distance relative to the class's limit
        self.scale_ = np.ones(len(self.labels))
        self.max_length_ = np.ceil(self.max_duration * self.expected_frames_).astype(np.int64)
        if self.mode == "dtw":
            # DTW's score is (threshold - distance): it counts from 0
            self.thresholds_ = np.zeros(len(self.labels))
            self._dtw_limit = np.array([
                float(self.thresholds[lb]) if lb in self.thresholds
                else self.threshold * self.model.threshold_ for lb in self.labels])
            self.scale_ = np.maximum(self._dtw_limit, 1e-12)
            self.compete_ = self.thresholds_.copy()  # costs act through the limits only
        own = model_spotting(model)
        self._set_verifier(own.get("verifier") if _from_model(verifier) else verifier,
                           verifier_frames)
        self._set_detector(own.get("detector") if _from_model(detector) else detector)

    def retune(self, thresholds: dict | None = None, costs: dict | None = None) -> None:
        """Follow new per-class ``thresholds`` and ``costs`` (as the constructor takes them)
        in place: the streams running over this spotter decide by them from their next step
        and keep their state (a gesture under way is not lost), and nothing is calibrated
        again. Everything is checked before anything changes: a bad value raises and the
        spotter is as it was."""
        if thresholds is not None and not isinstance(thresholds, dict):
            raise bad_param("thresholds", thresholds, "a dict {label: score}")
        per = self._per_class("thresholds", thresholds or {}, "score")
        checked = self._checked_costs(costs)
        if self.mode == "dtw":
            limit = np.array([float(per[lb]) if lb in per
                              else self.threshold * self.model.threshold_ for lb in self.labels])
            self.thresholds, self.costs = per, checked
            self._dtw_limit[:] = limit
            self.scale_[:] = np.maximum(limit, 1e-12)
            return
        new = np.array([float(per[lb]) if lb in per else self.threshold * s
                        for lb, s in zip(self.labels, self.typical_scores_, strict=True)])
        old = (self.thresholds, self.costs, self.thresholds_.copy())
        self.thresholds, self.costs = per, checked
        self.thresholds_[:] = new
        try:
            compete = self._compete_levels()
        except Exception:
            self.thresholds, self.costs, self.thresholds_[:] = old[0], old[1], old[2]
            raise
        self.compete_[:] = compete

    def _checked_costs(self, costs: Any) -> dict[str, dict[str, float]]:
        """The error costs checked, each key a gesture label (as text)."""
        from .costs import check_costs

        checked = check_costs(costs)
        self._per_class("costs", checked, "costs")  # every key a gesture label
        return checked

    def _compete_levels(self) -> np.ndarray:
        """(C,) the score from which each class's match takes part in the decision: its
        threshold, or for a class whose false trigger is costly (cost above 1) the lower
        score its threshold was raised from (its costs' ``competes_from``, the threshold the
        rehearsal audit chose for it without its cost; else its ``relative_threshold``
        level). Between the two, its match fires nothing and holds back any less likely
        rival: the decision that follows the costs (on a movement that looks most like the
        costly gesture, firing the runner-up would add a false trigger of the runner-up to
        the miss that holding the costly gesture back already risks; firing nothing adds
        nothing)."""
        from .costs import COMPETES_FROM, cost_of

        level = self.threshold * self.typical_scores_
        out = self.thresholds_.copy()
        for i, lb in enumerate(self.labels):
            if cost_of(self.costs, lb, "false") > 1.0:
                given = self.costs.get(str(lb), {}).get(COMPETES_FROM)
                out[i] = min(out[i], level[i] if given is None else float(given))
        return out

    def _per_class(self, name: str, given: Any, what: str) -> dict[Any, Any]:
        """A per-class setting ``{label: what}`` with its keys as the gesture labels (a
        numbered class may be keyed by its number as text, as JSON settings are); a key that is
        not a gesture label is refused, naming the labels."""
        if given is None:
            return {}
        if not isinstance(given, dict):
            raise bad_param(name, given, f"a dict {{label: {what}}}")
        by_text = {str(lb): lb for lb in self.labels}
        out = {}
        for k, v in given.items():
            lb = k if k in self.labels else by_text.get(k, k)
            if lb not in self.labels:
                raise bad_param(f"{name} key", k, "one of the gesture labels " +
                                ", ".join(repr(x) for x in self.labels))
            out[lb] = v
        return out

    def _set_verifier(self, verifier: Any, frames: int | None) -> None:
        # the longest event the settings allow, first frame to emission: a match spans at most
        # max_length_ frames, and is emitted at most hold + defer / settle frames after its end
        self.event_frames_ = int(np.max(self.max_length_)) + int(self.hold_frames) + int(
            self.defer_frames) + int(self.settle_frames) + 1
        self.verifier = None if verifier is None else built_once(verifier, SpotVerifier.from_dict)
        self.verifier_frames_ = self.ring_frames_ = 0
        if self.verifier is None:
            return
        names = [str(lb) for lb in self.labels]
        wrong = self.verifier.mismatch(names, frame_dim(self.model))
        if wrong:
            raise GesturemapError(f"spotting verifier: {wrong}: train the verifier again for "
                                  "this model (gm.fit_verifier).")
        self._by_text = dict(zip(names, self.labels, strict=True))
        self._typical = dict(zip(self.labels, self.typical_scores_.tolist(), strict=True))
        self.verifier_frames_ = self.event_frames_ if frames is None else check_int(
            "verifier_frames", frames, 1)
        # (a verifier that waits for the movement to settle also reads the 2 s before each
        # frame it checks, and an event may be read a little late behind another)
        v = self.verifier
        self.ring_frames_ = self.verifier_frames_ + v.context + v.wait + v.settle + (
            2 * SETTLE_LONG if v.settle else 0)

    def _set_detector(self, detector: Any) -> None:
        self.detector = (None if detector is None
                         else built_once(detector, WindowDetector.from_dict))
        if self.detector is None:
            return
        wrong = self.detector.mismatch(self.labels, frame_dim(self.model))
        if wrong:
            raise GesturemapError(f"spotting detector: {wrong}: train the detector again for "
                                  "this model (gm.fit_detector).")

    # -- HMM / GMM -------------------------------------------------------------------------
    def _class_hmm(self, i: int) -> tuple[np.ndarray, ...]:
        """(weights (N,K), means (N,K,D), covs (N,K,D,D), trans (N,N), prior (N,)) of class i,
        over the model's whole input part (D = ``model_dim_``: the raw inputs, then their
        deltas when the model was trained with ``deltas``), without the regression outputs."""
        m = self.model
        c = m.class_params_[i]
        d = m.model_dim_
        if m.kind == "hhmm":
            return (c["weights"], c["means"][..., :d], c["covariances"][..., :d, :d],
                    c["transition"], c["prior"])
        stay = 1.0 - 1.0 / self.gmm_frames
        return (c["weights"][None], c["means"][None, :, :d], c["covariances"][None, :, :d, :d],
                np.array([[stay]]), np.array([1.0]))

    def _build_hmm(self, labels: list[Any]) -> None:
        d = self.model.model_dim_
        hmms = [self._class_hmm(i) for i in range(len(labels))]
        gest = [hmms[i] for i in self._class_index]
        nmax = max(h[0].shape[0] for h in gest)
        kmax = max(h[0].shape[1] for h in gest)
        terms = [gaussian_terms(h[1], h[2], d) for h in gest]
        log_trans, log_prior, durations = [], [], []
        for h in gest:
            trans = np.array(h[3], dtype=np.float64)
            n = len(trans)
            stays = np.clip(np.diag(trans), 0.0, 1.0 - 1.0 / MAX_STATE_FRAMES)
            if n > 1 and np.allclose(np.triu(trans, 2), 0) and np.allclose(np.tril(trans, -1), 0):
                # left-right: training leaves the last state's self-loop at 1 (it never
                # leaves); give it the others' mean duration so that a match cannot grow for
                # ever in the gesture's end posture
                stays[-1] = float(np.exp(np.mean(np.log(stays[:-1]))))
                trans = trans.copy()
                trans[-1, -1] = stays[-1]
            with np.errstate(divide="ignore"):
                lt = np.where(trans > 0, np.log(np.maximum(trans, 1e-300)), -np.inf)
                lp = np.where(h[4] > 0, np.log(np.maximum(h[4], 1e-300)), -np.inf)
            log_trans.append(lt)
            log_prior.append(lp)
            durations.append(1.0 / (1.0 - stays))
        self._b = {
            "n_states": np.array([h[0].shape[0] for h in gest], dtype=np.int64),
            "n_comp": np.array([h[0].shape[1] for h in gest], dtype=np.int64),
            "weights": pad_stack([h[0] for h in gest], (nmax, kmax)),
            "means": pad_stack([t.mean_in for t in terms], (nmax, kmax, d)),
            "linv": pad_stack([t.linv_in for t in terms], (nmax, kmax, d, d)),
            "lognorm": pad_stack([t.lognorm_in for t in terms], (nmax, kmax)),
            "log_prior": np.full((len(gest), nmax), -np.inf),
        }
        lt = np.full((len(gest), nmax, nmax), -np.inf)
        for i, a in enumerate(log_trans):
            lt[i, :len(a), :len(a)] = a
            self._b["log_prior"][i, :len(a)] = log_prior[i]
        self._b["log_trans"] = lt
        # the null model: the null class's states, else every gesture state (Lee & Kim);
        # "null+gestures": both, half the mass each
        parts = [[hmms[labels.index(self.null_label)]]] if self.has_null_ else [gest]
        if self.has_null_ and self.null_model == "null+gestures":
            parts.append(gest)
        w, mu, cov = [], [], []
        for null_src in parts:
            n_states_total = len(parts) * sum(h[0].shape[0] for h in null_src)
            for h in null_src:
                for j in range(h[0].shape[0]):
                    for k in range(h[0].shape[1]):
                        if h[0][j, k] > 0:
                            w.append(h[0][j, k] / n_states_total)
                            mu.append(h[1][j, k])
                            cov.append(h[2][j, k])
        nt = gaussian_terms(np.array(mu), np.array(cov), d)
        self._null = {"w": np.array(w), "mean": nt.mean_in, "linv": nt.linv_in,
                      "lognorm": nt.lognorm_in}
        # typical score and expected duration of each class, from its trained states
        rng = np.random.default_rng(0)
        typical, expected = [], []
        # what the states after each one typically add to a match (for defer_projection)
        to_go = np.zeros_like(self._b["log_prior"])
        for ci, h in enumerate(gest):
            total = 0.0
            per_state = np.zeros(h[0].shape[0])
            for j in range(h[0].shape[0]):
                w = h[0][j] / h[0][j].sum()
                comp = rng.choice(len(w), size=CALIBRATION_SAMPLES, p=w)
                z = rng.standard_normal((CALIBRATION_SAMPLES, d))
                frames = np.empty((CALIBRATION_SAMPLES, d))
                for k in np.unique(comp):
                    sel = comp == k
                    chol = np.linalg.cholesky(h[2][j, k])
                    frames[sel] = h[1][j, k] + z[sel] @ chol.T
                per_state[j] = durations[ci][j] * float(np.mean(self._frame_llr(frames, ci, j)))
                total += per_state[j]
            after = np.cumsum(per_state[::-1])[::-1] - per_state
            to_go[ci, :len(after)] = np.maximum(after, 0.0)
            typical.append(total)
            expected.append(float(np.sum(durations[ci])))
        self.typical_scores_ = np.array(typical)
        self.expected_frames_ = np.array(expected)
        self._to_go = np.ascontiguousarray(self.defer_projection * to_go)
        if np.any(self.typical_scores_ <= 0):
            bad = [lb for lb, s in zip(self.labels, typical, strict=True) if s <= 0]
            raise GesturemapError(
                f"gesture(s) {bad!r} are no more likely under their own model than under the "
                "null model: their takes look like the null takes. Record clearer takes, or "
                "fewer or different null takes.")
        self.min_length_ = np.maximum(1, np.floor(self.min_duration * self.expected_frames_)
                                      ).astype(np.int64)
        stay = np.zeros_like(self._b["weights"][:, :, 0])
        least = np.zeros_like(stay)
        for i, dur in enumerate(durations):
            stay[i, :len(dur)] = np.maximum(1.0, np.ceil(self.max_stay * dur))
            least[i, :len(dur)] = np.floor(self.min_stays.get(self.labels[i], self.min_stay)
                                           * dur)
        self._max_stay = stay
        self._min_stay = least

    def _frame_llr(self, frames: np.ndarray, ci: int, j: int) -> np.ndarray:
        """(T,) each frame's clipped ratio between class ``ci``'s state ``j`` and the null
        model; ``frames`` (T, model dimensions): what the Gaussians see (with deltas, the
        inputs and their deltas). A diagnostic, never on the real-time path."""
        b, nl = self._b, self._null
        frames = np.ascontiguousarray(frames, dtype=np.float64)
        dim = b["means"].shape[-1]
        if frames.ndim != 2 or frames.shape[1] != dim:
            raise GesturemapError(
                f"frames of shape {frames.shape} for a model of {dim} dimensions: give the "
                "frames as the model's Gaussians see them (inputs, then their deltas when the "
                "model has deltas)")
        out = np.empty(len(frames))
        _k.frame_llr(frames, b["weights"][ci, j], b["means"][ci, j], b["linv"][ci, j],
                     b["lognorm"][ci, j], b["n_comp"][ci], nl["w"], nl["mean"], nl["linv"],
                     nl["lognorm"], out)
        return out

    # -- DTW -------------------------------------------------------------------------------
    def _build_dtw(self) -> None:
        m = self.model
        lengths = np.diff(m.offsets_)
        med = [float(np.median(lengths[m.template_class_ == i])) for i in self._class_index]
        self.expected_frames_ = np.array(med)
        self.typical_scores_ = np.ones(len(self.labels))
        self.min_length_ = np.maximum(1, np.floor(self.min_duration * self.expected_frames_)
                                      ).astype(np.int64)
        self._template_lengths = lengths

    # -- running ---------------------------------------------------------------------------
    def stream(self) -> SpottingStream:
        """A new spotting stream (its own model stream and spotting state)."""
        return SpottingStream(self)

    def spot(self, sequence: Any) -> list[Event]:
        """Every event in a (T, D_in) sequence, by the same frame-by-frame code as a stream."""
        s = self.stream()
        # every channel, as a stream is given them: it drops the ones the model ignores
        x = self.model._check_sequence(sequence, all_channels=True)
        if self.mode == "dtw":
            events = []
            for f in x:
                ev = s.step_event(f)
                if ev is not None:
                    events.append(ev)
            return events
        return s.run_events(x)


class SpottingStream(VerifierQueue, StreamBase):
    """A model stream that also spots: ``step(frame).event`` is an :class:`Event` on the frame
    it is emitted, else None. Everything else in the result is the model's own."""

    def __init__(self, spotter: Spotter) -> None:
        m = spotter.model
        self.spotter = spotter
        self.model = m
        self.labels = list(m.labels_)
        if spotter.mode == "dtw":
            # open-begin whatever the model's decision: a gesture may start at any frame
            from ..dtw import DTWStream

            inner = DTWStream(m, decision="decaying")
        else:
            inner = m.stream()
        # the model's own stream, on the channels it sees: a model that ignores channels
        # (ignore_channels) has them dropped here, once a frame, for its stream and the spotter
        self.inner = inner.inner if isinstance(inner, ChannelDropStream) else inner
        self._kept = getattr(m, "kept_channels_", None)
        self._seen = np.zeros(m.input_dim_)  # the frame's kept channels (when some are not)
        self._din = frame_dim(m)  # the frames as given (the verifier's ring holds them)
        # what the model's Gaussians see: the frame, then (deltas) its delta over the model's
        # delta_lag frames since the reset, exactly as the model's own stream builds it
        self._frames = DeltaFrames(m.input_dim_, spotter.mode == "hmm" and bool(
            getattr(m, "deltas", False)), int(getattr(m, "delta_lag", 1)))
        nmax = spotter._b["weights"].shape[1] if spotter.mode == "hmm" else 1
        self._s = _k.empty_state(len(spotter.labels), nmax, self._frames.frame.shape[0])
        self._t = 0
        self._inner_since = 0  # the frame the model's stream was last reset on (DTW)
        self._hold = spotter.hold_frames
        self._refr = spotter.refractory_frames
        self._args = self._kernel_args()
        # the tuples' fields, spread: the per-frame kernel's arguments (its fast dispatch)
        self._fields = tuple(chain.from_iterable(self._args))
        #: events the verifier dropped, and events it failed on (passed through unverified)
        self.verifier_dropped = 0
        self.verifier_failures = 0
        # the recent input frames the verifier sees (frame t at row t % len), preallocated:
        # an event's last verifier_frames_ and the verifier's context before its start
        self._ring = (np.zeros((spotter.ring_frames_, self._din))
                      if spotter.verifier is not None else None)
        self._ring_n = spotter.ring_frames_
        # a verifier that waits: the spotter's events not yet read (emission order), each
        # with the frame its movement settled (None: not yet); the frame the last was read
        v = spotter.verifier
        self._wait, self._settle = (v.wait, v.settle) if v is not None else (0, 0)
        self._waiting: list[list[Any]] = []
        self._last_due = -1
        # the detector beside the spotter, and the merge of their events
        self._merge = (DetectorMerge(spotter.detector, spotter.labels, Event)
                       if spotter.detector is not None else None)

    def reset(self) -> None:
        """Forget the frames seen so far (frame indices start again at 0)."""
        self.inner.reset()
        self._frames.reset()
        nmax = self._s["delta"].shape[1]
        self._s = _k.empty_state(len(self.spotter.labels), nmax, self._frames.frame.shape[0])
        self._args = self._kernel_args()
        self._fields = tuple(chain.from_iterable(self._args))
        self._t = 0
        self._inner_since = 0
        self._waiting = []
        self._last_due = -1
        if self._merge is not None:
            self._merge.reset()

    @property
    def decided_frames(self) -> int | None:
        """The model's stream's (:attr:`HHMMStream.decided_frames`): the label is its."""
        return getattr(self.inner, "decided_frames", None)

    @property
    def decided_from(self) -> int | None:
        """The model's stream's (:attr:`HHMMStream.decided_from`): the label is its."""
        return getattr(self.inner, "decided_from", None)

    def _event(self, fired: bool) -> Event | None:
        if not fired and not self._waiting:
            return None
        ev = None
        if fired:
            e = self._s["event"]
            ev = Event(as_int_label(self.spotter.labels[int(e[0])]), int(e[1]), int(e[2]),
                       self._t, float(self._s["pending_f"][0]))
            if self._ring is None:
                return ev
        if self._wait:  # the verifier waits: the spotter's events, each read when due
            if ev is not None:
                self._waiting.append([ev, None])
            return self._due(self._ring_rows)
        return self._verify(ev, ev.emitted, self._ring_rows)

    def _ring_rows(self, lo: int, hi: int) -> np.ndarray:
        """The stream's frames ``lo .. hi - 1`` from the verifier's ring."""
        return self._ring[np.arange(lo, hi) % self._ring_n]

    def _kernel_args(self) -> tuple[Any, ...]:
        """The four named tuples :func:`~._kernels.spot_run` takes after the frames and the
        first one's index, by job: the model's arrays, the decision settings, this stream's
        partial matches and its decision state (the state arrays themselves: ``self._s``
        stays valid)."""
        sp, s = self.spotter, self._s
        if sp.mode != "hmm":
            return ()
        b, nl = sp._b, sp._null
        model = _k.SpotModel(
            b["n_states"], b["n_comp"], b["weights"], b["means"], b["linv"], b["lognorm"],
            b["log_trans"], b["log_prior"], nl["w"], nl["mean"], nl["linv"], nl["lognorm"],
            sp._min_stay, sp._max_stay)
        settings = _k.SpotSettings(
            sp.thresholds_, sp.compete_, sp.scale_, sp.min_length_, sp.max_length_, self._hold,
            self._refr, sp.defer_frames, sp._to_go, sp.settle_frames, float(sp.settle_ratio),
            bool(sp.bound_matches))
        matches = _k.SpotMatches(s["delta"], s["start"], s["stay"], s["new_delta"],
                                 s["new_start"], s["new_stay"], s["score"], s["score_start"])
        decision = _k.SpotDecision(s["prev"], s["motion"], s["pending"], s["pending_f"],
                                   s["event"])
        return (model, settings, matches, decision)

    def _hmm_step(self, x: np.ndarray) -> bool:
        return _k.spot_step(self._frames(x), self._t, *self._fields)

    def _dtw_step(self, r: Result) -> bool:
        sp, s = self.spotter, self._s
        dist = r.distances[sp._class_index]
        best = self.inner.best_templates[sp._class_index]
        done = np.asarray(r.progress)[sp._class_index] * sp._template_lengths[best]
        s["score"][:] = sp._dtw_limit - dist
        # the match's length in template frames, as frames back from now: never before the
        # frame the model's stream was last reset on (its matches begin there at the earliest)
        start = s["score_start"]
        start[:] = np.round(done)
        np.subtract(self._t + 1, start, out=start)
        np.maximum(start, self._inner_since, out=start)
        fired = _k.decide_step(self._t, s["score"], s["score_start"], sp.thresholds_,
                               sp.compete_, sp.scale_, sp.min_length_, sp.max_length_,
                               self._hold, self._refr, s["pending"], s["pending_f"],
                               s["event"]) == 1
        if fired:
            self.inner.reset()
            self._inner_since = self._t + 1
        return bool(fired)

    def _seen_of(self, frame: Any) -> np.ndarray:
        """The channels of a (D_in,) frame the model sees, once it is checked (a model that
        ignores channels), in the stream's buffer (valid until the next frame)."""
        # (mode="clip": the indices are valid; the default "raise" buffers ``out``, a copy
        # a frame on the real-time path)
        np.take(self._check_frame(frame), self._kept, out=self._seen, mode="clip")
        return self._seen

    def step(self, frame: Any) -> Result:
        """Step the model's stream and the spotter over one (D_in,) frame."""
        x = frame if self._kept is None else self._seen_of(frame)
        r = self.inner.step(x)
        if self._ring is not None:  # the verifier's ring: frame t at row t % len
            self._ring[self._t % self._ring_n] = frame
        if self.spotter.mode == "hmm":
            fired = self._hmm_step(np.asarray(x, dtype=np.float64))
        else:
            fired = self._dtw_step(r)
        ev = self._event(fired)
        if self._merge is not None:
            ev = self._merge.step(frame, ev, self._t)
        self._t += 1
        if ev is not None:
            r = dataclasses.replace(r, event=ev)
        return r

    def step_event(self, frame: Any) -> Event | None:
        """Only the spotting part of :meth:`step` (what :func:`spot` runs per frame)."""
        if self.spotter.mode == "dtw":
            return self.step(frame).event
        x = self.inner._check_frame(frame) if self._kept is None else self._seen_of(frame)
        if self._ring is not None:
            self._ring[self._t % self._ring_n] = frame
        ev = self._event(self._hmm_step(x))
        if self._merge is not None:
            ev = self._merge.step(frame, ev, self._t)
        self._t += 1
        return ev

    def run_events(self, sequence: np.ndarray) -> list[Event]:
        """:meth:`step_event` over every frame of a checked (T, D_in) sequence (every channel,
        as given), in one kernel call (the kernel loops over
        :func:`~._kernels.spot_step`)."""
        out = np.zeros((len(sequence), 4), dtype=np.int64)
        scores = np.zeros(len(sequence))
        xs = np.ascontiguousarray(sequence if self._kept is None else sequence[:, self._kept],
                                  dtype=np.float64)
        # the model's frames, as step() builds them one by one: the first ones' deltas reach
        # into the frames before this sequence (0 right after a reset)
        xs = self._frames.run(xs)
        n = _k.spot_run(xs, self._t, *self._args, out, scores)
        labels = self.spotter.labels
        events = [Event(as_int_label(labels[int(r[0])]), int(r[1]), int(r[2]), int(r[3]),
                        float(sc)) for r, sc in zip(out[:n], scores[:n], strict=True)]
        if self._ring is not None:
            events = self._verify_run(events, sequence)
        if self._merge is not None:
            events = self._merge.run(sequence, self._t, events)
        self._t += len(sequence)
        return events


#: The settings a project may give (``project.model["spotting"]``), all of :class:`Spotter`'s
#: (and :data:`RENAMED`'s old names).
SETTINGS = ("relative_threshold", "thresholds", "min_duration", "max_duration", "hold_frames",
            "refractory_frames",
            "null_label", "gmm_frames", "max_stay", "min_stay", "defer_frames",
            "defer_projection", "settle_frames", "settle_ratio", "null_model", "bound_matches",
            "verifier", "costs", "detector", "threshold", "min_stays")
#: Old setting names, still accepted: ``{old: new}``. ``threshold`` is now
#: ``relative_threshold``, ``min_stays`` the dict form of ``min_stay``.
RENAMED = {"threshold": "relative_threshold", "min_stays": "min_stay"}
RENAMED_HOW = {"threshold": " (the fraction of every class's typical score)",
               "min_stays": " (a dict: the classes' own)"}
#: The settings that take one number for every class or a dict ``{label: number}``.
PER_CLASS = ("min_stay",)


#: The numeric settings, each with its rule: (kind, minimum, minimum excluded) and default
#: (``min_stay``: the number for every class).
NUMBERS: dict[str, tuple[str, float, bool, float]] = {
    "relative_threshold": ("float", 0.0, True, DEFAULT_THRESHOLD),
    "min_duration": ("float", 0.0, False, DEFAULT_MIN_DURATION),
    "max_duration": ("float", 0.0, True, DEFAULT_MAX_DURATION),
    "hold_frames": ("int", 0, False, DEFAULT_HOLD_FRAMES),
    "refractory_frames": ("int", 0, False, DEFAULT_REFRACTORY_FRAMES),
    "defer_frames": ("int", 0, False, DEFAULT_DEFER_FRAMES),
    "defer_projection": ("float", 0.0, False, DEFAULT_DEFER_PROJECTION),
    "settle_frames": ("int", 0, False, DEFAULT_SETTLE_FRAMES),
    "settle_ratio": ("float", 0.0, True, DEFAULT_SETTLE_RATIO),
    "min_stay": ("float", 0.0, False, DEFAULT_MIN_STAY),
    "max_stay": ("float", 0.0, True, DEFAULT_MAX_STAY),
    "gmm_frames": ("int", 1, False, DEFAULT_GMM_FRAMES),
}


def check_bound(value: Any) -> bool:
    """``bound_matches``: True or False, else an error naming it."""
    if not isinstance(value, (bool, np.bool_)):
        raise bad_param("bound_matches", value, "true or false")
    return bool(value)


def check_value(name: str, value: Any) -> Any:
    """One numeric spotting setting, checked by its rule (:data:`NUMBERS`; an old name by its
    new name's): returned as an int or a float, else an error naming the setting, the value
    and what is expected."""
    kind, low, strict, _ = NUMBERS[RENAMED.get(name, name)]
    if kind == "int":
        return check_int(name, value, int(low))
    return check_float(name, value, low, strict=strict)


def per_class_setting(name: str, value: Any, old: Any) -> tuple[Any, dict[Any, Any]]:
    """A setting that takes one number (every class) or a dict ``{label: number}``, merged
    with its old name's value (``min_stays`` gave the dict).

    Parameters
    ----------
    name : ``"min_stay"``.
    value : the setting as given: a number, a dict, or None (the default number).
    old : the value given under its old name (:data:`RENAMED`), or None.

    Returns
    -------
    tuple
        (the number for every class, ``{label: number}`` of the classes' own; those override
        the number). The values are not checked here.

    Raises
    ------
    GesturemapError
        When both give a number, or both a dict.
    """
    was = next(k for k, v in RENAMED.items() if v == name)
    if old is not None and isinstance(old, dict) != (was == "min_stays"):
        raise bad_param(was, old, "a dict {label: fraction}" if was == "min_stays"
                        else "a number")
    numbers = [v for v in (value, old) if v is not None and not isinstance(v, dict)]
    dicts = [v for v in (value, old) if isinstance(v, dict)]
    if len(numbers) > 1 or len(dicts) > 1:
        raise bad_param(name, value, f"one number or one dict: {was!r} (its old name) "
                        f"gives the {'number' if numbers[1:] else 'dict'} too; give {name!r} "
                        "only")
    return (numbers[0] if numbers else NUMBERS[name][3]), (dicts[0] if dicts else {})


def with_new_names(settings: dict[str, Any]) -> dict[str, Any]:
    """Spotting settings with their old names (:data:`RENAMED`) written as the new ones
    where that says the same: ``{"threshold": 0.3}`` is ``{"relative_threshold": 0.3}``,
    ``{"min_stays": {"up": 0}}`` is ``{"min_stay": {"up": 0}}``. An old name given beside
    its new one (``min_stays`` beside a number for every class) is kept: the
    :class:`Spotter` merges them."""
    out = dict(settings)
    for old, new in RENAMED.items():
        if old in out and new not in out:
            out[new] = out.pop(old)
    return out


def check_settings(settings: Any) -> dict[str, Any]:
    """Check spotting settings read from a file or typed in the window: every name, every
    numeric value (the per-class ``thresholds`` are checked against the model's labels when a
    :class:`Spotter` is built). Returns them as a plain dict."""
    if not isinstance(settings, dict):
        raise bad_param("spotting", settings, "a dict of spotting settings, e.g. {} for the "
                        "defaults or {\"relative_threshold\": 0.4}")
    for key in settings:
        if key not in SETTINGS:
            raise bad_param("spotting key", key, "one of " + ", ".join(SETTINGS))
        if key in NUMBERS and key not in PER_CLASS:
            check_value(key, settings[key])
    if "null_model" in settings:
        check_choice("null_model", settings["null_model"], NULL_MODELS)
    if "bound_matches" in settings:
        check_bound(settings["bound_matches"])
    for name in PER_CLASS:  # a number, a dict, and the old name's kind of value
        was = next(k for k, v in RENAMED.items() if v == name)
        per_class_setting(name, settings.get(name), settings.get(was))
    if "threshold" in settings:
        check_value("threshold", settings["threshold"])
    settings = with_new_names(settings)
    if settings.get("thresholds") is not None and not isinstance(settings["thresholds"], dict):
        raise bad_param("thresholds", settings["thresholds"], "a dict {label: score} (one "
                        "fraction of every class's typical score is relative_threshold)")
    for key in ("min_stay", "min_stays"):
        value = settings.get(key)
        if isinstance(value, dict):
            for v in value.values():
                check_value("min_stay", v)
        elif value is not None:
            check_value(key, value)
    out = dict(settings)
    if "costs" in out:
        from .costs import check_costs

        out["costs"] = check_costs(out["costs"])
    if out.get("verifier") is not None:  # its arrays checked; kept as plain JSON values
        out["verifier"] = checked_once(out["verifier"],
                                       lambda v: SpotVerifier.from_dict(v).to_dict())
    if out.get("detector") is not None:
        out["detector"] = checked_once(out["detector"],
                                       lambda v: WindowDetector.from_dict(v).to_dict())
    return out


class _Recent:
    """The latest results by the identity of what they came from, at most ``kept`` (each
    source kept alive with its result, so an id is never reused while it is listed)."""

    def __init__(self, kept: int = 16) -> None:
        self._items: dict[int, tuple[Any, Any]] = {}
        self._kept = kept
        self._lock = threading.Lock()

    def get(self, source: Any) -> Any:
        """What was stored for this very ``source``, else None."""
        with self._lock:
            hit = self._items.get(id(source))
        return hit[1] if hit is not None and hit[0] is source else None

    def put(self, source: Any, result: Any) -> None:
        with self._lock:
            self._items[id(source)] = (source, result)
            while len(self._items) > self._kept:
                self._items.pop(next(iter(self._items)))


#: The second opinions' values :func:`check_settings` returned lately. Settings are replaced
#: whole, never changed in place, so settings that carry one of these again carry what was
#: checked: a window detector is megabytes of numbers, and checking it again took ~60 ms at
#: every change of a cost or threshold, on the engine thread, between two frames.
_CHECKED = _Recent()
#: The second opinions built lately from settings' values. Their models never change once
#: built (a stream keeps its own state), so spotters rebuilt for a new cost or threshold share
#: them instead of reading megabytes of lists again on the engine's I/O thread.
_BUILT = _Recent()


def checked_once(value: Any, check: Callable[[Any], Any]) -> Any:
    """``check(value)`` (a new plain value), or ``value`` itself when it is such a value."""
    if is_checked(value):
        return value
    out = check(value)
    _CHECKED.put(out, out)
    return out


def built_once(value: Any, build: Callable[[Any], Any]) -> Any:
    """``build(value)``, or what it gave for this very value lately (a dict given again)."""
    if not isinstance(value, dict):
        return build(value)
    out = _BUILT.get(value)
    if out is None:
        out = build(value)
        _BUILT.put(value, out)
    return out


def is_checked(value: Any) -> bool:
    """Whether ``value`` is a second opinion's value :func:`check_settings` returned lately
    (plain JSON values by construction)."""
    return _CHECKED.get(value) is value


def spotting_stream(model: Any, settings: dict[str, Any] | None, warm: bool = False) -> Any:
    """A stream over ``model``: a spotting stream when ``settings`` is a dict (spotting on),
    else the model's own. A model that cannot spot (a kind without spotting, only the null
    class) gets its own stream: it still runs, without events. ``warm``: step a throwaway
    stream once first, so that the kernels are loaded before the real stream's first frame."""
    if settings is None:
        return model.stream()
    log = logging.getLogger("gesturemap.spotting")
    try:
        spotter = fitting_spotter(model, settings, log)
        if warm:
            spotter.stream().step(np.zeros(frame_dim(model)))
        return spotter.stream()
    except GesturemapError as exc:
        log.warning("spotting is off: %s", exc)
        return model.stream()


#: The spotting settings that may be given per class (``{label: value}``).
BY_CLASS = ("thresholds", "costs", "min_stay", "min_stays")


def set_aside(labels: Any, settings: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``settings`` with only the per-class values (:data:`BY_CLASS`) of the gesture
    ``labels`` a spotter decides between, and the classes whose values were set aside: a
    model retrained without a class, or a cost given for a class not trained yet. Those
    values stay in the project's settings, for a model that spots their class."""
    known = {str(lb) for lb in labels}
    out, aside = dict(settings), set()
    for key in BY_CLASS:
        values = out.get(key)
        if isinstance(values, dict):
            aside |= {str(k) for k in values if str(k) not in known}
            kept = {k: v for k, v in values.items() if str(k) in known}
            if kept or key in ("thresholds", "costs"):
                out[key] = kept
            else:
                out.pop(key)  # min_stay: the default fraction for every class
    return out, sorted(aside)


def spotted_settings(model: Any, settings: dict[str, Any]
                     ) -> tuple[dict[str, Any], list[str]]:
    """:func:`set_aside` for the gestures ``model`` spots (its classes but the null one)."""
    null = settings.get("null_label", NULL)
    return set_aside([lb for lb in getattr(model, "labels_", ()) if lb != null], settings)


def fitting_spotter(model: Any, settings: dict[str, Any], log: logging.Logger) -> Spotter:
    """A :class:`Spotter` with ``settings``; a detector or verifier that does not fit the
    model (retrained with other gestures) is switched off with a warning, and a class's own
    threshold, costs or minimum stay for a class the model does not spot is set aside with a
    warning: spot without them rather than not at all."""
    settings, aside = spotted_settings(model, settings)
    if aside:
        log.warning("spotting: the settings of %s are set aside: the model spots no such "
                    "gesture (they apply once it is trained with takes of it)",
                    ", ".join(map(repr, aside)))
    while True:
        try:
            return Spotter(model, **settings)
        except GesturemapError as exc:
            part = ("detector" if settings.get("detector") is not None
                    and str(exc).startswith("spotting detector") else
                    "verifier" if settings.get("verifier") is not None else None)
            if part is None:
                raise
            log.warning("the spotting %s is off: %s", part, exc)
            settings.pop(part)


def model_spotting(model: Any) -> dict[str, Any]:
    """The second opinions a model was given with its training: ``{"verifier": ...,
    "detector": ...}`` (each a ``to_dict()``, or None), as ``gm.auto`` trains them from a
    dataset's rehearsals (kept in ``training_info_["spotting"]``, saved with the model);
    empty for any other model."""
    own = (getattr(model, "training_info_", None) or {}).get("spotting")
    return dict(own) if isinstance(own, dict) else {}


def spot(model: Any, sequence: Any, **settings: Any) -> list[Event]:
    """Every gesture detected in a (T, D_in) ``sequence``, as a stream would emit them.

    ``model`` is a fitted HHMM, GMM or DTW (or a :class:`Spotter`); ``settings`` are
    :class:`Spotter`'s. Returns a list of :class:`Event` in emission order.
    """
    if not isinstance(model, Spotter):
        check_model("spot(model, sequence)", model)
    spotter = model if isinstance(model, Spotter) and not settings else Spotter(
        model.model if isinstance(model, Spotter) else model, **settings)
    return spotter.spot(sequence)
