"""A start after the first: the kernels a project needs are in numba's cache already, so the
training process loads them as it starts and says nothing of a preparation (no "preparing
the models for this machine (first start only)" on every start, no process stepping a seed,
no first take waiting behind them)."""

from __future__ import annotations

import numpy as np

import gesturemap as gm
from gesturemap.live import prepare
from gesturemap.live.prepare import preparation_message, prepared_before
from gesturemap.live.trainer import Trainer


def _project(name: str = "p", classes: tuple[str, ...] = ("a", "b"), states: int = 3):
    project = gm.Project(name, model={"kind": "hhmm", "params": {"states": states}},
                         classes=list(classes))
    rng = np.random.default_rng(0)
    for k, label in enumerate(classes):
        for _ in range(2):
            project.add_take(np.linspace(0, k + 1, 30)[:, None] + 0.05 * rng.normal(size=(30, 2)),
                             label)
    return project


def test_a_preparation_is_noted_for_the_settings_that_decide_the_kernels(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    message = preparation_message(_project())
    assert not prepared_before(message)
    prepare._mark_prepared(message)
    assert prepared_before(message)
    # another project of the same settings and shape needs the same kernels
    assert prepared_before(preparation_message(_project("other", ("x", "y"))))
    # a new project of those settings whose input size is not known yet (as `gesturemap new`
    # makes it), or one of 6 inputs: the same kernels too (one type for any number of columns)
    fresh = gm.Project("new", model={"kind": "hhmm", "params": {"states": 3}})
    assert fresh.input_dim is None and prepared_before(preparation_message(fresh))
    six = gm.Project("six", model={"kind": "hhmm", "params": {"states": 3}}, classes=["a"])
    six.add_take(np.zeros((30, 6)), "a")
    assert prepared_before(preparation_message(six))
    # other model settings, or another cache: prepared again
    assert not prepared_before(preparation_message(_project(states=4)))
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cleared"))
    assert not prepared_before(message)


def test_prepared_before_the_worker_starts_silently_and_steps_no_seed(monkeypatch):
    project = _project()
    message = preparation_message(project)
    seeds = []
    monkeypatch.setattr(prepare, "_step_seed_elsewhere", lambda m: seeds.append(m))
    said = []
    prepare.prepare_project(message, lambda f, m: said.append(m))  # this session's cache
    assert prepared_before(message)  # (the first time, it noted it)
    seeds.clear()
    said.clear()
    prepare.prepare_project(message, lambda f, m: said.append(m))
    assert seeds == [] and said == []
    # and the training process says nothing of a preparation: the first take trains at once
    with Trainer("process") as trainer:
        trainer.start_worker(prepare=message)
        assert trainer.preparing is None
        job = trainer.train_project(project)
        model = job.result(timeout=120)
        assert model.labels_ == ["a", "b"] and not job.interpreted
        assert trainer.preparing is None
