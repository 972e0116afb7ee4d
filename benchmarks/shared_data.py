"""Where the benchmarks read the project's shared data (XMM's reference, recorded datasets).

By default, the repository's own copy in ``tests/data/shared``: the parts of the shared data
the tests use (whole JapaneseVowels and HAPT transition takes; a few HAPT sessions and excerpts
of ShoulderExerciseWatch; each dataset's README.md says what was cut), so that every benchmark
runs from a fresh clone. The held-out figures in docs/performance.md and docs/ were measured on the
full data: set ``GESTUREMAP_SHARED`` to a full copy of the shared folder (the one holding
``reference/xmm`` and ``datasets/``) to measure them again, e.g.::

    GESTUREMAP_SHARED=../shared python3 -m benchmarks.spotting_hapt
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATASETS", "ENVIRONMENT", "REFERENCE", "REPOSITORY_COPY", "SHARED", "describe"]

ENVIRONMENT = "GESTUREMAP_SHARED"
REPOSITORY_COPY = Path(__file__).resolve().parents[1] / "tests" / "data" / "shared"
SHARED = Path(os.environ.get(ENVIRONMENT) or REPOSITORY_COPY)
DATASETS = SHARED / "datasets"
REFERENCE = SHARED / "reference" / "xmm"


def describe() -> str:
    """Which copy the benchmarks read, for a report's header."""
    if SHARED == REPOSITORY_COPY:
        return (f"the repository's cut of the shared data ({REPOSITORY_COPY}); set "
                f"{ENVIRONMENT} to a full copy for the figures of docs/performance.md and docs/")
    return f"the shared data at {SHARED} ({ENVIRONMENT})"
