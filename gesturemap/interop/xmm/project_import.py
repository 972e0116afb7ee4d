"""``gesturemap import`` of an XMM / RAPID-MIX / CoMo file into a project folder.

The models layer reads XMM's files (:func:`gesturemap.load_xmm`, ``Dataset.from_xmm``); making
a project of them is the application's job, here.

A training set's phrases become takes: of a new project, or appended to an existing one (one
file per gesture, imported one after the other), as an ARFF import appends
(:func:`gesturemap.interop.wekinator.arff.import_arff`): the project must have as many inputs, and recognise
classes (a unimodal set) or map to as many continuous outputs (a bimodal set); its takes are
kept and the new ones added after them, all or nothing, under the project's lock. A trained
model becomes the model of a new project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def main_import_xmm(args: Any) -> int:
    """``gesturemap import`` of an XMM / RAPID-MIX / CoMo file: a training set's phrases become
    takes of a new project, or are appended to an existing one (see the module docstring); a
    trained model becomes the model of a new project (ready for ``gesturemap run``, with no
    takes)."""
    import sys

    from ...data import Dataset
    from ...errors import FormatError, GesturemapError
    from ...models.base import jsonable_params
    from ...project import PROJECT_FILE, Project
    from ...project.lock import holding
    from .model_import import load_xmm

    try:
        folder = Path(args.project)
        existing = (folder / PROJECT_FILE).exists()
        try:
            ds = Dataset.from_xmm(args.file)
        except FormatError as not_a_set:
            if "it is an XMM model" not in str(not_a_set) and "RAPID-MIX document of type " \
                    "'rapid-mix:ml-model'" not in str(not_a_set):
                raise
            if existing:
                raise GesturemapError(
                    f"{folder} already holds a project; {args.file} is a trained model, which "
                    "becomes the model of a new project: import it into a new folder (only a "
                    "training set's phrases are added to a project).") from None
            model = load_xmm(args.file)
            d_out = int(model.output_dim_)
            # The project's settings are the model's, XMM's as the file gives them: empty,
            # the first ``gesturemap train`` (takes added later, such as the session's own
            # examples) would silently train gesturemap's defaults instead (other states,
            # regularisation, first differences on). A class's own settings too: a project
            # keys them by label (XMM's labels are text), as the window's editor does.
            params = model.get_params()
            settings = {**jsonable_params(params), "class_params": params["class_params"]}
            proj = Project(folder.name or "imported",
                           model={"kind": model.kind, "params": settings},
                           input_names=[f"in{i + 1}" for i in range(model.input_dim_)],
                           output_names=[f"y{i}" for i in range(d_out)] if d_out else None,
                           classes=list(model.labels_))
            proj.trained = model
            proj.save(folder)
            print(f"imported the trained {model.kind} model of {args.file} into {args.project}:"
                  f" {len(model.labels_)} class{'es' if len(model.labels_) != 1 else ''} "
                  f"({', '.join(map(str, model.labels_))}), {model.input_dim_} inputs"
                  f"{f', {d_out} outputs' if d_out else ''}; no takes")
            return 0
        recs = list(ds)
        if not recs:  # else a new project with no takes, or none added, said "0 takes"
            raise GesturemapError(f"{args.file} holds no phrase with frames: nothing to "
                                  "import (an ARFF without examples is refused alike).")
        bimodal = recs[0].outputs is not None
        if existing:
            with holding(folder):  # load, add, save: no other writer in between
                proj = Project.load(folder)
                before = len(proj.takes)
                _check_same_kind(proj, ds, bimodal, folder, str(args.file))
                merged = "" if bimodal else _merge(proj, recs, folder, str(args.file))
                if args.model is not None:
                    proj.model = args.model
                _add_all(proj, recs, folder)
        else:
            before, merged = 0, ""
            proj = Project(folder.name or "imported", model=args.model or "hhmm",
                           input_names=ds.input_names,
                           output_names=ds.output_names if bimodal else None)
            _add_all(proj, recs, folder)
    except GesturemapError as error:
        sys.stderr.write(f"gesturemap import: {' '.join(str(error).split())}\n")
        return 2
    except OSError as error:
        sys.stderr.write(f"gesturemap import: {error}\n")
        return 2
    labels = sorted({r.label for r in recs}, key=str)
    added_after = f"; added after the project's {before} takes" if existing else ""
    print(f"imported {args.file} into {args.project}: {len(recs)} takes, "
          f"{len(labels)} class{'es' if len(labels) != 1 else ''} ({', '.join(map(str, labels))})"
          f"{', with outputs' if bimodal else ''}"
          f"{added_after}{merged}")
    return 0


def _merge(proj: Any, recs: list[Any], folder: Path, where: str) -> str:
    """Give each phrase the project's class its label matches (by name, else by number: see
    :mod:`gesturemap.interop.classes`), the project's numbering kept for its old classes;
    what went where, for the summary. Refuses labels that cannot be matched."""
    import dataclasses

    from ..classes import merge_classes

    merge = merge_classes(proj, [r.label for r in recs], {}, where, folder)
    if merge.numbering is not None:
        proj.outputs = {**(proj.outputs or {}), "class_numbers": merge.numbering}
    recs[:] = [dataclasses.replace(r, label=merge.labels[r.label]) for r in recs]
    return f"; {merge.describe(merge.numbering)}"


def _add_all(proj: Any, recs: list[Any], folder: Path) -> None:
    """Add the phrases as takes and save: all or nothing (Ctrl-C included)."""
    added = [proj.add_take(r.inputs, r.label, outputs=r.outputs) for r in recs]
    proj.save_batch(folder, [take.id for take in added])


def _check_same_kind(proj: Any, ds: Any, bimodal: bool, folder: Path, where: str) -> None:
    """Refuse phrases the existing project cannot train on together with its takes: another
    number of inputs, continuous outputs into a project of classes, classes into a project of
    outputs, or another number of outputs (the rules of an ARFF import)."""
    from ...errors import GesturemapError

    inputs = list(ds.input_names)
    if proj.input_dim is not None and proj.input_dim != len(inputs):
        raise GesturemapError(
            f"{folder} has {proj.input_dim} inputs; {where} has {len(inputs)} "
            f"({', '.join(inputs)}). Import into a new project.")
    names = list(proj.output_names or [])
    if not bimodal:
        if names:
            raise GesturemapError(
                f"{folder} maps to continuous outputs ({', '.join(names)}); {where} holds "
                "classes (a unimodal training set). Import into a new project.")
        return
    outputs = list(ds.output_names)
    if not names:
        raise GesturemapError(
            f"{folder} recognises classes; {where} holds continuous outputs "
            f"({', '.join(outputs)}) after {len(inputs)} inputs (a bimodal training set). "
            "Import into a new project.")
    if len(names) != len(outputs):
        raise GesturemapError(
            f"{folder} has {len(names)} outputs ({', '.join(names)}); {where} has "
            f"{len(outputs)} ({', '.join(outputs)}). Import into a new project.")
