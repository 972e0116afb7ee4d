"""The background model search in a running engine, and the stream resets (take start, OSC
``/gesturemap/reset``, onset of motion). Real loopback UDP; the search in a real process."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

import gesturemap as gm
from gesturemap.live.engine import Engine
from gesturemap.project import Project


def _msg(address, *values):
    b = OscMessageBuilder(address)
    for v in values:
        b.add_arg(v)
    return b.build().dgram


def _reference_project(reference_dir, model):
    ds = gm.Dataset.from_xmm(reference_dir / "data" / "trainingset_unimodal.xmm.json")
    project = Project("search-test", model=model)
    for rec in ds:
        project.add_take(rec.inputs, rec.label)
    return project


class _Receiver:
    """Counts the /wek/outputs answers that arrive (a thread-free, polled UDP socket)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.answers = 0

    def poll(self) -> int:
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return self.answers
            if b"/wek/outputs" in data:
                self.answers += 1


def _wait(predicate, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _searching_engine(reference_dir, project):
    """The reference test frames, a receiver, ``project``'s engine started (over loopback,
    the process trainer and searcher) and a socket to send it frames."""
    x = np.load(reference_dir / "data" / "X_test.npy").astype(np.float64)
    rx = _Receiver()
    engine = Engine(project, osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", rx.port),
                    trainer="process")
    engine.start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return x, rx, engine, tx


def test_search_runs_beside_the_engine_and_never_stops_its_frames(reference_dir):
    """While the search runs (in its own process), frames keep being answered over OSC and
    the engine's counters advance; then the search reports what it chose, truthfully."""
    # A roomy budget: the search ends as soon as every candidate is done, so a quiet machine
    # spends no more, and a loaded one (a fresh clone's first run compiles the kernels while
    # other workers test) still completes the current model's folds: with 10 s it did not,
    # and there was no current score to compare with.
    model = {"kind": "hhmm", "params": {"states": 6}, "auto": {"budget_s": 60, "margin": 0.0}}
    project = _reference_project(reference_dir, model)
    x, rx, engine, tx = _searching_engine(reference_dir, project)
    try:
        assert engine.searcher is not None  # started with the engine: the project asks
        engine.command("train")
        assert engine.done_training.wait(180), "the quick retrain never came back"
        engine.command("start_running")
        assert _wait(lambda: (engine.search_status or {}).get("state") == "searching", 10)
        answered_during, frames_during, i = [], [], 0
        # frames go on while the search runs; sample the counters while it is still searching
        while (engine.search_status or {}).get("state") == "searching" and i < 200_000:
            tx.sendto(_msg("/wek/inputs", *map(float, x[i % len(x)])),
                      ("127.0.0.1", engine.osc_port))
            i += 1
            time.sleep(0.005)
            if i % 100 == 0 and (engine.search_status or {}).get("state") == "searching":
                answered_during.append(rx.poll())
                frames_during.append(engine.frames_out)
        assert _wait(lambda: (engine.search_status or {}).get("state") not in (None, "searching"),
                     120), engine.search_status
        status = engine.search_status
    finally:
        engine.stop()
        tx.close()
        rx.sock.close()
    assert len(frames_during) >= 3, "the search ended before frames could be sent"
    # answers arrived and the frame counter advanced all through the search
    assert all(b > a for a, b in zip(frames_during, frames_during[1:], strict=False))
    assert all(b > a for a, b in zip(answered_during, answered_during[1:], strict=False))
    assert engine.errors == 0
    assert status["state"] in ("swapped", "kept"), status
    assert status["cv_score"] is not None and status["current_cv_score"] is not None
    assert status["tried"] >= 2
    if status["state"] == "swapped":
        sel = gm.models.selection_of(engine.model)
        assert sel["chosen_name"] == status["chosen"]
        assert engine.model.kind == sel["model"]
        assert status["cv_score"] >= status["current_cv_score"]
    else:
        assert engine.model.kind == "hhmm"  # the quick model stays


def _plain_engine(reference_dir, **model_extra):
    project = _reference_project(reference_dir, {"kind": "gmm", "params": {"gaussians": 2},
                                                 **model_extra})
    project.train()
    return Engine(project, osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", 9), trainer="thread")


def test_osc_reset_restarts_the_model_stream(reference_dir):
    """/gesturemap/reset over UDP: the next frame is answered as by a fresh stream."""
    x = np.load(reference_dir / "data" / "X_test.npy").astype(np.float64)
    engine = _plain_engine(reference_dir).start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for frame in x[:40]:
            tx.sendto(_msg("/wek/inputs", *map(float, frame)), ("127.0.0.1", engine.osc_port))
            time.sleep(0.002)
        assert _wait(lambda: engine.frames_out == 40, 10)
        tx.sendto(_msg("/gesturemap/reset"), ("127.0.0.1", engine.osc_port))
        assert _wait(lambda: engine.resets["trigger"] == 1, 10)
        tx.sendto(_msg("/wek/inputs", *map(float, x[300])), ("127.0.0.1", engine.osc_port))
        assert _wait(lambda: engine.frames_out == 41, 10)
        got = engine.last_result
        model = engine.model
    finally:
        engine.stop()
        tx.close()
    fresh = model.stream().step(x[300])
    continued = model.stream()
    continued.run(x[:40])
    np.testing.assert_array_equal(got.log_likelihoods, fresh.log_likelihoods)
    assert not np.array_equal(got.log_likelihoods, continued.step(x[300]).log_likelihoods)
    assert engine.stats()["resets"]["trigger"] == 1


def test_a_take_start_resets_the_stream(reference_dir):
    engine = _plain_engine(reference_dir).start()
    try:
        engine.command("start_recording", "1")
        assert _wait(lambda: engine.recording, 10)
        engine.command("stop_recording")
    finally:
        engine.stop()
    assert engine.resets["take"] == 1


def test_motion_onset_resets_the_stream(reference_dir):
    """A project with ``"onset"`` resets its stream when motion starts after a rest."""
    engine = _plain_engine(reference_dir, onset={"threshold": 1.0, "quiet_frames": 5}).start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rest = np.zeros(6)
    t = np.linspace(0, 1, 40)[:, None]
    motion = 10 * np.sin(2 * np.pi * t * np.arange(1, 7))
    frames = [rest] * 20 + list(motion) + [rest] * 20
    try:
        for frame in frames:
            tx.sendto(_msg("/wek/inputs", *map(float, frame)), ("127.0.0.1", engine.osc_port))
            time.sleep(0.002)
        assert _wait(lambda: engine.frames_out == len(frames), 10)
    finally:
        engine.stop()
        tx.close()
    assert engine.resets["onset"] == 1


def test_bad_onset_or_search_settings_are_refused_with_a_message():
    with pytest.raises(gm.GesturemapError, match="auto"):
        Project("x", model={"kind": "hhmm", "auto": "yes"})
    with pytest.raises(gm.GesturemapError, match="threshold"):
        from gesturemap.live.onset import OnsetDetector

        OnsetDetector.from_settings({"threshold": -1})


def test_search_settings_of_the_wrong_type_are_refused_with_their_name():
    from gesturemap.live.trainer import auto_settings

    with pytest.raises(gm.GesturemapError, match=r"model\.auto\.budget_s: got 'x'"):
        auto_settings({"auto": {"budget_s": "x"}})
    assert auto_settings({"auto": True}) == {"budget_s": 20.0, "margin": 0.02}
    assert auto_settings({"auto": {"margin": 0}}) == {"budget_s": 20.0, "margin": 0.0}
    assert auto_settings({"auto": False}) is None


def test_a_spotting_project_searches_only_models_that_spot():
    """A project that spots gestures keeps a model that spots: its search tries HHMM, GMM and
    DTW only (a kNN or a wrapped model would silence its events when swapped in), each HHMM
    and GMM without deltas as the project's own spotting model trains; a project that does
    not spot searches every family."""
    from gesturemap.live.trainer import Cancel, _search_project
    from gesturemap.models.spotting.core import SPOT_KINDS, Spotter

    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 40)[:, None]

    def project(model):
        p = Project("s", model=model, classes=["a", "b"])
        for lb, f in (("a", 1.0), ("b", 2.0)):
            for _ in range(4):
                wave = np.hstack([np.sin(f * 6 * t), np.cos(f * 6 * t)])
                p.add_take(wave + 0.05 * rng.standard_normal(wave.shape), lb)
        return p

    spotting = project({"kind": "hhmm", "params": {"states": 3}, "spotting": {}})
    # (a budget bounds a search that ends when every candidate is scored: a few seconds here,
    # more under load with kernels compiling, which a tight budget would cut short)
    winner, _ = _search_project(spotting, 60.0, Cancel(), lambda f, m: None)
    tried = winner.training_info_["selection"]["candidates"]
    assert len(tried) >= 5
    assert {c["model"] for c in tried} <= set(SPOT_KINDS), [c["name"] for c in tried]
    assert all(c["params"]["deltas"] is False for c in tried if c["model"] in ("hhmm", "gmm"))
    Spotter(winner)  # the winner spots
    plain = project({"kind": "hhmm", "params": {"states": 3}})
    winner, _ = _search_project(plain, 60.0, Cancel(), lambda f, m: None)
    kinds = {c["model"] for c in winner.training_info_["selection"]["candidates"]}
    assert kinds - set(SPOT_KINDS), kinds  # kNN, naive Bayes, wrapped models... are tried


def test_a_spotting_project_with_null_takes_is_searched_for_spotting():
    """With takes of "anything else" a spotting project's candidates are scored as they will
    run, by the events gm.spot finds in a stream of held-out takes (the spotters gm.auto
    tries for spotting, the project's own model first), not by naming whole takes."""
    from gesturemap.live.trainer import Cancel, _search_project
    from gesturemap.models.spotting.choose import spotting_candidates
    from gesturemap.models.spotting.core import NULL, Spotter

    rng = np.random.default_rng(1)
    t = np.linspace(0, 1, 40)[:, None]
    p = Project("s", model={"kind": "hhmm", "params": {"states": 3}, "spotting": {}},
                classes=["a", "b", NULL])
    for _ in range(4):
        for lb, f in (("a", 1.0), ("b", 2.0)):
            wave = np.hstack([np.sin(f * 6 * t), np.cos(f * 6 * t)])
            p.add_take(wave + 0.05 * rng.standard_normal(wave.shape), lb)
        p.add_take(0.3 * rng.standard_normal((60, 2)), NULL)
    # the search ends when every candidate is scored (under a second here, warm); the budget
    # only bounds it: 10 s left the second candidate unscored once, under load, with the
    # kernels still compiling on a first run
    winner, _ = _search_project(p, 120.0, Cancel(), lambda f, m: None)
    sel = winner.training_info_["selection"]
    assert sel["task"] == "spotting", sel["task"]
    assert "micro F1" in sel["score"], sel["score"]
    names = [c["name"] for c in sel["candidates"]]
    assert names[0].startswith("project's model"), names
    assert set(names[1:]) <= {name for name, _ in spotting_candidates()}, names
    assert all(c["cv_score"] is not None for c in sel["candidates"][:2]), sel["candidates"]
    Spotter(winner)  # the winner spots


def _small_project(reference_dir, model, per_class=3):
    """The reference takes, ``per_class`` of each class, every 4th frame (a quick search)."""
    ds = gm.Dataset.from_xmm(reference_dir / "data" / "trainingset_unimodal.xmm.json")
    project, counts = Project("search-test", model=model), {}
    for rec in ds:
        counts[rec.label] = counts.get(rec.label, 0) + 1
        if counts[rec.label] <= per_class:
            project.add_take(rec.inputs[::4], rec.label)
    return project


def _beating_winner(dataset):
    """A finished search job whose winner beats the project's model by far: swapped in unless
    what it was trained on changed."""
    from gesturemap.live.trainer import TrainingJob

    winner = gm.HHMM(3).fit(dataset)
    winner.selection_ = {
        "candidates": [{"name": "project's model (gmm)", "cv_score": 0.5},
                       {"name": "HHMM 3 states", "cv_score": 1.0}],
        "chosen": 1, "chosen_name": "HHMM 3 states", "model": "hhmm", "cv_score": 1.0,
        "cv": "leave-one-take-out per class (3 folds)", "reason": None, "elapsed_s": 1.0}
    job = TrainingJob()
    job._finish(winner, None)
    return job, winner


def test_a_search_on_what_changed_since_is_discarded(reference_dir):
    """The winner comes back trained on the project as it was when the search started: a take
    relabelled meanwhile (same id), another feature pipeline, other model settings (a run-time
    one included: the winner carries them) make it out of date; it is discarded, saying what
    changed, and the current model stays. Unchanged, it is swapped in."""
    from gesturemap.features import Derivative, Pipeline
    from gesturemap.live.search import search_basis

    project = _small_project(reference_dir, {"kind": "gmm", "params": {"gaussians": 1}})
    project.train()
    dataset = project.dataset()

    def relabel(p):
        p.relabel_take(p.takes[0].id, p.takes[-1].label)

    def other_pipeline(p):
        p.pipeline = Pipeline([Derivative(order=1, append=True)], rate_hz=100.0)

    def decaying(p):
        p.model = {**p.model, "params": {"gaussians": 1, "decision": "decaying"}}

    changes = [(relabel, "the takes"), (other_pipeline, "the feature pipeline"),
               (decaying, "the model settings")]
    engine = Engine(project, osc_in=None, trainer="thread")
    try:
        for change, what in changes:
            basis = search_basis(project)
            change(project)
            current = engine.model
            job, winner = _beating_winner(dataset)
            engine._cmd__searched(job, basis, 0.0)
            status = engine.search_status
            assert status["state"] == "discarded", (what, status)
            assert status["message"] == f"{what} changed during the search"
            assert engine.model is current and project.trained is current
        basis = search_basis(project)
        job, winner = _beating_winner(dataset)
        engine._cmd__searched(job, basis, 0.0)
    finally:
        engine.stop()
    assert engine.search_status["state"] == "swapped" and engine.model is winner


def test_the_winner_keeps_the_projects_run_time_settings(reference_dir, tmp_path):
    """A search's winner of another family (an HHMM over a GMM project too regularised to
    tell the classes apart) runs with the project's run-time settings its family has
    (``decision``, ``likelihood_window``), as every candidate was scored with them; saved and
    loaded again, it runs exactly as the engine ran it."""
    from gesturemap.live.trainer import Cancel, _search_project

    model = {"kind": "gmm", "params": {"gaussians": 1, "relative_regularization": 5.0,
                                       "decision": "decaying", "likelihood_window": 7}}
    project = _small_project(reference_dir, model)
    # (the search ends once every candidate is scored: 3 s here; the budget only bounds it)
    winner, _ = _search_project(project, 60.0, Cancel(), lambda f, m: None)
    sel = winner.selection_
    assert winner.kind == "hhmm" and sel["chosen"] != 0, sel["chosen_name"]
    assert (winner.decision, winner.likelihood_window) == ("decaying", 7)
    for cand in sel["candidates"]:
        params = cand["params"]["model"]["params"] if cand["model"] == "featured" \
            else cand["params"]
        if cand["model"] in ("hhmm", "gmm", "dtw", "knn", "naive_bayes"):
            assert params["decision"] == "decaying", cand["name"]
    project.trained = winner
    project.save(tmp_path / "p")
    loaded = Project.load(tmp_path / "p").trained
    assert (loaded.decision, loaded.likelihood_window) == ("decaying", 7)
    frames = project.dataset()[0].inputs
    for a, b in zip(winner.stream().run(frames), loaded.stream().run(frames), strict=True):
        np.testing.assert_array_equal(a.log_likelihoods, b.log_likelihoods)


def test_a_search_made_out_of_date_by_a_command_is_stopped_at_once(reference_dir):
    """A take removed while a search runs (a performer's edit, no retrain) makes its winner
    unusable: the search is cancelled then, freeing its core, not left to run out its budget
    (60 s here) and discarded at the end. The real search process."""
    model = {"kind": "gmm", "params": {"gaussians": 1}, "auto": {"budget_s": 60, "margin": 0.0}}
    project = _small_project(reference_dir, model)
    engine = Engine(project, osc_in=None, trainer="process")
    engine.start()
    try:
        engine.command("train")
        assert engine.done_training.wait(180), "the quick retrain never came back"
        assert _wait(lambda: (engine.search_status or {}).get("state") == "searching", 20)
        assert _wait(lambda: engine._search_job is not None, 20)
        job = engine._search_job
        started = time.monotonic()
        engine.command("remove_takes", [project.takes[0].id])
        assert _wait(job.done, 20), "the search ran on"
        assert time.monotonic() - started < 20
        assert job.cancelled
        status = engine.search_status
        assert status["state"] == "discarded", status
        assert status["message"] == "the takes changed during the search; it was stopped"
        model_before = engine.model
        engine.command("reset")  # a later command: nothing more to stop, nothing swapped
        assert _wait(lambda: not engine._commands, 5)
        assert engine.search_status["state"] == "discarded" and engine.model is model_before
    finally:
        engine.stop()
    assert engine.errors == 0


def test_a_search_winner_is_swapped_in_with_no_stream_built_between_two_frames(
        reference_dir, monkeypatch):
    """The search's winner comes with its stream made and packed for the compiled path on the
    searcher's side, as a retrain's model does: the swap between two frames only installs
    it (built there, the stream and its packing held the frame after the swap). The real
    search process, swapping an HHMM over a GMM too regularised to tell the classes apart."""
    from gesturemap.models.hhmm import HHMMStream

    from .swap_trace import trace_swap

    monkeypatch.setenv("GESTUREMAP_COMPILED", "1")
    during_swap = trace_swap(monkeypatch, "_cmd__searched")
    model = {"kind": "gmm", "params": {"gaussians": 1, "relative_regularization": 5.0},
             "auto": {"budget_s": 60, "margin": 0.0}}
    project = _small_project(reference_dir, model)
    x, rx, engine, tx = _searching_engine(reference_dir, project)
    try:
        engine.command("train")
        assert engine.done_training.wait(180), "the quick retrain never came back"
        engine.command("start_running")
        assert _wait(lambda: (engine.search_status or {}).get("state") not in
                     (None, "searching"), 180), engine.search_status
        status = engine.search_status
        before = engine.frames_out
        for row in x[:20]:
            tx.sendto(_msg("/wek/inputs", *map(float, row)), ("127.0.0.1", engine.osc_port))
        assert _wait(lambda: engine.frames_out >= before + 20, 20)
        stream, wire = engine.stream, engine._wire
    finally:
        engine.stop()
        tx.close()
        rx.sock.close()
    assert status["state"] == "swapped", status
    assert engine.model.kind == "hhmm" and isinstance(stream, HHMMStream)
    assert wire is not None and wire.stream is stream  # the compiled path runs the winner
    assert during_swap == []  # nothing built or packed while the frames waited
    assert engine.errors == 0
