"""A long DTW stops at Ctrl-C: the DTW of two long takes is computed a step at a time, so that
Python sees the interrupt (and a training's cancel) between steps, with the very results of
one compiled call.

Before, a DTW of two takes of 200 000 frames was one compiled call: ``gesturemap eval``
interrupted while training went on for the rest of it (42 s here) before it stopped, and a
``predict`` comparing sequences on threads waited for every one of them (minutes); nothing
said beforehand that the evaluation would take most of an hour.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.models import _dtw_kernels
from tests.stage_helpers import wait_for

#: Seconds a process may take to stop after Ctrl-C (a step is about a tenth of a second; the
#: machine is shared). One compiled call of these tests' DTWs lasts far longer.
STOPS_WITHIN_S = 10.0


def _cpu_seconds(pid: int) -> float:
    """CPU time a process has used: it is past its start-up and inside the long DTW."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _long_takes(n: int, frames: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.cumsum(rng.normal(size=(frames, 3)), axis=0) * 0.01 + i for i in range(n)]


def _stop_after(process: subprocess.Popen, busy_s: float) -> float:
    """Send Ctrl-C once ``process`` has computed for ``busy_s`` CPU seconds more than it had
    when called; the seconds it then took to exit (it is killed past the limit)."""
    start = _cpu_seconds(process.pid)
    wait_for(lambda: process.poll() is not None or _cpu_seconds(process.pid) > start + busy_s,
             timeout=300)
    assert process.poll() is None, process.communicate()
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOPS_WITHIN_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return float("inf")
    return time.monotonic() - sent


@pytest.mark.slow
def test_gesturemap_eval_says_how_long_dtw_takes_and_stops_at_ctrl_c(tmp_path):
    lengths = [200_000, 200_000]
    np.savez(tmp_path / "A.npz", X_concat=np.vstack(_long_takes(2, lengths[0])),
             lengths=lengths, y=["a", "b"])
    np.savez(tmp_path / "B.npz", X_concat=np.vstack(_long_takes(2, 1000, seed=1)),
             lengths=[1000, 1000], y=["a", "b"])
    process = subprocess.Popen(
        [sys.executable, "-m", "gesturemap.cli", "eval", "--train", "A.npz", "--test", "B.npz",
         "--model", "dtw", "--param", "normalization=global", "--param",
         "per_frame_distance=true"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    said: list[str] = []
    reader = threading.Thread(target=lambda: said.extend(process.stderr), daemon=True)
    reader.start()
    # before the wait, what it will be: a DTW of 2 000 test frames against 400 000 training
    # frames, and the calibration of two takes of 200 000 frames (minutes on any machine)
    wait_for(lambda: any("DTW compares" in line for line in said) or process.poll() is not None,
             timeout=120)
    estimate = next((line for line in said if "DTW compares" in line), "".join(said))
    assert re.search(r"each of 2000 test frames with each of 400000 training frames: about "
                     r"[\d.]+ (min|h) per fold on this machine \(Ctrl-C stops it\)", estimate)
    took = _stop_after(process, busy_s=3.0)  # inside the training's DTWs
    reader.join(timeout=10)
    assert took < STOPS_WITHIN_S, "gesturemap eval went on computing after Ctrl-C"
    assert process.returncode == 130 and said[-1] == "gesturemap eval: interrupted\n"


PREDICT = """
import threading
import numpy as np
import gesturemap as gm
from gesturemap.models import dtw

def takes(seed):
    rng = np.random.default_rng(seed)
    return [np.cumsum(rng.normal(size=(100_000, 3)), axis=0) * 0.01 + i for i in range(2)]

dtw.CALIBRATION_NEIGHBOURS = 0  # the takes are kept as they are: no calibration to wait for
ds = gm.Dataset()
for label, take in zip("ab", takes(0), strict=True):
    ds.add(take, label=label)
model = gm.DTW(normalization="global", per_frame_distance=True, n_jobs=2).fit(ds)
print("ready", flush=True)
try:
    model.predict(takes(1))
except KeyboardInterrupt:
    print("interrupted; threads left:", threading.active_count(), flush=True)
"""


def _interrupted(script: str, cwd, busy_s: float) -> tuple[float, list[str], str]:  # noqa: ANN001
    """Run ``script`` in a Python process of its own; Ctrl-C once it printed "ready" and
    computed ``busy_s`` CPU seconds more: (seconds it took to exit, its stdout lines, its
    stderr)."""
    process = subprocess.Popen([sys.executable, "-c", script], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    wait_for(lambda: "ready\n" in lines or process.poll() is not None, timeout=120)
    assert "ready\n" in lines, process.stderr.read()
    took = _stop_after(process, busy_s=busy_s)
    reader.join(timeout=10)
    return took, lines, process.stderr.read()


@pytest.mark.slow
def test_predict_on_threads_stops_at_ctrl_c(tmp_path):
    took, lines, err = _interrupted(PREDICT, tmp_path, busy_s=4.0)  # both threads comparing
    assert took < STOPS_WITHIN_S, "predict went on comparing sequences after Ctrl-C"
    assert lines[-1] == "interrupted; threads left: 1\n", err


def _dataset(seed: int) -> gm.Dataset:
    rng = np.random.default_rng(seed)
    ds = gm.Dataset()
    for label in "abc":
        for _ in range(4):
            n = int(rng.integers(20, 50))
            ds.add(np.cumsum(rng.normal(size=(n, 3)), axis=0) + ord(label), label=label)
    return ds


def _everything(model: gm.DTW, sequences: list[np.ndarray]) -> list[np.ndarray]:
    return [np.array([model.threshold_, model.temperature_]),
            np.vstack([model.distances(s) for s in sequences]),
            np.array([model.labels_.index(lb) for lb in model.predict(sequences)])]


@pytest.mark.parametrize("normalization", ["auto", "global", "window", "take", "none"])
def test_a_dtw_computed_in_steps_is_the_one_computed_at_once(monkeypatch, normalization):
    """Every fitted value, distance and label, bit for bit, whether each DTW is one compiled
    call or a step of a few cells at a time."""
    ds = _dataset(7)
    sequences = [r.inputs for r in ds] + [np.vstack([r.inputs for r in ds][:3])]
    at_once = _everything(gm.DTW(normalization=normalization, band=0.3).fit(ds), sequences)
    monkeypatch.setattr(_dtw_kernels, "STEP_CELLS", 50)
    in_steps = _everything(gm.DTW(normalization=normalization, band=0.3).fit(ds), sequences)
    for a, b in zip(at_once, in_steps, strict=True):
        assert np.array_equal(a, b)
    rng = np.random.default_rng(1)
    for _ in range(20):  # abandoning too: a cutoff under the distance gives inf either way
        a, b = rng.normal(size=(int(rng.integers(1, 40)), 2)), rng.normal(size=(30, 2))
        for band, cutoff in ((1.0, np.inf), (0.2, np.inf), (1.0, 40.0), (0.5, 10.0)):
            assert _dtw_kernels.dtw_in_steps(a, b, band, cutoff) == _dtw_kernels.dtw(
                a, b, band, cutoff)


def test_a_cancelled_training_stops_inside_a_long_dtw():
    """A training cancelled (a retrain replaced by a newer one) stops between two steps of a
    DTW, not after it: each of this fit's calibration DTWs is one compiled call of about 20 s
    when not in steps."""
    ds = gm.Dataset()
    for label, take in zip("ab", _long_takes(2, 100_000), strict=True):
        ds.add(take, label=label)
    cancel = threading.Event()
    model = gm.DTW(normalization="global", per_frame_distance=True)
    timer = threading.Timer(1.0, cancel.set)
    timer.start()
    start = time.monotonic()
    with pytest.raises(gm.GesturemapError, match="cancelled"):
        model.fit(ds, cancel=cancel)
    assert time.monotonic() - start < 1.0 + STOPS_WITHIN_S
    assert not hasattr(model, "templates_")  # a cancelled fit leaves the model as it was


EXPLAIN = """
import numpy as np
import gesturemap as gm

rng = np.random.default_rng(0)
takes = [np.cumsum(rng.normal(size=(50_000, 3)), axis=0) * 0.01 + i for i in range(4)]
ds = gm.Dataset()
for label, take in zip("abab", takes, strict=True):
    ds.add(take, label=label)
model = gm.GMM(gaussians=1, deltas=False).fit(ds)
print("ready", flush=True)
try:
    gm.explain(model, takes[1][::-1].copy(), dataset=ds)  # its nearest takes: long DTWs
    print("explained", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


@pytest.mark.slow
def test_explain_over_long_takes_stops_at_ctrl_c(tmp_path):
    """An explanation's nearest takes of a gesture of 50 000 frames among four takes as long
    were one compiled DTW call of most of a minute, deaf to Ctrl-C; now they stop within a
    step."""
    took, lines, err = _interrupted(EXPLAIN, tmp_path, busy_s=4.0)  # in the nearest takes
    assert took < STOPS_WITHIN_S, "explain went on comparing takes after Ctrl-C"
    assert lines[-1] == "interrupted\n", err


def test_take_distances_in_steps_are_the_ones_computed_at_once(monkeypatch):
    """The nearest takes of an explanation, bit for bit, whether their DTWs are one compiled
    call or steps of a few cells."""
    from gesturemap.models.dtw import take_distances

    takes = _long_takes(5, 60, seed=3) + _long_takes(2, 35, seed=4)
    queries = [takes[0], takes[6][::-1].copy(), np.vstack(takes[:2])]
    at_once = [take_distances(q, takes) for q in queries]
    monkeypatch.setattr(_dtw_kernels, "STEP_CELLS", 50)
    for query, expected in zip(queries, at_once, strict=True):
        assert np.array_equal(take_distances(query, takes), expected)


def _window_results(model: gm.DTW, sequence: np.ndarray) -> list[np.ndarray]:
    stream = model.stream()
    out = []
    for frame in sequence:
        r = stream.step(frame)
        out += [np.array([r.label_index]), r.distances, r.likelihoods, r.log_likelihoods,
                r.progress, stream.best_templates]
    return out


@pytest.mark.parametrize("decision", ["cumulative", "decaying", "following"])
def test_a_window_stream_in_steps_is_the_one_computed_at_once(monkeypatch, decision):
    """A "window" stream's every result, bit for bit, whether a frame's DTWs are one compiled
    call or steps of a few cells."""
    ds = _dataset(8)
    sequence = np.vstack([r.inputs for r in ds][:4])
    model = gm.DTW(normalization="window", decision=decision).fit(ds)
    at_once = _window_results(model, sequence)
    monkeypatch.setattr(_dtw_kernels, "STEP_CELLS", 50)
    in_steps = _window_results(model, sequence)
    assert len(at_once) == len(in_steps)
    for a, b in zip(at_once, in_steps, strict=True):
        assert np.array_equal(a, b)


WINDOW_STREAM = """
import os
import signal

import numpy as np
import gesturemap as gm
from gesturemap.models import _dtw_kernels

rng = np.random.default_rng(0)
ds = gm.Dataset()
for label in "ab":
    for _ in range(2):
        ds.add(np.cumsum(rng.normal(size=(300, 3)), axis=0), label=label)
model = gm.DTW(normalization="window").fit(ds)
stream = model.stream()
frames = np.cumsum(rng.normal(size=(400, 3)), axis=0)
for frame in frames[:399]:
    stream.step(frame)
# the steps of the last frame's DTWs made small, each counted: Ctrl-C comes in the third
_dtw_kernels.STEP_CELLS = 20_000
rows, steps = _dtw_kernels.dtw_rows, []

def counted(*args):
    steps.append(1)
    if len(steps) == 3:
        os.kill(os.getpid(), signal.SIGINT)
    return rows(*args)

_dtw_kernels.dtw_rows = counted
try:
    stream.step(frames[399])
    print("stepped", len(steps), flush=True)
except KeyboardInterrupt:
    print("interrupted after", len(steps), "steps", flush=True)
"""


def test_a_window_stream_over_long_takes_stops_at_ctrl_c_inside_a_frame(tmp_path):
    """A "window" stream matches the latest frames against every take afresh at each frame:
    over long takes one frame is seconds of compiled work, which a Ctrl-C (a replay, a
    spotting run over a long recording) waited for. Now a frame's DTWs go in steps, and
    the Ctrl-C lands between two."""
    out = subprocess.run([sys.executable, "-c", WINDOW_STREAM], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.stdout == "interrupted after 3 steps\n", out.stdout + out.stderr
