"""First start on a new machine: ``gesturemap run`` of a new project from an empty numba cache.

A Wekinator client starts sending frames at 100 Hz when the program says it listens, records
two poses of ``--take-s`` seconds each (Wekinator's outputs / startRecording / stopRecording),
then sends train and startRunning. Measured: the listening line, the preparation of the
project's kernels (``prepared_s`` in the stats), the time from the train command to the first
``/wek/outputs``, whether every frame sent was counted, and how many trainings the interpreted
worker did (the first take's, while the kernels compiled). Then the same again with the cache
the first run filled (a second start).

    python benchmarks/first_start.py [--model hhmm] [--take-s 3] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket


def _msg(address: str, *args: float) -> bytes:
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(float(a), "f")
    return b.build().dgram


def one_start(model: str, take_s: float, cache: Path, folder: Path) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    project = folder / "project"
    subprocess.run([sys.executable, "-m", "gesturemap", "new", str(project), "--model", model],
                   env=env, check=True, capture_output=True)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.1)
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    stats = folder / "stats.json"
    t0 = time.perf_counter()
    run = subprocess.Popen(
        [sys.executable, "-m", "gesturemap", "run", str(project), "--no-audio", "--osc-in",
         f"127.0.0.1:{port}", "--osc-out", f"127.0.0.1:{rx.getsockname()[1]}", "--stats",
         str(stats)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    run.stdout.readline()
    listening = time.perf_counter() - t0
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    pose = [np.zeros(2)]
    sent = [0]
    first_output: list[float] = []
    stop = threading.Event()

    def sense() -> None:
        nxt = time.perf_counter()
        while not stop.is_set():
            tx.sendto(_msg("/wek/inputs", *(pose[0] + 0.05 * np.random.randn(2))),
                      ("127.0.0.1", port))
            sent[0] += 1
            nxt += 0.01
            time.sleep(max(0.0, nxt - time.perf_counter()))

    def listen() -> None:
        while not stop.is_set():
            try:
                data, _ = rx.recvfrom(65536)
            except TimeoutError:
                continue
            if any(m.message.address == "/wek/outputs" for m in OscPacket(data).messages):
                first_output.append(time.perf_counter())

    threads = [threading.Thread(target=f, daemon=True) for f in (sense, listen)]
    for t in threads:
        t.start()
    for label, p in ((1, (0.0, 0.0)), (2, (1.0, 1.0))):
        tx.sendto(_msg("/wekinator/control/outputs", label), ("127.0.0.1", port))
        pose[0] = np.array(p)
        tx.sendto(_msg("/wekinator/control/startRecording"), ("127.0.0.1", port))
        time.sleep(take_s)
        tx.sendto(_msg("/wekinator/control/stopRecording"), ("127.0.0.1", port))
    train = time.perf_counter()
    tx.sendto(_msg("/wekinator/control/train"), ("127.0.0.1", port))
    tx.sendto(_msg("/wekinator/control/startRunning"), ("127.0.0.1", port))
    while not first_output and time.perf_counter() < train + 300:
        time.sleep(0.01)
    model_in = first_output[0] - train if first_output else float("nan")
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    time.sleep(1.5)  # the stats file is refreshed every second
    run.send_signal(signal.SIGINT)
    run.communicate(timeout=60)
    final = json.loads(stats.read_text())
    return {"listening_s": listening, "prepared_s": final.get("prepared_s"),
            "train_at_s": train - t0, "model_in_s": model_in,
            "frames_sent": sent[0], "frames_counted": final["frames_in"],
            "interpreted": final.get("trainings_interpreted", 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="hhmm")
    parser.add_argument("--take-s", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    print(f"{'start':<8} {'listening s':>11} {'prepared s':>10} {'train at s':>10} "
          f"{'train -> model s':>16} {'frames counted':>15} {'interpreted':>11}")
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp) / "numba-cache"
            for which in ("first", "second"):
                folder = Path(tmp) / which
                folder.mkdir()
                r = one_start(args.model, args.take_s, cache, folder)
                print(f"{which:<8} {r['listening_s']:>11.2f} {r['prepared_s'] or 0:>10.2f} "
                      f"{r['train_at_s']:>10.2f} {r['model_in_s']:>16.2f} "
                      f"{r['frames_counted']:>7}/{r['frames_sent']:<7} "
                      f"{r['interpreted']:>11}", flush=True)


if __name__ == "__main__":
    main()
