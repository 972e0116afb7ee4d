"""A dummy JACK server for the MIDI tests: python-rtmidi's JACK backend gives real MIDI ports
with no sound card and no ALSA sequencer (docs/architecture.md)."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest


def _need_rtmidi() -> None:
    """python-rtmidi has wheels up to Python 3.12: on a later Python it is built from source
    only when asked for, and a MIDI test says how rather than failing on an import."""
    try:
        import rtmidi  # noqa: F401
    except ImportError:
        pytest.fail("python-rtmidi is not installed (no wheel for this Python): install ALSA's "
                    "and JACK's headers (apt-get install libasound2-dev libjack-jackd2-dev), "
                    "then .venv/bin/pip install -e '.[midi]' (README.md)", pytrace=False)


#: Names of test JACK servers per checkout: one for each pytest session running at once.
SESSIONS = 4
#: The environment variable through which a session's processes (pytest-xdist's workers, the
#: programs a test starts) share the session's place among :data:`SESSIONS`.
SESSION_ENV = "GESTUREMAP_TEST_JACK_SESSION"
#: The environment variable naming, in a test's jackd, the process that started it: a server
#: whose parent is no longer that process outlived it (:func:`stop_orphans`).
PARENT_ENV = "GESTUREMAP_TEST_JACK_PARENT"

_CHECKOUT = zlib.crc32(str(Path(__file__).resolve().parent).encode()) % 100000
_held: list[IO[str]] = []  # the lock on this session's place, held until the process ends


def claim_session() -> str:
    """This pytest session's place among the :data:`SESSIONS` of the checkout, taken (once)
    by the process that starts the session and given to its workers through
    :data:`SESSION_ENV`; held until that process ends (a session killed gives it back).

    Two sessions run at once from one checkout (a developer's and an editor's, say) each get
    their own servers: under one name the second's jackd could not start, or a test stopped
    the other session's server under its tests."""
    if SESSION_ENV in os.environ:
        return os.environ[SESSION_ENV]
    for place in range(SESSIONS):
        path = Path(tempfile.gettempdir()) / f"gesturemap-jack-{_CHECKOUT}-{place}.lock"
        lock = open(path, "a")  # noqa: SIM115 - held for the life of the process
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another session's
            lock.close()
            continue
        _held.append(lock)
        atexit.register(lock.close)  # given back as the process ends, without a ResourceWarning
        os.environ[SESSION_ENV] = "" if place == 0 else f"-{place}"
        return os.environ[SESSION_ENV]
    # more sessions at once than places: a name of this process's own (which may leave a row
    # of JACK's table behind, see server_name)
    os.environ[SESSION_ENV] = f"-p{os.getpid()}"
    return os.environ[SESSION_ENV]


def server_name(kind: str) -> str:
    """The name of a test JACK server: one of a few per checkout, the same from one run to the
    next, and another for each session running at the same time (:func:`claim_session`).
    JACK keeps its servers in a table of 8 in shared memory, and a server stopped while a client
    was closing can leave its row behind; a row is taken back only by a server of the same name.
    Names unique to each run (process id, clock) filled the table on a machine that ran the
    suite a few times, and then no server could start ("Too many servers already active")."""
    return f"gm-{kind}-{_CHECKOUT}{claim_session()}"


def _proc(pid: str, part: str) -> bytes | None:
    try:
        return (Path("/proc") / pid / part).read_bytes()
    except OSError:  # gone meanwhile, or another user's
        return None


def _jackd_named(name: str) -> list[tuple[int, int, str | None]]:
    """The jackd processes serving ``name``: (pid, parent's pid, :data:`PARENT_ENV` or None)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        argv = (_proc(pid, "cmdline") or b"").split(b"\0")
        if Path(argv[0].decode(errors="replace")).name != "jackd":
            continue
        named = zip(argv, argv[1:], strict=False)
        if not any(a in (b"-n", b"--name") and b == name.encode() for a, b in named):
            continue
        stat = _proc(pid, "stat")
        environ = _proc(pid, "environ")
        if stat is None or environ is None:
            continue
        state, ppid = stat.rsplit(b")", 1)[1].split()[:2]
        if state == b"Z":  # ended, not yet reaped
            continue
        stamp = next((e.split(b"=", 1)[1].decode() for e in environ.split(b"\0")
                      if e.startswith(PARENT_ENV.encode() + b"=")), None)
        found.append((int(pid), int(ppid), stamp))
    return found


def _gone(pid: int) -> bool:
    stat = _proc(str(pid), "stat")
    return stat is None or stat.rsplit(b")", 1)[1].split()[0] == b"Z"


def stop_orphans(name: str) -> list[int]:
    """Stop the jackd serving ``name`` that outlived the test process that started it (a
    worker killed by the timeout leaves its server running, and every later test of that name
    then failed): one whose parent is no longer the process named in its :data:`PARENT_ENV`
    (or, started without it, one left to the system's first process). A server some live
    process started is left alone. Returns the process ids stopped."""
    stopped = []
    for pid, ppid, stamp in _jackd_named(name):
        if not (ppid != int(stamp) if stamp is not None else ppid == 1):
            continue  # its parent lives: a live test's, or someone's own
        for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            end = time.monotonic() + wait_s
            while not _gone(pid) and time.monotonic() < end:
                time.sleep(0.02)
            if _gone(pid):
                break
        stopped.append(pid)
    return stopped


#: libjack's table of servers (jack2's shm.h): a header of 24 bytes, then 8 places of a process
#: id and a name of 257 bytes (264 with padding), "jack-UID:NAME:"
_REGISTRY = Path("/dev/shm/jack-shm-registry")
_PLACES, _HEADER, _PLACE = 8, 24, 264


def registered() -> list[tuple[int, str]]:
    """(process id, server name) of this user's servers in libjack's table, dead ones
    included; empty when the table is missing or laid out otherwise than jack2's."""
    try:
        raw = _REGISTRY.read_bytes()
    except OSError:
        return []
    if raw[:4] != b"KCAJ" or len(raw) < _HEADER + _PLACES * _PLACE:
        return []
    prefix = f"jack-{os.getuid()}:".encode()
    found = []
    for place in range(_PLACES):
        at = _HEADER + place * _PLACE
        pid = int.from_bytes(raw[at:at + 4], sys.byteorder, signed=True)
        name = raw[at + 4:at + _PLACE].split(b"\0", 1)[0]
        if pid and name.startswith(prefix) and name.endswith(b":"):
            found.append((pid, name[len(prefix):-1].decode(errors="replace")))
    return found


def _session_runs(name: str) -> bool:
    """Whether the test session a server name belongs to still runs: its servers killed on
    purpose (a crashed audio server) start again under the same name, and a place given back
    meanwhile by a server of that name would stop that restart."""
    pid = re.search(r"-p(\d+)$", name)
    if pid:
        return not _gone(int(pid.group(1)))
    for path in Path(tempfile.gettempdir()).glob("gesturemap-jack-*-*.lock"):
        checkout, place = path.stem.rsplit("-", 2)[1:]
        if not name.endswith(f"-{checkout}" if place == "0" else f"-{checkout}-{place}"):
            continue
        try:
            with open(path) as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free: the session ended
        except OSError:
            return True  # held (by this process too, on another open of the file)
    return False


def reclaim_dead_test_servers() -> list[str]:
    """Give back the places in libjack's table of test servers that died without stopping.

    The table holds 8 servers per machine, and the place of a server killed (with its test
    worker) is taken back only when a server of the same name starts again. Names belong to
    a checkout and a session of it, so a few clones on one machine, each with a killed run,
    filled the table, and then no JACK test of any of them could start a server ("Too many
    servers already active"). A server of each such name started and stopped cleanly gives
    its place back. Only test servers (``gm-``) whose process is gone are touched."""
    jackd = shutil.which("jackd")
    reclaimed: list[str] = []
    if jackd is None:
        return reclaimed
    for pid, name in registered():
        alive = b"jackd" in (_proc(str(pid), "cmdline") or b"") and not _gone(pid)
        if not name.startswith("gm-") or alive or _session_runs(name):
            continue
        server = subprocess.Popen([jackd, "-n", name, "-d", "dummy", "-r", "48000", "-p", "128"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env={**os.environ, PARENT_ENV: str(os.getpid())})
        try:
            with contextlib.suppress(subprocess.SubprocessError):
                subprocess.run(["jack_wait", "-w", "-t", "5"], timeout=10, capture_output=True,
                               env={**os.environ, "JACK_DEFAULT_SERVER": name})
        finally:
            server.terminate()  # a clean stop: the server takes its row out of the table
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        reclaimed.append(name)
    return reclaimed


def start_jackd(name: str, *options: str, **popen: Any) -> subprocess.Popen:
    """``jackd [options] -n NAME -d dummy -r 48000 -p 128``, once any server of that name left
    behind by a dead test process is stopped; marked with its parent (:func:`stop_orphans`)."""
    jackd = shutil.which("jackd")
    if jackd is None:
        pytest.fail("jackd is missing: apt-get install jackd2 (.ci/run installs it)", pytrace=False)
    stop_orphans(name)
    reclaim_dead_test_servers()  # before the table fills (reading it costs nothing)
    return subprocess.Popen(
        [jackd, *options, "-n", name, "-d", "dummy", "-r", "48000", "-p", "128"],
        env={**os.environ, PARENT_ENV: str(os.getpid())}, **popen)


def wait_ready(server: subprocess.Popen, name: str) -> None:
    """Wait until the server ``name`` answers; fail saying so if ours could not start (another
    server holds the name)."""
    subprocess.run(["jack_wait", "-w", "-t", "10"], check=True, timeout=15, capture_output=True,
                   env={**os.environ, "JACK_DEFAULT_SERVER": name})
    others = [(pid, ppid) for pid, ppid, _ in _jackd_named(name) if pid != server.pid]
    if others:  # the one that answered may be another: ours is on its way out
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=10)
    if others or server.poll() is not None:
        ours = "still running" if server.poll() is None else f"exited with {server.returncode}"
        holders = ", ".join(f"process {pid} (started by {ppid})" for pid, ppid in others)
        pytest.fail(f"the test JACK server {name!r} could not start (its jackd {ours}); other "
                    f"servers of that name: {holders or 'none'}", pytrace=False)


def _closes_done(timeout: float = 30.0) -> None:
    """Wait for gesturemap's JACK clients still opening or closing (each on a thread of its
    own, which a start or a stop leaves after OPEN_WAIT_S / CLOSE_WAIT_S) before a test stops
    its server: libjack stopped under a client's open or close can lock itself for the rest of
    the process, and the next test's first client then waits for ever (a loaded machine's
    close can outlast CLOSE_WAIT_S)."""
    end = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name in ("gesturemap-jack-open", "gesturemap-jack-close"):
            thread.join(max(0.0, end - time.monotonic()))


@contextlib.contextmanager
def silent_jack_server() -> Iterator[str]:
    """A JACK server that takes every connection and never answers (one stuck starting):
    libjack's open of a client waits on it for ever, and meanwhile every other JACK client of
    the process waits too (libjack opens one at a time). Yields the server's name; at the
    end the connections close, and the opens waiting fail at once.

    The socket is where libjack looks for a server of that name (``/dev/shm``, fixed when
    libjack was built: no setting moves it), under a name no real server has."""
    import socket

    name = f"gm-silent-{os.getpid()}-{time.monotonic_ns()}"
    path = Path("/dev/shm") / f"jack_{name}_{os.getuid()}_0"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(16)
    taken: list[socket.socket] = []

    def take() -> None:
        while True:
            try:
                taken.append(listener.accept()[0])
            except OSError:  # the listener closed: the end
                return

    taker = threading.Thread(target=take, name="silent-jack-server", daemon=True)
    taker.start()
    try:
        yield name
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        path.unlink(missing_ok=True)
        taker.join(5)
        for connection in taken:
            connection.close()


class JackServer:
    """A dummy JACK server a test stops and starts again under the same name (a performer's
    audio server that crashed and was restarted)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = start_jackd(self.name, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        wait_ready(self.process, self.name)

    def stop(self) -> None:
        _closes_done()  # the server goes with clients open, as a crash leaves them: not closing
        process, self.process = self.process, None
        if process is not None:
            process.terminate()
            process.wait(timeout=10)


@contextlib.contextmanager
def _serving(monkeypatch: pytest.MonkeyPatch) -> Iterator[JackServer]:
    _need_rtmidi()
    server = JackServer(server_name("midi"))
    monkeypatch.setenv("JACK_DEFAULT_SERVER", server.name)
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture()
def jack_midi(monkeypatch):
    """Start ``jackd -d dummy`` under a name of its own; JACK_DEFAULT_SERVER points at it (for
    this process and the subprocesses it starts). Yields the server's name."""
    with _serving(monkeypatch) as server:
        yield server.name


@pytest.fixture()
def jack_restartable(monkeypatch):
    """Like :func:`jack_midi`, but yields the :class:`JackServer` to stop and start again."""
    with _serving(monkeypatch) as server:
        yield server


class _TestInput:
    """A test's own JACK MIDI input, read by a thread of the test's (``get_message`` every
    millisecond) rather than through a callback: python-rtmidi calls a Python callback from
    JACK's process thread, and deleting the port while such a call is under way crashed the
    test process (a segmentation fault in ``delete``, once in four full runs)."""

    def __init__(self, port_name: str) -> None:
        import rtmidi

        self.got: list[list[int]] = []
        self._port = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="gmtest")
        self._port.open_virtual_port(port_name)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        port = self._port
        while not self._stop.is_set():
            message = port.get_message()
            if message is None:
                self._stop.wait(0.001)
            else:
                self.got.append(list(message[0]))

    def rename(self, port_name: str) -> None:
        """Rename the port (its connections stay), as a DAW does when a track is renamed."""
        self._port.set_port_name(port_name)

    def delete(self) -> None:
        """Stop reading, then close and free the port (nothing else touches it by then)."""
        self._stop.set()
        self._thread.join(5)
        self._port.close_port()
        self._port.delete()


def jack_in(port_name: str):  # noqa: ANN201
    """A MIDI input of the test's own (a JACK virtual port) and the list its messages go to."""
    port = _TestInput(port_name)
    return port, port.got


def jack_out(port_name: str):  # noqa: ANN201
    """A MIDI output of the test's own (a JACK virtual port), as a controller would be."""
    import rtmidi

    port = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="gmtest")
    port.open_virtual_port(port_name)
    return port


def wait_for(condition, timeout: float = 5.0) -> bool:  # noqa: ANN001
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.005)
    return condition()
