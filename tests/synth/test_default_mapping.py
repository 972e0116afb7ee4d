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


def _regression(high: float) -> object:
    """A trained GMR project: one input 0..1 drives two outputs, 0..``high`` and 0..10."""
    from gesturemap.project import Project

    project = Project(classes=["a"], output_names=["note", "bright"])
    x = np.linspace(0.0, 1.0, 200)[:, None]
    for _ in range(2):
        project.add_take(x, "a", outputs=np.hstack([high * x, 10.0 * x]))
    project.model = {"kind": "gmm", "params": {"gaussians": 4}}
    project.train()
    return project


def _pitch_and_brightness(synth: Synth, model, x: float) -> tuple[float, float]:  # noqa: ANN001
    r = model.stream().step(np.array([x]))
    synth.update(r, list(model.labels_))
    targets = synth._targets
    return (float(targets[PARAMETERS["pitch_hz"].index]),
            float(targets[PARAMETERS["brightness"].index]))


def test_the_default_routes_read_the_outputs_over_the_range_recorded():
    """Targets recorded over 0..127 (MIDI-like) and 0..10: the default routes read them over
    those ranges, not over 0..1 (where everything from 1 up played the top pitch, 880 Hz, and
    the brightest sound); a retrain on a wider range follows it."""
    from gesturemap.live.engine import Engine

    project = _regression(127.0)
    synth = Synth(None)  # no mapping saved
    engine = Engine(project, synth=synth, trainer="thread")
    try:
        engine._set_model(project.trained)  # as a retrain swaps it in
        low, dim = _pitch_and_brightness(synth, project.trained, 0.05)
        mid, half = _pitch_and_brightness(synth, project.trained, 0.5)
        high, bright = _pitch_and_brightness(synth, project.trained, 0.95)
        assert 110.0 <= low < 160.0 and 250.0 < mid < 380.0 and high > 650.0, (low, mid, high)
        assert dim < 0.3 and 0.5 < half < 0.7 and bright > 0.9, (dim, half, bright)
        assert synth.output_ranges[0][1] == pytest.approx(127.0)
        # the musician records over 0..254 and retrains: 63.5, the middle of the old
        # range, is a quarter of the new one (110 Hz x 8 ** 0.25 = 185 Hz)
        wider = _regression(254.0)
        for take in wider.takes:
            project.add_take(take.inputs, take.label, outputs=take.outputs)
        engine._set_model(wider.trained)
        assert synth.output_ranges[0][1] == pytest.approx(254.0)
        quarter, _ = _pitch_and_brightness(synth, wider.trained, 0.25)
        assert 160.0 < quarter < 215.0, quarter
    finally:
        engine.stop()
    # nothing recorded: 0..1, as before
    assert SynthMapping.default(2).routes == SynthMapping.default(2, None, []).routes
    assert SynthMapping.default(2).routes[0].in_max == 1.0


def test_settings_that_say_only_where_the_synth_plays_play_the_default():
    """A project.json whose synth settings hold only "audio" (a device or block size chosen
    by hand): the default mapping plays, where a mapping with no routes stayed silent on a
    recognised gesture."""
    model = graded_project().trained
    names = list(model.labels_)
    r = model.stream().step(np.array([input_for(model, 0.97)]))
    synth = Synth({"audio": {"blocksize": 256}})
    assert synth.audio.blocksize == 256
    for _ in range(25):
        synth.update(r, names)
        synth.render(960)
    assert _rms(synth.render(4800)) > AUDIBLE
    assert SynthMapping.from_dict({"audio": {"blocksize": 256}}) == SynthMapping.default()
    # a mapping saved with no routes on purpose stays one
    assert SynthMapping.from_dict({"routes": []}).routes == []
