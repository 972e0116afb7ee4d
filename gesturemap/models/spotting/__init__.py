"""Spotting: gestures found in a continuous stream, emitted as events
(:class:`~gesturemap.models.spotting.core.Spotter`, :func:`~gesturemap.models.spotting.core.spot`),
the verifier that takes second opinions on them, and the window detector merged beside
them. The names of the spotting module of
earlier releases (``gm.models.spotting.SETTINGS``, ``DEFAULT_*``, ``check_settings``...) are
here too."""

from __future__ import annotations

from .core import (
    DEFAULT_BOUND_MATCHES,
    DEFAULT_DEFER_FRAMES,
    DEFAULT_DEFER_PROJECTION,
    DEFAULT_GMM_FRAMES,
    DEFAULT_HOLD_FRAMES,
    DEFAULT_MAX_DURATION,
    DEFAULT_MAX_STAY,
    DEFAULT_MIN_DURATION,
    DEFAULT_MIN_STAY,
    DEFAULT_NULL_MODEL,
    DEFAULT_REFRACTORY_FRAMES,
    DEFAULT_SETTLE_FRAMES,
    DEFAULT_SETTLE_RATIO,
    DEFAULT_THRESHOLD,
    NULL,
    NULL_MODELS,
    NUMBERS,
    SETTINGS,
    Event,
    Spotter,
    SpottingStream,
    check_settings,
    spot,
    spotting_stream,
    with_new_names,
)
from .detector import WindowDetector, fit_detector
from .verifier import SpotVerifier

__all__ = [
    "DEFAULT_BOUND_MATCHES", "DEFAULT_DEFER_FRAMES", "DEFAULT_DEFER_PROJECTION",
    "DEFAULT_GMM_FRAMES", "DEFAULT_HOLD_FRAMES", "DEFAULT_MAX_DURATION", "DEFAULT_MAX_STAY",
    "DEFAULT_MIN_DURATION", "DEFAULT_MIN_STAY", "DEFAULT_NULL_MODEL", "DEFAULT_REFRACTORY_FRAMES",
    "DEFAULT_SETTLE_FRAMES", "DEFAULT_SETTLE_RATIO", "DEFAULT_THRESHOLD", "NULL", "NULL_MODELS",
    "NUMBERS", "SETTINGS", "Event", "SpotVerifier", "Spotter", "SpottingStream", "check_settings",
    "spot", "spotting_stream", "with_new_names", "WindowDetector", "fit_detector",
]
