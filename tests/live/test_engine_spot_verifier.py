"""The spotting verifier through the real engine: a project whose spotting settings
carry a verifier is saved, loaded, and a recorded stream replayed through the engine emits the
verified events on loopback OSC and in the session log; an event the verifier drops is never
sent."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.evaluation.spotting.cv import make_dataset
from gesturemap.live.engine import Engine
from gesturemap.live.replay import replay_log
from gesturemap.log import SessionLog, read_events
from gesturemap.project import Project
from tests.evaluation.spotting.test_scores import ramp_streams
from tests.live.test_engine_spotting import replay_through_engine

MODEL = {"kind": "gmm", "params": {"gaussians": 1, "deltas": False}}
SPOTTING = {"gmm_frames": 40}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Ramps up and down that the GMM confuses and null excursions it fires on (subjects 0-1
    train the model and the verifier); a held-out session where the verifier drops an event
    and relabels others."""
    st = ramp_streams(4, excursions=True)
    v = gm.fit_verifier({**MODEL, "spotting": SPOTTING}, st.sessions[:4], st.labels[:4],
                        st.subject[:4], gestures=[1, 2])
    assert v.cv_["chosen"], v.cv_
    project = Project("verified", model={**MODEL, "spotting": {**SPOTTING,
                                                               "verifier": v.to_dict()}},
                      outputs={"extras": True})
    for r in make_dataset(st, range(4), lambda a: a):
        project.add_take(r.inputs, r.label)
    project.train()
    folder = tmp_path_factory.mktemp("proj")
    project.save(folder)
    # the held-out session where the verifier changes most
    plain = {i: gm.spot(project.trained, st.sessions[i], **SPOTTING) for i in range(4, 8)}
    verified = {i: gm.spot(project.trained, st.sessions[i], **SPOTTING, verifier=v)
                for i in range(4, 8)}
    i = max(range(4, 8), key=lambda k: len(plain[k]) - len(verified[k]))
    x = st.sessions[i]
    log_in = tmp_path_factory.mktemp("log_in")
    with SessionLog(log_in, {"input": ["x", "y"]}, t0=0.0) as slog:
        for k, frame in enumerate(x):
            slog.write("input", k / 100.0, frame)
    return folder, log_in, x, plain[i], verified[i], v


def _run(project: Project, log_in, n: int, log_out) -> tuple[Engine, list]:
    engine, got = replay_through_engine(project, log_in, n, log_out)
    return engine, [(lb, s) for lb, s in got if s is not None]  # /gesturemap/event only


def test_saved_verifier_drops_and_relabels_events_on_osc_and_in_the_log(setup, tmp_path):
    folder, log_in, x, plain, verified, v = setup
    # the verifier matters here: it drops at least one event and relabels at least one
    assert len(verified) < len(plain)
    kept = {(e.start, e.end, e.emitted) for e in verified}
    dropped = [e for e in plain if (e.start, e.end, e.emitted) not in kept]
    assert dropped
    assert any(e.label != p.label for e in verified for p in plain if p.emitted == e.emitted)
    # saved and loaded with the project: its settings carry the verifier as plain JSON
    saved = json.loads(json.dumps(Project.load(folder).model["spotting"]["verifier"]))
    assert saved == v.to_dict()
    project = Project.load(folder)
    log_out = tmp_path / "log_out"
    engine, sent = _run(project, log_in, len(x), log_out)
    assert engine.stream.spotter.verifier is not None
    assert engine.events_spotted == len(verified)
    assert [lb for lb, _ in sent] == [str(e.label) for e in verified]
    np.testing.assert_allclose([s for _, s in sent], [e.score for e in verified], rtol=1e-6)
    logged = [e for e in read_events(log_out) if e.kind == "gesture"]
    assert [e.data["label"] for e in logged] == [str(e.label) for e in verified]
    assert [e.data["emitted"] for e in logged] == [e.emitted for e in verified]
    assert not {d.emitted for d in dropped} & {e.data["emitted"] for e in logged}
    # the offline replay of the engine's own log through the saved project: the same events
    events_csv = tmp_path / "events.csv"
    replay_log(log_out, folder, events_out=events_csv)
    rows = [line.split(",") for line in events_csv.read_text().splitlines()[1:]]
    assert [(r[1], int(r[5])) for r in rows] == [(str(e.label), e.emitted) for e in verified]


def test_without_the_verifier_the_dropped_event_is_sent(setup, tmp_path):
    folder, log_in, x, plain, verified, _ = setup
    project = Project.load(folder)
    project.model = {**MODEL, "spotting": dict(SPOTTING)}
    engine, sent = _run(project, log_in, len(x), tmp_path / "log_out")
    assert engine.events_spotted == len(plain) > len(verified)
    assert [lb for lb, _ in sent] == [str(e.label) for e in plain]
