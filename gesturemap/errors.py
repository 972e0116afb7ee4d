"""Exceptions raised by gesturemap.

Every error raised where data enters (fit, load, preset and profile parsing, CLI arguments)
names the parameter, the value received, what was expected and what to try next.
"""

from __future__ import annotations


class GesturemapError(ValueError):
    """Base class of gesturemap's own errors (a ValueError: bad input, bad file, bad setting)."""


class NotFittedError(GesturemapError, AttributeError):
    """A model was used before ``fit`` (or ``load``) gave it parameters."""


class FormatError(GesturemapError):
    """A saved file is damaged, was tampered with, or comes from a newer format version."""


class TrainingCancelled(GesturemapError):
    """Background training was cancelled before it finished."""
