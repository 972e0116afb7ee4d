"""numba's disk cache, renewed when a kernel a cached kernel calls has changed.

numba keys the cache of a ``@njit(cache=True)`` function on its own source file alone. Yet a
kernel that calls another module's kernel compiles that kernel into itself: after a change to
the callee's file, the caller's cache still loads and runs the old callee, silently (numba's
long-standing behaviour, not a bug of ours to wait out). A pip install renews every file at
once, but a checkout of another commit, a patched kernel or a researcher's edit does not.

:func:`watch_kernel_imports` puts one locator in front of numba's own for the files of one
folder (gesturemap's package): it finds the place numba would have chosen and adds to numba's
stamp of the file a digest of what the file imports from that folder, followed through every
module that itself uses numba (the kernels it can call) and one step into the others (the
constants a kernel freezes). A change there makes numba compile the file's kernels again, as a
change to the file itself does. Nothing else moves: the same folders, file names and index.

This leans on numba's cache internals (``CacheImpl._locator_classes``), as numba's own tests
do; if they move, the hook is not installed and numba behaves as it always has.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: gesturemap's package folder: the files whose kernels are watched by default.
PACKAGE = Path(__file__).resolve().parents[1]
#: What marks a module as one whose functions a kernel can call compiled.
_NUMBA_MARKS = (b"numba", b"njit")


def watch_kernel_imports(root: Path | str = PACKAGE) -> bool:
    """Renew numba's cache of a kernel under ``root`` when a module it imports from ``root``
    changes (see the module's text). Idempotent per folder. False when numba's internals are
    not as expected: nothing was changed then."""
    root = Path(root).resolve()
    try:
        from numba.core import caching
    except ImportError:
        return False
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    classes = getattr(impl, "_locator_classes", None)
    if not isinstance(classes, list):
        log.info("numba's cache locators were not found: kernel imports are not watched")
        return False
    if any(getattr(cls, "watched_root", None) == root for cls in classes):
        return True
    # the locators numba would try for these files, as they are now (without this one)
    inner = [cls for cls in classes if getattr(cls, "watched_root", None) is None]

    class ImportsWatched:
        watched_root = root

        @classmethod
        def from_function(cls, py_func: Any, py_file: str) -> Any:
            path = Path(py_file).resolve()
            if not path.is_relative_to(root) or path.suffix != ".py":
                return None
            try:
                digest = _digest_once(path, root)
            except (OSError, ValueError) as exc:
                # unreadable here: numba's own stamp alone, as without this hook
                log.info("kernel imports of %s not read: %s", path, exc)
                return None
            for base in inner:
                locator = base.from_function(py_func, py_file)
                if locator is not None:
                    return _Stamped(locator, digest)
            return None

    classes.insert(0, ImportsWatched)
    return True


class _Stamped:
    """numba's locator for a file, its stamp joined by the digest of the file's imports."""

    def __init__(self, locator: Any, digest: str) -> None:
        self._locator = locator
        self._digest = digest

    def get_source_stamp(self) -> Any:
        return (self._locator.get_source_stamp(), self._digest)

    def __getattr__(self, name: str) -> Any:  # the cache path, the disambiguator, ...
        return getattr(self._locator, name)


def imports_digest(path: Path, root: Path) -> str:
    """A digest of the contents of the files under ``root`` that ``path``'s kernels may have
    compiled in or frozen: its module-level imports from ``root``, followed through those that
    use numba. Changes when any of them changes, whatever their times say."""
    digest = hashlib.sha256()
    path, root = path.resolve(), root.resolve()
    for dependency in sorted(kernel_imports(path, root)):
        digest.update(dependency.relative_to(root).as_posix().encode())
        digest.update(hashlib.sha256(dependency.read_bytes()).digest())
    return digest.hexdigest()


@functools.lru_cache(maxsize=256)
def _digest_once(path: Path, root: Path) -> str:
    # once per file and process: each of a file's kernels asks (a hundred at import), and the
    # files it imports were imported before it, as they are now
    return imports_digest(path, root)


def kernel_imports(path: Path, root: Path) -> set[Path]:
    """The files under ``root`` that ``path`` imports at module level, and theirs through every
    one that uses numba (``path`` itself left out)."""
    found: set[Path] = set()
    todo = [path]
    while todo:
        current = todo.pop()
        for imported in _module_imports(current, root):
            if imported == path or imported in found:
                continue
            found.add(imported)
            if _uses_numba(imported):
                todo.append(imported)
    return found


def _uses_numba(path: Path) -> bool:
    data = path.read_bytes()
    return any(mark in data for mark in _NUMBA_MARKS)


#: a module-level import: at the start of a line (a function's or an ``if``'s is indented)
_FROM = re.compile(rb"^from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.M)
_IMPORT = re.compile(rb"^import[ \t]+([^\n]*)", re.M)


def _names(text: bytes) -> list[str]:
    """The imported names of ``a, b as c  # why`` or of a parenthesised list over lines."""
    text = re.sub(rb"#[^\n]*", b"", text).strip(b"()")
    return [part.split()[0].decode() for part in text.split(b",") if part.split()]


def _module_imports(path: Path, root: Path) -> list[Path]:
    """The files under ``root`` that ``path`` imports at module level (a kernel can only reach
    module-level names). Read with a pattern, not parsed: this runs on every start, and
    reading a whole module's syntax tree costs ten times more; an import line written in a
    docstring counts too, which only makes the stamp change more often."""
    text = path.read_bytes()
    out: list[Path] = []
    for dots, module, names in _FROM.findall(text):
        if dots:
            base = path.parent
            for _ in range(len(dots) - 1):
                base = base.parent
        elif module.split(b".")[0].decode() == root.name:
            base = root.parent
        else:
            continue
        module_dir = base.joinpath(*module.decode().split(".")) if module else base
        imported = _names(names)
        # "from . import _filter" names a module; "from ._kernels import f" a name in one
        submodules = [m for m in (_file(module_dir / n) for n in imported) if m is not None]
        out.extend(submodules)
        target = _file(module_dir)
        if target is not None and len(submodules) < len(imported):
            out.append(target)
    for names in _IMPORT.findall(text):
        for name in _names(names):
            parts = name.split(".")
            target = _file(root.parent.joinpath(*parts)) if parts[0] == root.name else None
            if target is not None:
                out.append(target)
    return [p.resolve() for p in out if p.resolve().is_relative_to(root)]


def _file(module: Path) -> Path | None:
    """The source file of the module at ``module`` (a path without suffix), if there is one."""
    if module.with_suffix(".py").is_file():
        return module.with_suffix(".py")
    if (module / "__init__.py").is_file():
        return module / "__init__.py"
    return None
