"""Latency while a performer's controller changes the spotting on stage: a project spotting six
gestures with a window detector of the default size (100 trees of 256 leaves), run as
``gesturemap run`` runs it (the engine, its project folder, autosave), fed 200 frames/s of
sensor data over loopback OSC, and sent ``/gesturemap/costs`` every half second: each change
is stored in the project (saved) and the spotter rebuilt with it, without retraining.

The HHMM and the data are ``bench_spot_verifier``'s (HAPT's shape: 6 channels, 6 gestures
and a null class); the detector is fitted on noise labelled in 2 s blocks, so its trees
grow to full size. Latency is from the frame's arrival to its answer, as ``stats()``
reports it; ``--edits 0`` measures the same run without changes.

    PYTHONPATH=. python3 -m benchmarks.stage_edits [--seconds 10] [--edits 20]
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from pythonosc.osc_message_builder import OscMessageBuilder

import gesturemap as gm
from benchmarks.bench_spot_verifier import _data
from gesturemap.live.engine import Engine
from gesturemap.models.spotting.verifier import NULL
from gesturemap.project import Project


def _msg(address: str, *values: object) -> bytes:
    b = OscMessageBuilder(address)
    for v in values:
        b.add_arg(v)
    return b.build().dgram


def _project(folder: Path) -> Project:
    rng = np.random.default_rng(0)
    classes = [str(c) for c in range(6)]
    noise = rng.normal(0, 1, (30000, 6))
    blocks = rng.choice([NULL, *classes], 300)
    detector = gm.fit_detector([noise], [np.repeat(blocks, 100)], gestures=classes)
    project = Project("stage edits", model={
        "kind": "hhmm", "params": {"states": 10, "class_params": {
            NULL: {"states": 1, "gaussians": 8}}},
        "spotting": {"detector": detector.to_dict()}})
    for r in _data(rng):
        project.add_take(r.inputs, r.label)
    project.train()
    project.save(folder)
    return project


def run(folder: Path, seconds: float, edits: int) -> dict[str, float]:
    engine = Engine(Project.load(folder), osc_in=("127.0.0.1", 0), trainer="thread",
                    project_dir=folder).start()
    try:
        engine.running = True
        target = ("127.0.0.1", engine.osc_port)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rng = np.random.default_rng(1)
        frames = [_msg("/wek/inputs", *map(float, f)) for f in rng.normal(0, 0.5, (400, 6))]
        stop = threading.Event()

        def feed() -> None:
            t0, i = time.perf_counter(), 0
            while not stop.is_set():
                tx.sendto(frames[i % len(frames)], target)
                i += 1
                while time.perf_counter() < t0 + i * 0.005:
                    time.sleep(0.0005)

        feeder = threading.Thread(target=feed)
        feeder.start()
        time.sleep(2.0)  # warm: the spotter prepared, the kernels loaded
        engine._latency_us = type(engine._latency_us)()  # from here on
        done = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            if done < edits and time.perf_counter() - t0 >= done * seconds / max(edits, 1):
                tx.sendto(_msg("/gesturemap/costs", str(done % 6), 2.0 + done, 1.0), target)
                done += 1
            time.sleep(0.01)
        stop.set()
        feeder.join()
        time.sleep(0.3)
        lat = engine._latency_us
        stats = engine.stats()
        return {"edits": done, "p50": lat.get(50), "p99": lat.get(99), "p99.9": lat.get(99.9),
                "max": lat.get(100), "frames": stats["frames_in"],
                "answered": stats["frames_out"], "errors": stats["errors"],
                "project_kb": (folder / "project.json").stat().st_size / 1024}
    finally:
        engine.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--edits", type=int, nargs="*", default=[0, 20])
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "project"
        _project(folder)
        print("| cost changes | p50 (µs) | p99 (µs) | p99.9 (µs) | max (µs) | answered | "
              "project.json |")
        print("|---|---|---|---|---|---|---|")
        for edits in a.edits:
            r = run(folder, a.seconds, edits)
            print(f"| {r['edits']} | {r['p50']:.0f} | {r['p99']:.0f} | {r['p99.9']:.0f} | "
                  f"{r['max']:.0f} | {r['answered']} / {r['frames']} | "
                  f"{r['project_kb']:.0f} KB |", flush=True)


if __name__ == "__main__":
    main()
