"""Projects against a careless sensor and hostile files, on real files.

A take whose sensor clock went back is repaired and kept; removed takes wait in the project's
trash and come back; loading reads only the project's own regular files, checks declared
shapes before reading, and a damaged take never stops the project from opening.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gesturemap.errors import FormatError
from gesturemap.project import Project, repair_times
from gesturemap.utils import storage as _io


def _takes(n: int = 3) -> Project:
    project = Project(model="gmm")
    rng = np.random.default_rng(0)
    for i in range(n):
        project.add_take(rng.normal(size=(20, 2)), "ab"[i % 2], times=np.arange(20) / 50)
    return project


# -- times that go back ---------------------------------------------------------------------


def test_a_take_whose_times_go_back_is_repaired_and_kept(caplog) -> None:
    project = Project()
    times = np.r_[np.arange(10) * 0.01, np.arange(10) * 0.01]  # the board reset mid-take
    with caplog.at_level(logging.WARNING, logger="gesturemap.project"):
        take = project.add_take(np.ones((20, 2)), "a", times=times)
    assert list(project.takes) == [take]
    assert project.times_repaired == 1
    assert np.allclose(np.diff(take.times), 0.01)  # the step back became a typical step
    assert "re-stamped" in caplog.text
    glitch = np.arange(20) * 0.01
    glitch[15] = -3.0  # a corrupted digit
    take = project.add_take(np.ones((20, 2)), "a", times=glitch)
    assert np.all(np.diff(take.times) >= 0) and project.times_repaired == 2


def test_repair_times_keeps_good_times_untouched() -> None:
    times = np.array([0.0, 0.01, 0.01, 0.5])
    same, repaired = repair_times(times)
    assert same is times and repaired == 0


def test_a_saved_take_with_times_going_back_loads_repaired(tmp_path: Path) -> None:
    project = _takes(1)
    folder = project.save(tmp_path / "p")
    npz = folder / "takes" / "take-000000.npz"
    arrays = _io.load_npz(npz)
    arrays["times"] = arrays["times"][::-1].copy()
    digest = _io.save_npz(npz, **arrays)
    meta = json.loads((folder / "takes" / "take-000000.json").read_text())
    meta["arrays_sha256"] = digest
    (folder / "takes" / "take-000000.json").write_text(json.dumps(meta))
    with pytest.warns(UserWarning, match="re-stamped"):
        loaded = Project.load(folder)
    assert len(loaded.takes) == 1 and loaded.times_repaired == 19


# -- the trash ------------------------------------------------------------------------------


def test_removed_takes_go_to_the_trash_and_come_back(tmp_path: Path) -> None:
    project = _takes(3)
    folder = project.save(tmp_path / "p")
    kept_inputs = project.take("take-000002").inputs.copy()
    project.remove_take("take-000001")
    project.remove_take("take-000002")
    project.save(folder)
    assert sorted(p.name for p in (folder / "takes").iterdir()) == [
        "take-000000.json",
        "take-000000.npz",
    ]
    assert len(list((folder / "trash").iterdir())) == 4
    loaded = Project.load(folder)
    assert [t.id for t in loaded.takes] == ["take-000000"]
    assert loaded.trash() == ["take-000001", "take-000002"]
    restored = loaded.restore_takes(["take-000002"])
    assert [t.id for t in restored] == ["take-000002"]
    loaded.save(folder)
    again = Project.load(folder)
    assert [t.id for t in again.takes] == ["take-000000", "take-000002"]
    assert np.array_equal(again.take("take-000002").inputs, kept_inputs)
    assert again.trash() == ["take-000001"]
    assert again.add_take(np.zeros((3, 2)), "a").id == "take-000003"


def test_a_take_removed_before_its_first_save_is_no_warning(tmp_path: Path, caplog) -> None:
    """A correction undone at once (on stage: "/gesturemap/correct X", "/gesturemap/undo"):
    its take is removed before the I/O thread wrote it. Nothing of it was on disk, so the
    save has nothing to move to the trash, and says nothing ("could not keep the label" was
    printed to the performer's console)."""
    project = _takes(2)
    folder = project.save(tmp_path / "p")
    take = project.add_take(np.ones((5, 2)), "a")
    project.remove_take(take.id)
    with caplog.at_level(logging.WARNING, logger="gesturemap.project"):
        project.save_take(folder, take)  # the autosave queued before the removal
        project.save(folder)
    assert caplog.text == ""
    assert [t.id for t in Project.load(folder).takes] == ["take-000000", "take-000001"]
    assert not (folder / "trash").exists() or not list((folder / "trash").iterdir())


def test_an_unsaved_removal_restores_from_memory() -> None:
    project = _takes(2)
    removed = project.remove_take("take-000000")
    assert project.trash() == ["take-000000"]
    (back,) = project.restore_takes()
    assert back.id == "take-000000" and np.array_equal(back.inputs, removed.inputs)
    assert project.trash() == []


# -- hostile files --------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    return _takes(3).save(tmp_path / "p")


def _load_in_thread(folder: Path, timeout: float = 30.0) -> tuple[Project | None, list]:
    """Project.load in a thread: a load that hangs fails the test instead of hanging it."""
    out: dict = {}

    def run() -> None:
        import warnings

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                out["project"] = Project.load(folder)
            except Exception as exc:  # noqa: BLE001
                out["error"] = exc
            out["warnings"] = [str(w.message) for w in caught]

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "Project.load hung"
    if "error" in out:
        raise out["error"]
    return out["project"], out["warnings"]


def test_a_take_linked_to_dev_zero_is_skipped(saved: Path) -> None:
    npz = saved / "takes" / "take-000001.npz"
    npz.unlink()
    npz.symlink_to("/dev/zero")
    project, warned = _load_in_thread(saved)
    assert [t.id for t in project.takes] == ["take-000000", "take-000002"]
    assert any("take-000001 was left out" in w and "link" in w for w in warned)


def test_a_fifo_take_is_skipped_without_hanging(saved: Path) -> None:
    npz = saved / "takes" / "take-000001.npz"
    npz.unlink()
    os.mkfifo(npz)
    project, warned = _load_in_thread(saved)
    assert [t.id for t in project.takes] == ["take-000000", "take-000002"]
    assert any("take-000001 was left out" in w and "not a regular file" in w for w in warned)


def test_a_takes_folder_linked_outside_the_project_is_refused(saved: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    (saved / "takes").rename(outside)
    (saved / "takes").symlink_to(outside)
    with pytest.raises(FormatError, match="link"):
        Project.load(saved)


def test_a_take_file_linked_outside_is_skipped(saved: Path, tmp_path: Path) -> None:
    json_path = saved / "takes" / "take-000002.json"
    outside = tmp_path / "outside.json"
    json_path.rename(outside)
    json_path.symlink_to(outside)
    project, warned = _load_in_thread(saved)
    assert [t.id for t in project.takes] == ["take-000000", "take-000001"]
    assert any("take-000002 was left out" in w for w in warned)


def _bomb(path: Path, frames: int, columns: int) -> str:
    """An .npz whose one deflated array declares (frames, columns) float64 zeros."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (frames, columns)}
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("inputs.npy", "w", force_zip64=True) as member:
            member.write(b"\x93NUMPY\x01\x00" + header.getvalue()[8:])
            zeros = bytes(1 << 20)
            for _ in range(frames * columns * 8 >> 20):
                member.write(zeros)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_deflated_take_that_would_expand_to_hundreds_of_mb_is_refused_unread(
    saved: Path,
) -> None:
    frames = 12 << 20  # 12 Mi frames x 2 columns x 8 bytes = 192 MiB of zeros, ~200 KB stored
    npz = saved / "takes" / "take-000001.npz"
    digest = _bomb(npz, frames, 2)
    assert npz.stat().st_size < 1 << 20
    meta_path = saved / "takes" / "take-000001.json"
    meta = json.loads(meta_path.read_text())
    meta.update(frames=frames, has_times=False, arrays_sha256=digest)
    meta_path.write_text(json.dumps(meta))
    project, warned = _load_in_thread(saved)
    assert [t.id for t in project.takes] == ["take-000000", "take-000002"]
    assert any("take-000001 was left out" in w and "exhaust memory" in w for w in warned)


def test_a_declared_shape_is_checked_before_the_data_is_read(tmp_path: Path) -> None:
    # The JSON says 10 frames, the .npz header 12 Mi: refused from the header, unread.
    path = tmp_path / "a.npz"
    _bomb(path, 12 << 20, 2)
    with pytest.raises(FormatError, match=r"shape \(12582912, 2\); expected \(10, 2\)"):
        _io.load_npz(path, {"inputs": (10, 2)})


def test_read_regular_file_refuses_devices_and_large_files(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="not a regular file"):
        _io.read_regular_file("/dev/zero", max_bytes=1 << 20)
    big = tmp_path / "big"
    big.write_bytes(b"x" * 100)
    with pytest.raises(FormatError, match="more than the 10"):
        _io.read_regular_file(big, max_bytes=10)
    assert _io.read_regular_file(big, max_bytes=100) == b"x" * 100


def test_reading_a_small_file_takes_memory_for_its_size_not_for_the_bound(tmp_path: Path) -> None:
    """The bound (2 GiB for a take) is no allocation: a small machine reads small files."""
    import tracemalloc

    small = tmp_path / "small"
    small.write_bytes(b"x" * 1000)
    tracemalloc.start()
    try:
        assert _io.read_regular_file(small, max_bytes=1 << 30) == b"x" * 1000
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak


def test_a_project_opens_on_a_machine_with_little_memory(tmp_path: Path) -> None:
    """Its files read within 300 MB of address space beyond the interpreter's: before, each
    file read asked for its bound (a take's 2 GiB) and opening failed with a MemoryError."""
    project = _takes(3)
    project.train()  # its model's arrays read too
    folder = project.save(tmp_path / "p")
    child = textwrap.dedent(f"""
        import resource
        from gesturemap.project import Project
        with open("/proc/self/status") as status:
            used = int(status.read().split("VmSize:")[1].split()[0]) << 10
        limit = used + (300 << 20)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        loaded = Project.load({str(folder)!r})
        print(len(loaded.takes), loaded.trained is not None)
    """)
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["3", "True"]


def test_a_relabelled_take_comes_back_from_the_trash_with_its_new_label(tmp_path: Path) -> None:
    project = _takes(2)
    folder = project.save(tmp_path / "p")
    project.relabel_take("take-000001", "renamed")
    project.save(folder)
    project.remove_take("take-000001")
    project.save(folder)
    loaded = Project.load(folder)
    (back,) = loaded.restore_takes()
    assert back.label == "renamed"


@pytest.mark.parametrize(("key", "value", "message"), [
    ("input_names", 3, "input_names: got 3; expected a list of column names"),
    ("output_names", {"a": 1}, "output_names"),
    ("scenes", 5, "'scenes' is 5; expected a list"),
])
def test_a_hand_edited_project_json_of_the_wrong_types_is_a_format_error(
        tmp_path: Path, key, value, message) -> None:
    """One line that says which entry is wrong, and the files left as they are (before, a
    TypeError traceback from every command)."""
    folder = tmp_path / "p"
    project = Project(classes=["a"])
    project.add_take(np.zeros((20, 2)), "a")
    project.save(folder)
    document = json.loads((folder / "project.json").read_text())
    document[key] = value
    (folder / "project.json").write_text(json.dumps(document))
    before = {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    with pytest.raises(FormatError, match=message):
        Project.load(folder)
    assert {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
