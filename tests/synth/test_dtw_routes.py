"""In a DTW project the synth's routes read what the outputs send: a ``likelihood:GESTURE``
route reads the gesture's closeness from its distance (MIDI's controllers' value, 0..1), and
``*`` is the gesture that matches, none while none does. The likelihoods, a softmax over the
gestures, name a likeliest gesture even at rest, where nothing matches.

The results are a real DTW stream's; the synth renders offline through the very kernel the
audio callback runs (no sound card).
"""

from __future__ import annotations

import numpy as np
import pytest

from gesturemap.outputs.midi import closeness
from gesturemap.synth import PARAMETERS, Route, Synth, SynthMapping

from ..rejection_helpers import DTW_GESTURES, dtw_project, dtw_results


def _rms(block: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(block, dtype=np.float64))))


@pytest.fixture(scope="module")
def dtw():  # noqa: ANN201
    """The DTW model, its labels and the results of :data:`DTW_GESTURES`: at rest, "up",
    at rest."""
    model = dtw_project().trained
    return model, list(model.labels_), dtw_results(model)


def test_at_rest_where_nothing_matches_the_default_mapping_is_silent(dtw):  # noqa: ANN001
    model, names, results = dtw
    rest = len(DTW_GESTURES[0])
    # at rest "down" is likeliest (0.975) yet matches nothing: the outputs name no gesture
    assert all(r.match is None for r in results[:rest])
    assert results[0].likelihoods[names.index("down")] > 0.95
    default = SynthMapping.default(0)
    # the FM voice alone (the follower's route has a test of its own)
    mapping = SynthMapping(routes=[r for r in default.routes if r.target != "follower_gain"])
    synth = Synth(mapping)
    synth.match_threshold = model.threshold_  # as the engine sets it
    heard = []
    for r in results:
        synth.update(r, names)
        heard.append(_rms(synth.render(960)))  # 20 ms a frame
    at_rest = max(heard[5:rest])  # past the first glide
    matched = [i for i, r in enumerate(results) if r.match == "up"]
    assert at_rest < 1e-4, at_rest  # it was at a quarter of full scale: loudness 0.21
    assert max(heard[i] for i in matched) > 0.01
    # the closer the match, the louder: the match's last frame is its nearest
    assert heard[matched[-1]] > heard[matched[0]]
    # at rest again: silent again once the voice has faded (its last frame, 200 ms on)
    assert heard[-1] < 1e-4


def test_a_gesture_route_reads_its_closeness_as_midi_sends_it(dtw):  # noqa: ANN001
    model, names, results = dtw
    threshold = model.threshold_
    mapping = SynthMapping(routes=[
        Route("likelihood:up", "brightness", 0.0, 1.0, 0.0, 1.0),
        Route("likelihood:down", "follower_transpose", 0.0, 1.0, 0.0, 12.0),
        Route("likelihood:*", "mod_depth", 0.0, 1.0, 0.0, 10.0),
    ], parameters={"mod_depth": 3.0})
    synth = Synth(mapping)
    synth.match_threshold = threshold
    t = synth._targets
    up, down = names.index("up"), names.index("down")
    seen = []
    for r in results:
        synth.update(r, names)
        near = closeness(r.distances, threshold)  # MIDI's controllers / 127
        assert t[PARAMETERS["brightness"].index] == pytest.approx(near[up], abs=1e-12)
        assert t[PARAMETERS["follower_transpose"].index] == pytest.approx(12 * near[down],
                                                                          abs=1e-9)
        # "*": the matched gesture's closeness; no match, no gesture: the parameter at rest
        expected = 3.0 if r.match is None else 10 * near[names.index(r.match)]
        assert t[PARAMETERS["mod_depth"].index] == pytest.approx(expected, abs=1e-9)
        seen.append(r.match)
    assert None in seen and "up" in seen  # both cases were played
    # a match beyond the threshold (one gesture far nearer than the other): below one half
    first = results[seen.index("up")]
    assert first.distances[up] > threshold
    assert closeness(first.distances, threshold)[up] < 0.5


def test_a_frame_allocates_no_array_for_the_closeness(dtw):  # noqa: ANN001
    model, names, results = dtw
    synth = Synth(SynthMapping(routes=[Route("likelihood:up", "brightness")]))
    synth.match_threshold = model.threshold_
    synth.update(results[0], names)
    buffer = synth._closeness
    for r in results:
        synth.update(r, names)
    assert synth._closeness is buffer and synth.update_errors == 0


def test_the_engine_gives_its_synth_the_dtw_threshold_and_takes_it_back():
    from gesturemap.live.engine import Engine

    from ..rejection_helpers import graded_project

    project = dtw_project()
    synth = Synth()
    engine = Engine(project, synth=synth, trainer="thread")
    try:
        assert synth.match_threshold == project.trained.threshold_ > 0
        engine._set_model(graded_project().trained)  # a classifier: its likelihoods again
        assert synth.match_threshold is None
    finally:
        engine.stop()


def _at_the_threshold(model, results):  # noqa: ANN001, ANN202
    """A frame of "up" matching at exactly the match threshold (closeness 0.5): a real matched
    frame of :data:`DTW_GESTURES` with "up"'s distance set to the threshold."""
    import dataclasses

    matched = next(r for r in results if r.match == "up")
    distances = matched.distances.copy()
    distances[list(model.labels_).index("up")] = model.threshold_
    return dataclasses.replace(matched, distances=distances)


def _heard(synth, model, frames):  # noqa: ANN001, ANN202
    """The RMS of each 20 ms block ``synth`` plays for ``frames``, as the engine drives it."""
    synth.match_threshold = model.threshold_  # as the engine sets it
    names = list(model.labels_)
    heard = []
    for r in frames:
        synth.update(r, names)
        heard.append(_rms(synth.render(960)))
    return heard


def test_a_dtw_projects_default_mapping_plays_a_match_at_the_threshold_clearly(dtw):  # noqa: ANN001
    """What `gesturemap run`, the window and a scene play with no mapping saved: the default
    for the model that plays. At rest (nothing matches) it is silent, the sample follower
    too; a match at the threshold (closeness 0.5, the farthest an ordinary match is) sounds
    at well over -30 dBFS RMS, the level of a quiet but plainly heard note (0.03): a
    classifier's default voice plays a likelihood of 0.9 at about 0.1."""
    model, _, results = dtw
    synth = Synth(None)  # a project with no mapping saved
    rest, at = results[0], _at_the_threshold(model, results)
    assert rest.match is None and at.match == "up"
    heard = _heard(synth, model, [rest] * 10 + [at] * 10 + [rest] * 15)
    assert synth.mapping == SynthMapping.default(None, "dtw")
    assert max(heard[:10]) < 1e-4, heard[:10]
    assert min(heard[13:20]) > 0.03, heard[10:20]  # past the 20 ms glide
    assert max(heard[-5:]) < 1e-4, heard[-5:]  # at rest again: silent once faded
    # the FM voice alone (its loudness route), not only the follower, sounds it
    default = SynthMapping.default(0, "dtw")
    voice = SynthMapping(routes=[r for r in default.routes if r.target != "follower_gain"],
                         parameters={**default.parameters, "follower_gain": 0.0})
    heard = _heard(Synth(voice), model, [rest] * 10 + [at] * 10)
    assert max(heard[:10]) < 1e-4 and min(heard[13:20]) > 0.03, heard


def test_with_no_mapping_saved_the_synth_plays_the_default_of_the_model_that_plays():
    """A model of another kind trained in the window, or recalled in a scene: the default of
    its kind plays; a mapping saved in the project plays whatever the model."""
    from gesturemap.live.engine import Engine

    from ..rejection_helpers import graded_project

    classifier, dtw = SynthMapping.default(None), SynthMapping.default(None, "dtw")
    # every kind's default has the same sounds and glides: only routes and rest values change
    assert (classifier.follower_sound, classifier.oneshots) == (dtw.follower_sound, dtw.oneshots)
    np.testing.assert_array_equal(classifier.smoothing_ms(), dtw.smoothing_ms())
    project = graded_project()
    gmm = project.trained
    synth = Synth(None)
    saved = Synth(SynthMapping(routes=[Route("likelihood:*", "brightness")]))
    engine = Engine(project, synth=synth, trainer="thread")
    try:
        assert synth.mapping == classifier
        engine._set_model(dtw_project().trained)  # as a retrain swaps it in
        assert synth.match_threshold > 0 and synth.mapping == dtw
        engine._set_model(gmm)  # a classifier again
        assert synth.match_threshold is None and synth.mapping == classifier
    finally:
        engine.stop()
    routes = saved.mapping.routes
    saved.match_threshold = 0.1
    assert saved.mapping.routes == routes
