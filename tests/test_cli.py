"""The ``gesturemap`` command: the default demo and ``bench``, run as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

import gesturemap as gm
from gesturemap import bench
from gesturemap._commands import demo


def test_demo_command(repo_dir):
    out = subprocess.run([sys.executable, "-m", "gesturemap.cli", "demo"], capture_output=True,
                         text=True, timeout=300, cwd=repo_dir)
    assert out.returncode == 0, out.stderr
    assert "trained a hierarchical HMM" in out.stdout
    # the demo follows each performed gesture: the last line of each block names it
    blocks = out.stdout.split("performing a new '")[1:]
    assert len(blocks) == 2
    for block in blocks:
        label = block.split("'")[0]
        last = [ln for ln in block.splitlines() if "frame 100" in ln][0]
        assert f"-> {label}" in last


def test_builtin_data_is_learnable():
    ds = demo.builtin_dataset()
    assert ds.labels == sorted(demo.LABELS) and len(ds) == 15
    model = gm.HHMM(8).fit(ds)
    rng = np.random.default_rng(5)
    takes = [(lb, demo.gesture(lb, rng)) for lb in demo.LABELS for _ in range(3)]
    assert model.predict([t for _, t in takes]) == [lb for lb, _ in takes]


def test_bench_reports_every_model():
    rows = bench.bench_models(bench.load_workload(), repeats=1, frames=200)
    assert set(rows) == {"gmm", "gmr", "hhmm", "hmr"}
    for row in rows.values():
        assert row["fit_ms_parallel"] > 0 and row["step_us_p99"] >= row["step_us_p50"] > 0
        assert row["fit_ratio_vs_xmm"] == row["fit_ms_parallel"] / row["xmm_fit_ms"]
    table = bench.format_models(rows)
    assert table.count("\n") == 5 and "HHMM" in table


def test_bench_command_writes_json(tmp_path):
    """From a folder with nothing beside it, on the workload inside the package."""
    out_json = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k != "GESTUREMAP_REFERENCE"}
    proc = subprocess.run([sys.executable, "-m", "gesturemap.cli", "bench", "--repeats", "1",
                           "--json", str(out_json)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "reference workload: the workload inside the package" in proc.stdout
    data = json.loads(out_json.read_text())
    assert data["format"] == "gesturemap.bench" and set(data["models"]) == {
        "gmm", "gmr", "hhmm", "hmr"}


def test_bench_with_a_wrong_reference_says_what_to_do(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gesturemap.cli", "bench", "--reference",
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "not a copy of XMM's reference data" in proc.stderr and "--reference" in proc.stderr


def test_new_train_and_replay_commands(reference_dir, tmp_path):
    """`gesturemap new`, takes added, `gesturemap train`, then `gesturemap replay` of a log."""
    from gesturemap.log import SessionLog
    from gesturemap.project import Project

    folder = tmp_path / "proj"
    run = lambda *a: subprocess.run([sys.executable, "-m", "gesturemap.cli", *a],  # noqa: E731
                                    capture_output=True, text=True, timeout=300)
    out = run("new", str(folder), "--model", "gmm", "--inputs", "6")
    assert out.returncode == 0, out.stderr
    again = run("new", str(folder))
    assert again.returncode != 0 and "gesturemap new" in again.stderr
    project = Project.load(folder)
    ds = gm.Dataset.from_xmm(reference_dir / "data" / "trainingset_unimodal.xmm.json")
    for rec in ds:
        project.add_take(rec.inputs, rec.label)
    project.save(folder)
    out = run("train", str(folder))
    assert out.returncode == 0, out.stderr
    assert "trained GMM on 25 takes" in out.stdout
    x = np.load(reference_dir / "data" / "X_test.npy").astype(np.float64)[:200]
    logdir = tmp_path / "log"
    with SessionLog(logdir, {"input": [f"x{i}" for i in range(6)]}, t0=0.0) as log:
        for i, frame in enumerate(x):
            log.write("input", i * 0.01, frame)
    out = run("replay", str(logdir), "--project", str(folder), "--out", str(tmp_path / "r.csv"))
    assert out.returncode == 0, out.stderr
    rows = np.loadtxt(tmp_path / "r.csv", delimiter=",", skiprows=1, usecols=range(2, 7))
    model = Project.load(folder).trained
    expected = model.stream().run(x)
    np.testing.assert_array_equal(rows, [r.likelihoods for r in expected])
    missing = run("train", str(tmp_path / "nowhere"))
    assert missing.returncode != 0 and "gesturemap train" in missing.stderr


def test_no_arguments_opens_the_window(tmp_path):
    """`gesturemap` alone starts the window on the built-in default project and keeps running."""
    import os
    import time

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    proc = subprocess.Popen([sys.executable, "-m", "gesturemap.cli"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(6)
        assert proc.poll() is None, proc.communicate()[1]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_python_dash_m_gesturemap_is_the_command():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "gesturemap", "new", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--model" in out.stdout


def _cli(*args, env=None, timeout=120):  # noqa: ANN001, ANN202
    return subprocess.run([sys.executable, "-m", "gesturemap.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)


def test_version():
    done = _cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"gesturemap {gm.__version__}"


def test_open_a_missing_folder_is_one_line_and_exit_code_2(tmp_path):
    from gesturemap.cli import EXIT_USAGE

    done = _cli("open", tmp_path / "nosuch")
    assert done.returncode == EXIT_USAGE == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("gesturemap open: ") and "nosuch" in done.stderr


def test_no_display_points_to_run_and_demo(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    _cli("new", tmp_path / "p", "--inputs", "2")
    done = _cli("open", tmp_path / "p", env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "gesturemap run DIR" in done.stderr and "gesturemap demo" in done.stderr
    assert "xcb-cursor0" not in done.stderr


def test_run_refuses_options_it_would_ignore(tmp_path):
    _cli("new", tmp_path / "p", "--inputs", "2")
    done = _cli("run", tmp_path / "p", "--no-audio", "--audio-device", "Scarlett")
    assert done.returncode == 2 and "--no-audio and --audio-device" in done.stderr
    done = _cli("run", tmp_path / "p", "--no-audio", "--profile", "arduino-imu-text")
    assert done.returncode == 2 and "--serial" in done.stderr  # a serial profile needs a device
    done = _cli("run", tmp_path / "p", "--no-audio", "--serial", "/dev/x", "--profile", "zigsim")
    assert done.returncode == 2 and "serial profile" in done.stderr


def test_new_says_what_it_made_in_words(tmp_path):
    done = _cli("new", tmp_path / "a")
    assert "input size set by the sensor's first frame, recognises classes" in done.stdout
    done = _cli("new", tmp_path / "b", "--inputs", "1", "--outputs", "2")
    assert "1 input, 2 continuous outputs (regression)" in done.stdout


def test_log_level_prints_time_stamped_records(tmp_path):
    import re

    code = ("import logging, sys; from gesturemap.cli import main; "
            "main(['new', sys.argv[1], '--log-level', 'info']); "
            "log = logging.getLogger('gesturemap.test'); log.info('hello'); log.debug('hidden')")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "a")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^\d\d:\d\d:\d\d\.\d{3} INFO gesturemap\.test: hello$", done.stderr, re.M)
    assert "hidden" not in done.stderr
    done = _cli("new", tmp_path / "b", "--log-level", "nope")
    assert done.returncode == 2 and "invalid choice" in done.stderr



def test_a_terminal_that_is_not_utf8_gets_the_output_not_a_traceback(tmp_path):
    """A locale whose encoding lacks a character of the output (ASCII here, as a C locale
    with Python's UTF-8 mode off; ISO-8859-1 lacks the reports' dashes too): the command does
    its work and prints, with ``?`` for what the terminal cannot show."""
    from gesturemap.project import Project

    project = Project(classes=["тихо", "гучно"], model={"kind": "gmm", "params": {"gaussians": 1}})
    rng = np.random.default_rng(0)
    for label in ("тихо", "гучно"):
        project.add_take(rng.normal(size=(20, 2)), label)
    project.train()
    project.save_scene("вступ")  # a name read from the project, not from the command line
    project.save(tmp_path / "p")
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"}
    env.pop("PYTHONIOENCODING", None)
    done = _cli("scene", tmp_path / "p", "list", env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "?????" in done.stdout and "1 scene" in done.stdout


def test_a_reader_that_stops_reading_is_not_bad_input(tmp_path):
    """`gesturemap ... | head`: the reader goes before the output is written; the command
    exits as the shell says of a program that SIGPIPE ends (141), silently, not with the
    "bad input" code 2 that promises a line on stderr saying what was wrong."""
    proc = subprocess.Popen([sys.executable, "-m", "gesturemap.cli", "new", str(tmp_path / "p")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # long before the command prints (importing takes longer)
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141, err
    assert err == ""
    assert (tmp_path / "p" / "project.json").is_file()  # its work was done all the same


def test_a_home_folder_the_shell_left_as_typed_is_the_home_folder(tmp_path):
    """``"~/My Songs/piece"`` quoted for its space, or ``--project=~/...``: the shell leaves
    the ``~`` as it is; gesturemap takes it for the home folder, never makes a folder named
    ``~`` in the current one."""
    home, here = tmp_path / "home", tmp_path / "here"
    home.mkdir()
    here.mkdir()
    env = {**os.environ, "HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "gesturemap.cli", "new", "~/My Songs/piece"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=here)
    assert done.returncode == 0, done.stderr
    assert (home / "My Songs" / "piece" / "project.json").is_file()
    done = subprocess.run([sys.executable, "-m", "gesturemap.cli", "eval",
                           "--project=~/My Songs/piece"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=here)
    assert "the project has 0 take(s)" in done.stderr, done.stderr  # it found the project
    assert list(here.iterdir()) == []


def test_an_argument_a_command_would_ignore_is_refused(tmp_path, capsys):
    """`scene DIR list NAME` and `restore DIR --list ID`: the name or the id would be ignored
    (every scene listed, nothing restored), so the command says so with exit code 2 rather
    than act as if it had been heard."""
    from gesturemap.cli import EXIT_USAGE, main
    from gesturemap.project import Project

    project = Project(classes=["a"], model={"kind": "gmm", "params": {"gaussians": 1}})
    project.add_take(np.random.default_rng(0).normal(size=(20, 2)), "a")
    project.train()
    project.save_scene("verse")
    project.save(tmp_path / "p")
    project.remove_take(project.takes[0].id)
    project.save(tmp_path / "p")
    trash = Project.load(tmp_path / "p").trash()
    assert len(trash) == 1
    capsys.readouterr()

    assert main(["scene", str(tmp_path / "p"), "list", "verse"]) == EXIT_USAGE
    assert "takes no NAME" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "p"), *trash, "--list"]) == EXIT_USAGE
    assert "--list only lists" in capsys.readouterr().err
    assert Project.load(tmp_path / "p").trash() == trash  # nothing restored

    assert main(["scene", str(tmp_path / "p"), "list"]) == 0
    assert "0\tverse\tgmm" in capsys.readouterr().out
