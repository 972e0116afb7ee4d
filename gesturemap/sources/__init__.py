"""Sensor sources: threads that read a sensor, validate its frames and put them in a queue.

- :class:`OSCSource` — OSC over UDP (Wekinator's ``/wek/inputs`` on port 6448 by default, or
  any app's addresses, merged into one frame).
- :class:`SerialSource` — a serial port: text lines or checksummed binary frames; reopens the
  port by itself when the device comes back.
- :mod:`~gesturemap.sources.profiles` — the ``sensors/`` profile files and the source each
  builds (:func:`load_profile`, :func:`list_profiles`, :func:`build_source`).

Every source puts :class:`Frame` objects into a :class:`FrameQueue` owned by the engine, and
keeps :class:`SourceStats` counters (frames in, bad packets, dropped frames, rate, connected).
"""

from __future__ import annotations

from .base import Frame, FrameQueue, Source, SourceStats
from .osc import OSCSource
from .profiles import SensorProfile, build_source, list_profiles, load_profile
from .serial import SerialSource, encode_frame

__all__ = [
    "Frame",
    "FrameQueue",
    "OSCSource",
    "SensorProfile",
    "SerialSource",
    "Source",
    "SourceStats",
    "build_source",
    "encode_frame",
    "list_profiles",
    "load_profile",
]
