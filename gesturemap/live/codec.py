"""The one wire format between gesturemap's processes (trainer worker, window ↔ engine).

A message is JSON types, numpy arrays and numpy scalars, nested in dicts and lists. It crosses
as bytes: a JSON header in which each array is replaced by its dtype and shape, then the arrays'
raw bytes. Nothing is pickled: only numeric, boolean and fixed-width text arrays can cross, so a
message can never run code when it is decoded.

    data = encode({"kind": "state", "frames": np.zeros((3, 6))})
    decode(data)["frames"].shape   # (3, 6), read-only
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["decode", "encode"]

_ARRAY = "__ndarray__"
_KINDS = set("biufU")  # numbers, booleans, fixed-width text: never object arrays
_MAGIC = b"J"


def _checked_dtype(dtype: Any) -> np.dtype:
    dt = np.dtype(dtype)
    if dt.kind not in _KINDS or dt.hasobject:
        raise ValueError(f"refusing an array of dtype {dt}: only numeric, boolean and text "
                         "arrays cross between processes")
    return dt


def encode(message: Any) -> bytes:
    """``message`` as bytes (see the module's docstring)."""
    buffers: list[bytes] = []

    def enc(o: Any) -> Any:
        if isinstance(o, np.ndarray):
            a = np.ascontiguousarray(o)
            try:
                _checked_dtype(a.dtype)
            except ValueError as exc:
                raise TypeError(str(exc)) from None
            buffers.append(a.tobytes())
            return {_ARRAY: len(buffers) - 1, "dtype": a.dtype.str, "shape": list(a.shape)}
        if isinstance(o, dict):
            return {str(k): enc(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [enc(v) for v in o]
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, Path):
            return str(o)
        return o

    header = json.dumps(enc(message), separators=(",", ":"), allow_nan=True).encode()
    parts = [_MAGIC, struct.pack("<II", len(header), len(buffers)), header]
    for b in buffers:
        parts += [struct.pack("<Q", len(b)), b]
    return b"".join(parts)


def decode(data: bytes) -> Any:
    """The inverse of :func:`encode`. Arrays come back read-only (they view ``data``).

    Raises ValueError on bytes that are not an encoded message (truncated, wrong magic,
    a refused dtype, a shape that does not match its buffer).
    """
    if data[:1] != _MAGIC or len(data) < 9:
        raise ValueError("not an encoded message")
    try:
        n_header, n_buffers = struct.unpack_from("<II", data, 1)
        pos = 9
        header = json.loads(data[pos : pos + n_header])
        pos += n_header
        buffers = []
        for _ in range(n_buffers):
            (n,) = struct.unpack_from("<Q", data, pos)
            pos += 8
            if pos + n > len(data):
                raise ValueError("truncated message")
            buffers.append(memoryview(data)[pos : pos + n])
            pos += n
    except (struct.error, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not an encoded message ({exc})") from None

    def dec(o: Any) -> Any:
        if isinstance(o, dict):
            if _ARRAY in o:
                dtype = _checked_dtype(o["dtype"])
                return np.frombuffer(buffers[o[_ARRAY]], dtype=dtype).reshape(o["shape"])
            return {k: dec(v) for k, v in o.items()}
        if isinstance(o, list):
            return [dec(v) for v in o]
        return o

    try:
        return dec(header)
    except (IndexError, KeyError, TypeError) as exc:
        raise ValueError(f"not an encoded message ({type(exc).__name__}: {exc})") from None
