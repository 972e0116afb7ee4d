"""MIDI ports found by (part of) their name, on whichever backend has them.

python-rtmidi speaks to every platform's MIDI system — ALSA and JACK on Linux, CoreMIDI on
macOS, Windows MultiMedia — but one backend at a time. A musician knows the port's name
("nanoKONTROL2", "IAC Driver Bus 1", "loopMIDI Port"), not the backend: :func:`open_port` asks
each backend compiled in, in turn, and opens the first port whose name contains the text given
(case-insensitive; an exact name wins over a partial one). ``virtual:NAME`` creates a port of
gesturemap's own called NAME instead, for a DAW to connect to (not on Windows).

A backend that is not there (no ALSA sequencer, no JACK server) is skipped: it is not an
error unless no backend has the port. JACK is never started on the user's behalf
(``JACK_NO_START_SERVER``).
"""

from __future__ import annotations

import os
from typing import Any

from .errors import GesturemapError

__all__ = ["MidiPortError", "list_ports", "open_port"]

#: Prefix of a port name that asks for a virtual port of gesturemap's own.
VIRTUAL = "virtual:"


class MidiPortError(GesturemapError):
    """No MIDI port matches the name given (the message lists the ports there are)."""


def _rtmidi() -> Any:
    # asking a backend must never start a JACK server (it would take over the sound card)
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    try:
        import rtmidi
    except ImportError as exc:  # pragma: no cover - a dependency; broken installs only
        raise MidiPortError(f"MIDI needs python-rtmidi ({exc}): pip install python-rtmidi") from exc
    return rtmidi


def _backends(rtmidi: Any) -> list[tuple[int, str]]:
    return [
        (api, rtmidi.get_api_display_name(api))
        for api in rtmidi.get_compiled_api()
        if api != rtmidi.API_RTMIDI_DUMMY
    ]


def _client(rtmidi: Any, kind: str, api: int, client_name: str) -> Any:
    cls = rtmidi.MidiIn if kind == "in" else rtmidi.MidiOut
    return cls(api, name=client_name)


def list_ports(kind: str | None = None) -> dict[str, dict[str, list[str]]]:
    """The MIDI ports each backend sees: ``{backend: {"in": [...], "out": [...]}}``.

    Backends that cannot be reached (no ALSA sequencer, no JACK server) are left out.
    ``kind`` ("in" or "out") lists only inputs or outputs.
    """
    rtmidi = _rtmidi()
    out: dict[str, dict[str, list[str]]] = {}
    for api, backend in _backends(rtmidi):
        for k in ("in", "out") if kind is None else (kind,):
            try:
                client = _client(rtmidi, k, api, "gesturemap-list")
            except Exception:  # noqa: BLE001 - a backend that is not there
                continue
            try:
                out.setdefault(backend, {})[k] = list(client.get_ports())
            finally:
                client.delete()
    return out


def open_port(kind: str, name: str, client_name: str = "gesturemap") -> tuple[Any, str, str]:
    """Open the MIDI input (``kind="in"``) or output (``"out"``) whose name contains ``name``.

    Parameters
    ----------
    kind : "in" or "out"
    name : str
        Part of the port's name (case-insensitive); ``virtual:NAME`` creates a port of our own.
    client_name : str
        How gesturemap shows up to the other MIDI programs.

    Returns
    -------
    (port, port_name, backend)
        The open ``rtmidi.MidiIn`` / ``MidiOut``, the full name of the port, and the backend
        that has it ("ALSA", "JACK", "CoreMIDI", "Windows MultiMedia"...).

    Raises
    ------
    MidiPortError
        No backend has such a port (the message lists the ports there are).
    """
    if kind not in ("in", "out"):
        raise ValueError(f"kind: {kind!r}: expected 'in' or 'out'")
    what = "input" if kind == "in" else "output"
    text = str(name or "").strip()
    if not text:
        raise MidiPortError(
            f"MIDI {what}: give a part of the port's name (gesturemap devices "
            "lists them), or virtual:NAME for a port of gesturemap's own."
        )
    rtmidi = _rtmidi()
    backends = _backends(rtmidi)
    errors: list[str] = []
    if text.lower().startswith(VIRTUAL):
        own = text[len(VIRTUAL) :] or "gesturemap"
        for api, backend in backends:
            try:
                port = _client(rtmidi, kind, api, client_name)
            except Exception as exc:  # noqa: BLE001 - a backend that is not there
                errors.append(f"{backend}: {exc}")
                continue
            try:
                port.open_virtual_port(own)
            except Exception as exc:  # noqa: BLE001 - e.g. Windows: no virtual ports
                errors.append(f"{backend}: {exc}")
                port.delete()
                continue
            return port, own, backend
        raise MidiPortError(
            f"MIDI {what} {text!r}: no backend can make a virtual port "
            f"({'; '.join(errors) or 'no MIDI backend'})."
        )
    seen: list[str] = []
    wanted = text.lower()
    for exact in (True, False):
        for api, backend in backends:
            try:
                port = _client(rtmidi, kind, api, client_name)
            except Exception:  # noqa: BLE001 - a backend that is not there
                continue
            names = list(port.get_ports())
            if exact:
                seen += [f"{n} ({backend})" for n in names]
            for i, n in enumerate(names):
                if (n.lower() == wanted) if exact else (wanted in n.lower()):
                    try:
                        port.open_port(i)
                    except Exception as exc:  # noqa: BLE001
                        port.delete()
                        raise MidiPortError(
                            f"MIDI {what} {n!r} ({backend}): cannot open it: {exc}"
                        ) from exc
                    return port, n, backend
            port.delete()
    there = ", ".join(seen) if seen else "none (no MIDI device, or no ALSA sequencer / JACK server)"
    raise MidiPortError(
        f"MIDI {what} {text!r}: no port's name contains it. MIDI {what}s: "
        f"{there}. `gesturemap devices` lists them."
    )
