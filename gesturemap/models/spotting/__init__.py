"""Spotting: gestures found in a continuous stream, emitted as events
(:class:`~gesturemap.models.spotting.core.Spotter`, :func:`~gesturemap.models.spotting.core.spot`),
and the verifier that takes second opinions on them."""

from __future__ import annotations

from .core import NULL, Event, Spotter, SpottingStream, spot
from .verifier import SpotVerifier

__all__ = ["NULL", "Event", "SpotVerifier", "Spotter", "SpottingStream", "spot"]
