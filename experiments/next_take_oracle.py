"""How much could *any* choice of the next class gain over recording the classes in turn?

An upper bound for ``gm.suggest_next_take``, measured on the shared datasets' *training*
parts only (the benchmark's held-out parts are never read). Each order draws its own inner
split exactly as ``experiments/next_take_choice.py`` does (same seeds, so the same splits and
pool orders): JapaneseVowels, a third of each class's training takes validate; the two others,
a third of the training subjects (at least two). The pool is the rest, each class's takes in
a random order; a user who asks for a class gets that class's next unseen take of the pool.

Users, all from one take per class up to 5 per class on average, ``gm.GMM()`` defaults:

- ``in turn``: the classes one after the other;
- ``oracle``: a *validation oracle*: at every step it fits a model with each class's next take
  added and picks the class whose take most raises the validation accuracy (ties: the in-turn
  choice, the class with fewest takes first). It sees the very takes a rule would have to guess
  at, so no rule that sees only the user's takes can do better step by step;
- ``oracle, cross-checked``: the same, but the validation part is cut in two halves (by
  subject, or by take within each class for JapaneseVowels); the oracle chooses on one half
  and is scored on the other (both ways, averaged), the in-turn user scored the same way. The
  plain oracle is scored on the part it chose on, so it also gains the luck of that part's
  takes: the cross-checked oracle says how much of its gain is real;
- ``oracle, near balance``: the oracle choosing only among the classes with the fewest takes
  or one more (the candidates ``gm.suggest_next_take`` allows), plain and cross-checked. The
  unrestricted oracle is greedy: a take that raises the accuracy now can leave a class short
  later, so it is no bound on rules that look further; this one is a bound on the present
  rule's family (one step, near balance) with the step's gain known;
- ``trade``: at exactly 3 and 5 takes per class, the best set among the balanced one and
  every set one trade away (a class one take short, another one take ahead), chosen on the
  validation part (plain) or on one half and scored on the other (cross-checked).

``--gains`` adds a diagnosis: at the balanced sets of 2, 3 and 4 takes per class, the
validation gain of each class's next take, measured on each half separately. If the class
that gains most on one half gains no more than the mean class on the other, the step's gain
is the luck of the validation takes, not something a rule could learn to foresee.

Printed: per dataset and takes per class, the mean paired difference from the in-turn user
(± standard error over orders), the orders better / worse, and how far from balance the
oracle's set is. Each order's fitted states' predictions are cached under ``--cache``.

    GESTUREMAP_SHARED=/path/to/shared nice -n 10 python3 -m experiments.next_take_oracle \\
        --orders 20 [--datasets JapaneseVowels]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import time
from pathlib import Path

import numpy as np

import gesturemap as gm
from benchmarks.few_takes import load_with_subjects

DATASETS = ("JapaneseVowels", "ShoulderExerciseWatch", "HAPTTransitions")
AT = (3, 5)


class Split:
    """One inner split (as ``next_take_choice.Order`` draws it) with two validation halves;
    each state's (count of takes per class) predictions on the validation part are cached."""

    def __init__(self, name: str, r: int, cache: Path):
        trx, try_, _, _, subj = load_with_subjects(name)
        rng = np.random.default_rng(100003 * r + 17)  # next_take_choice.Order's draws
        n = len(trx)
        if subj is None:
            val = np.zeros(n, bool)
            for c in sorted(set(try_)):
                idx = rng.permutation([i for i, y in enumerate(try_) if y == c])
                val[idx[: len(idx) // 3]] = True
        else:
            s = sorted(set(subj))
            chosen = set(rng.permutation(s)[: max(2, len(s) // 3)].tolist())
            val = np.array([v in chosen for v in subj])
        self.px = [trx[i] for i in range(n) if not val[i]]
        self.py = [try_[i] for i in range(n) if not val[i]]
        self.vx = [trx[i] for i in range(n) if val[i]]
        self.vy = np.array([try_[i] for i in range(n) if val[i]])
        self.classes = sorted(set(try_))
        self.pools = {c: list(rng.permutation([i for i, y in enumerate(self.py) if y == c]))
                      for c in self.classes}
        # the halves: a separate draw, so the split and pools stay next_take_choice's
        hr = np.random.default_rng(7 * r + 3)
        half = np.zeros(len(self.vy), bool)
        if subj is None:
            for c in self.classes:
                idx = hr.permutation(np.nonzero(self.vy == c)[0])
                half[idx[: len(idx) // 2]] = True
        else:
            vs = np.array([subj[i] for i in range(n) if val[i]])
            us = hr.permutation(sorted(set(vs.tolist())))
            half = np.isin(vs, us[: len(us) // 2])
        self.halves = (half, ~half)
        self.path = cache / f"{name}-{r}.pkl"
        self.pred = pickle.loads(self.path.read_bytes()) if self.path.exists() else {}

    def save(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_bytes(pickle.dumps(self.pred))
        os.replace(tmp, self.path)

    def predictions(self, counts) -> np.ndarray:
        key = tuple(int(k) for k in counts)
        if key not in self.pred:
            ds = gm.Dataset()
            for c, k in zip(self.classes, key, strict=True):
                for i in self.pools[c][:k]:
                    ds.add(self.px[i], label=c)
            self.pred[key] = np.array(gm.GMM().fit(ds).predict(self.vx))
        return self.pred[key]

    def accuracy(self, counts, part=None) -> float:
        hit = self.predictions(counts) == self.vy
        return float(hit.mean() if part is None else hit[part].mean())

    def available(self, counts) -> list[int]:
        return [k for k, c in enumerate(self.classes) if len(self.pools[c]) > counts[k]]


def in_turn(s: Split, counts, part) -> int:
    return min(s.available(counts), key=lambda k: (counts[k], k))


def oracle(s: Split, counts, part, near: bool = False) -> int:
    """The class whose next take most raises the accuracy on ``part`` (ties: in turn);
    ``near``: among the classes with the fewest takes or one more only (the candidates of
    ``gm.suggest_next_take``)."""
    def after(k):
        return s.accuracy([v + (j == k) for j, v in enumerate(counts)], part)
    ok = s.available(counts)
    if near:
        low = min(counts[k] for k in ok)
        ok = [k for k in ok if counts[k] <= low + 1]
    return min(ok, key=lambda k: (-after(k), counts[k], k))


def oracle_near(s: Split, counts, part) -> int:
    return oracle(s, counts, part, near=True)


def simulate(s: Split, choose, part=None) -> dict[int, tuple[int, ...]]:
    """The sets of takes (counts per class) at 3 and 5 takes per class on average."""
    c = len(s.classes)
    counts = [1] * c
    out = {}
    while sum(counts) < max(AT) * c:
        counts[choose(s, counts, part)] += 1
        if sum(counts) % c == 0 and sum(counts) // c in AT:
            out[sum(counts) // c] = tuple(counts)
    return out


def best_trade(s: Split, k: int, part) -> tuple[int, ...]:
    """Among the balanced set of k takes per class and every set one trade from it, the one
    most accurate on ``part`` (ties: the balanced set)."""
    c = len(s.classes)
    sets = [tuple([k] * c)]
    for a in range(c):
        for b in range(c):
            if a != b and len(s.pools[s.classes[b]]) > k:
                sets.append(tuple(k - (j == a) + (j == b) for j in range(c)))
    return max(sets, key=lambda v: s.accuracy(v, part))  # max keeps the first of ties


def one_order(s: Split) -> dict:
    """Per user and takes per class: its validation accuracy less the in-turn user's, plain
    (chosen and scored on the whole part) and cross-checked (chosen on one half, scored on the
    other, both ways averaged); and how far the oracle's set is from balance."""
    turn = simulate(s, in_turn)
    ora = simulate(s, oracle)
    ora_half = [simulate(s, oracle, h) for h in s.halves]
    near = simulate(s, oracle_near)
    near_half = [simulate(s, oracle_near, h) for h in s.halves]
    out = {}
    for k in AT:
        base = s.accuracy(turn[k])
        base_h = [s.accuracy(turn[k], h) for h in s.halves]
        cross = np.mean([s.accuracy(ora_half[i][k], s.halves[1 - i]) - base_h[1 - i]
                         for i in range(2)])
        near_cross = np.mean([s.accuracy(near_half[i][k], s.halves[1 - i]) - base_h[1 - i]
                              for i in range(2)])
        trade = best_trade(s, k, None)
        trade_h = [best_trade(s, k, h) for h in s.halves]
        trade_cross = np.mean([s.accuracy(trade_h[i], s.halves[1 - i]) - base_h[1 - i]
                               for i in range(2)])
        out[k] = {"in_turn": base,
                  "oracle": s.accuracy(ora[k]) - base,
                  "oracle_cross": float(cross),
                  "near": s.accuracy(near[k]) - base,
                  "near_cross": float(near_cross),
                  "trade": s.accuracy(trade) - base,
                  "trade_cross": float(trade_cross),
                  "oracle_spread": int(max(ora[k]) - min(ora[k])),
                  "oracle_off": int(sum(abs(v - k) for v in ora[k]) // 2)}
    return out


def gains(s: Split) -> list[dict]:
    """At 2, 3, 4 takes per class: each class's gain from its next take, on each half: their
    correlation across classes, and the gain on one half of the class best on the other, over
    the mean class's (both ways averaged)."""
    c = len(s.classes)
    out = []
    for n in (2, 3, 4):
        base = [n] * c
        g = np.array([[s.accuracy([n + (j == k) for j in range(c)], h) - s.accuracy(base, h)
                       for k in range(c)] for h in s.halves])
        corr = (float(np.corrcoef(g)[0, 1]) if g[0].std() > 0 and g[1].std() > 0
                else float("nan"))
        top = np.mean([g[1 - i][g[i] == g[i].max()].mean() - g[1 - i].mean()
                       for i in range(2)])
        spread = float(np.mean([g[i].max() - g[i].mean() for i in range(2)]))
        out.append({"n": n, "corr": corr, "top": float(top), "top_same": spread})
    return out


USERS = (("oracle", "oracle (chosen and scored on the validation part)"),
         ("oracle_cross", "oracle, cross-checked (chosen on one half, scored on the other)"),
         ("near", "oracle among the fewest-takes-or-one-more classes (validation part)"),
         ("near_cross", "oracle among the fewest-or-one-more classes, cross-checked"),
         ("trade", "best set one trade from balance (validation part)"),
         ("trade_cross", "best set one trade from balance, cross-checked"))


def summarise(name: str, runs: list[dict]) -> list[str]:
    lines = []
    for k in AT:
        base = np.mean([o[str(k)]["in_turn"] for o in runs])
        off = np.mean([o[str(k)]["oracle_off"] for o in runs])
        spread = np.mean([o[str(k)]["oracle_spread"] for o in runs])
        lines.append(f"{name} {k}/class: in turn {base:.3f}; the oracle's set is "
                     f"{off:.1f} takes from balance on average (spread {spread:.1f})")
        for key, label in USERS:
            d = np.array([o[str(k)][key] for o in runs])
            se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
            lines.append(f"  {label:68s} {d.mean():+.4f} ± {se:.4f}  "
                         f"better {int((d > 1e-12).sum())} / worse {int((d < -1e-12).sum())}"
                         f" of {len(d)}")
    return lines


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="*", default=list(DATASETS))
    p.add_argument("--orders", type=int, default=20)
    p.add_argument("--cache", type=Path, default=Path("next-take-oracle-cache"))
    p.add_argument("--out", type=Path, default=Path("next-take-oracle.json"))
    p.add_argument("--gains", action="store_true")
    a = p.parse_args(argv)
    a.cache.mkdir(parents=True, exist_ok=True)
    results = json.loads(a.out.read_text()) if a.out.exists() else {}
    for name in a.datasets:
        runs = results.setdefault(name, {})
        for r in range(a.orders):
            if str(r) in runs:
                continue
            t0 = time.perf_counter()
            s = Split(name, r, a.cache)
            runs[str(r)] = {str(k): v for k, v in one_order(s).items()}
            s.save()
            a.out.write_text(json.dumps(results, indent=1))
            cells = "  ".join(f"{k}/class oracle {runs[str(r)][str(k)]['oracle']:+.3f} "
                              f"cross {runs[str(r)][str(k)]['oracle_cross']:+.3f}"
                              for k in AT)
            print(f"{name:22s} order {r:2d}  {cells}  ({time.perf_counter() - t0:.0f} s)",
                  flush=True)
        print("\n".join(summarise(name, [runs[str(r)] for r in range(a.orders)])),
              flush=True)
        if a.gains:
            rows = []
            for r in range(a.orders):
                s = Split(name, r, a.cache)
                rows += gains(s)
                s.save()
            for n in (2, 3, 4):
                sel = [g for g in rows if g["n"] == n]
                corr = np.array([g["corr"] for g in sel])
                top = np.array([g["top"] for g in sel])
                same = np.array([g["top_same"] for g in sel])
                print(f"{name} balanced at {n}/class: the class gaining most on one half "
                      f"gains {same.mean():+.4f} over the mean class there, "
                      f"{top.mean():+.4f} ± {top.std(ddof=1) / np.sqrt(len(top)):.4f} on "
                      f"the other half; correlation of the classes' gains between halves "
                      f"{np.nanmean(corr):+.2f} ({np.isfinite(corr).sum()} of {len(sel)} "
                      "orders)", flush=True)


if __name__ == "__main__":
    main()
