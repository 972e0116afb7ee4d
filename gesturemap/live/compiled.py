"""The compiled frame path: a lean HHMM or GMM classifier answered from the
received datagram to the reply bytes in one numba-compiled call
(:func:`gesturemap.models.compiled_path.wire_step`).

:meth:`CompiledWire.build` packs a stream's arrays (the model's and its run-time state) into
three flat buffers and rebinds the stream to views of them, so the stream's own methods
(``reset``, ``current``, ``views``) keep working on the same memory, and encodes the reply
templates of every class once (the bytes :meth:`gesturemap.outputs.osc.OSCOutput.send` would
send). It returns None for whatever the compiled path does not cover; the engine then keeps
its ordinary path. Only :meth:`CompiledWire.step` runs for a frame; :meth:`CompiledWire.build`
runs between two frames, as a stream is installed, and :func:`pack`, the costly part of it
(every array of the stream copied into the buffers), runs where a stream is made ahead, off
the frame path, so that installing it only encodes the reply templates.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ..models.compiled_path import GMM, HHMM, wire_step
from ..models.gmm import DeltaFrames
from ..sources.osc import has_wildcards

__all__ = ["CompiledWire", "Packing", "pack", "warm"]

#: the longest datagram received (the OSC source's)
MAX_DATAGRAM = 65536
_KINDS = {np.dtype(np.float64): 0, np.dtype(np.int64): 1, np.dtype(np.bool_): 2}


def _rebind(stream: Any, views: dict[int, np.ndarray]) -> None:
    """A lean stream's arrays, kernel arguments and Result blocks moved onto ``views``
    (``_packed``'s: the id of each array packed -> its view in the buffers)."""
    from ..models.base import FrozenBlock

    for name, value in list(vars(stream).items()):  # the stream's arrays: now the views
        if isinstance(value, np.ndarray) and id(value) in views:
            setattr(stream, name, views[id(value)])
    stream._args = stream._args._replace(**{
        k: views[id(v)] for k, v in stream._args._asdict().items() if id(v) in views})
    for name, value in list(vars(stream).items()):  # what its Results freeze: there too
        if isinstance(value, FrozenBlock):
            setattr(stream, name, value.moved_to(views))


def _packed(items: list[Any]) -> tuple[list[np.ndarray], np.ndarray, dict[int, np.ndarray]]:
    """The three flat buffers, the layout table and each array's view (by the id of the array
    it replaces)."""
    sizes = [0, 0, 0]
    lay = np.zeros((len(items), 7), dtype=np.int64)
    for i, v in enumerate(items):
        if isinstance(v, np.ndarray):
            kind = _KINDS[v.dtype]
            lay[i, 0], lay[i, 1] = sizes[kind], v.size
            lay[i, 2 : 2 + v.ndim] = v.shape
            sizes[kind] += v.size
        else:  # a scalar setting: bools and ints in the int buffer, floats in the float one
            kind = 0 if isinstance(v, float) else 1
            lay[i, 0], lay[i, 1] = sizes[kind], 1
            sizes[kind] += 1
    bufs = [np.zeros(max(sizes[0], 1)), np.zeros(max(sizes[1], 1), dtype=np.int64),
            np.zeros(max(sizes[2], 1), dtype=np.bool_)]
    views: dict[int, np.ndarray] = {}
    for i, v in enumerate(items):
        o, size = int(lay[i, 0]), int(lay[i, 1])
        if isinstance(v, np.ndarray):
            view = bufs[_KINDS[v.dtype]][o : o + size].reshape(v.shape)
            view[...] = v
            views[id(v)] = view
        else:
            bufs[0 if isinstance(v, float) else 1][o] = v
    return bufs, lay, views


class Packing:
    """A lean HHMM or GMM stream's arrays packed into the compiled call's three flat buffers,
    with the layout table and the call's scratch arrays (made once per stream, by
    :func:`pack`)."""

    __slots__ = ("bufs", "lay", "deltas", "x", "out", "res")

    def __init__(self, bufs: list[np.ndarray], lay: np.ndarray, deltas: bool, dim: int) -> None:
        self.bufs, self.lay, self.deltas = bufs, lay, bool(deltas)
        #: the decoded frame (overwritten by every call)
        self.x = np.zeros(dim)
        #: the reply datagrams' bytes, and (label index, end of the first, end of the second)
        self.out = np.zeros(MAX_DATAGRAM, dtype=np.uint8)
        self.res = np.zeros(3, dtype=np.int64)


def _stream_kind(stream: Any) -> int | None:
    from ..models.gmm import GMMStream
    from ..models.hhmm import HHMMStream

    return {HHMMStream: HHMM, GMMStream: GMM}.get(type(stream))


def pack(stream: Any) -> Packing | None:
    """Pack ``stream``'s arrays for the compiled path (once: a stream packed already keeps its
    packing), rebinding the stream to views of the buffers; None for a stream the compiled
    path does not cover (not a lean HHMM or GMM classifier, no classes, another byte order).

    Call it where a stream is made ahead, off the frame path (a scene's ready streams, a
    retrained model's stream): packing allocates and copies every array of the stream, work
    that would otherwise fall on the frame that installs it. A stream in use must not be
    packed from another thread (its arrays move)."""
    packing = getattr(stream, "_packing", None)
    if packing is not None:
        return packing
    if _stream_kind(stream) is None or not stream.lean or sys.byteorder != "little":
        return None
    lik, _progress = stream.views()
    if not len(lik) or not len(stream.labels):
        return None
    frames = stream._frames
    items = list(stream._args._asdict().values())
    if frames.enabled:
        items += [frames.frame, frames._prev, frames._pos,
                  np.array([frames._first], dtype=np.int64)]
    bufs, lay, views = _packed(items)
    if frames.enabled:
        stream._frames = _PackedDeltas(frames, views[id(frames.frame)],
                                       views[id(frames._prev)], views[id(frames._pos)],
                                       bufs[1], int(lay[-1, 0]))
    _rebind(stream, views)
    stream._packing = packing = Packing(bufs, lay, frames.enabled, stream._din)
    return packing


class CompiledWire:
    """One lean HHMM or GMM stream's compiled frame path (built by :meth:`build`)."""

    def __init__(self, stream: Any, output: Any, address: str, dim: int, packing: Packing,
                 tpl: np.ndarray, toff: np.ndarray, lik_at: np.ndarray, prog_at: np.ndarray,
                 kind: int) -> None:
        self.stream = stream
        self.output = output
        self.dim = dim
        self.addr = np.frombuffer(address.encode("ascii") + b"\0", dtype=np.uint8).copy()
        self.fb, self.ib, self.bb = packing.bufs
        self.lay = packing.lay
        self.deltas = packing.deltas
        self.kind = kind
        self.tpl = tpl
        self.toff = toff
        self.lik_at = lik_at
        self.prog_at = prog_at
        self.reject = float(output.settings.reject_below)
        self.x, self.out, self.res = packing.x, packing.out, packing.res
        self.sent = memoryview(self.out)

    @classmethod
    def build(cls, stream: Any, output: Any, address: str, dim: int | None,
              class_numbers: Any) -> CompiledWire | None:
        """The compiled path for ``stream`` answering ``address`` datagrams of ``dim`` values
        through ``output``; None when it does not apply (not a lean HHMM or GMM classifier, no
        class templates, another byte order). Packs the stream (:func:`pack`) unless it was
        packed ahead; then only the reply templates are encoded here."""
        kind = _stream_kind(stream)
        if (kind is None or not stream.lean
                or dim is None or stream._din != dim or not output._fast
                or not address.isascii() or has_wildcards(address)):
            return None
        packing = pack(stream)
        if packing is None:
            return None
        lik, progress = stream.views()
        n = len(lik)
        parts, toff, at = [], np.zeros((n, 6), dtype=np.int64), 0
        for i, label in enumerate(stream.labels):
            wek, head, _pack, mid, pack_prog = output._class_templates(label, n, progress,
                                                                       class_numbers[i])
            toff[i] = (at, at + len(wek), at + len(wek) + len(head),
                       at + len(wek) + len(head) + len(mid), pack_prog is not None,
                       len(head) > 0)
            parts += [wek, head, mid]
            at = int(toff[i, 3])
        tpl = np.frombuffer(b"".join(parts) or b"\0", dtype=np.uint8).copy()
        fb = packing.bufs[0]
        lik_at = np.array([_offset_in(fb, lik), n], dtype=np.int64)
        prog_at = np.array([0, 0] if progress is None else
                           [_offset_in(fb, progress), len(progress)], dtype=np.int64)
        return cls(stream, output, address, dim, packing, tpl, toff, lik_at, prog_at, kind)

    def step(self, rx: np.ndarray, n: int) -> int:
        """The datagram ``rx[:n]`` through the stream (see
        :func:`~gesturemap.models.compiled_path.wire_step` for the return codes)."""
        return wire_step(self.kind, rx, n, self.addr, self.dim, self.x, self.fb, self.ib,
                         self.bb, self.lay, self.deltas, self.lik_at, self.prog_at, self.tpl,
                         self.toff, self.reject, self.out, self.res)


class _PackedDeltas(DeltaFrames):
    """A stream's :class:`DeltaFrames` on the packed buffers: its frame, ring of previous
    inputs and ring position are views, its "first frame" flag an element of the int buffer
    (the compiled call reads and writes the same state as :meth:`DeltaFrames.__call__` and
    ``reset``)."""

    def __init__(self, old: DeltaFrames, frame: np.ndarray, prev: np.ndarray,
                 pos: np.ndarray, ints: np.ndarray, at: int) -> None:
        self._flag = ints[at : at + 1]
        self.enabled = True
        self.lag = old.lag
        self.frame = frame
        self._prev = prev
        self._pos = pos
        self._d = old._d
        self._first = old._first

    @property  # type: ignore[override]
    def _first(self) -> bool:
        return bool(self._flag[0])

    @_first.setter
    def _first(self, value: bool) -> None:
        self._flag[0] = 1 if value else 0


def _offset_in(buf: np.ndarray, view: np.ndarray) -> int:
    """Where the 1-D ``view`` starts in ``buf`` (an element index)."""
    return (view.__array_interface__["data"][0] - buf.__array_interface__["data"][0]) // 8


def warm() -> None:
    """Compile (or load from numba's cache) the compiled path's kernel: a datagram it refuses
    compiles the whole function, every path of it. Never on the frame path."""
    z8 = np.zeros(1, dtype=np.uint8)
    zi = np.zeros(1, dtype=np.int64)
    zf = np.zeros(1)
    wire_step(HHMM, np.zeros(16, dtype=np.uint8), 0, z8, 0, zf, zf, zi, np.zeros(1, np.bool_),
              np.zeros((1, 7), dtype=np.int64), False, zi, zi, z8, np.zeros((1, 6), np.int64),
              0.0, z8, np.zeros(3, dtype=np.int64))


def ready_stream(job: Any) -> Any:
    """A finished training job's model's own stream, packed for the compiled path
    (:func:`pack`), made on the trainer's (or the searcher's) thread as the job ends
    (None: no model, or none could be made): building and packing a stream allocates and
    copies every array it holds, work that would otherwise fall between two frames as the
    engine swaps the model in."""
    try:
        if not job.done() or job.cancelled:
            return None
        stream = job.result(timeout=0).stream()
        pack(stream)
    except Exception:  # noqa: BLE001 - the engine thread makes it then, as before
        return None
    return stream
