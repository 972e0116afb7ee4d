"""Gesture onsets from motion energy: when the sensor starts moving after a rest.

The engine resets the model stream at an onset (if the project asks for it: model settings
``"onset": true`` or ``{"threshold": ..., "quiet_frames": ..., "smoothing": ...}``), so the
stream's decision covers the gesture since it started, as ``predict`` on that segment does.

Motion energy is the squared change of the raw sensor frame from the previous one,
``sum((x_t - x_{t-1})**2)``, smoothed by an exponential moving average. An onset is the moment
the smoothed energy rises above ``threshold`` after at least ``quiet_frames`` frames below half
of it (a hysteresis: jitter around the threshold does not fire twice). Without a threshold the
detector learns one from the takes: a twentieth of the 95th percentile of their frame
energies. A high percentile is the energy of the movement whether or not the takes hold rest
before and after it; the median of takes padded with rest is the rest's own jitter, a
threshold the detector never falls quiet under (HAPT's transitions with 3 s of rest: 2 of 80
fired at a tenth of the median, 65 of 80 now).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..errors import GesturemapError
from ..project.settings import onset_settings

#: The threshold learned from takes is this fraction of a high percentile of their frame
#: energies (chosen by a cross-validation over HAPT's training subjects).
CALIBRATION_RATIO = 0.05
#: ... the percentile (0-100).
CALIBRATION_PERCENTILE = 95.0


class OnsetDetector:
    """Detect gesture onsets in a stream of raw frames (one :meth:`step` per frame).

    Parameters
    ----------
    threshold : smoothed motion energy (squared units of the sensor per frame) above which
        motion starts; None: learned by :meth:`calibrate` (until then nothing fires).
    quiet_frames : frames the energy must stay under half the threshold before a new onset.
    smoothing : weight of the newest frame in the moving average, in (0, 1].
    """

    def __init__(self, threshold: float | None = None, quiet_frames: int = 10,
                 smoothing: float = 0.3) -> None:
        # the same checks as a project's settings: one message for a bad value either way
        onset_settings({"threshold": threshold, "quiet_frames": quiet_frames,
                        "smoothing": smoothing})
        self.threshold = None if threshold is None else float(threshold)
        self.fixed = threshold is not None
        self.quiet_frames = quiet_frames
        self.smoothing = float(smoothing)
        self.onsets = 0
        self._prev: np.ndarray | None = None
        self._diff: np.ndarray | None = None
        self._energy = 0.0
        self._quiet = quiet_frames  # a stream that starts at rest may fire at once
        self._moving = False

    @classmethod
    def from_settings(cls, settings: Any) -> OnsetDetector | None:
        """From a project's ``model["onset"]``: True, a dict of the parameters, or None."""
        if settings is not True and not isinstance(settings, Mapping | None | bool):
            raise GesturemapError(f"onset={settings!r}: expected true or a dict of settings.")
        kwargs = onset_settings(settings)
        return None if kwargs is None else cls(**kwargs)

    def calibrate(self, takes: Iterable[np.ndarray]) -> None:
        """Learn the threshold from raw takes (unless one was given)."""
        if self.fixed:
            return
        energies = [np.sum(np.diff(np.asarray(x, dtype=np.float64), axis=0) ** 2, axis=1)
                    for x in takes if len(x) > 1]
        if energies:
            level = float(np.percentile(np.concatenate(energies), CALIBRATION_PERCENTILE))
            if np.isfinite(level) and level > 0:
                self.threshold = CALIBRATION_RATIO * level

    def reset(self) -> None:
        """Forget the previous frame (a new stream)."""
        self._prev = None
        self._energy = 0.0
        self._quiet = self.quiet_frames
        self._moving = False

    @property
    def energy(self) -> float:
        """The smoothed motion energy at the last frame."""
        return self._energy

    def step(self, frame: np.ndarray) -> bool:
        """One raw (D,) frame; True when a gesture starts at this frame."""
        if self._prev is None or self._prev.shape != frame.shape:
            self._prev = np.array(frame, dtype=np.float64)
            self._diff = np.zeros_like(self._prev)
            return False
        d = self._diff
        np.subtract(frame, self._prev, out=d)
        self._prev[:] = frame
        e = float(d @ d)
        self._energy += self.smoothing * (e - self._energy)
        th = self.threshold
        if th is None:
            return False
        if self._moving:
            if self._energy < 0.5 * th:
                self._quiet += 1
                if self._quiet >= self.quiet_frames:
                    self._moving = False
            else:
                self._quiet = 0
            return False
        if self._energy < 0.5 * th:
            self._quiet += 1
            return False
        if self._energy > th and self._quiet >= self.quiet_frames:
            self._moving = True
            self._quiet = 0
            self.onsets += 1
            return True
        return False
