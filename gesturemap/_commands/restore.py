"""``gesturemap restore DIR``: bring deleted takes back from a project's trash — also while
a gesturemap engine runs the project.

A running engine (``gesturemap run``, which holds the project's lock) is the project's one
writer: restoring beside it would make two writers. So when the lock's holder says where it
takes control messages (``osc`` in the lock, see :func:`gesturemap.project.lock.describe`),
the command asks it over OSC (``/gesturemap/restore ID...`` on the loopback) and waits until
the project's folder lists the takes again; the engine restores them, retrains when asked,
and saves.
"""

from __future__ import annotations

import argparse
import socket
import time
from pathlib import Path
from typing import Any

from ..errors import ProjectBusy
from . import counted

__all__ = ["restore"]

#: Seconds the command waits for a running engine to save the restored takes.
ENGINE_WAIT_S = 10.0


def restore(args: argparse.Namespace) -> int:
    """Run ``gesturemap restore`` (``args.dir``, ``args.takes``, ``args.list``); returns the
    exit code (a bad take id or a project it cannot reach: ``SystemExit`` with a message)."""
    from ..project import Project
    from ..project.lock import holder

    if args.list and args.takes:  # a take id beside --list would be ignored: restored? listed?
        raise SystemExit(f"gesturemap restore: --list only lists the trash and restores "
                         f"nothing; leave out the take ids ({' '.join(args.takes)}) or --list")
    project = Project.load(args.dir)
    trash = project.trash()
    if args.list:
        print(f"{args.dir}: {counted(len(trash), 'take')} in the trash" + (": " if trash else "")
              + " ".join(trash))
        return 0
    unknown = [t for t in args.takes if t not in trash]
    if unknown:
        raise SystemExit(f"gesturemap restore: {', '.join(unknown)} not in the trash of "
                         f"{args.dir} (it holds: {' '.join(trash) or 'nothing'})")
    # in memory first: a damaged take in the trash is named (and left there) before anything
    restored = project.restore_takes(args.takes or None)
    busy = holder(args.dir)
    if busy is not None:
        return _through_engine(Path(args.dir), [t.id for t in restored], busy)
    project.save(args.dir)
    print(f"restored {counted(len(restored), 'take')} into {args.dir}"
          + (": " + " ".join(t.id for t in restored) if restored else ""))
    return 0


def _through_engine(folder: Path, ids: list[str], busy: dict[str, Any]) -> int:
    """Ask the engine that holds ``folder`` to restore ``ids``; wait until it saved them."""
    from pythonosc.osc_message_builder import OscMessageBuilder

    osc = busy.get("osc")
    if not (isinstance(osc, list) and len(osc) == 2 and isinstance(osc[1], int)):
        # no engine that takes control messages (a window without an OSC input): its undo
        raise ProjectBusy(folder, busy)
    host = "127.0.0.1" if osc[0] in ("0.0.0.0", "", None) else str(osc[0])
    if ids:
        message = OscMessageBuilder("/gesturemap/restore")
        for take_id in ids:
            message.add_arg(str(take_id))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            tx.sendto(message.build().dgram, (host, osc[1]))
    deadline = time.monotonic() + ENGINE_WAIT_S
    listed = _listed(folder)
    while not set(ids) <= listed:
        if time.monotonic() > deadline:
            missing = sorted(set(ids) - listed)
            raise SystemExit(
                f"gesturemap restore: the gesturemap running {folder} (pid {busy.get('pid')}) "
                f"did not restore {' '.join(missing)} within {ENGINE_WAIT_S:.0f} s; they are "
                "still in the trash (its log says why)")
        time.sleep(0.05)
        listed = _listed(folder)
    print(f"restored {counted(len(ids), 'take')} into {folder} through the gesturemap running it "
          f"(pid {busy.get('pid')})" + (": " + " ".join(ids) if ids else ""))
    return 0


def _listed(folder: Path) -> set[str]:
    """The take ids the project's saved file lists now (empty while it cannot be read)."""
    from ..errors import FormatError
    from ..project.files import FORMAT, PROJECT_FILE, VERSION
    from ..utils.storage import read_json

    try:
        document = read_json(folder / PROJECT_FILE, format=FORMAT, max_version=VERSION)
    except (FormatError, OSError):
        return set()
    return {str(t.get("id")) for t in document.get("takes", []) if isinstance(t, dict)}
