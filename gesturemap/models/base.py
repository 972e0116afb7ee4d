"""What every gesturemap model shares: parameters, fitting checks, results, streams, saving.

The contract follows scikit-learn's: ``__init__`` only stores parameters; ``fit`` validates,
sets learned attributes with a trailing underscore and returns ``self``; refitting replaces
what was learned. Run-time state lives in the object returned by ``model.stream()``, so one
trained model (read-only) serves many streams at once.
"""

from __future__ import annotations

import copy
import functools
import inspect
import logging
import math
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import FormatError, GesturemapError, NotFittedError
from ..utils.validation import (  # noqa: F401 - the models import their checks from here
    check_choice,
    check_float,
    check_int,
    check_number,
    validation_error,
)
from ._frozen import FrozenBlock, _frozen  # noqa: F401 - the streams import them from here
from .limits import MAX_CHANNELS, check_size  # noqa: F401 - the models import it from here

#: Saved-model format name and the newest version this code reads and writes.
log = logging.getLogger("gesturemap.models")

MODEL_FORMAT = "gesturemap.model"
MODEL_VERSION = 1

#: Explicit registry of model classes that can be loaded from a file (never imported by name).
MODEL_REGISTRY: dict[str, type[BaseModel]] = {}


def register_model(cls: type[BaseModel]) -> type[BaseModel]:
    """Class decorator adding a model class to :data:`MODEL_REGISTRY` under its ``kind``."""
    MODEL_REGISTRY[cls.kind] = cls
    return cls


@dataclass(frozen=True, slots=True)
class Result:
    """What a model says about one frame. Per-class arrays are in ``model.labels_`` order.

    Attributes
    ----------
    label : the likeliest class (largest ``log_likelihoods``).
    label_index : its index in ``labels_``.
    likelihoods : (C,) the ``log_likelihoods``' softmax (what a user sees).
    log_likelihoods : (C,) what the label is decided on (the model's ``decision``): the
        log-likelihood of the frames since the reset (``"cumulative"``, the default: at a
        gesture's last frame, ``model.log_likelihood(gesture)``), its mean over the likelihood
        window (``"window"``, XMM's) or its decaying sum (``"decaying"``); DTW: minus the
        distances over the temperature.
    instant_likelihoods : (C,) likelihood of this frame alone under each class.
    instant_normalized_likelihoods : (C,) the same, normalised to sum 1.
    progress : (C,) time progression 0..1 within each class's gesture (HMMs), else None.
    likeliest_state : (C,) most probable state of each class (HMMs), else None.
    exit_likelihoods : (C,) probability mass in states that can leave the gesture
        (hierarchical HMM), else None.
    exit_ratios : (C,) exit likelihood over the class's instant likelihood, else None.
    output : (D_out,) regression output (bimodal models), else None.
    output_covariance : (D_out, D_out) its covariance, else None.
    class_outputs, class_output_covariances : each class's regression output, else None.
    distances : (C,) each class's distance to this moment of the stream (DTW: the least cost
        of a match of one of its templates ending now), else None.
    match : the label whose distance is under the model's threshold now (DTW), else None.
    event : the :class:`~gesturemap.models.spotting.core.Event` a spotting stream emits at this
        frame, else None.
    speed : (C,) estimated speed of each class's gesture relative to its template, 1 = as
        recorded (GVF), else None.
    scale : (C, D_in) estimated scale per input of each class's gesture relative to its
        template (GVF), else None.
    rotation : (C, R) estimated rotation of each class's gesture, radians: R = 1 angle for
        2-D inputs, a 3-D rotation vector for 3-D inputs (GVF with rotation), else None.
    """

    label: Any
    label_index: int
    likelihoods: np.ndarray
    log_likelihoods: np.ndarray
    instant_likelihoods: np.ndarray
    instant_normalized_likelihoods: np.ndarray
    progress: np.ndarray | None = None
    likeliest_state: np.ndarray | None = None
    exit_likelihoods: np.ndarray | None = None
    exit_ratios: np.ndarray | None = None
    output: np.ndarray | None = None
    output_covariance: np.ndarray | None = None
    class_outputs: np.ndarray | None = None
    class_output_covariances: np.ndarray | None = None
    distances: np.ndarray | None = None
    match: Any = None
    event: Any = None
    speed: np.ndarray | None = None
    scale: np.ndarray | None = None
    rotation: np.ndarray | None = None

    # Written out rather than generated: a frozen dataclass's own ``__init__`` sets each of the
    # 20 fields through ``object.__setattr__`` (3.5 µs a Result); the slots' descriptors take
    # 1.5 µs, and a stream builds one every frame. Same signature
    # (tests/models/test_result_build.py).
    def __init__(self, label: Any, label_index: int, likelihoods: np.ndarray,
                 log_likelihoods: np.ndarray, instant_likelihoods: np.ndarray,
                 instant_normalized_likelihoods: np.ndarray, progress: np.ndarray | None = None,
                 likeliest_state: np.ndarray | None = None,
                 exit_likelihoods: np.ndarray | None = None,
                 exit_ratios: np.ndarray | None = None, output: np.ndarray | None = None,
                 output_covariance: np.ndarray | None = None,
                 class_outputs: np.ndarray | None = None,
                 class_output_covariances: np.ndarray | None = None,
                 distances: np.ndarray | None = None, match: Any = None, event: Any = None,
                 speed: np.ndarray | None = None, scale: np.ndarray | None = None,
                 rotation: np.ndarray | None = None) -> None:
        s = _RESULT_SET
        s[0](self, label)
        s[1](self, label_index)
        s[2](self, likelihoods)
        s[3](self, log_likelihoods)
        s[4](self, instant_likelihoods)
        s[5](self, instant_normalized_likelihoods)
        s[6](self, progress)
        s[7](self, likeliest_state)
        s[8](self, exit_likelihoods)
        s[9](self, exit_ratios)
        s[10](self, output)
        s[11](self, output_covariance)
        s[12](self, class_outputs)
        s[13](self, class_output_covariances)
        s[14](self, distances)
        s[15](self, match)
        s[16](self, event)
        s[17](self, speed)
        s[18](self, scale)
        s[19](self, rotation)


#: Each field's slot setter, in the order of :class:`Result`'s fields (its ``__init__``).
_RESULT_SET = tuple(Result.__dict__[f.name].__set__ for f in fields(Result))


#: How a stream decides its label (the run-time parameter ``decision`` of every classifier;
#: in the order of the kernels' codes, see :mod:`gesturemap.models._filter`):
#: ``"window"`` XMM's mean log-likelihood over the last ``likelihood_window`` frames;
#: ``"cumulative"`` the log-likelihood of everything since the last reset (what ``predict``
#: computes on that segment); ``"decaying"`` the same with exponential forgetting (time
#: constant ``likelihood_window`` frames), for streams that are never reset.
DECISIONS = ("window", "cumulative", "decaying")
#: The HHMM's also: ``"following"``, the cumulative decision restarted where a new gesture
#: must have begun (a frame less likely than any of the decided class's takes, or a stretch
#: longer than any take): exactly ``"cumulative"`` on a stream reset at each gesture, and a
#: label that follows the performer on one that is never reset (docs/wekinator.md).
FOLLOWING_DECISIONS = (*DECISIONS, "following")


def decision_settings(decision: Any, likelihood_window: Any,
                      allowed: Sequence[str] = DECISIONS) -> tuple[int, float]:
    """``(code, keep)`` of a ``decision`` for the kernels: its index in
    :data:`FOLLOWING_DECISIONS` and the decaying sum's factor ``1 - 1 / likelihood_window``.
    Raises a clear error otherwise."""
    check_choice("decision", decision, allowed)
    # only the window decision keeps that many frames (a buffer per class in each stream); the
    # others forget by 1 / likelihood_window a frame, where 10**12 means "never"
    if decision == "window":
        window = check_size("likelihood_window", likelihood_window)
    else:
        window = check_int("likelihood_window", likelihood_window, 1)
    return FOLLOWING_DECISIONS.index(decision), 1.0 - 1.0 / window


def bad_param(name: str, value: Any, expected: str, hint: str = "") -> GesturemapError:
    """An error that names the parameter, the value received, what was expected and what to do
    (:func:`gesturemap.utils.validation.validation_error`'s shape)."""
    return validation_error(name, value, expected, hint.strip() or None)


@dataclass
class ClassData:
    """One class's training data: phrases back to back."""

    label: Any
    inputs: np.ndarray  # (T, D_in) float64
    outputs: np.ndarray | None  # (T, D_out) or None
    offsets: np.ndarray  # (P+1,) int64

    @property
    def joint(self) -> np.ndarray:
        """(T, D_in + D_out): the frames a bimodal model is trained on."""
        if self.outputs is None:
            return self.inputs
        return np.hstack([self.inputs, self.outputs])


#: What to give instead of an object that is not a model, by its type's name.
_INSTEAD_OF_MODEL = {
    "Project": "a project's trained model is project.trained (None until it is trained)",
    "Spotter": "pass the model it spots with, spotter.model",
    "str": "a model kind names no model: give one, e.g. gm.HHMM() (trained: "
           ".fit(dataset)), or gm.load(path)",
}


def check_model(call: str, model: Any) -> None:
    """Refuse what is not a gesturemap model with what to give instead: a project, a class,
    a kind name or a spotter otherwise ends in "'Project' object has no attribute
    '_check_fitted'" or "missing 1 required positional argument: 'self'"."""
    if isinstance(model, type):
        raise TypeError(f"{call}: got the class {model.__name__} itself, not a model: give "
                        f"one, e.g. gm.{model.__name__}() (trained: .fit(dataset))")
    if isinstance(model, BaseModel):
        return
    name = type(model).__name__
    instead = _INSTEAD_OF_MODEL.get(name, "give one, e.g. gm.HHMM() (trained: "
                                          ".fit(dataset)), or gm.load(path)")
    raise TypeError(f"{call}: got a {name}, not a gesturemap model: {instead}")


def split_dataset(dataset: Any) -> tuple[list[ClassData], int, int]:
    """Group a :class:`gesturemap.Dataset` by sorted label; check it can be trained on.

    Returns ``(classes, input_dim, output_dim)``.
    """
    try:
        recordings = list(dataset)
    except TypeError:
        raise GesturemapError(
            f"fit() expects a gesturemap.Dataset, got {type(dataset).__name__}; "
            "build one with gm.Dataset() and dataset.add(inputs, label=...)."
        ) from None
    if not recordings:
        raise GesturemapError(
            "fit() got an empty dataset: record at least one take (dataset.add(...)) first."
        )
    labels = {r.label for r in recordings}
    kinds = {type(lb) for lb in labels}
    if len(kinds) > 1:
        raise GesturemapError(
            f"labels mix types {sorted(k.__name__ for k in kinds)}: use all strings or all "
            "integers."
        )
    d_in = {r.inputs.shape[1] for r in recordings}
    if len(d_in) > 1:
        raise GesturemapError(f"recordings have different input sizes {sorted(d_in)}.")
    bimodal = {r.outputs is not None for r in recordings}
    if len(bimodal) > 1:
        raise GesturemapError(
            "some recordings have outputs and others not: a regression model needs target "
            "values in every take (or in none, for recognition only)."
        )
    d_out = 0
    if True in bimodal:
        douts = {r.outputs.shape[1] for r in recordings}
        if len(douts) > 1:
            raise GesturemapError(f"recordings have different output sizes {sorted(douts)}.")
        d_out = douts.pop()
    classes = []
    for label in sorted(labels):
        recs = [r for r in recordings if r.label == label]
        x = np.ascontiguousarray(np.vstack([np.asarray(r.inputs, dtype=np.float64) for r in recs]))
        y = None
        if d_out:
            y = np.ascontiguousarray(
                np.vstack([np.asarray(r.outputs, dtype=np.float64) for r in recs])
            )
        if not np.all(np.isfinite(x)) or (y is not None and not np.all(np.isfinite(y))):
            raise GesturemapError(f"class {label!r} has NaN or infinite values.")
        offsets = np.concatenate([[0], np.cumsum([len(r.inputs) for r in recs])]).astype(np.int64)
        classes.append(ClassData(label, x, y, offsets))
    return classes, d_in.pop(), d_out


def regularization(x: np.ndarray, relative: float, absolute: float) -> np.ndarray:
    """XMM's covariance offset: ``max(absolute, relative * std)`` per dimension (float32 std,
    as XMM computes it)."""
    x32 = x.astype(np.float32)
    std = np.sqrt(
        np.mean((x32 - x32.mean(axis=0, dtype=np.float32)) ** 2, axis=0, dtype=np.float32),
        dtype=np.float32,
    )
    return np.maximum(absolute, relative * std.astype(np.float64))


class Cancel:
    """A flag another thread may raise to stop training (read by the numeric kernels)."""

    def __init__(self) -> None:
        self.flag = np.zeros(1, dtype=np.int64)

    def set(self) -> None:
        self.flag[0] = 1

    def is_set(self) -> bool:
        return bool(self.flag[0])


ProgressCallback = Callable[[float, str], None]


@dataclass(frozen=True)
class ParamGroup:
    """A few related parameters of a model, held as one value (``GVF(alignment=...)``), as
    scikit-learn's meta-estimators hold their sub-estimators: ``model.get_params(deep=True)``
    names each field ``<group>__<field>`` and ``model.set_params(<group>__<field>=...)``
    changes one. Frozen (a model shares it with its copies and nobody changes it behind the
    model's back: :meth:`replace` gives a new one) and checked when built, each error naming
    the group and the field. Saved as a plain JSON object of its fields.

    A subclass is a frozen dataclass whose fields have the defaults and whose
    :meth:`_check` raises on a bad value; :attr:`name` is the model parameter holding it.
    """

    #: The model parameter that holds the group (for error messages).
    name: ClassVar[str] = "group"

    def __post_init__(self) -> None:
        self._check()

    def _check(self) -> None:  # pragma: no cover - overridden
        pass

    def _field(self, field: str) -> str:
        """How an error names one of the fields: ``alignment__max_step``, as
        ``set_params`` and ``get_params(deep=True)`` name it."""
        return f"{self.name}__{field}"

    @classmethod
    def from_value(cls, value: Any) -> ParamGroup:
        """``value`` as a group: itself, a dict of (some of) its fields (a saved model's or a
        project's JSON; the others keep their defaults), or None (every default)."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            known = [f.name for f in fields(cls)]
            unknown = [k for k in value if k not in known]
            if unknown:
                raise validation_error(f"{cls.name} key", unknown[0], "one of " + ", ".join(known))
            return cls(**value)
        raise validation_error(cls.name, value,
                               f"a {cls.__qualname__}(...) or a dict of its fields")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Every field and its value (a plain dict: what a saved model holds)."""
        del deep
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def replace(self, **changes: Any) -> ParamGroup:
        """A copy with ``changes`` (field names), checked."""
        return type(self).from_value({**self.get_params(), **changes})

    def __eq__(self, other: object) -> bool:
        # a group equals the same values given as a dict (a project's settings), so that
        # comparing a model's value with its settings does not see a change that is none
        if isinstance(other, dict):
            try:
                other = type(self).from_value(other)
            except GesturemapError:
                return False
        if type(other) is not type(self):
            return NotImplemented
        return self.get_params() == other.get_params()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash((type(self), tuple(self.get_params().items())))


class BaseModel:
    """Parameters, fitted-state checks, batch helpers and saving shared by every model."""

    kind: ClassVar[str] = "base"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Every model accepts ``ignore_channels`` without each model file knowing of it: the
        # class's own __init__, fit and stream are wrapped once, where the class defines them.
        super().__init_subclass__(**kwargs)
        for name, wrap in (("__init__", _init_with_ignore), ("fit", _fit_without_ignored),
                           ("stream", _stream_without_ignored)):
            own = cls.__dict__.get(name)
            if own is not None and not getattr(own, "_ignore_wrapped", False):
                wrapped = wrap(own)
                wrapped._ignore_wrapped = True  # type: ignore[attr-defined]
                setattr(cls, name, wrapped)

    #: Parameters that only change inference: they may change after training.
    runtime_params: ClassVar[tuple[str, ...]] = ()
    #: Parameters a class may override through ``class_params``.
    class_overridable: ClassVar[tuple[str, ...]] = ()
    #: Values of parameters added after a model could already be saved: a file that does not
    #: name one was saved before it existed and loads with the behaviour it had then (a
    #: group's field: ``<group>__<field>``).
    legacy_params: ClassVar[dict[str, Any]] = {}
    #: Old names of renamed parameters, ``{old: new}``: still accepted by ``__init__`` and
    #: ``set_params`` (with a DeprecationWarning), and read from saved models and projects.
    renamed_params: ClassVar[dict[str, str]] = {}
    #: Parameters removed after the project's experiments rejected every value but one,
    #: ``{name: (value, why)}``: that value is still accepted (code: a DeprecationWarning;
    #: files: silently) and does what it did; another value is refused, saying why.
    removed_params: ClassVar[dict[str, tuple[Any, str]]] = {}
    #: Values removed after the project's experiments rejected them, ``{name: ({value: the
    #: value it loads with}, why)}`` (a group's field: ``<group>__<field>``): a saved model or
    #: project holding one loads with its replacement, said once in the log (the model's own
    #: check refuses one passed in code, saying why).
    removed_values: ClassVar[dict[str, tuple[dict[str, Any], str]]] = {}
    #: Parameters that only removed values read, ``{name: why}``: left out whatever their
    #: value (code: a DeprecationWarning; files: silently, as nothing reads them).
    unused_params: ClassVar[dict[str, str]] = {}

    # -- parameters ------------------------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        names = [p for p in sig.parameters if p != "self"]
        return names + [IGNORE_PARAM] if IGNORE_PARAM not in names else names

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """Every constructor parameter and its current value; with ``deep``, also each field
        of a parameter group as ``<group>__<field>`` (scikit-learn's nested parameters)."""
        out = {name: copy.deepcopy(getattr(self, name)) for name in self._param_names()}
        if deep:
            for name, value in list(out.items()):
                if isinstance(value, ParamGroup):
                    out.update({f"{name}__{k}": v for k, v in value.get_params().items()})
        return out

    def set_params(self, **params: Any) -> BaseModel:
        """Change parameters. Run-time ones (e.g. ``likelihood_window``) apply to new streams
        at once; the others take effect at the next ``fit``. A field of a parameter group is
        ``<group>__<field>`` (``alignment__max_step=24``); a whole group may be given as a
        group or a dict of its fields."""
        names = self._param_names()
        params = with_new_names(type(self), params, warn=True, fold=False)
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            group, sep, field = key.partition("__")
            if sep and group in names:
                nested.setdefault(group, {})[field] = value
                continue
            if key not in names:
                raise bad_param(key, value, "one of " + ", ".join(names))
            current = getattr(self, key, None)
            if isinstance(current, ParamGroup):
                value = type(current).from_value(value)
            setattr(self, key, value)
        for group, changes in nested.items():
            current = getattr(self, group, None)
            if not isinstance(current, ParamGroup):
                raise bad_param(f"{group}__{next(iter(changes))}", changes,
                                f"a parameter of {type(self).__name__}: {group} has no fields")
            known = list(current.get_params())
            for field, value in changes.items():
                if field not in known:
                    raise bad_param(f"{group}__{field}", value,
                                    "one of " + ", ".join(f"{group}__{k}" for k in known))
            setattr(self, group, current.replace(**changes))
        self._check_runtime_params()
        self._bank_cache = None
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _check_runtime_params(self) -> None:  # pragma: no cover - overridden
        pass

    def class_param(self, label: Any, name: str) -> Any:
        """The value of parameter ``name`` for class ``label`` (its override, or the default).

        A numbered class's overrides may be keyed by its number as text (``"2"``), as JSON
        settings (a project's, the window's) can only key them."""
        cp = self.class_params or {}
        overrides = cp.get(label)
        if overrides is None and isinstance(label, (int, np.integer)) and not isinstance(
                label, bool):
            overrides = cp.get(str(label))
        return (overrides or {}).get(name, getattr(self, name))

    def _check_class_params(self, labels: Iterable[Any] | None = None) -> None:
        cp = self.class_params
        if cp is None:
            return
        if not isinstance(cp, dict):
            raise bad_param("class_params", cp, "a dict {label: {parameter: value}}")
        for label, over in cp.items():
            if not isinstance(over, dict):
                raise bad_param(f"class_params[{label!r}]", over, "a dict of parameters")
            for key in over:
                if key not in self.class_overridable:
                    raise bad_param(
                        f"class_params[{label!r}] key",
                        key,
                        "one of " + ", ".join(self.class_overridable),
                    )
            self._check_class_values(label, over)

    def _check_class_values(self, label: Any, over: dict[str, Any]) -> None:
        """Check a class's overrides as the shared settings are checked (the same message,
        naming the class): a hand-edited ``"states": 0`` for one class is refused where the
        settings arrive, not by the next training, on stage."""
        if not over:
            return
        as_shared = copy.copy(self)
        for key, value in over.items():
            setattr(as_shared, key, value)
        as_shared.class_params = None
        try:
            for hook in ("_check_common", "_check_params"):
                check = getattr(as_shared, hook, None)
                if check is not None:
                    check()
        except GesturemapError as error:
            raise type(error)(f"class_params[{label!r}].{error}") from None

    def check_class_lengths(self, label: Any, lengths: Sequence[int]) -> None:
        """Raise :class:`~gesturemap.errors.GesturemapError` if a class ``label`` whose takes
        have ``lengths`` frames (as the model sees them, after the feature pipeline) cannot be
        trained with these settings, with the message ``fit`` would give (an HHMM's takes
        shorter than its states...). Cheap, so a take can be refused the moment it ends
        rather than break every later retraining; models that train on any length say
        nothing (the default)."""
        del label, lengths

    def check_params(self) -> BaseModel:
        """Check every setting as ``fit`` would, without training; returns ``self``.

        Raises :class:`~gesturemap.errors.GesturemapError` (one message shape: see
        :mod:`gesturemap.utils.validation`) naming the first setting the model refuses.
        """
        for hook in ("_check_common", "_check_params", "_check_runtime_params"):
            check = getattr(self, hook, None)
            if check is not None:
                check()
        if getattr(self, "class_params", None) is not None:
            self._check_class_params()
        return self

    # -- fitted state ----------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if getattr(self, "labels_", None) is None:
            raise NotFittedError(
                f"this {type(self).__name__} is not trained yet: call fit(dataset) or load a "
                "saved model first."
            )

    @property
    def n_classes_(self) -> int:
        self._check_fitted()
        return len(self.labels_)

    def stream(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _sequence_loglik(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _check_sequence(self, seq: Any, all_channels: bool = False) -> np.ndarray:
        """``seq`` checked as a (T, D) float array of the model's input as given, then
        without the channels the model ignores (``ignore_channels``) unless ``all_channels``."""
        try:
            x = np.asarray(seq, dtype=np.float64)
        except (TypeError, ValueError):
            raise GesturemapError("sequence is not a numeric (T, D) array.") from None
        kept = getattr(self, "kept_channels_", None)
        d = self.input_dim_ if kept is None else self.full_input_dim_
        if x.ndim == 1 and d == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != d or x.shape[0] == 0:
            raise GesturemapError(
                f"sequence has shape {np.shape(seq)}: expected (T, {d}) with "
                "T >= 1 frames of the model's input size."
            )
        if not np.all(np.isfinite(x)):
            raise GesturemapError("sequence has NaN or infinite values.")
        if kept is not None and not all_channels:  # the ignored channels never reach the model
            x = x[:, kept]
        return np.ascontiguousarray(x)

    def log_likelihood(self, sequence: Any) -> np.ndarray:
        """(C,) log-likelihood of a whole (T, D_in) sequence under each class."""
        self._check_fitted()
        return self._sequence_loglik(self._check_sequence(sequence))

    def _sequence_list(self, sequences: Any) -> Any:
        """``sequences`` as given to ``predict``, refused when it is one (T, D_in) array: its
        rows would be taken for sequences, which a model of one input reads as T gestures of
        one frame each (T labels back, silently), and any other as "shape (D,)"."""
        d = frame_dim(self)
        if isinstance(sequences, np.ndarray) and sequences.ndim == 2 and sequences.shape[1] == d:
            raise GesturemapError(
                f"predict takes a list of (T, {d}) sequences and returns a label for each; it "
                f"got one {sequences.shape} array: give [sequence] (or a list of several).")
        return sequences

    def predict(self, sequences: Sequence[Any]) -> list[Any]:
        """The likeliest label of each whole (T, D_in) sequence (by batch log-likelihood)."""
        self._check_fitted()
        return [self.labels_[int(np.argmax(self.log_likelihood(s)))]
                for s in self._sequence_list(sequences)]

    # -- saving ----------------------------------------------------------------------------
    def _state_arrays(self) -> dict[str, np.ndarray]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _set_state_arrays(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError  # pragma: no cover

    def _state_meta(self) -> dict[str, Any]:
        return {}

    def dump(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The model as JSON-able metadata and a dict of arrays (what ``save`` writes)."""
        self._check_fitted()
        labels = [lb.item() if isinstance(lb, np.generic) else lb for lb in self.labels_]
        meta = {
            "model": self.kind,
            "params": jsonable_params(self.get_params()),
            "labels": labels,
            "input_dim": int(self.input_dim_),
            "output_dim": int(self.output_dim_),
            "training": self.training_info_,
            **self._state_meta(),
        }
        if getattr(self, "kept_channels_", None) is not None:
            meta["kept_channels"] = [int(i) for i in self.kept_channels_]
            meta["full_input_dim"] = int(self.full_input_dim_)
        return meta, self._state_arrays()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save to ``path`` (JSON) and ``path`` with suffix ``.npz`` (arrays); never pickle.

        Both files are written atomically; the JSON holds the checksum of the arrays, so a
        mismatched pair is refused on load. Returns the JSON path. A folder of ``path`` that
        does not exist is created (as :meth:`Project.save` does).

        Raises
        ------
        GesturemapError
            If the folder cannot be created or written (naming it and why).
        """
        from ..utils import storage as _io

        path = Path(path)
        if path.suffix != ".json":
            path = path.with_name(path.name + ".json")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise GesturemapError(
                f"cannot save the model to {path}: its folder {path.parent} cannot be created "
                f"({exc.strerror or exc}); choose another folder."
            ) from None
        meta, arrays = self.dump()
        npz_path = path.with_suffix(".npz")
        meta["arrays"] = npz_path.name
        meta["arrays_sha256"] = _io.save_npz(npz_path, **arrays)
        _io.write_json(path, meta, format=MODEL_FORMAT, version=MODEL_VERSION)
        return path


def with_new_names(cls: type[BaseModel], params: dict[str, Any], *, warn: bool = False,
                   fold: bool = True) -> dict[str, Any]:
    """``params`` with the old names of renamed parameters (``cls.renamed_params``) replaced
    by the new ones, removed parameters (``cls.removed_params``, ``cls.unused_params``) left
    out and, from a file, removed values (``cls.removed_values``) replaced.

    Parameters
    ----------
    cls : the model class whose parameters these are.
    params : keyword arguments, as given or as read from a file.
    warn : emit a DeprecationWarning naming the new name for each old one (for code that
        passes them; a saved model or project is translated silently: re-saving it writes the
        new names).
    fold : put the fields of parameter groups (``alignment__max_step``, what an old name may
        now be) into their group's dict (``alignment={"max_step": ...}``), as ``__init__``
        takes them; False leaves them apart, as ``set_params`` takes them.

    Returns
    -------
    dict
        A new dict; ``params`` itself is not changed.

    Raises
    ------
    GesturemapError
        When an old name and its new name are both given, or a removed parameter has a value
        other than the one kept.
    """
    out = dict(params)
    for old, (kept, why) in cls.removed_params.items():
        if old not in out:
            continue
        value = out.pop(old)
        if not (value == kept and type(value) is type(kept)):
            raise GesturemapError(
                f"{cls.__name__}: {old}={value!r} is no longer available: {why} Leave "
                f"{old!r} out (it now always does what {old}={kept!r} did).")
        if warn:
            warnings.warn(f"{cls.__name__}: {old!r} was removed ({why}); leave it out: "
                          f"{old}={kept!r} is what it always does now.",
                          DeprecationWarning, stacklevel=3)
    for old, new in cls.renamed_params.items():
        if old not in out:
            continue
        if new in out:
            raise GesturemapError(
                f"{cls.__name__}: {old!r} is the old name of {new!r}; give {new!r} only.")
        if warn:
            # stacklevel 3: the caller of __init__ / set_params, which call this
            warnings.warn(f"{cls.__name__}: {old!r} is deprecated; use {_spelling(cls, new)}.",
                          DeprecationWarning, stacklevel=3)
        out[new] = out.pop(old)
    for name, why in cls.unused_params.items():
        for holder, key in _spots(out, name):
            del holder[key]
            if warn:
                warnings.warn(f"{cls.__name__}: {name!r} was removed ({why}); leave it out.",
                              DeprecationWarning, stacklevel=3)
    if not warn:  # (code that passes a removed value is refused by the model's check)
        for name, (values, why) in cls.removed_values.items():
            for holder, key in _spots(out, name):
                value = holder[key]
                if isinstance(value, str) and value in values:
                    holder[key] = values[value]
                    _say_once(f"{cls.__name__}: {name}={value!r} was removed ({why}); "
                              f"this file runs with {name}={values[value]!r}, and saving it "
                              "again writes that.")
    return fold_groups(cls, out) if fold else out


def _spots(params: dict[str, Any], name: str) -> list[tuple[dict[str, Any], str]]:
    """Where ``params`` holds ``name`` (``<group>__<field>`` for a group's field): its own key,
    and the field in the group's dict of fields (copied first: the caller's dict stays as
    it was)."""
    spots = [(params, name)] if name in params else []
    group, sep, field = name.partition("__")
    if sep and isinstance(params.get(group), dict) and field in params[group]:
        params[group] = dict(params[group])
        spots.append((params[group], field))
    return spots


#: What :func:`_say_once` has said in this process.
_SAID: set[str] = set()


def _say_once(message: str) -> None:
    """Log a warning the first time only (a file is read again at every open and retrain)."""
    if message not in _SAID:
        _SAID.add(message)
        log.warning(message)


def _spelling(cls: type[BaseModel], new: str) -> str:
    """How to give the parameter ``new``: its name, or for a group's field
    ``alignment=GVF.Alignment(max_step=...)`` (``alignment__max_step`` in set_params)."""
    group, sep, field = new.partition("__")
    if not sep:
        return repr(new)
    default = inspect.signature(cls.__init__).parameters.get(group)
    kind = getattr(getattr(default, "default", None), "__class__", None)
    if default is None or not isinstance(default.default, ParamGroup):
        return repr(new)
    return (f"{group}={cls.__name__}.{kind.__name__}({field}=...) "
            f"(set_params({new}=...))")


def fold_groups(cls: type[BaseModel], params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with each ``<group>__<field>`` key put into its group's value, a dict of
    fields (a group object given too gives the other fields; a field given twice is refused).
    A new dict; JSON stays JSON."""
    out: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for key, value in params.items():
        group, sep, field = key.partition("__")
        if sep:
            nested.setdefault(group, {})[field] = value
        else:
            out[key] = value
    for group, changes in nested.items():
        given = out.get(group)
        if isinstance(given, ParamGroup):
            given = given.get_params()
        elif given is None:
            given = {}
        elif isinstance(given, dict):
            twice = sorted(set(given) & set(changes))
            if twice:
                raise GesturemapError(
                    f"{cls.__name__}: {group}__{twice[0]} is given twice (also in {group}); "
                    "give it once.")
        else:
            raise bad_param(group, given, "a group of settings or a dict of its fields")
        out[group] = {**given, **changes}
    return out


def jsonable_params(params: dict[str, Any]) -> dict[str, Any]:
    """A model's parameters as JSON holds them: parameter groups as dicts of their fields,
    ``class_params`` as a list of pairs."""
    out = {k: v.get_params() if isinstance(v, ParamGroup) else v for k, v in params.items()}
    cp = out.get("class_params")
    if cp:
        # JSON keys are strings: keep the label's type in a list of pairs
        out["class_params"] = [[k, v] for k, v in cp.items()]
    return out


def params_from_json(params: dict[str, Any]) -> dict[str, Any]:
    """:func:`jsonable_params` undone for a model's constructor: ``class_params`` given as a
    list of ``[label, overrides]`` pairs becomes the dict the model takes. Anything else is
    left as given, for the model's own checks to refuse with their message."""
    out = dict(params)
    cp = out.get("class_params")
    if isinstance(cp, list) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in cp):
        out["class_params"] = {k: v for k, v in cp}
    return out


def check_params(kind: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check a model's settings exactly as ``fit`` would, without training; return them as the
    model holds them (``get_params()``). The window calls it before sending settings to a
    retrain, so the panel refuses what the retrain would refuse, with the same message.

    ``kind`` is a model kind (a key of :data:`MODEL_REGISTRY`: ``"hhmm"``, ``"gmm"``,
    ``"knn"``, ``"dtw"``, ``"per_output"``…) and ``params`` its keyword arguments.

    >>> import gesturemap as gm
    >>> gm.check_params("hhmm", {"states": 0})
    Traceback (most recent call last):
    ...
    gesturemap.errors.GesturemapError: states: got 0; expected an integer >= 1.
    """
    if not isinstance(kind, str) or kind not in MODEL_REGISTRY:
        raise validation_error("model kind", kind,
                               "one of " + ", ".join(repr(k) for k in sorted(MODEL_REGISTRY)))
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise validation_error(f"{kind} params", params, "a dict of settings")
    try:
        model = MODEL_REGISTRY[kind](**params)
    except TypeError as exc:  # a parameter the model does not have
        raise GesturemapError(f"{kind}: {exc}") from None
    return model.check_params().get_params()


def restore(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> BaseModel:
    """Rebuild a model from :meth:`BaseModel.dump`'s output; the model class comes from the
    explicit registry. Raises :class:`FormatError` when anything is inconsistent."""
    kind = meta.get("model")
    cls = MODEL_REGISTRY.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise FormatError(
            f"unknown model type {kind!r}; known: {', '.join(sorted(MODEL_REGISTRY))}."
        )
    try:
        params = params_from_json(with_new_names(cls, dict(meta["params"])))
        for key, value in cls.legacy_params.items():
            group, sep, field = key.partition("__")
            if not sep:
                params.setdefault(key, value)
            elif isinstance(params.setdefault(group, {}), dict):  # JSON: a dict of fields
                params[group].setdefault(field, value)
        unknown = sorted(set(params) - set(cls._param_names()), key=str)
        if unknown:  # a newer gesturemap's setting: said as such, not as a TypeError's text
            raise FormatError(
                f"{cls.__name__} has no parameter {', '.join(map(repr, unknown))}: the model "
                "was saved by a newer gesturemap (upgrade gesturemap to open it) or the file "
                "was edited by hand.")
        model = cls(**params)
        # The same checks as fit: a saved file is user input (gaussians=-1, "3", None...).
        model.check_params()
        labels = saved_labels(meta["labels"])
        if getattr(model, "class_params", None) is not None:
            model._check_class_params(labels)
        model.labels_ = labels
        model.input_dim_, model.output_dim_ = saved_dims(meta)
        model.training_info_ = meta.get("training", {})
        selection = model.training_info_.get("selection")
        if isinstance(selection, dict):  # gm.auto's record, saved with the model, comes back
            model.selection_ = selection
        _restore_kept_channels(model, meta)
        model._set_state_arrays(meta, arrays)
    except FormatError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError,
            GesturemapError) as exc:
        raise FormatError(f"the saved model is damaged or inconsistent ({exc})") from exc
    return model


def saved_labels(labels: Any) -> list[Any]:
    """A saved model's class labels checked as :meth:`Dataset.add` checks a take's: each a
    non-empty str or an int (not a bool), all of one kind, none twice. Raises ValueError:
    a hand-edited file's ``["a", "a"]`` loaded as two classes of one name (the second could
    never be told apart from the first), and ``[[1], {}]`` as labels no output mapping or
    threshold table could be keyed by."""
    from ..data import _check_label

    if not isinstance(labels, list) or not labels:
        raise ValueError(f"labels: got {labels!r:.60}; expected a non-empty list")
    out = [_check_label("label", lb) for lb in labels]
    if len({isinstance(lb, str) for lb in out}) > 1:
        raise ValueError(f"labels {out!r:.80} mix names and numbers")
    if len(set(out)) != len(out):
        raise ValueError(f"labels {out!r:.80} name a class twice")
    return out


def saved_dim(meta: dict[str, Any], key: str, minimum: int) -> int:
    """A saved model's channel count ``meta[key]``: a whole number in ``minimum`` ..
    :data:`~gesturemap.models.limits.MAX_CHANNELS`. A stream allocates for each channel,
    and a damaged file's 10^12 inputs ran out of memory while the model loaded."""
    return int(check_number(key, meta[key], minimum=minimum, maximum=MAX_CHANNELS,
                            integer=True, hint="The file is damaged: train the model again."))


def saved_dims(meta: dict[str, Any]) -> tuple[int, int]:
    """A saved model's ``(input_dim, output_dim)`` (:func:`saved_dim`)."""
    return saved_dim(meta, "input_dim", 1), saved_dim(meta, "output_dim", 0)


def saved_probabilities(name: str, values: np.ndarray, *, positive_sum: bool = False
                        ) -> np.ndarray:
    """A saved model's probabilities (weights, priors, transitions: any shape) checked: each
    finite and in [0, 1] (1 within rounding) and, with ``positive_sum``, each row (last axis)
    summing to more than 0. Raises ValueError naming ``name``: a damaged file's weights, all 0
    or negative, loaded fine and divided by zero or gave NaN likelihoods at the first frame."""
    v = np.asarray(values, dtype=np.float64)
    if not np.isfinite(v).all() or (v < 0).any() or (v > 1 + 1e-9).any():
        raise ValueError(f"{name} holds values outside [0, 1]: probabilities are damaged")
    if positive_sum and v.size and not (v.sum(axis=-1) > 0).all():
        where = " in a row" if v.ndim > 1 else ""
        raise ValueError(f"{name} are all 0{where}: no state or Gaussian could be reached")
    return v


def load(path: str | os.PathLike[str]) -> BaseModel:
    """Load a model saved with ``model.save(path)``.

    Raises :class:`~gesturemap.errors.FormatError` for a damaged, tampered with or newer file.
    """
    from ..utils import storage as _io

    path = Path(path)
    if not path.exists() and path.with_name(path.name + ".json").exists():
        path = path.with_name(path.name + ".json")
    meta = _io.read_json(path, format=MODEL_FORMAT, max_version=MODEL_VERSION)
    name = meta.get("arrays")
    if not isinstance(name, str) or Path(name).name != name or not name.endswith(".npz"):
        raise FormatError(f"{path}: 'arrays' must name an .npz file beside it, not {name!r}.")
    sha = meta.get("arrays_sha256")
    # its own regular file beside it, never a link to one elsewhere (as a project's takes)
    arrays = _io.load_npz(path.with_name(name), sha256=sha if isinstance(sha, str) else None,
                          inside=path.parent)
    try:
        return restore(meta, arrays)
    except FormatError as exc:
        raise FormatError(f"{path}: {exc}") from exc


def load_kernels(model: Any, input_dim: int | None = None) -> bool:
    """Load ``model``'s compiled kernels now: a scratch stream steps once on zeros of the
    model's input size (``input_dim``: that of the frames it will get, when the model does not
    say). Call it off the real-time path, before the model is swapped in: numba loads a kernel
    at its first call, and while another thread compiles (numba's compiler lock) that first
    call would wait for the whole compile. False when nothing could be stepped (the first
    frame loads them, as it would have)."""
    dim = getattr(model, "input_dim_", None) or input_dim
    if model is None or not dim:
        return False
    try:
        model.stream().step(np.zeros(int(dim)))
    except Exception:  # noqa: BLE001 - a model that cannot step on zeros loads them later
        return False
    return True


class StreamBase:
    """Run-time state of one performer's stream through a trained model."""

    def _check_frame(self, frame: Any) -> np.ndarray:
        try:
            x = np.asarray(frame, dtype=np.float64)
        except (TypeError, ValueError):
            raise GesturemapError(
                f"frame {frame!r:.60} is not numeric: the model expects ({self._din},) numbers."
            ) from None
        if x.shape != (self._din,):
            raise GesturemapError(
                f"frame has shape {np.shape(frame)}: the model expects ({self._din},) values."
            )
        # a sum of Python floats is NaN or infinite if a value is (and may overflow: then
        # the exact test decides); 0.4 µs against 1.8 µs for np.isfinite on a short frame
        if not math.isfinite(sum(x.tolist())) and not np.isfinite(x).all():
            raise GesturemapError("frame has NaN or infinite values; it was not used.")
        return x

    def run(self, sequence: Any) -> list[Result]:
        """Step every frame of a (T, D_in) sequence; the stream is not reset first."""
        return [self.step(f) for f in np.asarray(sequence, dtype=np.float64)]

    def step(self, frame: Any) -> Result:  # pragma: no cover - overridden
        raise NotImplementedError

    #: True where :meth:`advance` builds no :class:`Result` and :meth:`views` gives the
    #: likelihoods and progress: a classifier that emits no event nor estimate. The engine's
    #: frame path then sends from the stream's own arrays and builds a Result only when
    #: someone reads one (building it cost about 21 µs of a cold frame's time).
    lean = False
    _current: Result | None = None

    def advance(self, frame: Any) -> int:
        """Step one (D_in,) frame like :meth:`step` and return the label's index; the
        :class:`Result` is :meth:`current`'s to build (only when read)."""
        r = self._current = self.step(frame)
        return r.label_index

    def current(self) -> Result | None:
        """The Result of the last frame :meth:`advance` or :meth:`step` handled (valid until
        the next frame or reset; None before the first)."""
        return self._current

    def views(self) -> tuple[np.ndarray, np.ndarray | None]:  # pragma: no cover - lean only
        """``(likelihoods, progress or None)`` of the last frame: the stream's own arrays,
        overwritten by the next frame (read them before; never write them)."""
        raise NotImplementedError


# -- ignored input channels ------------------------------------------------------------------
#: The parameter every model accepts: input channels (indices) dropped before fit and step.
IGNORE_PARAM = "ignore_channels"


def check_ignore_channels(value: Any, input_dim: int) -> tuple[int, ...]:
    """``ignore_channels`` as sorted unique channel indices, checked against ``input_dim``."""
    if value is None:
        return ()
    items = [value] if isinstance(value, (int, np.integer)) else value
    try:
        out = sorted({int(i) for i in items if not isinstance(i, bool)
                      and isinstance(i, (int, np.integer))})
        ok = len(out) == len(set(items)) and all(0 <= i < input_dim for i in out)
    except TypeError:
        ok = False
    if not ok:
        raise bad_param(IGNORE_PARAM, value, f"a list of input channel indices in 0..{input_dim - 1}")
    if len(out) >= input_dim:
        raise bad_param(IGNORE_PARAM, value, "at least one input channel left",
                        "Keep one channel or more for the model to see.")
    return tuple(out)


def frame_dim(model: Any) -> int:
    """The size of the frames a fitted ``model`` takes as they are given to it: its
    ``input_dim_`` and the channels it ignores (``ignore_channels``), which it drops itself."""
    kept = getattr(model, "kept_channels_", None)
    return int(model.input_dim_ if kept is None else model.full_input_dim_)


def _init_with_ignore(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def wrapper(self: BaseModel, *args: Any, ignore_channels: Any = None, **kwargs: Any) -> None:
        init(self, *args, **with_new_names(type(self), kwargs, warn=True))
        self.ignore_channels = ignore_channels
    return wrapper


def _fit_without_ignored(fit: Callable[..., Any]) -> Callable[..., Any]:
    """``fit`` on the dataset without the ignored channels; records which ones were kept."""

    @functools.wraps(fit)
    def wrapper(self: BaseModel, dataset: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, "_fit_depth", 0):  # a subclass's fit calling its parent's
            return fit(self, dataset, *args, **kwargs)
        if isinstance(dataset, np.ndarray) or (
                isinstance(dataset, list | tuple) and dataset
                and isinstance(dataset[0], np.ndarray)):
            # frames alone say nothing of which gesture they are
            raise GesturemapError(
                f"{type(self).__name__}.fit takes labelled takes, not "
                f"{'an array' if isinstance(dataset, np.ndarray) else 'a list of arrays'}: "
                "ds = gm.Dataset(); ds.add(frames, label='circle') for each take, then "
                "model.fit(ds)")
        ignore = getattr(self, IGNORE_PARAM, None)
        self.kept_channels_ = None
        self.full_input_dim_ = None
        kept, full = None, 0
        if ignore not in (None, (), []):
            from ..data import Dataset

            try:
                recordings = list(dataset)
            except TypeError:
                recordings = None
            if not recordings:
                return fit(self, dataset, *args, **kwargs)  # fit says what is wrong
            full = recordings[0].inputs.shape[1]
            dropped = check_ignore_channels(ignore, full)
            kept = np.array([i for i in range(full) if i not in dropped], dtype=np.int64)
            reduced = Dataset()
            for r in recordings:
                reduced.add(np.asarray(r.inputs)[:, kept], r.label, r.outputs)
            dataset = reduced
        self._fit_depth = 1
        try:
            out = fit(self, dataset, *args, **kwargs)
        finally:
            self._fit_depth = 0
        if kept is not None:
            self.kept_channels_ = kept
            self.full_input_dim_ = full
        return out

    return wrapper


def _stream_without_ignored(stream: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(stream)
    def wrapper(self: BaseModel, *args: Any, **kwargs: Any) -> Any:
        inner = stream(self, *args, **kwargs)
        kept = getattr(self, "kept_channels_", None)
        if kept is None or isinstance(inner, ChannelDropStream):
            return inner
        return ChannelDropStream(inner, kept, int(self.full_input_dim_))
    return wrapper


def _restore_kept_channels(model: BaseModel, meta: dict[str, Any]) -> None:
    kept = meta.get("kept_channels")
    if kept is None:
        model.kept_channels_ = None
        model.full_input_dim_ = None
        return
    full = saved_dim(meta, "full_input_dim", 1)
    kept_arr = np.asarray(kept, dtype=np.int64)
    if (kept_arr.ndim != 1 or len(kept_arr) != model.input_dim_ or kept_arr.min() < 0
            or kept_arr.max() >= full or len(set(kept_arr.tolist())) != len(kept_arr)):
        raise ValueError(f"kept_channels {kept} do not fit {full} inputs")
    model.kept_channels_ = kept_arr
    model.full_input_dim_ = full


class ChannelDropStream(StreamBase):
    """A stream that takes the full (D,) frame and passes the kept channels to the model's
    own stream (``ignore_channels``). Anything else is the inner stream's."""

    def __init__(self, inner: Any, kept: np.ndarray, full_dim: int) -> None:
        self.inner = inner
        self._kept = kept
        self._din = full_dim

    def reset(self) -> None:
        self.inner.reset()

    def step(self, frame: Any) -> Result:
        return self.inner.step(self._check_frame(frame)[self._kept])

    def __getattr__(self, name: str) -> Any:
        inner = self.__dict__.get("inner")
        if inner is None:  # while being built or copied
            raise AttributeError(name)
        return getattr(inner, name)
