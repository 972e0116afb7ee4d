"""A DTW project's control changes say how close each gesture is, from the distances
/wek/outputs sends: ``127 * threshold / (threshold + distance)``, 64 at DTW's match threshold.
A real engine answers over loopback OSC and plays MIDI to a port on a dummy JACK server.

The likelihoods they carried before told another story than the rest of the outputs: at rest
"down" was likeliest (0.975, controller 124) while nothing matched, no note sounded and
/wek/outputs sent both gestures far away."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from gesturemap.live.engine import Engine
from gesturemap.outputs.midi import MIDIOutput

from ..jack_midi import jack_in, jack_midi, wait_for  # noqa: F401 - a fixture
from ..rejection_helpers import DTW_GESTURES, dtw_project, play_dtw_gestures
from ..stage_helpers import float_msg, osc_receiver

pytestmark = pytest.mark.serial("jack-lsl")


def _closeness_codes(model) -> list[list[int]]:  # noqa: ANN001
    """Each frame's controller values of :data:`DTW_GESTURES` by the model's own distances
    (its stream reset at each gesture, as the engine's is)."""
    stream = model.stream()
    threshold = model.threshold_
    codes = []
    for frames in DTW_GESTURES:
        stream.reset()
        for x in frames:
            d = np.asarray(stream.step(np.array([float(x)])).distances)
            codes.append([int(c) for c in np.floor(127 * threshold / (threshold + d) + 0.5)])
    return codes


def test_a_dtw_projects_control_changes_follow_its_distances(jack_midi):  # noqa: F811
    project = dtw_project()
    model = project.trained
    codes = _closeness_codes(model)
    down, up = (model.labels_.index(g) for g in ("down", "up"))
    assert codes[0][down] < 5  # at rest: far from both gestures, though "down" is likeliest
    expected: list[list[int]] = []  # a controller is sent when its 7-bit value changes
    last: dict[int, int] = {}
    for frame in codes:
        for k, code in enumerate(frame):
            if last.get(k) != code:
                last[k] = code
                expected.append([0xB0, 1 + k, code])
    assert max(f[up] for f in codes) > 64  # "up" performed as taught: within the threshold
    port, got = jack_in("dtw-controls")
    rx = osc_receiver()
    engine = Engine(project, osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", rx.getsockname()[1]),
                    trainer="thread", sinks=[MIDIOutput({"port": "dtw-controls"})]).start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        distances = play_dtw_gestures(engine, tx, rx, "/wek/outputs")

        def controls() -> list[list[int]]:
            return [m for m in got if m[0] & 0xF0 == 0xB0]

        assert wait_for(lambda: len(controls()) >= len(expected), 20), controls()
    finally:
        engine.stop()
        tx.close()
        rx.close()
        port.delete()
    assert len(distances) == len(codes)  # every frame answered
    assert controls() == expected
    assert engine.stats()["midi_send_errors"] == 0


def test_the_windows_midi_output_follows_the_dtw_match_threshold(jack_midi):  # noqa: F811
    """The window opens the project's MIDI output once running: it takes the model's match
    threshold too, so a gesture at rest is far on its controller from the first frame."""
    from gesturemap.gui.session import WindowEngine

    project = dtw_project(midi={"port": "dtw-window"})
    model = project.trained
    rest = DTW_GESTURES[0]
    codes = _closeness_codes(model)[: len(rest)]
    assert all(c == codes[0] for c in codes) and max(codes[0]) < 5
    port, got = jack_in("dtw-window")
    engine = WindowEngine(project, osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", 9),
                          trainer="thread").start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        assert wait_for(lambda: engine.sinks or engine.stats()["midi_error"], 20)
        (sink,) = engine.sinks
        assert sink.match_threshold == model.threshold_
        engine.command("reset")
        for x in rest:
            tx.sendto(float_msg("/wek/inputs", float(x)), ("127.0.0.1", engine.osc_port))
        assert wait_for(lambda: engine.frames_out >= len(rest), 20)
        assert wait_for(lambda: len(got) >= 2, 20)
    finally:
        engine.stop()
        tx.close()
        port.delete()
    # both controllers once (at rest nothing changes), far from either gesture
    assert got == [[0xB0, 1 + k, c] for k, c in enumerate(codes[0])]
