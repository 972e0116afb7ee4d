"""A long run of ``gesturemap run`` at 200 frames/s: memory growth and latency drift.

    python3 -m benchmarks.soak [--minutes 10] [--out soak.json]

Serves an HHMM trained on XMM's reference workload (``gesturemap.bench``'s), sends
``/wek/inputs`` at 200 frames/s and times each ``/wek/outputs``; every minute it records the
latency p50/p99 of that minute and the engine process's resident memory (from /proc). A
retrain (of every class) is requested 30 s into each minute, as a performer's session with
occasional retrains would.
Not a test: it takes as long as it says.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gesturemap.bench import latency as bench_latency
from gesturemap.bench import load_workload


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--out")
    ap.add_argument("--reference")
    args = ap.parse_args()
    workload = load_workload(args.reference)
    frames = workload.test_frames
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = bench_latency._project(Path(tmp) / "proj", workload)
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(("127.0.0.1", 0))
        port = bench_latency._free_port()
        stats = Path(tmp) / "stats.json"
        # measured as `gesturemap bench --latency` measures: the client at real-time priority
        # where permitted, the server started with ordinary scheduling, full retrains
        bench_latency._measuring_client_first()
        proc = subprocess.Popen([sys.executable, "-m", "gesturemap.cli", "run", str(folder),
                                 "--osc-in", f"127.0.0.1:{port}", "--osc-out",
                                 f"127.0.0.1:{rx.getsockname()[1]}", "--stats", str(stats),
                                 "--no-audio"],
                                stdout=subprocess.PIPE, text=True,
                                preexec_fn=bench_latency._ordinary,
                                env=dict(os.environ, GESTUREMAP_CLASS_CACHE="0"))
        try:
            proc.stdout.readline()
            time.sleep(1.0)
            start_rss = rss_kib(proc.pid)
            for minute in range(int(np.ceil(args.minutes))):
                r = bench_latency._measure(port, rx, frames, 200.0, 60.0, 30.0)
                row = {"minute": minute + 1, "rss_kib": rss_kib(proc.pid),
                       "latency_us_p50": r["latency_us_p50"],
                       "latency_us_p99": r["latency_us_p99"], "answered": r["answered"],
                       "frames": r["frames"]}
                rows.append(row)
                print(json.dumps(row), flush=True)
            engine_stats = json.loads(stats.read_text())
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    summary = {"start_rss_kib": start_rss, "rows": rows,
               "rss_growth_kib": rows[-1]["rss_kib"] - start_rss,
               "engine": {k: engine_stats.get(k) for k in (
                   "frames_in", "frames_out", "dropped_frames", "bad_packets", "errors",
                   "trainings", "step_us_p50", "step_us_p99", "latency_us_p50",
                   "latency_us_p99")}}
    print(json.dumps(summary, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
