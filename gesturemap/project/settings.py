"""A project's settings, checked whenever they are set: model, sensor, outputs, display."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..models import MODEL_REGISTRY
from ..models.base import with_new_names
from ..utils.storage import validation_error

_DEFAULT_MODEL = "hhmm"


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
    # a project saved before a parameter was renamed: its new name, written on the next save
    params = _check_jsonable("model params", with_new_names(MODEL_REGISTRY[kind], dict(params)))
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
        from ..models.spotting.core import check_settings, is_checked

        spotting = check_settings(model["spotting"])
        # a second opinion check_settings returned is plain JSON already: not written out
        # and read back again (megabytes for a window detector)
        _check_jsonable("model spotting", {k: None if is_checked(v) else v
                                           for k, v in spotting.items()})
        out["spotting"] = spotting
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


def _positive_int(name: str, value: Any) -> int:
    """``value`` as a positive int, or a validation error naming ``name``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer) or value < 1:
        raise validation_error(name, value, "an integer >= 1")
    return int(value)

