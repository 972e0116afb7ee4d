"""XMM files as they exist in the wild, turned into XMM 1.x's own JSON layout.

Read here (each seen in public repositories; see tests/data/xmm/SOURCES.md):

- **XMM 1.x** (C++ ``xmm::Model::toJson``, and xmm-node / soundworks exports, same layout):
  a model has ``shared_parameters``, ``configuration`` and ``models``; a training set has
  ``phrases``. Returned as they are.
- **XMM 0.x** (2014-2015; field names ``nbmixturecomponents``, ``varianceoffset_relative``,
  ``EMStopCriterion``, models as ``{"label": {"type", "value"}, "GMM" | "HMM": {...}}``).
- **RAPID-MIX documents**: ``{"docType": "rapid-mix:ml-model", "payload": <XMM model>}`` and
  ``{"docType": "rapid-mix:ml-training-set", "payload": {"inputDimension",
  "outputDimension", "data": [{"label", "input": [[...]], "output": [[...]]}]}}``.
- **CoMo** (ircam-ismm/como): session files written as JSON5 (unquoted keys, single quotes):
  ``.ml-model.json`` (a RAPID-MIX model, or xmm-js's own layout: ``classes: {label: {xStates |
  components, ...}}`` with camelCase names) and ``.ml-processed-examples.debug.json`` /
  ``.ml-examples.json`` (``{id: {label, input: [[...]], output: [...]}}``).

Anything else is refused with a message naming what the file looks like.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from ...errors import FormatError
from ...utils.storage import MAX_JSON_BYTES, read_json_file, read_regular_file

__all__ = ["read_document", "to_xmm_model", "to_xmm_training_set"]

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def _json5_to_json(text: str) -> str:
    """The JSON5 that CoMo writes (unquoted keys, single-quoted strings, trailing commas, //
    and /* */ comments) as plain JSON text. Only data: nothing is evaluated."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "'\"":
            j, buf = i + 1, []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    nxt = text[j + 1]
                    buf.append(nxt if nxt == "'" else "\\" + nxt)
                    j += 2
                    continue
                buf.append('\\"' if text[j] == '"' else text[j])
                j += 1
            if j >= n:
                raise ValueError("a string is not closed")
            out.append('"' + "".join(buf) + '"')
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c.isdigit() or c in ".-+":
            m = _NUMBER.match(text, i)
            if m is None or m.end() == i:
                if text.startswith(("-Infinity", "+Infinity"), i):
                    out.append(text[i : i + 9])
                    i += 9
                    continue
                raise ValueError(f"unexpected {c!r} at {i}")
            out.append(m.group(0).lstrip("+"))
            i = m.end()
        elif _IDENT.match(text, i):
            word = _IDENT.match(text, i).group(0)  # type: ignore[union-attr]
            out.append(
                word if word in ("true", "false", "null", "NaN", "Infinity") else '"' + word + '"'
            )
            i += len(word)
        else:
            out.append(c)
            i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def read_document(path: str | os.PathLike[str]) -> Any:
    """A JSON file through the hardened reader; a file that is not JSON but JSON5 (CoMo's
    session files) is read as JSON5."""
    try:
        return read_json_file(path)
    except FormatError as error:
        try:
            text = read_regular_file(path, max_bytes=MAX_JSON_BYTES).decode("utf-8-sig")
        except (FormatError, UnicodeDecodeError):
            raise error from None
        if not text.lstrip().startswith(("{", "[")):
            raise
        try:
            return json.loads(_json5_to_json(text))
        except (ValueError, RecursionError):
            raise error from None


def _kind(doc: Any) -> str:
    """What a document looks like, in words, for error messages."""
    if not isinstance(doc, dict):
        return f"a JSON {type(doc).__name__}"
    if "docType" in doc:
        return f"a RAPID-MIX document of type {doc.get('docType')!r}"
    if "target" in doc and "payload" in doc:
        return "a CoMo ml-config (the model's settings, not a trained model)"
    if "phrases" in doc:
        return "an XMM training set"
    if "shared_parameters" in doc or "models" in doc or "classes" in doc:
        return "an XMM model"
    keys = ", ".join(list(map(str, doc))[:6])
    return f"a JSON object with keys {keys}"


def _unwrap(doc: Any, want: str, where: str) -> Any:
    if isinstance(doc, dict) and "docType" in doc:
        kind = doc.get("docType")
        if kind != want:
            raise FormatError(f"{where} is a RAPID-MIX document of type {kind!r}, not {want!r}.")
        return doc.get("payload")
    return doc


# ---- models -------------------------------------------------------------------------------------


def to_xmm_model(doc: Any, where: str) -> dict[str, Any]:
    """An XMM model document in any known layout, as XMM 1.x's model JSON."""
    doc = _unwrap(doc, "rapid-mix:ml-model", where)
    if not isinstance(doc, dict):
        raise FormatError(f"{where} is not an XMM model: it is {_kind(doc)}.")
    if "shared_parameters" in doc and "models" in doc:
        return doc
    if "models" in doc and "nbmixturecomponents" in doc:
        return _from_xmm0(doc)
    if isinstance(doc.get("classes"), dict):
        return _from_xmmjs(doc)
    raise FormatError(
        f"{where} is not an XMM model: it is {_kind(doc)}. gesturemap reads XMM 1.x and 0.x "
        "models (C++, xmm-node, soundworks), RAPID-MIX wrapped models and CoMo .ml-model.json "
        "files; for a training set use Dataset.from_xmm."
    )


def _component0(c: dict[str, Any]) -> dict[str, Any]:
    return {"mean": c["mean"], "covariance": c["covariance"]}


def _from_xmm0(doc: dict[str, Any]) -> dict[str, Any]:
    em = doc.get("EMStopCriterion", {})
    params = {
        "gaussians": doc.get("nbmixturecomponents", 1),
        "relative_regularization": doc.get("varianceoffset_relative", 0.01),
        "absolute_regularization": doc.get("varianceoffset_absolute", 0.001),
        "covariance_mode": 0,
    }
    models = []
    is_hmm = "nbstates" in doc
    for entry in doc["models"]:
        label = entry["label"]
        label = label.get("value") if isinstance(label, dict) else label
        if is_hmm:
            h = entry["HMM"]
            n = len(h["states"])
            models.append(
                {
                    "label": str(label),
                    # 0.x keeps the full n x n matrix: as an ergodic model with the prior it has,
                    # the same numbers, the same model
                    "parameters": {"transition_mode": 0},
                    "prior": h["prior"],
                    "transition": h["transition"],
                    "exitProbabilities": h.get("exitprobabilities", [0.0] * (n - 1) + [0.1]),
                    "states": [
                        {
                            "mixture_coeffs": s["mixturecoefficients"],
                            "components": [_component0(c) for c in s["components"]],
                        }
                        for s in h["states"]
                    ],
                }
            )
        else:
            g = entry["GMM"]
            models.append(
                {
                    "label": str(label),
                    "parameters": {},
                    "mixture_coeffs": g["mixturecoefficients"],
                    "components": [_component0(c) for c in g["components"]],
                }
            )
    out: dict[str, Any] = {
        "shared_parameters": {
            "bimodal": bool(doc.get("bimodal", False)),
            "dimension": doc["dimension"],
            "dimension_input": doc.get("dimension_input", 0),
            "likelihood_window": doc.get("likelihoodwindow", 1),
            "em_algorithm_min_iterations": em.get("minsteps", 10),
            "em_algorithm_max_iterations": em.get("maxsteps", 0),
            "em_algorithm_percent_chg": em.get("percentchg", 0.01),
        },
        "configuration": {"default_parameters": params},
        "models": models,
    }
    if is_hmm:
        params.update(
            states=doc["nbstates"],
            transition_mode=0,
            regression_estimator=doc.get("regression_estimator", 0),
            hierarchical=bool(doc.get("is_hierarchical", True)),
        )
        for key, new in (
            ("prior", "prior"),
            ("transition", "transition"),
            ("exit", "exit_transition"),
        ):
            if key in doc:
                out[new] = doc[key]
    return out


_COVARIANCE_NAMES = {"full": 0, "diagonal": 1}
_TRANSITION_NAMES = {"ergodic": 0, "leftright": 1, "left-right": 1}


def _from_xmmjs(doc: dict[str, Any]) -> dict[str, Any]:
    reg = doc.get("regularization", {})
    cov = _COVARIANCE_NAMES.get(doc.get("covarianceMode", "full"), 0)
    params: dict[str, Any] = {
        "gaussians": doc.get("gaussians", 1),
        "relative_regularization": reg.get("relative", 0.01),
        "absolute_regularization": reg.get("absolute", 0.001),
        "covariance_mode": cov,
    }
    models = []
    is_hmm = any("xStates" in c for c in doc["classes"].values())
    for label, c in doc["classes"].items():
        if is_hmm:
            mode = _TRANSITION_NAMES.get(c.get("transitionMode", "leftright"), 1)
            entry = {
                "label": str(label),
                "parameters": {"transition_mode": mode},
                "prior": c.get("prior"),
                "transition": c["transition"],
                "states": [
                    {
                        "mixture_coeffs": s["mixtureCoeffs"],
                        "components": [_component0(k) for k in s["components"]],
                    }
                    for s in c["xStates"]
                ],
            }
            if "exitProbabilities" in c:
                entry["exitProbabilities"] = c["exitProbabilities"]
            models.append(entry)
        else:
            models.append(
                {
                    "label": str(label),
                    "parameters": {},
                    "mixture_coeffs": c["mixtureCoeffs"],
                    "components": [_component0(k) for k in c["components"]],
                }
            )
    if is_hmm:
        params.update(
            states=doc.get("states", 10),
            transition_mode=1,
            hierarchical=True,
            regression_estimator=0,
        )
    bimodal = bool(doc.get("bimodal", False))
    return {
        "shared_parameters": {
            "bimodal": bimodal,
            "dimension": doc["dimension"],
            "dimension_input": doc.get("inputDimension", 0) if bimodal else 0,
            "likelihood_window": doc.get("likelihoodWindow", 5),
        },
        "configuration": {"default_parameters": params},
        "models": models,
    }


# ---- training sets ------------------------------------------------------------------------------


def to_xmm_training_set(doc: Any, where: str) -> dict[str, Any]:
    """A training set in any known layout, as XMM 1.x's training-set JSON (``phrases``)."""
    if isinstance(doc, dict) and doc.get("docType") == "rapid-mix:ml-training-set":
        payload = doc.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
            raise FormatError(f"{where}: a RAPID-MIX training set without payload.data.")
        names = payload.get("columnNames") or {}
        return _phrases(
            payload["data"],
            payload.get("inputDimension"),
            payload.get("outputDimension", 0),
            (names.get("input") or []) + (names.get("output") or []),
            where,
        )
    if isinstance(doc, dict) and isinstance(doc.get("phrases"), list):
        return {**doc, "phrases": [_frames_length(ph, doc) for ph in doc["phrases"]]}
    if isinstance(doc, dict) and "dimension" in doc and "label" in doc and (
            "data" in doc or "data_input" in doc):
        # one phrase (XMM's Phrase JSON, xmm-client's PhraseMaker): a training set of one
        keys = ("bimodal", "dimension", "dimension_input", "column_names")
        return {**{k: doc[k] for k in keys if k in doc},
                "phrases": [_frames_length({"index": 0, **doc}, doc)]}
    if (
        isinstance(doc, dict)
        and doc
        and all(isinstance(v, dict) and "label" in v and "input" in v for v in doc.values())
    ):
        rows = list(doc.values())
        if rows and rows[0]["input"] and isinstance(rows[0]["input"][0], dict):
            raise FormatError(
                f"{where} holds CoMo's raw sensor examples (each frame a dict of sensor "
                "values): import the processed examples (.ml-processed-examples.debug.json) "
                "instead, whose frames are the model's input vectors."
            )
        first = rows[0]
        d_in = len(first["input"][0]) if first["input"] else 0
        d_out = len(first["output"][0]) if first.get("output") else 0
        return _phrases(rows, d_in, d_out, [], where)
    raise FormatError(
        f"{where} is not an XMM training set (nor a RAPID-MIX training set, nor CoMo "
        f"examples): it is {_kind(doc)}. gesturemap reads XMM training sets (C++, xmm-node, "
        "soundworks), RAPID-MIX training sets and CoMo examples; for a trained model use "
        "gm.load_xmm."
    )


def _frames_length(phrase: Any, owner: dict[str, Any]) -> Any:
    """A phrase whose ``length`` is its frame count. xmm-client's early PhraseMaker (2016)
    wrote the number of VALUES there (3324 for 554 frames of 6): recognised only when
    ``length`` equals the values' count and the dimension divides it; other phrases as they are."""
    if not isinstance(phrase, dict):
        return phrase
    bimodal = bool(phrase.get("bimodal", owner.get("bimodal")))
    key, width = (("data_input", phrase.get("dimension_input", owner.get("dimension_input")))
                  if bimodal else ("data", phrase.get("dimension", owner.get("dimension"))))
    values, length = phrase.get(key), phrase.get("length")
    if not (isinstance(values, list) and isinstance(width, int) and width > 1):
        return phrase
    if length is None or (length == len(values) and len(values) % width == 0):
        return {**phrase, "length": len(values) // width}
    return phrase


def _phrases(
    data: list[Any], d_in: Any, d_out: Any, names: list[str], where: str
) -> dict[str, Any]:
    if not isinstance(d_in, int) or isinstance(d_in, bool) or d_in < 1:
        raise FormatError(f"{where}: input dimension {d_in!r}; expected a positive integer.")
    d_out = int(d_out or 0)
    bimodal = d_out > 0
    phrases = []
    for i, ex in enumerate(data):
        if not isinstance(ex, dict):
            raise FormatError(f"{where}: example {i} is not an object.")
        frames = ex.get("input") or []
        outs = ex.get("output") or []
        phrase: dict[str, Any] = {"index": i, "label": ex.get("label"), "length": len(frames)}
        try:
            if bimodal:
                if len(outs) != len(frames):
                    raise FormatError(
                        f"{where}: example {i}: {len(frames)} input frames, "
                        f"{len(outs)} output frames."
                    )
                phrase["data_input"] = [float(v) for f in frames for v in f]
                phrase["data_output"] = [float(v) for f in outs for v in f]
            else:
                phrase["data"] = [float(v) for f in frames for v in f]
        except (TypeError, ValueError):
            raise FormatError(f"{where}: example {i}: a frame is not a list of numbers.") from None
        phrases.append(phrase)
    out: dict[str, Any] = {
        "bimodal": bimodal,
        "dimension": d_in + d_out,
        "dimension_input": d_in if bimodal else 0,
        "phrases": phrases,
    }
    if len(names) == d_in + d_out:
        out["column_names"] = list(names)
    return out
