"""`gesturemap run` with a serial sensor (a socat pseudo-terminal pair, killed and started
again as a board is unplugged and plugged back) and a take recorded over Wekinator's control
messages across the unplug: the run says how long the sensor was away, saves the take whole
with its mark, and counts it in its stopping line."""

from __future__ import annotations

import json
import socket
import time

from gesturemap.project import Project

from .sources.source_helpers import SocatLink, wait_until
from .stage_helpers import osc_message, start_run, stop_run


def _saved_takes(folder) -> list[dict]:  # noqa: ANN001
    return [json.loads(p.read_text()) for p in sorted((folder / "takes").glob("take-*.json"))]


def test_run_says_a_take_was_recorded_while_the_serial_sensor_was_away(tmp_path):
    folder = tmp_path / "p"
    project = Project("board", model="gmm",
                      input_names=["acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"])
    project.add_class("wave")
    project.save(folder)
    (tmp_path / "link").mkdir()
    link = SocatLink(tmp_path / "link")
    link.start()
    proc, line = start_run(folder, "--serial", link.device, "--profile", "arduino-imu-text",
                           "--osc-in", "127.0.0.1:0", "--stats", tmp_path / "s.json")
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        port = int(line.split("Wekinator OSC on 127.0.0.1:")[1].split()[0].rstrip(",;)"))
        stats = lambda: json.loads((tmp_path / "s.json").read_text())  # noqa: E731
        wait_until(lambda: (tmp_path / "s.json").exists(), timeout=30, what="the stats")
        sent = time.monotonic()
        tx.sendto(osc_message("/wekinator/control/startRecording"), ("127.0.0.1", port))
        wait_until(lambda: stats()["recording"], timeout=30, what="the recording")
        link.imu_lines(0, 100)
        # every line read before the unplug: socat gone, the tty drops what was not yet read
        # (a loaded machine reads the last lines some ms late), and the take must hold all 200
        wait_until(lambda: stats()["frames_in"] >= 100, timeout=30, what="the first frames")
        link.stop()  # unplugged
        unplugged = time.monotonic() - sent  # the gap starts no later (the take's clock)
        time.sleep(1.5)
        link.start()  # plugged back: the run opens it again
        wait_until(lambda: sum(s["reconnects"] for s in stats()["sources"].values()) == 1,
                   timeout=30, what="the device reopened")
        link.imu_lines(0, 100)
        wait_until(lambda: stats()["frames_in"] >= 200, timeout=30, what="the frames")
        tx.sendto(osc_message("/wekinator/control/stopRecording"), ("127.0.0.1", port))
        wait_until(lambda: len(_saved_takes(folder)) == 1, timeout=30, what="the take saved")
    finally:
        tx.close()
        out, err = stop_run(proc)
        link.stop()
    assert proc.returncode == 0, err
    (take,) = _saved_takes(folder)
    assert take["frames"] == 200, take  # kept whole
    (start, length), = take["gaps"]
    # from the last line before the unplug: 100 lines at 100 Hz after the take began
    assert length >= 1.5 and 0.9 < start <= unplugged + 0.05, (take["gaps"], unplugged)
    said = [lg for lg in err.splitlines() if "the sensor was away for" in lg]
    assert len(said) == 1 and take["id"] in said[0], err
    assert f"the sensor was away for {length:.1f} s during this take" in said[0]
    assert "1 take recorded while the sensor was away" in out, out


def test_train_notes_the_takes_recorded_while_the_sensor_was_away(tmp_path):
    import subprocess
    import sys

    import numpy as np

    folder = tmp_path / "p"
    project = Project("board", model="gmm")
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        for k in range(3):
            gaps = [(0.4, 1.5)] if (label, k) == ("b", 1) else ()
            project.add_take(rng.normal(size=(40, 2)) + (label == "b"), label,
                             times=np.arange(40) / 50, gaps=gaps)
    project.save(folder)
    gapped = Project.load(folder).takes[4]
    assert gapped.gaps == ((0.4, 1.5),)  # saved and read back
    done = subprocess.run([sys.executable, "-m", "gesturemap.cli", "train", str(folder)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stdout.splitlines() if "away" in line]
    assert notes == [f"note: {gapped.id} (b): the sensor was away for 1.5 s during this take "
                     "(from 0.4 s to 1.9 s)"], done.stdout
