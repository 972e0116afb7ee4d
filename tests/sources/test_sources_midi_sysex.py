"""A system-exclusive message cut short (F0 and no F7: a controller unplugged mid-dump, a faulty
one) over real JACK ports: RtMidi's JACK backend took every message after it as part of that
sysex and the input stayed deaf until an F7 came; the source now ends it itself and hands on
the messages it held."""

from __future__ import annotations

import logging
import time

import pytest

from gesturemap.sources import FrameQueue
from gesturemap.sources.midi import MIDISource

from ..jack_midi import jack_midi, jack_out, wait_for  # noqa: F401 - a fixture

# JACK servers and LSL streams are machine-wide: the tests that start them run one at a time
# (two JACK servers starting at once can fail)
pytestmark = pytest.mark.serial("jack-lsl")

#: how long the CCs after a cut sysex may take to arrive: the source answers within half a
#: second; the rest is room for a loaded two-core machine
RECOVERY_S = 5.0
#: The CC value that ends the first CCs a test sends (see _heard)
FENCE = 2


def _heard(controller, src, queue) -> int:  # noqa: ANN001
    """Send a CC until the source hears one (its connection takes a JACK cycle or two), then
    one of another value, a fence, and return the frame count once the fence is read.

    One port's messages arrive in the order they were sent, so every CC sent before the fence
    has been read by then: a count taken after a fixed sleep instead missed the CCs a loaded
    machine's source thread had not read yet, and each cut's count after it was off by one."""
    assert wait_for(lambda: (controller.send_message([0xB0, 1, 1]), src.stats.frames_in)[1]), \
        str(src.stats.snapshot())
    controller.send_message([0xB0, 1, FENCE])
    seen = []

    def fence_read() -> bool:
        frames, _, put = queue.drain_numbered()
        seen.extend(frames)
        # (the frame is queued just before it is counted)
        return any(f.values[0] == FENCE / 127 for f in seen) and src.stats.frames_in == put

    assert wait_for(fence_read, timeout=RECOVERY_S), str(src.stats.snapshot())
    return src.stats.frames_in


def test_a_sysex_cut_short_no_longer_deafens_the_input(jack_midi, caplog):  # noqa: F811
    caplog.set_level(logging.WARNING, logger="gesturemap.sources")
    controller = jack_out("synth MIDI 1")
    queue = FrameQueue(64)
    src = MIDISource(queue, "synth MIDI", controls="cc1,note").start()
    try:
        before = _heard(controller, src, queue)
        controller.send_message([0xF0, 0x41, 0x10, 0x42])  # a dump cut short: no F7
        time.sleep(0.01)
        for v in (20, 30, 40):
            controller.send_message([0xB0, 1, v])
        controller.send_message([0x90, 60, 100])
        assert wait_for(lambda: src.stats.frames_in == before + 4, timeout=RECOVERY_S), \
            str(src.stats.snapshot())
        # held, then handed on in order: every CC, and the note after them
        held = [f.values.tolist() for f in queue.drain()[-4:]]
        assert held == [[20 / 127, 0.0], [30 / 127, 0.0], [40 / 127, 0.0],
                        [40 / 127, 60 / 127]], held
        stats = src.stats.snapshot()
        assert stats["sysex_cut"] == 1 and stats["held_messages"] == 4, stats
        assert stats["bad_packets"] == 0 and stats["errors"] == 0, stats
        # the input hears at once again
        controller.send_message([0xB0, 1, 50])
        assert wait_for(lambda: src.stats.frames_in == before + 5, timeout=RECOVERY_S)
        # a whole sysex (a device's identity reply) is no frame and no fault
        controller.send_message([0xF0, 0x7E, 0x10, 0x06, 0x02, 0x41, 0xF7])
        assert wait_for(lambda: src.stats.ignored == 1, timeout=RECOVERY_S), \
            str(src.stats.snapshot())
        assert src.stats.sysex_cut == 1 and src.stats.frames_in == before + 5
    finally:
        src.stop()
        controller.delete()
    said = [r.getMessage() for r in caplog.records if "cut short" in r.getMessage()]
    assert len(said) == 1 and "4 message(s)" in said[0], said


def test_a_controller_that_keeps_cutting_its_sysex_is_said_at_a_limited_rate(
        jack_midi, caplog):  # noqa: F811
    caplog.set_level(logging.WARNING, logger="gesturemap.sources")
    controller = jack_out("faulty MIDI 1")
    queue = FrameQueue(256)
    src = MIDISource(queue, "faulty", controls="cc1").start()
    try:
        before = _heard(controller, src, queue)
        for i in range(3):  # three cuts, each followed by a CC
            controller.send_message([0xF0, 0x00, 0x20])
            controller.send_message([0xB0, 1, 10 + i])
            assert wait_for(lambda: src.stats.frames_in == before + i + 1,  # noqa: B023
                            timeout=RECOVERY_S), str(src.stats.snapshot())
    finally:
        src.stop()
        controller.delete()
    assert src.stats.sysex_cut == 3 and src.stats.held_messages == 3
    said = [r for r in caplog.records if "cut short" in r.getMessage()]
    assert 1 <= len(said) <= 3  # at most one a second
