"""One validation module: every error about a value a user gave has the same shape.

``"{what}: got {value}; expected {what would do}. {what to try next}"`` — the parameter (as
the user knows it), the value received (arrays by shape and dtype, long values shortened), what
would have been accepted, and a hint where there is one (:func:`validation_error`). Models,
features, sources, outputs, the synth and the file readers all check with the helpers here.

A model's whole settings are checked by :func:`gesturemap.check_params` (in
:mod:`gesturemap.models.base`: it needs the models), which raises these same errors.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..errors import GesturemapError

__all__ = ["Described", "check_choice", "check_finite", "check_float", "check_int",
           "check_mapping", "check_number", "check_text", "validation_error",
           "whole_numbers"]

_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60



def _describe(value: Any) -> str:
    """Short text for a received value: arrays by shape and dtype, long values shortened."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return _repr.repr(value)


def validation_error(
    name: str, value: Any, expected: str, hint: str | None = None
) -> GesturemapError:
    """Build the error raised when a value given to gesturemap is not acceptable.

    Every validation error names the parameter, the value received, what was expected and,
    where there is one, what to try next, in that order.

    Parameters
    ----------
    name : str
        What was checked, as the user knows it (``"gaussians"``, ``"inputs of recording 3"``).
    value : object
        The value received. Arrays are described by shape and dtype, other values by a
        shortened ``repr``; wrap a ready description in :class:`Described` to insert it as is.
    expected : str
        What would have been accepted (``"an integer >= 1"``).
    hint : str, optional
        What to try next.

    Returns
    -------
    GesturemapError
        The error, for the caller to ``raise``.
    """
    received = value.text if isinstance(value, Described) else _describe(value)
    message = f"{name}: got {received}; expected {expected}."
    if hint:
        message += f" {hint}"
    return GesturemapError(message)


class Described:
    """A received value already put into words, for :func:`validation_error`.

    Parameters
    ----------
    text : str
        The description, inserted as is after "got".
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def check_finite(
    name: str,
    array: Any,
    *,
    index_names: tuple[str, ...] | None = None,
    hint: str | None = None,
) -> np.ndarray:
    """Check that an array holds only finite real numbers.

    Parameters
    ----------
    name : str
        What the array is, as the user knows it.
    array : array_like, any shape
        The values to check.
    index_names : tuple of str, optional
        One word per axis to report the first bad value's position with, e.g.
        ``("frame", "column")``; by default the position is a plain index tuple.
    hint : str, optional
        What to try next; a generic suggestion is given by default.

    Returns
    -------
    numpy.ndarray, same shape as ``array``
        ``np.asarray(array)`` (no copy when ``array`` is already an ndarray).

    Raises
    ------
    GesturemapError
        If the values are not real numbers, or any is NaN or infinite.
    """
    values = np.asarray(array)
    if values.dtype.kind not in "biuf":
        raise validation_error(
            name,
            values,
            "real numbers",
            "Convert the values to floats (numbers stored as text or objects are refused).",
        )
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        position = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
        if index_names is not None and len(index_names) == len(position):
            where = ", ".join(f"{word} {i}" for word, i in zip(index_names, position, strict=True))
        else:
            where = f"index {position}"
        bad = float(values[position])
        raise validation_error(
            name,
            Described(f"{bad} at {where}"),
            "finite numbers (no NaN or infinity)",
            hint
            or "Remove or interpolate the missing values, or check the sensor that produced them.",
        )
    return values


def check_number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
    hint: str | None = None,
) -> int | float:
    """Check a scalar setting and return it as a Python ``int`` or ``float``.

    Parameters
    ----------
    name : str
        The parameter's name.
    value : int or float
        The value received. ``bool`` is refused (``True`` is not a count).
    minimum, maximum : float, optional
        Inclusive bounds.
    integer : bool, default False
        Whether only whole numbers (``int`` or a numpy integer) are accepted.
    hint : str, optional
        What to try next.

    Returns
    -------
    int or float
        ``int`` for integer input, else ``float``.

    Raises
    ------
    GesturemapError
        If the value is not a finite number of the right kind within the bounds.
    """
    kinds: tuple[type, ...] = (
        (int, np.integer) if integer else (int, float, np.integer, np.floating)
    )
    expected = "an integer" if integer else "a finite number"
    if minimum is not None:
        expected += f" >= {minimum}"
    if maximum is not None:
        expected += f"{' and' if minimum is not None else ''} <= {maximum}"
    if isinstance(value, bool | np.bool_) or not isinstance(value, kinds):
        raise validation_error(name, value, expected, hint)
    number = int(value) if isinstance(value, int | np.integer) else float(value)
    if (
        not math.isfinite(number)
        or (minimum is not None and number < minimum)
        or (maximum is not None and number > maximum)
    ):
        raise validation_error(name, value, expected, hint)
    return number


def _same_choice(value: Any, option: Any) -> bool:
    # True == 1 in Python; a flag must not pass for a number, nor the reverse.
    if isinstance(value, bool) or isinstance(option, bool):
        return value is option
    return bool(value == option)


def check_choice(name: str, value: Any, choices: Iterable[Any], hint: str | None = None) -> Any:
    """Check that a setting is one of a fixed set of values.

    Parameters
    ----------
    name : str
        The parameter's name.
    value : object
        The value received.
    choices : iterable
        The accepted values.
    hint : str, optional
        What to try next.

    Returns
    -------
    object
        ``value`` unchanged.

    Raises
    ------
    GesturemapError
        If ``value`` is not among ``choices``.
    """
    options = list(choices)
    if isinstance(value, np.ndarray) or not any(_same_choice(value, o) for o in options):
        listed = ", ".join(repr(option) for option in options)
        raise validation_error(name, value, f"one of {listed}", hint)
    return value


def check_int(name: str, value: Any, minimum: int, hint: str | None = None) -> int:
    """``value`` as an ``int`` if it is an integer ``>= minimum`` (not a bool), else raise."""
    return int(check_number(name, value, minimum=minimum, integer=True, hint=hint))


def check_float(name: str, value: Any, minimum: float = 0.0, strict: bool = False,
                hint: str | None = None) -> float:
    """``value`` as a finite ``float`` ``>= minimum`` (``> minimum`` when ``strict``), else
    raise."""
    if not strict:
        return float(check_number(name, value, minimum=minimum, hint=hint))
    # the bound said as it is meant (> 0), whatever the value received (text, NaN, 0)
    try:
        number = float(check_number(name, value, minimum=minimum, hint=hint))
    except GesturemapError:
        number = minimum
    if number == minimum:
        raise validation_error(name, value, f"a finite number > {minimum}", hint)
    return number


def check_mapping(name: str, value: Any, known: Iterable[str] | None = None,
                  what: str = "settings") -> dict[str, Any]:
    """A block of settings read from a file (a JSON object) checked before its entries are
    read: ``dict(value)``, or ``{}`` for None.

    Settings blocks are parsed with ``dict(...)`` and ``**``: a list or a number in their
    place would raise a bare ``TypeError`` (or build a nonsense dict from a list of strings),
    far from the file that holds it. Checked here, the error names the entry.

    Parameters
    ----------
    name : str
        The block, as the file names it (``"outputs.addresses"``).
    value : object
        The value received; None stands for an empty block.
    known : iterable of str, optional
        The keys accepted; any other is refused. By default any str key.
    what : str, default "settings"
        What the block maps to, for the message (``"a dict of {what}"``).

    Returns
    -------
    dict
        A shallow copy.

    Raises
    ------
    GesturemapError
        If ``value`` is not a mapping, or has a key outside ``known``.
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise validation_error(name, value, f"a dict of {what}")
    if known is not None:
        allowed = set(known)
        unknown = set(value) - allowed
        if unknown:
            raise validation_error(name, Described(f"unknown keys {sorted(unknown, key=str)}"),
                                   f"keys among {sorted(allowed)}")
    return dict(value)


def check_text(name: str, value: Any, expected: str = "a str",
               hint: str | None = None) -> str | None:
    """``value`` if it is a str or None, else raise: a number where a name, a path or an
    address is wanted would be turned into text silently (``str(5)``) and fail later, far
    from the setting."""
    if value is not None and not isinstance(value, str):
        raise validation_error(name, value, expected, hint)
    return value


def whole_numbers(values: Any) -> np.ndarray:
    """``values`` as integers (int64) when they are whole numbers (integers, booleans, or
    finite floats such as 7.0), else as they are (text, 7.5)."""
    a = np.asarray(values)
    if a.dtype.kind in "iub" or (a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(
            a == np.round(a))):
        return a.astype(np.int64)
    return a
