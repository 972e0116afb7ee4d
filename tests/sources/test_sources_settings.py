"""Stage mode's choice of sensor: the project's saved one, command-line options over it, and
an error (never silence) for an option that would be ignored."""

from __future__ import annotations

import pytest

from gesturemap.errors import GesturemapError
from gesturemap.sources import FrameQueue, OSCSource, SerialSource
from gesturemap.sources.settings import WEKINATOR_OSC_IN, build_sensor_source, stage_sensor

PHONE = {"transport": "osc", "profile": "touchosc-accelerometer", "rate_hz": 50}
ARDUINO = {
    "transport": "serial",
    "profile": "arduino-imu-binary",
    "device": "/dev/ttyACM0",
    "framing": "binary",
}


def test_the_projects_osc_sensor_is_opened_as_saved():
    chosen = stage_sensor(PHONE)
    assert chosen.settings == PHONE and chosen.osc_in is None  # its port takes control messages
    src = build_sensor_source(chosen.settings, FrameQueue(8))
    assert isinstance(src, OSCSource) and src._requested_port == 8000
    assert "/accxyz" in chosen.describe()


def test_osc_in_moves_the_sensor_keeps_its_addresses():
    chosen = stage_sensor(PHONE, osc_in=("0.0.0.0", 9000))
    assert chosen.settings == {**PHONE, "host": "0.0.0.0", "port": 9000}
    # typed on the command line: the network is the person's choice
    src = build_sensor_source(chosen.settings, FrameQueue(8), allow_network=True)
    assert src.host == "0.0.0.0" and src._requested_port == 9000
    # the same settings read from a project file alone stay on loopback
    assert build_sensor_source(chosen.settings, FrameQueue(8)).host == "127.0.0.1"
    assert "/accxyz" in chosen.describe()


def test_mouse_or_no_sensor_falls_back_to_wekinator():
    for sensor in (None, {"transport": "mouse", "profile": "mouse"}):
        chosen = stage_sensor(sensor)
        assert chosen.settings is None and chosen.osc_in == WEKINATOR_OSC_IN
        assert stage_sensor(sensor, osc_in=("127.0.0.1", 7000)).osc_in == ("127.0.0.1", 7000)


def test_serial_from_the_project_and_over_it():
    chosen = stage_sensor(ARDUINO)
    assert chosen.settings == ARDUINO and chosen.osc_in == WEKINATOR_OSC_IN
    src = build_sensor_source(chosen.settings, FrameQueue(8))
    assert isinstance(src, SerialSource)
    other = stage_sensor(ARDUINO, serial="/dev/ttyUSB1")  # another device, same line format
    assert other.settings == {
        "transport": "serial",
        "device": "/dev/ttyUSB1",
        "profile": "arduino-imu-binary",
        "framing": "binary",
    }
    text = stage_sensor(ARDUINO, serial="/dev/ttyUSB1", profile="arduino-imu-text")
    assert text.settings == {
        "transport": "serial",
        "device": "/dev/ttyUSB1",
        "profile": "arduino-imu-text",
    }
    # --serial on an OSC project replaces the sensor; Wekinator's control port stays
    swapped = stage_sensor(PHONE, serial="/dev/ttyUSB1")
    assert swapped.settings["transport"] == "serial" and swapped.osc_in == WEKINATOR_OSC_IN


def test_profile_alone_replaces_the_projects():
    chosen = stage_sensor(PHONE, profile="zigsim")
    assert chosen.settings == {"transport": "osc", "profile": "zigsim"}
    with pytest.raises(GesturemapError, match="--serial /dev/"):  # serial: a device is needed
        stage_sensor(PHONE, profile="arduino-imu-text")
    chosen = stage_sensor(ARDUINO, profile="arduino-imu-text")  # the project's device stays
    assert chosen.settings == {
        "transport": "serial",
        "profile": "arduino-imu-text",
        "device": "/dev/ttyACM0",
    }


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"profile": "mouse"}, "needs the window"),
        ({"profile": "nosuch"}, "no such profile"),
        ({"serial": "/dev/x", "profile": "zigsim"}, "serial profile"),
        ({"serial": "/dev/x", "midi_in": "nano"}, "one sensor at a time"),
        ({"midi_in": "nano", "profile": "zigsim"}, "Leave --profile out"),
        ({"lsl_in": "eeg", "profile": "zigsim"}, "Leave --profile out"),
    ],
)
def test_options_that_would_be_ignored_or_clash_are_errors(kwargs, words):
    with pytest.raises(GesturemapError, match=words):
        stage_sensor(PHONE, **kwargs)


def test_a_serial_project_without_device_says_what_to_give():
    with pytest.raises(GesturemapError, match="--serial"):
        stage_sensor({"transport": "serial", "profile": "arduino-imu-text"})


def test_a_profile_file_of_the_users_is_kept_by_its_path(tmp_path):
    """``--profile ./my-imu.json`` (sensors/README.md: copy a profile, edit it, load it by its
    path): the sensor keeps the file's path, and the source is built from that file (before,
    its name alone was looked for among the shipped profiles: "no such profile")."""
    import json
    from pathlib import Path

    shipped = json.loads((Path(__file__).parents[2] / "sensors" / "arduino-imu-text.json")
                         .read_text())
    mine = tmp_path / "my-imu.json"
    mine.write_text(json.dumps({**shipped, "name": "my-imu"}))
    chosen = stage_sensor(ARDUINO, serial="/dev/ttyUSB1", profile=str(mine))
    assert chosen.settings["profile"] == str(mine.resolve())
    src = build_sensor_source(chosen.settings, FrameQueue(8))
    assert isinstance(src, SerialSource) and src.name == "my-imu"
    alone = stage_sensor(ARDUINO, profile=str(mine))
    assert alone.settings["profile"] == str(mine.resolve())
    assert isinstance(build_sensor_source(alone.settings, FrameQueue(8)), SerialSource)


@pytest.mark.parametrize("settings", [
    {"transport": "osc", "profile": "zigsim"},  # its addresses send 6 values a frame
    {"transport": "serial", "profile": "arduino-imu-text", "device": "/dev/ttyACM0"},
])
def test_a_profile_of_another_width_than_the_project_is_refused_before_it_opens(settings):
    """Its every frame would be dropped and the performer would hear nothing: said at once,
    with both widths (an LSL stream of another width is refused as it opens, likewise)."""
    with pytest.raises(GesturemapError, match=r"sends frames of 6 values .*takes 2 inputs"):
        build_sensor_source(settings, FrameQueue(8), input_dim=2)
    assert build_sensor_source(settings, FrameQueue(8), input_dim=6) is not None
    assert build_sensor_source(settings, FrameQueue(8)) is not None  # a new project learns it


def test_a_midi_input_of_another_width_than_the_project_is_refused_before_it_opens():
    """Its controls are its frame's values (11 by default): a 2-input project run with
    --midi-in dropped every frame, saying so only in the log."""
    settings = {"transport": "midi", "port": "nanoKONTROL", "controls": "cc1,cc2,cc3"}
    with pytest.raises(GesturemapError, match=r"MIDI input 'nanoKONTROL' sends frames of 3 "
                       r"values \(cc1, cc2, cc3\).*takes 2 inputs: give --midi-controls"):
        build_sensor_source(settings, FrameQueue(8), input_dim=2)
    assert build_sensor_source(settings, FrameQueue(8), input_dim=3) is not None
    with pytest.raises(GesturemapError, match="sends frames of 11 values"):  # the default
        build_sensor_source({"transport": "midi", "port": "x"}, FrameQueue(8), input_dim=2)
