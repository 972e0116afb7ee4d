"""Why XMM's live label disagreed with ``predict``, and what each decision gives.

For each shared dataset (same splits as :mod:`benchmarks.defaults_lodo`; standardised inputs)
one HHMM and one GMM are trained on the training split (the package defaults before the
leave-one-dataset-out choice, spelled out: ``HHMM(10, relative_regularization=0.1)`` and
``GMM(4, relative_regularization=0.1)``, no deltas); every test
recording is streamed from a reset, and the label at its last frame is compared with
``predict`` on the whole recording (agreement) and with the truth, for:

- ``window`` + hierarchical (XMM's behaviour: mean of the last ``likelihood_window`` log
  instant likelihoods of the two-level forward pass);
- ``window`` with a window as long as the longest recording (the sliding window removed, the
  hierarchical top level kept);
- ``window`` + ``hierarchical=False`` (the top level removed, the window kept);
- ``cumulative`` (the default) and ``decaying`` (time constant 50 frames).

Run from the repository root::

    nice -n 10 python3 -m benchmarks.live_vs_batch [--out docs/live_vs_batch.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import gesturemap as gm  # noqa: E402
from benchmarks.defaults_lodo import NAMES, dataset, load, standardised  # noqa: E402

LONG = 10**5


def variants(kind: str) -> dict[str, dict[str, Any]]:
    out = {"window (XMM)": {"decision": "window"},
           "window, no sliding": {"decision": "window", "likelihood_window": LONG}}
    if kind == "hhmm":
        out["window, not hierarchical"] = {"decision": "window", "hierarchical": False}
    out["cumulative (default)"] = {"decision": "cumulative"}
    out["decaying (50 frames)"] = {"decision": "decaying", "likelihood_window": 50}
    return out


def run() -> dict[str, Any]:
    res: dict[str, Any] = {}
    for name in NAMES:
        splits = load(name)
        for kind in ("hhmm", "gmm"):
            counts: dict[str, list[int]] = {}
            n = 0
            for d in splits:
                tr, te = standardised(d.train, d.test)
                model = (gm.HHMM(10, relative_regularization=0.1, deltas=False, n_jobs=1)
                         if kind == "hhmm" else
                         gm.GMM(4, relative_regularization=0.1, deltas=False, n_jobs=1))
                model.fit(dataset(tr, d.ytrain))
                pred = model.predict(te)
                n += len(te)
                counts.setdefault("predict", [0, 0])
                counts["predict"][0] += sum(p == t for p, t in zip(pred, d.ytest, strict=True))
                counts["predict"][1] += len(te)
                for vname, params in variants(kind).items():
                    model.set_params(**params)
                    stream = model.stream()
                    right = agree = 0
                    for s, p, t in zip(te, pred, d.ytest, strict=True):
                        stream.reset()
                        r = None
                        for f in s:
                            r = stream.step(f)
                        right += r.label == t
                        agree += r.label == p
                    c = counts.setdefault(vname, [0, 0])
                    c[0] += right
                    c[1] += agree
                model.set_params(decision="cumulative", likelihood_window=5)
            res[f"{name}/{kind}"] = {
                k: {"accuracy": v[0] / n, "agreement": v[1] / n} for k, v in counts.items()}
            print(name, kind, json.dumps(res[f"{name}/{kind}"]), flush=True)
    return res


def markdown(res: dict[str, Any]) -> str:
    cols = list(variants("hhmm"))
    lines = ["| dataset / model | predict | " + " | ".join(cols) + " |",
             "|---|---|" + "---|" * len(cols)]
    for key, row in res.items():
        cells = []
        for c in cols:
            v = row.get(c)
            cells.append("–" if v is None else f"{v['accuracy']:.3f} ({v['agreement']:.2f})")
        lines.append(f"| {key} | {row['predict']['accuracy']:.3f} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Cells: accuracy of the live label at the last frame (agreement with predict).")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    res = run()
    text = markdown(res)
    print(text)
    if args.out:
        args.out.write_text(json.dumps(res, indent=1))
        args.out.with_suffix(".md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
