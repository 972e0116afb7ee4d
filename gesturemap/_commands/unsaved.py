"""What ``gesturemap run`` does at its end when the project's folder could not be written: the
engine has tried one last time (:meth:`~gesturemap.live.engine.Engine.stop`); what is still
not on disk is written, as a whole copy of the project, into a folder that can be written,
which the message names. The run then ends with exit code 4 (``EXIT_NOT_SAVED``), so that a
script or a service manager sees that the project's own folder lacks them."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["UNSAVED_ENV", "keep_unsaved", "unsaved_folders"]

#: Where the copies go, when set (else ``~/gesturemap-unsaved``, then the temporary folder).
UNSAVED_ENV = "GESTUREMAP_UNSAVED_DIR"


def unsaved_folders() -> list[Path]:
    """The folders a copy may go into, the first that can be written taken: the one
    :data:`UNSAVED_ENV` names, else the home folder's ``gesturemap-unsaved`` (easy to find
    again), then the system's temporary folder's (the home folder read-only too)."""
    named = os.environ.get(UNSAVED_ENV)
    if named:
        return [Path(named).expanduser()]
    return [Path.home() / "gesturemap-unsaved", Path(tempfile.gettempdir()) / "gesturemap-unsaved"]


def keep_unsaved(engine: Any, project_dir: str) -> Path | None:
    """Write a copy of the project the stopped ``engine`` could not save (the engine's log
    said what is missing) into a free folder, and say where on stderr, or that none could be
    written. Returns the copy's folder, or None."""
    stem = Path(project_dir).resolve().name or "project"
    failures, copy = [], None
    for base in unsaved_folders():
        target = base / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
        k = 1
        while target.exists():  # a copy is never written over another
            k += 1
            target = base / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}-{k}"
        try:
            copy = engine.keep_unsaved(target)
            break
        except Exception as exc:  # noqa: BLE001 - said, and the next folder tried
            failures.append(f"{base}: {exc}")
    try:  # (the copy is made first: a terminal that hung up cannot stop it)
        if copy is not None:
            print(f"gesturemap run: a copy of the whole project, with what is not saved, is "
                  f"in {copy}: open it (gesturemap open {copy}), or copy its takes/ into "
                  f"{project_dir}/takes/ once that folder can be written (the takes found "
                  "there are loaded)", file=sys.stderr, flush=True)
        else:
            print("gesturemap run: no copy could be written elsewhere either ("
                  + "; ".join(failures) + "): what is listed above is lost",
                  file=sys.stderr, flush=True)
    except OSError:
        pass
    return copy
