"""Evaluation of gesturemap models: cross-validation, held-out tests, reports and plots.

>>> import gesturemap.evaluation as ev
>>> report = ev.holdout("hhmm", train, test, standardize=True)        # doctest: +SKIP
>>> report.accuracy, report.early["accuracy"]                          # doctest: +SKIP
>>> ev.cross_validate("knn", dataset, folds=5).to_json("cv.json")      # doctest: +SKIP
>>> ev.evaluate_project(gm.Project.load("my-project")).save_plots("plots/")  # doctest: +SKIP

The command line front end is ``gesturemap eval`` (see :mod:`gesturemap.evaluation.cli`).
"""

from __future__ import annotations

from .metrics import FRACTIONS, checkpoints, classification_metrics, regression_metrics
from .report import Report
from .run import (
    EARLY_METHODS,
    cross_validate,
    evaluate_project,
    holdout,
    load_npz_dataset,
    model_spec,
    standardized,
)
from .splits import leave_one_group_out, stratified_kfold

__all__ = [
    "EARLY_METHODS",
    "FRACTIONS",
    "Report",
    "checkpoints",
    "classification_metrics",
    "cross_validate",
    "evaluate_project",
    "holdout",
    "leave_one_group_out",
    "load_npz_dataset",
    "model_spec",
    "regression_metrics",
    "standardized",
    "stratified_kfold",
]
