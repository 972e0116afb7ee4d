"""Sounds for the sample follower and the one-shots: the built-in ones and the user's files.

The built-in sounds are synthesised here with numpy (:func:`make_builtin_sounds`) and shipped as
16-bit WAV files in ``gesturemap/synth/sounds/`` (regenerate them with
``python -m gesturemap.synth.sounds``). They are the project's own work, under its licence.
Loading a sound (:func:`load_sound`) mixes it to mono, resamples it to the synth's rate, replaces
non-finite samples by 0 and fades its two ends over 2 ms, so no file can make the synth click.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..utils.storage import atomic_write_bytes
from ..utils.validation import validation_error

SOUNDS_DIR = Path(__file__).resolve().parent / "sounds"
BUILTIN_RATE = 48000
#: Longest sound accepted, in seconds (the whole sound is kept in memory).
MAX_SECONDS = 120.0
_FADE_S = 0.002
_READ_BLOCK = 1 << 16  # frames read at a time


def builtin_sounds() -> list[str]:
    """Names of the sounds shipped with gesturemap (``pad``, ``bell``…)."""
    return sorted(p.stem for p in SOUNDS_DIR.glob("*.wav"))


def _fade(x: np.ndarray, rate: float, seconds: float = _FADE_S) -> np.ndarray:
    n = min(len(x) // 2, max(1, int(seconds * rate)))
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n))
    x[:n] *= ramp
    x[len(x) - n :] *= ramp[::-1]
    return x


def _unreadable(text: str, path: Path, exc: BaseException) -> Exception:
    return validation_error(
        "sound",
        text,
        "a WAV, FLAC or OGG file libsndfile can read",
        f"Reading {path} failed: {exc}",
    )


def check_sound(
    name: str | os.PathLike[str], base_dir: str | os.PathLike[str] | None = None
) -> tuple[Path, str]:
    """Where sound ``name`` is, after checking that it exists and is not too long (reads the
    file's header only: cheap enough for a window to check before it applies a mapping).

    Returns
    -------
    path : pathlib.Path
    text : str
        ``name`` as given.

    Raises
    ------
    GesturemapError
        If the file is missing, unreadable, holds fewer than 2 samples or is longer than
        :data:`MAX_SECONDS`.
    """
    import soundfile as sf

    text = os.fspath(name)
    key = text.removeprefix("builtin:")
    if key in builtin_sounds():
        path = SOUNDS_DIR / f"{key}.wav"
    else:
        path = Path(text).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
    if not path.is_file():
        raise validation_error(
            "sound",
            text,
            "a built-in sound (" + ", ".join(builtin_sounds()) + ") or an existing WAV/FLAC file",
            f"No file at {path}.",
        )
    try:
        info = sf.info(str(path))
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise _unreadable(text, path, exc) from exc
    # refused here, not only as it loads: the window checks a mapping with this alone before
    # it applies it, and a sound refused later would leave the synth on the old mapping while
    # the project keeps one that stops the next `gesturemap run`
    if info.frames < 2:
        raise validation_error("sound", text, "a sound with at least 2 samples")
    if info.frames > MAX_SECONDS * info.samplerate:
        raise validation_error(
            "sound",
            text,
            f"at most {MAX_SECONDS:g} s",
            f"It lasts {info.frames / info.samplerate:.1f} s: trim it.",
        )
    return path, text


def check_mapping_sounds(
    settings: Mapping[str, Any], base_dir: str | os.PathLike[str] | None = None
) -> None:
    """:func:`check_sound` for every sound a synth mapping's settings
    (:meth:`SynthMapping.to_dict`) name: the follower's and the one-shots'.

    Raises
    ------
    GesturemapError
        For the first sound that is missing, unreadable, empty or too long.
    """
    names = {settings.get("follower_sound", "pad"), *(settings.get("oneshots") or {}).values()}
    for name in sorted(names - {None}):
        check_sound(name, base_dir)


def load_sound(
    name: str | os.PathLike[str], samplerate: float, base_dir: str | os.PathLike[str] | None = None
) -> np.ndarray:
    """Load a sound as mono float32 at ``samplerate``.

    Parameters
    ----------
    name : str or path
        A built-in sound name (``"pad"``, also ``"builtin:pad"``) or a WAV/FLAC/OGG file.
    samplerate : float
        The synth's sample rate; the sound is resampled to it.
    base_dir : path, optional
        Where relative file paths are looked up (the project folder).

    Returns
    -------
    numpy.ndarray, shape (N,), float32

    Raises
    ------
    GesturemapError
        If the file is missing, unreadable, empty or longer than :data:`MAX_SECONDS`.
    """
    import soundfile as sf

    path, text = check_sound(name, base_dir)
    try:
        # mixed to mono block by block: read whole, a 2-minute 8-channel 96 kHz file took a
        # gigabyte for the moment it loads, in the process that plays the sound
        with sf.SoundFile(str(path)) as f:
            rate = f.samplerate
            blocks = f.blocks(blocksize=_READ_BLOCK, dtype="float64", always_2d=True)
            parts = [block.mean(axis=1) for block in blocks]
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise _unreadable(text, path, exc) from exc
    mono = np.concatenate(parts) if parts else np.zeros(0)
    del parts
    if len(mono) < 2:
        raise validation_error("sound", text, "a sound with at least 2 samples")
    mono[~np.isfinite(mono)] = 0.0
    if rate != samplerate:
        from fractions import Fraction

        from scipy.signal import resample_poly

        ratio = Fraction(int(round(samplerate)), int(rate)).limit_denominator(1000)
        mono = resample_poly(mono, ratio.numerator, ratio.denominator)
    mono = np.clip(mono, -1.0, 1.0)
    return _fade(mono, samplerate).astype(np.float32)


# -- the built-in sounds ---------------------------------------------------------------------------
def _normalise(x: np.ndarray, peak_db: float = -3.0) -> np.ndarray:
    return x * (10 ** (peak_db / 20) / np.max(np.abs(x)))


def _pad(rate: int) -> np.ndarray:
    """3 s: a warm tone gliding up an octave (220 -> 440 Hz, exponential) with a slow swell, so
    a listener hears where in the sound the gesture is."""
    t = np.arange(int(3.0 * rate)) / rate
    f = 220.0 * 2.0 ** (t / 3.0)
    phase = 2 * np.pi * np.cumsum(f) / rate
    x = sum((0.6**h) * np.sin((h + 1) * phase) for h in range(6))
    x *= 0.7 + 0.3 * np.sin(2 * np.pi * 0.5 * t)
    return x


def _bell(rate: int) -> np.ndarray:
    """1.5 s FM bell (inharmonic ratio 1.4, index decaying with the amplitude)."""
    t = np.arange(int(1.5 * rate)) / rate
    env = np.exp(-t * 3.0)
    return env * np.sin(2 * np.pi * 660 * t + 4.0 * env * np.sin(2 * np.pi * 660 * 1.4 * t))


def _pluck(rate: int) -> np.ndarray:
    """0.8 s plucked string (Karplus-Strong at 196 Hz, seeded noise)."""
    n = int(0.8 * rate)
    period = int(round(rate / 196.0))
    rng = np.random.default_rng(5)
    buf = rng.uniform(-1, 1, period)
    out = np.empty(n)
    for i in range(n):
        j = i % period
        out[i] = buf[j]
        buf[j] = 0.996 * 0.5 * (buf[j] + buf[(j + 1) % period])
    return out


def _wood(rate: int) -> np.ndarray:
    """0.25 s woodblock: a noise burst through two resonators."""
    from scipy.signal import lfilter

    n = int(0.25 * rate)
    rng = np.random.default_rng(7)
    burst = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.002 * rate))
    out = np.zeros(n)
    for f, r in ((900.0, 0.9985), (2300.0, 0.997)):
        w = 2 * np.pi * f / rate
        out += lfilter([1 - r], [1, -2 * r * np.cos(w), r * r], burst)
    return out


def _chime(rate: int) -> np.ndarray:
    """1.2 s chime: inharmonic partials, the higher ones dying sooner."""
    t = np.arange(int(1.2 * rate)) / rate
    partials = ((1.0, 1.0, 2.0), (2.76, 0.5, 3.5), (5.4, 0.25, 6.0), (8.93, 0.12, 9.0))
    return sum(a * np.exp(-t * d) * np.sin(2 * np.pi * 880 * r * t) for r, a, d in partials)


BUILTINS = {"pad": _pad, "bell": _bell, "pluck": _pluck, "wood": _wood, "chime": _chime}


def make_builtin_sounds(
    folder: str | os.PathLike[str] = SOUNDS_DIR, rate: int = BUILTIN_RATE
) -> list[Path]:
    """Synthesise the built-in sounds and write them as 16-bit WAV files into ``folder``.

    Returns
    -------
    list of pathlib.Path
        The files written (atomically).
    """
    import io

    import soundfile as sf

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in BUILTINS.items():
        x = _fade(_normalise(make(rate)), rate, 0.003)
        buf = io.BytesIO()
        sf.write(buf, x, rate, format="WAV", subtype="PCM_16")
        path = folder / f"{name}.wav"
        atomic_write_bytes(path, buf.getvalue())
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    for p in make_builtin_sounds():
        print(p)
