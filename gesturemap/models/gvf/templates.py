"""How a GVF class's templates are made from its takes (``GVF.fit``): each take resampled
over its duration, relative to its first frame; the takes grouped into similar takes
(k-medoids, GVF 2's several templates per class); a group's template its takes' mean
resampled to their median length, or its medoid take (``template``).
"""

from __future__ import annotations

import numpy as np

#: Takes are compared at this many resampled frames to choose the medoid.
MEDOID_FRAMES = 64
#: ``GVF.fit`` warns about a class whose longest take lasts more than this many times its
#: shortest (HAPT's transitions and JapaneseVowels stay within 3.3).
UNEVEN_TAKES = 4.0


def _resample(x: np.ndarray, n: int) -> np.ndarray:
    """(n, D) linear resampling of a (T, D) take over its duration (all inputs at once)."""
    t = np.linspace(0.0, len(x) - 1.0, n)
    i = np.minimum(t.astype(np.int64), max(len(x) - 2, 0))
    f = (t - i)[:, None]
    j = np.minimum(i + 1, len(x) - 1)
    return (1.0 - f) * x[i] + f * x[j]


def _template(takes: list[np.ndarray], how: str) -> np.ndarray:
    """A template from (standardised) takes, relative to its first frame."""
    if how == "mean":
        n = max(2, int(np.median([len(t) for t in takes])))
        tmpl = np.mean([_resample(t - t[0], n) for t in takes], axis=0)
    else:
        r = np.array([_resample(t - t[0], MEDOID_FRAMES) for t in takes])
        cost = [sum(np.sum((a - b) ** 2) for b in r) for a in r]
        best = takes[int(np.argmin(cost))]
        tmpl = best - best[0]
    if len(tmpl) < 2:
        tmpl = np.vstack([tmpl, tmpl])
    return tmpl


def uneven_takes(label: object, lengths: list[int], reference: int) -> str | None:
    """The warning for a class whose takes' lengths differ by more than
    :data:`UNEVEN_TAKES` times (None if they do not): its speed 1 is the pace of its
    reference template, ``reference`` frames long (the takes' median length), so a take
    recorded by mistake, much shorter or longer than the others, moves every speed it
    reads."""
    low, high = min(lengths), max(lengths)
    if high <= UNEVEN_TAKES * low:
        return None
    return (f"GVF: the takes of class {label!r} last {low} to {high} frames; its speed 1 is the "
            f"pace of its median take ({reference} frames), so a take much shorter or longer "
            "than the others (recorded by mistake?) changes every speed the class reads. "
            "Delete that take, or record takes of similar length.")


def _clusters(takes: list[np.ndarray], k: int) -> list[list[int]]:
    """Up to ``k`` groups of similar takes (k-medoids on the takes resampled to
    ``MEDOID_FRAMES`` frames, relative to their first frame; deterministic).

    Starts from the medoid of all takes and adds, one by one, the take farthest from the
    medoids so far (none at distance 0: takes that repeat one another, e.g. still takes,
    make fewer groups); then alternates assigning each take to its nearest medoid and moving each
    medoid to its group's medoid until nothing changes. Groups are returned in the order of
    their medoids' take index."""
    n = len(takes)
    if k >= n:
        return [[i] for i in range(n)]
    r = np.array([_resample(t - t[0], MEDOID_FRAMES).ravel() for t in takes])
    sq = (r**2).sum(1)  # distances through the Gram matrix: no (n, n, frames * D) array
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * (r @ r.T), 0.0))
    np.fill_diagonal(dist, 0.0)
    medoids = [int(np.argmin(dist.sum(1)))]
    while len(medoids) < k:
        far = dist[:, medoids].min(1)
        if far.max() <= 0.0:  # every take repeats a medoid: fewer groups than k
            break
        medoids.append(int(np.argmax(far)))
    for _ in range(50):
        assign = np.argmin(dist[:, medoids], axis=1)
        new = []
        for g in range(len(medoids)):
            members = np.flatnonzero(assign == g)
            if not len(members):  # (cannot happen with distinct medoids; kept as it was)
                new.append(medoids[g])
                continue
            new.append(int(members[np.argmin(dist[np.ix_(members, members)].sum(1))]))
        if new == medoids:
            break
        medoids = new
    assign = np.argmin(dist[:, medoids], axis=1)
    groups = [np.flatnonzero(assign == g).tolist() for g in np.argsort(medoids)]
    return [g for g in groups if g]
