"""The built-in synth: an FM voice, a granular sample follower and one-shots, on PortAudio.

Threads (DESIGN.md, "Data flow and threads"):

- the **engine thread** calls :meth:`Synth.update` once per frame. It maps the model's result to
  parameter targets (one numba call), detects recognition onsets, and publishes ONE immutable
  :class:`SynthParams` by rebinding ``self._mailbox``. Rebinding an attribute is atomic under
  the GIL, so the audio thread sees either the old object or the new one, never half of one;
  there is no lock, so neither side ever waits for the other.
- the **audio callback** (PortAudio's thread) reads the mailbox once, renders the block with
  :func:`gesturemap.synth._kernels.render` (compiled before the stream starts, allocates
  nothing, releases the GIL) straight into PortAudio's buffer, and records its own duration.
  It never raises: an error gives a silent block, counted (and kept for :meth:`Synth.stop` to
  re-raise when ``GESTUREMAP_RAISE=1``).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._io import check_choice, check_number, validation_error
from ..errors import GesturemapError
from . import _kernels as K
from .mapping import PARAMETERS, SynthMapping, limits
from .sounds import load_sound

log = logging.getLogger("gesturemap.synth")

#: Classes a model may have for one-shot onsets (more are ignored by the one-shots).
MAX_CLASSES = 256
N_GRAIN_SLOTS = 8
#: Callbacks (about 85 ms at 128 frames, 48 kHz) whose underruns count as the stream's start-up.
STARTUP_CALLBACKS = 32
N_VOICES = 8
GRAIN_MS = 60.0
GRAIN_OVERLAP = 4
CEILING_DBFS = -1.0
LIMITER_RELEASE_MS = 80.0
_EMPTY = K.readonly(np.zeros(0))


class NoAudioDeviceError(GesturemapError):
    """No audio output device could be opened."""


@dataclass(frozen=True)
class AudioSettings:
    """Where and how the synth plays.

    Parameters
    ----------
    device : int or str or None
        PortAudio output device (index or a part of its name); None: the default device.
    samplerate : int
        Hz.
    blocksize : int
        Frames per callback (0: whatever the host API prefers).
    latency : "low", "high" or float
        PortAudio's suggested output latency (seconds when a number).
    channels : int
        Output channels (each gets the same mono signal).
    """

    device: int | str | None = None
    samplerate: int = 48000
    blocksize: int = 128
    latency: str | float = "low"
    channels: int = 2

    def __post_init__(self) -> None:
        check_number(
            "audio samplerate", self.samplerate, minimum=8000, maximum=384000, integer=True
        )
        check_number("audio blocksize", self.blocksize, minimum=0, maximum=8192, integer=True)
        check_number("audio channels", self.channels, minimum=1, maximum=64, integer=True)
        if isinstance(self.latency, str):
            check_choice("audio latency", self.latency, ["low", "high"])
        else:
            check_number("audio latency", self.latency, minimum=0.0, maximum=2.0)
        if self.device is not None and not isinstance(self.device, (int, str)):
            raise validation_error("audio device", self.device, "a device index or name")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> AudioSettings:
        d = dict(d or {})
        extra = set(d) - set(cls.__dataclass_fields__)
        if extra:
            raise validation_error(
                "synth audio settings",
                sorted(extra),
                f"keys among {sorted(cls.__dataclass_fields__)}",
            )
        return cls(**d)


@dataclass(frozen=True, slots=True)
class SynthConfig:
    """What changes only with the mapping or the sounds (read-only arrays, shared)."""

    coef: np.ndarray  # (N_PARAMS,) smoothing coefficient per sample
    limits: np.ndarray  # (2, N_PARAMS)
    consts: np.ndarray  # (N_CONSTS,)
    follower: np.ndarray  # (N,) float32
    window: np.ndarray  # (grain,) float64
    bank: np.ndarray  # (M,) float32: one-shot sounds back to back
    bank_offsets: np.ndarray  # (sounds + 1,) int64
    bank_names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SynthParams:
    """The one object the engine thread hands to the audio callback (never mutated)."""

    targets: np.ndarray  # (N_PARAMS,) float64
    triggers: np.ndarray  # (MAX_CLASSES,) int64: onsets so far, per class
    class_sound: np.ndarray  # (MAX_CLASSES,) int64: sound per class, -1 none
    config: SynthConfig


class _Ring:
    """The last ``n`` callback durations (written by the callback, read off the audio path)."""

    def __init__(self, n: int = 16384) -> None:
        self.buf = np.zeros(n)
        self.i = 0
        self.count = 0

    def percentile(self, q: float) -> float | None:
        n = min(self.count, len(self.buf))
        return float(np.percentile(self.buf[:n], q)) if n else None


class Synth:
    """The built-in synth.

    Parameters
    ----------
    mapping : SynthMapping or dict or None
        Which result drives which parameter (``None``: :meth:`SynthMapping.default`). A dict
        is the project's ``outputs["synth"]`` (it may hold an ``"audio"`` entry).
    audio : AudioSettings or dict, optional
        Device, sample rate, block size, latency, channels (overrides ``mapping["audio"]``).
    base_dir : path, optional
        Where relative sound file paths are found (the project folder).

    Examples
    --------
    >>> synth = Synth()
    >>> synth.set_parameters(pitch_hz=440.0, loudness=0.5)
    >>> block = synth.render(4800)  # offline, no device needed
    """

    def __init__(
        self,
        mapping: SynthMapping | Mapping[str, Any] | None = None,
        *,
        audio: AudioSettings | Mapping[str, Any] | None = None,
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        audio_dict = None
        if isinstance(mapping, Mapping):
            audio_dict = mapping.get("audio")
        if audio is None:
            audio = AudioSettings.from_dict(audio_dict)
        elif not isinstance(audio, AudioSettings):
            audio = AudioSettings.from_dict({**dict(audio_dict or {}), **dict(audio)})
        self.audio = audio
        self.base_dir = base_dir
        self.rate = float(audio.samplerate)
        self._stream: Any = None
        self.exception: BaseException | None = None
        # audio-thread state (written only by the callback, or before the stream starts)
        self._cur = np.zeros((2, K.N_PARAMS))
        self._st = np.zeros(K.N_STATE)
        self._seen = np.zeros(MAX_CLASSES, dtype=np.int64)
        self._g_pos = np.zeros(N_GRAIN_SLOTS)
        self._g_age = np.full(N_GRAIN_SLOTS, -1, dtype=np.int64)
        self._v_pos = np.zeros(N_VOICES, dtype=np.int64)
        self._v_end = np.zeros(N_VOICES, dtype=np.int64)
        self.counters = np.zeros(K.N_COUNTERS, dtype=np.int64)
        self._cb_ns = _Ring()
        self.audio_callbacks = 0
        self.audio_underruns = 0
        self.audio_startup_underruns = 0
        self.callback_errors = 0
        # engine-thread state
        self._triggers = np.zeros(MAX_CLASSES, dtype=np.int64)
        self._triggers_ro = K.readonly(self._triggers.copy())
        self._names: Any = None
        self._onset_class = -1
        self._last_onset = -1e9
        self.update_errors = 0
        self._last_error_log = 0.0
        self.set_mapping(mapping)
        K.reset(self._cur, self._st, self._g_age, self._v_pos, self._v_end)

    # -- configuration (any thread but the audio one) -------------------------------------------
    def set_mapping(self, mapping: SynthMapping | Mapping[str, Any] | None) -> None:
        """Use a new mapping (and load its sounds) from the next block on; parameters glide."""
        if not isinstance(mapping, SynthMapping):
            mapping = SynthMapping.from_dict(mapping)
        self.mapping = mapping
        fs = self.rate
        tau_s = mapping.smoothing_ms() / 1e3
        coef = np.where(tau_s > 0, np.exp(-1.0 / np.maximum(tau_s * fs, 1e-9)), 0.0)
        glen = int(GRAIN_MS / 1e3 * fs)
        window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(glen) / glen)
        consts = np.zeros(K.N_CONSTS)
        consts[K.K_RATE] = fs
        consts[K.K_CEILING] = 10 ** (CEILING_DBFS / 20)
        consts[K.K_RELEASE] = np.exp(-1.0 / (LIMITER_RELEASE_MS / 1e3 * fs))
        consts[K.K_HOP] = glen // GRAIN_OVERLAP
        consts[K.K_GRAIN_NORM] = 2.0 / GRAIN_OVERLAP  # Hann windows overlapping 4x sum to 2
        consts[K.K_JITTER] = 0.005 * fs
        if mapping.follower_sound is not None:
            follower = load_sound(mapping.follower_sound, fs, self.base_dir)
        else:
            follower = np.zeros(0, dtype=np.float32)
        names = sorted(set(mapping.oneshots.values()))
        sounds = [load_sound(n, fs, self.base_dir) for n in names]
        offsets = np.zeros(len(sounds) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(s) for s in sounds])
        bank = np.concatenate(sounds) if sounds else np.zeros(0, dtype=np.float32)
        self._base = K.readonly(mapping.base_values())
        self._config = SynthConfig(
            K.readonly(coef),
            limits(),
            K.readonly(consts),
            K.readonly(follower),
            K.readonly(window),
            K.readonly(bank.astype(np.float32)),
            K.readonly(offsets),
            tuple(names),
        )
        self._names = None  # route table and one-shots are rebuilt for the current classes
        self._bind_classes([])
        self._publish(self._base)

    def _bind_classes(self, class_names: Sequence[Any]) -> None:
        names = [str(c) for c in class_names]
        self._table = self.mapping.route_table(names)
        class_sound = np.full(MAX_CLASSES, -1, dtype=np.int64)
        index = {n: i for i, n in enumerate(self._config.bank_names)}
        for i, n in enumerate(names[:MAX_CLASSES]):
            sound = self.mapping.oneshots.get(n)
            if sound is not None:
                class_sound[i] = index[sound]
        self._class_sound = K.readonly(class_sound)
        self._names = class_names
        self._onset_class = -1

    def _publish(self, targets: np.ndarray) -> None:
        self._mailbox = SynthParams(targets, self._triggers_ro, self._class_sound, self._config)

    def set_parameters(self, **values: float) -> None:
        """Set parameters directly (by name), e.g. to audition a sound or to record
        "mapping by demonstration". Routes take over again at the next :meth:`update`."""
        targets = self._mailbox.targets.copy()
        for name, v in values.items():
            spec = PARAMETERS.get(name)
            if spec is None:
                raise validation_error("synth parameter", name, "one of " + ", ".join(PARAMETERS))
            targets[spec.index] = float(v)  # NaN allowed: the render kernel answers with silence
        self._publish(K.readonly(targets))

    def trigger(self, class_index: int) -> None:
        """Start class ``class_index``'s one-shot sound now (as a recognition onset does)."""
        self._triggers[class_index] += 1
        self._triggers_ro = K.readonly(self._triggers.copy())
        self._publish(self._mailbox.targets)

    # -- the engine thread ----------------------------------------------------------------------
    def update(self, result: Any, class_names: Sequence[Any]) -> None:
        """Map one frame's result to the synth (engine thread, once per frame; never raises).

        Parameters
        ----------
        result : gesturemap.models.base.Result
        class_names : sequence
            The model's labels, in ``result``'s order (pass the same list object every frame:
            the route table is rebuilt only when it changes).
        """
        try:
            if class_names is not self._names:
                self._bind_classes(class_names)
            lik = result.likelihoods
            out = result.output if result.output is not None else _EMPTY
            prog = result.progress if result.progress is not None else _EMPTY
            targets = np.empty(K.N_PARAMS)
            li = int(result.label_index)
            K.map_routes(self._table, self._base, out, lik, prog, li, targets)
            targets.flags.writeable = False
            # recognition onset: the likeliest class crosses the threshold (hysteresis + a
            # minimum interval, so a wavering likelihood does not retrigger)
            m = self.mapping
            p = float(lik[li])
            if self._onset_class != -1 and (p < m.onset_release or li != self._onset_class):
                self._onset_class = -1
            if p >= m.onset_threshold and self._onset_class == -1 and li < MAX_CLASSES:
                now = time.perf_counter()
                if (now - self._last_onset) * 1e3 >= m.onset_min_interval_ms:
                    self._onset_class = li
                    self._last_onset = now
                    self._triggers[li] += 1
                    self._triggers_ro = K.readonly(self._triggers.copy())
            self._mailbox = SynthParams(targets, self._triggers_ro, self._class_sound, self._config)
        except Exception as exc:  # the frame path never raises
            self.update_errors += 1
            now = time.monotonic()
            if now - self._last_error_log > 1.0:
                self._last_error_log = now
                log.warning("synth update failed: %s", exc)
            if os.environ.get("GESTUREMAP_RAISE") == "1":
                self.exception = self.exception or exc

    # -- rendering --------------------------------------------------------------------------------
    def _render_into(self, out: np.ndarray) -> None:
        p = self._mailbox
        c = p.config
        K.render(
            out,
            p.targets,
            p.triggers,
            p.class_sound,
            c.coef,
            c.limits,
            c.consts,
            c.follower,
            c.window,
            c.bank,
            c.bank_offsets,
            self._cur,
            self._st,
            self._seen,
            self._g_pos,
            self._g_age,
            self._v_pos,
            self._v_end,
            self.counters,
        )

    def render(self, frames: int, blocksize: int = 128) -> np.ndarray:
        """Render ``frames`` samples offline, block by block, as the callback would.

        Returns
        -------
        numpy.ndarray, shape (frames, channels), float32
        """
        out = np.zeros((frames, self.audio.channels), dtype=np.float32)
        for i in range(0, frames, blocksize):
            self._render_into(out[i : i + blocksize])
        return out

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        t0 = time.perf_counter_ns()
        try:
            if status.output_underflow:
                # JACK reports one xrun while PortAudio connects the new client's ports: the
                # first blocks' underruns are counted apart, as start-up
                if self.audio_callbacks < STARTUP_CALLBACKS:
                    self.audio_startup_underruns += 1
                else:
                    self.audio_underruns += 1
            self._render_into(outdata)
        except BaseException as exc:  # one escaped exception would silence PortAudio for good
            outdata.fill(0)
            self.callback_errors += 1
            if self.exception is None:
                self.exception = exc
        self.audio_callbacks += 1
        ring = self._cb_ns
        ring.buf[ring.i] = (time.perf_counter_ns() - t0) * 1e-3
        ring.i = (ring.i + 1) % len(ring.buf)
        ring.count += 1

    @property
    def follower_position(self) -> float:
        """Where the sample follower reads now, 0..1 of its sound."""
        n = len(self._config.follower)
        return float(self._st[K.S_FOLLOW] / (n - 1)) if n > 1 else 0.0

    # -- device -----------------------------------------------------------------------------------
    def start(self) -> Synth:
        """Open the output device and start playing.

        Raises
        ------
        NoAudioDeviceError
            If PortAudio is missing, sees no output device, or cannot open the one asked for.
        """
        try:
            import sounddevice as sd
        except OSError as exc:
            raise NoAudioDeviceError(
                f"cannot load PortAudio ({exc}): install it (Debian/Ubuntu: apt-get install "
                "libportaudio2), or run with --no-audio"
            ) from exc
        a = self.audio
        try:
            outputs = [d for d in sd.query_devices() if d["max_output_channels"] > 0]
        except Exception as exc:
            raise NoAudioDeviceError(
                f"PortAudio cannot list audio devices ({exc}); run with --no-audio"
            ) from exc
        if not outputs:
            raise NoAudioDeviceError(
                "no audio output device found: PortAudio sees none. Connect a sound card, start "
                "a JACK server (e.g. jackd -d dummy), or run with --no-audio."
            )
        # warm the kernels (compiled at import; this touches the cache-loaded code once)
        self.render(a.blocksize or 128)
        try:
            stream = sd.OutputStream(
                samplerate=a.samplerate,
                blocksize=a.blocksize,
                device=a.device,
                channels=a.channels,
                dtype="float32",
                latency=a.latency,
                callback=self._callback,
            )
            stream.start()
        except Exception as exc:
            names = ", ".join(
                f"{i}: {d['name']}"
                for i, d in enumerate(sd.query_devices())
                if d["max_output_channels"] > 0
            )
            raise NoAudioDeviceError(
                f"cannot open audio device {a.device!r} at {a.samplerate} Hz, {a.channels} "
                f"channels, block {a.blocksize}: {exc}. Output devices: {names}. Choose another "
                "device, sample rate or block size, or run with --no-audio."
            ) from exc
        # hand the GIL to the audio thread within 0.5 ms rather than 5 ms (as the engine does)
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.0005))
        self._stream = stream
        return self

    def stop(self) -> None:
        """Stop playing (fades nothing: call ``set_parameters(master_gain=0)`` first for a
        graceful end) and re-raise a callback error when ``GESTUREMAP_RAISE=1``."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()
            stream.close()
        if self.exception is not None and os.environ.get("GESTUREMAP_RAISE") == "1":
            exc, self.exception = self.exception, None
            raise exc

    @property
    def running(self) -> bool:
        return self._stream is not None and bool(self._stream.active)

    def __enter__(self) -> Synth:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stats(self) -> dict[str, Any]:
        """Health counters (any thread): callbacks, underruns, callback time p50/p99 (µs)..."""
        c = self.counters
        return {
            "audio_callbacks": self.audio_callbacks,
            "audio_underruns": self.audio_underruns,
            "callback_us_p50": self._cb_ns.percentile(50),
            "callback_us_p99": self._cb_ns.percentile(99),
            "audio_startup_underruns": self.audio_startup_underruns,
            "audio_callback_errors": self.callback_errors,
            "audio_bad_parameter_blocks": int(c[K.C_BAD_PARAMS]),
            "audio_bad_output_blocks": int(c[K.C_BAD_OUTPUT]),
            "audio_limited_samples": int(c[K.C_LIMITED]),
            "oneshots_played": int(c[K.C_ONESHOTS]),
            "oneshots_dropped": int(c[K.C_DROPPED]),
            "synth_update_errors": self.update_errors,
        }
