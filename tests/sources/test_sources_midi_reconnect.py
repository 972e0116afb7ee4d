"""A MIDI controller unplugged mid-performance (its port gone), or the JACK server stopped: the
source shows it (``connected`` false) and reads the port again once it is back."""

from __future__ import annotations

import pytest

from gesturemap.sources import FrameQueue
from gesturemap.sources.midi import MIDISource

from ..jack_midi import jack_midi, jack_out, jack_restartable, wait_for  # noqa: F401 - fixtures

# JACK servers and LSL streams are machine-wide: the tests that start them run one at a time
# (two JACK servers starting at once can fail)
pytestmark = pytest.mark.serial("jack-lsl")


def test_a_controller_unplugged_and_plugged_again_is_read_again(jack_midi):  # noqa: F811
    controller = jack_out("faders")
    src = MIDISource(FrameQueue(64), "faders", controls="cc1").start()
    try:
        assert wait_for(lambda: (controller.send_message([0xB0, 1, 1]), src.stats.frames_in)[1])
        controller.delete()  # unplugged
        controller = None
        assert wait_for(lambda: not src.stats.connected), src.stats.snapshot()
        controller = jack_out("faders")  # plugged again
        assert wait_for(lambda: src.stats.reconnects == 1 and src.stats.connected)
        before = src.stats.frames_in
        assert wait_for(
            lambda: (controller.send_message([0xB0, 1, 2]), src.stats.frames_in > before)[1]
        ), src.stats.snapshot()
    finally:
        src.stop()
        if controller is not None:
            controller.delete()


def test_a_jack_server_restarted_is_read_again(jack_restartable):  # noqa: F811
    server = jack_restartable
    controller = jack_out("faders")
    src = MIDISource(FrameQueue(64), "faders", controls="cc1").start()
    try:
        controller = None  # its server is going: never touched again
        server.stop()
        assert wait_for(lambda: not src.stats.connected), src.stats.snapshot()
        server.start()
        controller = jack_out("faders")
        assert wait_for(lambda: src.stats.reconnects == 1, timeout=10), src.stats.snapshot()
        assert wait_for(
            lambda: (controller.send_message([0xB0, 1, 2]), src.stats.frames_in > 0)[1]
        ), src.stats.snapshot()
    finally:
        src.stop()
        if controller is not None:
            controller.delete()
