"""CPU at 1,000 frames/s: gesturemap servers from several checkouts and a bare python-osc echo,
measured in interleaved rounds (issue 19's "the 1 kHz CPU cost halved").

Each server is ``gesturemap run`` on the reference HHMM project (``bench_latency._project``,
built by that checkout's own code so its model file is the one it writes), started from its
own checkout (a ``git worktree``: ``git worktree add --detach /tmp/start <commit>``), or the
bare python-osc echo that ``gesturemap bench --latency --vs-floor`` uses as its floor. The
client sends ``/wek/inputs`` at 1 kHz from this process (ordinary priority, spinning on the
other core) and reads the replies; each server's CPU is read from /proc before and after.
Rounds alternate the order of the servers (forward, backward) so that a drift of the machine
falls on all of them alike.

    python3 -m benchmarks.cpu_1khz --server start=/tmp/start --server now=. \\
        --rounds 8 --seconds 5 --out cpu.json
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
from typing import Any

import numpy as np

from benchmarks.shared_data import REFERENCE
from gesturemap.bench import latency as bl
from gesturemap.bench import load_workload


def _start(name: str, tree: Path | None, folder: Path, rx_port: int) -> tuple[Any, int]:
    """Start one server; returns (process, port)."""
    port = bl._free_port()
    if tree is None:
        cmd = [sys.executable, "-c", bl.ECHO_SCRIPT, str(port), str(rx_port)]
        cwd = None
    else:
        # the project written by that checkout's own code: the latency programs moved into
        # the package (reading the packaged workload); older checkouts read XMM's folder
        code = (f"import sys; sys.path.insert(0, {str(tree)!r}); from pathlib import Path\n"
                "try:\n    from gesturemap.bench.latency import _project\n"
                "    from gesturemap.bench import load_workload as load\n"
                "except ImportError:\n    from benchmarks.bench_latency import _project\n"
                f"    load = lambda: Path({str(REFERENCE)!r})\n"
                f"_project(Path({str(folder)!r}), load())")
        subprocess.run([sys.executable, "-c", code], check=True, cwd=tree)
        cmd = [sys.executable, "-m", "gesturemap.cli", "run", str(folder), "--osc-in",
               f"127.0.0.1:{port}", "--osc-out", f"127.0.0.1:{rx_port}", "--no-audio"]
        cwd = str(tree)  # `-m` puts the working directory first: that checkout's package
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, preexec_fn=bl._ordinary,
                            cwd=cwd)
    return proc, port


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", action="append", default=[], metavar="NAME=CHECKOUT",
                    help="a gesturemap server from this checkout (repeat)")
    ap.add_argument("--no-floor", action="store_true", help="leave out the python-osc echo")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--out", help="the JSON report")
    args = ap.parse_args(argv)
    servers: dict[str, Path | None] = {} if args.no_floor else {"floor": None}
    for spec in args.server:
        name, _, tree = spec.partition("=")
        if not name or not tree:
            ap.error(f"--server {spec!r}: expected NAME=CHECKOUT")
        servers[name] = Path(tree).resolve()
    if len(servers) < 1:
        ap.error("nothing to measure")
    frames = load_workload().test_frames
    report: dict = {"settings": {"rounds": args.rounds, "seconds": args.seconds,
                                 "servers": {k: str(v) if v else "python-osc echo"
                                             for k, v in servers.items()},
                                 "load_before": os.getloadavg()},
                    "idle_percent": {}, "cpu_percent": {k: [] for k in servers}}
    with tempfile.TemporaryDirectory() as tmp:
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(("127.0.0.1", 0))
        procs: dict[str, subprocess.Popen] = {}
        ports: dict[str, int] = {}
        try:
            for name, tree in servers.items():
                procs[name], ports[name] = _start(name, tree, Path(tmp) / name,
                                                  rx.getsockname()[1])
            for proc in procs.values():
                proc.stdout.readline()
            time.sleep(1.0)
            for name in servers:  # a checkout never run here compiles its kernels first
                if not bl._answers(ports[name], rx, frames[0], bl.FIRST_ANSWER_S):
                    raise RuntimeError(f"{name} gave no /wek/outputs")
            bl._drain(rx)
            for name in servers:  # idle CPU, then a short warm-up at 1 kHz
                pid = procs[name].pid
                c0 = bl._cpu_seconds(pid)
                time.sleep(2.0)
                report["idle_percent"][name] = 100 * (bl._cpu_seconds(pid) - c0) / 2.0
                bl._cpu_at_1khz(pid, ports[name], rx, frames, 2.0)
            names = list(servers)
            for r in range(args.rounds):
                for name in names if r % 2 == 0 else names[::-1]:
                    report["cpu_percent"][name].append(
                        bl._cpu_at_1khz(procs[name].pid, ports[name], rx, frames, args.seconds))
                print(f"round {r + 1}: " + ", ".join(
                    f"{n} {report['cpu_percent'][n][-1]:.1f}" for n in names), flush=True)
        finally:
            bl.stop_servers(procs.values())
            rx.close()
    report["settings"]["load_after"] = os.getloadavg()
    print("| server | idle % | 1 kHz % per round | median |")
    print("|---|---|---|---|")
    for name, values in report["cpu_percent"].items():
        print(f"| {name} | {report['idle_percent'][name]:.1f} | "
              + " / ".join(f"{v:.1f}" for v in values) + f" | {np.median(values):.1f} |")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
