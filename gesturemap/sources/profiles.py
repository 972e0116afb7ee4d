"""Sensor profiles: one small JSON file per device or app, and the source each one builds.

A profile says how a device sends its data (OSC addresses, or a serial line format), what each
value is called, in which unit, at what nominal rate, and on which documentation the format is
based. The shipped profiles live in the ``sensors/`` folder; the file format is described in
``sensors/README.md``. Every error names the file, the field, the value found and what was
expected.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import FormatError, GesturemapError
from ..utils.storage import read_json, sensors_dir
from ..utils.validation import Described, check_choice, check_number, validation_error
from .base import FrameQueue, Source
from .osc import OSCSource, check_osc_settings
from .serial import MAX_BINARY_VALUES, SerialSource, check_serial_settings

__all__ = [
    "FORMAT",
    "TRANSPORTS",
    "OSCSettings",
    "SensorProfile",
    "SerialSettings",
    "build_source",
    "list_profiles",
    "load_profile",
    "profile_from_dict",
]

#: The format name every profile file carries, and the newest version this code reads.
FORMAT = "gesturemap.sensor"
VERSION = 1
#: How a sensor reaches gesturemap. "mouse" is fed by the window and needs no source.
TRANSPORTS = ("osc", "serial", "mouse")

_TOP_KEYS = {
    "format",
    "version",
    "name",
    "description",
    "format_source",
    "notes",
    "transport",
    "rate_hz",
    "channels",
    "osc",
    "serial",
}
_REQUIRED = ("name", "description", "format_source", "transport", "rate_hz", "channels")
_OSC_KEYS = {"port", "merge", "addresses"}
_ADDRESS_KEYS = {"address", "arity"}
_SERIAL_KEYS = {"baud", "framing", "separator", "leading", "label", "timestamp_unit", "device_hint"}
_CHANNEL_KEYS = {"name", "unit"}


@dataclass(frozen=True)
class OSCSettings:
    """How an OSC sensor sends: the port to listen on and its addresses in channel order.

    Attributes
    ----------
    port : int
        The UDP port the app sends to by default.
    merge : {"all", "latest"}
        How several addresses make one frame (see :class:`~gesturemap.sources.OSCSource`).
    addresses : tuple of (str, int or None)
        Each address with its number of arguments (None: any, fixed by the project's input size when known, else by the first message).
    """

    port: int
    merge: str
    addresses: tuple[tuple[str, int | None], ...]


@dataclass(frozen=True)
class SerialSettings:
    """How a serial sensor sends (see :class:`~gesturemap.sources.SerialSource`)."""

    baud: int = 115200
    framing: str = "text"
    separator: str | None = None
    leading: str | None = None
    label: str | None = None
    timestamp_unit: str = "ms"
    device_hint: str = ""


@dataclass(frozen=True)
class SensorProfile:
    """A sensor's data format, as read from a profile file.

    Attributes
    ----------
    name : str
        Short identifier, also the file's name without ``.json``.
    description : str
        What the device or app is and how to set it up.
    transport : {"osc", "serial", "mouse"}
    channels : tuple of str
        Value names in frame order (empty: any number, named when the first frame comes).
    units : tuple of str
        One unit per channel (``""`` where there is none).
    rate_hz : float
        The nominal frame rate.
    format_source : str
        The documentation the format is taken from.
    notes : str
        Anything a user should know: what was and was not checked against a device.
    osc : OSCSettings or None
    serial : SerialSettings or None
    path : pathlib.Path or None
        The file it was read from.
    """

    name: str
    description: str
    transport: str
    channels: tuple[str, ...]
    units: tuple[str, ...]
    rate_hz: float
    format_source: str
    notes: str = ""
    osc: OSCSettings | None = None
    serial: SerialSettings | None = None
    path: Path | None = None

    @property
    def needs_source(self) -> bool:
        """False for the mouse, which the window feeds directly."""
        return self.transport != "mouse"


# ---------------------------------------------------------------------------------------------
# Finding and loading
# ---------------------------------------------------------------------------------------------


def list_profiles(folder: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the profiles in a folder (by default the shipped ``sensors/`` folder).

    Parameters
    ----------
    folder : path, optional

    Returns
    -------
    list of str
        Sorted file names without ``.json``; give one to :func:`load_profile`.
    """
    directory = Path(folder) if folder is not None else sensors_dir()
    return sorted(path.stem for path in directory.glob("*.json"))


def is_profile_path(name_or_path: str | os.PathLike[str]) -> bool:
    """Whether ``name_or_path`` names a profile file of the user's (else a shipped profile)."""
    text = os.fspath(name_or_path)
    return text.endswith(".json") or os.sep in text or "/" in text


def load_profile(name_or_path: str | os.PathLike[str]) -> SensorProfile:
    """Read and validate a profile.

    Parameters
    ----------
    name_or_path : str or path
        A shipped profile's name (see :func:`list_profiles`), or the path of a ``.json`` file.

    Returns
    -------
    SensorProfile

    Raises
    ------
    FormatError
        If the file is missing, is not JSON, or does not describe a valid profile; the message
        names the field at fault.
    """
    text = os.fspath(name_or_path)
    if is_profile_path(text):
        path = Path(text)
    else:
        path = sensors_dir() / f"{text}.json"
        if not path.is_file():
            available = list_profiles()
            close = difflib.get_close_matches(text, available, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise FormatError(
                f"sensor profile {text!r}: no such profile; the shipped ones are "
                f"{', '.join(available)}.{hint} A file of your own is loaded by its path."
            )
    document = read_json(path, format=FORMAT, max_version=VERSION)
    return profile_from_dict(document, path=path)


def build_source(
    profile: SensorProfile,
    queue: FrameQueue,
    *,
    device: str | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    name: str | None = None,
    on_control: Callable[[str, list[Any]], object] | None = None,
    size: int | None = None,
) -> Source:
    """Build the (not yet started) source a profile describes.

    Parameters
    ----------
    profile : SensorProfile
    queue : FrameQueue
        Where the source puts its frames.
    device : str, optional
        Serial profiles: the port's path. Required for them.
    host : str, default "127.0.0.1"
        OSC profiles: the interface to listen on. A phone or a wireless sensor sends from
        another machine: ``"0.0.0.0"`` opens the port to the network.
    port : int, optional
        OSC profiles: overrides the profile's port (0 picks a free one).
    name : str, optional
        The source's name; the profile's name by default.
    on_control : callable, optional
        OSC profiles: receives Wekinator control messages (see :class:`OSCSource`).
    size : int, optional
        OSC profiles whose single address accepts any number of values: the frames' size
        (the project's input size), so that a frame of another size is refused rather than
        adopted (see :class:`OSCSource`).

    Returns
    -------
    Source

    Raises
    ------
    GesturemapError
        For the mouse profile (the window feeds it), or a serial profile without ``device``.
    """
    source_name = name or profile.name
    if profile.osc is not None:
        return OSCSource(
            queue,
            dict(profile.osc.addresses),
            host=host,
            port=profile.osc.port if port is None else port,
            merge=profile.osc.merge,
            channel_names=profile.channels or None,
            name=source_name,
            on_control=on_control,
            size=size if all(a is None for _, a in profile.osc.addresses) else None,
        )
    if profile.serial is not None:
        if not device:
            hint = f" ({profile.serial.device_hint})" if profile.serial.device_hint else ""
            raise GesturemapError(
                f"device: profile {profile.name!r} reads a serial port; give its path{hint}, "
                "e.g. `gesturemap run DIR --serial /dev/ttyACM0`."
            )
        settings = profile.serial
        return SerialSource(
            queue,
            device,
            baud=settings.baud,
            framing=settings.framing,
            separator=settings.separator,
            leading=settings.leading,
            label=settings.label,
            timestamp_unit=settings.timestamp_unit,
            channel_names=profile.channels,
            name=source_name,
        )
    raise GesturemapError(
        f"profile {profile.name!r}: the {profile.transport} is fed by the window, not by a "
        "source thread; there is nothing to build."
    )


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


class _Checker:
    """Reads fields of a profile document; every error says which file and which field."""

    def __init__(self, where: str) -> None:
        self.where = where

    def error(self, field: str, found: Any, expected: str, hint: str | None = None) -> FormatError:
        return FormatError(f"{self.where}: {validation_error(field, found, expected, hint)}")

    def wrap(self, prefix: str, validate: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a shared check (``_io``'s, or a source's own); say where a refused value is."""
        try:
            return validate(*args, **kwargs)
        except GesturemapError as error:
            raise FormatError(f"{self.where}: {prefix}{error}") from None

    def keys(self, obj: Any, allowed: set[str], field: str, required: tuple[str, ...]) -> dict:
        dotted = f"{field}." if field else ""
        if not isinstance(obj, Mapping):
            raise self.error(field or "the document", obj, "a JSON object")
        for key in obj:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                hint = (
                    f"Did you mean {close[0]!r}?"
                    if close
                    else f"Known: {', '.join(sorted(allowed))}."
                )
                raise self.error(
                    f"{dotted}{key}", Described("an unknown field"), "one of the known fields", hint
                )
        for key in required:
            if key not in obj:
                raise FormatError(
                    f"{self.where}: {dotted}{key} is missing; every {field or 'profile'} needs it "
                    "(see sensors/README.md)."
                )
        return dict(obj)

    def text(self, obj: Mapping, key: str, field: str, default: str | None = None) -> str:
        value = obj.get(key, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.error(field, value, "a non-empty string" if default is None else "a string")
        return value


def profile_from_dict(document: Mapping[str, Any], *, path: Path | None = None) -> SensorProfile:
    """Validate a profile document (the parsed JSON) and build the profile.

    Parameters
    ----------
    document : mapping
        The JSON object; ``format`` and ``version`` may be present (they are checked when the
        file is read).
    path : pathlib.Path, optional
        Where it came from, for error messages.

    Returns
    -------
    SensorProfile

    Raises
    ------
    FormatError
        Naming the field at fault: unknown fields, missing ones, an unknown transport, duplicate
        channel names, addresses whose arities do not add up to the channels, bad settings.
    """
    check = _Checker(f"sensor profile {path}" if path is not None else "sensor profile")
    doc = check.keys(document, _TOP_KEYS, "", _REQUIRED)
    name = check.text(doc, "name", "name")
    check.where = f"sensor profile {name!r}" + (f" ({path})" if path is not None else "")
    transport = check.wrap(
        "", check_choice, "transport", doc["transport"], TRANSPORTS, "It says how the data arrives."
    )
    rate = check.wrap("", check_number, "rate_hz", doc["rate_hz"], minimum=1e-3, maximum=1e5)
    channels, units = _channels(check, doc["channels"])

    osc = serial_settings = None
    for section in ("osc", "serial"):
        if section in doc and section != transport:
            raise check.error(
                section,
                Described("a section"),
                f"no {section!r} section for transport {transport!r}",
            )
    if transport == "osc":
        if "osc" not in doc:
            raise FormatError(f"{check.where}: osc is missing; an OSC profile needs its addresses.")
        osc = _osc_settings(check, doc["osc"], channels)
    elif transport == "serial":
        serial_settings = _serial_settings(check, doc.get("serial", {}))
        if not channels:
            raise check.error("channels", [], "at least one channel for a serial sensor")
        if serial_settings.framing == "binary" and len(channels) > MAX_BINARY_VALUES:
            raise check.error(
                "channels",
                Described(f"{len(channels)} channels"),
                f"at most {MAX_BINARY_VALUES} in binary frames",
            )
    elif not channels:
        raise check.error("channels", [], "the mouse's channels (x, y, vx, vy)")

    return SensorProfile(
        name=name,
        description=check.text(doc, "description", "description"),
        transport=transport,
        channels=channels,
        units=units,
        rate_hz=float(rate),
        format_source=check.text(doc, "format_source", "format_source"),
        notes=check.text(doc, "notes", "notes", default=""),
        osc=osc,
        serial=serial_settings,
        path=path,
    )


def _channels(check: _Checker, raw: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not isinstance(raw, list):
        raise check.error("channels", raw, 'a list of {"name": ..., "unit": ...} objects')
    names: list[str] = []
    units: list[str] = []
    for i, entry in enumerate(raw):
        field = f"channels[{i}]"
        entry = check.keys(entry, _CHANNEL_KEYS, field, ("name",))
        name = check.text(entry, "name", f"{field}.name")
        if name in names:
            raise check.error(
                f"{field}.name",
                name,
                "a name no other channel has",
                "Channel names must be unique.",
            )
        names.append(name)
        units.append(check.text(entry, "unit", f"{field}.unit", default=""))
    return tuple(names), tuple(units)


def _osc_settings(check: _Checker, raw: Any, channels: tuple[str, ...]) -> OSCSettings:
    section = check.keys(raw, _OSC_KEYS, "osc", ("port", "addresses"))
    port = check.wrap(
        "", check_number, "osc.port", section["port"], minimum=1, maximum=65535, integer=True
    )
    merge = section.get("merge", "all")
    entries = section["addresses"]
    if not isinstance(entries, list):
        raise check.error("osc.addresses", entries, 'a list of {"address", "arity"} objects')
    addresses: dict[str, int | None] = {}
    for i, entry in enumerate(entries):
        entry = check.keys(entry, _ADDRESS_KEYS, f"osc.addresses[{i}]", ("address", "arity"))
        if entry["address"] in addresses:
            raise check.error(
                f"osc.addresses[{i}].address", entry["address"], "an address listed once"
            )
        addresses[entry["address"]] = entry["arity"]
    check.wrap("osc.", check_osc_settings, addresses, merge)
    arities = list(addresses.values())
    if arities[0] is None:
        if channels:
            raise check.error(
                "osc.addresses[0].arity",
                None,
                f"{len(channels)}, the number of channels listed",
                "Give the arity, or list no channels to accept any number of values.",
            )
    elif sum(arities) != len(channels):
        listed = ", ".join(f"{a} ({n})" for a, n in addresses.items())
        raise check.error(
            "osc.addresses",
            Described(f"{sum(arities)} values in all ({listed})"),
            f"{len(channels)}, one per channel listed",
            "The arities must add up to the number of channels, in the same order.",
        )
    return OSCSettings(port=port, merge=merge, addresses=tuple(addresses.items()))


def _serial_settings(check: _Checker, raw: Any) -> SerialSettings:
    section = check.keys(raw, _SERIAL_KEYS, "serial", ())
    separator = section.get("separator", "auto")
    settings = SerialSettings(
        baud=section.get("baud", 115200),
        framing=section.get("framing", "text"),
        separator=None if separator == "auto" else separator,
        leading=section.get("leading"),
        label=section.get("label"),
        timestamp_unit=section.get("timestamp_unit", "ms"),
        device_hint=check.text(section, "device_hint", "serial.device_hint", default=""),
    )
    check.wrap(
        "serial.",
        check_serial_settings,
        baud=settings.baud,
        framing=settings.framing,
        separator=separator,
        leading=settings.leading,
        label=settings.label,
        timestamp_unit=settings.timestamp_unit,
    )
    return settings
