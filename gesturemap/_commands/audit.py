"""``gesturemap audit DIR [REHEARSAL...] --budget 0.1 [--cost LABEL=C] [--apply]``: replay
rehearsal recordings (by default every one the project keeps) through a project's spotter,
print the false triggers and the thresholds that meet the budget; ``--apply`` stores them (and
the costs) in the project's spotting settings, under the project's lock, keeping those waiting
for a gesture the model does not spot yet. Nothing is written without it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import GesturemapError

__all__ = ["add_parser", "main_audit"]

#: False triggers printed (each with its why) under the table.
SHOWN = 10


def add_parser(sub: Any) -> None:
    """The ``audit`` command's arguments."""
    p = sub.add_parser(
        "audit", help="replay rehearsals through a project's spotter: false triggers, and the "
                      "thresholds within a false-alarm budget",
        description="Replay rehearsal recordings (stream files .npz: X_concat, labels_concat, "
                    "lengths; ordinary movement labelled null, or a run-through with its "
                    "gestures labelled) through the project's spotter; print per gesture the "
                    "false triggers per minute and the threshold that keeps all of them within "
                    "the budget while the takes stay recognised. Without REHEARSAL, every "
                    "rehearsal the project keeps (recorded in the window's Rehearsal tab, in "
                    "DIR/rehearsals). Nothing is written without --apply.")
    p.add_argument("dir")
    p.add_argument("rehearsal", nargs="*", metavar="REHEARSAL")
    p.add_argument("--budget", type=float, default=0.1, metavar="PER_MIN",
                   help="false triggers per minute allowed, all gestures together (default 0.1)")
    p.add_argument("--cost", action="append", default=[], metavar="LABEL=C",
                   help="a false trigger of LABEL costs C (default 1; e.g. explosion=10)")
    p.add_argument("--miss-cost", action="append", default=[], metavar="LABEL=C",
                   help="missing a gesture LABEL costs C (default 1; e.g. swell=0.2)")
    p.add_argument("--plot", metavar="PNG", help="draw the trade-off curves into this file")
    p.add_argument("--json", metavar="FILE", help="write the audit as JSON")
    p.add_argument("--apply", action="store_true",
                   help="store the thresholds (and the costs) in the project's spotting "
                        "settings")


def _costs(false: list[str], miss: list[str]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for kind, items in (("false", false), ("miss", miss)):
        for item in items:
            label, sep, value = item.rpartition("=")
            try:
                cost = float(value)
            except ValueError:
                cost = None
            if not sep or not label or cost is None:
                flag = "--cost" if kind == "false" else "--miss-cost"
                raise SystemExit(f"gesturemap audit: {flag} {item!r}: give LABEL=COST, e.g. "
                                 "explosion=10")
            out.setdefault(label, {})[kind] = cost
    return out


def _check_gestures(costs: dict[str, dict[str, float]], project: Any) -> None:
    """A cost must name a gesture the project declares: a misspelt name is refused. A
    gesture declared but not trained yet is fine: its cost waits for a model that spots it,
    as ``/gesturemap/costs`` keeps it."""
    null = str((project.model.get("spotting") or {}).get("null_label", "null"))
    gestures = [str(c) for c in project.classes if str(c) != null]
    for label, kinds in costs.items():
        if label not in gestures:
            flag = "--cost" if "false" in kinds else "--miss-cost"
            raise SystemExit(f"gesturemap audit: {flag} {label}: {label!r} is no gesture of "
                             f"the project (its gestures: {', '.join(gestures) or 'none'}); "
                             "check the name, or add the class first")


def _with_waiting(stored: Any, waiting: dict[str, dict[str, float]]) -> Any:
    """The project's stored costs with those given for gestures the model does not spot
    yet: each kind given replaces that kind; 1 and 1 take the gesture's costs out, as
    ``/gesturemap/costs`` does. None when no cost is left."""
    from ..models.spotting.costs import check_costs, with_cost

    out = dict(stored or {})
    for label, kinds in waiting.items():
        before = out.get(label)
        before = dict(before) if isinstance(before, dict) else (
            {} if before is None else {"false": before})
        out = with_cost(out, label, check_costs({label: {**before, **kinds}})[label])
    return out or None


def _basis(project: Any) -> str:
    """What the audit was worked out for, as text: the trained model, the pipeline, the
    spotting settings but the thresholds and costs it sets."""
    spotting = {k: v for k, v in (project.model.get("spotting") or {}).items()
                if k not in ("thresholds", "costs")}
    return json.dumps([project.model_file, project.pipeline.to_dict(), spotting],
                      sort_keys=True, default=str)


def main_audit(args: argparse.Namespace) -> int:
    """Run ``gesturemap audit``; returns the exit code."""
    from ..evaluation.audit import audit, plot_audit, project_costs, values_to_store
    from ..evaluation.rehearsal import rehearsal_frames
    from ..project import Project
    from ..utils.storage import atomic_write_text, outside

    costs = _costs(args.cost, args.miss_cost)
    outside([args.plot, args.json], [args.dir, *args.rehearsal], "audit")
    project = Project.load(args.dir)
    _check_gestures(costs, project)
    if not args.rehearsal:
        from ..project import kept_rehearsals
        args.rehearsal = [str(p) for p in kept_rehearsals(args.dir)]
        if not args.rehearsal:
            raise GesturemapError(f"{args.dir} keeps no rehearsal: record one in the window's "
                                  "Rehearsal tab, or give rehearsal files (stream files .npz)")
        print(f"the project's rehearsals: {', '.join(Path(p).name for p in args.rehearsal)}")
    recordings, labels, _, _, rate = rehearsal_frames(args.rehearsal, project)
    spotting = project.model["spotting"]
    # the costs the project stores are followed (and kept by --apply) unless given anew
    result = audit(project.trained, recordings, args.budget,
                   project_costs(project.trained, spotting, costs), labels=labels,
                   takes=project.dataset(), rate_hz=rate, spotting=spotting)
    print(result.table())
    for e in result.events[:SHOWN]:
        print(f"  false {e.event.label} in recording {e.recording + 1} at {e.time_s:.1f} s"
              + (f": {e.why}" if e.why else ""))
    if len(result.events) > SHOWN:
        print(f"  ... and {len(result.events) - SHOWN} more")
    if args.plot:
        print(f"wrote the curves to {plot_audit(result, args.plot)}")
    if args.json:
        atomic_write_text(args.json, json.dumps(result.to_dict(), indent=1))
    if not args.apply:
        print("nothing written (--apply stores the thresholds in the project)")
        return 0
    basis = _basis(project)
    # given for a gesture the model does not spot yet (said above): stored to wait for one
    # that does, as the costs the project keeps already wait
    waiting = {lb: c for lb, c in costs.items() if lb not in set(result.labels)}

    def store(now: Any) -> None:  # the project as saved now, under its lock
        if _basis(now) != basis:
            raise GesturemapError(f"{args.dir} changed while the audit ran (its model, "
                                  "pipeline or spotting settings): nothing stored; run the "
                                  "command again")
        settings = dict(now.model["spotting"])
        if waiting:
            settings["costs"] = _with_waiting(settings.get("costs"), waiting)
        # the audit's, and those waiting for a gesture the model does not spot yet
        for key, value in values_to_store(result.to_dict(), settings).items():
            if value is None:
                settings.pop(key, None)
            else:
                settings[key] = value
        now.model = {**now.model, "spotting": settings}

    Project.update(args.dir, store)
    print(f"stored the thresholds in {args.dir}")
    return 0
