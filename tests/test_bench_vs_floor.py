"""``gesturemap bench --latency --vs-floor`` (issue 19), short: one round of 2 s per server and
load, through the command line, on real loopback sockets and real ``gesturemap run`` processes.
Only the shape and sanity of the figures are checked here; the figures belong in BENCHMARKS.md."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from gesturemap.bench import benchmark_module

ROOT = Path(__file__).resolve().parents[1]


def test_vs_floor_from_the_command_line(reference_dir, tmp_path):
    out = tmp_path / "vs_floor.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-m", "gesturemap.cli", "bench", "--latency",
                          "--vs-floor", "--rounds", "1", "--seconds", "2", "--reference",
                          str(reference_dir), "--json", str(out)],
                         capture_output=True, text=True, timeout=240, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    bench_latency = benchmark_module("bench_latency")
    res = json.loads(out.read_text())["vs_floor"]
    assert res["settings"]["client"] == "ordinary priority"
    assert [(r["round"], r["load"]) for r in res["rounds"]] == [(1, "idle"), (1, "busy")]
    for r in res["rounds"]:
        assert tuple(r["results"]) == bench_latency.VS_FLOOR_SERVERS
        for name, f in r["results"].items():
            assert f["frames"] == 400, (name, f)
            assert f["answered"] >= 0.9 * f["frames"], (name, f)  # UDP on loopback: all
            p50, p99, p999 = f["latency_us_p50"], f["latency_us_p99"], f["latency_us_p999"]
            assert all(math.isfinite(v) and v > 0 for v in (p50, p99, p999)), (name, f)
            assert p50 <= p99 <= p999 < 1e6, (name, f)
    cpu = res["cpu_percent_1khz"]
    assert tuple(cpu) == bench_latency.VS_FLOOR_SERVERS[1:]
    assert all(0 < pct < 200 and math.isfinite(pct) for pct in cpu.values()), cpu
    assert "CPU at 1,000 frames/s" in run.stdout
    # the table printed has one row per server and load, each with its ratio to the floor
    rows = [line for line in run.stdout.splitlines() if line.startswith("| 1 |")]
    assert len(rows) == 2 * len(bench_latency.VS_FLOOR_SERVERS), run.stdout
    assert all(row.split("|")[7].strip().replace(".", "").isdigit() for row in rows), rows
    floor_rows = [row for row in rows if "floor" in row]
    assert [row.split("|")[7].strip() for row in floor_rows] == ["1.00", "1.00"]
