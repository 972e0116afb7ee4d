"""Projects: sensor settings, feature pipeline, model settings, takes and trained model, in a folder.

A project is what a musician opens, records into, trains and plays. On disk it is a folder of
JSON and ``.npz`` files, each written atomically, so a crash never leaves a half-written file::

    my-project/
        project.json                 settings, pipeline, classes, names, take list, model file
        takes/take-000000.json       one take's label, shape, time and arrays' checksum
        takes/take-000000.npz        its inputs (T, D_in), and times (T,) / outputs (T, D_out)
        model-000001.json / .npz     the trained model (gesturemap.models format), if any
        trash/take-000003.json / .npz  deleted takes, until restored (``gesturemap restore``)

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

A :class:`Project` is not thread-safe: one owner (the engine) changes it.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import os
import re
import secrets
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._io import (
    Described,
    check_finite,
    load_npz,
    read_json,
    save_npz,
    validation_error,
    write_json,
)
from .data import Dataset, _check_label, _check_names
from .errors import FormatError, GesturemapError
from .features import Pipeline
from .models import MODEL_REGISTRY, BaseModel
from .models import load as load_model

__all__ = ["FORMAT", "TAKE_FORMAT", "VERSION", "Project", "Take"]

Label = str | int
PathLike = str | os.PathLike[str]

#: Format names and the newest version this code reads and writes.
FORMAT = "gesturemap.project"
TAKE_FORMAT = "gesturemap.take"
VERSION = 1

PROJECT_FILE = "project.json"
TAKES_DIR = "takes"
TRASH_DIR = "trash"
#: The largest take read (its arrays): 2 GiB, e.g. 10 minutes of 400 channels at 1 kHz.
MAX_TAKE_BYTES = 2 << 30

log = logging.getLogger("gesturemap.project")

_TAKE_ID = re.compile(r"take-(\d{6,})")
_MODEL_FILE = re.compile(r"model-(\d{6,})\.json")
_DEFAULT_MODEL = "hhmm"


def _now_iso() -> str:
    """The current local time with its UTC offset, to the millisecond."""
    return datetime.datetime.now().astimezone().isoformat(timespec="milliseconds")


def _take_id(number: int) -> str:
    return f"take-{number:06d}"


def _take_number(take_id: str) -> int | None:
    match = _TAKE_ID.fullmatch(take_id)
    return int(match.group(1)) if match else None


def _check_jsonable(name: str, value: Any) -> Any:
    """Check that ``value`` comes back from JSON unchanged (no tuples, int keys, NaN...)."""
    try:
        same = json.loads(json.dumps(value, allow_nan=False)) == value
    except (TypeError, ValueError):
        same = False
    if not same:
        raise validation_error(
            name,
            value,
            "a JSON-compatible value: dicts with str keys, lists, str, numbers, booleans, None",
            "Use lists rather than tuples, str keys, and finite numbers.",
        )
    return value


def _settings(name: str, value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise validation_error(name, value, "a dict of settings, or None")
    return _check_jsonable(name, dict(value))


_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def _display_settings(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Check the window's display settings: ``class_colors`` ({class name: "#rrggbb"}) and
    ``rejection_threshold`` (0..1); other keys are kept as they are (JSON-compatible)."""
    settings = _settings("display", value)
    if settings is None:
        return None
    colours = settings.get("class_colors")
    if colours is not None and not (
        isinstance(colours, dict)
        and all(isinstance(c, str) and _COLOUR.fullmatch(c) for c in colours.values())
    ):
        raise validation_error(
            "display.class_colors", colours, 'a dict {class name: "#rrggbb"}', "e.g. #4299e1"
        )
    threshold = settings.get("rejection_threshold")
    if threshold is not None and not (
        isinstance(threshold, (int, float))
        and not isinstance(threshold, bool)
        and 0.0 <= threshold <= 1.0
    ):
        raise validation_error("display.rejection_threshold", threshold, "a number in 0..1")
    return settings


def _model_settings(model: Any) -> dict[str, Any]:
    """Normalise model settings to ``{"kind": str, "params": dict}``; check the kind exists."""
    if model is None:
        model = {"kind": _DEFAULT_MODEL, "params": {}}
    elif isinstance(model, str):
        model = {"kind": model, "params": {}}
    if not isinstance(model, Mapping) or set(model) - {"kind", "params", "spotting",
                                                       *_SEARCH_KEYS}:
        raise validation_error(
            "model",
            model,
            'a dict {"kind": "hhmm" or "gmm" ..., "params": {...}} or a kind name (optional: '
            '"auto": true or {"budget_s": s, "margin": m}, "onset": true or '
            '{"threshold": t, "hold_ms": ms}, "spotting": {...} to spot gestures in the stream)',
        )
    kind = model.get("kind", _DEFAULT_MODEL)
    params = model.get("params") or {}
    if not isinstance(kind, str) or kind not in MODEL_REGISTRY:
        raise validation_error(
            "model kind",
            kind,
            "one of " + ", ".join(repr(k) for k in sorted(MODEL_REGISTRY)),
        )
    if not isinstance(params, Mapping):
        raise validation_error("model params", params, "a dict of the model's parameters")
    params = _check_jsonable("model params", dict(params))
    try:
        MODEL_REGISTRY[kind](**params)
    except TypeError:
        known = MODEL_REGISTRY[kind]._param_names()
        raise validation_error(
            "model params",
            sorted(params),
            f"parameters of {kind!r} among {', '.join(known)}",
        ) from None
    out = {"kind": kind, "params": params}
    if model.get("spotting") is not None:
        from .models.spotting import check_settings

        out["spotting"] = _check_jsonable("model spotting", check_settings(model["spotting"]))
    for key in _SEARCH_KEYS:  # the background search and the onset reset (see engine)
        if key in model and model[key] not in (None, False):
            value = model[key]
            if value is not True and not isinstance(value, Mapping):
                raise validation_error(f"model {key}", value, "true, false or a dict of settings")
            out[key] = True if value is True else _check_jsonable(f"model {key}", dict(value))
    return out


#: Optional model settings: ``auto`` (search family and settings in the background after each
#: retrain) and ``onset`` (reset the model stream when motion starts).
_SEARCH_KEYS = ("auto", "onset")


def repair_times(times: np.ndarray) -> tuple[np.ndarray, int]:
    """Re-stamp a take's times so that they never decrease.

    A sensor's clock may jump back in a take (a corrupted digit, a board reset): each step
    back is replaced by the take's median forward step, and the frames after it keep their
    own spacing. The frames are kept, in their order.

    Parameters
    ----------
    times : numpy.ndarray, shape (T,)
        Finite times in seconds.

    Returns
    -------
    times : numpy.ndarray, shape (T,)
        The repaired times (``times`` itself when nothing needed repair).
    repaired : int
        How many steps back were mended.
    """
    steps = np.diff(times)
    back = steps < 0
    repaired = int(back.sum())
    if not repaired:
        return times, 0
    forward = steps[~back]
    forward = forward[forward > 0]
    typical = float(np.median(forward)) if forward.size else 0.0
    steps = np.where(back, typical, steps)
    fixed = np.empty_like(times)
    fixed[0] = times[0]
    np.cumsum(steps, out=fixed[1:])
    fixed[1:] += times[0]
    return fixed, repaired


def _check_times(times: Any, length: int) -> tuple[np.ndarray, int]:
    """Validate take times: (T,), finite; a read-only float64 copy that never decreases, and
    how many steps back were repaired (:func:`repair_times`)."""
    array = check_finite("times", times, hint="Give each frame's time in seconds.")
    if array.ndim != 1 or array.shape[0] != length:
        raise validation_error("times", array, f"a ({length},) array: one time per input frame")
    array = np.array(array, dtype=np.float64, copy=True)
    array, repaired = repair_times(array)
    array.flags.writeable = False
    return array, repaired


@dataclasses.dataclass(frozen=True, eq=False)
class Take:
    """One recorded demonstration: raw sensor frames, their times, targets and label.

    Takes are made by :meth:`Project.add_take`; their arrays are read-only.

    Attributes
    ----------
    id : str
        ``"take-000007"``: unique in its project and never reused.
    label : str or int
        The gesture (class) demonstrated.
    inputs : numpy.ndarray, shape (T, D_in), float64
        Raw sensor frames, before the feature pipeline.
    times : numpy.ndarray, shape (T,), float64, or None
        Each frame's time in seconds from the take's start, when known.
    outputs : numpy.ndarray, shape (T, D_out), float64, or None
        The target values held while recording (regression, Wekinator-style), if any.
    created : str
        When the take was recorded (ISO 8601, local time with offset).
    """

    id: str
    label: Label
    inputs: np.ndarray
    times: np.ndarray | None
    outputs: np.ndarray | None
    created: str

    @property
    def length(self) -> int:
        """Number of frames T."""
        return int(self.inputs.shape[0])

    def __repr__(self) -> str:
        extra = "" if self.outputs is None else f", outputs={self.outputs.shape[1]}"
        return (
            f"Take({self.id!r}, label={self.label!r}, length={self.length}, "
            f"inputs={self.inputs.shape[1]}{extra})"
        )


class Project:
    """A gesture-to-sound mapping: settings, takes and (once trained) a model.

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
        JSON-compatible output settings (OSC host, port, addresses, synth mapping).
    display : dict, optional
        How the window and the stage view show the project: ``class_colors`` ({class name:
        "#rrggbb"}) and ``rejection_threshold`` (0..1: below it, the likeliest class is shown
        as unknown). Only for display; the engine's outputs do not change.
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
        self.name = name
        self.model = model  # type: ignore[assignment]  # the setters check and normalise
        self.pipeline = Pipeline() if pipeline is None else pipeline
        self.sensor = sensor  # type: ignore[assignment]
        self.outputs = outputs  # type: ignore[assignment]
        self.display = display  # type: ignore[assignment]
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
        self._next_take = 0
        self._removed: list[str] = []
        # Takes removed since the last save, for a save_take that was queued before.
        self._gone: dict[str, Take] = {}
        #: Steps back in takes' times re-stamped by add_take or load (see repair_times).
        self.times_repaired = 0
        self._uid = secrets.token_hex(8)
        self._created = _now_iso()
        self._saved_model: tuple[Path, BaseModel, str] | None = None
        for label in classes or ():
            self.add_class(label)

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
        self._sensor = _settings("sensor", value)

    @property
    def outputs(self) -> dict[str, Any] | None:
        """Output settings (JSON-compatible dict) or None."""
        return self._outputs

    @outputs.setter
    def outputs(self, value: Mapping[str, Any] | None) -> None:
        self._outputs = _settings("outputs", value)

    @property
    def display(self) -> dict[str, Any] | None:
        """Display settings (``class_colors``, ``rejection_threshold``) or None."""
        return self._display

    @display.setter
    def display(self, value: Mapping[str, Any] | None) -> None:
        self._display = _display_settings(value)

    # ---- description ----------------------------------------------------------------------------

    @property
    def takes(self) -> tuple[Take, ...]:
        """The takes, in recording order (a tuple: edit with the methods below)."""
        return tuple(self._takes)

    @property
    def classes(self) -> list[Label]:
        """The declared classes, in display order (a copy)."""
        return list(self._classes)

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
        kinds = {type(c) for c in self._classes}
        if kinds and type(label) not in kinds:
            raise validation_error(
                name,
                label,
                f"a {next(iter(kinds)).__name__} like the project's classes",
                "Use one kind of label in a project: all names (str) or all numbers (int).",
            )

    def add_class(self, label: Label) -> None:
        """Declare a class (a no-op if it exists).

        Raises
        ------
        GesturemapError
            If the label is not a non-empty str or an int, or not of the classes' kind.
        """
        label = _check_label("class", label)
        self._check_label_kind("class", label)
        if label not in self._classes:
            self._classes.append(label)

    def remove_class(self, label: Label, *, remove_takes: bool = False) -> list[Take]:
        """Remove a class; with ``remove_takes`` also its takes, which are returned.

        Raises
        ------
        GesturemapError
            If the class still has takes and ``remove_takes`` is False.
        KeyError
            If there is no such class.
        """
        if label not in self._classes:
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
        return takes

    def add_take(
        self,
        inputs: Any,
        label: Label,
        times: Any = None,
        outputs: Any = None,
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
        inputs_array = np.asarray(inputs) if not isinstance(inputs, np.ndarray) else inputs
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
                _now_iso(),
            )
        )

    def _append(self, take: Take) -> Take:
        self._takes.append(take)
        number = _take_number(take.id)
        self._next_take = max(self._next_take, (number or 0) + 1)
        if self._input_dim is None:
            self._input_dim = int(take.inputs.shape[1])
        if take.label not in self._classes:
            self._classes.append(take.label)
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
            If a take does not fit the project any more (another input size); the takes
            before it are restored.
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
                take = _read_take(path, take_id, Path(self.folder))
            if take is None:
                continue
            self._add_loaded(take)
            if take_id in self._removed:
                self._removed.remove(take_id)
            restored.append(self._takes[-1])
        return restored

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
        if label not in self._classes:
            self._classes.append(label)
        return take

    # ---- training -------------------------------------------------------------------------------

    def _require_takes(self, what: str) -> None:
        if not self._takes:
            raise GesturemapError(f"{what}: the project has no takes yet; record some first.")

    def fit_pipeline(self) -> Pipeline:
        """Fit the pipeline's learning stages (e.g. Standardize) on the takes; returns it.

        Call before :meth:`dataset` whenever the takes changed; :meth:`train` does.
        """
        self._require_takes("fit_pipeline")
        self.pipeline.fit(
            [take.inputs for take in self._takes],
            timestamps=[take.times for take in self._takes],  # type: ignore[misc]
            input_names=self._input_names,
        )
        return self.pipeline

    def raw_dataset(self) -> Dataset:
        """The takes as they were recorded (before the pipeline), as a Dataset."""
        return self._raw.copy()

    def dataset(self) -> Dataset:
        """The training set: every take through the pipeline, with its outputs aligned.

        Each take runs through :meth:`Pipeline.transform_sequence` with its times, the same
        streaming code the engine runs. Outputs are kept as they are when the pipeline gives
        one frame per input frame; when it resamples, each output column is interpolated
        linearly at the output frames' times. A take the pipeline turns into no frame at all
        (shorter than a resampling step) is left out with a warning.

        Returns
        -------
        Dataset
            Inputs named after the pipeline's output channels; outputs after ``output_names``.

        Raises
        ------
        GesturemapError
            If a take does not go through the pipeline (the message names it).
        """
        names = None
        if self._input_dim is not None:
            names = self.pipeline.output_names(self._input_dim, self._input_names)
        dataset = Dataset(names, self._output_names)
        for take in self._takes:
            try:
                features, times = self.pipeline.transform_sequence(
                    take.inputs, take.times, self._input_names, return_times=True
                )
            except GesturemapError as error:
                raise type(error)(f"{take.id} (label {take.label!r}): {error}") from error
            if len(features) == 0:
                warnings.warn(
                    f"{take.id} (label {take.label!r}, {take.length} frames) gives no frame "
                    "after the pipeline's resampling; it was left out of training.",
                    stacklevel=2,
                )
                continue
            outputs = take.outputs
            if outputs is not None and not self.pipeline.emits_one:
                outputs = _interpolate(outputs, self._take_times(take), times)
            dataset.add(features, take.label, outputs)
        return dataset

    def _take_times(self, take: Take) -> np.ndarray:
        """A take's frame times: its own, else the pipeline's default (1 / rate_hz apart)."""
        if take.times is not None:
            return take.times
        period = 1.0 if self.pipeline.rate_hz is None else 1.0 / self.pipeline.rate_hz
        return np.arange(take.length) * period

    def new_model(self) -> BaseModel:
        """An untrained model built from :attr:`model`'s settings.

        A project that spots gestures (``"spotting"`` in its model settings) trains its HHMM or
        GMM without delta features unless its parameters ask for them: the spotter scores the
        Gaussians of the raw inputs, and deltas cost it accuracy (docs/spotting.md).
        """
        params = dict(self.model["params"])
        if self.model.get("spotting") is not None and self.model["kind"] in ("hhmm", "gmm"):
            params.setdefault("deltas", False)
        return MODEL_REGISTRY[self.model["kind"]](**params)

    def train(self) -> BaseModel:
        """Fit the pipeline, then a new model on :meth:`dataset`; sets and returns :attr:`trained`.

        This runs in the caller's thread; the engine trains off the real-time path instead.
        """
        self._require_takes("train")
        self.fit_pipeline()
        model = self.new_model().fit(self.dataset())
        self.trained = model
        return model

    # ---- saving ---------------------------------------------------------------------------------

    def _document(
        self, model_file: str | None, takes: list[Take], removed: list[str]
    ) -> dict[str, Any]:
        from . import __version__  # the package defines it after importing its modules

        return {
            "name": self.name,
            "uid": self._uid,
            "created": self._created,
            "saved": _now_iso(),
            "gesturemap_version": __version__,
            "model": self.model,
            "pipeline": self.pipeline.to_dict(),
            "sensor": self.sensor,
            "outputs": self.outputs,
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
        elif folder.is_dir() and any(folder.iterdir()):
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
        OSError
            If the folder cannot be written.
        """
        folder = Path(folder)
        self._check_folder(folder)
        # Snapshots: the engine may add or remove a take while another thread saves.
        takes, removed = list(self._takes), list(self._removed)
        (folder / TAKES_DIR).mkdir(parents=True, exist_ok=True)
        for take in takes:
            self.save_take(folder, take)
        gone = set(self._removed)  # removed while saving: not written, so not listed
        takes = [take for take in takes if take.id not in gone]
        model_file = self._save_model(folder)
        document = self._document(model_file, takes, removed)
        write_json(folder / PROJECT_FILE, document, format=FORMAT, version=VERSION)
        # The new project.json no longer refers to these files: into the trash with them.
        for take_id in removed:
            _move_take(folder / TAKES_DIR, folder / TRASH_DIR, take_id)
            gone = self._gone.get(take_id)
            if gone is not None:
                _keep_label(folder / TRASH_DIR / f"{take_id}.json", gone.label)
        self._removed = [take_id for take_id in self._removed if take_id not in removed]
        for take_id in removed:
            self._gone.pop(take_id, None)
        _remove_stale_temporaries(folder, folder / TAKES_DIR)
        keep = None if model_file is None else Path(model_file).stem
        for path in folder.glob("model-*.*"):
            old = _MODEL_FILE.fullmatch(path.with_suffix(".json").name)
            if old and path.suffix in (".json", ".npz") and path.stem != keep:
                path.unlink(missing_ok=True)
        self.folder = folder
        return folder

    def _save_model(self, folder: Path) -> str | None:
        if self.trained is None:
            self._saved_model = None
            return None
        resolved = folder.resolve()
        saved = self._saved_model
        if (
            saved is not None
            and saved[0] == resolved
            and saved[1] is self.trained
            and (folder / saved[2]).exists()
        ):
            return saved[2]
        numbers = [0]
        for path in folder.glob("model-*.json"):
            match = _MODEL_FILE.fullmatch(path.name)
            if match:
                numbers.append(int(match.group(1)))
        name = f"model-{max(numbers) + 1:06d}.json"
        self.trained.save(folder / name)
        self._saved_model = (resolved, self.trained, name)
        return name

    def save_take(self, folder: PathLike, take: Take) -> None:
        """Write one take's files into ``folder/takes/`` (the engine's autosave after a take).

        The arrays go first, then the JSON that names their checksum, each atomically; a take
        whose files are already there is not written again.

        Raises
        ------
        GesturemapError
            If the take is not one of this project's.
        """
        ours = next((t for t in self._takes if t.id == take.id), None) or self._gone.get(take.id)
        if ours is None or not np.array_equal(ours.inputs, take.inputs):
            raise validation_error("take", take, "one of this project's takes")
        if take.id in self._removed:
            return  # removed since it was recorded (the save was queued before the removal)
        directory = Path(folder) / TAKES_DIR
        json_path = directory / f"{take.id}.json"
        npz_path = directory / f"{take.id}.npz"
        if json_path.exists() and npz_path.exists():
            return
        directory.mkdir(parents=True, exist_ok=True)
        if (Path(folder) / TRASH_DIR / json_path.name).exists():  # restored from the trash
            _move_take(Path(folder) / TRASH_DIR, directory, take.id)
            if json_path.exists() and npz_path.exists():
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
        write_json(json_path, metadata, format=TAKE_FORMAT, version=VERSION)

    @classmethod
    def new(
        cls,
        folder: PathLike,
        model: Mapping[str, Any] | str = _DEFAULT_MODEL,
        inputs: int | Sequence[str] | None = None,
        **settings: Any,
    ) -> Project:
        """Create a project and save it into a new (or empty) folder.

        Parameters
        ----------
        folder : str or os.PathLike
            Where to create it; its name is the project's name unless ``name=`` is given.
        model : dict or str, default "hhmm"
            Model settings or kind (see :class:`Project`).
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
        project = cls(model=model, **settings)
        if isinstance(inputs, int | np.integer):
            project.input_dim = int(inputs)
        project.save(folder)
        return project

    @classmethod
    def load(cls, folder: PathLike) -> Project:
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
            If the folder, ``project.json`` or the model is missing, damaged or from a newer
            gesturemap, the model kind is unknown, or ``takes/`` is a link.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise FormatError(f"{folder} is not a folder: a project is a folder of files.")
        path = folder / PROJECT_FILE
        if not path.exists():
            raise FormatError(
                f"{folder} is not a gesturemap project: it has no {PROJECT_FILE}. Create one "
                "with Project.new(folder)."
            )
        document = read_json(path, format=FORMAT, max_version=VERSION, inside=folder)
        project = _project_from_document(path, document)
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
            except GesturemapError as error:  # FormatError included
                _skip_take(project, take_id, str(error))
                continue
            project.times_repaired += repaired
        model_file = document.get("model_file")
        if model_file is not None:
            if not isinstance(model_file, str) or Path(model_file).name != model_file:
                raise FormatError(f"{path}: 'model_file' must name a file in the project folder.")
            for name in (model_file, str(Path(model_file).with_suffix(".npz"))):
                if (folder / name).is_symlink() or (
                    (folder / name).exists() and not (folder / name).is_file()
                ):
                    raise FormatError(
                        f"{folder / name} is a link or not a regular file; only the project's "
                        "own files are read."
                    )
            project.trained = load_model(folder / model_file)
            project._saved_model = (folder.resolve(), project.trained, model_file)
        project.folder = folder
        return project

    def _add_loaded(self, take: Take) -> None:
        if self._input_dim is not None and take.inputs.shape[1] != self._input_dim:
            raise validation_error(
                "inputs", take.inputs, f"{self._input_dim} columns, the project's input size"
            )
        self._check_label_kind("label", take.label)
        recording = self._raw.add(take.inputs, take.label, take.outputs)
        # Share the recording's (identical) read-only arrays rather than keep two copies.
        self._append(dataclasses.replace(take, inputs=recording.inputs, outputs=recording.outputs))


def _positive_int(name: str, value: Any) -> int:
    """``value`` as a positive int, or a validation error naming ``name``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer) or value < 1:
        raise validation_error(name, value, "an integer >= 1")
    return int(value)


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


def _interpolate(values: np.ndarray, times: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Each column of ``values`` (T, D) at ``times`` (T,), interpolated at ``at`` (K,)."""
    return np.column_stack([np.interp(at, times, column) for column in values.T])


def _require(path: Path, document: Mapping[str, Any], key: str, check: Any, expected: str) -> Any:
    value = document.get(key)
    if not check(value):
        raise FormatError(f"{path} is damaged: {key!r} is {value!r:.80}; expected {expected}.")
    return value


def _is_label(value: Any) -> bool:
    return (isinstance(value, str) and bool(value)) or (
        isinstance(value, int) and not isinstance(value, bool)
    )


def _project_from_document(path: Path, document: Mapping[str, Any]) -> Project:
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
        project = Project(
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


def _skip_take(project: Project, take_id: str, why: str) -> None:
    """Leave a damaged take out, with a warning; its id is never given to a new take."""
    warnings.warn(
        f"{take_id} was left out: {why}. The rest of the project is open; the take's files "
        "were left as they are.",
        stacklevel=3,
    )
    number = _take_number(take_id)
    if number is not None:
        project._next_take = max(project._next_take, number + 1)


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


def _scan_takes(directory: Path, removed: set[str]) -> dict[str, Path]:
    """Take id -> its JSON file, for every take JSON in ``directory`` not removed."""
    if not directory.is_dir():
        return {}
    found = {}
    for path in directory.glob("take-*.json"):
        if _take_number(path.stem) is not None and path.stem not in removed:
            found[path.stem] = path
    return found


def _read_take(path: Path, take_id: str, root: Path) -> Take:
    """Read one take's pair (only regular files inside ``root``).

    Raises
    ------
    FormatError
        Whichever of its two files is missing, damaged or does not match the other.
    """
    meta = read_json(path, format=TAKE_FORMAT, max_version=VERSION, inside=root)

    def field(key: str, check: Any, expected: str) -> Any:
        return _require(path, meta, key, check, expected)

    def is_count(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= 1

    if field("id", lambda v: isinstance(v, str), "a str") != take_id:
        raise FormatError(f"{path} is damaged: it holds take {meta['id']!r}, not {take_id!r}.")
    label = field("label", _is_label, "a non-empty str or an int")
    frames = field("frames", is_count, "an integer >= 1")
    input_dim = field("input_dim", is_count, "an integer >= 1")
    output_dim = field("output_dim", lambda v: v is None or is_count(v), "None or an integer >= 1")
    has_times = field("has_times", lambda v: isinstance(v, bool), "true or false")
    digest = field("arrays_sha256", lambda v: isinstance(v, str), "a str")
    npz_path = path.with_suffix(".npz")
    declared = frames * (input_dim + (output_dim or 0) + (1 if has_times else 0)) * 8
    if declared > MAX_TAKE_BYTES:
        raise FormatError(
            f"{path} is damaged: it declares {declared} bytes of arrays, more than the "
            f"{MAX_TAKE_BYTES} a take may hold."
        )
    if not npz_path.exists() and not npz_path.is_symlink():
        raise FormatError(
            f"{npz_path} is missing: the arrays of {take_id} ({label!r}) are gone. Restore the "
            f"file, or delete {path.name} to drop the take."
        )
    expected: dict[str, tuple[int | None, ...]] = {"inputs": (frames, input_dim)}
    if has_times:
        expected["times"] = (frames,)
    if output_dim is not None:
        expected["outputs"] = (frames, output_dim)
    arrays = load_npz(
        npz_path, expected, sha256=digest, inside=root, max_bytes=declared + (1 << 20)
    )
    inputs = arrays["inputs"]
    for key, array in arrays.items():
        if key in expected and (array.dtype != np.float64 or not np.isfinite(array).all()):
            raise FormatError(f"{npz_path}: {key!r} is not finite float64 numbers.")
    times = arrays.get("times") if has_times else None
    repaired = 0
    if times is not None and times.size > 1:
        times, repaired = repair_times(times)
        if repaired:
            warnings.warn(
                f"{take_id} ({label!r}): its times went back {repaired} time(s); re-stamped "
                "and kept.",
                stacklevel=3,
            )
    outputs = arrays.get("outputs") if output_dim is not None else None
    for array in (inputs, times, outputs):
        if array is not None:
            array.flags.writeable = False
    created = meta.get("created")
    take = Take(take_id, label, inputs, times, outputs, str(created) if created else "")
    if repaired:
        object.__setattr__(take, "_repaired", repaired)  # counted by Project.load
    return take
