"""Ten minutes on stage: does the sound ever drop, does memory grow, does latency drift?

    python3 -m benchmarks.soak [--minutes 10] [--retrain-s 10] [--rate-hz 500]
        [--jack-priority default|N] [--stage] [--no-control] [--no-probe] [--out FILE]

Everything is real (the audio budget, docs/performance.md: zero underruns at 48 kHz with 128-frame blocks over ten
minutes, retrains included):

- a JACK server with the dummy driver (no sound card), 48 kHz, 128-frame periods, real-time at
  JACK's own default priority (``jackd -R`` without ``-P``, as a musician's setup starts it);
- the window (``gesturemap.gui.window.MainWindow``, Qt offscreen) on XMM's reference HHMM
  project, its engine and synth in their own process as always, the synth playing on that server
  with a one-shot sound for every class; ``--stage``: ``gesturemap run`` instead of the window;
- this script as the performer's sensor and patch, at ordinary priority: frames at 500 Hz to
  the project's OSC port (Wekinator's ``/wek/inputs``), each ``/wek/outputs`` answer timed by the
  kernel's receive timestamp (so this script's own wake-up is not counted), and
  ``/wekinator/control/train`` every 10 s (every class refitted: no class cache).

Two witnesses tell a block gesturemap lost from one the machine lost:

- a C client on the same server (``jack_simple_client``): in each xrun report JACK names the
  client it found late, or its own driver when the driver's timer thread woke late;
- a probe process on every CPU at the JACK server's own real-time priority that wakes once per
  period and notes its late wake-ups: a wake-up more than one period late is a block no thread
  of that priority could have made. Each xrun report is matched with a stall of the probe within
  0.1 s (the probes run ~20 µs a period beside JACK's threads, at their priority).

PortAudio raises its underflow flag in every client for an xrun anywhere in the JACK graph, so
the synth's ``audio_underruns`` counts the machine's and the other clients' xruns too; the JACK
reports say whose they were. Every minute and at the end: underruns and whom JACK blamed,
callbacks, frames sent and answered, latency p50/p99, the probe's late wake-ups, resident memory
of the window, engine and training processes (start: after the first retrain; middle; end),
the time since the last retrain at each xrun report, load average and the
hypervisor's steal time. Not a test: it takes as long as it says. Run it on a quiet machine and
say what the load was (it is in the output).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from gesturemap.bench import latency as bench_latency
from gesturemap.bench import load_workload

RATE = 48000
BLOCK = 128
PERIOD_S = BLOCK / RATE
#: Linux's SO_TIMESTAMPNS (Python's socket module does not name it): every datagram received
#: carries the kernel's CLOCK_REALTIME arrival time.
SO_TIMESTAMPNS = 35
#: an answer later than this is taken for a lost frame's, and the pairing moves on
ANSWER_WINDOW_NS = 50_000_000

WINDOW_SCRIPT = textwrap.dedent("""
    import json, os, sys
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtCore, QtWidgets
    from gesturemap.project import Project
    from gesturemap.gui.window import MainWindow
    folder, stats_path, device = sys.argv[1], sys.argv[2], int(sys.argv[3])
    app = QtWidgets.QApplication([])
    window = MainWindow(Project.load(folder), folder,
                        audio={{"device": device, "samplerate": {rate}, "blocksize": {block}}})
    window.show()
    def write_stats():
        s = dict(window.engine.stats())
        s["engine_pid"] = window.engine.pid
        tmp = stats_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(s, f)
        os.replace(tmp, stats_path)
    timer = QtCore.QTimer()
    timer.timeout.connect(write_stats)
    timer.start(1000)
    def ready():
        write_stats()
        print("audio error: " + window.audio_error if window.audio_error else "ready", flush=True)
    QtCore.QTimer.singleShot(0, ready)
    app.exec()
""").format(rate=RATE, block=BLOCK)

PROBE_SCRIPT = textwrap.dedent("""
    import json, os, sys, time
    priority, period, cpu = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    try:
        os.sched_setaffinity(0, {cpu})
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except OSError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        sys.exit(0)
    n = late = 0
    worst = 0.0
    stalls = []  # (when, how late) of each wake-up more than 1 ms late
    t = time.perf_counter()
    report = t + 1.0
    while True:
        t += period
        wait = t - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        now = time.perf_counter()
        lag = now - t
        n += 1
        worst = max(worst, lag)
        if lag > 0.001:
            stalls.append((round(t, 4), round(lag * 1e3, 2)))
        if lag > period:
            late += 1
            t = now  # one late wake-up is one missed block, not a cascade of catching up
        if now >= report:
            report = now + 1.0
            print(json.dumps({"wakeups": n, "late_period": late, "max_ms": worst * 1e3,
                              "stalls": stalls}), flush=True)
            stalls = []
""")


# -- the JACK server and its witnesses ------------------------------------------------------------
class JackServer:
    """``jackd -R`` with the dummy driver under a name of its own; keeps its xrun reports with
    the time they came, classified by whom JACK blamed."""

    def __init__(self, priority: str) -> None:
        jackd = shutil.which("jackd")
        if jackd is None:
            raise SystemExit("soak: jackd is missing (apt-get install jackd2)")
        self.name = f"gm-soak-{os.getpid()}"
        self.priority = priority
        prio = [] if priority == "default" else ["-P", priority]
        self.process = subprocess.Popen(
            [jackd, "-R", *prio, "-n", self.name, "-d", "dummy", "-r", str(RATE), "-p", str(BLOCK)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.xruns: list[tuple[float, str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.env = dict(os.environ, JACK_DEFAULT_SERVER=self.name)
        subprocess.run(["jack_wait", "-w", "-t", "10"], check=True, timeout=15,
                       capture_output=True, env=self.env)

    def _read(self) -> None:
        for line in self.process.stdout:
            if "xrun" in line.lower():
                self.xruns.append((time.perf_counter(), line.strip()))

    @staticmethod
    def blamed(line: str) -> str:
        """Whom an xrun report blames: "driver" (the server's own timer thread woke late),
        "gesturemap" (a PortAudio client: the synth), "control" (the C witness) or "other"."""
        if "Driver" in line:
            return "driver"
        for marker in ("client = ", "client "):
            if marker in line:
                name = line.split(marker, 1)[1].split(" ", 1)[0]
                if name.startswith("PortAudio"):
                    return "gesturemap"
                if name.startswith("jack_simple_client"):
                    return "control"
        return "other"

    def blame(self, since: float = 0.0, until: float = float("inf")) -> dict[str, int]:
        counts = {"driver": 0, "gesturemap": 0, "control": 0, "other": 0}
        for t, line in list(self.xruns):
            if since <= t < until:
                counts[self.blamed(line)] += 1
        return counts

    def reports(self, t0: float, stalls: list[tuple[float, float]],
                retrains: list[float]) -> list[dict[str, Any]]:
        """Each xrun report: when (s from ``t0``), whom JACK blamed, the probe's stall near it
        (ms late, or None: none within 0.1 s) and the seconds since the last retrain sent."""
        out = []
        for t, line in list(self.xruns):
            near = [lag for when, lag in stalls if abs(t - when) < 0.1]
            before = [r for r in retrains if r <= t]
            out.append({"t_s": round(t - t0, 3), "blamed": self.blamed(line),
                        "probe_stall_ms": max(near) if near else None,
                        "since_retrain_s": round(t - before[-1], 3) if before else None})
        return out

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self._reader.join(timeout=5)


def _jack_output_device(env: dict[str, str]) -> int:
    """PortAudio's index of the JACK output, asked in a process of its own: every process that
    loads PortAudio while a JACK server runs joins that server as a client for its lifetime."""
    code = ("import sounddevice as sd; print([i for i, d in enumerate(sd.query_devices()) "
            "if d['max_output_channels'] > 0 and 'JACK' in "
            "sd.query_hostapis(d['hostapi'])['name']][0])")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60, check=True)
    return int(out.stdout.split()[-1])


class _Lines:
    """The last JSON line a child process printed (read by a thread of its own)."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.latest: dict[str, Any] = {}
        self.lines: list[str] = []
        #: the probe's stalls: (perf_counter time, ms late) of every wake-up over 1 ms late
        self.stalls: list[tuple[float, float]] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.lines.append(line.rstrip())
            if line.startswith("{"):
                try:
                    self.latest = json.loads(line)
                except ValueError:
                    continue
                self.stalls += [tuple(x) for x in self.latest.pop("stalls", [])]


# -- the project and the program under test --------------------------------------------------------
def _project(folder: Path, workload: Any, sensor_port: int, out_port: int) -> Path:
    """XMM's reference HHMM project (bench_latency's), listening to Wekinator's protocol on
    ``sensor_port``, answering to ``out_port``, every class with a one-shot sound."""
    from gesturemap.project import Project
    from gesturemap.synth import SynthMapping

    bench_latency._project(folder, workload)
    project = Project.load(folder)
    mapping = SynthMapping.default()
    sounds = ["wood", "bell", "chime", "pluck"]
    mapping.oneshots.update({str(c): sounds[i % len(sounds)]
                             for i, c in enumerate(project.classes)})
    project.sensor = {"transport": "osc", "profile": "wekinator", "port": sensor_port}
    project.outputs = {"host": "127.0.0.1", "port": out_port, "synth": mapping.to_dict()}
    project.save(folder)
    return folder


def _start_program(stage: bool, folder: Path, stats: Path, device: int,
                   env: dict[str, str], log: Path) -> subprocess.Popen:
    env = dict(env, QT_QPA_PLATFORM="offscreen", GESTUREMAP_CLASS_CACHE="0")
    if stage:
        cmd = [sys.executable, "-m", "gesturemap.cli", "run", str(folder), "--stats", str(stats),
               "--audio-device", str(device), "--sample-rate", str(RATE),
               "--block-size", str(BLOCK)]
    else:
        cmd = [sys.executable, "-c", WINDOW_SCRIPT, str(folder), str(stats), str(device)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log.open("w"), text=True,
                            env=env)


def _wait_ready(program: subprocess.Popen, stage: bool, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not select.select([program.stdout], [], [], 1.0)[0]:
            continue
        line = program.stdout.readline()
        if not line:
            raise SystemExit(f"soak: the program ended before it was ready (exit "
                             f"{program.wait()})")
        if (stage and line.startswith("gesturemap run: listening")) or line.strip() == "ready":
            return
        if line.startswith("audio error"):
            raise SystemExit(f"soak: {line.strip()}")
    raise SystemExit("soak: the program was not ready within 120 s")


# -- memory and the machine ---------------------------------------------------------------------------
def _rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            out += [int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        except OSError:
            pass
    return out


def _memory(program_pid: int, engine_pid: int | None, stage: bool) -> dict[str, Any]:
    """Resident MiB of the window, the engine and the engine's children (training...)."""
    engine = program_pid if stage else engine_pid
    mem: dict[str, Any] = {}
    if not stage:
        mem["window"] = _rss_mib(program_pid)
    if engine:
        mem["engine"] = _rss_mib(engine)
        kids = _children(engine)
        mem["engine_children"] = round(sum(_rss_mib(k) or 0.0 for k in kids), 1)
    return {k: None if v is None else round(v, 1) for k, v in mem.items()}


def _steal_ms() -> int:
    with open("/proc/stat") as f:
        return int(f.readline().split()[8]) * 10


# -- the performer's sensor and patch -------------------------------------------------------------------
class Client:
    """Sends frames at a fixed rate, pairs each answer with its frame, sends retrains."""

    def __init__(self, sensor_port: int, rx: socket.socket, frames: np.ndarray) -> None:
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.dest = ("127.0.0.1", sensor_port)
        self.rx = rx
        rx.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        rx.setblocking(False)
        self.packets = [bench_latency._message("/wek/inputs", f) for f in frames]
        self.train = bench_latency._message("/wekinator/control/train", np.zeros(0))
        self.pending: deque[int] = deque()
        self.sent = self.answered = self.retrains = 0
        self.retrain_times: list[float] = []
        self.latency_us: list[float] = []  # this minute's
        self.all_latency_us: list[float] = []

    def send(self) -> None:
        packet = self.packets[self.sent % len(self.packets)]
        self.pending.append(time.time_ns())
        self.tx.sendto(packet, self.dest)
        self.sent += 1

    def retrain(self) -> None:
        self.tx.sendto(self.train, self.dest)
        self.retrains += 1
        self.retrain_times.append(time.perf_counter())

    def receive(self) -> None:
        while True:
            try:
                data, ancillary, _, _ = self.rx.recvmsg(65536, 64)
            except BlockingIOError:
                return
            if not data.startswith(b"/wek/outputs"):
                continue
            self.answered += 1
            arrived = time.time_ns()
            for level, kind, raw in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", raw[:16])
                    arrived = sec * 1_000_000_000 + nsec
            while self.pending and self.pending[0] < arrived - ANSWER_WINDOW_NS:
                self.pending.popleft()  # its answer never came
            if self.pending:
                self.latency_us.append((arrived - self.pending.popleft()) / 1e3)

    def minute(self) -> dict[str, Any]:
        a = np.asarray(self.latency_us)
        self.all_latency_us += self.latency_us
        self.latency_us = []
        return _percentiles(a)


def _percentiles(a: np.ndarray) -> dict[str, Any]:
    if not len(a):
        return {"latency_us_p50": None, "latency_us_p99": None}
    return {"latency_us_p50": round(float(np.median(a)), 1),
            "latency_us_p99": round(float(np.percentile(a, 99)), 1)}


# -- the run ----------------------------------------------------------------------------------------------
def _read_stats(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def soak(args: argparse.Namespace) -> dict[str, Any]:
    workload = load_workload(args.reference)
    frames = workload.test_frames
    tmp = Path(tempfile.mkdtemp(prefix="gm-soak-"))
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    sensor_port = bench_latency._free_port()
    folder = _project(tmp / "proj", workload, sensor_port, rx.getsockname()[1])
    stats_path = tmp / "stats.json"
    load_before = os.getloadavg()
    server = JackServer(args.jack_priority)
    started: list[subprocess.Popen] = []
    try:
        from gesturemap.utils.scheduling import audio_server_priority

        server_priority = audio_server_priority()
        if args.control:
            started.append(subprocess.Popen(["jack_simple_client"], env=server.env,
                                            stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL))
        probes: list[_Lines] = []
        if args.probe and server_priority is not None:
            for cpu in sorted(os.sched_getaffinity(0)):  # a CPU stalls on its own
                started.append(subprocess.Popen(
                    [sys.executable, "-c", PROBE_SCRIPT, str(server_priority), str(PERIOD_S),
                     str(cpu)], stdout=subprocess.PIPE, text=True))
                probes.append(_Lines(started[-1]))
        device = _jack_output_device(server.env)
        program = _start_program(args.stage, folder, stats_path, device, server.env,
                                 tmp / "program.log")
        started.insert(0, program)  # stopped first: PortAudio leaves before the server goes
        _wait_ready(program, args.stage)
        result = _run(args, program, server, probes, stats_path, sensor_port, rx, frames)
    finally:
        for p in started:
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        server.stop()
    result.update(jack_priority=args.jack_priority, jack_server_priority=server_priority,
                  load_before=[round(x, 2) for x in load_before],
                  load_after=[round(x, 2) for x in os.getloadavg()],
                  cores=os.cpu_count(), python=sys.version.split()[0],
                  mode="gesturemap run" if args.stage else "window",
                  program_log_tail=(tmp / "program.log").read_text()[-2000:])
    shutil.rmtree(tmp, ignore_errors=True)
    return result


def _run(args: argparse.Namespace, program: subprocess.Popen, server: JackServer,
         probes: list[_Lines], stats_path: Path, sensor_port: int, rx: socket.socket,
         frames: np.ndarray) -> dict[str, Any]:
    client = Client(sensor_port, rx, frames)
    period = 1.0 / args.rate_hz
    t0 = time.perf_counter()
    end = t0 + args.minutes * 60.0
    next_send, next_retrain = t0, t0 + args.retrain_s
    next_minute, minute_start = t0 + 60.0, t0
    # "start": once the first retrain is back (the training process has loaded what it needs),
    # or after 15 s
    memory: dict[str, Any] = {}
    start_by, next_look = t0 + 15.0, t0
    middle_at = t0 + args.minutes * 30.0
    last = {"audio_underruns": 0, "audio_callbacks": 0, "sent": 0, "answered": 0,
            "steal": _steal_ms(), "probe_late": 0}
    rows: list[dict[str, Any]] = []
    skipped = 0  # frames not sent because this script was held up more than 0.1 s
    while True:
        now = time.perf_counter()
        if now >= next_send and now < end:
            client.send()
            next_send += period
            if next_send < now - 0.1:  # this script was held up: resume the rate, no burst
                skipped += int((now - next_send) / period)
                next_send = now + period
        if now >= next_retrain and now < end:
            client.retrain()
            next_retrain += args.retrain_s
        if "start" not in memory and now >= next_look:
            stats, next_look = _read_stats(stats_path), now + 1.0
            if (stats.get("trainings") or 0) >= 1 or now >= start_by:
                memory["start"] = _memory(program.pid, stats.get("engine_pid"), args.stage)
        if "middle" not in memory and now >= middle_at:
            stats = _read_stats(stats_path)
            memory["middle"] = _memory(program.pid, stats.get("engine_pid"), args.stage)
        if now >= next_minute or now >= end + 0.5:  # half a second for the last answers
            stats = _read_stats(stats_path)
            rows.append(_row(len(rows) + 1, client, stats, server, probes, last,
                             minute_start, now, program.pid, args.stage))
            print(json.dumps(rows[-1]), flush=True)
            minute_start, next_minute = now, now + 60.0
            if now >= end:
                break
        if program.poll() is not None:
            raise SystemExit(f"soak: the program ended during the run (exit {program.returncode})")
        wake = min(next_send if now < end else end + 0.5, next_retrain, next_minute,
                   next_look if "start" not in memory else next_minute)
        if select.select([rx], [], [], max(0.0, wake - time.perf_counter()))[0]:
            client.receive()
    stats = _read_stats(stats_path)
    memory["end"] = _memory(program.pid, stats.get("engine_pid"), args.stage)
    a = np.asarray(client.all_latency_us)
    stalls = [x for p in probes for x in p.stalls]
    reports = server.reports(t0, stalls, client.retrain_times)
    return {
        "minutes": args.minutes, "rate_hz": args.rate_hz, "retrain_s": args.retrain_s,
        "frames_sent": client.sent, "frames_answered": client.answered,
        "frames_skipped_by_client": skipped,
        "retrains_sent": client.retrains, **_percentiles(a),
        "latency_us_p999": round(float(np.percentile(a, 99.9)), 1) if len(a) else None,
        "latency_us_max": round(float(a.max()), 1) if len(a) else None,
        "audio_underruns": stats.get("audio_underruns"),
        "audio_callbacks": stats.get("audio_callbacks"),
        "jack_xruns_blamed_on": server.blame(),
        "jack_xruns_without_probe_stall": sum(r["probe_stall_ms"] is None for r in reports)
        if probes else None,
        "probe_late_period": _probe_late(probes), "probe_stalls_over_1ms": len(stalls),
        "probe_max_ms": max((p.latest.get("max_ms", 0.0) for p in probes), default=None),
        "rss_mib": memory,
        "engine": {k: stats.get(k) for k in (
            "frames_in", "frames_out", "dropped_frames", "bad_packets", "errors", "trainings",
            "last_train_ms", "step_us_p50", "step_us_p99", "latency_us_p50", "latency_us_p99",
            "audio_first_underrun_callback", "callback_us_p50", "callback_us_p99",
            "callback_us_max", "oneshots_played", "audio_lost")},
        "rows": rows, "jack_xruns": reports,
    }


def _probe_late(probes: list[_Lines]) -> int | None:
    """Wake-ups later than one period, over every CPU's probe (None: no probe)."""
    return sum(p.latest.get("late_period", 0) for p in probes) if probes else None


def _row(minute: int, client: Client, stats: dict[str, Any], server: JackServer,
         probes: list[_Lines], last: dict[str, Any], since: float, now: float,
         program_pid: int, stage: bool) -> dict[str, Any]:
    """One minute's figures (``last`` holds the running totals at the minute's start)."""
    client.receive()
    probe_late = _probe_late(probes) or 0
    row = {
        "minute": minute,
        "underruns": stats.get("audio_underruns", 0) - last["audio_underruns"],
        "callbacks": stats.get("audio_callbacks", 0) - last["audio_callbacks"],
        "blamed": server.blame(since, now),
        "probe_late": probe_late - last["probe_late"] if probes else None,
        "sent": client.sent - last["sent"], "answered": client.answered - last["answered"],
        **client.minute(),
        "trainings": stats.get("trainings"), "last_train_ms": stats.get("last_train_ms"),
        "callback_us_max": stats.get("callback_us_max"),
        "rss_mib": _memory(program_pid, stats.get("engine_pid"), stage),
        "load_1min": round(os.getloadavg()[0], 2), "steal_ms": _steal_ms() - last["steal"],
    }
    last.update(audio_underruns=stats.get("audio_underruns", 0),
                audio_callbacks=stats.get("audio_callbacks", 0), sent=client.sent,
                answered=client.answered, steal=_steal_ms(), probe_late=probe_late)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--retrain-s", type=float, default=10.0, help="seconds between retrains")
    ap.add_argument("--rate-hz", type=float, default=500.0, help="frames per second sent")
    ap.add_argument("--jack-priority", default="default",
                    help="jackd's real-time priority: 'default' (no -P: JACK's own) or a number")
    ap.add_argument("--stage", action="store_true",
                    help="gesturemap run (stage mode) instead of the window")
    ap.add_argument("--no-control", dest="control", action="store_false",
                    help="no C client beside the synth on the JACK server")
    ap.add_argument("--no-probe", dest="probe", action="store_false",
                    help="no wake-up probe at the JACK server's priority")
    ap.add_argument("--reference", help="XMM's reference folder (default: the workload shipped "
                    "in gesturemap.bench)")
    ap.add_argument("--out", help="write the summary there too (JSON)")
    args = ap.parse_args(argv)
    # a kill (SIGTERM) stops the window, the engine and the JACK server it started, as the
    # end of the run does: the cleanup is in the finally blocks
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.jack_priority != "default" and not args.jack_priority.isdigit():
        ap.error("--jack-priority takes a number or 'default'")
    summary = soak(args)
    print(json.dumps(summary, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
