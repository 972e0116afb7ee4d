"""The :class:`Project` domain object: its settings, classes and takes, and their edits.

Saving and loading (:mod:`.folder`), the trash (:mod:`.trash`) and the training set derived
from the takes (:mod:`.training`) are mixed in from their own modules.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..data import Dataset, _check_label, _check_names, as_array, class_numbers
from ..errors import GesturemapError
from ..features import Pipeline
from ..models import BaseModel
from ..utils.storage import Described, validation_error
from .folder import ProjectFolder
from .scenes import ProjectScenes
from .settings import (
    _display_settings,
    _model_settings,
    _outputs_settings,
    _positive_int,
    _renamed_keys,
    _sensor_settings,
    _switches_settings,
    adopt_rejection_threshold,
    renamed_class_settings,
    renumbered,
)
from .takes import (
    Label,
    Take,
    _check_times,
    _iso_time,
    _now_iso,
    _take_id,
    _take_number,
    check_gaps,
)
from .training import ProjectTraining
from .trash import ProjectTrash

log = logging.getLogger("gesturemap.project")


class Project(ProjectFolder, ProjectTraining, ProjectTrash, ProjectScenes):
    """A gesture-to-sound mapping: settings, takes and (once trained) a model.

    The sensor and output settings and the model's ``onset``, ``auto`` and ``spotting`` are
    checked entry by entry whenever they are set (and so when ``project.json`` loads): a
    wrong type or a value out of range is a :class:`~gesturemap.errors.GesturemapError`
    naming the entry (``sensor.port``, ``outputs.scales[0].in_min``,
    ``model.onset.threshold``...). The model's parameters are the training's to check: a
    retraining they fail says why.

    Parameters
    ----------
    name : str, default "untitled"
    model : dict or str, optional
        Model settings ``{"kind": "hhmm", "params": {"states": 10}}``; the kind is a key of
        :data:`gesturemap.models.MODEL_REGISTRY`. A kind name alone means default parameters.
        Default ``{"kind": "hhmm", "params": {}}``.
    pipeline : gesturemap.features.Pipeline, optional
        Feature pipeline between the sensor and the model; default empty (identity).
    sensor : dict, optional
        JSON-compatible sensor settings, e.g. ``{"transport": "osc", "host": "127.0.0.1",
        "port": 6448, "profile": "wekinator"}``.
    outputs : dict, optional
        JSON-compatible output settings (OSC host, port, addresses, scales; ``midi``;
        ``synth``: the synth mapping).
    display : dict, optional
        How the window and the stage view show the project: ``class_colors`` ({class name:
        "#rrggbb"}). Below ``outputs["reject_below"]`` they show the likeliest class as
        unknown, as the outputs send none; an older file's ``rejection_threshold`` here is
        taken into ``outputs`` (:func:`~gesturemap.project.settings.adopt_rejection_threshold`).
    input_names : sequence of str, optional
        Names of the raw input channels; they fix the input size.
    output_names : sequence of str, optional
        Names of the regression targets (the take outputs' columns).
    classes : sequence of str or int, optional
        The declared classes, in display order. A class may exist before it has takes; a take
        with a new label declares it.

    Attributes
    ----------
    name : str
    model : dict
        The model settings (see above).
    pipeline : Pipeline
    sensor, outputs, display : dict or None
    trained : BaseModel or None
        The trained model, set by whoever trains (see :meth:`train`); saved with the project.
    folder : pathlib.Path or None
        Where the project was last saved to or loaded from.

    Examples
    --------
    >>> project = Project(model={"kind": "gmm", "params": {"gaussians": 2}})
    >>> take = project.add_take(np.random.default_rng(0).normal(size=(40, 3)), "circle")
    >>> take.id
    'take-000000'
    """

    def __init__(
        self,
        name: str = "untitled",
        *,
        model: Mapping[str, Any] | str | None = None,
        pipeline: Pipeline | None = None,
        sensor: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None,
        input_names: Sequence[str] | None = None,
        output_names: Sequence[str] | None = None,
        classes: Sequence[Label] | None = None,
        display: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise validation_error("name", name, "a non-empty str")
        #: while the project is being built or loaded: its classes are not new ones
        self._building = True
        self.name = name
        self._init_scenes()  # before the settings: an older display setting reaches scenes too
        self.model = model  # type: ignore[assignment]  # the setters check and normalise
        self.pipeline = Pipeline() if pipeline is None else pipeline
        self.sensor = sensor  # type: ignore[assignment]
        self.outputs = outputs  # type: ignore[assignment]
        self.display = display  # type: ignore[assignment]
        self._switches: dict[str, Any] | None = None
        self.trained: BaseModel | None = None
        self.folder: Path | None = None
        self._input_names = _check_names("input_names", input_names)
        self._output_names = _check_names("output_names", output_names)
        self._input_dim: int | None = None if self._input_names is None else len(self._input_names)
        # Recordings for validation only: they share the takes' read-only arrays (no copy), and
        # Dataset.add gives the same checks and messages as anywhere else in gesturemap.
        self._raw = Dataset(self._input_names, self._output_names)
        self._takes: list[Take] = []
        self._classes: list[Label] = []
        self._class_set: set[Label] = set()  # the same classes, for membership in O(1)
        self._next_take = 0
        self._removed: list[str] = []
        # Takes removed since the last save, for a save_take that was queued before.
        self._gone: dict[str, Take] = {}
        # (folder, take id) of the takes known to be this project's own files there: loaded
        # from it or written into it (a take id found there otherwise is another process's).
        self._on_disk: set[tuple[Path, str]] = set()
        #: Steps back in takes' times re-stamped by add_take or load (see repair_times).
        self.times_repaired = 0
        # (folder, take id) -> label of takes project.json listed whose files are there but
        # could not be read (a newer format, no permission): listed again at every save into
        # that folder, so the label given them (a relabel lives in project.json) is not lost
        self._unread_takes: dict[tuple[Path, str], Label] = {}
        # folder -> second opinions' files there that could not be read: never deleted
        self._unread_opinions: dict[Path, set[str]] = {}
        self._uid = secrets.token_hex(8)
        self._created = _now_iso()
        self._saved_model: tuple[Path, BaseModel, str] | None = None
        if classes is not None and (isinstance(classes, (str, bytes))
                                    or not isinstance(classes, Iterable)):
            # a name alone would become one class per letter
            raise TypeError(f"classes: got {classes!r}; expected a list of class names, "
                            "e.g. ['circle', 'swipe']")
        for label in classes or ():
            self.add_class(label)
        self._building = False

    # ---- settings, checked whenever they are set --------------------------------------------------

    @property
    def model(self) -> dict[str, Any]:
        """Model settings ``{"kind": ..., "params": {...}}``; a kind name alone may be set."""
        return self._model

    @model.setter
    def model(self, value: Mapping[str, Any] | str | None) -> None:
        self._model = _model_settings(value)

    @property
    def pipeline(self) -> Pipeline:
        """The feature pipeline between the sensor and the model."""
        return self._pipeline

    @pipeline.setter
    def pipeline(self, value: Pipeline) -> None:
        if not isinstance(value, Pipeline):
            raise validation_error(
                "pipeline", Described(f"a {type(value).__name__}"), "a features.Pipeline"
            )
        self._pipeline = value

    @property
    def sensor(self) -> dict[str, Any] | None:
        """Sensor settings (JSON-compatible dict) or None."""
        return self._sensor

    @sensor.setter
    def sensor(self, value: Mapping[str, Any] | None) -> None:
        self._sensor = _sensor_settings(value)

    @property
    def outputs(self) -> dict[str, Any] | None:
        """Output settings (JSON-compatible dict) or None."""
        return self._outputs

    @outputs.setter
    def outputs(self, value: Mapping[str, Any] | None) -> None:
        self._outputs = _outputs_settings(value)

    @property
    def switches(self) -> dict[str, Any] | None:
        """Wekinator's per-output switches that are off (``held``: {output number: value},
        ``recording_off``: [output numbers]), kept with the project as Wekinator keeps them;
        None when every output is on. The engine sets them."""
        return self._switches

    @switches.setter
    def switches(self, value: Mapping[str, Any] | None) -> None:
        self._switches = _switches_settings(value)

    @property
    def display(self) -> dict[str, Any] | None:
        """Display settings (``class_colors``) or None."""
        return self._display

    @display.setter
    def display(self, value: Mapping[str, Any] | None) -> None:
        display = _display_settings(value)
        if display is not None and "rejection_threshold" in display:
            display = dict(display)
            self._adopt_rejection_threshold(display.pop("rejection_threshold"))
        self._display = display

    def _adopt_rejection_threshold(self, threshold: float | None) -> None:
        """Put an older file's ``display.rejection_threshold`` (the monitor's own, once) in
        force as ``outputs["reject_below"]``, the project's and its scenes' (a recall must
        not drop it), unless they have a ``reject_below`` of their own
        (:func:`~gesturemap.project.settings.adopt_rejection_threshold`)."""
        value = float(threshold or 0.0)
        outputs = adopt_rejection_threshold(self.outputs, value)
        if outputs is not self.outputs:
            self.outputs = outputs
        self._scenes_adopt_rejection_threshold(value)

    def _scenes_adopt_rejection_threshold(self, value: float) -> None:
        """:meth:`_adopt_rejection_threshold` for the scenes alone (they load after the
        project's own settings)."""
        for i, scene in enumerate(self._scenes):
            outputs = adopt_rejection_threshold(scene.outputs, value,
                                                f"scene {scene.name!r} outputs")
            if outputs is not scene.outputs:
                self._scenes[i] = dataclasses.replace(scene, outputs=outputs)

    # ---- description ----------------------------------------------------------------------------

    @property
    def takes(self) -> tuple[Take, ...]:
        """The takes, in recording order (a tuple: edit with the methods below)."""
        return tuple(self._takes)

    @property
    def classes(self) -> list[Label]:
        """The declared classes, in display order (a copy)."""
        return list(self._classes)

    def has_class(self, label: Label) -> bool:
        """Whether ``label`` is a declared class (without copying :attr:`classes`)."""
        return label in self._class_set

    @property
    def class_count(self) -> int:
        """How many classes are declared."""
        return len(self._classes)

    @property
    def input_dim(self) -> int | None:
        """Number of raw input channels; None until the first take or frame tells.

        Set it when the sensor's first frame arrives; it cannot change once there are takes.
        """
        return self._input_dim

    @input_dim.setter
    def input_dim(self, value: int) -> None:
        number = _positive_int("input_dim", value)
        if (
            self._input_dim is not None
            and number != self._input_dim
            and (self._takes or self._input_names is not None)
        ):
            raise validation_error(
                "input_dim",
                number,
                f"{self._input_dim}, the size of this project's "
                + ("takes" if self._takes else "input_names"),
                "Start a new project for a sensor with another number of channels.",
            )
        self._input_dim = number

    @property
    def input_names(self) -> tuple[str, ...] | None:
        """Names of the raw input channels, or None (then ``x0, x1, ...`` where needed)."""
        return self._input_names

    @input_names.setter
    def input_names(self, names: Sequence[str] | None) -> None:
        checked = _check_names("input_names", names)
        if checked is not None and self._input_dim is not None and len(checked) != self._input_dim:
            raise validation_error(
                "input_names",
                list(checked),
                f"{self._input_dim} names, one per input channel of this project",
            )
        self._rename(checked, self._output_names)
        if checked is not None:
            self._input_dim = len(checked)

    @property
    def output_names(self) -> tuple[str, ...] | None:
        """Names of the regression targets, or None.

        Setting names declares the targets (their number must match the takes' outputs).
        """
        return self._output_names

    @output_names.setter
    def output_names(self, names: Sequence[str] | None) -> None:
        self._rename(self._input_names, _check_names("output_names", names))

    def _rename(
        self, input_names: tuple[str, ...] | None, output_names: tuple[str, ...] | None
    ) -> None:
        """Rebuild the takes' recordings under new names; unchanged if a take does not fit."""
        raw = Dataset(input_names, output_names)
        takes = []
        for take in self._takes:
            try:
                recording = raw.add(take.inputs, take.label, take.outputs)
            except GesturemapError as error:
                raise GesturemapError(f"the names do not fit {take.id}: {error}") from None
            takes.append(
                dataclasses.replace(take, inputs=recording.inputs, outputs=recording.outputs)
            )
        self._raw, self._takes = raw, takes
        self._input_names, self._output_names = input_names, output_names

    @property
    def output_dim(self) -> int:
        """Number of regression targets (0 without outputs)."""
        return self._raw.output_dim

    def take(self, take_id: str) -> Take:
        """The take with this id.

        Raises
        ------
        KeyError
            If the project has no such take.
        """
        return self._takes[self._position(take_id)]

    def _position(self, take_id: str) -> int:
        for i, take in enumerate(self._takes):
            if take.id == take_id:
                return i
        raise KeyError(f"no take {take_id!r} in this project (it has {len(self._takes)} takes)")

    def __repr__(self) -> str:
        state = "trained" if self.trained is not None else "not trained"
        return (
            f"Project({self.name!r}, {self.model['kind']}, {len(self._takes)} takes, "
            f"{len(self._classes)} classes, {state})"
        )

    # ---- classes and takes ----------------------------------------------------------------------

    def _check_label_kind(self, name: str, label: Label) -> None:
        # every class is of one kind (this check keeps it so): the first one tells it
        kinds = {type(self._classes[0])} if self._classes else set()
        if kinds and type(label) not in kinds:
            raise validation_error(
                name,
                label,
                f"a {next(iter(kinds)).__name__} like the project's classes",
                "Use one kind of label in a project: all names (str) or all numbers (int).",
            )

    def add_class(self, label: Label, *, index: int | None = None) -> None:
        """Declare a class (a no-op if it exists), at the end of the classes or at ``index``
        (a deleted class brought back in its place: the class list and the default colours
        follow this order).

        Raises
        ------
        GesturemapError
            If the label is not a non-empty str or an int, or not of the classes' kind.
        """
        label = _check_label("class", label)
        self._check_label_kind("class", label)
        if index is None or label in self._class_set:
            self._declare(label)
            return
        self._classes.insert(max(0, int(index)), label)
        self._class_set.add(label)
        self._number_new_class(label)

    def _declare(self, label: Label) -> None:
        """Add ``label`` at the end of the classes unless it is one (O(1))."""
        if label not in self._class_set:
            self._classes.append(label)
            self._class_set.add(label)
            self._number_new_class(label)

    def _number_new_class(self, label: Label) -> None:
        """In a project that keeps Wekinator numbers (an import's ``class_numbers``), write
        down the number a new named class is sent as, the next after the highest, and the
        numbers of the classes sent by their place until now: a number that is not written
        depends on the classes around it, and a class added later would move it."""
        numbers = (self._outputs or {}).get("class_numbers")
        if not numbers or self._building or not isinstance(label, str) or label in numbers:
            return
        before = sorted(str(c) for c in self._classes if c != label)
        written = {**numbers, **{lb: int(n) for lb, n in
                                 zip(before, class_numbers(before, numbers), strict=True)}}
        # after every number a scene sends too: a scene recalled later must not send its
        # own class and the new one as one number
        used = [n for scene in self._scenes
                for n in ((scene.outputs or {}).get("class_numbers") or {}).values()]
        written[label] = max([*written.values(), *used]) + 1
        self.outputs = {**self._outputs, "class_numbers": written}
        for i, scene in enumerate(self._scenes):
            own = (scene.outputs or {}).get("class_numbers")
            if own:  # a recall keeps the numbers, the scene's own first
                self._scenes[i] = dataclasses.replace(
                    scene, outputs={**scene.outputs, "class_numbers": {**written, **own}})

    def remove_class(self, label: Label, *, remove_takes: bool = False) -> list[Take]:
        """Remove a class; with ``remove_takes`` also its takes, which are returned.

        Raises
        ------
        GesturemapError
            If the class still has takes and ``remove_takes`` is False.
        KeyError
            If there is no such class.
        """
        if label not in self._class_set:
            raise KeyError(f"no class {label!r} in this project (classes: {self._classes})")
        takes = [t for t in self._takes if t.label == label]
        if takes and not remove_takes:
            raise validation_error(
                "class",
                label,
                "a class without takes",
                f"It has {len(takes)} takes: pass remove_takes=True to delete them too.",
            )
        for take in takes:
            self.remove_take(take.id)
        self._classes.remove(label)
        self._class_set.discard(label)
        return takes

    def rename_class(self, old: Label, new: Label) -> list[Take]:
        """Give class ``old`` the name ``new``: its takes are relabelled, its place in the
        class order is kept. Returns the relabelled takes.

        Raises
        ------
        KeyError
            If there is no class ``old``.
        GesturemapError
            If ``new`` is not an acceptable label, or is a class already; the project is then
            unchanged.
        """
        if old not in self._class_set:
            raise KeyError(f"no class {old!r} in this project (classes: {self._classes})")
        new = _check_label("class", new)
        if new == old:
            return []
        if new in self._class_set:
            raise validation_error("class", new, "a name no other class has", "Choose another.")
        self._check_label_kind("class", new)
        scenes = self._scenes_renamed(old, new)
        model, outputs = renamed_class_settings(self._model, self._outputs, old, new)
        model, outputs = _model_settings(model), _outputs_settings(outputs)  # checked first
        position = self._classes.index(old)
        relabelled = [self.relabel_take(t.id, new) for t in self._takes if t.label == old]
        # relabel_take declared the new name at the end: it takes the old one's place instead
        self._classes = [c for c in self._classes if c != new]
        self._classes[position] = new
        self._class_set = set(self._classes)
        self._model, self._outputs = model, outputs
        colours = (self._display or {}).get("class_colors") or {}
        if str(old) in colours:  # the colour the musician picked goes with the class
            self.display = {**(self._display or {}), "class_colors": _renamed_keys(
                colours, str(old), str(new))}
        self._rename_in_scenes(scenes)
        self._renumber(old, new)
        return relabelled

    def _renumber(self, old: Label, new: Label) -> None:
        """A renamed class keeps the Wekinator number it is sent as, in the project's output
        settings and in every scene's (a recall must not give it another)."""
        outputs = renumbered(self._outputs, old, new)
        if outputs is not self._outputs:
            self.outputs = outputs
        for i, scene in enumerate(self._scenes):
            outputs = renumbered(scene.outputs, old, new)
            if outputs is not scene.outputs:
                self._scenes[i] = dataclasses.replace(scene, outputs=outputs)

    def add_take(
        self,
        inputs: Any,
        label: Label,
        times: Any = None,
        outputs: Any = None,
        gaps: Any = (),
        created: datetime.datetime | None = None,
    ) -> Take:
        """Record a take (a copy of the data) and give it the next id.

        Parameters
        ----------
        inputs : array_like, shape (T, D_in) or (T,)
            Raw sensor frames, finite, T >= 1.
        label : str or int
            The class demonstrated; a new label declares a new class.
        times : array_like, shape (T,), optional
            Each frame's time in seconds from the take's start. Times that go back (a
            sensor's clock reset) are re-stamped (:func:`repair_times`), counted in
            :attr:`times_repaired` and logged: the take is kept.
        outputs : array_like, shape (T, D_out), optional
            The target values held while recording. Either every take has outputs or none.
        gaps : sequence of (start_s, length_s), optional
            When the sensor was away during the take (:attr:`Take.gaps`).
        created : datetime.datetime, optional
            When the take was recorded (when it ended), for a take recorded elsewhere (an
            imported Wekinator take's last example); naive: local time. Default: now.

        Returns
        -------
        Take

        Raises
        ------
        GesturemapError
            If the data does not fit the project; the project is then unchanged.
        """
        label = _check_label("label", label)
        self._check_label_kind("label", label)
        checked_gaps = check_gaps(gaps)
        when = _now_iso() if created is None else _iso_time(created)
        inputs_array = as_array("inputs", inputs)
        d_in = inputs_array.shape[1] if inputs_array.ndim == 2 else 1
        if self._input_dim is not None and inputs_array.ndim in (1, 2) and d_in != self._input_dim:
            raise validation_error(
                "inputs",
                inputs_array,
                f"{self._input_dim} columns, the project's input size",
                "Check the sensor's channel count; start a new project for another sensor.",
            )
        recording = self._raw.add(inputs_array, label, outputs)
        try:
            checked_times, repaired = (
                (None, 0) if times is None else _check_times(times, recording.length)
            )
        except GesturemapError:
            self._raw.remove(-1)
            raise
        if repaired:
            self.times_repaired += repaired
            log.warning(
                "take %s: its times went back %d time(s) (the sensor's clock); re-stamped and kept",
                _take_id(self._next_take),
                repaired,
            )
        return self._append(
            Take(
                _take_id(self._next_take),
                recording.label,
                recording.inputs,
                checked_times,
                recording.outputs,
                when,
                checked_gaps,
            )
        )

    def _append(self, take: Take) -> Take:
        self._takes.append(take)
        number = _take_number(take.id)
        self._next_take = max(self._next_take, (number or 0) + 1)
        if self._input_dim is None:
            self._input_dim = int(take.inputs.shape[1])
        self._declare(take.label)
        return take

    def remove_take(self, take_id: str) -> Take:
        """Remove a take and return it; its id is never given again.

        Its files move to the project's ``trash/`` at the next :meth:`save`;
        :meth:`restore_takes` brings it back.

        Raises
        ------
        KeyError
            If the project has no such take.
        """
        position = self._position(take_id)
        self._raw.remove(position)
        take = self._takes.pop(position)
        self._removed.append(take.id)
        self._gone[take.id] = take
        return take

    def relabel_take(self, take_id: str, label: Label) -> Take:
        """Give a take another label (declaring it as a class if new); returns the new take.

        The take's files are not rewritten: the label is recorded in ``project.json`` at the
        next :meth:`save`.

        Raises
        ------
        KeyError
            If the project has no such take.
        GesturemapError
            If the label is not acceptable; the project is then unchanged.
        """
        position = self._position(take_id)
        label = _check_label("label", label)
        self._check_label_kind("label", label)
        self._raw.relabel(position, label)
        take = dataclasses.replace(self._takes[position], label=label)
        self._takes[position] = take
        self._declare(label)
        return take

    def _add_loaded(self, take: Take) -> None:
        if self._input_dim is not None and take.inputs.shape[1] != self._input_dim:
            raise validation_error(
                "inputs", take.inputs, f"{self._input_dim} columns, the project's input size"
            )
        self._check_label_kind("label", take.label)
        recording = self._raw.add(take.inputs, take.label, take.outputs)
        # Share the recording's (identical) read-only arrays rather than keep two copies.
        self._append(dataclasses.replace(take, inputs=recording.inputs, outputs=recording.outputs))

