"""`gesturemap replay` reads a session log through the one hardened reader: a stream file
linked to /dev/zero, a file of a gigabyte without a line break, a FIFO nobody writes: each is
refused at once with one line, in bounded memory (it grew to 22.5 GB, or hung); a row no
frame could have been (a NaN) is refused naming its file and line. Real files, a real
`gesturemap` process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gesturemap.log import SessionLog
from tests.stage_helpers import two_level_project

pytestmark = pytest.mark.timeout(240)

#: What the replay may use, at most (kB): the interpreter, numpy and the model.
MAX_RSS_KB = 700_000

# the peak of this process's own memory (VmHWM, kB): ru_maxrss would keep the peak of the
# process it was forked from (the test run's) across the exec
_REPLAY = """
import sys
from gesturemap.cli import main
code = main(sys.argv[1:])
peak = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")]
print("maxrss", peak[0], file=sys.stderr)
sys.exit(code)
"""


def _log(folder: Path) -> Path:
    with SessionLog(folder, {"input": ["a", "b"]}, t0=0.0) as log:
        for i in range(50):
            log.write("input", i / 100, np.array([0.9, 0.9]))
    return folder


def _replay(log: Path, project: Path) -> tuple[int, str, int]:
    done = subprocess.run([sys.executable, "-c", _REPLAY, "replay", str(log), "--project",
                           str(project)], capture_output=True, text=True, timeout=120)
    rss = [int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("maxrss")]
    return done.returncode, done.stderr, rss[0] if rss else -1


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, Path]:
    return _log(tmp_path / "log"), two_level_project(tmp_path / "p")


def test_a_log_replays(saved):
    code, err, _ = _replay(*saved)
    assert code == 0, err


def test_a_stream_linked_to_dev_zero_is_refused(saved):
    log, project = saved
    (log / "input.csv").unlink()
    (log / "input.csv").symlink_to("/dev/zero")
    code, err, rss = _replay(log, project)
    assert code == 2 and "input.csv" in err and "Traceback" not in err
    assert 0 < rss < MAX_RSS_KB


def test_a_gigabyte_without_a_line_break_is_refused_in_bounded_memory(saved):
    log, project = saved
    with open(log / "input.csv", "r+b") as handle:
        handle.truncate(len("t,a,b\n"))  # the header, then
        handle.truncate(1 << 30)  # a sparse gigabyte of zeros, no line break
    code, err, rss = _replay(log, project)
    assert code == 2 and "line 2 is longer than" in err
    assert 0 < rss < MAX_RSS_KB


def test_a_fifo_nobody_writes_is_refused_at_once(saved):
    log, project = saved
    (log / "input.csv").unlink()
    os.mkfifo(log / "input.csv")
    code, err, _ = _replay(log, project)
    assert code == 2 and "not a regular file" in err


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_an_import_that_is_a_fifo_or_a_device_is_refused_at_once(tmp_path, kind):
    source = tmp_path / "data.arff"
    if kind == "fifo":
        os.mkfifo(source)
    else:
        source.symlink_to("/dev/zero")
    done = subprocess.run([sys.executable, "-m", "gesturemap.cli", "import", str(source),
                           "--project", str(tmp_path / "p")], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "not a regular file" in done.stderr


@pytest.mark.parametrize("bad", ["nan", "-inf", "1e30"])
def test_a_row_no_frame_could_be_is_refused_naming_its_file_and_line(saved, bad):
    log, project = saved
    path = log / "input.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    t, _, b = lines[31].rstrip("\n").split(",")  # the file's line 32 (the header is line 1)
    lines[31] = f"{t},{bad},{b}\n"
    path.write_text("".join(lines), encoding="utf-8")
    code, err, _ = _replay(log, project)
    said = [line for line in err.splitlines() if not line.startswith("maxrss")]
    assert code == 2, err
    assert said == [f"gesturemap replay: {path} is damaged: line 32 holds a time that is not "
                    "finite or a value that is NaN, infinite or beyond +-1e+20 "
                    f"({lines[31].rstrip()!r})."], err
