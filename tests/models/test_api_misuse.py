"""A model given frames instead of labelled takes says what to give it (before, every model
kind raised ``AttributeError: 'numpy.ndarray' object has no attribute 'label'``)."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError


@pytest.mark.parametrize("kind", ["GMM", "HHMM", "DTW", "KNN", "MLP", "GVF"])
@pytest.mark.parametrize("given", ["array", "list"])
def test_fit_on_frames_says_to_give_labelled_takes(kind, given):
    frames = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(GesturemapError, match=r"ds.add\(frames, label="):
        getattr(gm, kind)().fit(frames if given == "array" else [frames])
