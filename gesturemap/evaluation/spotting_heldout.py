"""Spotting scored on held-out streams: trained on one stream file's sessions, scored on
another's (``gesturemap eval --spotting --train A.npz --test B.npz``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import GesturemapError
from .spot_streams import Streams, cross_fit_folds
from .spotting import spotting_metrics
from .spotting_cv import _checked, _train_and_spot
from .verifier_rule import DEFAULT_RULE, VerifierRule

__all__ = ["held_out_spotting"]


def held_out_spotting(train: Streams, test: Streams, model: str, params: dict[str, Any],
                      settings: dict[str, Any], verify: bool = False,
                      verifier_context: int | Sequence[int] | None = None,
                      verifier_wait: int | Sequence[int] | None = None,
                      verifier_folds: int = 2,
                      verifier_rule: VerifierRule | None = DEFAULT_RULE,
                      relabel: bool = False) -> dict[str, Any]:
    """:func:`gesturemap.spot` trained on every session of ``train`` (and, with ``verify``, a
    verifier cross-fitted over its subjects, used where that chose it; with ``relabel`` a
    context relabeller instead, :func:`~.spot_relabel.fit_relabeler`) and scored on every
    session of ``test``, which nothing was trained or chosen on: the held-out figures of a
    project trained on its performers and used by new ones. Same report as
    :func:`cross_validate_spotting` (one fold)."""
    settings, params = _checked(model, params, settings)
    if [str(g) for g in train.gestures] != [str(g) for g in test.gestures]:
        raise GesturemapError(f"the test streams' gestures {list(test.gestures)} are not the "
                              f"training streams' {list(train.gestures)}")
    dims = {x.shape[1] for x in train.sessions}, {x.shape[1] for x in test.sessions}
    if dims[0] != dims[1]:
        raise GesturemapError(f"the test streams have frames of {sorted(dims[1])} values, the "
                              f"training streams {sorted(dims[0])}")
    verify = verify or relabel
    if verify:
        cross_fit_folds(train.subject, verifier_folds)
    held, info = _train_and_spot(train, np.arange(len(train.sessions)), test,
                                 np.arange(len(test.sessions)), model, params, settings,
                                 (verifier_context, verifier_wait, verifier_folds,
                                  verifier_rule, relabel) if verify else None)
    n = lambda st: f"{len(st.sessions)} sessions of {len(set(st.subject.tolist()))} subjects"  # noqa: E731
    report = {"protocol": f"held out: trained on {n(train)}, tested on {n(test)}",
              "model": model, "params": params, "spotting": settings,
              "metrics": spotting_metrics(held, [str(g) for g in test.gestures], test.rate_hz)}
    if info is not None:
        report["verifier"] = [info]
    return report
