"""OSC input over UDP: Wekinator's ``/wek/inputs`` by default, or any sensor app's addresses.

One thread reads a plain UDP socket and decodes each datagram itself. Data messages (numeric
arguments only) are decoded by a small parser with one cached :class:`struct.Struct` per type-tag
string: about six times faster than python-osc's general parser, and it refuses strings, blobs
and the other non-numeric types before building anything (``benchmarks/bench_sources.py``
compares both). Wekinator control messages, which may carry strings, are rare and go through
python-osc's own :class:`~pythonosc.osc_message.OscMessage`.

The OSC 1.0 encoding read here: an address (ASCII, NUL-terminated, padded to 4 bytes), a
type-tag string (``,`` then one letter per argument, NUL-terminated, padded), then the
arguments, big-endian: ``i`` int32, ``h`` int64, ``f`` float32, ``d`` float64; ``T`` / ``F``
(true / false) carry no bytes. A bundle is ``#bundle\\0``, an 8-byte time tag, then elements
each preceded by its int32 size. Time tags are ignored: frames are handled when they arrive.
"""

from __future__ import annotations

import re
import socket
import struct
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message import ParseError as OscParseError

from .._io import Described, check_choice, check_number, validation_error
from ..errors import GesturemapError
from .base import FrameQueue, Source

__all__ = [
    "CONTROL_PREFIX",
    "DEFAULT_ADDRESS",
    "DEFAULT_PORT",
    "BadPacket",
    "OSCSource",
    "check_osc_settings",
    "decode_message",
]

#: Wekinator's input port and address.
DEFAULT_PORT = 6448
DEFAULT_ADDRESS = "/wek/inputs"
#: Messages under this prefix go to the control callback (Wekinator's control protocol).
CONTROL_PREFIX = "/wekinator/control/"

_CONTROL_PREFIX = CONTROL_PREFIX.encode()
#: gesturemap's own control messages, also passed to the control callback (not data).
_GESTUREMAP_CONTROL = frozenset({b"/gesturemap/reset"})
_BUNDLE = b"#bundle\0"
_MAX_BUNDLE_DEPTH = 8
_MAX_DATAGRAM = 65536
_CACHE_LIMIT = 512

# Type tags a data message may carry: struct codes for the ones with bytes, values for T/F.
_TAG_STRUCT = {ord("i"): "i", ord("h"): "q", ord("f"): "f", ord("d"): "d"}
_TAG_CONSTANT = {ord("T"): 1, ord("F"): 0}


class BadPacket(Exception):
    """A datagram or bundle element that is not a well-formed numeric OSC message."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


def _compile_tags(tags: bytes) -> tuple[struct.Struct, tuple[tuple[int, int], ...]]:
    """The decoder for one type-tag string: a big-endian Struct plus the T/F constants."""
    codes = [">"]
    constants = []
    for position, tag in enumerate(tags):
        code = _TAG_STRUCT.get(tag)
        if code is not None:
            codes.append(code)
        elif tag in _TAG_CONSTANT:
            constants.append((position, _TAG_CONSTANT[tag]))
        else:
            raise BadPacket("type", f"argument type {chr(tag)!r} is not numeric")
    return struct.Struct("".join(codes)), tuple(constants)


_decoders: dict[bytes, tuple[struct.Struct, tuple[tuple[int, int], ...]]] = {}


def decode_message(data: bytes) -> tuple[bytes, tuple[float | int, ...]]:
    """Decode an OSC message whose arguments are all numeric.

    Parameters
    ----------
    data : bytes
        One OSC message (not a bundle).

    Returns
    -------
    address : bytes
        The address, undecoded.
    args : tuple of int or float
        The arguments; ``T`` and ``F`` become 1 and 0.

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


def _decode_arguments(data: bytes, start: int) -> tuple[float | int, ...]:
    """The numeric arguments of a message whose type-tag string starts at ``start``."""
    size = len(data)
    if start >= size:
        return ()
    if data[start] != 44:  # ","
        raise BadPacket("malformed", "no type-tag string after the address")
    tags_end = data.find(0, start)
    if tags_end < 0:
        raise BadPacket("truncated", "type-tag string not terminated")
    tags = data[start + 1 : tags_end]
    decoder = _decoders.get(tags)
    if decoder is None:
        decoder = _compile_tags(tags)
        if len(_decoders) < _CACHE_LIMIT:
            _decoders[tags] = decoder
    layout, constants = decoder
    offset = (tags_end + 4) & ~3
    if offset + layout.size != size:
        raise BadPacket(
            "truncated" if offset + layout.size > size else "malformed",
            f"{size - offset} bytes of arguments for type tags {tags.decode('ascii', 'replace')!r}",
        )
    args = layout.unpack_from(data, offset)
    if constants:
        listed = list(args)
        for position, value in constants:
            listed.insert(position, value)
        args = tuple(listed)
    return args


def _pattern(address: str) -> re.Pattern[bytes] | None:
    """A regex for an address with OSC wildcards (``*``, ``?``) in it; None for a plain one."""
    if "*" not in address and "?" not in address:
        return None
    parts = []
    for char in address:
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts).encode() + rb"\Z")


class OSCSource(Source):
    """Frames from OSC messages on a UDP port.

    Parameters
    ----------
    queue : FrameQueue
        Where frames go.
    addresses : mapping of str to int or None, default {"/wek/inputs": None}
        The addresses that carry data, in channel order, each with its number of arguments.
        ``None`` (only when there is a single address) accepts any size: the first valid
        message fixes it. An address may use OSC wildcards in a segment, e.g.
        ``/ZIGSIM/*/accel`` for an app that puts a device id in its addresses.
    host : str, default "127.0.0.1"
        The interface to listen on; ``"0.0.0.0"`` opens the port to the network.
    port : int, default 6448
        The UDP port (Wekinator's); 0 picks a free one, read it back from :attr:`port`.
    merge : {"all", "latest"}, default "all"
        With several addresses: ``"all"`` emits one frame once every address has sent since the
        last frame; ``"latest"`` emits a frame on every message, with the latest values of the
        other addresses (once each has sent at least once).
    channel_names : sequence of str, optional
        One per value of the whole frame; by default ``<address>_<i>``, or ``in1``... when
        the size is learned from the first message.
    name : str, default "osc"
    on_control : callable, optional
        Called as ``on_control(address, args)`` from the source's thread for every message
        under ``/wekinator/control/`` and for ``/gesturemap/reset``; ``args`` is a list
        (strings allowed). Keep it short:
        it runs on the receiving thread. Without it, such messages are counted as ignored.

    Notes
    -----
    A message to a data address with the wrong number of arguments, a non-numeric argument,
    NaN, infinity or a magnitude above 1e12 is a bad packet, as is any datagram that does not
    parse. A well-formed message to another address is counted as ignored.
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
    ) -> None:
        spec = dict({DEFAULT_ADDRESS: None} if addresses is None else addresses)
        check_osc_settings(spec, merge)
        check_number(
            "port", port, minimum=0, maximum=65535, integer=True, hint="0 picks a free one."
        )
        arities = list(spec.values())
        if channel_names is None:
            channel_names = []
            if arities[0] is not None:
                for address, arity in spec.items():
                    stem = address.strip("/").replace("/", "_").replace("*", "any")
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
        self._unknown: set[bytes] = set()

    # -- Source hooks -------------------------------------------------------------------------

    def _open(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            # Room for bursts while the thread is descheduled (capped by net.core.rmem_max).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            sock.bind((self.host, self._requested_port))
        except OSError as exc:
            sock.close()
            raise GesturemapError(
                f"OSC port {self.host}:{self._requested_port}: cannot listen ({exc.strerror or exc}). "
                "Another program (Wekinator, another gesturemap) may be using it: close it, or "
                "choose another port (0 picks a free one)."
            ) from exc
        # The timeout only bounds how long stop() waits; a waiting datagram is read at once.
        sock.settimeout(0.1)
        self._socket = sock
        self.port = sock.getsockname()[1]
        self.stats.connected = True

    def _close(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()

    def _step(self) -> None:
        sock = self._socket
        if sock is None:
            self._stopping.wait(0.05)
            return
        try:
            data = sock.recv(_MAX_DATAGRAM)
        except TimeoutError:
            return
        except OSError:
            if self._stopping.is_set():
                return
            raise
        t = time.perf_counter()
        self.stats.packets_in += 1
        try:
            if data[:8] == _BUNDLE:
                self._bundle(data, t, 0)
            else:
                self._message(data, t)
        except BadPacket as bad:
            self._bad(bad.kind, "%s: refused an OSC packet: %s", str(bad))

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
        latest[offset : offset + arity] = args
        self._parts |= 1 << slot
        if self._parts == self._all_parts:
            if self.merge == "all":
                self._parts = 0
            self._enqueue(t, latest.copy())

    def _resolve(self, address: bytes, data: bytes) -> int | None:
        """Slot of an address not seen before (wildcards), or handle a control/unknown message."""
        if address.startswith(_CONTROL_PREFIX) or address in _GESTUREMAP_CONTROL:
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
        self.stats.ignored += 1
        return None

    def _control(self, data: bytes) -> None:
        callback = self.on_control
        if callback is None:
            self.stats.ignored += 1
            return
        try:
            message = OscMessage(data)
        except OscParseError as exc:
            raise BadPacket("malformed", f"control message: {exc}") from None
        self.stats.control_messages += 1
        callback(message.address, message.params)


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
