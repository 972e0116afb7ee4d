"""OSC in -> OSC out latency of ``gesturemap run`` on loopback, beside a bare python-osc floor.

A sender in this process sends ``/wek/inputs`` frames (6 floats of XMM's reference test stream)
at a fixed rate to a ``gesturemap run`` process serving an HHMM project trained on XMM's
reference workload, and times each ``/wek/outputs`` answer on its own receiving socket (UDP on
loopback keeps order, so the n-th answer belongs to the n-th frame). The same is done against a
minimal python-osc script that runs the same model step and nothing else: the floor for Python.
A second run sends Wekinator's ``train`` command every ``retrain_every_s`` seconds, so that the
figures include a retrain running at the same time. With ``search``, a third run does the same on
the project with ``"auto"`` on: after each retrain the background search (gm.auto) runs in its own
process for the rest of the run (each retrain cancels it and starts a new one).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np

# in a measured process, before it starts (preexec_fn): ordinary scheduling, whatever the
# client has (imported here: nothing is imported between fork and exec)
from ..live.trainer import ordinary_scheduling as _ordinary
from .workload import Workload

FLOOR_SCRIPT = textwrap.dedent("""
    import sys
    from gesturemap.project import Project
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import BlockingOSCUDPServer
    from pythonosc.udp_client import SimpleUDPClient
    model = Project.load(sys.argv[1]).trained
    stream = model.stream()
    client = SimpleUDPClient("127.0.0.1", int(sys.argv[3]))
    def on_inputs(address, *args):
        r = stream.step(args)
        client.send_message("/wek/outputs", float(r.label_index + 1))
    d = Dispatcher()
    d.map("/wek/inputs", on_inputs)
    server = BlockingOSCUDPServer(("127.0.0.1", int(sys.argv[2])), d)
    print("ready", server.server_address[1], flush=True)
    server.serve_forever()
""")

# The window on the same project, listening for OSC, busy: besides its own 30 Hz redraw, a
# timer redraws a 200,000-point curve every 50 ms (a huge plot) on the window's thread.
WINDOW_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    import pyqtgraph as pg
    from PySide6 import QtCore, QtWidgets
    from gesturemap.project import Project
    from gesturemap.gui.window import MainWindow
    folder, port, out_port, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    project = Project.load(folder)
    project.outputs = {"host": "127.0.0.1", "port": out_port}
    project.sensor = {"transport": "osc", "profile": "wekinator", "port": port}
    project.save(folder)
    app = QtWidgets.QApplication([])
    window = MainWindow(Project.load(folder), folder, engine=mode)
    window.show()
    huge = pg.PlotWidget()
    window.tabs.addTab(huge, "huge")
    window.tabs.setCurrentWidget(huge)
    curve = huge.plot()
    rng = np.random.default_rng(0)
    def busy():
        curve.setData(np.cumsum(rng.standard_normal(200_000)))
        huge.repaint()
    timer = QtCore.QTimer()
    timer.timeout.connect(busy)
    timer.start(50)
    # stopped by SIGTERM (stop_servers): the window closes as a user's would, its engine and
    # workers ending cleanly (killed outright, they leave semaphores for the resource tracker
    # to warn about); the busy timer's Python code lets the handler run
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    QtCore.QTimer.singleShot(0, lambda: print("ready", flush=True))
    app.exec()
    window._ask_save = lambda: "discard"
    window.close()
""")


def _free_port() -> int:
    """A port free now. Only for a server that cannot bind port 0 and say which it got (the
    window, whose engine may run in a process of its own): a port picked here and closed can be
    given to another socket before the server binds it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _announced_port(proc: subprocess.Popen) -> int:
    """The port a server started by a benchmark listens on, from the first line it prints:
    ``ready PORT`` (the scripts here) or ``gesturemap run``'s ``listening on HOST:PORT``. Each
    binds port 0, the kernel's choice made as it binds, so no other socket can take it first."""
    line = proc.stdout.readline()
    found = re.search(r"(?:^ready |listening on [^\s:]+:)(\d+)", line)
    if found is None:
        raise RuntimeError(f"a server the benchmark started did not say where it listens: "
                           f"{line.strip()!r}")
    return int(found.group(1))


def _message(address: str, values: np.ndarray) -> bytes:
    from ..outputs.osc import MessageEncoder

    return MessageEncoder().floats(address, values)


def _measure(in_port: int, rx: socket.socket, frames: np.ndarray, rate_hz: float,
             seconds: float, retrain_every_s: float | None,
             controls: list[bytes] | None = None) -> dict[str, Any]:
    """Send frames at ``rate_hz``; time each answer. Every ``retrain_every_s`` seconds a
    control message goes too: Wekinator's ``train``, or the next of ``controls`` in turn.
    After each send the client polls its socket for up to 2 ms (so that its own wake-up
    delay is not measured), then waits in
    ``select`` until the next send: a few percent of a core, not a spinning one that would
    take CPU away from what it measures (a retrain, say)."""
    import select

    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    period = 1.0 / rate_hz
    n = int(seconds * rate_hz)
    sent = np.zeros(n)
    lat = []
    packets = [_message("/wek/inputs", frames[i % len(frames)]) for i in range(n)]
    controls = controls or [_message("/wekinator/control/train", np.zeros(0))]
    sent_controls = 0
    rx.setblocking(False)
    answered = 0

    def read_all() -> None:
        nonlocal answered
        while True:
            try:
                data = rx.recv(65536)
            except BlockingIOError:
                return
            now = time.perf_counter()
            if data.startswith(b"/wek/outputs") and answered < n:
                lat.append((now - sent[answered]) * 1e6)
                answered += 1

    next_t = time.perf_counter()
    last_train = next_t
    for i in range(n):
        while True:
            wait = next_t - time.perf_counter()
            if wait <= 0:
                break
            if select.select([rx], [], [], wait)[0]:
                read_all()
        if retrain_every_s and next_t - last_train >= retrain_every_s:
            tx.sendto(controls[sent_controls % len(controls)], ("127.0.0.1", in_port))
            sent_controls += 1
            last_train = next_t
        sent[i] = time.perf_counter()
        tx.sendto(packets[i], ("127.0.0.1", in_port))
        poll_end = sent[i] + 0.002
        while answered <= i and time.perf_counter() < poll_end:
            read_all()
        next_t += period
    end = time.perf_counter() + 0.5
    while time.perf_counter() < end and answered < n:
        if select.select([rx], [], [], 0.05)[0]:
            read_all()
    tx.close()
    a = np.array(lat[int(rate_hz):])  # the first second warms caches up
    if not len(a):
        raise RuntimeError(f"no answers came back ({answered} of {n})")
    return {"frames": n, "answered": answered, "latency_us_p50": float(np.median(a)),
            "latency_us_p99": float(np.percentile(a, 99)),
            "latency_us_p999": float(np.percentile(a, 99.9)),
            "jitter_us_p99_minus_p50": float(np.percentile(a, 99) - np.median(a))}


def _project(folder: Path, workload: Workload, search: bool = False,
             spotting: bool = False, kind: str = "hhmm") -> Path:
    """A project trained on the workload's takes (an HHMM, or a 1-NN for ``kind="knn"``),
    saved in ``folder``."""
    from ..project import Project

    ds = workload.unimodal
    model: dict[str, Any] = ({"kind": "hhmm", "params": {"states": 10}} if kind == "hhmm" else
                             {"kind": "knn", "params": {"k": 1, "likelihood_window": 1,
                                                        "decision": "window"}})
    if search:  # a budget longer than the run: the search is always running
        model["auto"] = {"budget_s": 60.0}
    if spotting:  # the stream also spots gestures (defaults): Result.event, /gesturemap/event
        model["spotting"] = {}
    project = Project("latency", model=model)
    for rec in ds:
        project.add_take(rec.inputs, rec.label)
    project.trained = project.new_model().fit(project.dataset())
    project.save(folder)
    return folder


def compile_ahead() -> None:
    """Compile every kernel a measured server loads (the models' and the compiled frame path's)
    in this process, or load them from numba's disk cache, before any server starts. Uncached
    (a new checkout or install) that takes minutes: a server would spend them compiling (its
    training worker's warm-up, its compile thread) during the measurement, and its stop would
    wait for the compile. Once compiled here, every server loads them from the cache."""
    from ..live.compiled import warm
    from ..live.trainer import warm_up

    warm_up()
    warm()


def _measuring_client_first() -> None:
    """Where permitted, the measuring client runs at real-time priority, so that its own wake-up
    on a busy machine (the window painting beside it, say) is not counted as the server's
    latency. The measured processes start with ordinary scheduling (:func:`_ordinary`) and set
    their own priorities as they normally do."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    except (AttributeError, OSError):
        pass


def run(workload: Workload, rate_hz: float = 200.0, seconds: float = 10.0,
        retrain_every_s: float = 1.0, window: bool = False,
        search: bool = False, spotting: bool = False) -> dict[str, Any]:
    """Latency figures; with ``window``, also with the window open, busy and retraining (its
    engine in a process of its own, as by default, and on a thread of the window's process);
    with ``spotting``, the project's stream also spots gestures."""
    frames = workload.test_frames
    out: dict[str, Any] = {"rate_hz": rate_hz, "seconds": seconds, "spotting": spotting}
    compile_ahead()
    _measuring_client_first()
    with tempfile.TemporaryDirectory() as tmp:
        folder = _project(Path(tmp) / "proj", workload, spotting=spotting)
        searching = _project(Path(tmp) / "proj_search", workload, search=True,
                             spotting=spotting) if search else None
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(("127.0.0.1", 0))
        rx_port = rx.getsockname()[1]
        # the floor: python-osc + the same model step, nothing else
        floor = subprocess.Popen([sys.executable, "-c", FLOOR_SCRIPT,
                                  str(folder), "0", str(rx_port)],
                                 stdout=subprocess.PIPE, text=True, preexec_fn=_ordinary)
        try:
            port = _announced_port(floor)
            out["python_osc_floor"] = _measure(port, rx, frames, rate_hz, seconds, None)
        finally:
            floor.kill()
            floor.wait()
        setups = [("gesturemap_run", None, None), ("gesturemap_run_retraining",
                                                   retrain_every_s, None)]
        if search:
            # a retrain every 3 s: the search it starts runs most of the time in between
            setups += [("gesturemap_run_retraining_searching", 3.0, None)]
        if window:
            setups += [("window_busy_retraining", retrain_every_s, "process"),
                       ("window_busy_retraining_engine_thread", retrain_every_s, "thread")]
        for label, retrain, window_mode in setups:
            where = searching if label.endswith("_searching") else folder
            if window_mode is None:
                cmd = [sys.executable, "-m", "gesturemap.cli", "run", str(where), "--osc-in",
                       "127.0.0.1:0", "--osc-out", f"127.0.0.1:{rx_port}", "--no-audio"]
            else:
                port = _free_port()
                cmd = [sys.executable, "-c", WINDOW_SCRIPT, str(folder), str(port),
                       str(rx_port), window_mode]
            # every retrain refits every class (no reuse of unchanged ones): the figures hold
            # for a real retrain running beside the frames
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, preexec_fn=_ordinary,
                                    env=dict(os.environ, GESTUREMAP_CLASS_CACHE="0"))
            try:
                if window_mode is None:
                    port = _announced_port(proc)
                else:
                    proc.stdout.readline()  # "ready"
                time.sleep(1.0)  # the training worker finishes loading
                out[label] = _measure(port, rx, frames, rate_hz, seconds, retrain)
            finally:
                stop_servers([proc])  # killed if it does not stop: never left running
        rx.close()
    return out


def take_to_model(workload: Workload | None, repeats: int = 6, rate_hz: float = 200.0,
                  search: bool = False, dataset: Any = None,
                  params: dict[str, Any] | None = None) -> dict[str, Any]:
    """From "stop recording" to the first frame answered by the model trained with that take,
    on the reference workload: an HHMM project holding 24 of its 25 takes, whose last take is
    recorded live (frames at ``rate_hz``), then stopped and trained as the window does after a
    take. The engine and its training process run as in ``gesturemap run`` and the window.
    ``dataset`` (a :class:`gesturemap.Dataset`) and ``params`` (the HHMM's) replace the
    reference workload's takes (its last recording is the live take).
    With ``search``, the project asks for the background search: after each retrain it runs
    in its own process until the next take's retrain cancels it."""
    import threading

    from ..gui.session import TakeRef, WindowEngine
    from ..project import Project
    from ..sources.base import Frame

    if dataset is None:
        dataset = workload.unimodal
    recs = list(dataset)
    model: dict[str, Any] = {"kind": "hhmm", "params": dict(params or {"states": 10})}
    if search:
        model["auto"] = {"budget_s": 60.0}
    project = Project("take-to-model", model=model)
    for rec in recs[:-1]:
        project.add_take(rec.inputs, rec.label)
    project.trained = project.new_model().fit(project.dataset())
    live = recs[-1]
    engine = WindowEngine(project, osc_in=None, osc_out=("127.0.0.1", 9),
                          trainer="process", realtime=True).start()
    stop = threading.Event()
    feed = {"take": False}

    def feeder() -> None:
        i = 0
        period = 1.0 / rate_hz
        next_t = time.perf_counter()
        while not stop.is_set():
            x = (live.inputs[i % len(live.inputs)] if feed["take"]
                 else recs[i % (len(recs) - 1)].inputs[0])
            engine.queue.put(Frame(time.perf_counter(), np.array(x, dtype=np.float64), "bench"))
            i += 1
            next_t += period
            time.sleep(max(0.0, next_t - time.perf_counter()))

    thread = threading.Thread(target=feeder, daemon=True)
    thread.start()
    times, trains, cpus = [], [], []
    try:
        time.sleep(2.0)  # the training process is warm
        for _ in range(repeats):
            engine.last_take_to_model_ms = None
            engine.command("start_recording", live.label)
            feed["take"] = True
            time.sleep(len(live.inputs) / rate_hz)
            feed["take"] = False
            engine.command("stop_recording")
            engine.command("train")
            deadline = time.perf_counter() + 120
            while engine.last_take_to_model_ms is None and time.perf_counter() < deadline:
                time.sleep(0.005)
            if engine.last_take_to_model_ms is None:
                raise RuntimeError("the new model never answered")
            times.append(engine.last_take_to_model_ms)
            trains.append(engine.last_train_ms)
            cpus.append(engine.last_train_cpu_ms)
            # back to 24 takes: every repeat adds one take to the same project
            engine.command("remove_take", TakeRef(engine.project.takes[-1].id))
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
        engine.stop()
    # the first retrain fits every class (the training process has seen none); later ones
    # refit only the new take's class (the others are reused: ClassCache)
    return {"repeats": repeats, "takes": f"{len(recs) - 1} + 1 live",
            "frames": int(sum(len(r.inputs) for r in recs)),
            "first_take_to_model_ms": float(times[0]),
            "take_to_model_ms_median": float(np.median(times[1:])),
            "take_to_model_ms_max": float(np.max(times[1:])),
            "train_ms_median": float(np.median(trains[1:])), "all_ms": times,
            "all_train_ms": trains,
            # the training process's CPU time per retrain: the cost whatever the load
            "first_train_cpu_ms": cpus[0],
            "train_cpu_ms_median": float(np.median(cpus[1:])), "all_train_cpu_ms": cpus}


def format_rows(res: dict[str, Any]) -> str:
    lines = ["| setup | latency p50 (µs) | p99 (µs) | p99 − p50 (µs) | answered |",
             "|---|---|---|---|---|"]
    for key, name in (("python_osc_floor", "bare python-osc + same HHMM step"),
                      ("gesturemap_run", "gesturemap run (HHMM)"),
                      ("gesturemap_run_retraining", "gesturemap run, retraining every 1 s"),
                      ("gesturemap_run_retraining_searching",
                       "gesturemap run, retraining every 3 s + background search (gm.auto)"),
                      ("window_busy_retraining",
                       "window open, busy plotting, retraining every 1 s"),
                      ("window_busy_retraining_engine_thread",
                       "the same, engine on a thread of the window's process")):
        if key not in res:
            continue
        r = res[key]
        lines.append(f"| {name} | {r['latency_us_p50']:.0f} | {r['latency_us_p99']:.0f} | "
                     f"{r['jitter_us_p99_minus_p50']:.0f} | {r['answered']}/{r['frames']} |")
    return "\n".join(lines)


# --vs-floor --------------------------------------------------------------------------------

#: The floor: a bare python-osc server that answers each /wek/inputs with one /wek/outputs value
#: and does nothing else (no model): what any Python OSC program pays on this machine.
ECHO_SCRIPT = textwrap.dedent("""
    import sys
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import BlockingOSCUDPServer
    from pythonosc.udp_client import SimpleUDPClient
    client = SimpleUDPClient("127.0.0.1", int(sys.argv[2]))
    def on_inputs(address, *args):
        client.send_message("/wek/outputs", 1.0)
    d = Dispatcher()
    d.map("/wek/inputs", on_inputs)
    server = BlockingOSCUDPServer(("127.0.0.1", int(sys.argv[1])), d)
    print("ready", server.server_address[1], flush=True)
    server.serve_forever()
""")

#: Seconds a server started by the benchmark may take to answer its first frame (numba compiles
#: the kernels there when no cache is on disk yet: a new machine, a new install).
FIRST_ANSWER_S = 120.0

#: What the rounds compare, in the order each round measures them.
VS_FLOOR_SERVERS = ("floor", "knn", "hhmm", "hhmm_ordinary")
VS_FLOOR_NAMES = {"floor": "python-osc echo (floor)", "knn": "gesturemap run, kNN k=1",
                  "hhmm": "gesturemap run, HHMM",
                  "hhmm_ordinary": "gesturemap run, HHMM, real-time scheduling off"}


def _busy_loop() -> subprocess.Popen:
    """One core busy: an ordinary-priority process spinning (as another program on the machine)."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=_ordinary)


def _cpu_seconds(pid: int) -> float:
    """utime + stime of process ``pid`` (every thread; not its children), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_at_1khz(pid: int, port: int, rx: socket.socket, frames: np.ndarray,
                 seconds: float) -> float:
    """Percent of a core that process ``pid`` spends answering 1,000 ``/wek/inputs`` frames/s
    for ``seconds`` (the sender keeps time by spinning, on the other core; replies are read and
    dropped)."""
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    packets = [_message("/wek/inputs", f) for f in frames]
    rx.setblocking(False)
    n = int(seconds * 1000)
    c0 = _cpu_seconds(pid)
    t0 = next_t = time.perf_counter()
    for i in range(n):
        while time.perf_counter() < next_t:
            pass
        tx.sendto(packets[i % len(packets)], ("127.0.0.1", port))
        next_t += 0.001
        try:
            while True:
                rx.recv(65536)
        except BlockingIOError:
            pass
    wall = time.perf_counter() - t0
    cpu = _cpu_seconds(pid) - c0
    tx.close()
    time.sleep(0.05)
    try:
        while True:
            rx.recv(65536)
    except BlockingIOError:
        pass
    return 100.0 * cpu / wall


def _answers(port: int, rx: socket.socket, frame: np.ndarray, timeout_s: float) -> bool:
    """Whether the server on ``port`` answers one ``/wek/inputs`` frame with a ``/wek/outputs``
    on ``rx`` within ``timeout_s`` (anything else arriving is dropped)."""
    import select

    rx.setblocking(False)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        tx.sendto(_message("/wek/inputs", frame), ("127.0.0.1", port))
        end = time.perf_counter() + timeout_s
        while (left := end - time.perf_counter()) > 0:
            if not select.select([rx], [], [], left)[0]:
                continue
            try:
                while True:
                    if rx.recv(65536).startswith(b"/wek/outputs"):
                        return True
            except BlockingIOError:
                pass
    return False


def _drain(rx: socket.socket, quiet_s: float = 0.2) -> None:
    """Drop whatever arrives on ``rx`` until it has been quiet for ``quiet_s``."""
    import select

    rx.setblocking(False)
    while select.select([rx], [], [], quiet_s)[0]:
        try:
            while True:
                rx.recv(65536)
        except BlockingIOError:
            pass


def warm_up(ports: dict[str, int], rx: socket.socket, frames: np.ndarray, rate_hz: float,
             seconds: float) -> None:
    """Every server gets ``seconds`` of frames at ``rate_hz`` before the rounds (a JVM's JIT
    compiles its hot path then, say); the replies are dropped."""
    if seconds <= 0:
        return
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    packets = [_message("/wek/inputs", f) for f in frames]
    rx.setblocking(False)
    period = 1.0 / rate_hz
    next_t = time.perf_counter()
    for i in range(int(seconds * rate_hz)):
        while (wait := next_t - time.perf_counter()) > 0:
            time.sleep(wait)
        for port in ports.values():
            tx.sendto(packets[i % len(packets)], ("127.0.0.1", port))
        next_t += period
        try:
            while True:
                rx.recv(65536)
        except BlockingIOError:
            pass
    tx.close()
    _drain(rx)


def vs_floor(workload: Workload, rounds: int = 3, seconds: float = 10.0, rate_hz: float = 200.0,
             loads: tuple[str, ...] = ("idle", "busy"),
             servers: tuple[str, ...] = VS_FLOOR_SERVERS,
             external: dict[str, int] | None = None, receive_port: int = 0,
             warmup_s: float = 0.0, log: Any = None) -> dict[str, Any]:
    """Latency of ``gesturemap run`` against the floor (a bare python-osc echo), as a user's
    client sees it: the client at ordinary priority (never raised here) sends a ``/wek/inputs``
    frame every ``1/rate_hz`` s and times each ``/wek/outputs`` reply (:func:`_measure`).

    Every server runs for the whole benchmark (each in its own process, started as the CLI
    starts it: ordinary scheduling until it sets its own); ``rounds`` rounds then measure each
    load (``idle``; ``busy``: one core spinning in another process) and each server in turn for
    ``seconds``, so that a slow patch of the machine falls on every setup alike. Then each
    gesturemap server's CPU at 1,000 frames/s (:func:`_cpu_at_1khz`). Returns ``{"settings": …,
    "rounds": [{"round", "load", "results": {server: figures}}], "cpu_percent_1khz": {…}}``.

    ``external`` (``{name: port}``) adds OSC servers already running on this machine (Wekinator,
    say; docs/performance.md has the recipe), measured in the same rounds right after the floor:
    each gets the same ``/wek/inputs`` frames on 127.0.0.1:``port`` and must send its
    ``/wek/outputs`` to 127.0.0.1:``receive_port``, where the benchmark reads every server's
    replies (so with ``external`` a ``receive_port`` is required; 0 = any free port otherwise).
    Each must answer one frame within 5 s before the rounds begin. ``warmup_s``: seconds of
    frames sent to every server before the rounds (replies dropped). ``log`` (a text stream) is
    told the receive port and the servers' ports."""
    external = dict(external or {})
    if external and not receive_port:
        raise ValueError("an external server needs a fixed receive port (the port it sends its "
                         "/wek/outputs to): give receive_port")
    clash = set(external) & set(servers)
    if clash:
        raise ValueError(f"external server names clash with the built-in ones: {sorted(clash)}")
    frames = workload.test_frames
    order = [name for name in servers if name == "floor"] + list(external) + [
        name for name in servers if name != "floor"]
    out: dict[str, Any] = {"settings": {"rounds": rounds, "seconds": seconds, "rate_hz": rate_hz,
                                        "loads": list(loads), "servers": order,
                                        "external": external, "warmup_s": warmup_s,
                                        "client": "ordinary priority"}, "rounds": []}
    procs: dict[str, subprocess.Popen] = {}
    ports: dict[str, int] = dict(external)
    with tempfile.TemporaryDirectory() as tmp:
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            rx.bind(("127.0.0.1", receive_port))
        except OSError as e:
            rx.close()
            raise OSError(f"cannot read replies on 127.0.0.1:{receive_port}: {e}") from e
        rx_port = rx.getsockname()[1]
        out["settings"]["receive_port"] = rx_port
        if log is not None:
            print(f"replies are read on 127.0.0.1:{rx_port}" + "".join(
                f"; {name}: /wek/inputs to 127.0.0.1:{port}" for name, port in external.items()),
                file=log, flush=True)
        for name, port in external.items():  # before anything starts: a quick failure
            if not _answers(port, rx, frames[0], 5.0):
                rx.close()
                raise RuntimeError(
                    f"external server {name!r} gave no /wek/outputs on 127.0.0.1:{rx_port} "
                    f"within 5 s of a /wek/inputs frame sent to 127.0.0.1:{port}")
        _drain(rx)
        compile_ahead()
        # a project folder of its own per server: one process writes a project at a time
        # (gesturemap.project.lock), and "hhmm" and "hhmm_ordinary" run side by side
        folders = {name: _project(Path(tmp) / name, workload, kind=name.split("_")[0])
                   for name in servers if name != "floor"}
        try:
            for name in servers:
                env = dict(os.environ)
                if name == "floor":
                    cmd = [sys.executable, "-c", ECHO_SCRIPT, "0", str(rx_port)]
                else:
                    cmd = [sys.executable, "-m", "gesturemap.cli", "run", str(folders[name]),
                           "--osc-in", "127.0.0.1:0", "--osc-out",
                           f"127.0.0.1:{rx_port}", "--no-audio"]
                    if name.endswith("_ordinary"):
                        env["GESTUREMAP_REALTIME"] = "0"
                procs[name] = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True,
                                               preexec_fn=_ordinary, env=env)
            for name, proc in procs.items():
                ports[name] = _announced_port(proc)
            time.sleep(1.0)  # training workers finish loading
            for name in servers:  # on a new machine the first frame compiles the kernels
                if not _answers(ports[name], rx, frames[0], FIRST_ANSWER_S):
                    raise RuntimeError(f"{VS_FLOOR_NAMES.get(name, name)} gave no /wek/outputs "
                                       f"within {FIRST_ANSWER_S:.0f} s of its first frame")
            _drain(rx)
            warm_up(ports, rx, frames, rate_hz, warmup_s)
            for i in range(rounds):
                for load in loads:
                    busy = _busy_loop() if load == "busy" else None
                    try:
                        results = {name: _measure(ports[name], rx, frames, rate_hz, seconds,
                                                  None) for name in order}
                    finally:
                        if busy is not None:
                            busy.kill()
                            busy.wait()
                    out["rounds"].append({"round": i + 1, "load": load, "results": results})
            out["cpu_percent_1khz"] = {name: _cpu_at_1khz(procs[name].pid, ports[name], rx,
                                                          frames, seconds)
                                       for name in servers if name != "floor"}
        finally:
            stop_servers(procs.values())
            rx.close()
    return out


def stop_servers(procs: Any) -> None:
    """Terminate the server processes ``procs`` and wait for them (killed after 30 s)."""
    procs = list(procs)
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _server_name(res: dict[str, Any], name: str) -> str:
    port = (res.get("settings", {}).get("external") or {}).get(name)
    return f"{name} (external, port {port})" if port else VS_FLOOR_NAMES.get(name, name)


def format_vs_floor(res: dict[str, Any]) -> str:
    """A markdown table of :func:`vs_floor`'s rounds: p50/p99/p99.9 and p50, p99 over the floor's."""
    lines = ["| round | load | server | p50 (µs) | p99 (µs) | p99.9 (µs) | p50 / floor | "
             "p99 / floor | answered |", "|---|---|---|---|---|---|---|---|---|"]
    for r in res["rounds"]:
        floor = r["results"].get("floor")
        for name, f in r["results"].items():
            ratio50 = f"{f['latency_us_p50'] / floor['latency_us_p50']:.2f}" if floor else "–"
            ratio99 = f"{f['latency_us_p99'] / floor['latency_us_p99']:.2f}" if floor else "–"
            lines.append(f"| {r['round']} | {r['load']} | {_server_name(res, name)} | "
                         f"{f['latency_us_p50']:.0f} | {f['latency_us_p99']:.0f} | "
                         f"{f['latency_us_p999']:.0f} | {ratio50} | {ratio99} | "
                         f"{f['answered']}/{f['frames']} |")
    cpu = res.get("cpu_percent_1khz") or {}
    if cpu:
        lines.append("")
        lines.append("CPU at 1,000 frames/s (percent of a core, the server process): " + ", ".join(
            f"{VS_FLOOR_NAMES.get(name, name)} {pct:.1f} %" for name, pct in cpu.items()))
    return "\n".join(lines)
