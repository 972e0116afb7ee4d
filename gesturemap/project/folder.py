"""Saving a project into its folder and opening it again (see :mod:`gesturemap.project`).

Takes are written once (:meth:`Project.save_take`), the trained model under a new name at every
save, and ``project.json`` last: it is what switches the folder to the new state.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from .._version import __version__
from ..errors import FormatError, GesturemapError
from ..features import Pipeline
from ..models import MODEL_REGISTRY, BaseModel
from ..models import load as load_model
from ..utils.reading import not_a_folder
from ..utils.storage import read_json, save_npz, validation_error, write_json
from .files import (
    FORMAT,
    PROJECT_FILE,
    TAKE_FORMAT,
    TAKES_DIR,
    TRASH_DIR,
    VERSION,
    _is_label,
    _read_take,
    _require,
    _scan_takes,
    held_warnings,
    load_warning,
)
from .lock import LOCK_FILE, holding
from .opinions import externalize, internalize, remembered, remove_stale_opinions
from .rehearsals import copy_rehearsals
from .scenes import DEFAULT_FADE_S
from .settings import _DEFAULT_MODEL, stage_model
from .takes import Label, PathLike, Take, _now_iso, _take_number
from .trash import _keep_label, _move_take

_MODEL_FILE = re.compile(r"model-(\d{6,})\.json")
#: reads of a folder whose project.json a save keeps replacing before one is kept as it is
_LOAD_ATTEMPTS = 5
log = logging.getLogger(__name__)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What changes when ``path`` is replaced (every write is a rename onto it)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


#: the entries of project.json this gesturemap reads (what ``_document`` writes, and the
#: format and version that :func:`write_json` adds)
_KNOWN_KEYS = frozenset({
    "format", "version", "name", "uid", "created", "saved", "gesturemap_version", "model",
    "pipeline", "sensor", "outputs", "display", "input_dim", "input_names", "output_names",
    "classes", "takes", "removed_takes", "next_take", "model_file", "scenes", "scene_fade_s",
    "switches",
})



#: Files of other tools that ``gesturemap import`` makes a project of.
_IMPORTED = (".arff", ".arff.gz", ".wekproj", ".json", ".json5")
#: Tables, which ``gesturemap import`` reads once they have an ARFF header.
_TABLES = (".csv", ".tsv", ".txt")


def not_a_project_folder(path: PathLike) -> str:
    """Why ``path`` cannot be opened as a project (a folder of files), and what to give
    instead: a project's own project.json its folder; a file another tool wrote (an ARFF, a
    Wekinator or XMM file) a project imported from it; a table an ARFF made of it."""
    text = not_a_folder(path, "a project")
    target = Path(path)
    if not target.is_file():
        return text
    name = target.name.lower()
    if name == PROJECT_FILE:
        return f"{text} Give its folder, {target.parent}."
    if name.endswith(_IMPORTED):
        return (f"{text} To use this file, import it into a project first (gesturemap import "
                f"{path} --project DIR), then give DIR.")
    if name.endswith(_TABLES):
        return (f"{text} gesturemap imports a table as an ARFF file: put an ARFF header above "
                f"its rows (gesturemap import {path} --project DIR says which), import it, then "
                "give DIR.")
    return f"{text} Give the project's folder (the one holding {PROJECT_FILE})."

class ProjectFolder:
    """Save and load of :class:`~gesturemap.project.Project` (mixed into it)."""

    name: str
    model: dict[str, Any]
    pipeline: Pipeline
    sensor: dict[str, Any] | None
    outputs: dict[str, Any] | None
    display: dict[str, Any] | None
    switches: dict[str, Any] | None
    input_dim: int | None
    trained: BaseModel | None
    folder: Path | None
    times_repaired: int
    _uid: str
    _created: str
    _takes: list[Take]
    _classes: list[Label]
    _next_take: int
    _removed: list[str]
    _gone: dict[str, Take]
    _unread_takes: dict[tuple[Path, str], Label]
    _unread_opinions: dict[Path, set[str]]
    _input_dim: int | None
    _input_names: tuple[str, ...] | None
    _output_names: tuple[str, ...] | None
    _saved_model: tuple[Path, BaseModel, str] | None
    scene_fade_s: float
    _save_scenes: Callable[[Path], list[dict[str, Any]]]
    _remove_stale_scene_files: Callable[[Path, list[dict[str, Any]]], None]
    _load_scenes: Callable[..., None]
    _scenes_adopt_rejection_threshold: Callable[[float], None]
    _mapping_to_save: Callable[[], tuple[Any, Any, Any]]
    #: the entries of the ``project.json`` loaded that this gesturemap does not know (a newer
    #: one's settings in the same format version): written back as they were at every save,
    #: so opening a project here and saving it (a retrain, a take) does not strip them
    _foreign_keys: Mapping[str, Any] = {}

    @property
    def uid(self) -> str:
        """The project's own id, kept in ``project.json``: it stays the same when the folder
        is moved or renamed (a session log names the project by it as well as by its path)."""
        return self._uid

    def _document(
        self, model_file: str | None, takes: list[Take], removed: list[str],
        scenes: list[dict[str, Any]] | None = None,
        mapping: tuple[Any, Any] | None = None,
    ) -> dict[str, Any]:
        # mapping: the (model settings, outputs) saved as the project's own (a scene playing
        # on stage is not); else the current ones
        model, outputs = (self.model, self.outputs) if mapping is None else mapping
        document = {
            "name": self.name,
            "uid": self._uid,
            "created": self._created,
            "saved": _now_iso(),
            "gesturemap_version": __version__,
            "model": model,
            "pipeline": self.pipeline.to_dict(),
            "sensor": self.sensor,
            "outputs": outputs,
            "display": self.display,
            "input_dim": self._input_dim,
            "input_names": None if self._input_names is None else list(self._input_names),
            "output_names": None if self._output_names is None else list(self._output_names),
            "classes": list(self._classes),
            "takes": [{"id": t.id, "label": t.label} for t in takes],
            "removed_takes": removed,
            "next_take": self._next_take,
            "model_file": model_file,
        }
        if scenes:  # a project without scenes is written as before they existed
            document["scenes"] = scenes
        if self.scene_fade_s != DEFAULT_FADE_S:
            document["scene_fade_s"] = self.scene_fade_s
        if self.switches:  # every output on: written as before switches were kept
            document["switches"] = self.switches
        for key, value in self._foreign_keys.items():  # a newer gesturemap's, written back
            document.setdefault(key, value)
        return document

    def _unread_listing(self, folder: Path, takes: list[Take],
                        removed: list[str]) -> list[dict[str, Any]]:
        """The listing of takes this folder's project.json listed that could not be read
        when it was loaded, and whose files are still there: kept, so that a take readable
        again (its permission given back, a newer gesturemap) opens under its label."""
        root, ids = folder.resolve(), {t.id for t in takes} | set(removed)
        return [{"id": take_id, "label": label}
                for (where, take_id), label in list(self._unread_takes.items())
                if where == root and take_id not in ids
                and (folder / TAKES_DIR / f"{take_id}.json").exists()]

    def _check_folder(self, folder: Path) -> None:
        """Refuse to save into a folder that holds another project or other files."""
        project_file = folder / PROJECT_FILE
        if project_file.exists():
            try:
                uid = read_json(project_file, format=FORMAT, max_version=VERSION).get("uid")
            except FormatError:
                uid = None
            if uid != self._uid:
                raise GesturemapError(
                    f"{folder} holds another project; save into a new folder, or load that "
                    "project to change it."
                )
        elif folder.is_dir() and any(p.name != LOCK_FILE for p in folder.iterdir()):
            raise GesturemapError(
                f"{folder} is not empty and is not a gesturemap project; save into a new or "
                "empty folder."
            )

    def save(self, folder: PathLike) -> Path:
        """Save the whole project into ``folder`` (created if needed); returns the folder.

        Takes already in the folder are not rewritten; removed takes' files move to ``trash/``; the
        trained model is written under a new name unless this very model is already there.
        ``project.json`` is written last: it is what switches the folder to the new state.

        Raises
        ------
        GesturemapError
            If ``folder`` holds another project or unrelated files.
        ProjectBusy
            If another gesturemap process is writing ``folder`` (see
            :mod:`gesturemap.project.lock`); nothing is written.
        OSError
            If the folder cannot be written.
        """
        folder = Path(folder)
        self._check_folder(folder)
        (folder / TAKES_DIR).mkdir(parents=True, exist_ok=True)
        with holding(folder):  # ProjectBusy while another process writes the folder
            return self._save_locked(folder)

    def _save_locked(self, folder: Path) -> Path:
        # Snapshots: the engine may add or remove a take while another thread saves.
        takes, removed = list(self._takes), list(self._removed)
        root, directory = folder.resolve(), folder / TAKES_DIR
        for take in takes:  # another process's take of one of these ids: refused before any write
            path = directory / f"{take.id}.json"
            if (root, take.id) not in self._on_disk and path.exists():
                _refuse_other_take(path, take)
                self._on_disk.add((root, take.id))  # its own files: not read again below
        for take in takes:
            if take.id not in self._removed:  # else removed while saving (see save_take)
                self._save_take_locked(folder, directory, take, root)
        gone = set(self._removed)  # removed while saving: not written, so not listed
        takes = [take for take in takes if take.id not in gone]
        model, trained, outputs = self._mapping_to_save()  # never a scene playing on stage
        model_file = self._save_model(folder, trained)
        scenes = self._save_scenes(folder)
        document = self._document(model_file, takes, removed, scenes, (model, outputs))
        document["takes"] += self._unread_listing(folder, takes, removed)
        # the second opinions (megabytes for a detector) in files of their own, written once
        document, self._opinion_files = externalize(
            folder, document, getattr(self, "_opinion_files", {}))
        write_json(folder / PROJECT_FILE, document, format=FORMAT, version=VERSION)
        remove_stale_opinions(folder, document, self._unread_opinions.get(folder.resolve(), ()))
        self._remove_stale_scene_files(folder, scenes)
        # The new project.json no longer refers to these files: into the trash with them.
        for take_id in removed:
            _move_take(folder / TAKES_DIR, folder / TRASH_DIR, take_id)
            gone = self._gone.get(take_id)
            trashed = folder / TRASH_DIR / f"{take_id}.json"
            if gone is not None and trashed.exists():  # else never written (removed at once)
                _keep_label(trashed, gone.label)
        self._removed = [take_id for take_id in self._removed if take_id not in removed]
        for take_id in removed:
            self._gone.pop(take_id, None)
        _remove_stale_temporaries(folder, folder / TAKES_DIR)
        keep = None if model_file is None else Path(model_file).stem
        for path in folder.glob("model-*.*"):
            old = _MODEL_FILE.fullmatch(path.with_suffix(".json").name)
            if old and path.suffix in (".json", ".npz") and path.stem != keep:
                path.unlink(missing_ok=True)
        if self.folder is not None:  # saved into a new folder: its rehearsals go along
            copy_rehearsals(self.folder, folder)
        self.folder = folder
        return folder

    @classmethod
    def update(cls, folder: PathLike, change: Callable[[Self], None]) -> Self:
        """Load the project in ``folder``, apply ``change`` to it and save it, all under the
        folder's lock: a read-modify-write no other gesturemap writer can come between. For a
        change worked out at length on a copy loaded before (a verifier trained for minutes):
        it goes onto the project as it is now, never that old copy over it, so what another
        process saved meanwhile stays. ``change`` raises (nothing is written) when the
        project no longer is what the change was worked out for. Returns the project saved.

        Raises
        ------
        ProjectBusy
            If another gesturemap process is writing ``folder``; nothing is written.
        """
        if not Path(folder).is_dir():  # said as load says it, not as the lock's file fails
            raise FormatError(not_a_project_folder(folder))
        with holding(folder):
            project = cls.load(folder)
            change(project)
            project.save(folder)
        return project

    def training_basis(self) -> str:
        """What a training of this project reads, as text to compare: every take's id, label
        and data (a digest), the feature pipeline's and the model's settings and the channel
        names. Two loads of an unchanged folder give the same text; a take added, removed,
        relabelled or edited, or such a setting changed, gives another (``gesturemap train``
        stores its model only onto the project it trained on)."""
        digest = hashlib.sha256()
        for take in self.takes:
            for a in (take.inputs, take.times, take.outputs):
                digest.update(b"-" if a is None else repr(a.shape).encode())
                if a is not None:
                    digest.update(np.ascontiguousarray(a).tobytes())
        return json.dumps([[(t.id, t.label) for t in self.takes], digest.hexdigest(),
                           self.pipeline.to_dict(), self.model, self.input_names,
                           self.output_names], sort_keys=True, default=str)

    @property
    def model_file(self) -> str | None:
        """The file of the trained model in the folder it was last loaded from or saved to
        (a new one at every save of another model); None before that, or with no model."""
        saved = self._saved_model
        return saved[2] if saved is not None and saved[1] is self.trained else None

    def save_batch(self, folder: PathLike, take_ids: Sequence[str]) -> Path:
        """:meth:`save`, all or nothing for the takes ``take_ids`` (an import's): if the save
        stops before ``project.json`` lists them (an error, a full disk, Ctrl-C), the files it
        wrote for them are removed again, and a folder the save created goes whole, so the
        folder opens as it was before (loading would otherwise find the written takes)."""
        folder = Path(folder)
        created = not (folder / PROJECT_FILE).exists()
        existed = folder.is_dir()
        entries = set(folder.iterdir()) if existed else set()
        before = set(_scan_takes(folder / TAKES_DIR, set()))
        try:
            return self.save(folder)
        except BaseException:
            if created and not (folder / PROJECT_FILE).exists():  # what this save made, whole
                for entry in [folder] if not existed else set(folder.iterdir()) - entries:
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry, ignore_errors=True)
                    else:
                        entry.unlink(missing_ok=True)
                raise
            listed: set[str] = set()
            try:
                document = read_json(folder / PROJECT_FILE, format=FORMAT, max_version=VERSION)
                listed = {t.get("id") for t in document.get("takes", []) if isinstance(t, dict)}
            except (GesturemapError, AttributeError, TypeError):
                pass
            for take_id in set(take_ids) - listed - before:
                self._on_disk.discard((folder.resolve(), take_id))
                for suffix in (".json", ".npz"):
                    (folder / TAKES_DIR / f"{take_id}{suffix}").unlink(missing_ok=True)
            raise

    def _save_model(self, folder: Path, trained: BaseModel | None) -> str | None:
        if trained is None:
            self._saved_model = None
            return None
        resolved = folder.resolve()
        saved = self._saved_model
        if (
            saved is not None
            and saved[0] == resolved
            and saved[1] is trained
            and (folder / saved[2]).exists()
        ):
            return saved[2]
        numbers = [0]
        for path in folder.glob("model-*.json"):
            match = _MODEL_FILE.fullmatch(path.name)
            if match:
                numbers.append(int(match.group(1)))
        name = f"model-{max(numbers) + 1:06d}.json"
        trained.save(folder / name)
        self._saved_model = (resolved, trained, name)
        return name

    def unsaved_takes(self, folder: PathLike) -> list[Take]:
        """The takes whose files this project has not written into (nor read from)
        ``folder``: what a save there that failed (a read-only folder, a full disk) left in
        memory only."""
        root = Path(folder).resolve()
        return [take for take in list(self._takes) if (root, take.id) not in self._on_disk]

    def save_take(self, folder: PathLike, take: Take) -> None:
        """Write one take's files into ``folder/takes/`` (the engine's autosave after a take).

        The arrays go first, then the JSON that names their checksum, each atomically; a take
        whose files are already there is not written again.

        Raises
        ------
        GesturemapError
            If the take is not one of this project's.
        ProjectBusy
            If another gesturemap process is writing ``folder``; nothing is written.
        """
        ours = next((t for t in self._takes if t.id == take.id), None) or self._gone.get(take.id)
        if ours is None or not np.array_equal(ours.inputs, take.inputs):
            raise validation_error("take", take, "one of this project's takes")
        if take.id in self._removed:
            return  # removed since it was recorded (the save was queued before the removal)
        directory = Path(folder) / TAKES_DIR
        directory.mkdir(parents=True, exist_ok=True)
        with holding(folder):  # under the lock: another process's take may have this id
            self._save_take_locked(Path(folder), directory, take, Path(folder).resolve())

    def _save_take_locked(self, folder: Path, directory: Path, take: Take, root: Path) -> None:
        json_path = directory / f"{take.id}.json"
        npz_path = directory / f"{take.id}.npz"
        key = (root, take.id)
        if json_path.exists() and npz_path.exists():
            if key not in self._on_disk:
                _refuse_other_take(json_path, take)
                self._on_disk.add(key)
            return
        if (Path(folder) / TRASH_DIR / json_path.name).exists():  # restored from the trash
            _move_take(Path(folder) / TRASH_DIR, directory, take.id)
            if json_path.exists() and npz_path.exists():
                self._on_disk.add(key)
                return
        arrays = {"inputs": take.inputs}
        if take.times is not None:
            arrays["times"] = take.times
        if take.outputs is not None:
            arrays["outputs"] = take.outputs
        digest = save_npz(npz_path, **arrays)
        metadata = {
            "id": take.id,
            "label": take.label,
            "created": take.created,
            "frames": take.length,
            "input_dim": int(take.inputs.shape[1]),
            "output_dim": None if take.outputs is None else int(take.outputs.shape[1]),
            "has_times": take.times is not None,
            "arrays": npz_path.name,
            "arrays_sha256": digest,
        }
        if take.gaps:  # (read by any version: a reader that does not know it leaves it)
            metadata["gaps"] = [list(gap) for gap in take.gaps]
        write_json(json_path, metadata, format=TAKE_FORMAT, version=VERSION)
        self._on_disk.add(key)

    @classmethod
    def new(
        cls,
        folder: PathLike,
        model: Mapping[str, Any] | str = _DEFAULT_MODEL,
        inputs: int | Sequence[str] | None = None,
        **settings: Any,
    ) -> Self:
        """Create a project and save it into a new (or empty) folder.

        Parameters
        ----------
        folder : str or os.PathLike
            Where to create it; its name is the project's name unless ``name=`` is given.
        model : dict or str, default "hhmm"
            Model settings or kind (see :class:`Project`), with the stage defaults for what
            they leave out (:func:`gesturemap.project.settings.stage_model`: a new project
            follows the performer on a stream nobody resets, docs/wekinator.md).
        inputs : int or sequence of str, optional
            The input size, or the input channels' names; default: from the first take.
        **settings
            Other :class:`Project` parameters (``pipeline``, ``sensor``, ``classes``...).

        Raises
        ------
        GesturemapError
            If ``folder`` already holds a project or other files.
        """
        folder = Path(folder)
        if (folder / PROJECT_FILE).exists():
            raise GesturemapError(
                f"{folder} already holds a project: open it with Project.load, or choose "
                "another folder."
            )
        settings.setdefault("name", folder.name or "untitled")
        if inputs is not None and not isinstance(inputs, int | np.integer):
            settings["input_names"] = inputs
        project = cls(model=stage_model(model), **settings)
        if isinstance(inputs, int | np.integer):
            project.input_dim = int(inputs)
        project.save(folder)
        return project

    @classmethod
    def load(cls, folder: PathLike) -> Self:
        """Open a project folder written by :meth:`save` / :meth:`save_take`.

        Takes are found by scanning ``takes/``: complete takes missing from ``project.json``
        (the process stopped before it was rewritten) are loaded too, after the listed ones.
        A damaged take — its JSON or its arrays missing, unreadable, tampered with, of a newer
        format, or not fitting the project — is left out with a warning naming it; its files
        are left as they are and its id is never given to a new take. Only regular files
        inside the folder are read (no links, devices or FIFOs), and each array's declared
        shape and size are checked before it is read.

        Raises
        ------
        FormatError
            If the folder or ``project.json`` is missing, damaged or from a newer gesturemap,
            the model kind is unknown, or ``takes/`` is a link. A trained model that cannot be
            read (missing, damaged, newer) is not fatal: the project opens untrained with its
            takes, with a warning, and :attr:`model_problem` says why.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise FormatError(not_a_project_folder(folder))
        path = folder / PROJECT_FILE
        if not path.exists():
            raise FormatError(
                f"{folder} is not a gesturemap project: it has no {PROJECT_FILE}. Create one "
                f"there with File > New in the window, `gesturemap new {folder}`, or "
                "Project.new(folder) in Python."
            )
        # Readers take no lock, so a save may replace project.json while this reads the files
        # it names (the old model, a take moved to the trash): a part missing then is the
        # save's doing, not damage. Read again while project.json changes under a read that
        # found something missing; only the warnings of the read kept are given.
        for attempt in range(_LOAD_ATTEMPTS):
            before = _stamp(path)
            with held_warnings() as notes:
                project = cls._load_once(folder, path)
            if not notes or _stamp(path) == before:
                break
            log.debug("%s was saved while it was read (attempt %d): read again", folder,
                      attempt + 1)
        for note in notes:
            warnings.warn(note, stacklevel=2)
        return project

    @classmethod
    def _load_once(cls, folder: Path, path: Path) -> Self:
        raw = read_json(path, format=FORMAT, max_version=VERSION, inside=folder)
        unread: set[str] = set()
        document = internalize(folder, path, raw, unread)
        project = cls._from_document(path, document)
        project._building = True  # the file's classes, takes and numbers, as they were
        project._foreign_keys = {k: v for k, v in raw.items() if k not in _KNOWN_KEYS}
        listed = _listed_takes(path, document)
        removed = set(project._removed)
        for sub in (TAKES_DIR, TRASH_DIR):
            if (folder / sub).is_symlink() or (
                (folder / sub).exists() and not (folder / sub).is_dir()
            ):
                raise FormatError(
                    f"{folder / sub} is a link or not a folder: a project keeps its takes in a "
                    "folder of its own. Replace the link by a copy of the takes."
                )
        found = _scan_takes(folder / TAKES_DIR, removed)
        order = list(listed) + sorted(set(found) - set(listed), key=_take_number)  # type: ignore[arg-type]
        for take_id in order:
            if take_id not in found:
                _skip_take(
                    project,
                    take_id,
                    f"{path} lists it but its files are missing from {folder / TAKES_DIR} "
                    f"(are they in {TRASH_DIR}/? `gesturemap restore {folder}` brings them back)",
                )
                continue
            try:
                take = _read_take(found[take_id], take_id, folder)
                repaired = int(getattr(take, "_repaired", 0))
                if take_id in listed:
                    take = dataclasses.replace(take, label=listed[take_id])
                project._add_loaded(take)
                project._on_disk.add((folder.resolve(), take_id))
            except (GesturemapError, OSError) as error:  # FormatError included
                if take_id in listed:  # its files stay; so does its listing, label and all
                    project._unread_takes[(folder.resolve(), take_id)] = listed[take_id]
                _skip_take(project, take_id, str(error))
                continue
            project.times_repaired += repaired
        project._load_scenes(folder, path, document, _read_model)
        display = document.get("display")
        if isinstance(display, dict):  # an older file's monitor threshold, for its scenes too
            project._scenes_adopt_rejection_threshold(float(display.get("rejection_threshold")
                                                            or 0.0))
        model_file = document.get("model_file")
        if model_file is not None:
            try:
                project.trained = _read_model(folder, path, model_file)
            except (GesturemapError, OSError) as error:
                # the takes are the project; a model is derived from them: open untrained,
                # and say so (the engine retrains at its start, `gesturemap train` too)
                project.model_problem = (
                    f"its trained model ({model_file!s:.80}) cannot be read: "
                    f"{str(error).rstrip('.')}. The "
                    "project opens with its takes, untrained; `gesturemap run` and the window "
                    "retrain it as they start, `gesturemap train DIR` retrains it now.")
                load_warning(f"{folder}: {project.model_problem}")
            else:
                project.apply_runtime_settings()  # a run-time setting changed since training
                project._saved_model = (folder.resolve(), project.trained, model_file)
        project._opinion_files = remembered(
            folder, [project.model] + [scene.model for scene in project._scenes], raw)
        # the second opinions' files that could not be read: never deleted by a save here
        project._unread_opinions = {folder.resolve(): unread} if unread else {}
        project.folder = folder
        project._building = False
        return project

    #: why the saved model could not be read when the project was loaded (it opened
    #: untrained, with its takes), or None
    model_problem: str | None = None

    @classmethod
    def _from_document(cls, path: Path, document: Mapping[str, Any]) -> Self:
        """A project with the settings of ``project.json`` (no takes, no model yet)."""
        model = _require(path, document, "model", lambda v: isinstance(v, dict), "a dict")
        if not isinstance(model.get("kind"), str) or model["kind"] not in MODEL_REGISTRY:
            raise FormatError(
                f"{path}: unknown model kind {model.get('kind')!r}; this gesturemap knows "
                f"{', '.join(sorted(MODEL_REGISTRY))}. A newer gesturemap may know it."
            )
        try:
            pipeline = Pipeline.from_dict(document.get("pipeline"))  # type: ignore[arg-type]
        except FormatError as error:
            raise FormatError(f"{path}: {error}") from None
        classes = _require(
            path,
            document,
            "classes",
            lambda v: isinstance(v, list) and all(_is_label(c) for c in v),
            "a list of labels",
        )
        try:
            project = cls(
                document.get("name") or "untitled",
                model=model,
                pipeline=pipeline,
                sensor=document.get("sensor"),
                outputs=document.get("outputs"),
                display=document.get("display"),  # absent from files written before it existed
                input_names=document.get("input_names"),
                output_names=document.get("output_names"),
                classes=classes,
            )
            input_dim = document.get("input_dim")
            if input_dim is not None:
                project.input_dim = input_dim
            project.switches = document.get("switches")
        except GesturemapError as error:
            raise FormatError(f"{path} is damaged: {error}") from None
        project._uid = _require(path, document, "uid", lambda v: isinstance(v, str) and v, "a str")
        project._created = str(document.get("created") or project._created)
        project._next_take = _require(
            path,
            document,
            "next_take",
            lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
            "an integer >= 0",
        )
        removed = _require(
            path,
            document,
            "removed_takes",
            lambda v: (
                isinstance(v, list)
                and all(isinstance(i, str) and _take_number(i) is not None for i in v)
            ),
            "a list of take ids",
        )
        project._removed = list(removed)
        numbers = [_take_number(i) or 0 for i in removed]
        project._next_take = max([project._next_take, *(n + 1 for n in numbers)])
        return project


def _refuse_other_take(json_path: Path, take: Take) -> None:
    """Raise unless the take files at ``json_path`` are ``take``'s own (same time of
    recording and length): a take of this id written by another process since this project
    was loaded must neither be overwritten nor stand in for this one."""
    try:
        meta = read_json(json_path, format=TAKE_FORMAT, max_version=VERSION)
    except FormatError:
        meta = {}
    if meta.get("created") == take.created and meta.get("frames") == take.length:
        return
    raise GesturemapError(
        f"{json_path} holds another take of the same id, written since this project was "
        f"loaded (by another process, or another copy of the project); {take.id} "
        f"({take.label!r}, {take.length} frames) was not written. Nothing on disk changed: "
        "load the project again and add the take there."
    )


def _listed_takes(path: Path, document: Mapping[str, Any]) -> dict[str, Label]:
    """The takes ``project.json`` lists: id -> label, in order."""
    takes = _require(path, document, "takes", lambda v: isinstance(v, list), "a list")
    listed: dict[str, Label] = {}
    for entry in takes:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("id"), str)
            or _take_number(entry["id"]) is None
            or not _is_label(entry.get("label"))
            or entry["id"] in listed
        ):
            raise FormatError(
                f"{path} is damaged: the take entry {entry!r:.80} is not "
                '{"id": "take-NNNNNN", "label": ...} with a unique id.'
            )
        listed[entry["id"]] = entry["label"]
    return listed


def _read_model(folder: Path, path: Path, model_file: Any) -> BaseModel:
    """The trained model ``project.json`` (``path``) names, read from the project's own
    regular files only."""
    if not isinstance(model_file, str) or Path(model_file).name != model_file:
        raise FormatError(f"{path}: 'model_file' must name a file in the project folder.")
    for name in (model_file, str(Path(model_file).with_suffix(".npz"))):
        if (folder / name).is_symlink() or (
            (folder / name).exists() and not (folder / name).is_file()
        ):
            raise FormatError(
                f"{folder / name} is a link or not a regular file; only the project's own "
                "files are read."
            )
    return load_model(folder / model_file)


def _skip_take(project: ProjectFolder, take_id: str, why: str) -> None:
    """Leave a damaged take out, with a warning; its id is never given to a new take."""
    load_warning(f"{take_id} was left out: {why.rstrip('.')}. The rest of the project is "
                 "open; the take's files were left as they are.")
    number = _take_number(take_id)
    if number is not None:
        project._next_take = max(project._next_take, number + 1)


#: A temporary file this old belongs to a write that will never finish.
_STALE_TEMPORARY_S = 60.0


def _remove_stale_temporaries(*folders: Path) -> None:
    """Delete what writes a killed process never finished (see ``_io.atomic_write_bytes``).

    Only old ones: a fresh temporary file may belong to a write still going on in another
    thread.
    """
    cutoff = time.time() - _STALE_TEMPORARY_S
    for folder in folders:
        for path in folder.glob(".*.tmp"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass
