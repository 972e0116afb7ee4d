"""The one wire format (trainer worker, window <-> engine): round trips, never pickles."""

import numpy as np
import pytest

from gesturemap.live.codec import decode, encode


def test_wire_format_round_trip_and_refuses_objects():
    msg = {"a": [1, 2.5, None, "x", True], "arr": np.arange(6.0).reshape(2, 3),
           "nested": {"i": np.int32(7), "b": np.array([True, False]),
                      "u": np.arange(3, dtype=np.uint8)}, "nan": float("nan"),
           "text": np.array(["circle", "sq"]), "empty": np.zeros((0, 4), np.float32)}
    back = decode(encode(msg))
    np.testing.assert_array_equal(back["arr"], msg["arr"])
    assert back["arr"].dtype == np.float64 and back["arr"].shape == (2, 3)
    assert not back["arr"].flags.writeable
    assert back["nested"]["i"] == 7 and back["nested"]["b"].dtype == bool
    np.testing.assert_array_equal(back["nested"]["u"], [0, 1, 2])
    assert back["a"] == [1, 2.5, None, "x", True] and np.isnan(back["nan"])
    assert list(back["text"]) == ["circle", "sq"]
    assert back["empty"].shape == (0, 4) and back["empty"].dtype == np.float32
    with pytest.raises(TypeError):
        encode({"o": np.array([object()])})


@pytest.mark.parametrize("data", [
    b"\x80\x04pickle", b"", b"J", b"J\x05\x00\x00\x00\x00\x00\x00\x00{\"a\"",
])
def test_wire_refuses_what_is_not_a_message(data):
    with pytest.raises(ValueError):
        decode(data)


def test_wire_refuses_truncated_buffers_and_object_dtypes():
    data = encode({"x": np.arange(100.0)})
    with pytest.raises(ValueError):
        decode(data[:-8])
    forged = data.replace(b'"dtype":"<f8"', b'"dtype":"|O8"')
    assert forged != data
    with pytest.raises(ValueError):
        decode(forged)
