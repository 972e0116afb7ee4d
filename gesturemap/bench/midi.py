"""OSC in -> MIDI out latency of ``gesturemap run --midi-out``, over JACK MIDI.

The method of :mod:`gesturemap.bench.latency`: this process sends ``/wek/inputs`` frames at 200
frames/s to a ``gesturemap run --midi-out`` of a GMR project on XMM's bimodal reference set
(its takes' inputs as the frames: its two continuous outputs give a control change on most
frames), and times the MIDI that comes back on a JACK MIDI input of its own.
A frame need not produce MIDI (a control change goes out only when its 7-bit value changes), so
each MIDI message is matched to the last frame sent before it arrived and only the first
message after each frame is timed: unambiguous while the latency stays below the 5 ms frame
period. JACK moves MIDI once per period (128 frames at 48 kHz = 2.67 ms), so the figures
include up to one period of JACK's own clocking — what a synth on JACK would see.

Needs ``jackd`` (Debian's jackd2): a dummy JACK server is started for the run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from .workload import Workload

__all__ = ["format_row", "run"]


def _regression_project(folder: Path, workload: Workload) -> tuple[Path, np.ndarray]:
    """A GMR project on XMM's bimodal reference set (continuous outputs: a control change on
    most frames), and its takes' inputs back to back as the frames to send."""
    from ..project import Project

    ds = workload.bimodal
    first = next(iter(ds))
    names = [f"out{k + 1}" for k in range(first.outputs.shape[1])]
    project = Project(
        "midi-latency", model={"kind": "gmm", "params": {"gaussians": 3}}, output_names=names
    )
    for rec in ds:
        project.add_take(rec.inputs, rec.label, outputs=rec.outputs)
    project.trained = project.new_model().fit(project.dataset())
    project.save(folder)
    return folder, np.concatenate([rec.inputs for rec in ds]).astype(np.float64)


def run(workload: Workload, rate_hz: float = 200.0, seconds: float = 10.0) -> dict[str, Any]:
    """Latency figures of MIDI out (µs), or ``{"skipped": reason}`` without jackd."""
    from .latency import _announced_port, _message, _ordinary, compile_ahead

    jackd = shutil.which("jackd")
    if jackd is None:
        return {"skipped": "jackd is not installed (apt-get install jackd2)"}
    compile_ahead()
    name = f"gm-bench-midi-{os.getpid()}"
    env = dict(
        os.environ, JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER="1", GESTUREMAP_CLASS_CACHE="0"
    )
    server = subprocess.Popen(
        [jackd, "-n", name, "-d", "dummy", "-r", "48000", "-p", "128"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    old = {k: os.environ.get(k) for k in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
    os.environ.update(JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER="1")
    try:
        subprocess.run(
            ["jack_wait", "-w", "-t", "10"], check=True, timeout=15, capture_output=True, env=env
        )
        import rtmidi

        arrivals: list[float] = []
        lock = threading.Lock()
        sink = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="gm-bench")

        def on_midi(event: Any, data: Any = None) -> None:  # keep it short: JACK's thread
            now = time.perf_counter()
            with lock:
                arrivals.append(now)

        sink.open_virtual_port("bench-sink")
        sink.set_callback(on_midi)
        with tempfile.TemporaryDirectory() as tmp:
            folder, frames = _regression_project(Path(tmp) / "proj", workload)
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gesturemap.cli",
                    "run",
                    str(folder),
                    "--osc-in",
                    "127.0.0.1:0",
                    "--osc-out",
                    "127.0.0.1:9",
                    "--no-audio",
                    "--midi-out",
                    "bench-sink",
                ],
                stdout=subprocess.PIPE,
                text=True,
                preexec_fn=_ordinary,
                env=env,
            )
            try:
                port = _announced_port(proc)
                time.sleep(1.0)
                tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                n = int(seconds * rate_hz)
                packets = [_message("/wek/inputs", frames[i % len(frames)]) for i in range(n)]
                sent = np.zeros(n)
                next_t = time.perf_counter()
                for i in range(n):
                    while (wait := next_t - time.perf_counter()) > 0:
                        time.sleep(min(wait, 0.001))
                    sent[i] = time.perf_counter()
                    tx.sendto(packets[i], ("127.0.0.1", port))
                    next_t += 1.0 / rate_hz
                time.sleep(0.5)
                tx.close()
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        sink.cancel_callback()
        sink.delete()
    finally:
        server.terminate()
        server.wait(timeout=10)
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    with lock:  # the note-off at stop, after the last frame, is no frame's answer
        got = np.array([t for t in arrivals if t < sent[-1] + 0.1])
    owner = np.searchsorted(sent, got, side="right") - 1  # the last frame sent before it
    first = {}
    for t, j in zip(got.tolist(), owner.tolist(), strict=True):
        if j >= int(rate_hz) and j not in first:  # the first second warms caches up
            first[j] = (t - sent[j]) * 1e6
    lat = np.array(list(first.values()))
    if not len(lat):
        raise RuntimeError("no MIDI came back")
    return {
        "frames": int(len(sent)),
        "frames_with_midi": int(len(lat)),
        "midi_messages": int(len(got)),
        "latency_us_p50": float(np.median(lat)),
        "latency_us_p99": float(np.percentile(lat, 99)),
        "jitter_us_p99_minus_p50": float(np.percentile(lat, 99) - np.median(lat)),
    }


def format_row(res: dict[str, Any]) -> str:
    if "skipped" in res:
        return f"MIDI out: not measured ({res['skipped']})"
    return (
        f"| gesturemap run --midi-out (JACK MIDI, 128-frame period) | "
        f"{res['latency_us_p50']:.0f} | {res['latency_us_p99']:.0f} | "
        f"{res['jitter_us_p99_minus_p50']:.0f} | {res['frames_with_midi']}/{res['frames']} "
        "frames sent MIDI |"
    )
