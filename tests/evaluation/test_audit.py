"""The rehearsal audit (``gm.audit``, ``gesturemap audit``): false triggers counted as the
spotter emits them, thresholds that meet the budget on the rehearsal and carry over to other
recordings of the same movement, costs that push a class towards silence, and a command
that writes nothing without --apply."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.cli import main
from gesturemap.evaluation.audit import cross_fitted_audit, plot_audit
from gesturemap.evaluation.spotting.cv import evaluate_sessions, make_dataset
from gesturemap.evaluation.spotting.scores import spotting_metrics
from gesturemap.models.spotting.core import DEFAULT_THRESHOLD, check_settings, spotting_stream
from gesturemap.project import Project
from tests.evaluation.spotting.test_scores import ramp_streams

BUDGET = 0.5


@pytest.fixture(scope="module")
def streams():
    # ramps up (1) and down (2) between rests, the rests broken by an "up and straight back
    # down" that the spotter takes for a gesture at its default threshold
    return ramp_streams(4, excursions=True)


@pytest.fixture(scope="module")
def model(streams):
    return gm.HHMM(states=4, gaussians=1, deltas=False).fit(
        make_dataset(streams, range(4), lambda a: a))


def _held_out(model, streams, thresholds=None, costs=None):
    sp = gm.Spotter(model, **({} if thresholds is None else {"thresholds": thresholds}),
                    costs=costs)
    return spotting_metrics(evaluate_sessions(sp, streams, range(6, 8), lambda a: a, 50),
                            ["1", "2"])


def test_false_triggers_are_those_the_spotter_emits_on_ordinary_movement(model, streams):
    rest = [x[lab == 0] for x, lab in zip(streams.sessions[4:6], streams.labels[4:6],
                                           strict=True)]
    a = gm.audit(model, rest, budget=1000.0)  # a budget the default thresholds meet
    minutes = sum(len(x) for x in rest) / 50.0 / 60.0
    events = [ev for x in rest for ev in gm.spot(model, x, thresholds=a.thresholds)]
    assert events, "the excursions must fire at the default thresholds"
    assert len(a.events) == len(events)
    for lb in a.labels:
        n = sum(str(ev.label) == lb for ev in events)
        assert a.predicted_false_alarms[lb] == pytest.approx(n / minutes)
    assert a.met and all(e.why for e in a.events)  # each with its "why?"


def test_thresholds_meet_the_budget_and_carry_over_to_other_recordings(model, streams):
    a = gm.audit(model, streams.sessions[4:6], budget=BUDGET, labels=streams.labels[4:6])
    assert a.met and a.total_false_alarms <= BUDGET
    assert sum(a.baseline_false_alarms.values()) > BUDGET
    assert set(a.thresholds) == {"1", "2"}
    for lb in a.labels:  # thresholds on the Spotter's own scale, from the curve
        c = a.curve[lb]
        assert np.isclose(c.threshold, a.thresholds[lb]).any()
        assert len(c.false_alarms_per_min) == len(c.recall) == len(c.multiplier)
        assert np.all(np.isfinite(c.recall))  # the run-throughs' labelled gestures
    before, after = _held_out(model, streams), _held_out(model, streams, a.thresholds)
    assert before["false_alarms_per_min"] > 2.0
    assert after["false_alarms_per_min"] <= BUDGET
    assert after["recall"] > 0


def test_the_recall_lost_is_given_as_a_share_of_what_was_found_too(model, streams):
    # two stretches of still rest marked as gesture 1: no threshold finds them, so they
    # count in the recall but not among the gestures the default thresholds find
    labels = [lab.copy() for lab in streams.labels[4:6]]
    for lab in labels:
        rest = np.flatnonzero(lab == 0)
        lab[rest[20:80]] = 1
    a = gm.audit(model, streams.sessions[4:6], budget=BUDGET, labels=labels)
    at = {lb: int(np.argmin(np.abs(a.curve[lb].multiplier - DEFAULT_THRESHOLD)))
          for lb in a.labels}
    found = sum(a.counts[lb][at[lb], 1] for lb in a.labels)
    counted = sum(a.counts[lb][at[lb], 2] for lb in a.labels)
    # two recordings: no half-splits of performers to add to either figure
    assert 0 < a.recall_drop == a.recall_drop_seen and 0 < found < counted
    assert a.found_share_lost == pytest.approx(a.recall_drop * counted / found)
    assert a.found_share_lost > a.recall_drop
    assert a.to_dict()["found_share_lost"] == pytest.approx(a.found_share_lost)
    assert f"{100 * a.found_share_lost:.1f}% of those the present thresholds find" in a.table()


def test_a_costly_class_is_pushed_towards_silence(model, streams):
    rest = [x[lab == 0] for x, lab in zip(streams.sessions[4:6], streams.labels[4:6],
                                           strict=True)]
    takes = make_dataset(streams, range(4), lambda a: a)
    plain = gm.audit(model, rest, budget=20.0, takes=takes)
    costly = max(plain.labels, key=lambda lb: plain.predicted_false_alarms[lb])
    assert plain.predicted_false_alarms[costly] > 0
    costed = gm.audit(model, rest, budget=20.0, takes=takes, costs={costly: 1000.0})
    assert costed.multipliers[costly] > plain.multipliers[costly]
    assert costed.predicted_false_alarms[costly] < plain.predicted_false_alarms[costly]
    assert costed.costs[costly]["false"] == 1000.0 and costed.costs[costly]["miss"] == 1.0
    assert all(np.isfinite(costed.predicted_recall[lb]) for lb in costed.labels)  # the takes


def test_a_costly_class_moves_alone_and_its_runner_up_does_not_fire_in_its_place(
        model, streams):
    # a budget the plain audit meets with "1" firing on the rests' excursions (up and back
    # down); costly, "1" is raised and "2" (the way down) keeps its threshold
    run = {"labels": streams.labels[4:6], "explain": False}
    plain = gm.audit(model, streams.sessions[4:6], 10.0, **run)
    costed = gm.audit(model, streams.sessions[4:6], 10.0, {"1": 10.0}, **run)
    assert plain.predicted_false_alarms["1"] > 1.0
    assert costed.multipliers["1"] > plain.multipliers["1"]
    assert costed.multipliers["2"] == plain.multipliers["2"]
    assert costed.met and costed.predicted_false_alarms["1"] * 10 <= 10.0
    # "1" competes from the threshold it has without its cost
    assert costed.costs["1"]["competes_from"] == pytest.approx(plain.thresholds["1"])
    before = _held_out(model, streams, plain.thresholds)
    after = _held_out(model, streams, costed.thresholds, costed.costs)
    assert before["per_class"]["1"]["false_positives"] >= 3
    assert after["per_class"]["1"]["false_positives"] == 0
    assert after["per_class"]["2"]["f1"] == pytest.approx(before["per_class"]["2"]["f1"],
                                                          abs=0.02)
    # the same thresholds with a decision that ignores the costs: "2" fires in its place
    ignored = _held_out(model, streams, costed.thresholds)
    assert ignored["per_class"]["2"]["false_positives"] >= 3
    assert ignored["per_class"]["2"]["f1"] < before["per_class"]["2"]["f1"] - 0.1


def test_bad_costs_and_budgets_are_refused(model, streams):
    x = streams.sessions[4]
    with pytest.raises(gm.GesturemapError, match="no gesture"):
        gm.audit(model, x, costs={"explosion": 10})
    with pytest.raises(gm.GesturemapError, match="number > 0"):
        gm.audit(model, x, costs={"1": -1})
    with pytest.raises(gm.GesturemapError, match="budget"):
        gm.audit(model, x, budget=-0.1)
    # the rate turns frames into minutes: 0 divided by zero, a negative one gave negative
    # false triggers per minute and thresholds chosen on them
    for rate in (0, -50, float("nan"), "50"):
        with pytest.raises(gm.GesturemapError, match="rate_hz: .*frames per second"):
            gm.audit(model, x, rate_hz=rate)
        with pytest.raises(gm.GesturemapError, match="rate_hz"):
            cross_fitted_audit([(model, x, None)], model, rate_hz=rate)
    assert gm.audit(model, x, rate_hz=np.int64(50)).labels == gm.audit(model, x).labels
    with pytest.raises(gm.GesturemapError, match="HHMM and GMM"):
        gm.audit(gm.DTW().fit(make_dataset(streams, range(2), lambda a: a)), x)


def test_a_rehearsal_with_no_ordinary_movement_is_refused(model, streams, tmp_path, capsys):
    """A run-through labelled a gesture from end to end holds no movement to count false
    triggers on: the audit met any budget with none and proposed the least strict threshold
    tried for every gesture (0.2 times its typical score), which --apply stored."""
    x = streams.sessions[4]
    with pytest.raises(gm.GesturemapError, match="no ordinary movement"):
        gm.audit(model, [x], labels=[np.full(len(x), "1")])
    with pytest.raises(gm.GesturemapError, match=r"rehearsal: shape \(\d+,\)"):
        gm.audit(model, x[:, 0])  # one channel's values, not frames
    folder = tmp_path / "proj"
    _project(folder, streams)
    path = tmp_path / "gestures.npz"
    np.savez(path, X_concat=x, labels_concat=np.ones(len(x), dtype=np.int64),
             lengths=np.array([len(x)]))
    files = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert main(["audit", str(folder), str(path), "--apply"]) != 0
    assert "no ordinary movement" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == files


def test_costs_live_in_the_spotting_settings_and_the_spotter_runs_with_them(model, streams):
    settings = check_settings({"thresholds": {"1": 30.0}, "costs": {"1": 10, "2": {"miss": 0.5}}})
    assert settings["costs"] == {"1": {"false": 10.0, "miss": 1.0},
                                 "2": {"false": 1.0, "miss": 0.5}}
    with pytest.raises(gm.GesturemapError, match="costs"):
        check_settings({"costs": {"1": {"often": 2}}})
    stream = spotting_stream(model, settings)
    assert isinstance(stream.spotter, gm.Spotter)
    assert stream.spotter.thresholds_[stream.spotter.labels.index("1")] == 30.0


def test_plot_writes_an_image(model, streams, tmp_path):
    a = gm.audit(model, streams.sessions[4:6], budget=BUDGET, labels=streams.labels[4:6],
                 explain=False)
    path = plot_audit(a, tmp_path / "audit.png")
    assert Path(path).read_bytes()[:4] == b"\x89PNG"


def _project(folder: Path, st) -> None:
    project = Project("rehearsed", model={"kind": "hhmm", "params": {
        "states": 4, "gaussians": 1, "deltas": False}, "spotting": {}})
    for r in make_dataset(st, range(4), lambda a: a):
        project.add_take(r.inputs, r.label)
    project.train()
    project.save(folder)


def _rehearsal(path: Path, st) -> Path:
    idx = [4, 5]
    np.savez(path, X_concat=np.vstack([st.sessions[i] for i in idx]),
             labels_concat=np.concatenate([st.labels[i] for i in idx]),
             lengths=np.array([len(st.sessions[i]) for i in idx]),
             gesture_labels=np.array([1, 2]))
    return path


def test_command_prints_the_table_and_writes_only_with_apply(streams, tmp_path, capsys):
    folder = tmp_path / "proj"
    _project(folder, streams)
    rehearsal = _rehearsal(tmp_path / "r.npz", streams)
    files = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    rc = main(["audit", str(folder), str(rehearsal), "--budget", str(BUDGET), "--cost", "1=10"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "false/min" in out and "nothing written" in out
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == files
    rc = main(["audit", str(folder), str(rehearsal), "--budget", str(BUDGET), "--cost", "1=10",
               "--apply"])
    assert rc == 0 and "stored the thresholds" in capsys.readouterr().out
    spotting = Project.load(folder).model["spotting"]
    assert set(spotting["thresholds"]) == {"1", "2"}
    project = Project.load(folder)
    expected = gm.audit(project.trained, [streams.sessions[4], streams.sessions[5]],
                        budget=BUDGET, costs={"1": 10}, labels=streams.labels[4:6],
                        spotting={}, takes=project.dataset(), explain=False)
    assert spotting["thresholds"] == pytest.approx(expected.thresholds)
    # the costs, with the level "1" competes from (its threshold without the cost)
    assert spotting["costs"] == expected.costs
    assert spotting["costs"]["1"]["false"] == 10.0 and "competes_from" in spotting["costs"]["1"]


def test_command_refuses_a_bad_cost(streams, tmp_path, capsys):
    folder = tmp_path / "proj"
    _project(folder, streams)
    rc = main(["audit", str(folder), str(_rehearsal(tmp_path / "r.npz", streams)),
               "--cost", "explosion"])
    assert rc != 0 and "LABEL=COST" in capsys.readouterr().err


def _store_costs(folder: Path, costs: dict) -> None:
    """Costs stored in the project's spotting settings, as the window's costs table or
    ``/gesturemap/costs`` store them, with a class "3" declared without takes: its cost and
    its minimum stay wait for a model that spots it."""
    def store(now):
        now.add_class("3")
        now.model = {**now.model, "spotting": {**now.model["spotting"], "costs": costs,
                                               "min_stay": {"3": 0.5}}}
    Project.update(folder, store)


def test_command_follows_and_keeps_the_costs_the_project_stores(streams, tmp_path, capsys):
    """Costs set in the window or over OSC are the project's: the audit chooses by them and
    --apply keeps them, a cost given on the command line replacing that kind alone; a cost
    waiting for a gesture the model does not spot yet stays waiting."""
    folder = tmp_path / "proj"
    _project(folder, streams)
    waiting = {"false": 5.0, "miss": 1.0}
    _store_costs(folder, {"1": {"false": 10.0, "miss": 1.0}, "3": waiting})
    rehearsal = _rehearsal(tmp_path / "r.npz", streams)
    rc = main(["audit", str(folder), str(rehearsal), "--budget", str(BUDGET), "--apply"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "costs: false 10, miss 1" in out
    project = Project.load(folder)
    expected = gm.audit(project.trained, [streams.sessions[4], streams.sessions[5]],
                        budget=BUDGET, costs={"1": 10}, labels=streams.labels[4:6],
                        spotting={}, takes=project.dataset(), explain=False)
    spotting = project.model["spotting"]
    assert spotting["thresholds"] == pytest.approx(expected.thresholds)
    assert spotting["costs"] == {**expected.costs, "3": waiting}
    rc = main(["audit", str(folder), str(rehearsal), "--budget", str(BUDGET),
               "--miss-cost", "1=0.5", "--apply"])
    assert rc == 0
    costs = Project.load(folder).model["spotting"]["costs"]
    assert (costs["1"]["false"], costs["1"]["miss"]) == (10.0, 0.5)
    assert costs["3"] == waiting
    assert Project.load(folder).model["spotting"]["min_stay"] == {"3": 0.5}


def _audit_command(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gesturemap", "audit", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_command_keeps_a_cost_given_for_a_gesture_not_trained_yet_waiting(streams, tmp_path):
    """`--cost 3=5` for a class the project declares but has no takes of: accepted, said in
    one line, and kept by --apply for the model that will spot it (as /gesturemap/costs
    keeps it); the audit of the others is as without it. A name that is no class of the
    project is refused, naming it."""
    folder = tmp_path / "proj"
    _project(folder, streams)
    Project.update(folder, lambda now: now.add_class("3"))
    rehearsal = _rehearsal(tmp_path / "r.npz", streams)
    files = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    done = _audit_command(folder, rehearsal, "--budget", BUDGET, "--cost", "3=5")
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "'3'" in line]
    assert len(said) == 1 and "wait" in said[0], done.stderr
    assert "nothing written" in done.stdout
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == files

    done = _audit_command(folder, rehearsal, "--budget", BUDGET, "--cost", "3=5",
                          "--miss-cost", "3=0.5", "--apply")
    assert done.returncode == 0, done.stderr
    project = Project.load(folder)
    spotting = project.model["spotting"]
    assert spotting["costs"] == {"3": {"false": 5.0, "miss": 0.5}}
    expected = gm.audit(project.trained, [streams.sessions[4], streams.sessions[5]],
                        budget=BUDGET, labels=streams.labels[4:6], spotting={},
                        takes=project.dataset(), explain=False)
    assert spotting["thresholds"] == pytest.approx(expected.thresholds)

    files = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    done = _audit_command(folder, rehearsal, "--cost", "explsion=10", "--apply")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "gesturemap audit: --cost explsion: 'explsion' is no gesture of the project (its "
        "gestures: 1, 2, 3); check the name, or add the class first"]
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == files


def test_command_audits_the_rehearsals_the_project_keeps(streams, tmp_path, capsys):
    """Without a file, the project's kept rehearsals; their times say how long they last."""
    from gesturemap.project.rehearsals import keep_rehearsal_file, save_rehearsal

    folder = tmp_path / "proj"
    _project(folder, streams)
    rc = main(["audit", str(folder)])
    assert rc != 0 and "keeps no rehearsal" in capsys.readouterr().err
    rehearsal = _rehearsal(tmp_path / "r.npz", streams)
    keep_rehearsal_file(folder, rehearsal)
    # ordinary movement recorded in the window at 25 frames/s (its times kept with it)
    null = streams.sessions[6][streams.labels[6] == 0][:1500]
    save_rehearsal(folder, "rehearsal-recorded.npz", null, 3.0 + 0.04 * np.arange(len(null)))
    kept = [str(folder / "rehearsals" / n) for n in ("r.npz", "rehearsal-recorded.npz")]
    assert main(["audit", str(folder), *kept, "--json", str(tmp_path / "given.json")]) == 0
    given = capsys.readouterr().out
    assert main(["audit", str(folder), "--json", str(tmp_path / "kept.json")]) == 0
    out = capsys.readouterr().out
    assert "the project's rehearsals: r.npz, rehearsal-recorded.npz" in out
    assert out.split("\n", 1)[1] == given
    import json
    result = json.loads((tmp_path / "kept.json").read_text())
    assert result == json.loads((tmp_path / "given.json").read_text())
    # the recorded one lasts 1500 frames at 25 frames/s (one minute), not at the file's 50
    alone = json.loads((tmp_path / "given.json").read_text())
    assert main(["audit", str(folder), kept[1], "--json", str(tmp_path / "one.json")]) == 0
    one = json.loads((tmp_path / "one.json").read_text())
    assert one["null_minutes"] == pytest.approx(len(null) * 0.04 / 60, rel=0.02)
    assert alone["null_minutes"] > one["null_minutes"]


def test_the_bound_on_the_rate_is_garwoods_exact_poisson_bound():
    from scipy.stats import chi2

    from gesturemap.evaluation.audit import minutes_to_show, rate_bound

    assert rate_bound(0, 1.0) == pytest.approx(-np.log(0.05))  # the rule of three: 3.0
    for k, minutes in ((0, 0.5), (3, 10.0), (12, 80.0)):
        assert rate_bound(k, minutes) == pytest.approx(chi2.ppf(0.95, 2 * k + 2) / 2 / minutes)
        assert rate_bound(k, minutes_to_show(k, 0.1)) == pytest.approx(0.1)
    assert rate_bound(0, 0.0) == np.inf and minutes_to_show(0, 0.0) == np.inf


@pytest.mark.parametrize("frames", [1, 3, 5])
def test_a_rehearsal_too_short_to_show_the_budget_says_so_and_loosens_nothing(
        model, streams, frames):
    """A rehearsal of a few frames audited as "0.000 false triggers/min over 0.0 min" and
    proposed the least strict thresholds tried (0.2 times each typical score) as meeting the
    budget: none seen in a fraction of a second shows nothing. The audit gives the 95 %
    bound of the rate it can show, says the budget is not shown and how many minutes would
    show it, and proposes no threshold below the default level."""
    rest = streams.sessions[4][streams.labels[4] == 0][:frames]
    a = gm.audit(model, rest, budget=0.1, explain=False)
    minutes = frames / 50.0 / 60.0
    assert a.null_minutes == pytest.approx(minutes)
    assert a.false_alarm_bound == pytest.approx(-np.log(0.05) / minutes)  # about 3 / T
    assert not a.shown and a.minutes_needed == pytest.approx(-np.log(0.05) / 0.1)
    assert all(m >= DEFAULT_THRESHOLD for m in a.multipliers.values()), a.multipliers
    text = a.table()
    assert "too short to show the budget of 0.1/min" in text
    assert "record at least 30 min of ordinary movement" in text
    plain = a.to_dict()
    assert plain["shown"] is False and plain["minutes_needed"] == pytest.approx(29.96, abs=0.01)


def test_a_rehearsal_long_enough_shows_the_budget_and_may_loosen(model, streams):
    """Two sessions of ordinary movement and a generous budget: their bound shows it, and
    the audit may then go below the default level."""
    from scipy.special import gammaincinv

    rest = [x[lab == 0] for x, lab in zip(streams.sessions[4:6], streams.labels[4:6],
                                           strict=True)]
    a = gm.audit(model, rest, budget=1000.0, explain=False)
    assert a.shown and a.false_alarm_bound <= 1000.0
    assert a.false_alarm_bound == pytest.approx(
        gammaincinv(len(a.events) + 1, 0.95) / a.null_minutes)
    assert "the budget of 1000 is shown" in a.table()
    assert min(a.multipliers.values()) < DEFAULT_THRESHOLD  # loosened on shown evidence


@pytest.mark.slow
def test_command_says_the_rehearsal_is_too_short_and_applies_no_looser_thresholds(
        streams, tmp_path):
    """``gesturemap audit DIR SHORT.npz --apply`` in a process of its own, as a performer
    runs it, on a rehearsal of three frames."""
    import json
    import subprocess
    import sys

    folder = tmp_path / "proj"
    _project(folder, streams)
    x = streams.sessions[4][streams.labels[4] == 0][:3]
    path = tmp_path / "short.npz"
    np.savez(path, X_concat=x, labels_concat=np.zeros(3, dtype=np.int64),
             lengths=np.array([3]))
    run = subprocess.run([sys.executable, "-m", "gesturemap", "audit", str(folder), str(path),
                          "--apply", "--json", str(tmp_path / "a.json")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "too short to show the budget of 0.1/min" in run.stdout
    assert "record at least 30 min of ordinary movement in all" in run.stdout
    result = json.loads((tmp_path / "a.json").read_text())
    assert result["shown"] is False and result["false_alarm_bound"] > 1000
    project = Project.load(folder)
    stored = project.model["spotting"]["thresholds"]
    typical = gm.Spotter(project.trained).typical_scores_
    labels = [str(lb) for lb in gm.Spotter(project.trained).labels]
    for lb, t in zip(labels, typical, strict=True):
        assert stored[lb] >= DEFAULT_THRESHOLD * t - 1e-9


def test_a_budget_of_none_at_all_is_never_shown_and_the_audit_says_why(model, streams):
    rest = [x[lab == 0] for x, lab in zip(streams.sessions[4:6], streams.labels[4:6],
                                           strict=True)]
    a = gm.audit(model, rest, budget=0.0, explain=False)
    assert not a.shown and a.minutes_needed == np.inf and a.to_dict()["minutes_needed"] is None
    assert "no rehearsal can show a budget of 0: give one above 0" in a.table()
    assert "Until then" not in a.table()
    assert all(m >= DEFAULT_THRESHOLD for m in a.multipliers.values())


def _rest(streams):
    return [x[lab == 0] for x, lab in zip(streams.sessions[4:6], streams.labels[4:6],
                                           strict=True)]


def test_now_is_the_spotter_at_the_settings_own_thresholds(model, streams):
    """The "now" figures were the default level's whatever thresholds the settings stored:
    after an audit's thresholds were applied, the next audit still said gesture 1 fired
    about ten times a minute now, where with the stored thresholds it fires never. Now they
    are the spotter's at the stored thresholds (the default level for a gesture with none;
    one for a gesture the model does not spot waits)."""
    rest = _rest(streams)
    typical = dict(zip(["1", "2"], gm.Spotter(model).typical_scores_.tolist(), strict=True))
    stored = {"1": 1.23 * typical["1"], "3": 12.0}  # "2" at the default level; "3" waits
    a = gm.audit(model, rest, budget=20.0, explain=False, spotting={"thresholds": stored})
    minutes = sum(len(x) for x in rest) / 50.0 / 60.0
    now = {"1": stored["1"], "2": DEFAULT_THRESHOLD * typical["2"]}
    events = [ev for x in rest for ev in gm.spot(model, x, thresholds=now)]
    for lb in a.labels:
        n = sum(str(ev.label) == lb for ev in events)
        assert a.baseline_false_alarms[lb] == pytest.approx(n / minutes)
    at_default = [ev for x in rest for ev in gm.spot(model, x)]
    assert any(str(ev.label) == "1" for ev in at_default)  # the figures differ from those
    assert a.baseline_thresholds == pytest.approx(now)
    assert a.to_dict()["baseline_thresholds"] == a.baseline_thresholds
    line = next(r for r in a.table().splitlines() if r.startswith("1 "))
    assert f"({stored['1']:.1f}, {a.baseline_false_alarms['1']:.3f}, " in line
    # the level now is among those tried: the curve has it
    assert np.isclose(a.curve["1"].multiplier, 1.23).any()


def test_an_audit_applied_is_now_and_the_next_audit_loses_nothing_from_it(model, streams):
    """The recall lost is counted from the thresholds now: auditing again the rehearsal
    whose thresholds were applied proposes them again and loses nothing from them (it
    counted the loss from the default level, as if they had never been applied)."""
    run = {"labels": streams.labels[4:6], "explain": False}
    first = gm.audit(model, streams.sessions[4:6], budget=BUDGET, **run)
    assert first.recall_drop > 0  # from the default level: there is something to lose
    again = gm.audit(model, streams.sessions[4:6], budget=BUDGET,
                     spotting={"thresholds": first.thresholds}, **run)
    assert again.thresholds == pytest.approx(first.thresholds)
    assert again.baseline_thresholds == pytest.approx(first.thresholds)
    assert again.baseline_false_alarms == pytest.approx(first.predicted_false_alarms)
    assert again.baseline_recall == pytest.approx(first.predicted_recall)
    assert again.recall_drop_seen == 0 and again.recall_drop == 0
    assert again.found_share_lost == 0


def test_a_short_rehearsal_proposes_nothing_below_the_stored_thresholds(model, streams):
    """A rehearsal too short to show the budget proposed the default level for a gesture
    whose stored threshold was stricter: --apply then made the spotter less strict on no
    evidence. Its floor is the threshold now, exactly, wherever it lies."""
    typical = dict(zip(["1", "2"], gm.Spotter(model).typical_scores_.tolist(), strict=True))
    stored = {"1": 1.23 * typical["1"], "2": 0.3 * typical["2"]}
    rest = streams.sessions[4][streams.labels[4] == 0][:5]
    a = gm.audit(model, rest, budget=0.1, explain=False, spotting={"thresholds": stored})
    assert not a.shown
    assert a.thresholds == pytest.approx(stored)  # kept: nothing fired, nothing shown
    assert "no threshold is proposed below the present ones" in a.table()


def _audit_process(*args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "gesturemap", "audit", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_command_keeps_a_waiting_threshold_and_audits_from_the_stored_ones(streams, tmp_path):
    """``gesturemap audit DIR R.npz --apply`` in a process of its own: a threshold stored for
    a gesture declared but not trained yet was erased (its cost kept); and the next audit's
    "now" figures were the default level's, not those of the thresholds just applied."""
    import json

    folder = tmp_path / "proj"
    _project(folder, streams)
    waiting = {"false": 5.0, "miss": 1.0}

    def store(now):
        now.add_class("3")
        now.model = {**now.model, "spotting": {**now.model["spotting"],
                                               "thresholds": {"3": 12.0},
                                               "costs": {"3": waiting}}}
    Project.update(folder, store)
    rehearsal = str(_rehearsal(tmp_path / "r.npz", streams))
    run = _audit_process(str(folder), rehearsal, "--budget", str(BUDGET), "--apply",
                         "--json", str(tmp_path / "first.json"))
    assert run.returncode == 0, run.stderr
    first = json.loads((tmp_path / "first.json").read_text())
    spotting = Project.load(folder).model["spotting"]
    assert spotting["thresholds"] == {**first["thresholds"], "3": 12.0}
    assert spotting["costs"] == {"3": waiting}
    assert first["baseline_false_alarms"] != first["predicted_false_alarms"]

    run = _audit_process(str(folder), rehearsal, "--budget", str(BUDGET),
                         "--json", str(tmp_path / "again.json"))
    assert run.returncode == 0, run.stderr
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["baseline_thresholds"] == first["thresholds"]
    assert again["baseline_false_alarms"] == pytest.approx(first["predicted_false_alarms"])
    assert again["baseline_recall"] == pytest.approx(first["predicted_recall"])
    assert again["thresholds"] == pytest.approx(first["thresholds"])
    assert again["recall_drop"] == 0
    line = next(r for r in run.stdout.splitlines() if r.startswith("1 "))
    assert (f"({first['thresholds']['1']:.1f}, {first['predicted_false_alarms']['1']:.3f}, "
            in line), run.stdout
    assert "gestures lost to the proposed thresholds: 0.0%" in run.stdout
