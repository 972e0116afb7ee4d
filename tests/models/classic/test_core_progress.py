"""A classic model says what it is training before its one long fit, not only when done.

The window's training line shows the trainer's last report; a classic model reported only at
the end, so at 20 gestures x 60 channels the line said "queued" for the whole fit (2.6 s for an
SVM, 17 s for AdaBoost) while it trained.
"""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.live.trainer import Trainer
from gesturemap.models import MODEL_REGISTRY


def takes() -> gm.Dataset:
    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    for c in range(3):
        for _ in range(3):
            ds.add(rng.normal(loc=c, size=(30, 5)), label=f"g{c}")
    return ds


@pytest.mark.parametrize("kind", ["knn", "svm", "mlp", "tree", "adaboost", "naive_bayes"])
def test_a_report_comes_before_the_fit(kind, monkeypatch):
    model = MODEL_REGISTRY[kind]()
    reports: list[tuple[float, str]] = []
    fitting = type(model)._fit_classifier

    def fit_classifier(self, z, y, n_classes):
        reports.append((-1.0, "fit"))  # where the fit itself starts
        return fitting(self, z, y, n_classes)

    monkeypatch.setattr(type(model), "_fit_classifier", fit_classifier)
    model.fit(takes(), progress=lambda f, m: reports.append((f, m)))
    assert reports[0][0] == 0.0 and "270 frames" in reports[0][1]
    assert reports[1] == (-1.0, "fit")
    assert reports[-1] == (1.0, "trained")


def test_the_worker_process_passes_the_report_on():
    seen: list[tuple[float, str]] = []
    with Trainer("process") as trainer:
        job = trainer.train(gm.SVM(), takes(), on_progress=lambda f, m: seen.append((f, m)))
        job.result(timeout=120)
    assert any(f == 0.0 and "frames" in m for f, m in seen)
