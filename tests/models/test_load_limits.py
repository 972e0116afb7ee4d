"""A model file with absurd parameters or arrays (damaged, or edited by hand) is refused as it
is read, with a FormatError naming the file and the parameter: never a MemoryError while the
project opens, never a crash or gigabytes allocated at the first frame on stage. A project
whose saved model is refused opens with its takes and settings, untrained, and says why, as
for any unreadable model. Each file here is a real saved model of a small trained project,
edited."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import FormatError
from gesturemap.project import Project
from gesturemap.utils import storage

#: The project's trained model, per kind: small and quick to train.
KINDS = {
    "gmm": {"kind": "gmm", "params": {"gaussians": 1}},
    "hhmm": {"kind": "hhmm", "params": {"states": 3}},
    "gvf": {"kind": "gvf", "params": {"particles": 100}},
    "dtw": {"kind": "dtw", "params": {}},
    "featured": {"kind": "featured", "params": {"model": {"model": "gmm",
                                                          "params": {"gaussians": 1}}}},
}
TAKES = 6


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Callable[[str], Path]:
    """A function giving the folder of a trained 2-class project of each kind (made once)."""
    made: dict[str, Path] = {}

    def folder(kind: str) -> Path:
        if kind not in made:
            project = Project(classes=["a", "b"])
            rng = np.random.default_rng(0)
            t = np.linspace(0, 1, 40)[:, None]
            for label, phase in (("a", 0.0), ("b", 1.5)):
                for _ in range(TAKES // 2):
                    x = np.hstack([np.sin(6 * t + phase), np.cos(6 * t)])
                    project.add_take(x + 0.03 * rng.standard_normal(x.shape), label)
            project.model = KINDS[kind]
            project.train()
            made[kind] = project.save(tmp_path_factory.mktemp(kind))
        return made[kind]

    return folder


def _model_files(folder: Path) -> tuple[Path, Path]:
    name = json.loads((folder / "project.json").read_text())["model_file"]
    return folder / name, (folder / name).with_suffix(".npz")


def _edit_json(folder: Path, edit: Callable[[dict], None]) -> None:
    path = _model_files(folder)[0]
    meta = json.loads(path.read_text())
    edit(meta)
    path.write_text(json.dumps(meta))


def _edit_arrays(folder: Path, edit: Callable[[dict], None]) -> None:
    """Edit the model's arrays and write them with their new checksum: a file edited by
    hand, not one damaged by chance (which the checksum already refuses)."""
    path, npz = _model_files(folder)
    with np.load(npz) as loaded:
        arrays = dict(loaded)
    edit(arrays)
    meta = json.loads(path.read_text())
    meta["arrays_sha256"] = storage.save_npz(npz, **arrays)
    path.write_text(json.dumps(meta))


def _params(**changes):
    return lambda meta: meta["params"].update(changes)


def _group(group, **changes):
    return lambda meta: meta["params"][group].update(changes)


def _zero(name):
    def edit(arrays):
        arrays[name] = np.zeros_like(arrays[name])
    return edit


#: (project kind, JSON edit, arrays edit, the parameter the error names)
DAMAGES = {
    # each stream would keep the last 10^9 frames: 22 GiB at the first frame
    "delta_lag": ("gmm", _params(delta_lag=10**9), None, "delta_lag"),
    "hhmm_delta_lag": ("hhmm", _params(delta_lag=10**9), None, "delta_lag"),
    "window": ("gmm", _params(decision="window", likelihood_window=10**9), None,
               "likelihood_window"),
    # a class whose mixture weights are all 0 divided by zero at the first frame
    "weights": ("gmm", None, _zero("c0_weights"), "weights"),
    "hhmm_prior": ("hhmm", None, _zero("c1_prior"), "prior"),
    "hhmm_negative_transition": ("hhmm", None,
                                 lambda a: a.update(c0_transition=-a["c0_transition"]),
                                 "transition"),
    "hhmm_longest_take": ("hhmm", lambda m: m.update(longest_take=1e300), None,
                          "longest_take"),
    # the alignment's scale divided by zero at the first frame
    "scale_prior": ("gvf", _group("alignment", scale_prior=0.0), None, "scale_prior"),
    "particles": ("gvf", _params(particles=10**9), None, "particles"),
    "tolerance": ("gvf", _params(tolerance=1e300), None, "tolerance"),
    # class b left without a template: nothing could ever match it
    "dtw_class_without_template": ("dtw", None, _zero("template_class"), "'b' has no template"),
}


def _damaged(trained, tmp_path: Path, name: str) -> tuple[Path, str]:
    kind, edit_json, edit_arrays, parameter = DAMAGES[name]
    folder = tmp_path / "p"
    shutil.copytree(trained(kind), folder)
    if edit_json is not None:
        _edit_json(folder, edit_json)
    if edit_arrays is not None:
        _edit_arrays(folder, edit_arrays)
    return folder, parameter


@pytest.mark.parametrize("name", sorted(DAMAGES))
def test_the_model_reader_refuses_an_absurd_file_naming_it_and_the_parameter(
        trained, tmp_path, name):
    folder, parameter = _damaged(trained, tmp_path, name)
    path = _model_files(folder)[0]
    with pytest.raises(FormatError) as caught:
        gm.load(path)
    assert str(path) in str(caught.value) and parameter in str(caught.value)


@pytest.mark.parametrize("name", sorted(DAMAGES))
def test_a_project_with_an_absurd_model_opens_with_its_takes_and_says_why(
        trained, tmp_path, name):
    folder, parameter = _damaged(trained, tmp_path, name)
    settings = json.loads((folder / "project.json").read_text())["model"]
    with pytest.warns(UserWarning, match="trained model .* cannot be read"):
        project = Project.load(folder)
    assert project.trained is None and len(project.takes) == TAKES
    assert project.model == settings  # the settings are kept: a retrain uses them
    assert parameter in project.model_problem
    assert _model_files(folder)[0].name in project.model_problem
    assert "gesturemap train" in project.model_problem


def test_the_untouched_models_still_load_and_run(trained):
    for kind in KINDS:
        project = Project.load(trained(kind))
        assert project.trained is not None and project.model_problem is None
        assert project.trained.stream().step(np.zeros(2)).label in ("a", "b")


#: Reads a project in a process whose address space is 3 GiB: on code that trusts the file,
#: the featured model's 10^12 inputs ran out of memory (a MemoryError out of Project.load).
_LOAD_CAPPED = """
import json, resource, sys, warnings
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
from gesturemap.project import Project
with warnings.catch_warnings(record=True) as said:
    warnings.simplefilter("always")
    project = Project.load(sys.argv[1])
print(json.dumps({"takes": len(project.takes), "trained": project.trained is not None,
                  "problem": project.model_problem,
                  "warned": [str(w.message) for w in said]}))
"""


def test_a_featured_model_of_a_trillion_inputs_is_refused_before_memory_runs_out(
        trained, tmp_path):
    folder = tmp_path / "p"
    shutil.copytree(trained("featured"), folder)
    _edit_json(folder, lambda meta: meta.update(input_dim=10**12))
    done = subprocess.run([sys.executable, "-c", _LOAD_CAPPED, str(folder)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["takes"] == TAKES and not seen["trained"]
    assert "input_dim" in seen["problem"] and "cannot be read" in seen["warned"][0]
    with pytest.raises(FormatError, match="input_dim"):
        # in this process too, now that it is known to be refused before any allocation
        gm.load(_model_files(folder)[0])
