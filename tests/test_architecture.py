"""The layering of docs/architecture.md, read from the imports (lazy ones inside functions too).

cli → gui → engine / trainer / evaluation → project → models, features, sources, outputs/synth,
log → data, io, errors. A failure here names the import that runs the wrong way.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gesturemap"
MAX_LINES = 800

#: the modules every layer may use: data, the file and wire formats, errors, validation, faults
DATA_LEVEL = {"gesturemap.data", "gesturemap._io", "gesturemap._files", "gesturemap.errors",
              "gesturemap.validation", "gesturemap.wire", "gesturemap.faults", "gesturemap._xmm_formats",
              "gesturemap._data_dirs", "gesturemap._version"}


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
    assert "gesturemap.engine" in GRAPH and "gesturemap.models.hhmm" in GRAPH
    assert "gesturemap.models.base" in GRAPH["gesturemap.models.hhmm"]


def test_models_know_data_never_the_app():
    # a model may wrap a feature pipeline (gm.models.Featured): features are data shaping
    assert _violations(("gesturemap.models",), lambda m: m in DATA_LEVEL or _in(
        m, "gesturemap.models", "gesturemap.features")) == []


def test_features_never_import_models_or_anything_above_data():
    assert _violations(("gesturemap.features",), lambda m: m in DATA_LEVEL or _in(
        m, "gesturemap.features")) == []


def test_sources_only_parse_validate_and_enqueue():
    above = ("gesturemap.engine", "gesturemap.trainer", "gesturemap.project", "gesturemap.models",
             "gesturemap.gui", "gesturemap.cli", "gesturemap.outputs", "gesturemap.synth")
    assert _violations(("gesturemap.sources",), lambda m: not _in(m, *above)) == []


def test_the_session_log_imports_no_source_and_nothing_above_it():
    assert _violations(("gesturemap.log",), lambda m: m in DATA_LEVEL) == []


def test_nothing_but_the_cli_imports_the_window():
    # gesturemap.bench is the `gesturemap bench` command: its take-to-model figure drives the
    # window's engine as the window does
    assert sorted(f"{a} imports {b}" for a, deps in GRAPH.items()
                  if not _in(a, "gesturemap.cli", "gesturemap.gui", "gesturemap.__main__",
                             "gesturemap.bench")
                  for b in deps if _in(b, "gesturemap.gui")) == []


def test_the_engine_and_trainer_never_import_the_window():
    assert _violations(("gesturemap.engine", "gesturemap.trainer", "gesturemap.offline",
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
        GRAPH["gesturemap.data"] = GRAPH["gesturemap.data"] | {"gesturemap.engine"}
        assert any("gesturemap.data" in c and "gesturemap.engine" in c for c in _cycles())
    finally:
        GRAPH.clear()
        GRAPH.update(saved)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_over_800_lines(name):
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{MODULES[name].relative_to(PACKAGE.parent)}: {lines} lines"
