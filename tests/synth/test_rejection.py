"""The synth follows the project's one rejection setting (``outputs.reject_below``): on a frame
/wek/outputs sends as class 0, no one-shot starts, though the likeliest class's likelihood
passed the mapping's ``onset_threshold``. A DTW project's one-shots follow its match instead.

A real engine hears frames over loopback OSC and answers on loopback; the synth plays through
PortAudio on a JACK server with the dummy driver (no sound card).
"""

from __future__ import annotations

import contextlib
import socket

import numpy as np
import pytest

from gesturemap.live.engine import Engine
from gesturemap.synth import Synth, SynthMapping
from tests.rejection_helpers import (
    DTW_GESTURES,
    answer,
    dtw_matches,
    dtw_project,
    graded_project,
    input_for,
)
from tests.stage_helpers import osc_receiver, wait_for

from ..jack_audio import jack_audio

pytestmark = [pytest.mark.serial("jack-lsl"), pytest.mark.timeout(120)]


@contextlib.contextmanager
def _playing(project, oneshots: dict[str, str]):  # noqa: ANN001, ANN202
    """A real engine answering on loopback with a synth playing on a dummy JACK server:
    yields (engine, the socket it answers, a socket to send from, how many one-shots have
    played, read a few audio blocks later)."""
    mapping = SynthMapping(oneshots=oneshots, parameters={"follower_gain": 0.0},
                           onset_threshold=0.7, onset_release=0.5, onset_min_interval_ms=0)
    rx = osc_receiver()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with jack_audio(None, "reject") as (_, device, _log):
        synth = Synth(mapping, audio={"device": device, "samplerate": 48000, "blocksize": 128})
        engine = Engine(project, osc_in=("127.0.0.1", 0),
                        osc_out=("127.0.0.1", rx.getsockname()[1]), trainer="thread",
                        synth=synth).start()
        stats = synth.stats

        def played_after_blocks() -> int:
            # the one-shot count is the audio callback's: read it a few blocks later
            seen = stats()["audio_callbacks"]
            wait_for(lambda: stats()["audio_callbacks"] >= seen + 4, timeout=20)
            return stats()["oneshots_played"]

        try:
            yield engine, rx, tx, played_after_blocks
            assert engine.stats()["errors"] == 0 and synth.update_errors == 0
        finally:
            engine.stop()
            tx.close()
            rx.close()


def test_a_frame_osc_sends_as_class_0_starts_no_oneshot():
    project = graded_project(reject_below=0.8)
    model = project.trained
    with _playing(project, {"high": "wood"}) as (engine, rx, tx, played_after_blocks):
        stats = engine.synth.stats
        port = engine.osc_port
        assert answer(tx, rx, port, input_for(model, 0.05)) == 2.0  # "low": no sound
        # "high" at 0.75: past the onset threshold (0.7), below reject_below (0.8)
        assert answer(tx, rx, port, input_for(model, 0.75)) == 0.0
        assert played_after_blocks() == 0
        # accepted: its one-shot plays, once while it holds
        assert answer(tx, rx, port, input_for(model, 0.9)) == 1.0
        wait_for(lambda: stats()["oneshots_played"] == 1, timeout=20)
        assert answer(tx, rx, port, input_for(model, 0.95)) == 1.0
        assert played_after_blocks() == 1
        # rejected again, then accepted: a new recognition, as MIDI's note sounds afresh
        assert answer(tx, rx, port, input_for(model, 0.78)) == 0.0
        assert played_after_blocks() == 1
        assert answer(tx, rx, port, input_for(model, 0.9)) == 1.0
        wait_for(lambda: stats()["oneshots_played"] == 2, timeout=20)


def test_a_dtw_project_plays_a_oneshot_when_a_gesture_matches():
    """DTW's "no class" is no match, whatever reject_below: a gesture likelier than 0.95 (and
    than the onset threshold) that matches nothing starts no one-shot; its match does."""
    project = dtw_project(reject_below=0.95)
    matches = dtw_matches(project.trained)
    rest, ramp, _ = (len(g) for g in DTW_GESTURES)
    first = matches.index("up")  # the ramp's first matched frame
    assert set(matches[:first]) == {None} and rest < first < rest + ramp - 1
    with _playing(project, {"up": "wood", "down": "wood"}) as (engine, rx, tx, played):
        port = engine.osc_port
        frames = np.concatenate(DTW_GESTURES)
        starts = np.cumsum([0] + [len(g) for g in DTW_GESTURES])
        for i, x in enumerate(frames):
            if i in starts:
                engine.command("reset")  # a gesture starts (before the frames sent after it)
            answer(tx, rx, port, float(x))  # distances on /wek/outputs: the frame answered
            if i == first - 1:  # "up" likeliest for 17 frames, matching none of them
                assert played() == 0
        assert played() == 1  # "up" matched: its one-shot, once; at rest again none
