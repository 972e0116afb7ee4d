"""Where the tests find the repository and their data, wherever a test module sits."""

from __future__ import annotations

from pathlib import Path

#: The repository root (where pyproject.toml is).
REPO_DIR = Path(__file__).resolve().parent.parent
#: ``tests/data``: recordings, real projects, clients and reference outputs the tests read.
DATA_DIR = REPO_DIR / "tests" / "data"
