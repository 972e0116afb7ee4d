"""Import models trained by IRCAM's XMM (its JSON files) as gesturemap models.

Only data is read: numbers and names from the JSON, validated, never code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import FormatError, GesturemapError
from ...models.base import BaseModel, restore

_COVARIANCE = {0: "full", 1: "diagonal"}
_TRANSITION = {0: "ergodic", 1: "left-right"}
_ESTIMATOR = {0: "full", 1: "windowed", 2: "likeliest"}
_MULTICLASS = {0: "likeliest", 1: "mixture"}
_REGULARIZATION = ("relative_regularization", "absolute_regularization")


def _pick(table: dict[int, str], value: Any, what: str) -> str:
    if value not in table:
        raise FormatError(f"XMM model: unknown {what} {value!r} (expected one of {list(table)})")
    return table[value]


def _gaussian(comp: dict[str, Any], d: int) -> tuple[np.ndarray, np.ndarray]:
    mean = np.asarray(comp["mean"], dtype=np.float64)
    cov = np.asarray(comp["covariance"], dtype=np.float64)
    if mean.shape != (d,):
        raise FormatError(f"XMM model: a Gaussian mean has {mean.size} values, expected {d}")
    if cov.size == d * d:
        cov = cov.reshape(d, d)
    elif cov.size == d:
        cov = np.diag(cov)
    else:
        raise FormatError(f"XMM model: a covariance has {cov.size} values, expected {d * d}")
    return mean, cov


def _gmm_class(entry: dict[str, Any], d: int) -> dict[str, Any]:
    comps = entry["components"]
    means, covs = zip(*(_gaussian(c, d) for c in comps), strict=True)
    w = np.asarray(entry["mixture_coeffs"], dtype=np.float64)
    if w.shape != (len(comps),):
        raise FormatError("XMM model: mixture_coeffs do not match the components")
    return {"weights": w, "means": np.array(means), "covariances": np.array(covs)}


def load_xmm(path: str | os.PathLike[str]) -> BaseModel:
    """Load a trained XMM model (GMM, GMR, HHMM or HMR) from XMM's JSON file.

    The model's settings (regularisation, likelihood window, regression estimators…) come
    along; a bimodal XMM model becomes a regression model whose first ``dimension_input``
    columns are the input.
    """
    from .formats import read_document, to_xmm_model

    path = Path(path)
    root = to_xmm_model(_with_session_window(read_document(path), path), str(path))
    try:
        return _from_json(root)
    except FormatError as exc:
        raise FormatError(f"{path}: {exc}") from exc
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError,
            RecursionError, GesturemapError) as exc:
        raise FormatError(f"{path}: not an XMM model, or a damaged one ({exc!r})") from exc


def _with_session_window(doc: Any, path: Path) -> Any:
    """A CoMo session's model (xmm-js's layout, ``classes: {label: ...}``) with the likelihood
    window CoMo decodes it over: the session's ``ml-config.json`` beside it holds it, the
    model file does not, and without it the model would decide over another window than on
    CoMo's stage."""
    from .formats import read_document

    if not (isinstance(doc, dict) and isinstance(doc.get("classes"), dict)):
        return doc
    config = path.parent / "ml-config.json"
    if not config.is_file():
        return doc
    try:
        payload = read_document(config).get("payload")
        window = payload.get("likelihoodWindow") if isinstance(payload, dict) else None
    except (FormatError, OSError, AttributeError):
        return doc  # not a CoMo ml-config: the model alone, as without one
    if isinstance(window, int) and not isinstance(window, bool) and window >= 1:
        return {**doc, "likelihoodWindow": window}
    return doc


def _from_json(root: dict[str, Any]) -> BaseModel:
    shared = root["shared_parameters"]
    config = root.get("configuration", {})
    defaults = config.get("default_parameters", {})
    entries = root["models"]
    if not entries:
        raise FormatError("the XMM model has no classes: it was saved before any training "
                          "(record examples and train it in its own tool, then export again)")
    d = int(shared["dimension"])
    bimodal = bool(shared.get("bimodal", False))
    d_in = int(shared.get("dimension_input", 0)) if bimodal else d
    entries = sorted(entries, key=lambda e: e["label"])  # XMM keeps classes in a std::map
    labels = [str(e["label"]) for e in entries]
    is_hmm = "states" in entries[0]
    common = {
        "relative_regularization": float(defaults.get("relative_regularization", 0.01)),
        "absolute_regularization": float(defaults.get("absolute_regularization", 0.001)),
        "covariance": _pick(_COVARIANCE, defaults.get("covariance_mode", 0), "covariance_mode"),
        "likelihood_window": int(shared.get("likelihood_window", 5)),
        # an imported XMM model decides as XMM does (over its sliding likelihood window) on
        # XMM's inputs (no first differences)
        "decision": "window",
        "deltas": False,
        "multiclass_regression": _pick(_MULTICLASS,
                                       config.get("multiClass_regression_estimator", 0),
                                       "multiClass_regression_estimator"),
        "em_min_iterations": int(shared.get("em_algorithm_min_iterations", 10)),
        "em_max_iterations": int(shared.get("em_algorithm_max_iterations", 0)),
        "em_percent_change": float(shared.get("em_algorithm_percent_chg", 0.01)),
    }
    # The model is rebuilt through the same door as a file gesturemap saved (gm.load): its
    # settings checked as fit checks them, its labels as a dataset's, its weights, priors and
    # transitions as probabilities. An XMM file is user input too: weights all 0 would divide
    # by zero at the first frame, and negative priors or a likelihood window of 0 would give
    # garbage (or fail) only once the model runs, on stage.
    c = len(entries)
    meta: dict[str, Any] = {"labels": labels, "input_dim": d_in,
                            "output_dim": d - d_in if bimodal else 0,
                            "training": {"imported_from": "xmm"}}
    arrays: dict[str, np.ndarray] = {}
    covariances = []
    if not is_hmm:
        meta["model"] = "gmm"
        meta["params"] = {"gaussians": int(defaults.get("gaussians", 1)), **common}
        for i, e in enumerate(entries):
            g = _gmm_class(e, d)
            covariances.append(e.get("parameters", {}).get("covariance_mode"))
            for key in ("weights", "means", "covariances"):
                arrays[f"c{i}_{key}"] = g[key]
    else:
        meta["model"] = "hhmm"
        meta["params"] = {
            "states": int(defaults.get("states", 10)),
            "gaussians": int(defaults.get("gaussians", 1)),
            "transition": _pick(_TRANSITION, defaults.get("transition_mode", 1),
                                "transition_mode"),
            "hierarchical": bool(defaults.get("hierarchical", True)),
            "regression_estimator": _pick(_ESTIMATOR, defaults.get("regression_estimator", 0),
                                          "regression_estimator"),
            **common,
        }
        meta["class_transition"] = []
        meta["longest_take"] = 0  # no takes: the following decision's take rule off
        for i, e in enumerate(entries):
            params = e.get("parameters", {})
            covariances.append(params.get("covariance_mode"))
            mode = _pick(_TRANSITION, params.get("transition_mode", 1), "transition_mode")
            meta["class_transition"].append(mode)
            for key, val in _hmm_class(e, d, mode).items():
                arrays[f"c{i}_{key}"] = val
        arrays["top_prior"] = np.asarray(root.get("prior", [1.0 / c] * c), dtype=np.float64)
        top = root.get("transition", [[1.0 / c] * c for _ in range(c)])
        arrays["top_transition"] = np.asarray(top, dtype=np.float64).reshape(c, c)
        arrays["top_exit_transition"] = np.asarray(root.get("exit_transition", [0.1] * c),
                                                   dtype=np.float64).reshape(c)
    default_mode = defaults.get("covariance_mode", 0)
    meta["class_covariance"] = [
        _pick(_COVARIANCE, default_mode if mode is None else mode, "covariance_mode")
        for mode in covariances]
    overrides = _class_overrides(root, entries, meta, arrays)
    if overrides:
        meta["params"]["class_params"] = overrides
    for key, val in arrays.items():
        if not np.isfinite(val).all():
            raise FormatError(f"class parameters {key!r} hold non-finite values")
    return restore(meta, arrays)


def _class_overrides(root: dict[str, Any], entries: list[dict[str, Any]], meta: dict[str, Any],
                     arrays: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    """XMM's per-class settings (a class with its own states, Gaussians, regularisation,
    covariance or transition) as the model's ``class_params``: without them a retrain (the
    first ``gesturemap train`` of an imported project) would train every class with the
    shared settings. What a class was trained with comes from what it holds (its numbers of
    states and Gaussians, its covariance and transition) and its ``parameters``; the
    configuration's ``class_parameters``, what XMM's next training would use, come last."""
    shared = meta["params"]
    configured = root.get("configuration", {}).get("class_parameters") or []
    by_label = {str(p.get("label")): p for p in configured if isinstance(p, dict)}
    hmm = meta["model"] == "hhmm"
    out: dict[str, dict[str, Any]] = {}
    for i, (label, entry) in enumerate(zip(meta["labels"], entries, strict=True)):
        weights = arrays[f"c{i}_weights"]
        found: dict[str, Any] = {
            "gaussians": int(weights.shape[-1]),
            "covariance": meta["class_covariance"][i],
        }
        # the class's entry: only its regularisation is not in what it holds
        own = entry.get("parameters") or {}
        found.update({key: float(own[key]) for key in _REGULARIZATION if key in own})
        if hmm:
            found["states"] = int(weights.shape[0])
            found["transition"] = meta["class_transition"][i]
        found.update(_xmm_class_settings(by_label.get(label, {}), hmm=hmm))
        changed = {k: v for k, v in found.items() if v != shared.get(k)}
        if changed:
            out[label] = changed
    return out


def _xmm_class_settings(params: dict[str, Any], *, hmm: bool) -> dict[str, Any]:
    """The settings an XMM ``ClassParameters`` object gives, in gesturemap's names."""
    out: dict[str, Any] = {key: float(params[key]) for key in _REGULARIZATION if key in params}
    if "covariance_mode" in params:
        out["covariance"] = _pick(_COVARIANCE, params["covariance_mode"], "covariance_mode")
    if "gaussians" in params:
        out["gaussians"] = int(params["gaussians"])
    if hmm:
        if "states" in params:
            out["states"] = int(params["states"])
        if "transition_mode" in params:
            out["transition"] = _pick(_TRANSITION, params["transition_mode"], "transition_mode")
    return out


def _hmm_class(entry: dict[str, Any], d: int, mode: str) -> dict[str, np.ndarray]:
    """One XMM HMM class as the arrays of a saved HHMM class."""
    states = [_gmm_class(s, d) for s in entry["states"]]
    if not states:
        raise FormatError("a class has no states")
    n = len(states)
    k = len(states[0]["weights"])
    if any(len(s["weights"]) != k for s in states):
        raise FormatError("states of one class have different numbers of Gaussians")
    raw = np.asarray(entry["transition"], dtype=np.float64)
    trans = np.zeros((n, n))
    prior = np.zeros(n)
    if mode == "left-right":
        # XMM keeps (stay, next) per state; the last state's "next" goes back to the first
        if raw.size != 2 * n:
            raise FormatError(f"left-right transition has {raw.size} values, not {2 * n}")
        raw = raw.reshape(n, 2)
        for i in range(n):
            trans[i, i] = raw[i, 0]
            if i < n - 1:
                trans[i, i + 1] = raw[i, 1]
            elif n > 1:
                trans[i, 0] = raw[i, 1]
        prior[0] = 1.0
    else:
        trans = raw.reshape(n, n)
        prior = np.asarray(entry["prior"], dtype=np.float64).reshape(n)
    exit_p = np.asarray(entry.get("exitProbabilities", [0.0] * (n - 1) + [0.1]),
                        dtype=np.float64).reshape(n)
    return {
        "prior": prior, "transition": trans, "exit_probabilities": exit_p,
        "weights": np.array([s["weights"] for s in states]),
        "means": np.array([s["means"] for s in states]),
        "covariances": np.array([s["covariances"] for s in states]),
    }
