"""``/gesturemap/costs LABEL FALSE MISS`` (a real engine over loopback UDP): the costs of a
gesture's mistakes land in the project's spotting settings, saved, and in the running
spotter's decision; bad ones are refused, and the window's ``set_spotting_values`` applies thresholds
to the running spotter without retraining."""

from __future__ import annotations

import socket
import threading

import numpy as np
import pytest

from gesturemap.live.engine import Engine
from gesturemap.project import Project
from tests.stage_helpers import loopback_engine, osc_receiver, spotting_project, wait_for
from tests.stage_helpers import osc_message as msg

pytestmark = pytest.mark.timeout(120)


def test_costs_over_osc_are_stored_and_bad_ones_refused(tmp_path):
    project = spotting_project()
    project.save(tmp_path / "p")
    engine = loopback_engine(tmp_path / "p")
    project = engine.project  # the project as the engine opened it
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        target = ("127.0.0.1", engine.osc_port)
        tx.sendto(msg("/gesturemap/costs", "explosion", 10.0, 1.0), target)
        wanted = {"explosion": {"false": 10.0, "miss": 1.0}}
        wait_for(lambda: project.model["spotting"].get("costs") == wanted)
        wait_for(lambda: Project.load(tmp_path / "p").model["spotting"].get("costs") == wanted)
        # the running spotter decides by them at once (no retraining)
        wait_for(lambda: getattr(getattr(engine.stream, "spotter", None), "costs", None)
                 == wanted)
        tx.sendto(msg("/gesturemap/costs", "swell", 1, 0.25), target)  # an int is a number too
        wait_for(lambda: len(project.model["spotting"].get("costs", {})) == 2)
        assert project.model["spotting"]["costs"]["swell"] == {"false": 1.0, "miss": 0.25}
        for bad in (("circle", 2.0, 1.0), ("explosion", -1.0, 1.0), ("null", 2.0, 1.0)):
            refused = engine.refused.get("costs", (0, ""))[0]
            tx.sendto(msg("/gesturemap/costs", *bad), target)
            wait_for(lambda r=refused: engine.refused.get("costs", (0, ""))[0] == r + 1)
        assert "no gesture" in engine.refused["costs"][1] or "number" in engine.refused["costs"][1]
        tx.sendto(msg("/gesturemap/costs", "explosion", 1.0, 1.0), target)  # back to ordinary
        wait_for(lambda: project.model["spotting"]["costs"] == {
            "swell": {"false": 1.0, "miss": 0.25}})
        assert engine.stats()["errors"] == 0
    finally:
        engine.stop()
        tx.close()


def test_thresholds_set_apply_to_the_running_spotter_without_retraining():
    project = spotting_project()
    engine = Engine(project, osc_in=("127.0.0.1", 0), trainer="thread").start()
    try:
        trainings = engine.trainings
        engine.command("set_spotting_values", {"thresholds": {"swell": 1e9}})
        wait_for(lambda: getattr(getattr(engine.stream, "spotter", None), "thresholds_",
                                 None) is not None
                 and 1e9 in engine.stream.spotter.thresholds_)
        assert project.model["spotting"]["thresholds"] == {"swell": 1e9}
        engine.command("set_spotting_values", {"thresholds": None})
        wait_for(lambda: "thresholds" not in project.model["spotting"])
        engine.command("set_spotting_values", {"gmm_frames": 20})  # not set here: refused
        wait_for(lambda: "set_spotting_values" in engine.refused)
        assert engine.trainings == trainings
    finally:
        engine.stop()


def test_a_cost_changed_mid_gesture_keeps_the_running_stream_and_its_state():
    """Thresholds and costs changed while the engine runs are followed in place: the same
    spotting stream goes on (a gesture under way is not lost to a new spotter's fresh start,
    and no frame is answered by the model's own stream meanwhile)."""
    from gesturemap.models.spotting.core import SpottingStream
    from gesturemap.sources.base import Frame

    project = spotting_project()
    engine = Engine(project, osc_in=("127.0.0.1", 0), trainer="thread").start()
    try:
        engine.running = True
        wait_for(lambda: isinstance(engine.stream, SpottingStream))
        stream = engine.stream
        t = np.linspace(0, 1, 40)[:, None]
        gesture = np.hstack([t, 1 - t])  # a swell
        for i, frame in enumerate(gesture[:20]):  # its first half
            engine.queue.put(Frame(10.0 + 0.02 * i, frame, "test"))
        wait_for(lambda: stream._t >= 20)
        engine.command("costs", "explosion", 10.0, 1.0)
        wait_for(lambda: engine.stream.spotter.costs.get("explosion", {}).get("false") == 10.0)
        assert engine.stream is stream and stream._t >= 20  # not rebuilt: its frames kept
        engine.command("set_spotting_values", {"thresholds": {"swell": 1e9}})
        wait_for(lambda: 1e9 in engine.stream.spotter.thresholds_)
        assert engine.stream is stream
        # another setting still builds a new spotter
        engine.command("set_spotting_values", {"detector": None, "thresholds": None})
        wait_for(lambda: engine.stream is not stream
                 and isinstance(engine.stream, SpottingStream))
        assert 1e9 not in engine.stream.spotter.thresholds_
        assert engine.stream.spotter.costs["explosion"]["false"] == 10.0
        assert engine.stats()["errors"] == 0
    finally:
        engine.stop()


def test_another_spotting_setting_keeps_spotting_until_the_new_spotter_is_ready():
    """A spotting setting that needs a new spotter (built on the I/O thread) leaves the
    running spotter in place until the new one is ready: no frame is answered meanwhile by
    the model's own stream, which spots nothing."""
    from gesturemap.models.spotting.core import SpottingStream
    from gesturemap.sources.base import Frame

    project = spotting_project()
    engine = Engine(project, osc_in=("127.0.0.1", 0), trainer="thread").start()
    release, held = threading.Event(), threading.Event()
    try:
        engine.running = True
        wait_for(lambda: isinstance(engine.stream, SpottingStream))
        stream = engine.stream
        # the I/O thread busy (a save, a detector read): the new spotter waits behind it
        engine._io.put(lambda: (held.set(), release.wait(60)))
        assert held.wait(10)
        engine.command("set_spotting_values", {"detector": None, "thresholds": {"swell": 5.0}})
        wait_for(lambda: project.model["spotting"].get("thresholds") == {"swell": 5.0})
        t = np.linspace(0, 1, 40)[:, None]
        for i, frame in enumerate(np.hstack([t, 1 - t])[:10]):
            engine.queue.put(Frame(10.0 + 0.02 * i, frame, "test"))
        wait_for(lambda: stream._t >= 10)  # the running spotter answered them
        assert engine.stream is stream
        release.set()
        wait_for(lambda: engine.stream is not stream
                 and isinstance(engine.stream, SpottingStream))
        assert 5.0 in engine.stream.spotter.thresholds_
        assert engine.stats()["errors"] == 0
    finally:
        release.set()
        engine.stop()


def test_costs_without_both_numbers_are_refused_and_change_nothing(tmp_path):
    """``/gesturemap/costs LABEL`` or ``LABEL FALSE`` (a controller's message cut short): refused
    and said, the gesture's costs kept; never read as the ordinary 1 and 1, which would take
    them out. Every frame meanwhile is answered and the spotter still fires."""
    from tests.stage_helpers import osc_messages

    project = spotting_project()
    project.outputs = {"extras": True}
    project.save(tmp_path / "p")
    rx = osc_receiver()
    engine = loopback_engine(tmp_path / "p", rx)
    project = engine.project  # the project as the engine opened it
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target = ("127.0.0.1", engine.osc_port)
    try:
        tx.sendto(msg("/wekinator/control/startRunning"), target)
        tx.sendto(msg("/gesturemap/costs", "explosion", 10.0, 2.0), target)
        wanted = {"explosion": {"false": 10.0, "miss": 2.0}}
        wait_for(lambda: Project.load(tmp_path / "p").model["spotting"].get("costs") == wanted)
        for cut in (("explosion",), ("explosion", 3.0), ("explosion", 3.0, 1.0, 1.0)):
            tx.sendto(msg("/gesturemap/costs", *cut), target)
        wait_for(lambda: engine.refused.get("costs", (0, ""))[0] == 3)
        assert "argument" in engine.refused["costs"][1]
        said = osc_messages(rx, lambda m: sum(a == "/gesturemap/refused" for a, _ in m) == 3)
        assert [p[0] for a, p in said if a == "/gesturemap/refused"] == ["costs"] * 3
        t = np.linspace(0, 1, 40)[:, None]
        frames = np.vstack([np.full((30, 2), 0.5), np.hstack([1 - t, t]), np.full((30, 2), 0.5)])
        got = []
        for frame in frames:
            tx.sendto(msg("/wek/inputs", *map(float, frame)), target)
            got += osc_messages(rx, lambda m: any(a == "/wek/outputs" for a, _ in m))
        assert sum(a == "/wek/outputs" for a, _ in got) == len(frames)
        assert [p[0] for a, p in got if a == "/gesturemap/event"] == ["explosion"]
        assert project.model["spotting"]["costs"] == wanted
        assert Project.load(tmp_path / "p").model["spotting"]["costs"] == wanted
        stats = engine.stats()
        assert stats["errors"] == 0 and stats["refused_commands"] == 3
    finally:
        engine.stop()
        tx.close()
        rx.close()


def test_costs_of_a_class_not_trained_yet_never_turn_spotting_off(tmp_path):
    """``/gesturemap/costs circle 2 1`` for a class of the project its model does not spot
    yet (no takes of it): the costs are stored for when it does, and the running spotter goes
    on firing the gestures it knows, then and after a restart, instead of spotting nothing."""
    from tests.stage_helpers import osc_messages

    project = spotting_project()
    project.add_class("circle")
    project.outputs = {"extras": True}
    project.save(tmp_path / "p")
    wanted = {"circle": {"false": 2.0, "miss": 1.0}}
    t = np.linspace(0, 1, 40)[:, None]
    rest = np.full((30, 2), 0.5)
    frames = np.vstack([rest, np.hstack([t, 1 - t]), rest, np.hstack([1 - t, t]), rest])
    for run in range(2):  # the second: the project as saved, opened again
        rx = osc_receiver()
        engine = loopback_engine(tmp_path / "p", rx)
        project = engine.project  # the project as the engine opened it
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        target = ("127.0.0.1", engine.osc_port)
        try:
            tx.sendto(msg("/wekinator/control/startRunning"), target)
            if run == 0:
                tx.sendto(msg("/gesturemap/costs", "circle", 2.0, 1.0), target)
                wait_for(lambda: Project.load(tmp_path / "p").model["spotting"].get("costs")
                         == wanted)
            wait_for(lambda e=engine: getattr(e.stream, "spotter", None) is not None)
            got = []
            for frame in frames:
                tx.sendto(msg("/wek/inputs", *map(float, frame)), target)
                got += osc_messages(rx, lambda m: any(a == "/wek/outputs" for a, _ in m))
            assert sum(a == "/wek/outputs" for a, _ in got) == len(frames)
            assert [p[0] for a, p in got if a == "/gesturemap/event"] == ["swell", "explosion"]
            assert project.model["spotting"]["costs"] == wanted
            assert engine.stats()["errors"] == 0
        finally:
            engine.stop()
            tx.close()
            rx.close()


def test_a_numbered_gesture_may_come_as_a_float(tmp_path):
    """In a project of numbered classes (Wekinator's), ``/gesturemap/costs 2.0 4 1`` as Max or
    TouchOSC sends it (every number a float) sets the costs of gesture 2; 2.5 is refused."""
    rng = np.random.default_rng(2)
    project = Project("numbered", model={"kind": "hhmm", "params": {
        "states": 3, "gaussians": 1, "deltas": False}, "spotting": {"null_label": 3}},
        input_names=["x", "y"])
    t = np.linspace(0, 1, 40)[:, None]
    for _ in range(4):
        project.add_take(np.hstack([t, 1 - t]) + rng.normal(scale=0.03, size=(40, 2)), 1)
        project.add_take(np.hstack([1 - t, t]) + rng.normal(scale=0.03, size=(40, 2)), 2)
        project.add_take(np.full((60, 2), 0.5) + rng.normal(scale=0.03, size=(60, 2)), 3)
    project.train()
    engine = Engine(project, osc_in=("127.0.0.1", 0), trainer="thread").start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target = ("127.0.0.1", engine.osc_port)
    try:
        tx.sendto(msg("/gesturemap/costs", 2.0, 4.0, 1.0), target)
        wanted = {"2": {"false": 4.0, "miss": 1.0}}
        wait_for(lambda: project.model["spotting"].get("costs") == wanted)
        wait_for(lambda: getattr(getattr(engine.stream, "spotter", None), "costs", None)
                 == wanted)
        tx.sendto(msg("/gesturemap/costs", 2.5, 4.0, 1.0), target)
        wait_for(lambda: "costs" in engine.refused)
        assert "2.5 is no gesture" in engine.refused["costs"][1]
        assert engine.stats()["errors"] == 0
    finally:
        engine.stop()
        tx.close()


def test_a_knob_sending_costs_queues_one_save_not_one_per_message(tmp_path):
    """A controller's knob mapped to ``/gesturemap/costs`` sends hundreds of messages: the
    saves they need are shared (one waits at a time), not queued one per message ahead of
    the engine's other work; every frame is answered and the last costs are the ones saved."""
    import json

    project = spotting_project()
    project.save(tmp_path / "p")
    engine = loopback_engine(tmp_path / "p")
    project = engine.project  # the project as the engine opened it
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target = ("127.0.0.1", engine.osc_port)
    try:
        for i in range(500):
            tx.sendto(msg("/gesturemap/costs", "explosion", float(2 + i % 50), 1.0), target)
        tx.sendto(msg("/gesturemap/costs", "explosion", 99.0, 1.0), target)  # where it stops
        last = {"explosion": {"false": 99.0, "miss": 1.0}}
        wait_for(lambda: project.model["spotting"].get("costs") == last, timeout=30)
        assert engine._io.qsize() <= 2  # not hundreds of saves waiting
        done = threading.Event()
        engine._io.put(done.set)
        assert done.wait(10)

        def saved() -> object:
            document = json.loads((tmp_path / "p" / "project.json").read_text())
            return document["model"]["spotting"].get("costs")

        assert saved() == last
        assert engine.refused == {} and engine.stats()["errors"] == 0
    finally:
        engine.stop()
        tx.close()


def test_costs_on_a_project_that_does_not_spot_are_refused_in_the_users_words(tmp_path):
    """``/gesturemap/costs`` to a classifier that spots nothing: the reply named an internal
    command ("set_spotting_values: the project does not spot gestures ... model panel"); it
    says what was refused and what to do, in the window's words."""
    from tests.stage_helpers import osc_messages, two_level_project

    folder = two_level_project(tmp_path / "p")
    rx = osc_receiver()
    engine = loopback_engine(folder, rx)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        tx.sendto(msg("/gesturemap/costs", "high", 10.0, 1.0), ("127.0.0.1", engine.osc_port))
        said = osc_messages(rx, lambda m: any(a == "/gesturemap/refused" for a, _ in m))
        (reply,) = [p for a, p in said if a == "/gesturemap/refused"]
        assert reply[0] == "costs"
        assert "does not spot gestures" in reply[1] and "Model tab" in reply[1]
        assert "set_spotting_values" not in reply[1] and "_" not in reply[1].split(":")[0]
        assert engine.refused["costs"][1] == reply[1]
        assert "spotting" not in Project.load(folder).model
        assert engine.stats()["errors"] == 0
    finally:
        engine.stop()
        tx.close()
        rx.close()
