"""Issue 18ad's declared grid (docs/notes/issue-18ad.md): ``align_margin_speed`` (the restart
margin divided by the since-reset winner's speed to this power) for ``gm.GVF()``, by 18aa's
procedure (``gvf_eval_18u.run_grid``: gvf_eval's 2-fold CV inside the training subjects, each
row scored by the mean of the CV score on gvf_eval's replay and with the sensor's noise
restored; 18y's restart guard, 0.05; one held-out run with the choice, the restart also after
50 and 125 held frames, the choice and the first row on the noise-restored replay).

Run from the repository root::

    nice -n 10 python3 benchmarks/gvf_eval_18ad.py --out docs/gvf_margin_speed_18ad.json
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.gvf_eval_18aa import noisy_grid_main  # noqa: E402

#: the rows: today's (off) first, ties go to it
GRID_18AD = (0.0, 0.25, 0.5, 1.0)


def main() -> None:
    noisy_grid_main("align_margin_speed", GRID_18AD, "gvf_margin_speed_18ad.json")


if __name__ == "__main__":
    main()
