"""Wekinator's ``setInputNames`` / ``setOutputNames`` (Wekinator's example sketches send them
when they start) over real loopback UDP against a `gesturemap run`: the names are the
project's from then on, saved with it as every other edit, so the project opened again (the
window, a restart on stage, an export) has them."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys

import pytest

from gesturemap.project import Project
from tests.stage_helpers import (
    OscPeer,
    free_port,
    loopback_engine,
    osc_message,
    osc_messages,
    osc_receiver,
    start_run,
    stop_run,
    wait_for,
)

pytestmark = pytest.mark.timeout(180)


@contextlib.contextmanager
def _controller(folder):  # noqa: ANN001, ANN202
    """The project in ``folder`` run by an engine on loopback, and a function sending it a
    Wekinator control message; stopped at the end."""
    from tests.stage_helpers import loopback_engine

    engine = loopback_engine(folder)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send(verb: str, *args: object) -> None:
        tx.sendto(osc_message("/wekinator/control/" + verb, *args),
                  ("127.0.0.1", engine.osc_port))

    try:
        yield engine, send
    finally:
        tx.close()
        engine.stop()


def _names(folder) -> tuple:  # noqa: ANN001
    saved = json.loads((folder / "project.json").read_text())
    return saved.get("input_names"), saved.get("output_names")


def test_names_a_client_sets_are_saved_with_the_project(tmp_path):
    """A sketch names the inputs (and tries the outputs, which Wekinator refuses once a
    project is made), then the performer stops the run before any training. The names were
    kept in memory only: the project opened again had x0, x1."""
    folder = tmp_path / "proj"
    subprocess.run([sys.executable, "-m", "gesturemap.cli", "new", str(folder), "--inputs", "2",
                    "--outputs", "2", "--model", "knn"], check=True, timeout=120)
    client = OscPeer(free_port())
    run, _ = start_run(folder, "--osc-in", f"127.0.0.1:{client.port_in}", "--osc-out",
                       f"127.0.0.1:{client.port_out}")
    wanted = (["accX", "accY"], ["out1", "out2"])
    try:
        for verb, names in (("setOutputNames", ["cutoff", "gain"]),
                            ("setInputNames", wanted[0])):
            client.tx.sendto(osc_message("/wekinator/control/" + verb, *names),
                             ("127.0.0.1", client.port_in))
        wait_for(lambda: _names(folder) == wanted, 60)  # saved while it runs
    finally:
        client.close()
        stop_run(run)
    project = Project.load(folder)
    assert project.input_names == ("accX", "accY")
    assert project.output_names == ("out1", "out2")


def test_names_sent_as_numbers_are_refused_and_the_names_stay(tmp_path):
    """Wekinator refuses setInputNames / setOutputNames with an argument that is not text. A
    message box of numbers (1 2) was taken as the names "1" and "2.5": the saved project's
    channels and outputs were renamed to them. Refused now, saying which argument and what to
    send; the names, in memory and in the folder, stay as they were."""
    folder = tmp_path / "proj"
    Project(input_names=["accX", "accY"], output_names=["cutoff", "gain"],
            model={"kind": "knn", "params": {}}).save(folder)
    with _controller(folder) as (engine, send):
        send("setInputNames", 1, 2.5)
        send("setOutputNames", "pitch", (3.0, "d"))
        wait_for(lambda: engine.refused_commands == 2, 60)
        refused = engine.stats()["refused"]
        assert refused["set_input_names"][1] == (
            "setInputNames: argument 1 (1) is not text; send each input name as an OSC "
            "string, as Wekinator expects; the inputs keep their names")
        assert "setOutputNames: argument 2 (3.0) is not text" in refused["set_output_names"][1]
        assert engine.project.input_names == ("accX", "accY")
        assert engine.project.output_names == ("cutoff", "gain")
        send("setInputNames", "roll", "pitch")  # text is taken, as before
        wait_for(lambda: _names(folder)[0] == ["roll", "pitch"], 60)
        assert engine.refused_commands == 2 and engine.stats()["errors"] == 0
    assert Project.load(folder).output_names == ("cutoff", "gain")


def test_output_names_for_a_classifier_of_another_number_are_refused(tmp_path):
    """Wekinator refuses setOutputNames of another number of names than its outputs. A
    classifier project took "hue" "saturation" (a patch made for a two-output project) and
    said nothing: its performer never learnt the patch was for another project. Refused now,
    saying the project has one output, the class number; one name is refused too (Wekinator
    names no output once a project is made), and the project stays a classifier, in memory
    and in its folder."""
    folder = tmp_path / "proj"
    Project(input_names=["accX", "accY"], model={"kind": "gmm", "params": {}}).save(folder)
    with _controller(folder) as (engine, send):
        send("setOutputNames", "hue", "saturation")
        wait_for(lambda: engine.refused_commands == 1, 60)
        assert engine.stats()["refused"]["set_output_names"][1] == (
            "setOutputNames: 2 names; the project has 1 output (the class number), which "
            "keeps its meaning")
        send("setOutputNames", "gesture")
        send("setInputNames", "roll", "pitch")  # taken after the name before it
        wait_for(lambda: _names(folder)[0] == ["roll", "pitch"], 60)
        assert engine.refused_commands == 2 and engine.stats()["errors"] == 0
        assert "outputs are named when a project is made" in (
            engine.stats()["refused"]["set_output_names"][1])
        assert engine.project.output_names is None
    assert Project.load(folder).output_names is None


def test_output_names_of_the_right_number_are_refused_once_the_project_is_made(tmp_path):
    """Wekinator names outputs on its new-project screen and refuses setOutputNames once the
    project exists ("cannot be changed after project is created"). A regression project took
    two names for its two outputs and renamed them, in memory and in its folder: a sketch
    starting up renamed the outputs its scenes and routes name. Refused now, said as every
    refusal (stats()["refused"], the log, /gesturemap/refused with the extras on); the
    outputs keep their names."""
    folder = tmp_path / "proj"
    Project(input_names=["accX", "accY"], output_names=["cutoff", "gain"],
            model={"kind": "knn", "params": {}}, outputs={"extras": True}).save(folder)
    rx = osc_receiver()
    engine = loopback_engine(folder, rx)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        tx.sendto(osc_message("/wekinator/control/setOutputNames", "pitch", "volume"),
                  ("127.0.0.1", engine.osc_port))
        got = osc_messages(rx, lambda m: any(a == "/gesturemap/refused" for a, _ in m), 30)
        assert engine.refused_commands == 1 and engine.stats()["errors"] == 0
        why = engine.stats()["refused"]["set_output_names"][1]
        assert why == ("setOutputNames: outputs are named when a project is made, not after "
                       "(Wekinator refuses it too); the project has 2 outputs (cutoff, gain), "
                       "which keep their names")
        assert any(a == "/gesturemap/refused" and why in p for a, p in got)
        assert engine.project.output_names == ("cutoff", "gain")
    finally:
        tx.close()
        engine.stop()
        rx.close()
    assert Project.load(folder).output_names == ("cutoff", "gain")
