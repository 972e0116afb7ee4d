"""The built-in synth: gestures play sound with no other software.

An FM voice (pitch, loudness, brightness, modulation, vibrato), a sample follower whose
playback position follows the gesture's progress (granular, so a slow gesture stretches time
without lowering the pitch) and one-shot sounds on recognition onsets, all driven by a
:class:`SynthMapping` and played through PortAudio by :class:`Synth`.
"""

from __future__ import annotations

from .mapping import PARAMETERS, Route, SynthMapping
from .sounds import builtin_sounds, load_sound
from .synth import NO_OUTPUT_DEVICE, AudioSettings, NoAudioDeviceError, Synth, check_output

__all__ = [
    "NO_OUTPUT_DEVICE",
    "PARAMETERS",
    "AudioSettings",
    "NoAudioDeviceError",
    "Route",
    "Synth",
    "SynthMapping",
    "builtin_sounds",
    "check_output",
    "load_sound",
]
