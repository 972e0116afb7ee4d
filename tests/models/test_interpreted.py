"""The interpreted twins of the step kernels (a first start's model steps with them while the
compiled ones are prepared): the same results as the compiled kernels, nothing compiled, and a
switch back to the compiled kernels once numba's cache holds them."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.live.prepare import preparation_message
from gesturemap.live.trainer import Trainer
from gesturemap.models import _filter, interpreted
from gesturemap.models.interpreted import STEP


def _dataset() -> gm.Dataset:
    rng = np.random.default_rng(3)
    ds = gm.Dataset()
    t = np.linspace(0.0, 3.0, 60)[:, None]
    for label, level in (("a", 0.0), ("b", 1.0)):
        for _ in range(2):
            ds.add(level + np.sin(t * (1 + level)) + 0.2 * rng.standard_normal((60, 2)),
                   label=label)
    return ds


@pytest.fixture
def restore_steps():
    yield
    for name, compiled in interpreted._COMPILED.items():
        setattr(STEP, name, compiled)


@pytest.mark.parametrize(("factory", "name"), [(gm.HHMM, "hhmm_step"), (gm.GMM, "gmm_step")])
def test_a_stream_steps_the_same_interpreted(factory, name, restore_steps):
    ds = _dataset()
    model = factory().fit(ds)
    # (then frames far from every Gaussian: clamped as a whole, the same way)
    frames = np.vstack([ds[0].inputs, ds[2].inputs, np.full((5, 2), 1e3), np.full((5, 2), -1e3)])
    stream = model.stream()
    compiled = [stream.step(f) for f in frames]
    twin = interpreted.interpreted(getattr(_filter, name))
    assert not hasattr(twin, "signatures")  # a plain function, not a numba dispatcher
    setattr(STEP, name, twin)
    assert name in interpreted.interpreting()
    stream = model.stream()
    again = [stream.step(f) for f in frames]
    assert [r.label for r in again] == [r.label for r in compiled]
    for a, b in zip(again, compiled, strict=True):
        np.testing.assert_array_equal(a.likelihoods, b.likelihoods)
        np.testing.assert_array_equal(a.progress, b.progress)


def test_a_twin_calls_the_twins_of_the_kernels_it_calls():
    twin = interpreted.interpreted(_filter.hhmm_step)
    called = [v for v in twin.__globals__.values() if callable(v) and hasattr(v, "__code__")
              and v.__code__ in {k.py_func.__code__ for k in (_filter._follow,
                                                               _filter._push_decision)}]
    assert called, "the twin does not reach the kernels it calls"
    assert not any(hasattr(v, "signatures") for v in called)


def test_steps_go_back_to_the_compiled_kernels_once_cached(restore_steps):
    ds = _dataset()
    gm.HHMM().fit(ds).stream().step(ds[0].inputs[0])  # compiled (and cached) in this process
    assert interpreted.kernel_cached(_filter.hhmm_step)
    assert not interpreted.interpret_steps("hhmm")  # cached: nothing to interpret
    assert STEP.hhmm_step is _filter.hhmm_step
    STEP.hhmm_step = interpreted.interpreted(_filter.hhmm_step)
    assert interpreted.compile_steps() == ()
    assert STEP.hhmm_step is _filter.hhmm_step
    assert not interpreted.interpret_steps("gvf")  # a kind without twins waits for its kernels


def _gestures() -> gm.Dataset:
    rng = np.random.default_rng(5)
    ds = gm.Dataset()
    t = np.linspace(0.0, 3.0, 30)[:, None]
    for label, level in ((1, 0.0), (2, 3.0)):
        for _ in range(2):
            ds.add(level + np.sin(t * (1 + level)) + 0.1 * rng.standard_normal((30, 3)),
                   label=label)
    return ds


@pytest.mark.parametrize("decision", ["cumulative", "following", "decaying"])
@pytest.mark.parametrize("normalization", ["global", "window", "take", "running"])
def test_a_dtw_stream_steps_the_same_interpreted(normalization, decision, restore_steps):
    """A DTW project's first takes run before its kernels are compiled (its client sends no
    train and expects each gesture matched as soon as it is recorded): every kernel its
    stream steps with has a twin, whatever the normalisation, and the twins give the same
    distances, to the last bit (an absurd frame skipped the same way)."""
    ds = _gestures()
    model = gm.DTW(normalization=normalization, decision=decision,
                   prune=normalization == "global").fit(ds)
    frames = np.vstack([ds[0].inputs, np.full((2, 3), 1e15), ds[2].inputs, ds[1].inputs])
    compiled = model.stream().run(frames)
    assert interpreted.INTERPRETABLE["dtw"][1] == interpreted._DTW_STEPS
    calls: dict[str, int] = {}

    def counted(name):
        twin = interpreted.interpreted(interpreted._COMPILED[name])

        def call(*args):
            calls[name] = calls.get(name, 0) + 1
            return twin(*args)
        return call

    for name in interpreted._DTW_STEPS:
        setattr(STEP, name, counted(name))
    assert set(interpreted._DTW_STEPS) <= set(interpreted.interpreting())
    again = model.stream().run(frames)
    # the stream stepped through STEP, never a compiled kernel of its own
    own = {"global": "spring_step", "window": "window_class_distances",
           "take": "take_columns", "running": "running_znorm"}[normalization]
    assert calls.get(own) and calls.get("dtw_is_absurd"), calls
    for a, b in zip(again, compiled, strict=True):
        assert (a.label, a.match) == (b.label, b.match)
        np.testing.assert_array_equal(a.distances, b.distances)
        np.testing.assert_array_equal(a.progress, b.progress)
        np.testing.assert_array_equal(a.likelihoods, b.likelihoods)


def test_the_interpreted_worker_trains_the_model_the_compiled_one_does(monkeypatch):
    """A first start's training, routed to the worker whose numba runs every kernel as
    Python: the same model as the compiled training, to rounding."""
    from gesturemap.live import prepare as prepare_module
    from gesturemap.live import trainer as trainer_module

    project = gm.Project("first", model={"kind": "hhmm"}, classes=["a", "b"])
    for rec in _dataset():
        project.add_take(rec.inputs, rec.label)
    # the cache of this test session holds every kernel: say it does not, as on a new machine
    monkeypatch.setattr(trainer_module, "training_needs_compiling", lambda kind: kind == "hhmm")
    monkeypatch.setattr(prepare_module, "prepared_before", lambda message: False)
    with Trainer("process") as trainer:
        trainer.start_worker(prepare=preparation_message(project))
        job = trainer.train_project(project)  # sent before the preparation can end
        model = job.result(timeout=120)
        assert job.interpreted
        deadline = time.monotonic() + 120
        while trainer.preparing is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        later = trainer.train_project(project)
        compiled_model = later.result(timeout=120)
        assert not later.interpreted
    meta, arrays = model.dump()
    meta_c, arrays_c = compiled_model.dump()
    assert model.kind == compiled_model.kind == "hhmm" and arrays.keys() == arrays_c.keys()
    for key, value in arrays.items():
        if np.issubdtype(np.asarray(value).dtype, np.floating):
            np.testing.assert_allclose(value, arrays_c[key], rtol=1e-9, atol=1e-12, err_msg=key)
        else:
            np.testing.assert_array_equal(value, arrays_c[key], err_msg=key)


def test_interpreted_math_is_what_compiled_kernels_compute():
    """Where Python's math raises, a compiled kernel returns -inf, inf or nan and goes on: the
    interpreted kernels must do the same, or a first start would fail where later ones pass."""
    from numba import njit

    @njit
    def compiled(x):
        return math.log(x), math.exp(x), math.sqrt(x)

    def twin(x):
        m = interpreted.NUMBA_MATH
        return m.log(x), m.exp(x), m.sqrt(x)

    for x in (0.0, -1.0, 1e4, 2.5, math.inf, math.nan):
        np.testing.assert_array_equal(twin(x), compiled(x), err_msg=f"x={x}")
    with pytest.raises(ValueError):
        math.log(0.0)  # what a plain Python kernel would have done


#: Run in a process of its own with numba's compiler off: every function under ``@njit`` in
#: gesturemap noted as it is defined, then a project of each kind trained as the training
#: process trains one (pipeline, model, the step timed), noting the kernels called from Python.
_TRACE = r"""
import json, os, sys, threading
import numba
kernels = {}
def njit(*args, **kwargs):
    def note(f):
        kernels[f.__code__] = f.__module__ + "." + f.__qualname__
        return f
    return note(args[0]) if len(args) == 1 and callable(args[0]) and not kwargs else note
numba.njit = numba.jit = njit
import numpy as np
from gesturemap.live.trainer import Cancel, _fit_project
from gesturemap.project.default import default_project
out = {}
for kind in ("hhmm", "gmm", "dtw"):
    called = set()
    def seen(frame, event, arg):
        if event == "call" and frame.f_code in kernels and (
                frame.f_back is None or frame.f_back.f_code not in kernels):
            called.add(kernels[frame.f_code])
    project = default_project()  # the window's: a pipeline of features before the model
    project.model = {"kind": kind, "params": {}}
    rng = np.random.default_rng(0)
    for label in list(project.classes)[:2]:
        for _ in range(2):
            project.add_take(rng.normal(size=(100, 4)).cumsum(0), label,
                             times=np.arange(100) * 0.01)
    threading.setprofile(seen)  # a training runs classes on threads of its own
    sys.setprofile(seen)
    _fit_project(project, 2, Cancel(), lambda *a: None)
    sys.setprofile(None)
    threading.setprofile(None)
    out[kind] = sorted(called)
print(json.dumps(out))
"""


def test_every_kernel_a_training_calls_is_checked_in_the_cache():
    """A first start's interpreted worker stands in while any kernel its training calls is
    missing from numba's cache, not only the first: a first start cut short leaves some
    cached (then the first take waited seconds for the rest to compile)."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    done = subprocess.run([sys.executable, "-c", _TRACE], env=env, capture_output=True,
                          text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    called = json.loads(done.stdout.strip().splitlines()[-1])
    for kind, names in called.items():
        listed = {f"{k.__module__}.{k.__name__}" for k in interpreted.INTERPRETABLE[kind][0]}
        assert names and set(names) <= listed, (kind, sorted(set(names) - listed))
    # and the check reads them all: any one of them not cached is a training that compiles
    for kind, (kernels, _) in interpreted.INTERPRETABLE.items():
        for missing in kernels:
            cached = lambda k, _m=missing: k is not _m  # noqa: E731
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(interpreted, "kernel_cached", cached)
                assert interpreted.training_needs_compiling(kind), (kind, missing.__name__)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(interpreted, "kernel_cached", lambda k: True)
        assert not any(interpreted.training_needs_compiling(k) for k in interpreted.INTERPRETABLE)
