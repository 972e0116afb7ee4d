"""Latency of ``gesturemap run`` while scenes are recalled every second, against the same run
without recalls.

Run: ``python -m benchmarks.scenes_latency [--seconds 20]`` (about 4 x (seconds + 5) s).

What it measures
- ``gesturemap bench --latency``'s method (gesturemap/bench/latency.py: loopback OSC at 200
  frames/s of XMM's reference test stream, each ``/wek/outputs`` answer timed on its own
  socket, the first second left out) on a project of two scenes, with and without a
  ``/gesturemap/scene`` recall every second (the two scenes in turn, each recall a 500 ms
  crossfade: half of the frames of a switching run go through two streams on the plain path).
- Two projects: an HHMM classifier on the reference workload (its two scenes 10 and 6
  states; outside a fade its frames take the lean and compiled paths) and an HMR on the
  bimodal workload (regression: the outputs cross-fade).
- The budget (docs/performance.md): headless <= 0.25 ms median, <= 0.5 ms p99.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gesturemap.bench import latency as bench_latency  # noqa: E402
from gesturemap.bench.workload import load_workload  # noqa: E402


def _scene_project(folder: Path, dataset: Any, fade_s: float) -> Path:
    """A project of two HHMM scenes ("a": 10 states, "b": 6) trained on ``dataset``."""
    from gesturemap.project import Project

    project = Project("scenes", model={"kind": "hhmm", "params": {"states": 6}},
                      output_names=dataset.output_names)
    for rec in dataset:
        project.add_take(rec.inputs, rec.label, outputs=rec.outputs)
    project.train()
    project.save_scene("b")
    project.model = {"kind": "hhmm", "params": {"states": 10}}
    project.train()
    project.save_scene("a")
    project.scene_fade_s = fade_s
    project.save(folder)
    return folder


def _recall(name: str) -> bytes:
    from pythonosc.osc_message_builder import OscMessageBuilder

    builder = OscMessageBuilder("/gesturemap/scene")
    builder.add_arg(name)
    return builder.build().dgram


def _run(folder: Path, frames: Any, rate_hz: float, seconds: float,
         switch_every_s: float | None) -> dict[str, Any]:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    port = bench_latency._free_port()
    stats = folder.parent / f"{folder.name}-{port}.json"
    cmd = [sys.executable, "-m", "gesturemap.cli", "run", str(folder), "--osc-in",
           f"127.0.0.1:{port}", "--osc-out", f"127.0.0.1:{rx.getsockname()[1]}",
           "--no-audio", "--stats", str(stats)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True,
                            preexec_fn=bench_latency._ordinary)
    try:
        proc.stdout.readline()
        time.sleep(1.0)  # the training worker and the scenes' streams finish loading
        out = bench_latency._measure(port, rx, frames, rate_hz, seconds, switch_every_s,
                                     controls=[_recall("b"), _recall("a")])
    finally:
        bench_latency.stop_servers([proc])
        rx.close()
    scenes = json.loads(stats.read_text()).get("scenes", {})
    out["recalls"], out["unknown"] = scenes.get("recalls"), scenes.get("unknown")
    out["cold_recalls"] = scenes.get("cold_recalls")
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--rate", type=float, default=200.0)
    p.add_argument("--fade", type=float, default=0.5)
    args = p.parse_args(argv)
    workload = load_workload()
    bench_latency.compile_ahead()
    bench_latency._measuring_client_first()
    results: dict[str, Any] = {"rate_hz": args.rate, "seconds": args.seconds,
                               "fade_s": args.fade}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, dataset in (("hhmm", workload.unimodal), ("hmr", workload.bimodal)):
            folder = _scene_project(Path(tmp) / kind, dataset, args.fade)
            for label, every in (("no_switch", None), ("switch_every_1s", 1.0)):
                r = _run(folder, workload.test_frames, args.rate, args.seconds, every)
                results[f"{kind}_{label}"] = r
                print(f"{kind:5s} {label:16s} p50 {r['latency_us_p50']:7.0f} us  "
                      f"p99 {r['latency_us_p99']:7.0f} us  p99.9 {r['latency_us_p999']:7.0f} "
                      f"us  answered {r['answered']}/{r['frames']}  recalls {r['recalls']}",
                      flush=True)
    print(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
