"""Recordings and datasets: XMM's "training set of phrases".

A :class:`Recording` is one demonstration of a gesture: its input frames, its label and, for
regression ("mapping by demonstration"), the output frames recorded at the same time. A
:class:`Dataset` is the list of recordings a model is trained on. It checks every recording where
it enters, so a model never sees a NaN, a ragged array or a mix of shapes, and a failed ``add``
leaves the dataset as it was.

Datasets are saved as a JSON file plus a sibling ``.npz`` file, never pickled, and can be
imported from XMM's JSON training sets and from ``.npz`` files of concatenated sequences.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import os
import warnings
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .errors import FormatError, GesturemapError
from .utils.storage import (
    Described,
    check_finite,
    load_npz,
    read_json,
    save_npz,
    validation_error,
    write_json,
)
from .utils.validation import whole_numbers

__all__ = ["Concatenated", "Dataset", "Recording", "Rehearsal", "class_numbers"]

Label = str | int

FORMAT = "gesturemap.dataset"
#: 2 when the file holds rehearsals (continuous recordings labelled frame by frame): an
#: earlier gesturemap, which would drop them, refuses such a file; without them, still 1.
VERSION = 2

_SAME_KIND_HINT = "Use one kind of label in a dataset: all names (str) or all numbers (int)."


def _check_label(name: str, label: Any) -> Label:
    """Return ``label`` as a plain ``str`` or ``int``, or raise."""
    if isinstance(label, bool | np.bool_):
        raise validation_error(
            name, label, "a str (a gesture name) or an int", "True/False are not labels."
        )
    if isinstance(label, int | np.integer):
        return int(label)
    if isinstance(label, str) and label:
        return str(label)
    raise validation_error(name, label, "a non-empty str (a gesture name) or an int")


def class_numbers(labels: Sequence[Label],
                  numbering: Mapping[str, int] | None = None) -> list[float]:
    """Wekinator's class number of each label, in order: what ``/wek/outputs`` sends.

    An integer label is its own number (Wekinator's classes are numbers); a named class is
    its number in ``numbering`` (a project's ``outputs.class_numbers``: an imported project's
    class or gesture names, numbered as Wekinator numbered them), else its place, from 1.
    Once a project keeps such numbers, a named class it does not number (one recorded since)
    comes after the highest number it keeps, in the order of ``labels``: a number a patch
    already hears for another class, or for a class kept without takes, is never sent for it.

    Parameters
    ----------
    labels : sequence of str or int
        The classes, in the model's order (``model.labels_``).
    numbering : dict {name: number}, optional

    Returns
    -------
    list of float

    Examples
    --------
    >>> class_numbers([3, 7])
    [3.0, 7.0]
    >>> class_numbers(["circle", "swipe"])
    [1.0, 2.0]
    >>> class_numbers(["down", "left"], {"left": 1, "down": 3})
    [3.0, 1.0]
    >>> class_numbers(["apple", "circle", "swipe"], {"circle": 1, "swipe": 2, "wave": 5})
    [6.0, 1.0, 2.0]
    """
    numbering = numbering or {}
    after = max(numbering.values(), default=0)
    numbers = []
    for i, label in enumerate(labels):
        if isinstance(label, int | np.integer):
            numbers.append(float(label))
        elif str(label) in numbering:
            numbers.append(float(numbering[str(label)]))
        elif numbering:
            after += 1
            numbers.append(float(after))
        else:
            numbers.append(float(i + 1))
    return numbers


#: The largest Wekinator class (or DTW gesture) number a client may name. A DTW project's
#: /wek/outputs carries one value per number up to the largest: a stray 20000 would make
#: every reply larger than a datagram can be.
MAX_CLASS_NUMBER = 1000


def label_for_number(number: Any, labels: Sequence[Label],
                     numbering: Mapping[str, int] | None = None) -> Label:
    """The class whose Wekinator number (:func:`class_numbers`) is ``number``: what a client
    selects with ``/wekinator/control/outputs N`` or ``startDtwRecording N``.

    With integer labels (Wekinator's classes, or none yet) the number is the class itself; a
    name ``numbering`` gives that number is that class, and a class it does not number is
    the number :func:`class_numbers` sends it as; else a named class is a place in
    ``labels``, from 1. The number may come as a float (as Max and Pd send it) if it is a
    whole number.

    Raises
    ------
    GesturemapError
        For a number that is not a whole number, or names no class.

    Examples
    --------
    >>> label_for_number(2.0, [1, 2, 5])
    2
    >>> label_for_number(2, ["circle", "swipe"])
    'swipe'
    >>> label_for_number(3, [], {"left": 1, "down": 3})
    'down'
    """
    try:
        value = float(number)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value.is_integer()):
        raise GesturemapError(f"class number {number!r:.40}: expected a whole number")
    whole = int(value)
    if not 1 <= whole <= MAX_CLASS_NUMBER:  # 0 is Wekinator's "no class" on /wek/outputs
        raise GesturemapError(f"class number {whole}: expected 1 to {MAX_CLASS_NUMBER}")
    if numbering:
        # the kept numbers, and those of the classes recorded since (one rule: class_numbers)
        known: dict[Label, int] = {**numbering}
        known.update({lb: int(n) for lb, n in zip(labels, class_numbers(labels, numbering),
                                                  strict=True) if str(lb) not in numbering})
        named = [name for name, n in known.items() if n == whole]
        if not named:
            names = ", ".join(f"{n} {name}" for name, n in sorted(known.items(),
                                                                  key=lambda kv: kv[1]))
            raise GesturemapError(f"class number {whole}: the classes are {names}")
        return named[0]
    if all(isinstance(lb, int | np.integer) for lb in labels):
        return whole
    if not 1 <= whole <= len(labels):
        names = ", ".join(f"{i} {lb}" for i, lb in enumerate(labels, 1))
        raise GesturemapError(f"class number {whole}: the classes are {names}")
    return labels[whole - 1]


#: Arrays handed over to gesturemap (:func:`hand_over`), by id, while they live.
_HANDED_OVER: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()


def hand_over(array: np.ndarray) -> np.ndarray:
    """Hand ``array`` (a float64 array its caller made and will not change) over to
    gesturemap: it becomes read-only, and a recording made of it keeps it as it is instead of
    copying it (it is still checked). The engine does so with a take's frames when the take
    ends, so a long take is not copied while frames wait. Returns ``array``."""
    array.flags.writeable = False
    _HANDED_OVER[id(array)] = array
    return array


def _handed_over(values: Any) -> bool:
    return (isinstance(values, np.ndarray) and _HANDED_OVER.get(id(values)) is values
            and not values.flags.writeable and values.dtype == np.float64
            and values.ndim == 2 and values.flags.c_contiguous)


def as_array(name: str, values: Any) -> np.ndarray:
    """``values`` as an array (not copied if it is one), or a clear error for rows of
    different lengths (numpy's own says "inhomogeneous shape after 1 dimensions")."""
    try:
        return np.asarray(values)
    except (TypeError, ValueError):
        raise validation_error(
            name, Described("a ragged sequence (rows of different lengths)"), "a (T, D) array"
        ) from None


def _as_frames(name: str, values: Any) -> np.ndarray:
    """Validate frames and return a read-only float64 copy of shape (T, D) (an array handed
    over, :func:`hand_over`, is kept as it is)."""
    if _handed_over(values):
        if values.shape[0] < 1 or values.shape[1] < 1:
            raise validation_error(name, values, "at least one frame (row) and one column")
        check_finite(name, values, index_names=("frame", "column"))
        return values
    array = as_array(name, values)
    if array.ndim == 1:
        array = array[:, np.newaxis]
    if array.ndim != 2:
        raise validation_error(
            name,
            array,
            "a (T, D) array: one row per frame, one column per dimension",
            "A (T,) array is read as T frames of one dimension.",
        )
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise validation_error(name, array, "at least one frame (row) and one column")
    check_finite(name, array, index_names=("frame", "column"))
    frames = np.array(array, dtype=np.float64, order="C", copy=True)
    # The recording owns this copy; read-only so that nobody edits a training example by accident.
    frames.flags.writeable = False
    return frames


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Recording:
    """One demonstration of a gesture.

    The arrays are copied on construction and stored read-only.

    Parameters
    ----------
    inputs : array_like, shape (T, D_in) or (T,)
        Input frames, finite real numbers; a (T,) array is read as (T, 1).
    label : str or int
        The gesture's name (or number). ``bool`` is refused.
    outputs : array_like, shape (T, D_out) or (T,), optional
        Output frames recorded with the inputs (a bimodal recording, for regression).

    Attributes
    ----------
    inputs : numpy.ndarray, shape (T, D_in), float64, read-only
    label : str or int
    outputs : numpy.ndarray, shape (T, D_out), float64, read-only, or None
    """

    inputs: np.ndarray
    label: Label
    outputs: np.ndarray | None = None

    def __post_init__(self) -> None:
        label = _check_label("label", self.label)
        inputs = _as_frames("inputs", self.inputs)
        outputs = None
        if self.outputs is not None:
            outputs = _as_frames("outputs", self.outputs)
            if len(outputs) != len(inputs):
                raise validation_error(
                    "outputs",
                    outputs,
                    f"one row per input frame ({len(inputs)} rows)",
                    "Record inputs and outputs at the same rate, or resample one of them.",
                )
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "outputs", outputs)

    @property
    def length(self) -> int:
        """Number of frames T."""
        return int(self.inputs.shape[0])

    @property
    def is_bimodal(self) -> bool:
        """Whether the recording has output frames (a regression example)."""
        return self.outputs is not None

    def __len__(self) -> int:
        return self.length

    def __repr__(self) -> str:
        outputs = f", outputs={self.outputs.shape[1]}" if self.outputs is not None else ""
        return (
            f"Recording(label={self.label!r}, length={self.length}, "
            f"inputs={self.inputs.shape[1]}{outputs})"
        )


class Concatenated(NamedTuple):
    """Recordings stacked for training (see :meth:`Dataset.concatenated`).

    Attributes
    ----------
    inputs : numpy.ndarray, shape (N, D_in)
        All input frames, recording after recording.
    outputs : numpy.ndarray, shape (N, D_out), or None
        All output frames (bimodal datasets), else None.
    lengths : numpy.ndarray, shape (n_recordings,), int64
        The number of frames of each recording; ``lengths.sum() == N``.
    labels : list of str or int, length n_recordings
        The label of each recording.
    """

    inputs: np.ndarray
    outputs: np.ndarray | None
    lengths: np.ndarray
    labels: list[Label]


def _check_names(name: str, names: Sequence[str] | None) -> tuple[str, ...] | None:
    if names is None:
        return None
    if isinstance(names, str):
        raise validation_error(name, names, "a list of column names, not a single str")
    if not isinstance(names, Sequence):  # a number, a dict: no list of names
        raise validation_error(name, names, "a list of column names")
    names = tuple(names)
    if not all(isinstance(n, str) and n for n in names):
        raise validation_error(name, list(names), "a list of non-empty str")
    if len(set(names)) != len(names):
        raise validation_error(name, list(names), "names that are all different")
    return names


class Rehearsal(NamedTuple):
    """A continuous recording labelled frame by frame: a run-through of the piece, its
    gestures marked and everything between them ``gm.NULL``. A spotter's second opinions
    (the context relabeller, the window detector) learn from what comes before and after
    each gesture, which takes cut at their labels do not hold (:meth:`Dataset.add_rehearsal`).

    Attributes
    ----------
    inputs : numpy.ndarray, shape (T, D_in), float64, read-only
    frame_labels : numpy.ndarray, shape (T,), read-only: one label per frame
    group : str or int, the performer or session it came from (cross-fitting holds groups
        out, dealt in their sorted order)
    """

    inputs: np.ndarray
    frame_labels: np.ndarray
    group: str | int


def _table_problem(labels: Any, lengths: Any, bimodal: Any, checksum: Any) -> str | None:
    """What is wrong with a dataset file's table of recordings (None: nothing), naming the
    entry, so that someone repairing the file by hand knows where to look."""
    if not isinstance(labels, list):
        return "'labels' is missing or not a list"
    if not isinstance(lengths, list):
        return "'lengths' is missing or not a list"
    if len(labels) != len(lengths):
        return f"'labels' has {len(labels)} entries and 'lengths' {len(lengths)}"
    for i, n in enumerate(lengths):
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            return (f"'lengths' gives recording {i} {n!r} frames (a whole number, at least "
                    "1)")
    if not isinstance(bimodal, bool):
        return "'bimodal' is missing or not true/false"
    if not isinstance(checksum, str):
        return "'arrays_sha256' is missing or not text"
    return None


class Dataset:
    """A training set: recordings of labelled gestures, all of the same shape.

    Every recording has the same number of input columns; either all recordings have outputs
    (a bimodal dataset, for regression), with the same number of output columns, or none has;
    labels are all ``str`` or all ``int``. A dataset is not thread-safe: one owner (the engine)
    changes it.

    Parameters
    ----------
    input_names : sequence of str, optional
        One name per input column; they fix the input dimension. Default ``x0, x1, ...``.
    output_names : sequence of str, optional
        One name per output column; they fix the output dimension (an empty list declares a
        dataset without outputs). Default ``y0, y1, ...``.

    Examples
    --------
    >>> ds = Dataset()
    >>> ds.add(np.zeros((100, 3)), label="circle")
    Recording(label='circle', length=100, inputs=3)
    """

    #: The rate (Hz) its frames come at live, when a feature pipeline fixes it (a project's
    #: Resample); None when the sensor's rate decides. A model's frame cost is judged
    #: against it (:mod:`gesturemap.utils.frame_budget`).
    frame_rate_hz: float | None = None

    def __init__(
        self,
        input_names: Sequence[str] | None = None,
        output_names: Sequence[str] | None = None,
    ) -> None:
        self._input_names = _check_names("input_names", input_names)
        if self._input_names == ():
            raise validation_error("input_names", [], "at least one name, or None")
        self._output_names = _check_names("output_names", output_names)
        self._recordings: list[Recording] = []
        self._rehearsals: list[Rehearsal] = []

    # ---- shape of the data ----------------------------------------------------------------------

    @property
    def input_dim(self) -> int:
        """Number of input columns D_in (0 while empty and without input names)."""
        if self._recordings:
            return int(self._recordings[0].inputs.shape[1])
        return len(self._input_names or ())

    @property
    def is_bimodal(self) -> bool:
        """Whether the recordings have outputs (a regression dataset)."""
        if self._recordings:
            return self._recordings[0].is_bimodal
        return bool(self._output_names)

    @property
    def output_dim(self) -> int:
        """Number of output columns D_out; 0 for a dataset without outputs."""
        if self._recordings:
            outputs = self._recordings[0].outputs
            return 0 if outputs is None else int(outputs.shape[1])
        return len(self._output_names or ())

    @property
    def input_names(self) -> tuple[str, ...]:
        """Names of the input columns, ``in1, in2, ...`` unless given (the one channel naming
        of sources, the window's plot, session logs and features)."""
        return self._input_names or tuple(f"in{i + 1}" for i in range(self.input_dim))

    @property
    def output_names(self) -> tuple[str, ...]:
        """Names of the output columns, ``y0, y1, ...`` unless given; empty without outputs."""
        if self._output_names is not None:
            return self._output_names
        return tuple(f"y{i}" for i in range(self.output_dim))

    @property
    def labels(self) -> list[Label]:
        """The distinct labels, sorted (the order models use for their classes)."""
        return sorted({r.label for r in self._recordings})  # type: ignore[type-var]

    @property
    def n_frames(self) -> int:
        """Total number of frames over all recordings."""
        return sum(r.length for r in self._recordings)

    # ---- editing --------------------------------------------------------------------------------

    def add(self, inputs: Any, label: Label, outputs: Any = None) -> Recording:
        """Add a recording (a copy of the data).

        Parameters
        ----------
        inputs : array_like, shape (T, D_in) or (T,)
            Input frames, T >= 1, finite; a (T,) array is read as (T, 1).
        label : str or int
            The gesture's label; of the same type (str or int) as the other labels.
        outputs : array_like, shape (T, D_out) or (T,), optional
            Output frames recorded with the inputs. Either every recording of a dataset has
            outputs or none has.

        Returns
        -------
        Recording
            The recording stored.

        Raises
        ------
        GesturemapError
            If the data is not acceptable; the dataset is then unchanged.
        """
        index = len(self._recordings)
        try:
            recording = Recording(inputs, label, outputs)
        except GesturemapError as error:
            raise GesturemapError(f"recording {index} (label {label!r}): {error}") from None
        self._check_fits(recording, index)
        self._recordings.append(recording)
        return recording

    def remove(self, index: int) -> Recording:
        """Remove the recording at ``index`` (negative counts from the end) and return it."""
        return self._recordings.pop(self._index(index))

    def relabel(self, index: int, label: Label) -> Recording:
        """Give the recording at ``index`` a new label; returns the updated recording.

        Raises
        ------
        GesturemapError
            If the label is not acceptable; the dataset is then unchanged.
        """
        index = self._index(index)
        name = f"recording {index}: label"
        new_label = _check_label(name, label)
        self._check_label_kind(name, new_label, ignore=index)
        updated = dataclasses.replace(self._recordings[index], label=new_label)
        self._recordings[index] = updated
        return updated

    def copy(self) -> Dataset:
        """A new dataset with the same names, recordings and rehearsals (all immutable)."""
        new = Dataset(self._input_names, self._output_names)
        new._recordings = list(self._recordings)
        new._rehearsals = list(self._rehearsals)
        new.frame_rate_hz = self.frame_rate_hz
        return new

    # ---- rehearsals -----------------------------------------------------------------------------

    @property
    def rehearsals(self) -> tuple[Rehearsal, ...]:
        """The continuous recordings added with :meth:`add_rehearsal`, in order. They are not
        takes: ``len``, iteration and training see the takes only; ``gm.auto`` choosing for
        spotting trains the spotter's context relabeller and window detector from them."""
        return tuple(self._rehearsals)

    def add_rehearsal(self, inputs: Any, frame_labels: Any, group: Any = None) -> Rehearsal:
        """Add a continuous recording labelled frame by frame (a copy of the data).

        Parameters
        ----------
        inputs : array_like, shape (T, D_in)
            The frames, with the takes' columns; finite.
        frame_labels : array_like, shape (T,)
            Each frame's label: a gesture's, or ``gm.NULL`` (``"null"``) between gestures.
        group : optional
            The performer or session: a name or a number (kept as a ``str`` or ``int``, like
            labels); default: a group of its own. Give the rehearsals of one performer one
            group, so that cross-fitting holds them out together.

        Raises
        ------
        GesturemapError
            If the data is not acceptable; the dataset is then unchanged.
        """
        index = len(self._rehearsals)
        name = f"rehearsal {index}"
        frames = _as_frames(f"{name}: inputs", inputs)
        dims = [r.inputs.shape[1] for r in self._rehearsals[:1]]
        if self._recordings or self._input_names is not None:
            dims.append(self.input_dim)
        if dims and frames.shape[1] != dims[0]:
            raise validation_error(f"{name}: inputs", frames,
                                   f"{dims[0]} columns like the takes and other rehearsals")
        labels = np.asarray(frame_labels)
        if labels.shape != (len(frames),):
            raise validation_error(f"{name}: frame_labels", labels,
                                   f"one label per frame: shape ({len(frames)},)")
        for lb in np.unique(labels).tolist():  # each distinct label once, not every frame
            _check_label(f"{name}: frame label", lb)
        labels = np.array(labels, copy=True)
        labels.flags.writeable = False
        rehearsal = Rehearsal(frames, labels,
                              f"rehearsal {index}" if group is None
                              else _check_label(f"{name}: group", group))
        self._rehearsals.append(rehearsal)
        return rehearsal

    def _index(self, index: int) -> int:
        position = operator.index(index)
        n = len(self._recordings)
        if not -n <= position < n:
            raise IndexError(f"recording index {position} is out of range: the dataset has {n}")
        return position % n

    def _check_label_kind(self, name: str, label: Label, ignore: int | None = None) -> None:
        # All labels share one kind, so the first other recording tells it.
        for i, other in enumerate(self._recordings):
            if i == ignore:
                continue
            if isinstance(other.label, str) != isinstance(label, str):
                kind = "str" if isinstance(other.label, str) else "int"
                raise validation_error(
                    name,
                    label,
                    f"a {kind} like the other labels ({other.label!r})",
                    _SAME_KIND_HINT,
                )
            return

    def _check_fits(self, recording: Recording, index: int) -> None:
        """Check that a new recording has the dataset's shape and label kind."""
        name = f"recording {index} (label {recording.label!r})"
        d_in = recording.inputs.shape[1]
        if (self._recordings or self._input_names is not None) and d_in != self.input_dim:
            source = "the earlier recordings" if self._recordings else "input_names"
            raise validation_error(
                f"{name}: inputs",
                recording.inputs,
                f"{self.input_dim} columns like {source}",
                "Check the sensor's channel count or the feature pipeline; "
                "start a new Dataset for data of another shape.",
            )
        declared = self._recordings or self._output_names is not None
        if declared and recording.is_bimodal != self.is_bimodal:
            if self.is_bimodal:
                raise validation_error(
                    f"{name}: outputs",
                    None,
                    f"a (T, {self.output_dim}) array: this dataset's recordings have outputs",
                    "Give outputs for every recording of a regression dataset.",
                )
            raise validation_error(
                f"{name}: outputs",
                recording.outputs,
                "None: this dataset's recordings have no outputs",
                "Keep recordings with and without outputs in separate datasets.",
            )
        if declared and recording.outputs is not None:
            d_out = recording.outputs.shape[1]
            if d_out != self.output_dim:
                source = "the earlier recordings" if self._recordings else "output_names"
                raise validation_error(
                    f"{name}: outputs",
                    recording.outputs,
                    f"{self.output_dim} columns like {source}",
                )
        self._check_label_kind(f"{name}: label", recording.label)

    # ---- reading --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._recordings)

    def __iter__(self) -> Iterator[Recording]:
        return iter(tuple(self._recordings))

    def __getitem__(self, index: int) -> Recording:
        return self._recordings[self._index(index)]

    def __repr__(self) -> str:
        outputs = f", {self.output_dim} outputs" if self.is_bimodal else ""
        return (
            f"Dataset({len(self)} recordings, {len(self.labels)} labels, {self.n_frames} frames, "
            f"{self.input_dim} inputs{outputs})"
        )

    def by_label(self, label: Label) -> list[Recording]:
        """The recordings with this label, in dataset order (empty if none)."""
        # Labels are plain str or int (bool refused), so == never confuses 1 with "1" or True.
        label = _check_label("label", label)
        return [r for r in self._recordings if r.label == label]

    def concatenated(self, label: Label | None = None) -> Concatenated:
        """Stack the recordings (all, or those of one label) for training.

        Parameters
        ----------
        label : str or int, optional
            Only the recordings with this label.

        Returns
        -------
        Concatenated
            ``inputs`` (N, D_in), ``outputs`` (N, D_out) or None, ``lengths`` (n,), ``labels``.

        Raises
        ------
        GesturemapError
            If ``label`` is given and no recording has it.
        """
        recordings = self._recordings if label is None else self.by_label(label)
        if label is not None and not recordings:
            raise validation_error(
                "label", label, f"one of the dataset's labels {self.labels}", "Check the spelling."
            )
        lengths = np.array([r.length for r in recordings], dtype=np.int64)
        if recordings:
            inputs = np.concatenate([r.inputs for r in recordings])
        else:
            inputs = np.empty((0, self.input_dim))
        outputs = None
        if self.is_bimodal:
            if recordings:
                outputs = np.concatenate([r.outputs for r in recordings])  # type: ignore[misc]
            else:
                outputs = np.empty((0, self.output_dim))
        return Concatenated(inputs, outputs, lengths, [r.label for r in recordings])

    # ---- files ----------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save to a JSON file and a sibling ``.npz`` file, each written atomically.

        Parameters
        ----------
        path : str or os.PathLike
            The JSON file, e.g. ``"gestures.json"``; the arrays go to ``gestures.npz`` beside it.
        """
        json_path = Path(path)
        npz_path = json_path.with_suffix(".npz")
        if npz_path == json_path:
            raise validation_error(
                "path", str(path), "a file name ending in .json", "The arrays go to a sibling .npz."
            )
        stacked = self.concatenated()
        arrays = {"inputs": stacked.inputs, "lengths": stacked.lengths}
        if stacked.outputs is not None:
            arrays["outputs"] = stacked.outputs
        rehearsals = self._rehearsal_arrays(arrays)
        # Arrays first, then the JSON that names their checksum: a crash between the two writes
        # leaves a pair that load() reports as mismatched, never one it reads wrongly.
        digest = save_npz(npz_path, **arrays)
        metadata = {
            "input_names": None if self._input_names is None else list(self._input_names),
            "output_names": None if self._output_names is None else list(self._output_names),
            "bimodal": self.is_bimodal,
            "labels": stacked.labels,
            "lengths": stacked.lengths.tolist(),
            "arrays_sha256": digest,
        }
        if rehearsals:
            metadata["rehearsals"] = rehearsals
        write_json(json_path, metadata, format=FORMAT, version=VERSION if rehearsals else 1)

    def _rehearsal_arrays(self, arrays: dict[str, np.ndarray]) -> dict[str, Any] | None:
        """Put the rehearsals' frames and labels (as numbers into a table of the distinct
        labels) into ``arrays``; returns what the JSON says of them, or None without any."""
        if not self._rehearsals:
            return None
        table, codes = np.unique(np.concatenate([r.frame_labels for r in self._rehearsals]),
                                 return_inverse=True)
        arrays["rehearsal_inputs"] = np.concatenate([r.inputs for r in self._rehearsals])
        arrays["rehearsal_labels"] = codes.astype(np.int32)
        arrays["rehearsal_lengths"] = np.array([len(r.inputs) for r in self._rehearsals],
                                               dtype=np.int64)
        return {"labels": table.tolist(), "groups": [r.group for r in self._rehearsals],
                "lengths": arrays["rehearsal_lengths"].tolist()}

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Dataset:
        """Load a dataset written by :meth:`save`.

        Raises
        ------
        FormatError
            If either file is missing, damaged, from a newer gesturemap, or they do not belong
            together.
        """
        json_path = Path(path)
        document = read_json(json_path, format=FORMAT, max_version=VERSION)
        labels = document.get("labels")
        lengths = document.get("lengths")
        bimodal = document.get("bimodal")
        problem = _table_problem(labels, lengths, bimodal, document.get("arrays_sha256"))
        if problem is not None:
            raise FormatError(f"{json_path} is damaged: {problem}, not as gesturemap writes it.")
        n_frames = sum(lengths)
        expected: dict[str, tuple[int | None, ...]] = {
            "inputs": (n_frames, None),
            "lengths": (len(lengths),),
        }
        if bimodal:
            expected["outputs"] = (n_frames, None)
        rehearsals = document.get("rehearsals")
        if rehearsals is not None:
            if not (isinstance(rehearsals, dict) and all(
                    isinstance(rehearsals.get(k), list) for k in ("labels", "groups", "lengths"))
                    and len(rehearsals["groups"]) == len(rehearsals["lengths"])
                    and all(isinstance(n, int) and n >= 1 for n in rehearsals["lengths"])):
                raise FormatError(f"{json_path} is damaged: its 'rehearsals' are not as "
                                  "gesturemap writes them.")
            total = sum(rehearsals["lengths"])
            expected.update(rehearsal_inputs=(total, None), rehearsal_labels=(total,),
                            rehearsal_lengths=(len(rehearsals["lengths"]),))
        arrays = load_npz(json_path.with_suffix(".npz"), expected, sha256=document["arrays_sha256"])
        if arrays["lengths"].tolist() != lengths:
            raise FormatError(f"{json_path}: the lengths in the JSON and the .npz differ.")
        try:
            dataset = cls(document.get("input_names"), document.get("output_names"))
            dataset._add_split(arrays["inputs"], lengths, labels, arrays.get("outputs"))
            if rehearsals is not None:
                dataset._add_rehearsals(arrays, rehearsals)
        except (GesturemapError, IndexError) as error:
            raise FormatError(f"{json_path} is damaged: {error}") from None
        return dataset

    def _add_rehearsals(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Add the rehearsals :meth:`_rehearsal_arrays` wrote (used by :meth:`load`)."""
        if arrays["rehearsal_lengths"].tolist() != meta["lengths"]:
            raise GesturemapError("the rehearsals' lengths in the JSON and the .npz differ")
        table = np.asarray(meta["labels"])
        bounds = np.cumsum(meta["lengths"])[:-1]
        for x, codes, group in zip(np.split(arrays["rehearsal_inputs"], bounds),
                                   np.split(arrays["rehearsal_labels"], bounds),
                                   meta["groups"], strict=True):
            if codes.size and (codes.min() < 0 or codes.max() >= len(table)):
                raise GesturemapError("a rehearsal's frame label is outside its table")
            self.add_rehearsal(x, table[codes], group)

    def _add_split(
        self,
        inputs: np.ndarray,
        lengths: Sequence[int],
        labels: Sequence[Label],
        outputs: np.ndarray | None = None,
    ) -> None:
        """Add recordings cut from concatenated arrays (used by the file readers)."""
        if not lengths:
            return
        bounds = np.cumsum(lengths)[:-1]
        input_parts = np.split(inputs, bounds)
        output_parts = [None] * len(lengths) if outputs is None else np.split(outputs, bounds)
        for part_in, part_out, label in zip(input_parts, output_parts, labels, strict=True):
            self.add(part_in, label, part_out)

    @classmethod
    def from_npz(cls, path: str | os.PathLike[str]) -> Dataset:
        """Import an ``.npz`` file of concatenated sequences.

        The file holds ``X_concat`` (N, D) frames, ``lengths`` (n,) the frames of each
        recording, and ``y`` (n,) the labels (strings become ``str`` labels, integers ``int``;
        whole numbers stored as floats, 3.0, count as integers there and in ``lengths``);
        an optional ``channels`` (D,) array of strings names the input columns. This is the
        format of the datasets beside the project (``datasets/*/*_train.npz``) and of
        ``hmmlearn``'s ``fit(X, lengths)``.

        Raises
        ------
        FormatError
            If the file is missing, damaged, pickled, or its arrays do not fit together.
        """
        arrays = load_npz(path, {"X_concat": (None, None), "lengths": (None,), "y": (None,)})
        frames, lengths, y = arrays["X_concat"], arrays["lengths"], arrays["y"]
        where = os.fspath(path)
        # MATLAB and pandas often store counts and class numbers as floats (3.0): whole
        # numbers are read as the integers they are, as a stream file's are
        lengths, y = whole_numbers(lengths), whole_numbers(y)
        if lengths.dtype.kind not in "iu" or (lengths < 1).any() or lengths.sum() != len(frames):
            raise FormatError(
                f"{where}: 'lengths' must be positive integers adding up to the {len(frames)} "
                f"rows of 'X_concat'; got {lengths.dtype} values summing to {lengths.sum()}."
            )
        if len(y) != len(lengths):
            raise FormatError(
                f"{where}: 'y' has {len(y)} labels for {len(lengths)} recordings in 'lengths'."
            )
        if y.dtype.kind in "US":
            labels: list[Label] = [str(v) for v in y.astype(str)]
        elif y.dtype.kind in "iu":
            labels = [int(v) for v in y]
        else:
            raise FormatError(f"{where}: 'y' has dtype {y.dtype}; expected strings or integers.")
        channels = arrays.get("channels")
        names = None
        if (
            channels is not None
            and channels.dtype.kind in "US"
            and channels.shape == (frames.shape[1],)
        ):
            names = [str(c) for c in channels.astype(str)]
        try:
            dataset = cls(input_names=names)
            dataset._add_split(frames, lengths.tolist(), labels)
        except GesturemapError as error:
            raise FormatError(f"{where}: {error}") from None
        return dataset

    @classmethod
    def from_xmm(cls, path: str | os.PathLike[str]) -> Dataset:
        """Import a training set saved by XMM (its JSON format), a RAPID-MIX training set
        (``docType: rapid-mix:ml-training-set``) or CoMo's processed examples (JSON5).

        Phrases become recordings in XMM's index order, with XMM's labels; a bimodal XMM
        training set becomes a dataset with outputs, and XMM's column names become the input
        and output names. Empty phrases are skipped with a warning.

        Parameters
        ----------
        path : str or os.PathLike
            An XMM training set file (``*.json``).

        Raises
        ------
        FormatError
            If the file is missing, is not valid JSON, is not an XMM training set, or its data
            does not match its declared lengths and dimensions.
        """
        from .interop.xmm.formats import read_document, to_xmm_training_set

        where = os.fspath(path)
        # XMM 1.x as it is; RAPID-MIX training sets and CoMo examples in XMM's layout
        document = to_xmm_training_set(read_document(path), where)
        if not isinstance(document, dict) or not isinstance(document.get("phrases"), list):
            raise FormatError(f"{where} is not an XMM training set: it has no 'phrases' list.")

        def field(owner: dict, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
            value = owner.get(key, default)
            if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
                raise FormatError(
                    f"{where} is not a valid XMM training set: {key!r} is {value!r}; "
                    f"expected {getattr(kind, '__name__', kind)}."
                )
            return value

        bimodal = field(document, "bimodal", bool, False)
        dimension = field(document, "dimension", int)
        d_in = field(document, "dimension_input", int, 0) if bimodal else dimension
        if dimension < 1 or not 1 <= d_in <= dimension - (1 if bimodal else 0):
            raise FormatError(
                f"{where}: XMM dimensions do not fit (dimension {dimension}, "
                f"dimension_input {d_in}, bimodal {bimodal})."
            )
        names = document.get("column_names")
        input_names = output_names = None
        if isinstance(names, list) and len(names) == dimension:
            input_names, output_names = names[:d_in], (names[d_in:] if bimodal else None)

        phrases = document["phrases"]
        if not all(isinstance(p, dict) for p in phrases):
            raise FormatError(f"{where}: every entry of 'phrases' must be a JSON object.")
        if all(isinstance(p.get("index"), int) for p in phrases):
            phrases = sorted(phrases, key=lambda p: p["index"])

        try:
            dataset = cls(input_names, output_names)
        except GesturemapError as error:
            raise FormatError(f"{where}: column names: {error}") from None
        for position, phrase in enumerate(phrases):
            label = field(phrase, "label", (str, int))
            length = field(phrase, "length", int)
            what = f"phrase {phrase.get('index', position)} (label {label!r})"
            if length == 0:
                warnings.warn(f"{where}: {what} is empty; skipped.", stacklevel=2)
                continue
            parts = (
                [("data_input", d_in), ("data_output", dimension - d_in)]
                if bimodal
                else [("data", dimension)]
            )
            blocks = []
            for key, width in parts:
                values = phrase.get(key)
                try:
                    block = np.asarray(values, dtype=np.float64)
                except (TypeError, ValueError):
                    block = None
                if block is None or block.ndim != 1:
                    raise FormatError(f"{where}: {what}: {key!r} is not a list of numbers.")
                if block.size != length * width:
                    raise FormatError(
                        f"{where}: {what}: {key!r} has {block.size} values; expected length "
                        f"{length} x {width} columns = {length * width}."
                    )
                blocks.append(block.reshape(length, width))
            try:
                dataset.add(blocks[0], label, blocks[1] if bimodal else None)
            except GesturemapError as error:
                raise FormatError(f"{where}: {what}: {error}") from None
        return dataset
