"""Removed takes: the trash inside a project folder, and bringing takes back from it.

A save moves the files of removed takes into ``trash/``; :meth:`Project.restore_takes` (the
window's undo, ``gesturemap restore DIR``) brings them back under their own ids.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from ..errors import FormatError
from ..utils.storage import read_json, write_json
from .files import TAKE_FORMAT, TRASH_DIR, VERSION, _read_take
from .takes import Label, Take, _take_number

log = logging.getLogger("gesturemap.project")


class ProjectTrash:
    """The trash of :class:`~gesturemap.project.Project` (mixed into it)."""

    folder: Path | None
    _takes: list[Take]
    _gone: dict[str, Take]
    _removed: list[str]

    def trash(self) -> list[str]:
        """The ids of removed takes that :meth:`restore_takes` can bring back: those removed
        since the last save, and those in the saved folder's ``trash/``."""
        ids = [i for i in self._gone if i not in self._ids()]
        if self.folder is not None:
            folder = Path(self.folder) / TRASH_DIR
            if folder.is_dir() and not folder.is_symlink():
                for path in sorted(folder.glob("take-*.json")):
                    if _take_number(path.stem) is not None and path.stem not in ids:
                        ids.append(path.stem)
        ids = [i for i in ids if i not in self._ids()]
        return sorted(ids, key=lambda i: _take_number(i) or 0)

    def _ids(self) -> set[str]:
        return {take.id for take in self._takes}

    def restore_takes(self, ids: Sequence[str] | None = None) -> list[Take]:
        """Bring removed takes back, under their own ids, at the end of the take list.

        Parameters
        ----------
        ids : sequence of str, optional
            The takes to restore (default: every one in :meth:`trash`). Ids not in the trash
            are passed over.

        Returns
        -------
        list of Take
            The takes restored. A saved one's files move back from ``trash/`` at the next
            :meth:`save`.

        Raises
        ------
        GesturemapError
            If a take does not fit the project any more (another input size), or one asked
            for by its id is damaged; the takes before it are restored. A damaged take met
            while restoring the whole trash is left there with a warning.
        """
        wanted = self.trash() if ids is None else [str(i) for i in ids]
        restored = []
        for take_id in wanted:
            if take_id in self._ids():
                continue
            take = self._gone.get(take_id)
            if take is None and self.folder is not None:
                path = Path(self.folder) / TRASH_DIR / f"{take_id}.json"
                if _take_number(take_id) is None or not path.is_file():
                    continue
                try:
                    take = _read_take(path, take_id, Path(self.folder))
                except FormatError as error:
                    if ids is not None:  # asked for by its id: say why it cannot come back
                        raise
                    # restoring the whole trash: one damaged take does not keep the others
                    warnings.warn(f"{take_id} was left in the trash: {error}", stacklevel=2)
                    continue
            if take is None:
                continue
            self._add_loaded(take)
            if take_id in self._removed:
                self._removed.remove(take_id)
            restored.append(self._takes[-1])
        return restored


def _move_take(source: Path, destination: Path, take_id: str) -> None:
    """Move a take's two files from one folder of the project to another (the trash)."""
    for suffix in (".npz", ".json"):
        path = source / f"{take_id}{suffix}"
        if path.is_file() and not path.is_symlink():
            destination.mkdir(parents=True, exist_ok=True)
            os.replace(path, destination / path.name)
        else:
            path.unlink(missing_ok=True)


def _keep_label(path: Path, label: Label) -> None:
    """Write a relabelled take's label into its trashed JSON (the label was only recorded in
    ``project.json``, which no longer lists the take), so that it comes back as it went."""
    try:
        meta = read_json(path, format=TAKE_FORMAT, max_version=VERSION)
        if meta.get("label") != label:
            meta["label"] = label
            body = {k: v for k, v in meta.items() if k not in ("format", "version")}
            write_json(path, body, format=TAKE_FORMAT, version=VERSION)
    except (FormatError, OSError) as error:
        log.warning("trash: could not keep the label of %s (%s)", path.name, error)

