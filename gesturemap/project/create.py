"""A new project folder: empty (a model kind, an input size, outputs) or a copy of a preset.

``gesturemap new`` and the window's File > New… both create projects here, so the two say the
same thing and refuse the same folders.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from ..errors import GesturemapError
from ..utils.data_dirs import presets_dir
from .core import Project
from .files import PROJECT_FILE
from .lock import LOCK_FILE

__all__ = ["check_new_folder", "create_project", "model_kinds", "preset_names"]


def preset_names() -> list[str]:
    """The ready projects shipped with gesturemap (``presets/``), by name."""
    root = presets_dir()
    return sorted(p.name for p in root.iterdir() if (p / PROJECT_FILE).is_file())


def model_kinds() -> list[str]:
    """The model kinds a project's settings may name (``"hhmm"``, ``"gmm"``, ``"knn"``…)."""
    from ..models import MODEL_REGISTRY

    return sorted(MODEL_REGISTRY)


def check_new_folder(folder: str | os.PathLike[str]) -> None:
    """Raise :class:`GesturemapError` unless ``folder`` can take a new project: it does not
    exist yet, or is an empty folder (a lock file left there is no content)."""
    dest = Path(folder)
    if dest.exists() and not dest.is_dir():
        raise GesturemapError(f"{dest} is a file: give the path of a new folder")
    if (dest / PROJECT_FILE).exists():
        raise GesturemapError(f"{dest} already holds a project: open it, or give a new folder")
    if dest.is_dir() and any(p.name != LOCK_FILE for p in dest.iterdir()):
        raise GesturemapError(f"{dest} is not empty: give a new folder")


def create_project(
    folder: str | os.PathLike[str],
    *,
    model: str = "hhmm",
    inputs: int | None = None,
    outputs: int = 0,
    preset: str | None = None,
) -> tuple[Project, str]:
    """Create a project in a new (or empty) folder and save it there.

    Parameters
    ----------
    folder : path
        Where to create it; its name is the project's name.
    model : str, default "hhmm"
        The model kind (:func:`model_kinds`); ignored with ``preset``.
    inputs : int, optional
        The input size; default: set by the sensor's first frame.
    outputs : int, default 0
        The number of continuous outputs (a regression project); 0: a project of classes.
    preset : str, optional
        Copy this ready project (:func:`preset_names`): its takes, model and mapping.

    Returns
    -------
    (Project, str)
        The saved project, and one line saying what was created.

    Raises
    ------
    GesturemapError
        If the model kind or preset is unknown, or ``folder`` holds files already.
    """
    dest = Path(folder)
    check_new_folder(dest)
    if preset is not None:
        return _from_preset(dest, preset)
    kinds = model_kinds()
    if model not in kinds:
        raise GesturemapError(f"--model {model!r}: expected one of {', '.join(kinds)}")
    names = [f"out{i + 1}" for i in range(outputs)] if outputs else None
    project = Project.new(dest, model=model, inputs=inputs, output_names=names)
    size = (f"{inputs} input{'s' if inputs != 1 else ''}" if inputs
            else "input size set by the sensor's first frame")
    task = (f"{outputs} continuous output{'s' if outputs != 1 else ''} (regression)"
            if outputs else "recognises classes")
    return project, f"created {dest}: {project.model['kind']} model, {size}, {task}"


def _from_preset(dest: Path, name: str) -> tuple[Project, str]:
    """A copy of preset ``name`` (takes, model, mapping) in ``dest``."""
    names = preset_names()
    if name not in names:
        raise GesturemapError(f"--preset {name!r}: expected one of {', '.join(names)}")
    source = presets_dir() / name
    project = Project.load(source)
    project._uid = secrets.token_hex(8)  # a project of its own, not the preset
    project.save(dest)
    for extra in source.iterdir():  # the data's licence travels with its takes
        if extra.is_file() and extra.name.startswith("LICENSE"):
            shutil.copy(extra, dest / extra.name)
    trained = " (trained)" if project.trained is not None else ""
    return project, (f"created {dest} from preset {name}: {len(project.takes)} takes, classes "
                     f"{', '.join(map(str, project.classes))}, {project.model['kind']} "
                     f"model{trained}")
