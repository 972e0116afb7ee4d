"""The built-in synth: an FM voice, a granular sample follower and one-shots, on PortAudio.

Threads (docs/architecture.md, "The one-way data flow"):

- the **engine thread** calls :meth:`Synth.update` once per frame. It maps the model's result to
  parameter targets (one numba call) and copies them into the array the audio callback reads,
  and counts recognition onsets into another (one aligned 64-bit store each). Nothing waits.
- the **audio callback** is compiled C (:func:`gesturemap.synth._callback.callback`, a numba
  ``cfunc`` that PortAudio calls directly): it never takes Python's GIL, so no Python thread —
  however busy, however descheduled by the OS while holding the GIL — can make it late. It reads
  the targets, the trigger counts and the current config row through one control table,
  renders with :func:`gesturemap.synth._kernels.render` straight into PortAudio's buffer, and
  counts callbacks, underruns and its own duration. It allocates nothing and cannot raise.
- what changes with the mapping or the model's classes (sounds, smoothing, class -> sound) is
  published as a new config row (see :mod:`gesturemap.synth._callback` for why that is safe
  without a lock on the audio side); publishers (engine thread, window) share a Python lock.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import GesturemapError
from ..outputs.closeness import closeness
from ..outputs.rejection import below, rejected
from ..utils.faults import raise_mode
from ..utils.validation import check_choice, check_mapping, check_number, validation_error
from . import _callback as C
from . import _kernels as K
from .mapping import PARAMETERS, SynthMapping, limits, saves_mapping
from .sounds import load_sound

log = logging.getLogger("gesturemap.synth")

#: Classes a model may have for one-shot onsets (more are ignored by the one-shots).
MAX_CLASSES = 256
N_GRAIN_SLOTS = 8
N_VOICES = 8
GRAIN_MS = 60.0
GRAIN_OVERLAP = 4
CEILING_DBFS = -1.0
LIMITER_RELEASE_MS = 80.0
_EMPTY = K.readonly(np.zeros(0))
_EMPTY_F32 = np.zeros(1, dtype=np.float32)  # a valid address for an empty sound
#: Synths whose stream is open. PortAudio's thread reads their arrays through raw pointers, so
#: a playing synth must never be garbage-collected: it stays here until stop().
_PLAYING: set[Any] = set()


#: Synths whose audio server went away, with their streams: never stopped nor freed (see
#: :meth:`Synth.stop`).
_LOST: list[tuple[Any, Any]] = []


def _stream_lost(stream: Any) -> bool:
    """A stream that was started and is no longer active, though nobody stopped it."""
    try:
        return not stream.stopped and not stream.active
    except Exception:  # a stream PortAudio no longer knows
        return True


def _leave_portaudio() -> None:
    """Keep sounddevice's exit handler from terminating PortAudio, which waits for the dead
    server's stream for ever (the process would not end)."""
    import sounddevice as sd

    sd._initialized = 0


@atexit.register
def _stop_all() -> None:
    """Stop every stream before the interpreter frees the arrays they read."""
    for synth in list(_PLAYING):
        try:
            synth.stop()
        except Exception:  # exiting anyway
            pass


class NoAudioDeviceError(GesturemapError):
    """No audio output device could be opened.

    The message says what is wrong and what to type (``--no-audio``...); :attr:`problem` says
    only what is wrong, for a window to add what to do in its own words.
    """

    def __init__(self, message: str, problem: str | None = None) -> None:
        super().__init__(message)
        self.problem = " ".join((problem or message).split())


#: How :attr:`NoAudioDeviceError.problem` begins when PortAudio sees no output device at all.
NO_OUTPUT_DEVICE = "no audio output device found"


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
        return cls(**check_mapping("synth audio settings", d, cls.__dataclass_fields__))


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


def _refuse_a_silent_jack() -> None:
    """Raise :class:`NoAudioDeviceError` when a JACK server took the connection and does not
    answer (one hung, or still starting): PortAudio asks it for its devices as it starts, and
    opens a stream through it, and either waited for ever, freezing a run's start and
    `gesturemap devices`. Asked before PortAudio is, on a thread of its own with a bound
    (:func:`~gesturemap.utils.midi_ports.jack_answers`)."""
    from ..utils.midi_ports import SILENT, jack_answers

    if jack_answers() is None:
        problem = f"{SILENT}: PortAudio would wait on it for ever"
        raise NoAudioDeviceError(
            f"{problem}; restart the JACK server, or run with --no-audio", problem)


def output_devices() -> tuple[Any, list[dict[str, Any]]]:
    """The sounddevice module and the output devices PortAudio sees (at least one).

    Raises
    ------
    NoAudioDeviceError
        If PortAudio is missing or sees no output device (saying what to do), or a JACK
        server took the connection and does not answer.
    """
    _refuse_a_silent_jack()
    try:
        import sounddevice as sd
    except OSError as exc:
        problem = (f"cannot load PortAudio ({exc}): install it (Debian/Ubuntu: apt-get install "
                   "libportaudio2)")
        raise NoAudioDeviceError(f"{problem}, or run with --no-audio", problem) from exc
    try:
        outputs = [d for d in sd.query_devices() if d["max_output_channels"] > 0]
    except Exception as exc:
        problem = f"PortAudio cannot list audio devices ({exc})"
        raise NoAudioDeviceError(f"{problem}; run with --no-audio", problem) from exc
    if not outputs:
        raise NoAudioDeviceError(
            f"{NO_OUTPUT_DEVICE}: PortAudio sees none. Connect a sound card, start a JACK "
            "server (e.g. jackd -d dummy), or run with --no-audio.",
            f"{NO_OUTPUT_DEVICE} (PortAudio sees none)",
        )
    return sd, outputs


def _cannot_open(sd: Any, a: AudioSettings, exc: BaseException) -> NoAudioDeviceError:
    """The error of an output PortAudio cannot open as asked, listing the devices there are."""
    # each device's own rate: a JACK server takes only the rate it runs at, and a performer
    # told "Invalid sample rate" needs to know which one to ask for
    names = ", ".join(
        f"{i}: {d['name']} ({d['default_samplerate']:g} Hz)"
        for i, d in enumerate(sd.query_devices())
        if d["max_output_channels"] > 0
    )
    device = "the default audio device" if a.device is None else f"audio device {a.device!r}"
    problem = (f"cannot open {device} at {a.samplerate} Hz, {a.channels} "
               f"channels, block {a.blocksize}: {exc}. Output devices: {names}")
    return NoAudioDeviceError(
        f"{problem}. Choose another device, sample rate or block size, or run with --no-audio.",
        problem,
    )


def check_output(audio: AudioSettings | Mapping[str, Any] | None = None) -> None:
    """Check now, in a fraction of a second, that the output ``audio`` asks for can be opened.

    A command calls this before it starts anything slow (the engine, the training process),
    so a missing device is said at once rather than after the start-up.

    Parameters
    ----------
    audio : AudioSettings or dict, optional
        Device, sample rate, channels (default: PortAudio's default output).

    Raises
    ------
    NoAudioDeviceError
        If PortAudio is missing, sees no output device, or the device asked for is missing or
        refuses the sample rate or channels.
    """
    a = audio if isinstance(audio, AudioSettings) else AudioSettings.from_dict(audio)
    sd = output_devices()[0]
    try:
        sd.check_output_settings(
            device=a.device, channels=a.channels, dtype="float32", samplerate=a.samplerate
        )
    except Exception as exc:
        raise _cannot_open(sd, a, exc) from exc


class Synth:
    """The built-in synth.

    Parameters
    ----------
    mapping : SynthMapping or dict or None
        Which result drives which parameter. A dict is the project's ``outputs["synth"]`` (it
        may hold an ``"audio"`` entry). ``None`` (a project with no mapping saved): the
        default mapping for the model that plays (:meth:`SynthMapping.default`), a DTW
        model's while :attr:`match_threshold` is set, so that a model of another kind
        trained meanwhile plays its own default.
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
        self._said_lost = False
        # shared with the audio callback (see the module docstring): written by the engine
        # thread, read by the callback
        self._targets = np.zeros(K.N_PARAMS)
        self._trig = np.zeros(MAX_CLASSES, dtype=np.int64)
        # audio-thread state (written only by the callback, or offline by render())
        self._cur = np.zeros((2, K.N_PARAMS))
        self._st = np.zeros(K.N_STATE)
        self._seen = np.zeros(MAX_CLASSES, dtype=np.int64)
        self._g_pos = np.zeros(N_GRAIN_SLOTS)
        self._g_age = np.full(N_GRAIN_SLOTS, -1, dtype=np.int64)
        self._v_pos = np.zeros(N_VOICES, dtype=np.int64)
        self._v_end = np.zeros(N_VOICES, dtype=np.int64)
        self.counters = np.zeros(K.N_COUNTERS, dtype=np.int64)
        # Written here, not only allocated: np.zeros of 128 KB is fresh zero pages, and the
        # callback's first write to each would be a page fault in the audio thread, which waits
        # while another thread maps or unmaps memory (measured: a 1.6 ms callback during a
        # retrain). Every array the callback writes is small or filled like this one.
        self._ring = np.full(C.RING, 0.0)
        self._timespec = np.zeros(2, dtype=np.int64)
        ctl = np.zeros(C.N_CTL, dtype=np.int64)
        for slot, array in (
            (C.P_TARGETS, self._targets), (C.P_TRIGGERS, self._trig), (C.P_CUR, self._cur),
            (C.P_STATE, self._st), (C.P_SEEN, self._seen), (C.P_G_POS, self._g_pos),
            (C.P_G_AGE, self._g_age), (C.P_V_POS, self._v_pos), (C.P_V_END, self._v_end),
            (C.P_COUNTERS, self.counters), (C.P_RING, self._ring),
            (C.P_TIMESPEC, self._timespec),
        ):  # fmt: skip
            ctl[slot] = array.ctypes.data
        ctl[C.P_CLOCK] = C.clock_gettime_address()
        ctl[C.N_CLASSES] = MAX_CLASSES
        ctl[C.N_GRAINS] = N_GRAIN_SLOTS
        ctl[C.N_VOICES] = N_VOICES
        ctl[C.N_CHANNELS] = audio.channels
        ctl[C.FIRST_UNDERRUN] = -1
        self._ctl = ctl
        # config rows: the arrays each row points to, and when it stopped being the newest
        self._rows: list[Any] = [None] * C.N_CONFIG_SLOTS
        self._retired = [-np.inf] * C.N_CONFIG_SLOTS
        self._publish_lock = threading.Lock()
        self.exception: BaseException | None = None
        # engine-thread state
        self._scratch = np.zeros(K.N_PARAMS)
        # a DTW frame's closeness of each gesture, written in place, and the read-only view
        # of it the route kernel is compiled for
        self._closeness, self._closeness_ro = _closeness_buffer(0)
        self._names: Any = None
        self._onset_class = -1
        self._last_onset = -1e9
        self._match_threshold: float | None = None
        self._output_ranges: tuple[tuple[float, float], ...] = ()
        self._follows_model = False
        self.update_errors = 0
        self._last_error_log = 0.0
        self.set_mapping(mapping)
        self._targets[:] = self._base
        self._cur[1] = self._base
        K.reset(self._cur, self._st, self._g_age, self._v_pos, self._v_end)

    # -- configuration (any thread but the audio one) -------------------------------------------
    def set_mapping(self, mapping: SynthMapping | Mapping[str, Any] | None) -> None:
        """Use a new mapping (and load its sounds) from the next block on; parameters glide.
        ``None`` (or settings holding only ``"audio"``): the default for the model that
        plays, following its kind."""
        follows = not saves_mapping(mapping)
        if follows:
            mapping = self._default_mapping()
        elif not isinstance(mapping, SynthMapping):
            mapping = SynthMapping.from_dict(mapping)
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
        base = K.readonly(mapping.base_values())
        config = SynthConfig(
            K.readonly(coef),
            limits(),
            K.readonly(consts),
            K.readonly(follower),
            K.readonly(window),
            K.readonly(bank.astype(np.float32)),
            K.readonly(offsets),
            tuple(names),
        )
        with self._publish_lock:
            if follows:  # the model's kind as it is now (a swap may have come meanwhile);
                mapping = self._default_mapping()  # every kind's default: the same sounds
                base = K.readonly(mapping.base_values())
            self.mapping = mapping
            self._follows_model = follows
            self._base = base
            self._config = config
            self._bind_classes(self._names if self._names is not None else [])
            self._publish(base)

    def _bind_classes(self, class_names: Sequence[Any]) -> None:
        """Route table and class -> sound for these classes (a new config row)."""
        names = [str(c) for c in class_names]
        mapping, config = self.mapping, self._config
        table = mapping.route_table(names)
        class_sound = np.full(MAX_CLASSES, -1, dtype=np.int64)
        index = {n: i for i, n in enumerate(config.bank_names)}
        for i, n in enumerate(names[:MAX_CLASSES]):
            sound = mapping.oneshots.get(n)
            if sound is not None:
                class_sound[i] = index[sound]
        self._write_row(config, K.readonly(class_sound))
        self._table = table
        self._closeness, self._closeness_ro = _closeness_buffer(len(names))
        self._names = class_names
        self._onset_class = -1

    def _write_row(self, config: SynthConfig, class_sound: np.ndarray) -> None:
        """Publish ``config`` with ``class_sound`` in a config row the callback is not reading."""
        ctl = self._ctl
        while True:
            now = time.monotonic()
            busy = {int(ctl[C.CURRENT]), int(ctl[C.PENDING])}
            free = [
                i
                for i in range(C.N_CONFIG_SLOTS)
                if i not in busy and now - self._retired[i] >= C.RETIRE_S
            ]
            if free:
                break
            time.sleep(0.01)  # more than N_CONFIG_SLOTS changes within RETIRE_S: wait
        slot = free[0]
        follower = config.follower if len(config.follower) else _EMPTY_F32
        arrays = (config, class_sound, follower)
        row = C.N_CTL_HEAD + slot * C.N_CFG
        ctl[row + C.C_COEF] = config.coef.ctypes.data
        ctl[row + C.C_LIMITS] = config.limits.ctypes.data
        ctl[row + C.C_CONSTS] = config.consts.ctypes.data
        ctl[row + C.C_FOLLOWER] = follower.ctypes.data
        ctl[row + C.C_FOLLOWER_N] = len(config.follower)
        ctl[row + C.C_WINDOW] = config.window.ctypes.data
        ctl[row + C.C_WINDOW_N] = len(config.window)
        bank = config.bank if len(config.bank) else _EMPTY_F32
        ctl[row + C.C_BANK] = bank.ctypes.data
        ctl[row + C.C_BANK_N] = len(config.bank)
        ctl[row + C.C_BANK_OFF] = config.bank_offsets.ctypes.data
        ctl[row + C.C_BANK_OFF_N] = len(config.bank_offsets)
        ctl[row + C.C_CLASS_SOUND] = class_sound.ctypes.data
        self._rows[slot] = arrays  # keeps the arrays alive while a row points to them
        old = int(ctl[C.PENDING])
        ctl[C.PENDING] = slot  # the callback moves to this row at its next block
        self._retired[old] = now
        self._retired[slot] = np.inf

    def _publish(self, targets: np.ndarray) -> None:
        self._targets[:] = targets

    def set_parameters(self, **values: float) -> None:
        """Set parameters directly (by name), e.g. to audition a sound or to record
        "mapping by demonstration". Routes take over again at the next :meth:`update`."""
        targets = self._targets.copy()
        for name, v in values.items():
            spec = PARAMETERS.get(name)
            if spec is None:
                raise validation_error("synth parameter", name, "one of " + ", ".join(PARAMETERS))
            targets[spec.index] = float(v)  # NaN allowed: the render kernel answers with silence
        self._publish(targets)

    def rest(self) -> None:
        """Every parameter back to its resting value, as no route drives it (engine thread):
        the model that played went away while running (its takes deleted), and no frame
        will move the voice until another is trained. Parameters glide there."""
        with self._publish_lock:
            self._onset_class = -1
            self._publish(self._base)

    def trigger(self, class_index: int) -> None:
        """Start class ``class_index``'s one-shot sound now (as a recognition onset does)."""
        self._trig[class_index] += 1

    # -- the engine thread ----------------------------------------------------------------------
    #: set by the engine when its stream spots gestures: one-shots fire on spotted gestures
    #: (``Result.event``) instead of on likelihood onsets
    spot_events = False
    #: the project's ``outputs.reject_below``, set by the engine with its OSC output: a
    #: classifier's frame below it chose no class (/wek/outputs sends 0), so no one-shot
    #: starts on it and its ``*`` routes leave their parameters at rest (a route naming a
    #: class reads its likelihood still); a DTW frame chooses by its match instead: a
    #: one-shot starts when a gesture starts matching, none while none matches
    #: (:mod:`gesturemap.outputs.rejection`)
    reject_below = 0.0
    @property
    def match_threshold(self) -> float | None:
        """A DTW model's match threshold (``model.threshold_``), set by the engine whenever
        its model changes (None for a model that is not DTW's): a DTW frame's
        ``likelihood:`` routes then read each gesture's closeness
        (:mod:`gesturemap.outputs.closeness`), as MIDI's controllers do."""
        return self._match_threshold

    @match_threshold.setter
    def match_threshold(self, value: float | None) -> None:
        with self._publish_lock:
            dtw_before = self._match_threshold is not None
            self._match_threshold = value
            if self._follows_model and (value is not None) != dtw_before:
                self._use_default_routes()

    @property
    def output_ranges(self) -> tuple[tuple[float, float], ...]:
        """Each regression output's range (:func:`gesturemap.outputs.ranges.output_ranges`:
        the targets recorded in the project's takes), set by the engine whenever its model
        changes: with no mapping saved, the default routes read the outputs over it."""
        return self._output_ranges

    @output_ranges.setter
    def output_ranges(self, value: Sequence[tuple[float, float]]) -> None:
        ranges = tuple((float(lo), float(hi)) for lo, hi in value)
        with self._publish_lock:
            changed, self._output_ranges = ranges != self._output_ranges, ranges
            if self._follows_model and changed:
                self._use_default_routes()

    def _default_mapping(self) -> SynthMapping:
        """The default mapping for the model that plays (its regression outputs, if any,
        drive the voice over the range recorded: routes from outputs a model lacks leave
        their parameters alone)."""
        return SynthMapping.default(None, "dtw" if self._match_threshold is not None else None,
                                    self._output_ranges)

    def _use_default_routes(self) -> None:
        """Play the default mapping of the model's new kind (engine thread, at a model swap;
        the publish lock held). Every kind's default has the same sounds and glides: only
        the routes and the resting values change, so no sound is loaded and no config row is
        published here."""
        mapping = self._default_mapping()
        self.mapping = mapping
        self._base = K.readonly(mapping.base_values())
        names = self._names if self._names is not None else []
        self._table = mapping.route_table([str(c) for c in names])
        self._publish(self._base)

    @staticmethod
    def _event_class(label: Any, class_names: Sequence[Any]) -> int:
        for i, name in enumerate(class_names):
            if name == label:
                return i
        return -1

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
            out = result.output if result.output is not None else _EMPTY
            prog = result.progress if result.progress is not None else _EMPTY
            none = rejected(result, self.reject_below)
            # DTW's match is its recognition (its match message goes out on it): the onset
            # threshold on likelihoods is not its decision
            sure = not none and getattr(result, "match", None) is not None
            li = int(result.label_index)
            lik = result.likelihoods
            distances = getattr(result, "distances", None)
            if distances is not None:
                # DTW: the likelihoods (a softmax over the gestures) name a likeliest gesture
                # even at rest, where nothing matches and the outputs name none. The routes
                # read what the outputs send instead: each gesture's closeness from its
                # distance, and "*" is the gesture that matches, none while none does
                lik = self._dtw_closeness(distances, lik)
            # "*" is the class the outputs name: none on a frame that chose none (a DTW frame
            # with no match, a classifier's below reject_below), as /wek/outputs sends 0
            self._update(li, lik, out, prog, _variation(result), result.event, class_names,
                         none, sure, -1 if none else li)
        except Exception as exc:  # the frame path never raises
            self._update_failed(exc)

    def update_arrays(self, label_index: int, likelihoods: np.ndarray,
                      progress: np.ndarray | None, class_names: Sequence[Any]) -> None:
        """:meth:`update` for a classifier's frame given as arrays (a lean stream's own, read
        before its next frame) instead of a Result: no output, estimate nor event."""
        try:
            none = below(likelihoods, label_index, self.reject_below)
            self._update(label_index, likelihoods, _EMPTY,
                         _EMPTY if progress is None else progress, _EMPTY, None, class_names,
                         none, False, -1 if none else label_index)
        except Exception as exc:  # the frame path never raises
            self._update_failed(exc)

    def _dtw_closeness(self, distances: np.ndarray, likelihoods: np.ndarray) -> np.ndarray:
        """(C,) each gesture's closeness, written in place (no array per frame); the
        ``likelihoods`` while the engine has set no threshold (a script's own synth)."""
        threshold = self.match_threshold
        if threshold is None or not threshold > 0:
            return likelihoods
        if self._closeness.shape[0] != len(distances):  # classes not bound yet: once a model
            self._closeness, self._closeness_ro = _closeness_buffer(len(distances))
        closeness(distances, threshold, out=self._closeness)
        return self._closeness_ro

    def _update(self, li: int, lik: np.ndarray, out: np.ndarray, prog: np.ndarray,
                variation: np.ndarray, ev: Any, class_names: Sequence[Any], none: bool,
                sure: bool, route_class: int) -> None:
        """``none``: the frame chose no class (:mod:`gesturemap.outputs.rejection`); ``sure``:
        its class is chosen outright (a DTW match), past any onset threshold;
        ``route_class``: the class ``*`` routes read (-1: none, they leave their parameters
        at rest)."""
        if class_names is not self._names:
            with self._publish_lock:
                self._bind_classes(class_names)
        targets = self._scratch
        K.map_routes(self._table, self._base, out, lik, prog, variation, route_class, targets)
        if ev is not None and self.spot_events:
            # a spotted gesture fires its class's one-shot
            ci = self._event_class(ev.label, class_names)
            if 0 <= ci < MAX_CLASSES:
                self._trig[ci] += 1
        # recognition onset: the likeliest class crosses the threshold (hysteresis + a
        # minimum interval, so a wavering likelihood does not retrigger); with spotting
        # on, only spotted gestures fire
        m = self.mapping
        p = 1.0 if sure else float(lik[li])
        # a rejected frame is no class at all: it releases the onset like a falling likelihood
        if self._onset_class != -1 and (p < m.onset_release or li != self._onset_class or none):
            self._onset_class = -1
        if (not self.spot_events and p >= m.onset_threshold and self._onset_class == -1
                and li < MAX_CLASSES and not none):
            now = time.perf_counter()
            # the interval keeps a wavering likelihood from retriggering; a DTW match is a
            # decision (its /output_N went out, MIDI sounds its note): each new one sounds,
            # a gesture performed again right after the last included
            if sure or (now - self._last_onset) * 1e3 >= m.onset_min_interval_ms:
                self._onset_class = li
                self._last_onset = now
                self._trig[li] += 1
        # whole values, in one copy: a block sees this frame's targets or the last one's
        self._targets[:] = targets

    def _update_failed(self, exc: BaseException) -> None:
        self.update_errors += 1
        now = time.monotonic()
        if now - self._last_error_log > 1.0:
            self._last_error_log = now
            log.warning("synth update failed: %s", exc)
        if raise_mode():
            self.exception = self.exception or exc

    # -- rendering --------------------------------------------------------------------------------
    def _render_into(self, out: np.ndarray) -> None:
        """Render one block into ``out`` (C-contiguous float32 (frames, channels)) with the
        callback's own compiled code."""
        C.render_block(self._ctl, out.ctypes.data, out.shape[0])

    def render(self, frames: int, blocksize: int = 128) -> np.ndarray:
        """Render ``frames`` samples offline, block by block, as the callback would (never
        while the stream plays: both would advance the same voices).

        Returns
        -------
        numpy.ndarray, shape (frames, channels), float32
        """
        out = np.zeros((frames, self.audio.channels), dtype=np.float32)
        for i in range(0, frames, blocksize):
            self._render_into(out[i : i + blocksize])
        return out

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
        sd = output_devices()[0]
        a = self.audio
        try:
            # PortAudio calls the compiled callback itself: no Python wrapper, no GIL
            stream = sd._StreamBase(
                kind="output",
                samplerate=a.samplerate,
                blocksize=a.blocksize,
                device=a.device,
                channels=a.channels,
                dtype="float32",
                latency=a.latency,
                callback=C.callback.address,
                userdata=sd._ffi.cast("void *", self._ctl.ctypes.data),
            )
            stream.start()
        except Exception as exc:
            raise _cannot_open(sd, a, exc) from exc
        self._stream = stream
        _PLAYING.add(self)
        return self

    def stop(self) -> None:
        """Stop playing (fades nothing: call ``set_parameters(master_gain=0)`` first for a
        graceful end) and re-raise an update error when ``GESTUREMAP_RAISE=1``.

        A stream whose audio server went away (:attr:`lost`) is left as it is: PortAudio's
        stop, close and terminate all wait for the dead server (for minutes), so the synth and
        its stream are kept (:data:`_LOST`) and PortAudio is not terminated at exit."""
        stream, self._stream = self._stream, None
        if stream is not None and _stream_lost(stream):
            _LOST.append((self, stream))
            _leave_portaudio()
        elif stream is not None:
            stream.stop()
            stream.close()
        _PLAYING.discard(self)
        if self.exception is not None and raise_mode():
            exc, self.exception = self.exception, None
            raise exc

    @property
    def running(self) -> bool:
        return self._stream is not None and bool(self._stream.active)

    @property
    def lost(self) -> bool:
        """The stream stopped without being stopped: its audio server (JACK) went away.
        No sound until the process starts again (PortAudio cannot reopen it meanwhile)."""
        stream = self._stream
        return stream is not None and _stream_lost(stream)

    def __enter__(self) -> Synth:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stats(self) -> dict[str, Any]:
        """Health counters (any thread): callbacks, underruns, callback time p50/p99 (µs)..."""
        c, ctl = self.counters, self._ctl
        n = min(int(ctl[C.RING_POS]), C.RING)
        ring = self._ring[:n]
        first = int(ctl[C.FIRST_UNDERRUN])
        return {
            "audio_callbacks": int(ctl[C.CALLBACKS]),
            "audio_underruns": int(ctl[C.UNDERRUNS]),
            "callback_us_p50": float(np.percentile(ring, 50)) if n else None,
            "callback_us_p99": float(np.percentile(ring, 99)) if n else None,
            "callback_us_max": float(ring.max()) if n else None,
            "audio_first_underrun_callback": first if first >= 0 else None,
            "audio_bad_parameter_blocks": int(c[K.C_BAD_PARAMS]),
            "audio_bad_output_blocks": int(c[K.C_BAD_OUTPUT]),
            "audio_limited_samples": int(c[K.C_LIMITED]),
            "oneshots_played": int(c[K.C_ONESHOTS]),
            "oneshots_dropped": int(c[K.C_DROPPED]),
            "synth_update_errors": self.update_errors,
            "audio_lost": self._lost_said(),
        }

    def _lost_said(self) -> bool:
        """:attr:`lost`, said once in the log when first seen."""
        lost = self.lost
        if lost and not self._said_lost:
            self._said_lost = True
            log.error("the audio stream stopped: its audio server (JACK?) went away; no "
                      "sound until gesturemap starts again (everything else goes on)")
        return lost


def _closeness_buffer(classes: int) -> tuple[np.ndarray, np.ndarray]:
    """A (classes,) array to write a frame's closeness into, and a read-only view of it: the
    type the route kernel is compiled for, so a frame takes its fast path."""
    buf = np.zeros(classes)
    return buf, K.readonly(buf.view())


def _variation(result: Any) -> np.ndarray:
    """(3C,) speeds, scales (mean over inputs) and rotation angles of a GVF's result, else
    empty (routes from them then leave their parameters alone)."""
    speed = getattr(result, "speed", None)
    if speed is None:
        return _EMPTY
    c = len(speed)
    scale = getattr(result, "scale", None)
    rot = getattr(result, "rotation", None)
    v = np.empty(3 * c)
    v[:c] = speed
    v[c:2 * c] = np.ones(c) if scale is None else np.reshape(scale, (c, -1)).mean(axis=1)
    if rot is None:
        v[2 * c:] = 0.0
    else:
        r = np.reshape(rot, (c, -1))
        v[2 * c:] = r[:, 0] if r.shape[1] == 1 else np.sqrt((r**2).sum(axis=1))
    return K.readonly(v)
