"""The watch kept on a JACK MIDI port (gesturemap.utils.midi_ports) when the JACK server does
not answer: starting MIDI never waits on it, and MIDI comes back once the server answers."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest

from gesturemap.outputs.midi import MIDIOutput
from gesturemap.utils import midi_ports

from ..jack_midi import jack_in, jack_midi, silent_jack_server, wait_for  # noqa: F401 - a fixture

# JACK servers and LSL streams are machine-wide: the tests that start them run one at a time
pytestmark = pytest.mark.serial("jack-lsl")


def _frame(i: int) -> SimpleNamespace:
    return SimpleNamespace(likelihoods=np.eye(2)[i % 2], label_index=i % 2, output=None,
                           event=None)


def test_a_jack_server_that_never_answers_leaves_midi_out_starting(jack_midi, monkeypatch):  # noqa: F811
    """The port opens on a live server, then the server stops answering (one restarted a
    moment before has been seen to): the watch's own JACK client waited in libjack for ever,
    and the start with it (a run or a window's Start frozen; the test worker killed after
    4 minutes). Now the start returns, MIDI out says it is not connected and counts the
    frames it could not send, and sends again once the server answers."""
    synth, got = jack_in("synth-in")
    real_open = midi_ports.open_port
    out = MIDIOutput({"port": "synth-in"})
    try:
        with silent_jack_server() as silent:

            def open_then_silence(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
                opened = real_open(*args, **kwargs)
                # from now on this process's JACK clients reach the server that never answers
                monkeypatch.setenv("JACK_DEFAULT_SERVER", silent)
                monkeypatch.setattr(midi_ports, "open_port", real_open)  # once only
                return opened

            monkeypatch.setattr(midi_ports, "open_port", open_then_silence)
            starting = threading.Thread(target=out.start, daemon=True)
            starting.start()
            starting.join(30)  # OPEN_WAIT_S and a loaded machine's margin
            assert not starting.is_alive(), "MIDI out's start waited on a silent JACK server"
            assert out.port_name is not None and out.port_name.endswith(":synth-in")
            assert wait_for(lambda: out.stats()["midi_connected"] is False, timeout=10), (
                out.stats())
            for i in range(5):  # the frame path neither blocks nor raises meanwhile
                out.update(_frame(i))
            assert out.stats()["midi_frames_unsent"] == 5, out.stats()
            assert out.stats()["midi_sent"] == 0, out.stats()
            # the server answers again (the silent one goes: libjack's waiting open fails)
            monkeypatch.setenv("JACK_DEFAULT_SERVER", jack_midi)
        assert wait_for(lambda: out.stats()["midi_reconnects"] == 1, timeout=30), out.stats()
        out.update(_frame(1))
        assert wait_for(lambda: [0x90, 61, 100] in got), got
        assert out.stats()["midi_connected"] is True
    finally:
        out.stop()
        synth.delete()
