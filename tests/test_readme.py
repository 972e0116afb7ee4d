"""Every command in README.md runs as written.

README's fenced ``sh`` and ``python`` blocks are read from the file itself:

- the Python blocks, in order, make one script (each example follows on from the one before);
  it runs in a subprocess, in a temporary folder, its tracebacks naming README.md's lines;
- each ``gesturemap ...`` line of a shell block runs in a temporary folder shared by the
  blocks (``gesturemap new myproject`` there makes the folder the next line runs);
  ``gesturemap run`` runs until it listens, then is stopped with Ctrl-C as a performer stops
  it, and must exit 0. Other programs on this machine may hold Wekinator's ports, so a run
  gets free loopback ports for ``--osc-in`` / ``--osc-out`` unless the line names its own;
- every ``gesturemap ...`` line, including those of blocks that cannot run here, is parsed by
  the real argument parser, so a renamed command or option is found there too.

Not run, and so not collected (never skipped):

- a block README marks with ``<!-- readme-test: not run (why) -->`` on the line before it
  (it needs hardware, a network stream or the reader's own files);
- the sections "Set up and open the app" (installs system packages and opens the window) and
  "Run the tests" (the whole test suite, which this test is part of).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from gesturemap.cli import build_parser
from tests.stage_helpers import free_port, rest_of

REPO_DIR = Path(__file__).resolve().parent.parent
README = REPO_DIR / "README.md"
NOT_RUN = re.compile(r"<!--\s*readme-test:\s*not run\s*\((.+)\)\s*-->")
#: sections whose commands this test leaves to the reader, and why


@dataclass(frozen=True)
class Block:
    language: str
    line: int  # README.md's line of the block's first line of code
    code: str
    section: str
    not_run: str | None  # why README says it is not run here


def _blocks() -> list[Block]:
    lines = README.read_text(encoding="utf-8").splitlines()
    blocks, section, i = [], "", 0
    while i < len(lines):
        text = lines[i]
        if text.startswith("## "):
            section = text[3:].strip()
        fence = re.match(r"```(\w+)\s*$", text)
        if fence:
            end = lines.index("```", i + 1)
            marker = NOT_RUN.search(lines[i - 1]) if i else None
            why = marker.group(1) if marker else None
            blocks.append(Block(fence.group(1), i + 2, "\n".join(lines[i + 1:end]), section, why))
            i = end
        i += 1
    return blocks


BLOCKS = _blocks()


def _commands(block: Block) -> list[list[str]]:
    """The gesturemap command lines of a shell block, as argument lists."""
    out = []
    for raw in block.code.splitlines():
        for part in re.split(r"&&|;", raw):
            words = shlex.split(part, comments=True)
            if words[:1] == ["gesturemap"]:
                out.append(words[1:])
    return out


def _env() -> dict[str, str]:
    # the checkout's code in every subprocess; libjack must not start a server of its own
    env = {**os.environ, "PYTHONPATH": str(REPO_DIR), "JACK_NO_START_SERVER": "1"}
    env["JACK_DEFAULT_SERVER"] = f"gm-readme-absent-{os.getpid()}"
    return env




def test_readme_has_blocks_of_both_kinds_to_run():
    run = [b for b in BLOCKS if b.not_run is None]
    assert {b.language for b in run} == {"sh", "python"}, [(b.line, b.language) for b in run]
    assert any(args[:1] == ["run"] for b in run if b.language == "sh" for args in _commands(b))
    assert set(LEAVES) <= {b.section for b in run if b.language == "sh"}


@pytest.mark.parametrize("args", [args for b in BLOCKS if b.language == "sh"
                                  for args in _commands(b)],
                         ids=lambda args: " ".join(["gesturemap", *args]))
def test_every_gesturemap_line_parses(args):
    try:
        build_parser().parse_args(args)
    except SystemExit as exc:  # argparse's own exit: an unknown command or option
        pytest.fail(f"README.md: `gesturemap {' '.join(args)}` does not parse (exit {exc.code})")


def _run_and_stop(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`gesturemap run ...` until it listens, then Ctrl-C."""
    if "--osc-in" not in args:
        args = [*args, "--osc-in", f"127.0.0.1:{free_port()}"]
    if "--osc-out" not in args:
        args = [*args, "--osc-out", f"127.0.0.1:{free_port()}"]
    proc = subprocess.Popen([sys.executable, "-m", "gesturemap", *args], cwd=cwd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        first = ""
        while time.monotonic() < deadline and "listening" not in first:
            first = proc.stdout.readline()
            if not first and proc.poll() is not None:
                break
        if "listening" in first:
            proc.send_signal(signal.SIGINT)
        out, err = rest_of(proc, 60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return subprocess.CompletedProcess(args, proc.returncode, first + out, err)


SHELL = [b for b in BLOCKS if b.language == "sh" and b.not_run is None]
#: what a section's shell block leaves in its folder: a folder --log names is made at once
LEAVES = {"Stage mode and Wekinator's protocol": ("myproject/project.json", "session/",
                                                   "stats.json")}


@pytest.mark.parametrize("block", SHELL, ids=lambda b: f"README.md:{b.line}")
def test_shell_block_runs_as_written(block, tmp_path):
    for args in _commands(block):
        if args[:1] == ["run"]:
            done = _run_and_stop(args, tmp_path)
            assert "listening" in done.stdout, done.stderr
        else:
            done = subprocess.run([sys.executable, "-m", "gesturemap", *args], cwd=tmp_path,
                                  env=_env(), capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (
            f"README.md:{block.line}: `gesturemap {' '.join(args)}` exited {done.returncode}:\n"
            f"{done.stdout}\n{done.stderr}")
        assert "Traceback" not in done.stderr, done.stderr
    for name in LEAVES.get(block.section, ()):
        assert (tmp_path / name).is_dir() if name.endswith("/") else (tmp_path / name).is_file()
    assert not list(tmp_path.rglob(".gesturemap-lock"))  # nothing runs any more


def test_python_blocks_run_as_one_script(tmp_path):
    blocks = [b for b in BLOCKS if b.language == "python" and b.not_run is None]
    script = tmp_path / "readme_examples.py"
    # each block compiled with README.md's line numbers, so a traceback points into README
    script.write_text(
        "blocks = " + repr([(b.line, b.code) for b in blocks]) + "\n"
        "namespace = {'__name__': '__main__'}\n"
        "for line, code in blocks:\n"
        "    exec(compile('\\n' * (line - 1) + code, 'README.md', 'exec'), namespace)\n"
        "print('README examples ran')\n")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    assert done.stdout.rstrip().endswith("README examples ran")
    assert (tmp_path / "gestures.json").is_file()  # `ds.save("gestures.json")`, here
