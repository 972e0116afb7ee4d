"""Spotting through the real engine: a logged stream replayed through a project emits the
gestures on loopback OSC, in the session log and in the offline replay."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pytest
from pythonosc.osc_message import OscMessage

import gesturemap as gm
from gesturemap.live.engine import Engine
from gesturemap.live.replay import replay_log
from gesturemap.log import SessionLog, read_events
from gesturemap.project import Project
from gesturemap.sources.replay import ReplaySource
from tests.models.spotting.test_core_spotting import _gesture, _rest


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    rng = np.random.default_rng(5)
    project = Project("spotting", model={"kind": "hhmm", "params": {"states": 6},
                                         "spotting": {}}, outputs={"extras": True})
    for label in ("circle", "zigzag"):
        for _ in range(5):
            project.add_take(_gesture(label, int(rng.integers(45, 60)), rng), label)
    for _ in range(4):
        project.add_take(_rest(150, rng), gm.NULL)
    project.train()
    folder = tmp_path_factory.mktemp("proj")
    project.save(folder)
    parts, order = [], ["zigzag", "circle", "circle", "zigzag", "circle"]
    for label in order:
        parts += [_rest(int(rng.integers(80, 140)), rng),
                  _gesture(label, int(rng.integers(45, 60)), rng)]
    parts.append(_rest(100, rng))
    x = np.vstack(parts)
    log_in = tmp_path_factory.mktemp("log_in")
    with SessionLog(log_in, {"input": ["x", "y"]}, t0=0.0) as slog:
        for i, frame in enumerate(x):
            slog.write("input", i / 100.0, frame)
    return folder, log_in, x, order


def _receiver():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    got: list[tuple[str, float]] = []
    stop = threading.Event()

    def run():
        while not stop.is_set():
            try:
                data = sock.recv(65536)
            except OSError:
                continue
            if data.startswith(b"/gesturemap/event\0"):
                m = OscMessage(data)
                got.append((m.params[0], m.params[1]))
            elif data.startswith(b"/output_"):  # Wekinator's match message, before the event
                got.append((OscMessage(data).address, None))

    th = threading.Thread(target=run, daemon=True)
    th.start()
    return sock, got, stop, th


def replay_through_engine(project: Project, log_in, n: int, log_out) -> tuple[Engine, list]:
    """Replay a session log's ``n`` input frames through the real engine (4x speed), with OSC
    to a loopback receiver and a session log in ``log_out``: the engine, and what it sent."""
    sock, got, stop, th = _receiver()
    replay: list[ReplaySource] = []

    def source(queue, on_control):
        replay.append(ReplaySource(queue, log_in, speed=4.0))
        return replay[0]

    engine = Engine(project, osc_in=None, osc_out=("127.0.0.1", sock.getsockname()[1]),
                    sources=[source], log_dir=log_out, trainer="thread").start()
    try:
        assert replay[0].finished.wait(60)
        deadline = time.monotonic() + 10
        while engine.frames_out < n and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
    finally:
        engine.stop()
        stop.set()
        th.join()
        sock.close()
    assert engine.frames_out == n
    return engine, got


def test_replayed_session_emits_its_gestures_on_osc_and_in_the_log(setup, tmp_path):
    folder, log_in, x, order = setup
    project = Project.load(folder)
    expected = gm.spot(project.trained, x)
    assert [e.label for e in expected] == order  # the spotter itself finds them all
    log_out = tmp_path / "log_out"
    engine, got = replay_through_engine(project, log_in, len(x), log_out)
    assert engine.events_spotted == len(order)
    # each gesture: Wekinator's match message (/output_N, N its class number), then the event
    number = {lb: i + 1 for i, lb in enumerate(project.trained.labels_)}
    matches, events = got[0::2], got[1::2]
    assert [a for a, _ in matches] == [f"/output_{number[lb]}" for lb in order]
    assert [lb for lb, _ in events] == order
    np.testing.assert_allclose([s for _, s in events], [e.score for e in expected], rtol=1e-6)
    logged = [e for e in read_events(log_out) if e.kind == "gesture"]
    assert [e.data["label"] for e in logged] == order
    assert [e.data["emitted"] for e in logged] == [e.emitted for e in expected]
    # the offline replay of the engine's own log gives the same gestures
    events_csv = tmp_path / "events.csv"
    replay_log(log_out, folder, events_out=events_csv)
    rows = [line.split(",") for line in events_csv.read_text().splitlines()[1:]]
    assert [r[1] for r in rows] == order
    assert [int(r[5]) for r in rows] == [e.emitted for e in expected]


def test_without_spotting_setting_no_event_is_sent(setup):
    folder, _, x, _ = setup
    project = Project.load(folder)
    project.model = {"kind": "hhmm", "params": {"states": 6}}
    engine = Engine(project, osc_in=None, osc_out=("127.0.0.1", 9), trainer="thread")
    assert getattr(engine.stream, "spotter", None) is None
    assert all(r.event is None for r in engine.stream.run(x))


def test_a_swapped_model_spots_once_its_spotter_is_ready(setup):
    folder, _, x, order = setup
    project = Project.load(folder)
    engine = Engine(project, osc_in=None, osc_out=("127.0.0.1", 9), trainer="thread").start()
    try:
        engine.command("swap_model", project.trained)
        deadline = time.monotonic() + 20
        # the frame path runs the model's own stream until the I/O thread has the spotter
        while getattr(engine.stream, "spotter", None) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert getattr(engine.stream, "spotter", None) is not None
        assert [r.event.label for r in engine.stream.run(x) if r.event is not None] == order
    finally:
        engine.stop()


def test_a_model_ignoring_a_channel_spots_in_the_engine(setup, caplog):
    """The engine warms its spotter up on a frame as the model takes it: with a model that
    ignores a channel it stepped the kept channels alone, caught the shape error, said
    "spotting is off" and ran without spotting."""
    _, _, x, order = setup
    rng = np.random.default_rng(5)
    project = Project("spotting", model={"kind": "hhmm", "params": {
        "states": 6, "ignore_channels": [2]}, "spotting": {}}, outputs={"extras": True})

    def noisy(a):  # a third channel of loud noise, the one the model ignores
        return np.c_[a, rng.normal(0, 3.0, len(a))]

    for label in ("circle", "zigzag"):
        for _ in range(5):
            project.add_take(noisy(_gesture(label, int(rng.integers(45, 60)), rng)), label)
    for _ in range(4):
        project.add_take(noisy(_rest(150, rng)), gm.NULL)
    project.train()
    wide = noisy(x)
    with caplog.at_level("WARNING", logger="gesturemap.spotting"):
        engine = Engine(project, osc_in=None, osc_out=("127.0.0.1", 9), trainer="thread")
    assert "spotting is off" not in caplog.text
    assert getattr(engine.stream, "spotter", None) is not None
    events = [r.event for r in engine.stream.run(wide) if r.event is not None]
    assert [e.label for e in events] == order
    assert events == gm.spot(project.trained, wide)
