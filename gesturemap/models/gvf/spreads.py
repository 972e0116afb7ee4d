"""What a GVF class trained from a single take is given for the spreads it cannot have.

A class's spreads, learned from its takes in ``GVF.fit``, widen the Gaussians its particles
and its evidence are weighed with: the shape's (``learned_tolerance``: the takes' root mean
square difference from the template), the absolute posture's through the gesture
(``posture_weight``) and the start posture's (``start_posture``). A class of one take has
none of them: its take is its template, so each is 0 and the class is weighed with the bare
``tolerance`` while classes of several takes are weighed with ``tolerance`` widened by how
much their performers differed. Its evidence is then far sharper than theirs: a
performance of the class, even the very take it was trained on replayed as it was, pays for
every small miss of its particles where the other classes hardly pay for large ones, and
the class loses on its own take as the gesture goes on (gvf_eval's own take as template on
HAPT was recognised at 0.82 of 10 % and 0.31 of 100 % of the gesture).

A class of one take therefore borrows the spreads of the classes that have them: the mean
of the templates' shape spreads over the classes of several takes, per input; the mean of
their posture spreads over all their frames, per input (the same at every phase); the mean
of those classes' spreads of their takes' first frames, per input. With no class of several
takes (every class one take) nothing is borrowed: all classes are alike. Classes
of several takes are left exactly as they were.
"""

from __future__ import annotations

import numpy as np


def borrow_spreads(n_takes: list[int], templates_per_class: list[int],
                   spreads: list[np.ndarray], posture_spreads: list[np.ndarray],
                   start_stds: list[np.ndarray], class_start_stds: list[np.ndarray]) -> None:
    """Give each class of one take (``n_takes[c] == 1``) the spreads of the classes of
    several takes, in place. Per template (in class order, ``templates_per_class[c]`` per
    class): ``spreads`` (D,), ``posture_spreads`` (T_t, D), ``start_stds`` (D,); per class
    ``class_start_stds`` (D,), the spread of its takes' first frames."""
    ends = np.cumsum(templates_per_class)
    owners = np.repeat(np.arange(len(n_takes)), templates_per_class)
    several = [t for t in range(len(owners)) if n_takes[owners[t]] > 1]
    if not several or len(several) == len(owners):
        return
    shape = np.mean([spreads[t] for t in several], axis=0)
    posture = np.mean(np.vstack([posture_spreads[t] for t in several]), axis=0)
    start = np.mean([class_start_stds[c] for c in range(len(n_takes)) if n_takes[c] > 1],
                    axis=0)
    for c, n in enumerate(n_takes):
        if n > 1:
            continue
        for t in range(ends[c] - templates_per_class[c], ends[c]):
            spreads[t] = shape.copy()
            posture_spreads[t] = np.broadcast_to(posture, posture_spreads[t].shape).copy()
            start_stds[t] = start.copy()
