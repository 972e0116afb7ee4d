"""Issue 18w's declared grid (docs/notes/issue-18w.md): how the open alignment's paths
compare (``align_null_cost``, ``align_switch_cost``: 0, by their cost per frame with a
prior, as before; > 0, the connected rule), for ``gm.GVF()``, by 18u's procedure
(``gvf_eval_18u.run_grid``: gvf_eval's 2-fold CV inside the training subjects, the same
rule and restart guard, one held-out run with the choice), with the restart against the
truth also after pauses of 50 and 125 held frames, held out for the choice and for today's
rule beside it (reported, nothing chosen on it).

Run from the repository root::

    nice -n 10 python3 benchmarks/gvf_eval_18w.py --out docs/gvf_align_connected_18w.json
    python3 benchmarks/gvf_eval_18w.py --steps --out docs/gvf_align_connected_18w.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import gesturemap as gm  # noqa: E402
from benchmarks import gvf_eval as ge  # noqa: E402
from benchmarks.gvf_eval_18t import back_to_back_own  # noqa: E402
from benchmarks.gvf_eval_18u import add_step_times, run_grid  # noqa: E402

#: the rows: today's rule first (ties go to it), then the connected rule's (null, switch)
GRID_18W = ({"align_null_cost": 0.0},
            *({"align_null_cost": c, "align_switch_cost": s}
              for c, s in ((5.0, 100.0), (6.0, 80.0), (6.0, 120.0), (6.0, 150.0),
                           (7.0, 100.0), (8.0, 150.0))))
PAUSES = (50, 125)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "gvf_align_connected_18w.json"))
    ap.add_argument("--steps", action="store_true",
                    help="the step times only: gm.GVF() against the per-frame rule, 100 to "
                         "2,000 particles, rounds interleaved, added to the report")
    args = ap.parse_args()
    if args.steps:
        add_step_times(args.out, {"per frame": {"align_null_cost": 0.0}})
        return
    report = run_grid("align_null_cost, align_switch_cost", GRID_18W, {}, args.out,
                      only=("gm.GVF()",), pauses=PAUSES)
    takes, labels, subjects = ge.load_takes()
    saved = json.loads((ROOT / "docs" / "gvf_align_18p.json").read_text())
    _, _, train_idx, test_idx = ge.saved_split(saved)
    today = GRID_18W[0]
    report["held_out_today_pauses"] = {
        pause: back_to_back_own(takes, labels, subjects, train_idx, test_idx,
                                lambda: gm.GVF(1000, **today), pause=pause)["back_to_back"]
        for pause in PAUSES}
    print("held out, today's rule after pauses", report["held_out_today_pauses"], flush=True)
    Path(args.out).write_text(json.dumps(report, indent=1, default=float))


if __name__ == "__main__":
    main()
