"""OSCSource against a hostile or careless sender, over real loopback UDP sockets.

Each test fails on the defect it is named after: a first wrong-size frame adopted as the size,
control messages whose decoding raised outside the counted path (and slept the thread), a
bad bundle counted once per element, kernel drops invisible, OSC types that lost the frame.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading

import pytest

from gesturemap.errors import GesturemapError
from gesturemap.sources import OSCSource
from gesturemap.sources.osc import BadPacket, decode_control, decode_message

from .source_helpers import wait_until
from .test_sources_osc import Sender, bundle, message


def _pad(raw: bytes) -> bytes:
    return raw + b"\0" * (4 - len(raw) % 4)


def raw_message(address: bytes, tags: bytes, payload: bytes = b"") -> bytes:
    """An OSC message from raw parts (any bytes, valid or not)."""
    return _pad(address) + _pad(b"," + tags) + payload


def test_the_size_comes_from_the_project_and_a_wrong_first_frame_is_not_adopted(queue, started):
    # `gesturemap new --inputs 6`, then one `oscsend ... /wek/inputs fff 1 2 3` at start-up
    source = started(OSCSource(queue, port=0, size=6))
    assert source.channel_names == tuple(f"in{i}" for i in range(1, 7))
    Sender(source).send(
        [message("/wek/inputs", 1.0, 2.0, 3.0)]
        + [message("/wek/inputs", *[float(i + k) for k in range(6)]) for i in range(20)]
    )
    frames = queue.drain()
    assert len(frames) == 20 and all(len(f.values) == 6 for f in frames)
    assert source.stats.bad_packets == 1 and source.stats.frames_in == 20


def test_without_a_known_size_the_first_frame_still_sets_it(queue, started):
    source = started(OSCSource(queue, port=0))
    Sender(source).send([message("/wek/inputs", 1.0, 2.0), message("/wek/inputs", 1.0, 2.0, 3.0)])
    assert source.channel_names == ("in1", "in2") and source.stats.bad_packets == 1


def test_a_size_that_contradicts_the_addresses_is_refused(queue):
    with pytest.raises(GesturemapError, match="size"):
        OSCSource(queue, {"/a": 3}, port=0, size=6)


def _hostile_control_messages() -> list[bytes]:
    prefix = b"/wekinator/control/"
    return [
        raw_message(prefix + b"startRecording\xff\xfe", b""),  # address not UTF-8
        raw_message(prefix + b"setInputNames", b"s", _pad(b"\xc3\x28abc")),  # string not UTF-8
        raw_message(prefix + b"outputs", b"s", b"abcd"),  # string not terminated
        raw_message(prefix + b"outputs", b"Xf", struct.pack(">f", 1.0)),  # unknown tag
        raw_message(prefix + b"outputs", b"b", struct.pack(">i", 1 << 30)),  # blob too long
        raw_message(prefix + b"outputs", b"c", struct.pack(">i", -5)),  # no such character
        raw_message(prefix + b"outputs", b"ff", struct.pack(">f", 1.0)),  # cut off
        # 60 KB of unknown type tags: refused at once by size, not parsed tag by tag
        raw_message(prefix + b"train", b"Z" * 60_000),
    ]


def test_hostile_control_messages_are_counted_bad_never_errors(queue, started, caplog):
    received = []
    source = started(
        OSCSource(queue, {"/wek/inputs": 2}, port=0, on_control=lambda a, v: received.append(a))
    )
    hostile = _hostile_control_messages()
    packets = []
    for i in range(300):
        packets.append(hostile[i % len(hostile)])
        if i % 10 == 0:
            packets.append(message("/wek/inputs", float(i), 1.0))
    packets.append(message("/wekinator/control/train"))
    with caplog.at_level(logging.WARNING, logger="gesturemap.sources"):
        Sender(source).send(packets)
    stats = source.stats
    assert stats.bad_packets == 300
    assert stats.errors == 0 and source.exception is None  # the thread never slept on them
    assert stats.frames_in == 30 and received == ["/wekinator/control/train"]
    # logged at a limited rate, not once per packet
    assert len(caplog.records) < 30


def test_a_failing_control_callback_is_an_error_but_the_frames_go_on(queue, started, monkeypatch):
    monkeypatch.setenv("GESTUREMAP_RAISE", "0")

    def callback(address, args):
        raise RuntimeError("the engine refused")

    source = started(OSCSource(queue, {"/a": 1}, port=0, on_control=callback))
    Sender(source).send([message("/wekinator/control/train"), message("/a", 1.0)])
    assert source.stats.errors == 1 and source.stats.frames_in == 1
    assert source.stats.bad_packets == 0
    source.exception = None  # seen; do not re-raise at teardown


def test_a_bundle_with_several_bad_elements_counts_once(queue, started):
    source = started(OSCSource(queue, {"/a": 2}, port=0))
    Sender(source).send(
        [
            bundle(message("/a", "x", 1), message("/a", 1, 2), message("/a", 1), message("/a", 3)),
            bundle(message("/a", 5, 6)),
        ]
    )
    assert [f.values.tolist() for f in queue.drain()] == [[1, 2], [5, 6]]
    assert source.stats.bad_packets == 1 and source.stats.packets_in == 2


def test_every_numeric_osc_type_and_the_empty_ones(queue, started):
    source = started(OSCSource(queue, port=0, size=9))
    payload = (
        struct.pack(">i", 7)  # i
        + struct.pack(">f", 0.5)  # f
        + struct.pack(">i", ord("A"))  # c
        + struct.pack(">I", 0xFF0000FF)  # r
        + struct.pack(">I", 0x00903C7F)  # m: port 0, note on, note 60, velocity 127
        + struct.pack(">Q", (3 << 32) + (1 << 31))  # t: 3.5 s
        + struct.pack(">d", -2.25)  # d
        + struct.pack(">q", 1 << 38)  # h
    )
    values = [7, 0.5, 65, 0xFF0000FF, 0x00903C7F, 3.5, -2.25, float(1 << 38)]
    Sender(source).send(
        [
            # N, I and the array brackets carry no bytes and give no value; T/F give 1/0
            raw_message(b"/wek/inputs", b"ifNcrI[mt]dhT", payload),
            raw_message(b"/wek/inputs", b"ifcrmtdhF", payload),
            raw_message(b"/wek/inputs", b"ifcrmtdh", payload),  # 8 values: refused
        ]
    )
    assert [f.values.tolist() for f in queue.drain()] == [values + [1], values + [0]]
    assert source.stats.bad_packets == 1


def test_decoders_in_process():
    payload = struct.pack(">i", 7) + struct.pack(">d", 1.5) + struct.pack(">Q", 1 << 31)
    assert decode_message(raw_message(b"/x", b"iN[d]TtF", payload)) == (
        b"/x",
        (7, 1.5, 1, 0.5, 0),
    )
    with pytest.raises(BadPacket, match="not numeric"):
        decode_message(raw_message(b"/x", b"s", _pad(b"hi")))
    address, args = decode_control(
        raw_message(b"/wekinator/control/outputs", b"sifNTc", _pad("é".encode())
                    + struct.pack(">i", 2) + struct.pack(">f", 0.25) + struct.pack(">i", 66))
    )
    assert (address, args) == ("/wekinator/control/outputs", ["é", 2, 0.25, None, True, "B"])
    for hostile in _hostile_control_messages():
        with pytest.raises(BadPacket):
            decode_control(hostile)


def test_kernel_drops_are_counted(queue, started):
    """While the thread is held up, the socket's buffer overflows: the datagrams the kernel
    dropped are counted, so that every datagram sent is either read or counted."""
    release = threading.Event()
    entered = threading.Event()

    def hold(address, args):
        entered.set()
        release.wait(10)

    source = started(OSCSource(queue, {"/a": 1}, port=0, on_control=hold))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target = ("127.0.0.1", source.port)
    tx.sendto(message("/wekinator/control/train"), target)
    assert entered.wait(5)
    filler = message("/a", 1.0)
    big = raw_message(b"/big", b"b", struct.pack(">i", 8000) + b"\0" * 8000)  # ignored address
    sent = 1
    for _ in range(3000):  # ~24 MB: more than any receive buffer holds
        tx.sendto(big, target)
        sent += 1
    release.set()
    tx.sendto(filler, target)  # carries the kernel's count
    sent += 1
    wait_until(lambda: source.stats.frames_in == 1, what="the last frame")
    stats = source.stats
    assert stats.kernel_drops > 0
    assert stats.packets_in + stats.kernel_drops == sent
