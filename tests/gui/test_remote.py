"""The window's engine in its own process (gesturemap.gui.remote).

Real parts: a spawned engine process, loopback UDP for OSC in and out, a real window in a
child process that is killed with SIGKILL, and a window thread that holds the GIL.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

from gesturemap.bench import latency as bench_latency
from gesturemap.bench import load_workload
from gesturemap.gui.remote import EngineProcess
from gesturemap.gui.session import TakeRef
from gesturemap.project import Project
from gesturemap.sources.base import Frame
from tests.stage_helpers import descendant_pids, free_port, process_alive

pytestmark = pytest.mark.timeout(240)


def _msg(address, *values):
    b = OscMessageBuilder(address)
    for v in values:
        b.add_arg(v)
    return b.build().dgram


def _udp_rx():
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(5)
    return rx




def _udp_bound(port: int) -> bool:
    """Whether some process has a UDP socket bound to ``port`` (Linux: /proc/net/udp*): from
    then on datagrams sent to it wait in its buffer, read or not yet."""
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        if any(int(row.split()[1].rsplit(":", 1)[1], 16) == port for row in rows):
            return True
    return False


def _wait(condition, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture(scope="module")
def workload():
    return load_workload()


@pytest.fixture
def trained(tmp_path, workload):
    """An HHMM project trained on XMM's reference workload; outputs go to a test socket."""
    folder = bench_latency._project(tmp_path / "proj", workload)
    rx = _udp_rx()
    project = Project.load(folder)
    project.outputs = {"host": "127.0.0.1", "port": rx.getsockname()[1]}
    project.sensor = {"transport": "osc", "profile": "wekinator", "port": free_port()}
    project.save(folder)
    yield folder, rx
    rx.close()


def test_engine_process_runs_records_edits_and_saves(trained, workload, tmp_path):
    folder, rx = trained
    frames = workload.test_frames
    engine = EngineProcess(Project.load(folder), project_dir=folder,
                           osc_in=("127.0.0.1", 0), trainer="thread").start()
    try:
        assert engine.pid != os.getpid() and engine.osc_port
        assert engine.running and engine.model.labels_ == sorted(engine.model.labels_)
        # OSC in -> the engine process -> OSC out, and the snapshot follows
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for x in frames[:50]:
            tx.sendto(_msg("/wek/inputs", *map(float, x)), ("127.0.0.1", engine.osc_port))
            data, _ = rx.recvfrom(65536)
            while not data.startswith(b"/wek/outputs"):
                data, _ = rx.recvfrom(65536)
        assert _wait(lambda: engine.frames_in == 50)
        assert engine.last_result is not None
        assert engine.last_result.likelihoods.shape == (len(engine.model.labels_),)
        _, values = engine.ring.latest(50)
        np.testing.assert_array_equal(values, frames[:50])
        # the features plot gets the pipeline's output and its channel names
        _, features = engine.feature_ring.latest(50)
        assert features.shape == (50, len(engine.feature_ring.names)) and engine.feature_ring.names
        assert _wait(lambda: engine.stats()["frames_in"] == 50)  # refreshed twice a second

        # a take recorded from frames put by the window (the mouse pad's path)
        takes = len(engine.project.takes)
        engine.command("add_class", "new")
        engine.command("start_recording", "new")
        assert _wait(lambda: engine.recording)
        for i, x in enumerate(frames[100:140]):
            engine.queue.put(Frame(time.perf_counter(), x, "pad"))
            time.sleep(0.002 if i % 4 else 0.0)
        engine.command("stop_recording")
        assert _wait(lambda: len(engine.project.takes) == takes + 1)
        take = engine.project.takes[-1]
        assert take.label == "new" and "new" in engine.project.classes
        np.testing.assert_array_equal(take.inputs, frames[100:140])
        assert _wait(lambda: (folder / "takes" / f"{take.id}.npz").exists())

        # delete, undo (the data comes back from the engine process), relabel the restored take
        ref = TakeRef(take.id)
        engine.command("remove_take", ref)
        assert _wait(lambda: len(engine.project.takes) == takes)
        engine.command("restore_take", ref)
        assert _wait(lambda: len(engine.project.takes) == takes + 1)
        back = engine.project.takes[-1]
        # back from the project's trash under its own id
        assert back.id == take.id and np.array_equal(back.inputs, take.inputs)
        engine.command("relabel_take", ref, engine.project.classes[0])
        assert _wait(lambda: engine.project.takes[-1].label == engine.project.classes[0])

        # retrain in the engine process: the new labels reach the window
        trainings = engine.trainings
        engine.command("train")
        assert _wait(lambda: engine.trainings == trainings + 1, timeout=60)
        assert engine.last_train_ms > 0

        # save as: the window learns when it is done
        done, errors = threading.Event(), []
        engine.command("save", tmp_path / "copy", done, errors)
        assert done.wait(20) and not errors
        copy = Project.load(tmp_path / "copy")
        assert [t.id for t in copy.takes] == [t.id for t in engine.project.takes]
        assert engine.edits > 0
    finally:
        engine.stop()
    assert engine.exception is None and engine.snapshot_errors == 0
    assert not engine._process.is_alive() and engine._process.exitcode == 0


WINDOW = textwrap.dedent("""
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6 import QtCore, QtWidgets
    from gesturemap.project import Project
    from gesturemap.gui.window import MainWindow
    folder = sys.argv[1]
    app = QtWidgets.QApplication([])
    window = MainWindow(Project.load(folder), folder, trainer="thread")
    window.show()
    if "--rehearse" not in sys.argv:
        print("ready", window.engine.pid, flush=True)
    else:  # Record a rehearsal, pressed at once; said once the engine records it (or not)
        window.rehearsal.record.click()
        def said(tries=600):
            if window.engine.stats().get("rehearsing") or not tries:
                print("rehearsing" if tries else "not-rehearsing", window.engine.pid,
                      flush=True)
            else:
                QtCore.QTimer.singleShot(50, lambda: said(tries - 1))
        said()
    app.exec()
""")


@contextlib.contextmanager
def _window_process(folder: Path, said: str, *args: str):
    """A real window in a child process on a new project in ``folder`` whose sensor is OSC
    (Wekinator's /wek/inputs: the mouse pad stays quiet). Yields the process, the engine
    process's pid and the sensor's port once the window printed ``said`` and the engine
    listens; the window is killed on the way out if the test has not killed it."""
    port = free_port()
    Project(folder.name, model="hhmm", classes=["wave", "tap"],
            sensor={"transport": "osc", "profile": "wekinator", "port": port}).save(folder)
    env = dict(os.environ, GESTUREMAP_RAISE="0")
    window = subprocess.Popen([sys.executable, "-c", WINDOW, str(folder), *args],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = window.stdout.readline().split()
        assert line[0] == said, line
        # the window's line comes first; the engine process opens the sensor's port on its
        # own time (a busy machine: after the first message would have been sent, and lost)
        assert _wait(lambda: _udp_bound(port), timeout=30)
        yield window, int(line[1]), port
    finally:
        if window.poll() is None:
            window.kill()
        window.stdout.close()


def _kill(window: subprocess.Popen) -> None:
    os.kill(window.pid, signal.SIGKILL)
    window.wait(10)


def test_killing_the_window_keeps_every_completed_take(tmp_path):
    folder = tmp_path / "proj"
    with _window_process(folder, "ready") as (window, engine_pid, port):
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rng = np.random.default_rng(3)
        sent = []
        # a foot pedal's startRecording / stopRecording around a sensor's frames, twice
        for _ in range(2):
            tx.sendto(_msg("/wekinator/control/startRecording"), ("127.0.0.1", port))
            time.sleep(0.2)
            frames = rng.standard_normal((60, 3))
            for x in frames:
                tx.sendto(_msg("/wek/inputs", *map(float, x)), ("127.0.0.1", port))
                time.sleep(0.005)
            time.sleep(0.1)
            tx.sendto(_msg("/wekinator/control/stopRecording"), ("127.0.0.1", port))
            sent.append(frames)
            time.sleep(0.3)
        assert _wait(lambda: len(list((folder / "takes").glob("*.npz"))) == 2)
        # the takes are reviewed in the window's worker process: it has started beside the
        # engine's
        def review_started() -> bool:
            engine_side = {engine_pid, *descendant_pids(engine_pid)}
            # besides the engine's: the resource tracker, the fork server, the review worker
            return len(set(descendant_pids(window.pid)) - engine_side) >= 3

        assert _wait(review_started, timeout=30), descendant_pids(window.pid)
        workers = descendant_pids(window.pid)
        tx.close()
        _kill(window)
    # the engine process sees its window gone and ends by itself, and so does the review
    # worker: no orphan is left behind
    assert engine_pid in workers
    # (its engine stops whole first, saving as it goes: seconds on a loaded machine)
    assert _wait(lambda: not any(process_alive(pid) for pid in workers), timeout=40), \
        [pid for pid in workers if process_alive(pid)]
    project = Project.load(folder)
    assert [t.label for t in project.takes] == ["wave", "wave"]
    for take, frames in zip(project.takes, sent, strict=True):
        # OSC floats are 32-bit: the take holds exactly what was sent
        np.testing.assert_array_equal(take.inputs, frames.astype(np.float32))


def test_killing_the_window_mid_rehearsal_keeps_the_rehearsal(tmp_path):
    """A rehearsal recorded with the window's button is recorded by the engine: when the
    window is killed mid-rehearsal, the engine process keeps every frame it got."""
    from gesturemap.evaluation.spotting.streams import read_stream_file
    from gesturemap.project import kept_rehearsals

    folder = tmp_path / "proj"
    with _window_process(folder, "rehearsing", "--rehearse") as (window, engine_pid, port):
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sent = np.random.default_rng(8).standard_normal((150, 3))
        for x in sent:
            tx.sendto(_msg("/wek/inputs", *map(float, x)), ("127.0.0.1", port))
            time.sleep(0.005)
        tx.close()
        time.sleep(0.5)
        assert kept_rehearsals(folder) == []  # nothing kept while it goes on
        _kill(window)
    assert _wait(lambda: not process_alive(engine_pid), timeout=20)
    (kept,) = kept_rehearsals(folder)
    # OSC floats are 32-bit: the rehearsal holds exactly what was sent, and no take was made
    np.testing.assert_array_equal(read_stream_file(kept)[0], sent.astype(np.float32))
    assert not Project.load(folder).takes


def test_the_picked_class_is_current_before_the_sensor_opens(tmp_path):
    """A pedal's startRecording in the engine's first moments records the class the window
    shows picked: it is current before the sensor's port opens, not after the window's own
    set_label crossed the pipe (no set_label is sent here at all)."""
    folder = tmp_path / "proj"
    port = free_port()
    Project("first", model="hhmm", classes=["wave", "tap"],
            sensor={"transport": "osc", "profile": "wekinator", "port": port}).save(folder)
    engine = EngineProcess(Project.load(folder), project_dir=folder, trainer="thread",
                           label="tap").start()
    try:
        assert _wait(lambda: _udp_bound(port), timeout=30)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tx.sendto(_msg("/wekinator/control/startRecording"), ("127.0.0.1", port))
        for x in np.random.default_rng(1).standard_normal((20, 3)):
            tx.sendto(_msg("/wek/inputs", *map(float, x)), ("127.0.0.1", port))
        tx.sendto(_msg("/wekinator/control/stopRecording"), ("127.0.0.1", port))
        assert _wait(lambda: len(engine.project.takes) == 1 and engine.record_commands == 2,
                     timeout=30), engine.stats()
        assert engine.current_label == "tap"
        assert [t.label for t in engine.project.takes] == ["tap"]
        assert engine.stats().get("errors", 0) == 0
        tx.close()
    finally:
        engine.stop()
    assert engine.exception is None


SENDER = textwrap.dedent("""
    import json, select, socket, sys, time
    from pythonosc.osc_message_builder import OscMessageBuilder
    port = int(sys.argv[1])
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", int(sys.argv[2])))
    rx.settimeout(0.001)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = OscMessageBuilder("/wek/inputs")
    for v in (0.1, 0.2, 0.3, 0.1, 0.2, 0.3):
        b.add_arg(v)
    packet = b.build().dgram
    print("go", flush=True)
    # sends until the test says stop (a line on stdin), so the sending covers the window's
    # hold however long a loaded machine makes it
    arrivals, sent, t0 = [], 0, time.perf_counter()
    while not select.select([sys.stdin], [], [], 0)[0]:
        tx.sendto(packet, ("127.0.0.1", port))
        sent += 1
        next_t = t0 + sent * 0.005
        while time.perf_counter() < next_t:
            try:
                if rx.recv(65536).startswith(b"/wek/outputs"):
                    arrivals.append(time.perf_counter())
            except socket.timeout:
                pass
    print(json.dumps({"sent": sent, "arrivals": arrivals, "first": t0,
                      "last": time.perf_counter()}), flush=True)
""")


# alone, the engine in a process of its own: it bounds a latency, with a core held by the
# window's thread and the sender's loop on the other (another test's load would be measured)
@pytest.mark.parametrize("mode", [pytest.param("process", marks=pytest.mark.alone), "thread"])
def test_a_window_holding_its_thread_does_not_delay_the_outputs(qtbot, trained, mode):
    """The window's thread holds the GIL for about a second (one long C-level call, as a
    huge redraw can); a sensor in another process keeps sending at 200 frames/s. With the
    engine in its own process every frame is answered at once; on a thread of the window's
    process the answers wait for the window (the reason for the process)."""
    from gesturemap.gui.window import MainWindow

    folder, rx = trained
    out_port = rx.getsockname()[1]
    rx.close()  # the sender process listens there
    project = Project.load(folder)
    port = project.sensor["port"]
    window = MainWindow(project, folder, trainer="thread", engine=mode)
    qtbot.addWidget(window)
    window.show()
    sender = subprocess.Popen([sys.executable, "-c", SENDER, str(port), str(out_port)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert sender.stdout.readline().strip() == "go"
        time.sleep(0.8)
        started = time.perf_counter()
        sum(range(60_000_000))  # holds the GIL throughout: no bytecode runs inside
        held = time.perf_counter() - started
        time.sleep(0.8)
        sender.stdin.write("stop\n")
        sender.stdin.flush()
        result = json.loads(sender.stdout.readline())
    finally:
        sender.kill()
        sender.wait()
        window._ask_save = lambda: "discard"
        window.close()
    arrivals = np.array(result["arrivals"])
    longest_silence = np.diff(arrivals).max()
    assert held > 0.4
    # perf_counter is the system's monotonic clock, shared by both processes
    assert result["first"] < started and result["last"] > started + held
    if mode == "process":
        # answers kept coming every 5 ms or so while the window was stuck
        assert len(arrivals) > 0.9 * result["sent"]
        assert longest_silence < 0.1, longest_silence
    else:
        # no answer at all while the window held the GIL
        assert longest_silence > 0.5 * held, longest_silence


def test_a_dead_engine_process_is_restarted_with_every_take(qtbot, tmp_path):
    """The engine process dies (SIGKILL, as a crash would): the window starts a new one on the
    project folder, the sensor's port opens again, every completed take is there, and frames
    flow through the new engine."""
    from gesturemap.gui.window import MainWindow

    folder = tmp_path / "proj"
    port = free_port()
    Project("restart", model="hhmm", classes=["wave"],
            sensor={"transport": "osc", "profile": "wekinator", "port": port}).save(folder)
    window = MainWindow(Project.load(folder), folder, trainer="thread")
    qtbot.addWidget(window)
    window.show()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    frames = np.random.default_rng(5).standard_normal((40, 3))

    def send(rows):
        for x in rows:
            tx.sendto(_msg("/wek/inputs", *map(float, x)), ("127.0.0.1", port))
            time.sleep(0.005)

    qtbot.waitUntil(lambda: window.engine.stats().get("sensor_error", "") is None, timeout=10000)
    tx.sendto(_msg("/wekinator/control/startRecording"), ("127.0.0.1", port))
    qtbot.waitUntil(lambda: window.engine.recording, timeout=5000)
    send(frames)
    tx.sendto(_msg("/wekinator/control/stopRecording"), ("127.0.0.1", port))
    qtbot.waitUntil(lambda: len(window.project.takes) == 1, timeout=5000)
    qtbot.waitUntil(lambda: (folder / "takes" / f"{window.project.takes[0].id}.npz").exists(),
                    timeout=5000)
    dead = window.engine.pid
    os.kill(dead, signal.SIGKILL)
    qtbot.waitUntil(lambda: window.engine_restarts == 1, timeout=15000)
    assert window.engine.pid != dead and window.engine.alive
    assert "restarted" in window.train_status.text()
    assert len(window.project.takes) == 1
    np.testing.assert_array_equal(window.project.takes[0].inputs, frames.astype(np.float32))
    # the new engine listens on the sensor's port again
    qtbot.waitUntil(lambda: window.engine.stats().get("sensor_error", "") is None, timeout=10000)
    before = window.engine.frames_in
    send(frames[:10])
    qtbot.waitUntil(lambda: window.engine.frames_in >= before + 10, timeout=5000)
    window._ask_save = lambda: "discard"
    window.close()


def test_a_bad_message_from_the_window_is_counted_and_the_engine_runs_on(trained, monkeypatch):
    folder, _ = trained
    monkeypatch.setenv("GESTUREMAP_RAISE", "0")  # counted, as on stage, not kept to re-raise
    engine = EngineProcess(Project.load(folder), project_dir=folder, trainer="thread").start()
    try:
        engine._send_bytes(b"J\x00\x00")  # truncated
        engine._send_bytes(b"Jnot a message at all")
        engine._send_bytes(b"F" + b"\x00" * 12)  # a frame whose values are not float64s
        engine.command("no_such_command")
        assert _wait(lambda: engine.errors >= 4)
        engine.queue.put(Frame(time.perf_counter(), np.zeros(6), "pad"))
        assert _wait(lambda: engine.frames_in == 1)
        assert engine.alive
    finally:
        engine.stop()
    assert engine._process.exitcode == 0
