"""One model per output, each with its own inputs: Wekinator's way of building a mapping.

A Wekinator project has several outputs; each output has its own model (a classifier, a
regressor or DTW) and its own selection of the inputs. :class:`PerOutput` is that, behind the
ordinary model API (``fit``, ``stream().step()``, ``save``/``load``), so the engine, the trainer,
projects and ``gesturemap eval`` treat it like any other model.

Each output is a dict:

``kind`` and ``params``
    The model of this output: any kind in :data:`~gesturemap.models.MODEL_REGISTRY`.
``inputs``
    The input channels it sees: names (the dataset's ``input_names``, i.e. the feature
    pipeline's output channels) or 0-based indices; ``None`` (default) for all.
``target``
    What it learns. ``"label"`` (default): the takes' labels, as a classifier. An output's name
    or 0-based index: that column of the takes' target values (the values held while recording,
    Wekinator's ``outputs``); with ``"type": "classifier"`` the column holds class numbers,
    rounded frame by frame, and each run of one class in a take is one example of it —
    Wekinator's classifier outputs; otherwise (``"type": "regressor"``, the default for a column)
    the model regresses the column.
``name``
    Optional; the output's name in reports (default: the target's name).
``skip_labels``
    Optional; labels of takes that do not train this output — Wekinator's per-output example
    sets: a take recorded while this output was not recording (an imported Wekinator project
    labels such takes ``"outputs 1,3"``, see :mod:`gesturemap.interop.wekinator.project`).

At run time ``Result.output`` holds one value per output, in order — a classifier's class
number (an integer label itself, else its 1-based index), a regressor's value — which is what
``/wek/outputs`` carries. The class fields of the result (``label``, ``likelihoods``,
``progress``…) are those of the first classifier output, or of the first output if none
classifies.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import numpy as np

from ..data import class_numbers
from ..errors import GesturemapError
from .base import (
    MODEL_REGISTRY,
    BaseModel,
    Cancel,
    ProgressCallback,
    Result,
    StreamBase,
    _frozen,
    bad_param,
    frame_dim,
    register_model,
    restore,
    with_new_names,
)

__all__ = ["PerOutput", "PerOutputStream"]

_KEYS = {"kind", "params", "inputs", "target", "type", "name", "skip_labels"}


def _check_output(i: int, spec: Any) -> dict[str, Any]:
    """One output's settings, completed with defaults; raises a clear error when wrong."""
    where = f"outputs[{i}]"
    if not isinstance(spec, dict):
        raise bad_param(where, spec, "a dict with 'kind' (and 'params', 'inputs', 'target')")
    unknown = set(spec) - _KEYS
    if unknown:
        raise bad_param(where, spec, "keys among " + ", ".join(sorted(_KEYS)),
                        f" (unknown: {', '.join(sorted(unknown))})")
    kind = spec.get("kind")
    if kind not in MODEL_REGISTRY or kind == PerOutput.kind:
        known = ", ".join(k for k in sorted(MODEL_REGISTRY) if k != PerOutput.kind)
        raise bad_param(f"{where}.kind", kind, "one of " + known)
    # an output saved before one of its model's parameters was renamed: the new name
    params = with_new_names(MODEL_REGISTRY[kind], dict(spec.get("params") or {}))
    try:
        sub = MODEL_REGISTRY[kind](**params)
    except TypeError as exc:
        raise bad_param(f"{where}.params", params, f"parameters of {kind!r}", f" ({exc})") from None
    try:  # every setting, as that output's fit would check it
        sub.check_params()
    except GesturemapError as exc:
        raise GesturemapError(f"{where}.params: {exc}") from None
    inputs = spec.get("inputs")
    if inputs is not None:
        if (not isinstance(inputs, (list, tuple)) or not inputs
                or not all(isinstance(c, (str, int)) and not isinstance(c, bool)
                           for c in inputs)):
            raise bad_param(f"{where}.inputs", inputs,
                            "a non-empty list of input names or 0-based indices, or None (all)")
        inputs = list(inputs)
    target = spec.get("target", "label")
    if not isinstance(target, (str, int)) or isinstance(target, bool):
        raise bad_param(f"{where}.target", target, "'label', an output name or an index")
    kind_of = spec.get("type", "classifier" if target == "label" else "regressor")
    if kind_of not in ("classifier", "regressor"):
        raise bad_param(f"{where}.type", kind_of, "'classifier' or 'regressor'")
    if target == "label" and kind_of != "classifier":
        raise bad_param(f"{where}.type", kind_of, "'classifier' for the target 'label'")
    name = spec.get("name")
    if name is not None and not isinstance(name, str):
        raise bad_param(f"{where}.name", name, "a string")
    skip = spec.get("skip_labels") or []
    if not isinstance(skip, (list, tuple)) or not all(
            isinstance(v, (str, int)) and not isinstance(v, bool) for v in skip):
        raise bad_param(f"{where}.skip_labels", skip, "a list of take labels")
    if target == "label" and skip:
        raise bad_param(f"{where}.skip_labels", skip, "none for the target 'label'")
    return {"kind": kind, "params": params, "inputs": inputs, "target": target,
            "type": kind_of, "name": name, "skip_labels": list(skip)}


def _resolve(what: str, items: list[str | int], names: tuple[str, ...], size: int) -> list[int]:
    """Channel indices of names or indices; a clear error for one that does not exist."""
    out = []
    for c in items:
        if isinstance(c, str):
            if c not in names:
                raise GesturemapError(
                    f"{what} {c!r} is not a channel here; channels: {', '.join(names) or 'none'}")
            out.append(names.index(c))
        elif 0 <= c < size:
            out.append(int(c))
        else:
            raise GesturemapError(f"{what} index {c} is out of range: there are {size}")
    return out


@register_model
class PerOutput(BaseModel):
    """Several outputs, each with its own model and its own inputs (see the module's notes).

    Parameters
    ----------
    outputs : list of dict
        One dict per output: ``kind``, ``params``, ``inputs``, ``target``, ``type``, ``name``.

    Examples
    --------
    >>> model = gm.PerOutput([
    ...     {"kind": "knn", "inputs": ["x", "y"], "target": "label"},
    ...     {"kind": "linear", "inputs": ["x"], "target": "pitch"},
    ... ])
    """

    kind: ClassVar[str] = "per_output"

    def __init__(self, outputs: list[dict[str, Any]] | None = None) -> None:
        self.outputs = outputs if outputs is not None else [{"kind": "knn"}]
        self._check_runtime_params()

    def _check_runtime_params(self) -> None:
        if not isinstance(self.outputs, (list, tuple)) or not self.outputs:
            raise bad_param("outputs", self.outputs, "a non-empty list of output dicts")
        self._specs = [_check_output(i, s) for i, s in enumerate(self.outputs)]

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, dataset: Any, *, cancel: Cancel | None = None,
            progress: ProgressCallback | None = None) -> PerOutput:
        """Fit every output's model on its inputs and target; returns self."""
        from ..data import Dataset

        recordings = list(dataset)
        if not recordings:
            raise GesturemapError("cannot fit on an empty dataset: record some takes first.")
        in_names = tuple(getattr(dataset, "input_names", ()) or ())
        out_names = tuple(getattr(dataset, "output_names", ()) or ())
        d_in = recordings[0].inputs.shape[1]
        d_out = 0 if recordings[0].outputs is None else recordings[0].outputs.shape[1]
        models, columns = [], []
        n = len(self._specs)
        for i, spec in enumerate(self._specs):
            cols = list(range(d_in)) if spec["inputs"] is None else _resolve(
                f"outputs[{i}]: input", spec["inputs"], in_names, d_in)
            sub = Dataset([in_names[c] for c in cols] if in_names else None)
            target = None
            if spec["target"] != "label":
                if d_out == 0:
                    raise GesturemapError(
                        f"outputs[{i}] learns the output {spec['target']!r}, but the takes have "
                        "no target values: record them with output values (sliders or "
                        "/wekinator/control/outputs), or learn 'label'.")
                (target,) = _resolve(f"outputs[{i}]: target", [spec["target"]], out_names,
                                     d_out)
                sub = Dataset(sub.input_names or None,
                              None if spec["type"] == "classifier" or not out_names
                              else [out_names[target]])
            skip = set(spec["skip_labels"])
            for rec in recordings:
                if rec.label in skip:
                    continue
                x = rec.inputs[:, cols]
                if target is None:
                    sub.add(x, label=rec.label)
                elif spec["type"] == "regressor":
                    sub.add(x, label=rec.label, outputs=rec.outputs[:, [target]])
                else:  # class numbers, frame by frame: each run of one class is an example
                    classes = np.rint(rec.outputs[:, target]).astype(np.int64)
                    cuts = np.flatnonzero(np.diff(classes)) + 1
                    for run in np.split(np.arange(len(classes)), cuts):
                        sub.add(x[run], label=int(classes[run[0]]))

            def sub_progress(f: float, m: str, i: int = i) -> None:
                if progress is not None:
                    progress((i + f) / n, f"output {i + 1}/{n}: {m}")

            if not len(list(sub)):
                raise GesturemapError(
                    f"output {i + 1} ({spec['name'] or spec['target']}) has no examples: every "
                    "take skips it. Record examples for it, or remove the output.")
            model = MODEL_REGISTRY[spec["kind"]](**copy.deepcopy(spec["params"]))
            if (target is not None and spec["type"] == "classifier"
                    and "decision" not in spec["params"] and hasattr(model, "decision")):
                # class numbers change frame by frame within a take: decide on the last
                # frames (XMM's window), not on everything since the reset
                model.decision = "window"
            if hasattr(self, "n_jobs") and hasattr(model, "n_jobs"):
                model.n_jobs = self.n_jobs
            models.append(model.fit(sub, cancel=cancel, progress=sub_progress))
            columns.append(cols)
        self._set_fitted(models, columns)
        self.input_dim_ = d_in
        self.training_info_ = {"outputs": [m.training_info_ for m in models]}
        if progress is not None:
            progress(1.0, "done")
        return self

    def _set_fitted(self, models: list[BaseModel], columns: list[list[int]]) -> None:
        self.models_ = models
        self.columns_ = [np.asarray(c, dtype=np.int64) for c in columns]
        primary = next((i for i, s in enumerate(self._specs) if s["type"] == "classifier"), 0)
        self.primary_ = primary
        self.labels_ = list(models[primary].labels_)
        self.output_dim_ = len(models)

    @property
    def output_names_(self) -> list[str]:
        """Each output's name: its ``name``, else its target's."""
        return [s["name"] or str(s["target"]) for s in self._specs]

    # -- running -----------------------------------------------------------------------------
    def stream(self) -> PerOutputStream:
        self._check_fitted()
        return PerOutputStream(self)

    def _sequence_loglik(self, x: np.ndarray) -> np.ndarray:
        # the output's own model takes its columns as given (it drops any it ignores)
        p = self.primary_
        return self.models_[p].log_likelihood(x[:, self.columns_[p]])

    def predict_outputs(self, sequence: Any) -> np.ndarray:
        """(T, n_outputs): every output's value for each frame of a sequence (streamed)."""
        self._check_fitted()
        stream = self.stream()
        return np.array([stream.step(f).output for f in self._check_sequence(sequence)])

    # -- saving ------------------------------------------------------------------------------
    def _state_meta(self) -> dict[str, Any]:
        return {"columns": [c.tolist() for c in self.columns_],
                "models": [m.dump()[0] for m in self.models_]}

    def _state_arrays(self) -> dict[str, np.ndarray]:
        arrays = {}
        for i, m in enumerate(self.models_):
            for key, value in m.dump()[1].items():
                arrays[f"o{i}/{key}"] = value
        return arrays

    def _set_state_arrays(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        metas, columns = meta["models"], meta["columns"]
        if len(metas) != len(self._specs) or len(columns) != len(metas):
            raise ValueError("one saved model per output expected")
        models = []
        for i, sub_meta in enumerate(metas):
            prefix = f"o{i}/"
            sub = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
            model = restore(sub_meta, sub)
            if model.kind != self._specs[i]["kind"]:
                raise ValueError(f"output {i} holds a {model.kind}, not a {self._specs[i]['kind']}")
            cols = [int(c) for c in columns[i]]
            if not all(0 <= c < self.input_dim_ for c in cols) or len(cols) != frame_dim(model):
                raise ValueError(f"output {i}: input columns do not fit")
            models.append(model)
        labels = self.labels_
        self._set_fitted(models, columns)
        if labels != self.labels_:
            raise ValueError("labels do not match the outputs' models")


class PerOutputStream(StreamBase):
    """Steps every output's stream with its own inputs; see :class:`PerOutput`."""

    def __init__(self, model: PerOutput) -> None:
        self.model = model
        self._din = model.input_dim_
        self._streams = [m.stream() for m in model.models_]
        self._columns = model.columns_
        self._classifier = [s["type"] == "classifier" for s in model._specs]
        self._numbers = [class_numbers(m.labels_) for m in model.models_]
        self._values = np.zeros(len(self._streams))

    def reset(self) -> None:
        for s in self._streams:
            s.reset()

    def step(self, frame: Any) -> Result:
        x = self._check_frame(frame)
        values = self._values
        primary = None
        for i, stream in enumerate(self._streams):
            r = stream.step(x[self._columns[i]])
            if self._classifier[i]:
                values[i] = self._numbers[i][r.label_index]
            else:
                values[i] = r.output[0] if r.output is not None else np.nan
            if i == self.model.primary_:
                primary = r
        assert primary is not None
        return Result(
            label=primary.label, label_index=primary.label_index,
            likelihoods=primary.likelihoods, log_likelihoods=primary.log_likelihoods,
            instant_likelihoods=primary.instant_likelihoods,
            instant_normalized_likelihoods=primary.instant_normalized_likelihoods,
            progress=primary.progress, likeliest_state=primary.likeliest_state,
            exit_likelihoods=primary.exit_likelihoods, exit_ratios=primary.exit_ratios,
            output=_frozen(values),
        )
