"""OSC input over UDP: Wekinator's ``/wek/inputs`` by default, or any sensor app's addresses.

One thread reads a plain UDP socket and decodes each datagram itself, with two small parsers
written here (python-osc's general parser is not used on this path: it is about six times
slower, and non-UTF-8 text makes it raise exceptions other than its own ``ParseError``).

What is accepted (OSC 1.0 encoding, plus the common 1.1 / "non-standard" tags):

- A **message** is an address (ASCII, starting with ``/``, NUL-terminated, padded to 4 bytes),
  a type-tag string (``,`` then one letter per argument, NUL-terminated, padded; a message
  without one has no arguments), then the arguments, big-endian.
- **Data messages** (the profile's addresses) take numbers only. Each tag gives one value:
  ``i`` int32, ``h`` int64, ``f`` float32, ``d`` float64, ``c`` a character (its code),
  ``r`` an RGBA colour and ``m`` a 4-byte MIDI message (each as an unsigned 32-bit integer),
  ``t`` a time tag (as seconds, NTP's 32.32 fixed point), ``T`` / ``F`` (true / false, 1 and 0,
  no bytes). ``N`` (nil), ``I`` (impulse / infinitum) and the array brackets ``[`` ``]`` carry no
  bytes and give no value: the frame keeps the other arguments (an array's numbers are read in
  place). ``s`` ``S`` (strings), ``b`` (blobs) and any unknown tag refuse the message.
- **Control messages** (under ``/wekinator/control/``) also take ``s`` / ``S`` (UTF-8 strings)
  and ``b`` (blobs, as bytes); ``N`` and ``I`` give ``None``; ``c`` gives a one-character
  string. A control message is at most :data:`MAX_CONTROL_BYTES` long.
- A **bundle** is ``#bundle\\0``, an 8-byte time tag, then elements each preceded by its int32
  size, nested at most 8 deep. Time tags are ignored: frames are handled when they arrive.

Whatever a datagram holds, decoding it never raises out of the source thread and never makes
it wait: anything that does not parse is one bad packet (however many bad elements a bundle
has), logged at most once a second per kind. Where the OS reports them (Linux), datagrams the
kernel dropped because the receive buffer was full are counted in ``kernel_drops``: the
socket's own drop counter (the one ``SO_RXQ_OVFL`` would attach to every datagram), read from
``/proc/net/udp`` when the counters are read, so that counting costs the frame path nothing
(``recvmsg`` with ancillary data costs about 1 µs more per datagram than ``recv`` here).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import struct
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import GesturemapError
from ..utils.validation import Described, check_choice, check_number, validation_error
from .base import FrameQueue, Source, raise_mode, spread_times

__all__ = [
    "CONTROL_PREFIX",
    "DEFAULT_ADDRESS",
    "DEFAULT_PORT",
    "MAX_CONTROL_BYTES",
    "BadPacket",
    "PortUnavailable",
    "OSCSource",
    "check_osc_settings",
    "decode_control",
    "decode_message",
    "is_loopback",
]

#: Wekinator's input port and address.
DEFAULT_PORT = 6448
DEFAULT_ADDRESS = "/wek/inputs"
#: Messages under this prefix go to the control callback (Wekinator's control protocol).
CONTROL_PREFIX = "/wekinator/control/"

_CONTROL_PREFIX = CONTROL_PREFIX.encode()
#: gesturemap's own control messages, also given to the control callback (as is any other
#: message under :data:`GESTUREMAP_PREFIX` that is no data address: a client's mistake, which
#: the callback refuses and says rather than have it ignored unheard).
GESTUREMAP_PREFIX = b"/gesturemap/"
GESTUREMAP_CONTROL = (b"/gesturemap/correct", b"/gesturemap/undo", b"/gesturemap/reset",
                      b"/gesturemap/restore", b"/gesturemap/suggest",
                      b"/gesturemap/scene", b"/gesturemap/costs", b"/gesturemap/rehearsal")
_BUNDLE = b"#bundle\0"
_MAX_BUNDLE_DEPTH = 8
_MAX_DATAGRAM = 65536
_CACHE_LIMIT = 512
#: the most of a refused packet's own text a log line quotes
_LOGGED_CHARS = 200
#: The longest control message read; Wekinator's are a few dozen bytes.
MAX_CONTROL_BYTES = 8192
#: Where Linux lists its UDP sockets, each with its inode and its count of dropped datagrams.
_PROC_UDP = "/proc/net/udp"

# Type tags of a data message: struct codes for those with bytes, values for those without,
# and the tags that carry nothing at all.
_TAG_STRUCT = {
    ord("i"): "i",
    ord("h"): "q",
    ord("f"): "f",
    ord("d"): "d",
    ord("c"): "i",
    ord("r"): "I",
    ord("m"): "I",
    ord("t"): "Q",
}
_TAG_CONSTANT = {ord("T"): 1, ord("F"): 0}
_TAG_EMPTY = frozenset(b"NI[]")
_TIMETAG = ord("t")
_TIMETAG_SCALE = 1.0 / (1 << 32)


#: Messages to addresses a source does not read, with no frame yet, after which it says so.
UNHEARD_SAID_AFTER = 50


class PortUnavailable(GesturemapError):
    """The OSC port asked for cannot be listened on (taken, or not this machine's address):
    the command line adds the option that moves it."""


class BadPacket(Exception):
    """A datagram or bundle element that is not a well-formed numeric OSC message."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


_Decoder = tuple[struct.Struct, tuple[tuple[int, int], ...], tuple[int, ...]]


def _compile_tags(tags: bytes) -> _Decoder:
    """The decoder for one type-tag string: a big-endian Struct, the T/F constants (position,
    value) and the positions of time tags, each position in the decoded values."""
    codes = [">"]
    constants = []
    timetags = []
    position = 0
    for tag in tags:
        code = _TAG_STRUCT.get(tag)
        if code is not None:
            codes.append(code)
            if tag == _TIMETAG:
                timetags.append(position)
        elif tag in _TAG_CONSTANT:
            constants.append((position, _TAG_CONSTANT[tag]))
        elif tag in _TAG_EMPTY:
            continue
        else:
            raise BadPacket("type", f"argument type {chr(tag)!r} is not numeric")
        position += 1
    return struct.Struct("".join(codes)), tuple(constants), tuple(timetags)


_decoders: dict[bytes, _Decoder] = {}


def decode_message(data: bytes) -> tuple[bytes, tuple[float | int, ...]]:
    """Decode an OSC message whose arguments are all numeric (see the module docstring).

    Parameters
    ----------
    data : bytes
        One OSC message (not a bundle).

    Returns
    -------
    address : bytes
        The address, undecoded.
    args : tuple of int or float
        The values: ``T`` and ``F`` become 1 and 0, a time tag seconds; ``N``, ``I``, ``[``
        and ``]`` give none.

    Raises
    ------
    BadPacket
        If the message is truncated, malformed, or has a non-numeric argument.
    """
    address, start = _split_address(data)
    return address, _decode_arguments(data, start)


def _split_address(data: bytes) -> tuple[bytes, int]:
    """The address of a message and where its type-tag string starts."""
    end = data.find(0)
    if end < 1 or data[0] != 47:  # "/"
        raise BadPacket("malformed", "not an OSC message (no address)")
    return data[:end], (end + 4) & ~3


def _split_tags(data: bytes, start: int) -> tuple[bytes, int]:
    """The type tags (without the comma) of a message, and where its arguments start."""
    if data[start] != 44:  # ","
        raise BadPacket("malformed", "no type-tag string after the address")
    tags_end = data.find(0, start)
    if tags_end < 0:
        raise BadPacket("truncated", "type-tag string not terminated")
    return data[start + 1 : tags_end], (tags_end + 4) & ~3


def _decode_arguments(data: bytes, start: int) -> tuple[float | int, ...]:
    """The numeric arguments of a message whose type-tag string starts at ``start``."""
    size = len(data)
    if start >= size:
        return ()
    tags, offset = _split_tags(data, start)
    decoder = _decoders.get(tags)
    if decoder is None:
        decoder = _compile_tags(tags)
        if len(_decoders) < _CACHE_LIMIT:
            _decoders[tags] = decoder
    layout, constants, timetags = decoder
    if offset + layout.size != size:
        raise BadPacket(
            "truncated" if offset + layout.size > size else "malformed",
            f"{size - offset} bytes of arguments for type tags {tags.decode('ascii', 'replace')!r}",
        )
    args = layout.unpack_from(data, offset)
    if constants or timetags:
        listed = list(args)
        for position, value in constants:
            listed.insert(position, value)
        for position in timetags:
            listed[position] *= _TIMETAG_SCALE
        args = tuple(listed)
    return args


def _padded_end(data: bytes, start: int, what: str) -> tuple[int, int]:
    """End of a NUL-terminated item starting at ``start``, and where the next item starts."""
    end = data.find(0, start)
    if end < 0:
        raise BadPacket("truncated", f"{what} not terminated")
    return end, (end + 4) & ~3


def _fixed(data: bytes, offset: int, layout: struct.Struct) -> tuple[Any, int]:
    if offset + layout.size > len(data):
        raise BadPacket("truncated", "arguments cut off")
    return layout.unpack_from(data, offset)[0], offset + layout.size


_I32, _I64, _F32, _F64 = (struct.Struct(c) for c in (">i", ">q", ">f", ">d"))
_U32, _U64 = struct.Struct(">I"), struct.Struct(">Q")
_CONTROL_FIXED = {
    ord("i"): _I32,
    ord("h"): _I64,
    ord("f"): _F32,
    ord("d"): _F64,
    ord("r"): _U32,
    ord("m"): _U32,
}


def decode_control(data: bytes) -> tuple[str, list[Any]]:
    """Decode a control message: numbers, strings, blobs (see the module docstring).

    Parameters
    ----------
    data : bytes
        One OSC message (not a bundle), at most :data:`MAX_CONTROL_BYTES` long.

    Returns
    -------
    address : str
    args : list
        int, float, str, bytes, bool or None, one per type tag (brackets give none).

    Raises
    ------
    BadPacket
        If the message is too long, truncated or malformed, its address is not ASCII, a string
        is not UTF-8, or a type tag is unknown. Nothing else.
    """
    if len(data) > MAX_CONTROL_BYTES:
        raise BadPacket(
            "size", f"control message of {len(data)} bytes (at most {MAX_CONTROL_BYTES})"
        )
    raw_address, start = _split_address(data)
    if not raw_address.isascii():
        raise BadPacket("text", "control address is not ASCII")
    address = raw_address.decode("ascii")
    args: list[Any] = []
    if start >= len(data):
        return address, args
    tags, offset = _split_tags(data, start)
    for tag in tags:
        layout = _CONTROL_FIXED.get(tag)
        if layout is not None:
            value, offset = _fixed(data, offset, layout)
        elif tag in (115, 83):  # "s", "S"
            end, next_offset = _padded_end(data, offset, "string")
            try:
                value = data[offset:end].decode("utf-8")
            except UnicodeDecodeError:
                raise BadPacket("text", "a string argument is not UTF-8") from None
            offset = next_offset
        elif tag == 98:  # "b"
            length, offset = _fixed(data, offset, _I32)
            if length < 0 or offset + length > len(data):
                raise BadPacket("truncated", f"blob of {length} bytes does not fit")
            value = data[offset : offset + length]
            offset += (length + 3) & ~3
        elif tag == 99:  # "c"
            code, offset = _fixed(data, offset, _I32)
            if not 0 <= code <= 0x10FFFF:
                raise BadPacket("text", f"character code {code} out of range")
            value = chr(code)
        elif tag == _TIMETAG:
            ticks, offset = _fixed(data, offset, _U64)
            value = ticks * _TIMETAG_SCALE
        elif tag in (84, 70):  # "T", "F"
            value = tag == 84
        elif tag in (78, 73):  # "N", "I"
            value = None
        elif tag in (91, 93):  # "[", "]": the array's items are read in place
            continue
        else:
            raise BadPacket("type", f"unknown argument type {chr(tag)!r}")
        args.append(value)
    if offset > len(data):
        raise BadPacket("truncated", "arguments cut off")
    return address, args


def _kernel_drops(inode: int) -> int | None:
    """The drop counter of the UDP socket with this inode (Linux), or None where unknown."""
    try:
        with open(_PROC_UDP, encoding="ascii") as table:
            next(table)  # the header
            for line in table:
                fields = line.split()
                if len(fields) >= 13 and fields[9] == str(inode):
                    return int(fields[-1])
    except (OSError, ValueError, StopIteration):
        return None
    return None


def is_loopback(host: str) -> bool:
    """Whether listening on ``host`` keeps a port to this machine (127.x.x.x, ::1, localhost)."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def has_wildcards(address: str) -> bool:
    """Whether an address of a source's table is a pattern (``*``, ``?`` or ``{a,b}``)."""
    return any(char in address for char in "*?{")


def _pattern(address: str) -> re.Pattern[bytes] | None:
    """A regex for an address with OSC wildcards in it (``*`` and ``?`` within a segment,
    ``{a,b}`` for either, as OSC's own patterns); None for a plain one."""
    if not has_wildcards(address):
        return None
    return re.compile(_regex(address).encode() + rb"\Z")


def _regex(text: str) -> str:
    parts = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "{":  # balanced and not nested (check_osc_settings)
            end = text.index("}", i)
            alternatives = text[i + 1 : end].split(",")
            parts.append("(?:" + "|".join(_regex(a) for a in alternatives) + ")")
            i = end + 1
            continue
        parts.append("[^/]*" if char == "*" else "[^/]" if char == "?" else re.escape(char))
        i += 1
    return "".join(parts)


class OSCSource(Source):
    """Frames from OSC messages on a UDP port.

    Parameters
    ----------
    queue : FrameQueue
        Where frames go.
    addresses : mapping of str to int or None, default {"/wek/inputs": None}
        The addresses that carry data, in channel order, each with its number of arguments.
        ``None`` (only when there is a single address) accepts any size: ``size`` fixes it
        when given, else the first valid message does. An address may use OSC wildcards in a segment, e.g.
        ``/ZIGSIM/*/accel`` for an app that puts a device id in its addresses, and ``{a,b}``
        for either (``/{ZIGSIM/*,*}/accel``: with or without the prefix).
    host : str, default "127.0.0.1"
        The interface to listen on; ``"0.0.0.0"`` opens the port to the network.
    port : int, default 6448
        The UDP port (Wekinator's); 0 picks a free one, read it back from :attr:`port`.
    merge : {"all", "latest"}, default "all"
        With several addresses: ``"all"`` emits one frame once every address has sent since the
        last frame; ``"latest"`` emits a frame on every message, with the latest values of the
        other addresses (once each has sent at least once). In ``"latest"`` mode the messages
        of one bundle are one update (ZIG SIM sends all its sensors in one bundle each time):
        they make one frame, when the bundle ends, or when an address comes again within it
        (a sender that bundles several updates).
    channel_names : sequence of str, optional
        One per value of the whole frame; by default ``<address>_<i>``, or ``in1``... when
        the address takes any number of values (its size given by ``size`` or learned from
        the first message).
    name : str, default "osc"
    size : int, optional
        The number of values every frame must have, when the caller knows it (the project's
        input size): a message of another size is then counted as a bad packet and dropped,
        never adopted as the size.
    on_control : callable, optional
        Called as ``on_control(address, args)`` from the source's thread for every message
        under ``/wekinator/control/``, and under ``/gesturemap/`` unless it is a data address
        (``/gesturemap/reset``, ``/gesturemap/scene``..., and any mistyped one, for the
        callback to refuse); ``args`` is a list (strings allowed). Keep it short:
        it runs on the receiving thread. Without it, such messages are counted as ignored.
        An exception it raises is counted in ``errors`` and logged; the thread goes on at once.

    Notes
    -----
    A message to a data address with the wrong number of arguments, a non-numeric argument,
    NaN, infinity or a magnitude above 1e12 is a bad packet, as is any datagram that does not
    parse (a datagram counts once, however many of its bundle elements are bad). A
    well-formed message to another address is counted as ignored.
    """

    def __init__(
        self,
        queue: FrameQueue,
        addresses: Mapping[str, int | None] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        merge: str = "all",
        channel_names: tuple[str, ...] | list[str] | None = None,
        name: str = "osc",
        on_control: Callable[[str, list[Any]], object] | None = None,
        size: int | None = None,
    ) -> None:
        spec = dict({DEFAULT_ADDRESS: None} if addresses is None else addresses)
        check_osc_settings(spec, merge)
        if size is not None:
            size = int(check_number("size", size, minimum=1, maximum=4096, integer=True))
            declared = sum(a or 0 for a in spec.values())
            if list(spec.values())[0] is None:
                if channel_names is not None and len(channel_names) != size:
                    channel_names = None  # names of another size: the size wins
                if channel_names is None:
                    channel_names = [f"in{i + 1}" for i in range(size)]
            elif declared != size:
                raise validation_error(
                    "size",
                    size,
                    f"{declared}, the total number of arguments of {list(spec)}",
                    "The project's input size must match its sensor's addresses.",
                )
        check_number(
            "port", port, minimum=0, maximum=65535, integer=True, hint="0 picks a free one."
        )
        arities = list(spec.values())
        if channel_names is None:
            channel_names = []
            if arities[0] is not None:
                for address, arity in spec.items():
                    stem = address.strip("/").replace("/", "_").replace("*", "any")
                    stem = stem.replace("{", "").replace("}", "").replace(",", "_or_")
                    channel_names += [f"{stem}_{i}" for i in range(arity or 0)]
        elif arities[0] is not None and len(channel_names) != sum(a or 0 for a in arities):
            raise validation_error(
                "channel_names",
                Described(f"{len(channel_names)} names"),
                f"{sum(a or 0 for a in arities)}, the total number of arguments of {list(spec)}",
                "Give one name per argument.",
            )
        super().__init__(queue, name=name, channel_names=channel_names)
        self.host = host
        self._requested_port = int(port)
        self.merge = merge
        self.addresses = spec
        self.on_control = on_control
        self._socket: socket.socket | None = None
        self.port = self._requested_port
        # Per data address: slot index; the frame layout is the concatenation of the slots.
        self._slots: dict[bytes, int] = {}
        self._patterns: list[tuple[re.Pattern[bytes], int]] = []
        self._offsets: list[tuple[int, int]] = []
        offset = 0
        for slot, (address, arity) in enumerate(spec.items()):
            pattern = _pattern(address)
            if pattern is None:
                self._slots[address.encode()] = slot
            else:
                self._patterns.append((pattern, slot))
            self._offsets.append((offset, arity or 0))
            offset += arity or 0
        self._single = len(spec) == 1
        self._latest = np.zeros(offset)
        self._all_parts = (1 << len(spec)) - 1
        self._parts = 0  # bit i set: slot i has sent since the last frame ("all") / ever
        # "latest" mode: the slots the bundle being read has filled since its last frame
        self._bundle_parts = 0
        self._unknown: set[bytes] = set()
        # Whether the datagram being read was already counted as bad (once per datagram).
        self._counted = False
        # a bundle's frames and control messages while it is read, in their order
        self._bundled: list[np.ndarray | bytes] | None = None
        self._datagram_t: float | None = None  # when the last datagram was read
        # The receive buffer (a datagram is read into it, never allocated).
        self._rx = np.zeros(_MAX_DATAGRAM, dtype=np.uint8)
        self._rx_bytes = memoryview(self._rx)
        #: ``compiled(rx, n, t) -> bool``: a handler given each datagram ``rx[:n]`` first (the
        #: engine's compiled frame path); True: it handled the frame, False: decoded here
        self.compiled: Callable[[np.ndarray, int, float], bool] | None = None

    # -- Source hooks -------------------------------------------------------------------------

    def _open(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            # Room for bursts while the thread is descheduled (capped by net.core.rmem_max).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            sock.bind((self.host, self._requested_port))
        except OSError as exc:
            sock.close()
            raise PortUnavailable(
                f"OSC port {self.host}:{self._requested_port}: cannot listen ({exc.strerror or exc}). "
                "Another program (Wekinator, another gesturemap) may be using it: close it, or "
                "choose another port (0 picks a free one)."
            ) from exc
        # Blocking: one system call per datagram (a timeout would add a poll before each
        # read); stop() wakes the read by shutting the socket down (_interrupt).
        sock.settimeout(None)
        self._socket = sock
        self.port = sock.getsockname()[1]
        self.stats.connected = True
        inode = os.fstat(sock.fileno()).st_ino
        self.stats.drops_reader = lambda: _kernel_drops(inode)

    def _interrupt(self) -> None:
        sock = self._socket
        if sock is not None:
            try:  # wakes a blocked read, which returns 0 bytes (Linux, even unconnected UDP)
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # "not connected" is raised, and the reader is woken all the same
            try:  # and where shutting down does not wake it: an empty datagram to itself
                host, port = sock.getsockname()[:2]
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as poke:
                    poke.sendto(b"", ("127.0.0.1" if host in ("0.0.0.0", "") else host, port))
            except OSError:
                pass

    def _close(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            _ = self.stats.kernel_drops  # the last count, kept once the socket is gone
            self.stats.drops_reader = None
            sock.close()

    def _step(self) -> None:
        sock = self._socket
        if sock is None:
            self._stopping.wait(0.05)
            return
        try:
            n = sock.recv_into(self._rx)
        except OSError:
            if self._stopping.is_set():
                return
            raise
        if n == 0 and self._stopping.is_set():
            return  # woken by stop() (_interrupt)
        t = time.perf_counter()
        previous, self._datagram_t = self._datagram_t, t
        stats = self.stats
        stats.packets_in += 1
        compiled = self.compiled
        if compiled is not None and compiled(self._rx, n, t):
            stats.count_frame(time.perf_counter() if self.sensor_clock else t)
            return
        data = self._rx_bytes[:n].tobytes()
        self._counted = False
        try:
            if data[:8] == _BUNDLE:
                self._bundled = []
                try:
                    self._bundle(data, t, 0)
                finally:
                    self._flush_bundle_frame(t)
                    self._enqueue_bundled(previous, t)
            else:
                self._message(data, t)
        except BadPacket as bad:
            self._bad(bad.kind, "%s: refused an OSC packet: %s", str(bad))
        except (ValueError, TypeError, IndexError, OverflowError, struct.error) as exc:
            if exc is self.exception:
                raise  # the control callback's, re-raised in GESTUREMAP_RAISE mode
            # Whatever a hostile datagram makes a parser raise is one bad packet, not an error.
            self._bad("malformed", "%s: refused an OSC packet: %s", f"{type(exc).__name__}: {exc}")

    def _enqueue(self, t: float, values: np.ndarray) -> None:
        if self._bundled is not None:  # a bundle's frames are timed together once it is read
            self._bundled.append(values)
        else:
            super()._enqueue(t, values)

    def _enqueue_bundled(self, previous: float | None, t: float) -> None:
        """The frames of the bundle just read at ``t``, their times spread since the datagram
        before, read at ``previous`` (:func:`~gesturemap.sources.base.spread_times`): a sender
        that bundles several sensor frames sampled them over that time, and a pipeline that
        uses time (a Derivative) needs their steps, not one shared time. Its control messages
        run in their place among them: a bundle of ``startRecording``, frames and
        ``stopRecording`` records those frames (a command takes effect after the frames
        queued before it)."""
        elements, self._bundled = self._bundled or [], None
        frames = sum(not isinstance(e, bytes) for e in elements)
        times = iter(spread_times(frames, previous, t))
        for element in elements:
            if isinstance(element, bytes):
                self._run_control(element)
            else:
                super()._enqueue(next(times), element)

    def _bad(self, kind: str, message: str, *args: Any) -> None:
        """Count the datagram being read as bad, once, and log at a limited rate."""
        if not self._counted:
            self._counted = True
            self.stats.bad_packets += 1
        # a packet's own text (its type tags, its address) can be 64 KB: a log line is not
        args = tuple(a if not isinstance(a, str) or len(a) <= _LOGGED_CHARS
                     else f"{a[:_LOGGED_CHARS]}… ({len(a):,} characters)" for a in args)
        self.stats.last_bad = (message, (self.name, *args))
        self._log(kind, message, self.name, *args)

    # -- decoding -----------------------------------------------------------------------------

    def _bundle(self, data: bytes, t: float, depth: int) -> None:
        if depth >= _MAX_BUNDLE_DEPTH:
            raise BadPacket("malformed", "bundles nested too deep")
        index = 16  # "#bundle\0" + 8-byte time tag
        size = len(data)
        if size < index:
            raise BadPacket("truncated", "bundle shorter than its header")
        while index < size:
            if index + 4 > size:
                raise BadPacket("truncated", "bundle element size cut off")
            length = int.from_bytes(data[index : index + 4], "big", signed=True)
            index += 4
            if length <= 0 or length % 4 or index + length > size:
                raise BadPacket("truncated", f"bundle element of {length} bytes does not fit")
            element = data[index : index + length]
            index += length
            try:
                if element[:8] == _BUNDLE:
                    self._bundle(element, t, depth + 1)
                else:
                    self._message(element, t)
            except BadPacket as bad:
                # One bad element does not spoil the others.
                self._bad(bad.kind, "%s: refused an OSC bundle element: %s", str(bad))

    def _message(self, data: bytes, t: float) -> None:
        address, start = _split_address(data)
        slot = self._slots.get(address)
        if slot is None:
            slot = self._resolve(address, data)
            if slot is None:
                return
        args = _decode_arguments(data, start)
        if self._single:
            self._emit(t, args)
            return
        offset, arity = self._offsets[slot]
        if len(args) != arity:
            raise BadPacket(
                "arity",
                f"{address.decode('ascii', 'replace')} carried {len(args)} values; expected {arity}",
            )
        # Checked before they enter the merged frame: a NaN must not linger in "latest" mode.
        if not self._plausible(args):
            return
        latest = self._latest
        bit = 1 << slot
        if self._bundled is not None and self.merge == "latest":
            # A bundle is one update of all the sender's sensors: a frame per message would
            # double the rate and pair each new value with the other sensors' stale ones.
            if self._bundle_parts & bit:  # the next update of a sender that bundles several
                self._flush_bundle_frame(t)
            latest[offset : offset + arity] = args
            self._parts |= bit
            self._bundle_parts |= bit
            return
        latest[offset : offset + arity] = args
        self._parts |= bit
        if self._parts == self._all_parts:
            if self.merge == "all":
                self._parts = 0
            self._enqueue(t, latest.copy())

    def _flush_bundle_frame(self, t: float) -> None:
        """The frame of the bundle's messages read since its last one ("latest" mode), once
        every address has sent."""
        filled, self._bundle_parts = self._bundle_parts, 0
        if filled and self._parts == self._all_parts:
            self._enqueue(t, self._latest.copy())

    def _resolve(self, address: bytes, data: bytes) -> int | None:
        """Slot of an address not seen before (wildcards), or handle a control/unknown message."""
        if address.startswith(_CONTROL_PREFIX) or address in GESTUREMAP_CONTROL:
            self._control(data)
            return None
        if address not in self._unknown:
            for pattern, slot in self._patterns:
                if pattern.match(address):
                    if len(self._slots) < _CACHE_LIMIT:
                        self._slots[address] = slot
                    return slot
            if len(self._unknown) < _CACHE_LIMIT:
                self._unknown.add(address)
        if address.startswith(GESTUREMAP_PREFIX):  # a verb mistyped: the callback says so
            self._control(data)
            return None
        stats = self.stats
        stats.ignored += 1
        if stats.ignored == UNHEARD_SAID_AFTER and stats.frames_in == 0:
            self._say_unheard()
        return None

    def _say_unheard(self) -> None:
        """Messages keep coming, none to an address this source reads: said once, with what
        does come (a phone app that names its messages otherwise than the profile, an
        Android build of an app whose profile was written for iOS), where only the
        ``ignored`` counter moved before and the performer saw nothing at all."""
        came = sorted(a.decode("ascii", "replace") for a in self._unknown)
        shown = ", ".join(came[:6]) + (f" and {len(came) - 6} more" if len(came) > 6 else "")
        self._log("unheard", "%s: %d OSC messages came and none to an address it reads: they "
                  "went to %s; it reads %s. Check the sender's addresses, or copy the profile "
                  "and give it those (sensors/README.md)", self.name,
                  UNHEARD_SAID_AFTER, shown or "addresses it stopped keeping",
                  ", ".join(self.addresses))

    def _control(self, data: bytes) -> None:
        if self._bundled is not None:  # run once the bundle's frames before it are queued
            self._flush_bundle_frame(0.0)  # the values sent before it are a frame before it
            self._bundled.append(data)
            return
        self._run_control(data)

    def _run_control(self, data: bytes) -> None:
        callback = self.on_control
        if callback is None:
            self.stats.ignored += 1
            return
        address, args = decode_control(data)
        self.stats.control_messages += 1
        try:
            callback(address, args)
        except Exception as exc:  # noqa: BLE001 - the callback's failure is not the packet's
            self.stats.errors += 1
            self.exception = exc
            self._log(
                f"control:{type(exc).__name__}",
                "%s: the control callback failed on %s: %s",
                self.name,
                address,
                exc,
                level=logging.ERROR,
            )
            if raise_mode():
                raise


def check_osc_settings(addresses: Mapping[str, int | None], merge: str = "all") -> None:
    """Refuse address tables and merge modes :class:`OSCSource` cannot use.

    Also used by profile loading.

    Raises
    ------
    GesturemapError
        Naming the address at fault, the value received and what is accepted.
    """
    if not addresses:
        raise validation_error("addresses", addresses, "at least one address")
    for address, arity in addresses.items():
        if not isinstance(address, str) or not address.startswith("/") or not address.isascii():
            raise validation_error("addresses", address, "an ASCII OSC address starting with '/'")
        if not _braces_balanced(address):
            raise validation_error("addresses", address, "braces in pairs, not nested",
                                   "{a,b} matches either a or b, e.g. /{ZIGSIM/*,*}/accel.")
        if address.startswith(CONTROL_PREFIX):
            raise validation_error(
                "addresses",
                address,
                f"an address outside {CONTROL_PREFIX}",
                "That prefix is reserved for Wekinator control messages.",
            )
        if arity is None:
            if len(addresses) > 1:
                raise validation_error(
                    f"addresses[{address!r}]",
                    None,
                    "its number of arguments (arity)",
                    "With several addresses each needs one, to place it in the frame.",
                )
        else:
            check_number(f"addresses[{address!r}]", arity, minimum=1, maximum=4096, integer=True)
    check_choice("merge", merge, ("all", "latest"))


def _braces_balanced(address: str) -> bool:
    inside = False
    for char in address:
        if char == "{":
            if inside:
                return False
            inside = True
        elif char == "}":
            if not inside:
                return False
            inside = False
    return not inside
