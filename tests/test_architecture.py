"""The house of docs/architecture.md, read from the code (imports, lazy ones inside functions too).

cli → gui → live / evaluation → project / interop → models, features, sources, outputs/synth,
log → data, utils, errors. A failure here names the import that runs the wrong way, the private
name taken from another package, or the function grown too long or too tangled.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.paths import REPO_DIR

PACKAGE = REPO_DIR / "gesturemap"
#: At most about a dozen modules directly in gesturemap/: the rest lives in a folder named
#: after its concept.
MAX_TOP_LEVEL_MODULES = 12

#: the modules every layer may use: data, utilities, errors, and the file format data reads
DATA_LEVEL_ROOTS = ("gesturemap.data", "gesturemap.utils", "gesturemap.errors",
                    "gesturemap._version", "gesturemap.interop.xmm.formats")


def _is_data_level(module: str) -> bool:
    return _in(module, *DATA_LEVEL_ROOTS)


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The gesturemap modules ``name`` imports, each resolved to a module of MODULES."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "gesturemap")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "gesturemap":
                continue
            for alias in node.names:
                full = f"{module}.{alias.name}"
                found.add(full if full in MODULES else module)
    return {m for m in found if m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _in(module: str, *roots: str) -> bool:
    return any(module == r or module.startswith(r + ".") for r in roots)


def _violations(importers: tuple[str, ...], allowed: callable) -> list[str]:
    return sorted(f"{a} imports {b}" for a, deps in GRAPH.items() if _in(a, *importers)
                  for b in deps if not allowed(b))


def test_the_graph_is_read():
    assert "gesturemap.live.engine" in GRAPH and "gesturemap.models.hhmm" in GRAPH
    assert "gesturemap.models.base" in GRAPH["gesturemap.models.hhmm"]


def test_models_know_data_never_the_app():
    # a model may wrap a feature pipeline (gm.models.Featured): features are data shaping
    assert _violations(("gesturemap.models",), lambda m: _is_data_level(m) or _in(
        m, "gesturemap.models", "gesturemap.features")) == []


def test_features_never_import_models_or_anything_above_data():
    assert _violations(("gesturemap.features",), lambda m: _is_data_level(m) or _in(
        m, "gesturemap.features")) == []


def test_sources_only_parse_validate_and_enqueue():
    above = ("gesturemap.live.engine", "gesturemap.live.trainer", "gesturemap.project", "gesturemap.models",
             "gesturemap.gui", "gesturemap.cli", "gesturemap.outputs", "gesturemap.synth")
    assert _violations(("gesturemap.sources",), lambda m: not _in(m, *above)) == []


def test_the_session_log_imports_no_source_and_nothing_above_it():
    assert _violations(("gesturemap.log",), _is_data_level) == []


def test_nothing_but_the_cli_imports_the_window():
    # gesturemap.bench is the `gesturemap bench` command: its take-to-model figure drives the
    # window's engine as the window does
    assert sorted(f"{a} imports {b}" for a, deps in GRAPH.items()
                  if not _in(a, "gesturemap.cli", "gesturemap.gui", "gesturemap.__main__",
                             "gesturemap.bench")
                  for b in deps if _in(b, "gesturemap.gui")) == []


def test_the_engine_and_trainer_never_import_the_window():
    assert _violations(("gesturemap.live.engine", "gesturemap.live.trainer", "gesturemap.live.replay",
                        "gesturemap.project"), lambda m: not _in(m, "gesturemap.gui")) == []


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in GRAPH:
        if root in index:
            continue
        work = [(root, iter(sorted(GRAPH[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in GRAPH:
                    continue
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(GRAPH[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
    return out


def test_no_import_cycles():
    assert _cycles() == []


def test_the_cycle_finder_finds_a_cycle():
    saved = dict(GRAPH)
    try:
        GRAPH["gesturemap.data"] = GRAPH["gesturemap.data"] | {"gesturemap.live.engine"}
        assert any("gesturemap.data" in c and "gesturemap.live.engine" in c for c in _cycles())
    finally:
        GRAPH.clear()
        GRAPH.update(saved)


def test_utilities_import_nothing_above_them():
    assert _violations(("gesturemap.utils",), lambda m: _in(
        m, "gesturemap.utils", "gesturemap.errors", "gesturemap._version")) == []


def test_other_tools_formats_know_the_project_never_the_app():
    above = ("gesturemap.live", "gesturemap.gui", "gesturemap.cli", "gesturemap._commands",
             "gesturemap.evaluation", "gesturemap.bench")
    assert _violations(("gesturemap.interop",), lambda m: not _in(m, *above)) == []


def test_at_most_a_dozen_modules_directly_in_the_package():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def _private_imports() -> list[str]:
    """Names starting with one underscore taken from a package the importer is not inside."""
    out = []
    for name, path in MODULES.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "gesturemap":
                continue
            for alias in node.names:
                parts = f"{module}.{alias.name}".split(".")
                for i, part in enumerate(parts):
                    if part.startswith("_") and not part.startswith("__"):
                        owner = ".".join(parts[:i])
                        if owner in MODULES and MODULES[owner].name != "__init__.py":
                            owner = owner.rsplit(".", 1)[0]  # a module's private name: its package's
                        if not (name == owner or name.startswith(owner + ".")):
                            out.append(f"{name} imports {'.'.join(parts)}")
                        break
    return sorted(out)


def test_no_private_name_is_taken_across_packages():
    assert _private_imports() == []


def test_the_private_import_finder_finds_one(tmp_path, monkeypatch):
    fake = tmp_path / "gesturemap" / "gui" / "x.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from ..models._kernels import LOG_ZERO\n")
    monkeypatch.setitem(MODULES, "gesturemap.gui.x", fake)
    assert _private_imports() == ["gesturemap.gui.x imports gesturemap.models._kernels.LOG_ZERO"]


#: A work item's number (the word "issue" and a number): the history of the work lives in git and
#: CHANGELOG.md; the code says why, not when.
WORK_ITEM = re.compile(r"\bissues? ?#?\d+[a-z]*\b", re.IGNORECASE)


#: A line break inside a comment, a docstring or a quoted paragraph: a number wrapped onto the
#: next line is still a number.
_WRAP = re.compile(r"\n\s*(?:#\s*|>\s*)?")


def _our_text_files() -> list[Path]:
    """The package, tests, docs, benchmarks and experiments (Python and Markdown), README and
    the changelog; not the files kept from elsewhere under tests/data."""
    found = [REPO_DIR / "README.md", REPO_DIR / "CHANGELOG.md"]
    for top in ("gesturemap", "tests", "docs", "benchmarks", "experiments"):
        found += [p for p in (REPO_DIR / top).rglob("*") if p.suffix in (".py", ".md")
                  and not p.relative_to(REPO_DIR).parts[:2] == ("tests", "data")]
    return sorted(found)


def test_nothing_of_ours_names_a_work_item():
    found = []
    for p in _our_text_files():
        text = _WRAP.sub(" ", p.read_text(encoding="utf-8"))
        found += [f"{p.relative_to(REPO_DIR)}: …{text[max(0, m.start() - 30):m.end() + 10]}…"
                  for m in WORK_ITEM.finditer(text)]
    assert found == []


def test_a_work_item_wrapped_onto_the_next_line_is_found():
    text = "loses blocks by the hundred (issue\n    # 19's priority inversion)"
    assert WORK_ITEM.search(_WRAP.sub(" ", text))
    assert not WORK_ITEM.search(text)


def test_functions_stay_short_and_simple():
    """Function length and branching, not module length, are what hurt: ruff's C901 (McCabe
    complexity) and PLR0915 (statements per function) with pyproject.toml's limits. The few
    functions above them say why on their ``def`` line (a numba kernel kept as one loop)."""
    # the test extra installs ruff beside this interpreter (a venv's bin/, not always on PATH)
    beside = Path(sys.executable).parent / "ruff"
    ruff = str(beside) if beside.exists() else shutil.which("ruff")
    assert ruff, "ruff is in the test extra"
    done = subprocess.run([ruff, "check", "--select", "C901,PLR0915", "--output-format",
                           "concise", str(PACKAGE)], cwd=REPO_DIR, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_exemptions_from_the_function_limits_only_shrink():
    exempt = [p.relative_to(REPO_DIR) for p in PACKAGE.rglob("*.py")
              for line in p.read_text(encoding="utf-8").splitlines()
              if "noqa: C901" in line or "noqa: PLR0915" in line]
    assert len(exempt) <= 10, exempt


def test_no_test_imports_benchmark_code():
    """Benchmarks measure; tests check. What both need lives in the package or a test helper."""
    found = []
    for p in sorted((REPO_DIR / "tests").rglob("*.py")):
        if "data" in p.relative_to(REPO_DIR / "tests").parts:
            continue
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{p.relative_to(REPO_DIR)}: {n}" for n in names
                      if n.split(".")[0] == "benchmarks"]
        text = p.read_text(encoding="utf-8")
        if p.name != "test_architecture.py" and re.search(r"sys\.path.*benchmarks", text):
            found.append(f"{p.relative_to(REPO_DIR)}: puts benchmarks/ on sys.path")
    assert found == []
