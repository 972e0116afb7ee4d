"""Projects: sensor settings, feature pipeline, model settings, takes and trained model, in a folder.

A project is what a musician opens, records into, trains and plays. On disk it is a folder of
JSON and ``.npz`` files, each written atomically, so a crash never leaves a half-written file::

    my-project/
        project.json                 settings, pipeline, classes, names, take list, model file
        takes/take-000000.json       one take's label, shape, time and arrays' checksum
        takes/take-000000.npz        its inputs (T, D_in), and times (T,) / outputs (T, D_out)
        model-000001.json / .npz     the trained model (gesturemap.models format), if any
        scene-000001.json / .npz     a scene's trained model (:mod:`.scenes`; listed in project.json)
        detector-000001.json         the spotter's second opinions (:mod:`.opinions`; named in
        verifier-000001.json           project.json's spotting settings, written once)
        rehearsals/rehearsal-20261127-104200.npz  rehearsals kept for audits (:mod:`.rehearsals`)
        trash/take-000003.json / .npz  deleted takes, until restored (``gesturemap restore``)
        .gesturemap-lock             held by the process writing the project (:mod:`.lock`)

Takes are written once, when they are recorded (:meth:`Project.save_take`, the engine's
autosave), and never rewritten: relabelling a take is recorded in ``project.json``. Loading
finds takes by scanning ``takes/``, so a take whose files were complete when the process died
is there even if ``project.json`` was never rewritten after it. A trained model gets a new file
name at every save and ``project.json`` switches to it in one atomic rename, so an interrupted
save leaves the previous model usable. Nothing is pickled: opening a shared project cannot run
code.

Deleting takes never destroys them at once: a save moves the files of removed takes into
``trash/`` inside the project, from where :meth:`Project.restore_takes` (the window's undo,
``gesturemap restore DIR``) brings them back under their own ids.

Loading reads only regular files inside the project folder (no links out of it, no devices or
FIFOs), checks every array's declared shape and size before reading it, and skips a damaged
take (whichever of its two files is damaged) with a warning, so the rest of the project opens.

A :class:`Project` is not thread-safe: one owner (the engine) changes it. One process writes a
folder at a time (:mod:`.lock`): a second writer gets :class:`~.lock.ProjectBusy`.

The package, by job: :mod:`.core` (the :class:`Project` object, its settings, classes and
takes), :mod:`.takes` (the :class:`Take` record and its times), :mod:`.training` (the training
set derived from the takes), :mod:`.folder` and :mod:`.files` (the folder format), and
:mod:`.trash` (removed takes and their restoring), :mod:`.scenes` (named mappings recalled on
stage), :mod:`.opinions` (the spotter's second opinions, in files of their own) and
:mod:`.rehearsals` (the rehearsals it keeps for audits, never takes).
"""

from __future__ import annotations

from .core import Project
from .files import (
    FORMAT,
    MAX_TAKE_BYTES,
    PROJECT_FILE,
    TAKE_FORMAT,
    TAKES_DIR,
    TRASH_DIR,
    VERSION,
)
from .rehearsals import REHEARSALS_DIR, kept_rehearsals
from .scenes import Scene
from .takes import Take, describe_gaps, repair_times

__all__ = [
    "FORMAT",
    "MAX_TAKE_BYTES",
    "PROJECT_FILE",
    "REHEARSALS_DIR",
    "TAKES_DIR",
    "TAKE_FORMAT",
    "TRASH_DIR",
    "VERSION",
    "Project",
    "Scene",
    "Take",
    "describe_gaps",
    "kept_rehearsals",
    "project_from_document",
    "repair_times",
]

#: A project with the settings of a ``project.json`` (no takes, no model yet); the window's
#: engine process sends a project this way.
project_from_document = Project._from_document
