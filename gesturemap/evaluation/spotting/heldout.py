"""Spotting scored on held-out streams: trained on one stream file's sessions, scored on
another's (``gesturemap eval --spotting --train A.npz --test B.npz``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import GesturemapError
from .cv import _checked, _train_and_spot
from .scores import spotting_metrics
from .streams import Streams, check_subjects
from .verifier_rule import DEFAULT_RULE, VerifierRule

__all__ = ["held_out_spotting"]


def held_out_spotting(train: Streams, test: Streams, model: str, params: dict[str, Any],
                      settings: dict[str, Any], verify: bool = False,
                      verifier_context: int | Sequence[int] | None = None,
                      verifier_wait: int | Sequence[int] | None = None,
                      verifier_folds: int = 2,
                      verifier_rule: VerifierRule | None = DEFAULT_RULE,
                      relabel: bool = False, detector: bool = False) -> dict[str, Any]:
    """:func:`gesturemap.spot` trained on every session of ``train`` (and, with ``verify``, a
    verifier cross-fitted over its subjects, used where that chose it; with ``relabel`` a
    context relabeller instead, :func:`~.spot_relabel.fit_relabeler`; with ``detector`` a
    window detector on every training session, :func:`~gesturemap.fit_detector`) and scored on every
    session of ``test``, which nothing was trained or chosen on: the held-out figures of a
    project trained on its performers and used by new ones. Same report as
    :func:`cross_validate_spotting` (one fold)."""
    settings, params = _checked(model, params, settings)
    named = {str(g): g for g in test.gestures}
    if set(named) != {str(g) for g in train.gestures}:
        raise GesturemapError(f"the test streams' gestures {list(test.gestures)} are not the "
                              f"training streams' {list(train.gestures)}")
    # the same gestures, in the training streams' order (each file's own labels: 7 or "7")
    test = dataclasses.replace(test, gestures=[named[str(g)] for g in train.gestures])
    dims = {x.shape[1] for x in train.sessions}, {x.shape[1] for x in test.sessions}
    if dims[0] != dims[1]:
        raise GesturemapError(f"the test streams have frames of {sorted(dims[1])} values, the "
                              f"training streams {sorted(dims[0])}")
    verify = verify or relabel
    check_subjects(train.subject, None, verifier_folds if verify else None, held_out=True)
    held, info = _train_and_spot(train, np.arange(len(train.sessions)), test,
                                 np.arange(len(test.sessions)), model, params, settings,
                                 (verifier_context, verifier_wait, verifier_folds,
                                  verifier_rule, relabel) if verify else None, detector)
    n = lambda st: f"{len(st.sessions)} sessions of {len(set(st.subject.tolist()))} subjects"  # noqa: E731
    report = {"protocol": f"held out: trained on {n(train)}, tested on {n(test)}",
              "model": model, "params": params, "spotting": settings,
              "metrics": spotting_metrics(held, [str(g) for g in test.gestures], test.rate_hz),
              **({"detector": True} if detector else {})}
    if info is not None:
        report["verifier"] = [info]
    return report
