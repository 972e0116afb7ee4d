"""A Result built by its written-out ``__init__``, a stream's arrays frozen with one copy
(``FrozenBlock``), and the quick finiteness test of a frame: the same as what they replace."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError
from gesturemap.models.base import FrozenBlock, Result

FIELDS = [f.name for f in dataclasses.fields(Result)]


def test_init_takes_every_field_in_order_with_the_dataclass_defaults():
    params = list(inspect.signature(Result.__init__).parameters.values())[1:]
    assert [p.name for p in params] == FIELDS
    for p, f in zip(params, dataclasses.fields(Result), strict=True):
        expected = inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        assert p.default == expected, p.name


@pytest.mark.parametrize("by_keyword", [False, True])
def test_every_field_gets_its_own_value(by_keyword):
    values = {name: object() for name in FIELDS}  # distinct, so a swapped setter shows
    r = Result(**values) if by_keyword else Result(*values.values())
    for name in FIELDS:
        assert getattr(r, name) is values[name], name
    assert r == Result(**values)
    assert dataclasses.replace(r, label="x").label == "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.label = "other"  # type: ignore[misc]


def test_defaults_are_none():
    r = Result("a", 0, *(np.zeros(2) for _ in range(4)))
    assert all(getattr(r, name) is None for name in FIELDS[6:])


def test_frozen_block_views_one_read_only_copy():
    block = FrozenBlock(a=(3,), b=(2, 2), c=(0,), d=(3, 2, 2))
    arrays = block.arrays
    assert list(arrays) == ["a", "b", "c", "d"]
    for name, shape in (("a", (3,)), ("b", (2, 2)), ("c", (0,)), ("d", (3, 2, 2))):
        assert arrays[name].shape == shape and arrays[name].flags.c_contiguous
        assert np.shares_memory(arrays[name], block.buffer) or arrays[name].size == 0
    arrays["a"][:] = [1, 2, 3]
    arrays["b"][:] = [[4, 5], [6, 7]]
    arrays["d"][:] = np.arange(12).reshape(3, 2, 2)
    a, b, c, d = block.frozen()
    np.testing.assert_array_equal(a, [1, 2, 3])
    np.testing.assert_array_equal(b, [[4, 5], [6, 7]])
    assert c.shape == (0,)
    np.testing.assert_array_equal(d, np.arange(12).reshape(3, 2, 2))
    for x in (a, b, d):
        assert not x.flags.writeable
        with pytest.raises(ValueError):
            x[...] = 0
    arrays["a"][:] = 9  # the stream moves on: what was frozen stays
    np.testing.assert_array_equal(a, [1, 2, 3])
    assert not np.shares_memory(a, block.buffer)


def _two_class_stream():
    x = np.random.default_rng(0).normal(size=(40, 2))
    ds = gm.Dataset()
    ds.add(x, "a")
    ds.add(x + 3, "b")
    return gm.GMM(1, deltas=False).fit(ds).stream()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_frame_with_nan_or_inf_is_refused(bad):
    stream = _two_class_stream()
    with pytest.raises(GesturemapError, match="NaN or infinite"):
        stream.step([0.0, bad])
    # inf and -inf together sum to NaN: still refused
    with pytest.raises(GesturemapError, match="NaN or infinite"):
        stream.step([np.inf, -np.inf])


def test_a_finite_frame_whose_sum_overflows_is_accepted():
    stream = _two_class_stream()
    r = stream.step([1e308, 1e308])  # its sum is inf; every value is finite
    assert r.label in ("a", "b")


def _packed_in(order, block):
    """The block's arrays packed into one buffer in ``order`` as the compiled frame path packs
    a stream's (``compiled_wire._packed``), and the block moved there."""
    from gesturemap.live.compiled import _packed

    other = {"x": np.zeros(2)}  # another array of the stream's, not the block's
    items = [block.arrays[name] if name in block.arrays else other[name] for name in order]
    bufs, _, views = _packed(items)
    return bufs[0], {name: views[id(block.arrays[name])] for name in order
                     if name in block.arrays}, block.moved_to(views)


@pytest.mark.parametrize("order", [["a", "b", "c", "d"], ["a", "c", "b", "d"]],
                         ids=["in-order", "zero-size-moved"])
def test_a_block_packed_in_its_order_keeps_one_copy(order):
    block = FrozenBlock(a=(3,), b=(2, 2), c=(0,), d=(2,))
    buf, views, moved = _packed_in(order, block)
    assert moved.buffer is not None and np.shares_memory(moved.buffer, buf)
    views["a"][:] = [1, 2, 3]  # the kernel writes the packed views now
    views["b"][:] = [[4, 5], [6, 7]]
    views["d"][:] = [8, 9]
    a, b, c, d = moved.frozen()
    np.testing.assert_array_equal(a, [1, 2, 3])
    np.testing.assert_array_equal(b, [[4, 5], [6, 7]])
    np.testing.assert_array_equal(d, [8, 9])
    assert c.size == 0 and not a.flags.writeable
    assert all(moved.arrays[name] is views[name] for name in order)
    # moved again (the compiled path rebuilt on a moved stream): still there
    again = moved.moved_to({})
    np.testing.assert_array_equal(again.frozen()[0], [1, 2, 3])


@pytest.mark.parametrize("order", [["b", "a", "d"], ["a", "x", "b", "d"]],
                         ids=["swapped", "another-array-between"])
def test_a_block_packed_apart_copies_each_array(order):
    block = FrozenBlock(a=(3,), b=(2, 2), d=(2,))
    buf, views, moved = _packed_in(order, block)
    assert moved.buffer is None
    views["a"][:] = [1, 2, 3]
    views["b"][:] = [[4, 5], [6, 7]]
    views["d"][:] = [8, 9]
    a, b, d = moved.frozen()
    np.testing.assert_array_equal(a, [1, 2, 3])
    np.testing.assert_array_equal(b, [[4, 5], [6, 7]])
    np.testing.assert_array_equal(d, [8, 9])
    assert not any(x.flags.writeable for x in (a, b, d))
    views["a"][:] = 0
    np.testing.assert_array_equal(a, [1, 2, 3])
    again = moved.moved_to({})
    np.testing.assert_array_equal(again.frozen()[2], [8, 9])


@pytest.mark.parametrize("kind", ["hhmm", "gmm"])
def test_a_stream_packed_as_the_compiled_path_packs_it(kind):
    """The compiled frame path packs a lean stream's kernel arguments in their order
    (``compiled_wire._packed``): the HHMM's Result arrays then still lie one after another
    (one copy a frame), the GMM's do not (its ``beta`` lies between them: one copy an
    array); either way a Result reads what the kernel writes there."""
    from gesturemap.live.compiled import _packed, _rebind

    x = np.random.default_rng(1).normal(size=(60, 2))
    ds = gm.Dataset()
    ds.add(x, "a")
    ds.add(x[::-1] + 2, "b")
    model = (gm.HHMM(3, deltas=False) if kind == "hhmm" else gm.GMM(1, deltas=False)).fit(ds)
    stream, plain = model.stream(), model.stream()
    _, _, views = _packed(list(stream._args._asdict().values()))
    _rebind(stream, views)
    assert (stream._block.buffer is not None) == (kind == "hhmm")
    for frame in x[:20]:
        r, q = stream.step(frame), plain.step(frame)
        np.testing.assert_array_equal(r.likelihoods, q.likelihoods)
        np.testing.assert_array_equal(r.log_likelihoods, q.log_likelihoods)
        np.testing.assert_array_equal(r.instant_likelihoods, q.instant_likelihoods)
