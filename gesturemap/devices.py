"""``gesturemap devices``: what this machine offers — audio outputs, MIDI ports, serial ports,
LSL streams — each section independent (a missing backend says so and the others still list)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["list_devices", "main"]


def _audio() -> list[str]:
    from .synth.synth import output_devices

    _, outputs = output_devices()
    return [
        f"{d['index']}: {d['name']} ({d['max_output_channels']} ch, "
        f"{d['default_samplerate']:.0f} Hz)"
        for d in outputs
    ]


def _midi() -> list[str]:
    from .midi_ports import list_ports

    return [
        f"{kind} {name} ({backend})"
        for backend, kinds in list_ports().items()
        for kind in ("in", "out")
        for name in kinds.get(kind, [])
    ]


def _serial() -> list[str]:
    from serial.tools import list_ports

    return [f"{p.device}: {p.description}" for p in list_ports.comports()]


def _lsl(wait_s: float) -> list[str]:
    from .sources.lsl import list_streams

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
        try:
            out[title] = find()
        except Exception as exc:  # noqa: BLE001 - one missing backend must not hide the rest
            out[title] = " ".join(str(exc).split())
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
