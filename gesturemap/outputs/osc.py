"""OSC output: what Wekinator sends (``/wek/outputs``, ``done-training``), and gesturemap's
richer messages where the project asks for them.

By default the output port carries exactly what Wekinator would send: some clients count every
message they receive as a reply, others log an error for each address they do not know.
gesturemap's own messages (label, likelihoods, progress, regression values, variance, GVF's
estimates, spotted events) are the project's choice (``outputs.extras``): ``true`` sends them
to the same host and port after ``/wek/outputs``, ``{"port": P}`` (and optionally ``"host"``,
an address or a name, looked up as the outputs' host is) sends them on a port of their own; an address named in ``outputs.addresses`` turns that one
message on by itself.

The socket never blocks: a datagram the kernel cannot take at once is counted and dropped (the
next frame brings fresh values anyway). The host is an IPv4 or IPv6 address (``::1`` or
``[::1]``: the socket's family follows it) or a name. A host given by name is looked up once, on a thread of
its own, never per frame: sending to a name would ask the resolver (``/etc/hosts``, then DNS)
on every datagram, and a DNS server that does not answer would hold the frame path for
seconds. Until the name resolves, datagrams are counted in ``send_errors`` and dropped; a name
that does not resolve is tried again every :data:`RESOLVE_RETRY_S` seconds. A socket is bound to
the interface that reaches its host; when sends fail because that interface no longer does
(the network came up after the output opened, the machine's address changed), the route is
looked up again on a thread, every :data:`RESOLVE_RETRY_S` seconds until there is one, and
the datagrams leave by it from then on. Messages are encoded
by hand, with the address and type tags cached, because python-osc's builder costs tens of
microseconds per message.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import math
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import GesturemapError
from ..utils.validation import check_mapping, check_number, check_text, validation_error
from .rejection import below
from .rejection import rejected as is_rejected

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 12000
#: A string argument longer than this (bytes) is cut (a notice must fit a datagram).
MAX_TEXT_BYTES = 1000
#: Seconds between two warnings that a host name still does not resolve.
RESOLVE_REMIND_S = 60.0

#: Seconds between two attempts to look up a host name that did not resolve.
RESOLVE_RETRY_S = 2.0

log = logging.getLogger("gesturemap.outputs.osc")

#: Default addresses. Every one can be changed (``None`` turns a message off).
DEFAULT_ADDRESSES = {
    "outputs": "/wek/outputs",
    "status": "/wekinator/status/done-training",
    "label": "/gesturemap/label",
    "likelihoods": "/gesturemap/likelihoods",
    "progress": "/gesturemap/progress",
    # how the gesture is performed (GVF): per class speed; scale (C x D_in) and rotation
    # (C x R) flattened row by row
    "speed": "/gesturemap/speed",
    "scale": "/gesturemap/scale",
    "rotation": "/gesturemap/rotation",
    "regression": "/gesturemap/regression",
    "variance": "/gesturemap/variance",
    "event": "/gesturemap/event",
    # what the engine refused (command, why) and a retraining that failed (why): rare, and
    # the only way a performer without the window hears of them
    "refused": "/gesturemap/refused",
    "training_failed": "/gesturemap/training_failed",
    "take_stopped": "/gesturemap/take_stopped",  # a take that reached its bound (why)
    "take_gap": "/gesturemap/take_gap",  # a take recorded while its sensor was away (id, why)
    # the project's folder could not be written (what, folder, why): kept in memory, retried
    "save_failed": "/gesturemap/save_failed",
    # the answer to /gesturemap/suggest (label, hint, reason): sent only when asked for
    "suggestion": "/gesturemap/suggestion",
}
#: The messages Wekinator itself sends: on by default.
WEKINATOR_KEYS = ("outputs", "status")
#: Answers to a request of the client's own: on by default (a Wekinator client never asks).
REPLY_KEYS = ("suggestion",)
#: gesturemap's own messages: off unless the project asks (``extras``, or an address named).
EXTRA_KEYS = tuple(k for k in DEFAULT_ADDRESSES if k not in WEKINATOR_KEYS + REPLY_KEYS)


#: "#bundle", then the time tag 1 ("immediately").
_BUNDLE_HEAD = b"#bundle\0" + struct.pack(">Q", 1)
_SIZE = struct.Struct(">i")


def _pad(b: bytes) -> bytes:
    return b + b"\0" * (4 - len(b) % 4)


def _text_bytes(text: Any) -> bytes:
    """A string argument's bytes: UTF-8 (a character it cannot encode, such as a lone
    surrogate from a hand-edited JSON file, replaced rather than raised on the frame path), a
    NUL byte as a space (it would end the string early and shift every argument after it: a
    class's number read from the label's tail), cut to :data:`MAX_TEXT_BYTES` at a character's
    boundary (a label of 70,000 characters made every frame's datagram too large to send)."""
    raw = str(text).encode("utf-8", "replace").replace(b"\0", b" ")
    if len(raw) > MAX_TEXT_BYTES:
        raw = raw[:MAX_TEXT_BYTES].decode("utf-8", "ignore").encode()
    return raw


class MessageEncoder:
    """Encodes OSC messages of floats (and one leading string) with cached headers."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int, bool], tuple[bytes, struct.Struct]] = {}

    def floats(self, address: str, values: Any, text: str | None = None) -> bytes:
        vals = values.tolist() if isinstance(values, np.ndarray) else list(values)
        key = (address, len(vals), text is not None)
        hit = self._cache.get(key)
        if hit is None:
            tags = "," + ("s" if text is not None else "") + "f" * len(vals)
            hit = (_pad(address.encode()) + _pad(tags.encode()), struct.Struct(f">{len(vals)}f"))
            self._cache[key] = hit
        head, packer = hit
        try:
            body = packer.pack(*vals)
        except (OverflowError, struct.error):  # beyond float32: clip (NaN never gets here)
            body = packer.pack(*np.clip(np.asarray(vals, dtype=np.float64), -3.4e38, 3.4e38))
        if text is not None:
            return head + _pad(_text_bytes(text)) + body
        return head + body


@dataclass
class OutputScale:
    """Per-output smoothing and scaling: ``out_min + (v - in_min) / (in_max - in_min) *
    (out_max - out_min)``, clipped to the output range when ``clip``; then a one-pole
    smoothing with coefficient ``smoothing`` (0 = none, 0.9 = heavy)."""

    in_min: float = 0.0
    in_max: float = 1.0
    out_min: float = 0.0
    out_max: float = 1.0
    clip: bool = True
    smoothing: float = 0.0
    integer: bool = False

    def __post_init__(self) -> None:
        for name in ("in_min", "in_max", "out_min", "out_max"):
            check_number(f"OutputScale.{name}", getattr(self, name))
        if self.in_max == self.in_min:
            raise validation_error("OutputScale.in_max", self.in_max, "different from in_min")
        check_number("OutputScale.smoothing", self.smoothing, minimum=0.0, maximum=0.999)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class OSCOutputSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    addresses: dict[str, str | None] = field(default_factory=lambda: dict(DEFAULT_ADDRESSES))
    scales: list[dict[str, Any]] = field(default_factory=list)  # one OutputScale per output
    #: a classifier whose likeliest class's likelihood is below this sends class 0 ("none
    #: of them") on /wek/outputs and an empty label; 0 = never. The one rejection setting of
    #: the project: MIDI, the synth and the window follow it too (:mod:`.rejection`)
    reject_below: float = 0.0
    #: a DTW gesture's own OSC message, sent (without arguments) when it starts matching, by
    #: class number as text (Wekinator's gestureOscMessages); default ``/output_N``
    gesture_messages: dict[str, str] = field(default_factory=dict)
    #: where gesturemap's own messages go: None (the host and port above, after
    #: /wek/outputs) or (host, port) of their own; which are sent: ``addresses``
    extras_target: tuple[str, int] | None = None
    #: Wekinator's number of each named class where it is not the class's place in the sorted
    #: labels (an imported DTW project's gesture names: data.class_numbers)
    class_numbers: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> OSCOutputSettings:
        known = {"host", "port", "addresses", "scales", "reject_below", "gesture_messages",
                 "extras", "class_numbers"}
        # the synth's mapping, the MIDI and LSL outputs' settings live beside
        d = check_mapping("outputs", d, known | {"task", "synth", "midi", "lsl"})
        port = check_number("outputs.port", d.get("port", DEFAULT_PORT), minimum=1,
                            maximum=65535, integer=True)
        host = check_text("outputs.host", d.get("host", DEFAULT_HOST),
                          "a host name or address, e.g. 127.0.0.1") or DEFAULT_HOST
        extras, target = _extras(d.get("extras"), host)
        given = check_mapping("outputs.addresses", d.get("addresses"),
                              what='messages and their OSC addresses (null: not sent), e.g. '
                                   '{"label": "/my/label"}')
        addresses = {k: (v if k in WEKINATOR_KEYS + REPLY_KEYS or extras else None)
                     for k, v in DEFAULT_ADDRESSES.items()}
        addresses.update(given)
        for k, v in addresses.items():
            if v is not None and (not isinstance(v, str) or not v.startswith("/")):
                raise validation_error(f"outputs.addresses.{k}", v, "an OSC address like /a/b")
        reject = check_number("outputs.reject_below", d.get("reject_below", 0.0), minimum=0.0,
                              maximum=1.0)
        gestures = d.get("gesture_messages") or {}
        if not isinstance(gestures, dict) or not all(
                isinstance(v, str) and v.startswith("/") for v in gestures.values()):
            raise validation_error("outputs.gesture_messages", gestures,
                                   "a dict {class number: OSC address like /output_1}")
        numbers = d.get("class_numbers") or {}
        if not isinstance(numbers, dict) or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1
                for v in numbers.values()) or len(set(numbers.values())) != len(numbers):
            raise validation_error("outputs.class_numbers", numbers,
                                   "a dict {class name: its Wekinator number, 1, 2...}, "
                                   "each number once")
        return cls(host, int(port), addresses, _scales(d.get("scales")), float(reject),
                   {str(k): v for k, v in gestures.items()}, target,
                   {str(k): int(v) for k, v in numbers.items()})

    @property
    def extras_on(self) -> list[str]:
        """gesturemap's own messages this output sends (their keys in ``addresses``)."""
        return [k for k in EXTRA_KEYS if self.addresses.get(k)]


def _scales(value: Any) -> list[dict[str, Any]]:
    """``outputs.scales`` checked: one dict of :class:`OutputScale` fields per output, each
    refused here, naming its place in the list, rather than by the first frame sent."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise validation_error("outputs.scales", value,
                               "a list with one dict of scaling settings per output, e.g. "
                               '[{"in_min": 0, "in_max": 1, "out_min": 0, "out_max": 127}]')
    out = []
    for i, entry in enumerate(value):
        where = f"outputs.scales[{i}]"
        scale = check_mapping(where, entry, OutputScale.__dataclass_fields__, "scaling settings")
        for key, given in scale.items():
            if key in ("clip", "integer"):
                if not isinstance(given, bool):
                    raise validation_error(f"{where}.{key}", given, "true or false")
            elif key == "smoothing":
                check_number(f"{where}.smoothing", given, minimum=0.0, maximum=0.999)
            else:
                check_number(f"{where}.{key}", given)
        try:
            OutputScale(**scale)  # what is left: in_min and in_max the same
        except GesturemapError as error:
            raise GesturemapError(f"{where}: {error}") from None
        out.append(scale)
    return out


def _extras(value: Any, host: str) -> tuple[bool, tuple[str, int] | None]:
    """``outputs.extras`` checked: (gesturemap's own messages on, their own (host, port) or
    None for the outputs' own)."""
    if value is None or isinstance(value, bool):
        return bool(value), None
    if isinstance(value, dict) and set(value) <= {"host", "port"} and "port" in value:
        port = check_number("outputs.extras.port", value["port"], minimum=1, maximum=65535,
                            integer=True)
        return True, (str(value.get("host", host)), int(port))
    raise validation_error("outputs.extras", value, 'true, false, or {"port": P} (optionally '
                           '"host") for gesturemap\'s own messages on a port of their own')


def sending_socket(host: str, port: int) -> socket.socket:
    """A non-blocking UDP socket bound to the interface that reaches ``host`` (never 0.0.0.0).

    ``host`` is a numeric address, IPv4 or IPv6 (the socket's family follows it). An unbound
    socket that sends is bound by the OS to every interface: it would take datagrams from the
    whole network on its port. Bound to the one address that reaches ``host`` (127.0.0.1, or
    ::1, for this machine), it listens nowhere else. With no route to ``host`` now (the
    network not up yet) it is bound to the loopback address, and its sends fail until a
    :class:`_Route` binds a new one.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    loopback = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    local = local_address(host, port) or loopback
    sock = socket.socket(family, socket.SOCK_DGRAM)
    _allow_broadcast(sock)
    try:
        sock.bind((local, 0))
    except OSError:
        try:
            sock.bind((loopback, 0))
        except OSError:  # no IPv6 loopback on this machine: sends fail and are counted
            pass
    sock.setblocking(False)
    return sock


def local_address(host: str, port: int) -> str | None:
    """The address of this machine's interface that reaches the numeric ``host`` now, or None
    (no route to it: the network is down, the cable out). Asks the routing table only: a
    probe socket connected, nothing sent."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            _allow_broadcast(probe)
            probe.connect((host, port))  # chooses the route; sends nothing
            return str(probe.getsockname()[0])
    except OSError:
        return None


def _allow_broadcast(sock: socket.socket) -> None:
    """Let ``sock`` send to a broadcast address (192.168.1.255: every machine of a network,
    as Wekinator setups often send): without SO_BROADCAST the kernel refuses each datagram."""
    if sock.family == socket.AF_INET:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)


def _numeric_host(host: str) -> str | None:
    """``host`` as an IP address, v4 or v6 (``[::1]`` as a URL writes it too), without asking
    any resolver ("localhost" included), else None."""
    if host == "localhost":
        return "127.0.0.1"
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _resolve(host: str, port: int) -> str | None:
    """The address of ``host`` (a name: asks the resolver, may take seconds), IPv4 where it
    has one, else IPv6; or None."""
    try:
        infos = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_DGRAM)
    except (OSError, UnicodeError):
        return None
    infos.sort(key=lambda info: info[0] != socket.AF_INET)  # IPv4 first (stable otherwise)
    return str(infos[0][4][0]) if infos else None


#: The errors of a send from a socket bound to an address that no longer reaches its target
#: (the network was down as the output opened, the machine's address changed since): the
#: route is looked up again, off the frame path.
_ROUTE_ERRORS = frozenset({errno.EINVAL, errno.EADDRNOTAVAIL, errno.ENETUNREACH})


def _bound_address(sock: socket.socket) -> str | None:
    try:
        return str(sock.getsockname()[0])
    except OSError:  # closed meanwhile (the output closed, or replaced its socket)
        return None


class _Route:
    """One destination: a host (an address, or a name looked up on a thread of its own until
    it resolves or ``closed`` is set) and a port, with the socket that reaches it.

    The frame path reads :attr:`target` (None until a name resolves), then :attr:`sock`; the
    lookup thread replaces the socket before it sets the target, so a frame that reads the new
    target sends on the new socket (one that read the old socket as it closed fails, counted).

    A socket bound where no route to the target was (the network came up after the output
    opened) or whose address the machine lost fails every send: a failure of that kind
    (:data:`_ROUTE_ERRORS`) wakes a thread that binds a socket where the route is now, at
    most every :data:`RESOLVE_RETRY_S` seconds, and keeps trying while there is none.
    """

    def __init__(self, host: str, port: int, closed: threading.Event, what: str) -> None:
        self.host, self.port, self._closed, self._what = host, port, closed, what
        self._rerouting = False
        self._rerouted_at = -math.inf
        numeric = _numeric_host(host)
        if numeric is not None:
            self.target: tuple[str, int] | None = (numeric, port)
            self.sock = sending_socket(numeric, port)
        else:  # a name: the frame path sends nothing until it resolves
            self.target = None
            self.sock = sending_socket("127.0.0.1", port)
            self._start(self._resolve_name, "resolve")

    def _start(self, work: Any, what: str) -> None:
        threading.Thread(target=work, name=f"gesturemap-osc-out-{what}", daemon=True).start()

    def close(self) -> None:
        self.sock.close()

    def failed(self, error: OSError) -> None:
        """A send failed with ``error`` (frame path: a check, and at most every
        :data:`RESOLVE_RETRY_S` seconds a thread started)."""
        if error.errno not in _ROUTE_ERRORS or self._rerouting or self.target is None:
            return
        now = time.monotonic()
        if now - self._rerouted_at < RESOLVE_RETRY_S:
            return
        self._rerouting, self._rerouted_at = True, now
        self._start(self._reroute, "route")

    def _resolve_name(self) -> None:
        """Look the host name up (off the frame path) until it resolves or the output closes."""
        host, port = self.host, self.port
        tries, said_at = 0, None
        while not self._closed.is_set():
            address = _resolve(host, port)
            if address is not None:
                self._use(address, port)
                log.info("%s: %s is %s", self._what, host, address)
                return
            # said once, then reminded now and then: a line every few seconds for the whole
            # show buried whatever else the terminal had to say
            tries += 1
            now = time.monotonic()
            if said_at is None:
                log.warning("%s: cannot resolve %r; trying again every %.0f s (what is sent "
                            "meanwhile is counted and dropped)", self._what, host,
                            RESOLVE_RETRY_S)
                said_at = now
            elif now - said_at >= RESOLVE_REMIND_S:
                log.warning("%s: still cannot resolve %r (%d tries)", self._what, host, tries)
                said_at = now
            self._closed.wait(RESOLVE_RETRY_S)

    def _reroute(self) -> None:
        """Bind a socket where the route to the target is now, waiting for one while there
        is none (off the frame path)."""
        try:
            said = False
            while not self._closed.is_set() and self.target is not None:
                address, port = self.target
                local = local_address(address, port)
                if local is not None:
                    if local != _bound_address(self.sock):
                        self._use(address, port)
                        log.info("%s: sending to %s from %s now", self._what, address, local)
                    return
                if not said:
                    log.warning("%s: no route to %s; trying again every %.0f s", self._what,
                                address, RESOLVE_RETRY_S)
                    said = True
                self._closed.wait(RESOLVE_RETRY_S)
        finally:
            self._rerouting = False

    def _use(self, address: str, port: int) -> None:
        """Send to ``address`` on a socket of its route from the next datagram on."""
        sock = sending_socket(address, port)
        if self._closed.is_set():
            sock.close()
            return
        old, self.sock = self.sock, sock
        self.target = (address, port)  # from here on the frame path sends to it
        old.close()


class OSCOutput:
    """Sends a model's results over UDP; the engine calls :meth:`send` once per frame.

    Its socket is bound to the interface that reaches the target (:func:`sending_socket`).
    A host name is looked up on a thread of its own (see the module docstring).
    """

    def __init__(self, settings: OSCOutputSettings | dict[str, Any] | None = None) -> None:
        if not isinstance(settings, OSCOutputSettings):
            settings = OSCOutputSettings.from_dict(settings)
        self.settings = settings
        self.addresses = settings.addresses
        self._closed = threading.Event()
        self._main = _Route(settings.host, settings.port, self._closed, "OSC out")
        # gesturemap's own messages on a port of their own: the outputs' own socket and
        # (resolved) address when they go to the outputs' host, else a route of their own (an
        # address, or a name looked up as the outputs' host is)
        self._extra_port: int | None = None
        self._extra: _Route | None = None
        if settings.extras_target is not None:
            xhost, xport = settings.extras_target
            if xhost == settings.host:
                self._extra_port = xport
            else:
                self._extra = _Route(xhost, xport, self._closed, "OSC out (extras)")
        self._enc = MessageEncoder()
        self._scales = [OutputScale(**s) for s in settings.scales]
        self._smoothed: np.ndarray | None = None
        # a classifier's frame, encoded from templates (see _send_class): per class and shape,
        # the /wek/outputs datagram and the bundle's fixed bytes around the float runs
        self._templates: dict[tuple[Any, ...], tuple[bytes, bytes, struct.Struct, bytes,
                                                      struct.Struct | None]] = {}
        a = self.addresses
        #: whether a classifier's frame follows /wek/outputs with a bundle (label and
        #: likelihoods, and progress where the model gives it)
        self._bundle = bool(a.get("label") and a.get("likelihoods"))
        # a classifier's frame from templates: /wek/outputs alone, or with the full bundle
        self._fast = bool(a.get("outputs")) and (self._bundle or not (
            a.get("label") or a.get("likelihoods") or a.get("progress")))
        self.sent = 0
        self.send_errors = 0
        #: Wekinator's outputs whose model does not run (``disableModelRunning``): None, or one
        #: value per output of ``/wek/outputs``, NaN where the model's value is sent and the
        #: value held elsewhere (set by the engine; read once per frame, replaced whole)
        self.held: np.ndarray | None = None
        #: the values of the last ``/wek/outputs`` sent by :meth:`send` (the regression's, a
        #: classifier's class number), for an output to hold when its model stops running
        self.last_values: np.ndarray | None = None

    def close(self) -> None:
        self._closed.set()
        self._main.close()
        if self._extra is not None:
            self._extra.close()

    @property
    def _sock(self) -> socket.socket:
        """The socket the outputs leave from."""
        return self._main.sock

    def _send(self, data: bytes) -> None:
        self._send_to(self._main, data)

    def _send_to(self, route: _Route, data: bytes, port: int | None = None) -> None:
        target = route.target
        if target is None:  # a host name not resolved (yet)
            self.send_errors += 1
            return
        try:
            route.sock.sendto(data, target if port is None else (target[0], port))
            self.sent += 1
        except OSError as error:  # full buffer, unreachable port: drop, count, go on
            self.send_errors += 1
            route.failed(error)

    def _send_extra(self, data: bytes) -> None:
        """gesturemap's own message(s): after /wek/outputs, or on their own port."""
        if self._extra_port is not None:
            self._send_to(self._main, data, self._extra_port)
        elif self._extra is not None:
            self._send_to(self._extra, data)
        else:  # after /wek/outputs, the way it went
            self._send(data)

    def _shape(self, values: np.ndarray) -> np.ndarray:
        if not self._scales:
            return values
        out = values.copy()
        if self._smoothed is None or self._smoothed.shape != out.shape:
            self._smoothed = None
        for i, sc in enumerate(self._scales[: len(out)]):
            v = sc.out_min + (out[i] - sc.in_min) / (sc.in_max - sc.in_min) * (
                sc.out_max - sc.out_min)
            if sc.clip:
                lo, hi = sorted((sc.out_min, sc.out_max))
                v = min(max(v, lo), hi)
            if self._smoothed is not None and sc.smoothing:
                v = sc.smoothing * self._smoothed[i] + (1 - sc.smoothing) * v
            out[i] = v
        self._smoothed = out.copy()
        for i, sc in enumerate(self._scales[: len(out)]):
            if sc.integer:  # after smoothing: the smoothing state keeps the fractions
                out[i] = round(out[i])
        return out

    def send(self, result: Any, class_number: float | None,
             wek_values: np.ndarray | None = None) -> None:
        """Send one frame's result. ``class_number`` is Wekinator's 1-based class (or None for
        a regression, whose outputs go to ``/wek/outputs``).

        ``/wek/outputs`` leaves first, in a datagram of its own (what a Wekinator patch waits
        for); gesturemap's richer messages follow together in one OSC bundle: two system calls
        per frame instead of six.
        """
        held = self.held
        if (self._fast and result.output is None and wek_values is None and held is None
                and class_number is not None and self._send_class(result, class_number)):
            return
        a = self.addresses
        enc = self._enc
        rejected = is_rejected(result, self.settings.reject_below)
        if result.output is not None:
            values = self._shape(np.asarray(result.output, dtype=np.float64))
        elif rejected:
            values = np.zeros(1)  # Wekinator's classes count from 1: 0 is none of them
        else:
            values = np.array([class_number if class_number is not None else 0.0])
        if held is not None and wek_values is None and len(held) == len(values):
            values = np.where(np.isnan(held), values, held)
        self.last_values = values
        if a.get("outputs"):
            # wek_values: what Wekinator itself sends instead (a DTW model's distances)
            self._send(enc.floats(a["outputs"], values if wek_values is None else wek_values))
        parts = []
        if a.get("label"):
            if rejected:
                parts.append(enc.floats(a["label"], [0], text=""))
            else:
                # the class's number as /wek/outputs sends it (Wekinator's numbering)
                number = result.label_index + 1 if class_number is None else class_number
                parts.append(enc.floats(a["label"], [number], text=str(result.label)))
        if a.get("likelihoods"):
            parts.append(enc.floats(a["likelihoods"], result.likelihoods))
        if a.get("progress") and result.progress is not None:
            parts.append(enc.floats(a["progress"], result.progress))
        for key in ("speed", "scale", "rotation"):  # a GVF's estimates, when it gives them
            est = getattr(result, key, None)
            if est is not None and a.get(key):
                parts.append(enc.floats(a[key], np.ravel(est)))
        if result.output is not None:
            if a.get("regression"):
                parts.append(enc.floats(a["regression"], values))
            if a.get("variance") and result.output_covariance is not None:
                parts.append(enc.floats(a["variance"], np.diag(result.output_covariance)))
        if parts:
            self._send_extra(_BUNDLE_HEAD + b"".join(_SIZE.pack(len(p)) + p for p in parts))

    def _send_class(self, result: Any, class_number: float) -> bool:
        """A classifier's frame (no regression output, no GVF estimates), sent from per-class
        templates: the same bytes as the general path of :meth:`send` with two float packs and
        a dict lookup instead of four messages encoded one by one (only with ``/wek/outputs``,
        label and likelihoods addresses: ``self._fast``). False (nothing sent) when this frame
        needs the general path: GVF estimates, below ``reject_below``, values beyond float32."""
        if (getattr(result, "speed", None) is not None or getattr(result, "scale", None)
                is not None or getattr(result, "rotation", None) is not None):
            return False
        return self.send_class_arrays(result.label, result.label_index, class_number,
                                      result.likelihoods, result.progress)

    def send_class_arrays(self, label: Any, label_index: int, class_number: float,
                          likelihoods: np.ndarray, progress: np.ndarray | None) -> bool:
        """:meth:`send` for a classifier's frame given as its label and arrays (a lean
        stream's own, read before its next frame) instead of a :class:`Result`: the same bytes.
        False (nothing sent) when the frame needs :meth:`send`: no class templates (not
        ``self._fast``: a bundle without label or likelihoods), below ``reject_below``, values
        beyond float32."""
        lik = likelihoods
        if not self._fast or not len(lik):
            return False
        if below(lik, label_index, self.settings.reject_below):
            return False
        key = (label, label_index, class_number, len(lik),
               -1 if progress is None else len(progress))
        t = self._templates.get(key)
        if t is None:
            t = self._templates[key] = self._class_templates(label, len(lik), progress,
                                                             class_number)
        wek, head, pack_lik, mid, pack_prog = t
        if not head:  # Wekinator's message alone (gesturemap's own are off)
            self._send(wek)
            return True
        try:
            lik_bytes = pack_lik(*lik.tolist())  # checked before anything leaves
            prog_bytes = b"" if pack_prog is None else pack_prog(*progress.tolist())  # type: ignore[union-attr]
        except (OverflowError, struct.error, TypeError, AttributeError):
            return False
        self._send(wek)  # what a Wekinator client waits for, before the bundle is joined
        self._send_extra(head + lik_bytes + mid + prog_bytes)
        return True

    def _class_templates(self, label: Any, n: int, progress: np.ndarray | None,
                         class_number: float) -> tuple[Any, ...]:
        """(the /wek/outputs datagram, the bundle's bytes up to the likelihoods' floats, their
        packer, the bytes between them and the progress floats, its packer or None): encoded
        once per class and shape by :class:`MessageEncoder`, as :meth:`send` encodes them.
        Without a bundle (gesturemap's own messages off) the bundle's bytes are empty."""
        a = self.addresses
        enc = self._enc
        wek = enc.floats(a["outputs"], [class_number])
        if not self._bundle:
            return wek, b"", struct.Struct(f">{n}f").pack, b"", None
        label_msg = enc.floats(a["label"], [class_number], text=str(label))
        lik_head = enc.floats(a["likelihoods"], np.zeros(n))
        lik_head = lik_head[: len(lik_head) - 4 * n]  # address and tags: the floats follow
        head = (_BUNDLE_HEAD + _SIZE.pack(len(label_msg)) + label_msg
                + _SIZE.pack(len(lik_head) + 4 * n) + lik_head)
        pack_lik = struct.Struct(f">{n}f").pack
        mid, pack_prog = b"", None
        if a.get("progress") and progress is not None:
            m = len(progress)
            prog_head = enc.floats(a["progress"], np.zeros(m))
            prog_head = prog_head[: len(prog_head) - 4 * m]
            mid = _SIZE.pack(len(prog_head) + 4 * m) + prog_head
            pack_prog = struct.Struct(f">{m}f").pack
        return wek, head, pack_lik, mid, pack_prog

    def send_bytes(self, data: Any) -> None:
        """One datagram already encoded (bytes or a buffer: the compiled path's reply)."""
        self._send(data)

    def send_extra_bytes(self, data: Any) -> None:
        """gesturemap's own messages already encoded (the compiled path's bundle)."""
        self._send_extra(data)

    def send_message(self, address: str) -> None:
        """An OSC message without arguments (a DTW gesture's match message)."""
        self._send(self._enc.floats(address, []))
    def send_event(self, label: str, score: float) -> None:
        """A spotted gesture: ``/gesturemap/event label score`` (its own datagram, sent at
        once)."""
        address = self.addresses.get("event")
        if address:
            self._send_extra(self._enc.floats(address, [score], text=label))

    def send_texts(self, address_key: str, *texts: str) -> None:
        """Send a message of strings (UTF-8, each cut to :data:`MAX_TEXT_BYTES`) to the
        address ``address_key`` names, unless it is turned off. gesturemap's own notices go
        where its other messages go (their own port, when the project gives them one: the
        Wekinator client's port hears only Wekinator's messages); a reply to a request goes
        to the output port."""
        address = self.addresses.get(address_key)
        if not address:
            return
        parts = [_text_bytes(t) for t in texts]
        data = (_pad(address.encode()) + _pad(("," + "s" * len(parts)).encode())
                + b"".join(_pad(p) for p in parts))
        if address_key in EXTRA_KEYS:
            self._send_extra(data)
        else:
            self._send(data)

    def send_status(self, address_key: str = "status", *values: float) -> None:
        address = self.addresses.get(address_key)
        if address:
            self._send(self._enc.floats(address, list(values)))
