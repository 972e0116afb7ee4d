"""Build hooks: ship the root ``sensors/``, ``presets/`` and ``examples/`` folders inside the
package.

The project's metadata lives in pyproject.toml. The data folders sit at the repository root
(where people look for them) but must be installed as ``gesturemap/sensors``,
``gesturemap/presets`` and ``gesturemap/examples``, where ``gesturemap.utils.storage.sensors_dir()``,
``presets_dir()`` and ``gesturemap.examples_dir()`` find them.
Editable installs need nothing here: those functions fall back to the source checkout.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
DATA_DIRS = ("sensors", "presets", "examples")


def _data_files() -> list[Path]:
    """Every file of the data folders, relative to the root (caches left out)."""
    files = []
    for name in DATA_DIRS:
        folder = ROOT / name
        if not folder.is_dir():
            raise SystemExit(f"cannot build gesturemap: the {name}/ folder is missing from {ROOT}")
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files.append(path.relative_to(ROOT))
    return files


class BuildPyWithData(build_py):
    """Copy the data folders into the built package (wheels, plain installs)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for relative in _data_files():
            target = Path(self.build_lib) / "gesturemap" / relative
            self.mkpath(str(target.parent))
            self.copy_file(str(ROOT / relative), str(target))


class SdistWithData(sdist):
    """Put the data folders into source distributions, so wheels built from them carry the
    data too."""

    def make_distribution(self) -> None:
        self.filelist.extend(str(relative) for relative in _data_files())
        self.filelist.sort()
        self.filelist.remove_duplicates()
        super().make_distribution()


setup(cmdclass={"build_py": BuildPyWithData, "sdist": SdistWithData})
