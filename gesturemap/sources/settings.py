"""A project's sensor settings -> the source that reads it; and stage mode's choice of sensor.

One code path for every front end: the window's Sensor tab and ``gesturemap run`` both build
their source with :func:`build_sensor_source` from the same JSON dict (the project's
``sensor`` settings). :func:`stage_sensor` decides what ``gesturemap run`` opens: the project's
saved sensor, with the command-line options over it; an option that would change nothing is an
error, never silently ignored.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ..errors import GesturemapError
from ..utils.validation import (
    check_choice,
    check_float,
    check_number,
    check_text,
    validation_error,
)

__all__ = ["TRANSPORTS", "WEKINATOR_OSC_IN", "StageSensor", "build_sensor_source",
           "check_sensor_settings", "stage_sensor"]

#: Wekinator's input port: /wek/inputs frames and /wekinator/control messages.
WEKINATOR_OSC_IN = ("127.0.0.1", 6448)

#: Transports that have no profile file: their channels come from the device itself.
_PROFILELESS = ("midi", "lsl")
#: Every transport a project's sensor settings may name.
TRANSPORTS = ("mouse", "osc", "serial", *_PROFILELESS)
#: The sensor settings that are text: a name, a path, a device, part of a port's name.
_TEXT = {"profile": "a profile's name (sensors/) or the path of a profile file",
         "host": "an interface to listen on, e.g. 127.0.0.1",
         "device": "the serial port's path, e.g. /dev/ttyACM0",
         "stream": "an LSL stream's name"}


def check_sensor_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Check the entries of a project's ``sensor`` settings that :func:`build_sensor_source`
    and the window read, without opening anything: a wrong type or a value out of range is
    refused where the settings are set or loaded, naming the entry, not when the sensor opens
    (a traceback on stage). Keys it does not know are kept for the window (it keeps them).

    Whether the profile exists and the device or port is there is the source's to say when
    it opens: a project moved to another machine still opens, to pick its sensor again.

    Returns
    -------
    dict
        ``settings``, unchanged.

    Raises
    ------
    GesturemapError
        Naming the entry (``sensor.port``), the value found and what is expected.
    """
    from .osc import CONTROL_PREFIX

    s = settings
    if s.get("transport") is not None:
        check_choice("sensor.transport", s["transport"], TRANSPORTS)
    for key, expected in _TEXT.items():
        check_text(f"sensor.{key}", s.get(key), expected)
    if s.get("port") is not None:
        # an OSC port (0 picks a free one), or part of a MIDI input's name
        if s.get("transport") == "midi":
            check_text("sensor.port", s["port"], "part of a MIDI input's name")
        else:
            check_number("sensor.port", s["port"], minimum=0, maximum=65535, integer=True,
                         hint="0 picks a free port.")
    address = s.get("address")
    if address is not None and address != "" and not (
            isinstance(address, str) and address.startswith("/") and address.isascii()
            and not address.startswith(CONTROL_PREFIX)):
        raise validation_error("sensor.address", address,
                               f"an ASCII OSC address starting with '/', outside "
                               f"{CONTROL_PREFIX}, e.g. /accxyz")
    if s.get("framing"):
        check_choice("sensor.framing", s["framing"], ("text", "binary"))
    if s.get("rate_hz") is not None:
        check_float("sensor.rate_hz", s["rate_hz"], strict=True,
                    hint="The sensor's frames per second, e.g. 100.")
    if s.get("controls") is not None:
        from .midi import parse_controls

        if not isinstance(s["controls"], str | list):
            raise validation_error("sensor.controls", s["controls"],
                                   'a list of MIDI channels, e.g. ["cc1", "cc7", "note"]')
        parse_controls(s["controls"])
    return settings


def build_sensor_source(
    settings: dict[str, Any],
    queue: Any,
    on_control: Any = None,
    input_dim: int | None = None,
    allow_network: bool = False,
) -> Any:
    """The (not started) source that sensor ``settings`` describe, or None for the mouse pad.

    Parameters
    ----------
    settings : dict
        ``transport`` ("mouse", "osc", "serial", "midi" or "lsl"), ``profile`` (a name from
        ``sensors/``; default "wekinator" for OSC, "arduino-imu-text" for serial), and for OSC
        ``host``, ``port`` and ``address`` (overriding the profile's), for serial ``device`` and
        ``framing`` ("text" or "binary"), for MIDI ``port`` (part of a MIDI input's name), for
        LSL ``stream`` (a stream's name).
    queue : FrameQueue
    on_control : callable, optional
        Receives Wekinator's control messages (OSC) and a MIDI input's program changes
        (scene recalls).
    input_dim : int, optional
        The project's input size, when known: an OSC frame of another size is refused, never
        adopted; an LSL stream with another number of channels is refused when it opens.
    allow_network : bool, default False
        Whether an OSC ``host`` other than a loopback address may be used. Settings read from
        a project file never open a port to the network by themselves: without this (the
        person's say-so, in the window or on the command line) the source listens on
        127.0.0.1.

    Raises
    ------
    GesturemapError, FormatError
        For an unknown profile, a transport the profile does not use, or bad settings.
    """
    from .osc import is_loopback
    from .profiles import build_source, load_profile

    transport = settings.get("transport")
    if transport == "midi":
        from .midi import MIDISource

        source = MIDISource(queue, str(settings.get("port") or ""),
                            controls=settings.get("controls"), on_control=on_control)
        _refuse_other_size(source.controls, input_dim, f"MIDI input {source.port_query!r}",
                           "give --midi-controls the project's channels")
        return source
    if transport == "lsl":
        from .lsl import LSLSource

        return LSLSource(queue, str(settings.get("stream") or ""), size=input_dim)
    name = settings.get("profile") or {"osc": "wekinator", "serial": "arduino-imu-text"}.get(
        str(transport), "mouse"
    )
    profile = load_profile(name)
    transport = transport or profile.transport
    if transport == "mouse":
        return None
    if profile.transport != transport:
        raise GesturemapError(
            f"sensor: profile {name!r} is a {profile.transport} sensor, not {transport}; pick a "
            f"{transport} profile or the {profile.transport} transport."
        )
    if transport == "osc":
        assert profile.osc is not None
        address = settings.get("address")
        if address:
            own = profile.osc.addresses
            arity = own[0][1] if len(own) == 1 else None
            osc = dataclasses.replace(profile.osc, addresses=((str(address), arity),))
            profile = dataclasses.replace(
                profile, osc=osc, channels=profile.channels if arity is not None else ()
            )
        _refuse_other_size(profile.channels, input_dim, f"profile {profile.name!r}")
        port = settings.get("port")
        host = str(settings.get("host") or "127.0.0.1")
        if not allow_network and not is_loopback(host):
            host = "127.0.0.1"
        return build_source(
            profile,
            queue,
            host=host,
            port=None if port is None else int(port),
            on_control=on_control,
            size=input_dim,
        )
    assert profile.serial is not None
    _refuse_other_size(profile.channels, input_dim, f"profile {profile.name!r}")
    framing = settings.get("framing")
    if framing:
        profile = dataclasses.replace(
            profile, serial=dataclasses.replace(profile.serial, framing=str(framing))
        )
    return build_source(profile, queue, device=settings.get("device") or None)


def _refuse_other_size(channels: Any, input_dim: int | None, what: str,
                       fix: str = "give the profile its takes were recorded with") -> None:
    """Refuse a sensor (``what``: a profile, a MIDI input) whose frames, of ``channels``, have
    another number of values than the project's inputs: every frame it sent would be
    dropped, and the performer would hear nothing and not know why (an LSL stream of another
    width is refused as it opens, for the same reason). No channels: frames of any size."""
    size = len(channels)
    if input_dim is None or not size or size == input_dim:
        return
    raise GesturemapError(
        f"sensor: {what} sends frames of {size} values ({', '.join(channels):.80}); this "
        f"project takes {input_dim} inputs: {fix}, or start a new project for this sensor")


@dataclasses.dataclass(frozen=True)
class StageSensor:
    """What ``gesturemap run`` opens.

    Attributes
    ----------
    settings : dict or None
        Sensor settings for :func:`build_sensor_source`; None: no sensor of the project's (the
        mouse pad has no meaning without a window), frames come as Wekinator's ``/wek/inputs``.
    osc_in : (host, port) or None
        Wekinator's OSC port (``/wek/inputs`` and ``/wekinator/control/...``), opened beside a
        non-OSC sensor (or instead of the mouse); None when the sensor is OSC itself (its port
        takes the control messages).
    origin : str
        Where the sensor comes from, for the start-up line ("the project's", "--serial"...).
    """

    settings: dict[str, Any] | None
    osc_in: tuple[str, int] | None
    origin: str

    def describe(self) -> str:
        """What the sensor is, in a few words (e.g. "/accxyz (touchosc-accelerometer)")."""
        from .profiles import load_profile

        s = self.settings
        if s is None:
            return "Wekinator's /wek/inputs"
        t = s.get("transport")
        if t == "osc":
            name = s.get("profile") or "wekinator"
            addresses = (
                [s["address"]]
                if s.get("address")
                else [a for a, _ in (load_profile(name).osc.addresses or ())]
            )  # type: ignore[union-attr]
            return f"{' '.join(addresses) or 'OSC'} ({name})"
        if t == "serial":
            return f"serial {s.get('device')} ({s.get('profile') or 'arduino-imu-text'})"
        if t == "midi":
            return f"MIDI input {s.get('port')!r}"
        return f"LSL stream {s.get('stream')!r}"


def stage_sensor(
    project_sensor: dict[str, Any] | None,
    *,
    osc_in: tuple[str, int] | None = None,
    serial: str | None = None,
    profile: str | None = None,
    midi_in: str | None = None,
    lsl_in: str | None = None,
) -> StageSensor:
    """The sensor ``gesturemap run`` opens: the project's saved one, options over it.

    Parameters
    ----------
    project_sensor : dict or None
        The project's ``sensor`` settings (as the window saved them).
    osc_in : (host, port), optional
        ``--osc-in``: the OSC sensor's interface and port (its addresses stay the profile's);
        beside a serial, MIDI or LSL sensor, Wekinator's control port (default 6448).
    serial, midi_in, lsl_in : str, optional
        ``--serial DEVICE``, ``--midi-in PORT``, ``--lsl-in NAME``: this sensor instead of the
        project's (one at a time).
    profile : str, optional
        ``--profile NAME``: the sensor profile (``sensors/``). With ``--serial`` a serial one;
        alone it replaces the project's profile (and transport: an OSC profile makes an OSC
        sensor, a serial one needs a device from the project or ``--serial``).

    Raises
    ------
    GesturemapError
        For options that contradict each other or would be ignored, an unknown profile, or a
        serial sensor without a device.
    """
    from .profiles import is_profile_path, load_profile

    given = [
        (flag, value)
        for flag, value in (("--serial", serial), ("--midi-in", midi_in), ("--lsl-in", lsl_in))
        if value
    ]
    if len(given) > 1:
        raise GesturemapError(
            f"{' and '.join(f for f, _ in given)}: one sensor at a time; give only one of them."
        )
    prof = load_profile(profile) if profile else None
    # how the sensor settings name it: a shipped profile by its name, a file of the user's by
    # its path (its name alone would be looked for among the shipped ones)
    ref = None if prof is None else (
        str(Path(profile).resolve()) if is_profile_path(profile) else prof.name)
    if prof is not None and given and given[0][0] != "--serial":
        raise GesturemapError(
            f"--profile {profile!r}: profiles describe OSC and serial sensors; {given[0][0]} "
            "reads its channels from the device. Leave --profile out."
        )
    if prof is not None and prof.transport == "mouse":
        raise GesturemapError(
            f"--profile {profile!r}: the mouse pad needs the window (gesturemap open); pick an "
            "OSC or serial profile (sensors/README.md)."
        )
    own = dict(project_sensor or {})
    own_transport = own.get("transport") or "mouse"
    if serial:
        if prof is not None and prof.transport != "serial":
            raise GesturemapError(
                f"--profile {profile!r} is an {prof.transport} sensor; --serial needs a serial "
                "profile, e.g. arduino-imu-text."
            )
        settings: dict[str, Any] = {"transport": "serial", "device": serial}
        if prof is not None:
            settings["profile"] = ref
        elif own_transport == "serial":  # the project's line format, another device
            settings.update({k: own[k] for k in ("profile", "framing") if own.get(k)})
        return StageSensor(settings, osc_in or WEKINATOR_OSC_IN, "--serial")
    if midi_in:
        return StageSensor(
            {"transport": "midi", "port": midi_in}, osc_in or WEKINATOR_OSC_IN, "--midi-in"
        )
    if lsl_in:
        return StageSensor(
            {"transport": "lsl", "stream": lsl_in}, osc_in or WEKINATOR_OSC_IN, "--lsl-in"
        )
    origin = "the project's"
    settings = own
    if prof is not None and ref != own.get("profile"):
        origin = "--profile"
        # another profile: the project's address or port overrides were for the old one
        settings = {"transport": prof.transport, "profile": ref}
        if prof.transport == own_transport == "serial":
            settings["device"] = own.get("device")
        if prof.transport == own_transport == "osc" and own.get("host"):
            settings["host"] = own["host"]
    transport = settings.get("transport") or "mouse"
    if transport == "mouse":
        return StageSensor(
            None,
            osc_in or WEKINATOR_OSC_IN,
            "the project's sensor is the mouse pad, which needs the window",
        )
    if transport == "osc":
        if osc_in is not None:
            settings = {**settings, "host": osc_in[0], "port": osc_in[1]}
            origin = f"{origin} sensor, --osc-in's port"
        return StageSensor(settings, None, origin)
    if transport == "serial" and not settings.get("device"):
        raise GesturemapError(
            "the project's sensor is serial but names no device: give it, e.g. "
            "`--serial /dev/ttyACM0`."
        )
    if transport not in ("serial", *_PROFILELESS):
        raise GesturemapError(
            f"the project's sensor transport {transport!r}: expected mouse, "
            "osc, serial, midi or lsl; set the sensor again in the window."
        )
    return StageSensor(settings, osc_in or WEKINATOR_OSC_IN, origin)
