"""Issue 18x's declared grid (docs/notes/issue-18x.md): the connected rule's young paths
(``align_young_cost``: a path of fewer than 20 frames compares as if each frame it lacks cost
that much more), with the null and switch costs, for ``gm.GVF()``, by 18u's procedure
(``gvf_eval_18u.run_grid``: gvf_eval's 2-fold CV inside the training subjects, the same rule
and restart guard, one held-out run with the choice, the restart also after pauses of 50 and
125 held frames).

Run from the repository root::

    nice -n 10 python3 benchmarks/gvf_eval_18x.py --out docs/gvf_align_young_18x.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.gvf_eval_18u import run_grid  # noqa: E402

#: the rows: today's defaults first (18w's (5, 100), no young cost; ties go to it), then the
#: young cost 2 and 4 with the (null, switch) costs (4, 100), (5, 100), (6, 150)
GRID_18X = ({"align_young_cost": 0.0},
            *({"align_null_cost": c, "align_switch_cost": s, "align_young_cost": y}
              for y in (2.0, 4.0) for c, s in ((4.0, 100.0), (5.0, 100.0), (6.0, 150.0))))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "gvf_align_young_18x.json"))
    args = ap.parse_args()
    run_grid("align_null_cost, align_switch_cost, align_young_cost", GRID_18X, {}, args.out,
             only=("gm.GVF()",), pauses=(50, 125))


if __name__ == "__main__":
    main()
