"""numba's disk cache of a kernel follows the kernels it calls from other files.

numba keys a cached kernel on its own file: a caller kept loading its stale copy of a callee
that had changed. Shown on a small package of two kernel files in a fresh process each time,
with numba's cache in a folder of the test's own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gesturemap.utils.jit_cache import PACKAGE, imports_digest, kernel_imports
from tests.paths import REPO_DIR

CALLEE = """
from numba import njit

STEP = {step}


@njit(cache=True)
def base():
    return STEP
"""

CALLER = """
from numba import njit

from .kernels import base


@njit(cache=True)
def total():
    return base() + 10
"""


def _package(tmp_path: Path, step: int) -> Path:
    package = tmp_path / "toykernels"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "kernels.py").write_text(CALLEE.format(step=step))
    (package / "caller.py").write_text(CALLER)
    return package


def _total(tmp_path: Path, watched: bool) -> int:
    """``total()`` in a fresh process, loading numba's cache of the folder when it can."""
    hook = ("from gesturemap.utils.jit_cache import watch_kernel_imports\n"
            f"assert watch_kernel_imports({str(tmp_path / 'toykernels')!r})\n") if watched else ""
    code = hook + "from toykernels.caller import total\nprint(total())\n"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO_DIR)])}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    return int(out.stdout.strip())


@pytest.mark.parametrize("watched", [False, True], ids=["numba alone", "imports watched"])
def test_a_changed_callee_is_compiled_again_into_its_cached_caller(tmp_path, watched):
    _package(tmp_path, step=1)
    assert _total(tmp_path, watched) == 11  # compiled, and cached
    _package(tmp_path, step=2)  # the callee's file changes, the caller's does not
    if watched:
        assert _total(tmp_path, watched) == 12
    else:
        # numba alone: the caller's cache still runs the old callee (what the hook is for)
        assert _total(tmp_path, watched) == 11


def test_an_unchanged_package_loads_from_the_cache(tmp_path):
    """The digest is the same in every process: the hook does not make numba compile again."""
    _package(tmp_path, step=1)
    assert _total(tmp_path, watched=True) == 11
    indexes = sorted((tmp_path / "cache").rglob("*.nbi"))
    data = sorted((tmp_path / "cache").rglob("*.nbc"))
    assert len(indexes) == 2 and data
    stamps = {p: p.stat().st_mtime_ns for p in indexes + data}
    assert _total(tmp_path, watched=True) == 11
    assert {p: p.stat().st_mtime_ns for p in indexes + data} == stamps  # nothing written again


def test_the_models_kernels_follow_the_files_they_call():
    """The chains in gesturemap itself: the filters compile the density kernels in, the
    compiled frame path compiles the filters."""
    models = PACKAGE / "models"
    assert models / "_kernels.py" in kernel_imports(models / "_filter.py", PACKAGE)
    assert {models / "_filter.py", models / "_kernels.py"} <= kernel_imports(
        models / "compiled_path.py", PACKAGE)
    assert models / "_filter.py" in kernel_imports(models / "classic" / "_kernels.py", PACKAGE)
    assert kernel_imports(models / "_kernels.py", PACKAGE) == set()


def test_the_digest_changes_with_an_imported_file_only(tmp_path):
    package = _package(tmp_path, step=1)
    (package / "other.py").write_text("X = 1\n")
    before = imports_digest(package / "caller.py", package)
    (package / "other.py").write_text("X = 2\n")  # not imported by the caller
    assert imports_digest(package / "caller.py", package) == before
    (package / "kernels.py").write_text(textwrap.dedent(CALLEE.format(step=3)))
    assert imports_digest(package / "caller.py", package) != before


def test_the_models_kernels_are_stamped_with_what_they_call():
    """numba's locator for a model kernel is the hooked one (importing gesturemap installs it)."""
    from gesturemap.models import _filter, _kernels

    stamp = _filter.gmm_step._cache._impl.locator.get_source_stamp()
    assert stamp[1] == imports_digest(PACKAGE / "models" / "_filter.py", PACKAGE)
    own = _kernels.log_density._cache._impl.locator.get_source_stamp()
    assert own[1] == imports_digest(PACKAGE / "models" / "_kernels.py", PACKAGE)
