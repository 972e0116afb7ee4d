"""The project folder's layout and format versions, and reading one take's pair of files.

See :mod:`gesturemap.project` for the folder's layout.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, GesturemapError
from ..utils.storage import load_npz, read_json
from .takes import Take, _take_number, check_gaps, repair_times

#: Format names and the newest version this code reads and writes.
FORMAT = "gesturemap.project"
TAKE_FORMAT = "gesturemap.take"
VERSION = 1

PROJECT_FILE = "project.json"
TAKES_DIR = "takes"
TRASH_DIR = "trash"
#: The largest take read (its arrays): 2 GiB, e.g. 10 minutes of 400 channels at 1 kHz.
MAX_TAKE_BYTES = 2 << 30


_loading = threading.local()


def load_warning(message: str) -> None:
    """Warn that a part of a project was left out as it opened. Within :func:`held_warnings`
    (a load under way) the warning is held: it is given only once the load is known to have
    read one saved state of the folder, not the old ``project.json`` with the files of a save
    that replaced it meanwhile."""
    held = getattr(_loading, "held", None)
    if held is None:
        warnings.warn(message, stacklevel=3)
    else:
        held.append(message)


@contextmanager
def held_warnings() -> Iterator[list[str]]:
    """Hold this thread's :func:`load_warning` messages in the list given, for the caller to
    give or drop."""
    outer = getattr(_loading, "held", None)
    _loading.held = held = []
    try:
        yield held
    finally:
        _loading.held = outer


def _require(path: Path, document: Mapping[str, Any], key: str, check: Any, expected: str) -> Any:
    value = document.get(key)
    if not check(value):
        raise FormatError(f"{path} is damaged: {key!r} is {value!r:.80}; expected {expected}.")
    return value


def _is_label(value: Any) -> bool:
    return (isinstance(value, str) and bool(value)) or (
        isinstance(value, int) and not isinstance(value, bool)
    )



def _scan_takes(directory: Path, removed: set[str]) -> dict[str, Path]:
    """Take id -> its JSON file, for every take JSON in ``directory`` not removed."""
    if not directory.is_dir():
        return {}
    found = {}
    for path in directory.glob("take-*.json"):
        if _take_number(path.stem) is not None and path.stem not in removed:
            found[path.stem] = path
    return found


def _read_take(path: Path, take_id: str, root: Path) -> Take:
    """Read one take's pair (only regular files inside ``root``).

    Raises
    ------
    FormatError
        Whichever of its two files is missing, damaged or does not match the other.
    """
    meta = read_json(path, format=TAKE_FORMAT, max_version=VERSION, inside=root)

    def field(key: str, check: Any, expected: str) -> Any:
        return _require(path, meta, key, check, expected)

    def is_count(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= 1

    if field("id", lambda v: isinstance(v, str), "a str") != take_id:
        raise FormatError(f"{path} is damaged: it holds take {meta['id']!r}, not {take_id!r}.")
    label = field("label", _is_label, "a non-empty str or an int")
    frames = field("frames", is_count, "an integer >= 1")
    input_dim = field("input_dim", is_count, "an integer >= 1")
    output_dim = field("output_dim", lambda v: v is None or is_count(v), "None or an integer >= 1")
    has_times = field("has_times", lambda v: isinstance(v, bool), "true or false")
    digest = field("arrays_sha256", lambda v: isinstance(v, str), "a str")
    npz_path = path.with_suffix(".npz")
    declared = frames * (input_dim + (output_dim or 0) + (1 if has_times else 0)) * 8
    if declared > MAX_TAKE_BYTES:
        raise FormatError(
            f"{path} is damaged: it declares {declared} bytes of arrays, more than the "
            f"{MAX_TAKE_BYTES} a take may hold."
        )
    if not npz_path.exists() and not npz_path.is_symlink():
        raise FormatError(
            f"{npz_path} is missing: the arrays of {take_id} ({label!r}) are gone. Restore the "
            f"file, or delete {path.name} to drop the take."
        )
    expected: dict[str, tuple[int | None, ...]] = {"inputs": (frames, input_dim)}
    if has_times:
        expected["times"] = (frames,)
    if output_dim is not None:
        expected["outputs"] = (frames, output_dim)
    arrays = load_npz(
        npz_path, expected, sha256=digest, inside=root, max_bytes=declared + (1 << 20)
    )
    inputs = arrays["inputs"]
    for key, array in arrays.items():
        if key in expected and (array.dtype != np.float64 or not np.isfinite(array).all()):
            raise FormatError(f"{npz_path}: {key!r} is not finite float64 numbers.")
    times = arrays.get("times") if has_times else None
    repaired = 0
    if times is not None and times.size > 1:
        times, repaired = repair_times(times)
        if repaired:
            load_warning(f"{take_id} ({label!r}): its times went back {repaired} time(s); "
                         "re-stamped and kept.")
    outputs = arrays.get("outputs") if output_dim is not None else None
    for array in (inputs, times, outputs):
        if array is not None:
            array.flags.writeable = False
    created = meta.get("created")
    try:
        gaps = check_gaps(meta.get("gaps") or ())
    except GesturemapError as exc:  # only a mark on the take: the take stays
        load_warning(f"{take_id} ({label!r}): its record of when the sensor was away is "
                     f"unreadable ({exc}); left out, the take kept.")
        gaps = ()
    take = Take(take_id, label, inputs, times, outputs, str(created) if created else "", gaps)
    if repaired:
        object.__setattr__(take, "_repaired", repaired)  # counted by Project.load
    return take
