"""Peak memory and wall time of ``gesturemap replay`` on a one-hour session log.

Run: ``python -m benchmarks.replay_memory`` (first run writes the log, about 1 min; then about
half a minute a replay). ``--frames 72000`` for a six-minute log; ``--code DIR`` replays with the
gesturemap package found in DIR (e.g. a copy of an older version) to compare before / after.

What it measures
- A synthetic session log written by the real :class:`gesturemap.log.SessionLog` writer:
  ``--frames`` frames (default 720,000: one hour at 200 Hz) of 6 channels, a ``reset`` event
  (by frame) every 10 s and one placed by time every 60 s, a label every 30 s.
- A small trained GMM project (3 classes, 2 Gaussians, 6 inputs, deciding on its last 20
  frames).
- ``replay_log(LOG, PROJECT, out=..., events_out=...)`` in a fresh child process: its wall
  time, and its peak resident memory (``ru_maxrss`` of the child; the interpreter and numpy
  alone are about 40 MB of it). The results' SHA-256 is printed: it must not change between
  versions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RATE_HZ = 200.0
CHANNELS = 6

_CHILD = """
import json, resource, sys, time
start = time.perf_counter()
from gesturemap.live.replay import replay_log
rows = replay_log(sys.argv[1], sys.argv[2], out=sys.argv[3], events_out=sys.argv[4])
wall = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": rows, "wall_s": wall, "peak_mb": peak_kb / 1024}))
"""


def make_project(folder: Path) -> Path:
    from gesturemap.project import Project

    if (folder / "project.json").exists():
        return folder
    project = Project(classes=["a", "b", "c"])
    rng = np.random.default_rng(0)
    for k, label in enumerate(("a", "b", "c")):
        for _ in range(3):
            project.add_take(0.1 * k + 0.05 * rng.standard_normal((100, CHANNELS)), label)
    project.model = {"kind": "gmm", "params": {"gaussians": 2, "decision": "window",
                                              "likelihood_window": 20}}
    project.train()
    project.save(folder)
    return folder


def make_log(folder: Path, frames: int) -> Path:
    from gesturemap.log import SessionLog

    if (folder / "session.json").exists():
        return folder
    rng = np.random.default_rng(1)
    chunk = 20_000
    with SessionLog(folder, {"input": [f"in{i + 1}" for i in range(CHANNELS)]}, t0=0.0,
                    max_queued=chunk + 1000) as log:
        for first in range(0, frames, chunk):
            n = min(chunk, frames - first)
            idx = np.arange(first, first + n)
            # the engine's clock (time.perf_counter(), here a day after boot), a little jitter
            times = 86400.0 + idx / RATE_HZ + 1e-4 * rng.random(n)
            level = 0.1 * ((idx // 2000) % 3)  # 10 s of each class in turn
            values = level[:, None] + 0.05 * rng.standard_normal((n, CHANNELS))
            for i, t, row in zip(idx, times, values, strict=True):
                if i % 2000 == 0 and i:
                    log.event(t - 0.001, "reset", reason="trigger", frame=log.accepted("input"))
                if i % 12000 == 6000:
                    log.event(t - 0.001, "reset", reason="old")  # placed by its time
                if i % 6000 == 0:
                    log.label(t, "abc"[(i // 2000) % 3])
                log.write("input", t, row)
            log.flush(60.0)
    return folder


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.iterdir()) / 1e6


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def replay_once(code: Path, log: Path, project: Path, out_dir: Path) -> dict:
    out, events = out_dir / "r.csv", out_dir / "events.csv"
    env = dict(os.environ, PYTHONPATH=str(code))
    done = subprocess.run([sys.executable, "-c", _CHILD, str(log), str(project), str(out),
                           str(events)], capture_output=True, text=True, env=env, cwd=out_dir,
                          check=False)
    if done.returncode:
        raise SystemExit(done.stderr)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["out_sha256"] = sha256(out)
    result["events_sha256"] = sha256(events)
    result["out_mb"] = out.stat().st_size / 1e6
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=720_000)
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "gesturemap-replay-memory")
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="the folder holding the gesturemap package to replay with")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    work = args.workdir / f"{args.frames}"
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    project = make_project(work / "project")
    log = make_log(work / "log", args.frames)
    print(f"log: {args.frames} frames, {folder_mb(log):.0f} MB "
          f"(ready in {time.perf_counter() - start:.0f} s); code: {args.code}")
    runs = []
    with tempfile.TemporaryDirectory(dir=work) as out_dir:
        for _ in range(args.repeat):
            runs.append(replay_once(args.code.resolve(), log, project, Path(out_dir)))
            print(json.dumps(runs[-1]))
    wall = sorted(r["wall_s"] for r in runs)[len(runs) // 2]
    peak = max(r["peak_mb"] for r in runs)
    print(f"replay of {runs[0]['rows']} frames: wall {wall:.1f} s (median of {len(runs)}), "
          f"peak RSS {peak:.0f} MB; results {runs[0]['out_mb']:.0f} MB "
          f"sha256 {runs[0]['out_sha256']}, events sha256 {runs[0]['events_sha256']}")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"(largest child RSS seen by the parent: {children:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
