"""The reference workload every ``gesturemap bench`` figure is measured on.

XMM's reference data: 5 gesture classes x 5 demonstrations (25 takes, 5132 frames) of 6 inputs,
each frame with 2 outputs for the regression models, and a held-out test stream of 953 frames
(one demonstration of each class, back to back). The gestures are synthetic (sums of sinusoids
under a random time warp, with noise); the project generated them to compare its models with
IRCAM's XMM, whose own times on them are :data:`gesturemap.bench.XMM_TIMES_MS`.

The package carries the frames (``xmm_workload.npz``, about 150 kB, no pickle), so an installed
gesturemap measures itself with nothing beside it. ``--reference PATH`` (or
``$GESTUREMAP_REFERENCE``) reads another copy in XMM's reference layout instead: the folder
holding ``data/trainingset_unimodal.xmm.json``, ``data/trainingset_bimodal.xmm.json`` and
``data/X_test.npy``. Both give the same datasets, frame for frame.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import Dataset
from ..errors import GesturemapError

__all__ = ["PACKAGED", "Workload", "load_workload"]

#: The workload inside the package (written by ``tests/data/shared/cut.py`` from XMM's data).
PACKAGED = Path(__file__).resolve().parent / "xmm_workload.npz"
#: The environment variable naming another copy when ``--reference`` is not given.
ENVIRONMENT = "GESTUREMAP_REFERENCE"


@dataclass(frozen=True)
class Workload:
    """XMM's reference workload as gesturemap datasets.

    Attributes
    ----------
    unimodal : Dataset
        The 25 takes (5 classes ``g0`` .. ``g4``), 6 inputs each.
    bimodal : Dataset
        The same takes with their 2 outputs (GMR, HMR).
    test_frames : numpy.ndarray, shape (953, 6)
        The held-out test stream, float64.
    source : str
        Where it was read (the packaged file, or the folder given).
    """

    unimodal: Dataset
    bimodal: Dataset
    test_frames: np.ndarray
    source: str


def load_workload(reference: str | os.PathLike[str] | None = None) -> Workload:
    """Read the reference workload.

    Parameters
    ----------
    reference : str or os.PathLike, optional
        A folder in XMM's reference layout (``data/trainingset_*.xmm.json``,
        ``data/X_test.npy``). None: ``$GESTUREMAP_REFERENCE`` if set, else the copy inside
        the package.

    Returns
    -------
    Workload

    Raises
    ------
    GesturemapError
        If the folder given lacks those files, or the packaged file is missing (a broken
        installation).
    """
    if reference is None:
        reference = os.environ.get(ENVIRONMENT) or None
    if reference is not None:
        return _from_folder(Path(reference))
    if not PACKAGED.is_file():
        raise GesturemapError(f"gesturemap's reference workload {PACKAGED} is missing: "
                              "reinstall gesturemap, or give --reference PATH/TO/reference/xmm.")
    return _from_packaged(PACKAGED)


def _from_folder(folder: Path) -> Workload:
    data = folder / "data"
    needed = [data / "trainingset_unimodal.xmm.json", data / "trainingset_bimodal.xmm.json",
              data / "X_test.npy"]
    missing = [p.name for p in needed if not p.is_file()]
    if missing:
        raise GesturemapError(
            f"{folder} is not a copy of XMM's reference data: data/{', data/'.join(missing)} "
            "missing. Give the folder that holds data/ (reference/xmm), or leave --reference "
            "out to use the workload inside the package.")
    frames = np.load(needed[2], allow_pickle=False).astype(np.float64)
    return Workload(Dataset.from_xmm(needed[0]), Dataset.from_xmm(needed[1]), frames,
                    str(folder))


def _from_packaged(path: Path) -> Workload:
    with np.load(path, allow_pickle=False) as z:
        inputs, outputs = z["inputs"].astype(np.float64), z["outputs"].astype(np.float64)
        lengths, labels = z["lengths"], [str(v) for v in z["labels"]]
        input_names, output_names = ([str(v) for v in z[k]] for k in ("input_names",
                                                                         "output_names"))
        frames = z["test_inputs"].astype(np.float64)
    unimodal, bimodal = Dataset(input_names), Dataset(input_names, output_names)
    cuts = np.cumsum(lengths)[:-1]
    for x, y, label in zip(np.split(inputs, cuts), np.split(outputs, cuts), labels, strict=True):
        unimodal.add(x, label)
        bimodal.add(x, label, y)
    return Workload(unimodal, bimodal, frames, f"the workload inside the package ({path.name})")
