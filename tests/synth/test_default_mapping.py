"""The default synth mapping of a classifier project (no mapping saved) is silent until a
gesture is recognised: silent as the project opens, before anything is trained, and on a frame
rejected below ``reject_below``; a confident class plays the FM voice and the sample follower.

The results are a real classifier's; the synth renders offline through the very kernel the
audio callback runs (no sound card).
"""

from __future__ import annotations

import numpy as np
import pytest

from gesturemap.project.default import default_project
from gesturemap.synth import PARAMETERS, Synth, SynthMapping

from ..rejection_helpers import graded_project, input_for

REJECT_BELOW = 0.8
SILENT = 1e-4  # -80 dBFS: nothing a listener hears
#: clearly audible: the pad alone at a confident class plays near -20 dBFS; -40 dBFS is a
#: level no musician takes for silence, and far above any leftover glide
AUDIBLE = 0.01


def _rms(block: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(block, dtype=np.float64))))


def test_the_default_project_is_silent_before_anything_is_trained():
    """What `gesturemap` (the window) and `gesturemap run` build for the built-in project: a
    synth with no mapping saved, which the engine never updates while there is no model."""
    project = default_project()
    assert project.trained is None
    synth = Synth((project.outputs or {}).get("synth"))
    heard = _rms(synth.render(48000)[4800:])  # past any start-up glide
    assert heard < SILENT, heard  # the pad played at about -25 dBFS (0.055)


@pytest.mark.parametrize("path", ["result", "arrays"])
def test_a_rejected_frame_is_silent_and_a_confident_class_plays(path):  # noqa: ANN001
    """On the engine's two paths: a Result, and a lean stream's arrays."""
    model = graded_project().trained
    names = list(model.labels_)
    stream = model.stream()
    synth = Synth(None)  # no mapping saved: the classifier's default
    synth.reject_below = REJECT_BELOW  # as the engine sets it with its OSC output

    def play(p_high: float, frames: int = 25) -> float:
        """Hold the likelihood of "high" at ``p_high`` for 0.5 s; the last 0.1 s's RMS."""
        r = stream.step(np.array([input_for(model, p_high)]))
        assert r.label == "high"
        for _ in range(frames):
            if path == "result":
                synth.update(r, names)
            else:
                synth.update_arrays(r.label_index, r.likelihoods, None, names)
            block = synth.render(960)  # 20 ms a frame
        return _rms(np.concatenate([block, synth.render(3840)]))

    rejected = play(0.75)  # the likeliest class, past the routes' 0.3, yet rejected
    assert rejected < SILENT, rejected
    confident = play(0.97)
    assert confident > AUDIBLE, confident
    # the pad plays its part: the follower's gain follows the likelihood, then rests again
    assert synth._targets[PARAMETERS["follower_gain"].index] > 0.4
    assert play(0.6) < SILENT
    assert synth._targets[PARAMETERS["follower_gain"].index] == 0.0
    assert synth.update_errors == 0


def test_the_follower_alone_sounds_with_a_confident_class():
    """The pad is part of what a recognised gesture plays, not only the FM voice."""
    default = SynthMapping.default(0)
    pad = SynthMapping(routes=[r for r in default.routes if r.target != "loudness"],
                       parameters=default.parameters)
    model = graded_project().trained
    names = list(model.labels_)
    r = model.stream().step(np.array([input_for(model, 0.97)]))
    synth = Synth(pad)
    for _ in range(25):
        synth.update(r, names)
        synth.render(960)
    assert _rms(synth.render(4800)) > AUDIBLE
