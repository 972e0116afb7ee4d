"""What a Wekinator project's saved models say: each output's algorithm, its settings and the
inputs it is connected to (``current/models/modelN.xml``, N = the output's 0-based index).

Wekinator writes each output's "path" there: a Java object stream whose first object is a
string, the path's XStream XML (``<Path>``: the ``modelBuilder`` with its settings, the output,
the ``inputNames`` the output's model uses), followed by the trained Weka model. Only that XML
text is read, as bytes found between ``<Path>`` and ``</Path>``; nothing of the stream is
deserialized or executed, and the trained Weka model is left alone (gesturemap retrains).

Wekinator's algorithms and what they become (the closest model gesturemap has):

==========================================  =================================================
``KNNModelBuilder`` numNeighbors            ``knn`` k
``NeuralNetModelBuilder`` numHiddenLayers,  ``mlp`` layers, hidden (``NUM_FEATURES``: as many
hiddenLayerType, numNodesPerHiddenLayer     units as the output's inputs), logistic; 0 hidden
                                            layers: ``linear``
``LinearRegressionModelBuilder`` exponent   ``linear`` (1), else ``polynomial`` degree
``SVMModelBuilder`` kernelType, complexity, ``svm`` kernel linear / poly (degree, coef0 1 with
polyExponent, polyUseLowerOrder, rbfGamma   lower order, gamma 1) / rbf (gamma), c
``J48ModelBuilder``                         ``tree`` (min_samples_leaf 2, as J48)
``DecisionStumpModelBuilder``               ``tree`` max_depth 1
``NaiveBayesModelBuilder``                  ``naive_bayes``
``AdaboostModelBuilder`` numRounds,         ``adaboost`` rounds, max_depth 1 (stumps) or 3
baseLearnerType                             (trees)
==========================================  =================================================
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import FormatError
from ...utils.reading import read_regular_file

__all__ = ["WekinatorPath", "model_spec", "read_path"]

#: Largest model file searched for its path (Wekinator's own reach a few MB with big datasets).
MAX_MODEL_BYTES = 256 * 1024 * 1024


@dataclass
class WekinatorPath:
    """One output's saved path: its algorithm (the builder's class name, without package) and
    settings, the output type it was built for, and the inputs its model uses."""

    builder: str
    settings: dict[str, str]
    output_kind: str  # "classifier" or "numeric" (of the <output> element), "" if absent
    output_name: str
    input_names: list[str] = field(default_factory=list)


def _java_text(raw: bytes) -> str:
    """Java's modified UTF-8 (a character outside the BMP is two 3-byte surrogates) as str."""
    text = raw.decode("utf-8", errors="surrogatepass")
    return text.encode("utf-16", errors="surrogatepass").decode("utf-16", errors="replace")


def read_path(path: Path) -> WekinatorPath | None:
    """The path saved in a model file, or None if the file holds none (a DTW model, a damaged
    or foreign file): then the output keeps Wekinator's default algorithm."""
    try:
        raw = read_regular_file(path, max_bytes=MAX_MODEL_BYTES)
    except FormatError:  # missing, too large, a FIFO or a device: no path read
        return None
    start = raw.find(b"<Path>")
    end = raw.find(b"</Path>", start)
    if start < 0 or end < 0:
        return None
    xml = raw[start:end + len(b"</Path>")]
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        return None
    try:
        root = ET.fromstring(_java_text(xml))
    except (ET.ParseError, UnicodeError):
        return None
    builder = root.find("modelBuilder")
    if builder is None:
        return None
    output = root.find("output")
    output_class = "" if output is None else output.get("class", "")
    kind = ("classifier" if output_class.endswith("OSCClassificationOutput")
            else "numeric" if output_class.endswith("OSCNumericOutput") else "")
    return WekinatorPath(
        builder=builder.get("class", "").rsplit(".", 1)[-1],
        settings={child.tag: (child.text or "").strip() for child in builder},
        output_kind=kind,
        output_name="" if output is None else (output.findtext("name") or ""),
        input_names=[s.text or "" for s in root.findall("inputNames/string")],
    )


def _int(settings: dict[str, str], key: str, default: int, low: int = 0) -> int:
    try:
        value = int(float(settings.get(key, default)))
    except ValueError:
        return default
    return value if value >= low else default


def _float(settings: dict[str, str], key: str, default: float) -> float:
    try:
        value = float(settings.get(key, default))
    except ValueError:
        return default
    return value if value == value and abs(value) != float("inf") else default


def model_spec(p: WekinatorPath, n_inputs: int) -> tuple[dict[str, Any] | None, str, list[str]]:
    """(gesturemap model ``{"kind", "params"}``, a short description, notes on what differs)
    for a saved path whose output's model sees ``n_inputs`` inputs; the model is None for an
    algorithm gesturemap does not know (the caller keeps Wekinator's default)."""
    s, b = p.settings, p.builder
    notes: list[str] = []
    classifier = p.output_kind == "classifier"
    # Wekinator decides frame by frame on a stream it never resets: a window of 1
    run: dict[str, Any] = {"likelihood_window": 1}
    if classifier:
        run["decision"] = "window"
    if b == "KNNModelBuilder":
        k = _int(s, "numNeighbors", 1, 1)
        return {"kind": "knn", "params": {"k": k, **run}}, f"kNN k={k}", notes
    if b == "NeuralNetModelBuilder":
        layers = _int(s, "numHiddenLayers", 1)
        if layers == 0:
            return ({"kind": "linear", "params": run}, "neural network, no hidden layer",
                    ["a network without hidden layer is a linear model: linear regression"])
        custom = s.get("hiddenLayerType", "NUM_FEATURES") == "NUMBER"
        hidden = _int(s, "numNodesPerHiddenLayer", 1, 1) if custom else max(1, n_inputs)
        return ({"kind": "mlp", "params": {"hidden": hidden, "layers": layers,
                                           "activation": "logistic", **run}},
                f"neural network {layers}x{hidden}", notes)
    if b == "LinearRegressionModelBuilder":
        degree = _int(s, "exponent", 1, 1)
        if s.get("featureSelectionType", "NONE") not in ("NONE", ""):
            notes.append(f"feature selection {s['featureSelectionType']} not reproduced "
                         "(every input used)")
        if degree == 1:
            return {"kind": "linear", "params": run}, "linear regression", notes
        if n_inputs > 1:
            notes.append(f"polynomial degree {degree} also uses products of inputs "
                         "(Wekinator: powers of each input only)")
        return ({"kind": "polynomial", "params": {"degree": degree, **run}},
                f"polynomial regression, degree {degree}", notes)
    if b == "SVMModelBuilder":
        c = _float(s, "complexity", 1.0)
        params: dict[str, Any] = {"c": c if c > 0 else 1.0, **run}
        kernel = s.get("kernelType", "LINEAR")
        if kernel == "POLYNOMIAL":
            degree = max(1, round(_float(s, "polyExponent", 2.0)))
            lower = s.get("polyUseLowerOrder", "false") == "true"
            params.update(kernel="poly", degree=degree, gamma=1.0,
                          coef0=1.0 if lower else 0.0)
            what = f"SVM, polynomial kernel, exponent {degree}"
        elif kernel == "RBF":
            gamma = _float(s, "rbfGamma", 0.0)
            params.update(kernel="rbf", gamma=gamma if gamma > 0 else 0.0)
            what = f"SVM, RBF kernel, gamma {gamma:g}"
        else:
            params.update(kernel="linear")
            what = "SVM, linear kernel"
        return {"kind": "svm", "params": params}, f"{what}, C={params['c']:g}", notes
    if b == "J48ModelBuilder":
        return ({"kind": "tree", "params": {"min_samples_leaf": 2, **run}},
                "decision tree (J48)", ["J48's pruning is not reproduced"])
    if b == "DecisionStumpModelBuilder":
        return {"kind": "tree", "params": {"max_depth": 1, **run}}, "decision stump", notes
    if b == "NaiveBayesModelBuilder":
        return {"kind": "naive_bayes", "params": run}, "naive Bayes", notes
    if b == "AdaboostModelBuilder":
        rounds = _int(s, "numRounds", 100, 1)
        stumps = s.get("baseLearnerType", "DECISION_TREE") == "DECISION_STUMP"
        if not stumps:
            notes.append("AdaBoost's J48 base trees are depth-3 trees here")
        return ({"kind": "adaboost", "params": {"rounds": rounds, "max_depth": 1 if stumps else 3,
                                                **run}},
                f"AdaBoost, {rounds} rounds of {'stumps' if stumps else 'trees'}", notes)
    return None, re.sub(r"ModelBuilder$", "", b) or "unknown", notes
