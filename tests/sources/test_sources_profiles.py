"""Sensor profiles: every shipped one loads and builds its source; bad files say what is wrong."""

from __future__ import annotations

import copy
import json
import socket
from pathlib import Path

import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

from gesturemap.errors import FormatError, GesturemapError
from gesturemap.sources import (
    FrameQueue,
    OSCSource,
    SerialSource,
    build_source,
    list_profiles,
    load_profile,
)
from gesturemap.sources.profiles import profile_from_dict
from gesturemap.utils.storage import sensors_dir

from .source_helpers import wait_until

SHIPPED = list_profiles()


def test_the_shipped_profiles_cover_the_devices_people_use():
    assert {
        "wekinator",
        "touchosc-accelerometer",
        "gyrosc",
        "zigsim",
        "ngimu",
        "riot",
        "faceosc",
        "arduino-imu-text",
        "arduino-imu-binary",
        "mouse",
    } <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_profile_loads_and_builds(name, tmp_path):
    profile = load_profile(name)
    assert profile.name == name and profile.path == sensors_dir() / f"{name}.json"
    assert len(profile.units) == len(profile.channels)
    assert profile.description and profile.format_source and profile.rate_hz > 0
    queue = FrameQueue()
    if profile.transport == "osc":
        source = build_source(profile, queue, port=0)
        assert isinstance(source, OSCSource) and source.channel_names == profile.channels
        assert profile.osc is not None and 0 < profile.osc.port < 65536
        source.start()
        source.stop()
    elif profile.transport == "serial":
        source = build_source(profile, queue, device=str(tmp_path / "tty"))
        assert isinstance(source, SerialSource) and source.channel_names == profile.channels
        with pytest.raises(GesturemapError, match="give its path"):
            build_source(profile, queue)
    else:
        assert profile.transport == "mouse" and not profile.needs_source
        assert profile.channels == ("x", "y", "vx", "vy")
        with pytest.raises(GesturemapError, match="fed by the window"):
            build_source(profile, queue)


def test_the_readme_describes_every_shipped_profile():
    readme = (sensors_dir() / "README.md").read_text()
    for name in SHIPPED:
        assert f"`{name}`" in readme, f"sensors/README.md does not mention {name}"


def send(port: int, address: str, *args: float) -> None:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(builder.build().dgram, ("127.0.0.1", port))


def test_riot_profile_reads_the_firmwares_raw_message():
    """R-IoT's /0/raw: 22 floats in the firmware's order, sent over real loopback UDP."""
    import socket

    from pythonosc.osc_message_builder import OscMessageBuilder

    profile = load_profile("riot")
    assert profile.osc is not None and profile.osc.port == 8888 and profile.rate_hz == 200
    assert profile.channels[:3] == ("acc_x", "acc_y", "acc_z") and len(profile.channels) == 22
    assert profile.channels[-4:] == ("yaw", "pitch", "roll", "heading")
    queue = FrameQueue()
    source = build_source(profile, queue, port=0).start()
    try:
        b = OscMessageBuilder("/0/raw")
        for i in range(22):
            b.add_arg(float(i) / 8, "f")
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tx.sendto(b.build().dgram, ("127.0.0.1", source.port))
        tx.close()
        wait_until(lambda: source.stats.frames_in == 1, what="the R-IoT frame")
    finally:
        source.stop()
    frame = queue.get(timeout=1)
    assert frame.values.tolist() == [i / 8 for i in range(22)]


def test_faceosc_profile_merges_its_messages_into_one_frame_in_channel_order():
    queue = FrameQueue()
    source = build_source(load_profile("faceosc"), queue, port=0).start()
    try:
        send(source.port, "/found", 1)
        messages = [
            ("/pose/scale", 4.0),
            ("/pose/position", 320.0, 240.0),
            ("/pose/orientation", 0.1, 0.2, 0.3),
            ("/gesture/mouth/width", 14.0),
            ("/gesture/mouth/height", 2.0),
            ("/gesture/eyebrow/left", 7.0),
            ("/gesture/eyebrow/right", 7.5),
            ("/gesture/eye/left", 2.5),
            ("/gesture/eye/right", 2.6),
            ("/gesture/jaw", 20.0),
            ("/gesture/nostrils", 5.0),
        ]
        for address, *args in messages:
            send(source.port, address, *args)
        frame = queue.get(timeout=5)
        assert frame is not None and frame.source == "faceosc"
        expected = [v for _, *args in messages for v in args]
        assert frame.values.tolist() == pytest.approx(expected)
        wait_until(lambda: source.stats.ignored == 1, what="/found to be ignored")
    finally:
        source.stop()


# -- bad profiles ------------------------------------------------------------------------------


def valid() -> dict:
    return json.loads((sensors_dir() / "gyrosc.json").read_text())


def serial_profile() -> dict:
    return json.loads((sensors_dir() / "arduino-imu-text.json").read_text())


def without(key: str):
    def change(doc: dict) -> None:
        del doc[key]

    return change


@pytest.mark.parametrize(
    ("base", "change", "match"),
    [
        (
            valid,
            lambda d: d.update(transport="bluetooth"),
            r"transport: got 'bluetooth'; expected one of 'osc', 'serial', 'mouse'",
        ),
        (valid, without("channels"), "channels is missing"),
        (valid, without("format_source"), "format_source is missing"),
        (valid, lambda d: d["osc"].pop("addresses"), "osc.addresses is missing"),
        (valid, lambda d: d.update(chanels=[]), "Did you mean 'channels'"),
        (
            valid,
            lambda d: d["channels"][4].update(name="pitch"),
            r"channels\[4\].name: got 'pitch'.*unique",
        ),
        (
            valid,
            lambda d: d["osc"]["addresses"][1].update(arity=4),
            r"10 values in all.*expected 9",
        ),
        (valid, lambda d: d["channels"].pop(), r"9 values in all.*expected 8"),
        (
            valid,
            lambda d: d["osc"]["addresses"][0].update(arity=None),
            r"osc.addresses\['/gyrosc/gyro'\]: got None.*With several addresses",
        ),
        (valid, lambda d: d["osc"]["addresses"][0].update(address="gyro"), "starting with '/'"),
        (valid, lambda d: d["osc"]["addresses"][1].update(address="/gyrosc/gyro"), "listed once"),
        (
            valid,
            lambda d: d["osc"].update(port=70000),
            r"osc.port: got 70000; expected an integer >= 1 and <= 65535",
        ),
        (valid, lambda d: d["osc"].update(merge="first"), "osc.merge"),
        (valid, lambda d: d.update(rate_hz=0), "rate_hz"),
        (valid, lambda d: d.update(rate_hz="fast"), "rate_hz"),
        (valid, lambda d: d.update(name=""), "name"),
        (valid, lambda d: d.update(serial={}), "no 'serial' section"),
        (valid, lambda d: d.pop("osc"), "osc is missing"),
        (valid, lambda d: d.update(channels={"x": "g"}), "channels: got"),
        (serial_profile, lambda d: d["serial"].update(framing="slip"), "serial.framing"),
        (serial_profile, lambda d: d["serial"].update(baud=-1), "serial.baud"),
        (
            serial_profile,
            lambda d: d["serial"].update(framing="binary"),
            "neither with binary framing",
        ),
        (serial_profile, lambda d: d["serial"].update(label="IMU"), "serial.label"),
        (serial_profile, lambda d: d.update(channels=[]), "at least one channel"),
    ],
)
def test_bad_profiles_name_the_field_at_fault(base, change, match):
    doc = copy.deepcopy(base())
    change(doc)
    with pytest.raises(FormatError, match=match):
        profile_from_dict(doc)


def write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def test_bad_files_are_refused_with_their_path(tmp_path):
    with pytest.raises(FormatError, match="does not exist"):
        load_profile(tmp_path / "none.json")
    with pytest.raises(FormatError, match="invalid JSON"):
        load_profile(write(tmp_path / "broken.json", '{"name": '))
    with pytest.raises(FormatError, match="not a gesturemap.sensor file"):
        load_profile(write(tmp_path / "other.json", {"format": "gesturemap.project", "version": 1}))
    newer = {**valid(), "version": 99}
    with pytest.raises(FormatError, match="newer gesturemap"):
        load_profile(write(tmp_path / "newer.json", newer))
    wrong = {**valid(), "transport": "midi"}
    with pytest.raises(FormatError, match=str(tmp_path / "wrong.json")):
        load_profile(write(tmp_path / "wrong.json", wrong))


def test_unknown_names_suggest_the_closest(tmp_path):
    with pytest.raises(FormatError, match="Did you mean 'wekinator'"):
        load_profile("wekinatr")


def test_a_profile_of_ones_own_loads_by_path_and_lists_by_folder(tmp_path):
    doc = valid()
    doc["name"] = "my-phone"
    write(tmp_path / "my-phone.json", doc)
    write(tmp_path / "notes.txt", "not a profile")
    assert list_profiles(tmp_path) == ["my-phone"]
    profile = load_profile(tmp_path / "my-phone.json")
    assert profile.name == "my-phone" and profile.channels[:3] == ("pitch", "roll", "yaw")
    assert profile.units[3:6] == ("g", "g", "g")
