"""OSCSource over real loopback UDP sockets, with python-osc and liblo's oscsend as senders."""

from __future__ import annotations

import random
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import SimpleUDPClient

from gesturemap.errors import GesturemapError
from gesturemap.sources import FrameQueue, OSCSource, build_source, load_profile
from gesturemap.sources.osc import BadPacket, decode_message

from .source_helpers import accounted, require_tool, wait_until


def message(address: str, *args: object, types: str | None = None) -> bytes:
    """One OSC message; ``types`` forces the type tags (e.g. "d" for doubles)."""
    builder = OscMessageBuilder(address)
    for i, arg in enumerate(args):
        builder.add_arg(arg, types[i] if types else None)
    return builder.build().dgram


def bundle(*contents: bytes) -> bytes:
    """A bundle of already built messages or bundles."""
    builder = OscBundleBuilder(IMMEDIATELY)
    raw = builder.build().dgram  # header + time tag
    for content in contents:
        raw += struct.pack(">i", len(content)) + content
    return raw


class Sender:
    """A UDP socket that sends to a source and waits until the source has dealt with it all."""

    def __init__(self, source: OSCSource) -> None:
        self.source = source
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sent = 0

    def send(self, packets: list[bytes]) -> None:
        # In chunks, waiting for each to be read: UDP drops what the socket buffer cannot hold.
        for start in range(0, len(packets), 100):
            chunk = packets[start : start + 100]
            for packet in chunk:
                self.sock.sendto(packet, ("127.0.0.1", self.source.port))
            self.sent += len(chunk)
            wait_until(lambda: accounted(self.source) >= self.sent, what="the source to read")


def test_wekinator_defaults_accept_every_numeric_type(queue, started):
    source = started(OSCSource(queue, port=0))
    assert source.addresses == {"/wek/inputs": None} and source.port > 0
    assert OSCSource(queue).port == 6448 and source.host == "127.0.0.1"
    sender = Sender(source)
    sender.send(
        [
            message("/wek/inputs", 1, 2.5, 3.25, types="ifd"),
            message("/wek/inputs", True, False, -7),
            message("/wek/inputs", 2**36, 0.1, 1e300 / 1e290, types="hdd"),
        ]
    )
    frames = queue.drain()
    assert [f.values.tolist() for f in frames] == [
        [1.0, 2.5, 3.25],
        [1.0, 0.0, -7.0],
        [2.0**36, 0.1, 1e10],
    ]
    assert all(f.values.dtype == np.float64 and f.source == "osc" for f in frames)
    assert frames[0].t <= frames[1].t <= frames[2].t <= time.perf_counter()
    assert source.channel_names == ("in1", "in2", "in3")
    assert source.stats.snapshot()["bad_packets"] == 0


def test_python_osc_client_as_sender(queue, started):
    source = started(OSCSource(queue, port=0, name="wek"))
    client = SimpleUDPClient("127.0.0.1", source.port)
    for i in range(50):
        client.send_message("/wek/inputs", [float(i), i, True])
    wait_until(lambda: source.stats.frames_in == 50)
    frames = queue.drain()
    assert [f.values.tolist() for f in frames] == [[i, i, 1.0] for i in range(50)]
    assert {f.source for f in frames} == {"wek"}


def test_oscsend_from_liblo_as_an_independent_peer(queue, started):
    oscsend = require_tool("oscsend", "liblo-tools")
    source = started(OSCSource(queue, port=0))
    commands = [
        ["i", "1"],
        ["f", "2.5"],
        ["d", "3.25"],
        ["h", "-4"],
        ["T"],
        ["F"],
    ]
    types = "".join(c[0] for c in commands)
    values = [v for c in commands for v in c[1:]]
    subprocess.run(
        [oscsend, "localhost", str(source.port), "/wek/inputs", types, *values],
        check=True,
        timeout=10,
    )
    subprocess.run(
        [
            oscsend,
            "localhost",
            str(source.port),
            "/wek/inputs",
            "sfffff",
            "x",
            "1",
            "2",
            "3",
            "4",
            "5",
        ],
        check=True,
        timeout=10,
    )
    wait_until(lambda: accounted(source) == 2)
    assert [f.values.tolist() for f in queue.drain()] == [[1.0, 2.5, 3.25, -4.0, 1.0, 0.0]]
    assert source.stats.bad_packets == 1


def test_malformed_packets_are_counted_and_valid_frames_between_them_arrive(queue, started):
    rng = random.Random(1)
    source = started(OSCSource(queue, {"/wek/inputs": 3}, port=0))
    sender = Sender(source)
    good = message("/wek/inputs", 1.0, 2.0, 3.0)
    bad_kinds = [
        lambda: message("/wek/inputs", 1.0, "two", 3.0),  # string
        lambda: message("/wek/inputs", 1.0, b"\x00\x01", 3.0),  # blob
        lambda: message("/wek/inputs", 1.0, float("nan"), 3.0),
        lambda: message("/wek/inputs", float("inf"), 2.0, 3.0),
        lambda: message("/wek/inputs", 1.0, -2e12, 3.0, types="fdf"),
        lambda: message("/wek/inputs", 1.0, 2.0),  # wrong arity
        lambda: message("/wek/inputs", 1.0, 2.0, 3.0, 4.0),
        lambda: message("/wek/inputs"),  # no arguments
        lambda: good[: rng.randrange(1, len(good))],  # truncated
        lambda: good + b"\0\0\0\0",  # trailing bytes
        lambda: b"/wek/inputs\0,fff",  # type tags not terminated
        lambda: b"/wek/inputs\0xxxx",  # no type-tag string
        lambda: bytes([rng.choice(range(1, 35))]) + rng.randbytes(rng.randrange(0, 80)),  # noise
        lambda: b"#bundle\0" + rng.randbytes(rng.randrange(9, 12)),  # element size cut off
        lambda: bundle(message("/wek/inputs", 1.0, "x", 3.0)),  # bad message in a bundle
        lambda: message("/wek/inputs", None, 1.0, 2.0),  # nil
    ]
    packets: list[bytes] = []
    expected: list[list[float]] = []
    n_bad = 0
    for i in range(3000):
        if i % 3 == 0:
            packets.append(message("/wek/inputs", float(i), -1.5, 7))
            expected.append([float(i), -1.5, 7.0])
        else:
            packets.append(rng.choice(bad_kinds)())
            n_bad += 1
    sender.send(packets)
    assert source.running
    assert source.stats.bad_packets == n_bad
    assert source.stats.frames_in == len(expected) and source.stats.errors == 0
    assert [f.values.tolist() for f in queue.drain()] == expected


def test_bundles_are_unpacked_and_a_bad_element_spares_the_others(queue, started):
    source = started(OSCSource(queue, {"/a": 2}, port=0))
    Sender(source).send(
        [
            bundle(message("/a", 1, 2), message("/a", 3, 4)),
            bundle(bundle(message("/a", 5, 6)), message("/a", "x", 1), message("/a", 7, 8)),
            bundle(),
        ]
    )
    assert [f.values.tolist() for f in queue.drain()] == [[1, 2], [3, 4], [5, 6], [7, 8]]
    assert source.stats.bad_packets == 1


def test_frames_of_one_bundle_get_increasing_times(queue, started):
    """The frames of one bundle shared the datagram's time: a pipeline that uses time (OneEuro,
    Derivative) refused all but the first."""
    source = started(OSCSource(queue, {"/a": 2}, port=0))
    Sender(source).send([bundle(*(message("/a", i, 0.5) for i in range(8)))])
    times = np.array([f.t for f in queue.drain()])
    assert len(times) == 8 and (np.diff(times) > 0).all()


def test_nested_bundles_too_deep_are_refused(queue, started):
    source = started(OSCSource(queue, {"/a": 1}, port=0))
    deep = message("/a", 1)
    for _ in range(20):
        deep = bundle(deep)
    Sender(source).send([deep, message("/a", 2)])
    assert [f.values.tolist() for f in queue.drain()] == [[2.0]]
    assert source.stats.bad_packets == 1 and source.running


def test_merge_all_waits_for_every_address(queue, started):
    source = started(OSCSource(queue, {"/accel": 3, "/gyro": 3}, port=0, merge="all"))
    assert source.channel_names == tuple(
        [f"accel_{i}" for i in range(3)] + [f"gyro_{i}" for i in range(3)]
    )
    Sender(source).send(
        [
            message("/accel", 1, 2, 3),
            message("/accel", 10, 20, 30),  # replaces the first: only the latest counts
            message("/gyro", 4, 5, 6),  # -> frame
            message("/gyro", 40, 50, 60),
            message("/accel", 7, 8, 9),  # -> frame
            message("/gyro", 1, 2),  # wrong arity: refused, does not complete a frame
            message("/other", 1.0),  # not used: ignored
        ]
    )
    assert [f.values.tolist() for f in queue.drain()] == [
        [10, 20, 30, 4, 5, 6],
        [7, 8, 9, 40, 50, 60],
    ]
    stats = source.stats
    assert (stats.frames_in, stats.bad_packets, stats.ignored) == (2, 1, 1)


def test_merge_latest_emits_on_every_message_once_all_have_arrived(queue, started):
    source = started(
        OSCSource(
            queue, {"/accel": 3, "/gyro": 3}, port=0, merge="latest", channel_names=list("abcdef")
        )
    )
    Sender(source).send(
        [
            message("/accel", 1, 2, 3),  # gyro never seen yet: no frame
            message("/gyro", 4, 5, 6),
            message("/gyro", 40, 50, 60),
            message("/accel", 7, float("nan"), 9),  # refused: must not enter later frames
            message("/accel", 7, 8, 9),
        ]
    )
    assert [f.values.tolist() for f in queue.drain()] == [
        [1, 2, 3, 4, 5, 6],
        [1, 2, 3, 40, 50, 60],
        [7, 8, 9, 40, 50, 60],
    ]
    assert source.channel_names == tuple("abcdef") and source.stats.bad_packets == 1


def test_wildcard_addresses_match_any_device_id(queue, started):
    source = started(OSCSource(queue, {"/ZIGSIM/*/accel": 3, "/ZIGSIM/*/gyro": 3}, port=0))
    Sender(source).send(
        [
            message("/ZIGSIM/abc123/accel", 1, 2, 3),
            message("/ZIGSIM/abc123/gyro", 4, 5, 6),
            message("/ZIGSIM/abc123/quaternion", 0, 0, 0, 1),
            message("/ZIGSIM/a/b/accel", 1, 2, 3),  # * does not cross a "/"
        ]
    )
    assert [f.values.tolist() for f in queue.drain()] == [[1, 2, 3, 4, 5, 6]]
    assert source.stats.ignored == 2


def test_messages_to_no_address_it_reads_are_said_once_with_what_came(queue, started,
                                                                      caplog):
    """An Android build sends ZIG SIM's sensors as /UUID/accel, not /ZIGSIM/UUID/accel: no
    frame ever comes, and only a counter moved. Said once, naming what came and what the
    source reads; a sender that also sends other messages beside its frames is not told."""
    import logging

    from gesturemap.sources.osc import UNHEARD_SAID_AFTER

    source = started(OSCSource(queue, {"/ZIGSIM/*/accel": 3, "/ZIGSIM/*/gyro": 3}, port=0))
    with caplog.at_level(logging.WARNING, logger="gesturemap.sources"):
        Sender(source).send([message(f"/tHONK/{kind}", 1.0, 2.0, 3.0)
                             for _ in range(UNHEARD_SAID_AFTER) for kind in ("accel", "gyro")])
    said = [r.getMessage() for r in caplog.records if "none to an address" in r.getMessage()]
    assert len(said) == 1 and source.stats.frames_in == 0, said
    assert "/tHONK/accel, /tHONK/gyro" in said[0] and "/ZIGSIM/*/accel" in said[0]
    heard = started(OSCSource(FrameQueue(), {"/a": 1}, port=0))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gesturemap.sources"):
        Sender(heard).send([message("/a", 1.0)] + [message("/other", 1.0)] * UNHEARD_SAID_AFTER)
    assert heard.stats.frames_in == 1 and heard.stats.ignored == UNHEARD_SAID_AFTER
    assert not [r for r in caplog.records if "none to an address" in r.getMessage()]


def test_control_messages_go_to_the_callback(queue, started):
    received: list[tuple[str, list[object]]] = []
    source = started(
        OSCSource(queue, port=0, on_control=lambda a, args: received.append((a, args)))
    )
    Sender(source).send(
        [
            message("/wekinator/control/startRecording"),
            message("/wekinator/control/setInputNames", "x", "y"),
            message("/wekinator/control/outputs", 0.5, 1.5),
            message("/wek/inputs", 1.0),
        ]
    )
    assert received == [
        ("/wekinator/control/startRecording", []),
        ("/wekinator/control/setInputNames", ["x", "y"]),
        ("/wekinator/control/outputs", [0.5, 1.5]),
    ]
    stats = source.stats
    assert (stats.control_messages, stats.bad_packets, stats.frames_in) == (3, 0, 1)


def test_control_messages_without_a_callback_are_ignored(queue, started):
    source = started(OSCSource(queue, port=0))
    Sender(source).send([message("/wekinator/control/train")])
    assert source.stats.ignored == 1 and source.stats.bad_packets == 0


def test_a_1khz_burst_for_2s_loses_nothing(queue, started):
    source = started(OSCSource(queue, {"/wek/inputs": 4}, port=0))
    n = 2000
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send() -> None:
        start = time.perf_counter()
        for i in range(n):
            while time.perf_counter() < start + i / 1000:
                time.sleep(0.0002)
            sock.sendto(
                message("/wek/inputs", i, 0.5, -0.5, float(i) / 7), ("127.0.0.1", source.port)
            )

    sender = threading.Thread(target=send)
    sender.start()
    sender.join()
    wait_until(lambda: source.stats.frames_in == n, what=f"{n} frames")
    frames = queue.drain()
    assert [int(f.values[0]) for f in frames] == list(range(n))
    assert frames[-1].values[3] == pytest.approx((n - 1) / 7, rel=1e-6)
    assert source.stats.bad_packets == 0 and queue.dropped == 0
    assert 800 < source.stats.rate_hz < 1200


def test_a_full_queue_counts_dropped_frames(started):
    queue = FrameQueue(maxlen=10)
    source = started(OSCSource(queue, port=0))
    Sender(source).send([message("/wek/inputs", float(i)) for i in range(25)])
    assert source.stats.dropped_frames == 15 == queue.dropped
    assert [f.values[0] for f in queue.drain()] == list(range(15, 25))


def test_a_busy_port_fails_at_start_with_a_clear_error(queue, started):
    first = started(OSCSource(queue, port=0))
    second = OSCSource(queue, port=first.port)
    with pytest.raises(GesturemapError, match="cannot listen.*another port"):
        second.start()
    assert not second.running


def test_start_and_stop_are_idempotent(queue):
    source = OSCSource(queue, port=0)
    assert source.start() is source.start()
    assert source.running and source.stats.connected
    source.stop()
    source.stop()
    assert not source.running and not source.stats.connected
    with OSCSource(queue, port=0) as again:
        assert again.running
    assert not again.running


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_stop_wakes_the_blocked_read_at_once(queue, host):
    """The socket blocks on its read (one system call per datagram, no poll before it):
    stop() wakes it, the thread ends within a fraction of a second, and a datagram sent just
    before the stop is still a frame."""
    source = OSCSource(queue, host=host, port=0).start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        tx.sendto(message("/wek/inputs", 1.0, 2.0), ("127.0.0.1", source.port))
        wait_until(lambda: source.stats.frames_in == 1)
    time.sleep(0.3)  # the thread is asleep in its read
    thread = source._thread
    t0 = time.monotonic()
    source.stop()
    assert time.monotonic() - t0 < 0.5
    assert not thread.is_alive()
    assert source.stats.bad_packets == 0 and source.stats.errors == 0
    assert queue.get(0).values.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("addresses", "match"),
    [
        ({}, "addresses: got {}; expected at least one address"),
        ({"wek/inputs": 3}, "starting with '/'"),
        ({"/a": None, "/b": 2}, r"addresses\['/a'\]: got None.*With several addresses"),
        ({"/a": 0}, r"addresses\['/a'\]: got 0; expected an integer >= 1 and <= 4096"),
        ({"/a": True}, r"addresses\['/a'\]: got True"),
        ({"/wekinator/control/x": 1}, "reserved for Wekinator control"),
    ],
)
def test_bad_address_tables_are_refused(queue, addresses, match):
    with pytest.raises(GesturemapError, match=match):
        OSCSource(queue, addresses)


def test_bad_settings_are_refused(queue):
    with pytest.raises(GesturemapError, match="merge"):
        OSCSource(queue, {"/a": 1}, merge="first")
    with pytest.raises(GesturemapError, match="channel_names: got 1 names; expected 3"):
        OSCSource(queue, {"/a": 3}, channel_names=["x"])
    with pytest.raises(GesturemapError, match="port: got 70000"):
        OSCSource(queue, port=70000)


def test_decoder_agrees_with_python_osc_on_numeric_messages():
    rng = random.Random(2)
    for _ in range(500):
        types = "".join(rng.choice("ifdhTF") for _ in range(rng.randrange(0, 9)))
        args: list[object] = []
        for t in types:
            args.append(
                {
                    "i": lambda: rng.randrange(-(2**31), 2**31),
                    "h": lambda: rng.randrange(-(2**63), 2**63),
                    "f": lambda: float(np.float32(rng.uniform(-1e6, 1e6))),
                    "d": lambda: rng.uniform(-1e300, 1e300),
                    "T": lambda: True,
                    "F": lambda: False,
                }[t]()
            )
        raw = message("/x/y" * rng.randrange(1, 4), *args, types=types)
        address, decoded = decode_message(raw)
        assert address == b"/x/y" * (len(address) // 4)
        assert list(decoded) == args
    with pytest.raises(BadPacket):
        decode_message(b"")


def test_the_frames_of_a_bundle_are_spread_since_the_datagram_before(queue, started):
    """A sender that bundles 8 sensor frames sampled them since its last datagram: their times
    step evenly over that span, the last at the bundle's receipt, not a microsecond apart (a
    Derivative of frames 1 µs apart is a spike of a million times the signal)."""
    source = started(OSCSource(queue, {"/a": 2}, port=0))
    sender = Sender(source)
    sender.send([message("/a", 0, 0.5)])
    time.sleep(0.08)
    sender.send([bundle(*(message("/a", i, 0.5) for i in range(1, 9)))])
    times = np.array([f.t for f in queue.drain()])
    assert len(times) == 9
    steps = np.diff(times)
    assert (steps > 0).all()
    assert steps.min() > 0.5 * steps.max()  # even steps ...
    assert steps.min() > 0.005  # ... of about 80 ms / 8, not microseconds


SENSOR_DATA = Path(__file__).parent.parent / "data" / "sensors"


def test_zig_sim_bundles_make_one_frame_each_with_their_own_values(queue, started):
    """ZIG SIM sends one bundle per update (device info, time stamp, then each sensor): the
    zigsim profile makes one frame of each, at the app's rate, the accelerometer and the
    gyroscope of the same bundle side by side (before, a frame per message: twice the rate,
    every other one with the last bundle's gyroscope)."""
    datagrams = [bytes.fromhex(line) for line in
                 (SENSOR_DATA / "zigsim-ios-bundles.hex").read_text().split()]
    source = started(build_source(load_profile("zigsim"), queue, port=0))
    Sender(source).send(datagrams)
    sent = []
    for datagram in datagrams:
        parts = {m.address.rsplit("/", 1)[1]: m.params for m in OscBundle(datagram)}
        sent.append([*parts["accel"], *parts["gyro"]])
    frames = [f.values.tolist() for f in queue.drain()]
    assert np.allclose(frames, sent, atol=1e-6) and len(frames) == len(datagrams) == 20
    assert source.channel_names[:4] == ("acc_x", "acc_y", "acc_z", "gyro_x")
    assert source.stats.bad_packets == 0 and source.stats.ignored == 40  # info and time


def test_zig_sim_on_android_without_the_prefix_is_read_by_the_same_profile(queue, started):
    """ZIG SIM on Android (and its documentation's examples) address /<uuid>/accel, without
    iOS's /ZIGSIM, in doubles: the zigsim profile reads both ({a,b}: either)."""
    source = started(build_source(load_profile("zigsim"), queue, port=0))
    sent = [[0.1 * k, -0.2, 0.98, 0.01 * k, 0.02, -0.03] for k in range(10)]
    Sender(source).send([bundle(message("/tHONK/deviceinfo", "Pixel 8", "tHONK", "android",
                                        "14", 1080, 2400),
                                message("/tHONK/accel", *v[:3], types="ddd"),
                                message("/tHONK/gyro", *v[3:], types="ddd")) for v in sent])
    # (the Sender counts datagrams, the source messages: wait for the frames themselves)
    wait_until(lambda: source.stats.frames_in == 10, what="10 frames")
    assert np.allclose([f.values.tolist() for f in queue.drain()], sent)
    # and iOS's form on the same source
    Sender(source).send([bundle(message("/ZIGSIM/tHONK/accel", 1.0, 2.0, 3.0),
                                message("/ZIGSIM/tHONK/gyro", 4.0, 5.0, 6.0))])
    wait_until(lambda: source.stats.frames_in == 11, what="the 11th frame")
    assert [f.values.tolist() for f in queue.drain()] == [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]
    assert source.stats.bad_packets == 0


@pytest.mark.parametrize("address", ["/{a,b/accel", "/a}/accel", "/{a,{b,c}}/accel"])
def test_braces_that_do_not_pair_are_refused(queue, address):
    with pytest.raises(GesturemapError, match="braces in pairs"):
        OSCSource(queue, {address: 3}, port=0)


def test_merge_latest_makes_a_frame_per_update_of_a_bundle_that_holds_several(queue, started):
    """A sender may bundle several updates: an address that comes again in the bundle starts
    the next frame; a control message keeps its place between them."""
    controls: list[tuple[str, int]] = []  # each with the number of frames queued before it
    source = started(OSCSource(queue, {"/accel": 1, "/gyro": 1}, port=0, merge="latest",
                               on_control=lambda address, args: controls.append(
                                   (address, len(queue)))))
    Sender(source).send([bundle(message("/accel", 1.0), message("/gyro", 2.0),
                                message("/accel", 3.0), message("/gyro", 4.0),
                                message("/wekinator/control/stopRecording"),
                                message("/accel", 5.0))])
    assert [f.values.tolist() for f in queue.drain()] == [[1, 2], [3, 4], [5, 4]]
    assert controls == [("/wekinator/control/stopRecording", 2)]
