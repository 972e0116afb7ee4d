"""Scenes: named mappings of one project, recalled on stage (see docs/guides/scenes.md).

A scene is what the engine needs to play one section of a piece: a trained model with its
model settings, and the ``outputs`` settings (the OSC route and the synth mapping under
``"synth"``). Every scene shares the project's sensor and feature pipeline, so a recall never
restarts the pipeline, only the model stream and the routes.

On disk a scene is an entry of ``project.json``'s ``"scenes"`` list (its name, model settings,
outputs and model file) and its model's pair of files, ``scene-NNNNNN.json`` / ``.npz``, in the
models' own format (JSON + ``.npz``, never pickled), written once under a new name and removed
when no scene names it any more (after ``project.json`` stopped naming it).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, GesturemapError
from ..models import BaseModel
from ..models.base import restore
from ..utils.storage import validation_error
from .files import load_warning
from .settings import _model_settings, _outputs_settings, renamed_class_settings
from .training import carry_runtime_settings

__all__ = ["DEFAULT_FADE_S", "Scene", "ProjectScenes"]

#: The crossfade of continuous outputs when a scene is recalled, in seconds: long enough
#: that a jump of a synth parameter is heard as a glide, short enough to land on a beat.
DEFAULT_FADE_S = 0.5
#: The longest crossfade accepted (a minute: a slow morph between two sections).
MAX_FADE_S = 60.0

SCENE_FILE = re.compile(r"scene-(\d{6,})\.json")


@dataclass(frozen=True)
class Scene:
    """One named mapping: model settings, trained model and output settings.

    Attributes
    ----------
    name : str
    model : dict
        Model settings ``{"kind": ..., "params": {...}}`` (with ``spotting`` where set).
    trained : BaseModel
        The trained model the scene plays (read-only: streams are made from it).
    outputs : dict or None
        Output settings (OSC route, ``"synth"`` mapping), as :attr:`Project.outputs`.
    """

    name: str
    model: dict[str, Any]
    trained: BaseModel = field(repr=False)
    outputs: dict[str, Any] | None


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise validation_error("scene name", name, "a name of 1 to 200 characters, not only "
                               "spaces")
    return name


def check_fade(value: Any) -> float:
    """``value`` as a crossfade time in seconds (0..:data:`MAX_FADE_S`), or a validation
    error."""
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or not 0.0 <= value <= MAX_FADE_S):
        raise validation_error("scene_fade_s", value, f"seconds from 0 to {MAX_FADE_S:g}",
                               "0 switches at once.")
    return float(value)


class ProjectScenes:
    """A project's scenes (mixed into :class:`~gesturemap.project.Project`)."""

    model: dict[str, Any]
    outputs: dict[str, Any] | None
    trained: BaseModel | None
    _scenes: list[Scene]
    _scene_files: dict[int, tuple[Path, BaseModel, str]]
    _unread_scenes: list[tuple[Path, dict[str, Any], int, str]]
    _scene_fade_s: float
    #: the project's own mapping (model settings, trained model, outputs) while a scene plays
    #: on stage (:meth:`play_scene`), and the scene playing
    _own_mapping: tuple[dict[str, Any], BaseModel | None, dict[str, Any] | None] | None
    _playing: Scene | None

    def _init_scenes(self) -> None:
        self._scenes = []
        # id(model) -> (folder, model, file): a scene's model is written once per folder
        self._scene_files = {}
        # (folder, project.json entry, its place in the list, why) of scenes whose model
        # could not be read (a newer gesturemap's, no permission): written back in their place
        # at every save into that folder, their files kept, unless a scene of the same name
        # replaced them; their places keep the other scenes' indices
        self._unread_scenes: list[tuple[Path, dict[str, Any], int, str]] = []
        self._scene_fade_s = DEFAULT_FADE_S
        self._own_mapping = None
        self._playing = None

    @property
    def scenes(self) -> tuple[Scene, ...]:
        """The scenes, in the order they were first saved (a tuple: edit with
        :meth:`save_scene` and :meth:`remove_scene`)."""
        return tuple(self._scenes)

    @property
    def scene_names(self) -> list[str]:
        """The scenes' names, in order (a scene's index in OSC is its place here)."""
        return [s.name for s in self._scenes]

    def scene_order(self) -> list[tuple[str, str | None]]:
        """Every scene of the project in its order, the one an index recalls (``/gesturemap/scene
        INDEX``, a MIDI program change): ``(name, None)`` for a scene that opened, ``(name,
        why)`` for one left out as the project opened, which keeps its place, so that the
        scenes after it keep their indices."""
        order: list[tuple[str, str | None]] = [(s.name, None) for s in self._scenes]
        names = set(self.scene_names)
        for place, name, why in sorted((place, entry["name"], why) for _, entry, place, why
                                       in self._unread_scenes if entry["name"] not in names):
            order.insert(min(place, len(order)), (name, why))
            names.add(name)
        return order

    @property
    def scene_fade_s(self) -> float:
        """Seconds over which continuous outputs cross-fade when a scene is recalled (default
        :data:`DEFAULT_FADE_S`; 0: at once)."""
        return self._scene_fade_s

    @scene_fade_s.setter
    def scene_fade_s(self, value: float) -> None:
        self._scene_fade_s = check_fade(value)

    def scene(self, name: str) -> Scene:
        """The scene called ``name``.

        Raises
        ------
        KeyError
            If there is no such scene.
        """
        for s in self._scenes:
            if s.name == name:
                return s
        raise KeyError(f"no scene {name!r} in this project (scenes: {self.scene_names})")

    def save_scene(self, name: str) -> Scene:
        """Make the current trained model, its model settings and the output settings (OSC
        route, synth mapping) the scene ``name``, replacing a scene of that name in its
        place, or adding it at the end. In memory, like every edit: :meth:`save` writes it.

        Returns
        -------
        Scene

        Raises
        ------
        GesturemapError
            If the name is not a non-empty str, or the project has no trained model yet.
        """
        name = _check_name(name)
        if self.trained is None:
            raise GesturemapError(f"scene {name!r}: the project has no trained model yet; "
                                  "train it first (a scene plays a trained model).")
        scene = Scene(name, copy.deepcopy(self.model), self.trained,
                      copy.deepcopy(self.outputs))
        for i, s in enumerate(self._scenes):
            if s.name == name:
                self._scenes[i] = scene
                return scene
        # a scene left out as the project opened (its files unreadable) is replaced in its
        # place too: appended, it would move the scenes after it up one index, and a
        # program change would recall another section than the one meant
        order = self.scene_order()
        place = next((k for k, (n, why) in enumerate(order) if n == name and why), None)
        at = len(self._scenes) if place is None else sum(
            why is None for _, why in order[:place])
        self._scenes.insert(at, scene)
        return scene

    def set_scene_spotting(self, name: str, spotting: dict[str, Any] | None) -> Scene:
        """Give the scene ``name`` these spotting settings (None: spotting off), its trained
        model and outputs kept: what a running engine does when thresholds or costs are set
        while the scene plays (they are its mapping's). In memory, like every edit:
        :meth:`save` writes it.

        Returns
        -------
        Scene

        Raises
        ------
        KeyError
            If there is no such scene.
        GesturemapError
            If the settings are not spotting settings; the scene is then unchanged.
        """
        scene = self.scene(name)
        model = {k: v for k, v in scene.model.items() if k != "spotting"}
        if spotting is not None:
            model["spotting"] = spotting
        return self._replace_scene(scene, model=_model_settings(model))

    def set_scene_outputs(self, name: str, outputs: dict[str, Any] | None) -> Scene:
        """Give the scene ``name`` these output settings (OSC route, synth mapping), its
        trained model and model settings kept, as :meth:`set_scene_spotting` does for its
        spotting: what a running engine does when the outputs are edited while the scene
        plays. Raises as :meth:`set_scene_spotting` (a KeyError: no such scene)."""
        return self._replace_scene(self.scene(name),
                                   outputs=_outputs_settings(copy.deepcopy(outputs)))

    def _replace_scene(self, scene: Scene, **changes: Any) -> Scene:
        updated = dataclasses.replace(scene, **changes)
        self._scenes[self._scenes.index(scene)] = updated
        return updated

    def _scenes_renamed(self, old: Any, new: Any) -> dict[int, tuple[BaseModel, dict, Any]]:
        """Scene index -> (trained model, model settings, output settings) of every scene that
        plays class ``old``, with ``old`` called ``new``: its model answers with the new name,
        its settings name it so (:func:`renamed_class_settings`; a patch
        reading the label, and the number the scene's outputs keep for the name, follow it
        across a save). Made before the rename changes anything, so that a model which cannot
        be copied leaves the project as it was. The copy is written to a file of its own at
        the next save: the model object may be the project's own, or another scene's.

        Raises
        ------
        GesturemapError
            Where a scene plays both ``old`` and ``new`` (``new`` a class deleted from the
            project since): it would answer two classes by one name.
        """
        changes = {}
        for i, scene in enumerate(self._scenes):
            labels = _labels(scene.trained)
            if old not in labels:
                continue
            if new in labels:
                raise validation_error(
                    "class", new, "a name no scene's class has",
                    f"Scene {scene.name!r} still plays a class {new!r} (deleted from the "
                    "project since): choose another name, or save that scene anew first.")
            model, outputs = renamed_class_settings(scene.model, scene.outputs, old, new)
            changes[i] = (_relabelled(scene.trained, model, old, new), model, outputs)
        return changes

    def _rename_in_scenes(self, changes: dict[int, tuple[BaseModel, dict, Any]]) -> None:
        """Put :meth:`_scenes_renamed`'s models and settings in their scenes."""
        for i, (trained, model, outputs) in changes.items():
            self._scenes[i] = dataclasses.replace(self._scenes[i], trained=trained, model=model,
                                                  outputs=_outputs_settings(outputs))

    def remove_scene(self, name: str) -> Scene:
        """Remove the scene ``name`` and return it (its model files go at the next save).

        Raises
        ------
        KeyError
            If there is no such scene.
        """
        scene = self.scene(name)
        self._scenes.remove(scene)
        return scene

    def recall_scene(self, name: str) -> Scene:
        """Make the scene ``name`` the project's own mapping: its model settings, trained
        model and output settings, saved as the project's (on stage the engine plays a scene
        without making it the project's own: :meth:`play_scene`).

        Raises
        ------
        KeyError
            If there is no such scene.
        """
        scene = self.scene(name)
        self.model = copy.deepcopy(scene.model)  # type: ignore[assignment]
        self.trained = scene.trained
        self.outputs = copy.deepcopy(scene.outputs)  # type: ignore[assignment]
        self._own_mapping = self._playing = None  # the scene is the project's own now
        return scene

    def play_scene(self, scene: Scene) -> None:
        """Play ``scene`` as the current mapping on stage (the engine's recall; the engine
        swaps its trained model in): its model settings and outputs become the current ones,
        while the project keeps its own mapping for saving. Saved while the scene plays (an
        autosave after costs or a take), the project writes its own mapping as it was and the
        scene in its entry: a recall, and what is set for the scene while it plays, never
        replace the mapping the project opens with. A model trained while a scene plays is
        the project's own (the mapping it saves) from then on."""
        playing = self._playing
        if playing is None or self.trained is not playing.trained:
            self._own_mapping = (self.model, self.trained, self.outputs)
        self._playing = scene  # before the settings change: see _mapping_to_save
        self.model, self.outputs = scene.model, scene.outputs

    def _mapping_to_save(self) -> tuple[dict[str, Any], BaseModel | None,
                                        dict[str, Any] | None]:
        """(model settings, trained model, outputs) a save writes as the project's own: the
        current ones, unless a scene plays (:meth:`play_scene`) and no training has replaced
        its model since."""
        # read in the reverse order of play_scene's writes (the engine thread recalls while
        # the I/O thread saves): a save between a recall's steps still writes its own mapping,
        # never the scene's settings beside the project's model
        current = (self.model, self.trained, self.outputs)
        playing, own = self._playing, self._own_mapping
        if playing is not None and own is not None and (
                current[1] is playing.trained or current[1] is own[1]):
            return own
        return current

    # ---- the folder ------------------------------------------------------------------------

    def _save_scenes(self, folder: Path) -> list[dict[str, Any]]:
        """Write the models of scenes not yet in ``folder``; the entries of project.json."""
        resolved = folder.resolve()
        numbers = [0]
        for path in folder.glob("scene-*.json"):
            match = SCENE_FILE.fullmatch(path.name)
            if match:
                numbers.append(int(match.group(1)))
        entries = []
        files: dict[int, tuple[Path, BaseModel, str]] = {}
        for scene in list(self._scenes):  # a snapshot: another thread may edit meanwhile
            key = id(scene.trained)
            saved = files.get(key) or self._scene_files.get(key)
            if (saved is None or saved[0] != resolved or saved[1] is not scene.trained
                    or not (folder / saved[2]).exists()):
                name = f"scene-{max(numbers) + 1:06d}.json"
                numbers.append(max(numbers) + 1)
                scene.trained.save(folder / name)
                saved = (resolved, scene.trained, name)
            files[key] = saved
            entries.append({"name": scene.name, "model": scene.model,
                            "outputs": scene.outputs, "model_file": saved[2]})
        self._scene_files = files
        names = {scene.name for scene in self._scenes}
        waiting = sorted((place, entry["name"], entry) for where, entry, place, _
                         in self._unread_scenes
                         if where == resolved and entry["name"] not in names
                         and (folder / entry["model_file"]).exists())
        for place, _, entry in waiting:  # in their places: the others keep their indices
            entries.insert(min(place, len(entries)), entry)
        return entries

    @staticmethod
    def _remove_stale_scene_files(folder: Path, entries: list[dict[str, Any]]) -> None:
        """Delete scene model files project.json (just written) no longer names."""
        keep = {Path(e["model_file"]).stem for e in entries}
        for path in folder.glob("scene-*.*"):
            if (SCENE_FILE.fullmatch(path.with_suffix(".json").name)
                    and path.suffix in (".json", ".npz") and path.stem not in keep):
                path.unlink(missing_ok=True)

    def _load_scenes(self, folder: Path, path: Path, document: dict[str, Any],
                     read_model: Any) -> None:
        """The scenes ``project.json`` lists (none in a project saved before scenes existed);
        a scene whose model cannot be read is left out with a warning, the rest opens."""
        if "scene_fade_s" in document:
            # a wrong crossfade time is one setting, as a damaged scene is one scene: the
            # project opens (its takes, its model, its scenes) with the default fade
            try:
                self.scene_fade_s = document["scene_fade_s"]
            except GesturemapError:
                load_warning(f"{path}: scene_fade_s is {document['scene_fade_s']!r:.80}, not "
                             f"seconds from 0 to {MAX_FADE_S:g}: scenes cross-fade over the "
                             f"default {DEFAULT_FADE_S:g} s instead (a save of the project "
                             "writes the default; put the seconds you want in project.json)")
        entries = document.get("scenes") or []
        if not isinstance(entries, list):
            raise FormatError(f"{path} is damaged: 'scenes' is {entries!r:.80}; expected a list.")
        for place, entry in enumerate(entries):
            try:
                if not isinstance(entry, dict):
                    raise FormatError(f"{entry!r:.80} is not a scene entry")
                name = _check_name(entry.get("name"))
                if name in self.scene_names:
                    raise FormatError(f"a second scene named {name!r}")
                model_file = entry.get("model_file")
                if not (isinstance(model_file, str) and SCENE_FILE.fullmatch(model_file)):
                    raise FormatError(f"scene {name!r}: 'model_file' is {model_file!r:.80}")
                settings = _model_settings(entry.get("model"))
                outputs = _outputs_settings(entry.get("outputs"))
                # read for each scene, even where two name one file (saved from one trained
                # model): a model object shared by two scenes would carry a run-time setting
                # applied, or a refit made, through one into the other
                trained = read_model(folder, path, model_file)
                carry_runtime_settings(settings, trained)  # the scene plays by its settings
            except (GesturemapError, OSError) as error:  # FormatError included
                load_warning(f"{folder}: a scene was left out: {error}")
                if (isinstance(entry, dict) and isinstance(entry.get("name"), str)
                        and isinstance(entry.get("model_file"), str)
                        and SCENE_FILE.fullmatch(entry["model_file"])):
                    # its files stay, and so does its entry: a newer gesturemap reads it
                    self._unread_scenes.append((folder.resolve(), dict(entry), place,
                                                str(error)))
                continue
            self._scenes.append(Scene(name, settings, trained, outputs))
            self._scene_files[id(trained)] = (folder.resolve(), trained, model_file)


def _labels(model: BaseModel) -> list[Any]:
    return list(getattr(model, "labels_", None) or [])


def _relabelled(model: BaseModel, settings: dict[str, Any], old: Any, new: Any) -> BaseModel:
    """A copy of the trained ``model`` whose class ``old`` is called ``new``, made through
    the models' own saved form (as a reopened project reads it), with the scene's run-time
    settings applied as at load."""
    meta, arrays = model.dump()
    meta["labels"] = [new if lb == old else lb for lb in meta["labels"]]
    params = meta.get("params") or {}
    if params.get("class_params") is not None:  # saved as a list of [label, settings]
        params["class_params"] = [[new if pair[0] == old else pair[0], pair[1]]
                                  for pair in params["class_params"]]
    copied = restore(meta, {k: np.array(v, copy=True) for k, v in arrays.items()})
    carry_runtime_settings(settings, copied)
    return copied
