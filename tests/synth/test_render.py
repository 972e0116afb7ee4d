"""The synth's sound, rendered offline through the very kernel the audio callback runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import soundfile as sf

from gesturemap.models.base import Result
from gesturemap.synth import Route, Synth, SynthMapping, builtin_sounds, load_sound
from gesturemap.synth.sounds import SOUNDS_DIR, make_builtin_sounds

FS = 48000
CEILING = 10 ** (-1 / 20)


def _fm_only(**params: float) -> Synth:
    synth = Synth(SynthMapping(parameters={"follower_gain": 0.0}, follower_sound="pad"))
    synth.set_parameters(**params)
    return synth


def _peak_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    k = int(np.argmax(spectrum))
    # parabolic interpolation between bins
    a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-30)
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * FS / len(x)


def _result(likelihoods, progress=None, output=None) -> Result:
    lik = np.asarray(likelihoods, dtype=np.float64)
    return Result(
        label=int(np.argmax(lik)),
        label_index=int(np.argmax(lik)),
        likelihoods=lik,
        log_likelihoods=np.log(lik + 1e-12),
        instant_likelihoods=lik,
        instant_normalized_likelihoods=lik,
        progress=None if progress is None else np.asarray(progress, dtype=float),
        output=None if output is None else np.asarray(output, dtype=float),
    )


@pytest.mark.parametrize(("pitch", "loudness"), [(220.0, 0.5), (440.0, 0.25), (1000.0, 0.8)])
def test_tone_pitch_and_level_match_parameters(pitch, loudness):
    synth = _fm_only(pitch_hz=pitch, loudness=loudness, mod_depth=0.0, brightness=1.0)
    x = synth.render(FS)[FS // 2 :, 0].astype(np.float64)  # after the glide
    assert abs(_peak_hz(x) - pitch) < 0.5
    rms_db = 20 * np.log10(np.sqrt(np.mean(x**2)))
    assert abs(rms_db - 20 * np.log10(loudness / np.sqrt(2))) < 0.1
    assert synth.render(8, blocksize=8).shape == (8, 2)


def test_vibrato_and_modulation_change_the_sound():
    plain = _fm_only(pitch_hz=300.0, loudness=0.5, mod_depth=0.0).render(FS)[FS // 2 :, 0]
    fm = _fm_only(
        pitch_hz=300.0, loudness=0.5, mod_depth=3.0, mod_ratio=2.0, brightness=1.0
    ).render(FS)[FS // 2 :, 0]
    spectrum = np.abs(np.fft.rfft(fm))
    bins = FS // 2 // len(spectrum) or 1
    assert spectrum[900 * len(fm) // FS] > 0.1 * spectrum.max()  # a sideband at 300 + 2*300
    assert np.abs(np.fft.rfft(plain))[900 * len(plain) // FS] < 1e-3 * spectrum.max() * bins


def test_parameter_steps_do_not_click():
    synth = _fm_only(pitch_hz=220.0, loudness=0.0, mod_depth=0.0, brightness=1.0)
    pieces = [synth.render(4800)]
    for params in (
        {"loudness": 0.8},
        {"pitch_hz": 880.0},
        {"loudness": 0.0},
        {"loudness": 0.8, "pitch_hz": 110.0},
        {"master_gain": 0.0},
    ):
        synth.set_parameters(**params)
        pieces.append(synth.render(4800))
    x = np.concatenate(pieces)[:, 0].astype(np.float64)
    # a sine of amplitude A and frequency f moves at most 2 pi f A / fs per sample; a click
    # (an instant gain or phase jump) would move up to 2 A
    bound = 2 * np.pi * 880.0 * 0.8 / FS * 1.1 + 0.8 * (1 - np.exp(-1 / (0.02 * FS))) * 1.1
    assert np.max(np.abs(np.diff(x))) < bound
    assert np.max(np.abs(x)) > 0.5  # it did play


def test_nan_parameter_gives_silence_not_noise():
    synth = _fm_only(pitch_hz=440.0, loudness=0.5)
    synth.render(4800)
    synth.set_parameters(pitch_hz=float("nan"))
    x = synth.render(FS // 2)[:, 0]
    assert np.isfinite(x).all()
    assert np.max(np.abs(x[FS // 5 :])) < 1e-4  # faded out (20 ms glide) within 200 ms
    assert np.max(np.abs(np.diff(x))) < 0.1  # and faded, not cut
    assert synth.stats()["audio_bad_parameter_blocks"] > 0
    synth.set_parameters(pitch_hz=440.0, loudness=0.5)  # back to sound
    assert np.max(np.abs(synth.render(FS // 2)[FS // 4 :])) > 0.4


def test_nan_in_the_signal_never_reaches_the_output():
    synth = _fm_only(pitch_hz=440.0, loudness=0.5)
    synth.render(1024)
    synth._cur[0, 0] = np.inf  # corrupt the oscillator's state
    x = synth.render(1024)
    assert np.isfinite(x).all()
    assert synth.stats()["audio_bad_output_blocks"] == 1
    assert np.max(np.abs(x[:128])) == 0.0  # the broken block is silent
    assert np.isfinite(synth.render(FS // 4)).all()


def test_limiter_holds_minus_one_dbfs():
    synth = Synth(SynthMapping(oneshots={"a": "bell", "b": "wood"}))
    synth.set_parameters(
        pitch_hz=150.0,
        loudness=1.0,
        mod_depth=8.0,
        follower_gain=1.0,
        follower_position=0.5,
        oneshot_gain=1.0,
    )
    synth.update(_result([0.9, 0.1], progress=[0.5, 0.5]), ["a", "b"])
    synth.set_parameters(loudness=1.0, follower_gain=1.0, oneshot_gain=1.0)
    synth.trigger(0)
    synth.trigger(1)
    x = synth.render(FS)
    assert np.max(np.abs(x)) <= CEILING + 1e-7
    assert np.max(np.abs(x)) > 0.85  # the limiter worked, the synth was not simply quiet
    assert synth.stats()["audio_limited_samples"] > 0
    assert synth.stats()["oneshots_played"] == 2


def _dominant_hz(x: np.ndarray) -> float:
    """Centre of the strongest spectral region (+-60 Hz around the peak): grains repeated at a
    held position add a comb of lines one hop rate apart under the sound's own spectrum, and the
    centroid finds the middle of that envelope rather than the nearest comb line."""
    x = x.astype(np.float64)
    power = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    hz = np.fft.rfftfreq(len(x), 1 / FS)
    power[(hz < 150.0) | (hz > 420.0)] = 0.0  # the pad's fundamental range (no octave errors)
    peak = hz[np.argmax(power)]
    band = np.abs(hz - peak) <= 60.0
    return float(np.sum(hz[band] * power[band]) / np.sum(power[band]))


def test_follower_position_tracks_progress_without_changing_pitch():
    mapping = SynthMapping(
        routes=[Route("progress:*", "follower_position")],
        parameters={"follower_gain": 1.0},
        follower_sound="pad",
    )
    synth = Synth(mapping)
    names = ["only"]
    # the pad glides 220 -> 440 Hz over 3 s: at position p its fundamental is 220 * 2**p
    for p in (0.2, 0.5, 0.8):
        for _ in range(40):  # 200 frames/s for 0.2 s, holding the position
            synth.update(_result([1.0], progress=[p]), names)
            synth.render(240)
        assert synth.follower_position == pytest.approx(p, abs=1e-3)
        held = synth.render(FS)[:, 0]
        assert _dominant_hz(held) == pytest.approx(220 * 2**p, rel=0.03)  # a semitone is 6 %
    # a gesture at half speed: the position moves half as fast, the pitch stays that of the
    # sound at each position (granular time-stretch, not a slower playback)
    synth.update(_result([1.0], progress=[0.0]), names)
    synth.render(FS // 2)
    positions = []
    for i in range(200):  # 1 s of gesture covering 1/6 of the 3 s sound: 2x slower
        synth.update(_result([1.0], progress=[i / 200 / 6]), names)
        synth.render(240)
        positions.append(synth.follower_position)
    assert np.all(np.diff(positions) >= -1e-9)
    assert positions[-1] == pytest.approx(199 / 200 / 6, abs=0.01)
    synth.update(_result([1.0], progress=[1 / 6]), names)
    synth.render(FS // 10)
    assert _dominant_hz(synth.render(FS)[:, 0]) == pytest.approx(220 * 2 ** (1 / 6), rel=0.03)


def test_oneshot_on_recognition_onset_only():
    mapping = SynthMapping(
        oneshots={"tap": "wood"},
        parameters={"follower_gain": 0.0},
        onset_threshold=0.7,
        onset_release=0.5,
        onset_min_interval_ms=0,
    )
    synth = Synth(mapping)
    names = ["idle", "tap"]
    sequence = [0.1, 0.8, 0.9, 0.95, 0.6, 0.8, 0.3, 0.9]  # onsets: at 0.8, then after 0.3
    for p in sequence:
        synth.update(_result([1 - p, p]), names)
        synth.render(240)
    assert synth.stats()["oneshots_played"] == 2
    silent = Synth(SynthMapping(parameters={"follower_gain": 0.0}))
    silent.update(_result([0.1, 0.9]), names)
    assert np.max(np.abs(silent.render(4800))) == 0.0


def test_no_oneshot_starts_on_a_frame_the_outputs_reject():
    """Below the project's reject_below the frame chose no class (/wek/outputs sends 0, MIDI
    releases its note): its one-shot does not start, though the likelihood passed the
    mapping's onset_threshold; the class accepted again sounds afresh, as MIDI's note does."""
    mapping = SynthMapping(oneshots={"tap": "wood"}, parameters={"follower_gain": 0.0},
                           onset_threshold=0.7, onset_release=0.5, onset_min_interval_ms=0)
    synth = Synth(mapping)
    synth.reject_below = 0.8  # the engine sets it from the project's outputs
    names = ["idle", "tap"]
    played = []
    for p in [0.75, 0.85, 0.9, 0.75, 0.85]:  # rejected, accepted, held, rejected, accepted
        synth.update(_result([1 - p, p]), names)
        synth.render(240)
        played.append(synth.stats()["oneshots_played"])
    assert played == [0, 1, 1, 1, 2]
    # a regression frame is never rejected (its values are the answer): its onset fires
    synth = Synth(mapping)
    synth.reject_below = 0.8
    synth.update(_result([0.25, 0.75], output=[0.5]), names)
    synth.render(240)
    assert synth.stats()["oneshots_played"] == 1


def test_regression_outputs_drive_mapped_parameters():
    mapping = SynthMapping(
        routes=[
            Route("output:0", "pitch_hz", 0.0, 1.0, 110.0, 880.0, "exp", smoothing_ms=5.0),
            Route("output:1", "loudness", 0.0, 1.0, 0.0, 0.5, smoothing_ms=5.0),
        ],
        parameters={"follower_gain": 0.0, "mod_depth": 0.0, "brightness": 1.0},
    )
    synth = Synth(mapping)
    synth.update(_result([1.0], output=[0.5, 1.0]), ["x"])
    x = synth.render(FS)[FS // 2 :, 0]
    assert _dominant_hz(x) == pytest.approx(110 * 8**0.5, rel=1e-3)  # geometric middle
    assert np.max(np.abs(x)) == pytest.approx(0.5, rel=1e-3)
    synth.update(_result([1.0], output=[float("nan"), 1.0]), ["x"])
    assert np.max(np.abs(synth.render(FS)[FS // 2 :])) < 1e-4


def test_mapping_round_trips_through_json():
    import json

    mapping = SynthMapping.default()
    mapping.oneshots["circle"] = "bell"
    d = json.loads(json.dumps(mapping.to_dict()))
    assert SynthMapping.from_dict(d) == mapping
    assert SynthMapping.from_dict(None) == SynthMapping.default()
    assert SynthMapping.from_dict(None, outputs=0) == SynthMapping.default(0)


@pytest.mark.parametrize(("outputs", "voice"), [
    (0, []), (1, [("output:0", "pitch_hz")]),
    (3, [("output:0", "pitch_hz"), ("output:1", "brightness")]),
])
def test_the_default_mapping_routes_only_the_outputs_the_model_has(outputs, voice):
    routes = [(r.source, r.target) for r in SynthMapping.default(outputs).routes]
    assert routes == [*voice, ("likelihood:*", "loudness"), ("likelihood:*", "follower_gain"),
                      ("progress:*", "follower_position")]
    with pytest.raises(ValueError, match="target"):
        SynthMapping.from_dict({"routes": [{"source": "output:0", "target": "pitch"}]})
    with pytest.raises(ValueError, match="curve"):
        Route("output:0", "pitch_hz", curve="cubic")
    with pytest.raises(ValueError, match="source"):
        Route("outputs:0", "pitch_hz")
    with pytest.raises(ValueError, match="synth settings"):
        SynthMapping.from_dict({"rutes": []})


def test_builtin_sounds_ship_and_user_files_load(tmp_path):
    assert {"pad", "bell", "pluck", "wood", "chime"} <= set(builtin_sounds())
    regenerated = make_builtin_sounds(tmp_path / "gen")
    for path in regenerated:
        shipped, _ = sf.read(SOUNDS_DIR / path.name)
        fresh, _ = sf.read(path)
        assert np.max(np.abs(shipped - fresh)) < 3 / 32768  # the shipped files are these
    # a user's stereo FLAC at 44.1 kHz with a NaN and a loud start: mono, resampled, faded
    t = np.arange(44100) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 441 * t), np.ones_like(t) * 0.5], axis=1)
    sf.write(tmp_path / "mine.flac", stereo, 44100)
    x = load_sound("mine.flac", FS, base_dir=tmp_path)
    assert x.dtype == np.float32 and len(x) == FS
    assert x[0] == 0.0 and abs(x[-1]) < 1e-3
    with pytest.raises(ValueError, match="missing.wav"):
        load_sound("missing.wav", FS, base_dir=tmp_path)
    (tmp_path / "bad.wav").write_bytes(b"not a sound")
    with pytest.raises(ValueError, match="libsndfile"):
        load_sound(tmp_path / "bad.wav", FS)


def test_oneshots_fire_on_spotted_gestures_when_spotting():
    import dataclasses

    import gesturemap as gm

    mapping = SynthMapping(oneshots={"tap": "wood"}, parameters={"follower_gain": 0.0},
                           onset_min_interval_ms=0)
    synth = Synth(mapping)
    synth.spot_events = True  # the engine sets it when its stream spots gestures
    names = ["idle", "tap"]
    # likelihood onsets no longer fire: only the frames that carry an event do
    for i, p in enumerate([0.1, 0.9, 0.95, 0.2, 0.9, 0.1, 0.1]):
        r = _result([1 - p, p])
        if i in (0, 3, 6):  # three gestures spotted (the likelihoods have two onsets)
            r = dataclasses.replace(r, event=gm.Event("tap", 0, i, i, 1.0))
        synth.update(r, names)
        synth.render(240)
    assert synth.stats()["oneshots_played"] == 3


_PEAK = textwrap.dedent("""
    import sys
    from gesturemap.synth.sounds import load_sound

    def peak():  # this process's own high-water mark (ru_maxrss carries the parent's over)
        with open("/proc/self/status") as f:
            return next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM:")) * 1024

    load_sound(sys.argv[2], 48000)  # soundfile, scipy and their buffers loaded
    before = peak()
    sound = load_sound(sys.argv[1], 48000)
    print(len(sound), peak() - before)
""")


def test_a_many_channel_file_loads_without_holding_all_its_channels(tmp_path):
    """30 s of 8 channels at 96 kHz (92 MB of float samples): loading it held every channel
    as 64-bit numbers at once (184 MB, and a gigabyte for a 2-minute file), in the process
    that plays; the mono sound kept is 5.8 MB."""
    path, small = tmp_path / "surround.wav", tmp_path / "small.wav"
    block = np.random.default_rng(0).uniform(-0.1, 0.1, (96000, 8)).astype(np.float32)
    with sf.SoundFile(path, "w", samplerate=96000, channels=8, subtype="FLOAT") as f:
        for _ in range(30):
            f.write(block)
    sf.write(small, block[:9600, 0], 96000, subtype="FLOAT")
    done = subprocess.run([sys.executable, "-c", _PEAK, str(path), str(small)],
                          capture_output=True, text=True, timeout=120, check=True)
    frames, grew = map(int, done.stdout.split())
    assert frames == 30 * 48000
    assert grew < 80e6, f"loading grew the process by {grew / 1e6:.0f} MB"
