"""Leave-one-take-out recognition on the real Wekinator DTW projects in tests/data/wekinator.

Every example a Wekinator user recorded is held out in turn; gesturemap's DTW (its defaults,
nothing tuned) is trained on the others, exactly as the imported project is, and recognises
the held-out example as a whole sequence. Gestures with one example only cannot be held out
against anything of their own kind and still count (as errors when they are missed).

    PYTHONPATH=$PWD nice -n 10 python3 benchmarks/wekinator_dtw.py
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
warnings.simplefilter("ignore")

from test_wekinator import DTW_FACTS, unpack  # noqa: E402

from gesturemap.evaluation import evaluate_project  # noqa: E402
from gesturemap.interop.wekinator import project as wk  # noqa: E402


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    print("| project | gestures | examples | leave-one-take-out accuracy |")
    print("|---|---|---|---|")
    for name in sorted(DTW_FACTS):
        project, summary = wk.import_wekinator(unpack(name, tmp), tmp / f"{name}-gm")
        if len({t.label for t in project.takes}) < 2:
            print(f"| {name} | {len({t.label for t in project.takes})} | {len(project.takes)} "
                  "| (fewer than 2 gestures recorded) |")
            continue
        report = evaluate_project(project)
        print(f"| {name} | {len({t.label for t in project.takes})} | {len(project.takes)} | "
              f"{report.accuracy:.3f} |")


if __name__ == "__main__":
    main()
