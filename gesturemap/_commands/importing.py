"""``gesturemap import``: its arguments, and which importer a file goes to.

A Wekinator project (its folder or ``.wekproj``, :mod:`gesturemap.interop.wekinator.project`), a Wekinator
training-data export (``.arff``, :mod:`gesturemap.interop.wekinator.arff`) or an XMM / RAPID-MIX / CoMo file
(``.json``, :mod:`gesturemap.interop.xmm.project_import`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import GesturemapError
from ..interop.wekinator.arff import import_arff
from ..interop.wekinator.project import import_wekinator, looks_like_project
from ..interop.xmm.project_import import main_import_xmm

__all__ = ["add_import_parser", "main_import", "report_import"]


def add_import_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``gesturemap import`` to ``gesturemap``'s subparsers."""
    p = subparsers.add_parser(
        "import",
        help="import a Wekinator project, Wekinator data (ARFF) or XMM / RAPID-MIX / CoMo "
        "files into a project",
        description="Import into a project folder: a Wekinator project (its folder or "
        ".wekproj; outputs, per-output examples and DTW as Wekinator has them), a Wekinator "
        "training-data export (.arff, or Weka's .arff.gz; the project is created if it does not exist, else the "
        "examples are added as new takes, their classes matched with the project's by name, "
        "else by number), or an XMM / RAPID-MIX / CoMo training set (.json; "
        "appended to an existing project as an ARFF is) or trained model (.json, into a new "
        "project).",
    )
    p.add_argument("file", metavar="PATH", help="project folder, .wekproj, .arff (.arff.gz) or .json")
    p.add_argument("--project", required=True, metavar="DIR")
    p.add_argument(
        "--outputs",
        type=int,
        metavar="N",
        help="the last N columns are outputs (default: the trailing class columns, "
        "else the last column)",
    )
    p.add_argument("--output", metavar="NAME", help="import only this output column")
    p.add_argument(
        "--model",
        metavar="KIND",
        help="model kind of a new project (default: a Wekinator project's outputs keep their "
        "saved models' algorithms, else knn for classes and mlp for continuous values, one "
        "model per output; KIND replaces every algorithm, each output keeping its inputs)",
    )
    return p


def main_import(args: argparse.Namespace) -> int:
    """Run ``gesturemap import``; exit code 2 with one line on stderr for bad input."""
    if looks_like_project(args.file):
        return main_import_project(args)
    inside = Path(args.file).resolve().parent.parent
    if (Path(args.file).parent.name == "current" and looks_like_project(inside)
            and args.outputs is None and args.output is None):
        # a project's own data file: its outputConfig.xml says which columns are outputs
        print(f"{args.file} belongs to the Wekinator project {inside}: importing the project")
        args.file = str(inside)
        return main_import_project(args)
    saved_by = inside.parent
    if (Path(args.file).parent.name == "models" and inside.name == "current"
            and looks_like_project(saved_by) and args.outputs is None and args.output is None):
        # a model Wekinator saved is read only with its project (its outputs, inputs and
        # examples are there): the user dropping it meant that project
        print(f"{args.file} is a model the Wekinator project {saved_by} saved: importing the "
              "project (each output's algorithm and settings come from its saved model)")
        args.file = str(saved_by)
        return main_import_project(args)
    refused = _other_tools_file(Path(args.file))
    if refused:
        sys.stderr.write(f"gesturemap import: {args.file} {refused}\n")
        return 2
    if Path(args.file).is_dir():  # no Wekinator project's files in it: say what it is not
        what = ("a gesturemap project already (open it, or copy the folder)"
                if (Path(args.file) / "project.json").is_file() else
                "not a Wekinator project (it has no outputConfig.xml)")
        sys.stderr.write(f"gesturemap import: {args.file} is a folder, {what}; import a "
                         "Wekinator project's folder or .wekproj, an .arff, or an XMM / "
                         "RAPID-MIX / CoMo .json file\n")
        return 2
    if Path(args.file).suffix.lower() in (".json", ".json5"):
        return main_import_xmm(args)
    return report_import(args, lambda: import_arff(
        args.file, args.project, outputs=args.outputs, output=args.output, model=args.model))


def _other_tools_file(path: Path) -> str:
    """What a file of Wekinator's that holds no examples is, and what to import instead; ""
    for any other file (the ARFF reader names what is wrong with it). Said by name: read as
    an ARFF, these only gave "binary data" or "expected @relation", which said neither what
    the file is nor what to do."""
    import os
    import stat

    try:
        # not blocking, and a regular file only: opening a FIFO that nobody writes would wait
        # for ever (the importer's own reader refuses it with its reason)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return ""  # the importer says why it cannot be read
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        head = os.read(fd, 512)
    except OSError:
        return ""
    finally:
        os.close(fd)
    instead = "import the Wekinator project's folder or its .wekproj instead"
    # a classifier's or numeric output's model is a Java object stream, a DTW model XML
    if (head.startswith(b"\xac\xed\x00\x05") and b"wekimini" in head) or b"<DtwModel>" in head:
        return ("is a model Wekinator saved (a project's current/models/modelN.xml): "
                "gesturemap reads it only as part of its project; " + instead
                + " (the folder with outputConfig.xml, above current/).")
    if b"<WekiInputHelperFileData>" in head:
        return ("is a Wekinator Input Helper project (how inputs are computed before they "
                "reach Wekinator: no examples, no outputs); " + instead + ", and keep Input "
                "Helper running in front of gesturemap as it ran in front of Wekinator.")
    return ""


def report_import(args: argparse.Namespace, run: Any) -> int:
    """Run an import (``run()`` returns ``(project, summary)``) and say how it went: the
    summary on stdout and 0, or one line on stderr and 2 for input that cannot be imported."""
    try:
        _, summary = run()
    except GesturemapError as error:
        sys.stderr.write(f"gesturemap import: {' '.join(str(error).split())}\n")
        return 2
    except OSError as error:
        sys.stderr.write(f"gesturemap import: {error}\n")
        return 2
    print(f"imported {args.file} into {args.project}: {summary.describe()}")
    return 0


def main_import_project(args: argparse.Namespace) -> int:
    """``gesturemap import`` of a Wekinator project folder or .wekproj."""
    return report_import(args, lambda: import_wekinator(args.file, args.project,
                                                        model=args.model))
