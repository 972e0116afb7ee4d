"""A DTW gesture's one-shot plays on every new match, as its /output_N message goes out and
MIDI sounds its note: the mapping's ``onset_min_interval_ms`` (150 ms by default) keeps a
wavering likelihood from retriggering, not a second deliberate performance of a gesture.

The results are a real DTW stream's; the synth renders offline through the very kernel the
audio callback runs (no sound card)."""

from __future__ import annotations

from gesturemap.synth import Synth, SynthMapping

from ..rejection_helpers import DTW_GESTURES, dtw_project, dtw_results


def _played(synth: Synth, results: list, names: list) -> int:  # noqa: ANN001
    for r in results:
        synth.update(r, names)
        synth.render(240)
    return synth.stats()["oneshots_played"]


def test_a_dtw_gesture_matched_again_soon_plays_its_oneshot_again():
    model = dtw_project().trained
    names = list(model.labels_)
    rest, ramp, _ = DTW_GESTURES
    results = dtw_results(model, (rest, ramp, rest, ramp, rest))  # "up" twice in a row
    matches = [r.match for r in results]
    starts = [i for i, m in enumerate(matches) if m is not None and matches[i - 1] != m]
    assert len(starts) == 2 and {matches[i] for i in starts} == {"up"}
    # a minute between two onsets: both matches come well within it, whatever the load
    mapping = SynthMapping(oneshots={"up": "wood", "down": "wood"},
                           parameters={"follower_gain": 0.0}, onset_min_interval_ms=60_000)
    assert _played(Synth(mapping), results, names) == 2
    # a classifier's likelihood rising again within the interval still does not retrigger
    classifier = [_as_classifier(r) for r in results]
    assert _played(Synth(mapping), classifier, names) == 1


def _as_classifier(result):  # noqa: ANN001, ANN201
    """``result`` as a classifier would give it: the same likelihoods, no distances nor match."""
    import dataclasses

    return dataclasses.replace(result, distances=None, match=None)
