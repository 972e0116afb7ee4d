"""``gesturemap devices``: what this machine offers — audio outputs, MIDI ports, serial ports,
LSL streams — each section independent (a missing backend says so and the others still list).

Probing prints a lot on a machine without those systems: PortAudio and RtMidi probe ALSA and
JACK, whose C libraries write to the process's stderr ("ALSA lib ... cannot open", "jack
server is not running"), and liblsl logs its configuration. That chatter is caught around each
probe (file descriptor 2 goes to a temporary file) and logged at debug level (``gesturemap
--log-level debug devices`` shows it): the answer is the list, and why a section is
unavailable is said in it. Python's own warnings and log records still reach the terminal.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["c_stderr_caught", "list_devices", "main"]

log = logging.getLogger(__name__)


@contextmanager
def c_stderr_caught() -> Iterator[list[str]]:
    """Send what C libraries write to file descriptor 2 into a temporary file for the block.

    Python's ``sys.stderr`` and the log handlers writing to it are pointed at the real stderr
    meanwhile, so warnings and log records are never caught.

    Yields
    ------
    list of str
        Empty in the block; once it is done, holds the text caught (one string).
    """
    sys.stderr.flush()
    saved = os.dup(2)
    old = sys.stderr
    visible = open(saved, "w", buffering=1, encoding=getattr(old, "encoding", None) or "utf-8",
                   errors="backslashreplace", closefd=False)
    handlers = [h for h in logging.getLogger().handlers
                if isinstance(h, logging.StreamHandler) and h.stream is old]
    caught: list[str] = []
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        sys.stderr = visible
        for handler in handlers:
            handler.setStream(visible)
        try:
            yield caught
        finally:
            visible.flush()
            os.dup2(saved, 2)
            sys.stderr = old
            for handler in handlers:
                handler.setStream(old)
            visible.close()
            os.close(saved)
            sink.seek(0)
            caught.append(sink.read().decode("utf-8", errors="replace"))


def _audio() -> list[str]:
    from ..synth.synth import output_devices

    _, outputs = output_devices()
    return [
        f"{d['index']}: {d['name']} ({d['max_output_channels']} ch, "
        f"{d['default_samplerate']:.0f} Hz)"
        for d in outputs
    ]


def _midi() -> list[str]:
    from ..utils.midi_ports import SILENT, jack_answers, list_ports

    found = list_ports()
    lines = [
        f"{kind} {name} ({backend})"
        for backend, kinds in found.items()
        for kind in ("in", "out")
        for name in kinds.get(kind, [])
    ]
    # JACK's ports are left out of the listing while its server does not answer: said, since
    # "none" would send a performer to check the cables
    if not any(backend.lower() == "jack" for backend in found) and jack_answers() is None:
        lines.append(f"JACK: {SILENT}")
    return lines


def _serial() -> list[str]:
    from serial.tools import list_ports

    return [f"{p.device}: {p.description}" for p in list_ports.comports()]


def _lsl(wait_s: float) -> list[str]:
    from ..sources.lsl import list_streams

    return [
        f"{s['name']} ({s['type']}, {s['channels']} ch, {s['rate_hz']:g} Hz, on {s['host']})"
        for s in list_streams(wait_s)
    ]


def list_devices(lsl_wait_s: float = 1.0) -> dict[str, Any]:
    """``{section: [lines] or "error text"}`` for audio, MIDI, serial and LSL."""
    sections: dict[str, Callable[[], list[str]]] = {
        "audio outputs (--audio-device)": _audio,
        "MIDI ports (--midi-in / --midi-out, by part of the name)": _midi,
        "serial ports (--serial)": _serial,
        "LSL streams (--lsl-in)": lambda: _lsl(lsl_wait_s),
    }
    out: dict[str, Any] = {}
    for title, find in sections.items():
        with c_stderr_caught() as caught:
            try:
                out[title] = find()
            except Exception as exc:  # noqa: BLE001 - one missing backend must not hide the rest
                out[title] = " ".join(str(exc).split())
        chatter = caught[0].strip()
        if chatter:
            log.debug("what the C libraries printed while listing %s:\n%s", title, chatter)
    return out


def main(lsl_wait_s: float = 1.0) -> int:
    for title, found in list_devices(lsl_wait_s).items():
        print(f"{title}:")
        if isinstance(found, str):
            print(f"  unavailable: {found}")
        elif not found:
            print("  none")
        for line in found if isinstance(found, list) else []:
            print(f"  {line}")
    return 0
