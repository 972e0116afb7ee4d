"""``gesturemap import`` of an XMM / RAPID-MIX / CoMo file into a new project folder.

The models layer reads XMM's files (:func:`gesturemap.load_xmm`, ``Dataset.from_xmm``); making
a project of them is the application's job, here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def main_import_xmm(args: Any) -> int:
    """``gesturemap import`` of an XMM / RAPID-MIX / CoMo file into a new project: a training
    set becomes takes; a trained model becomes the project's model (ready for ``gesturemap
    run``, with no takes)."""
    import sys

    from .data import Dataset
    from .errors import FormatError, GesturemapError
    from .models.xmm_import import load_xmm
    from .project import PROJECT_FILE, Project

    try:
        folder = Path(args.project)
        if (folder / PROJECT_FILE).exists():
            raise GesturemapError(f"{folder} already holds a project: import into a new folder.")
        try:
            ds = Dataset.from_xmm(args.file)
        except FormatError as not_a_set:
            if "it is an XMM model" not in str(not_a_set) and "RAPID-MIX document of type " \
                    "'rapid-mix:ml-model'" not in str(not_a_set):
                raise
            model = load_xmm(args.file)
            d_out = int(model.output_dim_)
            proj = Project(folder.name or "imported", model={"kind": model.kind, "params": {}},
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
        bimodal = bool(recs) and recs[0].outputs is not None
        proj = Project(folder.name or "imported", model=args.model or "hhmm",
                       input_names=ds.input_names,
                       output_names=ds.output_names if bimodal else None)
        for r in recs:
            proj.add_take(r.inputs, r.label, outputs=r.outputs)
        proj.save(folder)
    except GesturemapError as error:
        sys.stderr.write(f"gesturemap import: {' '.join(str(error).split())}\n")
        return 2
    labels = sorted({r.label for r in recs}, key=str)
    print(f"imported {args.file} into {args.project}: {len(recs)} takes, "
          f"{len(labels)} class{'es' if len(labels) != 1 else ''} ({', '.join(map(str, labels))})"
          f"{', with outputs' if bimodal else ''}")
    return 0
