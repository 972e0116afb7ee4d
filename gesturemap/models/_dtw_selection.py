"""How ``DTW(normalization="auto")`` chooses its normalisation: leave-one-take-out 1-NN on the
training takes.

Which normalisation DTW needs depends on the data: z-normalising every take removes a
sensor's offset and gain (an accelerometer's gravity, a loose strap) and wins on motion
sensors; where the level itself tells the classes apart (speech cepstra: the speaker is in
the levels), the same z-normalisation throws the answer away and global standardisation
wins. So ``fit`` matches every take (or an even sample of them) against the others with each
candidate and keeps the one whose nearest other take most often has the take's label.

The takes of its class recorded just before and after a take are left out of its matches:
takes recorded one after another share the sensor's placement and the performer's state, which
a later performance will not. Without it, on HAPT's transitions (21 people, two takes of each
transition each) every candidate scored alike, each take finding its twin, while on people
left out z-normalisation wins by 0.06.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import TrainingCancelled
from . import _dtw_kernels as _k
from . import _dtw_window_kernels as _wk
from ._standardize import fit_standardization
from .base import Cancel

#: Normalisations ``"auto"`` tries, the simpler first (it wins a tie).
AUTO_NORMALIZATIONS = ("global", "window")
#: At most this many takes are matched against the others (an even sample across classes).
AUTO_QUERIES = 120
#: Takes whose median length exceeds this are compared one frame in N (the same N for every
#: take and candidate): the choice stays cheap on recordings of a minute.
AUTO_LENGTH = 160
#: At most about this many frame distances times inputs per candidate normalisation (about a
#: second): fewer takes are matched, then fewer frames, until it fits.
AUTO_WORK = 1.2e9
#: ... but at least this many takes (all of them if fewer).
AUTO_MIN_QUERIES = 30
#: A take is matched against every take but itself and this many of its class recorded just
#: before and after it: takes recorded one after another share a sensor's placement and a
#: performer's mood more than a later performance will.
NEIGHBOURS_OUT = 1
#: A window is at most this many times the longest take (``normalization="window"``).
WINDOW_REACH = 2


def znorm_take(x: np.ndarray) -> np.ndarray:
    """(T, D) ``x`` z-normalised as a whole by the kernel a ``"window"`` stream uses."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty_like(x)
    _wk.window_znorm(x, 0, len(x), out)
    return out


def _plan(lengths: np.ndarray, dim: int) -> tuple[int, int]:
    """(one frame in how many, how many takes matched) so that matching them against every
    take costs about :data:`AUTO_WORK` at most."""
    n = len(lengths)
    factor = max(1, math.ceil(float(np.median(lengths)) / AUTO_LENGTH))
    while True:
        short = -(-lengths // factor)
        per_query = float(short.sum()) * float(short.mean()) * dim
        queries = int(min(n, AUTO_QUERIES, max(min(n, AUTO_MIN_QUERIES),
                                               AUTO_WORK // per_query)))
        if queries * per_query <= AUTO_WORK or short.mean() <= 16:
            return factor, queries
        factor += 1


def _sample(template_class: np.ndarray, n: int) -> np.ndarray:
    """Indices of at most ``n`` takes, spread evenly over each class's takes in turn."""
    if len(template_class) <= n:
        return np.arange(len(template_class))
    order = np.concatenate([np.flatnonzero(template_class == c)
                            for c in np.unique(template_class)])
    return np.sort(order[np.round(np.linspace(0, len(order) - 1, n)).astype(int)])


def _nearest(prepared: list[np.ndarray], queries: list[np.ndarray] | None,
             template_class: np.ndarray, picks: np.ndarray, band: float,
             cancel: Cancel | None) -> dict[bool, np.ndarray]:
    """For each picked take, the distance to its nearest other take of its own class and of
    any other class ((len(picks), 2), ``inf`` for none), per frame distance (True) and total
    distance (False). ``queries``: the raw takes (``"window"``: each template is matched
    against the query's last frames within its reach), else ``prepared``."""
    lengths = np.array([len(t) for t in prepared])
    out = {True: np.full((len(picks), 2), np.inf), False: np.full((len(picks), 2), np.inf)}
    scratch = np.empty((max(len(t) for t in prepared) * WINDOW_REACH, prepared[0].shape[1]))
    for row, i in enumerate(picks):
        if cancel is not None and cancel.is_set():
            raise TrainingCancelled("training was cancelled")
        for j in range(len(prepared)):
            if abs(j - i) <= NEIGHBOURS_OUT and template_class[j] == template_class[i]:
                continue
            other = int(template_class[j] != template_class[i])
            # a take over both bests of its kind can be nearest under neither: abandon it
            cutoff = max(out[False][row, other], out[True][row, other] * lengths[j])
            if queries is None:
                q = prepared[i]
            else:
                w = min(len(queries[i]), WINDOW_REACH * int(lengths.max()))
                _wk.window_znorm(queries[i], len(queries[i]) - w, len(queries[i]), scratch)
                q = scratch[:w]
            d = _k.dtw_in_steps(q, prepared[j], band, cutoff, cancel)
            for per_frame, scale in ((True, lengths[j]), (False, 1.0)):
                if d / scale < out[per_frame][row, other]:
                    out[per_frame][row, other] = d / scale
    return out


def _scores(nearest: np.ndarray) -> tuple[float, float]:
    """(accuracy, margin) of 1-NN from each take's nearest same-class and other-class
    distances: how often the own class is nearer, and the mean of
    ``(other - own) / (other + own)`` (-1..1, scale-free: comparable across
    normalisations; it separates candidates that 1-NN ties on)."""
    own, other = nearest[:, 0], nearest[:, 1]
    accuracy = float(np.mean(own < other))
    with np.errstate(invalid="ignore", divide="ignore"):
        margin = np.where(np.isfinite(own) & np.isfinite(other),
                          (other - own) / np.maximum(other + own, 1e-300),
                          np.where(np.isfinite(own), 1.0, -1.0))
    return accuracy, float(np.mean(margin))


def choose(takes: list[np.ndarray], template_class: np.ndarray, normalizations: tuple[str, ...],
           per_frames: tuple[bool, ...], band: float, cancel: Cancel | None = None
           ) -> tuple[str, bool, dict[str, Any]]:
    """The normalisation and per-frame setting of the best leave-one-take-out 1-NN accuracy.

    Parameters
    ----------
    takes : list of numpy.ndarray, each (T_i, D)
        The raw training takes.
    template_class : numpy.ndarray, shape (len(takes),)
        Each take's class index.
    normalizations, per_frames : the candidates, the simpler first (the first within one
        take of the best accuracy wins).
    band : Sakoe-Chiba band of the comparisons (the model's).
    cancel : set to stop (raises :class:`TrainingCancelled`).

    Returns
    -------
    normalization, per_frame_distance, record
        The choice and what was measured (``candidates`` with their ``cv_score``, ``chosen``,
        ``chosen_name``, how many takes and which decimation were used, and ``reason``).
    """
    counts = np.bincount(template_class)
    candidates = [(n, p) for n in normalizations for p in per_frames]
    record: dict[str, Any] = {
        "cv": "leave-one-take-out 1-NN DTW on the training takes",
        "candidates": [{"name": f"{n}, per_frame_distance={p}",
                        "params": {"normalization": n, "per_frame_distance": p},
                        "cv_score": None} for n, p in candidates],
    }
    if len(candidates) == 1 or counts.max() < 2 or len(counts) < 2:
        record.update(chosen=0, chosen_name=record["candidates"][0]["name"], queries=0,
                      reason="nothing to compare (one candidate, one class, or no class "
                      "with two takes): the simplest candidate")
        return candidates[0][0], candidates[0][1], record
    factor, queries = _plan(np.array([len(t) for t in takes]), takes[0].shape[1])
    short = [np.ascontiguousarray(t[::factor], dtype=np.float64) for t in takes]
    picks = _sample(template_class, queries)
    for norm in normalizations:
        if norm == "window":
            prepared, queries = [znorm_take(t) for t in short], short
        else:
            mean, scale = fit_standardization(np.vstack(short), norm == "global")
            prepared = [np.ascontiguousarray((t - mean) / scale) for t in short]
            queries = None
        nearest = _nearest(prepared, queries, template_class, picks, band, cancel)
        for entry, (n, p) in zip(record["candidates"], candidates, strict=True):
            if n == norm:
                entry["cv_score"], entry["margin"] = _scores(nearest[p])
    scores = [e["cv_score"] for e in record["candidates"]]
    # within one take of the best is a tie (a take more or less is noise on a few takes):
    # among the tied, the wider margin between own and other classes wins
    best = next(i for i, v in enumerate(scores) if v >= max(scores) - 1.0 / len(picks) - 1e-12)
    record.update(
        chosen=best, chosen_name=record["candidates"][best]["name"], queries=int(len(picks)),
        takes=len(takes), decimation=factor,
        reason=(f"{len(picks)} of {len(takes)} takes matched against all the others"
                + (f", one frame in {factor}" if factor > 1 else "")
                + "; the best accuracy wins, the simplest within one take of it"))
    return candidates[best][0], candidates[best][1], record
