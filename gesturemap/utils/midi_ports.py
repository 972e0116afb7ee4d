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

import atexit
import ctypes
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import GesturemapError
from .faults import RateLimitedLog

__all__ = ["CHECK_S", "MidiPortError", "MidiServerSilent", "PortWatch", "jack_answers",
           "list_ports", "open_port", "open_probe"]

#: Prefix of a port name that asks for a virtual port of gesturemap's own.
VIRTUAL = "virtual:"

#: Seconds between two checks that an open port is still there (and back, once lost).
CHECK_S = 0.25
#: how long a stop waits for libjack to close the watcher's client (it has been seen to
#: never return, on a live dummy server): then the close goes on without us
CLOSE_WAIT_S = 2.0
#: how long a start waits for libjack to open the watcher's client: a JACK server that takes
#: the connection but never answers (one just restarted has been seen to) kept libjack's open
#: waiting for ever, and the musician's start with it. After this the MIDI port starts as if
#: the server were away, and the watcher takes the client whenever libjack hands it over
OPEN_WAIT_S = 2.0


class MidiPortError(GesturemapError):
    """No MIDI port matches the name given (the message lists the ports there are)."""


class MidiServerSilent(MidiPortError):
    """No port found, but a MIDI server (JACK's) took the connection and does not answer (one
    hung, or still starting): it may have the port once it answers. ``backend``: its name."""

    def __init__(self, message: str, backend: str) -> None:
        super().__init__(message)
        self.backend = backend


#: what a JACK server that does not answer is said to be doing
SILENT = "the JACK server does not answer (it is there but hangs, or is still starting)"


def _rtmidi() -> Any:
    # asking a backend must never start a JACK server (it would take over the sound card)
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    _timers()  # on the main thread, the first time: the handler a bound on RtMidi's opens needs
    try:
        import rtmidi
    except ImportError as exc:  # pragma: no cover - a dependency; broken installs only
        raise MidiPortError(
            f"MIDI needs python-rtmidi, which is not installed ({exc}). Install it with "
            "pip install 'gesturemap[midi]' (where it has no wheel for this Python, first "
            "install ALSA's and JACK's headers: apt install libasound2-dev libjack-jackd2-dev)."
        ) from exc
    return rtmidi


def _backends(rtmidi: Any) -> list[tuple[int, str]]:
    return [
        (api, rtmidi.get_api_display_name(api))
        for api in rtmidi.get_compiled_api()
        if api != rtmidi.API_RTMIDI_DUMMY
    ]


#: Messages an input holds until read: python-rtmidi's 1,024 lost the end of a software
#: sender's burst (a DAW's fader dump), newest first (~64 bytes each: 4 MB at most).
IN_QUEUE = 65536


def _client(rtmidi: Any, kind: str, api: int, client_name: str) -> Any:
    """An RtMidi client on backend ``api`` (raises :class:`MidiServerSilent` rather than
    open one on a JACK server that does not answer, see :func:`jack_answers`, or once an open
    on one that stopped answering meanwhile was cut short, see :func:`_within_bound`)."""

    def new() -> Any:
        if kind == "in":
            return rtmidi.MidiIn(api, name=client_name, queue_size_limit=IN_QUEUE)
        return rtmidi.MidiOut(api, name=client_name)

    if api != rtmidi.API_UNIX_JACK:
        return new()
    if jack_answers() is None:
        raise MidiServerSilent(SILENT, rtmidi.get_api_display_name(api))
    return _within_bound(new, rtmidi.get_api_display_name(api))


def _port_opened(port: Any, where: str, call: Any) -> None:
    """``call()``, which opens one of ``port``'s ports on backend ``where``: on JACK cut short
    past :data:`RTMIDI_OPEN_S`, and then ``port`` is kept, never freed (freeing it asks the
    server, holding Python's lock) and :class:`MidiServerSilent` raised."""
    if where.lower() != "jack":
        call()
        return
    try:
        _within_bound(call, where)
    except MidiServerSilent:
        _LEFT.append(port)
        raise


#: RtMidi clients of a server that stopped answering as they opened a port: never freed
_LEFT: list[Any] = []


#: Seconds RtMidi may take to open a JACK client or port. It opens holding Python's lock, so an
#: open on a server that hangs after :func:`jack_answers` said it answers froze every thread
#: of the process for ever; past this the open is cut short, and fails as on a server away.
RTMIDI_OPEN_S = 2 * OPEN_WAIT_S
#: The signal that cuts an open short: sent by a timer of the kernel's to the thread that
#: opens, and to no other (one nobody else sends: a signal that interrupted a wait in libjack
#: elsewhere would break that call)
_CUT_SHORT = signal.SIGRTMAX - 5 if hasattr(signal, "SIGRTMAX") else None


class _SigEvent(ctypes.Structure):  # Linux's struct sigevent (64 bytes), for SIGEV_THREAD_ID
    _fields_ = [("value", ctypes.c_void_p), ("signo", ctypes.c_int), ("notify", ctypes.c_int),
                ("thread_id", ctypes.c_int),
                ("_pad", ctypes.c_int * ((60 - ctypes.sizeof(ctypes.c_void_p) - 8) // 4))]


class _TimeSpec(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("nsec", ctypes.c_long)]


class _TimerSpec(ctypes.Structure):
    _fields_ = [("interval", _TimeSpec), ("value", _TimeSpec)]


def _nothing(_signum: int, _frame: Any) -> None:
    """The signal's handler: its coming is what matters (libjack's wait returns EINTR)."""


def _timers() -> Any:
    """libc's POSIX timers, once the signal's handler is ours; None where they cannot be had
    (not Linux; or the handler not yet set, which only the main thread may do)."""
    if _CUT_SHORT is None or not sys.platform.startswith("linux"):
        return None
    if signal.getsignal(_CUT_SHORT) is not _nothing:
        if threading.current_thread() is not threading.main_thread():
            return None
        signal.signal(_CUT_SHORT, _nothing)  # no SA_RESTART: a wait in C returns EINTR
    if not _LIBC:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.timer_create.argtypes = [ctypes.c_int, ctypes.POINTER(_SigEvent),
                                      ctypes.POINTER(ctypes.c_void_p)]
        libc.timer_settime.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                       ctypes.POINTER(_TimerSpec), ctypes.c_void_p]
        libc.timer_delete.argtypes = [ctypes.c_void_p]
        _LIBC.append(libc)
    return _LIBC[0]


_LIBC: list[Any] = []


@contextmanager
def _cut_short_after(seconds: float) -> Iterator[None]:
    """Interrupt what this thread waits on in the kernel once ``seconds`` have passed. A
    Python thread cannot do it (RtMidi holds Python's lock): a timer of the kernel's sends
    :data:`_CUT_SHORT` to this thread alone, and libjack's read from a server that never
    answers returns, failing the open."""
    libc, timer = _timers(), ctypes.c_void_p()
    event = _SigEvent(signo=_CUT_SHORT or 0, notify=4,  # SIGEV_THREAD_ID
                      thread_id=threading.get_native_id())
    if libc is None or libc.timer_create(1, ctypes.byref(event), ctypes.byref(timer)) != 0:
        yield  # CLOCK_MONOTONIC; without a timer the open is not bounded, as before
        return
    try:
        whole = int(seconds)
        libc.timer_settime(timer, 0, ctypes.byref(_TimerSpec(
            value=_TimeSpec(whole, int((seconds - whole) * 1e9)))), None)
        yield
    finally:
        libc.timer_delete(timer)


def _within_bound(call: Any, backend: str) -> Any:
    """``call()`` (an RtMidi open on JACK), cut short past :data:`RTMIDI_OPEN_S`: then
    :class:`MidiServerSilent`."""
    began = time.monotonic()
    try:
        with _cut_short_after(RTMIDI_OPEN_S):
            return call()
    except Exception as exc:
        if time.monotonic() - began >= RTMIDI_OPEN_S:
            raise MidiServerSilent(SILENT, backend) from exc
        raise


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


def open_port(
    kind: str, name: str, client_name: str = "gesturemap", backend: str | None = None,
    local_name: str | None = None,
) -> tuple[Any, str, str]:
    """Open the MIDI input (``kind="in"``) or output (``"out"``) whose name contains ``name``.

    Parameters
    ----------
    kind : "in" or "out"
    name : str
        Part of the port's name (case-insensitive); ``virtual:NAME`` creates a port of our own.
    client_name : str
        How gesturemap shows up to the other MIDI programs.
    backend : str, optional
        Look on this backend only (its display name, e.g. "Jack"): a lost port is reopened
        where it was.
    local_name : str, optional
        The name of gesturemap's own end of the connection (default RtMidi's, "RtMidi
        input" / "RtMidi output"); not for a virtual port, whose name is ``NAME``.

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
    backends = [b for b in _backends(rtmidi) if backend is None or b[1] == backend]
    errors: list[str] = []
    silent: str | None = None  # the backend whose server took the connection, no answer
    if text.lower().startswith(VIRTUAL):
        own = text[len(VIRTUAL) :] or "gesturemap"
        for api, where in backends:
            try:
                port = _client(rtmidi, kind, api, client_name)
            except Exception as exc:  # noqa: BLE001 - a backend that is not there
                errors.append(f"{where}: {exc}")
                silent = where if isinstance(exc, MidiServerSilent) else silent
                continue
            try:
                _port_opened(port, where, lambda p=port: p.open_virtual_port(own))
            except MidiServerSilent as exc:
                errors.append(f"{where}: {exc}")
                silent = where
                continue
            except Exception as exc:  # noqa: BLE001 - e.g. Windows: no virtual ports
                errors.append(f"{where}: {exc}")
                port.delete()
                continue
            return port, own, where
        said = (f"MIDI {what} {text!r}: no backend can make a virtual port "
                f"({'; '.join(errors) or 'no MIDI backend'}).")
        raise MidiServerSilent(said, silent) if silent else MidiPortError(said)
    seen: list[str] = []
    wanted = text.lower()
    for exact in (True, False):
        for api, where in backends:
            if where == silent:  # asked once: not a second wait on it
                continue
            try:
                port = _client(rtmidi, kind, api, client_name)
            except MidiServerSilent:
                silent = where
                continue
            except Exception:  # noqa: BLE001 - a backend that is not there
                continue
            names = list(port.get_ports())
            if exact:
                seen += [f"{n} ({where})" for n in names]
            for i, n in enumerate(names):
                if (n.lower() == wanted) if exact else (wanted in n.lower()):
                    try:
                        _port_opened(port, where, lambda p=port, i=i: p.open_port(i, local_name))
                    except MidiServerSilent:
                        raise MidiServerSilent(f"MIDI {what} {n!r}: {SILENT}", where) from None
                    except Exception as exc:  # noqa: BLE001
                        port.delete()
                        raise MidiPortError(
                            f"MIDI {what} {n!r} ({where}): cannot open it: {exc}"
                        ) from exc
                    return port, n, where
            port.delete()
    there = ", ".join(seen) if seen else "none (no MIDI device, or no ALSA sequencer / JACK server)"
    if silent:
        raise MidiServerSilent(
            f"MIDI {what} {text!r}: {SILENT}, and no other MIDI system has a port whose name "
            f"contains it (MIDI {what}s: {there}).", silent)
    raise MidiPortError(
        f"MIDI {what} {text!r}: no port's name contains it. MIDI {what}s: "
        f"{there}. `gesturemap devices` lists them."
    )


def open_probe(backend: str, input_name: str, client_name: str = "gesturemap-probe") -> Any:
    """A MIDI output of gesturemap's own, connected to one of its own inputs.

    An input reads what it sends as it reads a controller's messages: the MIDI source sends
    itself a byte now and then to learn whether RtMidi still hands its messages on
    (:mod:`gesturemap.sources.midi`). JACK only (its ports can take many connections).

    Parameters
    ----------
    backend : str
        The input's backend (its display name, "Jack").
    input_name : str
        The input's own name, the part of its JACK port's name after the client's: it must
        be the only input of that name on a client whose name starts with "gesturemap".

    Raises
    ------
    MidiPortError
        Not JACK, or no single input of that name (the source then runs without asking).
    """
    rtmidi = _rtmidi()
    api = next((a for a, name in _backends(rtmidi) if name == backend), None)
    if api is None or backend.lower() != "jack":
        raise MidiPortError(f"MIDI probe: not on {backend}, only on JACK")
    try:
        out = _client(rtmidi, "out", api, client_name)
    except Exception as exc:  # noqa: BLE001 - the server went meanwhile
        raise MidiPortError(f"MIDI probe: {exc}") from exc
    try:
        names = list(out.get_ports())
        ours = [i for i, n in enumerate(names)
                if n.startswith("gesturemap") and n.endswith(f":{input_name}")]
        if len(ours) != 1:
            raise MidiPortError(f"MIDI probe: {len(ours)} inputs called {input_name!r}")
        _port_opened(out, backend, lambda: out.open_port(ours[0], "probe"))
    except Exception as exc:
        if not isinstance(exc, MidiServerSilent):  # one of a silent server is never freed
            out.delete()
        if isinstance(exc, MidiPortError):
            raise
        raise MidiPortError(f"MIDI probe: {exc}") from exc
    return out


#: ctypes callbacks handed to libjack, and what they reach: never freed (libjack calls a
#: client's shutdown callback whenever its server goes, even after we dropped the client's
#: object; a freed callback crashed the process then).
_HANDED_TO_JACK: list[Any] = []

log = logging.getLogger(__name__)
#: libjack's own messages, once a minute at most: while a server is away each try to reach it
#: printed five lines on stderr (18,000 an hour on a performer's terminal), and our own
#: warnings already say the server stopped
_JACK_SAID = RateLimitedLog(log, interval_s=60.0)
#: the libjack files whose printers are ours (once per copy: a copy's printers are global)
_libjack_heard: set[str] = set()


def _jack_said(text: bytes | None) -> None:  # any thread of libjack's: log (or not), return
    _JACK_SAID("libjack", "libjack: %s", (text or b"").decode("utf-8", "replace"),
               level=logging.INFO)


def _hear_libjack(lib: Any, path: str) -> None:
    """Have the messages of the libjack loaded from ``path`` come to our log rather than to
    stderr (all the users of that copy in this process: PortAudio's and ours share the
    system's; python-rtmidi's wheel carries a copy of its own, with printers of its own)."""
    import ctypes

    key = os.path.realpath(path)
    if key in _libjack_heard:
        return
    try:  # libjack's own printers, given back at exit: a message libjack gives while the
        # interpreter is shutting down (its destructors do) must not call into Python
        pointers = [ctypes.c_void_p.in_dll(lib, name)
                    for name in ("jack_error_callback", "jack_info_callback")]
    except ValueError:  # a libjack without them: its messages stay on stderr
        return
    _libjack_heard.add(key)
    said = ctypes.CFUNCTYPE(None, ctypes.c_char_p)(_jack_said)
    _HANDED_TO_JACK.append(said)  # libjack keeps the pointer for the life of the process
    printers = [pointer.value for pointer in pointers]

    def give_back() -> None:
        for pointer, printer in zip(pointers, printers, strict=True):
            pointer.value = printer

    atexit.register(give_back)
    for pointer in pointers:
        pointer.value = ctypes.cast(said, ctypes.c_void_p).value


class _Pending:
    """``call()`` on a thread of its own, for a libjack call that may never return (an open
    to a server that takes the connection and never answers): the caller waits as long as it
    chooses on :attr:`done`, and may give up on it (:meth:`abandon`)."""

    def __init__(self, call: Any, discard: Any = None, name: str = "gesturemap-jack-open") -> None:
        self._call, self._discard = call, discard
        self.value: Any = None
        self.done = threading.Event()
        self.started = time.monotonic()
        self._lock = threading.Lock()  # only round the hand-over: never across a libjack call
        self._abandoned = False
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def _run(self) -> None:
        try:
            value = self._call()
        except Exception as exc:  # noqa: BLE001 - said, and taken as no answer
            log.warning("JACK: %s", exc)
            value = None
        with self._lock:
            self.value, abandoned = value, self._abandoned
        self.done.set()
        if value and abandoned and self._discard is not None:  # nobody waits for it any more
            self._discard(value)

    def abandon(self) -> Any:
        """No longer wanted: the value, if it came already (the caller disposes of it); else
        the thread disposes of it when it comes."""
        with self._lock:
            self._abandoned = True
            return self.value


def _opening(lib: Any, on_shutdown: Any, on_rename: Any) -> _Pending:
    """The opening of the watcher's JACK client, on a thread of its own: libjack opens one
    client at a time in a process, and an open to a server that never answers never returns,
    so no thread that starts or stops anything may make the call itself."""

    def open_client() -> int | None:
        client = lib.jack_client_open(b"gesturemap-watch", 1, None)  # JackNoStartServer
        if client:
            lib.jack_on_shutdown(client, on_shutdown, None)
            lib.jack_set_port_rename_callback(client, on_rename, None)
            lib.jack_activate(client)
        return client

    return _Pending(open_client, lib.jack_client_close)


_LIBJACK: list[Any] = []  # libjack through ctypes, loaded once
_LIBJACK_LOCK = threading.Lock()
#: the type of a JACK shutdown callback
_SHUTDOWN = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
#: the type of a JACK port rename callback (port id, old name, new name, argument)
_RENAMED = ctypes.CFUNCTYPE(None, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_char_p,
                            ctypes.c_void_p)


def _libjack() -> Any:
    """libjack, through ctypes: the system's, else the one python-rtmidi's wheel carries;
    raises OSError when there is none."""
    with _LIBJACK_LOCK:  # a start and a watcher may ask at once: its printers are set once
        if not _LIBJACK:
            _LIBJACK.append(_load_libjack())
        return _LIBJACK[0]


def _bundled_libjack() -> str | None:
    """The libjack python-rtmidi's wheel carries beside its package (in the folder its
    extension's RPATH names, ``python_rtmidi.libs`` or the like), or None. RtMidi's JACK
    backend runs on it: on a machine with no libjack of its own, the check runs on it too
    (loading it again hands back the copy RtMidi uses)."""
    try:
        import rtmidi
    except ImportError:
        return None
    site = Path(rtmidi.__file__).resolve().parent.parent
    found = sorted(site.glob("python_rtmidi*/libjack*.so*"))
    return str(found[0]) if found else None


def _load_libjack() -> Any:
    import ctypes.util

    path = ctypes.util.find_library("jack") or _bundled_libjack()
    if path is None:
        raise OSError("libjack not found")
    lib = ctypes.CDLL(path)
    lib.jack_client_open.restype = ctypes.c_void_p
    lib.jack_client_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p]
    lib.jack_on_shutdown.argtypes = [ctypes.c_void_p, _SHUTDOWN, ctypes.c_void_p]
    lib.jack_activate.argtypes = [ctypes.c_void_p]
    lib.jack_set_port_rename_callback.argtypes = [ctypes.c_void_p, _RENAMED, ctypes.c_void_p]
    lib.jack_get_ports.restype = ctypes.POINTER(ctypes.c_char_p)
    lib.jack_get_ports.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong
    ]
    lib.jack_free.argtypes = [ctypes.c_void_p]
    lib.jack_client_close.argtypes = [ctypes.c_void_p]
    _hear_libjack(lib, path)
    # RtMidi's JACK backend runs on its wheel's own copy where the system has one too: that
    # copy printed "Cannot read socket fd", "Server is not running"... on the terminal each
    # time the server went away (loading it again hands back the copy RtMidi uses)
    bundled = _bundled_libjack()
    if bundled is not None and os.path.realpath(bundled) != os.path.realpath(path):
        try:
            _hear_libjack(ctypes.CDLL(bundled), bundled)
        except OSError:  # (unreadable: its messages stay on stderr)
            pass
    return lib

#: the asking whether the JACK server answers now under way, or the last one (at most one
#: waits in libjack at a time: an asking that never ends is waited on again, not repeated)
_ASKING: list[_Pending] = []
_ASKING_LOCK = threading.Lock()


def _ask_jack() -> bool:
    lib = _libjack()
    client = lib.jack_client_open(b"gesturemap-ask", 1, None)  # JackNoStartServer
    if not client:
        return False
    lib.jack_client_close(client)  # before the answer: RtMidi's open must not wait on it
    return True


def jack_answers() -> bool | None:
    """Whether the JACK server answers: True (it does), False (there is none), None (it took
    the connection and has not answered within :data:`OPEN_WAIT_S` of being first asked:
    one hung, or still starting).

    RtMidi opens its JACK client holding Python's lock: against a server that never answers,
    or while another open of this process still waits on one (libjack opens one client at a
    time), every thread of the process stopped for ever, a run's and a window's alike. So a
    client of our own (through ctypes, which lets go of that lock) opens and closes first, on
    a thread of its own, and RtMidi's open follows only once it did. A server that hangs in
    the moment between the two is not caught."""
    try:
        _libjack()
    except OSError:  # no libjack to ask with: RtMidi finds out for itself, as it always did
        return True
    with _ASKING_LOCK:
        asking = _ASKING[0] if _ASKING else None
        if asking is None or asking.done.is_set():
            asking = _Pending(_ask_jack)
            _ASKING[:] = [asking]
    # an asking still waiting from an earlier call has had its time: no second wait on it
    # (one listing asks for every backend and kind of port in turn)
    if not asking.done.wait(max(0.0, asking.started + OPEN_WAIT_S - time.monotonic())):
        return None
    return bool(asking.value)


class _JackServer:
    """A client of the JACK server of our own (libjack through ctypes), told by JACK when the
    server goes away. python-rtmidi cannot tell: its clients keep listing the ports of a dead
    server, and its JACK ``send_message`` then spins for ever once its ring buffer is full."""

    def __init__(self) -> None:
        self._lib = _libjack()
        self._client: int | None = None
        self._dead: list[int] = []  # clients of a server gone: never touched again
        self._on_shutdown = _SHUTDOWN(self._gone)
        self._on_rename = _RENAMED(self._renamed)
        _HANDED_TO_JACK.extend((self._on_shutdown, self._on_rename))
        #: old name -> new name of every port renamed while our client was open
        self._renames: dict[str, str] = {}
        self.down = True
        self._next_try = 0.0
        self._opening: _Pending | None = None
        #: how many times our client connected (a new server each time but the first)
        self.generation = 0

    def _gone(self, _arg: Any) -> None:  # JACK's thread: one flag, nothing else
        self.down = True

    def _renamed(self, _port: int, old: bytes | None, new: bytes | None, _arg: Any) -> None:
        # JACK's notification thread (not its real-time one): one store, nothing else
        if old and new:
            self._renames[old.decode("utf-8", "replace")] = new.decode("utf-8", "replace")

    def renamed(self, name: str) -> str:
        """The name the port called ``name`` has now, following its renames (a DAW renames
        its input when its track is renamed: the connection to it stays)."""
        for _ in range(len(self._renames)):  # a port renamed back and forth ends its chain
            if name not in self._renames:
                break
            name = self._renames[name]
        return name

    @property
    def silent(self) -> bool:
        """Whether an open of our client still waits on libjack past :data:`OPEN_WAIT_S`: a
        server is there, took the connection and does not answer (not one that stopped,
        whose open fails at once)."""
        opening = self._opening
        return opening is not None and not opening.done.is_set()

    def connect(self) -> bool:
        """Whether the server is up, opening our client again if it went (no server started).

        Never waits more than :data:`OPEN_WAIT_S` on libjack: an open that takes longer goes
        on, on a thread of its own, and a later call takes its client."""
        if not self.down:
            return True
        opening, wait_s = self._opening, 0.0
        if opening is None:
            now = time.monotonic()
            if now < self._next_try:  # libjack prints a few lines at each failed try
                return False
            self._next_try = now + 1.0
            if self._client is not None:
                self._dead.append(self._client)
                self._client = None
            opening = self._opening = _opening(self._lib, self._on_shutdown, self._on_rename)
            wait_s = OPEN_WAIT_S
        if not opening.done.wait(wait_s):
            return False  # libjack still waits on the server: asked again at the next check
        self._opening = None
        if not opening.value:
            return False
        self._client, self.down = opening.value, False
        self.generation += 1
        return True

    def close(self) -> None:
        """Close our client on a live server (one of a server gone is left: closing it asks
        the dead server, and may wait)."""
        opening, self._opening = self._opening, None
        if opening is not None:  # an open still under way: its client is closed when it comes
            late = opening.abandon()
            if late:
                self._client, self.down = late, False
        client, self._client = self._client, None
        if client is not None and not self.down:
            self.down = True
            # on a thread of its own: a stop (the engine's, the window's) must not hang in it
            closing = threading.Thread(target=self._lib.jack_client_close, args=(client,),
                                       name="gesturemap-jack-close", daemon=True)
            closing.start()
            closing.join(CLOSE_WAIT_S)
        elif client is not None:
            self._dead.append(client)

    def ports(self, kind: str) -> list[str]:
        """The MIDI ports an rtmidi client of ``kind`` lists (an output lists JACK inputs)."""
        if not self.connect():
            return []
        flags = 0x1 if kind == "out" else 0x2  # JackPortIsInput / JackPortIsOutput
        found = self._lib.jack_get_ports(self._client, None, b"8 bit raw midi", flags)
        if not found:
            return []
        names = []
        i = 0
        while found[i] is not None:
            names.append(found[i].decode("utf-8", "replace"))
            i += 1
        self._lib.jack_free(found)
        return names


class PortWatch:
    """Whether a port :func:`open_port` opened is still there, asked off the real-time path.

    A device unplugged, a program quit, the JACK server stopped: the port is gone, and sending
    to it or reading it does nothing (on JACK, sending to a stopped server blocks for ever).
    :meth:`present` says so; when the port is back, :meth:`reopen` opens it again by the same
    text, on the same backend (an ALSA port's numbers may have changed on the way).

    A port that goes and comes back between two checks is not noticed by its name: check
    often (the outputs and the MIDI source do every :data:`CHECK_S`).
    """

    def __init__(self, kind: str, query: str, port_name: str | None, backend: str,
                 client_name: str) -> None:  # fmt: skip
        self.kind, self.query, self.port_name = kind, query, port_name
        self.backend, self.client_name = backend, client_name
        self.virtual = query.strip().lower().startswith(VIRTUAL)
        self._jack: _JackServer | None = None
        if backend.lower() == "jack":
            try:
                self._jack = _JackServer()
                self._jack.connect()
            except OSError:
                self._jack = None
        self._lister: Any = None
        self._kept: list[Any] = []  # ports of a server gone, never freed

    @property
    def generation(self) -> int:
        """Changes when the JACK server stopped and another started: ports opened before are
        dead and must never be closed (closing one asks the dead server, and may wait)."""
        return self._jack.generation if self._jack is not None else 0

    @property
    def server_down(self) -> bool:
        """True once JACK told us its server went (set from JACK's thread, at once)."""
        return self._jack is not None and self._jack.down

    @property
    def server_silent(self) -> bool:
        """True while the server takes our connection and does not answer (it is down for
        sending all the same: said differently, since "stopped" would send a performer to
        start one)."""
        return self._jack is not None and self._jack.down and self._jack.silent

    def present(self) -> bool:
        """Whether the port (exactly its name; or the server, for a virtual port) is there."""
        if self._jack is not None:
            if not self._jack.connect():
                return False
            if self.virtual:
                return True
            ports = self._jack.ports(self.kind)
            if self.port_name not in ports:  # renamed, its connection kept: the same port
                self.port_name = self._jack.renamed(self.port_name)
            return self.port_name in ports
        if self.virtual:
            return True
        try:
            if self._lister is None:
                rtmidi = _rtmidi()
                api = next(a for a, name in _backends(rtmidi) if name == self.backend)
                self._lister = _client(rtmidi, self.kind, api, f"{self.client_name}-watch")
            return self.port_name in list(self._lister.get_ports())
        except Exception:  # noqa: BLE001 - the backend itself went
            self._lister = None
            return False

    def available(self) -> bool:
        """Whether a port the query names (or the server, for a virtual port) is there."""
        if self._jack is not None:
            if not self._jack.connect():
                return False
            wanted = self.query.strip().lower()
            return self.virtual or any(wanted in n.lower() for n in self._jack.ports(self.kind))
        return True  # reopen() finds out

    def reopen(self, local_name: str | None = None) -> tuple[Any, str]:
        """Open the port again (raises :class:`MidiPortError` while it is not there);
        ``local_name`` as :func:`open_port`'s."""
        port, name, _ = open_port(self.kind, self.query, self.client_name, self.backend,
                                  local_name)
        self.port_name = name
        return port, name

    def release(self, port: Any, generation: int | None = None) -> None:
        """Close a port that is no longer used, opened at ``generation`` (default: now); one
        of a JACK server gone is left alone (closing it asks the dead server, and may wait
        for ever)."""
        if generation is None:
            generation = self.generation
        if port is None or self.server_down or generation != self.generation:
            self._kept.append(port)
            return
        try:
            port.close_port()
        finally:
            port.delete()

    def close(self) -> None:
        lister, self._lister = self._lister, None
        if lister is not None:
            lister.delete()
        jack, self._jack = self._jack, None
        if jack is not None:
            jack.close()
