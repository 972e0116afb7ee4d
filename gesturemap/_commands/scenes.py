"""``gesturemap scene DIR save|list|remove [NAME]``: a project's scenes from the command line.

``save NAME`` makes the project's trained model, model settings and outputs (OSC route, synth
mapping) the scene NAME; ``remove NAME`` removes it; ``list`` prints them with their index
(what ``/gesturemap/scene INDEX`` recalls). Saving and removing go through
:meth:`Project.update`, under the project's lock: never beside a running engine's writes.
"""

from __future__ import annotations

import argparse
from typing import Any

from . import counted

__all__ = ["add_parser", "scene"]


def add_parser(sub: Any) -> None:
    """The ``scene`` command's parser, on the main parser's ``sub`` parsers."""
    p = sub.add_parser(
        "scene", help="save, list or remove a project's scenes (mappings recalled on stage)",
        description="A scene is the project's trained model, its model settings and its "
                    "outputs (OSC route, synth mapping), under a name; on stage "
                    "`/gesturemap/scene NAME` (or its index from 0) recalls it, with a "
                    "crossfade of continuous outputs.")
    p.add_argument("dir")
    p.add_argument("action", choices=("save", "list", "remove"))
    p.add_argument("name", nargs="?", help="the scene (save and remove)")


def scene(args: argparse.Namespace) -> int:
    """Run ``gesturemap scene``; returns the exit code (bad input: ``SystemExit`` with a
    message)."""
    from ..project import Project

    if args.action == "list":
        if args.name:  # `scene DIR list verse` would list them all: the name said nothing
            raise SystemExit(f"gesturemap scene: list shows every scene and takes no NAME "
                             f"({args.name!r}); leave it out")
        project = Project.load(args.dir)
        print(f"{args.dir}: {counted(len(project.scenes), 'scene')} (crossfade "
              f"{project.scene_fade_s:g} s)")
        kinds = {s.name: s.model["kind"] for s in project.scenes}
        for i, (name, why) in enumerate(project.scene_order()):  # the index recalls it
            print(f"{i}\t{name}\t" + (kinds[name] if why is None else f"left out: {why}"))
        return 0
    if not args.name:
        raise SystemExit(f"gesturemap scene: {args.action} needs the scene's NAME")

    def change(project: Any) -> None:
        if args.action == "save":
            project.save_scene(args.name)
        else:
            project.remove_scene(args.name)

    try:  # a project that cannot be used, another writer (ProjectBusy): said by main
        project = Project.update(args.dir, change)
    except KeyError as exc:
        raise SystemExit(f"gesturemap scene: {exc.args[0]}") from None
    verb = "saved" if args.action == "save" else "removed"
    print(f"{verb} scene {args.name!r} in {args.dir}; scenes: "
          + (", ".join(project.scene_names) or "none"))
    return 0
