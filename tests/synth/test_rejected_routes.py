"""A classifier's frame below the project's ``outputs.reject_below`` chose no class (/wek/outputs
sends class 0, the log holds no label): the synth's ``*`` routes leave their parameters at
rest on it, as they do on a DTW frame that matches nothing; a route naming a class reads its
likelihood still.

The results are a real classifier's; the synth renders offline through the very kernel the
audio callback runs (no sound card).
"""

from __future__ import annotations

import numpy as np
import pytest

from gesturemap.outputs.rejection import rejected
from gesturemap.synth import PARAMETERS, Route, Synth, SynthMapping

from ..rejection_helpers import graded_project, input_for

REJECT_BELOW = 0.8
#: the likelihood of "high" (the likeliest class) frame by frame: accepted, rejected (though
#: past the default loudness route's 0.3), accepted, rejected
LEVELS = [0.95] * 10 + [0.75] * 10 + [0.9] * 10 + [0.6] * 10


def _rms(block: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(block, dtype=np.float64))))


@pytest.fixture(scope="module")
def frames():  # noqa: ANN201
    """The graded classifier, its labels and the results of :data:`LEVELS`."""
    model = graded_project().trained
    stream = model.stream()
    results = [stream.step(np.array([input_for(model, p)])) for p in LEVELS]
    return model, list(model.labels_), results


def _synth() -> Synth:
    """The classifier's default voice (the FM voice alone: the follower has a test of its
    own), plus a route that names its class, as the engine sets the synth up for
    reject_below."""
    default = SynthMapping.default(0)
    voice = [r for r in default.routes if r.target != "follower_gain"]
    synth = Synth(SynthMapping(routes=[*voice, Route("likelihood:high", "brightness")],
                               parameters=default.parameters))
    synth.reject_below = REJECT_BELOW  # as the engine sets it with its OSC output
    return synth


def _played(synth: Synth, frames: list, update) -> tuple[list, list, list]:  # noqa: ANN001
    """What each 20 ms frame plays: the RMS, the loudness and the brightness targets."""
    loud, bright = PARAMETERS["loudness"].index, PARAMETERS["brightness"].index
    heard, loudness, brightness = [], [], []
    for frame in frames:
        update(frame)
        loudness.append(float(synth._targets[loud]))
        brightness.append(float(synth._targets[bright]))
        heard.append(_rms(synth.render(960)))
    return heard, loudness, brightness


def _check(heard: list, loudness: list, brightness: list, highs: list) -> None:
    accepted = [p >= REJECT_BELOW for p in LEVELS]
    for i, ok in enumerate(accepted):
        if ok:  # the default's exponential route from 0.3: 0.13 at 0.9, 0.19 at 0.95
            assert loudness[i] > 0.1, (i, loudness[i])
        else:  # at rest, as on no class
            assert loudness[i] == PARAMETERS["loudness"].default, (i, loudness[i])
        # a route naming its class reads its likelihood, rejected or not
        assert brightness[i] == pytest.approx(highs[i], abs=1e-12)
    # heard: the voice sounds while accepted and fades to silence on each rejection
    assert min(heard[5:10]) > 0.05 and min(heard[25:30]) > 0.05, heard
    assert max(heard[17:20]) < 1e-4 and max(heard[37:40]) < 1e-4, heard  # once faded


def test_a_rejected_frame_rests_the_star_routes(frames):  # noqa: ANN001
    model, names, results = frames
    assert [not rejected(r, REJECT_BELOW) for r in results] == [p >= REJECT_BELOW
                                                                for p in LEVELS]
    synth = _synth()
    high = names.index("high")
    scratch, targets = synth._scratch, synth._targets
    played = _played(synth, results, lambda r: synth.update(r, names))
    _check(*played, [r.likelihoods[high] for r in results])
    # nothing allocated per frame: the same arrays, written in place
    assert synth._scratch is scratch and synth._targets is targets
    assert synth.update_errors == 0


def test_a_rejected_frame_rests_the_star_routes_on_the_lean_path(frames):  # noqa: ANN001
    """The engine's lean path hands the synth a classifier's arrays, not a Result."""
    model, names, results = frames
    synth = _synth()
    high = names.index("high")
    scratch, targets = synth._scratch, synth._targets
    played = _played(synth, results,
                     lambda r: synth.update_arrays(r.label_index, r.likelihoods, None, names))
    _check(*played, [r.likelihoods[high] for r in results])
    assert synth._scratch is scratch and synth._targets is targets
    assert synth.update_errors == 0
