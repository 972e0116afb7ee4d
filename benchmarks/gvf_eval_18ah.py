"""Issue 18ah's declared grid (docs/notes/issue-18ah.md): ``align_max_step`` (how many template
frames one frame may advance the alignments) for ``gm.GVF()``, by 18aa's and 18ad's procedure
(``gvf_eval_18aa.noisy_grid``: gvf_eval's 2-fold CV inside the training subjects, each row
scored by the mean of the CV score on gvf_eval's replay and with the sensor's noise restored;
18y's restart guard, 0.05; one held-out run with the choice, the restart also after 50 and 125
held frames, the choice and the first row on the noise-restored replay). Since the sliding
minimum of both alignments a frame's cost does not grow with the limit, so no step guard.

Run from the repository root::

    nice -n 10 python3 benchmarks/gvf_eval_18ah.py --out docs/gvf_max_step_18ah.json
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.gvf_eval_18aa import noisy_grid_main  # noqa: E402

#: the rows: today's (12) first, ties go to it
GRID_18AH = (12, 24, 48)


def main() -> None:
    noisy_grid_main("align_max_step", GRID_18AH, "gvf_max_step_18ah.json")


if __name__ == "__main__":
    main()
