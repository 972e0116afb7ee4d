"""The spotter's kernels take their arrays in four named tuples, by job; the per-frame kernel
takes the same fields spread out (numba's fast dispatch), in the tuples' order."""

from __future__ import annotations

import inspect

from gesturemap.models.spotting import _kernels as _k


def test_the_per_frame_kernel_takes_the_tuples_fields_in_their_order() -> None:
    # a stream calls spot_step(x, t, *model, *settings, *matches, *decision): a field added,
    # removed or moved in a tuple but not in spot_step's parameters would shift every array
    params = list(inspect.signature(_k.spot_step.py_func).parameters)
    fields = [*_k.SpotModel._fields, *_k.SpotSettings._fields, *_k.SpotMatches._fields,
              *_k.SpotDecision._fields]
    assert params == ["x", "t", *fields]
    tuples = list(inspect.signature(_k.spot_frame.py_func).parameters)
    assert tuples == ["x", "t", "model", "settings", "matches", "decision"]
