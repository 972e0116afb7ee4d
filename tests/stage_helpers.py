"""Helpers of the stage-mode tests over MIDI and LSL: a tiny trained project, and the labels a
`gesturemap run` sends back over OSC; float OSC messages and a free UDP port for a run's input."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def two_level_project(folder: Path) -> Path:
    """A trained 2-input GMM project: class "low" near 0.1, "high" near 0.9; saved in folder."""
    from gesturemap.project import Project

    # gesturemap's own messages on (label, likelihoods): the stage tests read the label
    project = Project(classes=["low", "high"], outputs={"extras": True})
    rng = np.random.default_rng(0)
    for label, level in (("low", 0.1), ("high", 0.9)):
        for _ in range(3):
            project.add_take(level + 0.02 * rng.standard_normal((40, 2)), label)
    # a posture classifier on a stream that is never reset: it decides on the last frame, as
    # Wekinator's classifiers do (the default, "cumulative", suits streams reset per gesture)
    project.model = {"kind": "gmm",
                     "params": {"gaussians": 1, "decision": "window", "likelihood_window": 1}}
    project.train()
    project.save(folder)
    return folder


def project_with_scenes(folder: Path) -> Path:
    """The two-level project with two scenes: "plain" (as trained) and "swapped" (its classes
    learned the other way round); saved in folder."""
    from gesturemap.project import Project

    two_level_project(folder)
    project = Project.load(folder)
    project.save_scene("plain")
    swapped = Project(classes=["low", "high"], outputs={"extras": True}, model=project.model)
    for take in project.takes:
        swapped.add_take(take.inputs, "high" if take.label == "low" else "low")
    swapped.train()
    project.trained = swapped.trained
    project.save_scene("swapped")
    project.save(folder)
    return folder


def osc_labels(rx, count: int, timeout: float = 5.0) -> list[str]:  # noqa: ANN001
    """The /gesturemap/label texts received on socket ``rx``, until ``count`` or ``timeout``."""
    from pythonosc.osc_bundle import OscBundle

    labels: list[str] = []
    end = time.monotonic() + timeout
    while time.monotonic() < end and len(labels) < count:
        try:
            data = rx.recv(65536)
        except TimeoutError:
            continue
        if data.startswith(b"#bundle"):
            labels += [m.params[0] for m in OscBundle(data) if m.address == "/gesturemap/label"]
    return labels


def bundle_params(rx, addresses: tuple[str, ...], enough, timeout: float = 5.0  # noqa: ANN001
                  ) -> dict[str, list[tuple]]:
    """Every message to one of ``addresses`` received on ``rx`` (bundles opened), as
    ``{address: [params, ...]}`` in arrival order, until ``enough(got)`` or ``timeout``."""

    def by_address(messages: list[tuple[str, tuple]]) -> dict[str, list[tuple]]:
        got: dict[str, list[tuple]] = {a: [] for a in addresses}
        for address, params in messages:
            if address in got:
                got[address].append(params)
        return got

    return by_address(osc_messages(rx, lambda m: enough(by_address(m)), timeout))


def rest_of(proc: subprocess.Popen, timeout: float = 30) -> tuple[str, str]:
    """Wait for ``proc`` to end and return the rest of its stdout and stderr, as
    ``communicate`` would, but read through the same file objects: once a test has read a line
    with ``readline()``, what that read took ahead of the line waits in the file object's
    buffer, and ``communicate(timeout=...)`` reads the pipe underneath and loses it (a take's
    id, a line of a run's output). On a timeout the process is killed, then TimeoutExpired."""
    import threading

    if proc.stdin is not None and not proc.stdin.closed:
        proc.stdin.close()
    got: dict[str, str] = {}
    readers = [threading.Thread(target=lambda n=name, f=stream: got.__setitem__(n, f.read()),
                                daemon=True)
               for name, stream in (("out", proc.stdout), ("err", proc.stderr))
               if stream is not None]
    for reader in readers:
        reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        raise
    finally:
        for reader in readers:
            reader.join(10)
    return got.get("out", ""), got.get("err", "")


def start_run(folder: Path, *options: object) -> tuple[subprocess.Popen, str]:
    """`gesturemap run FOLDER --no-audio OPTIONS...` in a process of its own; returns it and its
    start-up line (fails with its stderr when it did not start)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gesturemap.cli", "run", str(folder), "--no-audio",
         *map(str, options)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = proc.stdout.readline()
    if "listening" not in line:
        proc.kill()
        raise AssertionError(line + rest_of(proc)[1])
    return proc, line


def read_stats(path: Path) -> dict:
    """A run's ``--stats`` file as it is now: empty while it is not written yet, or caught
    while it is being replaced."""
    import json

    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


def first_start_run(tmp_path: Path, kind: str, port: int, out_port: int
                    ) -> tuple[subprocess.Popen, Path]:
    """`gesturemap run` of a new ``kind`` project on an empty numba cache, as on a new machine
    (``--osc-in`` on ``port``, ``--osc-out`` to ``out_port``, ``--stats`` every second), run
    as a performer runs it (not the tests' raise mode). Returns the process once it listens,
    and its stats file; its stdout holds the rest of what it says."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    env.pop("GESTUREMAP_RAISE", None)
    project = tmp_path / f"new-{kind}"
    subprocess.run([sys.executable, "-m", "gesturemap", "new", str(project), "--model", kind],
                   env=env, check=True, capture_output=True, timeout=60)
    stats = tmp_path / "stats.json"
    run = subprocess.Popen(
        [sys.executable, "-m", "gesturemap", "run", str(project), "--no-audio",
         "--osc-in", f"127.0.0.1:{port}", "--osc-out", f"127.0.0.1:{out_port}",
         "--stats", str(stats)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = run.stdout.readline()
    if "listening" not in line:
        run.kill()
        raise AssertionError(line + run.communicate(timeout=30)[0])
    return run, stats


def stop_run(proc: subprocess.Popen) -> tuple[str, str]:
    """Ctrl-C, as a performer stops it; waits for it to end; returns the rest of its stdout
    and its stderr."""
    proc.send_signal(signal.SIGINT)
    return rest_of(proc)


def osc_receiver() -> socket.socket:
    """A UDP socket on a free loopback port, for a run's --osc-out."""
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.2)
    return rx


def spotting_project(**settings: object) -> object:
    """A trained spotting HHMM of two gestures ("swell", "explosion") and null takes over two
    inputs; ``settings``: more of the project's (``outputs={"extras": True}``...)."""
    import gesturemap as gm
    from gesturemap.project import Project

    rng = np.random.default_rng(2)
    project = Project("spotting", model={"kind": "hhmm", "params": {
        "states": 3, "gaussians": 1, "deltas": False}, "spotting": {}}, input_names=["x", "y"],
        **settings)
    t = np.linspace(0, 1, 40)[:, None]
    for _ in range(4):
        project.add_take(np.hstack([t, 1 - t]) + rng.normal(scale=0.03, size=(40, 2)), "swell")
        project.add_take(np.hstack([1 - t, t]) + rng.normal(scale=0.03, size=(40, 2)),
                         "explosion")
        project.add_take(np.full((60, 2), 0.5) + rng.normal(scale=0.03, size=(60, 2)), gm.NULL)
    project.train()
    return project


def loopback_engine(folder: Path, rx: socket.socket | None = None) -> object:
    """The project saved in ``folder``, opened again and run by an engine in this process:
    its control port on loopback, its replies to ``rx`` (when given), its edits saved into
    ``folder``."""
    from gesturemap.live.engine import Engine
    from gesturemap.project import Project

    out = None if rx is None else ("127.0.0.1", rx.getsockname()[1])
    return Engine(Project.load(folder), osc_in=("127.0.0.1", 0), osc_out=out,
                  trainer="thread", project_dir=folder).start()


def float_msg(address: str, *values: float) -> bytes:
    """An OSC datagram of float32 arguments, as a sensor or Wekinator's control sends it."""
    from pythonosc.osc_message_builder import OscMessageBuilder

    b = OscMessageBuilder(address)
    for v in values:
        b.add_arg(float(v), "f")
    return b.build().dgram


#: Where the ports handed out by :func:`free_port` start, and how many each test worker has.
#: Below Linux's ephemeral range (32768 and up), which is where a socket sending without a
#: port of its own is given one: a free port taken from that range could be handed to another
#: test's sending socket before the server under test binds it (a flaky "never listened").
PORT_BASE, PORT_BLOCK = 20000, 1500


def _port_block() -> range:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    start = PORT_BASE + (int(worker) if worker.isdigit() else 0) * PORT_BLOCK
    return range(start, start + PORT_BLOCK)


_handed: list[int] = []


def free_port() -> int:
    """A loopback UDP port free now, for a server a test starts (a run's --osc-in, say), that
    neither another test's sending socket nor the other worker will take before it binds it:
    from this worker's own block below the ephemeral range, in turn, each tried first. The
    turn starts at a place of this process's own, in case two test runs share the machine."""
    block = _port_block()
    if not _handed:
        _handed.append(block.start + (os.getpid() * 7919) % len(block))
    for _ in range(len(block)):
        port = _handed[0]
        _handed[0] = block.start + (port + 1 - block.start) % len(block)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free UDP port in {block.start}-{block.stop - 1}")


def logged_run(folder: Path, logdir: Path) -> tuple[subprocess.Popen, int]:
    """`gesturemap run FOLDER --log LOGDIR` reading OSC on a free loopback port (returned),
    sending nowhere that listens."""
    port = free_port()
    run, _ = start_run(folder, "--osc-in", f"127.0.0.1:{port}", "--osc-out", "127.0.0.1:9",
                       "--log", logdir)
    return run, port


def osc_message(address: str, *values: object) -> bytes:
    """An OSC datagram of ``values`` with python-osc's own types (int, float, str...); a
    ``(value, type)`` pair gives the OSC type of one's choice (``"d"``: a double)."""
    from pythonosc.osc_message_builder import OscMessageBuilder

    b = OscMessageBuilder(address)
    for v in values:
        if isinstance(v, tuple):
            b.add_arg(*v)
        else:
            b.add_arg(v)
    return b.build().dgram


def child_pids(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux's /proc), as numbers."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def descendant_pids(pid: int) -> list[int]:
    """Every process below ``pid``: its children, theirs, and so on (the helpers gesturemap
    starts are its fork server's children)."""
    found, todo = [], child_pids(pid)
    while todo:
        child = todo.pop()
        found.append(child)
        todo += child_pids(child)
    return found


def process_alive(pid: int) -> bool:
    """Running: neither gone nor a zombie waiting for its parent to read its status."""
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return False


def wait_for(condition, timeout: float = 10.0) -> None:  # noqa: ANN001
    """Wait until ``condition()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        time.sleep(0.005)


def osc_messages(rx, enough, timeout: float = 10.0) -> list[tuple[str, tuple]]:  # noqa: ANN001
    """Every OSC message received on socket ``rx`` (bundles opened), as ``(address,
    params)`` in arrival order, until ``enough(messages)`` or ``timeout``."""
    from pythonosc.osc_bundle import OscBundle
    from pythonosc.osc_message import OscMessage

    got: list[tuple[str, tuple]] = []
    end = time.monotonic() + timeout
    while time.monotonic() < end and not enough(got):
        try:
            data = rx.recv(65536)
        except TimeoutError:
            continue
        parts = list(OscBundle(data)) if data.startswith(b"#bundle") else [OscMessage(data)]
        got += [(m.address, tuple(m.params)) for m in parts if isinstance(m, OscMessage)]
    return got


def watch_reading(monkeypatch, path) -> list:  # noqa: ANN001
    """Watch gesturemap read ``path`` (through gesturemap.utils.reading, the one way it opens the
    files it reads): returns a list whose last item is, at any moment, how many bytes of it
    the reader has consumed so far (the file object's position, not what its buffer holds)."""
    import os

    from gesturemap.utils import reading as _files

    opened = _files.open_regular_file
    handles: list = []

    def watched(where, **kwargs):  # noqa: ANN001, ANN202
        handle = opened(where, **kwargs)
        if os.path.samefile(where, path):
            handles.append(handle)
        return handle

    monkeypatch.setattr(_files, "open_regular_file", watched)

    class Position(list):
        def __getitem__(self, index):  # noqa: ANN001, ANN204
            return [h.tell() for h in handles][index]

        def __len__(self) -> int:
            return len(handles)

    return Position()


class OscPeer:
    """A Wekinator client's two sockets: sends float messages to ``port_in`` (a stage's OSC
    input) and reads what the stage answers on its own port (``port_out``)."""

    def __init__(self, port_in: int) -> None:
        self.port_in = port_in
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rx.bind(("127.0.0.1", 0))
        self.rx.settimeout(0.05)

    @property
    def port_out(self) -> int:
        return self.rx.getsockname()[1]

    def send(self, address: str, *values: float) -> None:
        self.tx.sendto(float_msg(address, *values), ("127.0.0.1", self.port_in))

    def replies(self, until, timeout: float = 5.0) -> list:  # noqa: ANN001
        """The messages received (a bundle counts as one, undecoded), until ``until(got)`` or
        ``timeout`` seconds."""
        from pythonosc.osc_message import OscMessage

        got: list = []
        deadline = time.monotonic() + timeout
        while not until(got) and time.monotonic() < deadline:
            try:
                got.append(OscMessage(self.rx.recv(65536)))
            except TimeoutError:
                continue
        return got

    def record_and_train(self, frame, classes, frames: int = 40) -> None:  # noqa: ANN001
        """One recording Wekinator's way (startRecording; for each class, ``outputs`` then
        ``frames`` calls of ``frame(class)``; stopRecording), then train."""
        self.send("/wekinator/control/startRecording")
        for cls in classes:
            self.send("/wekinator/control/outputs", cls)
            for _ in range(frames):
                frame(cls)
                time.sleep(0.003)
        self.send("/wekinator/control/stopRecording")
        self.send("/wekinator/control/train")

    def close(self) -> None:
        self.tx.close()
        self.rx.close()


class LoopbackRun:
    """`gesturemap run FOLDER --no-audio OPTIONS...` reading OSC on a free loopback port
    (``osc_port``) and answering on a socket of ours (``rx``; ``tx`` sends to it). Drives a
    stage as a test drives an engine: ``command("reset")`` sends ``/gesturemap/reset``."""

    def __init__(self, folder: Path, *options: object) -> None:
        self.rx = osc_receiver()
        self.osc_port = free_port()
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.proc, _ = start_run(folder, "--osc-in", f"127.0.0.1:{self.osc_port}",
                                 "--osc-out", f"127.0.0.1:{self.rx.getsockname()[1]}",
                                 *options)

    def send(self, address: str, *values: float) -> None:
        """Send a float OSC message to the run."""
        self.tx.sendto(float_msg(address, *values), ("127.0.0.1", self.osc_port))

    def command(self, name: str) -> None:
        self.send(f"/gesturemap/{name}")

    def stop(self) -> tuple[str, str]:
        """Ctrl-C; the rest of its stdout and its stderr."""
        try:
            return stop_run(self.proc)
        finally:
            self.tx.close()
            self.rx.close()
