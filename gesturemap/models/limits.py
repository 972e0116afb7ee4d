"""Upper bounds of the models' size parameters, and why each bound is where it is.

A size parameter sets what a model allocates and how long one frame takes: the Gaussians,
states, particles, templates and hidden units it holds, the frames a delta or a likelihood
window keeps, the neighbours it sorts, the trees and iterations it trains. Without a bound a
typo (``10**9`` for ``10**3``) or a damaged model file asked for tens of gigabytes, at the
fit or at the first frame on stage. Each bound is generous: far above what trains well or
steps within the frame budget (5 ms at 200 frames/s, :mod:`gesturemap.utils.frame_budget`)
on a studio project of 20 gestures x 60 channels (``benchmarks/studio_scale.py``), so it only
refuses a value nobody can mean. Every model checks its sizes with :func:`check_size`, in the
checks ``fit``, :func:`gesturemap.check_params` and the model reader share: a model file
beyond a bound is refused with a :class:`~gesturemap.errors.FormatError` naming the file and
the parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..utils.validation import check_number

__all__ = ["MAX_CHANNELS", "SIZE_LIMITS", "SizeLimit", "check_size"]

#: The most input or output channels a project or a model may have (an OSC frame's most
#: values). A saved model naming more is damaged: its stream would allocate for them.
MAX_CHANNELS = 4096


@dataclass(frozen=True)
class SizeLimit:
    """The largest value of a size parameter, and why (said in the error)."""

    maximum: int
    why: str


#: The bound of each size parameter, by the name a model's checks give it (a parameter
#: group's field as ``<group>__<field>``). Several models share a name and its meaning
#: (``states``: HHMM, HMM and GVF's recognizer; ``degree``: Polynomial and SVM).
SIZE_LIMITS: dict[str, SizeLimit] = {
    "gaussians": SizeLimit(1000, "every Gaussian of every class is scored at each frame and a "
                           "full one holds D x D numbers (XMM's models use 1 to 10)"),
    "states": SizeLimit(1000, "every state is updated at each frame, an ergodic model holds "
                        "states x states transitions, and a take needs a frame per state "
                        "(1,000 states: 5 s at 200 frames/s; XMM's models use 10 to 50)"),
    "delta_lag": SizeLimit(1000, "each stream keeps the last delta_lag frames, and 1,000 "
                           "frames span 5 s at 200 frames/s, longer than a gesture"),
    "likelihood_window": SizeLimit(100_000, "the window decision keeps this many frames of "
                                   "every class in each stream (100,000: over 8 minutes at "
                                   "200 frames/s; the decaying decision takes any window)"),
    "particles": SizeLimit(200_000, "every particle moves and is weighed at each frame: "
                           "200,000 take about 80 ms a frame on 5 gestures of 6 inputs, 16 "
                           "times the 5 ms frame budget, and 0.5 s and 0.8 GB at 60 inputs "
                           "(the default is 1,000)"),
    "templates__per_class": SizeLimit(1000, "every template is aligned at each frame; a "
                                      "class has a template per take at most"),
    "hidden": SizeLimit(2048, "a layer holds hidden x hidden weights, all multiplied at each "
                        "frame (Wekinator's default is the number of inputs)"),
    "layers": SizeLimit(10, "each layer holds hidden x hidden weights, all multiplied at "
                        "each frame (Wekinator's networks have 1 to 3)"),
    "k": SizeLimit(10_000, "each frame sorts its k nearest stored frames, and 10,000 is a "
                   "third of a studio project's frames (150 takes of 200 frames)"),
    "max_frames": SizeLimit(10_000_000, "every stored frame is compared with each frame "
                            "(10 million: 14 hours at 200 frames/s)"),
    "rounds": SizeLimit(10_000, "every round adds a tree, all walked at each frame (the "
                        "default is 50)"),
    "max_depth": SizeLimit(1000, "a tree is walked from its root to a leaf at each frame"),
    "degree": SizeLimit(20, "a standardised input 3 deviations out is already 3.5e9 at the "
                        "20th power: higher powers only make the fit ill-conditioned"),
    "decimate": SizeLimit(1000, "beyond it a take of 5 s at 200 frames/s keeps only its first "
                          "and last frames"),
    "iterations": SizeLimit(100_000, "each iteration passes over every training frame, and "
                            "training stops on its criterion within about 100"),
}


def check_size(name: str, value: Any, minimum: int = 1, *, limit: str | None = None,
               integer: bool = True, hint: str | None = None) -> int | float:
    """``value`` of size parameter ``name`` as a number in ``minimum`` .. its bound
    (:data:`SIZE_LIMITS` under ``limit``, by default ``name``); else raise a
    :class:`~gesturemap.errors.GesturemapError` (a ValueError) that says the bound and why,
    after ``hint``. ``integer=False`` accepts a float (GVF's ``likelihood_window``)."""
    bound = SIZE_LIMITS[limit or name]
    why = f"At most {bound.maximum:,}: {bound.why}."
    return check_number(name, value, minimum=minimum, maximum=bound.maximum, integer=integer,
                        hint=f"{hint.rstrip('.')}. {why}" if hint else why)
