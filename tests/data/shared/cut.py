"""Cut the repository's copy of the shared data from a full copy of it.

The tests read XMM's reference outputs and three recorded datasets. The full data (27 MB) lives
outside the repository, in the project's ``shared/`` folder; the tests need much less of it.
This script writes, beside itself, the parts they use: each dataset's README.md says what was
kept and why. It also writes the reference workload ``gesturemap bench`` ships inside the package
(``gesturemap/bench/xmm_workload.npz``: XMM's training frames and test stream, nothing else).
Run it again (from anywhere) after the full copy changes::

    python3 tests/data/shared/cut.py /path/to/shared

It only reads ``.npy``/``.npz`` without pickle and copies text files; gesturemap does not
import it. The READMEs are written by hand: the script leaves them alone.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from functools import partial
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PACKAGED_WORKLOAD = HERE.parents[2] / "gesturemap" / "bench" / "xmm_workload.npz"

#: XMM's reference files no test reads (the forward variables alpha_h and the Gaussian
#: posteriors beta are 2.5 MB alone); everything else of reference/xmm is copied as it is.
XMM_LEFT_OUT = {
    "data/U_train.npy", "data/U_test.npy", "data/phrase_index.npy",
    *(f"oracle/{variant}/{name}.npy"
      for variant in ("gmm", "gmr_mc-likeliest", "hhmm", "hmr_full_mc-likeliest")
      for name in ("alpha_h", "beta", "smoothed_likelihoods", "class_instant_likelihood",
                   "class_log_likelihood")),
}

#: HAPT's continuous sessions kept: both sessions of subjects 1, 3, 5 and 6, each cut after
#: its last postural transition plus this many samples (30 s at 50 Hz) of what follows.
HAPT_SESSIONS = (0, 1, 2, 3, 4, 5, 6, 7)
HAPT_TAIL = 1500

#: ShoulderExerciseWatch: each recording is cut to this many samples from its middle
#: (5 s, two or three repetitions) ...
WATCH_WINDOW = 250
#: ... except the ones that two tests of hmmlearn's numerical failures need whole: every PEN
#: recording of the subjects other than 8 (a Baum-Welch that diverges after 28 steps) and one
#: ER recording of subject 5 (a scaling pass that ends on NaN), by (subject, side, label).
WATCH_WHOLE_LABEL, WATCH_WHOLE_EXCEPT_SUBJECT = "PEN", 8
WATCH_WHOLE_EXTRA = {(5, 1, "ER")}


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _save(path: Path, **arrays: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    print(f"wrote {path.relative_to(HERE)} ({path.stat().st_size / 1e3:.0f} kB)")


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def cut_xmm(shared: Path) -> None:
    source, target = shared / "reference" / "xmm", HERE / "reference" / "xmm"
    kept = 0
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source).as_posix()
        if path.is_file() and relative not in XMM_LEFT_OUT and relative != "README.md":
            _copy(path, target / relative)
            kept += path.stat().st_size
    print(f"wrote reference/xmm ({kept / 1e6:.1f} MB)")


def cut_workload(shared: Path) -> None:
    """The frames of XMM's reference training sets and test stream, for ``gesturemap bench``
    (gesturemap.bench.workload reads them; its tests check they are XMM's files' own)."""
    data = shared / "reference" / "xmm" / "data"
    names = json.loads((data / "trainingset_bimodal.xmm.json").read_text())["column_names"]
    load = partial(np.load, allow_pickle=False)
    PACKAGED_WORKLOAD.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        PACKAGED_WORKLOAD, inputs=load(data / "X_train.npy"), outputs=load(data / "Y_train.npy"),
        lengths=load(data / "phrase_lengths.npy").astype(np.int64),
        labels=np.array([f"g{k}" for k in load(data / "phrase_class.npy")]),
        input_names=np.array(names[:6]), output_names=np.array(names[6:]),
        test_inputs=load(data / "X_test.npy"))
    print(f"wrote {PACKAGED_WORKLOAD} ({PACKAGED_WORKLOAD.stat().st_size / 1e3:.0f} kB)")


def cut_whole(shared: Path, folder: str, names: tuple[str, ...]) -> None:
    for name in names:
        _copy(shared / "datasets" / folder / name, HERE / "datasets" / folder / name)
        print(f"copied datasets/{folder}/{name}")


def cut_hapt_streams(shared: Path) -> None:
    z = _arrays(shared / "datasets" / "HAPTTransitions" / "HAPT_train_streams.npz")
    cuts = np.cumsum(z["lengths"])[:-1]
    xs, labels = np.split(z["X_concat"], cuts), np.split(z["labels_concat"], cuts)
    ends = [int(np.flatnonzero(labels[i] >= 7).max()) + 1 + HAPT_TAIL for i in HAPT_SESSIONS]
    ends = [min(end, len(labels[i])) for i, end in zip(HAPT_SESSIONS, ends, strict=True)]
    _save(HERE / "datasets" / "HAPTTransitions" / "HAPT_train_streams.npz",
          X_concat=np.concatenate([xs[i][:e] for i, e in zip(HAPT_SESSIONS, ends, strict=True)]),
          labels_concat=np.concatenate([labels[i][:e]
                                        for i, e in zip(HAPT_SESSIONS, ends, strict=True)]),
          lengths=np.array(ends, dtype=np.int64), subject=z["subject"][list(HAPT_SESSIONS)],
          session=np.array(HAPT_SESSIONS, dtype=np.int64),
          full_lengths=z["lengths"][list(HAPT_SESSIONS)],
          label_names=z["label_names"], channels=z["channels"])


def _watch_whole(subject: int, side: int, label: str) -> bool:
    return ((label == WATCH_WHOLE_LABEL and subject != WATCH_WHOLE_EXCEPT_SUBJECT)
            or (subject, side, label) in WATCH_WHOLE_EXTRA)


def cut_watch(shared: Path) -> None:
    folder = shared / "datasets" / "ShoulderExerciseWatch"
    for part in ("train", "test"):
        z = _arrays(folder / f"ShoulderExerciseWatch_{part}.npz")
        xs = np.split(z["X_concat"], np.cumsum(z["lengths"])[:-1])
        starts, kept = [], []
        for x, y, subject, side in zip(xs, z["y"], z["subject"], z["side"], strict=True):
            whole = _watch_whole(int(subject), int(side), str(y))
            start = 0 if whole else (len(x) - WATCH_WINDOW) // 2
            starts.append(start)
            kept.append(x if whole else x[start:start + WATCH_WINDOW])
        _save(HERE / "datasets" / "ShoulderExerciseWatch" / f"ShoulderExerciseWatch_{part}.npz",
              X_concat=np.concatenate(kept), lengths=np.array([len(x) for x in kept]),
              y=z["y"], subject=z["subject"], side=z["side"], channels=z["channels"],
              start=np.array(starts, dtype=np.int64), full_lengths=z["lengths"],
              source=z["source"])
    _copy(folder / "LICENSE.seglearn-BSD-3-Clause",
          HERE / "datasets" / "ShoulderExerciseWatch" / "LICENSE.seglearn-BSD-3-Clause")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shared", type=Path, help="a full copy of the shared folder")
    args = parser.parse_args(argv)
    if not (args.shared / "reference" / "xmm" / "params.json").is_file():
        print(f"{args.shared} does not hold reference/xmm/params.json: not a copy of shared/",
              file=sys.stderr)
        return 2
    cut_xmm(args.shared)
    cut_workload(args.shared)
    cut_whole(args.shared, "JapaneseVowels",
              ("JapaneseVowels_train.npz", "JapaneseVowels_test.npz"))
    cut_whole(args.shared, "HAPTTransitions", ("HAPT_transitions_train.npz",))
    cut_hapt_streams(args.shared)
    cut_watch(args.shared)
    return 0


if __name__ == "__main__":
    sys.exit(main())
