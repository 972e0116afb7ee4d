"""Scenes recalled on stage over real loopback UDP: the regression outputs cross-fade from one
mapping to the other, class labels switch at once, an unknown scene is counted and refused."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
from pythonosc.osc_message import OscMessage

from gesturemap.errors import GesturemapError
from gesturemap.live.engine import Engine
from gesturemap.live.scenes import CrossfadeStream
from gesturemap.project import Project
from tests.jack_audio import jack_audio
from tests.stage_helpers import (
    float_msg,
    loopback_engine,
    osc_message,
    osc_messages,
    osc_receiver,
    spotting_project,
    wait_for,
)

FRAME = (0.1, -0.2)


def _regression_model(level: float, seed: int):  # noqa: ANN202
    """A GMR whose output stays near ``level`` whatever the input."""
    rng = np.random.default_rng(seed)
    p = Project(model={"kind": "gmm", "params": {"gaussians": 1}}, output_names=["level"])
    for _ in range(3):
        p.add_take(rng.normal(size=(60, 2)), "move", outputs=np.full((60, 1), level))
    p.train()
    return p.trained


def _classifier(first: str, second: str):  # noqa: ANN202
    """A GMM classifier that calls frames near FRAME ``first`` and far ones ``second``."""
    rng = np.random.default_rng(3)
    p = Project(model={"kind": "gmm", "params": {"gaussians": 1, "decision": "window",
                                                  "likelihood_window": 1}})
    for _ in range(3):
        p.add_take(np.array(FRAME) + rng.normal(0, 0.05, size=(40, 2)), first)
        p.add_take(np.array([5.0, 5.0]) + rng.normal(0, 0.05, size=(40, 2)), second)
    p.train()
    return p.trained


def _project(folder, models: dict, *, output_names=None, fade_s: float = 0.5):  # noqa: ANN001, ANN202
    project = Project("scenes", model={"kind": "gmm", "params": {"gaussians": 1}},
                      output_names=output_names)
    project.input_dim = 2
    for name, model in models.items():
        project.trained = model
        project.save_scene(name)
    project.recall_scene(next(iter(models)))
    project.scene_fade_s = fade_s
    project.save(folder)
    return Project.load(folder)


class _Stage:
    """An engine on loopback UDP and a client that sends one frame and reads its answer."""

    def __init__(self, project: Project) -> None:
        self.rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rx.bind(("127.0.0.1", 0))
        self.rx.settimeout(2.0)
        self.engine = Engine(project, osc_in=("127.0.0.1", 0),
                             osc_out=("127.0.0.1", self.rx.getsockname()[1]), trainer="thread")
        self.engine.start()
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.to = ("127.0.0.1", self.engine.osc_port)
        if project.scenes:
            wait_for(lambda: self.engine.scenes.ready)

    def frame(self) -> tuple:
        """One frame in, its /wek/outputs arguments back."""
        self.tx.sendto(float_msg("/wek/inputs", *FRAME), self.to)
        while True:
            message = OscMessage(self.rx.recv(65536))
            if message.address == "/wek/outputs":
                return tuple(message.params)

    def control(self, *values: object) -> None:
        self.tx.sendto(osc_message("/gesturemap/scene", *values), self.to)

    def close(self) -> None:
        self.engine.stop()
        self.tx.close()
        self.rx.close()


@pytest.fixture
def stage():  # noqa: ANN201
    made: list[_Stage] = []
    yield lambda project: made.append(_Stage(project)) or made[-1]
    for s in made:
        s.close()


def _paced(stage: _Stage, seconds: float, rate_hz: float = 200.0) -> list[float]:
    """Frames at about ``rate_hz`` for ``seconds``: the first output of each answer."""
    values = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter()
        values.append(float(stage.frame()[0]))
        time.sleep(max(0.0, 1.0 / rate_hz - (time.perf_counter() - t)))
    return values


def test_outputs_move_monotonically_from_one_scene_to_the_other(tmp_path, stage):
    project = _project(tmp_path / "p", {"low": _regression_model(0.0, 1),
                                        "high": _regression_model(1.0, 2)},
                       output_names=["level"], fade_s=0.5)
    s = stage(project)
    before = _paced(s, 0.3)
    assert np.allclose(before[5:], 0.0, atol=0.05)
    s.control("high")
    t0 = time.perf_counter()
    during = _paced(s, 1.0)
    assert np.allclose(during[-20:], 1.0, atol=0.05)  # the new mapping's, once faded
    steps = np.diff([before[-1], *during])
    assert (steps >= -1e-6).all(), f"the outputs went back: {np.round(during, 3)}"
    between = [v for v in during if 0.05 < v < 0.95]
    # about 100 frames of a 0.5 s fade at 200 frames/s; a busy machine sends fewer
    assert len(between) >= 20, f"only {len(between)} frames in the fade: {np.round(during, 3)}"
    assert max(steps) < 0.5  # no jump: the fade spreads over many frames
    stats = s.engine.stats()["scenes"]
    assert stats["current"] == "high" and stats["recalls"] == 1 and not stats["fading"]
    assert not isinstance(s.engine.stream, CrossfadeStream)
    assert time.perf_counter() - t0 > 0.5
    # by index, from 0: back to "low", fading down
    s.control(0)
    back = _paced(s, 0.8)
    assert np.allclose(back[-20:], 0.0, atol=0.05)
    assert (np.diff([during[-1], *back]) <= 1e-6).all()
    assert s.engine.project.scene_names == ["low", "high"]
    assert s.engine.stats()["scenes"]["current"] == "low"


def test_a_recall_back_within_the_fade_reaches_the_scene_recalled(tmp_path, stage):
    project = _project(tmp_path / "p", {"low": _regression_model(0.0, 1),
                                        "high": _regression_model(1.0, 2)},
                       output_names=["level"], fade_s=0.5)
    s = stage(project)
    _paced(s, 0.2)
    s.control("high")
    _paced(s, 0.1)
    s.control("low")  # low -> high -> low: "low"'s stream never steps twice a frame
    after = _paced(s, 1.0)
    assert np.allclose(after[-20:], 0.0, atol=0.05)
    assert s.engine.errors == 0
    assert not isinstance(s.engine.stream, CrossfadeStream)


def test_labels_switch_at_once_and_the_lean_path_comes_back(tmp_path, stage):
    project = _project(tmp_path / "p", {"left": _classifier("a", "b"),
                                        "right": _classifier("b", "a")}, fade_s=0.3)
    s = stage(project)
    for _ in range(20):
        assert s.frame() == (1.0,)  # "a", class 1
    s.control("right")
    assert s.frame() == (2.0,)  # the first frame after the recall: "b" at once
    assert isinstance(s.engine.stream, CrossfadeStream)  # the plain path during the fade
    fading = 0
    deadline = time.monotonic() + 5.0
    while isinstance(s.engine.stream, CrossfadeStream):
        assert time.monotonic() < deadline, "the fade never ended"
        compiled = s.engine.frames_compiled
        assert s.frame() == (2.0,)
        if isinstance(s.engine.stream, CrossfadeStream):  # this frame went through the fade
            assert s.engine.frames_compiled == compiled  # never the compiled path
            fading += 1
        time.sleep(0.005)
    assert fading >= 5
    assert s.engine.stream.lean  # the lean (and compiled) paths again
    compiled = s.engine.frames_compiled
    for _ in range(10):
        assert s.frame() == (2.0,)
    if s.engine.compiled_state == "ready":
        assert s.engine.frames_compiled > compiled


def test_an_unknown_scene_is_counted_and_refused(tmp_path, stage):
    project = _project(tmp_path / "p", {"low": _regression_model(0.0, 1)},
                       output_names=["level"])
    s = stage(project)
    s.frame()
    for bad in (("nowhere",), (7,), (-1,), (), (float("nan"),), (1.5,), ("",), (True,)):
        s.control(*bad)
    s.control("low", "high")  # one scene at a time: not read as "low"
    wait_for(lambda: s.engine.stats()["refused_commands"] == 9)
    stats = s.engine.stats()
    assert stats["scenes"]["unknown"] == 8 and stats["errors"] == 0
    assert "argument" in stats["refused"]["scene"][1]
    assert stats["scenes"]["current"] is None
    assert abs(s.frame()[0]) < 0.05  # still playing "low"


def test_a_recall_naming_no_scene_says_so(tmp_path, stage):
    # a controller's button sending /gesturemap/scene with its argument left empty
    project = _project(tmp_path / "p", {"low": _regression_model(0.0, 1)},
                       output_names=["level"])
    s = stage(project)
    s.control()
    wait_for(lambda: s.engine.stats()["refused_commands"] == 1)
    why = s.engine.stats()["refused"]["scene"][1]
    assert "no scene named (scenes: low;" in why and "None" not in why, why


def test_a_project_without_scenes_runs_as_before(tmp_path, stage):
    project = Project("plain", model={"kind": "gmm", "params": {"gaussians": 1}},
                      output_names=["level"])
    project.trained = _regression_model(1.0, 2)
    project.input_dim = 2
    project.save(tmp_path / "p")
    s = stage(Project.load(tmp_path / "p"))
    assert abs(s.frame()[0] - 1.0) < 0.05
    s.control("any")
    wait_for(lambda: s.engine.stats()["scenes"]["unknown"] == 1)
    assert abs(s.frame()[0] - 1.0) < 0.05


def test_a_controller_resending_scenes_faster_than_they_fade_never_nests_fades(tmp_path,
                                                                               stage):
    """Recalls every 20 ms (a controller re-sending its scene, or flipping between two):
    a recall mid-fade starts the next fade from where the outputs are, so fades never nest,
    the outputs never jump, the scene playing already is not recalled again, and a take
    recorded afterwards is kept."""
    project = _project(tmp_path / "p", {"low": _regression_model(0.0, 1),
                                        "high": _regression_model(1.0, 2)},
                       output_names=["level"], fade_s=0.5)
    s = stage(project)
    engine = s.engine
    values = [float(s.frame()[0])]
    nested = 0
    for i in range(60):
        s.control("high" if (i // 5) % 2 else "low")
        for _ in range(4):
            values.append(float(s.frame()[0]))
            stream = engine.stream
            nested += isinstance(stream, CrossfadeStream) and isinstance(
                stream.old, CrossfadeStream)
    assert nested == 0
    steps = np.abs(np.diff(values))
    assert steps.max() < 0.1, f"the outputs jumped: {np.round(values, 3)}"
    stats = engine.stats()
    assert stats["errors"] == 0 and stats["scenes"]["repeats"] >= 40
    s.control("high")
    _paced(s, 0.8)  # the fade ends on a frame
    assert engine.stats()["scenes"]["current"] == "high"
    assert not engine.stats()["scenes"]["fading"]
    assert abs(s.frame()[0] - 1.0) < 0.05
    # a take recorded after all that is kept (the stream resets cleanly for it)
    takes = len(engine.project.takes)
    engine.command("set_outputs", 0.5)
    engine.command("start_recording")
    for _ in range(30):
        s.frame()
    engine.command("stop_recording")
    wait_for(lambda: len(engine.project.takes) == takes + 1)
    assert engine.stats()["errors"] == 0


def test_a_burst_of_recalls_never_builds_streams_on_the_frame_path(tmp_path, stage,
                                                                   monkeypatch):
    """2,000 recalls in one burst: those beyond the streams made ready wait for the I/O
    thread's next one (the last recall wins) instead of building streams between two
    frames (a spotting stream takes milliseconds to build: 2,000 of them left the engine
    deaf for seconds), and the next frame is answered at once."""
    import threading

    from gesturemap.live.scenes import SceneRuntime

    built_on: list[str] = []
    build = SceneRuntime._stream

    def traced(self, scene):  # noqa: ANN001, ANN202
        built_on.append(threading.current_thread().name)
        return build(self, scene)

    monkeypatch.setattr(SceneRuntime, "_stream", traced)
    project = _project(tmp_path / "p", {"low": _regression_model(0.0, 1),
                                        "high": _regression_model(1.0, 2)},
                       output_names=["level"], fade_s=0.0)
    s = stage(project)
    s.frame()
    burst = [osc_message("/gesturemap/scene", name) for name in ("low", "high")]
    for i in range(2000):
        s.tx.sendto(burst[i % 2], s.to)
    s.control("high")  # the last of the burst
    t0 = time.perf_counter()
    s.frame()
    assert time.perf_counter() - t0 < 1.0
    wait_for(lambda: s.engine.stats()["scenes"]["current"] == "high"
             and s.engine.stats()["scenes"]["pending"] is None, timeout=30)
    assert abs(s.frame()[0] - 1.0) < 0.05
    stats = s.engine.stats()
    assert stats["errors"] == 0 and stats["scenes"]["cold_recalls"] > 0
    assert built_on and set(built_on) == {"gesturemap-io"}  # never the engine thread


@pytest.mark.parametrize("fade_s", [0.0, 0.2], ids=["cut", "crossfade"])
def test_a_recall_and_the_end_of_its_fade_pack_no_stream_between_two_frames(
        tmp_path, stage, monkeypatch, fade_s):
    """A scene's streams are packed for the compiled path on the I/O thread as they are
    made: the recall (or, with a crossfade, the end of the fade) installs the stream and
    encodes its reply templates, nothing more. Packed on the engine's side, every recall
    held the first frame after it 1-2 ms (and the end of each fade another millisecond)."""
    import threading

    from gesturemap.live import compiled

    packed_on: list[str] = []
    real = compiled._packed

    def traced(items):  # noqa: ANN001, ANN202
        packed_on.append(threading.current_thread().name)
        return real(items)

    monkeypatch.setattr(compiled, "_packed", traced)
    project = _project(tmp_path / "p", {"left": _classifier("a", "b"),
                                        "right": _classifier("b", "a")}, fade_s=fade_s)
    s = stage(project)
    assert s.frame() == (1.0,)
    packed_on.clear()  # (the project's own stream, packed as the engine was made)
    s.control("right")
    assert s.frame() == (2.0,)
    deadline = time.monotonic() + 5.0
    while isinstance(s.engine.stream, CrossfadeStream):
        assert time.monotonic() < deadline, "the fade never ended"
        assert s.frame() == (2.0,)
        time.sleep(0.005)
    assert s.frame() == (2.0,)
    wire = s.engine._wire
    assert wire is not None and wire.stream is s.engine.stream  # the compiled path's again
    wait_for(lambda: packed_on)  # the stream the I/O thread made for the next recall
    assert set(packed_on) == {"gesturemap-io"}  # never the thread answering the frames


def test_a_training_asked_for_before_a_recall_never_replaces_the_recalled_scene(tmp_path):
    """Train in one scene, recall another before the training is done: the training (of the
    mapping left) is cancelled and said; the recalled scene plays its own model, and the
    project saved afterwards holds its own settings with its own model (a recall is no
    change of the project's mapping), the recalled scene's in its entry."""
    import threading

    from tests.stage_helpers import osc_messages

    rng = np.random.default_rng(3)
    project = Project("scenes", model={"kind": "gmm", "params": {
        "gaussians": 1, "decision": "window", "likelihood_window": 1}}, outputs={"extras": True})
    for _ in range(3):
        project.add_take(np.array(FRAME) + rng.normal(0, 0.05, size=(40, 2)), "a")
        project.add_take(np.array([5.0, 5.0]) + rng.normal(0, 0.05, size=(40, 2)), "b")
    project.train()
    project.save_scene("gmm")
    project.model = {"kind": "knn", "params": {"k": 1}}
    project.train()
    project.save_scene("knn")
    project.recall_scene("gmm")
    project.save(tmp_path / "p")
    rx = osc_receiver()
    engine = loopback_engine(tmp_path / "p", rx)
    project = engine.project  # the project as the engine opened it
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    to = ("127.0.0.1", engine.osc_port)
    held, release = threading.Event(), threading.Event()
    try:
        wait_for(lambda: engine.scenes.ready)
        # the I/O thread busy (a save, say): the training waits behind it, as a long one runs
        engine._io.put(lambda: (held.set(), release.wait(60)))
        assert held.wait(10)
        tx.sendto(osc_message("/wekinator/control/train"), to)
        tx.sendto(osc_message("/gesturemap/scene", "knn"), to)
        wait_for(lambda: engine.stats()["scenes"]["current"] == "knn")
        release.set()
        done = threading.Event()
        engine._io.put(done.set)
        assert done.wait(10)
        job = engine._train_job
        if job is not None:  # the training went ahead: wait for its answer
            wait_for(job.done)
        knn = project.scene("knn")
        got = osc_messages(rx, lambda m: any(a == "/gesturemap/training_failed" for a, _ in m),
                           timeout=5.0)
        for _ in range(20):  # every frame answered, by the recalled scene's model
            tx.sendto(float_msg("/wek/inputs", *FRAME), to)
            got += osc_messages(rx, lambda m: any(a == "/wek/outputs" for a, _ in m))
        assert sum(a == "/wek/outputs" for a, _ in got) == 20
        assert engine.model is knn.trained and engine.trainings == 0
        assert project.model == knn.model
        notices = [p for a, p in got if a == "/gesturemap/training_failed"]
        assert notices and "scene 'knn' was recalled" in notices[0][0]
        assert engine.stats()["errors"] == 0
        engine.command("set_label", "a")  # an edit: the project is saved
        engine._autosave()
        saved = threading.Event()
        engine._io.put(saved.set)
        assert saved.wait(10)
        again = Project.load(tmp_path / "p")
        own = project.scene("gmm")  # the mapping the project was saved with
        assert again.model == own.model and type(again.trained) is type(own.trained)
        assert again.scene("knn").model == knn.model
    finally:
        release.set()
        engine.stop()
        tx.close()
        rx.close()


def test_a_mistyped_scene_message_is_refused_and_said(tmp_path):
    """``/gesturemap/scenes chorus`` (a typo of the performer's controller) is refused and said
    over OSC, as every unknown ``/gesturemap/`` address, never ignored unheard; gesturemap's own
    messages looped back to its input are left alone; every frame is answered meanwhile."""
    from tests.stage_helpers import osc_messages, project_with_scenes

    project = Project.load(project_with_scenes(tmp_path / "p"))
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.2)
    engine = Engine(project, osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", rx.getsockname()[1]),
                    trainer="thread").start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    to = ("127.0.0.1", engine.osc_port)
    try:
        wait_for(lambda: engine.scenes.ready)
        for address in ("/gesturemap/scenes", "/gesturemap/Scene", "/gesturemap/scene/x"):
            tx.sendto(osc_message(address, "swapped"), to)
        tx.sendto(osc_message("/gesturemap/label", "low", 1), to)  # its own, looped back
        said = osc_messages(rx, lambda m: sum(a == "/gesturemap/refused" for a, _ in m) == 3)
        refused = [p for a, p in said if a == "/gesturemap/refused"]
        assert len(refused) == 3 and all("not a control message" in p[1] for p in refused)
        assert "/gesturemap/scenes" in refused[0][1]
        got = []
        for _ in range(20):
            tx.sendto(float_msg("/wek/inputs", 0.1, 0.1), to)
            got += osc_messages(rx, lambda m: any(a == "/wek/outputs" for a, _ in m))
        assert sum(a == "/wek/outputs" for a, _ in got) == 20
        # the model the project was opened with plays on (its model is "swapped"'s)
        assert {p[0] for a, p in got if a == "/gesturemap/label"} == {"high"}
        stats = engine.stats()
        assert stats["refused_commands"] == 3 and stats["errors"] == 0
        assert stats["scenes"]["recalls"] == 0
    finally:
        engine.stop()
        tx.close()
        rx.close()


def test_costs_set_while_a_scene_plays_stay_with_that_scene(tmp_path):
    """``/gesturemap/costs`` while scene "verse" plays: "verse" keeps them (its next recall
    decides by them, and they are saved in its entry), "chorus" is not touched by them."""
    import json

    from tests.stage_helpers import osc_messages

    project = spotting_project(outputs={"extras": True})
    project.save_scene("verse")
    project.save_scene("chorus")
    project.save(tmp_path / "p")
    rx = osc_receiver()
    engine = loopback_engine(tmp_path / "p", rx)
    project = engine.project  # the project as the engine opened it
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    to = ("127.0.0.1", engine.osc_port)

    def costs() -> object:
        return getattr(getattr(engine.stream, "spotter", None), "costs", None)

    def answered(n: int) -> int:
        got = []
        for _ in range(n):
            tx.sendto(float_msg("/wek/inputs", 0.5, 0.5), to)
            got += osc_messages(rx, lambda m: any(a == "/wek/outputs" for a, _ in m))
        return sum(a == "/wek/outputs" for a, _ in got)

    wanted = {"explosion": {"false": 10.0, "miss": 1.0}}
    try:
        wait_for(lambda: engine.scenes.ready)
        tx.sendto(osc_message("/wekinator/control/startRunning"), to)
        tx.sendto(osc_message("/gesturemap/scene", "verse"), to)
        wait_for(lambda: engine.stats()["scenes"]["current"] == "verse")
        tx.sendto(osc_message("/gesturemap/costs", "explosion", 10.0, 1.0), to)
        wait_for(lambda: costs() == wanted)
        assert answered(10) == 10
        tx.sendto(osc_message("/gesturemap/scene", "chorus"), to)
        wait_for(lambda: engine.stats()["scenes"]["current"] == "chorus")
        assert costs() == {} and answered(10) == 10
        tx.sendto(osc_message("/gesturemap/scene", "verse"), to)
        wait_for(lambda: engine.stats()["scenes"]["current"] == "verse")
        assert costs() == wanted  # the recalled scene decides by its costs again
        assert answered(10) == 10
        assert project.scene("verse").model["spotting"]["costs"] == wanted
        assert "costs" not in project.scene("chorus").model["spotting"]

        def saved() -> dict:
            document = json.loads((tmp_path / "p" / "project.json").read_text())
            return {e["name"]: e["model"]["spotting"] for e in document["scenes"]}

        wait_for(lambda: saved()["verse"].get("costs") == wanted)
        assert "costs" not in saved()["chorus"]
        assert engine.stats()["errors"] == 0
    finally:
        engine.stop()
        tx.close()
        rx.close()
    again = Project.load(tmp_path / "p")
    assert again.scene("verse").model["spotting"]["costs"] == wanted


def test_a_scene_whose_model_takes_other_frames_is_refused_and_the_engine_plays_on(tmp_path,
                                                                                   stage):
    """A scene trained before the sensor or the features changed (its model takes 3 values
    per frame, the project's features are 2): its recall is refused and said, and every
    frame is still answered by the mapping playing, instead of every frame failing in it."""
    rng = np.random.default_rng(1)
    wider = Project(model={"kind": "gmm", "params": {"gaussians": 1}}, output_names=["level"])
    for _ in range(3):
        wider.add_take(rng.normal(size=(60, 3)), "move", outputs=np.full((60, 1), 1.0))
    wider.train()
    project = _project(tmp_path / "p", {"low": _regression_model(0.0, 1),
                                        "old": wider.trained}, output_names=["level"])
    s = stage(project)
    assert abs(s.frame()[0]) < 0.05
    s.control("old")
    answers = [s.frame()[0] for _ in range(50)]
    assert np.allclose(answers, 0.0, atol=0.05)  # "low" plays on
    stats = s.engine.stats()
    assert stats["errors"] == 0 and stats["refused_commands"] == 1
    assert "3 values per frame" in stats["refused"]["scene"][1]
    assert stats["scenes"]["current"] is None and stats["scenes"]["recalls"] == 0
    s.control("low")  # the scenes that fit are recalled as ever
    wait_for(lambda: s.engine.stats()["scenes"]["current"] == "low")
    assert abs(s.frame()[0]) < 0.05


def test_a_recall_that_waited_for_the_scenes_is_refused_as_a_recall(tmp_path):
    """A recall sent before the engine has its scenes ready waits for them; refused then (its
    model does not take the project's frames), it is refused and said as ``scene``, what the
    sender sent, not as the engine's own inner step."""
    from tests.stage_helpers import osc_messages

    rng = np.random.default_rng(1)
    wider = Project(model={"kind": "gmm", "params": {"gaussians": 1}}, output_names=["level"])
    for _ in range(3):
        wider.add_take(rng.normal(size=(60, 3)), "move", outputs=np.full((60, 1), 1.0))
    wider.train()
    project = _project(tmp_path / "p", {"low": _regression_model(0.0, 1),
                                        "old": wider.trained}, output_names=["level"])
    project.outputs = {"extras": True}
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.2)
    engine = Engine(project, osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", rx.getsockname()[1]),
                    trainer="thread")
    import threading

    held, release = threading.Event(), threading.Event()
    engine._io.put(lambda: (held.set(), release.wait(60)))  # the scenes are made behind it
    engine.start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    to = ("127.0.0.1", engine.osc_port)
    try:
        assert held.wait(10)
        tx.sendto(osc_message("/gesturemap/scene", "old"), to)
        wait_for(lambda: engine.stats()["scenes"]["pending"] == "old")
        release.set()
        said = osc_messages(rx, lambda m: any(a == "/gesturemap/refused" for a, _ in m))
        assert [p[0] for a, p in said if a == "/gesturemap/refused"] == ["scene"]
        stats = engine.stats()
        assert list(stats["refused"]) == ["scene"] and stats["errors"] == 0
        tx.sendto(float_msg("/wek/inputs", *FRAME), to)
        got = osc_messages(rx, lambda m: any(a == "/wek/outputs" for a, _ in m))
        assert [p for a, p in got if a == "/wek/outputs"][0][0] == pytest.approx(0.0, abs=0.05)
    finally:
        release.set()
        engine.stop()
        tx.close()
        rx.close()


def test_a_scene_left_out_as_the_project_opens_keeps_its_index(tmp_path, stage):
    """The first scene's model file damaged: the project opens with the others, which keep
    their indices (index 1 is still "mid", as a foot controller's program 1 expects), index 0
    is refused saying why, and a save (the engine's, after a take) writes the damaged entry
    back in its place, so that once the file is fixed every scene is where it was."""
    import json
    import subprocess
    import sys
    import warnings

    _project(tmp_path / "p", {"low": _regression_model(0.0, 1),
                              "mid": _regression_model(0.5, 3),
                              "high": _regression_model(1.0, 2)}, output_names=["level"],
             fade_s=0.0)
    document = json.loads((tmp_path / "p" / "project.json").read_text())
    damaged = tmp_path / "p" / document["scenes"][0]["model_file"]
    good = damaged.read_bytes()
    damaged.write_text("{not json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        project = Project.load(tmp_path / "p")
    assert project.scene_names == ["mid", "high"]
    s = stage(project)
    s.control(1)
    wait_for(lambda: s.engine.stats()["scenes"]["current"] == "mid")
    assert abs(s.frame()[0] - 0.5) < 0.05
    s.control(0)
    wait_for(lambda: s.engine.stats()["refused_commands"] == 1)
    stats = s.engine.stats()
    assert "'low' was left out" in stats["refused"]["scene"][1] and stats["errors"] == 0
    assert abs(s.frame()[0] - 0.5) < 0.05  # "mid" plays on
    project.save(tmp_path / "p")  # any save: the engine's after a take, the window's
    saved = json.loads((tmp_path / "p" / "project.json").read_text())["scenes"]
    assert [e["name"] for e in saved] == ["low", "mid", "high"]
    listed = subprocess.run([sys.executable, "-m", "gesturemap.cli", "scene",
                             str(tmp_path / "p"), "list"], capture_output=True, text=True)
    rows = [line.split("\t")[:2] for line in listed.stdout.splitlines()[1:]]
    assert rows == [["0", "low"], ["1", "mid"], ["2", "high"]], listed.stdout
    assert "left out" in listed.stdout.splitlines()[1]
    damaged.write_bytes(good)  # fixed
    assert Project.load(tmp_path / "p").scene_names == ["low", "mid", "high"]


@pytest.mark.serial("jack-lsl")
def test_a_scene_whose_synth_sound_is_missing_is_refused_and_the_synth_plays_on(tmp_path):
    """A scene whose synth mapping names a sound file that is not there: recalled, its model
    ran while the synth went on with the mapping before, and the missing file was said only
    then, as an I/O error in the middle of the show."""
    from gesturemap.synth import Synth, SynthMapping

    folder = tmp_path / "p"
    project = Project("scenes", model={"kind": "gmm", "params": {"gaussians": 1}},
                      output_names=["level"])
    project.input_dim = 2
    for name, level, sound in (("verse", 0.0, "pad"), ("chorus", 1.0, "gone.wav")):
        project.trained = _regression_model(level, 1)
        project.outputs = {"synth": SynthMapping(follower_sound=sound).to_dict()}
        project.save_scene(name)
    project.recall_scene("verse")
    project.save(folder)
    project = Project.load(folder)
    with jack_audio(None, "scene") as (_, device, _log):
        synth = Synth(SynthMapping(follower_sound="pad"), base_dir=folder,
                      audio={"device": device, "samplerate": 48000, "blocksize": 128})
        _recall_a_scene_with_no_sound(project, synth)


def _recall_a_scene_with_no_sound(project, synth) -> None:  # noqa: ANN001
    rx = osc_receiver()
    engine = Engine(project, osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", rx.getsockname()[1]),
                    trainer="thread", synth=synth).start()
    try:
        wait_for(lambda: engine.scenes.ready)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            tx.sendto(osc_message("/gesturemap/scene", "chorus"), ("127.0.0.1", engine.osc_port))
            wait_for(lambda: engine.stats()["refused_commands"] == 1)
        stats = engine.stats()
        assert "gone.wav" in stats["refused"]["scene"][1], stats["refused"]
        assert stats["scenes"]["current"] is None and stats["scenes"]["recalls"] == 0
        assert stats["errors"] == 0
        assert synth.mapping.follower_sound == "pad" and synth.stats()["audio_callbacks"] > 0
    finally:
        engine.stop()
        rx.close()


def test_costs_set_while_a_scene_plays_leave_the_projects_own_mapping_as_it_was(tmp_path):
    """``/gesturemap/costs`` while scene "verse" plays are the scene's: the save that keeps
    them wrote the scene's model, settings and costs as the project's own mapping too, so
    the project opened next time with "verse" in place of the mapping it was saved with.
    Now the project's own mapping is written as it was, and "verse" keeps the costs."""
    import copy
    import json

    folder = tmp_path / "p"
    project = spotting_project(outputs={"extras": True})
    own_settings, own_model = copy.deepcopy(project.model), project.trained
    project.model = {**project.model, "params": {**project.model["params"], "states": 4}}
    project.train()
    project.save_scene("verse")
    project.model, project.trained = own_settings, own_model
    project.save(folder)
    before = json.loads((folder / "project.json").read_text())
    rx = osc_receiver()
    engine = loopback_engine(folder, rx)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    to = ("127.0.0.1", engine.osc_port)
    wanted = {"explosion": {"false": 10.0, "miss": 1.0}}

    def saved() -> dict:
        return json.loads((folder / "project.json").read_text())

    try:
        wait_for(lambda: engine.scenes.ready)
        tx.sendto(osc_message("/gesturemap/scene", "verse"), to)
        wait_for(lambda: engine.stats()["scenes"]["current"] == "verse")
        tx.sendto(osc_message("/gesturemap/costs", "explosion", 10.0, 1.0), to)
        wait_for(lambda: saved()["scenes"][0]["model"]["spotting"].get("costs") == wanted,
                 timeout=30)
        # the scene plays on with its costs
        assert engine.stream.spotter.costs == wanted
        assert engine.stats()["errors"] == 0
    finally:
        engine.stop()
        tx.close()
        rx.close()
    after = saved()
    assert after["model"] == before["model"] and after["model_file"] == before["model_file"]
    assert after["outputs"] == before["outputs"]
    again = Project.load(folder)
    assert again.model == own_settings and "costs" not in again.model["spotting"]
    assert again.trained.states == 3
    assert again.scene("verse").model["spotting"]["costs"] == wanted
    assert again.scene("verse").model["params"]["states"] == 4


@pytest.mark.slow
def test_a_second_opinion_stored_while_a_scene_plays_is_kept_with_that_scene(tmp_path):
    """The relabeller trained in the Rehearsal tab while scene "verse" plays is stored in the
    running spotting settings: verse keeps it in its entry (a save writes the project's own
    mapping, not the scene's), and verse's next recall spots with it, from streams made
    again off the frame path."""
    from gesturemap.cli import main
    from tests.evaluation.spotting.test_scores import ramp_streams
    from tests.test_cli_train_verifier import _npz
    from tests.test_cli_train_verifier import _project as ramp_project

    streams = ramp_streams(4, excursions=True)
    ramp_project(tmp_path / "other", streams)
    assert main(["train", str(tmp_path / "other"), "--relabeler",
                 str(_npz(tmp_path / "r.npz", streams))]) == 0
    verifier = Project.load(tmp_path / "other").model["spotting"]["verifier"]
    project = ramp_project(tmp_path / "p", streams)
    project.save_scene("verse")
    project.train()  # a model of its own
    project.save_scene("chorus")
    project.save(tmp_path / "p")
    engine = loopback_engine(tmp_path / "p")
    try:
        wait_for(lambda: engine.scenes.ready, timeout=30)
        engine.command("scene", "verse")
        wait_for(lambda: engine.stats()["scenes"]["current"] == "verse")
        engine.command("set_spotting_values", {"verifier": verifier})
        wait_for(lambda: getattr(engine.stream.spotter, "verifier", None) is not None,
                 timeout=30)
        engine.command("scene", "chorus")
        wait_for(lambda: engine.stats()["scenes"]["current"] == "chorus")
        assert getattr(engine.stream.spotter, "verifier", None) is None
        engine.command("scene", "verse")
        wait_for(lambda: engine.stats()["scenes"]["current"] == "verse", timeout=30)
        assert engine.stream.spotter.verifier is not None  # spotted with it again
        engine._autosave()
        wait_for(lambda: "verifier" in Project.load(tmp_path / "p").scene("verse")
                 .model["spotting"], timeout=30)
        assert engine.stats()["errors"] == 0
    finally:
        engine.stop()
    again = Project.load(tmp_path / "p")
    assert "verifier" not in again.model["spotting"]  # the project's own mapping
    assert "verifier" not in again.scene("chorus").model["spotting"]


def test_a_scene_with_no_synth_mapping_plays_the_default_for_its_model_kind():
    """Scenes without a synth mapping of their own play the default one, the one for the
    scene's model: a DTW scene's sounds on a match (a classifier's would leave it nearly
    silent), a classifier scene's as before."""
    from gesturemap.synth import Synth, SynthMapping

    from ..rejection_helpers import dtw_project

    project = dtw_project()
    project.save_scene("gestures")
    gmm = Project(classes=["up", "down"], model={"kind": "gmm", "params": {"gaussians": 1}})
    for take in project.takes:
        gmm.add_take(take.inputs, take.label)
    gmm.train()
    project.model, project.trained = gmm.model, gmm.trained
    project.save_scene("classes")
    rx = osc_receiver()
    engine = Engine(project, osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", rx.getsockname()[1]),
                    trainer="thread").start()
    # the real synth, fed by the engine, without a sound card (it would render offline)
    engine.synth = synth = Synth(None)
    to = ("127.0.0.1", engine.osc_port)
    try:
        wait_for(lambda: engine.scenes.ready, timeout=60)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            tx.sendto(osc_message("/gesturemap/scene", "gestures"), to)
            wait_for(lambda: synth.mapping == SynthMapping.default(None, "dtw"), timeout=60)
            tx.sendto(osc_message("/gesturemap/scene", "classes"), to)
            wait_for(lambda: synth.mapping == SynthMapping.default(None), timeout=60)
        assert engine.stats()["errors"] == 0 and synth.update_errors == 0
    finally:
        engine.stop()
        rx.close()


class _WindowStage:
    """The window's engine on a project saved in ``folder`` (its edits saved there), its
    replies on loopback UDP: a frame in, every message it answered with back."""

    def __init__(self, folder, rx: socket.socket) -> None:  # noqa: ANN001
        from gesturemap.gui.session import WindowEngine

        self.rx = rx
        self.engine = WindowEngine(Project.load(folder), osc_in=("127.0.0.1", 0),
                                   trainer="thread", project_dir=folder).start()
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.to = ("127.0.0.1", self.engine.osc_port)
        wait_for(lambda: self.engine.scenes.ready)

    def frame(self) -> list:
        from tests.stage_helpers import osc_messages

        self.tx.sendto(float_msg("/wek/inputs", *FRAME), self.to)
        return osc_messages(self.rx, bool, timeout=5.0)

    def recall(self, name: str) -> None:
        self.tx.sendto(osc_message("/gesturemap/scene", name), self.to)
        wait_for(lambda: self.engine.stats()["scenes"]["playing"] == name)

    def edit(self, command: str, *args: object) -> None:
        """A command of the window's, applied (the engine thread's next turn)."""
        edits = self.engine.edits
        self.engine.command(command, *args)
        wait_for(lambda: self.engine.edits > edits)

    def close(self) -> None:
        self.engine.stop()
        self.tx.close()
        self.rx.close()


def _routed_scenes(folder, port: int) -> None:  # noqa: ANN001
    """Scenes "low" (0) and "high" (1) of one regression output, both sending to ``port``
    scaled to 0..100, recalled at once; the project's own mapping is "low"'s."""
    outputs = {"port": port,
               "scales": [{"in_min": 0, "in_max": 1, "out_min": 0, "out_max": 100}]}
    project = Project("scenes", model={"kind": "gmm", "params": {"gaussians": 1}},
                      output_names=["level"], outputs=outputs)
    project.input_dim = 2
    for name, level, seed in (("low", 0.0, 1), ("high", 1.0, 2)):
        project.trained = _regression_model(level, seed)
        project.save_scene(name)
    project.recall_scene("low")
    project.scene_fade_s = 0.0
    project.save(folder)


def test_outputs_edited_while_a_scene_plays_are_sent_by_its_next_recall(tmp_path):
    """The Outputs tab shows the scene recalled; an OSC address and a range changed there
    are that scene's: another scene and back, the scene sends with them (not with the
    settings it had as the engine started), and the project saves them in its entry while
    its own mapping stays as it was."""
    import json

    rx = osc_receiver()
    port = rx.getsockname()[1]
    _routed_scenes(tmp_path / "p", port)
    s = _WindowStage(tmp_path / "p", rx)
    try:
        s.recall("high")
        assert s.frame() == [("/wek/outputs", (pytest.approx(100.0, abs=1.0),))]
        s.edit("set_output_settings", {
            "port": port, "addresses": {"outputs": "/synth/level"},
            "scales": [{"in_min": 0, "in_max": 1, "out_min": 0, "out_max": 10}]})
        assert s.frame() == [("/synth/level", (pytest.approx(10.0, abs=0.1),))]
        s.recall("low")
        assert s.frame() == [("/wek/outputs", (pytest.approx(0.0, abs=1.0),))]
        s.recall("high")
        assert s.frame() == [("/synth/level", (pytest.approx(10.0, abs=0.1),))]
        assert s.engine.stats()["errors"] == 0

        def saved() -> dict:
            return json.loads((tmp_path / "p" / "project.json").read_text())

        wait_for(lambda: {e["name"]: e["outputs"].get("addresses") for e in
                          saved()["scenes"]} == {"low": None,
                                                 "high": {"outputs": "/synth/level"}})
        assert saved()["outputs"]["scales"][0]["out_max"] == 100  # the project's own
    finally:
        s.close()
    again = Project.load(tmp_path / "p")
    assert again.scene("high").outputs["scales"][0]["out_max"] == 10


def test_a_rejection_threshold_set_while_a_scene_plays_stays_with_that_scene(tmp_path):
    """The monitor's slider moved while "high" plays sets "high"'s threshold: "low", sending
    on the same route, is recalled with its own (none), and "high" again with the one set."""
    rx = osc_receiver()
    _routed_scenes(tmp_path / "p", rx.getsockname()[1])
    s = _WindowStage(tmp_path / "p", rx)
    try:
        s.recall("high")
        s.edit("set_reject_below", 0.7)
        assert s.engine.output.settings.reject_below == 0.7
        s.recall("low")
        assert s.engine.output.settings.reject_below == 0.0
        assert s.engine.project.scene("low").outputs.get("reject_below", 0.0) == 0.0
        s.recall("high")
        assert s.engine.output.settings.reject_below == 0.7
        assert s.engine.project.scene("high").outputs["reject_below"] == 0.7
    finally:
        s.close()


#: Where three classes' frames are, and the numbers an import gave them (Wekinator's).
CENTRES = {"circle": (0.0, 0.0), "swipe": (4.0, 0.0), "wave": (0.0, 4.0)}
NUMBERS = {"circle": 1, "swipe": 2, "wave": 5}


def _three_classes(outputs: dict) -> Project:
    """A project of CENTRES' three classes (a GMM deciding on each frame), trained, its
    label sent on /gesturemap/label, with its scene "main"."""
    rng = np.random.default_rng(5)
    project = Project("renamed", model={"kind": "gmm", "params": {
        "gaussians": 1, "decision": "window", "likelihood_window": 1}},
        outputs={**outputs, "addresses": {"label": "/gesturemap/label"}})
    for name, centre in CENTRES.items():
        for _ in range(3):
            project.add_take(np.array(centre) + rng.normal(0, 0.5, size=(30, 2)), name)
    project.train()
    project.save_scene("main")
    return project


def _renamed_scene_project(folder):  # noqa: ANN001, ANN202
    """A project numbering its classes (circle 1, swipe 2, wave 5) with the scene "main";
    then wave renamed waves, swipe renamed slide and a new class "swipe" added; saved and
    opened again."""
    project = _three_classes({"class_numbers": dict(NUMBERS)})
    project.rename_class("wave", "waves")
    project.rename_class("swipe", "slide")
    project.add_class("swipe")
    project.save(folder)
    return Project.load(folder)


def test_a_scene_recalled_after_class_renames_sends_the_new_names_by_their_numbers(tmp_path):
    """Classes circle 1, swipe 2, wave 5 saved in a scene; wave renamed waves, swipe renamed
    slide, a new class "swipe" added, the project reopened: the recalled scene sent its
    slide as 6 (the new class's number) and its waves as 7, labelled "swipe" and "wave".
    Now they go out as 2 and 5, labelled "slide" and "waves"."""
    project = _renamed_scene_project(tmp_path / "p")
    assert project.scene("main").trained.labels_ == ["circle", "slide", "waves"]
    assert project.outputs["class_numbers"]["swipe"] == 6
    rx = osc_receiver()
    engine = Engine(project, osc_in=("127.0.0.1", 0),
                    osc_out=("127.0.0.1", rx.getsockname()[1]), trainer="thread").start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    to = ("127.0.0.1", engine.osc_port)
    try:
        wait_for(lambda: engine.scenes.ready)
        tx.sendto(osc_message("/gesturemap/scene", "main"), to)
        wait_for(lambda: engine.scenes.playing() == "main")
        sent = {}
        for old, new in (("swipe", "slide"), ("wave", "waves")):
            # a frame at a time until the label answered is another than before, three
            # times running (replies to earlier frames may still come, and the features
            # glide from one place to the next): 30 s at most on a loaded machine
            deadline, before, answers = time.monotonic() + 30.0, set(sent.values()), []
            while len(answers) < 3 or len(set(answers[-3:])) > 1 or answers[-1] in before:
                assert time.monotonic() < deadline, f"no answer for {old}'s frames: {answers}"
                tx.sendto(float_msg("/wek/inputs", *CENTRES[old]), to)
                got = osc_messages(rx, lambda m: any(a == "/gesturemap/label" for a, _ in m),
                                   timeout=0.5)
                answers += [p for a, p in got if a == "/gesturemap/label"]
            sent[new] = answers[-1]
        assert sent == {"slide": ("slide", 2.0), "waves": ("waves", 5.0)}
    finally:
        engine.stop()
        tx.close()
        rx.close()


def test_a_rename_to_a_class_a_scene_still_plays_is_refused_and_changes_nothing(tmp_path):
    """A scene playing "wave" and "swipe", wave deleted from the project since: renaming
    swipe to "wave" would make that scene answer two classes by one name. It is refused,
    the project unchanged."""
    project = _renamed_scene_project(tmp_path / "p")
    project.remove_class("waves", remove_takes=True)
    project.rename_class("slide", "swipe2")
    before = (project.classes, project.outputs, project.scene("main"))
    with pytest.raises(GesturemapError, match="still plays a class"):
        project.scene("main")  # noqa: B018 - the scene is there
        project.rename_class("swipe2", "waves")
    assert (project.classes, project.outputs, project.scene("main")) == before


def _answer(s: _WindowStage, rx: socket.socket, centre: tuple[float, float]) -> tuple:
    """The label message the engine settles on for frames at ``centre`` (the same three
    times running: replies to frames sent before may still come)."""
    deadline, answers = time.monotonic() + 30.0, []
    while len(answers) < 3 or len(set(answers[-3:])) > 1:
        assert time.monotonic() < deadline, f"no steady answer at {centre}: {answers}"
        s.tx.sendto(float_msg("/wek/inputs", *centre), s.to)
        got = osc_messages(rx, lambda m: any(a == "/gesturemap/label" for a, _ in m),
                           timeout=0.5)
        answers += [p for a, p in got if a == "/gesturemap/label"]
    return answers[-1]


def test_scenes_recalled_after_a_rename_in_the_window_play_the_new_names(tmp_path):
    """Classes circle 1, swipe 2, wave 5 in scenes "main" and "again", the window's engine
    running: wave renamed waves, swipe renamed slide, a new class "swipe" added. Recalled,
    each scene answers "waves" as 5 and "slide" as 2 (the engine played the scenes as it had
    loaded them: "wave" and "swipe"), also from a stream that was being made for the scene
    as it was when the rename came; renamed back, the old names come back."""
    rx = osc_receiver()
    project = _three_classes({"class_numbers": dict(NUMBERS), "port": rx.getsockname()[1]})
    project.save_scene("again")
    project.save(tmp_path / "p")
    s = _WindowStage(tmp_path / "p", rx)
    try:
        runtime = s.engine.scenes
        as_loaded = next(x for x in runtime._scenes if x.name == "main")
        stale = runtime._stream(as_loaded)  # a stream the I/O thread made before the rename
        edits = s.engine.edits
        s.engine.command("rename_class", "wave", "waves")
        s.engine.command("_scene_stream", "main", stale, as_loaded)  # and handed over after
        wait_for(lambda: s.engine.edits > edits)
        s.edit("rename_class", "swipe", "slide")
        s.edit("add_class", "swipe")
        for scene in ("main", "again", "main", "again", "main"):
            s.recall(scene)
            assert _answer(s, rx, CENTRES["wave"]) == ("waves", 5.0), scene
            assert _answer(s, rx, CENTRES["swipe"]) == ("slide", 2.0), scene
        s.edit("remove_class", "swipe")
        s.edit("rename_class", "slide", "swipe")
        s.recall("again")
        assert _answer(s, rx, CENTRES["swipe"]) == ("swipe", 2.0)
        assert _answer(s, rx, CENTRES["wave"]) == ("waves", 5.0)
    finally:
        s.close()


def test_a_rename_while_the_scenes_are_prepared_is_followed_when_they_are_ready(
        tmp_path, monkeypatch):
    """A class renamed in the window while the engine was still preparing its scenes from
    the project as it opened: once prepared, a recall plays the new name."""
    import threading

    from gesturemap.gui.session import WindowEngine
    from gesturemap.live.scenes import SceneRuntime

    rx = osc_receiver()
    _three_classes({"port": rx.getsockname()[1]}).save(tmp_path / "p")
    prepared, renamed = threading.Event(), threading.Event()
    prepare = SceneRuntime.prepare

    def handed_over_after_the_rename(self):  # noqa: ANN001, ANN202
        engine, held = self.engine, []
        engine.command = lambda *args: held.append(args)  # what prepare hands the engine
        try:
            prepare(self)  # from the scenes as the project opened
        finally:
            del engine.command
        prepared.set()
        assert renamed.wait(10.0)
        for args in held:
            engine.command(*args)

    monkeypatch.setattr(SceneRuntime, "prepare", handed_over_after_the_rename)
    s = object.__new__(_WindowStage)
    s.rx = rx
    s.engine = WindowEngine(Project.load(tmp_path / "p"), osc_in=("127.0.0.1", 0),
                            trainer="thread", project_dir=tmp_path / "p").start()
    s.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.to = ("127.0.0.1", s.engine.osc_port)
    try:
        assert prepared.wait(30.0)
        s.edit("rename_class", "wave", "waves")
        assert not s.engine.scenes.ready
        renamed.set()
        wait_for(lambda: s.engine.scenes.ready)
        s.recall("main")
        assert _answer(s, rx, CENTRES["wave"])[0] == "waves"
    finally:
        s.close()
