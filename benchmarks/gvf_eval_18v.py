"""Issue 18v's declared grid (docs/notes/issue-18v.md): how GVF's alignments read their speed
(``align_speed``: ``"slope"``, the least-squares slope of the path, before; ``"chord"``, its
advance over its frames), for ``gm.GVF()`` and for the evaluated settings (with 18u's
``align_max_step`` 12), by 18u's procedure (``gvf_eval_18u.run_grid``: gvf_eval's 2-fold CV
inside the training subjects, the same rule, one held-out run of both with their choices).

Run from the repository root::

    nice -n 10 python3 benchmarks/gvf_eval_18v.py --out docs/gvf_align_speed_18v.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.gvf_eval_18u import run_grid  # noqa: E402

#: the candidates of ``align_speed``; today's first (ties go to it)
SPEEDS = ("slope", "chord")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "gvf_align_speed_18v.json"))
    args = ap.parse_args()
    run_grid("align_speed", SPEEDS, {"align_max_step": 12}, args.out)


if __name__ == "__main__":
    main()
