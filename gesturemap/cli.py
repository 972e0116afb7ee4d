"""The ``gesturemap`` command."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gesturemap",
        description="Real-time gesture-to-sound mapping. With no command: a short demo on "
                    "built-in data (train, then follow a gesture frame by frame).")
    sub = p.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="the console demo on built-in data (the default)")
    demo.add_argument("--delay", type=float, default=0.0,
                      help="seconds to wait between frames, to watch it unfold")
    bench = sub.add_parser("bench", help="performance figures (kept in BENCHMARKS.md)")
    bench.add_argument("--reference", help="path to shared/reference/xmm (XMM's workload)")
    bench.add_argument("--repeats", type=int, default=7, help="retrains per model (median)")
    bench.add_argument("--json", help="also write the figures to this JSON file")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in (None, "demo"):
        from . import demo

        return demo.run(delay_s=getattr(args, "delay", 0.0))
    if args.command == "bench":
        from . import bench

        return bench.main(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
