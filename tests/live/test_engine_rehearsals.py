"""The engine keeps the window's rehearsals in the project (it holds the project's lock): a
recorded one, a copy of a file, a removal; what went wrong is refused and said, and the engine
plays on."""

from __future__ import annotations

import time

import numpy as np
import pytest

from gesturemap.evaluation.spotting.streams import read_stream_file
from gesturemap.live.engine import Engine
from gesturemap.project import Project, kept_rehearsals
from gesturemap.sources.base import Frame
from gesturemap.utils.storage import save_npz
from tests.stage_helpers import wait_for

pytestmark = pytest.mark.timeout(120)


def _engine(tmp_path, **options):
    rng = np.random.default_rng(0)
    project = Project("r", model={"kind": "knn", "params": {"k": 1}}, input_names=["a", "b"])
    for label, centre in (("left", 0.0), ("right", 1.0)):
        for _ in range(3):
            project.add_take(centre + 0.05 * rng.normal(size=(20, 2)), label)
    project.train()
    folder = project.save(tmp_path / "p")
    # a free port, not Wekinator's 6448: tests run side by side
    options = {"osc_in": ("127.0.0.1", 0), **options}
    return Engine(Project.load(folder), trainer="thread", project_dir=folder,
                  **options).start(), folder


def test_kept_copied_removed_and_bad_requests_refused(tmp_path):
    engine, folder = _engine(tmp_path)
    try:
        x = np.random.default_rng(1).normal(size=(80, 2))
        t = 5.0 + 0.01 * np.arange(80)
        engine.command("keep_rehearsal", "rehearsal-1.npz", t, x)
        wait_for(lambda: engine.stats()["rehearsals"].get("rehearsal-1.npz")
                 == ["rehearsal-1.npz", "kept"])
        kept = folder / "rehearsals" / "rehearsal-1.npz"
        np.testing.assert_array_equal(read_stream_file(kept)[0], x)
        np.testing.assert_array_equal(np.load(kept)["times_concat"], t)

        # the same name again, frames that are no recording: refused, said, nothing written
        engine.command("keep_rehearsal", "rehearsal-1.npz", t[:10], x[:10], 7)
        wait_for(lambda: engine.stats()["refused"].get("keep_rehearsal", [0])[0] == 1)
        name, why = engine.stats()["rehearsals"]["7"]
        assert name == "rehearsal-1.npz" and "kept already" in why
        engine.command("keep_rehearsal", "bad.npz", t[:3], np.full((3, 2), np.inf))
        wait_for(lambda: "finite" in engine.stats()["rehearsals"].get("bad.npz", ["", ""])[1])
        assert len(read_stream_file(kept)[0]) == 80
        engine.command("keep_rehearsal", "odd.npz", "not times", x)
        wait_for(lambda: engine.stats()["refused"].get("keep_rehearsal", [0])[0] == 3)
        assert "as numbers" in engine.stats()["refused"]["keep_rehearsal"][1]

        # a file: checked as the audit reads it, then copied
        source = tmp_path / "run.npz"
        save_npz(source, X_concat=x, labels_concat=np.array(["null"] * 40 + ["left"] * 40),
                 lengths=np.array([80]))
        engine.command("keep_rehearsal_file", str(source))
        wait_for(lambda: engine.stats()["rehearsals"].get("run.npz") == ["run.npz", "kept"])
        assert (folder / "rehearsals" / "run.npz").read_bytes() == source.read_bytes()
        broken = tmp_path / "broken.npz"
        save_npz(broken, X_concat=x, labels_concat=np.zeros(3), lengths=np.array([80]))
        engine.command("keep_rehearsal_file", str(broken))
        wait_for(lambda: "labels_concat" in engine.stats()["rehearsals"].get(
            "broken.npz", ["", ""])[1])
        assert [p.name for p in kept_rehearsals(folder)] == ["rehearsal-1.npz", "run.npz"]

        engine.command("remove_rehearsal", "run.npz", "gone")
        wait_for(lambda: engine.stats()["rehearsals"].get("gone") == ["run.npz", "removed"])
        assert (folder / "trash" / "rehearsals" / "run.npz").exists()
        assert [p.name for p in kept_rehearsals(folder)] == ["rehearsal-1.npz"]

        # the engine plays on: a frame in, an answer out; no error of its own
        engine.running = True
        answered = engine.frames_out
        engine.queue.put(Frame(100.0, np.array([0.0, 0.0]), "test"))
        wait_for(lambda: engine.frames_out > answered)
        assert engine.stats()["errors"] == 0
        assert engine.stats()["refused"]["keep_rehearsal_file"][0] == 1
    finally:
        engine.stop()


def test_a_file_the_audit_could_not_read_is_not_kept(tmp_path):
    """Frames of another width than the sensor's, or a label naming no class of the project:
    kept, the file would stop every audit of the rehearsals the project keeps (``gesturemap
    audit DIR``, the window's list), so it is refused with the audit's reason."""
    engine, folder = _engine(tmp_path)
    try:
        x = np.random.default_rng(1).normal(size=(80, 2))
        wide, jump = tmp_path / "wide.npz", tmp_path / "jump.npz"
        save_npz(wide, X_concat=np.hstack([x, x[:, :1]]), labels_concat=np.zeros(80),
                 lengths=np.array([80]))
        save_npz(jump, X_concat=x, labels_concat=np.array(["null"] * 40 + ["jump"] * 40),
                 lengths=np.array([80]))
        for source, why in ((wide, "frames of 3 values, the project takes 2"),
                            (jump, "['jump'] name no gesture of the project")):
            engine.command("keep_rehearsal_file", str(source))
            wait_for(lambda s=source: engine.stats()["rehearsals"].get(s.name, ["", ""])[1]
                     .startswith("not kept"))
            assert why in engine.stats()["rehearsals"][source.name][1]
        assert kept_rehearsals(folder) == []
        wait_for(lambda: engine.stats()["refused"]["keep_rehearsal_file"][0] == 2)
        good = tmp_path / "good.npz"
        save_npz(good, X_concat=x, labels_concat=np.array(["null"] * 40 + ["right"] * 40),
                 lengths=np.array([80]))
        engine.command("keep_rehearsal_file", str(good))
        wait_for(lambda: engine.stats()["rehearsals"].get("good.npz") == ["good.npz", "kept"])
        assert engine.stats()["errors"] == 0
    finally:
        engine.stop()


def test_a_rehearsal_recorded_over_osc_is_kept_and_never_a_take(tmp_path):
    """``/gesturemap/rehearsal 1`` ... ``0`` from a controller, in stage mode: the sensor's
    frames between them are kept in the project as a rehearsal (frames and times), no take
    comes of them, and ``gesturemap audit DIR`` reads it."""
    import socket

    from tests.stage_helpers import osc_message as msg

    rng = np.random.default_rng(0)
    engine, folder = _engine(tmp_path, osc_in=("127.0.0.1", 0))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        target = ("127.0.0.1", engine.osc_port)
        takes = len(engine.project.takes)
        tx.sendto(msg("/gesturemap/rehearsal", 0), target)  # nothing recorded: refused
        wait_for(lambda: engine.stats()["refused"].get("rehearsal", [0])[0] == 1)
        tx.sendto(msg("/gesturemap/rehearsal", "maybe"), target)
        wait_for(lambda: engine.stats()["refused"].get("rehearsal", [0])[0] == 2)
        sent = rng.normal(size=(120, 2)).astype(np.float32)
        before = engine.frames_in
        tx.sendto(msg("/wek/inputs", 9.0, 9.0), target)  # before the start: not kept
        wait_for(lambda: engine.frames_in == before + 1)
        tx.sendto(msg("/gesturemap/rehearsal", 1), target)
        wait_for(lambda: engine.rehearsing)
        for row in sent:
            tx.sendto(msg("/wek/inputs", *map(float, row)), target)
            time.sleep(0.001)
        wait_for(lambda: engine.frames_in == before + 1 + len(sent))
        tx.sendto(msg("/gesturemap/rehearsal", 0), target)
        wait_for(lambda: any(v[1] == "kept" for v in engine.stats()["rehearsals"].values()))
        (kept,) = kept_rehearsals(folder)
        frames = read_stream_file(kept)[0]
        np.testing.assert_array_equal(frames, sent.astype(np.float64))
        times = np.load(kept)["times_concat"]
        assert len(times) == len(sent) and np.all(np.diff(times) >= 0)
        assert len(engine.project.takes) == takes and not engine.rehearsing
        assert engine.stats()["errors"] == 0
    finally:
        engine.stop()
        tx.close()


def test_every_control_verb_of_the_engine_reaches_it_from_the_osc_source():
    from gesturemap.live.engine import GESTUREMAP_CONTROL as verbs
    from gesturemap.sources.osc import GESTUREMAP_CONTROL as addresses

    assert {f"/gesturemap/{v}".encode() for v in verbs} == set(addresses)


def test_a_rehearsal_under_way_when_the_engine_stops_is_kept(tmp_path):
    from gesturemap.sources.base import Frame

    engine, folder = _engine(tmp_path)
    try:
        engine.command("rehearsal", 1)
        wait_for(lambda: engine.rehearsing)
        x = np.random.default_rng(3).normal(size=(50, 2))
        for i, row in enumerate(x):
            engine.queue.put(Frame(20.0 + 0.01 * i, row, "test"))
        wait_for(lambda: engine.frames_in >= len(x))
    finally:
        engine.stop()
    (kept,) = kept_rehearsals(folder)
    np.testing.assert_array_equal(read_stream_file(kept)[0], x)


def test_a_second_value_to_the_rehearsal_message_is_refused_with_its_form(tmp_path):
    """``/gesturemap/rehearsal 1 1`` read its second value as the window's request token (a
    stray ``0 7`` stopped the rehearsal and filed it under "7"): the message takes one value,
    and a second is refused, saying the form; the engine's state is as before each refusal."""
    import socket

    from tests.stage_helpers import osc_message as msg

    engine, folder = _engine(tmp_path, osc_in=("127.0.0.1", 0))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        target = ("127.0.0.1", engine.osc_port)

        def refused() -> int:
            return engine.stats()["refused"].get("rehearsal", [0])[0]

        tx.sendto(msg("/gesturemap/rehearsal", 1, 1), target)
        wait_for(lambda: refused() == 1)
        why = engine.stats()["refused"]["rehearsal"][1]
        assert "1 1" in why and "one value" in why and "/gesturemap/rehearsal 1" in why
        assert not engine.rehearsing and engine.rehearsals_started == 0
        tx.sendto(msg("/gesturemap/rehearsal", 1), target)
        wait_for(lambda: engine.rehearsing)
        for i in range(20):
            tx.sendto(msg("/wek/inputs", float(i), 0.0), target)
        wait_for(lambda: engine.frames_in == 20)
        tx.sendto(msg("/gesturemap/rehearsal", 0, "7"), target)  # refused: it goes on
        wait_for(lambda: refused() == 2)
        assert "0 '7'" in engine.stats()["refused"]["rehearsal"][1] and engine.rehearsing
        tx.sendto(msg("/gesturemap/rehearsal", 0), target)
        wait_for(lambda: any(v[1] == "kept" for v in engine.stats()["rehearsals"].values()))
        assert "7" not in engine.stats()["rehearsals"]
        (kept,) = kept_rehearsals(folder)
        assert len(read_stream_file(kept)[0]) == 20
        assert engine.stats()["errors"] == 0
    finally:
        engine.stop()
        tx.close()


def test_a_take_and_a_rehearsal_never_record_the_same_frames(tmp_path):
    """Over OSC (a pedal, a controller: stage mode), as in the window: a take (or a
    correction) does not start while a rehearsal records, nor a rehearsal while a take records. Otherwise the take's
    gesture would be in the rehearsal as ordinary movement, the spotter finding it counted as
    a false trigger, and the take would retrain the model the rehearsal audits."""
    import socket

    from tests.stage_helpers import osc_message as msg

    engine, folder = _engine(tmp_path, osc_in=("127.0.0.1", 0))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    wek = "/wekinator/control/"
    try:
        target = ("127.0.0.1", engine.osc_port)
        takes = len(engine.project.takes)

        def refused(name: str) -> int:
            return engine.stats()["refused"].get(name, [0])[0]

        def send_frames(n: int) -> None:
            before = engine.frames_in
            for i in range(n):
                tx.sendto(msg("/wek/inputs", float(i), 0.5), target)
            wait_for(lambda: engine.frames_in == before + n)

        tx.sendto(msg("/gesturemap/rehearsal", 1), target)
        wait_for(lambda: engine.rehearsing)
        send_frames(10)
        tx.sendto(msg(wek + "outputs", 2.0), target)
        tx.sendto(msg(wek + "startRecording"), target)  # Wekinator's
        wait_for(lambda: refused("wek_start_recording") == 1)
        assert "rehearsal is being recorded" in engine.stats()["refused"]["wek_start_recording"][1]
        assert not engine.recording
        engine.command("start_recording", "left")  # the window's, a pedal's
        wait_for(lambda: refused("start_recording") == 1)
        assert not engine.recording
        tx.sendto(msg("/gesturemap/correct", "right"), target)  # no gesture: ordinary movement
        wait_for(lambda: refused("correct") == 1)
        assert "rehearsal is being recorded" in engine.stats()["refused"]["correct"][1]
        send_frames(10)
        tx.sendto(msg("/gesturemap/rehearsal", 0), target)
        wait_for(lambda: any(v[1] == "kept" for v in engine.stats()["rehearsals"].values()))
        (kept,) = kept_rehearsals(folder)
        assert len(read_stream_file(kept)[0]) == 20  # every frame, and no take of them
        assert len(engine.project.takes) == takes

        tx.sendto(msg(wek + "startRecording"), target)
        wait_for(lambda: engine.recording)
        send_frames(10)
        tx.sendto(msg("/gesturemap/rehearsal", 1), target)
        wait_for(lambda: refused("rehearsal") == 1)
        assert "a take is being recorded" in engine.stats()["refused"]["rehearsal"][1]
        assert not engine.rehearsing and engine.recording  # the take goes on
        send_frames(10)
        tx.sendto(msg(wek + "stopRecording"), target)
        wait_for(lambda: len(engine.project.takes) == takes + 1)
        assert len(engine.project.takes[-1].inputs) == 20
        assert kept_rehearsals(folder) == [kept] and engine.stats()["errors"] == 0
    finally:
        engine.stop()
        tx.close()
