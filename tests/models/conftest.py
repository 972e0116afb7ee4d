"""Fixtures for the model tests: XMM's reference data as gesturemap datasets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import gesturemap as gm

#: The settings XMM's reference models were trained with (tests/data/shared/reference/xmm/params.json).
REFERENCE_SETTINGS = {
    "relative_regularization": 0.01,
    "absolute_regularization": 0.001,
    "covariance": "full",
    "likelihood_window": 10,
    "decision": "window",
    "deltas": False,
    "em_min_iterations": 10,
    "em_max_iterations": 0,
    "em_percent_change": 0.01,
}


def reference_model(kind: str) -> gm.models.BaseModel:
    """An untrained model with the reference settings, given explicitly."""
    if kind in ("gmm", "gmr"):
        return gm.GMM(3, **REFERENCE_SETTINGS)
    return gm.HHMM(
        10,
        1,
        transition="left-right",
        hierarchical=True,
        regression_estimator="full",
        **REFERENCE_SETTINGS,
    )


class Reference:
    def __init__(self, folder: Path) -> None:
        self.dir = folder
        data = folder / "data"
        self.x_test = np.load(data / "X_test.npy").astype(np.float64)
        self.y_test = np.load(data / "Y_test.npy").astype(np.float64)
        self.test_class = np.load(data / "test_class.npy")
        self.params = json.loads((folder / "params.json").read_text())
        self.unimodal = gm.Dataset.from_xmm(data / "trainingset_unimodal.xmm.json")
        self.bimodal = gm.Dataset.from_xmm(data / "trainingset_bimodal.xmm.json")

    def dataset(self, kind: str) -> gm.Dataset:
        return self.bimodal if kind in ("gmr", "hmr") else self.unimodal

    def oracle(self, variant: str, name: str) -> np.ndarray:
        return np.load(self.dir / "oracle" / variant / f"{name}.npy")

    def params_array(self, kind: str, name: str) -> np.ndarray:
        return np.load(self.dir / kind / "params" / f"{name}.npy")


@pytest.fixture(scope="session")
def ref(reference_dir: Path) -> Reference:
    return Reference(reference_dir)


_TRAINED: dict[str, gm.models.BaseModel] = {}


@pytest.fixture(scope="session")
def trained(ref: Reference):
    """Models trained by gesturemap on the reference data with the reference settings."""

    def get(kind: str) -> gm.models.BaseModel:
        if kind not in _TRAINED:
            _TRAINED[kind] = reference_model(kind).fit(ref.dataset(kind))
        return _TRAINED[kind]

    return get


def small_dataset(ref: Reference, bimodal: bool, per_class: int = 2) -> gm.Dataset:
    """A few takes of three classes: enough for quick behavioural checks."""
    src = ref.bimodal if bimodal else ref.unimodal
    ds = gm.Dataset()
    for label in src.labels[:3]:
        for rec in src.by_label(label)[:per_class]:
            ds.add(rec.inputs, label=label, outputs=rec.outputs)
    return ds
