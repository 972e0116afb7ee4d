"""`gesturemap run`'s audio options, and what it says when there is no audio device.

These run the real command in a subprocess on this machine, which has no sound card: with
no JACK server PortAudio sees no output device at all (JACK_NO_START_SERVER keeps libjack from
starting one).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from gesturemap.cli import EXIT_NO_AUDIO
from gesturemap.project import Project
from tests.jack_audio import jack_audio
from tests.stage_helpers import rest_of


@pytest.fixture()
def project_dir(tmp_path):
    folder = tmp_path / "project"
    Project("audio-options", input_names=["x", "y"]).save(folder)
    return folder


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "JACK_DEFAULT_SERVER"}
    env["JACK_NO_START_SERVER"] = "1"
    env["JACK_DEFAULT_SERVER"] = f"gm-absent-{os.getpid()}"  # a server nobody runs
    return env


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gesturemap.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
    )


def _stderr_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    # libjack may complain on stderr that no server runs: those lines are not ours
    return [line for line in done.stderr.splitlines() if line.startswith("gesturemap")]


def test_an_audio_device_asked_for_and_missing_exits_with_one_line(project_dir):
    done = _run("run", str(project_dir), "--osc-in", "127.0.0.1:0", "--audio-device", "Scarlett")
    assert done.returncode == EXIT_NO_AUDIO, done.stderr
    (line,) = _stderr_lines(done)
    assert line.startswith("gesturemap run: no audio output device found"), line
    assert "--no-audio" in line  # says what to do
    assert "listening" not in done.stdout


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--audio-latency", "soon", "expected low, high or a number of seconds"),
        ("--sample-rate", "5", "audio samplerate"),
        ("--block-size", "100000", "audio blocksize"),
    ],
)
def test_bad_audio_options_are_refused_before_anything_opens(project_dir, option, value, expected):
    done = _run("run", str(project_dir), "--osc-in", "127.0.0.1:0", option, value)
    assert done.returncode not in (0, EXIT_NO_AUDIO), done
    (line,) = _stderr_lines(done)
    assert line.startswith("gesturemap run: ") and expected in line, line


def _start_run(*args: str) -> subprocess.Popen[str]:
    """`gesturemap run ARGS` in a process of its own, stopped by the caller."""
    return subprocess.Popen([sys.executable, "-m", "gesturemap.cli", "run", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())


def _run_until_ctrl_c(*args: str, while_running=lambda: None) -> tuple[str, str]:
    """`gesturemap run ARGS` until it listens, ``while_running()``, then Ctrl-C; its stdout
    and stderr once it exited 0, saying once that it runs without the synth."""
    proc = _start_run(*args)
    try:
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline and "listening" not in line:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
        assert "listening" in line, proc.stderr.read() if proc.poll() is not None else line
        while_running()
        proc.send_signal(signal.SIGINT)
        out, err = rest_of(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    ours = [ln for ln in err.splitlines() if ln.startswith("gesturemap")]
    assert len(ours) == 1 and "running without the synth" in ours[0], err
    assert "stopped" in out
    return out, err


@pytest.mark.parametrize("log", [None, "new", "empty"])
def test_without_audio_options_a_missing_device_falls_back_to_osc(project_dir, tmp_path, log):
    """With ``--log`` too: the start that found no device had opened the log; the run
    started again logs there (before, it stopped: "already holds a session log")."""
    folder = tmp_path / "session"
    if log == "empty":
        folder.mkdir()
    _run_until_ctrl_c(str(project_dir), "--osc-in", "127.0.0.1:0", "--osc-out", "127.0.0.1:9",
                      *(["--log", str(folder)] if log else []))
    if log:
        assert (folder / "session.json").is_file() and (folder / "input.csv").is_file()


def test_a_log_folder_that_does_not_exist_is_made_for_a_project_of_unknown_size(tmp_path):
    """A new project learns its input size from the first frame, so its engine opens no log
    at start: the folder --log names is made before anything else, and a missing audio device
    (no --audio-device asked) only says so."""
    project = tmp_path / "myproject"
    Project.new(project)
    log, stats = tmp_path / "sessions" / "today", tmp_path / "stats.json"
    seen = []
    _run_until_ctrl_c(str(project), "--log", f"{log}/", "--stats", str(stats),
                      "--osc-in", "127.0.0.1:0", "--osc-out", "127.0.0.1:9",
                      while_running=lambda: seen.append(log.is_dir()))
    assert seen == [True] and stats.is_file()


def test_a_log_folder_holding_a_session_is_refused_before_the_start(tmp_path, project_dir):
    log, stats = tmp_path / "session", tmp_path / "stats.json"
    log.mkdir()
    (log / "session.json").write_text("{}")
    done = _run("run", str(project_dir), "--log", str(log), "--stats", str(stats),
                "--osc-in", "127.0.0.1:0")
    assert done.returncode == 2, done.stderr
    assert not stats.exists()  # the engine never started: it writes its stats from the start
    (line,) = _stderr_lines(done)
    assert "already holds a session log" in line and "give a new folder" in line, line
    assert "listening" not in done.stdout


def test_a_missing_audio_device_is_said_before_the_engine_starts(tmp_path, project_dir):
    stats = tmp_path / "stats.json"
    done = _run("run", str(project_dir), "--osc-in", "127.0.0.1:0", "--stats", str(stats),
                "--audio-device", "Scarlett")
    assert done.returncode == EXIT_NO_AUDIO, done.stderr
    assert not stats.exists()  # said before the engine (and its training process) started


@pytest.mark.serial("jack-lsl")
def test_a_sample_rate_the_jack_server_cannot_take_names_the_rate_it_runs_at(project_dir):
    """--sample-rate 44100 with JACK at 48 kHz: the line said "cannot open audio device None"
    and not which rate the device takes."""
    with jack_audio(None, "rate"):
        env = {**os.environ, "JACK_NO_START_SERVER": "1"}
        done = subprocess.run(
            [sys.executable, "-m", "gesturemap.cli", "run", str(project_dir), "--osc-in",
             "127.0.0.1:0", "--sample-rate", "44100"],
            capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == EXIT_NO_AUDIO, done
    (line,) = _stderr_lines(done)
    assert "cannot open the default audio device at 44100 Hz" in line, line
    assert "(48000 Hz)" in line and "None" not in line, line


@pytest.mark.parametrize(("wrong", "said"), [
    ({"source": "likelihood:*", "target": "loudness", "in_max": 0.0},
     "synth route 2 (likelihood:* -> loudness) in_max: got 0.0; expected different from in_min"),
    ({"source": "likelihood:*"},
     "synth route 2: got {'source': 'likelihood:*'}; expected a source and a target. Add its "
     "target"),
])
def test_a_wrong_synth_route_in_project_json_is_said_by_its_number(tmp_path, wrong, said):
    """A project.json edited by hand, whose second synth route is wrong: `gesturemap run`
    names the file, the route by its number and what it routes, and what is wrong, in one
    line (a missing target was a traceback), and starts nothing."""
    import json

    folder = tmp_path / "project"
    good = {"source": "progress:*", "target": "follower_position"}
    Project("routes", input_names=["x"], outputs={"synth": {"routes": [good]}}).save(folder)
    document = json.loads((folder / "project.json").read_text())
    document["outputs"]["synth"]["routes"].append(wrong)
    (folder / "project.json").write_text(json.dumps(document))
    done = _run("run", str(folder), "--osc-in", "127.0.0.1:0", "--no-audio")
    assert done.returncode == 2, done.stderr
    (line,) = _stderr_lines(done)
    assert line.startswith("gesturemap run: ") and "project.json is damaged" in line, line
    assert said in line, line
    assert "Traceback" not in done.stderr and "listening" not in done.stdout
