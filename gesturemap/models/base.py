"""What every gesturemap model shares: parameters, fitting checks, results, streams, saving.

The contract follows scikit-learn's: ``__init__`` only stores parameters; ``fit`` validates,
sets learned attributes with a trailing underscore and returns ``self``; refitting replaces
what was learned. Run-time state lives in the object returned by ``model.stream()``, so one
trained model (read-only) serves many streams at once.
"""

from __future__ import annotations

import copy
import inspect
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import FormatError, GesturemapError, NotFittedError

#: Saved-model format name and the newest version this code reads and writes.
MODEL_FORMAT = "gesturemap.model"
MODEL_VERSION = 1

#: Explicit registry of model classes that can be loaded from a file (never imported by name).
MODEL_REGISTRY: dict[str, type[BaseModel]] = {}


def register_model(cls: type[BaseModel]) -> type[BaseModel]:
    """Class decorator adding a model class to :data:`MODEL_REGISTRY` under its ``kind``."""
    MODEL_REGISTRY[cls.kind] = cls
    return cls


def _raise_in_tests() -> bool:
    return os.environ.get("GESTUREMAP_RAISE", "") not in ("", "0")


@dataclass(frozen=True, slots=True)
class Result:
    """What a model says about one frame. Per-class arrays are in ``model.labels_`` order.

    Attributes
    ----------
    label : the likeliest class (largest smoothed log-likelihood).
    label_index : its index in ``labels_``.
    likelihoods : (C,) smoothed likelihoods normalised to sum 1 (what a user sees).
    log_likelihoods : (C,) smoothed log-likelihoods (mean over the likelihood window).
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
    event : the :class:`~gesturemap.models.spotting.Event` a spotting stream emits at this
        frame, else None.
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


def _frozen(a: np.ndarray) -> np.ndarray:
    b = a.copy()
    b.flags.writeable = False
    return b


def bad_param(name: str, value: Any, expected: str, hint: str = "") -> GesturemapError:
    """An error that names the parameter, the value received, what was expected and what to do."""
    msg = f"{name}={value!r} is not valid: expected {expected}."
    if hint:
        msg += f" {hint}"
    return GesturemapError(msg)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise bad_param(name, value, "one of " + ", ".join(repr(c) for c in choices))
    return value


def check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise bad_param(name, value, f"an integer >= {minimum}")
    return int(value)


def check_float(name: str, value: Any, minimum: float = 0.0, strict: bool = False) -> float:
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = math.isfinite(value) and (value > minimum if strict else value >= minimum)
    if not ok:
        raise bad_param(name, value, f"a finite number {'>' if strict else '>='} {minimum}")
    return float(value)


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


class BaseModel:
    """Parameters, fitted-state checks, batch helpers and saving shared by every model."""

    kind: ClassVar[str] = "base"
    #: Parameters that only change inference: they may change after training.
    runtime_params: ClassVar[tuple[str, ...]] = ()
    #: Parameters a class may override through ``class_params``.
    class_overridable: ClassVar[tuple[str, ...]] = ()

    # -- parameters ------------------------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        """Every constructor parameter and its current value."""
        return {name: copy.deepcopy(getattr(self, name)) for name in self._param_names()}

    def set_params(self, **params: Any) -> BaseModel:
        """Change parameters. Run-time ones (e.g. ``likelihood_window``) apply to new streams
        at once; the others take effect at the next ``fit``."""
        names = self._param_names()
        for key, value in params.items():
            if key not in names:
                raise bad_param(key, value, "one of " + ", ".join(names))
            setattr(self, key, value)
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

    def _check_sequence(self, seq: Any) -> np.ndarray:
        try:
            x = np.asarray(seq, dtype=np.float64)
        except (TypeError, ValueError):
            raise GesturemapError("sequence is not a numeric (T, D) array.") from None
        if x.ndim == 1 and self.input_dim_ == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.input_dim_ or x.shape[0] == 0:
            raise GesturemapError(
                f"sequence has shape {np.shape(seq)}: expected (T, {self.input_dim_}) with "
                "T >= 1 frames of the model's input size."
            )
        if not np.all(np.isfinite(x)):
            raise GesturemapError("sequence has NaN or infinite values.")
        return np.ascontiguousarray(x)

    def log_likelihood(self, sequence: Any) -> np.ndarray:
        """(C,) log-likelihood of a whole (T, D_in) sequence under each class."""
        self._check_fitted()
        return self._sequence_loglik(self._check_sequence(sequence))

    def predict(self, sequences: Sequence[Any]) -> list[Any]:
        """The likeliest label of each whole (T, D_in) sequence (by batch log-likelihood)."""
        self._check_fitted()
        return [self.labels_[int(np.argmax(self.log_likelihood(s)))] for s in sequences]

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
            "params": _jsonable_params(self.get_params()),
            "labels": labels,
            "input_dim": int(self.input_dim_),
            "output_dim": int(self.output_dim_),
            "training": self.training_info_,
            **self._state_meta(),
        }
        return meta, self._state_arrays()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save to ``path`` (JSON) and ``path`` with suffix ``.npz`` (arrays); never pickle.

        Both files are written atomically; the JSON holds the checksum of the arrays, so a
        mismatched pair is refused on load. Returns the JSON path.
        """
        from .. import _io

        path = Path(path)
        if path.suffix != ".json":
            path = path.with_name(path.name + ".json")
        meta, arrays = self.dump()
        npz_path = path.with_suffix(".npz")
        meta["arrays"] = npz_path.name
        meta["arrays_sha256"] = _io.save_npz(npz_path, **arrays)
        _io.write_json(path, meta, format=MODEL_FORMAT, version=MODEL_VERSION)
        return path


def _jsonable_params(params: dict[str, Any]) -> dict[str, Any]:
    out = dict(params)
    cp = out.get("class_params")
    if cp:
        # JSON keys are strings: keep the label's type in a list of pairs
        out["class_params"] = [[k, v] for k, v in cp.items()]
    return out


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
        params = dict(meta["params"])
        if params.get("class_params"):
            params["class_params"] = {k: v for k, v in params["class_params"]}
        model = cls(**params)
        model._check_runtime_params()
        labels = meta["labels"]
        if not isinstance(labels, list) or not labels:
            raise ValueError("labels")
        model.labels_ = list(labels)
        model.input_dim_ = int(meta["input_dim"])
        model.output_dim_ = int(meta["output_dim"])
        model.training_info_ = meta.get("training", {})
        model._set_state_arrays(meta, arrays)
    except FormatError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, GesturemapError) as exc:
        raise FormatError(f"the saved model is damaged or inconsistent ({exc})") from exc
    return model


def load(path: str | os.PathLike[str]) -> BaseModel:
    """Load a model saved with ``model.save(path)``.

    Raises :class:`~gesturemap.errors.FormatError` for a damaged, tampered with or newer file.
    """
    from .. import _io

    path = Path(path)
    if not path.exists() and path.with_name(path.name + ".json").exists():
        path = path.with_name(path.name + ".json")
    meta = _io.read_json(path, format=MODEL_FORMAT, max_version=MODEL_VERSION)
    name = meta.get("arrays")
    if not isinstance(name, str) or Path(name).name != name or not name.endswith(".npz"):
        raise FormatError(f"{path}: 'arrays' must name an .npz file beside it, not {name!r}.")
    sha = meta.get("arrays_sha256")
    arrays = _io.load_npz(path.with_name(name), sha256=sha if isinstance(sha, str) else None)
    try:
        return restore(meta, arrays)
    except FormatError as exc:
        raise FormatError(f"{path}: {exc}") from exc


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
        if not np.isfinite(x).all():
            raise GesturemapError("frame has NaN or infinite values; it was not used.")
        return x

    def run(self, sequence: Any) -> list[Result]:
        """Step every frame of a (T, D_in) sequence; the stream is not reset first."""
        return [self.step(f) for f in np.asarray(sequence, dtype=np.float64)]

    def step(self, frame: Any) -> Result:  # pragma: no cover - overridden
        raise NotImplementedError
