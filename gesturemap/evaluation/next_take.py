"""Which take to record next: the class whose takes the others win, kept near balance.

:func:`suggest_next_take` reviews the takes by cross-validation (:func:`gesturemap.review_takes`:
each take judged by the model trained without it) and ranks the classes by how much another take
would teach the model:

- a class with **one take** comes first: the model cannot know how it varies;
- else the class whose own takes the other classes come closest to winning, less twice how
  close it comes to winning theirs: the suspicion of its takes (0.5 is the boundary with the
  best other class, near 1 another class is much likelier), less twice the suspicion of the
  other classes' takes it is the runner-up of (those another class wins or nearly wins).
  Another take widens a class: that teaches the model where a class ends whose takes are lost
  to others, but a class that already nearly wins the others' takes would win more of them.
  The sum is taken per take and shrunk toward the mean over all takes (a class of two or three
  takes is judged on little evidence);
- with a **prior toward balance**: each take a class has beyond the fewest costs it 0.6 of need,
  and only the classes with the fewest takes (or one more) are candidates. A balanced set is
  hard to beat: a class left short of takes loses more than a hard class gains.

These rules and their weights were chosen with simulated users on the shared datasets'
training parts only, then measured on their held-out parts (docs/performance.md, "The next
take to record").

The hint says how the take should differ from those recorded:

- a class confused with another: "unlike Y" (exaggerate what sets it apart from Y);
- the null class (``gm.NULL``, "anything else"): "a take of rest between X", X the gesture it is
  most confused with;
- a class whose takes all have about the same length (or size): "slower" or "faster" (or
  "bigger" or "smaller"), toward the other classes' typical length (size) — a take nearer the
  boundary teaches the model most about where its class ends.

The suggestion is deterministic for a given dataset, model and ``seed``. Its cost is the
review's: at most ``folds`` trainings (docs/performance.md gives the time on 20 takes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..models import NULL

__all__ = ["NextTake", "suggest_from_reviews", "suggest_next_take", "too_few_classes"]

#: Takes whose lengths (or sizes) vary by less than this (coefficient of variation) are
#: "all alike": a slower or faster (bigger, smaller) take widens what the model knows.
ALIKE = 0.15
#: A class whose takes' mean suspicion is at least this is "confused" with its runner-up.
CONFUSED = 0.35
#: A class is a candidate when it has at most this many takes more than the class with fewest.
SLACK = 1
#: Weight of how close a class comes on the other classes' takes, against how close they come
#: on its own, in its need: another take widens a class, and a class that already nearly
#: wins the others' takes would win more of them.
CROWD = 2.0
#: A class's net suspicion per take is shrunk toward all the takes' mean by this many takes.
PRIOR = 1.0
#: The prior toward balance: the need a class loses per take it has beyond the fewest.
BALANCE = 0.6


@dataclass(frozen=True)
class NextTake:
    """The take to record next.

    Attributes
    ----------
    label : the class to record next (None: nothing to suggest, e.g. a single class).
    hint : how the take should differ from those recorded ("slower", "unlike swipe", …; "" when
        any take will do).
    reason : why, one sentence.
    need : per class, how much another take would teach the model (higher: more), in
        ``labels`` order: 0..1, 0 for a class that is not a candidate (too many takes ahead
        of the fewest); 2 for a class with one take (those come first).
    labels : the dataset's classes, sorted.
    """

    label: Any
    hint: str
    reason: str
    need: tuple[float, ...] = field(default=())
    labels: tuple[Any, ...] = field(default=())

    def text(self) -> str:
        """One line: "next take: circle, slower — why"."""
        if self.label is None:
            return f"next take: {self.reason}"
        what = f"{self.label}, {self.hint}" if self.hint else str(self.label)
        return f"next take: {what} — {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON, the window's worker process)."""
        return {"label": None if self.label is None else str(self.label), "hint": self.hint,
                "reason": self.reason, "text": self.text(),
                "need": {str(lb): float(v) for lb, v in zip(self.labels, self.need,
                                                            strict=True)}}


def suggest_next_take(model: Any, dataset: Any, *, folds: int = 10, seed: int = 0,
                      cancel: Any = None) -> NextTake:
    """Suggest which class to record next and how (see the module's docstring).

    Parameters
    ----------
    model : a gesturemap model (copied, never fitted itself: its settings are what count).
    dataset : a :class:`gesturemap.Dataset` of labelled takes.
    folds : at most this many trainings of the cross-validation
        (:func:`gesturemap.review_takes`).
    seed : the shuffle of takes into folds.
    cancel : an object with ``is_set()``; when set, the review stops
        (:class:`~gesturemap.errors.TrainingCancelled`).

    Returns
    -------
    NextTake : ``label``, ``hint``, ``reason``; ``label`` None when the dataset has fewer than
        two classes (the reason says to record another gesture).

    Examples
    --------
    >>> s = gm.suggest_next_take(gm.GMM(), ds)            # doctest: +SKIP
    >>> s.label, s.hint, s.reason                         # doctest: +SKIP
    ('circle', 'unlike swipe', 'circle is recognised in 2 of its 4 takes, ...')
    """
    from ..review import check_order, review_takes

    check_order("suggest_next_take(model, dataset)", dataset=dataset, model=model)
    labels = sorted({r.label for r in dataset}, key=str)
    if len(labels) < 2:
        return too_few_classes(labels)
    reviews = review_takes(dataset, model, folds=folds, seed=seed, cancel=cancel)
    return suggest_from_reviews(dataset, reviews)


def too_few_classes(labels: list[Any]) -> NextTake:
    """No suggestion: fewer than two classes (``labels``) to compare."""
    if not labels:  # "another gesture" would suggest one is there already
        reason = "no take yet: record two gestures or more, then their takes can be compared"
    else:
        reason = (f"only {labels[0]} so far: record another gesture, then the takes can be "
                  "compared")
    return NextTake(None, "", reason, tuple(1.0 for _ in labels), tuple(labels))


def suggest_from_reviews(dataset: Any, reviews: Any) -> NextTake:
    """:func:`suggest_next_take` from a review already made of ``dataset``'s takes
    (:func:`gesturemap.review_takes`, in dataset order): no training."""
    from ..review import first_takes

    recordings = list(dataset)
    summary = reviews.summary
    labels = list(summary.labels)
    index = {lb: i for i, lb in enumerate(labels)}
    y = np.array([index[r.label] for r in recordings])
    counts = np.bincount(y, minlength=len(labels))
    suspicion = np.array([r.suspicion for r in reviews])
    # the class each take comes closest to, other than its own: the argmax of the others'
    # likelihoods is not kept by the review, so the likely label where it differs, else the
    # runner-up named by a "confused with" verdict
    runner = [_runner_up(r, index) for r in reviews]
    need = _need(y, counts, suspicion, runner)
    eligible = counts <= counts.min() + SLACK
    # the neediest candidate; ties: the fewest takes, then the class recorded first (not
    # the first name in sorted order, which a rename would change)
    first = first_takes(y, len(labels))
    best = min(np.nonzero(eligible)[0], key=lambda k: (-need[k], counts[k], first[k]))
    label = labels[best]
    hint, reason = _hint(best, labels, recordings, y, counts, suspicion, runner,
                         summary.confusion)
    return NextTake(label, hint, reason, tuple(float(v) for v in need), tuple(labels))


def _runner_up(review: Any, index: dict[Any, int]) -> int | None:
    if review.likely_label != review.label:
        return index.get(review.likely_label)
    verdict = str(review.verdict)
    if verdict.startswith("confused with "):
        return index.get(_label_named(verdict[len("confused with "):], index))
    return None


def _label_named(text: str, index: dict[Any, int]) -> Any:
    for lb in index:  # labels may be numbers: the verdict holds their text
        if str(lb) == text:
            return lb
    return None


def _need(y: np.ndarray, counts: np.ndarray, suspicion: np.ndarray,
          runner: list[int | None]) -> np.ndarray:
    """How much another take of each class would teach the model (see the module)."""
    c = len(counts)
    single = counts < 2
    if single.any():  # any class with one take comes first
        return np.where(single, 2.0, 0.0)
    # how close the other classes come on k's own takes, less how close k comes on theirs
    # (the takes another class wins or nearly wins, whose runner-up the review names)
    near = np.array([k if k is not None else -1 for k in runner])
    named = near >= 0
    crowd = np.bincount(near[named], weights=suspicion[named], minlength=c)
    net = np.bincount(y, weights=suspicion, minlength=c) - CROWD * crowd
    # per take, shrunk toward the mean over all takes by PRIOR takes' worth: a class of two
    # or three takes is judged on little evidence
    per_take = (net + PRIOR * net.sum() / counts.sum()) / (counts + PRIOR)
    # the prior toward balance: each take a class has beyond the fewest costs BALANCE, and
    # only the classes with the fewest takes (or SLACK more) are candidates
    score = per_take - BALANCE * (counts - counts.min())
    need = 1.0 / (1.0 + np.exp(-np.clip(score, -50.0, 50.0)))  # 0..1, the order kept
    return np.where(counts <= counts.min() + SLACK, need, 0.0)


def _hint(k: int, labels: list[Any], recordings: list[Any], y: np.ndarray,
          counts: np.ndarray, suspicion: np.ndarray, runner: list[int | None],
          confusion: np.ndarray) -> tuple[str, str]:
    label, n = labels[k], int(counts[k])
    mine = np.nonzero(y == k)[0]
    rivals = [runner[i] for i in mine if runner[i] is not None]
    rival = labels[max(set(rivals), key=lambda j: (rivals.count(j), -j))] if rivals else None
    if label == NULL:
        gesture = rival if rival is not None else _most_taken_for(k, labels, confusion)
        where = f"between {gesture}s" if gesture is not None else "between gestures"
        why = (f"ordinary movement is taken for {gesture}" if rival is not None
               else "the model has seen little of what is not a gesture")
        return f"a take of rest {where}", f"{why}: show it more of what to ignore."
    if n < 2:
        return _coverage_hint(k, labels, recordings, y, single=True)
    recognised = int(confusion[k, k])
    if rival is not None and suspicion[mine].mean() >= CONFUSED:
        how = (f"{label} is recognised in {recognised} of its {n} takes, and taken for "
               f"{rival}" if recognised < n else
               f"{label}'s takes are recognised, but only just ahead of {rival}")
        return (f"unlike {rival}", f"{how}: a take that differs most from {rival} shows the "
                "model where they part.")
    taken = _most_taken_for(k, labels, confusion)
    if taken is not None and confusion[:, k].sum() - confusion[k, k] > 0:
        return ("as distinct as you can make it",
                f"takes of {taken} are taken for {label}: a clear take of {label} sharpens it.")
    return _coverage_hint(k, labels, recordings, y, single=False)


def _most_taken_for(k: int, labels: list[Any], confusion: np.ndarray) -> Any:
    column = confusion[:, k].copy()
    column[k] = 0
    return labels[int(np.argmax(column))] if column.any() else None


def _coverage_hint(k: int, labels: list[Any], recordings: list[Any], y: np.ndarray,
                   single: bool) -> tuple[str, str]:
    """Slower / faster / bigger / smaller: toward the other classes' typical take."""
    label = labels[k]
    lengths = np.array([len(r.inputs) for r in recordings], dtype=np.float64)
    sizes = np.array([_size(r.inputs) for r in recordings])
    mine = y == k
    spread_len = _variation(lengths[mine])
    spread_size = _variation(sizes[mine])
    if single:
        head = f"{label} has one take only"
    elif min(spread_len, spread_size) < ALIKE:
        head = None
    else:
        return ("", f"{label} is the class the model is least sure of: another take, as you "
                "would play it, helps most.")
    if spread_len <= spread_size:
        slower = np.median(lengths[mine]) <= np.median(lengths[~mine]) if (~mine).any() else True
        hint = "slower" if slower else "faster"
        alike = (head or f"{label}'s {int(mine.sum())} takes all last about as long "
                 f"(within {100 * spread_len:.0f}%)")
    else:
        bigger = np.median(sizes[mine]) <= np.median(sizes[~mine]) if (~mine).any() else True
        hint = "bigger" if bigger else "smaller"
        alike = (head or f"{label}'s {int(mine.sum())} takes are all about as big "
                 f"(within {100 * spread_size:.0f}%)")
    return hint, f"{alike}: a {hint} take widens what the model knows of it."


def _size(inputs: np.ndarray) -> float:
    """How big a take is: the mean over channels of its frames' standard deviation."""
    return float(np.mean(np.std(np.asarray(inputs, dtype=np.float64), axis=0)))


def _variation(values: np.ndarray) -> float:
    """Coefficient of variation (0 for a single value, inf when the mean is 0)."""
    if len(values) < 2:
        return 0.0
    mean = float(np.mean(np.abs(values)))
    return float(np.std(values)) / mean if mean > 0 else math.inf
