"""The built-in default project: the mouse as sensor, a few gestures ready to record.

``gesturemap`` with no arguments opens the window on this project, so that someone with no
hardware can record and play at once: the window's pad turns the mouse or trackpad into a
4-channel sensor (``sensors/mouse.json``: position ``x, y`` in 0..1 and velocity ``vx, vy``
in units per second), and a hierarchical HMM follows the gestures as they unfold and spots
them in the continuous stream (see docs/spotting.md).
"""

from __future__ import annotations

from . import Project

__all__ = ["DEFAULT_CLASSES", "DEFAULT_MODEL", "MOUSE_CHANNELS", "default_project"]

#: The mouse pad's channels, in frame order (``sensors/mouse.json``).
MOUSE_CHANNELS = ("x", "y", "vx", "vy")

#: Example gestures, ready to record.
DEFAULT_CLASSES = ("circle", "swipe", "zigzag")

#: A hierarchical HMM, by XMM's parameter names. Eight states per gesture follow a
#: one-second mouse gesture closely; the likelihood window smooths over 50 ms at 100 Hz.
#: Spotting is on: gestures drawn one after another are found and sent as
#: ``/gesturemap/event`` without any key pressed; takes labelled ``gm.NULL`` ("anything
#: else") make it stricter. Quick mouse gestures pass each state in a few frames:
#: ``min_stay`` 0.5 (a state is left only after half its expected stay) keeps one gesture from
#: being taken for another (chosen on simulated mouse performances, docs/spotting.md).
#: The mouse stream is never reset between gestures drawn one after another, so the label
#: decides as every new project does (``decision="following"``: the gesture since the last
#: reset, restarted where a new gesture begins; docs/wekinator.md) rather than integrating
#: everything since the last take.
DEFAULT_MODEL = {
    "kind": "hhmm",
    # the settings the mouse project's spotting and its window tests were chosen with: plain
    # mouse position and velocity (no deltas: the spotter scores the raw inputs' Gaussians),
    # and the regularisation that keeps a state of a few quick takes from being too sharp
    "params": {"states": 8, "gaussians": 1, "likelihood_window": 5, "decision": "following",
               "deltas": False, "relative_regularization": 0.1},
    "spotting": {"min_stay": 0.5},
}


def default_project(name: str = "untitled") -> Project:
    """A new project with the mouse pad as sensor, three example classes and an HHMM.

    Parameters
    ----------
    name : str, default "untitled"

    Returns
    -------
    Project
        Not saved anywhere yet; no takes, no trained model.
    """
    return Project(
        name,
        model=DEFAULT_MODEL,
        sensor={"transport": "mouse", "profile": "mouse", "rate_hz": 100},
        outputs={"host": "127.0.0.1", "port": 12000},
        input_names=list(MOUSE_CHANNELS),
        classes=list(DEFAULT_CLASSES),
    )
