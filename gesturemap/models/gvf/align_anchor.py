"""GVF's speed from an alignment anchored at the gesture's beginning, handed to a newer path
only when the gesture has ended or no longer fits (``estimates.speed="align_anchor"``).

The open alignment (:mod:`gvf_align_open`, ``"align_open"``) lets a path begun on any frame
take over once its cost per frame is below the older path's: it restarts for a second gesture
streamed without a reset, but also inside one gesture, where a path begun mid-gesture sees the
rest of the movement normalised by its own small energy and can look like a template's
beginning. The since-reset alignment never restarts. This one runs
two open-begin alignments of the same kind:

- the **anchored** one, whose paths all began on the anchor frame (the reset's first frame at
  first: no path begins after it); each class reports its slope, as ``"align_open"`` reads
  a path's (the template's middle counted, held at the end);
- the **open** one (``"align_open"``'s, its paths paying a beginning cost of
  :data:`CANDIDATE_POSTURE` times ``gvf_align_open``'s start-posture cost), whose reported
  path per class is the candidate.

Per class, the candidate takes over when it began after the class's anchor and either the
gesture being performed has **ended** — the anchored path of the class that fits best (least
anchored cost per frame; with :data:`SHARED_END` False, the class's own) has reached its
template's end region (``gvf_align_open.EDGE``) on frame ``t_end`` — and the candidate began
on or after that frame, or the anchored path **no longer fits**: its cost per frame since the
anchor, with the prior (:data:`WITH_PRIOR`; else its recent cost, frame costs forgotten by
``1 / RECENT_WINDOW`` per frame), exceeds :data:`FACTOR` times the candidate's (with its
prior): a different gesture began. It takes over by becoming the anchor: the open
alignment's cells of the class's templates that hold paths begun on the candidate's frame are
copied into the anchored alignment, every other cell of those templates emptied, so from then
on the new gesture is read as if the stream had been reset at its beginning. O(template
frames) for that copy, on the frame it happens; nothing allocated; an absurd frame never
comes here (:class:`gvf_align.AlignEstimate` skips it).

An end read from the stream (all off by default: measured on HAPT, none restarted often
enough against the truth to become the default): :data:`LATCH_END`
keeps the end a class has seen until it takes over (else it is read afresh from the class
that fits best on each frame, and is lost once the next gesture's class fits best);
:data:`SETTLE_SHARE` lets a class that took over at an end follow newer candidates until its
path has passed that share of its template (a path begun in the first gesture's tail does
not keep the anchor from the real beginning); :data:`STILL_RATIO` also ends the gesture when
the movement has stopped (:func:`motion_step`) once the anchored path has passed
:data:`PASS_SHARE` of its template.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import align_open as _open

_JIT = {"cache": True, "nogil": True, "fastmath": False}

#: How many times a newer path's cost per frame (with its prior) the anchored path's recent
#: cost per frame must exceed before the newer path takes over (a different gesture began).
FACTOR = 1.5
#: Frames over which a path's recent cost per frame looks back.
RECENT_WINDOW = 20.0
#: Compare the anchored path's cost per frame since the anchor with the prior (True), as the
#: open alignment compares its paths, or its recent cost (False).
WITH_PRIOR = True
#: The end that lets a newer path take over: the best-fitting class's anchored path's
#: (True: the gesture being performed has ended, for every class) or the class's own.
SHARED_END = True
#: The open alignment's beginning cost (``gvf_align_open.START_POSTURE``) for the candidates:
#: a path begun away from the template's start posture pays for it.
CANDIDATE_POSTURE = 30.0
#: A class keeps the end it has seen (the performed gesture's) until it takes over, even when
#: another class fits best later (False: the end is read afresh on every frame).
LATCH_END = False
#: The movement has stopped when its recent energy (frame-to-frame, over ``STILL_WINDOW``
#: frames) falls under this share of its mean since the reset (0: never read).
STILL_RATIO = 0.0
STILL_WINDOW = 5.0
#: ... and then the end is reached once the anchored path has passed this share of its
#: template.
PASS_SHARE = 0.5
#: With :data:`LATCH_END`, after taking over at an end a class keeps following newer
#: candidates until its anchored path has passed this share of its template (0: not after
#: the first).
SETTLE_SHARE = 0.0


@njit(**_JIT)
def motion_step(z, prev, state, t, keep, ratio):
    """Whether the movement has stopped on frame ``z``: its squared change from ``prev``
    (per input) forgotten by ``keep`` per frame, under ``ratio`` times its mean since the
    reset; ``state`` (3,): the recent energy, the sum since the reset, the frames."""
    d = z.shape[0]
    m = 0.0
    for q in range(d):
        e = z[q] - prev[q]
        m += e * e
        prev[q] = z[q]
    if t == 0:
        return False
    m /= d
    state[0] = keep * state[0] + (1.0 - keep) * m
    state[1] += m
    state[2] += 1.0
    return ratio > 0.0 and state[2] >= 1.0 / (1.0 - keep) and \
        state[0] < ratio * state[1] / state[2]


@njit(**_JIT)
def anchor_step(t, offsets, class_offsets, o_tot, o_length, o_xs, o_energy, o_reg, o_born,
                o_rec, o_cell, o_cost, o_speed, a_tot, a_length, a_xs, a_energy, a_reg,
                a_born, a_rec, a_cell, a_cost, a_speed, anchor, t_end, factor, rec_keep,
                edge_share, with_prior, shared_end, out, latched, latch, still, pass_share,
                settle):
    """After both alignments' step of frame ``t``: per class, the anchored alignment's speed
    (``a_*``) or, when the open alignment's reported path (``o_*``) takes over, that one's,
    into ``out`` (C,); ``anchor``/``t_end`` (C,) each class's anchor frame and the frame its
    anchored path reached the end (-1: not yet)."""
    n_c = class_offsets.shape[0] - 1
    best = -1  # the class whose anchored path fits best: the gesture being performed
    for k in range(n_c):
        ca = a_cell[k]
        if ca >= 0 and t_end[k] < 0:
            for m in range(class_offsets[k], class_offsets[k + 1]):
                if offsets[m] <= ca < offsets[m + 1]:
                    n = offsets[m + 1] - offsets[m]
                    if ca - offsets[m] >= n - max(1, int(math.ceil(edge_share * n))):
                        t_end[k] = t  # the anchored gesture has reached its end
                    elif still and ca - offsets[m] >= pass_share * n:
                        t_end[k] = t  # past most of it, and the movement has stopped
        if ca >= 0 and (best < 0 or a_cost[k] < a_cost[best]):
            best = k
    shared = t_end[best] if best >= 0 else -1.0  # (read before any class takes over)
    for k in range(n_c):
        ca = a_cell[k]
        end = shared if shared_end else t_end[k]
        if latch:
            if end > anchor[k] and (latched[k] < 0 or end < latched[k]):
                latched[k] = end
            end = latched[k]
            if settle > 0.0 and end >= 0 and ca >= 0 and anchor[k] > 0:
                for m in range(class_offsets[k], class_offsets[k + 1]):
                    if offsets[m] <= ca < offsets[m + 1]:
                        if ca - offsets[m] >= settle * (offsets[m + 1] - offsets[m]):
                            latched[k] = -1.0  # the new gesture's beginning is settled
                            end = -1.0
        co = o_cell[k]
        take = False
        if ca >= 0 and co >= 0 and o_born[co] > anchor[k]:
            if end >= 0 and o_born[co] >= end:
                take = True  # a new gesture, begun after the one being performed ended
            elif with_prior:  # the anchored path's cost per frame with the prior
                take = a_cost[k] > factor * o_cost[k]
            else:
                w = (1.0 - rec_keep ** a_length[ca]) / (1.0 - rec_keep) if rec_keep < 1.0 \
                    else a_length[ca]
                take = a_rec[ca] > factor * o_cost[k] * w  # it no longer fits
        if take:
            b = o_born[co]
            for c in range(offsets[class_offsets[k]], offsets[class_offsets[k + 1]]):
                if o_length[c] > 0.0 and o_born[c] == b:
                    a_tot[c] = o_tot[c]
                    a_length[c] = o_length[c]
                    a_energy[c] = o_energy[c]
                    a_born[c] = b
                    a_rec[c] = o_rec[c]
                    for q in range(o_xs.shape[1]):
                        a_xs[c, q] = o_xs[c, q]
                    for r in range(o_reg.shape[1]):
                        a_reg[c, r] = o_reg[c, r]
                else:
                    a_length[c] = 0.0
            anchor[k] = b
            t_end[k] = -1.0
            if settle <= 0.0:
                latched[k] = -1.0
            a_cell[k] = co
            a_speed[k] = o_speed[k]
        out[k] = a_speed[k]


class _Anchored(_open.OpenAlign):
    """The anchored alignment: no path begins after the first frame."""

    fixed_start = True


class AnchoredAlign:
    """A stream's anchored alignment speed (``estimates.speed="align_anchor"``), beside the
    stream's :class:`gvf_align.AlignEstimate` ``align`` (whose normed templates it reads)."""

    def __init__(self, model, align) -> None:
        keep = 1.0 - 1.0 / RECENT_WINDOW if RECENT_WINDOW > 0 else 1.0
        self._open = _open.OpenAlign(model, align)
        self._anch = _Anchored(model, align)
        self._open.rec_keep = self._anch.rec_keep = keep
        # per frame: the rule the anchored alignment was built and measured with
        self._open.null_cost = self._anch.null_cost = 0.0
        self._open.start_weight = CANDIDATE_POSTURE
        self._offsets = model.offsets_
        self._class_offsets = model.class_offsets_
        c = len(model.class_offsets_) - 1
        self._open_speed = np.ones(c)
        self._anch_speed = np.ones(c)
        self._anchor = np.zeros(c)
        self._t_end = np.full(c, -1.0)
        self._latched = np.full(c, -1.0)
        self._prev = np.zeros(model.templates_.shape[1])
        self._motion = np.zeros(3)
        self._still_keep = 1.0 - 1.0 / STILL_WINDOW
        self.reset()

    @property
    def anchor(self) -> np.ndarray:
        """Each class's anchor: the frame (since the reset) its reported path began on."""
        return self._anchor.copy()

    def reset(self) -> None:
        """Forget the frames seen: the next frame is every class's anchor."""
        self._open.reset()
        self._anch.reset()
        self._t = 0
        self._anchor[:] = 0.0
        self._t_end[:] = -1.0
        self._latched[:] = -1.0
        self._motion[:] = 0.0

    def update(self, z: np.ndarray, out: np.ndarray) -> None:
        """Follow the standardised frame ``z``; writes the classes' speeds into ``out``."""
        o, a = self._open, self._anch
        o.update(z, self._open_speed)
        a.update(z, self._anch_speed)
        still = STILL_RATIO > 0.0 and motion_step(z, self._prev, self._motion, self._t,
                                                  self._still_keep, STILL_RATIO)
        anchor_step(float(self._t), self._offsets, self._class_offsets, o._tot, o._length,
                    o._xs, o._energy, o._reg, o.born, o.rec, o.class_cell, o.class_cost,
                    o.speed, a._tot, a._length, a._xs, a._energy, a._reg, a.born, a.rec,
                    a.class_cell, a.class_cost, a.speed, self._anchor, self._t_end, FACTOR,
                    o.rec_keep, _open.EDGE, WITH_PRIOR, SHARED_END, out, self._latched,
                    LATCH_END, still, PASS_SHARE, SETTLE_SHARE)
        self._t += 1
