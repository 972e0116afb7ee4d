"""How an imported file's classes meet the classes of the project it is imported into.

A project's classes are all names or all numbers (Wekinator's classes are numbers), and every
class goes out on ``/wek/outputs`` as a number (:func:`gesturemap.data.class_numbers`). A
file's classes are numbers (a Wekinator ARFF), numbers that gesturemap's export named
(``% class 2: swipe``), or names (an XMM training set, a Weka ARFF with named values). An
import into an existing project matches them:

- by name where both sides name their classes;
- by number otherwise: a number of the file is the project's class sent as that number (a
  named file class whose project has numbers is its number in the file);
- a class matched by neither is a new class: a number into a project of names is named by
  its number and keeps it on ``/wek/outputs``;
- a named class without a number cannot be matched with a project of numbers: the import is
  refused before anything changes.

When new classes would change the number an existing class is sent as (numbers given by
each name's place in alphabetical order), or need a number of their own, the project's
``outputs.class_numbers`` is written for every class, so that a patch listening to
``/wek/outputs`` hears the old classes as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..data import class_numbers
from ..errors import GesturemapError

__all__ = ["ClassMerge", "merge_classes"]


@dataclass
class ClassMerge:
    """What :func:`merge_classes` decided: each file class's class in the project.

    Attributes
    ----------
    labels : dict
        File class -> the project's class its takes go to.
    matched : list of (file class, project class, how)
        The file classes that are classes of the project already (how: "name" or "number").
    new : list
        The project classes the import adds, in order.
    numbering : dict {name: number} or None
        The project's new ``outputs.class_numbers`` (None: left as it was).
    """

    labels: dict[Any, Any] = field(default_factory=dict)
    matched: list[tuple[Any, Any, str]] = field(default_factory=list)
    new: list[Any] = field(default_factory=list)
    numbering: dict[str, int] | None = None

    def describe(self, numbers: Mapping[Any, int] | None = None) -> str:
        """One phrase for the import's summary: which file class went where, which are new."""
        parts = []
        by_number = [f"{f} as {p}" for f, p, how in self.matched if how == "number"
                     and str(f) != str(p)]
        same = [str(p) for f, p, how in self.matched if str(f) == str(p)]
        if same:
            parts.append(f"into the project's {', '.join(same)}")
        if by_number:
            parts.append(f"by number: {', '.join(by_number)}")
        numbers = numbers or {}
        new = [f"{lb} (sent as {numbers[lb]})" if lb in numbers and str(numbers[lb]) != str(lb)
               else str(lb) for lb in self.new]
        parts.append(f"new class{'es' if len(new) != 1 else ''}: {', '.join(new) or 'none'}")
        return "; ".join(parts)


def _is_number(label: Any) -> bool:
    return isinstance(label, int) and not isinstance(label, bool)


def _number_text(label: Any) -> bool:
    return isinstance(label, str) and re.fullmatch(r"\d+", label) is not None


def _sorted_labels(found: set[Any]) -> list[Any]:
    """Classes in the order a model learns them (``labels_``): what numbers named classes."""
    return sorted(found, key=lambda lb: (isinstance(lb, str), str(lb) if
                                         isinstance(lb, str) else int(lb)))


def project_numbers(project: Any) -> dict[Any, int]:
    """The number each class of ``project`` is sent as on ``/wek/outputs`` now."""
    from .wekinator.examples import arff_class_numbers

    return arff_class_numbers(project)


def merge_classes(project: Any, labels: Sequence[Any], file_numbers: Mapping[str, int],
                  where: str, folder: Any) -> ClassMerge:
    """Match the classes ``labels`` of an imported file (names, or ints for class numbers)
    with ``project``'s (see the module docstring).

    Parameters
    ----------
    project : Project
        The existing project (not changed here).
    labels : sequence of str or int
        The file's class of each take.
    file_numbers : dict {name: number}
        The number the file gives each of its named classes (gesturemap's export).
    where, folder
        The file and the project folder, for messages.

    Raises
    ------
    GesturemapError
        When a class of the file cannot be matched with the project's (a name without a
        number into a project whose classes are numbers).
    """
    ours = [*project.classes, *(t.label for t in project.takes)]
    named_project = any(isinstance(lb, str) for lb in ours)
    numbers = project_numbers(project) if named_project else {}
    by_number = {n: lb for lb, n in numbers.items()}
    merge = ClassMerge()
    known = set(ours)
    wanted: dict[Any, int] = {}  # new classes that must keep the file's number
    unmatched = []
    for label in dict.fromkeys(labels):  # each class once, in the file's order
        if (isinstance(label, str) and file_numbers and label not in file_numbers
                and _number_text(label)):
            label_as = int(label)  # a number the export left unnamed (kept as text there)
        else:
            label_as = label
        if not ours:
            target, how = label, None
        elif named_project:
            if isinstance(label_as, str):
                target, how = label, "name"
            elif label_as in by_number:
                target, how = by_number[label_as], "number"
            else:
                target, how = str(label_as), "number"
                wanted[target] = label_as
        else:
            number = file_numbers.get(label, label_as) if isinstance(label, str) else label
            if _number_text(number):
                number = int(number)
            if not _is_number(number):
                unmatched.append(label)
                continue
            target, how = number, "number"
        merge.labels[label] = target
        if target in known:
            merge.matched.append((label, target, how or "name"))
        elif target not in merge.new:
            merge.new.append(target)
    if unmatched:
        ours_text = ", ".join(map(str, _sorted_labels(set(ours))))
        raise GesturemapError(
            f"{where} names its classes ({', '.join(map(str, unmatched))}) without the "
            f"numbers Wekinator sends for them; the classes of {folder} are numbers "
            f"({ours_text}), so which is which cannot be told. Nothing was imported: import "
            "it into a new project.")
    if named_project and merge.new:
        merge.numbering = _numbering(project, numbers, merge.new, wanted)
    return merge


def _numbering(project: Any, before: dict[Any, int], new: list[Any],
               wanted: dict[Any, int]) -> dict[str, int] | None:
    """The ``outputs.class_numbers`` a named project needs once ``new`` classes join: None when
    the project keeps no numbers and numbering every class by its place still sends each old
    class as before and each class that must keep its number gets it; else every class's
    number, written so that a class recorded later cannot move them: the old ones unchanged,
    the numbers kept for classes without takes kept too (such a class coming back gets its
    own), and the new ones their wanted number if it is free, else the next after the highest
    in use (as a class recorded later gets: :func:`gesturemap.data.class_numbers`)."""
    given = (project.outputs or {}).get("class_numbers") or None
    if given is None:
        after_labels = _sorted_labels({*before, *new})
        after = dict(zip(after_labels, class_numbers(after_labels), strict=True))
        if (all(after[lb] == n for lb, n in before.items())
                and all(after[lb] == n for lb, n in wanted.items())
                and len(set(after.values())) == len(after)):
            return None
    numbering = {**(given or {}), **{str(lb): int(n) for lb, n in before.items()}}
    taken = set(numbering.values())
    for label in new:
        if str(label) in numbering:  # a class kept without takes: its own number again
            continue
        number = wanted.get(label)
        if number is None or number in taken:
            number = max(taken, default=0) + 1
        numbering[str(label)] = number
        taken.add(number)
    return numbering
