"""A Resample stage's rate is bounded (``rate_hz`` 1e5, a typo for 100, was accepted: a 200 Hz
sensor's frames waited 5.6 s for their answers, 53,000 datagrams a second went out), and a
model's frame budget is judged at the rate the pipeline makes frames. Real project folders and
a real `gesturemap run` process."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

from gesturemap.errors import FormatError, GesturemapError
from gesturemap.features import Pipeline, Resample
from gesturemap.features.stages import MAX_RESAMPLE_HZ
from gesturemap.project import Project
from tests.stage_helpers import two_level_project

pytestmark = pytest.mark.timeout(240)


def test_a_resample_rate_above_the_bound_is_refused():
    with pytest.raises(GesturemapError, match="rate_hz.*At most 2000 Hz"):
        Resample(rate_hz=1e5)
    assert Resample(rate_hz=MAX_RESAMPLE_HZ).rate_hz == 2000.0


def test_a_project_file_with_such_a_rate_is_refused_saying_which_setting(tmp_path):
    folder = two_level_project(tmp_path / "p")
    document = json.loads((folder / "project.json").read_text())
    document["pipeline"] = Pipeline([Resample(rate_hz=100.0)]).to_dict()
    document["pipeline"]["stages"][0]["rate_hz"] = 1e5
    (folder / "project.json").write_text(json.dumps(document))
    with pytest.raises(FormatError, match="rate_hz"):
        Project.load(folder)
    run = subprocess.run([sys.executable, "-m", "gesturemap.cli", "run", str(folder),
                          "--no-audio", "--osc-in", "127.0.0.1:0", "--osc-out", "127.0.0.1:9"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "rate_hz" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def _gvf_project(pipeline: Pipeline) -> Project:
    project = Project(model={"kind": "gvf", "params": {}}, pipeline=pipeline)
    rng = np.random.default_rng(0)
    for i in range(3):
        for _ in range(2):
            path = np.cumsum(rng.normal(size=(150, 12)), axis=0) * 0.1 + i
            project.add_take(path, "abc"[i], times=np.arange(150) / 100)
    return project


@pytest.mark.parametrize(("stages", "budget_ms"), [([], 5.0),
                                                    ([Resample(rate_hz=2000.0)], 0.5)])
def test_the_frame_budget_is_the_time_between_the_pipelines_frames(stages, budget_ms):
    project = _gvf_project(Pipeline(stages))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = project.train()
    assert project.dataset().frame_rate_hz == (2000.0 if stages else None)
    step_ms = model.training_info_["step_ms"]
    notes = [str(w.message) for w in caught if "one frame costs" in str(w.message)]
    assert bool(notes) == (step_ms > budget_ms)  # whatever this machine's speed
    for note in notes:
        assert f"{budget_ms:.3g} ms between frames" in note
        assert ("Resample rate" in note) == bool(stages)
