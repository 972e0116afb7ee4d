"""The Gesture Variation Follower: templates followed by a particle filter, with progress,
speed, scale and rotation per class (:class:`~gesturemap.models.gvf.core.GVF`)."""

from __future__ import annotations

from .core import GVF, GVFStream
from .params import Alignment, Estimates, Recognizer, Templates, Tracking

__all__ = ["GVF", "GVFStream", "Alignment", "Estimates", "Recognizer", "Templates", "Tracking"]
