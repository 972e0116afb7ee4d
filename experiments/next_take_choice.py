"""How should ``gm.suggest_next_take`` rank the classes? Chosen inside the training data only.

Simulated users, as ``benchmarks/next_take.py`` runs them, but on a split of each shared
dataset's *training* part (the benchmark's held-out parts are never read):

- JapaneseVowels: a third of each class's training takes validate, the rest are the pool;
- ShoulderExerciseWatch, HAPT transitions: a third of the training subjects (at least two)
  validate; the pool is the other subjects' takes.

Each order draws its own split and the order of every class's pool. A user starts from one take
per class and records until 5 per class on average; the validation accuracy of ``gm.GMM()``
fitted on the takes is read at 3 and 5 per class on average, against the in-turn user's.

A user's state is its count of takes per class (the takes of a class are the first of its
pool), so a state's review and accuracy are computed once (cached under ``--cache``) and shared
by every rule that reaches it.

``--gains`` first measures, at balanced states (2, 3, 4 takes per class), how the validation
accuracy changes with one more take of each class, and how much more (or less) the class each
score ranks first gains than the mean class: the diagnosis that showed that a class the others'
takes are lost to gains *less* from another take (the old rule counted that for the class).

Rules (``--rules``, ``name:arguments``):

- ``turn``: the in-turn user;
- ``old``: the rule before this experiment (mean suspicion plus half the share of the other
  classes' takes taken for it, among the classes with the fewest takes or one more);
- ``net:lam,gamma``: the suspicion of a class's takes less ``lam`` times the suspicion of the
  takes it is the named runner-up of (suspicion 0.5 or more), per take, shrunk toward the mean
  by one take; less ``gamma`` per take beyond the fewest; candidates: the fewest takes or one
  more. ``net:2,0.4`` is what ``gm.suggest_next_take`` does now;
- ``rounds``: one take a class a round, but at each round's start (from the third) the
  class with the lowest ``net:2,0`` score is skipped and the one with the highest gets two:
  the trade ``--trade`` measures, made every round.

``--trade`` measures that trade at the balanced state of 3 takes per class: the accuracy a
third take of the class ranked last (by ``net:2,0``) adds, a fourth take of the class ranked
first, and both at once, against the balanced set; and a third take of any other class.

    GESTUREMAP_SHARED=/path/to/shared nice -n 10 python3 -m experiments.next_take_choice \\
        --orders 16 --rules turn old net:2,0.2 net:2,0.4 net:2,0.6 net:3,0.4 [--gains]
"""

from __future__ import annotations

import argparse
import os
import pickle
from pathlib import Path

import numpy as np

import gesturemap as gm
from benchmarks.few_takes import load_with_subjects
from gesturemap.evaluation import next_take as nt
from gesturemap.review import review_takes

DATASETS = ("JapaneseVowels", "ShoulderExerciseWatch", "HAPTTransitions")
AT = (3, 5)


class Order:
    """One inner split and pool order of a dataset, with its states' reviews and accuracies
    cached on disk (the cache is this experiment's own scratch, never a user's file)."""

    def __init__(self, name: str, r: int, cache: Path):
        trx, try_, _, _, subj = load_with_subjects(name)
        rng = np.random.default_rng(100003 * r + 17)
        n = len(trx)
        if subj is None:  # no performer in the files: a third of each class's takes
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
        self.vy = [try_[i] for i in range(n) if val[i]]
        self.classes = sorted(set(try_))
        self.pools = {c: list(rng.permutation([i for i, y in enumerate(self.py) if y == c]))
                      for c in self.classes}
        self.path = cache / f"{name}-{r}.pkl"
        self.cache = (pickle.loads(self.path.read_bytes()) if self.path.exists()
                      else {"reviews": {}, "acc": {}})

    def save(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_bytes(pickle.dumps(self.cache))
        os.replace(tmp, self.path)

    def dataset(self, counts) -> gm.Dataset:
        ds = gm.Dataset()
        for c, k in zip(self.classes, counts, strict=True):
            for i in self.pools[c][:k]:
                ds.add(self.px[i], label=c)
        return ds

    def reviews(self, counts):
        key = tuple(counts)
        if key not in self.cache["reviews"]:
            self.cache["reviews"][key] = review_takes(self.dataset(counts), gm.GMM())
        return self.cache["reviews"][key]

    def accuracy(self, counts) -> float:
        key = tuple(counts)
        if key not in self.cache["acc"]:
            model = gm.GMM().fit(self.dataset(counts))
            self.cache["acc"][key] = float(np.mean([p == y for p, y in zip(
                model.predict(self.vx), self.vy, strict=True)]))
        return self.cache["acc"][key]


def turn(o: Order, counts, avail) -> int:
    return min((k for k in range(len(counts)) if avail[k]), key=lambda k: (counts[k], k))


def old(o: Order, counts, avail) -> int:
    """The rule before: mean suspicion + half the share of the others' takes taken for it."""
    counts = np.asarray(counts)
    rv = o.reviews(counts)
    y = np.repeat(np.arange(len(counts)), counts)
    s = np.array([r.suspicion for r in rv])
    if (counts < 2).any():
        need = (counts < 2).astype(float)
    else:
        conf = rv.summary.confusion
        others = conf.sum() - conf.sum(axis=1)
        share = np.where(others > 0, (conf.sum(0) - np.diag(conf)) / np.maximum(others, 1), 0)
        need = np.array([s[y == k].mean() for k in range(len(counts))]) + 0.5 * share
        need = np.where(counts <= counts.min() + 1, need, 0.0)
    return min((k for k in range(len(counts)) if avail[k]),
               key=lambda k: (-need[k], counts[k], k))


def net(lam: float, gamma: float):
    def choose(o: Order, counts, avail) -> int:
        counts = np.asarray(counts)
        c = len(counts)
        if (counts < 2).any():
            return next(k for k in range(c) if counts[k] < 2 and avail[k])
        score = net_scores(o, counts, lam) - gamma * (counts - counts.min())
        ok = [k for k in range(c) if avail[k] and counts[k] <= counts.min() + 1]
        return min(ok, key=lambda k: (-score[k], counts[k], k))
    return choose


def net_scores(o: Order, counts, lam: float = 2.0) -> np.ndarray:
    """``net:lam,0``'s per-take score of each class (higher: needs a take more)."""
    counts = np.asarray(counts)
    c = len(counts)
    rv = o.reviews(counts)
    index = {lb: i for i, lb in enumerate(o.classes)}
    y = np.repeat(np.arange(c), counts)
    s = np.array([r.suspicion for r in rv])
    runner = np.array([-1 if (k := nt._runner_up(r, index)) is None else k for r in rv])
    named = runner >= 0
    raw = (np.bincount(y, weights=s, minlength=c)
           - lam * np.bincount(runner[named], weights=s[named], minlength=c))
    return (raw + raw.sum() / counts.sum()) / (counts + 1)


def rounds():
    plan: dict[tuple[str, int, int], tuple[np.ndarray, np.ndarray]] = {}

    def choose(o: Order, counts, avail) -> int:
        counts = np.asarray(counts)
        c = len(counts)
        if (counts < 2).any():
            return next(k for k in range(c) if counts[k] < 2 and avail[k])
        r = int(counts.sum()) // c + 1  # the round under way: every class up to r takes
        key = (o.path.name, r, c)
        if key not in plan:  # fixed at the round's start
            score = net_scores(o, counts)
            target = np.full(c, r)
            last, first = int(np.argmin(score)), int(np.argmax(score))
            if last != first:
                target[last] -= 1
                target[first] += 1
            plan[key] = (target, score)
        target, score = plan[key]
        ok = [k for k in range(c) if avail[k] and counts[k] < target[k]]
        if not ok:
            return turn(o, counts, avail)
        return min(ok, key=lambda k: (-score[k], k))
    return choose


def trade(o: Order) -> tuple[float, float, float, float]:
    """At 3 takes per class: what a third take of the class ranked last adds, a fourth of the
    class ranked first, both traded at once (the first's fourth for the last's third), and
    the mean third take of the other classes."""
    c = len(o.classes)
    score = net_scores(o, [2] * c)
    last, first = int(np.argmin(score)), int(np.argmax(score))
    base = o.accuracy([3] * c)

    def at(changes: dict[int, int]) -> float:
        return o.accuracy([changes.get(k, 3) for k in range(c)]) - base
    others = [k for k in range(c) if k != last]
    return (-at({last: 2}), at({first: 4}), at({last: 2, first: 4}),
            float(np.mean([-at({k: 2}) for k in others])))


def rule(spec: str):
    if spec == "turn":
        return turn
    if spec == "old":
        return old
    name, _, args = spec.partition(":")
    if name == "net":
        lam, gamma = (float(v) for v in args.split(","))
        return net(lam, gamma)
    if name == "rounds":
        return rounds()
    raise SystemExit(f"unknown rule {spec}")


def simulate(o: Order, choose) -> dict[int, float]:
    c = len(o.classes)
    counts = [1] * c
    out = {}
    while sum(counts) < max(AT) * c:
        avail = [len(o.pools[lb]) > counts[k] for k, lb in enumerate(o.classes)]
        counts[choose(o, tuple(counts), avail)] += 1
        if sum(counts) % c == 0 and sum(counts) // c in AT:
            out[sum(counts) // c] = o.accuracy(counts)
    return out


def gains(o: Order) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """At 2, 3, 4 takes per class: each class's accuracy gain from one more take, and its
    net score (``net:2,0``'s per-take score)."""
    c = len(o.classes)
    out = []
    for n in (2, 3, 4):
        counts = [n] * c
        base = o.accuracy(counts)
        g = np.array([o.accuracy([n + (j == k) for j in range(c)]) - base for k in range(c)])
        rv = o.reviews(counts)
        s = np.array([r.suspicion for r in rv])
        index = {lb: i for i, lb in enumerate(o.classes)}
        runner = np.array([-1 if (k := nt._runner_up(r, index)) is None else k for r in rv])
        y = np.repeat(np.arange(c), counts)
        named = runner >= 0
        own = np.bincount(y, weights=s, minlength=c)
        taken = np.bincount(runner[named], weights=s[named], minlength=c)
        out.append((n, g, np.stack([own, taken, own - 2 * taken])))
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="*", default=list(DATASETS))
    p.add_argument("--orders", type=int, default=16)
    p.add_argument("--first", type=int, default=0, help="first order (orders are disjoint "
                   "draws: a rule chosen on some can be checked on others)")
    p.add_argument("--rules", nargs="*", default=["turn", "old", "net:2,0.4"])
    p.add_argument("--gains", action="store_true")
    p.add_argument("--trade", action="store_true")
    p.add_argument("--cache", type=Path, default=Path("next-take-choice-cache"))
    a = p.parse_args(argv)
    a.cache.mkdir(parents=True, exist_ok=True)
    for name in a.datasets:
        diffs = {spec: {k: [] for k in AT} for spec in a.rules}
        top = {"own": [], "taken": [], "net": []}
        trades = []
        for r in range(a.first, a.first + a.orders):
            o = Order(name, r, a.cache)
            base = simulate(o, turn)
            for spec in a.rules:
                res = simulate(o, rule(spec))
                for k in AT:
                    diffs[spec][k].append(res[k] - base[k])
            if a.trade:
                trades.append(trade(o))
            if a.gains:
                for _, g, scores in gains(o):
                    for key, sc in zip(top, scores, strict=True):
                        top[key].append(g[sc == sc.max()].mean() - g.mean())
            o.save()
        for spec in a.rules:
            cells = "  ".join(f"{k}/class {np.mean(v):+.4f} ± "
                              f"{np.std(v, ddof=1) / np.sqrt(len(v)):.4f}"
                              for k, v in diffs[spec].items())
            print(f"{name:22s} {spec:12s} vs in turn: {cells}", flush=True)
        if a.trade:
            t = np.array(trades)
            m, se = t.mean(0), t.std(0, ddof=1) / np.sqrt(len(t))
            print(f"{name:22s} at 3/class: a third take of the class ranked last "
                  f"{m[0]:+.4f} ± {se[0]:.4f}, of the others {m[3]:+.4f} ± {se[3]:.4f}; a "
                  f"fourth of the class ranked first {m[1]:+.4f} ± {se[1]:.4f}; the trade "
                  f"{m[2]:+.4f} ± {se[2]:.4f} ({len(t)} orders)", flush=True)
        if a.gains:
            for key, v in top.items():
                print(f"{name:22s} gain of the class ranked first by '{key}' over the mean "
                      f"class: {np.mean(v):+.4f} ({len(v)} states)", flush=True)


if __name__ == "__main__":
    main()
