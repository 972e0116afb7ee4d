"""Loading and saving a project against the length of its classes list.

Run: ``python -m benchmarks.project_classes`` (about ten seconds).

What it measures
- A project of 2 inputs and no takes whose ``project.json`` declares 10^4 to 10^6 classes
  (what a hostile or broken file may hold).
- ``Project.load`` and ``Project.save`` wall times: both should grow linearly (a check of each
  class against every class made 10^4 classes take 4.9 s, 10^5 over two minutes).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from gesturemap.project import Project

    folder = Path(tempfile.mkdtemp()) / "p"
    Project.new(folder, inputs=2)
    document = json.loads((folder / "project.json").read_text())
    print(f"{'classes':>9} {'load s':>8} {'save s':>8}")
    for count in (10_000, 30_000, 100_000, 1_000_000):
        document["classes"] = [f"c{i}" for i in range(count)]
        (folder / "project.json").write_text(json.dumps(document))
        t0 = time.perf_counter()
        project = Project.load(folder)
        t1 = time.perf_counter()
        project.save(folder)
        t2 = time.perf_counter()
        print(f"{count:>9} {t1 - t0:>8.3f} {t2 - t1:>8.3f}")


if __name__ == "__main__":
    main()
