"""A model behind its own feature stages (deltas, standardisation): one model to save and run.

:func:`gesturemap.auto` tries candidates with delta features and standardisation; the winner
must run in the engine like any other model, so the stages travel with it. The stages are the
feature pipeline's own (:class:`~gesturemap.features.Derivative`,
:class:`~gesturemap.features.Standardize`), fitted on the training takes, and a stream pushes
every frame through a :class:`~gesturemap.features.PipelineState` before the inner model's
stream: the same code as a project's pipeline, so a batch ``predict`` and a stream agree.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..errors import GesturemapError
from .base import (
    MODEL_REGISTRY,
    BaseModel,
    Cancel,
    ProgressCallback,
    Result,
    StreamBase,
    frame_dim,
    jsonable_params,
    params_from_json,
    register_model,
    restore,
)


def _deltas(x: np.ndarray) -> np.ndarray:
    """``[x, x[n] - x[n-1]]`` (0 at the first frame): what ``Derivative(append=True)`` gives
    at one time unit per frame, for a whole sequence at once."""
    d = np.zeros_like(x)
    d[1:] = x[1:] - x[:-1]
    return np.hstack([x, d])


def _pipeline(deltas: bool, standardize: bool, takes: list[np.ndarray]) -> Any:
    """The fitted stages: the standardisation learned on the takes' (delta) features."""
    from ..features import Derivative, Pipeline, Standardize

    stages: list[Any] = []
    if deltas:
        stages.append(Derivative(order=1, append=True))
    if standardize:
        stages.append(Standardize().fit([_deltas(x) if deltas else x for x in takes]))
    # one time unit per frame: a delta is the change from the previous frame
    return Pipeline(stages, rate_hz=1.0)


@register_model
class Featured(BaseModel):
    """``model`` fitted on (and run behind) delta features and/or standardised inputs.

    Parameters
    ----------
    model : ``{"model": kind, "params": {...}}``, the inner model's settings (JSON-able, as a
        project stores model settings).
    deltas : append every input's first difference (frame to frame) to the inputs.
    standardize : then scale every feature to zero mean and unit variance (statistics of the
        training takes).
    """

    kind = "featured"

    def __init__(self, model: dict | None = None, *, deltas: bool = True,
                 standardize: bool = True) -> None:
        self.model = model
        self.deltas = deltas
        self.standardize = standardize

    def _inner(self) -> BaseModel:
        spec = self.model or {"model": "hhmm", "params": {}}
        cls = MODEL_REGISTRY.get(spec.get("model")) if isinstance(spec, dict) else None
        if cls is None or cls is Featured:
            raise GesturemapError(
                f"model={self.model!r}: expected {{'model': kind, 'params': {{...}}}} with a "
                f"kind among {', '.join(k for k in sorted(MODEL_REGISTRY) if k != 'featured')}.")
        return cls(**params_from_json(spec.get("params") or {}))

    @classmethod
    def of(cls, model: BaseModel, *, deltas: bool = True, standardize: bool = True) -> Featured:
        """Wrap an (unfitted) model's settings."""
        return cls({"model": model.kind, "params": jsonable_params(model.get_params())},
                   deltas=deltas, standardize=standardize)

    def _transform(self, x: np.ndarray) -> np.ndarray:
        """A whole sequence's features, vectorised: equal to the stages run frame by frame
        (``pipeline_.transform_sequence``, what a stream does; a test checks it)."""
        f = _deltas(x) if self.deltas else np.array(x, dtype=np.float64)
        for stage in self.pipeline_.stages:
            if stage.kind == "standardize":
                f -= np.asarray(stage.mean)
                f /= np.asarray(stage.std)
        return np.ascontiguousarray(f)

    def fit(self, dataset: Any, *, progress: ProgressCallback | None = None,
            cancel: Cancel | None = None) -> Featured:
        """Fit the feature stages on the takes, then the inner model on their features."""
        from ..data import Dataset

        start = time.perf_counter()
        inner = self._inner()
        recs = list(dataset)
        if not recs:
            raise GesturemapError("fit() got an empty dataset: record at least one take first.")
        self.pipeline_ = _pipeline(bool(self.deltas), bool(self.standardize),
                                   [np.asarray(r.inputs, dtype=np.float64) for r in recs])
        feats = Dataset()
        for r in recs:
            feats.add(self._transform(np.asarray(r.inputs, dtype=np.float64)), label=r.label,
                      outputs=r.outputs)
        kwargs: dict[str, Any] = {}
        if progress is not None:
            kwargs["progress"] = progress
        if cancel is not None:
            kwargs["cancel"] = cancel
        inner.fit(feats, **kwargs)
        self.inner_ = inner
        self.labels_ = list(inner.labels_)
        self.input_dim_ = int(recs[0].inputs.shape[1])
        self.output_dim_ = int(inner.output_dim_)
        self.training_info_ = {"seconds": time.perf_counter() - start,
                               "inner": inner.training_info_}
        return self

    def _sequence_loglik(self, x: np.ndarray) -> np.ndarray:
        # the inner model takes every feature (it drops any it ignores)
        return self.inner_.log_likelihood(self._transform(x))

    def predict(self, sequences: Any) -> list[Any]:
        """The inner model's decision on each sequence's features (its own ``predict``)."""
        self._check_fitted()
        return self.inner_.predict([self._transform(self._check_sequence(s))
                                    for s in self._sequence_list(sequences)])

    def stream(self) -> FeaturedStream:
        self._check_fitted()
        return FeaturedStream(self)

    # -- saving ----------------------------------------------------------------------------
    def _state_meta(self) -> dict[str, Any]:
        meta, _ = self.inner_.dump()
        return {"pipeline": self.pipeline_.to_dict(), "inner": meta}

    def _state_arrays(self) -> dict[str, np.ndarray]:
        _, arrays = self.inner_.dump()
        return {f"inner_{k}": v for k, v in arrays.items()}

    def _set_state_arrays(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        from ..features import Pipeline

        inner_meta = meta["inner"]
        if not isinstance(inner_meta, dict) or inner_meta.get("model") == self.kind:
            raise ValueError("the inner model is missing or nested")
        inner = restore(inner_meta, {k[len("inner_"):]: v for k, v in arrays.items()
                                     if k.startswith("inner_")})
        pipe = Pipeline.from_dict(meta["pipeline"])
        if pipe.output_dim(self.input_dim_) != frame_dim(inner) or not pipe.emits_one:
            raise ValueError("the feature stages do not fit the inner model")
        self.pipeline_, self.inner_ = pipe, inner


class FeaturedStream(StreamBase):
    """A pipeline state feeding the inner model's stream, frame by frame."""

    def __init__(self, model: Featured) -> None:
        self.model = model
        self._din = model.input_dim_
        self._state = model.pipeline_.start(model.input_dim_)
        self._inner = model.inner_.stream()
        self.labels = list(model.labels_)

    def reset(self) -> None:
        """Forget the frames seen so far (the features' history and the inner stream's)."""
        self._state.reset()
        self._inner.reset()

    def step(self, frame: Any) -> Result:
        x = self._check_frame(frame)
        return self._inner.step(self._state.push(x)[0])
