"""``gesturemap guide DIR [TAKE...] [--folds K] [--json FILE]``: how distinct each take of a
project is from the other classes (judged by the model trained without it), and which takes
blur their class into another. Nothing is written but ``--json``'s file."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["add_parser", "main_guide"]


def add_parser(sub: Any) -> None:
    """The ``guide`` command's arguments."""
    p = sub.add_parser(
        "guide", help="the vocabulary guide: how distinct each take is, and which takes blur "
                      "their class into another",
        description="Judge each take of a project by the model trained without it (the "
                    "project's own settings and pipeline; cross-validation with at most "
                    "--folds trainings): its distinctness from the other classes, the nearest "
                    "one, and a warning where it collides. The warning's threshold is chosen "
                    "by the same cross-validation. Nothing is written but --json's file.")
    p.add_argument("dir")
    p.add_argument("takes", nargs="*", metavar="TAKE",
                   help="take ids to show (default: every take)")
    p.add_argument("--folds", type=int, default=10, metavar="K",
                   help="at most K trainings (leave-one-take-out when the project has no more "
                        "takes; default 10)")
    p.add_argument("--json", metavar="FILE", help="write the guide as JSON")


def main_guide(args: argparse.Namespace) -> int:
    """Run ``gesturemap guide``; returns the exit code."""
    from ..errors import GesturemapError
    from ..evaluation.vocabulary import guide_for_project
    from ..project import Project
    from ..utils.storage import atomic_write_text, outside

    outside([args.json], [args.dir], "guide")
    project = Project.load(args.dir)
    guide, ids = guide_for_project(project, folds=args.folds)
    unknown = [t for t in args.takes if t not in ids]
    if unknown:
        raise GesturemapError(f"take(s) {', '.join(unknown)}: not in {args.dir} (its takes: "
                              f"{', '.join(ids[:5])}{', …' if len(ids) > 5 else ''})")
    shown = [i for i, take_id in enumerate(ids) if not args.takes or take_id in args.takes]
    width = max([len(take_id) for take_id in ids] + [4])
    print(f"{'take':<{width}}  {'class':<12}{'distinct':>9}  {'nearest':<14}{'margin':>8}  "
          "warning")
    for i in shown:
        d = guide.takes[i]
        if not d.judged:  # the only take of its class: nothing measured, say why
            print(f"{ids[i]:<{width}}  {str(d.label):<12}{'-':>9}  {'-':<14}{'-':>8}  "
                  f"not judged: {d.reason}")
            continue
        print(f"{ids[i]:<{width}}  {str(d.label):<12}{100 * d.score:>8.0f}%  "
              f"{str(d.nearest):<14}{d.margin:>8.2f}  "
              + (f"COLLIDES: {d.reason}" if d.collides else ""))
    if guide.folds:
        print(f"(each take judged by the model trained without it, {guide.folds} trainings; "
              f"warning below {guide.threshold:.2f} nats per frame, chosen by the same "
              "cross-validation)")
    else:
        print("(no take could be judged: every class has a single take, and a take is judged "
              "by a model trained without it; record a second take of a class to judge its "
              "takes)")
    print(_blurs(guide, ids))
    if args.json:
        atomic_write_text(args.json, json.dumps({
            "threshold": guide.threshold, "folds": guide.folds,
            "thresholds": {str(s): t for s, t in guide.thresholds.items()},
            "takes": [{"id": ids[i], **guide.takes[i].to_dict()} for i in shown],
            "blurs": [{"take": ids[b.index], "label": str(b.label), "into": str(b.into)}
                      for b in guide.blurs]}, indent=1))
    return 0


def _blurs(guide: Any, ids: list[str]) -> str:
    lines = []
    for label in guide.labels:
        found = guide.blurring(label)
        if found:
            into = ", ".join(sorted({str(b.into) for b in found}))
            lines.append(f"{label} is blurred into {into} by {', '.join(ids[b.index] for b in found)}")
    return "\n".join(lines) or "no take blurs its class into another."
