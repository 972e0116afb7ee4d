"""``gesturemap export DIR --arff F --xmm-set F --xmm-model F``: a project's takes or model for
Wekinator / XMM.

Every output asked for is made first, and only then are they written, all together
(:func:`gesturemap.utils.storage.atomic_write_all`): a command refused for one of them (an XMM
training set with no take it can hold, a model with delta features) writes none, so what is
on disk is never half of what the command line asked for, next to an error.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import GesturemapError

__all__ = ["export"]


def export(args: argparse.Namespace) -> int:
    """Run ``gesturemap export`` (``args.dir``, ``args.arff``, ``args.xmm_set``,
    ``args.xmm_model``); returns the exit code. A refusal raises
    :class:`~gesturemap.errors.GesturemapError` (or ``SystemExit``) before any file is
    written."""
    from ..project import Project
    from ..utils.storage import atomic_write_all, outside

    asked = [args.arff, args.xmm_set, args.xmm_model]
    if not any(asked):
        raise SystemExit("gesturemap export: say what to write: --arff, --xmm-set or --xmm-model")
    outside(asked, [args.dir], "export")
    project = Project.load(args.dir)
    others = sum(bool(a) for a in asked) > 1
    files: list[tuple[Any, bytes]] = []
    said: list[str] = []
    try:
        if args.arff:
            said += _arff(project, args, files)
        if args.xmm_set:
            said += _xmm_set(project, args, files)
        if args.xmm_model:
            said += _xmm_model(project, args, files)
    except GesturemapError as error:
        if others:  # several outputs asked for: say that none was written
            raise GesturemapError(f"nothing written: {error}") from None
        raise
    atomic_write_all(files)
    for line in said:
        print(line)
    return 0


def _arff(project: Any, args: argparse.Namespace, files: list[tuple[Any, bytes]]) -> list[str]:
    from ..interop.wekinator.examples import arff_class_numbers, arff_text

    _has_takes(project, args, "an ARFF")
    text, rows = arff_text(project)
    files.append((args.arff, text.encode("utf-8")))
    said = [f"wrote {rows} examples of {len(project.takes)} takes to {args.arff}"]
    named = {lb: n for lb, n in (arff_class_numbers(project) if not project.output_names
                                 else {}).items() if str(lb) != str(n)}
    if named:  # Wekinator's ARFF holds numbers: which is which is said once, here
        said.append("classes as numbers: " + ", ".join(f"{n} {lb}" for lb, n in named.items()))
    return said


def _xmm_set(project: Any, args: argparse.Namespace,
             files: list[tuple[Any, bytes]]) -> list[str]:
    from ..interop.wekinator.examples import takes_for_every_output
    from ..interop.xmm.model_export import training_set_to_xmm

    _has_takes(project, args, "an XMM training set")
    whole, partial = takes_for_every_output(project, project.raw_dataset())
    why = ("recorded for some of its outputs only (Wekinator's per-output examples): an XMM "
           "training set has no missing values, and the others' would be taught as 0")
    if partial and not len(whole):
        keep = ("leave out --xmm-set, and --arff writes them with Wekinator's '?'"
                if args.arff else "--arff writes them, with Wekinator's '?'")
        raise GesturemapError(f"{args.dir}: no XMM training set can be written: every take "
                              f"was {why}; {keep}")
    files.append((args.xmm_set, json.dumps(training_set_to_xmm(whole), indent=1)
                  .encode("utf-8")))
    said = [f"wrote {len(whole)} takes to {args.xmm_set}"]
    if partial:
        said.append(f"left out {len(partial)} takes ({', '.join(sorted(set(map(str, partial))))}) "
                    f"{why}; --arff keeps them, with Wekinator's '?'")
    return said


def _xmm_model(project: Any, args: argparse.Namespace,
               files: list[tuple[Any, bytes]]) -> list[str]:
    from ..interop.xmm.model_export import model_to_xmm

    if project.trained is None:
        raise GesturemapError(f"{args.dir} has no trained model: run gesturemap train "
                              f"{args.dir} first")
    if project.trained.kind not in ("gmm", "hhmm"):
        raise GesturemapError(
            f"XMM has GMM and HHMM models; {args.dir}'s model is a {project.trained.kind}: set "
            "the model's \"kind\" to \"gmm\" or \"hhmm\" and \"deltas\": false in its "
            f"\"params\" in its project.json (or the window's Model tab), run gesturemap train "
            f"{args.dir}, and export the model again (--arff and --xmm-set write its takes "
            "whatever the model)")
    if getattr(project.trained, "deltas", False):
        # the library's message says "deltas=False", which a project's user sets elsewhere
        raise GesturemapError(
            f"XMM's models have no delta features, and {args.dir}'s "
            f"{project.trained.kind} uses them (the default): set \"deltas\": false in "
            "the model's \"params\" in its project.json (or the window's Model tab), run "
            f"gesturemap train {args.dir}, and export the model again")
    files.append((args.xmm_model, json.dumps(model_to_xmm(project.trained), indent=1)
                  .encode("utf-8")))
    return [f"wrote the {project.trained.kind} model to {args.xmm_model}"]


def _has_takes(project: Any, args: argparse.Namespace, what: str) -> None:
    if not project.takes:
        raise GesturemapError(
            f"{args.dir} has no takes to write as {what}: record takes (the window, or "
            f"gesturemap run {args.dir} with Wekinator's startRecording) or import them "
            f"(gesturemap import FILE --project {args.dir}) first")
