"""Packaging: an installed gesturemap carries the root sensors/, presets/ and examples/ folders,
the reference workload of ``gesturemap bench``, the seeds of a first start, and its licence as
an SPDX expression with the licence file.

The build runs on a copy of the sources in a temporary folder, so it neither writes build/ or
*.egg-info into the checkout nor races another test run using the same checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

SOURCES = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "gesturemap", "sensors",
           "presets", "examples")
PROBE = "probe-device/profile.json"  # a nested file, as real profiles with firmware will be


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def source_copy(repo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    for name in SOURCES:
        source = repo_dir / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)
    probe = root / "sensors" / PROBE
    probe.parent.mkdir(parents=True)
    probe.write_text('{"name": "probe"}\n')
    return root


def _wheel_names(wheel_dir: Path) -> list[str]:
    (wheel,) = wheel_dir.glob("gesturemap-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def _build_wheel(source: Path | str, out: Path, cwd: Path) -> list[str]:
    _run(
        sys.executable,
        *("-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out)),
        str(source),
        cwd=cwd,
    )
    return _wheel_names(out)


@pytest.fixture(scope="module")
def wheel_dir(source_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _build_wheel(".", out, cwd=source_copy)
    return out


def test_wheel_contains_data_folders(wheel_dir: Path, repo_dir: Path) -> None:
    names = _wheel_names(wheel_dir)
    assert "gesturemap/sensors/README.md" in names
    assert "gesturemap/presets/README.md" in names
    assert f"gesturemap/sensors/{PROBE}" in names
    assert "gesturemap/utils/storage.py" in names and "gesturemap/py.typed" in names
    # the seeds a first start steps to compile a model's step beside its training
    for path in (repo_dir / "gesturemap" / "seeds").iterdir():
        assert f"gesturemap/seeds/{path.name}" in names
    assert "gesturemap/examples/gesturemap.pd" in names  # the patches README points to
    assert "gesturemap/bench/xmm_workload.npz" in names
    assert "gesturemap/bench/latency.py" in names and "gesturemap/bench/midi.py" in names
    # Every file of the checkout's data folders is shipped.
    for folder in ("sensors", "presets", "examples"):
        for path in (repo_dir / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                assert f"gesturemap/{path.relative_to(repo_dir).as_posix()}" in names


def test_wheel_states_its_licence_as_an_spdx_expression(wheel_dir: Path) -> None:
    """pyproject's ``license = "MIT"`` with ``license-files`` (the table form is deprecated)."""
    (wheel,) = wheel_dir.glob("gesturemap-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        fields = archive.read(metadata).decode("utf-8").split("\n\n", 1)[0].splitlines()
        licence = [n for n in archive.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
    assert "License-Expression: MIT" in fields
    assert "License-File: LICENSE" in fields
    assert not any(f.startswith("License:") for f in fields)
    assert licence, "the LICENSE file travels in the wheel"


def test_installed_wheel_finds_its_data(wheel_dir: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (wheel,) = wheel_dir.glob("gesturemap-*.whl")
    _run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
         str(wheel), cwd=tmp_path)  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(site)}
    script = (
        "from gesturemap.utils import storage\n"
        "print(storage.__file__)\n"
        "print(storage.sensors_dir())\n"
        "print(storage.presets_dir())\n"
        "print((storage.sensors_dir() / 'probe-device' / 'profile.json').read_text().strip())\n"
        "import gesturemap as gm\n"
        "print(gm.examples_dir())\n"
        "print(gm.Dataset.from_xmm(gm.examples_dir() / 'air-drums.xmm.json').input_dim)\n"
        "from gesturemap.cli import build_parser\n"
        "print(' '.join(build_parser().epilog.split()))\n"  # `gesturemap --help` says where
    )
    # Run from an empty folder so the checkout cannot be imported instead of the install.
    lines = _run(sys.executable, "-c", script, cwd=tmp_path, env=env).splitlines()
    package = site / "gesturemap"
    assert Path(lines[0]).parent == package / "utils"
    assert Path(lines[1]) == package / "sensors"
    assert Path(lines[2]) == package / "presets"
    assert lines[3] == '{"name": "probe"}'
    assert Path(lines[4]) == package / "examples" and lines[5] == "6"
    assert lines[6].endswith(f"talk to gesturemap run, an XMM training set): {package / 'examples'}")


def test_installed_wheel_benches_on_its_own_workload(wheel_dir: Path, tmp_path: Path) -> None:
    """``gesturemap bench`` from an installed wheel, in a folder with nothing beside it: the
    workload comes from the installed package (the whole bench compiles every kernel afresh in
    a new install, minutes: `gesturemap bench` itself is run by hand, see docs/performance.md)."""
    site = tmp_path / "site"
    (wheel,) = wheel_dir.glob("gesturemap-*.whl")
    _run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
         str(wheel), cwd=tmp_path)  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "GESTUREMAP_REFERENCE"}
    env["PYTHONPATH"] = str(site)
    script = (
        "from gesturemap.bench import latency, load_workload, midi, workload\n"
        "w = load_workload()\n"
        "print(workload.__file__)\n"
        "print(w.source)\n"
        "print(len(w.unimodal), sum(r.length for r in w.bimodal), w.test_frames.shape)\n"
    )
    lines = _run(sys.executable, "-c", script, cwd=tmp_path, env=env).splitlines()
    assert Path(lines[0]).parent == site / "gesturemap" / "bench"
    assert lines[1] == "the workload inside the package (xmm_workload.npz)"
    assert lines[2] == "25 5132 (953, 6)"
    # the command finds it too: its first line names the workload before any timing
    proc = subprocess.Popen([sys.executable, "-m", "gesturemap", "bench", "--repeats", "1"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
    finally:
        proc.kill()
        proc.wait()
    assert first.strip() == ("gesturemap bench — reference workload: the workload inside "
                             "the package (xmm_workload.npz)")


def test_wheel_built_from_sdist_keeps_data(source_copy: Path, tmp_path: Path) -> None:
    sdist_dir = tmp_path / "sdist"
    _run(
        sys.executable,
        "-c",
        f"from setuptools import build_meta; build_meta.build_sdist({str(sdist_dir)!r})",
        cwd=source_copy,
    )
    (sdist,) = sdist_dir.glob("gesturemap-*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = archive.getnames()
    assert any(m.endswith(f"/sensors/{PROBE}") for m in members)
    names = _build_wheel(sdist, tmp_path / "wheel", cwd=tmp_path)
    assert f"gesturemap/sensors/{PROBE}" in names
    assert "gesturemap/presets/README.md" in names
    assert "gesturemap/bench/xmm_workload.npz" in names


def test_ci_runs_the_readme_test_command(repo_dir: Path) -> None:
    readme = (repo_dir / "README.md").read_text()
    section = readme.split("## Run the tests", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    test_command = block.strip().splitlines()[-1]
    assert "pytest" in test_command
    ci_lines = [line.strip() for line in (repo_dir / ".ci" / "run").read_text().splitlines()]
    assert any(line.startswith(test_command) for line in ci_lines), (
        f".ci/run must run README's test command {test_command!r}"
    )


def test_readme_apt_lines_work_as_root_and_install_what_ci_installs(repo_dir: Path) -> None:
    readme = (repo_dir / "README.md").read_text()
    section = readme.split("## Set up and open the app", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert block[0] == "SUDO=$(command -v sudo)"  # empty for root: no `sudo: not found`
    assert not any(line.startswith("sudo ") for line in block)
    assert block[1] == "$SUDO apt-get update"
    readme_packages = set(block[2].split("--no-install-recommends", 1)[1].split())
    ci = (repo_dir / ".ci" / "run").read_text()
    ci_install = ci.split("apt-get install -y --no-install-recommends", 1)[1].split("\necho", 1)[0]
    ci_packages = set(ci_install.replace("\\", " ").split())
    assert "fonts-dejavu-core" in readme_packages
    # what a user needs to run the app is a part of what CI installs to test it
    assert readme_packages <= ci_packages, readme_packages - ci_packages
