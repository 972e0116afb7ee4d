"""A big studio project, every model kind the window's model form offers: 20 gestures x 60
channels, 5-10 takes of 100-300 frames per gesture (a studio's size, with takes as a musician
records them rather than 5 equal ones).

Per kind, each in a fresh process (its memory its own):

- ``fit``: the full retrain in-process (wall and CPU), the frame-cost measurement's own time
  (``frame_budget.note_frame_cost``), the step it noted and whether it warned, the step per
  frame on held-out takes (p50 / p99, a fresh stream per take), the model's arrays, the
  process's peak RSS;
- ``engine``: the window's engine (:class:`~gesturemap.gui.session.WindowEngine`) with its
  training process, frames fed at 200 frames/s, a take of a class recorded live, stopped and
  trained as the window does: the time from "stop" to the first frame the new model answers
  (the first retrain, then the median and max of the next ones), the training alone, the
  training process's CPU time, the longest time the training progress (what the window's
  training line shows) stood still, and the peak RSS of the engine and training processes;
- ``cli``: ``gesturemap train DIR`` on the saved project (wall time of the command);
- ``window``: the window itself (offscreen, its engine in a process of its own, as
  ``gesturemap open`` runs it) on the saved project, an OSC sensor sending 60 values at 200
  frames/s from another process: takes recorded and stopped as Space does, and, while the
  retrain runs, the longest the window's event loop went without running a 10 ms timer (the
  window frozen for that long), the take -> new model time the window itself shows, and the
  window process's peak RSS.

    python benchmarks/studio_scale.py [fit|engine|cli|window] [KIND ...] [--repeats N]
        [--rate HZ] [--json FILE]

``--rate`` (engine, window; default 200) feeds slower: a model whose step costs more than a
frame's time (GVF's default at this size) makes the engine fall behind the frames, and every
command (start, stop, train) waits behind them.

Timings on a shared machine are noisy: the script prints ``uptime`` before and after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scaling  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: The kinds the window's model form offers for a classification project
#: (``gui.model_forms.kinds_for("classifier")`` and ``per_output``, whose default is kNN).
#: Frames per second the sensor sends (engine, window).
RATE_HZ = 200.0
KINDS = ("hhmm", "gmm", "gvf", "dtw", "hmm", "knn", "featured", "naive_bayes", "svm", "mlp",
         "tree", "adaboost", "per_output")


def studio_dataset(classes: int = 20, channels: int = 60, seed: int = 0,
                   takes: tuple[int, int] = (5, 10), frames: tuple[int, int] = (100, 300)):
    """A classification :class:`~gesturemap.Dataset` of smooth random gestures: per class a
    random trajectory in ``channels`` channels, each take of it (between ``takes`` of them,
    each between ``frames`` frames long) time-warped a little, with noise; plus one held-out
    take per class, as ``[(label, (T, D) array)]``."""
    import gesturemap as gm

    rng = np.random.default_rng(seed)
    ds = gm.Dataset()
    held = []
    for c in range(classes):
        shape = bench_scaling.gesture_shape(rng, channels)
        n = int(rng.integers(takes[0], takes[1] + 1))
        for k in range(n + 1):
            x = bench_scaling.gesture_take(rng, shape, int(rng.integers(frames[0],
                                                                          frames[1] + 1)))
            if k < n:
                ds.add(x, f"g{c}")
            else:
                held.append((f"g{c}", x))
    return ds, held


def _peak_rss_mb(pid: int | str = "self") -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _warm(kind: str) -> None:
    """Fit and step ``kind`` once on a tiny set: kernels loaded, as in the training process."""
    import gesturemap as gm
    from gesturemap.models import MODEL_REGISTRY

    rng = np.random.default_rng(1)
    small = gm.Dataset()
    for label in "ab":
        small.add(rng.normal(size=(40, 60)), label)
    m = MODEL_REGISTRY[kind]().fit(small)
    m.stream().step(np.zeros(60))


def measure_fit(kind: str) -> dict[str, Any]:
    """In this process: full retrain, frame-cost measurement, step p50/p99, size, peak RSS."""
    import warnings

    from gesturemap.models import MODEL_REGISTRY
    from gesturemap.utils.frame_budget import note_frame_cost

    ds, held = studio_dataset()
    _warm(kind)
    t0, c0 = time.perf_counter(), time.process_time()
    model = MODEL_REGISTRY[kind]().fit(ds)
    fit_s, fit_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        note = note_frame_cost(model, ds)
        note_s = time.perf_counter() - t0
    stream = model.stream()
    samples, right = [], 0
    for label, x in held:
        stream.reset()
        for f in x:
            a = time.perf_counter()
            r = stream.step(f)
            samples.append(time.perf_counter() - a)
        right += r.label == label
    _, arrays = model.dump()
    return {"kind": kind, "takes": len(ds), "frames": int(sum(len(r.inputs) for r in ds)),
            "fit_s": fit_s, "fit_cpu_s": fit_cpu_s, "note_frame_cost_s": note_s,
            "step_ms_noted": model.training_info_.get("step_ms"), "warned": note is not None,
            "step_ms_p50": 1e3 * float(np.median(samples)),
            "step_ms_p99": 1e3 * float(np.percentile(samples, 99)),
            "held_out_right": f"{right}/{len(held)}",
            "model_mb": sum(np.asarray(v).nbytes for v in arrays.values()) / 1e6,
            "peak_rss_mb": _peak_rss_mb()}


def measure_engine(kind: str, repeats: int = 5, rate_hz: float = RATE_HZ) -> dict[str, Any]:
    """Stop recording -> new model answering in the window's engine, for a ``kind`` project
    (see the module's docstring). Each repeat records one take of a class (cycling over the
    classes), stops, trains, waits for the answer, then removes the take again."""
    from gesturemap.gui.session import TakeRef, WindowEngine
    from gesturemap.project import Project
    from gesturemap.sources.base import Frame

    ds, held = studio_dataset()
    project = Project("studio-scale", model={"kind": kind, "params": {}})
    for rec in ds:
        project.add_take(rec.inputs, rec.label)
    project.trained = project.new_model().fit(project.dataset())
    rest = next(iter(ds)).inputs[0]
    engine = WindowEngine(project, osc_in=None, osc_out=("127.0.0.1", 9),
                          trainer="process", realtime=True).start()
    stop = threading.Event()
    live: dict[str, Any] = {"x": None}

    def feeder() -> None:
        i = 0
        period = 1.0 / rate_hz
        next_t = time.perf_counter()
        while not stop.is_set():
            x = live["x"]
            frame = rest if x is None else x[i % len(x)]
            engine.queue.put(Frame(time.perf_counter(), np.array(frame, dtype=np.float64),
                                   "bench"))
            i += 1
            next_t += period
            time.sleep(max(0.0, next_t - time.perf_counter()))

    thread = threading.Thread(target=feeder, daemon=True)
    thread.start()
    rows = []
    trainer_rss = None
    try:
        time.sleep(3.0)  # the training process is warm
        for rep in range(repeats + 1):
            label, x = held[rep % len(held)]
            engine.last_take_to_model_ms = None
            engine.command("start_recording", label)
            live["x"] = x
            time.sleep(len(x) / rate_hz)
            live["x"] = None
            engine.command("stop_recording")
            engine.command("train")
            t_stop = time.perf_counter()
            deadline = t_stop + 300
            last, last_change, gap, seen = None, t_stop, 0.0, []
            while engine.last_take_to_model_ms is None and time.perf_counter() < deadline:
                now = time.perf_counter()
                p = engine.training_progress
                if p is not None and p != last:
                    gap = max(gap, now - last_change)
                    last, last_change = p, now
                    seen.append((round(now - t_stop, 3), round(p[0], 3), p[1]))
                time.sleep(0.005)
            if engine.last_take_to_model_ms is None:
                raise RuntimeError(f"{kind}: the new model never answered")
            # the last stretch: from the last progress report to the model answering
            gap = max(gap, time.perf_counter() - last_change)
            proc = getattr(engine.trainer, "_proc", None)
            if proc is not None:
                trainer_rss = _peak_rss_mb(proc.pid)
            rows.append({"take_to_model_ms": engine.last_take_to_model_ms,
                         "train_ms": engine.last_train_ms,
                         "train_cpu_ms": engine.last_train_cpu_ms,
                         "progress_still_s": gap, "progress_reports": len(seen),
                         "step_ms_noted": (getattr(engine.model, "training_info_", None)
                                           or {}).get("step_ms"),
                         "warnings": len(engine.train_warnings)})
            engine.command("remove_take", TakeRef(engine.project.takes[-1].id))
            time.sleep(0.3)
    finally:
        stop.set()
        thread.join()
        engine.stop()
    later = rows[1:]

    def med(key: str) -> float | None:
        vals = [r[key] for r in later if r[key] is not None]
        return float(np.median(vals)) if vals else None

    return {"kind": kind, "repeats": repeats,
            "first_take_to_model_ms": rows[0]["take_to_model_ms"],
            "first_train_cpu_ms": rows[0]["train_cpu_ms"],
            "take_to_model_ms_median": med("take_to_model_ms"),
            "take_to_model_ms_max": max(r["take_to_model_ms"] for r in later),
            "train_ms_median": med("train_ms"), "train_cpu_ms_median": med("train_cpu_ms"),
            "progress_still_s_max": max(r["progress_still_s"] for r in rows),
            "step_ms_noted": rows[-1]["step_ms_noted"], "warnings": rows[-1]["warnings"],
            "engine_peak_rss_mb": _peak_rss_mb(), "trainer_peak_rss_mb": trainer_rss,
            "rows": rows}


#: The sensor of the window measurement: 60 values a frame to ``/wek/inputs`` at a rate.
SENDER_SCRIPT = """
import socket, sys, time
import numpy as np
from gesturemap.outputs.osc import MessageEncoder
port, rate, channels = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
enc = MessageEncoder()
rng = np.random.default_rng(0)
t, period = time.perf_counter(), 1.0 / rate
i = 0
while True:
    x = np.sin(0.05 * i + np.arange(channels)) + 0.1 * rng.standard_normal(channels)
    tx.sendto(enc.floats("/wek/inputs", x), ("127.0.0.1", port))
    i += 1
    t += period
    time.sleep(max(0.0, t - time.perf_counter()))
"""


def measure_window(kind: str, repeats: int = 5, rate_hz: float = RATE_HZ) -> dict[str, Any]:
    """The window offscreen on a saved ``kind`` project (see the module's docstring)."""
    import socket

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtCore, QtWidgets

    from gesturemap.gui.window import MainWindow
    from gesturemap.project import Project

    ds, _ = studio_dataset()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = tempfile.TemporaryDirectory()
    project = Project("studio-scale", model={"kind": kind, "params": {}})
    for rec in ds:
        project.add_take(rec.inputs, rec.label)
    project.sensor = {"transport": "osc", "profile": "wekinator", "port": port}
    project.outputs = {"host": "127.0.0.1", "port": 9}
    project.trained = project.new_model().fit(project.dataset())
    project.save(tmp.name)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    window = MainWindow(Project.load(tmp.name), tmp.name, audio=False)
    window.count_in.setValue(0)
    window.show()
    sender = subprocess.Popen([sys.executable, "-c", SENDER_SCRIPT, str(port), str(rate_hz),
                               str(ds[0].inputs.shape[1])],
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    ticks: list[float] = []
    timer = QtCore.QTimer()
    timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)

    def run_for(seconds: float, until: Any = None) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end and not (until is not None and until()):
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 5)
            time.sleep(0.001)

    def stall_ms(t0: float, t1: float) -> float:
        ts = [t0] + [t for t in ticks if t0 <= t <= t1] + [t1]
        return 1e3 * max(b - a for a, b in zip(ts[:-1], ts[1:], strict=True))

    rows = []
    try:
        run_for(60.0, lambda: window.engine.frames_in > 2 * rate_hz)  # engine up, frames in
        run_for(3.0)  # the training process warm
        for rep in range(repeats + 1):
            window.classes.setCurrentRow(rep % window.classes.count())  # a class picked
            window.start_recording()
            run_for(1.0)
            trainings = window.engine.trainings
            window.stop_recording()
            t_stop = time.perf_counter()
            run_for(300.0, lambda t=trainings: window.engine.trainings > t
                    and window.last_stop_to_running_ms is not None)
            run_for(0.5)  # what the window does once the model is in (review, redraw)
            t_end = time.perf_counter()
            rows.append({"window_take_to_model_ms": window.last_stop_to_running_ms,
                         "train_ms": window.last_train_ms,
                         "train_cpu_ms": window.engine.stats().get("last_train_cpu_ms"),
                         "gui_stall_ms": stall_ms(t_stop, t_end),
                         "frames_in": window.engine.frames_in})
            window.last_stop_to_running_ms = None
    finally:
        sender.terminate()
        sender.wait()
        # what closeEvent does, without its "save changes?" question
        window.timer.stop()
        window.quality_worker.close()
        window._close_engine()
        tmp.cleanup()
    later = rows[1:]
    return {"kind": kind, "repeats": repeats, "rate_hz": rate_hz,
            "first_window_take_to_model_ms": rows[0]["window_take_to_model_ms"],
            "window_take_to_model_ms_median": float(np.median(
                [r["window_take_to_model_ms"] for r in later])),
            "gui_stall_ms_max": max(r["gui_stall_ms"] for r in rows),
            "gui_stall_ms_median": float(np.median([r["gui_stall_ms"] for r in rows])),
            "window_peak_rss_mb": _peak_rss_mb(), "rows": rows}


def measure_cli(kind: str) -> dict[str, Any]:
    """``gesturemap train DIR`` on the project saved with ``kind``: wall time, what it said."""
    from gesturemap.project import Project

    ds, _ = studio_dataset()
    with tempfile.TemporaryDirectory() as tmp:
        project = Project("studio-scale", model={"kind": kind, "params": {}})
        for rec in ds:
            project.add_take(rec.inputs, rec.label)
        project.save(tmp)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "gesturemap", "train", tmp], env=env,
                              capture_output=True, text=True, cwd=str(ROOT))
        wall = time.perf_counter() - t0
    return {"kind": kind, "cli_s": wall, "rc": done.returncode,
            "said": (done.stdout + done.stderr).strip().splitlines()[-3:]}


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main(argv: list[str]) -> int:
    what = argv[0] if argv and argv[0] in ("fit", "engine", "cli", "window", "one") else "fit"
    rest = argv[1:] if argv and argv[0] == what else argv
    repeats, out, rate = 5, None, RATE_HZ
    kinds = []
    it = iter(rest)
    for a in it:
        if a == "--repeats":
            repeats = int(next(it))
        elif a == "--rate":
            rate = float(next(it))
        elif a == "--json":
            out = next(it)
        else:
            kinds.append(a)
    if what == "one":  # a child: one kind, one measurement, JSON on stdout
        mode, kind = kinds
        fn = {"fit": measure_fit, "engine": lambda k: measure_engine(k, repeats, rate),
              "window": lambda k: measure_window(k, repeats, rate), "cli": measure_cli}[mode]
        print(json.dumps(fn(kind)))
        return 0
    results = []
    print("before:", _uptime(), flush=True)
    for kind in kinds or KINDS:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        done = subprocess.run([sys.executable, __file__, "one", what, kind, "--repeats",
                               str(repeats), "--rate", str(rate)], env=env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            print(kind, "failed:", done.stderr.strip().splitlines()[-1:], flush=True)
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(r)
        print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v)
                          for k, v in r.items() if k != "rows"}), flush=True)
    print("after:", _uptime(), flush=True)
    if out:
        Path(out).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
