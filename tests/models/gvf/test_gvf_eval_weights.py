"""benchmarks/gvf_eval.py's class scale: each class's per-input scales are weighted by that
class's own templates' energy, whatever the templates per class."""

import numpy as np

import gesturemap as gm
from benchmarks.gvf_eval import energy_weights


def _dataset():
    """Three classes of 4 takes, each moving one input of three (the others still)."""
    rng = np.random.default_rng(5)
    ds = gm.Dataset()
    t = np.linspace(0.0, 1.0, 40)[:, None]
    for k, label in enumerate("abc"):
        for _ in range(4):
            x = 0.01 * rng.standard_normal((40, 3))
            x[:, k] += np.sin(np.pi * t[:, 0]) * rng.uniform(0.8, 1.2)
            ds.add(x, label)
    return ds


def test_each_class_weighs_the_input_its_templates_move():
    for per_class in (1, 2, 4):
        model = gm.GVF(100, templates_per_class=per_class).fit(_dataset())
        w = energy_weights(model)
        assert w.shape == (3, 3)
        np.testing.assert_allclose(w.sum(axis=1), 1.0)
        for k, label in enumerate(model.labels_):
            moved = "abc".index(label)
            assert w[k, moved] > 0.95, (per_class, label, w[k])
