"""The spotter's second opinions (the relabeller or verifier, the window detector) in files of
their own beside ``project.json``.

A window detector is megabytes of numbers. Kept inside ``project.json``, every save (each cost
or threshold changed on stage, each take) wrote it again and read it back, the engine's frames
waiting for the interpreter meanwhile (up to 70 ms). So ``project.json`` names the file
instead (``"detector": {"file": "detector-000002.json"}``): a second opinion is written once,
when it is new, and every later save writes only the small ``project.json``. A project saved
by an earlier version, with its second opinions inline, opens as before; its next save moves
them out. Scenes' spotting settings are stored the same way.

A second opinion's file is JSON (``gesturemap.spotting-opinion``: ``kind`` and ``value``, the
``to_dict()`` of the model), written atomically under a new name; ``project.json`` switches to
it, and files it no longer names are deleted after it is written.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from ..errors import FormatError, GesturemapError
from ..utils.storage import read_json, write_json
from .files import load_warning

__all__ = ["OPINIONS", "OPINION_FILE", "externalize", "internalize", "opinion_names",
           "remembered", "remove_stale_opinions"]

#: the spotting settings kept in files of their own
OPINIONS = ("verifier", "detector")
OPINION_FILE = re.compile(r"(verifier|detector)-(\d{6,})\.json")
FORMAT = "gesturemap.spotting-opinion"
VERSION = 1

#: what a project wrote: id of the value -> (folder, the value, file name)
Written = dict[int, tuple[Path, Any, str]]


def _places(document: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Each spotting-settings dict of ``document`` (the project's, each scene's), with the
    opinion keys it holds."""
    scenes = document.get("scenes")
    # (scenes that are no list: the project's load says so; nothing to find in them here)
    holders = [document.get("model")] + [s.get("model") for s in
                                          (scenes if isinstance(scenes, list) else [])
                                          if isinstance(s, dict)]
    for model in holders:
        spotting = model.get("spotting") if isinstance(model, dict) else None
        if isinstance(spotting, dict):
            for key in OPINIONS:
                if spotting.get(key) is not None:
                    yield spotting, key


def _rebuilt(document: dict[str, Any], change: Any) -> dict[str, Any]:
    """``document`` with each spotting dict replaced by ``change(spotting)`` (copies: the
    project's own settings are never changed in place)."""
    def model(m: Any) -> Any:
        if not isinstance(m, dict) or not isinstance(m.get("spotting"), dict):
            return m
        return {**m, "spotting": change(m["spotting"])}
    out = {**document, "model": model(document.get("model"))}
    if isinstance(document.get("scenes"), list) and document["scenes"]:
        out["scenes"] = [{**s, "model": model(s.get("model"))} if isinstance(s, dict) else s
                         for s in document["scenes"]]
    return out


def externalize(folder: Path, document: dict[str, Any], written: Written
                ) -> tuple[dict[str, Any], Written]:
    """``document`` with every second opinion replaced by the name of its file in
    ``folder``, each file written unless this very value was written there already
    (``written``); returns the document and what is written now (the caller keeps it)."""
    root = folder.resolve()
    numbers = [int(m.group(2)) for p in folder.glob("*-*.json")
               if (m := OPINION_FILE.fullmatch(p.name))]
    now: Written = {}

    def change(spotting: dict[str, Any]) -> dict[str, Any]:
        out = dict(spotting)
        for key in OPINIONS:
            value = spotting.get(key)
            if not isinstance(value, dict):
                continue
            saved = now.get(id(value)) or written.get(id(value))
            if (saved is None or saved[0] != root or saved[1] is not value
                    or not (folder / saved[2]).exists()):
                number = max(numbers, default=0) + 1
                numbers.append(number)
                name = f"{key}-{number:06d}.json"
                write_json(folder / name, {"kind": key, "value": value}, format=FORMAT,
                           version=VERSION)
                saved = (root, value, name)
            now[id(value)] = saved
            out[key] = {"file": saved[2]}
        return out

    return _rebuilt(document, change), now


def internalize(folder: Path, path: Path, document: dict[str, Any],
                unread: set[str] | None = None) -> dict[str, Any]:
    """``document`` (read from ``path`` in ``folder``) with each second opinion that names
    a file read from it. One that cannot be read is left out with a warning: the spotter
    runs without it (train it again), and the project opens; its file's name goes into
    ``unread`` (the file is kept: a newer gesturemap may read it)."""
    read: dict[str, Any] = {}

    def change(spotting: dict[str, Any]) -> dict[str, Any]:
        out = dict(spotting)
        for key in OPINIONS:
            ref = spotting.get(key)
            if not (isinstance(ref, dict) and set(ref) == {"file"}):
                continue
            name = ref["file"]
            try:
                if not (isinstance(name, str) and OPINION_FILE.fullmatch(name)
                        and name.startswith(key + "-")):
                    raise FormatError(f"{path} names {name!r:.80} as its {key}: not a {key} "
                                      "file")
                if name not in read:
                    stored = read_json(folder / name, format=FORMAT, max_version=VERSION,
                                       inside=folder)
                    if stored.get("kind") != key or not isinstance(stored.get("value"), dict):
                        raise FormatError(f"{folder / name} is damaged: no {key} in it")
                    read[name] = stored["value"]
                out[key] = read[name]
            except (GesturemapError, OSError) as error:
                out.pop(key)
                if unread is not None and isinstance(name, str) and OPINION_FILE.fullmatch(name):
                    unread.add(name)
                load_warning(f"{folder}: the spotting {key} was left out ({error}); the "
                             "spotter runs without it: train it again")
        return out

    return _rebuilt(document, change)


def opinion_names(document: dict[str, Any]) -> set[str]:
    """The second opinions' file names ``document`` (as written) refers to."""
    return {spotting[key]["file"] for spotting, key in _places(document)
            if isinstance(spotting[key], dict) and "file" in spotting[key]}


def remove_stale_opinions(folder: Path, document: dict[str, Any],
                          unread: Collection[str] = ()) -> None:
    """Delete the second opinions' files ``project.json`` (``document``, just written) no
    longer names, except those that could not be read (``unread``: kept, never destroyed)."""
    keep = opinion_names(document) | set(unread)
    for p in folder.glob("*-*.json"):
        if OPINION_FILE.fullmatch(p.name) and p.name not in keep:
            p.unlink(missing_ok=True)


def remembered(folder: Path, settings: list[Any], document: dict[str, Any]) -> Written:
    """What a project just loaded from ``folder`` wrote: the second opinions in its checked
    ``settings`` (the project's and its scenes' model settings, in ``document``'s order)
    paired with the files ``document`` (as read) names, so that its next save writes none
    of them again."""
    out: Written = {}
    root = folder.resolve()
    refs = [spotting[key].get("file") if isinstance(spotting[key], dict) else None
            for spotting, key in _places(document)]
    values = []
    for model in settings:
        spotting = model.get("spotting") if isinstance(model, dict) else None
        if isinstance(spotting, dict):
            values += [spotting[k] for k in OPINIONS if spotting.get(k) is not None]
    if len(values) != len(refs):
        return out  # a scene was left out: its opinions are written again at the next save
    for value, name in zip(values, refs, strict=True):
        if isinstance(name, str):
            out[id(value)] = (root, value, name)
    return out
