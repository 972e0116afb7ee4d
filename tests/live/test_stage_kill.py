"""No data lost: ``gesturemap run`` killed with SIGKILL in the middle of a take and of a logged
session leaves a project that loads with every completed take, and a log readable up to its
last second."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np

from gesturemap.log import read_log
from gesturemap.project import Project

from ..stage_helpers import float_msg as _msg
from ..stage_helpers import free_port as _free_port


def test_sigkill_mid_take_keeps_completed_takes_and_the_log(tmp_path):
    folder, logdir = tmp_path / "proj", tmp_path / "log"
    subprocess.run([sys.executable, "-m", "gesturemap.cli", "new", str(folder), "--inputs", "3"],
                   check=True, timeout=60)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gesturemap.cli", "run", str(folder), "--osc-in",
         f"127.0.0.1:{port}", "--osc-out", "127.0.0.1:9", "--log", str(logdir), "--no-audio"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert "listening" in proc.stdout.readline()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dst = ("127.0.0.1", port)
    sent = 0
    try:
        for take in range(3):  # three completed takes...
            tx.sendto(_msg("/wekinator/control/outputs", take % 2 + 1), dst)
            tx.sendto(_msg("/wekinator/control/startRecording"), dst)
            for i in range(40):
                tx.sendto(_msg("/wek/inputs", take, i, np.sin(i / 5)), dst)
                sent += 1
                time.sleep(0.005)
            tx.sendto(_msg("/wekinator/control/stopRecording"), dst)
        time.sleep(0.5)  # the takes are saved off the frame path, within a moment
        tx.sendto(_msg("/wekinator/control/startRecording"), dst)  # ...and one never finished
        t_kill_frames = sent
        for i in range(300):  # 1.5 s of a take in progress, logged
            tx.sendto(_msg("/wek/inputs", 9, i, 0.5), dst)
            sent += 1
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        tx.close()
        if proc.poll() is None:
            proc.kill()
    project = Project.load(folder)
    assert len(project.takes) == 3
    assert [t.length for t in project.takes] == [40, 40, 40]
    assert [t.label for t in project.takes] == [1, 2, 1]
    logged = read_log(logdir)
    times, values, _ = logged["input"]
    # every frame up to the last second before the kill is in the log, in order
    assert len(values) >= t_kill_frames + 300 - 200 - 20
    np.testing.assert_array_equal(values[:40, 1], np.arange(40))
    assert np.all(np.diff(times) >= 0)


_KILLED_WHILE_TRAINING = """
import os, signal, sys, time
import numpy as np
import gesturemap as gm
from gesturemap.live.trainer import Trainer

rng = np.random.default_rng(0)
dataset = gm.Dataset()  # seconds of training: still under way when the first report comes
for k in range(16):
    dataset.add(rng.normal(size=(300, 6)) + k % 4, str(k % 4))
trainer = Trainer("process")
started = []
trainer.train(gm.HHMM(states=10, gaussians=2), dataset,
              on_progress=lambda f, m: started.append(f))
deadline = time.monotonic() + 120
while not started and time.monotonic() < deadline:
    time.sleep(0.01)
print("training", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_training_process_outliving_a_killed_parent_ends_without_a_traceback():
    """A run killed (SIGKILL, the system's out-of-memory killer) while it trains: its
    training process finds the pipe broken at its next report and ends, without a
    BrokenPipeError's traceback among the run's last lines in the terminal."""
    proc = subprocess.run([sys.executable, "-c", _KILLED_WHILE_TRAINING], capture_output=True,
                          text=True, timeout=240)  # (stderr closes when the worker has ended)
    assert proc.returncode == -signal.SIGKILL and "training" in proc.stdout, proc.stderr
    assert "Traceback" not in proc.stderr and "Error" not in proc.stderr, proc.stderr
