"""Synth routes from a GVF's estimates: speed, scale and rotation of a class."""

from __future__ import annotations

import numpy as np
import pytest

from gesturemap.errors import GesturemapError
from gesturemap.models.base import Result
from gesturemap.synth import Route, Synth, SynthMapping
from gesturemap.synth.mapping import PARAMETERS


def _gvf_result(speed, scale, rotation) -> Result:
    lik = np.array([0.2, 0.8])
    return Result(label="b", label_index=1, likelihoods=lik, log_likelihoods=np.log(lik),
                  instant_likelihoods=lik, instant_normalized_likelihoods=lik,
                  progress=np.array([0.1, 0.5]), speed=np.asarray(speed, float),
                  scale=np.asarray(scale, float),
                  rotation=None if rotation is None else np.asarray(rotation, float))


def test_speed_scale_and_rotation_drive_parameters():
    mapping = SynthMapping(routes=[
        Route("speed:*", "follower_transpose", 0.5, 2.0, -12.0, 12.0),
        Route("scale:a", "mod_depth", 0.0, 4.0, 0.0, 20.0),
        Route("rotation:b", "brightness", -1.0, 1.0, 0.0, 1.0),
    ])
    synth = Synth(mapping)
    names = ["a", "b"]
    # class a twice as big (mean over inputs 2.0); likeliest class b at x1.25 speed, +0.5 rad
    synth.update(_gvf_result([1.0, 1.25], [[1.0, 3.0], [1.0, 1.0]], [[0.1], [0.5]]), names)
    t = synth._targets
    assert t[PARAMETERS["follower_transpose"].index] == pytest.approx(-12 + 24 * 0.75 / 1.5)
    assert t[PARAMETERS["mod_depth"].index] == pytest.approx(20 * 2.0 / 4.0)
    assert t[PARAMETERS["brightness"].index] == pytest.approx(0.75)
    # a 3-D rotation: its angle is the norm of the rotation vector
    synth.update(_gvf_result([1.0, 1.0], [[1.0], [1.0]], [[0, 0, 0], [0.3, 0.0, -0.4]]), names)
    assert synth._targets[PARAMETERS["brightness"].index] == pytest.approx(0.75)
    # a model without these estimates leaves the parameters at their values
    lik = np.array([0.5, 0.5])
    synth.update(Result(label="a", label_index=0, likelihoods=lik, log_likelihoods=np.log(lik),
                        instant_likelihoods=lik, instant_normalized_likelihoods=lik), names)
    assert synth._targets[PARAMETERS["mod_depth"].index] == PARAMETERS["mod_depth"].default


def test_a_mistyped_source_is_named():
    with pytest.raises(GesturemapError, match="speed:CLASS"):
        Route("sped:*", "mod_depth")
