"""A project's settings, checked whenever they are set: model, sensor, outputs, display,
Wekinator's per-output switches."""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import GesturemapError
from ..models import MODEL_REGISTRY
from ..models.base import with_new_names
from ..outputs.midi import MIDIOutputSettings
from ..outputs.osc import OSCOutputSettings
from ..sources.settings import check_sensor_settings
from ..utils.storage import validation_error
from ..utils.validation import check_float, check_int, check_mapping, check_number

_DEFAULT_MODEL = "hhmm"
log = logging.getLogger("gesturemap.project")


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


def _settings(name: str, value: Mapping[str, Any] | None,
              check: Callable[[dict[str, Any]], Any] | None = None) -> dict[str, Any] | None:
    """One block of settings (``sensor``, ``outputs``...) as a JSON-compatible dict, or None;
    ``check`` then reads its entries as their user will (the source, the outputs, the synth),
    so that a wrong type or a value out of range is refused here, naming the entry, when the
    block is set or its file loaded, not by a traceback when the engine starts. The block is
    kept as given: checking never rewrites it."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise validation_error(name, value, "a dict of settings, or None")
    settings = _check_jsonable(name, dict(value))
    if check is not None:
        check(settings)
    return settings


def _sensor_settings(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The ``sensor`` block, checked as :func:`~gesturemap.sources.build_sensor_source` reads
    it."""
    return _settings("sensor", value, check_sensor_settings)


def _outputs_settings(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The ``outputs`` block, checked as its readers read it: OSC (host, port, addresses,
    scales...), ``midi`` and ``synth`` (its mapping and ``audio``)."""
    return _settings("outputs", value, _check_outputs)


def _check_outputs(outputs: dict[str, Any]) -> None:
    OSCOutputSettings.from_dict(outputs)
    if outputs.get("midi") is not None:
        MIDIOutputSettings.from_dict(outputs["midi"])
    if outputs.get("synth") is not None:
        # imported only for a project with a synth mapping: the synth compiles (or loads)
        # its audio kernels at import, a third of a second `gesturemap train` need not spend
        from ..synth import AudioSettings, SynthMapping

        SynthMapping.from_dict(outputs["synth"])  # a dict after this
        AudioSettings.from_dict(outputs["synth"].get("audio"))


_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def _display_settings(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Check the window's display settings: ``class_colors`` ({class name: "#rrggbb"}) and
    the ``rejection_threshold`` (0..1) of files written before the monitor used the outputs'
    ``reject_below`` (see :func:`adopt_rejection_threshold`); other keys are kept as they
    are (JSON-compatible)."""
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


def adopt_rejection_threshold(outputs: dict[str, Any] | None, threshold: float,
                              where: str = "outputs") -> dict[str, Any] | None:
    """``outputs`` with an older file's ``display.rejection_threshold`` in force.

    The window's monitor once had a threshold of its own, apart from ``outputs.reject_below``
    (what /wek/outputs, MIDI and the synth follow); now both are ``reject_below``. A
    threshold the monitor used becomes ``reject_below`` where that was off; where both were
    set and differ, ``reject_below`` stays (it is what the audience heard: OSC, MIDI, the
    synth) and the monitor's value is said in the log, naming both.

    Parameters
    ----------
    outputs : dict or None
        The output settings (the project's, or a scene's).
    threshold : float
        The display threshold (0..1; 0: none was set).
    where : str
        The settings' name in the log (``outputs``, ``scene 'verse' outputs``).

    Returns
    -------
    dict or None
        ``outputs`` itself when nothing changes, else a new dict.
    """
    current = float((outputs or {}).get("reject_below") or 0.0)
    if threshold <= 0.0 or threshold == current:
        return outputs
    if current > 0.0:
        log.warning("the monitor's rejection threshold (%.2f, display.rejection_threshold) "
                    "differed from %s.reject_below (%.2f, what OSC, MIDI and the synth "
                    "followed): the monitor now shows %.2f too", threshold, where, current,
                    current)
        return outputs
    return {**(outputs or {}), "reject_below": float(threshold)}


def renumbered(outputs: dict[str, Any] | None, old: Any, new: Any) -> dict[str, Any] | None:
    """``outputs`` with class ``old``'s Wekinator number (``class_numbers``) given to ``new``
    (a class renamed keeps the number a patch hears it as), or ``outputs`` itself when it
    numbers no class ``old``."""
    numbers = (outputs or {}).get("class_numbers") or {}
    if str(old) not in numbers:
        return outputs
    numbers = {(str(new) if name == str(old) else name): n for name, n in numbers.items()
               if name != str(new)}  # a number kept for a class once named ``new`` is free
    return {**(outputs or {}), "class_numbers": numbers}


#: Spotting settings given per class, ``{label: value}`` (a number for every class is kept).
_PER_CLASS_SPOTTING = ("thresholds", "min_stay", "min_stays", "costs")
#: Synth route sources that name a class (``"likelihood:CLASS"``...).
_CLASS_SOURCES = ("likelihood", "progress", "speed", "scale")


def _renamed_keys(value: Any, old: Any, new: Any) -> Any:
    """A per-class dict ``{label: ...}`` with key ``old`` called ``new``; anything else as it
    is."""
    if not isinstance(value, dict) or not any(k == old or k == str(old) for k in value):
        return value
    return {(new if k == old else str(new) if k == str(old) else k): v
            for k, v in value.items()}


def _renamed_names(value: Any, old: Any, new: Any) -> Any:
    """A list of class names with ``old`` called ``new``; anything else as it is."""
    if not isinstance(value, list):
        return value
    return [str(new) if v == str(old) else new if v == old else v for v in value]


def renamed_class_settings(model: dict[str, Any] | None, outputs: dict[str, Any] | None,
                           old: Any, new: Any) -> tuple[Any, Any]:
    """``(model, outputs)`` settings (a project's, or a scene's) with every setting that names
    class ``old`` naming ``new``: the model's per-class parameters (``class_params``), the
    spotting thresholds, minimum stays and error costs, the second opinions' class lists,
    and the synth mapping's one-shots and routes (``likelihood:CLASS``...). Each is looked up
    by the model's labels, so a rename that left one behind would drop it silently at the
    next training: a costly class fired freely, a one-shot never played again. The class's
    Wekinator number is :func:`renumbered`'s. Settings that name no ``old`` come back equal
    to those given."""
    if isinstance(model, dict):
        params = model.get("params")
        if isinstance(params, dict) and isinstance(params.get("class_params"), dict):
            model = {**model, "params": {
                **params, "class_params": _renamed_keys(params["class_params"], old, new)}}
        spotting = model.get("spotting")
        if isinstance(spotting, dict):
            renamed = {k: _renamed_keys(v, old, new) if k in _PER_CLASS_SPOTTING else v
                       for k, v in spotting.items()}
            for key in ("verifier", "detector"):
                second = spotting.get(key)
                if isinstance(second, dict):
                    renamed[key] = {**second, **{k: _renamed_names(second[k], old, new)
                                                 for k in ("classes", "labels") if k in second}}
            model = {**model, "spotting": renamed}
    synth = (outputs or {}).get("synth")
    if isinstance(synth, dict):
        def source(route: Any) -> Any:
            if not isinstance(route, dict) or not isinstance(route.get("source"), str):
                return route
            kind, _, name = route["source"].partition(":")
            if kind in _CLASS_SOURCES and name == str(old):
                return {**route, "source": f"{kind}:{new}"}
            return route

        synth = dict(synth)
        if "oneshots" in synth:
            synth["oneshots"] = _renamed_keys(synth["oneshots"], old, new)
        if isinstance(synth.get("routes"), list):
            synth["routes"] = [source(r) for r in synth["routes"]]
        outputs = {**(outputs or {}), "synth": synth}
    return model, outputs


def _switches_settings(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Check Wekinator's per-output switches as a project keeps them (Wekinator saves each
    output's run and record switches with its project): ``held`` ({output number from 1:
    the value it holds}, from ``disableModelRunning``) and ``recording_off`` (output numbers,
    from ``disableModelRecording``). None when every output is on."""
    settings = _settings("switches", value)
    if settings is None:
        return None
    held = settings.get("held") or {}
    if not isinstance(held, dict) or not all(
            _output_number(k) and isinstance(v, int | float) and not isinstance(v, bool)
            and math.isfinite(v) for k, v in held.items()):
        raise validation_error("switches.held", held,
                               'a dict {output number from 1, as "2": the finite value it holds}')
    off = settings.get("recording_off") or []
    if not isinstance(off, list) or not all(_output_number(n) for n in off):
        raise validation_error("switches.recording_off", off, "a list of output numbers from 1")
    unknown = set(settings) - {"held", "recording_off"}
    if unknown:
        raise validation_error("switches", sorted(unknown)[0], "held or recording_off")
    if not held and not off:
        return None
    return {"held": {str(k): float(v) for k, v in held.items()},
            "recording_off": sorted({int(n) for n in off})}


def _output_number(value: Any) -> bool:
    """Whether ``value`` is an output's number from 1 (an int, or a str of one)."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


#: A new project's model follows the performer over a stream nobody resets (Wekinator's
#: protocol), and gives the batch decision on a stream reset at each gesture
#: (docs/wekinator.md): the temporal models decide with ``"following"``; the instantaneous
#: ones on the current frame, as Wekinator does; kNN looks at the nearest example only,
#: Wekinator's k.
STAGE_PARAMS: dict[str, dict[str, Any]] = {
    "hhmm": {"decision": "following"},
    "dtw": {"decision": "following"},
    "knn": {"k": 1, "decision": "window", "likelihood_window": 1},
}
#: ... the instantaneous models' (every other kind with a ``decision``): the current frame.
PER_FRAME = {"decision": "window", "likelihood_window": 1}


def stage_model(model: Any = None) -> dict[str, Any]:
    """The model settings a new project starts with (``gesturemap new``, the window's new
    project, an import that names no decision): ``model`` (a kind or settings) with the stage
    defaults of :data:`STAGE_PARAMS` for the parameters it does not set.

    Parameters
    ----------
    model : str or dict, optional
        A kind (``"hhmm"``) or settings ``{"kind": ..., "params": {...}}``; default the HHMM.

    Returns
    -------
    dict
        ``{"kind": ..., "params": {...}}`` (and the settings' other keys, unchanged).

    Examples
    --------
    >>> stage_model("knn")["params"]
    {'k': 1, 'decision': 'window', 'likelihood_window': 1}
    >>> stage_model({"kind": "hhmm", "params": {"states": 5}})["params"]
    {'decision': 'following', 'states': 5}
    """
    settings = _model_settings(model)
    kind = settings["kind"]
    stage = STAGE_PARAMS.get(kind)
    if stage is None:
        known = MODEL_REGISTRY[kind]._param_names()
        stage = PER_FRAME if "decision" in known and "likelihood_window" in known else {}
    return {**settings, "params": {**stage, **settings["params"]}}


def _model_settings(model: Any) -> dict[str, Any]:
    """Normalise model settings to ``{"kind": str, "params": dict}``; check the kind exists."""
    if model is None:
        model = {"kind": _DEFAULT_MODEL, "params": {}}
    elif isinstance(model, str):
        model = {"kind": model, "params": {}}
    if not isinstance(model, Mapping) or set(model) - {"kind", "params", "spotting",
                                                       *_EXTRA_KEYS}:
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
    # a project saved before a parameter was renamed: its new name, written on the next save
    params = _check_jsonable("model params", with_new_names(MODEL_REGISTRY[kind], dict(params)))
    try:
        model_ = MODEL_REGISTRY[kind](**params)
    except TypeError:
        known = MODEL_REGISTRY[kind]._param_names()
        raise validation_error(
            "model params",
            sorted(params),
            f"parameters of {kind!r} among {', '.join(known)}",
        ) from None
    # each value checked as training would check it: a hand-edited "gaussians": "abc" is
    # refused as the project opens, not at the first retrain on stage
    try:
        model_.check_params()
    except GesturemapError as error:  # named as the file holds it: model.params.gaussians
        text = str(error)
        name = text.split(":", 1)[0]
        # a class's override is named as class_params['circle'].states
        where = (f"model.params.{text}" if name.split("[", 1)[0] in params
                 else f"model params: {text}")
        raise type(error)(where) from None
    out = {"kind": kind, "params": params}
    if model.get("spotting") is not None:
        from ..models.spotting.core import check_settings, is_checked

        spotting = check_settings(model["spotting"])
        # a second opinion check_settings returned is plain JSON already: not written out
        # and read back again (megabytes for a window detector)
        _check_jsonable("model spotting", {k: None if is_checked(v) else v
                                           for k, v in spotting.items()})
        out["spotting"] = spotting
    for key, check in _EXTRA_KEYS.items():  # the background search, the onset reset (engine)
        if key in model and model[key] not in (None, False):
            value = model[key]
            if value is not True and not isinstance(value, Mapping):
                raise validation_error(f"model {key}", value, "true, false or a dict of settings")
            check(value)
            out[key] = True if value is True else _check_jsonable(f"model {key}", dict(value))
    return out


#: The background search's settings when a project's model settings say ``"auto": true``:
#: seconds it may take, and how much better (cross-validated score) its winner must be.
DEFAULT_SEARCH = {"budget_s": 20.0, "margin": 0.02}


def search_settings(value: Any) -> dict[str, float] | None:
    """The model settings' ``"auto"`` read: None (no search: absent, false or ``{}``), or
    ``budget_s`` and ``margin``, the defaults (:data:`DEFAULT_SEARCH`) for those not given.

    Raises
    ------
    GesturemapError
        For anything but true, false or a dict of those two numbers (budget_s > 0,
        margin >= 0).
    """
    if not value:
        return None
    out = dict(DEFAULT_SEARCH)
    if value is True:
        return out
    given = check_mapping("model.auto", value, DEFAULT_SEARCH, "search settings")
    if "budget_s" in given:
        out["budget_s"] = check_float("model.auto.budget_s", given["budget_s"], strict=True,
                                      hint="Seconds the search may take, e.g. 20.")
    if "margin" in given:
        out["margin"] = check_float("model.auto.margin", given["margin"])
    return out


#: The onset detector's parameters (:class:`gesturemap.live.onset.OnsetDetector`).
ONSET_KEYS = ("threshold", "quiet_frames", "smoothing")


def onset_settings(value: Any) -> dict[str, Any] | None:
    """The model settings' ``"onset"`` read: None (no onset reset: absent, false or ``{}``),
    or the onset detector's keyword arguments (``{}`` for true: its defaults).

    Raises
    ------
    GesturemapError
        For anything but true, false or a dict of ``threshold`` (a number > 0, or null:
        learned from the takes), ``quiet_frames`` (an integer >= 1) and ``smoothing``
        (in (0, 1]).
    """
    if not value:
        return None
    if value is True:
        return {}
    given = check_mapping("model.onset", value, ONSET_KEYS, "onset settings")
    if given.get("threshold") is not None:
        check_float("model.onset.threshold", given["threshold"], strict=True,
                    hint="Leave it out to learn it from the takes.")
    if "quiet_frames" in given:
        check_int("model.onset.quiet_frames", given["quiet_frames"], 1)
    if "smoothing" in given:
        try:
            smoothing = check_number("model.onset.smoothing", given["smoothing"], minimum=0.0,
                                     maximum=1.0)
        except GesturemapError:
            smoothing = 0.0
        if smoothing == 0:  # 0 would never move: said with the bound as it is meant
            raise validation_error("model.onset.smoothing", given["smoothing"],
                                   "a number in (0, 1]", "The newest frame's weight in the "
                                   "moving average, e.g. 0.3.")
    return given


#: Optional model settings and how each is read: ``auto`` (search family and settings in the
#: background after each retrain) and ``onset`` (reset the model stream when motion starts).
_EXTRA_KEYS = {"auto": search_settings, "onset": onset_settings}


def _positive_int(name: str, value: Any) -> int:
    """``value`` as a positive int, or a validation error naming ``name``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer) or value < 1:
        raise validation_error(name, value, "an integer >= 1")
    return int(value)

