"""A serial path that is no serial port (/dev/null, a regular file, a folder): said once, in
words that say what to check, while the source keeps trying quietly and the engine plays on
with its other inputs; a pseudo-terminal, a real port, is read as before."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from gesturemap.sources import SerialSource
from gesturemap.sources import serial as serial_module

from ..stage_helpers import (
    float_msg,
    free_port,
    osc_labels,
    osc_receiver,
    rest_of,
    stop_run,
    two_level_project,
)
from .source_helpers import wait_until

NOT_A_PORT = "is not a serial port"
REPO_DIR = Path(__file__).resolve().parents[2]


def _counting_opens(monkeypatch) -> list[int]:  # noqa: ANN001
    """Count the source's attempts to open its port (the real pyserial opens them)."""
    opens = [0]
    real = serial.Serial

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        opens[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(serial_module.serial, "Serial", counted)
    return opens


@pytest.mark.parametrize("kind", ["/dev/null", "regular file", "folder"])
def test_a_path_that_is_no_serial_port_is_said_once_and_tried_again_quietly(
        kind, queue, started, caplog, tmp_path, monkeypatch):
    """Before: "cannot open /dev/null (Could not configure port: (25, 'Inappropriate ioctl
    for device')); trying again", then again every minute, for ever."""
    path = {"/dev/null": os.devnull, "regular file": str(tmp_path / "ttyACM0"),
            "folder": str(tmp_path)}[kind]
    if kind == "regular file":
        (tmp_path / "ttyACM0").write_text("0.1,0.2\n")
    what = {"/dev/null": "a device that is not a terminal", "regular file": "a regular file",
            "folder": "a folder"}[kind]
    opens = _counting_opens(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="gesturemap"):
        source = started(SerialSource(queue, path, channel_names=["a", "b"],
                                      reopen_backoff_s=(0.01, 0.02)))
        wait_until(lambda: opens[0] >= 20, timeout=30, what="20 attempts to open it")
    said = [r.getMessage() for r in caplog.records if r.name.startswith("gesturemap")]
    assert len(said) == 1, said
    assert f"{path} {NOT_A_PORT} (it is {what})" in said[0]
    assert "gesturemap devices" in said[0] and "/dev/ttyACM0" in said[0]
    assert source.running and not source.stats.connected and source.stats.errors == 0


def test_a_pseudo_terminal_is_a_port_and_a_missing_path_a_device_away(pty_pair, tmp_path):
    from gesturemap.sources.serial import not_a_serial_port

    master, device = pty_pair
    assert not_a_serial_port(device) is None
    assert not_a_serial_port(str(tmp_path / "ttyUSB9")) is None  # not plugged in yet
    assert not_a_serial_port(os.devnull) == "it is a device that is not a terminal"


def test_a_pseudo_terminal_is_read_with_nothing_said(queue, pty_pair, started, caplog):
    master, device = pty_pair
    with caplog.at_level(logging.WARNING, logger="gesturemap"):
        source = started(SerialSource(queue, device, channel_names=["a", "b"]))
        wait_until(lambda: source.stats.connected, what="the port to open")
        os.write(master, b"1,2\n3,4\n")
        wait_until(lambda: source.stats.frames_in == 2, what="two frames")
    assert [f.values.tolist() for f in queue.drain()] == [[1, 2], [3, 4]]
    assert not [r for r in caplog.records if NOT_A_PORT in r.getMessage()]


def _two_value_profile(folder) -> str:  # noqa: ANN001
    """A text serial profile of the project's two inputs (a board sending 'x,y' lines): a
    profile of another width than the project's is refused before the run starts."""
    profile = json.loads((REPO_DIR / "sensors" / "arduino-imu-text.json").read_text())
    profile.update(name="two-values", channels=[{"name": "x"}, {"name": "y"}])
    profile["serial"].pop("leading", None)
    profile["serial"].pop("timestamp_unit", None)
    path = folder / "two-values.json"
    path.write_text(json.dumps(profile))
    return str(path)


def _run_beside_osc(folder, device, prefix=()) -> tuple[list[str], str]:  # noqa: ANN001
    """`gesturemap run FOLDER --serial DEVICE` (after the command ``prefix``) with the
    Wekinator OSC port beside it, driven for some 4 s (the serial source tries its path again
    several times meanwhile) and until it answers: the labels it sent back and its stderr."""
    port, rx = free_port(), osc_receiver()
    run = subprocess.Popen(
        [*prefix, sys.executable, "-m", "gesturemap.cli", "run", str(folder), "--no-audio",
         "--serial", str(device), "--profile", _two_value_profile(folder),
         "--osc-in", f"127.0.0.1:{port}",
         "--osc-out", f"127.0.0.1:{rx.getsockname()[1]}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    labels: list[str] = []
    try:
        line = run.stdout.readline()
        assert "listening" in line, line + rest_of(run)[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            start = time.monotonic()
            while time.monotonic() - start < 4.0 or not labels:
                assert time.monotonic() - start < 60, "no reply to the OSC input"
                tx.sendto(float_msg("/wek/inputs", 0.9, 0.9), ("127.0.0.1", port))
                labels += osc_labels(rx, 1, timeout=0.2)
    finally:
        _, err = stop_run(run)
        rx.close()
    assert run.returncode == 0, err
    return labels, err


@pytest.mark.slow
def test_gesturemap_run_with_a_serial_path_that_is_no_port_plays_on_its_osc_input(tmp_path):
    """`gesturemap run --serial FILE`: said once on stderr, and the Wekinator OSC port beside
    it still drives the model (its replies come back) for as long as the run lasts."""
    (tmp_path / "notaport").write_text("")
    labels, err = _run_beside_osc(two_level_project(tmp_path / "p"), tmp_path / "notaport")
    assert "high" in labels
    said = [ln for ln in err.splitlines() if NOT_A_PORT in ln]
    assert len(said) == 1 and f"{tmp_path / 'notaport'} {NOT_A_PORT} (it is a regular file)" \
        in said[0], err


NO_PERMISSION = "is there, but this user may not open it"


@contextlib.contextmanager
def _unreadable_port() -> Iterator[str]:
    """A real serial port (a pseudo-terminal) that no one but root may open: mode 000."""
    master, slave = os.openpty()
    try:
        path = os.ttyname(slave)
        os.chmod(path, 0)
        yield path
    finally:
        os.close(master)
        os.close(slave)


def _without_root_powers() -> list[str]:
    """A command prefix that runs a child under file permissions as a user is: root opens
    any file whatever its mode, unless it lets go of these two capabilities (util-linux's
    setpriv; the child is still root, so it can read this Python and this project)."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


@pytest.mark.slow
def test_gesturemap_run_says_once_how_to_be_allowed_a_port_it_may_not_open(tmp_path):
    """A port this user may not open (not in the dialout group) was said as "cannot open
    /dev/ttyACM0 ([Errno 13] could not open port ...: Permission denied ...); trying again
    every 2 s at most (1 tries)", which does not say what to do. Now: once, that the port is
    there but this user may not open it, how to join the dialout group, and that the run
    plays on from its other inputs (the Wekinator OSC port answers meanwhile)."""
    with _unreadable_port() as device:
        labels, err = _run_beside_osc(two_level_project(tmp_path / "p"), device,
                                      _without_root_powers())
    assert "high" in labels
    said = [ln for ln in err.splitlines() if device in ln]
    assert len(said) == 1, err
    assert f"{device} {NO_PERMISSION}" in said[0]
    assert "sudo usermod -aG dialout $USER" in said[0] and "log out and in" in said[0]
    assert "the other inputs (the OSC port) still play" in said[0]
