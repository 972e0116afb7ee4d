"""Size parameters have upper bounds (gesturemap.models.limits): a value beyond one is refused
by the checks fit, gm.check_params and the model reader share, with a ValueError that says
the bound and why, before anything is allocated. The bounds refuse no realistic setting."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.models.limits import SIZE_LIMITS

#: (model kind, its settings with one size beyond its bound, the parameter, its bound's name)
BEYOND = [
    ("gmm", {"gaussians": 10**9}, "gaussians", "gaussians"),
    ("gmm", {"delta_lag": 10**9}, "delta_lag", "delta_lag"),
    ("gmm", {"decision": "window", "likelihood_window": 10**9}, "likelihood_window",
     "likelihood_window"),
    ("gmm", {"em_min_iterations": 10**9}, "em_min_iterations", "iterations"),
    ("hhmm", {"states": 10**9}, "states", "states"),
    ("hhmm", {"gaussians": 10**9}, "gaussians", "gaussians"),
    ("hhmm", {"delta_lag": 10**9}, "delta_lag", "delta_lag"),
    ("hmm", {"states": 10**9}, "states", "states"),
    ("hmm", {"em_max_iterations": 10**9}, "em_max_iterations", "iterations"),
    ("gvf", {"particles": 10**9}, "particles", "particles"),
    ("gvf", {"templates": {"per_class": 10**9}}, "templates__per_class",
     "templates__per_class"),
    ("gvf", {"recognizer": {"states": 10**9}}, "recognizer__states", "states"),
    ("mlp", {"hidden": 10**9}, "hidden", "hidden"),
    ("mlp", {"layers": 10**9}, "layers", "layers"),
    ("mlp", {"max_iter": 10**9}, "max_iter", "iterations"),
    ("knn", {"k": 10**9}, "k", "k"),
    ("knn", {"max_frames": 10**12}, "max_frames", "max_frames"),
    ("knn", {"decision": "window", "likelihood_window": 10**9}, "likelihood_window",
     "likelihood_window"),
    ("svm", {"kernel": "poly", "degree": 10**9}, "degree", "degree"),
    ("polynomial", {"degree": 10**9}, "degree", "degree"),
    ("tree", {"max_depth": 10**9}, "max_depth", "max_depth"),
    ("adaboost", {"rounds": 10**9}, "rounds", "rounds"),
    ("dtw", {"decimate": 10**9}, "decimate", "decimate"),
]


@pytest.mark.parametrize(("kind", "params", "name", "limit"), BEYOND,
                         ids=[f"{k}-{n}" for k, _, n, _ in BEYOND])
def test_a_size_beyond_its_bound_is_refused_saying_the_bound_and_why(kind, params, name,
                                                                     limit):
    bound = SIZE_LIMITS[limit]
    with pytest.raises(ValueError) as caught:
        gm.check_params(kind, params)
    message = str(caught.value)
    assert message.startswith(f"{name}: got ")
    assert f"<= {bound.maximum}" in message and bound.why in message


def _at(params: dict, value: int) -> dict:
    """``params`` with the size beyond its bound (the one value >= 10**9) set to ``value``."""
    return {k: _at(v, value) if isinstance(v, dict) else
            value if isinstance(v, int) and v >= 10**9 else v for k, v in params.items()}


def test_the_bound_itself_is_accepted():
    for kind, params, _, limit in BEYOND:
        gm.check_params(kind, _at(params, SIZE_LIMITS[limit].maximum))


def test_a_decaying_window_may_be_as_long_as_wanted():
    """Only the window decision keeps likelihood_window frames; the decaying one forgets by
    1 / likelihood_window a frame, where 10**12 means "never"."""
    gm.check_params("gmm", {"decision": "decaying", "likelihood_window": 10**12})
    gm.check_params("gvf", {"likelihood_window": 1e12})


@pytest.mark.parametrize(("params", "refused"), [
    # the prior keeps the alignment's least-squares scale defined before the template has
    # moved: 0 divided by zero at the first frame
    ({"alignment": {"scale_prior": 0.0}}, "alignment__scale_prior: got 0"),
    # squared at the first frame: an overflow
    ({"tolerance": 1e300}, r"tolerance: got 1e\+300; expected a finite number <= 1000"),
    ({"alignment": {"floor": 1e300}}, r"alignment__floor: got 1e\+300; expected .* <= 100\b"),
])
def test_gvf_values_that_broke_the_first_frame_are_refused(params, refused):
    with pytest.raises(ValueError, match=refused):
        gm.check_params("gvf", params)


def test_gvf_values_near_those_are_accepted():
    gm.check_params("gvf", {"alignment": {"scale_prior": 1e-6, "floor": 1.0},
                            "tolerance": 50.0})


#: Settings a studio project of 20 gestures x 60 channels may use (benchmarks/studio_scale.py
#: trains every kind at their defaults), and generous ones beyond: none is refused.
REALISTIC = [
    ("gmm", {"gaussians": 64, "delta_lag": 50, "decision": "window",
             "likelihood_window": 2000, "em_max_iterations": 1000}),
    ("hhmm", {"states": 200, "gaussians": 8, "delta_lag": 20}),
    ("hmm", {"states": 100, "em_max_iterations": 500}),
    ("gvf", {"particles": 20_000, "templates": {"per_class": 20},
             "recognizer": {"states": 50}}),
    ("mlp", {"hidden": 512, "layers": 4, "max_iter": 5000}),
    ("knn", {"k": 500, "max_frames": 1_000_000}),
    ("svm", {"kernel": "poly", "degree": 5}),
    ("polynomial", {"degree": 6}),
    ("tree", {"max_depth": 100}),
    ("adaboost", {"rounds": 1000, "max_depth": 8}),
    ("dtw", {"decimate": 8}),
]


@pytest.mark.parametrize(("kind", "params"), REALISTIC, ids=[k for k, _ in REALISTIC])
def test_no_realistic_setting_is_refused(kind, params):
    gm.check_params(kind, params)


def test_a_studio_sized_dataset_still_trains_and_runs():
    """20 gestures x 60 channels (short takes, to stay quick) at generous settings."""
    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    for c in range(20):
        shape = rng.normal(size=(1, 60))
        for _ in range(3):
            t = np.linspace(0, 1, 30)[:, None]
            ds.add(np.sin(6 * t + c) * shape + 0.05 * rng.normal(size=(30, 60)), f"g{c}")
    model = gm.GMM(gaussians=4, delta_lag=8, decision="window", likelihood_window=500).fit(ds)
    assert model.stream().step(ds[0].inputs[5]).label in model.labels_


#: Trains in a process whose address space is 3 GiB: on code without the bounds, each of
#: these allocated gigabytes (a MemoryError, or the machine's memory) before any check.
_FIT_CAPPED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
import numpy as np
import gesturemap as gm
ds = gm.Dataset()
rng = np.random.default_rng(0)
for label in ("a", "b"):
    for _ in range(3):
        ds.add(rng.normal(size=(40, 3)) + (label == "b"), label=label)
for model in (gm.MLP(hidden=10**9), gm.GVF(particles=10**9), gm.AdaBoost(rounds=10**9),
              gm.GMM(delta_lag=10**9)):
    try:
        model.fit(ds)
        print("trained", type(model).__name__)
    except MemoryError:
        print("out of memory", type(model).__name__)
    except ValueError as error:
        print("refused", str(error).split(":")[0])
"""


def test_fit_refuses_before_allocating():
    done = subprocess.run([sys.executable, "-c", _FIT_CAPPED], capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:4] == ["refused hidden", "refused particles",
                                           "refused rounds", "refused delta_lag"]
