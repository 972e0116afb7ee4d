"""A stream's Result holds read-only copies of the arrays its kernel writes every frame: one
array at a time (:func:`_frozen`), or all of them with one copy (:class:`FrozenBlock`)."""

from __future__ import annotations

import copy

import numpy as np


def _frozen(a: np.ndarray) -> np.ndarray:
    """A read-only copy (a Result's arrays; every frame builds several: ``setflags`` costs
    ~0.4 µs less than assigning ``flags.writeable``)."""
    b = a.copy()
    b.setflags(write=False)
    return b


class FrozenBlock:
    """The float arrays a stream's kernel writes every frame, laid out in one buffer so that its
    :class:`Result` freezes them all with one copy (:func:`_frozen` per array costs ~0.7 µs
    each, and an HHMM's Result has eight).

    ``FrozenBlock(likelihoods=(c,), covariance=(d, d))``: ``block.arrays[name]`` are the
    writeable views the kernel is given (contiguous, as the kernels expect); ``block.frozen()``
    returns read-only views of one copy, in the order of the keywords.
    """

    def __init__(self, **shapes: tuple[int, ...]) -> None:
        sizes = [int(np.prod(shape, dtype=np.int64)) for shape in shapes.values()]
        self._size = sum(sizes)
        self.buffer: np.ndarray | None = np.zeros(self._size)
        self._parts: list[tuple[int, int, tuple[int, ...] | None]] = []
        self.arrays: dict[str, np.ndarray] = {}
        start = 0
        for (name, shape), size in zip(shapes.items(), sizes, strict=True):
            shape = tuple(int(n) for n in shape)
            self._parts.append((start, start + size, shape if len(shape) != 1 else None))
            self.arrays[name] = self.buffer[start:start + size].reshape(shape)
            start += size

    def frozen(self) -> list[np.ndarray]:
        """Read-only views of one copy of every array (a 1-D slice is a view without
        ``reshape``: the common case costs ~0.15 µs an array)."""
        if self.buffer is None:  # moved apart (moved_to): one copy an array
            return [_frozen(a) for a in self.arrays.values()]
        b = self.buffer.copy()
        b.setflags(write=False)
        return [b[i:j] if shape is None else b[i:j].reshape(shape)
                for i, j, shape in self._parts]

    def moved_to(self, views: dict[int, np.ndarray]) -> FrozenBlock:
        """This block over ``views``, each array's replacement by the id of the array it
        replaces: the compiled frame path packs a stream's arrays into buffers of its own, and
        its Result must read them there. Still one copy a frame when they lie one after
        another in one buffer in the block's order; else one copy an array."""
        moved = copy.copy(self)
        moved.arrays = {name: views.get(id(a), a) for name, a in self.arrays.items()}
        parts = [(a, i) for a, (i, j, _) in zip(moved.arrays.values(), self._parts,
                                                 strict=True) if j > i]
        if not parts:
            return moved
        owner, first = parts[0][0].base, parts[0][1]
        if (owner is None or owner.ndim != 1 or owner.dtype != np.float64
                or not owner.flags.c_contiguous):
            moved.buffer = None
            return moved
        origin = owner.__array_interface__["data"][0]
        start = (parts[0][0].__array_interface__["data"][0] - origin) // 8 - first
        if start < 0 or start + self._size > owner.size or not all(
                a.base is owner and a.flags.c_contiguous and a.dtype == np.float64
                and a.__array_interface__["data"][0] == origin + 8 * (start + i)
                for a, i in parts):
            moved.buffer = None
            return moved
        moved.buffer = owner[start:start + self._size]
        return moved
