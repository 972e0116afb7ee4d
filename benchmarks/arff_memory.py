"""Peak memory of importing an ARFF file, against the file's size.

Run: ``python -m benchmarks.arff_memory`` (``--rows 3000000`` for the size the probe used;
the default, 200,000 rows, takes about half a minute). ``--code DIR`` imports with the
gesturemap package found in DIR (an older copy) to compare before / after.

What it measures
- An ARFF file as Wekinator writes it (``ID``, ``Time``, ``'Training round'``, 10 numeric
  inputs, one class output; a round of 100 rows per class), written once per row count.
- ``gesturemap import FILE --project DIR`` in a fresh child process: its peak resident memory
  (``VmHWM``), and that peak divided by the file's size (the probe measured about 22 for
  3 M rows: 2.86 GB).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

# VmHWM: the peak of the child's own memory (ru_maxrss keeps its parent's across the exec)
_CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
from gesturemap.cli import main
code = main(sys.argv[2:])
print([line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")][0])
sys.exit(code)
"""


def write_arff(path: Path, rows: int, inputs: int = 10) -> None:
    rng = np.random.default_rng(0)
    with open(path, "w", encoding="utf-8") as out:
        out.write("@relation dataset\n\n@attribute ID numeric\n"
                  "@attribute Time date 'yyyy/MM/dd HH:mm:ss:SSS'\n"
                  "@attribute 'Training round' numeric\n")
        for i in range(inputs):
            out.write(f"@attribute inputs-{i + 1} numeric\n")
        out.write("@attribute outputs-1 {1,2,3}\n\n@data\n")
        block = 10_000
        for start in range(0, rows, block):
            n = min(block, rows - start)
            x = rng.normal(size=(n, inputs))
            lines = []
            for k in range(n):
                row = start + k
                ms = row % 1000
                stamp = f"'2000/01/01 00:{(row // 60_000) % 60:02d}:{(row // 1000) % 60:02d}:{ms:03d}'"
                values = ",".join(f"{v:.6f}" for v in x[k])
                lines.append(f"{row + 1},{stamp},{row // 100 + 1},{values},{row // 100 % 3 + 1}")
            out.write("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--code", default=str(ROOT), help="folder holding the gesturemap package")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.arff"
        write_arff(path, args.rows)
        size = path.stat().st_size
        done = subprocess.run([sys.executable, "-c", _CHILD, args.code, "import", str(path),
                               "--project", str(Path(tmp) / "p")], capture_output=True,
                              text=True, check=True)
        peak = int(done.stdout.strip().splitlines()[-1]) * 1024
        print(f"rows {args.rows}: file {size / 1e6:.1f} MB, peak {peak / 1e6:.0f} MB, "
              f"{peak / size:.1f} x the file")


if __name__ == "__main__":
    main()
