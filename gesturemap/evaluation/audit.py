"""The rehearsal audit: how often a spotter fires by mistake on ordinary movement, and the
per-class thresholds that keep it within a false-alarm budget (``gm.audit``).

A rehearsal is the performer moving as in the piece without the gestures (every frame
null), or a run-through with its gestures labelled frame by frame. :func:`audit` replays it
through the model's :class:`~gesturemap.Spotter` at a grid of strictness levels (each class's
threshold a multiple of its typical score, the Spotter's own scale), and counts per class the
false triggers per minute of non-gesture movement and the share of gestures still recognised:
the labelled gestures of a run-through, else the recorded takes (``takes=``). From those
curves it chooses one threshold per class so that the false triggers stay within
``budget`` per minute, missing as few gestures (weighted by their miss costs) as possible;
then it replays the rehearsal once more at the chosen thresholds and
keeps the false triggers found, each with its "why?" (:func:`gesturemap.explain`).

The choice is a Lagrangian one: for a price ``lam`` of a false trigger, each class takes the
threshold minimising ``miss cost x (1 - recall) + lam x false alarms/min``; the audit takes
the smallest price whose choices meet the budget. A class whose false trigger costs ``c``
times an ordinary one pays ``c x lam`` and keeps its own false triggers within
``budget / c``: it is pushed towards silence while the other classes keep their choice. The
spotter follows the costs too: a costly class competes from its default level, so that a
movement that looks most like it, but not enough to fire it, fires nothing rather than its
runner-up (:class:`~gesturemap.Spotter`'s ``costs``).

What the spotter does now is the replay at the settings' own thresholds and costs (each
gesture's stored threshold, the default level ``relative_threshold`` where it has none): the
"now" figures, and what the recall the chosen thresholds lose is counted from. The recall
they lose is counted on the audit's own gestures, and a choice
judged on the performers it was made on looks better than it will on others: the audit
also chooses on half of the performers and counts on the other half, many times, and adds
the difference (``recall_drop``, give or take ``recall_drop_spread``).

A rate counted on a short rehearsal shows little: no false trigger in a minute is what a
spotter firing twice a minute gives one time in seven. So the audit also gives what its
rehearsal can show, the 95 % upper bound of the false-trigger rate (exact for a Poisson
count: ``k`` false triggers in ``T`` minutes bound the rate by ``gammaincinv(k + 1, 0.95) /
T``, about ``3 / T`` for none), whether that bound is within the budget, and how many
minutes of ordinary movement would show it. Where the bound is above the budget, no
threshold is proposed less strict than the settings' own: a false trigger seen is enough to
raise a threshold, but lowering one is a claim that the gestures stay within the budget, and
only a rehearsal long enough to bound the rate can back it.

Nothing here writes: ``gesturemap audit DIR REHEARSAL... --apply`` stores the thresholds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import GesturemapError
from ..models.base import check_model
from ..models.spotting.core import (
    DEFAULT_THRESHOLD,
    Event,
    Spotter,
    set_aside,
    spotted_settings,
    with_new_names,
)
from ..models.spotting.costs import COMPETES_FROM, check_costs, cost_of
from .spotting.scores import ground_truth_events, match_detections

__all__ = ["DEFAULT_GRID", "Audit", "Curve", "FalseTrigger", "audit",
           "cross_fitted_audit", "minutes_to_show", "plot_audit", "project_costs",
           "rate_bound", "shown_text", "values_to_store"]

log = logging.getLogger("gesturemap.evaluation.audit")

#: Strictness levels tried: each class's threshold as a multiple of its typical score (the
#: Spotter's ``threshold`` scale; its default, 0.4, among them).
DEFAULT_GRID = (0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 0.9, 1.1, 1.35, 1.7, 2.1, 2.6)
#: False triggers explained at most (each explanation scores the event's frames again).
MAX_EXPLAINED = 50
#: Random half-splits of the performers over which the recall lost on new performers is
#: estimated (thresholds chosen on one half, the recall lost counted on the other; fixed seed).
DROP_SPLITS = 40
#: Prices of a false trigger the choice sweeps (per false alarm per minute, in misses).
_PRICES = np.concatenate([[0.0], np.geomspace(1e-3, 1e6, 400)])
#: Confidence of the upper bound on the false-trigger rate a rehearsal can show.
BOUND_CONFIDENCE = 0.95


def rate_bound(false_triggers: int, minutes: float) -> float:
    """The :data:`BOUND_CONFIDENCE` upper bound of a false-trigger rate (per minute) from
    ``false_triggers`` counted in ``minutes`` of ordinary movement: the exact Poisson bound
    (Garwood's), ``gammaincinv(k + 1, 0.95) / minutes``; about ``3 / minutes`` for none (the
    rule of three). Infinite without minutes."""
    from scipy.special import gammaincinv

    if minutes <= 0:
        return float("inf")
    return float(gammaincinv(false_triggers + 1, BOUND_CONFIDENCE)) / minutes


def minutes_to_show(false_triggers: int, budget: float) -> float:
    """Minutes of ordinary movement in which ``false_triggers`` would bound the rate within
    ``budget`` per minute (:func:`rate_bound`); infinite for a budget of 0."""
    from scipy.special import gammaincinv

    if budget <= 0:
        return float("inf")
    return float(gammaincinv(false_triggers + 1, BOUND_CONFIDENCE)) / budget


@dataclass(frozen=True)
class Curve:
    """One class's trade-off: at each strictness ``multiplier`` (G,), the absolute
    ``threshold`` (G,) the Spotter takes, ``false_alarms_per_min`` (G,) on the rehearsal's
    non-gesture movement, and ``recall`` (G,) of its gestures (NaN: no gesture to count)."""

    multiplier: np.ndarray
    threshold: np.ndarray
    false_alarms_per_min: np.ndarray
    recall: np.ndarray


@dataclass(frozen=True)
class FalseTrigger:
    """A false trigger found at the chosen thresholds: the ``event``, the ``recording`` it was
    found in (index), when (``time_s``: its emission), and ``why`` (the model's explanation of
    the event's frames, :meth:`gesturemap.Explanation.summary`; None past the first
    :data:`MAX_EXPLAINED`, or where the model cannot explain)."""

    recording: int
    event: Event
    time_s: float
    why: str | None = None


@dataclass(frozen=True)
class Audit:
    """What :func:`audit` found.

    Attributes
    ----------
    labels : the gesture classes (the model's, as text).
    budget : false triggers per minute allowed, all classes together; a class whose false
        trigger costs ``c`` > 1 may fire by mistake ``budget / c`` per minute at most.
    costs : the checked costs ``{label: {"false": c, "miss": c}}``; a costly class's with
        ``"competes_from"``: its threshold without the cost, from which the spotter lets it
        hold its runner-up back (store them with the thresholds).
    thresholds : ``{label: value}`` for ``gm.Spotter(model, thresholds=...)`` or a project's
        spotting settings.
    multipliers : ``{label: m}``: the same thresholds as multiples of each class's typical
        score (what carries over to a model retrained on the same gestures).
    predicted_false_alarms : ``{label: per minute}`` at the chosen thresholds.
    predicted_recall : ``{label: share of its gestures recognised}`` (NaN: none to count).
    baseline_false_alarms, baseline_recall : the same now: at the settings' own thresholds
        (``baseline_thresholds``), with the costs they store.
    baseline_thresholds : ``{label: value}``: the settings' own thresholds, each gesture's
        stored one, else its default level (``relative_threshold`` times its typical score).
    met : whether the budget is met (else the strictest thresholds of the grid).
    curve : ``{label: Curve}``.
    events : the false triggers at the chosen thresholds (:class:`FalseTrigger`).
    null_minutes : minutes of non-gesture movement replayed.
    false_alarm_bound : what the rehearsal can show: the 95 % upper bound of the false
        triggers per minute, all classes together, at the chosen thresholds
        (:func:`rate_bound` of the false triggers counted over ``null_minutes``).
    shown : whether that bound is within the budget. When it is not, the rehearsal is too
        short to show the budget, and no threshold is less strict than the settings' own
        (``baseline_thresholds``).
    minutes_needed : minutes of ordinary movement that would show the budget, were no more
        false triggers found than now (:func:`minutes_to_show`).
    recall_drop : the share of every gesture counted that the chosen thresholds are expected
        to lose against the settings' own (``baseline_thresholds``: the default level for a
        project that stores none) on performers the audit has not seen: the loss
        it counted (``recall_drop_seen``) plus how much more a choice made on some of the
        performers loses on the others than on them (half-splits of the performers; 0 where
        fewer than four performers or recordings can be told apart).
    recall_drop_seen : the loss the audit counted on its own gestures.
    recall_drop_spread : how much that loss varies from one set of performers to another
        (standard deviation over the half-splits; NaN when not measured): expect
        ``recall_drop`` give or take about this.
    found_share_lost : the same loss as a share of the gestures the settings' own thresholds
        find (counted, plus the half-splits' excess in the same terms): what carries to
        performers whom the spotter finds more easily, or less, than the audit's. On new
        performers expect a recall drop of about this times their recall at the settings'
        own thresholds.
    """

    labels: list[str]
    budget: float
    costs: dict[str, dict[str, float]]
    thresholds: dict[str, float]
    multipliers: dict[str, float]
    predicted_false_alarms: dict[str, float]
    predicted_recall: dict[str, float]
    baseline_false_alarms: dict[str, float]
    baseline_recall: dict[str, float]
    met: bool
    curve: dict[str, Curve]
    events: list[FalseTrigger] = field(default_factory=list)
    null_minutes: float = 0.0
    false_alarm_bound: float = float("inf")
    shown: bool = False
    minutes_needed: float = float("inf")
    baseline_thresholds: dict[str, float] = field(default_factory=dict)
    recall_drop: float = float("nan")
    recall_drop_seen: float = float("nan")
    recall_drop_spread: float = float("nan")
    found_share_lost: float = float("nan")
    #: per class and strictness: false triggers, gestures recognised, gestures counted
    counts: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def total_false_alarms(self) -> float:
        """Predicted false triggers per minute, all classes together."""
        return float(sum(self.predicted_false_alarms.values()))

    def to_dict(self) -> dict[str, Any]:
        """The audit as plain data (JSON: ``gesturemap audit --json``; what the window's
        worker sends back): every field but ``counts``, curves as lists (NaN recall: None),
        each false trigger as ``{recording, label, time_s, score, why}``."""
        return {"labels": list(self.labels), "budget": self.budget, "met": self.met,
                "thresholds": self.thresholds, "multipliers": self.multipliers,
                "costs": self.costs, "predicted_false_alarms": self.predicted_false_alarms,
                "predicted_recall": self.predicted_recall,
                "baseline_false_alarms": self.baseline_false_alarms,
                "baseline_recall": self.baseline_recall,
                "baseline_thresholds": self.baseline_thresholds,
                "null_minutes": self.null_minutes,
                "false_alarm_bound": _finite(self.false_alarm_bound), "shown": self.shown,
                "minutes_needed": _finite(self.minutes_needed),
                "recall_drop": _plain(self.recall_drop),
                "recall_drop_seen": _plain(self.recall_drop_seen),
                "recall_drop_spread": _plain(self.recall_drop_spread),
                "found_share_lost": _plain(self.found_share_lost),
                "curve": {lb: {"multiplier": c.multiplier.tolist(),
                               "threshold": c.threshold.tolist(),
                               "false_alarms_per_min": c.false_alarms_per_min.tolist(),
                               "recall": [None if r != r else r for r in c.recall.tolist()]}
                          for lb, c in self.curve.items()},
                "events": [{"recording": e.recording, "label": str(e.event.label),
                            "time_s": e.time_s, "score": e.event.score, "why": e.why}
                           for e in self.events]}

    def table(self) -> str:
        """The audit as a text table, one line per class."""
        # "now" is the project's own thresholds, named so that the two sets can be compared
        rows = [f"{'gesture':<14}{'threshold':>11}{'x typical':>10}{'false/min':>11}"
                f"{'recall':>8}{'  (now: threshold, false/min, recall)'}"]
        for lb in self.labels:
            c = self.costs.get(lb)
            now = self.baseline_thresholds.get(lb, float("nan"))
            rows.append(
                f"{lb:<14}{self.thresholds[lb]:>11.1f}{self.multipliers[lb]:>10.2f}"
                f"{self.predicted_false_alarms[lb]:>11.3f}{_pct(self.predicted_recall[lb]):>8}"
                f"  ({now:.1f}, {self.baseline_false_alarms[lb]:.3f}, "
                f"{_pct(self.baseline_recall[lb]).strip()})"
                + (f"  costs: false {c['false']:g}, miss {c['miss']:g}" if c else ""))
        rows.append(f"total {self.total_false_alarms:.3f} false triggers/min over "
                    f"{self.null_minutes:.1f} min of ordinary movement; budget {self.budget:g}"
                    + ("" if self.met else " NOT met: even the strictest thresholds tried "
                       "fire more often (record more takes, or null takes of this movement)"))
        rows.append(self.shown_text())
        if np.isfinite(self.recall_drop):
            rows.append("gestures lost to the proposed thresholds: "
                        f"{_pct(self.recall_drop).strip()} expected on new performers"
                        + (f" (give or take {_pct(self.recall_drop_spread).strip()})"
                           if np.isfinite(self.recall_drop_spread) else "")
                        + (f"; {_pct(self.found_share_lost).strip()} of those the present "
                           "thresholds find" if np.isfinite(self.found_share_lost) else ""))
        return "\n".join(rows)


    def shown_text(self) -> str:
        """What the rehearsal can show of the budget, as a sentence."""
        return shown_text(self.to_dict())


def shown_text(result: dict[str, Any]) -> str:
    """What a rehearsal can show of its budget, as a sentence, from an audit as plain data
    (:meth:`Audit.to_dict`; the window words its verdict with it too)."""
    bound, minutes = result["false_alarm_bound"], result["null_minutes"]
    found = len(result["events"])
    what = (f"{found} false trigger{'' if found == 1 else 's'} in {_duration(minutes)} of "
            "ordinary movement")
    shows = ("show no rate at all" if bound is None else
             f"show at most {_amount(bound)} false triggers/min (95 % upper bound)")
    if result["shown"]:
        return f"{what} {shows}: the budget of {result['budget']:g} is shown"
    needed = result["minutes_needed"]
    more = ("no rehearsal can show a budget of 0: give one above 0" if needed is None else
            f"record at least {_duration(needed)} of ordinary movement in all to show it "
            f"({_duration(max(needed - minutes, 0.0))} more)")
    return (f"too short to show the budget of {result['budget']:g}/min: {what} {shows}; "
            f"{more}. Meanwhile no threshold is proposed below the present ones (the "
            "project's, else the default level)")


def _duration(minutes: float) -> str:
    """Minutes as a musician reads them: seconds below a minute."""
    return f"{minutes * 60:.2g} s" if minutes < 1 else f"{minutes:.0f} min"


def _amount(x: float) -> str:
    return f"{x:.0f}" if x >= 100 else f"{x:.3g}"


def _plain(x: float) -> float | None:
    """A number for JSON (NaN: None)."""
    return None if x != x else float(x)


def _finite(x: float) -> float | None:
    """A number for JSON (NaN or infinite: None)."""
    return float(x) if np.isfinite(x) else None


def _pct(x: float) -> str:
    return "   n/a" if not np.isfinite(x) else f"{100 * x:5.1f}%"


def _recordings(rehearsal: Any, labels: Any) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """The rehearsal as a list of (T, D) arrays and their frame labels (None: all null)."""
    if isinstance(rehearsal, np.ndarray) and rehearsal.ndim < 2:
        raise GesturemapError(f"rehearsal: shape {rehearsal.shape}; expected a (T, D) array "
                              "of frames (one row per frame), or a list of them")
    if isinstance(rehearsal, np.ndarray) and rehearsal.ndim == 2:
        rehearsal = [rehearsal]
        labels = None if labels is None else [labels]
    xs = [np.asarray(x, dtype=np.float64) for x in rehearsal]
    if not xs:
        raise GesturemapError("rehearsal: no recording; give one (T, D) array of ordinary "
                              "movement or a list of them")
    for k, x in enumerate(xs):
        if x.ndim != 2:
            raise GesturemapError(f"rehearsal recording {k}: shape {x.shape}; expected a "
                                  "(T, D) array of frames (one row per frame)")
    if labels is None:
        return xs, [None] * len(xs)
    if len(labels) != len(xs):
        raise GesturemapError(f"labels: {len(labels)} label arrays for {len(xs)} rehearsal "
                              "recordings; give one per recording (a label per frame)")
    labs = []
    for k, (x, lab) in enumerate(zip(xs, labels, strict=True)):
        lab = np.asarray(lab)
        if x.ndim != 2 or lab.shape != (len(x),):
            raise GesturemapError(f"rehearsal recording {k}: frames {x.shape} and labels "
                                  f"{lab.shape}; expected (T, D) and (T,), a label per frame")
        labs.append(lab.astype(str))
    return xs, labs


def _take_frames(spotter: Spotter, x: np.ndarray) -> np.ndarray:
    """A take followed by its last frame held long enough for the spotter to emit (a take
    ends where the gesture does; the spotter names it only once its score stops growing)."""
    pad = spotter.hold_frames + spotter.defer_frames + spotter.settle_frames + 2
    return np.vstack([x, np.repeat(x[-1:], pad, axis=0)])


class _Replay:
    """The rehearsal, the takes and the model: replays at given thresholds, counting."""

    def __init__(self, model: Any, settings: dict[str, Any], xs: list[np.ndarray],
                 labs: list[np.ndarray | None], takes: Any, rate_hz: float,
                 groups: Sequence[Any] | None = None) -> None:
        # a project's per-class settings of a gesture the model does not spot yet wait in
        # its settings, as the running spotter sets them aside: replay as it spots
        settings = spotted_settings(model, settings)[0]
        self.model, self.settings, self.rate = model, settings, rate_hz
        self.xs, self.labs = xs, labs
        try:
            base = Spotter(model, **settings)
        except TypeError as exc:
            raise GesturemapError(f"spotting settings: {exc}") from None
        if base.mode != "hmm":
            raise GesturemapError("the rehearsal audit tunes HHMM and GMM spotters (their "
                                  "thresholds are scores on one scale); a DTW spotter's "
                                  "limits are distances: train an HHMM to audit it")
        self.labels = [str(lb) for lb in base.labels]
        self.typical = dict(zip(self.labels, base.typical_scores_.tolist(), strict=True))
        self.base = base
        #: frames of ordinary movement per recording (the takes have none)
        self.null_per = [len(x) if lab is None else int(np.sum(~np.isin(lab, self.labels)))
                         for x, lab in zip(xs, labs, strict=True)]
        self.null_frames = sum(self.null_per)
        labelled = any(lab is not None and np.isin(lab, self.labels).any() for lab in labs)
        self.takes = [] if labelled or takes is None else [
            (str(r.label), np.asarray(r.inputs, dtype=np.float64)) for r in takes
            if str(r.label) in self.labels]
        self.costs: dict[str, dict[str, float]] = {}  # the spotter's (set once checked)
        # who performed each unit (a recording's performer; each take apart): the recall
        # lost on new performers is estimated by choosing on some groups, counting on others
        if groups is not None and len(groups) != len(xs):
            raise GesturemapError(f"groups: {len(groups)} for {len(xs)} rehearsal recordings; "
                                  "give one per recording (its performer or session)")
        self.groups = [("group", str(g)) for g in groups] if groups is not None else [
            ("recording", id(self), k) for k in range(len(xs))]
        self.groups += [("take", id(self), j) for j in range(len(self.takes))]
        self.unit_minutes = np.array(self.null_per + [0] * len(self.takes)) / rate_hz / 60.0

    def spotter(self, thresholds: dict[str, float],
                costs: dict[str, dict[str, float]] | None = None) -> Spotter:
        return Spotter(self.model, **{**self.settings, "thresholds": thresholds,
                                      "costs": self.costs if costs is None else costs})

    @property
    def units(self) -> int:
        """What the counts are kept apart by: each recording, then each take."""
        return len(self.xs) + len(self.takes)

    def run(self, thresholds: dict[str, float],
            costs: dict[str, dict[str, float]] | None = None
            ) -> tuple[np.ndarray, list[tuple[int, Event]]]:
        """(U, C, 3) per recording then take (:attr:`units`) and class: false triggers,
        gestures recognised, gestures counted; and the false triggers as (recording,
        event). ``costs``: the spotter's (None: :attr:`costs`)."""
        sp = self.spotter(thresholds, costs)
        idx = {lb: i for i, lb in enumerate(self.labels)}
        counts = np.zeros((self.units, len(self.labels), 3), dtype=np.int64)
        false = []
        tol = int(round(self.rate))
        for k, (x, lab) in enumerate(zip(self.xs, self.labs, strict=True)):
            events = sp.spot(x)
            if lab is None:
                for ev in events:
                    counts[k, idx[str(ev.label)], 0] += 1
                    false.append((k, ev))
                continue
            truth = [(str(g), s, e) for g, s, e in ground_truth_events(lab, self.labels)]
            res = match_detections(truth, [(str(ev.label), ev.emitted) for ev in events], tol)
            for g, _, _ in truth:
                counts[k, idx[g], 2] += 1
            for g, _, _ in res.true_positives:
                counts[k, idx[g], 1] += 1
            fp = {(g, t) for g, t in res.false_positives}
            for ev in events:
                if (str(ev.label), ev.emitted) in fp:
                    counts[k, idx[str(ev.label)], 0] += 1
                    false.append((k, ev))
        for j, (label, x) in enumerate(self.takes):
            u = len(self.xs) + j
            counts[u, idx[label], 2] += 1
            counts[u, idx[label], 1] += any(str(ev.label) == label
                                            for ev in sp.spot(_take_frames(sp, x)))
        return counts, false


def _rates(counts: np.ndarray, null_minutes: float) -> tuple[np.ndarray, np.ndarray]:
    """False alarms per minute and recall from counts (..., 3)."""
    fa = counts[..., 0] / null_minutes if null_minutes > 0 else np.zeros(counts.shape[:-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        rec = np.where(counts[..., 2] > 0, counts[..., 1] / np.maximum(counts[..., 2], 1),
                       np.nan)
    return fa, rec


def _least_miss(miss: np.ndarray, fa: np.ndarray, price: np.ndarray) -> np.ndarray:
    """Per class (rows), the level minimising ``miss + price * fa`` (ties: the least strict)."""
    g = fa.shape[1]
    return np.argmin(miss + 1e-9 * np.arange(g)[None, :] + price[:, None] * fa, axis=1)


def within_costs(fa: np.ndarray, budget: float, false_cost: np.ndarray) -> np.ndarray:
    """(C,) whether each class's own false triggers, weighted by its cost, stay within the
    budget (a class whose false trigger costs 10 may fire by mistake a tenth as often)."""
    return false_cost * fa <= budget + 1e-12


def choose(fa: np.ndarray, recall: np.ndarray, budget: float, false_cost: np.ndarray,
           miss_cost: np.ndarray) -> tuple[np.ndarray, bool]:
    """Per class (rows of the (C, G) curves, G ordered from least to most strict), the
    strictness index; and whether the budget is met.

    The classes share one price of a false trigger, the smallest at which their false
    triggers together stay within ``budget``, each class taking the level that misses
    least (weighted by ``miss_cost``) at that price. A class whose false trigger costs more
    (``false_cost`` > 1) pays that many times the price, and its own false triggers,
    weighted by their cost, stay within the budget as well: it is pushed towards silence
    while the other classes keep the choice they would have had without it (a costly
    class's false triggers count against no one else's). Where recall is unknown (NaN),
    the least strict level that the price allows."""
    g = fa.shape[1]
    miss = np.where(np.isfinite(recall), 1.0 - recall, 0.0) * miss_cost[:, None]
    costly = false_cost > 1.0
    pick, met = None, False
    for lam in _PRICES:
        pick = _least_miss(miss, fa, np.full(len(fa), lam))
        if float(np.sum(fa[np.arange(len(fa)), pick])) <= budget + 1e-12:
            met = True
            break
    if not met:  # the budget cannot be met: each class at its fewest false triggers
        pick = np.argmin(fa + 1e-9 * (g - np.arange(g))[None, :], axis=1)
    for k in np.flatnonzero(costly):
        # the costly class at its cost times the price, and no less strict than its own
        # share of the budget needs (where no level meets it: its fewest false triggers)
        # (the least strict level from which every stricter one stays within: a level where
        # the rehearsal happened to fire less than at the next is not trusted)
        over = np.flatnonzero(~within_costs(fa[k], budget, np.full(g, false_cost[k])))
        least = 0 if not len(over) else int(over[-1]) + 1
        if least >= g:
            least = int(np.argmin(fa[k] + 1e-9 * (g - np.arange(g))))
        priced = _least_miss(miss[k:k + 1], fa[k:k + 1], false_cost[k:k + 1] * lam)[0]
        pick[k] = max(pick[k], least, int(priced) if met else 0)
        met = met and bool(within_costs(fa[k, pick[k]], budget, false_cost[k]))
    return pick, met


def _choose_audit(labels: list[str], grid: np.ndarray, typical: dict[str, float],
                  counts: np.ndarray, null_minutes: float, budget: float,
                  costs: dict[str, dict[str, float]]) -> dict[str, Any]:
    """The choice over the (C, G, 3) counts: the audit's fields but the check run's and
    the settings' own ("now")."""
    fa, rec = _rates(counts, null_minutes)
    fc = np.array([cost_of(costs, lb, "false") for lb in labels])
    mc = np.array([cost_of(costs, lb, "miss") for lb in labels])
    pick, met = choose(fa, rec, budget, fc, mc)
    curve = {lb: Curve(grid.copy(), grid * typical[lb], fa[i].copy(), rec[i].copy())
             for i, lb in enumerate(labels)}
    mult = {lb: float(grid[pick[i]]) for i, lb in enumerate(labels)}
    return {
        "labels": labels, "budget": float(budget), "costs": costs,
        "thresholds": {lb: mult[lb] * typical[lb] for lb in labels}, "multipliers": mult,
        "predicted_false_alarms": {lb: float(fa[i, pick[i]]) for i, lb in enumerate(labels)},
        "predicted_recall": {lb: float(rec[i, pick[i]]) for i, lb in enumerate(labels)},
        "met": met, "curve": curve, "null_minutes": float(null_minutes),
        "counts": {lb: counts[i].copy() for i, lb in enumerate(labels)},
    }


def _lost(counts: np.ndarray, now: np.ndarray, pick: np.ndarray
          ) -> tuple[float, float, float]:
    """(gestures recognised now but not at the per-class levels ``pick``, gestures counted,
    gestures recognised now) from per-level counts (G, C, 3) and the counts now (C, 3): at
    the settings' own thresholds."""
    c = np.arange(counts.shape[1])
    return (float(now[:, 1].sum() - counts[pick, c, 1].sum()),
            float(now[:, 2].sum()), float(now[:, 1].sum()))


def _drop_on_others(per: np.ndarray, groups: list[Any], minutes: np.ndarray, now: np.ndarray,
                    choice: Any, splits: int = DROP_SPLITS) -> tuple[float, float, float]:
    """How much more recall a threshold choice loses on performers it was not chosen on.

    ``per`` (G, U, C, 3): counts per strictness level, unit and class; ``groups`` (U,) the
    performer of each unit; ``minutes`` (U,) its ordinary movement; ``now`` (U, C, 3) the
    counts at the settings' own thresholds; ``choice(fa, recall)`` the per-class levels for
    curves (C, G). Over random half-splits of the performers, the levels are chosen on one
    half and the recall lost from ``now`` is counted on the other and on the half itself.
    Returns (the mean excess of the first over the second: the optimism of a choice judged
    on its own performers; the standard deviation of the recall lost on the other half: how
    much it varies from one set of performers to another; the mean excess again with each
    loss as a share of the gestures found now), or (0, NaN, 0) with fewer than four
    performers or two with gestures."""
    keys = sorted(set(groups), key=repr)
    gi = np.array([keys.index(g) for g in groups])
    with_gestures = {int(g) for g in gi[now[:, :, 2].sum(axis=-1) > 0]}
    if len(keys) < 4 or len(with_gestures) < 2:
        return 0.0, float("nan"), 0.0
    rng = np.random.default_rng(0)
    excess, others, share = [], [], []
    for _ in range(splits):
        half = np.isin(gi, rng.permutation(len(keys))[:len(keys) // 2])
        lost = np.zeros((2, 3))  # [own half, other half] x [lost, counted, found]
        for own in (half, ~half):
            fa, rec = _rates(per[:, own].sum(axis=1).transpose(1, 0, 2),
                             float(minutes[own].sum()))
            pick = choice(fa, rec)
            lost[0] += _lost(per[:, own].sum(axis=1), now[own].sum(axis=0), pick)
            lost[1] += _lost(per[:, ~own].sum(axis=1), now[~own].sum(axis=0), pick)
        if lost[0, 1] > 0 and lost[1, 1] > 0:
            own_drop, other_drop = lost[:, 0] / lost[:, 1]
            excess.append(other_drop - own_drop)
            others.append(other_drop)
        if lost[0, 2] > 0 and lost[1, 2] > 0:
            own_share, other_share = lost[:, 0] / lost[:, 2]
            share.append(other_share - own_share)
    if not excess:  # nothing counted on a side: nothing found there either
        return 0.0, float("nan"), 0.0
    return (float(np.mean(excess)), float(np.std(others)),
            float(np.mean(share)) if share else 0.0)


def _run_all(replays: list[_Replay], mult: np.ndarray
             ) -> tuple[np.ndarray, list[tuple[int, Event]]]:
    """Every replay at per-class multipliers (each on its own model's typical scores): the
    counts (U, C, 3) of every replay's units, one after the other, and the false triggers
    with their recording's index across replays."""
    counts, false, base = [], [], 0
    for r in replays:
        c, f = r.run({lb: float(mult[i]) * r.typical[lb] for i, lb in enumerate(r.labels)})
        counts.append(c)
        false += [(base + k, ev) for k, ev in f]
        base += len(r.xs)
    return np.concatenate(counts), false


def _settle(replays: list[_Replay], grid: np.ndarray, fields: dict[str, Any],
            minutes: float, budget: float, costs: dict[str, dict[str, float]],
            typical: dict[str, float]
            ) -> tuple[list[tuple[int, Event]], np.ndarray]:
    """Replay at the chosen thresholds together (the curves had every class at one level:
    raising one class's threshold can let another fire where the first no longer does), and
    while the budget is not met (all false triggers together, and a costly class's own,
    weighted by its cost), raise one class one level (a costly class over its share first,
    else the class with the most cost-weighted false triggers) and replay again. Updates
    ``fields`` (thresholds for ``typical``'s model, multipliers, met); returns the last
    replay's false triggers and its counts (C, 3)."""
    labels = fields["labels"]
    pick = np.array([int(np.argmin(np.abs(grid - fields["multipliers"][lb]))) for lb in labels])
    fc = np.array([cost_of(costs, lb, "false") for lb in labels])
    for _ in range(len(grid) * len(labels) + 1):  # at worst every class to the top
        counts, false = _run_all(replays, grid[pick])
        fa, rec = _rates(counts.sum(axis=0), minutes)
        capped = (fc > 1.0) & ~within_costs(fa, budget, fc)  # a costly class over its share
        fields["met"] = bool(fa.sum() <= budget + 1e-12 and not capped.any())
        room = (fa > 0) & (pick < len(grid) - 1)
        if fields["met"] or not room.any():
            break
        worst = np.where(room & capped, fc * fa, -1.0) if (room & capped).any() else np.where(
            room, fc * fa, -1.0)
        pick[int(np.argmax(worst))] += 1
    fields["multipliers"] = {lb: float(grid[pick[i]]) for i, lb in enumerate(labels)}
    fields["thresholds"] = {lb: float(grid[pick[i]] * typical[lb])
                            for i, lb in enumerate(labels)}
    fields["predicted_false_alarms"] = {lb: float(fa[i]) for i, lb in enumerate(labels)}
    fields["predicted_recall"] = {lb: float(rec[i]) for i, lb in enumerate(labels)}
    return false, counts.sum(axis=0)


def _costly(replays: list[_Replay], grid: np.ndarray, fields: dict[str, Any],
            curves: np.ndarray, minutes: float, budget: float,
            costs: dict[str, dict[str, float]], typical: dict[str, float]
            ) -> tuple[list[tuple[int, Event]], np.ndarray]:
    """The choice without the false-trigger costs (``fields``, settled) made costly where
    costs say so: each costly class at least as strict as :func:`choose` puts it on the
    ``curves`` (C, G, 3) (its cost times the price, its own share of the budget), the other
    classes where they were; then replayed with the spotter's costs (a costly class holds
    its runner-up back) and settled. Marking a class costly moves that class alone, unless
    the budget needs more. Updates ``fields``; returns what :func:`_settle` does."""
    labels = fields["labels"]
    fa, rec = _rates(curves, minutes)
    fc = np.array([cost_of(costs, lb, "false") for lb in labels])
    mc = np.array([cost_of(costs, lb, "miss") for lb in labels])
    pick, _ = choose(fa, rec, budget, fc, mc)
    mult = dict(fields["multipliers"])
    costly = [lb for i, lb in enumerate(labels) if fc[i] > 1.0]
    for lb in costly:
        mult[lb] = max(mult[lb], float(grid[pick[labels.index(lb)]]))
    # a costly class competes from the threshold it has without its cost: it holds its
    # runner-up back only where, without the cost, it would have fired itself
    without = {lb: fields["multipliers"][lb] for lb in costly}
    for r in replays:  # the spotter decides by the costs too (each model on its own scale)
        r.costs = {lb: {**c, COMPETES_FROM: without[lb] * r.typical[lb]} if lb in without
                   else c for lb, c in costs.items()}
    fields["multipliers"] = mult
    fields["costs"] = {lb: {**c, COMPETES_FROM: without[lb] * typical[lb]} if lb in without
                       else c for lb, c in costs.items()}
    return _settle(replays, grid, fields, minutes, budget, costs, typical)


def _why(model: Any, x: np.ndarray, ev: Event) -> str | None:
    from ..explain import explain

    try:
        return explain(model, x[ev.start:ev.end + 1]).summary()
    except GesturemapError:
        return None


def audit(model: Any, rehearsal: Any, budget: float = 0.1, costs: dict[str, Any] | None = None,
          *, labels: Sequence[Any] | None = None, takes: Any = None, rate_hz: float = 50.0,
          spotting: dict[str, Any] | None = None, grid: Sequence[float] = DEFAULT_GRID,
          explain: bool = True, groups: Sequence[Any] | None = None) -> Audit:
    """Replay a rehearsal through ``model``'s spotter, and choose per-class thresholds.

    Parameters
    ----------
    model : a fitted :class:`~gesturemap.HHMM` or :class:`~gesturemap.GMM` that spots.
    rehearsal : a (T, D) recording of ordinary movement, or a list of them, in the model's
        input space (a project's features).
    budget : false triggers per minute of ordinary movement allowed, all classes together;
        a class whose false trigger costs ``c`` > 1 gets ``budget / c`` of its own.
    costs : ``{label: cost of a false trigger}`` or ``{label: {"false": c, "miss": c}}``
        (:func:`~gesturemap.models.spotting.costs.check_costs`; 1.0 where not given).
    labels : one (T,) label array per rehearsal recording (a run-through with its gestures
        marked); frames labelled with a gesture are its gestures, every other frame is
        ordinary movement. None: every frame is ordinary movement.
    takes : the recorded takes (a :class:`~gesturemap.Dataset`, the model's own), whose
        recognition the thresholds keep when the rehearsal has no labelled gesture.
    rate_hz : frames per second of the recordings.
    spotting : the spotting settings (a project's, :class:`~gesturemap.Spotter`'s keyword
        arguments): the audit replays with them. Their ``thresholds`` and ``costs`` are what
        the spotter does now (the ``baseline_*`` figures, and what the recall lost is counted
        from; each gesture without a threshold of its own at ``relative_threshold``); the
        audit chooses new ones.
    grid : strictness levels tried, as multiples of each class's typical score.
    explain : give each false trigger found its "why?".
    groups : who performed each rehearsal recording (a name or number per recording): the
        recall the thresholds lose on new performers (``recall_drop``) is estimated by
        choosing on some performers and counting on the others. None: each recording apart.

    Returns
    -------
    :class:`Audit`
    """
    check_model("audit(model, rehearsal)", model)
    settings = _settings(spotting)
    xs, labs = _recordings(rehearsal, labels)
    replay = _Replay(model, settings, xs, labs, takes, _check_rate(rate_hz), groups)
    return _audit_replays([replay], replay.typical, budget, costs, settings, grid, explain,
                          _present(spotting))


def cross_fitted_audit(parts: Sequence[tuple[Any, ...]], model: Any, budget: float = 0.1,
                       costs: dict[str, Any] | None = None, *, rate_hz: float = 50.0,
                       spotting: dict[str, Any] | None = None,
                       grid: Sequence[float] = DEFAULT_GRID, explain: bool = False) -> Audit:
    """:func:`audit` cross-fitted: each part ``(part_model, rehearsal, labels)`` replays a part
    of the performers' recordings through a model trained on the other parts (what a model
    does on movement it has not seen); the false triggers and gestures of every part are
    counted together, and the thresholds are given for ``model`` (trained on every part) as
    the same multiples of its classes' typical scores. A part may name each recording's
    performer too, ``(part_model, rehearsal, labels, groups)`` (as :func:`audit`'s
    ``groups``)."""
    settings = _settings(spotting)
    replays = []
    for part in parts:
        part_model, rehearsal, labels, groups = (*part, None)[:4]
        xs, labs = _recordings(rehearsal, labels)
        replays.append(_Replay(part_model, settings, xs, labs, None, _check_rate(rate_hz),
                               groups))
    if not replays:
        raise GesturemapError("cross_fitted_audit: no part to replay")
    sp = Spotter(model, **settings)
    typical = dict(zip([str(lb) for lb in sp.labels], sp.typical_scores_.tolist(), strict=True))
    return _audit_replays(replays, typical, budget, costs, settings, grid, explain,
                          _present(spotting))


def project_costs(model: Any, spotting: dict[str, Any], given: dict[str, Any] | None = None
                  ) -> dict[str, dict[str, float]]:
    """The costs an audit of a project follows: those its spotting settings store (the
    window's costs table, ``/gesturemap/costs``, an earlier ``--apply``), each kind replaced
    where ``given`` names it (``{label: {"false": c}}``, the command line's ``--cost`` and
    ``--miss-cost``). A cost stored or given for a gesture ``model`` does not spot yet
    waits, as the running spotter sets it aside (said in one line); the level a costly
    gesture competes from is left for the audit to work out again for the thresholds it
    chooses."""
    costs = {str(lb): (dict(c) if isinstance(c, dict) else {"false": c})
             for lb, c in (spotting.get("costs") or {}).items()}
    for lb, c in (given or {}).items():
        costs[str(lb)] = {**costs.get(str(lb), {}), **c}
    kept, aside = spotted_settings(model, {"costs": costs})
    if aside:
        log.warning("the costs of %s wait: the model spots no such gesture (they apply once "
                    "it is trained with takes of it)", ", ".join(map(repr, aside)))
    return {lb: {k: v for k, v in c.items() if k != COMPETES_FROM}
            for lb, c in kept["costs"].items()}


def values_to_store(result: dict[str, Any], stored: dict[str, Any] | None
                    ) -> dict[str, dict[str, Any] | None]:
    """The thresholds and costs a project keeps once an audit is applied (``gesturemap audit
    --apply``, the window's Apply): the audit's (``result``: :meth:`Audit.to_dict`, or its
    ``labels``, ``thresholds`` and ``costs``), and those the spotting settings ``stored``
    keep for a gesture it did not audit: one the model does not spot yet waits in the
    settings for a model that does, as the running spotter sets it aside. Returns
    ``{"thresholds": ..., "costs": ...}``, each None where there is none."""
    audited = {str(lb) for lb in result["labels"]}
    out: dict[str, dict[str, Any] | None] = {}
    for key in ("thresholds", "costs"):
        waiting = {lb: v for lb, v in ((stored or {}).get(key) or {}).items()
                   if str(lb) not in audited}
        out[key] = {**waiting, **result[key]} or None
    return out


def _settings(spotting: dict[str, Any] | None) -> dict[str, Any]:
    """The spotting settings the audit replays with: all but those it chooses."""
    return {k: v for k, v in (spotting or {}).items() if k not in ("thresholds", "costs")}


def _present(spotting: dict[str, Any] | None) -> dict[str, Any]:
    """The settings' own thresholds and costs: what the spotter does now, the audit's
    "now" figures (a project's, as stored; a gesture's waiting ones are set aside later)."""
    spotting = spotting or {}
    thresholds = spotting.get("thresholds") or {}
    if not isinstance(thresholds, dict):
        raise GesturemapError(f"spotting thresholds: {thresholds!r:.80}; expected a dict "
                              "{label: score}")
    return {"thresholds": thresholds, "costs": check_costs(spotting.get("costs"))}


def _now_levels(labels: list[str], typical: dict[str, float], present: dict[str, Any],
                base: float) -> tuple[dict[str, float], dict[str, Any]]:
    """Each gesture's threshold now (its stored one, else ``base`` times its typical score)
    as a multiple of its typical score, and the settings' own thresholds and costs of the
    gestures the model spots (those of another gesture wait in the settings, as the running
    spotter sets them aside)."""
    kept, _ = set_aside(labels, present)
    thresholds = {str(k): float(v) for k, v in kept["thresholds"].items()}
    levels = {lb: thresholds[lb] / typical[lb] if lb in thresholds else base for lb in labels}
    return levels, {"thresholds": thresholds, "costs": kept["costs"]}


def _on_grid(grid: np.ndarray, level: float) -> float:
    """The grid's level for a level now: the same level (the grid holds every positive one,
    up to the rounding of a threshold stored as a multiple times a typical score), else the
    grid's end on its side (a threshold of 0 or below: the least strict level tried)."""
    near = np.flatnonzero(np.isclose(grid, level, rtol=1e-9, atol=0.0))
    if len(near):
        return float(grid[near[0]])
    return float(grid[-1] if level > grid[-1] else grid[0])


def _run_now(replays: list[_Replay], typical: dict[str, float], now: dict[str, Any],
             base: float) -> np.ndarray:
    """The counts (U, C, 3) of every replay's units at the settings' own thresholds and
    costs (``now``: the model's; a part model of a cross-fitted audit takes them as the
    same multiples of its own typical scores, as the chosen ones are carried over)."""
    counts = []
    for r in replays:
        scale = {lb: r.typical[lb] / typical[lb] for lb in r.labels}  # 1.0: the same model
        thresholds = {lb: now["thresholds"][lb] * scale[lb] if lb in now["thresholds"]
                      else base * r.typical[lb] for lb in r.labels}
        costs = {lb: {**c, COMPETES_FROM: c[COMPETES_FROM] * scale[lb]}
                 if COMPETES_FROM in c else c for lb, c in now["costs"].items()}
        counts.append(r.run(thresholds, costs)[0])
    return np.concatenate(counts)


def _audit_replays(replays: list[_Replay], typical: dict[str, float], budget: float,
                   costs: Any, settings: dict[str, Any], grid: Sequence[float],
                   explain: bool, present: dict[str, Any]) -> Audit:
    costs = check_costs(costs)
    budget = _check_budget(budget)
    labels = replays[0].labels
    if any(r.labels != labels for r in replays) or sorted(typical) != sorted(labels):
        raise GesturemapError("the audit's models differ in their gestures")
    unknown = sorted(set(costs) - set(labels))
    if unknown:
        raise GesturemapError(f"costs: {unknown} name no gesture of the model (its gestures: "
                              f"{', '.join(labels)})")
    base = float(with_new_names(settings).get("relative_threshold", DEFAULT_THRESHOLD))
    grid_a = np.array(sorted({float(m) for m in grid} | {base}))
    if grid_a[0] <= 0:
        raise GesturemapError(f"grid: {grid_a[0]}: strictness levels are multiples > 0 of "
                              "each class's typical score")
    # the settings' own thresholds are "now": each gesture's level now is tried too, so that
    # keeping it is one of the choices and a short rehearsal can keep it exactly (a level
    # stored by an earlier audit is already on the grid, up to rounding)
    now_levels, now = _now_levels(labels, typical, present, base)
    extra = [m for m in now_levels.values() if np.isfinite(m) and m > 0
             and not np.isclose(grid_a, m, rtol=1e-9, atol=0.0).any()]
    grid_a = np.array(sorted({*grid_a.tolist(), *extra}))
    floor = {lb: _on_grid(grid_a, m) for lb, m in now_levels.items()}
    # first the choice without the false-trigger costs (the miss costs weigh it already):
    # what every class gets when no false trigger costs more than another
    plain = {lb: {"false": 1.0, "miss": c["miss"]} for lb, c in costs.items()}
    per = np.stack([_run_all(replays, np.full(len(labels), m))[0] for m in grid_a])
    minutes = sum(r.null_frames / r.rate for r in replays) / 60.0
    if minutes == 0:
        # no false trigger can be counted per minute: the budget would be met by nothing,
        # and every gesture would get the least strict threshold tried
        raise GesturemapError("rehearsal: no ordinary movement (every frame is labelled a "
                              "gesture): false triggers are counted on the movement between "
                              "gestures; record it too, labelled null (or 0)")
    curves = per.sum(axis=1).transpose(1, 0, 2)
    fields = _choose_audit(labels, grid_a, typical, curves, minutes, budget, plain)
    false, settled = _settle(replays, grid_a, fields, minutes, budget, plain, typical)
    looser = {lb for lb, m in fields["multipliers"].items() if m < floor[lb]}
    if looser and rate_bound(len(false), minutes) > budget:
        # too short a rehearsal to show the budget: a threshold is raised on the false
        # triggers it saw, never lowered below the settings' own on the ones it was too
        # short to see (the default level where a gesture has no threshold of its own)
        fields["multipliers"] = {lb: max(m, floor[lb])
                                 for lb, m in fields["multipliers"].items()}
        false, settled = _settle(replays, grid_a, fields, minutes, budget, plain, typical)
    fields["costs"] = costs
    if any(c["false"] > 1.0 for c in costs.values()):
        false, settled = _costly(replays, grid_a, fields, curves, minutes, budget, costs,
                                 typical)
    fields["false_alarm_bound"] = rate_bound(len(false), minutes)
    fields["shown"] = bool(fields["false_alarm_bound"] <= budget)
    fields["minutes_needed"] = minutes_to_show(len(false), budget)
    # "now": the spotter as the settings stand, the figures beside the proposed ones and
    # what the recall lost is counted from (with no threshold or cost stored, the replay at
    # the default level: the level the HAPT calibration measured the drop from)
    now_units = _run_now(replays, typical, now, base)
    at_now = now_units.sum(axis=0)
    fa_now, rec_now = _rates(at_now, minutes)
    fields["baseline_false_alarms"] = {lb: float(fa_now[i]) for i, lb in enumerate(labels)}
    fields["baseline_recall"] = {lb: float(rec_now[i]) for i, lb in enumerate(labels)}
    fields["baseline_thresholds"] = {lb: now["thresholds"].get(lb, base * typical[lb])
                                     for lb in labels}
    lost, counted = at_now[:, 1].sum() - settled[:, 1].sum(), at_now[:, 2].sum()
    fc = np.array([cost_of(costs, lb, "false") for lb in labels])
    mc = np.array([cost_of(costs, lb, "miss") for lb in labels])
    excess, spread, excess_share = _drop_on_others(
        per, [g for r in replays for g in r.groups],
        np.concatenate([r.unit_minutes for r in replays]), now_units,
        lambda fa, rec: choose(fa, rec, budget, fc, mc)[0])
    seen = lost / counted if counted else float("nan")
    found = at_now[:, 1].sum()
    fields.update(recall_drop_seen=seen, recall_drop=seen + max(excess, 0.0),
                  recall_drop_spread=spread,
                  found_share_lost=lost / found + max(excess_share, 0.0) if found
                  else float("nan"))
    where = [(r, x) for r in replays for x in r.xs]
    fields["events"] = [
        FalseTrigger(k, ev, ev.emitted / where[k][0].rate,
                     _why(where[k][0].model, where[k][1], ev)
                     if explain and n < MAX_EXPLAINED else None)
        for n, (k, ev) in enumerate(false)]
    return Audit(**fields)


def _check_budget(budget: Any) -> float:
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not (
            np.isfinite(budget) and budget >= 0):
        raise GesturemapError(f"budget: {budget!r}; expected false triggers per minute, a "
                              "number >= 0 (e.g. 0.1: one every ten minutes)")
    return float(budget)


def _check_rate(rate_hz: Any) -> float:
    # the rate turns frames into minutes of rehearsal: 0 divided by zero, a negative rate
    # gave negative false triggers per minute and a threshold chosen on them
    number = (int, float, np.integer, np.floating)
    if isinstance(rate_hz, bool) or not isinstance(rate_hz, number) or not (
            np.isfinite(rate_hz) and rate_hz > 0):
        raise GesturemapError(f"rate_hz: {rate_hz!r}; expected the recordings' frames per "
                              "second, a number > 0 (e.g. 50)")
    return float(rate_hz)


def plot_audit(result: Audit, path: Any) -> Any:
    """Draw each class's trade-off (false triggers per minute against recall, the chosen
    threshold marked) into the image file ``path`` (PNG); matplotlib if installed, else
    pyqtgraph's exporter. Returns the path."""
    from pathlib import Path

    path = Path(path)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return _plot_pyqtgraph(result, path)
    fig, ax = plt.subplots(figsize=(6, 4))
    for lb in result.labels:
        c = result.curve[lb]
        line, = ax.plot(c.false_alarms_per_min, c.recall, marker=".", label=lb)
        i = int(np.argmin(np.abs(c.multiplier - result.multipliers[lb])))
        ax.plot([c.false_alarms_per_min[i]], [c.recall[i]], "o", ms=9, mfc="none",
                color=line.get_color())
    ax.set_xlabel("false triggers per minute of ordinary movement")
    ax.set_ylabel("gestures recognised")
    ax.set_title(f"rehearsal audit (budget {result.budget:g}/min; circles: chosen)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _plot_pyqtgraph(result: Audit, path: Any) -> Any:
    import pyqtgraph as pg
    import pyqtgraph.exporters as exporters

    pg.mkQApp()
    plot = pg.PlotWidget(title=f"rehearsal audit (budget {result.budget:g}/min)")
    plot.addLegend()
    plot.setLabel("bottom", "false triggers per minute")
    plot.setLabel("left", "gestures recognised")
    for k, lb in enumerate(result.labels):
        c = result.curve[lb]
        ok = np.isfinite(c.recall)
        plot.plot(c.false_alarms_per_min[ok], c.recall[ok], pen=pg.intColor(k), symbol="o",
                  symbolSize=5, name=lb)
    plot.resize(600, 400)
    exporters.ImageExporter(plot.plotItem).export(str(path))
    return path
