"""Exceptions raised by gesturemap.

Every error raised where data enters (fit, load, preset and profile parsing, CLI arguments)
names the parameter, the value received, what was expected and what to try next.
"""

from __future__ import annotations

from typing import Any


class GesturemapError(ValueError):
    """Base class of gesturemap's own errors (a ValueError: bad input, bad file, bad setting)."""


class NotFittedError(GesturemapError, AttributeError):
    """A model was used before ``fit`` (or ``load``) gave it parameters."""


class FormatError(GesturemapError):
    """A saved file is damaged, was tampered with, or comes from a newer format version."""


class TrainingCancelled(GesturemapError):
    """Background training was cancelled before it finished."""


class ProjectBusy(GesturemapError):
    """Another gesturemap process is writing this project folder
    (:mod:`gesturemap.project.lock`); ``info`` is what that process recorded (``pid``,
    ``command``, ``since``), or None."""

    def __init__(self, folder: Any, info: dict[str, Any] | None) -> None:
        who = _describe_holder(info)
        super().__init__(
            f"{folder} is open in another gesturemap process ({who}): close it there first, "
            "or work on a copy of the folder. Two processes writing one project would lose "
            "takes; nothing was written."
        )
        self.folder = folder
        self.info = info


def _describe_holder(info: dict[str, Any] | None) -> str:
    if not info:
        return "no details recorded"
    parts = [f"pid {info.get('pid', '?')}"]
    if info.get("command"):
        parts.append(str(info["command"]))
    if info.get("since"):
        parts.append(f"since {info['since']}")
    return ", ".join(parts)
