"""A project's takes: the :class:`Take` record, take ids, and checked, repaired frame times."""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
from typing import Any

import numpy as np

from ..utils.storage import check_finite, validation_error

Label = str | int
PathLike = str | os.PathLike[str]

_TAKE_ID = re.compile(r"take-(\d{6,})")


def _now_iso() -> str:
    """The current local time with its UTC offset, to the millisecond."""
    return datetime.datetime.now().astimezone().isoformat(timespec="milliseconds")


def _iso_time(moment: Any) -> str:
    """``moment`` (a :class:`datetime.datetime`; naive: local time) as a take's ``created``:
    ISO 8601 with its UTC offset, to the millisecond."""
    if not isinstance(moment, datetime.datetime):
        raise validation_error("created", moment, "a datetime.datetime (naive: local time)")
    return moment.astimezone().isoformat(timespec="milliseconds")


def take_moment(take: Take) -> datetime.datetime | None:
    """When ``take`` was recorded, as this machine's local wall-clock time (naive), or None
    when its ``created`` cannot be read."""
    try:
        moment = datetime.datetime.fromisoformat(take.created)
    except (TypeError, ValueError):
        return None
    return moment.astimezone().replace(tzinfo=None)


def _take_id(number: int) -> str:
    return f"take-{number:06d}"


def _take_number(take_id: str) -> int | None:
    match = _TAKE_ID.fullmatch(take_id)
    return int(match.group(1)) if match else None



def repair_times(times: np.ndarray) -> tuple[np.ndarray, int]:
    """Re-stamp a take's times so that they never decrease.

    A sensor's clock may jump back in a take (a corrupted digit, a board reset): each step
    back is replaced by the take's median forward step, and the frames after it keep their
    own spacing. The frames are kept, in their order.

    Parameters
    ----------
    times : numpy.ndarray, shape (T,)
        Finite times in seconds.

    Returns
    -------
    times : numpy.ndarray, shape (T,)
        The repaired times (``times`` itself when nothing needed repair).
    repaired : int
        How many steps back were mended.
    """
    steps = np.diff(times)
    back = steps < 0
    repaired = int(back.sum())
    if not repaired:
        return times, 0
    forward = steps[~back]
    forward = forward[forward > 0]
    typical = float(np.median(forward)) if forward.size else 0.0
    steps = np.where(back, typical, steps)
    fixed = np.empty_like(times)
    fixed[0] = times[0]
    np.cumsum(steps, out=fixed[1:])
    fixed[1:] += times[0]
    return fixed, repaired


def _check_times(times: Any, length: int) -> tuple[np.ndarray, int]:
    """Validate take times: (T,), finite; a read-only float64 copy that never decreases, and
    how many steps back were repaired (:func:`repair_times`)."""
    array = check_finite("times", times, hint="Give each frame's time in seconds.")
    if array.ndim != 1 or array.shape[0] != length:
        raise validation_error("times", array, f"a ({length},) array: one time per input frame")
    array = np.array(array, dtype=np.float64, copy=True)
    array, repaired = repair_times(array)
    array.flags.writeable = False
    return array, repaired


def check_gaps(gaps: Any, where: str = "gaps") -> tuple[tuple[float, float], ...]:
    """Validate a take's gaps: pairs ``(start_s, length_s)``, finite, start >= 0 and length
    > 0; returned as a tuple of float pairs.

    Raises
    ------
    GesturemapError
        Naming what was received and what is expected.
    """
    try:
        pairs = tuple((float(start), float(length)) for start, length in gaps)
    except (TypeError, ValueError):
        raise validation_error(where, gaps, "pairs (start_s, length_s) of numbers") from None
    for start, length in pairs:
        if not (np.isfinite(start) and np.isfinite(length) and start >= 0 and length > 0):
            raise validation_error(where, gaps, "pairs (start_s >= 0, length_s > 0), finite")
    return pairs


def describe_gaps(gaps: Any) -> str:
    """What a take's gaps mean to the person who recorded it, in a few words:
    "the sensor was away for 1.5 s during this take (from 2.0 s to 3.5 s)"."""
    pairs = check_gaps(gaps)
    if not pairs:
        return ""
    away = sum(length for _, length in pairs)
    start, length = pairs[0]
    where = (f"from {start:.1f} s to {start + length:.1f} s" if len(pairs) == 1
             else f"{len(pairs)} times, first at {start:.1f} s")
    return f"the sensor was away for {away:.1f} s during this take ({where})"


@dataclasses.dataclass(frozen=True, eq=False)
class Take:
    """One recorded demonstration: raw sensor frames, their times, targets and label.

    Takes are made by :meth:`Project.add_take`; their arrays are read-only.

    Attributes
    ----------
    id : str
        ``"take-000007"``: unique in its project and never reused.
    label : str or int
        The gesture (class) demonstrated.
    inputs : numpy.ndarray, shape (T, D_in), float64
        Raw sensor frames, before the feature pipeline.
    times : numpy.ndarray, shape (T,), float64, or None
        Each frame's time in seconds from the take's start, when known.
    outputs : numpy.ndarray, shape (T, D_out), float64, or None
        The target values held while recording (regression, Wekinator-style), if any.
    created : str
        When the take was recorded (ISO 8601, local time with offset).
    gaps : tuple of (float, float)
        When the sensor was away while the take was recorded (unplugged, its port gone):
        ``(start_s, length_s)`` from the take's start. Its frames are kept as they came, with
        the hole in their times; the take is marked, never cut or dropped.
    """

    id: str
    label: Label
    inputs: np.ndarray
    times: np.ndarray | None
    outputs: np.ndarray | None
    created: str
    gaps: tuple[tuple[float, float], ...] = ()

    @property
    def length(self) -> int:
        """Number of frames T."""
        return int(self.inputs.shape[0])

    @property
    def away_s(self) -> float:
        """Seconds the sensor was away during the take (0.0: none)."""
        return float(sum(length for _, length in self.gaps))

    def __repr__(self) -> str:
        extra = "" if self.outputs is None else f", outputs={self.outputs.shape[1]}"
        return (
            f"Take({self.id!r}, label={self.label!r}, length={self.length}, "
            f"inputs={self.inputs.shape[1]}{extra})"
        )
