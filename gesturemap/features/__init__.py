"""Streaming feature pipeline: shape sensor frames before the model sees them.

Settings apart from running state: a stage (:class:`Select`, :class:`OneEuro`, ...) is a small
read-only settings object; :class:`Pipeline` chains stages; ``pipeline.start(D)`` builds a
:class:`PipelineState` that holds every running buffer, sized up front::

    from gesturemap.features import Derivative, OneEuro, Pipeline, Select, Standardize

    pipe = Pipeline([Select(("ax", "ay", "az")), OneEuro(min_cutoff=1.0, beta=0.01),
                     Derivative(append=True), Standardize()], rate_hz=50.0)
    pipe.fit(recordings, input_names=names)          # learns the standardisation
    state = pipe.start(len(names), names)
    for frame in stream:
        for features in state.push(frame):           # (K, D_out); K = 1 without resampling
            ...
    Y = pipe.transform_sequence(recording, input_names=names)   # the same code, whole recording
    pipe2 = Pipeline.from_dict(json.loads(json.dumps(pipe.to_dict())))
"""

from __future__ import annotations

from gesturemap.features.pipeline import MAX_ABS_VALUE, Pipeline, PipelineState
from gesturemap.features.stages import (
    STAGES,
    Derivative,
    LowPass,
    Magnitude,
    MovingAverage,
    MovingMedian,
    OneEuro,
    Resample,
    Select,
    Stage,
    Standardize,
    WindowStats,
    stage_from_dict,
)

__all__ = [
    "MAX_ABS_VALUE",
    "STAGES",
    "Derivative",
    "LowPass",
    "Magnitude",
    "MovingAverage",
    "MovingMedian",
    "OneEuro",
    "Pipeline",
    "PipelineState",
    "Resample",
    "Select",
    "Stage",
    "Standardize",
    "WindowStats",
    "stage_from_dict",
]
