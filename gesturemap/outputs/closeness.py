"""Closeness: how near each DTW gesture is to a match, 0..1, from the distances it sends.

A DTW project's ``/wek/outputs`` carries one distance per gesture (Wekinator's DTW). Distances
have no upper bound and their scale is the takes', so what a continuous output reads instead is
each gesture's closeness ``threshold / (threshold + distance)``: 1 for a perfect match, 0.5 at
the match threshold (``model.threshold_``), towards 0 as the gesture gets farther, 0 for a
gesture with no takes (an infinite distance). MIDI's controllers (× 127) and the synth's
``likelihood:`` routes read this one function, so a controller and a route driven by the same
gesture agree.

DTW also matches beyond its threshold, up to five times it, when one gesture is at least three
times nearer than every other (:data:`gesturemap.models.dtw.MATCH_REACH`): a match may then
have a closeness down to 1/6.
"""

from __future__ import annotations

import numpy as np

__all__ = ["closeness"]


def closeness(distances: np.ndarray, threshold: float,
              out: np.ndarray | None = None) -> np.ndarray:
    """(C,) how close each DTW gesture is, 0..1, from its ``distances`` (C,): ``threshold /
    (threshold + distance)``, 1 at distance 0, 0.5 at the match ``threshold``, 0 for a gesture
    with no takes (an infinite distance) or a NaN distance.

    Bounded whatever the distances (they have no upper bound), and the threshold keeps its
    place in 0..1 whatever the takes' scale, so a mapping made on one project carries to
    another.

    Parameters
    ----------
    distances : (C,) array
    threshold : float
        The model's match threshold (> 0).
    out : (C,) float64 array, optional
        Where to write the result (the synth's frame path passes its own, so a frame allocates
        no array); default: a new array.
    """
    d = np.asarray(distances, dtype=np.float64)
    if out is None:
        out = np.empty(d.shape)
    # ufuncs writing in place: no temporary array per frame
    np.maximum(d, 0.0, out=out)  # a negative distance (never a real one) is a perfect match
    np.add(out, threshold, out=out)
    np.divide(threshold, out, out=out)
    # a NaN distance (never a number a match could have) is as far as can be: fmax drops NaN
    np.fmax(out, 0.0, out=out)
    return out
