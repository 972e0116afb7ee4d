"""Frame-by-frame kernels of the spotter (see :mod:`gesturemap.models.spotting.core`).

Two pure functions over arrays owned by a spotting stream, one call per frame:

- :func:`match_step` scores, for every gesture class, the best match of its HMM that ends at
  this frame and may have started at any earlier frame (a Viterbi pass with a free start,
  the HMM counterpart of open-begin DTW), each frame scored by its log-likelihood ratio
  against a null model (a mixture of Gaussians: the states of the null takes' class, or of
  every gesture state — Lee & Kim's threshold model, whose ergodic uniform transitions make
  its frame likelihood the plain mixture of all states).
- :func:`decide_step` turns per-class match scores into events: a class whose score crosses
  its threshold becomes the pending candidate (the highest score wins among classes: the
  likeliest explanation of the stream), and the
  candidate is emitted once its score has not improved for ``hold`` frames; a refractory
  period then ignores every candidate. A class with a costly false trigger competes from a
  lower level than it fires from: when it is the likeliest but below its threshold, nothing
  fires (its runner-up is held back).

Nothing allocates, nothing raises: both run on the real-time path.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit

from .._kernels import mahalanobis

_JIT = {"cache": True, "nogil": True, "fastmath": False}

#: A frame's log-likelihood ratio is clipped below at -LLR_FLOOR, so that one outlying frame
#: (a glitch far from every Gaussian) cannot break a match on its own, and above at LLR_CEIL
#: (far above what separates two classes, so that classes stay comparable when the null model
#: is much narrower than the gestures).
LLR_FLOOR = 20.0
LLR_CEIL = 200.0
NEG = -1e300
#: Time constants (frames) of the short and long averages of the stream's motion energy that
#: tell when a movement has settled (``settle_frames``): 0.2 s and 2 s at 50 Hz, the time of a
#: settling body and of a whole postural transition.
SETTLE_SHORT_FRAMES = 10.0
SETTLE_LONG_FRAMES = 100.0


@njit(**_JIT)
def _log_component(x, weight, mean, linv, lognorm):
    """log(weight * N(x; mean, (linv^T linv)^-1))."""
    return math.log(weight) + lognorm - 0.5 * mahalanobis(x, mean, linv)


@njit(**_JIT)
def _log_mixture(x, weights, means, linv, lognorm, n):
    """log sum_k weights[k] N(x; means[k], (linv[k]^T linv[k])^-1) over the first ``n``
    (one pass: the sum is rescaled whenever a larger term comes)."""
    best = NEG
    s = 0.0
    for k in range(n):
        if weights[k] > 0.0:
            v = _log_component(x, weights[k], means[k], linv[k], lognorm[k])
            if v > best:
                s = s * math.exp(best - v) + 1.0 if best > NEG else 1.0
                best = v
            else:
                s += math.exp(v - best)
    if best <= NEG:
        return NEG
    return best + math.log(s)


@njit(**_JIT)
def frame_llr(frames, weights, means, linv, lognorm, n, null_w, null_mean, null_linv,
              null_lognorm, out):
    """Each frame's clipped log-likelihood ratio between one state (its first ``n``
    Gaussians) and the null mixture (as :func:`match_step` scores it), into ``out``."""
    for i in range(frames.shape[0]):
        e = _log_mixture(frames[i], weights, means, linv, lognorm, n) - _log_mixture(
            frames[i], null_w, null_mean, null_linv, null_lognorm, null_w.shape[0])
        out[i] = min(max(e, -LLR_FLOOR), LLR_CEIL)


@njit(**_JIT)
def match_step(x, n_states, n_comp, weights, means, linv, lognorm, log_trans, log_prior,
               null_w, null_mean, null_linv, null_lognorm, min_stay, max_stay, delta, start, stay,
               new_delta, new_start, new_stay, t, score, score_start):
    """Advance every class's free-start Viterbi pass by one frame ``x`` (frame index ``t``).

    Parameters
    ----------
    x : (D,) frame.
    n_states, n_comp : (C,) states per class, Gaussians per state.
    weights : (C, N, K); means : (C, N, K, D); linv : (C, N, K, D, D); lognorm : (C, N, K).
    log_trans : (C, N, N) log transition probabilities; log_prior : (C, N) log entry
        probabilities (-inf where a match may not start).
    null_* : the null mixture (M,), (M, D), (M, D, D), (M,).
    min_stay : (C, N) frames a match must spend in a state before it may leave it (a
        class cannot rush through the states that tell it from another).
    max_stay : (C, N) frames a match may gain in a state: after that many frames in one
        state a frame can only lower its score (a gesture's start posture held for a long
        time is not more of the gesture).
    delta, start, stay : (C, N) best score of a partial match in each state, its start frame
        and the frames it has spent in that state; updated in place.
    new_delta, new_start, new_stay : (C, N) scratch.
    score, score_start : (C,) out: score of the best match ending now (in the last state)
        and its start frame.
    """
    log_null = _log_mixture(x, null_w, null_mean, null_linv, null_lognorm, null_w.shape[0])
    c_count = n_states.shape[0]
    for c in range(c_count):
        n = n_states[c]
        for j in range(n):
            e = _log_mixture(x, weights[c, j], means[c, j], linv[c, j], lognorm[c, j],
                             n_comp[c]) - log_null
            if e > LLR_CEIL:
                e = LLR_CEIL
            elif e < -LLR_FLOOR:
                e = -LLR_FLOOR
            # a match may start at this frame...
            best = log_prior[c, j] + e
            best_start = t
            best_stay = 1
            # ...or continue one that reached a state leading here
            for i in range(n):
                if log_trans[c, i, j] <= NEG:
                    continue
                if i != j and stay[c, i] < min_stay[c, i]:
                    continue  # a state is left only after its shortest stay
                ss = stay[c, i] + 1 if i == j else 1
                capped = ss > max_stay[c, j]
                v = delta[c, i] + log_trans[c, i, j] + (min(e, 0.0) if capped else e)
                if v > best:
                    best = v
                    best_start = start[c, i]
                    best_stay = ss
                    if capped and log_prior[c, j] > NEG:
                        # held in an entry state beyond its time: the match begins with
                        # the last max_stay frames of it, not with the whole wait
                        best_start = max(best_start, t - int(max_stay[c, j]) + 1)
            new_delta[c, j] = best
            new_start[c, j] = best_start
            new_stay[c, j] = best_stay
        for j in range(n):
            delta[c, j] = new_delta[c, j]
            start[c, j] = new_start[c, j]
            stay[c, j] = new_stay[c, j]
        score[c] = delta[c, n - 1]
        score_start[c] = start[c, n - 1]


@njit(**_JIT)
def decide_step(t, score, score_start, thresholds, compete, scale, min_length, max_length, hold,
                refractory, pending, pending_f, event):
    """Turn this frame's match scores into at most one event.

    Parameters
    ----------
    t : frame index.
    score, score_start : (C,) the best match of each class ending at ``t`` and its start.
    thresholds : (C,) a match fires when its score is at least this.
    compete : (C,) a match competes (takes part in the decision) when its score is at least
        this (<= ``thresholds``). A class whose match competes but is below its threshold,
        and wins, fires nothing and holds its rivals back: the cost-weighted decision of a
        class whose false trigger is costly (the movement looks most like it: firing the
        runner-up would be a false trigger too, so nothing fires). Equal to ``thresholds``:
        the likeliest match among those above their thresholds fires.
    scale : (C,) classes compete by ``score / scale``: 1 for log-likelihood ratios (the
        likeliest explanation of the stream wins), a class's own distance limit for DTW.
    min_length, max_length : (C,) a match counts when it spans at least / at most this many
        frames.
    hold : frames a candidate's score must stay unbeaten before it is emitted.
    refractory : frames after an event during which nothing new is taken.
    pending : int64 (5,) state: [0 none / 1 a candidate / 2 a candidate that fires nothing,
        class, start, end, quiet_until]; pending_f : float64 (2,) state: [score, rank].
    event : int64 (3,) out: [class, start, end] of an event emitted now.

    Returns
    -------
    1 when an event is emitted at ``t`` (its class, start and end in ``event``); 2 when a
    candidate that fires nothing has held (the stream then starts afresh, as after an
    event); 0 otherwise.
    """
    if t >= pending[4]:
        for c in range(score.shape[0]):
            length = t - score_start[c] + 1
            if score[c] < compete[c] or length < min_length[c] or length > max_length[c]:
                continue
            rank = score[c] / scale[c]
            if pending[0] == 0 or rank > pending_f[1]:
                pending[0] = 1 if score[c] >= thresholds[c] else 2
                pending[1] = c
                pending[2] = score_start[c]
                pending[3] = t
                pending_f[0] = score[c]
                pending_f[1] = rank
    if pending[0] != 0 and t - pending[3] >= hold:
        code = pending[0]
        event[0] = pending[1]
        event[1] = pending[2]
        event[2] = pending[3]
        pending[0] = 0
        pending[4] = t + 1 + refractory
        pending_f[1] = NEG
        return code
    return 0


@njit(**_JIT)
def clear_matches(delta):
    """Forget every partial match (after an event, new matches start afresh)."""
    for c in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            delta[c, j] = NEG


@njit(**_JIT)
def rival_ahead(n_states, delta, start, to_go, pending, pending_f):
    """True when another class's partial match (past its first state, not yet in its last)
    began by the pending candidate's end and already scores above it — or would, with
    ``to_go[c, j]`` added (what its remaining states are expected to add; zeros: the partial
    score alone): the candidate may be only the first part of that longer gesture
    (stand-to-sit inside stand-to-lie)."""
    for c in range(n_states.shape[0]):
        if c == pending[1]:
            continue
        for j in range(1, n_states[c] - 1):
            if delta[c, j] + to_go[c, j] > pending_f[0] and start[c, j] <= pending[3]:
                return True
    return False


@njit(**_JIT)
def track_motion(x, prev, motion):
    """Update the stream's motion energy with frame ``x``: the squared change from the
    previous frame ``prev`` (then overwritten by ``x``), averaged by two one-pole filters,
    a short one (:data:`SETTLE_SHORT_FRAMES`) and a long one (:data:`SETTLE_LONG_FRAMES`).

    ``motion`` : float64 (3,) state: [short average, long average, frames seen]."""
    e = 0.0
    if motion[2] > 0.0:
        for i in range(x.shape[0]):
            d = x[i] - prev[i]
            e += d * d
    for i in range(x.shape[0]):
        prev[i] = x[i]
    motion[0] += (e - motion[0]) / SETTLE_SHORT_FRAMES
    motion[1] += (e - motion[1]) / SETTLE_LONG_FRAMES
    motion[2] += 1.0


@njit(**_JIT)
def drop_long(t, n_states, delta, start, max_length):
    """Before frame ``t``'s :func:`match_step`: forget every partial match of class ``c``
    that would span more than ``max_length[c]`` frames once continued to ``t``, so that a
    younger match may take its state (``bound_matches``)."""
    for c in range(n_states.shape[0]):
        for i in range(n_states[c]):
            if t - start[c, i] + 1 > max_length[c]:
                delta[c, i] = NEG


#: A fitted spotter's arrays, shared by its streams (read only): per class (C) its states
#: (``n_states``) and each state's Gaussians (``n_comp``, ``weights`` (C, N, K), ``means``
#: (C, N, K, D), ``linv`` (C, N, K, D, D), ``lognorm`` (C, N, K)), its log transition and
#: entry probabilities (``log_trans`` (C, N, N), ``log_prior`` (C, N)), the null mixture
#: (``null_w`` (M,), ``null_mean`` (M, D), ``null_linv`` (M, D, D), ``null_lognorm`` (M,)) and
#: the frames a match must and may spend in each state (``min_stay``, ``max_stay`` (C, N)).
SpotModel = namedtuple("SpotModel", (
    "n_states", "n_comp", "weights", "means", "linv", "lognorm", "log_trans", "log_prior",
    "null_w", "null_mean", "null_linv", "null_lognorm", "min_stay", "max_stay"))
#: How a stream decides: per class (C,) its threshold, the score from which it competes
#: (``compete``: below the threshold for a class with a costly false trigger), the scale
#: classes compete by, the shortest and longest match (frames), each partial match's expected
#: remainder (``to_go`` (C, N)); the scalars ``hold``, ``refractory``, ``defer``, ``settle``,
#: ``settle_ratio`` and ``bound`` (:func:`spot_step`).
SpotSettings = namedtuple("SpotSettings", (
    "thresholds", "compete", "scale", "min_length", "max_length", "hold", "refractory",
    "defer", "to_go", "settle", "settle_ratio", "bound"))
#: A stream's partial matches (C, N), updated: their scores, start frames and frames in the
#: state, the same three as scratch (``new_*``), and the best match ending at the frame per
#: class (``score``, ``score_start`` (C,)).
SpotMatches = namedtuple("SpotMatches", (
    "delta", "start", "stay", "new_delta", "new_start", "new_stay", "score", "score_start"))
#: A stream's decision state, updated: the previous frame and the motion averages
#: (:func:`track_motion`), the pending candidate (``pending``, ``pending_f``:
#: :func:`decide_step`) and the event emitted (``event``).
SpotDecision = namedtuple("SpotDecision", ("prev", "motion", "pending", "pending_f", "event"))


@njit(**_JIT)
def spot_frame(x, t, model, settings, matches, decision):
    """One frame of the HMM spotter: :func:`match_step` then :func:`decide_step`; after an
    event every partial match is forgotten. Returns True when an event is emitted.

    The arrays come in four named tuples, by job: ``model`` (:data:`SpotModel`, read only),
    ``settings`` (:data:`SpotSettings`), ``matches`` (:data:`SpotMatches`, updated) and
    ``decision`` (:data:`SpotDecision`, updated).

    ``defer``: a candidate due for emission waits up to this many more frames while
    :func:`rival_ahead` (a longer gesture it may be the beginning of is still being matched
    and scores above it); if that gesture completes above it, it replaces the candidate.

    ``settle``: a candidate due for emission also waits up to this many more frames while the
    stream is still moving — its short motion average (:func:`track_motion`, over ``prev``
    and ``motion``) above ``settle_ratio`` times its long one. Meanwhile any class whose match
    completes above it replaces it, so the event is named once the movement is over (a
    stand-to-sit that goes on lying down is a stand-to-lie).

    ``bound``: partial matches longer than ``max_length`` are dropped inside the pass
    (:func:`drop_long`), not only refused at the decision."""
    m, st, mt, dc = model, settings, matches, decision
    if st.bound:
        drop_long(t, m.n_states, mt.delta, mt.start, st.max_length)
    match_step(x, m.n_states, m.n_comp, m.weights, m.means, m.linv, m.lognorm, m.log_trans,
               m.log_prior, m.null_w, m.null_mean, m.null_linv, m.null_lognorm, m.min_stay,
               m.max_stay, mt.delta, mt.start, mt.stay, mt.new_delta, mt.new_start,
               mt.new_stay, t, mt.score, mt.score_start)
    track_motion(x, dc.prev, dc.motion)
    pending, pending_f = dc.pending, dc.pending_f
    hold = st.hold
    h = hold
    if pending[0] != 0 and t - pending[3] >= hold:
        waited = t - pending[3] - hold
        if (st.defer > 0 and waited < st.defer
                and rival_ahead(m.n_states, mt.delta, mt.start, st.to_go, pending, pending_f)):
            h = hold + st.defer
        if (st.settle > 0 and waited < st.settle
                and dc.motion[0] > st.settle_ratio * dc.motion[1]):
            h = max(h, hold + st.settle)
    code = decide_step(t, mt.score, mt.score_start, st.thresholds, st.compete, st.scale,
                       st.min_length, st.max_length, h, st.refractory, pending, pending_f,
                       dc.event)
    if code != 0:  # an event, or a costly class's candidate that fired nothing
        clear_matches(mt.delta)
    return code == 1


@njit(**_JIT)
def spot_step(x, t, n_states, n_comp, weights, means, linv, lognorm, log_trans, log_prior,
              null_w, null_mean, null_linv, null_lognorm, min_stay, max_stay, thresholds, compete,
              scale, min_length, max_length, hold, refractory, defer, to_go, settle, settle_ratio,
              bound, delta, start, stay, new_delta, new_start, new_stay, score, score_start,
              prev, motion, pending, pending_f, event):
    """:func:`spot_frame` called from Python once a frame: the fields of its four named tuples
    spread out, in their order (a stream spreads the tuples it built once:
    ``spot_step(x, t, *model, *settings, *matches, *decision)``). numba dispatches positional
    arrays by a fast fingerprint, a named tuple through its slower type lookup (about 3 µs a
    frame more here, a sixth of the step); the tuples are built again here, where they cost
    nothing."""
    return spot_frame(
        x, t,
        SpotModel(n_states, n_comp, weights, means, linv, lognorm, log_trans, log_prior,
                  null_w, null_mean, null_linv, null_lognorm, min_stay, max_stay),
        SpotSettings(thresholds, compete, scale, min_length, max_length, hold, refractory,
                     defer, to_go, settle, settle_ratio, bound),
        SpotMatches(delta, start, stay, new_delta, new_start, new_stay, score, score_start),
        SpotDecision(prev, motion, pending, pending_f, event))


@njit(**_JIT)
def spot_run(xs, t0, model, settings, matches, decision, events_out, scores_out):
    """:func:`spot_frame` over every frame of ``xs`` (T, D), frames numbered from ``t0`` (the
    same four named tuples: one dispatch for the whole sequence).

    ``events_out`` (T, 4) receives [class, start, end, emitted] rows and ``scores_out`` (T,)
    their scores; returns how many events."""
    n_events = 0
    event, pending_f = decision.event, decision.pending_f
    for i in range(xs.shape[0]):
        t = t0 + i
        if spot_frame(xs[i], t, model, settings, matches, decision):
            events_out[n_events, 0] = event[0]
            events_out[n_events, 1] = event[1]
            events_out[n_events, 2] = event[2]
            events_out[n_events, 3] = t
            scores_out[n_events] = pending_f[0]
            n_events += 1
    return n_events


def empty_state(c: int, n: int, d: int = 1) -> dict[str, np.ndarray]:
    """Fresh run-time arrays for :func:`spot_step` (C classes, at most N states, D-dimensional
    frames)."""
    return {
        "prev": np.zeros(d), "motion": np.zeros(3),
        "delta": np.full((c, n), NEG), "start": np.zeros((c, n), dtype=np.int64),
        "stay": np.zeros((c, n), dtype=np.int64),
        "new_delta": np.zeros((c, n)), "new_start": np.zeros((c, n), dtype=np.int64),
        "new_stay": np.zeros((c, n), dtype=np.int64),
        "score": np.full(c, NEG), "score_start": np.zeros(c, dtype=np.int64),
        "pending": np.zeros(5, dtype=np.int64), "pending_f": np.array([0.0, NEG]),
        "event": np.zeros(3, dtype=np.int64),
    }
