"""Validation helpers of the feature pipeline, on gesturemap's shared error shape.

Every settings error goes through :func:`gesturemap.utils.storage.validation_error`, named
``<Owner>.<parameter>``, e.g.::

    MovingAverage.window_frames: got 0; expected an integer >= 1. Average over at least one
    frame (1 passes the signal through).

What this module adds: open intervals (a cutoff must be > 0) and channel lists.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from gesturemap.errors import GesturemapError
from gesturemap.utils.validation import check_number, validation_error

ChannelRef = int | str
"""A channel named by its index in the stage's input (0-based) or by its name."""


def invalid(owner: str, param: str, value: Any, expected: str, hint: str = "") -> GesturemapError:
    """Build the error for a bad setting ``owner.param`` (see ``validation_error``).

    Parameters
    ----------
    owner : str
        Who holds the setting, e.g. ``"LowPass"`` or ``"Pipeline"``.
    param : str
        The parameter's name.
    value : object
        The value received.
    expected : str
        What would have been accepted.
    hint : str, optional
        What to try next.

    Returns
    -------
    GesturemapError
        The error, to be raised by the caller.
    """
    return validation_error(f"{owner}.{param}", value, expected, hint or None)


def check_int(
    owner: str, param: str, value: Any, minimum: int, hint: str = "", maximum: int | None = None
) -> int:
    """Return ``value`` as an ``int`` if it is an integer in ``[minimum, maximum]``, else raise."""
    return int(
        check_number(
            f"{owner}.{param}",
            value,
            minimum=minimum,
            maximum=maximum,
            integer=True,
            hint=hint or None,
        )
    )


def check_float(
    owner: str,
    param: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    hint: str = "",
) -> float:
    """Return ``value`` as a finite ``float`` inside the given interval, else raise.

    The interval is ``[low, high]``; ``low_open`` / ``high_open`` exclude an end.
    """
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    if low > -math.inf and high < math.inf:
        expected = f"a number in {left}{low:g}, {high:g}{right}"
    elif low > -math.inf:
        expected = f"a number {'>' if low_open else '>='} {low:g}"
    elif high < math.inf:
        expected = f"a number {'<' if high_open else '<='} {high:g}"
    else:
        expected = "a finite number"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise invalid(owner, param, value, expected, hint)
    number = float(value)
    if (
        not math.isfinite(number)
        or number < low
        or number > high
        or (low_open and number == low)
        or (high_open and number == high)
    ):
        raise invalid(owner, param, value, expected, hint)
    return number


def check_bool(owner: str, param: str, value: Any) -> bool:
    """Return ``value`` if it is a ``bool``, else raise."""
    if not isinstance(value, bool):
        raise invalid(owner, param, value, "true or false")
    return value


def check_channels(owner: str, param: str, value: Any) -> tuple[ChannelRef, ...]:
    """Normalise a channel list: a non-empty tuple of distinct indices (>= 0) or names.

    A single index or name is accepted and becomes a one-element tuple.
    """
    hint = "Name channels by 0-based index or by name, e.g. (0, 1, 2) or ('ax', 'ay', 'az')."
    if isinstance(value, str) or (
        isinstance(value, numbers.Integral) and not isinstance(value, bool)
    ):
        value = (value,)
    if not isinstance(value, Sequence) or len(value) == 0:
        raise invalid(owner, param, value, "a non-empty list of channel indices or names", hint)
    refs: list[ChannelRef] = []
    for ref in value:
        if isinstance(ref, str) and ref:
            refs.append(ref)
        elif isinstance(ref, numbers.Integral) and not isinstance(ref, bool) and ref >= 0:
            refs.append(int(ref))
        else:
            raise invalid(
                owner,
                param,
                value,
                "channel indices >= 0 or non-empty names",
                f"{ref!r} is neither.",
            )
    if len(set(refs)) != len(refs):
        raise invalid(owner, param, value, "distinct channels", "Remove the repeated channel.")
    return tuple(refs)


def resolve_channels(
    owner: str, param: str, refs: Sequence[ChannelRef], names: Sequence[str]
) -> list[int]:
    """Turn channel references into indices of an input with channel names ``names``.

    Parameters
    ----------
    owner, param : str
        For the error message.
    refs : sequence of int or str
        Channel indices or names.
    names : sequence of str, length D
        The input's channel names.

    Returns
    -------
    list of int
        One index per reference, each in ``[0, D)``.
    """
    indices: list[int] = []
    for ref in refs:
        if isinstance(ref, str):
            if ref not in names:
                raise invalid(
                    owner,
                    param,
                    tuple(refs),
                    f"channels of the input, which are named {list(names)}",
                    f"No channel is named {ref!r}: check the sensor's channel names, "
                    "or pass input_names to the pipeline.",
                )
            indices.append(list(names).index(ref))
        else:
            if ref >= len(names):
                raise invalid(
                    owner,
                    param,
                    tuple(refs),
                    f"indices below the input's {len(names)} channels",
                    f"Index {ref} does not exist; indices start at 0.",
                )
            indices.append(ref)
    if len(set(indices)) != len(indices):
        raise invalid(
            owner,
            param,
            tuple(refs),
            "distinct channels",
            "An index and a name point at the same channel.",
        )
    return indices
