"""Export to XMM's own JSON: training sets (phrases) and trained GMM / HHMM models.

The layouts are XMM 1.x's (``xmm::TrainingSet::toJson``, ``xmm::Model::toJson``), so XMM, its
Max / Python bindings, xmm-node and soundworks read them, and :func:`gesturemap.load_xmm` and
:meth:`gesturemap.Dataset.from_xmm` read them back. Only data is written.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from ...errors import GesturemapError
from ...utils.storage import atomic_write_text

__all__ = ["model_to_xmm", "save_xmm_model", "save_xmm_training_set", "training_set_to_xmm"]

_COVARIANCE = {"full": 0, "diagonal": 1}
_TRANSITION = {"ergodic": 0, "left-right": 1}
_ESTIMATOR = {"full": 0, "windowed": 1, "likeliest": 2}
_MULTICLASS = {"likeliest": 0, "mixture": 1}


def training_set_to_xmm(dataset: Any) -> dict[str, Any]:
    """A Dataset (or anything iterable of recordings with ``inputs`` / ``outputs`` /
    ``label``) as XMM's training-set JSON; takes with outputs make a bimodal set."""
    recs = list(dataset)
    if not recs:
        raise GesturemapError("nothing to export: the dataset has no recordings.")
    d_in = recs[0].inputs.shape[1]
    d_out = 0 if recs[0].outputs is None else recs[0].outputs.shape[1]
    bimodal = d_out > 0
    names = list(getattr(dataset, "input_names", None) or [f"x{i}" for i in range(d_in)])
    if bimodal:
        names += list(getattr(dataset, "output_names", None) or [f"y{i}" for i in range(d_out)])
    phrases = []
    for i, r in enumerate(recs):
        phrase: dict[str, Any] = {
            "bimodal": bimodal,
            "column_names": names,
            "dimension": d_in + d_out,
            "dimension_input": d_in if bimodal else 0,
            "index": i,
            "label": r.label,
            "length": int(r.inputs.shape[0]),
        }
        if bimodal:
            phrase["data_input"] = r.inputs.ravel().tolist()
            phrase["data_output"] = r.outputs.ravel().tolist()
        else:
            phrase["data"] = r.inputs.ravel().tolist()
        phrases.append(phrase)
    return {
        "bimodal": bimodal,
        "column_names": names,
        "dimension": d_in + d_out,
        "dimension_input": d_in if bimodal else 0,
        "phrases": phrases,
    }


def _gaussian(
    mean: np.ndarray, cov: np.ndarray, d_in: int, bimodal: bool, mode: int
) -> dict[str, Any]:
    """One Gaussian as XMM writes it. XMM's C++ reads the inverse covariances and the
    determinants from the file instead of recomputing them, so they are written too."""
    d = len(mean)
    if mode == 1:  # diagonal: XMM keeps the d variances
        var = np.diag(cov)
        inv, det = (1.0 / var), float(np.prod(var))
        out = {"covariance": var.tolist(), "inverse_covariance": inv.tolist()}
    else:
        inv, det = np.linalg.inv(cov), float(np.linalg.det(cov))
        out = {
            "covariance": cov.reshape(d * d).tolist(),
            "inverse_covariance": inv.reshape(d * d).tolist(),
        }
    out.update(
        bimodal=bimodal,
        covariance_determinant=det,
        covariance_mode=mode,
        dimension=d,
        dimension_input=d_in if bimodal else 0,
        mean=mean.tolist(),
    )
    if bimodal:
        cii, cio = cov[:d_in, :d_in], cov[:d_in, d_in:]
        coi, coo = cov[d_in:, :d_in], cov[d_in:, d_in:]
        if mode == 1:
            cii_inv = np.diag(1.0 / np.diag(cii))
            out["inverse_covariance_input"] = np.diag(cii_inv).tolist()
            out["covariance_determinant_input"] = float(np.prod(np.diag(cii)))
            out["output_covariance"] = np.diag(coo).tolist()
        else:
            cii_inv = np.linalg.inv(cii)
            out["inverse_covariance_input"] = cii_inv.reshape(-1).tolist()
            out["covariance_determinant_input"] = float(np.linalg.det(cii))
            out["output_covariance"] = (coo - coi @ cii_inv @ cio).reshape(-1).tolist()
    else:
        out.update(
            covariance_determinant_input=0.0, inverse_covariance_input=[], output_covariance=[]
        )
    return out


def _components(
    c: dict[str, Any], k: int | None, d_in: int, bimodal: bool, mode: int
) -> tuple[list, list]:
    weights = np.asarray(c["weights"] if k is None else c["weights"][k])
    means = np.asarray(c["means"] if k is None else c["means"][k])
    covs = np.asarray(c["covariances"] if k is None else c["covariances"][k])
    return weights.tolist(), [
        _gaussian(means[j], covs[j], d_in, bimodal, mode) for j in range(len(weights))
    ]


def model_to_xmm(model: Any) -> dict[str, Any]:
    """A trained :class:`~gesturemap.GMM` or :class:`~gesturemap.HHMM` as XMM's model JSON."""
    kind = getattr(model, "kind", None)
    if kind not in ("gmm", "hhmm"):
        raise GesturemapError(
            f"XMM has GMM and HHMM models; a {kind!r} model cannot be written in XMM's format."
        )
    model._check_fitted()
    if getattr(model, "deltas", False):
        raise GesturemapError(
            "XMM's models have no delta features: train the model with deltas=False to write "
            "it in XMM's format."
        )
    if getattr(model, "kept_channels_", None) is not None:
        raise GesturemapError(
            "XMM's models read every input: this model ignores channels "
            f"{list(model.ignore_channels)} of its {model.full_input_dim_} (ignore_channels), "
            "so XMM would read the wrong ones. Train it without ignore_channels, or leave those "
            "channels out of the project's inputs or pipeline, to write it in XMM's format."
        )
    d_in, d_out = int(model.input_dim_), int(model.output_dim_)
    bimodal = d_out > 0
    defaults: dict[str, Any] = {
        "absolute_regularization": float(model.absolute_regularization),
        "covariance_mode": _COVARIANCE[model.covariance if model.covariance != "auto"
                                       else model.class_params_[0]["covariance"]],
        "gaussians": int(model.gaussians),
        "relative_regularization": float(model.relative_regularization),
    }
    shared = {
        "bimodal": bimodal,
        "column_names": [f"x{i}" for i in range(d_in)] + [f"y{i}" for i in range(d_out)],
        "dimension": d_in + d_out,
        "dimension_input": d_in if bimodal else 0,
        "em_algorithm_max_iterations": int(model.em_max_iterations),
        "em_algorithm_min_iterations": int(model.em_min_iterations),
        "em_algorithm_percent_chg": float(model.em_percent_change),
        "likelihood_window": int(model.likelihood_window),
    }
    models = []
    for label, c in zip(model.labels_, model.class_params_, strict=True):
        mode = _COVARIANCE[c.get("covariance", model.covariance)]
        # the class's own settings (class_params), as XMM keeps a class's parameters
        params = {**defaults, "covariance_mode": mode,
                  "gaussians": int(np.shape(c["weights"])[-1]),
                  **{key: float(model.class_param(label, key))
                     for key in ("relative_regularization", "absolute_regularization")}}
        if kind == "gmm":
            weights, comps = _components(c, None, d_in, bimodal, mode)
            models.append(
                {
                    "components": comps,
                    "label": str(label),
                    "mixture_coeffs": weights,
                    "parameters": params,
                }
            )
            continue
        n = len(c["prior"])
        trans = np.asarray(c["transition"])
        tmode = c.get("transition_mode", model.transition)
        if tmode == "left-right":
            raw = []
            for i in range(n):
                raw += [
                    float(trans[i, i]),
                    float(trans[i, i + 1] if i < n - 1 else (trans[i, 0] if n > 1 else 0.0)),
                ]
        else:
            raw = trans.ravel().tolist()
        states = []
        for s in range(n):
            weights, comps = _components(c, s, d_in, bimodal, params["covariance_mode"])
            states.append(
                {
                    "components": comps,
                    "label": str(label),
                    "mixture_coeffs": weights,
                    "parameters": {k: v for k, v in params.items()},
                }
            )
        entry = {
            "exitProbabilities": np.asarray(c["exit_probabilities"]).tolist(),
            "label": str(label),
            "parameters": {**params, "states": n, "transition_mode": _TRANSITION[tmode]},
            "states": states,
            "transition": raw,
        }
        if tmode != "left-right":  # a left-right model always starts in its first state
            entry["prior"] = np.asarray(c["prior"]).tolist()
        models.append(entry)
    out: dict[str, Any] = {
        "configuration": {
            "default_parameters": defaults,
            "multiClass_regression_estimator": _MULTICLASS[model.multiclass_regression],
        },
        "models": models,
        "shared_parameters": shared,
    }
    if kind == "hhmm":
        defaults.update(
            states=int(model.states),
            transition_mode=_TRANSITION[model.transition],
            hierarchical=bool(model.hierarchical),
            regression_estimator=_ESTIMATOR[model.regression_estimator],
        )
        out["prior"] = np.asarray(model.top_prior_).tolist()
        out["transition"] = np.asarray(model.top_transition_).tolist()
        out["exit_transition"] = np.asarray(model.top_exit_transition_).tolist()
    return out


def save_xmm_model(model: Any, path: str | os.PathLike[str]) -> None:
    """Write a trained GMM / HHMM as XMM's model JSON (atomically)."""
    atomic_write_text(path, json.dumps(model_to_xmm(model), indent=1))


def save_xmm_training_set(dataset: Any, path: str | os.PathLike[str]) -> None:
    """Write a dataset as XMM's training-set JSON (atomically)."""
    atomic_write_text(path, json.dumps(training_set_to_xmm(dataset), indent=1))
