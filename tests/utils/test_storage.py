"""Tests of gesturemap.utils.storage: atomic writes, versioned JSON, pickle-free .npz, validation errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gesturemap.errors import FormatError, GesturemapError
from gesturemap.utils import storage as _io

# ---- atomic writes ------------------------------------------------------------------------------


def test_atomic_write_bytes_writes_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "file.bin"
    _io.atomic_write_bytes(target, b"first")
    assert target.read_bytes() == b"first"
    _io.atomic_write_bytes(target, b"second, longer")
    assert target.read_bytes() == b"second, longer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.bin"]


def test_atomic_write_fsyncs_the_file_and_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(_io.os, "fsync", recording_fsync)
    _io.atomic_write_bytes(tmp_path / "a.json", b"{}")
    assert len(synced) == 2
    assert Path(synced[0]).parent == tmp_path and Path(synced[0]).name.startswith(".a.json.")
    assert Path(synced[1]) == tmp_path


def test_atomic_write_failure_keeps_old_file_and_removes_temporary(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        _io.atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_atomic_write_failed_rename_removes_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_io.os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space"):
        _io.atomic_write_bytes(tmp_path / "file.txt", b"data")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_on_a_full_disk_removes_temporary(tmp_path: Path) -> None:
    # A full disk, as any user can have one: a file-size limit of 0 bytes. The small write
    # is buffered, its flush fails, and so does the close that discarding tries again.
    target = tmp_path / "file.txt"
    target.write_bytes(b"old")
    code = textwrap.dedent(f"""
        import resource, signal
        from gesturemap.utils.storage import atomic_write_bytes
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
        try:
            atomic_write_bytes({str(target)!r}, b"new" * 100)
        except OSError as error:
            print("refused", error.errno)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("refused"), out.stderr
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_atomic_write_all_writes_every_file_or_none(tmp_path: Path) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_bytes(b"old a")
    _io.atomic_write_all([(first, b"new a"), (second, b"new b")])
    assert (first.read_bytes(), second.read_bytes()) == (b"new a", b"new b")
    # the last one cannot be written (a FIFO is refused): the first keeps what it held, and
    # no temporary file is left
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(FileExistsError):
        _io.atomic_write_all([(first, b"newer a"), (second, b"newer b"), (fifo, b"x")])
    assert (first.read_bytes(), second.read_bytes()) == (b"new a", b"new b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt", "pipe"]


def test_atomic_write_uses_normal_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        _io.atomic_write_text(tmp_path / "file.txt", "x")
    finally:
        os.umask(umask)
    assert (tmp_path / "file.txt").stat().st_mode & 0o777 == 0o644


def test_atomic_write_text_encodes_utf8(tmp_path: Path) -> None:
    _io.atomic_write_text(tmp_path / "t.txt", "geste é\n")
    assert (tmp_path / "t.txt").read_bytes() == "geste é\n".encode()


def test_atomic_write_into_missing_folder_raises(tmp_path: Path) -> None:
    # the message names the path asked for, not the temporary file
    with pytest.raises(FileNotFoundError, match=r"f\.bin: the folder .*missing does not exist"):
        _io.atomic_write_bytes(tmp_path / "missing" / "f.bin", b"x")


def test_atomic_write_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    """A rename over a device, a FIFO or a link replaces the device or the link itself (as
    root, ``--arff /dev/null`` once replaced /dev/null with a file): refused, left as is."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    target = tmp_path / "target.txt"
    target.write_text("kept")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    folder = tmp_path / "folder"
    folder.mkdir()
    for path, kind in ((fifo, "device, FIFO"), (link, "symbolic link"), (folder, "folder")):
        with pytest.raises(FileExistsError, match=kind):
            _io.atomic_write_bytes(path, b"x")
    assert fifo.is_fifo() and link.is_symlink() and target.read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "folder", "link.txt",
                                                           "target.txt"]
    with pytest.raises(FileExistsError, match="device"):
        _io.atomic_write_bytes("/dev/null", b"x")


def test_atomic_write_keeps_a_replaced_files_permissions(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_text("old")
    path.chmod(0o600)
    _io.atomic_write_text(path, "new")
    assert path.read_text() == "new" and path.stat().st_mode & 0o777 == 0o600


# ---- JSON ---------------------------------------------------------------------------------------


def test_json_round_trip_with_numpy_values(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    obj = {"labels": ["a", "b"], "k": np.int64(3), "w": np.float32(0.5), "v": np.arange(3)}
    _io.write_json(path, obj, format="gesturemap.test", version=2)
    raw = json.loads(path.read_text())
    assert raw["format"] == "gesturemap.test" and raw["version"] == 2
    document = _io.read_json(path, format="gesturemap.test", max_version=2)
    assert document == {
        "format": "gesturemap.test",
        "version": 2,
        "labels": ["a", "b"],
        "k": 3,
        "w": 0.5,
        "v": [0, 1, 2],
    }


@pytest.mark.parametrize(
    ("obj", "where"),
    [
        ({"a": float("nan")}, "a"),
        ({"s": {"reg": [1.0, float("inf")]}}, "s.reg[1]"),
        ({"arr": np.array([[0.0, 1.0], [np.nan, 2.0]])}, "arr[1][0]"),
        ({"x": np.float32("-inf")}, "x"),
    ],
)
def test_write_json_refuses_nan_and_names_where(tmp_path: Path, obj: dict, where: str) -> None:
    path = tmp_path / "m.json"
    with pytest.raises(GesturemapError, match="NaN or infinite") as info:
        _io.write_json(path, obj, format="f", version=1)
    assert f"at {where} " in str(info.value)
    assert not path.exists()


def test_write_json_refuses_reserved_keys_and_unknown_types(tmp_path: Path) -> None:
    with pytest.raises(GesturemapError, match="reserved"):
        _io.write_json(tmp_path / "a.json", {"format": "x"}, format="f", version=1)
    with pytest.raises(GesturemapError, match="cannot be saved as JSON"):
        _io.write_json(tmp_path / "a.json", {"x": object()}, format="f", version=1)
    with pytest.raises(GesturemapError, match="version"):
        _io.write_json(tmp_path / "a.json", {}, format="f", version=0)
    assert list(tmp_path.iterdir()) == []


def _read(path: Path) -> dict:
    return _io.read_json(path, format="gesturemap.test", max_version=1)


def test_read_json_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="does not exist"):
        _read(tmp_path / "nothing.json")


def test_read_json_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    _io.write_json(path, {"values": list(range(50))}, format="gesturemap.test", version=1)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(FormatError, match=r"damaged or truncated: invalid JSON at line \d+"):
        _read(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe garbage", "not UTF-8"),
        (b"[1, 2]", "top level is a JSON list"),
        (b'{"version": 1}', "has no format name"),
        (b'{"format": "other.thing", "version": 1}', "has format 'other.thing'"),
        (b'{"format": "gesturemap.test"}', "format version is None"),
        (b'{"format": "gesturemap.test", "version": true}', "format version is True"),
        (b'{"format": "gesturemap.test", "version": "1"}', "format version is '1'"),
        (b'{"format": "gesturemap.test", "version": 1, "x": NaN}', "NaN is not valid JSON"),
    ],
)
def test_read_json_bad_content(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=message):
        _read(path)


def test_read_json_newer_version_asks_to_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    _io.write_json(path, {}, format="gesturemap.test", version=3)
    with pytest.raises(FormatError, match="written by a newer gesturemap.*upgrade"):
        _read(path)
    assert _io.read_json(path, format="gesturemap.test", max_version=3)["version"] == 3


def test_read_json_file_accepts_foreign_json_and_reports_damage(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"a": NaN, "b": [1]}')
    document = _io.read_json_file(path)
    assert np.isnan(document["a"]) and document["b"] == [1]
    with pytest.raises(FormatError, match="NaN is not valid JSON"):
        _io.read_json_file(path, allow_nan=False)
    path.write_text('{"a": ')
    with pytest.raises(FormatError, match="damaged or truncated"):
        _io.read_json_file(path)


# ---- .npz ---------------------------------------------------------------------------------------


def test_npz_round_trip_is_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arrays = {
        "means": rng.normal(size=(5, 3, 6)),
        "counts": np.arange(4, dtype=np.int32),
        "labels": np.array(["g0", "g1"]),
        "single": np.float32(1.5),
    }
    digest = _io.save_npz(tmp_path / "m.npz", **arrays)
    loaded = _io.load_npz(tmp_path / "m.npz", {"means": (5, None, 6)}, sha256=digest)
    assert sorted(loaded) == sorted(arrays)
    for name, value in arrays.items():
        assert loaded[name].dtype == np.asarray(value).dtype
        np.testing.assert_array_equal(loaded[name], value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_save_npz_accepts_a_key_named_path(tmp_path: Path) -> None:
    _io.save_npz(tmp_path / "p.npz", path=np.zeros(2))
    assert list(_io.load_npz(tmp_path / "p.npz")) == ["path"]


def test_save_npz_refuses_object_arrays(tmp_path: Path) -> None:
    with pytest.raises(GesturemapError, match="'weird'.*pickle"):
        _io.save_npz(tmp_path / "m.npz", good=np.zeros(2), weird=np.array([{}, 1], dtype=object))
    assert list(tmp_path.iterdir()) == []


def test_load_npz_refuses_pickled_objects(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([{"a": 1}], dtype=object))  # numpy pickles object arrays
    with pytest.raises(FormatError, match="damaged or not an .npz file"):
        _io.load_npz(path)


@pytest.mark.parametrize("damage", ["truncate", "flip", "text", "npy"])
def test_load_npz_damaged_files(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "m.npz"
    _io.save_npz(path, data=np.arange(1000.0))
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":
        # Corrupt a byte in the middle of the array data: the zip CRC catches it.
        middle = len(raw) // 2
        path.write_bytes(raw[:middle] + bytes([raw[middle] ^ 0xFF]) + raw[middle + 1 :])
    elif damage == "text":
        path.write_text("hello")
    else:
        buffer = io.BytesIO()
        np.save(buffer, np.arange(3))
        path.write_bytes(buffer.getvalue())
    with pytest.raises(FormatError, match="damaged or not an .npz file"):
        _io.load_npz(path)


def test_load_npz_checks_expected_arrays_and_checksum(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    digest = _io.save_npz(path, inputs=np.zeros((10, 6)))
    with pytest.raises(FormatError, match="does not exist"):
        _io.load_npz(tmp_path / "other.npz")
    with pytest.raises(FormatError, match="lacks the array 'outputs'"):
        _io.load_npz(path, {"outputs": (None, 2)})
    with pytest.raises(FormatError, match=r"has shape \(10, 6\); expected \(any, 2\)"):
        _io.load_npz(path, {"inputs": (None, 2)})
    with pytest.raises(FormatError, match=r"expected \(10\)"):
        _io.load_npz(path, {"inputs": (10,)})
    _io.save_npz(path, inputs=np.ones((10, 6)))
    with pytest.raises(FormatError, match="checksum differs"):
        _io.load_npz(path, sha256=digest)


def test_saved_npz_is_a_plain_zip_of_npy_files(tmp_path: Path) -> None:
    _io.save_npz(tmp_path / "m.npz", a=np.zeros(3))
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        assert archive.namelist() == ["a.npy"]


# ---- validation ---------------------------------------------------------------------------------


def test_validation_error_shape() -> None:
    error = _io.validation_error("gaussians", 0, "an integer >= 1", "Use 1 to 10.")
    assert isinstance(error, GesturemapError)
    assert str(error) == "gaussians: got 0; expected an integer >= 1. Use 1 to 10."
    described = _io.validation_error("inputs", np.zeros((3, 2)), "a (T, 6) array")
    assert str(described) == (
        "inputs: got an array of shape (3, 2) and dtype float64; expected a (T, 6) array."
    )


def test_check_finite_names_the_first_bad_value() -> None:
    values = np.zeros((5, 3))
    assert _io.check_finite("x", values) is values
    values[3, 1] = np.inf
    values[4, 0] = np.nan
    with pytest.raises(GesturemapError) as info:
        _io.check_finite("inputs", values, index_names=("frame", "column"))
    message = str(info.value)
    assert message.startswith("inputs: got inf at frame 3, column 1; expected finite numbers")
    with pytest.raises(GesturemapError, match=r"got nan at index \(2,\)"):
        _io.check_finite("v", [1.0, 2.0, float("nan")])
    with pytest.raises(GesturemapError, match="expected real numbers"):
        _io.check_finite("v", np.array(["1.0"]))
    np.testing.assert_array_equal(_io.check_finite("ints", [1, 2]), [1, 2])


def test_check_number() -> None:
    assert _io.check_number("states", 10, minimum=1, integer=True) == 10
    assert type(_io.check_number("states", np.int64(4), integer=True)) is int
    assert _io.check_number("reg", np.float32(0.5), minimum=0.0) == 0.5
    for bad in (True, 2.0, "3", 0, None):
        with pytest.raises(GesturemapError, match="states: got .*; expected an integer >= 1"):
            _io.check_number("states", bad, minimum=1, integer=True)
    for bad in (float("nan"), float("inf"), -1e-9, 1.5):
        with pytest.raises(GesturemapError, match="expected a finite number >= 0"):
            _io.check_number("reg", bad, minimum=0, maximum=1, hint="Try 0.01.")


def test_check_choice() -> None:
    assert _io.check_choice("covariance", "full", ["full", "diagonal"]) == "full"
    with pytest.raises(GesturemapError, match="covariance: got 'ful'; expected one of 'full'"):
        _io.check_choice("covariance", "ful", ["full", "diagonal"])
    with pytest.raises(GesturemapError):
        _io.check_choice("flag", 1, [True, False])
    with pytest.raises(GesturemapError):
        _io.check_choice("order", True, [0, 1])


# ---- data folders -------------------------------------------------------------------------------


def test_data_folders_found_in_the_source_checkout(repo_dir: Path) -> None:
    # Running from the checkout (as an editable install does), the root folders are used.
    assert _io.sensors_dir() == repo_dir / "sensors"
    assert _io.presets_dir() == repo_dir / "presets"
    assert (_io.sensors_dir() / "README.md").is_file()
    assert (_io.presets_dir() / "README.md").is_file()
