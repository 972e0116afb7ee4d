"""The early recognition figure reads issue 18aj's stored held-out run as the run reported it
(benchmarks/gvf_recognition_plot.py; docs/gvf.md shows the figure)."""

from __future__ import annotations

import json

import numpy as np

from benchmarks.gvf_recognition_plot import RUN, curves, plot


def test_the_curves_are_the_runs_reported_accuracies():
    run = json.loads(RUN.read_text())
    c = curves(run)
    np.testing.assert_allclose(c["GVF"]["all 9"], run["gvf_accuracy"], atol=1e-12)
    np.testing.assert_allclose(c["HHMM"]["all 9"], run["hhmm_accuracy"], atol=1e-12)
    # the 9 replays are the 3 speeds' 3 sizes each: their mean is the mean of the speeds'
    for model in ("GVF", "HHMM"):
        by_speed = np.mean([c[model][f"speed ×{s}"] for s in ("0.5", "1", "2")], axis=0)
        np.testing.assert_allclose(by_speed, c[model]["all 9"], atol=1e-12)
        assert not np.allclose(c[model]["unchanged"], c[model]["all 9"])


def test_the_figure_is_written(tmp_path):
    out = tmp_path / "curves.png"
    plot(json.loads(RUN.read_text()), out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000
