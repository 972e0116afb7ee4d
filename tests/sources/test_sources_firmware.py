"""The example Arduino sketch, compiled for the host against a stand-in for the Arduino core.

What this checks: the sketch's text lines and binary frames (layout, float encoding, CRC) are
what the shipped profiles and SerialSource expect, and the register decoding and scaling follow
the MPU-6050 register map. What it cannot check: the real I2C bus and serial hardware.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from gesturemap.sources import FrameQueue, build_source, load_profile

from .source_helpers import wait_until

HERE = Path(__file__).resolve().parent
SKETCH = HERE.parents[1] / "sensors" / "firmware" / "imu_serial" / "imu_serial.ino"
READINGS = 300


def expected_values(n: int) -> np.ndarray:
    """What the simulated MPU-6050 in arduino_host/Wire.h reads, scaled as the sketch scales."""
    k = np.arange(n)[:, None]
    raw = ((97 * k + 4099 * np.arange(7)) % 65536) - 32768
    acc = raw[:, :3].astype(np.float32) / np.float32(16384.0)
    gyro = raw[:, 4:].astype(np.float32) / np.float32(131.0)
    return np.hstack([acc, gyro]).astype(np.float64)


@pytest.fixture(scope="module")
def sketch_output(tmp_path_factory) -> dict[int, bytes]:
    compiler = shutil.which("g++")
    if compiler is None:
        pytest.fail(
            "g++ is needed to compile the example sketch for the host (apt-get install g++)"
        )
    folder = tmp_path_factory.mktemp("firmware")
    output = {}
    for binary in (0, 1):
        program = folder / f"imu_serial_{binary}"
        subprocess.run(
            [
                compiler,
                "-std=c++11",
                "-Wall",
                "-Wextra",
                "-Werror",
                f"-DOUTPUT_BINARY={binary}",
                f"-I{HERE / 'arduino_host'}",
                "-x",
                "c++",
                str(SKETCH),
                "-x",
                "none",
                str(HERE / "arduino_host" / "host_main.cpp"),
                "-o",
                str(program),
            ],
            check=True,
            timeout=120,
        )
        run = subprocess.run(
            [str(program), str(READINGS)], capture_output=True, check=True, timeout=30
        )
        output[binary] = run.stdout
    return output


def read_through_profile(profile_name: str, data: bytes, pty_pair) -> list:
    master, device = pty_pair
    queue = FrameQueue()
    source = build_source(load_profile(profile_name), queue, device=device).start()
    try:
        wait_until(lambda: source.stats.connected, what="the port to open")
        os.write(master, data)
        wait_until(lambda: source.stats.packets_in >= READINGS, what="the sketch's output")
        assert source.stats.bad_packets == 0
        return queue.drain()
    finally:
        source.stop()


def test_text_output_matches_the_text_profile(sketch_output, pty_pair):
    text = sketch_output[0].decode()
    assert text.startswith("# gesturemap imu_serial: millis,acc_x,")
    frames = read_through_profile("arduino-imu-text", sketch_output[0], pty_pair)
    values = np.array([f.values for f in frames])
    np.testing.assert_allclose(values, expected_values(READINGS), atol=5e-5)  # 4 decimals
    times = np.array([f.t for f in frames])
    np.testing.assert_allclose(np.diff(times), 0.01, atol=1e-3)  # 100 Hz on the board's clock


def test_binary_output_matches_the_binary_profile(sketch_output, pty_pair):
    frames = read_through_profile("arduino-imu-binary", sketch_output[1], pty_pair)
    assert len(sketch_output[1]) == READINGS * (5 + 4 * 6)
    values = np.array([f.values for f in frames])
    np.testing.assert_array_equal(values, expected_values(READINGS))  # float32 exactly
