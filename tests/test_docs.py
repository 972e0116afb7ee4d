"""The docs site builds with warnings as errors, and every Python example of the docs runs.

- ``mkdocs build --strict`` builds the site from ``mkdocs.yml`` into a temporary folder: a page
  missing from the navigation's files, a dead link or anchor, an API reference to a name that
  is gone, all fail it.
- Each page's fenced ``python`` blocks, in order, make one script (an example follows on from
  the one before), run in a subprocess in a temporary folder with the checkout's code; a
  traceback names the page and its line. A block that cannot run here (it needs a sensor, a
  network stream, the reader's own files) says why on the line before it:
  ``<!-- not run: why -->``, and is not collected.
- docs/architecture.md is the contributors' page, not a guide: its examples are not run here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parent.parent
DOCS = REPO_DIR / "docs"
NOT_RUN = re.compile(r"<!--\s*not run:\s*(\S.*?)\s*-->")
NOT_GUIDES = {"architecture.md"}


@dataclass(frozen=True)
class Block:
    page: str
    language: str
    line: int  # the page's line of the block's first line of code
    code: str
    not_run: str | None


def _blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        fence = re.match(r"```(\w+)\s*$", lines[i])
        if fence:
            end = lines.index("```", i + 1)
            marker = NOT_RUN.search(lines[i - 1]) if i else None
            blocks.append(Block(str(path.relative_to(REPO_DIR)), fence.group(1), i + 2,
                                "\n".join(lines[i + 1:end]), marker.group(1) if marker else None))
            i = end
        i += 1
    return blocks


PAGES = sorted(p for p in DOCS.rglob("*.md") if p.name not in NOT_GUIDES)
PYTHON_PAGES = [p for p in PAGES
                if any(b.language == "python" and b.not_run is None for b in _blocks(p))]


def _env() -> dict[str, str]:
    # the checkout's code in the subprocess; libjack must not start a server of its own
    return {**os.environ, "PYTHONPATH": str(REPO_DIR), "JACK_NO_START_SERVER": "1",
            "NO_MKDOCS_2_WARNING": "1"}


def test_site_builds_with_warnings_as_errors(tmp_path):
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "-f", str(REPO_DIR / "mkdocs.yml"), "-d", str(site)],
                          cwd=REPO_DIR, env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    # the reference is generated from the docstrings, not written by hand
    assert "gesturemap.HHMM" in api and "gesturemap.spot" in api
    assert (site / "getting-started" / "index.html").is_file()


def test_the_guides_have_examples_to_run():
    names = {p.relative_to(DOCS).as_posix() for p in PYTHON_PAGES}
    assert {"getting-started.md", "guides/models.md", "guides/explain.md"} <= names, names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_every_code_block_is_run_or_says_why_not(page):
    for block in _blocks(page):
        before = page.read_text(encoding="utf-8").splitlines()[block.line - 3]
        if "not run" in before:  # a marker with no reason is not a marker
            assert block.not_run, f"{block.page}:{block.line}: 'not run' needs a reason"


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_python_blocks_run_as_one_script(page, tmp_path):
    blocks = [b for b in _blocks(page) if b.language == "python" and b.not_run is None]
    script = tmp_path / "page_examples.py"
    # each block compiled with the page's line numbers, so a traceback points into the page
    script.write_text(
        "blocks = " + repr([(b.line, b.code) for b in blocks]) + "\n"
        "namespace = {'__name__': '__main__'}\n"
        "for line, code in blocks:\n"
        f"    exec(compile('\\n' * (line - 1) + code, {blocks[0].page!r}, 'exec'), namespace)\n"
        "print('examples ran')\n")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    assert done.stdout.rstrip().endswith("examples ran")


def test_every_picture_is_shown_by_a_page():
    # a picture no page shows is a leftover: it ships in every clone and goes stale unseen
    pages = [*DOCS.rglob("*.md"), REPO_DIR / "README.md"]
    shown = {(page.parent / m).resolve()
             for page in pages
             for m in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", page.read_text(encoding="utf-8"))}
    pictures = {p.resolve() for p in (DOCS / "images").rglob("*") if p.is_file()}
    assert not pictures - shown, sorted(p.relative_to(DOCS).as_posix() for p in pictures - shown)
