"""Error costs in the spotter's decision: a class whose false trigger is costly competes from
its relative-threshold level, so that a movement that looks most like it, but not enough to
fire it, fires nothing rather than its runner-up; streams and :meth:`Spotter.spot` decide
alike, and the frame kernel allocates nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.evaluation.spotting.cv import make_dataset
from gesturemap.models.spotting import _kernels as _k
from tests.evaluation.spotting.test_scores import ramp_streams

#: "1" (a ramp up) raised above the scores the rests' excursions (up and straight back down)
#: reach, so that without costs their way down fires "2" (a ramp down) instead
RAISED = {"1": 25.0}


@pytest.fixture(scope="module")
def ramps():
    """The ramp streams with excursions (tests/evaluation/test_audit.py's) and their model."""
    st = ramp_streams(4, excursions=True)
    fit = gm.HHMM(states=4, gaussians=1, deltas=False).fit
    return st, fit(make_dataset(st, range(4), lambda a: a))


@pytest.fixture(scope="module")
def streams(ramps):
    return ramps[0]


@pytest.fixture(scope="module")
def model(ramps):
    return ramps[1]


def _found(spotter, streams):
    """Per session 4..7: (events on ordinary movement, true "2" gestures found)."""
    false, hits = [], 0
    for i in range(4, 8):
        lab = streams.labels[i]
        events = spotter.spot(streams.sessions[i])
        false += [str(e.label) for e in events if lab[e.end] == 0]
        hits += sum(str(e.label) == "2" and lab[e.end] == 2 for e in events)
    return false, hits


def test_a_costly_class_that_wins_below_its_threshold_fires_nothing_not_its_runner_up(
        model, streams):
    plain = gm.Spotter(model, thresholds=RAISED)
    costed = gm.Spotter(model, thresholds=RAISED, costs={"1": 10.0})
    false_default, hits_default = _found(gm.Spotter(model), streams)
    false_plain, _ = _found(plain, streams)
    false_costed, hits_costed = _found(costed, streams)
    # without costs the excursions, held back as "1", fire their runner-up "2" instead
    assert false_plain.count("2") >= false_default.count("2") + 4
    # with them, nothing fires there: no more false "2" than at the default thresholds
    assert false_costed.count("2") <= false_default.count("2")
    assert false_costed.count("1") < false_default.count("1")
    assert hits_costed >= hits_default  # the true ramps down still fire
    i = costed.labels.index("1")
    assert costed.compete_[i] == pytest.approx(costed.relative_threshold
                                               * costed.typical_scores_[i])
    assert costed.compete_[i] < costed.thresholds_[i] == RAISED["1"]
    assert np.array_equal(plain.compete_, plain.thresholds_)


def test_costs_that_do_not_make_a_false_trigger_costly_change_nothing(model, streams):
    x = streams.sessions[5]
    plain = gm.Spotter(model, thresholds=RAISED).spot(x)
    assert gm.Spotter(model, thresholds=RAISED, costs={"1": {"miss": 0.2}}).spot(x) == plain
    assert gm.Spotter(model, thresholds=RAISED, costs={"1": 0.5}).spot(x) == plain
    with pytest.raises(gm.GesturemapError, match="costs key"):
        gm.Spotter(model, costs={"explosion": 10.0})
    with pytest.raises(gm.GesturemapError, match="number > 0"):
        gm.Spotter(model, costs={"1": -1})


def test_a_stream_and_spot_decide_alike_with_costs(model, streams):
    spotter = gm.Spotter(model, thresholds=RAISED, costs={"1": 10.0})
    x = np.vstack([streams.sessions[4], streams.sessions[6]])
    stream = spotter.stream()
    live = [r.event for r in map(stream.step, x) if r.event is not None]
    assert live == spotter.spot(x)
    assert any(str(e.label) == "2" for e in live)


def test_the_decision_kernel_holds_the_runner_up_back_behind_a_costly_winner() -> None:
    score = np.array([20.0, 15.0])  # class 0 the likelier, below its threshold 25
    start = np.zeros(2, dtype=np.int64)
    ones, lengths = np.ones(2), (np.zeros(2, dtype=np.int64), np.full(2, 100, np.int64))

    def decide(compete):
        pending, pending_f = np.zeros(5, np.int64), np.array([0.0, _k.NEG])
        event = np.zeros(3, np.int64)
        codes = [_k.decide_step(t, score, start, np.array([25.0, 10.0]), compete, ones,
                                *lengths, 2, 5, pending, pending_f, event) for t in range(3)]
        return codes, int(event[0])

    assert decide(np.array([25.0, 10.0])) == ([0, 0, 1], 1)  # the runner-up fires
    assert decide(np.array([10.0, 10.0])) == ([0, 0, 2], 0)  # class 0 wins: nothing fires


def test_the_frame_kernel_allocates_nothing_with_costs() -> None:
    # numba counts its runtime's allocations only when told so before it starts; passing an
    # array from Python wraps it (an allocation per argument), so a run of 400 frames is
    # compared with one of 10 through the same single kernel call
    code = textwrap.dedent("""
        import numpy as np
        import gesturemap as gm
        from numba.core.runtime import rtsys
        rng = np.random.default_rng(0)
        ds = gm.Dataset()
        for _ in range(4):
            ds.add(np.c_[np.linspace(0, 1, 30), np.zeros(30)] + rng.normal(0, .03, (30, 2)), label="up")
            ds.add(np.c_[np.linspace(1, 0, 30), np.zeros(30)] + rng.normal(0, .03, (30, 2)), label="down")
            ds.add(rng.normal(0, .03, (60, 2)), label=gm.NULL)
        model = gm.HHMM(states=3, gaussians=1, deltas=False).fit(ds)
        sp = gm.Spotter(model, thresholds={"up": 1e3}, costs={"up": 10.0})
        frames = rng.random((400, 2))
        sp.stream().run_events(frames)  # compiled, loaded
        used = []
        for n in (10, 400):  # one kernel call each: only the arguments' wrappers differ
            before = rtsys.get_allocation_stats().alloc
            sp.stream().run_events(frames[:n])
            used.append(rtsys.get_allocation_stats().alloc - before)
        print(used[1] - used[0])
    """)
    root = os.path.dirname(os.path.dirname(gm.__file__))  # this checkout's package
    env = {**os.environ, "NUMBA_NRT_STATS": "1",
           "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=600, check=True)
    assert out.stdout.split()[-1] == "0"


def test_a_spotter_retuned_in_place_decides_as_one_built_with_its_settings(model, streams):
    """``retune`` (the engine's path for thresholds and costs changed on stage) gives the
    decision of a spotter built with them, and a stream running over it follows from its next
    step, keeping its state."""
    x = np.vstack([streams.sessions[4], streams.sessions[6]])
    for thresholds, costs in ((RAISED, {"1": 10.0}), (RAISED, None), (None, {"2": 4.0})):
        spotter = gm.Spotter(model)
        arrays = (spotter.thresholds_, spotter.compete_)
        spotter.retune(thresholds, costs)
        built = gm.Spotter(model, thresholds=thresholds, costs=costs)
        assert spotter.spot(x) == built.spot(x)
        np.testing.assert_array_equal(spotter.compete_, built.compete_)
        assert spotter.thresholds_ is arrays[0] and spotter.compete_ is arrays[1]
    # a stream retuned half way: its first half as before, its second as the new settings'
    half = len(streams.sessions[4])
    spotter = gm.Spotter(model)
    stream = spotter.stream()
    first = [r.event for r in map(stream.step, x[:half]) if r.event is not None]
    spotter.retune(RAISED, {"1": 10.0})
    second = [r.event for r in map(stream.step, x[half:]) if r.event is not None]
    reference = gm.Spotter(model).stream()
    assert first == [r.event for r in map(reference.step, x[:half]) if r.event is not None]
    assert first + second != gm.Spotter(model).spot(x)  # the change showed
    assert stream.spotter is spotter
    # a bad value changes nothing
    before = (spotter.thresholds_.copy(), spotter.compete_.copy(), spotter.costs)
    with pytest.raises(gm.GesturemapError):
        spotter.retune({"explosion": 3.0}, None)
    with pytest.raises(gm.GesturemapError):
        spotter.retune(None, {"1": -1})
    np.testing.assert_array_equal(spotter.thresholds_, before[0])
    np.testing.assert_array_equal(spotter.compete_, before[1])
    assert spotter.costs == before[2]
