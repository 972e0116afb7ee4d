"""The rule that switches the spotting verifier on: a margin its cross-fitted inner
score must beat the spotter's alone by, and a paired bootstrap over the inner subjects whose
fraction of wins must reach a confidence; without either, the strict comparison of before."""

from __future__ import annotations

import json

import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError
from gesturemap.evaluation.spotting.cv import StackedVerifier, nested_cv
from gesturemap.evaluation.spotting.scores import SessionResult, spotting_metrics
from gesturemap.evaluation.spotting.verifier_rule import (
    DEFAULT_RULE,
    VerifierRule,
    apply_rule,
    paired_bootstrap,
    parse_confidence,
    verifier_rule,
)
from tests.models.spotting.test_verifier_context import context_streams, eval_args
from tests.models.spotting.test_verifier_live import SETTINGS, _factory


def _session(tp: int, fp: int, missed: int) -> SessionResult:
    """A session of one minute of null with ``tp`` events found, ``fp`` false alarms and
    ``missed`` events not found."""
    return SessionResult([("a", 10 * k, 10 * k) for k in range(tp)],
                         [("a", 5 + 10 * k) for k in range(fp)],
                         [("a", 0, 1)] * missed, null_frames=3000)


def _f1(res: list[SessionResult]) -> float:
    return spotting_metrics(res, ["a"], 50.0)["f1"]


def _info(with_: float, without: float) -> dict:
    return {"inner_score_with": with_, "inner_score_without": without,
            "reason": f"{'on' if with_ > without else 'off'}: cross-fitted inner score "
                      f"{with_:.3f} with, {without:.3f} without"}


@pytest.mark.parametrize(("with_", "margin", "on"), [
    (0.71, 0.0, True), (0.70, 0.0, False), (0.69, 0.0, False),
    (0.715, 0.02, False), (0.719, 0.02, False), (0.7201, 0.02, True), (0.75, 0.02, True),
    (0.69, 0.02, False)])
def test_the_margin_keeps_a_thin_gain_off(with_, margin, on) -> None:
    """Beating the spotter alone by less than the margin leaves the verifier off; margin 0 is
    the strict comparison of before (a tie is off)."""
    out = apply_rule(_info(with_, 0.70), VerifierRule(margin=margin), [], [], [], _f1)
    assert out["applied"] is on
    assert out["rule"]["gain"] == pytest.approx(with_ - 0.70)
    assert out["reason"].startswith("on: " if on else "off: ")
    assert "bootstrap_wins" not in out["rule"]
    assert out["inner_score_with"] == with_  # the scores are reported as they were


def test_the_bootstrap_draws_subjects_paired() -> None:
    """Each draw scores the same sessions with and without the verifier, whole subjects at a
    time: a subject whose one session the verifier helps and other it harms never wins."""
    off = [_session(5, 1, 1), _session(5, 1, 1), _session(4, 0, 2), _session(4, 0, 2)]
    on = [_session(6, 0, 0), _session(4, 2, 2), _session(5, 0, 1), _session(3, 0, 3)]
    groups = [0, 0, 1, 1]
    # subject 0's two sessions: 10 found, 2 false, 2 missed either way; subject 1 likewise
    assert paired_bootstrap(on, off, groups, _f1) == 0.0
    # drawn by sessions the same results would often favour one side
    assert 0 < paired_bootstrap(on, off, [0, 1, 2, 3], _f1) < 1


def test_the_bootstrap_is_deterministic_for_a_seed() -> None:
    off = [_session(5, 1, 1) for _ in range(6)]
    on = [_session(6, 0, 0), _session(6, 0, 0), _session(4, 2, 2), _session(6, 1, 0),
          _session(3, 0, 3), _session(6, 0, 0)]
    groups = [0, 1, 2, 3, 4, 5]
    wins = paired_bootstrap(on, off, groups, _f1, resamples=400, seed=3)
    assert 0.2 < wins < 1.0
    assert paired_bootstrap(on, off, groups, _f1, resamples=400, seed=3) == wins
    assert {paired_bootstrap(on, off, groups, _f1, resamples=400, seed=s)
            for s in range(5)} != {wins}
    # always better: every draw wins; never: none
    assert paired_bootstrap(on[:1] * 6, off, groups, _f1, resamples=50) == 1.0
    assert paired_bootstrap(off, on[:1] * 6, groups, _f1, resamples=50) == 0.0
    with pytest.raises(ValueError, match="5 verified sessions, 6 plain"):
        paired_bootstrap(on[:5], off, groups, _f1)


def test_the_confidence_needs_enough_draws_won() -> None:
    off = [_session(5, 1, 1) for _ in range(6)]
    on = [_session(6, 0, 0), _session(6, 0, 0), _session(4, 2, 2), _session(6, 1, 0),
          _session(3, 0, 3), _session(6, 0, 0)]
    groups = list(range(6))
    info = _info(_f1(on), _f1(off))
    assert info["inner_score_with"] > info["inner_score_without"]
    wins = paired_bootstrap(on, off, groups, _f1)
    below, above = VerifierRule(confidence=wins - 0.01), VerifierRule(confidence=wins + 0.01)
    out = apply_rule(info, below, on, off, groups, _f1)
    assert out["applied"] and out["rule"]["bootstrap_wins"] == wins
    assert f"on wins {wins:.3f} of 1000 paired bootstrap draws" in out["reason"]
    assert not apply_rule(info, above, on, off, groups, _f1)["applied"]
    # a lost cross-fit stays off whatever the bootstrap
    assert not apply_rule(_info(0.5, 0.6), VerifierRule(confidence=0.01), on, off, groups,
                          _f1)["applied"]


@pytest.mark.parametrize("bad", [{"margin": -0.01}, {"margin": float("inf")}, {"margin": float("nan")},
                                 {"margin": True}, {"margin": "0.1"}, {"confidence": 0},
                                 {"confidence": 1.5}, {"confidence": True},
                                 {"resamples": 0}, {"resamples": 2.0}, {"seed": -1}])
def test_bad_rules_are_refused(bad) -> None:
    with pytest.raises(GesturemapError):
        VerifierRule(**bad)


def test_verifier_rule_is_none_for_the_rule_of_before() -> None:
    assert verifier_rule() is None and verifier_rule(0.0, None) is None
    assert verifier_rule(0.02) == VerifierRule(margin=0.02)
    assert verifier_rule(0, 0.9) == VerifierRule(confidence=0.9) == DEFAULT_RULE
    assert parse_confidence("None") is None and parse_confidence("0.9") == 0.9
    assert VerifierRule(margin=0.02, confidence=0.9).to_dict() == {
        "margin": 0.02, "confidence": 0.9, "resamples": 1000, "seed": 0}


@pytest.fixture(scope="module")
def streams():
    return context_streams(4)


@pytest.fixture(scope="module")
def plain(streams):
    """fit_verifier with the rule of before (``rule=None``), context 50: the verifier wins
    by a wide gain."""
    st = streams
    return gm.fit_verifier(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                           gestures=[1, 2], context=[50], rule=None, **SETTINGS)


def test_fit_verifier_margin_decides_on_the_same_scores(streams, plain) -> None:
    st = streams
    gain = plain.cv_["inner_score_with"] - plain.cv_["inner_score_without"]
    assert plain.cv_["chosen"] and gain > 0.1 and "rule" not in plain.cv_
    for margin, on in ((gain - 0.01, True), (gain + 0.01, False)):
        v = gm.fit_verifier(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                            gestures=[1, 2], context=[50], rule=VerifierRule(margin=margin),
                            **SETTINGS)
        assert v.cv_["chosen"] is on, v.cv_["reason"]
        assert v.cv_["inner_score_with"] == plain.cv_["inner_score_with"]
        assert v.cv_["rule"]["margin"] == margin
        assert v.cv_["reason"].endswith("(context 50 frames)")
        assert v.to_dict() == plain.to_dict()  # the verifier is the same, only its use


def test_fit_verifier_bootstrap_by_default(streams, plain) -> None:
    """Two subjects, each drawn whole: a draw of the same subject twice is still a paired
    comparison; a verifier that wins in both subjects wins every draw. The bootstrap at a
    confidence of 0.9 is the default (declared before the held-out runs that kept it)."""
    st = streams
    runs = [gm.fit_verifier(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                            gestures=[1, 2], context=[50], **rule, **SETTINGS)
            for rule in ({}, {"rule": VerifierRule(confidence=0.9)},
                         {"rule": DEFAULT_RULE})]
    assert runs[0].cv_["rule"] == runs[1].cv_["rule"] == runs[2].cv_["rule"]
    assert {k: runs[0].cv_["rule"][k] for k in ("margin", "confidence", "resamples", "seed")
            } == {"margin": 0.0, "confidence": 0.9, "resamples": 1000, "seed": 0}
    assert runs[0].cv_["rule"]["bootstrap_wins"] == 1.0 and runs[0].cv_["chosen"]
    assert runs[0].cv_["inner_score_with"] == plain.cv_["inner_score_with"]


def test_nested_cv_with_a_margin_it_cannot_clear() -> None:
    """``verifier_rule``: the outer folds' verifiers, which win their cross-fit, stay off
    under a margin above their gain, and the held-out events are the spotter's alone."""
    st = context_streams(6)
    make = lambda c, context=0: StackedVerifier(c, context=context)  # noqa: E731
    args = dict(outer=2, inner=2, log=lambda s: None, make_verifier=make,
                verifier_contexts=(50,))
    on = nested_cv(st, _factory, {"gmm_frames": [40]}, lambda a: a, **args)
    gains = [i["inner_score_with"] - i["inner_score_without"] for i in on["verifier"]]
    assert all(i["applied"] for i in on["verifier"]) and "rule" not in on["verifier"][0]
    off = nested_cv(st, _factory, {"gmm_frames": [40]}, lambda a: a, **args,
                    verifier_rule=VerifierRule(margin=max(gains) + 0.01))
    assert not any(i["applied"] for i in off["verifier"])
    assert [i["rule"]["gain"] for i in off["verifier"]] == pytest.approx(gains)
    assert off["metrics"]["f1"] < on["metrics"]["f1"] - 0.1


def test_eval_spotting_verifier_margin_and_confidence(tmp_path, capsys) -> None:
    """`gesturemap eval --spotting --verify --verifier-margin M --verifier-confidence Q`: the
    rule in each fold's report and its reason; a bad value is a usage error (exit 2)."""
    from gesturemap.cli import main

    args = [*eval_args(tmp_path, context_streams(4)), "--verifier-context", "50"]
    out = tmp_path / "rule.json"
    assert main([*args, "--verifier-margin", "99", "--verifier-confidence", "0.5",
                 "--json", str(out)]) == 0
    folds = json.loads(out.read_text())["verifier"]
    assert len(folds) == 2
    for f in folds:
        assert not f["chosen"] and f["rule"]["margin"] == 99
        assert f["rule"]["confidence"] == 0.5 and 0 <= f["rule"]["bootstrap_wins"] <= 1
        assert "(margin 99)" in f["reason"]
    assert "paired bootstrap draws" in capsys.readouterr().out
    assert main([*args, "--verifier-confidence", "none", "--json", str(out)]) == 0
    assert all(f["chosen"] and "rule" not in f for f in json.loads(out.read_text())["verifier"])
    assert main([*args, "--json", str(out)]) == 0  # the default: a confidence of 0.9
    for f in json.loads(out.read_text())["verifier"]:
        assert f["chosen"] and f["rule"]["confidence"] == 0.9 and f["rule"]["margin"] == 0
    for bad in (["--verifier-margin", "-1"], ["--verifier-confidence", "0"]):
        assert main([*args, *bad]) == 2
        assert "verifier" in capsys.readouterr().err
