"""The ready projects in presets/: each loads from where gesturemap finds its data, trains, and
runs on replayed data through the real engine into the built-in synth.

(tests/test_packaging.py checks that an installed wheel carries every file of presets/ and that
``presets_dir()`` finds them there.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gesturemap.errors import GesturemapError
from gesturemap.live.engine import Engine
from gesturemap.project import Project
from gesturemap.sources.replay import ReplaySource
from gesturemap.synth import Synth, SynthMapping
from gesturemap.utils.storage import presets_dir

PRESETS = ["air-drums", "conducting-follower", "phone-tilt-fm", "watch-exercises", "xy-pad-filter"]
CLASSIFIERS = {"air-drums", "conducting-follower", "watch-exercises"}


def test_the_presets_are_there():
    found = sorted(p.name for p in presets_dir().iterdir() if (p / "project.json").is_file())
    assert found == PRESETS
    readme = (presets_dir() / "README.md").read_text()
    for name in PRESETS:  # each documents its sensor, what to do and what it drives
        section = readme.split(f"## {name} ", 1)[1].split("\n## ", 1)[0]
        for field in ("**Sensor**", "**Do**", "**Drives**", "**Takes**"):
            assert field in section, (name, field)


def _replay_file(project: Project, tmp_path, classifier: bool):
    """The preset's own takes back to back (a classifier's: one take per class, each after a
    take of the first class), as a data set file the replay source plays."""
    takes = list(project.takes)
    if classifier:
        first = {}
        for take in takes:
            first.setdefault(take.label, take)
        rest = first[project.classes[0]]
        takes = [t for c in project.classes[1:] for t in (rest, first[c])] + [rest]
    x = np.concatenate([t.inputs for t in takes])
    path = tmp_path / "replay.npz"
    np.savez(path, X_concat=x, lengths=np.array([len(x)]), y=np.array(["replay"]))
    return path, len(x), takes


def _offline(project: Project, x: np.ndarray) -> list:
    state = project.pipeline.start(x.shape[1], project.input_names)
    stream = project.trained.stream()
    rate = project.pipeline.rate_hz or 50.0
    return [stream.step(f) for i, frame in enumerate(x) for f in state.push(frame, i / rate)]


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_trains_and_runs_through_the_engine(name, tmp_path):
    folder = presets_dir() / name
    project = Project.load(folder)
    assert project.trained is not None and project.takes
    shipped = project.trained.labels_
    classifier = name in CLASSIFIERS

    # retrains from its takes
    model = project.train()
    assert model.labels_ == shipped

    # the model does what the preset promises, on its own takes
    if classifier:
        right = [
            max(set(labels), key=labels.count) == str(take.label)
            for take in project.takes
            for labels in [[str(r.label) for r in _offline(project, take.inputs)]]
        ]
        assert np.mean(right) >= 0.9, (name, right)
    else:
        predicted, targets = [], []
        for take in project.takes:
            results = _offline(project, take.inputs)
            predicted.append(np.array([r.output for r in results]))
            targets.append(take.outputs[-len(results) :])
        predicted, targets = np.concatenate(predicted), np.concatenate(targets)
        for k in range(targets.shape[1]):
            r = np.corrcoef(predicted[:, k], targets[:, k])[0, 1]
            assert r > 0.9, (name, project.output_names[k], r)

    # runs: replayed frames -> engine (pipeline, model, OSC out) -> the built-in synth
    replay, frames, _ = _replay_file(project, tmp_path, classifier)
    rate = project.sensor["rate_hz"]
    # faster than real time, at least 400 frames/s and the whole replay in about 5 s; a
    # one-shot preset's minimum spacing of onsets (in ms of the clock) shrinks by the same factor
    speed = max(400.0 / rate, frames / (5.0 * rate))
    sounds = dict(project.outputs["synth"])
    if sounds.get("oneshots"):
        sounds["onset_min_interval_ms"] = SynthMapping.from_dict(sounds).onset_min_interval_ms / speed

    def source(queue, on_control):  # noqa: ANN001, ANN202
        return ReplaySource(queue, replay, speed=speed, rate_hz=rate)

    synth = Synth(sounds, base_dir=folder)  # its sounds load
    engine = Engine(
        project, osc_in=None, osc_out=("127.0.0.1", 9), sources=[source], trainer="thread"
    )
    engine.start()
    engine.synth = synth  # fed by the engine; rendered offline below (no sound card here)
    try:
        deadline = time.monotonic() + 60
        while engine.frames_in < frames and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)
    finally:
        engine.stop()
    stats = engine.stats()
    assert stats["frames_in"] == frames, stats
    assert stats["frames_out"] > 0.9 * frames and stats["errors"] == 0, stats
    assert stats["synth_update_errors"] == 0
    sound = synth.render(int(synth.rate * 0.5))
    assert np.isfinite(sound).all()
    if project.outputs["synth"].get("oneshots"):
        onsets = int(synth._trig.sum())
        assert onsets >= len(project.classes) - 1, (name, onsets)  # every sounding class hit
    else:
        assert np.sqrt(np.mean(sound**2)) > 1e-3, name  # the continuous voices sound


def test_new_project_from_a_preset(tmp_path):
    dest = tmp_path / "my-drums"
    done = subprocess.run(
        [sys.executable, "-m", "gesturemap.cli", "new", str(dest), "--preset", "air-drums"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "from preset air-drums" in done.stdout
    mine = Project.load(dest)
    preset = Project.load(presets_dir() / "air-drums")
    assert mine.classes == preset.classes and len(mine.takes) == len(preset.takes)
    assert mine.trained is not None and mine.outputs == preset.outputs

    def uid(folder):  # noqa: ANN001, ANN202
        return json.loads((folder / "project.json").read_text())["uid"]

    assert uid(dest) != uid(presets_dir() / "air-drums")  # a project of its own
    bad = subprocess.run(
        [sys.executable, "-m", "gesturemap.cli", "new", str(tmp_path / "x"), "--preset", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "air-drums" in bad.stderr  # lists what exists


# -- stage mode through each preset's own sensor -----------------------------------------------


def _osc_message(address: str, values) -> bytes:  # noqa: ANN001
    from pythonosc.osc_message_builder import OscMessageBuilder

    b = OscMessageBuilder(address)
    for v in values:
        b.add_arg(float(v), "f")
    return b.build().dgram


def _received(sock) -> list:  # noqa: ANN001
    from pythonosc.osc_bundle import OscBundle
    from pythonosc.osc_message import OscMessage

    out = []
    sock.settimeout(0.3)
    while True:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            return out
        if data.startswith(b"#bundle"):
            out += [m for m in OscBundle(data) if isinstance(m, OscMessage)]
        else:
            out.append(OscMessage(data))


def _one_take_per_class(project: Project, classifier: bool) -> list:
    """A classifier's first take of each class the model gets right offline (the preset test
    above checks how many it gets right); a regression preset's first take."""
    if not classifier:
        return [project.takes[0]]
    chosen = {}
    for take in project.takes:
        if take.label in chosen:
            continue
        labels = [str(r.label) for r in _offline(project, take.inputs[:150].astype(np.float32))]
        if max(set(labels), key=labels.count) == str(take.label):
            chosen[take.label] = take
    return list(chosen.values())


@pytest.mark.parametrize("name", PRESETS)
def test_preset_runs_headless_through_its_own_sensor(name, tmp_path):
    """`gesturemap run PRESET` opens the preset's saved sensor (TouchOSC's /accxyz, a serial
    Arduino, Wekinator's /wek/inputs; the mouse pad, which needs the window, falls back to
    /wek/inputs) and the model answers frames sent to it over real loopback UDP or a pty."""
    import os
    import shutil
    import signal
    import socket
    import tty

    from gesturemap.sources.profiles import load_profile
    from gesturemap.sources.settings import stage_sensor

    folder = tmp_path / name
    shutil.copytree(presets_dir() / name, folder)
    project = Project.load(folder)
    sensor = project.sensor
    profile = load_profile(sensor["profile"])
    # with no option, stage mode opens exactly what the window would
    chosen = stage_sensor(sensor) if sensor["transport"] != "serial" else None
    if sensor["transport"] == "osc":
        assert chosen.settings == sensor and chosen.osc_in is None
        assert profile.osc is not None
        addresses = [a for a, _ in profile.osc.addresses]
        assert len(addresses) == 1
        address = addresses[0]
    elif sensor["transport"] == "mouse":
        assert chosen.settings is None and chosen.osc_in == ("127.0.0.1", 6448)
        address = "/wek/inputs"
    else:
        assert sensor["transport"] == "serial"
        with pytest.raises(GesturemapError, match="--serial"):  # a device is needed
            stage_sensor(sensor)
        chosen = stage_sensor(sensor, serial="/dev/ttyX")  # the project's line format stays
        assert chosen.settings == {"transport": "serial", "device": "/dev/ttyX",
                                   "profile": sensor["profile"]}
    if name == "phone-tilt-fm":  # the case: TouchOSC's accelerometer on port 8000
        assert (address, profile.osc.port) == ("/accxyz", 8000)

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    cmd = [sys.executable, "-m", "gesturemap.cli", "run", str(folder), "--no-audio",
           "--osc-out", f"127.0.0.1:{rx.getsockname()[1]}", "--stats", str(tmp_path / "s.json")]
    master = None
    # the preset's own addresses (or, beside a serial sensor, Wekinator's control messages)
    # on a free port instead of the profile's: tests run side by side
    cmd += ["--osc-in", "127.0.0.1:0"]
    if sensor["transport"] == "serial":
        master, slave = os.openpty()
        tty.setraw(slave)
        cmd += ["--serial", os.ttyname(slave)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        line = proc.stdout.readline()
        assert "listening" in line, line + proc.stderr.read()
        if master is None:
            assert f"{address} " in line.split(" for ")[1], line
            port = int(line.split("listening on 127.0.0.1:")[1].split()[0])
        else:
            assert f"serial {os.ttyname(slave)} ({sensor['profile']})" in line, line
        time.sleep(0.3)
        classifier = name in CLASSIFIERS
        sent, answers = 0, []
        for take in _one_take_per_class(project, classifier):
            frames = take.inputs[:150]
            for frame in frames:
                if master is None:
                    tx.sendto(_osc_message(address, frame), ("127.0.0.1", port))
                else:
                    os.write(master, (f"{10 * sent}," + ",".join(f"{v:.6f}" for v in frame)
                                      + "\n").encode())
                sent += 1
                time.sleep(0.004)
            answers.append((take, len(frames), _received(rx)))
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        tx.close()
        rx.close()
        if master is not None:
            os.close(master)
            os.close(slave)
    assert proc.returncode == 0, err
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["frames_in"] == sent and stats["bad_packets"] == 0, stats
    # checked once the run has ended, so that a shortfall comes with the engine's counts
    # (frames in, kernel drops, frames answered) to tell a lost frame from a late answer
    for take, n_frames, got in answers:
        if classifier:  # Wekinator's class number of the take's class (data.class_numbers)
            from gesturemap.data import class_numbers

            known = list(project.trained.labels_)
            number = class_numbers(known)[known.index(take.label)]
            labels = [m.params[0] for m in got if m.address == "/wek/outputs"]
            assert len(labels) > 0.9 * n_frames, (name, len(labels), stats)
            assert max(set(labels), key=labels.count) == number, (name, labels)
            assert {m.address for m in got} <= {"/wek/outputs", "/wekinator/status/done-training"}
        else:
            values = [m.params for m in got if m.address == "/wek/outputs"]
            assert len(values) > 0.9 * n_frames, (name, len(values), stats)
            assert np.isfinite(np.array(values, dtype=float)).all()
            assert np.ptp(np.array(values, dtype=float), axis=0).max() > 0  # it follows


def test_make_presets_without_the_shared_data_says_what_to_give(tmp_path):
    # a clone has no shared folder beside it: the generator says which preset needs it and
    # how to give it, before writing any preset (not a traceback after rewriting four)
    script = Path(__file__).resolve().parents[2] / "presets" / "make_presets.py"
    done = subprocess.run([sys.executable, str(script), "--shared", str(tmp_path / "none"),
                           "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "watch-exercises" in done.stderr and "--shared DIR" in done.stderr
    assert "--only" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
