"""``gesturemap bench``: the performance figures kept in docs/performance.md.

Models: full retrain time (median of several runs) on XMM's reference workload beside XMM's own
time (one thread, from XMM's reference README), and ``step()`` time p50 / p99. ``--latency``
adds OSC in -> OSC out (:mod:`.latency`), OSC in -> MIDI out (:mod:`.midi`) and take -> model.
The workload and these programs are inside the package, so an installed gesturemap measures
itself with nothing beside it (:mod:`.workload`); ``--scaling`` runs a program of the source
checkout's ``benchmarks/`` folder.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .workload import Workload, load_workload

__all__ = ["Workload", "bench_models", "benchmark_module", "load_workload", "main"]

#: XMM's full retrain and per-frame times on this workload (C++, one thread, 2-core machine).
XMM_TIMES_MS = {"gmm": 93.0, "hhmm": 235.0, "gmr": 126.0, "hmr": 289.0}
XMM_STEP_US = {"gmm": 1.1, "hhmm": 3.9, "gmr": 2.4, "hmr": 14.0}
#: The performance budgets (docs/performance.md): step p50 (and HHMM p99) in microseconds.
STEP_BUDGET_US = {"gmm": (15.0, None), "gmr": (15.0, None), "hhmm": (25.0, 60.0),
                  "hmr": (40.0, None)}


def benchmark_module(name: str) -> Any:
    """A benchmark program of the source checkout's ``benchmarks/`` folder (``bench_scaling``),
    imported by name: programs that only a checkout runs."""
    import importlib

    folder = Path(__file__).resolve().parents[2] / "benchmarks"
    if not (folder / f"{name}.py").is_file():
        from ..errors import GesturemapError

        raise GesturemapError(
            f"this benchmark needs gesturemap's source checkout ({folder / (name + '.py')} "
            "is missing): clone the repository and run `gesturemap bench` from it.")
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return importlib.import_module(name)


def _model(kind: str, n_jobs: int | None) -> Any:
    import gesturemap as gm

    common = dict(relative_regularization=0.01, absolute_regularization=0.001,
                  covariance="full", likelihood_window=10, em_min_iterations=10,
                  em_max_iterations=0, em_percent_change=0.01, n_jobs=n_jobs,
                  deltas=False)  # XMM's inputs; the decision stays the default (cumulative)
    if kind in ("gmm", "gmr"):
        return gm.GMM(3, **common)
    return gm.HHMM(10, 1, transition="left-right", hierarchical=True,
                   regression_estimator="full", **common)


def bench_models(workload: Workload, repeats: int = 7, frames: int = 5000) -> dict[str, Any]:
    """Retrain and step timings of GMM, GMR, HHMM and HMR with XMM's reference settings.

    Parameters
    ----------
    workload : Workload
        The reference workload (:func:`load_workload`).
    repeats : int
        Retrains per model and thread setting; the median is reported.
    frames : int
        ``step()`` calls timed per model (the test stream, repeated).

    Returns
    -------
    dict
        Per model kind (``gmm``, ``gmr``, ``hhmm``, ``hmr``), its figures and budgets.
    """
    uni, bi, x_test = workload.unimodal, workload.bimodal, workload.test_frames
    out: dict[str, Any] = {}
    for kind in ("gmm", "gmr", "hhmm", "hmr"):
        ds = bi if kind in ("gmr", "hmr") else uni
        _model(kind, None).fit(ds)  # warm-up (kernels compiled or loaded from cache)
        row: dict[str, Any] = {}
        for label, jobs in (("parallel", None), ("one_thread", 1)):
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                model = _model(kind, jobs).fit(ds)
                times.append((time.perf_counter() - t0) * 1e3)
            row[f"fit_ms_{label}"] = statistics.median(times)
        row["fit_ratio_vs_xmm"] = row["fit_ms_parallel"] / XMM_TIMES_MS[kind]
        row["fit_ratio_vs_xmm_one_thread"] = row["fit_ms_one_thread"] / XMM_TIMES_MS[kind]
        stream = model.stream()
        for f in x_test[:50]:
            stream.step(f)
        stream.reset()
        samples = np.empty(frames)
        n = len(x_test)
        for i in range(frames):
            f = x_test[i % n]
            t0 = time.perf_counter_ns()
            stream.step(f)
            samples[i] = (time.perf_counter_ns() - t0) / 1e3
        row["step_us_p50"] = float(np.percentile(samples, 50))
        row["step_us_p99"] = float(np.percentile(samples, 99))
        row["xmm_fit_ms"] = XMM_TIMES_MS[kind]
        row["xmm_step_us"] = XMM_STEP_US[kind]
        p50_budget, p99_budget = STEP_BUDGET_US[kind]
        row["step_budget_us_p50"] = p50_budget
        row["step_budget_us_p99"] = p99_budget
        out[kind] = row
    return out


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "system": platform.system()}


def format_models(rows: dict[str, Any]) -> str:
    lines = ["| model | retrain (ms, median) | one thread (ms) | XMM (ms) | ratio | "
             "ratio, one thread | step p50 (µs) | step p99 (µs) | budget p50 (µs) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for kind, r in rows.items():
        lines.append(
            f"| {kind.upper()} | {r['fit_ms_parallel']:.1f} | {r['fit_ms_one_thread']:.1f} | "
            f"{r['xmm_fit_ms']:.0f} | {r['fit_ratio_vs_xmm']:.2f} | "
            f"{r['fit_ratio_vs_xmm_one_thread']:.2f} | {r['step_us_p50']:.1f} | "
            f"{r['step_us_p99']:.1f} | {r['step_budget_us_p50']:.0f} |")
    return "\n".join(lines)


def _external_servers(specs: list[str]) -> dict[str, int]:
    """``["wekinator=6448", ...]`` → ``{"wekinator": 6448, ...}`` (``--external NAME=PORT``)."""
    out: dict[str, int] = {}
    for spec in specs:
        name, _, port = spec.partition("=")
        if not name or not port.isdigit() or not 0 < int(port) < 65536 or name in out:
            raise SystemExit(f"bench: --external takes NAME=PORT with a distinct name and a "
                             f"port number, not {spec!r}")
        out[name] = int(port)
    return out


def main(args: Any) -> int:
    if getattr(args, "scaling", False):
        bench_scaling = benchmark_module("bench_scaling")
        print(f"gesturemap bench --scaling — machine: {machine()}")
        rows = bench_scaling.run()
        if args.json:
            from ..utils.storage import write_json

            bench_scaling.plot(rows, Path(args.json).with_suffix(".png"))
            write_json(Path(args.json), {"machine": machine(), "scaling": rows},
                       format="gesturemap.bench", version=1)
            print(f"\nwrote {args.json}")
        return 0
    from ..errors import GesturemapError

    try:
        workload = load_workload(args.reference)
    except GesturemapError as e:
        print(f"gesturemap bench: {e}", file=sys.stderr)
        return 2
    if getattr(args, "vs_floor", False):
        from . import latency as bench_latency

        print(f"gesturemap bench --latency --vs-floor — machine: {machine()}")
        external = _external_servers(getattr(args, "external", None) or [])
        if external and not args.receive_port:
            print("bench: --external needs --receive-port, the port the external servers send "
                  "their /wek/outputs to", file=sys.stderr)
            return 2
        try:
            res = bench_latency.vs_floor(workload, rounds=args.rounds, seconds=args.seconds,
                                         external=external, receive_port=args.receive_port,
                                         warmup_s=args.warmup, log=sys.stdout)
        except (ValueError, OSError, RuntimeError) as e:
            print(f"bench: {e}", file=sys.stderr)
            return 2
        print(bench_latency.format_vs_floor(res))
        if args.json:
            from ..utils.storage import write_json

            write_json(Path(args.json), {"machine": machine(), "vs_floor": res},
                       format="gesturemap.bench", version=1)
            print(f"\nwrote {args.json}")
        return 0
    print(f"gesturemap bench — reference workload: {workload.source}", flush=True)
    print(f"machine: {machine()}", flush=True)
    rows = bench_models(workload, repeats=args.repeats)
    print()
    print(format_models(rows))
    result: dict[str, Any] = {"machine": machine(), "models": rows}
    if getattr(args, "latency", False):
        from . import latency as bench_latency
        from . import midi as bench_midi

        print("\nOSC in -> OSC out on loopback, 200 frames/s, 10 s each:")
        lat = bench_latency.run(workload, window=getattr(args, "window", False),
                                search=getattr(args, "search", False),
                                spotting=getattr(args, "spotting", False))
        print(bench_latency.format_rows(lat))
        result["latency"] = lat
        midi = bench_midi.run(workload)
        print(bench_midi.format_row(midi))
        result["midi_latency"] = midi
        ttm = bench_latency.take_to_model(workload)
        print("\nstop recording -> new model answering (reference workload, 24 takes + 1 live): "
              f"first retrain {ttm['first_take_to_model_ms']:.0f} ms (every class), then median "
              f"{ttm['take_to_model_ms_median']:.0f} ms, max {ttm['take_to_model_ms_max']:.0f} ms "
              "(the new take's class)")
        result["take_to_model"] = ttm
        if getattr(args, "search", False):
            ttm = bench_latency.take_to_model(workload, search=True)
            print(f"the same with the background search running: first retrain "
                  f"{ttm['first_take_to_model_ms']:.0f} ms, then median "
                  f"{ttm['take_to_model_ms_median']:.0f} ms, max {ttm['take_to_model_ms_max']:.0f} ms")
            result["take_to_model_searching"] = ttm
    if args.json:
        from ..utils.storage import write_json

        write_json(Path(args.json), result, format="gesturemap.bench", version=1)
        print(f"\nwrote {args.json}")
    return 0
