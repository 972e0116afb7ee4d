"""What every stream of a fitted model computes alike from the model's arrays, computed once
per model and shared by its streams (read-only there).

The engine builds a retrained model's stream on its frame path when it swaps the model in; a
stream that derives large arrays from the templates (at 20 gestures x 60 channels: GVF's
tolerance Gaussians and normed templates, 50-60 ms; DTW's template blocks, 15-20 ms)
held the performer's frames that long at every retrain. The trainer builds one stream before
the hand-over (:func:`~gesturemap.models.base.load_kernels`), which fills the memo there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

#: the memo's entry naming the model it belongs to (by id)
_OWNER = "__owner__"


def _same(a: Any, b: Any) -> bool:
    # arrays by identity (a refit or a load replaces them), settings by value
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return a is b
    return type(a) is type(b) and a == b


def shared(model: Any, name: str, parts: Sequence[Any], build: Callable[[], Any]) -> Any:
    """``build()``, or the value it gave for the same ``parts`` (the arrays and settings it
    reads) the last time ``name`` was asked of ``model``. The memo holds the arrays it was
    keyed on, so an id is never reused while it stands. Two threads asking at once may both
    build; the last one's value stays (one assignment)."""
    memo = model.__dict__.get("_stream_memo")
    if memo is None or memo.get(_OWNER) != id(model):
        # a copy (copy.copy shares its original's __dict__ values) gets a memo of its own
        memo = {_OWNER: id(model)}
        model.__dict__["_stream_memo"] = memo
    hit = memo.get(name)
    if hit is not None and len(hit[0]) == len(parts) and all(
            _same(a, b) for a, b in zip(hit[0], parts, strict=True)):
        return hit[1]
    value = build()
    memo[name] = (tuple(parts), value)
    return value
