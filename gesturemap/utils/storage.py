"""Safe saving and loading shared by every part of gesturemap.

Every file gesturemap writes goes through :func:`atomic_write_bytes`: a temporary file in the
same folder is written, flushed and fsynced, then renamed over the target, and the folder is
fsynced. A crash or a full disk therefore leaves either the old file or the new one, never a
half-written mix. Metadata is JSON with a format name and a version (:func:`write_json`,
:func:`read_json`); arrays are ``.npz`` files written and read without pickle
(:func:`save_npz`, :func:`load_npz`), so a shared project or preset cannot run code on the
machine that opens it.

The validation helpers live in :mod:`gesturemap.utils.validation`; the names below are kept for code
that imports them from here.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import secrets
import stat
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, GesturemapError
from .data_dirs import presets_dir, sensors_dir
from .reading import read_regular_file
from .validation import (  # noqa: F401 - kept importable from here
    Described,
    check_choice,
    check_finite,
    check_number,
    validation_error,
)

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "Described",
    "check_choice",
    "check_finite",
    "check_number",
    "load_npz",
    "presets_dir",
    "read_json",
    "read_json_file",
    "read_regular_file",
    "save_npz",
    "sensors_dir",
    "validation_error",
    "write_json",
]

PathLike = str | os.PathLike[str]



# -------------------------------------------------------------------------------------------------
# Atomic writes
# -------------------------------------------------------------------------------------------------


def _fsync_directory(directory: Path) -> None:
    """Make a rename inside ``directory`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one.

    The bytes go to a temporary file in the same folder, which is flushed, fsynced and renamed
    over ``path``; then the folder is fsynced so the rename survives a power cut. The temporary
    file is removed if anything fails. A new file gets the usual permissions (``0o666`` less
    the umask), like a file created by ``open``; a file replaced keeps its own. A path that is
    anything but a regular file (a device such as ``/dev/null``, a FIFO, a symbolic link, a
    folder) is refused: the rename would replace the device or the link itself.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its folder must exist.
    data : bytes
        The whole content.

    Raises
    ------
    OSError
        If the folder does not exist or cannot be written to, or ``path`` is not a regular
        file (the message names ``path``).
    """
    out = AtomicFile(path)
    try:
        out.handle.write(data)
    except BaseException:
        out.discard()
        raise
    out.commit()


def atomic_write_all(files: Sequence[tuple[PathLike, bytes]]) -> None:
    """Write several files all or none: each into a temporary file beside it (as
    :func:`atomic_write_bytes`), and only once every one is written, flushed and fsynced,
    each renamed over its path. A failure (a full disk, a folder that cannot be written,
    Ctrl-C) before the renames removes every temporary file and leaves every path as it
    was: a command that writes several outputs never leaves some written and some not."""
    opened: list[AtomicFile] = []
    try:
        for path, data in files:
            opened.append(AtomicFile(path))
            opened[-1].handle.write(data)
            opened[-1].handle.flush()
            os.fsync(opened[-1].handle.fileno())
    except BaseException:
        for out in opened:
            out.discard()
        raise
    for i, out in enumerate(opened):
        try:
            out.commit()
        except BaseException:
            for rest in opened[i + 1:]:
                rest.discard()
            raise


class AtomicFile:
    """A file written a piece at a time (``handle``) into a temporary file beside ``path``
    and renamed over it only by :meth:`commit`, by :func:`atomic_write_bytes`'s rules (the
    same folder, fsync, rename, the folder fsynced; ``path`` a regular file or nothing). As a
    context manager, an error discards the temporary file: an interrupted write leaves the
    file ``path`` was, if any. ``text``: a text handle (``encoding``, no newline
    translation), else bytes."""

    def __init__(self, path: PathLike, text: bool = False, encoding: str = "utf-8") -> None:
        target = self.path = Path(path)
        folder = target.parent
        self._mode: int | None = None
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            if not folder.is_dir():
                raise FileNotFoundError(f"cannot write {target}: the folder {folder} does not "
                                        "exist") from None
        else:
            if not stat.S_ISREG(st.st_mode):
                kind = ("a symbolic link" if stat.S_ISLNK(st.st_mode) else
                        "a folder" if stat.S_ISDIR(st.st_mode) else "a device, FIFO or socket")
                raise FileExistsError(f"cannot write {target}: it is {kind}, not a regular "
                                      "file (the file written would replace it); give a file's "
                                      "path")
            self._mode = stat.S_IMODE(st.st_mode)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        while True:
            self.temporary = folder / f".{target.name}.{secrets.token_hex(6)}.tmp"
            try:
                # 0o666 here lets the umask decide, as open() does; mkstemp would force 0o600.
                fd = os.open(self.temporary, flags, 0o666)
            except FileExistsError:
                continue
            except OSError as error:  # named by the file asked for, not the temporary one
                raise type(error)(error.errno, error.strerror, os.fspath(target)) from None
            break
        self.handle: Any = (os.fdopen(fd, "w", encoding=encoding, newline="") if text
                            else os.fdopen(fd, "wb"))

    def commit(self) -> None:
        """Flush, fsync and rename the temporary file over ``path`` (removed if that fails)."""
        try:
            self.handle.flush()
            if self._mode is not None:
                os.fchmod(self.handle.fileno(), self._mode)
            os.fsync(self.handle.fileno())
            self.handle.close()
            os.replace(self.temporary, self.path)
        except BaseException:
            self.discard()
            raise
        _fsync_directory(self.path.parent)

    def discard(self) -> None:
        """Remove the temporary file (nothing if it was renamed already)."""
        try:
            # closing flushes what is buffered: on a full disk that fails again, and the
            # temporary file must go all the same
            self.handle.close()
        except OSError:
            pass
        finally:
            try:
                os.unlink(self.temporary)
            except OSError:
                pass

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, kind: Any, *_: Any) -> None:
        if kind is not None:
            self.discard()


def atomic_write_text(path: PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    text : str
        The whole content; written as is (no newline translation).
    encoding : str, default "utf-8"
    """
    atomic_write_bytes(path, text.encode(encoding))


# -------------------------------------------------------------------------------------------------
# Reading only what is a file
# -------------------------------------------------------------------------------------------------

#: The largest JSON file read (a project, a model, a preset): far above any real one.
MAX_JSON_BYTES = 256 << 20
#: The largest .npz file, and the most bytes its arrays may expand to once read.
MAX_NPZ_BYTES = 2 << 30


# -------------------------------------------------------------------------------------------------
# JSON with a format name and a version
# -------------------------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    """Turn numpy scalars and arrays into JSON values (NaN checks still apply after this)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("object arrays cannot be saved as JSON")
        return value.tolist()
    raise TypeError(f"{type(value).__name__} values cannot be saved as JSON")


def _first_non_finite(value: Any, where: str) -> str | None:
    """Where the first NaN or infinity in a JSON-bound object is, as ``a.b[3]``, or None."""
    if isinstance(value, float | np.floating):
        return None if math.isfinite(value) else where
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        if np.isfinite(value).all():
            return None
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(value))[0])
        return where + "".join(f"[{i}]" for i in index)
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _first_non_finite(item, f"{where}.{key}" if where else str(key))
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _first_non_finite(item, f"{where}[{i}]")
            if found is not None:
                return found
    return None


def write_json(path: PathLike, obj: Mapping[str, Any], *, format: str, version: int) -> None:
    """Write ``{"format": format, "version": version, **obj}`` as JSON, atomically.

    Numpy scalars and arrays are written as JSON numbers and lists. NaN and infinity are
    refused: they are not JSON, and other programs could not read the file. Encode them
    yourself (e.g. as ``None``) or keep such arrays in an ``.npz`` file.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    obj : mapping of str to JSON-compatible values
        The content; must not use the keys ``"format"`` and ``"version"``.
    format : str
        The format name, e.g. ``"gesturemap.dataset"``.
    version : int
        The format version (>= 1).

    Raises
    ------
    GesturemapError
        If ``obj`` holds NaN, infinity, reserved keys or values JSON cannot represent.
    """
    if not isinstance(obj, Mapping):
        raise validation_error("obj", obj, "a mapping of str to JSON values")
    reserved = {"format", "version"} & set(obj)
    if reserved:
        raise validation_error(
            "obj",
            Described(f"the reserved key(s) {sorted(reserved)}"),
            "keys other than 'format' and 'version'",
            "Pass the format name and version with format= and version=.",
        )
    check_number("version", version, minimum=1, integer=True)
    document = {"format": format, "version": int(version), **obj}
    try:
        text = json.dumps(document, indent=2, allow_nan=False, default=_json_default)
    except ValueError as error:
        where = _first_non_finite(obj, "")
        raise GesturemapError(
            f"cannot save {os.fspath(path)}: the value at {where or 'some key'} is NaN or "
            "infinite, which JSON cannot hold; encode it (e.g. as None) or store the array "
            "in an .npz file."
        ) from error
    except TypeError as error:
        raise GesturemapError(f"cannot save {os.fspath(path)}: {error}.") from error
    atomic_write_text(path, text + "\n")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def read_json(
    path: PathLike, *, format: str, max_version: int, inside: PathLike | None = None
) -> dict[str, Any]:
    """Read a JSON file written by :func:`write_json` and check its format and version.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    format : str
        The format name the file must carry.
    max_version : int
        The newest format version this code can read.
    inside : str or os.PathLike, optional
        A folder the file must be in (see :func:`read_regular_file`).

    Returns
    -------
    dict
        The whole top-level object, ``"format"`` and ``"version"`` included, so the caller
        can upgrade older versions.

    Raises
    ------
    FormatError
        If the file is missing or unreadable, is not valid JSON (damaged or truncated), is not a
        JSON object, has another or no format name, or has a missing, invalid or newer version.
    """
    document = read_json_file(path, allow_nan=False, inside=inside)
    where = os.fspath(path)
    if not isinstance(document, dict):
        raise FormatError(
            f"{where} is not a {format} file: its top level is a JSON "
            f"{type(document).__name__}, not an object."
        )
    found = document.get("format")
    if found != format:
        described = "has no format name" if found is None else f"has format {found!r}"
        raise FormatError(f"{where} is not a {format} file: it {described}.")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise FormatError(
            f"{where}: the format version is {version!r}; expected an integer >= 1. "
            "The file is damaged or was edited by hand."
        )
    if version > max_version:
        raise FormatError(
            f"{where} was written by a newer gesturemap (format {format} version {version}; "
            f"this one reads up to version {max_version}); upgrade gesturemap to open it."
        )
    return document


def read_json_file(
    path: PathLike, *, allow_nan: bool = True, inside: PathLike | None = None
) -> Any:
    """Parse a JSON file of any kind (no format name or version), e.g. one written by XMM.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    allow_nan : bool, default True
        Whether the non-standard tokens ``NaN``, ``Infinity`` and ``-Infinity`` are accepted
        (some writers produce them); when False they make the file invalid.
    inside : str or os.PathLike, optional
        A folder the file must be in (see :func:`read_regular_file`).

    Returns
    -------
    object
        The parsed JSON value.

    Raises
    ------
    FormatError
        If the file is missing or unreadable, not a regular file, larger than
        :data:`MAX_JSON_BYTES`, not UTF-8, not valid JSON, or nested too deep.
    """
    where = os.fspath(path)
    raw = read_regular_file(path, max_bytes=MAX_JSON_BYTES, inside=inside)
    try:  # utf-8-sig: a byte-order mark (Windows editors write one) is not data
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FormatError(
            f"{where} is damaged or not a JSON file (it is not UTF-8 text)."
        ) from None
    options: dict[str, Any] = {} if allow_nan else {"parse_constant": _refuse_constant}
    try:
        return json.loads(text, **options)
    except json.JSONDecodeError as error:
        raise FormatError(
            f"{where} is damaged or truncated: invalid JSON at line {error.lineno}, "
            f"column {error.colno} ({error.msg})."
        ) from None
    except (ValueError, RecursionError) as error:
        raise FormatError(f"{where} is damaged: {error}.") from None


# -------------------------------------------------------------------------------------------------
# .npz arrays, never pickled
# -------------------------------------------------------------------------------------------------


def save_npz(path: PathLike, /, **arrays: Any) -> str:
    """Write arrays to an ``.npz`` file atomically, refusing anything that would need pickle.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write, exactly as named (no ``.npz`` is appended).
    **arrays : array_like
        The arrays, by name.

    Returns
    -------
    str
        The SHA-256 of the bytes written (hex). Store it beside the file (e.g. in the JSON
        that refers to it) and give it to :func:`load_npz` to detect a mismatched pair.

    Raises
    ------
    GesturemapError
        If an array has dtype ``object`` (it could only be saved with pickle).
    """
    converted = {}
    for name, value in arrays.items():
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise validation_error(
                f"array {name!r}",
                array,
                "numbers, booleans or fixed-width strings",
                "Object arrays would need pickle, which gesturemap never writes: convert the "
                "values to a numeric or string dtype first.",
            )
        converted[name] = array
    buffer = io.BytesIO()
    np.savez(buffer, **converted)
    data = buffer.getvalue()
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def load_npz(
    path: PathLike,
    expected: Mapping[str, tuple[int | None, ...]] | None = None,
    *,
    sha256: str | None = None,
    inside: PathLike | None = None,
    max_bytes: int = MAX_NPZ_BYTES,
) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` file, without pickle.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    expected : mapping of str to tuple, optional
        Arrays that must be present, each with its expected shape: one entry per axis, an
        ``int`` for a fixed size or ``None`` for any size (``{"means": (None, 6)}``).
    sha256 : str, optional
        The checksum :func:`save_npz` returned; the file must match it.
    inside : str or os.PathLike, optional
        A folder the file must be in (see :func:`read_regular_file`).
    max_bytes : int, default :data:`MAX_NPZ_BYTES`
        The largest file, and the most bytes its arrays may expand to.

    Returns
    -------
    dict of str to numpy.ndarray
        All arrays in the file, fully read (the file is closed).

    Raises
    ------
    FormatError
        If the file is missing, not a regular file, damaged, not an ``.npz`` file, holds
        pickled objects, does not match ``sha256``, or lacks an expected array or has one of
        another shape. Shapes and sizes are checked from each array's header before its data
        is decompressed, so a small file that would expand to gigabytes is refused unread.
    """
    where = os.fspath(path)
    raw = read_regular_file(path, max_bytes=max_bytes, inside=inside)
    if sha256 is not None and hashlib.sha256(raw).hexdigest() != sha256:
        raise FormatError(
            f"{where} does not match the file that refers to it (checksum differs): it was "
            "replaced or damaged, or a save was interrupted between the two files."
        )
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise FormatError(f"{where} is damaged or not an .npz file.")
    _check_npz_headers(where, raw, expected or {}, max_bytes)
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except Exception as error:
        # Pickled object arrays raise ValueError here; a damaged member raises BadZipFile,
        # EOFError or ValueError; all of them mean the same thing to the user.
        raise FormatError(f"{where} is damaged or not an .npz file ({error}).") from None
    for name, shape in (expected or {}).items():
        if name not in arrays:
            raise FormatError(
                f"{where} lacks the array {name!r} (it has {sorted(arrays)}); the file is "
                "damaged or of another kind."
            )
        _check_shape(where, name, arrays[name].shape, shape)
    return arrays


def _check_shape(
    where: str, name: str, found: tuple[int, ...], shape: tuple[int | None, ...]
) -> None:
    if len(found) != len(shape) or any(
        size is not None and size != got for size, got in zip(shape, found, strict=True)
    ):
        wanted = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise FormatError(
            f"{where}: the array {name!r} has shape {found}; expected {wanted}. The file "
            "is damaged or of another kind."
        )


#: A deflated array this large must not expand more than this (a "zip bomb" does, ~1000x).
_BOMB_BYTES = 64 << 20
_BOMB_RATIO = 100


def _check_npz_headers(
    where: str, raw: bytes, expected: Mapping[str, tuple[int | None, ...]], max_bytes: int
) -> None:
    """Check every member's declared shape, dtype and size from its .npy header, unread."""
    from numpy.lib import format as npy

    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            for info in archive.infolist():
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                with archive.open(info) as member:
                    version = npy.read_magic(member)
                    if version == (1, 0):
                        shape, _fortran, dtype = npy.read_array_header_1_0(member)
                    elif version in ((2, 0), (3, 0)):
                        shape, _fortran, dtype = npy.read_array_header_2_0(member)
                    else:
                        raise ValueError(f"unknown .npy version {version}")
                    header = member.tell()
                if dtype.hasobject:
                    raise FormatError(
                        f"{where} is damaged or not an .npz file: {name!r} holds pickled "
                        "objects, which gesturemap never reads."
                    )
                if name in expected:
                    _check_shape(where, name, tuple(shape), expected[name])
                nbytes = math.prod(shape) * dtype.itemsize
                total += nbytes
                if (
                    info.file_size != header + nbytes
                    or total > max_bytes
                    or (
                        info.compress_type != zipfile.ZIP_STORED
                        and nbytes > _BOMB_BYTES
                        and nbytes > _BOMB_RATIO * max(info.compress_size, 1)
                    )
                ):
                    raise FormatError(
                        f"{where}: the array {name!r} declares {nbytes} bytes in "
                        f"{info.compress_size} stored; it is damaged or built to exhaust memory, "
                        "and was not read."
                    )
    except FormatError:
        raise
    except Exception as error:
        raise FormatError(f"{where} is damaged or not an .npz file ({error}).") from None


def outside(outputs: list[Any], folders: list[Any], command: str,
            reads: Sequence[Any] = ()) -> None:
    """Refuse an output path inside a folder the command reads (a project, a session log), or
    that is one of the files it reads (``reads``: a data file, through whatever path or link):
    it would overwrite the project's or the log's own files (project.json, a take, a stream)
    or the data themselves. Also refused before any work is done: two outputs naming one
    file (the second would replace the first), an output that is a folder, and one whose
    folder does not exist (found only when it is written, the work would be lost)."""
    given = [out for out in outputs if out]
    for i, out in enumerate(given):
        for other in given[:i]:
            if _same_file(out, other):
                raise SystemExit(f"gesturemap {command}: {out} is given for two outputs; the "
                                 "second would replace the first: give each its own file")
        target = Path(out).absolute()
        if target.is_dir():
            raise SystemExit(f"gesturemap {command}: {out} is a folder: give a file's path")
        if not target.parent.is_dir():
            raise SystemExit(f"gesturemap {command}: {out}: the folder {target.parent} does "
                             "not exist: make it first, or give a path in a folder that does")
        for folder in folders:
            if folder and Path(folder).absolute() in target.parents:
                raise SystemExit(f"gesturemap {command}: {out} is inside {folder}, whose files "
                                 "it could overwrite: write it elsewhere")
        for source in reads:
            if source and _same_file(out, source):
                same = out if os.fspath(out) == os.fspath(source) else f"{out} ({source})"
                raise SystemExit(f"gesturemap {command}: {same} is a file it reads, which the "
                                 "output would replace: write it elsewhere")


def _same_file(a: PathLike, b: PathLike) -> bool:
    """Whether two paths name one file (the same path, a link to it, a hard link)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one is not there (yet): the same path once every link is resolved
        return os.path.realpath(a) == os.path.realpath(b)
