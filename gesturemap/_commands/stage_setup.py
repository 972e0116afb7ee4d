"""What ``gesturemap run`` checks and prepares before its engine starts, so that a folder
or device that cannot be used is said at once, not after a start-up of seconds: the session
log's folder (made if it does not exist) and the audio output."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["LogFolder", "NoAudio", "asked_audio", "empty_log", "prepare_log", "say_no_audio",
           "stage_synth"]


class LogFolder:
    """``--log``'s folder as :func:`prepare_log` left it, so that a run that could not start
    leaves nothing behind: the same command, run again once the cause is mended (a port
    freed, a device plugged in), logs there."""

    def __init__(self, path: Path | None, fresh: bool, made: list[Path]) -> None:
        self.path = path
        #: new or empty before: what the failed start wrote there may go
        self.fresh = fresh
        #: the folders made for it, deepest first
        self.made = made

    def clear(self) -> bool:
        """Clear what a start that failed wrote (the folder stays). False: nothing to clear
        (no log, or the folder held files of its own before)."""
        if self.path is None or not self.fresh or not self.path.is_dir():
            return False
        empty_log(self.path)
        return True

    def undo(self) -> None:
        """Clear what a start that failed wrote, and remove the folders made for it."""
        if not self.clear():
            return
        for folder in self.made:
            try:
                folder.rmdir()
            except OSError:  # something else was put there meanwhile: left as it is
                break


def prepare_log(folder: str | None) -> LogFolder:
    """Make ``--log``'s folder (and its parents) before anything slow starts, and refuse one
    that cannot take the session's log."""
    from ..log import SESSION_FILE

    if folder is None:
        return LogFolder(None, False, [])
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise SystemExit(f"gesturemap run: --log {folder} is a file: give a folder (it is "
                         "created if it does not exist)")
    if (path / SESSION_FILE).exists():
        raise SystemExit(f"gesturemap run: --log {folder} already holds a session log: give "
                         f"a new folder, e.g. {path.name or 'session'}-2 or one named by the date")
    fresh = not path.exists() or not any(path.iterdir())
    made = [p for p in (path.absolute(), *path.absolute().parents) if not p.exists()]
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SystemExit(f"gesturemap run: --log {folder}: cannot create it ({exc.strerror}); "
                         "give a folder you can write to") from None
    log = LogFolder(path, fresh, made)
    if not os.access(path, os.W_OK):
        log.undo()
        raise SystemExit(f"gesturemap run: --log {folder} cannot be written to: give a folder "
                         "you can write to")
    return log


def empty_log(folder: Path) -> None:
    """Empty the session log a run that could not start wrote into ``folder`` (new or empty
    before it), so that the run started again can log there."""
    import shutil

    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def stage_synth(args: argparse.Namespace, project: Any, audio: dict) -> Any:
    """The synth `gesturemap run` plays on the output ``audio`` asks for (None: there is no
    output and none was asked for). The output is checked here, before the engine's slow
    start: one asked for that cannot be opened raises :class:`NoAudio` at once."""
    from ..synth import NoAudioDeviceError, Synth, check_output

    try:
        check_output(audio)
    except NoAudioDeviceError as exc:
        say_no_audio(exc, asked_audio(args))
        return None
    # no mapping saved (None): the default for the model that plays, whatever its kind
    return Synth((project.outputs or {}).get("synth"), audio=audio, base_dir=args.dir)


class NoAudio(Exception):
    """The audio output asked for cannot be opened (exit code EXIT_NO_AUDIO)."""


def asked_audio(args: argparse.Namespace) -> bool:
    """Whether the command line asks for an audio output (a device, rate, block, latency)."""
    return any(v is not None for v in (args.audio_device, args.sample_rate, args.block_size,
                                       args.audio_latency))


def say_no_audio(exc: BaseException, asked: bool) -> None:
    """One line on stderr: the output asked for cannot be opened (then raise NoAudio), or
    there is no sound card and nothing was asked: the mapping runs over OSC anyway."""
    message = " ".join(str(exc).split())
    if asked:
        print(f"gesturemap run: {message}", file=sys.stderr, flush=True)
        raise NoAudio
    print(f"gesturemap run: no audio ({message}); running without the synth.",
          file=sys.stderr, flush=True)
