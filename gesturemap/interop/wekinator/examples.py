"""Wekinator's examples on a gesturemap project: per-output labels, deleting an output's
examples, and the takes written as the ARFF Wekinator writes.

A take of a per-output project is labelled with the outputs it was recorded for: ``"take"``
for all of them, else ``"outputs 1,3"`` (1-based); see :mod:`gesturemap.interop.wekinator.project`.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Collection
from typing import Any

import numpy as np

from ...data import class_numbers, label_for_number
from ...errors import GesturemapError
from ...project.takes import take_moment
from ...utils.storage import atomic_write_text

__all__ = [
    "ALL_OUTPUTS",
    "check_output_deletion",
    "delete_examples_for_output",
    "arff_text",
    "export_arff",
    "holds_output",
    "mask_label",
    "output_count",
    "output_index",
    "outputs_of_label",
    "sync_skip_labels",
    "takes_for_every_output",
]

#: The label of a take recorded for every output of a per-output project.
ALL_OUTPUTS = "take"


def mask_label(recorded: list[int], n_outputs: int) -> str:
    """The take label of examples recorded for the 1-based outputs ``recorded``."""
    recorded = sorted(set(recorded))
    if recorded == list(range(1, n_outputs + 1)):
        return ALL_OUTPUTS
    return "outputs " + ",".join(map(str, recorded))


def outputs_of_label(label: Any, n_outputs: int) -> list[int] | None:
    """The 1-based outputs a take label stands for (every output for other labels); None if
    it names none."""
    if isinstance(label, str):
        m = re.fullmatch(r"outputs ([0-9]+(?:,[0-9]+)*)", label)
        if m:
            return sorted({int(v) for v in m.group(1).split(",")})
    return list(range(1, n_outputs + 1))


def output_index(value: Any) -> int:
    """The 1-based output index a control message names: a whole number (an OSC int, or a
    float or text holding one); anything else is refused."""
    if isinstance(value, bool):
        value = int(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GesturemapError(
            f"deleteExamplesForOutput {value!r:.40}: not an output number") from None
    if not np.isfinite(number) or not number.is_integer():
        raise GesturemapError(f"deleteExamplesForOutput {value!r:.40}: not a whole number")
    return int(number)


def output_count(project: Any) -> int:
    """How many outputs Wekinator would see in ``project``: a DTW project's gestures (its
    gesture messages, or its highest gesture number), a per-output project's outputs, a
    regression's targets; a classifier has one."""
    model = project.model
    kind = model.get("kind")
    if kind == "dtw":
        return _highest_gesture(project, _gesture_numbering(project)[0])
    if kind == "per_output":
        return len(model.get("params", {}).get("outputs", []))
    return max(1, len(project.output_names or ()))


def _highest_gesture(project: Any, labels: list[Any]) -> int:
    """The highest number among ``labels`` (numbered as the engine numbers them) and the
    gestures whose messages the project names: how many values a client reads."""
    numbering = (project.outputs or {}).get("class_numbers")
    numbers = [int(n) for n in class_numbers(labels, numbering)] if labels else []
    messages = ((project.outputs or {}).get("gesture_messages") or {})
    return max([len(messages), *numbers, 0])


def _gesture_numbering(project: Any) -> tuple[list[Any], dict[str, int] | None]:
    """A DTW project's gestures, in the order the engine numbers them (its model's, else
    sorted), and the numbers an import gave its named gestures (``outputs.class_numbers``)."""
    labels = list(getattr(project.trained, "labels_", None) or [])
    if not labels:
        labels = _sorted_labels({*project.classes, *(t.label for t in project.takes)})
    return labels, (project.outputs or {}).get("class_numbers")


def _sorted_labels(found: set[Any]) -> list[Any]:
    """Classes in the order a model would learn them (``labels_``)."""
    return sorted(found, key=lambda lb: (isinstance(lb, str), str(lb) if
                                         isinstance(lb, str) else int(lb)))


def delete_examples_for_output(project: Any, index: Any,
                               takes: Collection[str] | None = None) -> int:
    """Wekinator's ``deleteExamplesForOutput index`` (1-based) on a gesturemap project; returns
    the number of takes removed or changed.

    - DTW model: the takes of gesture ``index`` go.
    - ``per_output`` model: output ``index`` is taken out of every take's recorded outputs
      (relabelled ``"outputs ..."``; removed when no output is left) and every output's
      ``skip_labels`` follows, so the other outputs keep their examples.
    - one output (a classifier, a regression with one target): every take goes, as its only
      output's examples.
    - several outputs learnt by one model: refused (a take cannot keep some outputs' examples
      without the others'; ``deleteAllExamples`` deletes them all).

    ``takes``: the ids of the takes it acts on (default: every take); the others are left as
    they are.

    Raises
    ------
    GesturemapError
        If ``index`` is not a whole number between 1 and the number of outputs (Wekinator
        refuses it too), or the project learns its outputs together; nothing is changed.
    """
    index = check_output_deletion(project, index)
    chosen = [t for t in project.takes if takes is None or t.id in takes]
    if project.model.get("kind") == "per_output":
        return _delete_output_examples(project, index, chosen)
    gone = [t.id for t in chosen if holds_output(project, t.label, index)]
    for take_id in gone:
        project.remove_take(take_id)
    return len(gone)


def check_output_deletion(project: Any, index: Any) -> int:
    """The 1-based output ``deleteExamplesForOutput index`` names in ``project``; raises
    GesturemapError, as :func:`delete_examples_for_output` would, if it names none or the
    project cannot delete one output's examples."""
    index = output_index(index)
    n = output_count(project)
    if not 1 <= index <= n:
        what = "gestures" if project.model.get("kind") == "dtw" else "outputs"
        raise GesturemapError(
            f"deleteExamplesForOutput {index}: the project has {n} {what}: give an index "
            f"between 1 and {n}; nothing was deleted.")
    if project.model.get("kind") not in ("dtw", "per_output") and n != 1:
        raise GesturemapError(
            f"deleteExamplesForOutput {index}: this project's model learns its {n} outputs "
            "together, so a take cannot lose one output's examples and keep the others'; "
            "nothing was deleted. deleteAllExamples deletes every take (they can be "
            "restored), or make the model per-output.")
    return index


def holds_output(project: Any, label: Any, index: int) -> bool:
    """Whether a take labelled ``label`` holds examples of output ``index`` (1-based), those
    ``deleteExamplesForOutput index`` deletes: a DTW project's takes of gesture ``index`` (by
    Wekinator's number, a named gesture's too), a per-output project's takes recorded for that
    output, any take of a project of one output."""
    kind = project.model.get("kind")
    if kind == "dtw":
        labels, numbering = _gesture_numbering(project)
        return label == (label_for_number(index, labels, numbering) if labels else index)
    if kind == "per_output":
        specs = project.model["params"]["outputs"]
        recorded = outputs_of_label(label, len(specs)) or []
        return index in recorded and label not in specs[index - 1].get("skip_labels", [])
    return True


def _delete_output_examples(project: Any, index: int, takes: list[Any]) -> int:
    """A per-output project's ``deleteExamplesForOutput index`` on ``takes``."""
    n = output_count(project)
    changed = 0
    for take in takes:
        if not holds_output(project, take.label, index):
            continue
        left = [j for j in outputs_of_label(take.label, n) or [] if j != index]
        changed += 1
        if left:
            project.relabel_take(take.id, mask_label(left, n))
        else:
            project.remove_take(take.id)
    sync_skip_labels(project)
    return changed


def takes_for_every_output(project: Any, dataset: Any) -> tuple[Any, list[Any]]:
    """``dataset`` (a project's takes) without the takes a per-output project recorded for
    some of its outputs only, and the labels of those left out (in order). Such a take holds
    0 for its other outputs in place of Wekinator's '?': written where no value may be
    missing (an XMM training set), that 0 would be taught as the outputs' value."""
    if project.model.get("kind") != "per_output":
        return dataset, []
    n = output_count(project)
    kept, left_out = dataset.copy(), []
    for i in reversed(range(len(kept))):
        label = kept[i].label
        if not all(holds_output(project, label, k) for k in range(1, n + 1)):
            left_out.append(label)
            kept.remove(i)
    return kept, left_out[::-1]


def sync_skip_labels(project: Any) -> None:
    """Each output of a ``per_output`` project skips exactly the take labels that leave it
    out (after takes were relabelled, removed or restored); other projects are left alone."""
    model = dict(project.model)
    if model.get("kind") != "per_output":
        return
    specs = [dict(s) for s in model["params"]["outputs"]]
    n = len(specs)
    labels = {t.label for t in project.takes}
    for i, spec in enumerate(specs):
        skip = sorted(lb for lb in labels if i + 1 not in (outputs_of_label(lb, n) or []))
        if skip:
            spec["skip_labels"] = skip
        else:
            spec.pop("skip_labels", None)
    model["params"] = {**model.get("params", {}), "outputs": specs}
    project.model = model


# ---- export -------------------------------------------------------------------------------------


def _quote(name: str) -> str:
    if name and re.fullmatch(r"[A-Za-z0-9_.\-]+", name) and name[0] not in "{}%,'\"":
        return name
    return "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"


#: what a class name's quoted form escapes (``gesturemap import`` reads them back)
_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _comment_name(name: str) -> str:
    """A class name as its ``% class N: NAME`` comment writes it: as it is, or quoted when
    the comment would lose or misread it (surrounding spaces, a leading quote, a line
    break that would end the comment)."""
    if name == name.strip() and name[0] not in "'\"" and name.isprintable():
        return name
    return "'" + "".join(_ESCAPES.get(c, c if c.isprintable() else f"\\u{ord(c):04x}")
                         for c in name) + "'"


def arff_class_numbers(project: Any) -> dict[Any, int]:
    """The number each class of a classification project is written as in Wekinator's ARFF:
    the number the project sends for it on ``/wek/outputs`` (integer labels as they are, else
    the place in the model's order, from 1, or an import's numbering)."""
    labels, numbering = _gesture_numbering(project)
    known = {*project.classes, *(t.label for t in project.takes)}
    if not known <= set(labels):  # a class the trained model has not met yet: as a new one
        labels = _sorted_labels(known)
    return {lb: int(n) for lb, n in zip(labels, class_numbers(labels, numbering), strict=True)}


def export_arff(project: Any, path: str | os.PathLike[str]) -> int:
    """Write a project's takes as the ARFF Wekinator writes (atomically): see
    :func:`arff_text`. Returns the number of rows."""
    text, rows = arff_text(project)
    atomic_write_text(path, text)
    return rows


def arff_text(project: Any) -> tuple[str, int]:
    """A project's takes as the ARFF Wekinator writes (``ID``, ``Time``, ``'Training
    round'``, inputs, outputs); one training round per take. Returns the text and the
    number of rows; raises :class:`~gesturemap.errors.GesturemapError` for a project it
    cannot write (no takes).

    A classification project has one classifier output (class numbers: the numbers the
    project sends on ``/wek/outputs``, the names they stand for in ``%`` comments at the top); a
    regression project one numeric column per output; a per-output project's takes write
    ``?`` for the outputs their label leaves out, and a ``% outputs: N`` comment at the top
    says how many trailing columns are outputs (``gesturemap import`` reads it).
    """
    takes = list(project.takes)
    if not takes:
        raise GesturemapError("the project has no takes to export.")
    d_in = takes[0].inputs.shape[1]
    in_names = list(project.input_names or [f"inputs-{i + 1}" for i in range(d_in)])
    out_names = list(project.output_names or [])
    classification = not (project.output_names or [])
    numbers = arff_class_numbers(project) if classification else {}
    # Wekinator's classes are numbers: the names they stand for, for whoever reads the file
    # (ARFF readers, Wekinator's included, skip lines starting with %)
    named = {lb: n for lb, n in numbers.items() if str(lb) != str(n)}
    lines = [f"% class {n}: {_comment_name(str(lb))}" for lb, n in named.items()]
    if out_names:  # named outputs cannot be told from inputs: how many, for gesturemap import
        lines.append(f"% outputs: {len(out_names)}")
    lines += [
        "@relation dataset",
        "",
        "@attribute ID numeric",
        "@attribute Time date 'yyyy/MM/dd HH:mm:ss:SSS'",
        "@attribute 'Training round' numeric",
    ]
    lines += [f"@attribute {_quote(n)} numeric" for n in in_names]
    if classification:
        top = max([0, *numbers.values()])
        lines.append(f"@attribute outputs-1 {{{','.join(str(v) for v in range(top + 1))}}}")
    else:
        kinds = _output_kinds(project, len(out_names))
        for name, kind in zip(out_names, kinds, strict=True):
            if kind == "classifier":
                top = int(max(np.max(t.outputs[:, out_names.index(name)]) for t in takes))
                lines.append(f"@attribute {_quote(name)} {{{','.join(map(str, range(top + 1)))}}}")
            else:
                lines.append(f"@attribute {_quote(name)} numeric")
    lines += ["", "@data"]
    row = 0
    last: _dt.datetime | None = None
    for rnd, take in enumerate(takes, start=1):
        times = take.times if take.times is not None else np.arange(take.length) * 0.01
        times = times - times[-1]
        recorded = None if classification else outputs_of_label(take.label, len(out_names)) or []
        # Wekinator writes when each example was recorded, in local time: a take's frames
        # up to when it was recorded (its end). Takes added in one go share a millisecond;
        # each starts after the one before, so that the file's times never go back.
        start = (take_moment(take) or _dt.datetime.now()) + _dt.timedelta(
            seconds=float(times[0]))
        times = times - times[0]
        if last is not None and start <= last:
            start = last + _dt.timedelta(milliseconds=1)
        for f in range(take.length):
            row += 1
            stamp = start + _dt.timedelta(seconds=float(times[f]))
            last = stamp
            text = stamp.strftime("%Y/%m/%d %H:%M:%S:") + f"{stamp.microsecond // 1000:03d}"
            values = [str(row), f"'{text}'", str(rnd)]
            values += [repr(float(v)) for v in take.inputs[f]]
            if classification:
                values.append(str(numbers[take.label]))
            else:
                for j, v in enumerate(take.outputs[f]):
                    kind = _output_kinds(project, len(out_names))[j]
                    if recorded is not None and j + 1 not in recorded:
                        values.append("?")
                    elif kind == "classifier":
                        values.append(str(int(round(float(v)))))
                    else:
                        values.append(repr(float(v)))
            lines.append(",".join(values))
    return "\n".join(lines) + "\n", row


def _output_kinds(project: Any, n: int) -> list[str]:
    model = project.model
    if model.get("kind") == "per_output":
        specs = model.get("params", {}).get("outputs", [])
        if len(specs) == n:
            return [s.get("type", "regressor") for s in specs]
    return ["regressor"] * n
