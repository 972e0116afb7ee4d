"""Per-input standardisation with the training statistics, shared by the models that use it
(classic models, DTW): learned at ``fit``, applied to every frame of a stream in place."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..features.stages import mean_and_scale
from .base import StreamBase


def fit_standardization(x: np.ndarray, enabled: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, scale)`` of the (T, D) training frames ``x`` (the features' one
    standardisation, :func:`gesturemap.features.stages.mean_and_scale`); ``(0, 1)`` when not
    ``enabled``."""
    d = x.shape[1]
    if not enabled:
        return np.zeros(d), np.ones(d)
    return mean_and_scale(x)


class StandardizingStream(StreamBase):
    """A stream whose model standardises its inputs: ``_standardize`` checks a frame and
    writes its standardised values into a buffer of the stream (no allocation)."""

    def _init_standardization(self, mean: np.ndarray, scale: np.ndarray) -> None:
        self._din = len(mean)
        self._mean, self._scale = mean, scale
        self._z = np.zeros(self._din)

    def _standardize(self, frame: Any) -> np.ndarray:
        x = self._check_frame(frame)
        np.subtract(x, self._mean, out=self._z)
        np.divide(self._z, self._scale, out=self._z)
        return self._z
