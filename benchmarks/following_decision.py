"""The HHMM's ``decision="following"`` against the others, on streams reset at each gesture and
on streams never reset (Wekinator's protocol: no resets).

For each shared dataset (the splits of :mod:`benchmarks.defaults_lodo`, inputs standardised
with the training split's statistics) ``gm.HHMM()`` (the package defaults) is trained once per
split; then, for each decision:

- **reset**: every test recording streamed from a reset: the label at its last frame against
  the truth, whether it equals ``"cumulative"``'s there (``predict``'s), and the share of
  frames whose label differs from ``"cumulative"``'s (none: the decision never restarted);
- **no reset**: the test recordings of a split back to back in a shuffled order (seed 0), one
  stream never reset: the share of frames labelled with their recording's class, and the
  label at each recording's last frame.

Plus synthetic postures (4 poses in 2-D, 2 takes of 30 frames each, shown for 20 frames at a
time, 12 times, no reset): the share of frames right.

Run from the repository root::

    nice -n 10 python3 -m benchmarks.following_decision [--out docs/following_decision.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import gesturemap as gm  # noqa: E402
from benchmarks.defaults_lodo import NAMES, dataset, load, standardised  # noqa: E402

DECISIONS = {
    "cumulative": {"decision": "cumulative"},
    "following": {"decision": "following"},
    "decaying (50)": {"decision": "decaying", "likelihood_window": 50},
    "window (5, XMM)": {"decision": "window", "likelihood_window": 5},
}


def _labels(stream: Any, frames: np.ndarray) -> list[Any]:
    return [stream.step(f).label for f in frames]


def reset_scores(model: Any, test: Sequence[np.ndarray], truth: Sequence[Any]
                 ) -> dict[str, dict[str, float]]:
    """Per decision: last-frame accuracy, agreement with cumulative at the last frame, share of
    frames labelled otherwise than cumulative, on streams reset at each recording."""
    per: dict[str, list[list[Any]]] = {}
    for name, params in DECISIONS.items():
        model.set_params(**params)
        stream = model.stream()
        out = []
        for s in test:
            stream.reset()
            out.append(_labels(stream, s))
        per[name] = out
    ref = per["cumulative"]
    res = {}
    for name, out in per.items():
        frames = sum(len(o) for o in out)
        differ = sum(a != b for o, r in zip(out, ref, strict=True)
                     for a, b in zip(o, r, strict=True))
        res[name] = {
            "last_frame_accuracy": float(np.mean([o[-1] == t for o, t in
                                                  zip(out, truth, strict=True)])),
            "last_frame_equals_cumulative": float(np.mean([o[-1] == r[-1] for o, r in
                                                           zip(out, ref, strict=True)])),
            "frames_unlike_cumulative": differ / frames,
        }
    return res


def unsegmented_scores(model: Any, test: Sequence[np.ndarray], truth: Sequence[Any]
                       ) -> dict[str, dict[str, float]]:
    """Per decision, on the recordings back to back (shuffled, seed 0), never reset: the share
    of frames labelled with their recording's class, and of recordings right at their end."""
    order = np.random.default_rng(0).permutation(len(test))
    x = np.vstack([test[i] for i in order])
    y = np.concatenate([[truth[i]] * len(test[i]) for i in order])
    ends = np.cumsum([len(test[i]) for i in order]) - 1
    res = {}
    for name, params in DECISIONS.items():
        model.set_params(**params)
        got = np.array(_labels(model.stream(), x), dtype=object)
        res[name] = {"frame_accuracy": float(np.mean(got == y)),
                     "last_frame_accuracy": float(np.mean(got[ends] == y[ends]))}
    return res


def postures() -> dict[str, float]:
    rng = np.random.default_rng(1)
    poses = np.array([[0.1, 0.1], [0.9, 0.1], [0.5, 0.9], [0.9, 0.9]])
    ds = gm.Dataset()
    for c, p in enumerate(poses, 1):
        for _ in range(2):
            ds.add(p + 0.02 * rng.standard_normal((30, 2)), label=c)
    order = [1, 2, 3, 4, 2, 1, 3, 4, 1, 3, 2, 4]
    x = np.vstack([poses[c - 1] + 0.02 * rng.standard_normal((20, 2)) for c in order])
    y = np.repeat(order, 20)
    model = gm.HHMM(n_jobs=1).fit(ds)
    out = {}
    for name, params in DECISIONS.items():
        model.set_params(**params)
        out[name] = float(np.mean(np.array(_labels(model.stream(), x)) == y))
    return out


def _pooled(parts: list[dict[str, dict[str, float]]], sizes: list[int]
            ) -> dict[str, dict[str, float]]:
    """Weighted means over splits (HAPT's three folds)."""
    w = np.asarray(sizes, dtype=float) / sum(sizes)
    return {d: {k: float(sum(wi * p[d][k] for wi, p in zip(w, parts, strict=True)))
                for k in parts[0][d]} for d in parts[0]}


def run(names: Sequence[str]) -> dict[str, Any]:
    res: dict[str, Any] = {"postures": postures()}
    for name in names:
        reset, unseg, sizes = [], [], []
        for d in load(name):
            tr, te = standardised(d.train, d.test)
            model = gm.HHMM(n_jobs=1).fit(dataset(tr, d.ytrain))
            reset.append(reset_scores(model, te, d.ytest))
            unseg.append(unsegmented_scores(model, te, d.ytest))
            sizes.append(len(te))
        res[name] = {"reset": _pooled(reset, sizes), "no_reset": _pooled(unseg, sizes),
                     "recordings": int(sum(sizes))}
        print(name, json.dumps(res[name], indent=1), flush=True)
    return res


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--datasets", nargs="*", default=list(NAMES))
    args = ap.parse_args(argv)
    res = run(args.datasets)
    print("postures", res["postures"])
    if args.out is not None:
        args.out.write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
