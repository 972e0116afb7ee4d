"""Serial input (an Arduino, a microcontroller with an IMU): text lines or checksummed binary frames.

The thread reads whatever has arrived (``read(in_waiting or 1)`` with a short timeout: four times
faster than ``readline()``), cuts it into lines or frames itself, and survives the device going
away: the port is closed, ``stats.connected`` turns False, and the same device path is opened
again with a growing pause (0.2 s, 0.4 s, ... up to 2 s) until the device is back.

A device away is an outage in :class:`~.base.SourceStats` (``away_s``, ``outages``): from its
last frame before it was noticed gone to the first bytes read after it was opened again, so
that a take recorded across it says when its frames stop (:mod:`gesturemap.live.recording`).

Text lines
    Numbers separated by commas, tabs or spaces (detected on each line, or fixed), ended by
    ``\\n``, ``\\r\\n`` or ``\\r`` alone (as some boards' ``print`` ends them). A "line" of more
    than 4 KB without an end is garbage: dropped whole, up to its end, and counted once.
    Optionally a leading column holds a label (lines with another label are ignored) or a
    timestamp. A separator after the last value (``1,2,3,``) is allowed, and so are the
    names Arduino's Serial Plotter reads (``ax:0.12,ay:-0.3``; a line of names alone is
    skipped, counted as ignored). Empty lines and
    lines starting with ``#`` are skipped. Lines of words before the first line of numbers
    since the port opened (a sketch's boot banner, a header naming the columns) are counted
    as ignored; once numbers flow, a line that is not all numbers is a bad packet.
    Undecodable bytes become U+FFFD and make the line a bad packet.

Frame times
    On :func:`time.perf_counter`'s clock. The lines or frames a read completes arrived since
    the read that completed the last one (a burst's first byte is often read alone, the rest
    microseconds later): their times are spread evenly over that span, at most
    :data:`~.base.MAX_SPREAD_S` (the last one at the read), so a pipeline that uses time sees
    each after the last with a plausible step. With a timestamp column, the board's
    times give the steps and are mapped onto that clock (:class:`~.base.SensorClock`): a board
    that restarts (its clock from 0 again) or a clock that stands still never holds frames back.

Binary frames (see ``sensors/README.md`` and ``sensors/firmware/imu_serial/imu_serial.ino``)
    ======  ==========  ==============================================================
    offset  size        field
    ======  ==========  ==============================================================
    0       2           sync bytes ``0xA5 0x5A``
    2       1           ``n``, the number of values, 1 to 64
    3       4 n         the values, IEEE 754 float32, little-endian
    3 + 4n  2           CRC-16/CCITT-FALSE of bytes 2 to 2 + 4n (``n`` and the values),
                        little-endian: polynomial 0x1021, initial value 0xFFFF, no
                        reflection, no final XOR (``binascii.crc_hqx(data, 0xFFFF)``)
    ======  ==========  ==============================================================

    A frame whose checksum fails, or bytes between frames, count as one bad packet; the reader
    then looks for the next sync bytes, starting one byte after the failed frame's start.
"""

from __future__ import annotations

import binascii
import errno
import math
import os
import stat
import struct
import time
from collections.abc import Sequence

import serial

from ..utils.validation import Described, check_choice, check_number, validation_error
from .base import FrameQueue, SensorClock, Source, spread_times

__all__ = [
    "MAX_BINARY_VALUES",
    "SYNC",
    "SerialSource",
    "check_serial_settings",
    "encode_frame",
]

#: The two bytes that start every binary frame.
SYNC = b"\xa5\x5a"
#: The largest number of values a binary frame may carry.
MAX_BINARY_VALUES = 64

_LINE_LIMIT = 4096  # a "line" longer than this is garbage (no newline in sight)
#: While a device stays away, how often its failed opens are said (seconds).
OPEN_RETRY_LOG_S = 60.0
#: A device noticed gone within this long of its last frame went away at that frame (a read
#: that fails at once, or the path checked after half a second of silence); after a longer
#: silence, when it was noticed (seconds).
LOST_AFTER_FRAME_S = 1.0
_FLOATS = [struct.Struct(f"<{n}f") for n in range(MAX_BINARY_VALUES + 1)]
_UNITS_S = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
_SEPARATORS = {None: None, "auto": None, ",": ",", "\t": "\t", " ": " "}


def check_serial_settings(
    *,
    baud: int,
    framing: str,
    separator: str | None,
    leading: str | None,
    label: str | None,
    timestamp_unit: str,
) -> None:
    """Refuse serial settings :class:`SerialSource` cannot use (also used by profile loading).

    Raises
    ------
    GesturemapError
        Naming the setting, the value received and what is accepted.
    """
    check_number(
        "baud",
        baud,
        minimum=1,
        maximum=20_000_000,
        integer=True,
        hint="E.g. 115200: the rate the device's firmware opens its port with.",
    )
    check_choice("framing", framing, ("text", "binary"))
    check_choice("separator", separator, tuple(_SEPARATORS))
    check_choice("leading", leading, (None, "label", "timestamp"))
    check_choice("timestamp_unit", timestamp_unit, tuple(_UNITS_S))
    if framing == "binary" and (leading is not None or _SEPARATORS[separator] is not None):
        raise validation_error(
            "leading/separator",
            (leading, separator),
            "neither with binary framing",
            "Binary frames carry values only; leave both unset.",
        )
    if label is not None and (leading != "label" or not isinstance(label, str)):
        raise validation_error(
            "label", label, "a string, together with leading='label'", "Or leave it unset."
        )


def encode_frame(values: Sequence[float]) -> bytes:
    """Encode values as one binary frame (what the example firmware sends).

    Parameters
    ----------
    values : sequence of float, length 1 to 64

    Returns
    -------
    bytes
        Sync bytes, count, float32 values and CRC-16, as described in the module docstring.
    """
    n = len(values)
    if not 1 <= n <= MAX_BINARY_VALUES:
        raise validation_error(
            "values", Described(f"{n} values"), f"1 to {MAX_BINARY_VALUES} values"
        )
    body = bytes([n]) + _FLOATS[n].pack(*values)
    return SYNC + body + binascii.crc_hqx(body, 0xFFFF).to_bytes(2, "little")


def _no_permission(exc: BaseException) -> bool:
    """Whether opening a port failed for want of permission (pyserial keeps the errno)."""
    return getattr(exc, "errno", None) in (errno.EACCES, errno.EPERM)


def not_a_serial_port(device: str) -> str | None:
    """Why the existing path ``device`` cannot be a serial port (a regular file, a folder, a
    device that is not a terminal such as /dev/null), or None: a serial port, or a path that
    does not exist (a board not plugged in yet), or one that cannot be looked at."""
    try:
        mode = os.stat(device).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode):
        return "it is a regular file"
    if stat.S_ISDIR(mode):
        return "it is a folder"
    if not stat.S_ISCHR(mode):
        return "it is not a device"
    try:  # non-blocking, and never the controlling terminal: only to ask what it is
        fd = os.open(device, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return None  # busy, or no permission: the open's own error says which
    try:
        return None if os.isatty(fd) else "it is a device that is not a terminal"
    finally:
        os.close(fd)


class SerialSource(Source):
    """Frames from a serial port.

    Parameters
    ----------
    queue : FrameQueue
        Where frames go.
    device : str
        The port's path (``/dev/ttyACM0``, ``/dev/tty.usbmodem1101``, ``COM3``). The same path is
        opened again when the device comes back.
    baud : int, default 115200
    framing : {"text", "binary"}, default "text"
    separator : {None, "auto", ",", "\\t", " "}, default None
        Text only: the separator between values; None or ``"auto"`` detects it on each line
        (comma if the line has one, else tab, else runs of spaces).
    leading : {None, "label", "timestamp"}, default None
        Text only: what the first column holds, if it is not a value.
    label : str, optional
        With ``leading="label"``: keep only lines with this label (others are counted as
        ignored). Without it, any label is accepted.
    timestamp_unit : {"s", "ms", "us"}, default "ms"
        With ``leading="timestamp"``: the unit of the timestamps. Frame times then follow the
        board's clock, mapped onto :func:`time.perf_counter`'s (:attr:`Source.sensor_clock` is
        True; see the module docstring).
    channel_names : sequence of str, optional
        One per value; if empty, the first valid frame fixes the size.
    name : str, default "serial"
    read_timeout_s : float, default 0.05
        How long one read waits for a first byte; bounds how long :meth:`stop` takes.
    reopen_backoff_s : tuple of float, default (0.2, 2.0)
        First and longest pause between two attempts to open the port.
    """

    def __init__(
        self,
        queue: FrameQueue,
        device: str,
        *,
        baud: int = 115200,
        framing: str = "text",
        separator: str | None = None,
        leading: str | None = None,
        label: str | None = None,
        timestamp_unit: str = "ms",
        channel_names: Sequence[str] = (),
        name: str = "serial",
        read_timeout_s: float = 0.05,
        reopen_backoff_s: tuple[float, float] = (0.2, 2.0),
    ) -> None:
        if not isinstance(device, str | os.PathLike) or not os.fspath(device):
            raise validation_error("device", device, "the serial port's path, e.g. /dev/ttyACM0")
        check_serial_settings(
            baud=baud,
            framing=framing,
            separator=separator,
            leading=leading,
            label=label,
            timestamp_unit=timestamp_unit,
        )
        super().__init__(queue, name=name, channel_names=channel_names)
        self.device = os.fspath(device)
        self.baud = baud
        self.framing = framing
        self.separator = _SEPARATORS[separator]
        self.leading = leading
        self.label = label
        self.sensor_clock = leading == "timestamp"
        self._time_scale = _UNITS_S[timestamp_unit]
        self.read_timeout_s = float(read_timeout_s)
        self.reopen_backoff_s = (float(reopen_backoff_s[0]), float(reopen_backoff_s[1]))
        self._feed = self._feed_binary if framing == "binary" else self._feed_text
        self._port: serial.Serial | None = None
        self._backoff = self.reopen_backoff_s[0]
        self._opened_before = False
        self._checked_path = 0.0
        self._pending = b""
        self._overlong = False  # the end of a line dropped as too long is still to come
        self._open_failures = 0  # attempts to open the device since it was last open
        self._open_said = -math.inf  # when the last of them was logged
        self._said_why: str | None = None  # why the port cannot be opened, once said
        self._fresh = True  # the first line after opening may be the tail of an older one
        # no line of numbers yet since the port opened: text lines now are the board's boot
        # banner or a header naming the columns, not garbage
        self._before_data = True
        self._resyncing = True  # binary: bytes skipped now are already counted (or stale)
        self._clock = SensorClock()
        if self.sensor_clock:
            self.stats.clock = self._clock
        #: when the read that completed the last line or frame returned (or the port opened)
        self._done_t: float | None = None

    # -- Source hooks -------------------------------------------------------------------------

    def _close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except OSError:
                pass  # the device is gone already; nothing left to release

    def _step(self) -> None:
        port = self._port
        if port is None:
            self._reopen()
            return
        try:
            data = port.read(port.in_waiting or 1)
        except OSError as exc:  # serial.SerialException is an OSError
            self._lost(str(exc))
            return
        t = time.perf_counter()
        if data:
            if self.stats.away_since is not None:
                # back when its bytes flow again, not when its port opened: a board reset by
                # the opening (an Arduino's bootloader) sends nothing for a second or two
                self.stats.came_back(t)
            self._feed(data, t)
            return
        # Some drivers just read nothing once the device is unplugged: check the path now and
        # then (cheap, and only while the line is silent).
        now = time.monotonic()
        if now - self._checked_path > 0.5:
            self._checked_path = now
            if not os.path.exists(self.device):
                self._lost("the device path disappeared")

    # -- connection ---------------------------------------------------------------------------

    def _reopen(self) -> None:
        try:
            port = serial.Serial(self.device, self.baud, timeout=self.read_timeout_s)
        except (OSError, ValueError) as exc:
            # said at once, then once a minute: a device away for an hour is 60 lines, not 1,800
            self._open_failures += 1
            now = time.monotonic()
            what = not_a_serial_port(self.device)
            if what is not None:
                self._not_a_port(what)
            elif _no_permission(exc) and os.path.exists(self.device):
                what = "no permission"
                self._no_permission()
            elif self._open_failures == 1 or now - self._open_said >= OPEN_RETRY_LOG_S:
                self._open_said = now
                self._log(
                    "open",
                    "%s: cannot open %s (%s); trying again every %g s at most (%d tries)",
                    self.name,
                    self.device,
                    exc,
                    self.reopen_backoff_s[1],
                    self._open_failures,
                )
            if what is None:
                self._said_why = None
            self._stopping.wait(self._backoff)
            self._backoff = min(2 * self._backoff, self.reopen_backoff_s[1])
            return
        self._said_why = None
        try:
            # What the OS buffered while nobody was reading is stale for a real-time stream.
            port.reset_input_buffer()
        except OSError:
            pass
        self._port = port
        self._backoff = self.reopen_backoff_s[0]
        self._open_failures = 0
        self._pending = b""
        self._overlong = False
        self._fresh = True
        self._before_data = True  # a board reset by the opening prints its banner again
        self._resyncing = True
        self._clock.reset()  # the board may have restarted: its clock with it
        self._done_t = time.perf_counter()  # what was buffered before is gone (just above)
        self._checked_path = time.monotonic()
        if self._opened_before:
            self.stats.reconnects += 1
            self._log("reopened", "%s: %s is back; reading again", self.name, self.device)
        self._opened_before = True
        self.stats.connected = True

    def _said_once(self, what: str) -> bool:
        """Whether why the path cannot be read (``what``) was said already; from now on, it
        was. It is tried again quietly, as a device away is: a link such as
        /dev/serial/by-id/... may come to point at the board, a permission may be given, and
        a path that was a port and is gone (unplugged) is said again."""
        said, self._said_why = self._said_why == what, what
        return said

    def _no_permission(self) -> None:
        """Say once that the port is there but this user may not open it, and how to be
        allowed (on Linux, serial ports belong to the ``dialout`` group)."""
        if self._said_once("no permission"):
            return
        self._log(
            "no-permission",
            "%s: %s is there, but this user may not open it (permission denied): no sensor "
            "frames will come from it. On Linux, add yourself to the dialout group (sudo "
            "usermod -aG dialout $USER), then log out and in again. Running on without it: "
            "the other inputs (the OSC port) still play",
            self.name,
            self.device,
        )

    def _not_a_port(self, what: str) -> None:
        """Say once that the path is no serial port, and what to check."""
        if self._said_once(what):
            return
        self._log(
            "not-a-port",
            "%s: %s is not a serial port (%s): no sensor frames will come from it. Check the "
            "path: `gesturemap devices` lists the serial ports (a board on USB is "
            "/dev/ttyACM0 or /dev/ttyUSB0 on Linux, /dev/cu.usbmodem... on a Mac, COM3... "
            "on Windows). Running on without it: the other inputs (the OSC port) still play",
            self.name,
            self.device,
            what,
        )

    def _lost(self, why: str) -> None:
        self._close()
        now = time.perf_counter()
        last = self.stats.last_frame_t
        # (an outage in the stats: a take recorded across it says so, see live.recording)
        self.stats.went_away(last if last is not None and now - last <= LOST_AFTER_FRAME_S
                             else now)
        self.stats.connected = False
        self._log("lost", "%s: lost %s (%s); reopening it", self.name, self.device, why)

    # -- text lines ---------------------------------------------------------------------------

    def _feed_text(self, data: bytes, t: float) -> None:
        if b"\r" in data:  # a CRLF ends a line, and so does a lone CR
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if self._overlong:  # the rest of a line already dropped as garbage, up to its end
            end = data.find(b"\n")
            if end < 0:
                return
            self._overlong, data = False, data[end + 1:]
        if b"\n" not in data:
            self._pending += data
            if len(self._pending) > _LINE_LIMIT:
                self._pending, self._overlong = b"", True
                self.stats.packets_in += 1  # a "line" that was read, then refused
                self._bad("line", "%s: dropped a line of more than %d bytes", _LINE_LIMIT)
            return
        lines = (self._pending + data).split(b"\n")
        self._pending = lines.pop()
        previous, self._done_t = self._done_t, t
        if self.leading == "timestamp":
            # the board's stamps give the steps; the lines were all received by now
            parsed = [values for values in map(self._line, lines) if values is not None]
            if parsed:
                stamps = [values.pop(0) * self._time_scale for values in parsed]
                times = self._sensor_times(self._clock, stamps, t)
                for values, t_line in zip(parsed, times, strict=True):
                    self._emit(t_line, values)
            return
        if len(lines) == 1:
            values = self._line(lines[0])
            if values is not None:
                self._emit(t, values)
            return
        # received since the read that completed the last line (not since the last read: a
        # burst's first byte is read alone, the rest a few microseconds later)
        for line, t_line in zip(lines, spread_times(len(lines), previous, t), strict=True):
            values = self._line(line)
            if values is not None:
                self._emit(t_line, values)

    def _line(self, raw: bytes) -> list[float] | None:
        """One line's numbers (the timestamp first, if any), or None if it gives no frame."""
        text = raw.decode("utf-8", "replace").strip()
        if not text or text[0] == "#":
            return None
        self.stats.packets_in += 1
        fresh, self._fresh = self._fresh, False
        separator = self.separator
        if separator is None:
            separator = "," if "," in text else "\t" if "\t" in text else None
        elif separator == " ":
            separator = None
        parts = text.split(separator)
        if len(parts) > 1 and not parts[-1].strip():
            # A separator after the last value ("1,2,3,"): sketches that print each value
            # followed by a comma in a loop, as the Arduino Cookbook's CommaDelimitedOutput
            # does, end every line so. (Spaces and tabs at the end are stripped already.)
            del parts[-1]
        if self.leading == "label":
            if self.label is not None and parts[0].strip() != self.label:
                self.stats.ignored += 1
                return None
            del parts[0]
        try:
            if ":" in text:
                # Arduino's Serial Plotter format, "ax:0.12,ay:-0.3" (what sketches print
                # for the IDE's plotter): each value after its name, in the line's order
                parts = [_plotter_value(part) for part in parts]
                if not any(parts):  # its names alone ("ax:,ay:", a sketch's header line)
                    self.stats.ignored += 1
                    return None
            if any("_" in part for part in parts):  # (a name may have one: "Variable_1:")
                raise ValueError  # Python reads 1_0 as 10; no sensor writes it
            values = [float(part) for part in parts]
            if not values:  # a label alone ("Ready" with a label column): no reading
                raise ValueError
        except ValueError:
            if self._before_data and _plain_text(text):
                # what a sketch prints in setup() before its readings ("MPU6050 found!",
                # "ax,ay,az"): the board's normal start, not a bad packet
                self.stats.ignored += 1
            elif not fresh:
                self._bad("line", "%s: refused a line that is not all numbers: %.60r", text)
            return None
        self._before_data = False
        stamped = self.leading == "timestamp"
        if stamped and (not values or not self._plausible(values[:1])):
            return None
        if fresh and len(values) - stamped != self._arity and self._arity is not None:
            return None  # the tail of a line sent before the port was opened
        return values

    # -- binary frames ------------------------------------------------------------------------

    def _feed_binary(self, data: bytes, t: float) -> None:
        buffer = self._pending + data if self._pending else data
        size = len(buffer)
        index = 0
        found: list[tuple[float, ...]] = []
        while True:
            start = buffer.find(SYNC, index)
            if start < 0:
                # Keep a last unread 0xA5: it may be the first half of the next sync.
                keep = size - 1 if index < size and buffer[-1] == SYNC[0] else size
                self._skipped(keep - index)
                index = keep
                break
            self._skipped(start - index)
            index = start
            if start + 3 > size:
                break
            n = buffer[start + 2]
            self.stats.packets_in += 1
            if not 1 <= n <= MAX_BINARY_VALUES or (self._arity is not None and n != self._arity):
                # Refused at once, not after waiting for 4n more bytes: a sync pattern inside
                # garbage must not hold back the valid frames that follow it.
                self._bad_frame("framing", "%s: binary frame announces %d values", n)
                index = start + 1
                continue
            end = start + 5 + 4 * n
            if end > size:
                break
            checksum = buffer[end - 2] | buffer[end - 1] << 8
            if binascii.crc_hqx(buffer[start + 2 : end - 2], 0xFFFF) != checksum:
                self._bad_frame("checksum", "%s: binary frame with a bad checksum (%d values)", n)
                index = start + 1
                continue
            self._resyncing = False
            found.append(_FLOATS[n].unpack_from(buffer, start + 3))
            index = end
        self._pending = buffer[index:]
        if not found:
            return
        previous, self._done_t = self._done_t, t
        if len(found) == 1:
            self._emit(t, found[0])
            return
        # received since the read that completed the last frame (see _feed_text)
        for values, t_frame in zip(found, spread_times(len(found), previous, t), strict=True):
            self._emit(t_frame, values)

    def _skipped(self, count: int) -> None:
        """Bytes outside any frame: one bad packet per run, unless already counted or stale."""
        if count > 0 and not self._resyncing:
            self._resyncing = True
            self.stats.packets_in += 1  # the run of garbage is one packet read, and refused
            self._bad("garbage", "%s: skipped %d bytes between binary frames", count)

    def _bad_frame(self, kind: str, message: str, n: int) -> None:
        # After a failed frame, the bytes up to the next sync belong to it: count it once.
        self._resyncing = True
        self._bad(kind, message, n)


def _plain_text(text: str) -> bool:
    """Whether a line that is not all numbers is plainly words (a boot banner, a header
    naming the columns): printable, decoded without loss, with letters in it. Bytes that did
    not decode, control characters or a line of digits and signs are garbage (a wrong baud
    rate gives such lines)."""
    return (text.isprintable() and "\ufffd" not in text
            and any(c.isalpha() for c in text))


def _plotter_value(part: str) -> str:
    """The value of one ``name:value`` part of a Serial Plotter line ("" for a name alone);
    a part without a name as it is. A name that is a number is no name (``12:30``, a time):
    the part is refused as not a number."""
    name, colon, value = part.partition(":")
    if not colon:
        return part
    try:
        float(name)
    except ValueError:
        return value.strip()
    raise ValueError(part)
