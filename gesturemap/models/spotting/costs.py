"""Error costs of spotting: what a false trigger and a missed gesture of each class cost.

A performer says which mistakes matter: ``{"explosion": 10.0}`` (firing *explosion* by
mistake costs ten times an ordinary false trigger) or ``{"swell": {"miss": 0.2}}`` (missing
*swell* is cheap). :func:`check_costs` reads either form into one shape,
``{label: {"false": cost, "miss": cost}}`` (1.0 where not given), as a project's spotting
settings store it (``spotting: {"thresholds": {...}, "costs": {...}}``). The rehearsal
audit (:func:`gesturemap.audit`) chooses the per-class thresholds that follow them, and the
spotter decides by them: a class whose false trigger is costly competes from a lower score
than it fires from (``"competes_from"``, which the audit stores beside the costs: the
threshold the class would have without its cost), so that a movement that looks most like
it but not enough to fire it fires nothing rather than its runner-up.
"""

from __future__ import annotations

import math
from typing import Any

from ..base import bad_param

__all__ = ["COMPETES_FROM", "COST_KINDS", "check_costs", "cost_of", "with_cost"]

#: The two mistakes a class can cost: a false trigger, a missed gesture.
COST_KINDS = ("false", "miss")
#: Beside them, optionally: the score from which a class whose false trigger is costly takes
#: part in the spotter's decision (the threshold it would have with a false-trigger cost of
#: 1, as the rehearsal audit stores it; where not given, its ``relative_threshold`` level).
COMPETES_FROM = "competes_from"


def _cost(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(float(value)) and float(value) > 0):
        raise bad_param(where, value, "a number > 0 (1 is an ordinary mistake, 10 one ten "
                        "times as bad, 0.1 one that hardly matters)")
    return float(value)


def check_costs(costs: Any) -> dict[str, dict[str, float]]:
    """Error costs as given by a user or read from a file, checked and in one shape.

    Parameters
    ----------
    costs : None, or a dict ``{label: cost}`` (the cost of a false trigger of that class) or
        ``{label: {"false": cost, "miss": cost}}`` (either key may be left out: 1.0), with
        optionally ``"competes_from": score`` (:data:`COMPETES_FROM`).

    Returns
    -------
    dict ``{label as text: {"false": float, "miss": float}}`` (empty for None). Raises a
    :class:`~gesturemap.GesturemapError` naming the class and the value that is wrong.
    """
    if costs is None:
        return {}
    if not isinstance(costs, dict):
        raise bad_param("costs", costs, 'a dict {label: cost of a false trigger} or '
                        '{label: {"false": cost, "miss": cost}}')
    out = {}
    for label, value in costs.items():
        if isinstance(value, dict):
            wrong = sorted(set(map(str, value)) - {*COST_KINDS, COMPETES_FROM})
            if wrong:
                raise bad_param(f"costs[{label!r}] key", wrong[0], 'one of "false" (a false '
                                'trigger), "miss" (a missed gesture) and "competes_from" (the '
                                'score from which a costly class takes part in the decision)')
            out[str(label)] = {k: _cost(f"costs[{label!r}][{k!r}]", value.get(k, 1.0))
                               for k in COST_KINDS}
            if COMPETES_FROM in value:
                out[str(label)][COMPETES_FROM] = _cost(f"costs[{label!r}][{COMPETES_FROM!r}]",
                                                       value[COMPETES_FROM])
        else:
            out[str(label)] = {"false": _cost(f"costs[{label!r}]", value), "miss": 1.0}
    return out


def cost_of(costs: dict[str, dict[str, float]], label: Any, kind: str) -> float:
    """The cost of a ``kind`` mistake (``"false"`` or ``"miss"``) of class ``label`` in checked
    ``costs`` (1.0 when not given)."""
    return costs.get(str(label), {}).get(kind, 1.0)


def with_cost(costs: dict[str, Any] | None, label: str,
              one: dict[str, float]) -> dict[str, Any]:
    """``costs`` (as a project stores them) with class ``label``'s set to ``one`` (checked by
    :func:`check_costs`), or taken out when both its costs are 1: a class whose mistakes
    cost as the others' has no entry (as ``/gesturemap/costs`` and the audit store them)."""
    out = dict(costs or {})
    if all(one[kind] == 1.0 for kind in COST_KINDS):
        out.pop(label, None)
    else:
        out[label] = one
    return out
