"""``gesturemap eval``: evaluate a model kind on dataset files or on a project.

    gesturemap eval --train A.npz --test B.npz --model MODEL [--param k=v ...]
    gesturemap eval --train A.npz (--folds K | --leave-one-out | --group-by KEY) --model MODEL
    gesturemap eval --project DIR [--folds K | --leave-one-take-out] [--model MODEL]
    gesturemap eval DIR [--folds K] [--model MODEL]   the quality of a project's takes
    gesturemap eval --spotting --train STREAMS.npz [--folds K | --test TEST.npz] [--model hhmm]
                    [--spot K=V] [--verify [--verifier-folds K] [--verifier-margin M]
                    [--verifier-confidence Q]]
    ... [--json OUT] [--csv OUT] [--plots DIR] [--standardize] [--early stream|prefix|both|none]

Bad input (a missing or damaged file, an unknown model or parameter, an option the
evaluation asked for would ignore, an output that would overwrite an input) ends with exit
code 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["add_eval_parser", "main_eval"]

#: The defaults of the options left out of the parsed arguments unless given (argparse's
#: SUPPRESS), so that one given where it would do nothing is refused, never ignored.
_DEFAULTS: dict[str, Any] = {"seed": 0, "jobs": 1, "early": "stream", "rate": 50.0,
                             "verifier_folds": 2, "verifier_margin": 0.0,
                             "verifier_confidence": 0.9}
#: The options ``--spotting`` has no use for, why, and what to do: given, they are refused.
_NOT_FOR_SPOTTING = {
    "dir": "spotting reads stream files, not a project: give --train STREAMS.npz alone",
    "project": "spotting reads stream files, not a project's takes: give --train STREAMS.npz",
    "leave_one_take_out": "spotting's folds hold out subjects, not takes: give --folds K",
    "leave_one_out": "spotting's folds hold out subjects, not recordings: give --folds K "
                     "(as many as the subjects: one subject out at a time)",
    "group_by": "spotting's folds are always of the stream file's subject array: give "
                "--folds K",
    "seed": "spotting's folds are not shuffled (the sorted subjects are dealt round-robin): "
            "leave it out",
    "standardize": "spotting's models read the frames as they are: scale them in the file, "
                   "or leave it out",
    "jobs": "spotting's folds are trained one after another: leave it out",
    "early": "spotting reports each event's delay, not an early-recognition curve: leave it "
             "out",
    "plots": "spotting draws no plots: leave it out (--json holds every figure, --csv the "
             "table)",
}
#: ``--spotting``'s own options, refused without it; from ``verifier_context`` on, those of
#: its second stage, refused without ``--verify`` or ``--relabel``.
_SPOTTING_ONLY = ("gestures", "spot", "rate", "verify", "relabel", "detector",
                  "verifier_context", "verifier_wait", "verifier_folds", "verifier_margin",
                  "verifier_confidence")


def _given(args: argparse.Namespace, name: str) -> bool:
    """Whether the option ``name`` (its argparse dest) was given on the command line."""
    if name in _DEFAULTS:
        return name in vars(args)
    return getattr(args, name, None) not in (None, False, [])


def _option(args: argparse.Namespace, name: str) -> Any:
    """An option of :data:`_DEFAULTS`: as given, else its default."""
    return vars(args).get(name, _DEFAULTS[name])


def _flag(name: str) -> str:
    """An option as typed (``group_by`` -> ``--group-by``)."""
    return "DIR" if name == "dir" else "--" + name.replace("_", "-")


def _them(options: list[str]) -> str:
    """The pronoun of one option or of several."""
    return "it" if len(options) == 1 else "them"


def _rate(text: str) -> float:
    """An argparse type: frames per second, a finite number > 0 (a clear message otherwise)."""
    from ..utils.validation import check_float

    try:
        return check_float("--rate", float(text), strict=True)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text}: frames per second, a finite number > 0"
                                         ) from None


def _at_least(low: int) -> Any:
    """An argparse type: an integer >= ``low`` (a clear message otherwise)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value}: at least {low}")
        return value
    return parse

def add_eval_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``eval`` command to ``gesturemap``'s subparsers."""
    from ..models.spotting.verifier import parse_context, parse_wait
    from .spotting.verifier_rule import parse_confidence

    p = subparsers.add_parser(
        "eval",
        help="cross-validation / held-out evaluation, report and plots",
        description="Evaluate a model: a held-out test set (--train + --test), cross-validation "
        "on one dataset file (--train + --folds / --leave-one-out / --group-by), or "
        "cross-validation of a project's takes (--project). Dataset files are .npz "
        "with X_concat, lengths, y (and optionally Y_concat for regression).",
    )
    p.add_argument("dir", nargs="?", metavar="DIR",
                   help="a project: review its takes (suspicious takes, per-class scores, "
                   "confusion, the class that needs another take; --folds K bounds the "
                   "trainings, default 10)")
    source = p.add_argument_group("data")
    source.add_argument("--train", metavar="A.npz", help="training (or cross-validation) data")
    source.add_argument("--test", metavar="B.npz", help="held-out test data")
    source.add_argument("--project", metavar="DIR", help="cross-validate a project's takes")
    how = p.add_argument_group("protocol")
    # one way of splitting: two given at once were settled silently, one of them dropped
    split = how.add_mutually_exclusive_group()
    split.add_argument("--folds", type=_at_least(2), metavar="K",
                       help="stratified K-fold cross-validation")
    split.add_argument(
        "--leave-one-take-out",
        action="store_true",
        help="one fold per take (a project; the default there)",
    )
    split.add_argument(
        "--leave-one-out", action="store_true", help="one fold per recording of --train"
    )
    split.add_argument(
        "--group-by",
        metavar="KEY",
        help="one fold per value of the per-recording array KEY of --train (e.g. subject)",
    )
    how.add_argument("--seed", type=_at_least(0), default=argparse.SUPPRESS,
                     help="fold shuffling seed (default 0)")
    how.add_argument(
        "--standardize",
        action="store_true",
        help="scale inputs by the training part's per-channel mean and std",
    )
    how.add_argument(
        "--early",
        choices=("stream", "prefix", "both", "none"),
        default=argparse.SUPPRESS,
        help="early-recognition curve: stream frame by frame (default), predict on "
        "prefixes, both, or skip",
    )
    how.add_argument(
        "--jobs", type=_at_least(1), default=argparse.SUPPRESS, metavar="N",
        help="folds trained in parallel (default 1)"
    )
    model = p.add_argument_group("model")
    model.add_argument(
        "--model",
        metavar="MODEL",
        help="model kind (gmm, hhmm, dtw, knn, svm, tree, adaboost, naive_bayes, "
        "mlp, ...); a project's own by default",
    )
    model.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="K=V",
        help='model parameter (V read as JSON if it can be: 3, 0.1, true, "x"); repeatable',
    )
    spot = p.add_argument_group(
        "spotting (gestures found in continuous streams with per-frame labels)")
    spot.add_argument(
        "--spotting",
        action="store_true",
        help="event-level evaluation of gm.spot on streams (--train STREAMS.npz: X_concat, "
        "labels_concat, lengths, subject): leave-subjects-out folds (--folds K, default 3), "
        "or trained on every --train session and scored on --test TEST.npz's; micro/macro "
        "F1, median/p90 delay, false alarms per minute of null",
    )
    spot.add_argument(
        "--gestures",
        metavar="L1,L2",
        help="the per-frame labels that are gestures (default: the file's gesture_labels, "
        "else HAPT's transitions 7-12); every other label is null",
    )
    spot.add_argument(
        "--spot",
        action="append",
        default=[],
        metavar="K=V",
        help="a spotting setting (relative_threshold, min_stay, hold_frames...); repeatable",
    )
    spot.add_argument("--rate", type=_rate, default=argparse.SUPPRESS,
                      help="frame rate in Hz (default 50)")
    spot.add_argument(
        "--verify",
        action="store_true",
        help="each fold also trains a spotting verifier on its training subjects "
        "(gm.fit_verifier: its own cross-fitting there) and uses it where that chose it",
    )
    spot.add_argument(
        "--relabel",
        action="store_true",
        help="each fold also trains a context relabeller on its training subjects "
        "(gm.fit_relabeler: the gestures' labelled runs, the frames before each start and "
        "after each emission; its own cross-fitting there chooses how many, or leaves it "
        "off) and uses it where that chose it; --verifier-context, --verifier-wait, "
        "--verifier-folds and the rule apply to it too",
    )
    spot.add_argument(
        "--detector",
        action="store_true",
        help="each fold also trains a window detector on its training subjects "
        "(gm.fit_detector: extra trees on the last 4 s of the stream and the second before "
        "them), merged with the spotter's events (after --relabel or --verify): it finds "
        "gestures the spotter misses",
    )
    spot.add_argument(
        "--verifier-context",
        type=parse_context,
        nargs="+",
        default=None,
        metavar="FRAMES",
        help="with --verify or --relabel: frames before each event's start whose statistics "
        "the verifier also reads; several: its cross-fitting chooses among them (default: 0, "
        "1 and 2 s at --rate); two joined by a comma (50,100, --verify only): both windows "
        "read at once",
    )
    spot.add_argument(
        "--verifier-wait",
        type=parse_wait,
        nargs="+",
        default=None,
        metavar="FRAMES",
        help="with --verify or --relabel: frames after the spotter's emission the verifier "
        "waits for and reads, each event coming that much later (default 0; with --relabel 0 "
        "and 0.5 s at --rate); two joined by a comma (25,80): "
        "the frames it reads once the movement settles, and the most frames it waits for "
        "that; several: chosen likewise",
    )
    spot.add_argument(
        "--verifier-folds",
        type=_at_least(2),
        default=argparse.SUPPRESS,
        metavar="K",
        help="with --verify or --relabel: the folds of training subjects the verifier's cross-fitting deals "
        "them into, each spotted by a model trained on the others (default 2: halves)",
    )
    spot.add_argument(
        "--verifier-margin",
        type=float,
        default=argparse.SUPPRESS,
        metavar="M",
        help="with --verify or --relabel: switched on only when its cross-fitted score beats the spotter's "
        "alone by at least M (default 0: strictly)",
    )
    spot.add_argument(
        "--verifier-confidence",
        type=parse_confidence,
        default=argparse.SUPPRESS,
        metavar="Q",
        help="with --verify or --relabel: switched on only when it also beats the spotter's alone in at "
        "least a fraction Q of 1000 paired bootstrap draws of the training subjects (seed 0; "
        "default 0.9; none: no bootstrap, strictly better suffices)",
    )
    out = p.add_argument_group("output")
    out.add_argument("--json", metavar="OUT", help="write the full report as JSON")
    out.add_argument("--csv", metavar="OUT", help="write per-class (or per-output; with "
                     "--spotting per-gesture) metrics as CSV")
    out.add_argument("--plots", metavar="DIR", help="write PNG plots into DIR")
    out.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def parse_params(items: list[str]) -> dict[str, Any]:
    """``["states=5", "transition=ergodic"]`` -> ``{"states": 5, "transition": "ergodic"}``."""
    from ..utils.validation import validation_error

    params: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise validation_error("--param", item, "KEY=VALUE, e.g. states=10")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        params[key.strip()] = value
    return params


def _fail(message: str) -> int:
    sys.stderr.write(f"gesturemap eval: {' '.join(message.split())}\n")
    return 2


def _report(args: argparse.Namespace) -> Any:
    from ..errors import GesturemapError
    from .run import cross_validate, evaluate_project, holdout, load_npz_dataset

    params = parse_params(args.param)
    progress = not args.quiet
    common = dict(params=params, early=_option(args, "early"), progress=progress)
    if args.project:
        if args.train or args.test:
            raise GesturemapError("give either --project or --train/--test, not both")
        if args.standardize:
            raise GesturemapError(
                "--standardize is for dataset files: a project scales its inputs with its own "
                "feature pipeline (add a standardize stage to it)"
            )
        if args.leave_one_out or args.group_by:
            raise GesturemapError(
                "a project is split by takes: use --folds K or --leave-one-take-out"
            )
        from ..project import Project

        project = Project.load(args.project)
        folds = None if args.leave_one_take_out else args.folds
        return evaluate_project(
            project, model=args.model, folds=folds, seed=_option(args, "seed"),
            n_jobs=_option(args, "jobs"), **common
        )
    if not args.train:
        raise GesturemapError(
            "give --train A.npz (with --test B.npz or a cross-validation protocol) or --project DIR"
        )
    if not args.model:
        raise GesturemapError("--model is required with --train (e.g. --model hhmm)")
    from .run import model_spec

    model_spec(args.model, params)  # an unknown model fails before any file is read
    train, extra = load_npz_dataset(args.train)
    if args.test:
        if args.folds or args.leave_one_out or args.group_by or args.leave_one_take_out:
            raise GesturemapError(
                "--test is a held-out evaluation: drop the cross-validation options, or drop --test"
            )
        test, _ = load_npz_dataset(args.test)
        return holdout(args.model, train, test, standardize=args.standardize, **common)
    groups = None
    if args.group_by:
        if args.group_by not in extra:
            raise GesturemapError(
                f"--group-by {args.group_by!r}: {args.train} has no per-recording array of "
                f"that name; it has {sorted(extra) or 'none'}"
            )
        groups = [v.item() if hasattr(v, "item") else v for v in extra[args.group_by]]
    elif args.leave_one_out or args.leave_one_take_out:
        groups = list(range(len(train)))
    return cross_validate(
        args.model,
        train,
        folds=args.folds or 5,
        groups=groups,
        seed=_option(args, "seed"),
        standardize=args.standardize,
        n_jobs=_option(args, "jobs"),
        **common,
    )


def _quality(args: argparse.Namespace) -> Any:
    from ..errors import GesturemapError
    from ..project import Project
    from .quality import project_quality
    from .run import build

    if args.train or args.test or args.project:
        raise GesturemapError("give a project folder DIR alone, or --project/--train/--test")
    project = Project.load(args.dir)
    if project.output_names:  # one label of continuous takes: "record another gesture" misleads
        raise GesturemapError(f"{args.dir} maps to continuous outputs; the review of takes "
                              "compares gestures: gesturemap eval --project DIR cross-validates "
                              "the mapping")
    model = None
    if args.model:
        model = build(args.model, parse_params(args.param))
    elif args.param:
        raise GesturemapError("--param needs --model (the family they belong to)")
    return project_quality(project, model=model, folds=args.folds or 10,
                           seed=_option(args, "seed"))


def _spotting(args: argparse.Namespace) -> int:
    from ..errors import GesturemapError
    from ..models.spotting.verifier import default_contexts
    from ..utils.storage import atomic_write_text
    from .spotting.cv import cross_validate_spotting, load_streams
    from .spotting.verifier_rule import verifier_rule

    for name, why in _NOT_FOR_SPOTTING.items():
        if _given(args, name):
            raise GesturemapError(f"{_flag(name)} with --spotting: {why}")
    second = [_flag(name) for name in _SPOTTING_ONLY[6:] if _given(args, name)]
    if second and not (args.verify or args.relabel):
        raise GesturemapError(f"{', '.join(second)}: the second stage's setting(s); add "
                              f"--verify or --relabel, or leave {_them(second)} out")
    if not args.train:
        raise GesturemapError("--spotting needs --train STREAMS.npz (per-frame labels)")
    rule = verifier_rule(_option(args, "verifier_margin"), _option(args, "verifier_confidence"))
    rate = _option(args, "rate")
    gestures = None
    if args.gestures:
        gestures = [int(g) if g.strip().lstrip("-").isdigit() else g.strip()
                    for g in args.gestures.split(",")]
    st = load_streams(args.train, gestures, rate_hz=rate)
    kind = args.model or "hhmm"
    params = parse_params(args.param)
    if kind in ("hhmm", "gmm"):
        # delta features cost spotting accuracy (docs/spotting.md: HAPT held-out micro F1
        # 0.667 with the deltas scored, 0.774 without them)
        params.setdefault("deltas", False)
    if args.verify and args.relabel:
        raise GesturemapError("--verify and --relabel are two second stages: give one")
    pairs = [v for v in (*(args.verifier_context or ()), *(args.verifier_wait or ()))
             if isinstance(v, tuple)]
    if args.relabel and pairs:
        raise GesturemapError(f"--relabel reads one context and one wait: lengths in frames, "
                              f"not pairs ({', '.join(','.join(map(str, p)) for p in pairs)})")
    verifier = {"verify": args.verify, "relabel": args.relabel,
                "verifier_wait": (list(args.verifier_wait) if args.verifier_wait
                                  else None if args.relabel else [0]),
                "verifier_context": (list(args.verifier_context) if args.verifier_context
                                     else None if args.relabel
                                     else default_contexts(rate)),
                "verifier_folds": _option(args, "verifier_folds"), "verifier_rule": rule}
    if args.test:  # trained on every training session, scored on the test file's
        from .spotting.heldout import held_out_spotting

        if args.folds:
            raise GesturemapError("--test is a held-out evaluation: drop --folds, or drop --test")
        test = load_streams(args.test, gestures, rate_hz=rate)
        report = held_out_spotting(st, test, kind, params, parse_params(args.spot),
                                   detector=args.detector, **verifier)
    else:
        report = cross_validate_spotting(st, kind, params, parse_params(args.spot),
                                         folds=args.folds or 3, progress=not args.quiet,
                                         detector=args.detector, **verifier)
    for k, fold in enumerate(report.get("verifier", [])):
        print(("" if args.test else f"fold {k + 1}: ")
              + f"{'relabeller' if args.relabel else 'verifier'} "
              f"{'on' if fold['chosen'] else 'off'} ({fold['reason']})"
              + (f", context scores {fold['context_scores']}" if "context_scores" in fold else ""))
    m = report["metrics"]
    if args.detector:
        print("window detector: trained on the training subjects' recordings, merged with "
              "the spotter's events")
    print(f"spotting, {report['protocol']}: micro P {m['precision']:.3f} R {m['recall']:.3f} "
          f"F1 {m['f1']:.3f}, macro F1 {m['macro_f1']:.3f}, delay median "
          f"{m['delay_median_s']:.2f} s / p90 {m['delay_p90_s']:.2f} s, false alarms "
          f"{m['false_alarms_per_min']:.3f}/min ({m['true_positives']} of {m['events']} "
          f"events, {m['false_positives']} false: {m['false_inside_gestures']} inside a real "
          "gesture, named wrong or found twice)")
    if m["false_positives"] and not args.relabel and (
            m["false_inside_gestures"] >= m["false_positives"] / 2):
        print("most false events name a real gesture wrong: --relabel trains a relabeller "
              "that reads the posture before and after each event (docs/spotting.md)")
    print(_spotting_classes(m))
    if args.json:
        atomic_write_text(args.json, json.dumps(report, indent=1, default=str))
    if args.csv:
        atomic_write_text(args.csv, _spotting_csv(m))
    return 0


def _spotting_rows(m: dict[str, Any]) -> list[tuple[Any, ...]]:
    """A row a gesture: its events, how many were found, the false alarms named after it,
    precision, recall and F1 (which gesture to record again, or to tell apart better)."""
    return [(label, v["support"], v["true_positives"], v["false_positives"], v["precision"],
             v["recall"], v["f1"]) for label, v in m["per_class"].items()]


def _spotting_classes(m: dict[str, Any]) -> str:
    """:func:`_spotting_rows` as the table printed."""
    width = max([len("gesture"), *(len(str(c)) for c in m["per_class"])])
    lines = [f"{'gesture':<{width}}  events  found  false  precision  recall     F1"]
    for label, events, found, false, precision, recall, f1 in _spotting_rows(m):
        lines.append(f"{label!s:<{width}}  {events:>6}  {found:>5}  {false:>5}  "
                     f"{precision:>9.3f}  {recall:>6.3f}  {f1:>5.3f}")
    return "\n".join(lines)


def _spotting_csv(m: dict[str, Any]) -> str:
    """:func:`_spotting_rows` as CSV (``--csv``), with the micro figures of every gesture
    last (gesture ``micro``)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["gesture", "events", "found", "false", "precision", "recall", "f1"])
    micro = ("micro", m["events"], m["true_positives"], m["false_positives"], m["precision"],
             m["recall"], m["f1"])
    for row in [*_spotting_rows(m), micro]:
        writer.writerow([*row[:4], *(f"{v:.6g}" for v in row[4:])])
    return buffer.getvalue()


def main_eval(args: argparse.Namespace) -> int:
    """Run ``gesturemap eval``; returns the exit code (2 for bad input)."""
    from ..errors import GesturemapError
    from ..utils.storage import outside

    outside([args.json, args.csv], [getattr(args, "dir", None), args.project], "eval",
            reads=[args.train, args.test])
    if getattr(args, "spotting", False):
        try:
            return _spotting(args)
        except GesturemapError as error:
            return _fail(str(error))
        except (OSError, KeyError, ValueError) as error:
            return _fail(f"{type(error).__name__}: {error}")
    ignored = [_flag(name) for name in _SPOTTING_ONLY if _given(args, name)]
    if ignored:
        return _fail(f"{', '.join(ignored)}: for --spotting (gestures found in streams with "
                     f"per-frame labels); add --spotting, or leave {_them(ignored)} out")
    try:
        report = _quality(args) if getattr(args, "dir", None) else _report(args)
        if args.json:
            report.to_json(args.json)
        if args.csv:
            report.to_csv(args.csv)
        if args.plots:
            report.save_plots(args.plots)
    except GesturemapError as error:
        return _fail(str(error))
    except ValueError as error:  # e.g. scikit-learn refusing a training set too small for it
        return _fail(f"{type(error).__name__}: {error}")
    except OSError as error:
        return _fail(f"{error.filename or ''}: {error.strerror or error}".lstrip(": "))
    print(report.text() if hasattr(report, "take_ids") else report.summary())
    return 0
