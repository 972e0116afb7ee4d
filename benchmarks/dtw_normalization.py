"""DTW's default normalisation against plain 1-NN DTW on the shared datasets, held out.

For each dataset, on its held-out recordings (settings chosen inside the training recordings
only: ``DTW()`` chooses its normalisation by leave-one-take-out on the training takes):

- ``1-NN global``: plain 1-NN DTW, inputs standardised with the training statistics
  (``DTW(normalization="global", per_frame_distance=False)``);
- ``1-NN z-norm``: plain 1-NN DTW, every take and every query z-normalised as a whole
  (``DTW(normalization="take", per_frame_distance=False)``, its ``predict``);
- ``DTW() batch``: the default's ``predict``; ``DTW() streamed``: the label a stream shows at
  a recording's last frame (reset before it), on every recording or an even sample of them
  (``--stream-max``; a ``"window"`` stream matches afresh at each frame, so a minute-long
  recording costs minutes), and ``live = batch``: on how many of those the stream's distances
  at the last frame equal ``distances`` of the recording to the last bit.

Splits: HAPT transitions, the 21 training subjects' takes, every third subject held out
(7 subjects); JapaneseVowels and ShoulderExerciseWatch, their official train/test files.

Run from the repository root (full data: ``GESTUREMAP_SHARED=/path/to/shared``)::

    python3 -m benchmarks.dtw_normalization [--stream-max 40] [--stream-frames 400]

``--stream-frames``: where ``"window"`` was chosen and the recordings are longer than this
(median), three of them are streamed over their first fifth of that many frames only (live = batch checked there; the
streamed accuracy is then ``predict``'s by that identity, not measured). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a source checkout
    sys.path.insert(0, str(ROOT))

import gesturemap as gm  # noqa: E402
from benchmarks.shared_data import DATASETS, describe  # noqa: E402


def _takes(path: Path) -> tuple[list[np.ndarray], list[str], np.lib.npyio.NpzFile]:
    z = np.load(path)
    x = np.split(z["X_concat"].astype(np.float64), np.cumsum(z["lengths"])[:-1])
    return x, [str(v) for v in z["y"]], z


def splits() -> dict[str, tuple[list, list, list, list]]:
    """(train takes, train labels, test takes, test labels) per dataset."""
    out = {}
    x, y, z = _takes(DATASETS / "HAPTTransitions" / "HAPT_transitions_train.npz")
    subject = z["subject"]
    held = set(sorted(set(subject.tolist()))[::3])
    tr = [i for i in range(len(x)) if subject[i] not in held]
    te = [i for i in range(len(x)) if subject[i] in held]
    out["HAPT transitions"] = ([x[i] for i in tr], [y[i] for i in tr],
                               [x[i] for i in te], [y[i] for i in te])
    for name, stem in (("JapaneseVowels", "JapaneseVowels"),
                       ("ShoulderExerciseWatch", "ShoulderExerciseWatch")):
        a = _takes(DATASETS / stem / f"{stem}_train.npz")
        b = _takes(DATASETS / stem / f"{stem}_test.npz")
        out[name] = (a[0], a[1], b[0], b[1])
    return out


def accuracy(model: gm.DTW, x: list[np.ndarray], y: list[str]) -> float:
    return float(np.mean([p == t for p, t in zip(model.predict(x), y, strict=True)]))


def streamed(model: gm.DTW, x: list[np.ndarray], y: list[str], most: int,
             frames: int) -> dict[str, object]:
    """Stream an even sample of at most ``most`` recordings (each over at most ``frames``)."""
    picks = np.unique(np.round(np.linspace(0, len(x) - 1, min(most, len(x)))).astype(int))
    stream = model.stream()
    right = same = whole = 0
    per_frame = []
    for i in picks:
        seq = x[i][:frames]
        whole += len(seq) == len(x[i])
        stream.reset()
        start = time.perf_counter()
        for f in seq:
            r = stream.step(f)
        per_frame.append((time.perf_counter() - start) / len(seq))
        same += bool(np.array_equal(r.distances, model.distances(seq)))
        right += len(seq) == len(x[i]) and r.label == y[i]
    return {"n": len(picks), "whole": whole, "same": same,
            "accuracy": right / whole if whole == len(picks) else None,
            "batch_on_sample": accuracy(model, [x[i] for i in picks], [y[i] for i in picks]),
            "ms_per_frame": 1e3 * float(np.median(per_frame))}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stream-max", type=int, default=40)
    ap.add_argument("--stream-frames", type=int, default=400)
    ap.add_argument("--only", help="one dataset (its name as the table prints it)")
    args = ap.parse_args(argv)
    print(f"Data: {describe()}\n")
    rows = []
    for name, (xtr, ytr, xte, yte) in splits().items():
        if args.only and name != args.only:
            continue
        ds = gm.Dataset()
        for x, label in zip(xtr, ytr, strict=True):
            ds.add(x, label=label)
        plain = {}
        for norm in ("global", "take"):
            plain[norm] = accuracy(gm.DTW(normalization=norm, per_frame_distance=False)
                                   .fit(ds), xte, yte)
        start = time.perf_counter()
        model = gm.DTW().fit(ds)
        fit_s = time.perf_counter() - start
        batch = accuracy(model, xte, yte)
        if (model.normalization_ == "window"
                and np.median([len(x) for x in xte]) > args.stream_frames):
            # minute-long recordings: a "window" stream matches every template afresh at each
            # frame; a few recordings' first frames check live = batch
            live = streamed(model, xte, yte, 3, args.stream_frames // 5)
        else:
            live = streamed(model, xte, yte, args.stream_max, max(len(x) for x in xte))
        sel = model.normalization_selection_ or {}
        scores = ", ".join(f"{c['params']['normalization']}/"
                           f"{'frame' if c['params']['per_frame_distance'] else 'total'} "
                           f"{c['cv_score']:.3f}" for c in sel.get("candidates", []))
        rows.append((name, len(xtr), len(xte), plain["global"], plain["take"], batch, live,
                     f"{model.normalization_}, per_frame_distance={model.per_frame_distance_}",
                     scores, fit_s))
        print(f"{name}: done ({fit_s:.1f} s fit)", file=sys.stderr, flush=True)
    print("| dataset | train / test | 1-NN global | 1-NN z-norm | DTW() batch | DTW() streamed "
          "(sample) | live = batch | chosen (LOO scores in training) | fit s | stream ms/frame |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, ntr, nte, g, zn, b, live, chosen, scores, fit_s in rows:
        acc = (f"{live['accuracy']:.3f} (batch {live['batch_on_sample']:.3f}, n={live['n']})"
               if live["accuracy"] is not None else
               f"first {args.stream_frames // 5} frames of {live['n']} recordings")
        # (a "global" stream runs over whole recordings: only a "window" one is cut)
        print(f"| {name} | {ntr} / {nte} | {g:.3f} | {zn:.3f} | {b:.3f} | {acc} | "
              f"{live['same']}/{live['n']} | {chosen} ({scores}) | {fit_s:.1f} | "
              f"{live['ms_per_frame']:.1f} |")


if __name__ == "__main__":
    main()
