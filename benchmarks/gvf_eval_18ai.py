"""Issue 18ai's declared grid (docs/notes/issue-18ai.md): ``align_reset_margin`` (how much
cheaper the restarting alignment's path must be before a class reads it instead of the
since-reset one) for ``gm.GVF()`` at issue 18ah's ``align_max_step`` 48, by 18aa's and 18ad's
procedure (``gvf_eval_18aa.noisy_grid``: gvf_eval's 2-fold CV inside the training subjects,
each row scored by the mean of the CV score on gvf_eval's replay and with the sensor's noise
restored; 18y's restart guard, 0.05; one held-out run with the choice, the restart also after
50 and 125 held frames).

Run from the repository root::

    nice -n 10 python3 benchmarks/gvf_eval_18ai.py --out docs/gvf_reset_margin_18ai.json
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.gvf_eval_18aa import noisy_grid_main  # noqa: E402

#: the rows: today's (400) first, ties go to it
GRID_18AI = (400.0, 600.0, 800.0)


def main() -> None:
    noisy_grid_main("align_reset_margin", GRID_18AI, "gvf_reset_margin_18ai.json")


if __name__ == "__main__":
    main()
