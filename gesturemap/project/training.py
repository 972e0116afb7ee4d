"""A project's training set, derived from its takes: the pipeline fitted on them, every take
through it (outputs aligned), and a model trained on the result."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

from ..data import Dataset
from ..errors import GesturemapError
from ..features import Pipeline
from ..models import MODEL_REGISTRY, BaseModel
from ..models.base import ParamGroup
from ..utils.frame_budget import note_frame_cost
from .takes import Label, Take


def left_out_note(label: Any) -> str:
    """The end of the warning that a class was left out of training (the engine looks for
    it, so as not to say it twice)."""
    return f"Class {label!r} was left out of training until then."

class ProjectTraining:
    """Dataset derivation and training of :class:`~gesturemap.project.Project` (mixed in)."""

    model: dict
    pipeline: Pipeline
    trained: BaseModel | None
    _takes: list[Take]
    _raw: Dataset
    _input_dim: int | None
    _input_names: tuple[str, ...] | None
    _output_names: tuple[str, ...] | None

    def _require_takes(self, what: str) -> None:
        """Raise unless there are takes; ``what`` says what needs them, in the words of the
        person who asked (a command, the window), never a function's name."""
        if not self._takes:
            raise GesturemapError(f"the project has no takes yet, and {what}: record some "
                                  "first.")

    def fit_pipeline(self) -> Pipeline:
        """Fit the pipeline's learning stages (e.g. Standardize) on the takes; returns it.

        Call before :meth:`dataset` whenever the takes changed; :meth:`train` does.
        """
        self._require_takes("the feature pipeline learns from them")
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
        lengths: dict[Any, list[int]] = {}
        for take in self._takes:
            lengths.setdefault(take.label, []).append(self._feature_frames(take.length,
                                                                           take.times))
        left_out = self._untrainable(lengths)
        for take in self._takes:
            if take.label in left_out:
                continue
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
        if not self.pipeline.emits_one:  # a model step per frame at this rate (frame budget)
            dataset.frame_rate_hz = self.pipeline.output_rate_hz
        return dataset

    def _untrainable(self, lengths: dict[Any, list[int]]) -> set[Any]:
        """The classes (of takes of ``lengths`` feature frames, by label) the model's settings
        cannot train on, each said in a warning: the training set leaves them out, so that
        one bad class (a take saved before such takes were refused) does not stop every
        retraining. None are left out when none would be left."""
        try:
            model = self.new_model().check_params()
        except GesturemapError:  # settings fit refuses: it says so itself
            return set()
        why = {}
        for label, frames in lengths.items():
            try:
                model.check_class_lengths(label, frames)
            except GesturemapError as error:
                why[label] = str(error)
        if len(why) == len(lengths):
            return set()  # nothing to train on: fit says why
        for label, text in why.items():
            warnings.warn(f"{text} {left_out_note(label)}", stacklevel=3)
        return set(why)

    def check_take(self, inputs: Any, label: Label, times: Any = None) -> None:
        """Refuse a take the model could not train on before it is added: ``label``'s takes
        with this one (of ``inputs``, at ``times``) would still be too short for the model's
        settings (an HHMM's states, a GMM's Gaussians, as the model sees them after the
        feature pipeline).

        Raises
        ------
        GesturemapError
            Saying what the class lacks and what to change (record longer, lower a
            setting); nothing is added.
        """
        try:
            model = self.new_model().check_params()
        except GesturemapError:  # settings fit refuses: training says so itself
            return
        lengths = [self._feature_frames(t.length, t.times) for t in self._takes
                   if t.label == label]
        lengths.append(self._feature_frames(len(inputs), times))
        model.check_class_lengths(label, lengths)

    def _feature_frames(self, frames: int, times: Any) -> int:
        """How many frames the pipeline makes of a take of ``frames`` frames at ``times``: as
        many, unless it resamples (then about its duration times the new rate)."""
        if self.pipeline.emits_one or frames == 0:
            return frames
        rate = [s.rate_hz for s in self.pipeline.stages if not s.emits_one][-1]
        if times is not None and len(times) == frames:
            duration = float(times[-1] - times[0])
        else:
            duration = (frames - 1) / (self.pipeline.rate_hz or rate)
        return int(duration * rate) + 1

    def _take_times(self, take: Take) -> np.ndarray:
        """A take's frame times: its own, else the pipeline's default (1 / rate_hz apart)."""
        if take.times is not None:
            return take.times
        period = 1.0 if self.pipeline.rate_hz is None else 1.0 / self.pipeline.rate_hz
        return np.arange(take.length) * period

    def new_model(self) -> BaseModel:
        """An untrained model built from :attr:`model`'s settings.

        A project that spots gestures (``"spotting"`` in its model settings) trains its HHMM or
        GMM without delta features unless its parameters ask for them: on HAPT, deltas cost the
        spotter accuracy, also when it scores them (docs/spotting.md).
        """
        return MODEL_REGISTRY[self.model["kind"]](**effective_params(self.model))

    def train(self) -> BaseModel:
        """Fit the pipeline, then a new model on :meth:`dataset`; sets and returns :attr:`trained`.

        This runs in the caller's thread; the engine trains off the real-time path instead.
        """
        self._require_takes("a model learns from them")
        self.fit_pipeline()
        dataset = self.dataset()
        model = self.new_model().fit(dataset)
        note_frame_cost(model, dataset)  # a model slower than the frames come is warned about
        self.trained = model
        self.check_verifier(model)
        return model

    def apply_runtime_settings(self, model: Any = None) -> list[str]:
        """Give the trained model (or ``model``) the run-time parameters of :attr:`model`'s
        settings that it does not have yet (``estimate_speed``, ``decision``,
        ``likelihood_window``...: those that need no retraining), so a setting changed after
        the last training applies to the next stream. Returns the names changed. A model of
        another family (a search's winner) gets those its family has too:
        :func:`carry_runtime_settings`, which the search gives its candidates."""
        model = self.trained if model is None else model
        return carry_runtime_settings(self.model, model)

    #: why the spotting verifier was last removed from the settings (it no longer fitted a
    #: retrained model), None when it was not; not saved (the window and ``stats()`` show it)
    verifier_removed: str | None = None

    def check_verifier(self, model: Any) -> str | None:
        """Keep the spotting verifier (``model["spotting"]["verifier"]``) while it fits
        ``model`` (its gestures and input size); else remove it from the settings, log a
        warning and set :attr:`verifier_removed`. Returns why it was removed, or None. Call it
        whenever a new model replaces :attr:`trained` (training, retraining)."""
        if model is None:
            return None
        self._check_detector(model)
        self.verifier_removed = None  # said of the last retraining only
        spotting = self.model.get("spotting")
        if not isinstance(spotting, dict) or spotting.get("verifier") is None:
            return None
        wrong = verifier_mismatch(model, spotting)
        if wrong is None:
            return None
        summary = spotting["verifier"].get("summary") if isinstance(
            spotting["verifier"], dict) else None
        flag = ("--relabeler" if isinstance(summary, dict) and summary.get("kind") == "relabeller"
                else "--verifier")
        self.model = {**self.model, "spotting": {k: v for k, v in spotting.items()
                                                 if k != "verifier"}}
        self.verifier_removed = (f"{wrong} (retrained); train it again (gesturemap train DIR "
                                 f"{flag} RECORDINGS{_IN_THE_WINDOW if flag == '--relabeler' else ''})")
        logging.getLogger("gesturemap.spotting").warning(
            "the spotting verifier was removed from the settings: %s", self.verifier_removed)
        return self.verifier_removed

    #: why the window detector was last removed from the settings, as :attr:`verifier_removed`
    detector_removed: str | None = None

    def _check_detector(self, model: Any) -> None:
        """Keep the window detector (``model["spotting"]["detector"]``) while it fits
        ``model`` (its gestures and frame size); else remove it from the settings, log a
        warning and set :attr:`detector_removed` (a detector left in would only be switched
        off each time a stream is built, while the window went on showing it)."""
        self.detector_removed = None
        spotting = self.model.get("spotting")
        if not isinstance(spotting, dict) or spotting.get("detector") is None:
            return
        wrong = detector_mismatch(model, spotting)
        if wrong is None:
            return
        self.model = {**self.model, "spotting": {k: v for k, v in spotting.items()
                                                 if k != "detector"}}
        self.detector_removed = (f"{wrong} (retrained); train it again (gesturemap train DIR "
                                 f"--detector RECORDINGS{_IN_THE_WINDOW})")
        logging.getLogger("gesturemap.spotting").warning(
            "the window detector was removed from the spotting settings: %s",
            self.detector_removed)


#: Where the window trains the relabeller and the detector again, said when one is removed.
_IN_THE_WINDOW = ", or Train second opinions in the window's Rehearsal tab"


def verifier_mismatch(model: Any, spotting: dict[str, Any]) -> str | None:
    """Why the verifier (or relabeller) of the spotting settings ``spotting`` does not fit
    ``model`` (its gestures, its frames, the model family it read the scores of), or None."""
    from ..models.spotting.verifier import SpotVerifier

    try:
        verifier = SpotVerifier.from_dict(spotting["verifier"])
        wrong = verifier.mismatch(*_read_by(model, spotting))
        kind = (verifier.summary or {}).get("model")
        if wrong is None and kind is not None and kind != getattr(model, "kind", kind):
            # its features hold the spotter's scores, which another family scales otherwise
            wrong = f"trained over a {kind} model, the project's model is now {model.kind}"
    except GesturemapError as exc:
        wrong = str(exc)
    return wrong


def detector_mismatch(model: Any, spotting: dict[str, Any]) -> str | None:
    """Why the window detector of the spotting settings ``spotting`` does not fit ``model``
    (its gestures, its frame size), or None."""
    from ..models.spotting.detector import WindowDetector

    try:
        return WindowDetector.from_dict(spotting["detector"]).mismatch(*_read_by(model, spotting))
    except GesturemapError as exc:
        return str(exc)


def _read_by(model: Any, spotting: dict[str, Any]) -> tuple[list[Any], int | None]:
    """What a spotter's second opinion (verifier, detector) must fit in ``model``: its gesture
    labels (the null class left out) and the frames as given, ignored channels too
    (``frame_dim``; None for a model without an input size)."""
    from ..models.base import frame_dim
    from ..models.spotting.verifier import NULL

    null = spotting.get("null_label", NULL)
    gestures = [lb for lb in getattr(model, "labels_", None) or [] if lb != null]
    return gestures, frame_dim(model) if hasattr(model, "input_dim_") else None


def effective_params(settings: dict[str, Any]) -> dict[str, Any]:
    """The parameters a project's model settings train with: its ``params``, and ``deltas:
    false`` for an HHMM or GMM that spots gestures unless they say otherwise (what the window
    shows, too)."""
    params = dict(settings.get("params") or {})
    if settings.get("spotting") is not None and settings.get("kind") in ("hhmm", "gmm"):
        params.setdefault("deltas", False)
    return params


def carry_runtime_settings(settings: dict[str, Any], model: Any) -> list[str]:
    """Give ``model`` the run-time parameters a project's model ``settings`` name: those of the
    settings' ``params`` that are run-time parameters (``runtime_params``: ``decision``,
    ``likelihood_window``..., no retraining needed) of the settings' family and of the model's
    family alike. One rule for every model the project runs: its own kind, a search's winner
    of another family (a DTW keeps an HHMM project's ``decision="decaying"``; an HHMM-only
    ``estimate_speed`` does not reach it), a wrapped model (``Featured``: its inner model's).
    A value the model's family refuses (DTW has no ``"window"`` decision) leaves its own; a
    parameter the settings do not name keeps the model's value. The background search gives
    it to every candidate, and a project applies it when it loads its model, so the same saved
    model runs the same however it was loaded. Returns the names changed."""
    if model is None:
        return []
    kind, params = settings.get("kind"), effective_params(settings)
    if kind == "featured" and isinstance(params.get("model"), dict):  # its inner model's
        kind, params = params["model"].get("model"), dict(params["model"].get("params") or {})
    family = MODEL_REGISTRY.get(kind)
    runtime = getattr(family, "runtime_params", ())
    wanted = {name: value for name, value in _with_fields(params, runtime).items()
              if name in runtime}
    if getattr(model, "kind", None) != "featured":
        return _carry(model, wanted)
    from ..models.search import model_from_description

    spec = model.model or {"model": "hhmm", "params": {}}
    inner = getattr(model, "inner_", None) or model_from_description(spec)
    changed = _carry(inner, wanted)
    if changed:  # its settings (saved, and what a refit builds) say so too
        now = inner.get_params(deep=True)
        params = dict(spec.get("params") or {})
        for name in changed:
            group, sep, field = name.partition("__")
            if sep:  # a group's field: into the group's dict of fields
                given = params.get(group)
                given = given.get_params() if isinstance(given, ParamGroup) else given
                params[group] = {**(given or {}), field: now[name]}
            else:
                params[name] = now[name]
        model.model = {**spec, "params": params}
    return changed


def _with_fields(params: dict[str, Any], runtime: tuple[str, ...]) -> dict[str, Any]:
    """``params`` and, for a parameter group (a group, or the dict of fields a project
    holds) with run-time fields, each field by its nested name (``alignment__max_step``):
    a model's run-time settings may be fields of a group."""
    out = dict(params)
    for name, value in params.items():
        if isinstance(value, ParamGroup):
            value = value.get_params()
        if isinstance(value, dict) and any(r.startswith(f"{name}__") for r in runtime):
            out.update({f"{name}__{k}": v for k, v in value.items()})
    return out


def _carry(model: Any, wanted: dict[str, Any]) -> list[str]:
    """Set each of ``wanted`` that is one of ``model``'s run-time parameters and that its
    family accepts; the names changed."""
    current = model.get_params(deep=True)
    changed = []
    for name, value in wanted.items():
        if name not in getattr(model, "runtime_params", ()) or current.get(name) == value:
            continue
        try:
            model.set_params(**{name: value})
        except GesturemapError:  # not a value of this family: it keeps its own
            model.set_params(**{name: current[name]})
            continue
        changed.append(name)
    return sorted(changed)


def _interpolate(values: np.ndarray, times: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Each column of ``values`` (T, D) at ``times`` (T,), interpolated at ``at`` (K,)."""
    return np.column_stack([np.interp(at, times, column) for column in values.T])

