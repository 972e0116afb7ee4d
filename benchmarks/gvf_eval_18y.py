"""Issue 18y's declared grid (docs/notes/issue-18y.md): ``align_reset_margin`` (each class
reads the since-reset alignment's speed until the open alignment's path is cheaper by that
much, then the open alignment's until the reset), for ``gm.GVF()``, by 18u's procedure
(``gvf_eval_18u.run_grid``: gvf_eval's 2-fold CV inside the training subjects, one held-out
run with the choice, the restart also after pauses of 50 and 125 held frames) with the
restart guard at 0.05 (declared: the parameter trades restarts for single gestures).

Run from the repository root::

    nice -n 10 python3 benchmarks/gvf_eval_18y.py --out docs/gvf_align_reset_margin_18y.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import gvf_eval as ge  # noqa: E402
from benchmarks.gvf_eval_18u import held_out, run_grid  # noqa: E402

#: the rows: today's default first (None, the open alignment from the first frame; ties go
#: to it), then margins from 100 to 600
GRID_18Y = (None, 100.0, 200.0, 300.0, 400.0, 600.0)
#: the restart guard: a row's back to back against the truth on the folds at least the first
#: row's minus this
OWN_MARGIN_18Y = 0.05


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "gvf_align_reset_margin_18y.json"))
    ap.add_argument("--held-out-again", metavar="REPORT",
                    help="only the held-out figures of gm.GVF() as shipped (the chosen margin "
                         "with its end hold, docs/notes/issue-18y.md), added to REPORT")
    args = ap.parse_args()
    if args.held_out_again:
        report = json.loads(Path(args.held_out_again).read_text())
        takes, labels, subjects = ge.load_takes()
        saved = json.loads((ROOT / "docs" / "gvf_align_18p.json").read_text())
        _, _, train_idx, test_idx = ge.saved_split(saved)
        row = {"align_reset_margin": report["chosen"]["gm.GVF()"]}
        report["held_out_with_end_hold"] = held_out(row, takes, labels, subjects, train_idx,
                                                    test_idx, (50, 125))
        Path(args.held_out_again).write_text(json.dumps(report, indent=1, default=float))
        return
    run_grid("align_reset_margin", GRID_18Y, {}, args.out, only=("gm.GVF()",),
             pauses=(50, 125), own_margin=OWN_MARGIN_18Y)


if __name__ == "__main__":
    main()
