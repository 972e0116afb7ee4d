"""Two limits of ``gm.GVF()`` found by the review of 2026-12-09 (docs/notes/issue-18ag.md,
section 4; docs/gvf.md, "Not done").

1. **Straight strokes.** Synthetic 2-D shapes (three takes of 50–60 frames each, a little
   noise), the class followed in 18 replays: ×0.5 / ×1 / ×2 faster (28 / 55 / 110 frames),
   ×0.5 / ×1 / ×2 bigger, straight and turned 10°; the share of the frames after 30 % whose
   speed and size are within ±15 % of the replay's factors, for ``gm.GVF()`` and with the
   particles' own estimates (``"sampled"``). Shapes: a line at constant speed, a line that
   speeds up and slows down (a hand's swipe), a circle.
2. **One wild sample.** GVF trained on 4 HAPT transition takes per class (every second frame),
   followed on every sixth take of the other subjects' part of the file (32 takes) with one
   frame inserted a third of the way in whose first input is 10 or 50 (g; the takes stay
   within 1.3): the label at the end and the true class's scale, without and with a
   ``MovingMedian(3)`` stage before the model (in training too).

Run from the repository root::

    nice -n 10 python3 -m benchmarks.gvf_limits
"""

from __future__ import annotations

import numpy as np

import gesturemap as gm
from benchmarks.shared_data import DATASETS
from gesturemap.features import MovingMedian, Pipeline

HAPT = DATASETS / "HAPTTransitions" / "HAPT_transitions_train.npz"


def _line(n: int) -> np.ndarray:
    t = np.linspace(0, 1, n)
    return np.c_[t, 0.5 * t]


def _swipe(n: int) -> np.ndarray:
    s = 0.5 - 0.5 * np.cos(np.pi * np.linspace(0, 1, n))
    return np.c_[s, 0.5 * s]


def _circle(n: int) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n)
    return np.c_[np.cos(a) - 1, np.sin(a)]


def straight_strokes() -> dict[str, dict[str, list[float]]]:
    """Per shape and estimate: [speed, size] within ±15 % over the 18 replays."""
    rng = np.random.default_rng(1)

    def noisy(x: np.ndarray) -> np.ndarray:
        return x + rng.normal(0, 0.01, x.shape)

    other = np.c_[np.linspace(0, 1, 60), np.sin(np.linspace(0, 6, 60))]
    out: dict[str, dict[str, list[float]]] = {}
    for shape in (_line, _swipe, _circle):
        ds = gm.Dataset()
        for i in range(3):
            ds.add(noisy(shape(50 + 5 * i)), label="a")
            ds.add(noisy(other), label="b")
        out[shape.__name__[1:]] = {}
        for name, kw in (("gm.GVF()", {}),
                         ("sampled", {"speed_estimate": "sampled", "scale_estimate": "sampled"})):
            model = gm.GVF(**kw).fit(ds)
            k = model.labels_.index("a")
            hits = []
            for deg in (0, 10):
                th = np.radians(deg)
                turn = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
                for n in (28, 55, 110):
                    for size in (0.5, 1.0, 2.0):
                        stream = model.stream()
                        rs = [stream.step(f) for f in noisy(size * shape(n) @ turn.T)]
                        a = int(0.3 * n)
                        sp = np.array([r.speed[k] for r in rs[a:]]) / (55 / n)
                        sc = np.array([r.scale[k].mean() for r in rs[a:]]) / size
                        hits.append((np.mean(np.abs(sp - 1) <= 0.15),
                                     np.mean(np.abs(sc - 1) <= 0.15)))
            out[shape.__name__[1:]][name] = np.mean(hits, axis=0).round(3).tolist()
    return out


def wild_sample() -> dict[str, dict[str, list[float]]]:
    """Per pipeline and wild value (None: none): [accuracy at the end, median scale]."""
    z = np.load(HAPT)
    takes = np.split(z["X_concat"], np.cumsum(z["lengths"])[:-1])
    labels = [str(v) for v in z["y"]]
    med = Pipeline([MovingMedian(3)])
    count: dict[str, int] = {}
    train = []
    for t, lb in zip(takes, labels, strict=True):
        if count.get(lb, 0) < 4:
            count[lb] = count.get(lb, 0) + 1
            train.append((np.asarray(t[::2], float), lb))
    out: dict[str, dict[str, list[float]]] = {}
    for name, filtered in (("raw", False), ("MovingMedian(3)", True)):
        ds = gm.Dataset()
        for x, lb in train:
            ds.add(med.transform_sequence(x) if filtered else x, label=lb)
        model = gm.GVF().fit(ds)
        out[name] = {}
        for wild in (None, 10.0, 50.0):
            rows = []
            for i in range(60, 250, 6):
                x = np.asarray(takes[i][::2], float)
                k = model.labels_.index(labels[i])
                if wild is not None:
                    frame = x[len(x) // 3].copy()
                    frame[0] = wild
                    x = np.insert(x, len(x) // 3, frame, axis=0)
                if filtered:
                    x = med.transform_sequence(x)
                stream = model.stream()
                r = None
                for f in x:
                    r = stream.step(f)
                rows.append((r.label == labels[i], float(r.scale[k].mean())))
            out[name][str(wild)] = [round(float(np.mean([a for a, _ in rows])), 3),
                                    round(float(np.median([s for _, s in rows])), 3)]
    return out


def main() -> None:
    for shape, rows in straight_strokes().items():
        for name, (speed, size) in rows.items():
            print(f"{shape:7s} {name:9s} speed within ±15 % {speed:.2f}, size {size:.2f}")
    for name, rows in wild_sample().items():
        for wild, (acc, scale) in rows.items():
            print(f"{name:16s} wild sample {wild:5s}: label right at the end {acc:.2f}, "
                  f"median scale {scale:.2f}")


if __name__ == "__main__":
    main()
