"""A run-time setting changed after training (``estimate_speed``, ``decision``,
``likelihood_window``...) applies without retraining: when the project is opened (a
``gesturemap run`` of a project whose settings were changed since its model was trained) and
when the window's model form changes it on a running engine. Settings that need training
(``states``) wait for the next training."""

from __future__ import annotations

import time

import numpy as np

import gesturemap as gm
from gesturemap.gui.session import WindowEngine


def _trained(folder=None):
    project = gm.Project(model={"kind": "hhmm", "params": {"states": 4}})
    rng = np.random.default_rng(3)
    for label, shift in (("a", 0.0), ("b", 2.0)):
        for _ in range(3):
            t = np.linspace(0, 1, 30)[:, None]
            project.add_take(np.hstack([t, t ** 2]) + shift + 0.05 * rng.normal(size=(30, 2)),
                             label)
    project.train()
    if folder is not None:
        project.save(folder)
    return project


def test_a_setting_changed_since_training_applies_when_the_project_opens(tmp_path):
    project = _trained(tmp_path / "p")
    assert project.trained.estimate_speed is False
    project.model = {"kind": "hhmm", "params": {"states": 6, "estimate_speed": True,
                                                 "decision": "window"}}
    project.save(tmp_path / "p")
    loaded = gm.Project.load(tmp_path / "p")
    model = loaded.trained
    assert model.estimate_speed is True and model.decision == "window"
    assert model.states == 4  # a training setting: only the next training takes it
    frames = project.takes[0].inputs
    expected = gm.HHMM(states=4, estimate_speed=True, decision="window").fit(project.dataset())
    got = [r.speed for r in model.stream().run(frames)]
    want = [r.speed for r in expected.stream().run(frames)]
    assert got[0] is not None
    np.testing.assert_allclose(got, want)
    # settings of another kind than the model's (a search's winner runs for them): the
    # run-time parameters both families have apply; the others wait for the next training
    loaded.model = {"kind": "gmm", "params": {"decision": "cumulative", "gaussians": 2,
                                               "multiclass_regression": "mixture"}}
    assert loaded.apply_runtime_settings() == ["decision", "multiclass_regression"]
    assert loaded.trained.decision == "cumulative" and loaded.trained.states == 4
    # a value the model's family refuses leaves its own: DTW has no "window" decision
    loaded.model = {"kind": "hhmm", "params": {"decision": "window"}}
    dtw = gm.DTW(decision="decaying")
    assert loaded.apply_runtime_settings(dtw) == [] and dtw.decision == "decaying"


def test_a_wrapped_model_takes_the_settings_into_its_inner_model():
    """A ``Featured`` model (a search's winner, deltas and standardisation around an HHMM)
    runs its inner model: the project's run-time settings go there, fitted or not, and into
    the settings it saves (a reload runs the same)."""
    from gesturemap.models.featured import Featured

    project = _trained()
    dataset = project.dataset()
    project.model = {"kind": "hhmm", "params": {"decision": "decaying", "estimate_speed": True}}
    unfitted = Featured.of(gm.HHMM(4))
    assert project.apply_runtime_settings(unfitted) == ["decision", "estimate_speed"]
    fitted = unfitted.fit(dataset)
    assert fitted.inner_.decision == "decaying" and fitted.inner_.estimate_speed is True
    later = Featured.of(gm.HHMM(4)).fit(dataset)
    assert project.apply_runtime_settings(later) == ["decision", "estimate_speed"]
    assert later.inner_.decision == "decaying"
    assert later.get_params()["model"]["params"]["decision"] == "decaying"
    frames = project.takes[0].inputs
    for a, b in zip(fitted.stream().run(frames), later.stream().run(frames), strict=True):
        np.testing.assert_array_equal(a.log_likelihoods, b.log_likelihoods)


def test_the_window_form_changes_a_running_model_without_retraining():
    project = _trained()
    engine = WindowEngine(project, osc_in=None, trainer="thread").start()
    try:
        trainings, before = engine.trainings, engine.stream
        engine.command("set_model_settings", {"kind": "hhmm",
                                              "params": {"states": 4, "estimate_speed": True}})
        # the engine sets the model's parameter, then builds its new stream: wait for that
        deadline = time.monotonic() + 10
        while engine.stream is before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert engine.model.estimate_speed is True
        assert engine.stream.step(np.zeros(2)).speed is not None  # a new stream with it
        assert engine.trainings == trainings and engine.project.trained is engine.model
    finally:
        engine.stop()
