"""The ``gesturemap`` command."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import GesturemapError
from .utils.storage import outside

if TYPE_CHECKING:  # (the CLI imports its commands' modules when they run: a fast --help)
    from ._commands.stage_setup import LogFolder

#: Exit codes, the same for every command (README.md, "Exit codes").
EXIT_OK = 0
#: An unexpected error: a bug (Python prints the traceback).
EXIT_BUG = 1
#: Bad input, with one line on stderr saying what and what to try: an option (argparse's own
#: code), a project, file or device that cannot be used.
EXIT_USAGE = 2
#: The audio output asked for (--audio-device...) cannot be opened.
EXIT_NO_AUDIO = 3
#: ``gesturemap run``: takes, the trained model or edits could not be written into the project's
#: folder (read-only, full); a copy went elsewhere, the message says where.
EXIT_NOT_SAVED = 4
#: Stopped by Ctrl-C before the command was done (the shell's 128 + SIGINT).
EXIT_INTERRUPTED = 130
#: The output's reader stopped reading (``| head``): what the shell reports of a program that
#: SIGPIPE ends (128 + 13), so a script with ``pipefail`` tells it from bad input.
EXIT_PIPE_CLOSED = 141
EXIT_CODES = {EXIT_OK: "done", EXIT_BUG: "unexpected error (a bug: please report it)",
              EXIT_USAGE: "bad input (one line on stderr says what)",
              EXIT_NO_AUDIO: "the audio output asked for cannot be opened",
              EXIT_NOT_SAVED: "run: takes or the model could not be saved in the project's "
                              "folder (stderr says what, and where a copy went)",
              EXIT_INTERRUPTED: "interrupted (Ctrl-C) before the end",
              EXIT_PIPE_CLOSED: "its output's reader stopped reading (| head)"}

LOG_LEVELS = ("debug", "info", "warning", "error")



#: The most input or output channels a project may have (an OSC frame's most values).
MAX_CHANNELS = 4096


def _seconds(low: float, strict: bool = False) -> Any:
    """An argparse type: a finite number of seconds >= ``low`` (> with ``strict``)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not math.isfinite(value) or value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(
                f"{text}: a finite number of seconds {'>' if strict else '>='} {low:g}")
        return value
    return parse


_TRAINER_HELP = ("where trainings run: a process of their own (default: nothing a training "
                 "does can delay a frame), or a thread of this one (it then shares Python's "
                 "lock with the frames: for debugging or profiling a model)")


def _name(what: str) -> Any:
    """An argparse type: a name that is not empty (``--lsl-out ""`` from a script whose
    variable was unset would otherwise publish nothing and say nothing)."""
    def parse(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"{what} needs a name (leave the option out for none)")
        return text
    return parse


def _whole(low: int, high: int) -> Any:
    """An argparse type: a whole number from ``low`` to ``high``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value}: from {low} to {high}")
        return value
    return parse

def build_parser() -> argparse.ArgumentParser:  # noqa: PLR0915 - the parser: one command after another
    p = argparse.ArgumentParser(
        prog="gesturemap",
        description="Real-time gesture-to-sound mapping. With no command: the window on the "
                    "built-in default project (the mouse as sensor).")
    from . import __version__

    p.add_argument("--version", action="version", version=f"gesturemap {__version__}")
    p.add_argument("--log-level", choices=LOG_LEVELS, default="warning",
                   help="which log records to print on stderr, with time stamps (default warning)")
    sub = p.add_subparsers(dest="command")
    open_ = sub.add_parser("open", help="open a project in the window")
    open_.add_argument("dir")
    open_.add_argument("--osc-in", metavar="HOST:PORT", help="also take OSC frames there")
    open_.add_argument("--trainer", choices=("process", "thread"), default="process",
                       help=_TRAINER_HELP)
    open_.add_argument("--no-audio", action="store_true", help="no built-in synth")
    _add_audio_arguments(open_, "without an audio device the window runs without the synth "
                                "and its audio light says why")
    demo = sub.add_parser("demo", help="a console demo on built-in data, no window needed")
    demo.add_argument("--delay", type=_seconds(0.0), default=0.0,
                      help="seconds to wait between frames, to watch it unfold")
    bench = sub.add_parser("bench", help="performance figures (kept in docs/performance.md)")
    bench.add_argument("--reference", metavar="PATH",
                       help="another copy of XMM's reference data (the folder holding data/"
                            "trainingset_*.xmm.json); default: the workload inside the package")
    bench.add_argument("--repeats", type=int, default=7, help="retrains per model (median)")
    bench.add_argument("--json", help="also write the figures to this JSON file")
    bench.add_argument("--latency", action="store_true",
                       help="also measure OSC in -> OSC out latency at 200 frames/s")
    bench.add_argument("--vs-floor", action="store_true",
                       help="with --latency: only interleaved rounds against a bare python-osc "
                            "echo (the floor), client at ordinary priority, idle and one core "
                            "busy, kNN and HHMM")
    bench.add_argument("--rounds", type=int, default=3, help="with --vs-floor: rounds")
    bench.add_argument("--seconds", type=_seconds(1.0, strict=True), default=10.0,
                       help="with --vs-floor: seconds per server per load in each round "
                            "(more than 1: each server's first second warms it up and is "
                            "not timed)")
    bench.add_argument("--external", action="append", default=[], metavar="NAME=PORT",
                       help="with --vs-floor: also time an OSC server already running here "
                            "(Wekinator, say) that takes /wek/inputs on 127.0.0.1:PORT and "
                            "sends /wek/outputs to --receive-port (repeatable)")
    bench.add_argument("--receive-port", type=int, default=0,
                       help="with --vs-floor: read every server's replies on this local port "
                            "(required with --external; default any free port)")
    bench.add_argument("--warmup", type=float, default=0.0, metavar="S",
                       help="with --vs-floor: seconds of frames sent to every server before "
                            "the rounds (a JVM warming up, say)")
    bench.add_argument("--window", action="store_true",
                       help="with --latency: also with the window open, busy and retraining")
    bench.add_argument("--search", action="store_true",
                       help="with --latency: also with the background model search running")
    bench.add_argument("--spotting", action="store_true",
                       help="with --latency: the project's stream also spots gestures")
    bench.add_argument("--scaling", action="store_true",
                       help="only the scaling grid: retrain and step against classes, "
                            "channels and takes (synthetic takes)")

    new = sub.add_parser("new", help="create a project folder")
    new.add_argument("dir")
    new.add_argument("--model", default="hhmm", help="model kind (default hhmm)")
    new.add_argument("--preset", metavar="NAME",
                     help="start from a ready project (presets/README.md), e.g. air-drums")
    new.add_argument("--inputs", type=_whole(1, MAX_CHANNELS), help="input size (default: from the first frame)")
    new.add_argument("--outputs", type=_whole(0, MAX_CHANNELS), default=0,
                     help="number of continuous outputs (a regression project); 0: classes")

    run = sub.add_parser("run", help="stage mode: run a project without a window")
    run.add_argument("dir")
    run.description = (
        "Opens the project's own sensor (as the window saved it: an OSC profile's addresses and "
        "port, a serial device...); the options below replace it. Beside a serial, MIDI or LSL "
        "sensor (or instead of the mouse pad) Wekinator's OSC port takes /wek/inputs and "
        "/wekinator/control messages.")
    run.add_argument("--osc-in", metavar="HOST:PORT",
                     help="the OSC sensor's interface and port (its addresses stay the "
                          "profile's); beside a non-OSC sensor, Wekinator's control port "
                          "(default 127.0.0.1:6448)")
    run.add_argument("--osc-out", metavar="HOST:PORT", help="default: the project's setting")
    run.add_argument("--serial", metavar="DEVICE", help="read this serial sensor instead")
    run.add_argument("--profile", help="the sensor profile (sensors/): with --serial a serial "
                                       "one; alone it replaces the project's")
    midi = run.add_argument_group(
        "MIDI", "ports are found by part of their name on whichever backend has them (ALSA, "
                "JACK, CoreMIDI, Windows MM); virtual:NAME makes a port of gesturemap's own; "
                "`gesturemap devices` lists them")
    midi.add_argument("--midi-out", metavar="PORT",
                      help="send continuous outputs as control changes and class changes as "
                           "notes (or programs: the project's outputs.midi settings)")
    midi.add_argument("--midi-in", metavar="PORT", help="a MIDI controller as the sensor "
                                                         "(its program changes recall scenes)")
    midi.add_argument("--midi-scenes", metavar="PORT",
                      help="a MIDI input whose program changes recall the project's scenes "
                           "(program N as sent, 0 for a device's program 1: scene N), e.g. a "
                           "foot controller beside a sensor on OSC")
    midi.add_argument("--midi-controls", metavar="LIST",
                      help="with --midi-in: its channels, e.g. cc1,cc7,note,velocity,bend "
                           "(default cc1..cc8,note,velocity,bend)")
    lsl = run.add_argument_group("Lab Streaming Layer", "streams found by name on the network")
    lsl.add_argument("--lsl-in", metavar="NAME", type=_name("an LSL stream"),
                     help="an LSL stream as the sensor")
    lsl.add_argument("--lsl-out", metavar="NAME", nargs="?", const="gesturemap",
                     type=_name("an LSL stream"),
                     help="publish likelihoods, progress and outputs as the stream NAME "
                          "(default gesturemap; the name starts with gesturemap), which "
                          "appears at the first frame the model answers (its channels are "
                          "known then), and labels and spotted gestures as NAME-markers, "
                          "there from the start, for LabRecorder")
    run.add_argument("--no-audio", action="store_true", help="no built-in synth")
    _add_audio_arguments(run, "when one is given and cannot be opened, gesturemap run exits "
                              f"with code {EXIT_NO_AUDIO}")
    run.add_argument("--log", metavar="DIR", help="log every stream of the session there")
    run.add_argument("--stats", metavar="FILE", help="health counters as JSON, every second")
    run.add_argument("--trainer", choices=("process", "thread"), default="process",
                     help=_TRAINER_HELP)

    devices = sub.add_parser("devices", help="list audio outputs, MIDI ports, serial ports and "
                                             "LSL streams")
    devices.add_argument("--lsl-wait", type=_seconds(0.0), default=1.0, metavar="SECONDS",
                         help="how long to look for LSL streams (default 1)")

    train = sub.add_parser("train", help="retrain a project from its takes")
    train.add_argument("dir")
    train.add_argument("--auto", action="store_true",
                       help="choose the model family and settings by cross-validation on the "
                            "takes (gm.auto), the project's model first (also when the "
                            'project\'s model settings say "auto": true)')
    train.add_argument("--budget", type=_seconds(0.0, strict=True), default=None, metavar="S",
                       help="seconds the --auto search may take (default: the project's "
                            "setting, else 20)")
    train.add_argument("--verifier", nargs="+", metavar="RECORDINGS",
                       help="train the spotting verifier from rehearsal "
                            "recordings labelled frame by frame (stream files .npz: X_concat, "
                            "labels_concat, lengths, optional subject); stored in the project "
                            "only when the cross-fitting chooses it; for the project's model "
                            "as it is, or after the --auto search with --auto")
    train.add_argument("--relabeler", nargs="+", metavar="RECORDINGS",
                       help="train a context relabeller from the same "
                            "kind of recordings (gm.fit_relabeler: names each spotted event "
                            "from the frames before its start and after its emission, never "
                            "drops one); it takes the verifier's place, stored only when the "
                            "cross-fitting chooses it (as --verifier: the project's model, or "
                            "the --auto search's)")
    train.add_argument("--detector", nargs="+", metavar="RECORDINGS",
                       help="train a window detector from the same kind "
                            "of recordings (gm.fit_detector: extra trees on the last 4 s of the "
                            "stream; it finds gestures the spotter misses and vetoes the "
                            "spotter's events it gives no support), stored in the project's "
                            "spotting settings only when it helps the project's spotter in a "
                            "cross-fit over the recordings' performers (two halves); after "
                            "the verifier or relabeller when one is given too, and spotting "
                            "with it")

    from ._commands.audit import add_parser as add_audit

    add_audit(sub)

    from ._commands.guide import add_parser as add_guide

    add_guide(sub)

    restore = sub.add_parser(
        "restore", help="bring deleted takes back from a project's trash",
        description="Deleted takes (the window, deleteAllExamples over OSC...) wait in the "
                    "project's trash/ folder; this puts them back under their own ids. While "
                    "`gesturemap run` plays the project, it asks the running engine to.")
    restore.add_argument("dir")
    restore.add_argument("takes", nargs="*", metavar="TAKE_ID",
                         help="the takes to restore (default: every take in the trash)")
    restore.add_argument("--list", action="store_true", help="only list the trash")

    from ._commands.scenes import add_parser as add_scene_parser

    add_scene_parser(sub)

    replay = sub.add_parser("replay", help="run a logged session through a project")
    replay.add_argument("log")
    replay.add_argument("--project", help="the project folder (default: the one the log was "
                        "recorded with, by its id: where it played, else the log's folder or "
                        "one above it)")
    replay.add_argument("--out", help="write the results as CSV (t, label, likelihoods, regression outputs…)")
    replay.add_argument("--events", help="write the spotted gestures as CSV (t, label, score…)")

    export = sub.add_parser("export", help="write a project's takes or model for Wekinator / XMM")
    export.add_argument("dir")
    export.add_argument("--arff", metavar="FILE", help="the takes as Wekinator's ARFF")
    export.add_argument("--xmm-set", metavar="FILE", help="the takes as an XMM training set")
    export.add_argument("--xmm-model", metavar="FILE",
                        help="the trained GMM / HHMM as an XMM model")

    from ._commands.importing import add_import_parser
    from .evaluation.cli import add_eval_parser

    add_eval_parser(sub)
    add_import_parser(sub)
    for command in sub.choices.values():  # `gesturemap run DIR --log-level info` works too
        command.add_argument("--log-level", choices=LOG_LEVELS, default=argparse.SUPPRESS,
                             help="log records to print, with time stamps (default warning)")
    p.epilog = ("exit codes: " + "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items())
                + f". {_examples_line()}")
    return p


def _examples_line() -> str:
    """Where the examples are (Pd and Max patches, a training set), for ``--help``."""
    from .utils.data_dirs import examples_dir

    try:
        where = examples_dir()
    except FileNotFoundError as exc:  # a broken installation: say so, --help still works
        return str(exc)
    return (f"Examples (Pure Data and Max patches that talk to gesturemap run, an XMM "
            f"training set): {where}")



def _add_audio_arguments(p: argparse.ArgumentParser, missing: str) -> None:
    """The built-in synth's audio options (default: the project's, else PortAudio's default)."""
    g = p.add_argument_group("audio", f"the built-in synth's output; {missing}")
    g.add_argument("--audio-device", metavar="NAME|INDEX",
                   help="output device: its index, or a part of its name (PortAudio's list)")
    g.add_argument("--sample-rate", type=int, metavar="HZ", help="e.g. 48000")
    g.add_argument("--block-size", type=int, metavar="FRAMES", help="frames per callback, e.g. 128")
    g.add_argument("--audio-latency", metavar="low|high|SECONDS",
                   help="PortAudio's suggested output latency")


def _audio_settings(args: argparse.Namespace, project_synth: dict | None, command: str) -> dict:
    """The audio settings the options ask for, over the project's; exits on a bad value."""
    from .errors import GesturemapError
    from .synth import AudioSettings

    asked: dict = {}
    if args.audio_device is not None:
        text = args.audio_device.strip()
        asked["device"] = int(text) if text.isdigit() else text
    if args.sample_rate is not None:
        asked["samplerate"] = args.sample_rate
    if args.block_size is not None:
        asked["blocksize"] = args.block_size
    if args.audio_latency is not None:
        text = args.audio_latency.strip().lower()
        try:
            asked["latency"] = text if text in ("low", "high") else float(text)
        except ValueError:
            raise SystemExit(f"gesturemap {command}: --audio-latency {args.audio_latency!r}: "
                             "expected low, high or a number of seconds") from None
    settings = {**dict((project_synth or {}).get("audio") or {}), **asked}
    try:
        AudioSettings.from_dict(settings)
    except GesturemapError as exc:
        raise SystemExit(f"gesturemap {command}: {exc}") from None
    return settings


def _host_port(text: str, what: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise SystemExit(f"gesturemap: {what} {text!r}: expected HOST:PORT, e.g. "
                         "127.0.0.1:6448")
    return host or "127.0.0.1", int(port)


def _cmd_new(args: argparse.Namespace) -> int:
    from .project.create import create_project

    _, line = create_project(args.dir, model=args.model, inputs=args.inputs,
                             outputs=args.outputs, preset=args.preset)
    print(line)
    return 0


def _refuse_audio_with_no_audio(args: argparse.Namespace, command: str) -> None:
    """--no-audio with an audio option: one of them would be ignored; say so (exit 2)."""
    given = [f"--{k.replace('_', '-')}" for k in ("audio_device", "sample_rate", "block_size",
                                                    "audio_latency")
             if getattr(args, k, None) is not None]
    if args.no_audio and given:
        raise SystemExit(f"gesturemap {command}: --no-audio and {', '.join(given)}: with no synth "
                         f"there is no audio output to set; leave one of them out.")


def _stage_sensor(args: argparse.Namespace, project: object) -> object:
    """The sensor `gesturemap run` opens (the project's, options over it); exits on a clash."""
    from .sources.settings import stage_sensor

    osc_in = _host_port(args.osc_in, "--osc-in") if args.osc_in else None
    try:
        if args.midi_controls and not args.midi_in:
            raise GesturemapError("--midi-controls: it sets the channels of --midi-in; give "
                                  "--midi-in PORT too, or leave it out.")
        sensor = stage_sensor(getattr(project, "sensor", None), osc_in=osc_in,
                              serial=args.serial, profile=args.profile, midi_in=args.midi_in,
                              lsl_in=args.lsl_in)
        if args.midi_controls:
            from .sources.midi import parse_controls

            sensor.settings["controls"] = list(parse_controls(args.midi_controls))
        return sensor
    except GesturemapError as exc:
        raise SystemExit(f"gesturemap run: {' '.join(str(exc).split())}") from None


def _sinks(args: argparse.Namespace, project: object) -> list:
    """The outputs beside OSC and the synth: MIDI (the project's settings, --midi-out over)."""
    from .outputs.midi import MIDIOutput, output_ranges

    sinks: list = []
    midi = dict((getattr(project, "outputs", None) or {}).get("midi") or {})
    if args.midi_out:
        midi["port"] = args.midi_out
    if midi.get("port"):
        try:
            sinks.append(MIDIOutput(midi, ranges=output_ranges(project)))
        except GesturemapError as exc:
            raise SystemExit(f"gesturemap run: {' '.join(str(exc).split())}") from None
    if args.lsl_out:
        from .outputs.lsl import LSLOutput

        sinks.append(LSLOutput(args.lsl_out, output_names=getattr(project, "output_names", ())
                               or (), source_id=str(getattr(project, "_uid", "gesturemap"))))
    return sinks


def _refuse_busy(folder: str) -> None:
    """One line and no window when another gesturemap process is writing ``folder``."""
    from .project.lock import check_free

    check_free(folder)


class _StoppedEarly(BaseException):
    """SIGTERM or SIGHUP while ``gesturemap run`` starts: the start is abandoned at once, as
    Ctrl-C abandons it (a BaseException, so that no ``except Exception`` on the way takes it
    for a failure)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _cmd_run(args: argparse.Namespace) -> int:
    import signal
    import time

    from ._commands.stage_setup import prepare_log
    from .project import Project
    from .utils.scheduling import tune_process

    _refuse_audio_with_no_audio(args, "run")
    project = Project.load(args.dir)
    _refuse_busy(args.dir)  # before any device opens (the engine's start would refuse too)
    sensor = _stage_sensor(args, project)
    osc_out = _host_port(args.osc_out, "--osc-out") if args.osc_out else None
    # every file and folder the options name, checked (and made) before anything slow starts
    outside([args.stats], [args.dir, args.log], "run")
    if args.stats and not os.access(Path(args.stats).absolute().parent, os.W_OK):
        raise SystemExit(f"gesturemap run: --stats {args.stats}: its folder cannot be written "
                         "to")
    log = prepare_log(args.log)
    # Once the run is up, the handler only flips a flag: an Event set from a signal handler
    # can deadlock, when the signal comes while the main thread holds the Event's own lock
    # inside its wait().
    stopping: list[int] = []
    running = False
    made: list[Any] = []  # the engines made, as soon as each exists (see below)

    def on_signal(signum: int, _frame: object) -> None:
        # Ctrl-C while the run starts (an LSL stream looked for, the audio output opening)
        # ends it at once, as anywhere else in the CLI: nothing plays or records yet. So do
        # SIGTERM and SIGHUP: a service manager waiting for the run to stop, or a closed
        # terminal, would otherwise wait out the whole start (a 5-s look, then its error).
        stopping.append(signum)
        if not running and len(stopping) == 1:  # (once: the cleanup is not cut short)
            raise KeyboardInterrupt if signum == signal.SIGINT else _StoppedEarly(signum)

    # SIGHUP too: its terminal closed (an ssh session dropped on stage) stops the run as
    # Ctrl-C does, the take under way kept and the log closed, not killed mid-write
    hangup = getattr(signal, "SIGHUP", None)  # (not on Windows)
    for sig in (signal.SIGINT, signal.SIGTERM, *([hangup] if hangup else [])):
        signal.signal(sig, on_signal)
    try:  # a run that cannot start leaves no log behind: the same command runs again
        engine = _start_stage_engine(args, project, sensor, osc_out, log, made)
        running = True
    except (KeyboardInterrupt, _StoppedEarly) as stopped:
        # a signal in the engine's start (which then stops what it opened itself), or just
        # as it returned, before `running`: what it opened is closed here
        try:
            if made:
                made[-1].stop()
        finally:
            log.undo()
        if isinstance(stopped, KeyboardInterrupt):
            raise
        try:  # stopped as a running run stops on these signals (0), nothing left behind
            print(f"gesturemap run: stopped ({signal.Signals(stopped.signum).name}) before "
                  "it started", file=sys.stderr, flush=True)
        except OSError:  # the terminal hung up: nobody is there to read it
            pass
        return EXIT_OK
    except BaseException:
        log.undo()
        raise
    if engine is None:
        log.undo()
        return EXIT_NO_AUDIO
    tune_process()  # the stage program's choice (gesturemap.utils.scheduling), not the engine's
    midi_out = "".join(f" and MIDI {s.port_name!r} ({s.backend})" for s in engine.sinks
                       if getattr(s, "port_name", None))
    midi_out += "".join(f" and LSL streams {s.name!r}, {s.name + '-markers'!r}"
                        for s in engine.sinks if hasattr(s, "source_id"))
    print(f"gesturemap run: listening on {_listening(engine, sensor)}, sending to "
          f"{engine.output.settings.host}:{engine.output.settings.port}{midi_out}"
          f"{_running(engine.model, project.output_names) if engine.model else ''}"
          " (Ctrl-C stops)", flush=True)
    try:
        while not stopping:
            time.sleep(0.2)  # the flag is read within 0.2 s of the signal
    finally:
        engine.stop()
    s = engine.stats()
    gaps = s["takes_with_gaps"]  # (each said in the log when it was recorded)
    try:
        print(f"gesturemap run: stopped; {s['frames_in']} frames in, {s['frames_out']} out, "
              f"{s['bad_packets']} bad packets, {s['dropped_frames']} dropped"
              + (f"; {gaps} take{'s' if gaps != 1 else ''} recorded while the sensor was "
                 "away (kept, marked)" if gaps else ""), flush=True)
    except OSError:  # the terminal hung up: everything is saved, nobody is there to read it
        if not (hangup and hangup in stopping):
            raise
    if engine.unsaved() is not None:  # the engine's last try at stop failed too
        from ._commands.unsaved import keep_unsaved

        keep_unsaved(engine, args.dir)
        return EXIT_NOT_SAVED
    return EXIT_OK


def _start_stage_engine(args: argparse.Namespace, project: Any, sensor: Any,
                        osc_out: tuple[str, int] | None, log: LogFolder,
                        made: list[Any]) -> Any:
    """`gesturemap run`'s engine, started with its sources, sinks and synth; None when the
    audio output asked for cannot be opened (said). Each engine made is added to ``made``
    before it starts (the last one is the one that runs)."""
    from ._commands.stage_setup import NoAudio, asked_audio, say_no_audio, stage_synth
    from .live.engine import Engine
    from .sources.settings import build_sensor_source

    factories = []
    if sensor.settings is not None:
        settings = dict(sensor.settings)

        # a host beyond loopback only when the person typed it (--osc-in), never from the file;
        # a frame of another size than the project's is refused, never adopted
        allow_network = bool(getattr(args, "osc_in", None))

        def sensor_factory(queue, on_control):  # noqa: ANN001, ANN202
            return build_sensor_source(settings, queue, on_control,
                                       input_dim=project.input_dim, allow_network=allow_network)

        factories.append(sensor_factory)
    if args.midi_scenes:
        from .sources.midi import MIDISource

        def scenes_factory(queue, on_control):  # noqa: ANN001, ANN202
            return MIDISource(queue, args.midi_scenes, name="midi-scenes",
                              on_control=on_control, frames=False)

        factories.append(scenes_factory)
    synth = None
    no_audio_error: tuple[type[BaseException], ...] = ()  # without a synth, nothing to catch
    if not args.no_audio:  # (importing the synth compiles its kernels on a new machine)
        from .synth import NoAudioDeviceError

        no_audio_error = (NoAudioDeviceError,)
        audio = _audio_settings(args, (project.outputs or {}).get("synth"), "run")
        try:
            synth = stage_synth(args, project, audio)
        except NoAudio:
            return None
    engine_args = dict(project_dir=args.dir, osc_in=sensor.osc_in, osc_out=osc_out,
                       sources=factories, log_dir=args.log, stats_file=args.stats,
                       trainer=args.trainer, sinks=_sinks(args, project), realtime=True)
    engine = Engine(project, **engine_args, synth=synth)
    made.append(engine)
    try:
        engine.start()
    except no_audio_error as exc:  # the device went away since the check, or refused
        log.clear()  # the failed start's log holds no frame: the run's own starts afresh
        try:
            say_no_audio(exc, asked_audio(args))
        except NoAudio:
            return None
        engine = Engine(project, **engine_args)
        made.append(engine)
        engine.start()
    return engine


def _listening(engine: object, sensor: object) -> str:
    """Where frames come from, for the start-up line: the sensor, its port, the control port."""
    from .sources.osc import OSCSource

    ports = " and ".join(f"{src.host}:{src.port}" for src in getattr(engine, "sources", [])
                         if isinstance(src, OSCSource))
    origin = sensor.origin if "sensor" in sensor.origin else f"{sensor.origin} sensor"
    if sensor.settings is None:  # Wekinator's port only
        return f"{ports} for {sensor.describe()} ({sensor.origin})"
    if sensor.settings.get("transport") == "osc":
        return f"{ports} for {sensor.describe()}, {origin}{_network_asked(sensor.settings, ports)}"
    return f"{sensor.describe()}, {origin}{f'; Wekinator OSC on {ports}' if ports else ''}"


def _network_asked(settings: dict, ports: str) -> str:
    """For the start-up line: a sensor saved to listen on the network (the window asked the
    person first) that listens on this machine alone, because a project file never opens a
    port by itself. Without it the phone's packets never arrive and nothing says why."""
    from .sources.osc import is_loopback

    host = str(settings.get("host") or "127.0.0.1")
    if is_loopback(host) or not ports or ports.startswith(f"{host}:"):
        return ""
    port = settings.get("port")
    return (f" (saved for {host}, the network: a project file never opens it;"
            f" --osc-in {host}:{port if port is not None else 'PORT'} does)")


def _running(model: object, output_names: object = None) -> str:
    """What the model runs, for the start-up line: its outputs (regression, one model per
    output) or its classes (classification)."""
    n_out = int(getattr(model, "output_dim_", 0) or 0)
    if n_out:
        names = list(output_names or [])[:n_out]
        listed = f" ({', '.join(map(str, names))})" if len(names) == n_out <= 8 else ""
        return f", running {n_out} output{'s' if n_out != 1 else ''}{listed}"
    n = len(getattr(model, "labels_", []))
    return f", running {n} class{'es' if n != 1 else ''}"


def _cmd_train(args: argparse.Namespace) -> int:
    import time

    from .live.trainer import auto_settings, search_offline
    from .models import selection_of
    from .project import Project, describe_gaps
    from .project.settings import DEFAULT_SEARCH
    from .utils.frame_budget import note_frame_cost

    project = Project.load(args.dir)
    _refuse_busy(args.dir)  # before the training, not at its save
    if args.verifier and args.relabeler:
        raise SystemExit("gesturemap train: --verifier and --relabeler both take the "
                         "verifier's place: give one")
    second_opinions = bool(args.verifier or args.relabeler or args.detector)
    if second_opinions and not args.auto:
        if args.budget is not None:
            raise SystemExit("gesturemap train: --budget is the --auto search's: add --auto")
        return _train_second_opinions(args)
    if not project.takes:
        raise SystemExit(f"gesturemap train: {args.dir} has no takes to train on")
    t0 = time.perf_counter()
    basis = project.training_basis()  # (before the training fits the pipeline)
    search = auto_settings(project.model)
    lines = []  # printed once the model is saved (a closed pipe cannot lose it)
    if args.budget is not None and not (args.auto or search is not None):
        raise SystemExit("gesturemap train: --budget is the --auto search's: add --auto")
    if args.auto or search is not None:
        settings = search or DEFAULT_SEARCH
        budget = args.budget if args.budget is not None else settings["budget_s"]
        model = search_offline(project, budget, settings["margin"])
        sel = selection_of(model) or {}
        for c in sel.get("candidates", []):
            score = "-" if c["cv_score"] is None else f"{c['cv_score']:.3f}"
            fit = "-" if c["fit_seconds"] is None else f"{c['fit_seconds'] * 1e3:.0f} ms"
            lines.append(f"  {score:>6}  fit {fit:>8}  {c['name']}  [{c['status']}]")
        if sel.get("reason"):
            lines.append(f"note: {sel['reason']}")
        score = sel.get("cv_score")
        lines.append(f"chose {sel.get('chosen_name')} (CV "
                     f"{'-' if score is None else f'{score:.3f}'}, "
                     f"{sel.get('cv') or 'no cross-validation'})")
    else:
        project.fit_pipeline()
        dataset = project.dataset()
        model = project.new_model().fit(dataset)
        note_frame_cost(model, dataset)  # (said on stderr, kept with the model)
    notes: list[tuple[str | None, str | None]] = []  # what check_verifier says of the saved project

    def store(now: Any) -> None:  # the project as saved now, under its lock
        if now.training_basis() != basis:
            raise GesturemapError(
                f"{args.dir} changed while the model trained (another process saved takes or "
                "settings): nothing stored; run gesturemap train again")
        now.pipeline, now.trained = project.pipeline, model  # (the pipeline fitted with it)
        notes.append((now.check_verifier(model), now.detector_removed))

    Project.update(args.dir, store)  # what else changed meanwhile (e.g. the name) stays
    removed, detector_removed = notes[0]
    for line in lines:
        print(line)
    if removed:
        print(f"note: the spotting verifier was removed: {removed}")
    if detector_removed:
        print(f"note: the window detector was removed: {detector_removed}")
    for take in project.takes:  # trained on as they are: their frames have a hole
        if take.gaps:
            print(f"note: {take.id} ({take.label}): {describe_gaps(take.gaps)}")
    print(f"trained {type(model).__name__} on {len(project.takes)} takes, "
          f"{_what_was_learned(model, project)} in {(time.perf_counter() - t0) * 1e3:.0f} ms")
    if second_opinions:  # over the model just stored, as gm.auto does with rehearsals
        return _train_second_opinions(args)
    return 0


def _what_was_learned(model: Any, project: Any) -> str:
    """The classes a model learned, or the outputs: a regression's labels only name its takes
    (an imported Wekinator project's are all "take"), and said as classes they misled."""
    names = list(project.output_names or [])
    models = getattr(model, "models_", None)
    if models is not None and len(names) == len(models):  # one model per output
        return "outputs " + ", ".join(
            f"{name} (classes {list(m.labels_)})" if not getattr(m, "output_dim_", 0)
            else f"{name} (values)" for name, m in zip(names, models, strict=True))
    if getattr(model, "output_dim_", 0) and names:
        labels = list(model.labels_)
        return f"outputs {', '.join(names)}" + (f", classes {labels}" if len(labels) > 1 else "")
    return f"classes {model.labels_}"


def _train_second_opinions(args: argparse.Namespace) -> int:
    """The spotting verifier or relabeller (``--verifier``/``--relabeler``), then the window
    detector (``--detector``), each for the model the project holds now: the detector's
    cross-fit spots with the relabeller just stored, as the project will on stage."""
    from .project import Project

    if args.verifier or args.relabeler:
        _train_verifier(Project.load(args.dir), args)
    if args.detector:
        _train_detector(Project.load(args.dir), args)
    return EXIT_OK


def _steps() -> Any:
    """A ``progress`` callback for a long training: on a terminal, each step rewrites one
    line of stderr (cleared at the end with :func:`_steps_done`); elsewhere (a pipe, a log
    file) None, and nothing is printed."""
    if not sys.stderr.isatty():
        return None

    def say(text: str) -> None:
        sys.stderr.write(f"\r\033[K  {text}…")
        sys.stderr.flush()
    return say


def _steps_done(say: Any) -> None:
    if say is not None:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


def _train_detector(project: Any, args: argparse.Namespace) -> int:
    """``gesturemap train DIR --detector RECORDINGS...``: the project's window detector,
    trained on the rehearsals as the project's model sees them (its feature pipeline) and
    stored in its spotting settings."""
    from .evaluation.rehearsal import train_project_detector, verifier_basis

    say = _steps()
    try:
        detector, lines = train_project_detector(project, args.detector, progress=say)
    finally:
        _steps_done(say)
    if detector is None:
        print("\n".join(lines))
        return EXIT_OK
    _store_in_spotting(args.dir, verifier_basis(project), "detector", "detector",
                       detector.to_dict())
    print("\n".join([*lines[:-1], f"stored a window detector in {args.dir}: {lines[-1]}"]))
    return EXIT_OK


def _store_in_spotting(folder: str, basis: str, what: str, key: str, value: Any) -> None:
    """Store ``value`` as the project's spotting setting ``key``, under the project's lock,
    unless what it was trained for changed meanwhile (``basis``: ``verifier_basis`` before
    the training); what else changed meanwhile stays."""
    from .evaluation.rehearsal import verifier_basis
    from .project import Project

    def store(now: Any) -> None:  # the project as saved now, under its lock
        if verifier_basis(now) != basis:
            raise GesturemapError(
                f"{folder} changed while the {what} trained (another process saved its "
                "model, feature pipeline or spotting settings anew): nothing stored; run the "
                "command again")
        now.model = {**now.model, "spotting": {**now.model["spotting"], key: value}}

    Project.update(folder, store)


def _train_verifier(project: object, args: argparse.Namespace) -> int:
    """``gesturemap train DIR --verifier RECORDINGS...`` (or ``--relabeler``): the project's
    spotting verifier (or context relabeller, in its place), saved with the project only when
    chosen (evaluation/rehearsal.py)."""
    from .evaluation.rehearsal import train_project_verifier, verifier_basis

    say = _steps()
    try:
        verifier, line = train_project_verifier(project, args.relabeler or args.verifier,
                                                relabel=bool(args.relabeler), progress=say)
    finally:
        _steps_done(say)
    print(line)
    what = "relabeller" if args.relabeler else "verifier"
    if verifier.cv_["chosen"]:
        _store_in_spotting(args.dir, verifier_basis(project), what, "verifier",
                           verifier.to_dict())
        print(f"stored the {what} in {args.dir} (gestures {', '.join(verifier.classes)})")
    else:
        print(f"nothing stored: {verifier.cv_['reason']}")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from ._commands.exporting import export

    return export(args)


def _cmd_restore(args: argparse.Namespace) -> int:
    from ._commands.restore import restore

    return restore(args)


def _cmd_scene(args: argparse.Namespace) -> int:
    from ._commands.scenes import scene

    return scene(args)


def _cmd_replay(args: argparse.Namespace) -> int:
    from .live.replay import played_project, replay_log

    if args.project is None:
        args.project = played_project(args.log)
        if args.project is None:
            raise SystemExit(f"gesturemap replay: {_unfound_project(args.log)}: give "
                             "--project DIR")
    outside([args.out, args.events], [args.log, args.project], "replay")
    rows = replay_log(args.log, args.project, out=args.out, events_out=args.events)
    print(f"replayed {rows} frames of {args.log} through {args.project}"
          + (f" -> {args.out}" if args.out else "")
          + (f", gestures -> {args.events}" if args.events else ""))
    return 0


def _unfound_project(log: str) -> str:
    """Why the project that played ``log`` was not found (the log says which it was)."""
    from .log import log_project, log_project_uid

    played, uid = log_project(log), log_project_uid(log)
    if played is None:
        return (f"{log} does not say which project played it (a log written without a "
                "project folder, or by an older gesturemap)")
    if uid is None:
        return f"{log} was recorded with {played}, which is no longer there"
    return (f"{log} was played by the project of id {uid}, no longer in {played} nor in the "
            "log's folder or its parents")


def _stacks_on_a_crash() -> None:
    """A crash in a C library (an audio or MIDI driver, a JACK server going away) ends the
    process without a Python traceback: Python's fault handler then writes every thread's
    stack to stderr, what a bug report needs (and nothing at all otherwise)."""
    import faulthandler

    try:
        if sys.stderr is not None and not faulthandler.is_enabled():
            faulthandler.enable()
    except (AttributeError, OSError, ValueError):  # no stderr file (a GUI launcher): none
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the ``gesturemap`` command; returns its exit code (see :data:`EXIT_CODES`)."""
    _printable_stdout()
    _stacks_on_a_crash()
    parser = build_parser()
    args = parser.parse_args(argv)
    _expand_home(args)
    _configure_logging(args.log_level)
    _plain_warnings(f"gesturemap {args.command or 'open'}")
    try:
        return _dispatch(args)
    except SystemExit as exc:
        if isinstance(exc.code, str):  # `raise SystemExit("gesturemap x: ...")`: bad input
            print(exc.code, file=sys.stderr, flush=True)
            return EXIT_USAGE
        raise
    except KeyboardInterrupt:  # Ctrl-C: one line, no traceback (what was saved stays saved)
        print(f"gesturemap {args.command or 'open'}: interrupted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the output piped into a reader that stopped (`| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE_CLOSED  # not bad input: nothing was wrong, and nobody reads on
    except (GesturemapError, OSError) as exc:  # a project, file or device that cannot be used
        text = " ".join(str(exc).split())
        from .sources.osc import PortUnavailable

        if isinstance(exc, PortUnavailable) and args.command in ("run", "open"):
            # the message is the window's too: here, the option that moves the port
            text += " On the command line: --osc-in HOST:PORT (e.g. --osc-in 127.0.0.1:6449)."
        print(f"gesturemap {args.command or 'open'}: {text}", file=sys.stderr, flush=True)
        return EXIT_USAGE


def _expand_home(args: argparse.Namespace) -> None:
    """``~/...`` in a path the shell left as typed, as the home folder it means.

    The shell expands ``~`` only at the start of a word, unquoted: ``--log=~/gigs``, or
    ``"~/My Songs/piece"`` quoted for its space, reached gesturemap as they were typed, and
    made a folder named ``~`` in the current one (which a later ``rm -rf ~`` to tidy it up
    would take for the home folder). Only ``~`` and ``~/...`` are expanded, in every option
    and argument: none of gesturemap's names (classes, ports, streams) starts so."""
    def home(text: str) -> str:
        if text == "~" or text.startswith(("~/", "~" + os.sep)):
            return os.path.expanduser(text)
        return text

    for name, value in vars(args).items():
        if isinstance(value, str):
            setattr(args, name, home(value))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            setattr(args, name, [home(v) for v in value])


def _printable_stdout() -> None:
    """Standard output that never raises on a character its encoding lacks.

    The reports speak in words with dashes, arrows and class names in any script; a terminal
    in a locale that is not UTF-8 (ISO-8859-1, or ASCII with Python's UTF-8 mode off) cannot
    encode all of them, and one such character made the whole command fail with a traceback
    after its work was done. It is shown as ``?`` instead; bytes of a file name that were not
    text go out as they came in (Python's ``surrogateescape``), and stderr already escapes
    what it cannot encode (``backslashreplace``)."""
    import codecs

    def printable(error: UnicodeError) -> tuple[str | bytes, int]:
        try:
            return codecs.lookup_error("surrogateescape")(error)
        except UnicodeError:
            return codecs.lookup_error("replace")(error)

    try:
        codecs.lookup_error("gesturemap-printable")
    except LookupError:
        codecs.register_error("gesturemap-printable", printable)
    reconfigure = getattr(sys.stdout, "reconfigure", None)  # (a test's capture may lack it)
    if reconfigure is not None and sys.stdout.errors in ("strict", "surrogateescape"):
        try:
            reconfigure(errors="gesturemap-printable")
        except (ValueError, OSError):  # closed, or not a text stream it can change: as it is
            pass


def _plain_warnings(prefix: str) -> None:
    """A warning (a damaged take left out, a file read with something skipped) as one line
    ``gesturemap CMD: warning: ...`` on stderr, not Python's file and line of the code; each
    said once (a command that reads the project again, to store onto it as it is now, would
    say every damaged take twice). The training processes it starts say theirs so too."""
    from .utils.terminal import WARNINGS_PREFIX, plain_warnings

    plain_warnings(prefix, _stderr)
    # (inherited by the processes started from here: the trainer's worker reads it)
    os.environ[WARNINGS_PREFIX] = prefix


#: The thread writing what this command says on stderr (None: not started, as in a process
#: whose logging was set up by someone else, a test's).
_stderr: Any = None


def _configure_logging(level: str) -> None:
    """Log records on stderr with a time stamp, from ``level`` up (``--log-level``), written
    by a thread of their own (:mod:`gesturemap.utils.terminal`): a terminal that stops
    reading never stops the engine's frame path at its next log line. As ``basicConfig``,
    nothing changes when the root logger already has a handler."""
    import atexit
    import logging

    global _stderr
    root = logging.getLogger()
    if root.handlers:
        return
    from .utils.terminal import StderrWriter

    if _stderr is None:
        _stderr = StderrWriter()
        atexit.register(_stderr.close)
    root.addHandler(_stderr.handler("%(asctime)s.%(msecs)03d %(levelname)s %(name)s: "
                                    "%(message)s", "%H:%M:%S"))
    root.setLevel(getattr(logging, level.upper()))


def _dispatch(args: argparse.Namespace) -> int:
    if args.command is None:
        from .gui import main as gui_main

        _check_display()
        return gui_main()
    if args.command == "demo":
        from ._commands import demo

        return demo.run(delay_s=args.delay)
    if args.command == "open":
        from .gui import main as gui_main
        from .project import Project

        _refuse_audio_with_no_audio(args, "open")
        osc_in = _host_port(args.osc_in, "--osc-in") if args.osc_in else None
        Project.load(args.dir)  # a missing or damaged project: one line, before any window
        _refuse_busy(args.dir)
        _check_display()
        # the window falls back to no synth (and says so) when the output cannot be opened
        audio = False if args.no_audio else (_audio_settings(args, None, "open") or True)
        return gui_main(args.dir, osc_in=osc_in, trainer=args.trainer, audio=audio)
    if args.command == "devices":
        from ._commands.devices import main as devices_main

        return devices_main(args.lsl_wait)
    if args.command == "bench":
        from . import bench

        return bench.main(args)
    if args.command == "eval":
        from .evaluation.cli import main_eval

        return main_eval(args)
    if args.command == "import":
        from ._commands.importing import main_import

        return main_import(args)
    if args.command == "audit":
        from ._commands.audit import main_audit

        return main_audit(args)
    if args.command == "guide":
        from ._commands.guide import main_guide

        return main_guide(args)
    handlers = {"new": _cmd_new, "run": _cmd_run, "train": _cmd_train, "replay": _cmd_replay,
                "export": _cmd_export, "restore": _cmd_restore, "scene": _cmd_scene}
    return handlers[args.command](args)


def _check_display() -> None:
    """Exit with one line pointing to `run` / `demo` where Qt would abort without a screen."""
    import ctypes.util
    import os

    if not sys.platform.startswith("linux"):
        return
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith(("xcb", "wayland")):
        return  # offscreen, vnc, eglfs...: the user chose
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise SystemExit(
            "gesturemap: no display to open the window on (DISPLAY is not set). Without a "
            "screen, `gesturemap run DIR` plays a project (stage mode) and `gesturemap demo` "
            "shows the models at work; over SSH, use `ssh -X` or set QT_QPA_PLATFORM=offscreen.")
    if not os.environ.get("WAYLAND_DISPLAY") and ctypes.util.find_library("xcb-cursor") is None:
        raise SystemExit(
            "gesturemap: the window needs the X11 library libxcb-cursor0 (apt-get install "
            "libxcb-cursor0; README.md lists every system package). Without a window, "
            "`gesturemap run DIR` plays a project and `gesturemap demo` shows the models.")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
