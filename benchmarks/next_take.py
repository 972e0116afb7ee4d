"""The next take to record: a simulated user who follows gm.suggest_next_take against one who
records the classes in turn.

On each shared dataset (held-out splits as in ``few_takes.py``: JapaneseVowels' shipped test
set; ShoulderExerciseWatch's subjects 8-10; HAPT transitions' every third subject), for each
of ``--orders`` random orders:

- every class's training takes are shuffled once (the order in which that class's unseen takes
  come); both users start from the same first take of every class;
- the **suggested** user asks ``gm.suggest_next_take(model, takes so far)`` and records the
  next unseen take of the class it names (the next-neediest class when that one has no take
  left); the **in-turn** user records the classes one after the other;
- after every take, a model fitted on the takes so far is scored on the held-out takes.

The figures are the accuracies when the takes reach 3 and 5 per class on average (3C and 5C
takes), averaged over the orders, with the mean paired difference and its standard error.
Model: ``gm.GMM()`` with its defaults (cheap: the suggestion reviews the takes with up to 10
trainings before every take). As in ``few_takes.py``, ShoulderExerciseWatch is decimated by 5
and HAPT by 2 to keep the run affordable on a shared 2-core machine.

Each order's curves are kept in ``--out`` (JSON) as they are measured, the suggested user's
with the suggestion's settings: a run after the settings changed measures only the suggested
user again (``--users in_turn`` measures the in-turn user alone). The settings themselves were
chosen on the training parts only (``experiments/next_take_choice.py``).

    GESTUREMAP_SHARED=/path/to/shared nice -n 10 python3 -m benchmarks.next_take \\
        --out next-take.json --plot docs/images/next-take.png
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import gesturemap as gm  # noqa: E402
from benchmarks.few_takes import accuracy, load  # noqa: E402
from benchmarks.shared_data import describe  # noqa: E402

DATASETS = ("JapaneseVowels", "ShoulderExerciseWatch", "HAPTTransitions")
#: takes per class on average at which the two users are compared
AT = (3, 5)


def new_model() -> gm.GMM:
    return gm.GMM()


def run_order(trx, try_, tex, tey, classes, seed, suggested: bool):
    """Accuracy after every take (from one per class to 5 per class on average)."""
    rng = np.random.default_rng(seed)
    pools = {c: list(rng.permutation([i for i, y in enumerate(try_) if y == c]))
             for c in classes}
    ds = gm.Dataset()
    for c in classes:
        i = pools[c].pop(0)
        ds.add(trx[i], label=c)
    curve = {len(ds): accuracy(new_model().fit(ds), tex, tey)}
    turn, seconds = 0, []
    while len(ds) < max(AT) * len(classes):
        if suggested:
            t0 = time.perf_counter()
            s = gm.suggest_next_take(new_model(), ds)
            seconds.append(time.perf_counter() - t0)
            order = [s.labels[j] for j in np.argsort(-np.asarray(s.need), kind="stable")]
            label = next(c for c in order if pools[c])
        else:
            label = next(classes[(turn + j) % len(classes)] for j in range(len(classes))
                         if pools[classes[(turn + j) % len(classes)]])
            turn = (classes.index(label) + 1) % len(classes)
        i = pools[label].pop(0)
        ds.add(trx[i], label=label)
        curve[len(ds)] = accuracy(new_model().fit(ds), tex, tey)
    return curve, seconds


def method_tag() -> str:
    """The suggestion's settings: a stored suggested curve made with others is measured again."""
    from gesturemap.evaluation import next_take as nt

    return f"CROWD={nt.CROWD} PRIOR={nt.PRIOR} SLACK={nt.SLACK} BALANCE={nt.BALANCE}"


def measure(names, orders, out_path, users=("in_turn", "suggested")):
    """Every order's curves, cached in ``out_path`` (JSON) per user: the in-turn user's do not
    depend on the suggestion, so they are kept when only the suggestion changes."""
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    tag = method_tag()
    for name in names:
        trx, try_, tex, tey = load(name)
        classes = sorted(set(try_))
        res = results.setdefault(name, {"classes": len(classes), "train": len(trx),
                                         "test": len(tex), "orders": {}})
        for r in range(orders):
            o = res["orders"].setdefault(str(r), {})
            seed = 7919 * r + 1
            t0 = time.perf_counter()
            if "in_turn" in users and "in_turn" not in o:
                o["in_turn"], _ = run_order(trx, try_, tex, tey, classes, seed, suggested=False)
            if "suggested" in users and o.get("method") != tag:
                o["suggested"], o["suggest_seconds"] = run_order(trx, try_, tex, tey, classes,
                                                                 seed, suggested=True)
                o["method"] = tag
            if "suggested" in o and "in_turn" in o:
                sug, turn = ({int(n): v for n, v in o[u].items()} for u in ("suggested",
                                                                           "in_turn"))
                at = [f"{k}/class: {sug[k * len(classes)]:.3f} vs "
                      f"{turn[k * len(classes)]:.3f}" for k in AT]
                print(f"{name:22s} order {r:2d}  {'  '.join(at)}  "
                      f"({time.perf_counter() - t0:.0f} s)", flush=True)
            tmp = out_path.with_name(out_path.name + ".tmp")
            tmp.write_text(json.dumps(results, indent=1))
            tmp.replace(out_path)
    return results


def summarise(results):
    """Per dataset and per takes-per-class: mean accuracy of each user, paired difference."""
    rows = []
    for name, res in results.items():
        c = res["classes"]
        runs = list(res["orders"].values())
        for k in AT:
            sug = np.array([float(o["suggested"][str(k * c)] if str(k * c) in o["suggested"]
                                  else o["suggested"][k * c]) for o in runs])
            turn = np.array([float(o["in_turn"][str(k * c)] if str(k * c) in o["in_turn"]
                                   else o["in_turn"][k * c]) for o in runs])
            diff = sug - turn
            rows.append({"dataset": name, "per_class": k, "orders": len(runs),
                         "suggested": float(sug.mean()), "in_turn": float(turn.mean()),
                         "difference": float(diff.mean()),
                         "stderr": float(diff.std(ddof=1) / np.sqrt(len(diff)))
                         if len(diff) > 1 else float("nan"),
                         "wins": int((diff > 0).sum()), "losses": int((diff < 0).sum())})
    return rows


def table(rows) -> str:
    lines = ["| dataset | takes per class | suggested | in turn | difference (± s.e.) | "
             "orders better / worse |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['dataset']} | {r['per_class']} | {r['suggested']:.3f} | "
                     f"{r['in_turn']:.3f} | {r['difference']:+.3f} ± {r['stderr']:.3f} | "
                     f"{r['wins']} / {r['losses']} of {r['orders']} |")
    return "\n".join(lines)


def plot(results, png):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.4), squeeze=False)
    for ax, (name, res) in zip(axes[0], results.items(), strict=True):
        c = res["classes"]
        for key, style in (("suggested", {"color": "#c0392b", "lw": 2}),
                           ("in_turn", {"color": "#34495e", "lw": 1.5, "ls": "--"})):
            curves = [{int(n): v for n, v in o[key].items()} for o in res["orders"].values()]
            ns = sorted(curves[0])
            mean = np.array([np.mean([cu[n] for cu in curves]) for n in ns])
            ax.plot(np.array(ns) / c, mean, label=key.replace("_", " "), **style)
        for k in AT:
            ax.axvline(k, color="grey", lw=0.5, ls=":")
        ax.set_xlabel("takes per class (on average)")
        ax.set_ylabel("held-out accuracy")
        ax.set_title(f"{name} ({len(res['orders'])} orders)", fontsize=9)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(png, dpi=90)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="*", default=list(DATASETS))
    p.add_argument("--orders", type=int, default=20)
    p.add_argument("--out", type=Path, default=Path("next-take.json"))
    p.add_argument("--plot", type=Path, default=None)
    p.add_argument("--users", nargs="*", default=["in_turn", "suggested"],
                   help="whose curves to measure (the in-turn user's can be measured first)")
    a = p.parse_args(argv)
    print(f"data: {describe()}", flush=True)
    results = measure(a.datasets, a.orders, a.out, tuple(a.users))
    results = {n: {**results[n], "orders": {r: o for r, o in results[n]["orders"].items()
                                            if int(r) < a.orders and "suggested" in o
                                            and "in_turn" in o}} for n in a.datasets}
    rows = summarise(results)
    print(table(rows))
    secs = [s for res in results.values() for o in res["orders"].values()
            for s in o["suggest_seconds"]]
    print(f"suggestion time: median {1e3 * np.median(secs):.0f} ms, "
          f"p90 {1e3 * np.percentile(secs, 90):.0f} ms over {len(secs)} suggestions")
    if a.plot:
        plot(results, a.plot)


if __name__ == "__main__":
    main()
