"""Wekinator projects in (their training data out: :mod:`gesturemap.interop.wekinator.examples`).

A Wekinator 2 project folder (what "save project" writes, and what a ``.wekproj`` file sits in)::

    MyProject/
        MyProject.wekproj            <WekinatorFileData>: the project's name, its OSC port
        inputConfig.xml              <OSCInputGroup>: numInputs, inputNames, the OSC message
        outputConfig.xml             <OSCOutputGroup>: one element per output, in order:
                                       wekimini.osc.OSCClassificationOutput  name, numClasses
                                       wekimini.osc.OSCNumericOutput  name, min, max,
                                           outputType REAL|INTEGER, limitType HARD|SOFT,
                                           trainingDataLimitRestriction ...
                                       wekimini.osc.OSCDtwOutput  name, gestureNames,
                                           gestureOscMessages
        current/currentData.arff     the examples (classifier and numeric outputs)
        current/currentData.csv      the examples of a DTW project: one line per example:
                                       dimensions, gesture number (from 1), then the frames
        current/models/model1.xml    a DTW project's model (its settings; examples again)
        current/models/modelN.xml    output N's (0-based) saved model: its algorithm, settings
                                       and connected inputs (gesturemap.interop.wekinator.models)

The ARFF's columns are ``ID``, ``Time``, ``'Training round'``, then the inputs, then the
outputs, in the order of ``inputConfig.xml`` and ``outputConfig.xml``. They are matched by
POSITION, not by name: names drift after a rename in Wekinator (a file may say ``Tilt`` where
``outputConfig.xml`` says ``outputs-1``).

Each output has its own example set in Wekinator: an example holds a value for the outputs that
were recording when it was recorded, and ``?`` for the others; ``deleteExamplesForOutput N``
sets output N to ``?`` in every example. Here:

- one classifier output: a classification project; class numbers are the labels; examples
  with ``?`` for the output train nothing (as in Wekinator) and are counted (``no_output``);
- an example with an input ``?`` (an input added after it was recorded) is kept, the value
  filled with the input's mean over the examples that have it, as Weka fills it for the
  models Wekinator trains (counted: ``imputed``); the import report says what became of every
  row;
- one numeric output: a regression project (takes with the output values);
- several outputs: a ``per_output`` project. Each take holds every output value (``?``
  becomes 0, never used) and is labelled with the outputs it was recorded for: ``"take"`` for
  all of them, else ``"outputs 1,3"`` (1-based). Each output's model skips the takes whose
  label leaves it out (``skip_labels``), so it trains on exactly its own examples;
- DTW: a DTW project; takes labelled with their gesture names (``gestureNames``, numbered as
  Wekinator numbers them: ``outputs.class_numbers``), or their numbers (1, 2, ...) where
  every name is Wekinator's default ``output_N``; the gestures' OSC messages in the output
  settings (``outputs.gesture_messages``); its DTW settings
  (``current/models/model1.xml``) as :mod:`gesturemap.interop.wekinator.dtw` says (a gesture switched
  off never matches; the threshold, on another scale, is not copied).

Each output gets the algorithm, settings and inputs of its saved model; without one,
Wekinator's defaults per output type: kNN with k = 1 for a classifier, a neural network (one
hidden layer with as many units as inputs, logistic) for a numeric output, DTW for DTW. A
numeric output's range becomes its output scale, clipped when its limit is HARD, rounded when
its type is INTEGER; its training values are clipped to the range when the project enforces
limits. The project's sensor is OSC on the ``.wekproj``'s receive port at ``inputConfig.xml``'s
message, where the project's sensor program sends.

XML is read with Python's expat parser; a file that declares a DTD or entities is refused.
Nothing read from the files is executed.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import FormatError, GesturemapError
from .arff import (
    META_COLUMNS,
    Arff,
    ImportedTake,
    ImportSummary,
    _moment,
    _number_first,
    _python_date_format,
    read_arff,
)
from .dtw import dtw_model, dtw_settings
from .examples import (
    ALL_OUTPUTS,
    delete_examples_for_output,
    export_arff,
    mask_label,
    outputs_of_label,
)
from .files import read_dtw_csv, read_xml, xml_number, xml_text
from .models import WekinatorPath, model_spec, read_path

__all__ = [
    "ALL_OUTPUTS",
    "WekinatorOutput",
    "WekinatorProject",
    "delete_examples_for_output",
    "export_arff",
    "import_wekinator",
    "mask_label",
    "read_project",
]


# ---- reading the project's files ----------------------------------------------------------------



#: The most classes (or DTW gestures) an output may declare: Wekinator's own editor offers far
#: fewer; a larger number is a damaged file, not a project.
MAX_CLASSES = 10_000
#: Wekinator's name for a DTW gesture nobody named.
_DEFAULT_GESTURE = re.compile(r"output_?[0-9]+")

@dataclass
class WekinatorOutput:
    """One output of ``outputConfig.xml``: ``kind`` is classifier, numeric or dtw."""

    name: str
    kind: str
    classes: int = 0
    minimum: float = 0.0
    maximum: float = 1.0
    integer: bool = False
    hard_limits: bool = False
    enforce_limits: bool = False
    gesture_names: list[str] = field(default_factory=list)
    gesture_messages: list[str] = field(default_factory=list)


@dataclass
class WekinatorProject:
    """What a Wekinator project folder says (see the module docstring)."""

    folder: Path
    name: str
    input_names: list[str]
    outputs: list[WekinatorOutput]
    osc_port: int = 6448
    output_host: str = "localhost"
    output_port: int = 12000
    output_message: str = "/wek/outputs"
    data: Arff | None = None
    dtw_examples: list[tuple[int, np.ndarray]] = field(default_factory=list)
    dtw_settings: dict[str, Any] = field(default_factory=dict)
    input_message: str = "/wek/inputs"
    #: per output, what ``current/models/modelN.xml`` says (None: no such file, or unreadable)
    paths: list[WekinatorPath | None] = field(default_factory=list)
    #: the outputs (0-based) whose model file is there but holds no readable path
    unread_models: list[int] = field(default_factory=list)

    @property
    def is_dtw(self) -> bool:
        return any(o.kind == "dtw" for o in self.outputs)

    def gesture_labels(self) -> list[Any]:
        """A DTW project's class of each gesture number (1, 2, ...): the gesture names of
        ``outputConfig.xml`` (what Wekinator shows), or the numbers where every name is
        Wekinator's default (``output_N``), or where names repeat or are empty."""
        o = self.outputs[0]
        names = list(o.gesture_names)
        numbers = list(range(1, o.classes + 1))
        default = [bool(_DEFAULT_GESTURE.fullmatch(n)) or n == f"{o.name}_{j + 1}"
                   for j, n in enumerate(names)]
        if (len(names) != o.classes or all(default) or len(set(names)) != len(names)
                or not all(names)):
            return numbers
        return names


def _find_folder(path: Path) -> tuple[Path, Path | None]:
    """(project folder, .wekproj file or None) for a folder, a .wekproj, or a file inside
    ``current/``."""
    if path.is_dir():
        projects = sorted(path.glob("*.wekproj"))
        return path, projects[0] if projects else None
    if path.suffix == ".wekproj":
        return path.parent, path
    raise GesturemapError(f"{path}: not a Wekinator project folder or .wekproj file.")


def _outputs(root: ET.Element, where: str) -> list[WekinatorOutput]:
    holder = root.find("outputs")
    if holder is None:
        raise FormatError(f"{where}: no <outputs> element; is this Wekinator's outputConfig.xml?")
    outputs = []
    for i, el in enumerate(holder):
        tag = el.tag.rsplit(".", 1)[-1]
        name = xml_text(el, "name", "") or ""
        here = f"{where}, output {i + 1} ({name!r})"
        if tag == "OSCClassificationOutput":
            classes = int(xml_number(el, "numClasses", 0, here))
            if not 1 <= classes <= MAX_CLASSES:
                raise FormatError(f"{here}: numClasses is {classes}; expected 1 to "
                                  f"{MAX_CLASSES}.")
            outputs.append(WekinatorOutput(name, "classifier", classes=classes))
        elif tag == "OSCNumericOutput":
            low, high = xml_number(el, "min", 0.0, here), xml_number(el, "max", 1.0, here)
            outputs.append(
                WekinatorOutput(
                    name,
                    "numeric",
                    minimum=low,
                    maximum=high,
                    integer=(xml_text(el, "outputType", "REAL") or "").strip() == "INTEGER",
                    hard_limits=(xml_text(el, "limitType", "SOFT") or "").strip() == "HARD",
                    enforce_limits=(xml_text(el, "trainingDataLimitRestriction", "") or "").strip()
                    == "ENFORCE_LIMITS",
                )
            )
        elif tag == "OSCDtwOutput":
            names = [s.text or "" for s in el.findall("gestureNames/string")]
            messages = [s.text or "" for s in el.findall("gestureOscMessages/string")]
            count = int(xml_number(el, "numGestures", len(names), here))
            if not 0 <= count <= MAX_CLASSES:
                raise FormatError(f"{here}: numGestures is {count}; expected 0 to "
                                  f"{MAX_CLASSES}.")
            names += [f"{name}_{j + 1}" for j in range(len(names), count)]
            messages += [f"/{name}_{j + 1}" for j in range(len(messages), count)]
            outputs.append(
                WekinatorOutput(
                    name,
                    "dtw",
                    classes=count,
                    gesture_names=names[:count],
                    gesture_messages=messages[:count],
                )
            )
        else:
            raise FormatError(
                f"{here}: output type {el.tag!r} is not one Wekinator 2 writes "
                "(classification, numeric or DTW)."
            )
    if not outputs:
        raise FormatError(f"{where}: the project has no outputs.")
    return outputs


def read_project(path: str | os.PathLike[str]) -> WekinatorProject:
    """Read a Wekinator project folder (or its ``.wekproj`` file).

    Raises
    ------
    GesturemapError
        If a file is missing, damaged, or does not agree with the others; the message names it.
    """
    folder, wekproj = _find_folder(Path(path))
    name = folder.name
    osc_port = 6448
    if wekproj is not None:
        root = read_xml(wekproj)
        name = xml_text(root, "projectName", name) or name
        osc_port = int(xml_number(root, "oscReceivePort", 6448, str(wekproj)))
        if not 1 <= osc_port <= 65535:
            raise FormatError(f"{wekproj}: oscReceivePort is {osc_port}, not a UDP port "
                              "(1 to 65535).")
    in_path, out_path = folder / "inputConfig.xml", folder / "outputConfig.xml"
    missing = [p.name for p in (in_path, out_path) if not p.is_file()]
    if missing:
        # often a project copied in part (a .wekproj alone, a folder without its XML files):
        # say what a whole one holds, and how its examples import without the rest
        data = folder / "current" / "currentData.arff"
        alone = (f"; or import its examples alone: gesturemap import {data} --outputs N (N: "
                 "how many of its last columns are outputs)" if data.is_file() else "")
        raise GesturemapError(
            f"{folder} is not a whole Wekinator project: it has no {' and no '.join(missing)}, "
            "which Wekinator saves next to the .wekproj with the project's current/ folder; "
            f"import the whole folder Wekinator saved{alone}.")
    inputs = read_xml(in_path)
    input_names = [s.text or "" for s in inputs.findall("inputNames/string")]
    n_inputs = int(xml_number(inputs, "numInputs", len(input_names), str(in_path)))
    if len(input_names) != n_inputs:
        raise FormatError(
            f"{in_path}: numInputs is {n_inputs} but {len(input_names)} input names are listed."
        )
    input_message = (xml_text(inputs, "oscMessage", "/wek/inputs") or "/wek/inputs").strip()
    if not input_message.startswith("/") or any(c in input_message for c in " #*?,[]{}"):
        raise FormatError(f"{in_path}: oscMessage is {input_message!r}, not an OSC address.")
    root = read_xml(out_path)
    project = WekinatorProject(
        folder,
        name,
        input_names,
        _outputs(root, str(out_path)),
        osc_port,
        (xml_text(root, "hostName", "localhost") or "localhost").strip(),
        int(xml_number(root, "outputPort", 12000, str(out_path))),
        (xml_text(root, "oscMessage", "/wek/outputs") or "/wek/outputs").strip(),
        input_message=input_message,
    )
    if project.is_dtw:
        if len(project.outputs) != 1:
            raise FormatError(f"{out_path}: a DTW project has one DTW output.")
        csv = folder / "current" / "currentData.csv"
        if csv.is_file():
            project.dtw_examples = read_dtw_csv(csv, n_inputs, project.outputs[0].classes)
        else:
            _warn_no_examples(csv)
        model = folder / "current" / "models" / "model1.xml"
        if model.is_file():
            project.dtw_settings = dtw_settings(read_xml(model))
    else:
        data = folder / "current" / "currentData.arff"
        if data.is_file():
            project.data = read_arff(data)
            _check_columns(project, data)
        else:
            _warn_no_examples(data)
        models = folder / "current" / "models"
        project.paths = [read_path(models / f"model{i}.xml") for i in range(len(project.outputs))]
        project.unread_models = [i for i, p in enumerate(project.paths)
                                 if p is None and (models / f"model{i}.xml").exists()]
    return project


def _warn_no_examples(path: Path) -> None:
    """Say that a project imports with its settings only: its examples' file is missing."""
    import warnings

    packed = [p.name for p in path.parent.glob(path.name + ".*")] if path.parent.is_dir() else []
    hint = (f" ({', '.join(sorted(packed))} is there: unpack it first)" if packed
            else " (Wekinator writes it when a project with examples is saved)")
    warnings.warn(f"{path} is missing{hint}: no examples imported, only the project's "
                  "settings.", stacklevel=3)


def _check_columns(project: WekinatorProject, where: Path) -> None:
    data = project.data
    assert data is not None
    n_meta = _meta_count(data)
    expected = n_meta + len(project.input_names) + len(project.outputs)
    if len(data.attributes) != expected:
        raise FormatError(
            f"{where}: {len(data.attributes)} columns, but the project has "
            f"{len(project.input_names)} inputs and {len(project.outputs)} outputs "
            f"(+{n_meta} metadata columns): the ARFF does not belong to this project."
        )
    for i, out in enumerate(project.outputs):
        a = data.attributes[n_meta + len(project.input_names) + i]
        if out.kind == "classifier" and a.kind not in ("nominal", "numeric"):
            raise FormatError(
                f"{where}: output {i + 1} is a classifier but its column {a.name!r} is {a.kind}."
            )
        if out.kind == "numeric" and a.kind != "numeric":
            raise FormatError(
                f"{where}: output {i + 1} ({out.name!r}) is numeric but its column "
                f"{a.name!r} is {a.kind}; has the project been edited?"
            )


def _a_class_of(output: WekinatorOutput, value: Any) -> bool:
    """Whether ``value`` is one of a classifier output's classes, 1 to ``numClasses`` (a
    numeric output takes any number)."""
    if output.kind != "classifier":
        return True
    try:
        number = float(value)
    except (TypeError, ValueError):
        return True  # not a number: the row's own check says so
    return number.is_integer() and 1 <= number <= output.classes


def _meta_count(data: Arff) -> int:
    names = [a.name for a in data.attributes[:3]]
    return 3 if names == list(META_COLUMNS) else 0


# ---- from the project to takes ------------------------------------------------------------------


def _unique_names(names: list[str], prefix: str) -> tuple[list[str], list[str]]:
    """Names a gesturemap project accepts (non-empty, all different): Wekinator's own default
    (``inputs-N`` / ``outputs-N``) where a name is empty or repeated. Also the renamed ones."""
    out, renamed, seen = [], [], set()
    for i, n in enumerate(names):
        fixed = n if n and n not in seen else f"{prefix}-{i + 1}"
        while fixed in seen:
            fixed += "'"
        if fixed != n:
            renamed.append(f"{n!r} -> {fixed!r}")
        seen.add(fixed)
        out.append(fixed)
    return out, renamed


@dataclass
class WekinatorImport(ImportSummary):
    """An :class:`ImportSummary` that also says what the project's outputs were."""

    project_name: str = ""
    wekinator_outputs: list[WekinatorOutput] = field(default_factory=list)
    per_output_examples: list[int] = field(default_factory=list)
    no_output: int = 0
    renamed: list[str] = field(default_factory=list)
    input_message: str = "/wek/inputs"
    paths: list[WekinatorPath | None] = field(default_factory=list)
    unread_models: list[int] = field(default_factory=list)
    wekinator_inputs: list[str] = field(default_factory=list)  # the names before renaming
    osc_port: int = 6448
    #: per output, the algorithm and inputs read from its saved model (see default_model)
    models: list[str] = field(default_factory=list)
    #: a DTW project's settings (model1.xml), and what they became / could not become
    dtw_settings: dict[str, Any] = field(default_factory=dict)
    dtw_carried: list[str] = field(default_factory=list)
    dtw_dropped: list[str] = field(default_factory=list)
    #: a DTW project's class of each gesture number (WekinatorProject.gesture_labels)
    gesture_labels: list[Any] = field(default_factory=list)
    #: the ARFF's rows; of the examples kept, those with a missing input value (filled)
    rows: int = 0
    imputed: int = 0
    #: rows whose classifier value is no class of its output (not 1 to numClasses), and the
    #: file's line of the first
    beyond_classes: int = 0
    beyond_line: int = 0

    def _rows_kept(self) -> list[str]:
        """What became of every row of the examples' file, each row dropped or changed said
        with why (Wekinator's own reasons)."""
        if not self.rows:
            return []
        out = [f" (of {self.rows} rows in currentData.arff)"] if self.rows != self.examples \
            else []
        if self.no_output:
            out.append(
                f"; {self.no_output} row{'s' if self.no_output != 1 else ''} left out: '?' for "
                "every output (recorded while no output was recording, or deleted with "
                "deleteExamplesForOutput), so none of Wekinator's models trains on "
                f"{'them' if self.no_output != 1 else 'it'}")
        if self.beyond_classes:
            n = self.beyond_classes
            out.append(
                f"; {n} row{'s' if n != 1 else ''} with a class beyond the classifier's "
                f"numClasses (the first on line {self.beyond_line}) left out for that output: "
                "no class Wekinator can record or send")
        if self.imputed:
            out.append(
                f"; {self.imputed} example{'s' if self.imputed != 1 else ''} with an input '?' "
                "(an input added after it was recorded) kept, the missing value filled with "
                "that input's mean, as Weka fills it for Wekinator's models")
        return out

    def describe(self) -> str:
        outs = []
        for o, n in zip(
            self.wekinator_outputs,
            self.per_output_examples or [None] * len(self.wekinator_outputs),
            strict=True,
        ):
            if o.kind == "classifier":
                what = f"classifier, {o.classes} class{'es' if o.classes != 1 else ''}"
            elif o.kind == "numeric":
                what = (
                    f"numeric {o.minimum:g}..{o.maximum:g}"
                    f"{' integer' if o.integer else ''}, {'hard' if o.hard_limits else 'soft'}"
                    " limits"
                )
            else:
                what = f"DTW, {o.classes} gesture{'s' if o.classes != 1 else ''}"
            outs.append(f"{o.name!r} ({what}{'' if n is None else f'; {n} examples'})")
        labels = sorted({t.label for t in self.takes}, key=_number_first)
        classes = (
            f"; classes {', '.join(map(str, labels))}"
            if self.task in ("classification", "dtw") and labels
            else ""
        )
        if any(isinstance(lb, str) for lb in self.gesture_labels):  # named, by their numbers
            classes = "; gestures " + ", ".join(
                f"{n} {lb}" for n, lb in enumerate(self.gesture_labels, 1))
        skipped = "".join(self._rows_kept())
        renamed = f"; renamed {', '.join(self.renamed)}" if self.renamed else ""
        if self.models:
            renamed += f"; from Wekinator's saved models: {'; '.join(self.models)}"
        if self.dtw_carried:
            renamed += f"; Wekinator's DTW settings: {'; '.join(self.dtw_carried)}"
        if self.dtw_dropped:
            renamed += f"; not carried over: {'; '.join(self.dtw_dropped)}"
        if self.input_message != "/wek/inputs" or self.osc_port != 6448:
            renamed += (f"; inputs received as Wekinator did, {self.input_message} on port "
                        f"{self.osc_port}")
        return (
            f"Wekinator project {self.project_name!r}: {len(self.inputs)} inputs, "
            f"{len(self.wekinator_outputs)} output{'s' if len(self.wekinator_outputs) != 1 else ''}"
            f" {', '.join(outs)}; {len(self.takes)} takes, {self.examples} examples"
            f"{skipped}{classes}{renamed}"
        )


def takes_from_project(wp: WekinatorProject) -> WekinatorImport:
    """Cut a Wekinator project's examples into takes (see the module docstring)."""
    input_names, renamed = _unique_names(list(wp.input_names), "inputs")
    out_names, renamed_out = _unique_names([o.name for o in wp.outputs], "outputs")
    summary = WekinatorImport(
        task="classification",
        inputs=input_names,
        outputs=out_names,
        takes=[],
        examples=0,
        skipped=0,
        metadata=[],
        output_types=[o.kind for o in wp.outputs],
        project_name=wp.name,
        input_message=wp.input_message,
        wekinator_outputs=wp.outputs,
        renamed=renamed + renamed_out,
        paths=list(wp.paths),
        unread_models=list(wp.unread_models),
        wekinator_inputs=list(wp.input_names),
        osc_port=wp.osc_port,
        dtw_settings=dict(wp.dtw_settings),
    )
    if wp.is_dtw:
        summary.task = "dtw"
        labels = summary.gesture_labels = wp.gesture_labels()
        for gesture, frames in wp.dtw_examples:
            summary.takes.append(ImportedTake(labels[gesture - 1], frames, None, None))
        summary.examples = len(wp.dtw_examples)
        counts = [0] * wp.outputs[0].classes
        for gesture, _ in wp.dtw_examples:
            counts[gesture - 1] += 1
        summary.per_output_examples = [len(wp.dtw_examples)]
        return summary
    n_out = len(wp.outputs)
    summary.task = (
        "classification"
        if n_out == 1 and wp.outputs[0].kind == "classifier"
        else "regression"
        if n_out == 1
        else "outputs"
    )
    data = wp.data
    summary.per_output_examples = [0] * n_out
    if data is None or not data.rows:
        return summary
    n_meta, n_in = _meta_count(data), len(wp.input_names)
    summary.metadata = [a.name for a in data.attributes[:n_meta]]
    time_col = 1 if n_meta and data.attributes[1].kind == "date" else None
    date_format = (
        _python_date_format(data.attributes[1].date_format or "") if time_col is not None else None
    )
    rows_x, rows_y, keys, times = [], [], [], []
    summary.rows = len(data.rows)
    for values, line in zip(data.rows, data.lines, strict=True):
        x = values[n_meta : n_meta + n_in]
        y = values[n_meta + n_in :]
        recorded = [j + 1 for j, v in enumerate(y) if v is not None]
        beyond = [j for j in recorded if not _a_class_of(wp.outputs[j - 1], y[j - 1])]
        if beyond:  # no class Wekinator could record or send: that output's value is unused
            summary.beyond_classes += 1
            summary.beyond_line = summary.beyond_line or line
            recorded = [j for j in recorded if j not in beyond]
            if not recorded:
                continue
            y = [None if j + 1 in beyond else v for j, v in enumerate(y)]
        if not recorded:  # no output to train: none of Wekinator's models uses it
            summary.no_output += 1
            continue
        try:
            xv = [np.nan if v is None else float(v) for v in x]
            yv = [0.0 if v is None else float(v) for v in y]
        except ValueError:
            raise GesturemapError(
                f"{data_where(wp)}, line {line}: a value is not a number."
            ) from None
        missing = np.isnan(xv)
        if not (np.isfinite(np.asarray(xv)[~missing]).all() and np.isfinite(yv).all()):
            raise GesturemapError(f"{data_where(wp)}, line {line}: a value is not finite.")
        summary.imputed += bool(missing.any())
        for j in recorded:
            summary.per_output_examples[j - 1] += 1
            o = wp.outputs[j - 1]
            if o.kind == "numeric" and o.enforce_limits:
                lo, hi = sorted((o.minimum, o.maximum))
                yv[j - 1] = min(max(yv[j - 1], lo), hi)
        rows_x.append(xv)
        rows_y.append(yv)
        rnd = values[2] if n_meta else None
        if summary.task == "classification":
            label: Any = int(round(yv[0]))
        else:
            label = mask_label(recorded, n_out)
        keys.append((rnd, label))
        times.append(_moment(values[1], date_format) if date_format is not None else None)
    summary.examples = len(rows_x)
    if not rows_x:
        return summary
    x_all = _mean_filled(np.array(rows_x))
    y_all = np.array(rows_y)
    start = 0
    for i in range(1, len(rows_x) + 1):
        if i < len(rows_x) and keys[i] == keys[start]:
            continue
        t = times[start:i]
        frame_times = None
        if all(v is not None for v in t):
            rel = np.array([(v - t[0]).total_seconds() for v in t])  # type: ignore[operator]
            frame_times = rel if np.all(np.diff(rel) >= 0) else None
        summary.takes.append(
            ImportedTake(
                keys[start][1],
                x_all[start:i],
                frame_times,
                None if summary.task == "classification" else y_all[start:i],
                t[-1],
            )
        )
        start = i
    return summary


def _mean_filled(x: np.ndarray) -> np.ndarray:
    """``x`` (T, D) with each missing input value (NaN: ``?`` in the ARFF, an input added after
    the example was recorded) replaced by that input's mean over the examples that have it,
    as Weka's ReplaceMissingValues fills them for the models Wekinator trains (0 for an input
    no example has)."""
    missing = np.isnan(x)
    if missing.any():
        counts = (~missing).sum(axis=0)
        means = np.where(counts > 0, np.where(missing, 0.0, x).sum(axis=0) / np.maximum(counts, 1),
                         0.0)
        x = np.where(missing, means, x)
    return x


def data_where(wp: WekinatorProject) -> str:
    return str(wp.folder / "current" / "currentData.arff")


# ---- into a gesturemap project ------------------------------------------------------------------


def default_model(summary: WekinatorImport, model: str | None = None) -> dict[str, Any]:
    """Each output's model: the algorithm, settings and inputs of its saved model
    (``current/models/modelN.xml``, :mod:`gesturemap.interop.wekinator.models`; what they became is
    listed in ``summary.models``), else Wekinator's own default per output type: kNN (k = 1,
    no smoothing) for a classifier, a neural network (one hidden layer, as many units as
    inputs, logistic) for a numeric output, DTW for DTW. ``model`` (a kind) replaces every
    algorithm (each output keeps its inputs)."""
    from ...models import MODEL_REGISTRY

    if model is not None and model not in MODEL_REGISTRY:
        raise GesturemapError(
            f"model {model!r} is not known; expected one of {', '.join(sorted(MODEL_REGISTRY))}."
        )
    n_in = len(summary.inputs)
    summary.models = []

    def for_kind(kind: str, n_used: int) -> dict[str, Any]:
        if model is not None:
            return {"kind": model, "params": {}}
        # Wekinator decides frame by frame on a stream it never resets: a classifier on the
        # current frame (window of 1), DTW matches starting anywhere (decaying = open-begin)
        if kind == "classifier":
            return {"kind": "knn", "params": {"k": 1, "likelihood_window": 1, "decision": "window"}}
        if kind == "dtw":
            return {"kind": "dtw", "params": {"decision": "decaying"}}
        return {"kind": "mlp", "params": {"hidden": max(1, n_used), "layers": 1,
                                          "activation": "logistic", "likelihood_window": 1}}

    def for_dtw(o: WekinatorOutput) -> dict[str, Any]:
        """A DTW output's model from the project's DTW settings (gesturemap.interop.wekinator.dtw)."""
        spec, carried, dropped = dtw_model(
            summary.dtw_settings, summary.gesture_labels or list(range(1, o.classes + 1)),
            [len(t.inputs) for t in summary.takes], summary.inputs)
        if model is not None:
            spec = for_kind("dtw", n_in)
            carried, dropped = [], ["every DTW setting (--model chose another algorithm)"]
        summary.dtw_carried, summary.dtw_dropped = carried, dropped
        return spec

    def for_output(i: int, o: WekinatorOutput) -> tuple[dict[str, Any], list[str] | None]:
        """The output's model and its inputs (None: all), from its saved path if it has one."""
        p = summary.paths[i] if i < len(summary.paths) else None
        if o.kind == "dtw":
            return for_dtw(o), None
        name = summary.outputs[i]
        if p is None:
            if i in summary.unread_models:  # else its settings would go unnoticed
                summary.models.append(f"{name}: models/model{i}.xml could not be read (empty "
                                      "or damaged: no settings in it), Wekinator's default used")
            return for_kind(o.kind, n_in), None
        if p.output_kind and p.output_kind != o.kind:
            summary.models.append(f"{name}: models/model{i}.xml is for a {p.output_kind} "
                                  "output, ignored")
            return for_kind(o.kind, n_in), None
        wanted = p.input_names or list(summary.wekinator_inputs)
        where = [summary.wekinator_inputs.index(n) if n in summary.wekinator_inputs else -1
                 for n in wanted]
        inputs = None
        if -1 in where:
            summary.models.append(f"{name}: its model's inputs {wanted} are not the project's;"
                                  " every input used")
        elif sorted(set(where)) != list(range(n_in)):
            inputs = [summary.inputs[j] for j in sorted(set(where))]
        n_used = n_in if inputs is None else len(inputs)
        spec, what, notes = model_spec(p, n_used)
        if spec is None:
            notes = [f"Wekinator's {what} is not known here, the default used instead"]
            spec = for_kind(o.kind, n_used)
        elif model is not None:
            spec, what, notes = {"kind": model, "params": {}}, model, []
        used = "" if inputs is None else f" on {', '.join(inputs)}"
        summary.models.append(f"{name}: {what}{used}"
                              f"{''.join(f' ({n})' for n in notes)}")
        return spec, inputs

    outs = summary.wekinator_outputs
    n = len(outs)
    chosen = [for_output(i, o) for i, o in enumerate(outs)]
    if n == 1 and chosen[0][1] is None:
        return chosen[0][0]
    specs = []
    for i, (o, (spec, inputs)) in enumerate(zip(outs, chosen, strict=True)):
        spec = dict(spec)
        spec.update(
            target="label" if n == 1 and summary.task == "classification" else i,
            type="classifier" if o.kind == "classifier" else "regressor",
            name=summary.outputs[i],
        )
        if inputs is not None:
            spec["inputs"] = inputs
        others = sorted(
            {t.label for t in summary.takes if i + 1 not in (outputs_of_label(t.label, n) or [])}
        )
        if others and n > 1:
            spec["skip_labels"] = others
        specs.append(spec)
    return {"kind": "per_output", "params": {"outputs": specs}}


def output_settings(wp: WekinatorProject, summary: WekinatorImport) -> dict[str, Any]:
    """The project's OSC output settings: Wekinator's host, port and message; each numeric
    output's range (clipped when HARD, rounded when INTEGER); a DTW project's gesture
    messages."""
    host = "127.0.0.1" if wp.output_host in ("localhost", "") else wp.output_host
    settings: dict[str, Any] = {
        "host": host,
        "port": wp.output_port,
        "addresses": {"outputs": wp.output_message or "/wek/outputs"},
    }
    if wp.is_dtw:
        dtw = wp.outputs[0]
        settings["gesture_messages"] = {str(j + 1): m for j, m in enumerate(dtw.gesture_messages)}
        labels = wp.gesture_labels()
        if any(isinstance(lb, str) for lb in labels):  # named: each keeps Wekinator's number
            settings["class_numbers"] = {str(lb): j + 1 for j, lb in enumerate(labels)}
        return settings
    if any(o.kind == "numeric" for o in wp.outputs):
        scales = []
        for o in wp.outputs:
            if o.kind == "numeric" and o.maximum != o.minimum:
                scales.append(
                    {
                        "in_min": o.minimum,
                        "in_max": o.maximum,
                        "out_min": o.minimum,
                        "out_max": o.maximum,
                        "clip": o.hard_limits,
                        "integer": o.integer,
                    }
                )
            else:
                scales.append({"clip": False})
        settings["scales"] = scales
    return settings


def sensor_settings(wp: WekinatorProject) -> dict[str, Any]:
    """The project's sensor: OSC on Wekinator's receive port (the .wekproj's) at its input
    message (inputConfig.xml's), where the project's sensor program sends."""
    sensor: dict[str, Any] = {"transport": "osc", "profile": "wekinator", "port": wp.osc_port}
    if wp.input_message != "/wek/inputs":
        sensor["address"] = wp.input_message
    return sensor


def import_wekinator(
    path: str | os.PathLike[str],
    project: str | os.PathLike[str],
    *,
    model: str | None = None,
) -> tuple[Any, WekinatorImport]:
    """Import a Wekinator project folder (or ``.wekproj``) into a new gesturemap project folder.

    Returns
    -------
    (Project, WekinatorImport)
    """
    from ...project import PROJECT_FILE, Project

    wp = read_project(path)
    summary = takes_from_project(wp)
    folder = Path(project)
    if (folder / PROJECT_FILE).exists():
        raise GesturemapError(
            f"{folder} already holds a project: import a Wekinator project into a new folder."
        )
    if wp.is_dtw:
        classes: list[Any] = wp.gesture_labels()
    elif summary.task == "classification":
        classes = list(range(1, wp.outputs[0].classes + 1))
    else:
        classes = []
    proj = Project(
        wp.name or folder.name or "imported",
        model=default_model(summary, model),
        input_names=summary.inputs,
        output_names=summary.outputs if summary.task in ("regression", "outputs") else None,
        outputs=output_settings(wp, summary),
        classes=classes or None,
        sensor=sensor_settings(wp),
    )
    added = [proj.add_take(take.inputs, take.label, times=take.times, outputs=take.outputs,
                           created=take.ended)
             for take in summary.takes]
    proj.save_batch(folder, [take.id for take in added])  # all or nothing: Ctrl-C included
    return proj, summary


# ---- command line -------------------------------------------------------------------------------


def looks_like_project(path: str | os.PathLike[str]) -> bool:
    p = Path(path)
    return p.suffix == ".wekproj" or (p.is_dir() and (p / "outputConfig.xml").is_file())
