"""The engine against a careless or hostile OSC world, over real loopback sockets.

The project's input size wins over a wrong first frame; deleteAllExamples moves takes to the
trash, from where the engine and `gesturemap restore` bring them back; a refused command is not
an error; the output socket listens nowhere but the interface it sends on.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from pythonosc.osc_message_builder import OscMessageBuilder

from gesturemap.live.engine import Engine
from gesturemap.project import Project


def _msg(address: str, *values: object) -> bytes:
    b = OscMessageBuilder(address)
    for v in values:
        b.add_arg(v)
    return b.build().dgram


def _wait(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        time.sleep(0.005)


def _engine(project: Project, folder: Path | None = None) -> Engine:
    return Engine(project, project_dir=folder, osc_in=("127.0.0.1", 0),
                  osc_out=("127.0.0.1", 9), trainer="thread").start()


def test_a_wrong_first_frame_does_not_deafen_a_project_that_knows_its_size(tmp_path):
    project = Project.new(tmp_path / "p", inputs=6)  # what `gesturemap new --inputs 6` makes
    engine = _engine(project)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        target = ("127.0.0.1", engine.osc_port)
        tx.sendto(_msg("/wek/inputs", 1.0, 2.0, 3.0), target)  # `oscsend ... fff 1 2 3`
        for i in range(50):
            tx.sendto(_msg("/wek/inputs", *[float(i)] * 6), target)
            time.sleep(0.001)
        _wait(lambda: engine.frames_in == 50)
        stats = engine.stats()
    finally:
        engine.stop()
        tx.close()
    assert project.input_dim == 6
    assert stats["sources"]["osc"]["bad_packets"] == 1 and stats["bad_frames"] == 0
    assert stats["errors"] == 0


def _recorded_project(folder: Path) -> Project:
    project = Project.new(folder, inputs=2)
    rng = np.random.default_rng(1)
    for i in range(4):
        project.add_take(rng.normal(size=(15, 2)), "ab"[i % 2], times=np.arange(15) / 100)
    project.save(folder)
    return project


def test_delete_all_examples_over_osc_goes_to_the_trash_and_comes_back(tmp_path):
    folder = tmp_path / "p"
    project = _recorded_project(folder)
    before = {t.id: t.inputs.copy() for t in project.takes}
    engine = _engine(Project.load(folder), folder)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        tx.sendto(_msg("/wekinator/control/deleteAllExamples"), ("127.0.0.1", engine.osc_port))
        _wait(lambda: not list((folder / "takes").glob("*.npz")))
        stats = engine.stats()
        assert stats["takes"] == 0 and stats["control_deletions"] == [sorted(before)]
        assert sorted(p.stem for p in (folder / "trash").glob("*.npz")) == sorted(before)
        # the engine's own undo (the window's undo sends this)
        engine.command("restore_takes", sorted(before))
        _wait(lambda: len(list((folder / "takes").glob("*.npz"))) == 4)
        assert engine.stats()["control_deletions"] == []
        tx.sendto(_msg("/wekinator/control/deleteAllExamples"), ("127.0.0.1", engine.osc_port))
        _wait(lambda: not list((folder / "takes").glob("*.npz")))
    finally:
        engine.stop()
        tx.close()
    listed = subprocess.run([sys.executable, "-m", "gesturemap.cli", "restore", str(folder),
                             "--list"], capture_output=True, text=True, timeout=120, check=True)
    assert "4 takes in the trash" in listed.stdout
    done = subprocess.run([sys.executable, "-m", "gesturemap.cli", "restore", str(folder)],
                          capture_output=True, text=True, timeout=120, check=True)
    assert "restored 4 takes" in done.stdout
    back = Project.load(folder)
    assert {t.id: t.inputs.tolist() for t in back.takes} == {
        k: v.tolist() for k, v in before.items()}
    assert not list((folder / "trash").glob("*"))


def test_refused_commands_are_not_errors(tmp_path):
    engine = _engine(Project.new(tmp_path / "p", inputs=2))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        target = ("127.0.0.1", engine.osc_port)
        for packet in (_msg("/wekinator/control/startDtwRecording", 1.5),  # no class number
                       _msg("/wekinator/control/train"),  # no takes
                       _msg("/wekinator/control/outputs", "x"),  # not a number
                       _msg("/wekinator/control/outputs"),  # no value
                       _msg("/wekinator/control/noSuchThing")):
            tx.sendto(packet, target)
        _wait(lambda: engine.sources[0].stats.control_messages == 5)
        # all five are refused, the unknown verb too (the test waited for 4 and then read
        # the count: it failed whenever the fifth came in between)
        _wait(lambda: engine.refused_commands == 5)
        time.sleep(0.2)  # nothing more comes: no refusal counted twice
        stats = engine.stats()
    finally:
        engine.stop()
        tx.close()
    assert stats["errors"] == 0 and stats["sources"]["osc"]["errors"] == 0
    assert stats["refused_commands"] == 5


def test_the_output_socket_is_bound_to_the_interface_it_sends_on(tmp_path):
    engine = _engine(Project.new(tmp_path / "p", inputs=2))
    try:
        host, port = engine.output._sock.getsockname()
    finally:
        engine.stop()
    assert host == "127.0.0.1" and port != 0


def test_stats_file_has_kernel_drops_and_refused_commands(tmp_path):
    stats_file = tmp_path / "stats.json"
    engine = Engine(Project.new(tmp_path / "p", inputs=2), osc_in=("127.0.0.1", 0),
                    osc_out=("127.0.0.1", 9), trainer="thread", stats_file=stats_file).start()
    engine.stop()
    written = json.loads(stats_file.read_text())
    assert written["kernel_drops"] == 0 and written["refused_commands"] == 0


def test_stats_file_is_written_as_the_engine_starts(tmp_path):
    """A monitor started with the engine finds the stats file at once, not a second later
    (the stats thread writes it every second after that)."""
    stats_file = tmp_path / "stats.json"
    engine = Engine(Project.new(tmp_path / "p", inputs=2), osc_in=("127.0.0.1", 0),
                    osc_out=("127.0.0.1", 9), trainer="thread", stats_file=stats_file).start()
    try:
        written = json.loads(stats_file.read_text())
    finally:
        engine.stop()
    assert written["frames_in"] == 0 and written["errors"] == 0


def test_stats_reads_the_sources_once_while_the_window_swaps_them(tmp_path):
    """The window replaces ``engine.sources`` (another sensor) from its own thread while
    stats() runs on another: stats() must pair each source with its own snapshot, never two
    different lists (a ValueError in the window's status timer, seen under load)."""
    engine = Engine(Project.new(tmp_path / "p", inputs=2), osc_in=("127.0.0.1", 0),
                    osc_out=("127.0.0.1", 9), trainer="thread").start()
    try:
        real = list(engine.sources)
        reads = [0]

        class Swapping(type(engine)):
            @property
            def sources(self):  # every read sees the list after another swap
                reads[0] += 1
                return real if reads[0] % 2 else real + real

            @sources.setter
            def sources(self, value):
                pass

        engine.__class__ = Swapping
        try:
            names = engine.stats()["sources"]
        finally:
            engine.__class__ = Swapping.__mro__[1]
        assert set(names) == {s.name for s in real}
    finally:
        engine.stop()
