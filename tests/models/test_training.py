"""Background training: progress, cancellation, a warm worker process, the caller unblocked."""

from __future__ import annotations

import gc
import threading
import time

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import TrainingCancelled
from gesturemap.live.trainer import Trainer


@pytest.fixture(scope="module")
def process_trainer():
    trainer = Trainer("process")
    trainer.start_worker()
    yield trainer
    trainer.close()


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_background_training_gives_the_same_model(ref, mode, process_trainer):
    trainer = process_trainer if mode == "process" else Trainer("thread")
    model = gm.HHMM(10, likelihood_window=10)
    seen = []
    job = trainer.train(model, ref.unimodal, on_progress=lambda f, m: seen.append(f))
    trained = job.result(timeout=120)
    assert job.done() and job.seconds is not None
    assert trained is not model and getattr(model, "labels_", None) is None
    direct = gm.HHMM(10, likelihood_window=10).fit(ref.unimodal)
    for key, value in direct._state_arrays().items():
        np.testing.assert_array_equal(trained._state_arrays()[key], value)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    if mode == "process":  # what the job cost the training process, whatever the load
        assert 0.0 < job.cpu_seconds < job.seconds * 2 + 0.5  # two cores at most
    else:
        assert job.cpu_seconds is None


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_cancel_stops_training(ref, mode, process_trainer):
    trainer = process_trainer if mode == "process" else Trainer("thread")
    # many EM iterations, so that the job is still running when it is cancelled
    model = gm.HHMM(20, 3, em_min_iterations=400, em_max_iterations=400)
    job = trainer.train(model, ref.unimodal)
    time.sleep(0.3)
    job.cancel()
    with pytest.raises(TrainingCancelled):
        job.result(timeout=60)
    assert job.cancelled
    # the trainer is still usable after a cancellation
    ok = trainer.train(gm.GMM(2), ref.unimodal).result(timeout=60)
    assert ok.labels_ == ref.unimodal.labels


@pytest.mark.alone  # it bounds how long the caller is held up
def test_process_training_leaves_the_caller_free(ref, process_trainer):
    """While the worker trains, a loop in this process keeps its pace."""
    model = gm.HHMM(20, 2, em_min_iterations=60, em_max_iterations=60)
    # this process's own garbage collector is not the training's doing: at the end of a whole
    # suite its heap is large enough for one full collection to take 100 ms or more
    gc.collect()
    gc.freeze()
    try:
        job = process_trainer.train(model, ref.unimodal)
        gaps = []
        last = time.perf_counter()
        while not job.done():
            time.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now
    finally:
        gc.unfreeze()
    job.result()
    assert len(gaps) > 20
    assert max(gaps) < 0.1, f"the caller was held up for {max(gaps) * 1000:.1f} ms"


def test_training_errors_reach_the_caller(process_trainer):
    ds = gm.Dataset()
    ds.add(np.zeros((3, 2)), label="a")
    job = process_trainer.train(gm.HHMM(10), ds)
    with pytest.raises(gm.GesturemapError, match="states=10"):
        job.result(timeout=60)
    done = threading.Event()
    job2 = Trainer("thread").train(gm.HHMM(10), ds, on_done=lambda j: done.set())
    assert done.wait(30) and job2.done()
    with pytest.raises(gm.GesturemapError):
        job2.result()


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_training_a_project_fits_its_pipeline_in_the_trainer(ref, mode, process_trainer):
    """train_project takes raw takes: the trainer fits the pipeline (here a Standardize that
    must learn the takes' statistics), builds the dataset and fits the model — the same as
    Project.train in the caller, and the caller's project is left as it was."""
    from gesturemap.features import Derivative, Pipeline, Standardize
    from gesturemap.project import Project

    trainer = process_trainer if mode == "process" else Trainer("thread")
    project = Project("p", model={"kind": "hhmm", "params": {"states": 4}},
                      pipeline=Pipeline([Derivative(append=True), Standardize()], rate_hz=100.0))
    for rec in list(ref.unimodal)[:10]:
        project.add_take(rec.inputs, rec.label)
    before = project.pipeline.to_dict()
    job = trainer.train_project(project)
    model = job.result(timeout=120)
    assert project.pipeline.to_dict() == before  # untouched: the engine swaps it in later
    expected = project.train()
    assert job.pipeline.to_dict() == project.pipeline.to_dict() != before
    for key, value in expected._state_arrays().items():
        np.testing.assert_array_equal(model._state_arrays()[key], value)


@pytest.mark.parametrize("kind", ["gmm", "hhmm"])
def test_a_retrain_after_one_new_take_refits_only_that_class(ref, kind):
    """The worker's class cache: after a new take of one class, the other classes are reused
    from the previous training, and the model is exactly the one a full fit gives."""
    from gesturemap.models.gmm import CLASS_CACHE

    make = (lambda: gm.GMM(2)) if kind == "gmm" else (lambda: gm.HHMM(5, 1))
    recs = list(ref.unimodal)
    first, new = gm.Dataset(), recs[-1]
    for rec in recs[:-1]:
        first.add(rec.inputs, label=rec.label)
    second = first.copy()
    second.add(new.inputs, label=new.label)
    n_classes = len(set(second.labels))
    CLASS_CACHE.enabled = True
    try:
        make().fit(first)
        hits = CLASS_CACHE.hits
        cached = make().fit(second)
        assert CLASS_CACHE.hits - hits == n_classes - 1  # all but the new take's class
        hits = CLASS_CACHE.hits
        make().set_params(relative_regularization=0.2).fit(second)  # other settings: no reuse
        assert CLASS_CACHE.hits == hits
    finally:
        CLASS_CACHE.enabled = False
    full = make().fit(second)
    for key, value in full._state_arrays().items():
        np.testing.assert_array_equal(cached._state_arrays()[key], value)


def test_classes_train_with_one_blas_thread():
    """GMM/HHMM classes train on threads of their own; OpenBLAS's threads on top of them spun
    and contended (4x the CPU time at 20 classes x 60 channels): training holds BLAS to one
    thread, and gives the caller's setting back after."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from gesturemap.models.gmm import train_classes

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    seen = []

    def fit_one(cd, cancel):
        seen.append(blas_threads())
        return {"class": cd}

    with threadpool_limits(limits=2, user_api="blas"):  # as on a 2-core machine, whatever this is
        before = blas_threads()
        assert set(before) == {2}
        out = train_classes(["a", "b", "c"], fit_one, None, None, n_jobs=2)
        assert blas_threads() == before
    assert out == [{"class": c} for c in "abc"]
    assert seen and all(s and set(s) == {1} for s in seen)
