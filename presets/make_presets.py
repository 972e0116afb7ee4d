"""Write the ready projects of this folder (``python presets/make_presets.py``).

Each preset is a project folder as :meth:`gesturemap.project.Project.save` writes it: sensor
configuration, feature pipeline, model settings, starter takes, the model trained on them, and
the built-in synth's mapping (``outputs["synth"]``). README.md says what each one is for.

The takes are either real recordings (the smartwatch exercises, from
``../shared/datasets/ShoulderExerciseWatch``) or starter takes synthesised here from a
description of the gesture (the phone, mouse and drum-stick presets: no recording of those
sensors ships with gesturemap). Synthesised takes are labelled so in README.md; record your own
over them. Everything is seeded: running this again writes the same arrays (takes and models,
every ``.npz`` byte for byte); only the JSON files' time stamps and training times change.

Usage: ``python presets/make_presets.py [--shared DIR] [--only NAME ...] [--out DIR]``
(watch-exercises needs ``--shared``, the full data set: a clone has none beside it)
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from gesturemap.features import OneEuro, Pipeline, Select, WindowStats  # noqa: E402
from gesturemap.project import Project  # noqa: E402
from gesturemap.synth import SynthMapping  # noqa: E402
from gesturemap.synth.mapping import Route  # noqa: E402

SHARED = HERE.parent.parent / "shared"


def _project(name: str, **kw) -> Project:  # noqa: ANN003
    project = Project(name, **kw)
    project._uid = f"preset-{name}"  # a stable id: the generator writes the same project.json
    return project


def _outputs(mapping: SynthMapping, port: int = 12000) -> dict:
    return {"host": "127.0.0.1", "port": port, "synth": mapping.to_dict()}


# -- phone tilt and shake -> FM synth -------------------------------------------------------------
def phone_tilt_fm(shared: Path) -> Project:
    """TouchOSC's accelerometer (x, y, z in g, 50 Hz): tilt left/right plays the pitch, tilt
    towards/away the brightness, shaking the modulation (GMR, mapping by demonstration)."""
    rng = np.random.default_rng(1)
    rate = 50
    mapping = SynthMapping(
        routes=[
            Route("output:0", "pitch_hz", 0.0, 1.0, 110.0, 880.0, "exp"),
            Route("output:1", "brightness", 0.0, 1.0, 0.1, 1.0),
            Route("output:2", "mod_depth", 0.0, 1.0, 0.5, 8.0, smoothing_ms=80.0),
            Route("output:2", "vibrato_depth", 0.0, 1.0, 0.0, 0.8, smoothing_ms=80.0),
        ],
        parameters={"loudness": 0.25, "mod_ratio": 2.0, "follower_gain": 0.0},
        follower_sound=None,
    )
    project = _project(
        "phone-tilt-fm",
        model={"kind": "gmm", "params": {"gaussians": 6}},
        # mean and spread over 0.2 s: the mean is the tilt, the spread is the shaking
        pipeline=Pipeline([WindowStats(10, ("mean", "std"))], rate_hz=rate),
        sensor={"transport": "osc", "profile": "touchosc-accelerometer", "rate_hz": rate},
        input_names=["acc_x", "acc_y", "acc_z"],
        output_names=["pitch", "brightness", "shake"],
        outputs=_outputs(mapping),
    )
    s60 = np.sin(np.radians(60))
    # (gravity as the phone feels it, targets): flat, left, right, towards, away
    poses = [
        ((0.0, 0.0, -1.0), (0.5, 0.5, 0.0)),
        ((-s60, 0.0, -0.5), (0.0, 0.5, 0.0)),
        ((s60, 0.0, -0.5), (1.0, 0.5, 0.0)),
        ((0.0, s60, -0.5), (0.5, 1.0, 0.0)),
        ((0.0, -s60, -0.5), (0.5, 0.0, 0.0)),
    ]
    t = np.arange(2 * rate) / rate
    for gravity, target in poses:
        for _ in range(2):
            x = np.array(gravity) + rng.normal(0.0, 0.02, (len(t), 3))  # a hand is never still
            project.add_take(x, "tilt", times=t, outputs=np.tile(target, (len(t), 1)))
    for gravity in ((0.0, 0.0, -1.0), (-s60 / 2, 0.0, -0.8), (s60 / 2, 0.0, -0.8)):
        phase = rng.uniform(0, 2 * np.pi, 3)
        shake = 0.8 * np.sin(2 * np.pi * 6.0 * t[:, None] + phase)  # 6 Hz, +-0.8 g
        x = np.array(gravity) + shake + rng.normal(0.0, 0.05, (len(t), 3))
        pitch = 0.5 + 0.5 * gravity[0] / s60
        target = (pitch, 0.5, 1.0)
        project.add_take(x, "tilt", times=t, outputs=np.tile(target, (len(t), 1)))
    return project


# -- conducting -> sample follower ----------------------------------------------------------------
def _beat_pattern(points: list[tuple[float, float]], frames: int, rng: np.random.Generator):
    """A conducting figure through ``points`` (one bar, back to the start), as the mouse pad
    gives it: x, y in 0..1 (y down), vx, vy per second at 100 Hz."""
    from scipy.interpolate import CubicSpline

    pts = np.array([*points, points[0]], dtype=float)
    pts[:-1] += rng.normal(0.0, 0.015, (len(points), 2))  # no two bars alike
    pts[-1] = pts[0]
    knots = np.linspace(0.0, 1.0, len(pts))
    knots[1:-1] += rng.normal(0.0, 0.01, len(pts) - 2)  # rubato
    curve = CubicSpline(knots, pts, bc_type="periodic")
    u = np.linspace(0.0, 1.0, frames, endpoint=False)
    xy = np.clip(curve(u), 0.0, 1.0)
    v = np.gradient(xy, axis=0) * 100.0
    return np.hstack([xy, v])


def conducting_follower(shared: Path) -> Project:
    """The mouse (or a pen) conducts a bar in two, three or four; a hierarchical HMM follows the
    figure and its time progression plays a sound at the conductor's pace."""
    rng = np.random.default_rng(2)
    mapping = SynthMapping(
        routes=[
            Route("progress:*", "follower_position", 0.0, 1.0, smoothing_ms=40.0),
            Route("likelihood:*", "follower_gain", 0.4, 1.0, 0.0, 0.8),
        ],
        parameters={"loudness": 0.0},
        follower_sound="pad",
    )
    project = _project(
        "conducting-follower",
        model={"kind": "hhmm", "params": {"states": 12, "likelihood_window": 10,
                                          "decision": "window"}},
        pipeline=Pipeline([OneEuro(min_cutoff=2.0, beta=0.05)], rate_hz=100),
        sensor={"transport": "mouse", "profile": "mouse", "rate_hz": 100},
        input_names=["x", "y", "vx", "vy"],
        outputs=_outputs(mapping),
    )
    # beat points of the usual figures (y grows downwards on the pad)
    figures = {
        "two": [(0.5, 0.85), (0.65, 0.5), (0.45, 0.75), (0.5, 0.2)],
        "three": [(0.5, 0.85), (0.25, 0.6), (0.8, 0.7), (0.6, 0.35), (0.5, 0.2)],
        "four": [(0.5, 0.85), (0.2, 0.6), (0.85, 0.65), (0.65, 0.35), (0.5, 0.2)],
    }
    for label, points in figures.items():
        for _ in range(4):
            frames = int(rng.uniform(160, 240))  # a bar of 1.6 to 2.4 s
            x = _beat_pattern(points, frames, rng)
            project.add_take(x, label, times=np.arange(frames) / 100.0)
    return project


# -- air drums -> one-shots ----------------------------------------------------------------------
def air_drums(shared: Path) -> Project:
    """An MPU-6050 on a drum stick (Arduino, serial): a downward hit, a sideways flick and an
    upward flick each play their own sound; holding still plays nothing."""
    rng = np.random.default_rng(3)
    rate = 100
    mapping = SynthMapping(
        routes=[],
        parameters={"loudness": 0.0, "follower_gain": 0.0, "oneshot_gain": 0.9},
        follower_sound=None,
        oneshots={"snare": "wood", "hihat": "pluck", "crash": "bell"},
        onset_threshold=0.8,
        onset_release=0.4,
        onset_min_interval_ms=120.0,
    )
    project = _project(
        "air-drums",
        model={"kind": "gmm", "params": {"gaussians": 2, "likelihood_window": 3,
                                         "decision": "window"}},
        sensor={"transport": "serial", "profile": "arduino-imu-text", "rate_hz": rate},
        input_names=["acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"],
        outputs=_outputs(mapping),
    )
    rest = np.array([0.0, 0.0, 1.0, 0.0, 0.0, 0.0])  # gravity on z, no rotation
    for _ in range(4):  # holding the stick between hits
        x = rest + rng.normal(0.0, [0.03, 0.03, 0.03, 3.0, 3.0, 3.0], (150, 6))
        x[:, :3] += rng.normal(0.0, 0.1, 3)  # a slightly different grip each time
        project.add_take(x, "rest", times=np.arange(150) / rate)
    # each hit: a swing (rotation) and the stop (an acceleration spike), 0.25 s
    hits = {
        "snare": (2, 3, -1.0),  # down: acc_z, about gyro_x
        "hihat": (0, 5, 1.0),  # sideways: acc_x, about gyro_z
        "crash": (1, 4, 1.0),  # upwards: acc_y, about gyro_y
    }
    n = 25
    u = np.linspace(0.0, 1.0, n)
    swing = np.sin(np.pi * u)
    stop = np.exp(-(((u - 0.8) / 0.08) ** 2))
    for label, (acc, gyro, sign) in hits.items():
        for _ in range(6):
            gain = rng.uniform(0.7, 1.3)
            x = rest + rng.normal(0.0, [0.05, 0.05, 0.05, 5.0, 5.0, 5.0], (n, 6))
            x[:, gyro] += sign * gain * 400.0 * swing  # deg/s
            x[:, acc] += sign * gain * (1.5 * swing - 3.0 * stop)  # g
            project.add_take(x, label, times=np.arange(n) / rate)
    return project


# -- XY pad -> filter sweep ----------------------------------------------------------------------
def xy_pad_filter(shared: Path) -> Project:
    """The mouse pad as an XY controller: left to right sweeps the filter, top to bottom the
    FM timbre (GMR learns the mapping from four demonstrated sweeps)."""
    rng = np.random.default_rng(4)
    mapping = SynthMapping(
        routes=[
            Route("output:0", "brightness", 0.0, 1.0, 0.05, 1.0, smoothing_ms=20.0),
            Route("output:1", "mod_depth", 0.0, 1.0, 0.0, 6.0),
        ],
        parameters={"pitch_hz": 110.0, "loudness": 0.3, "mod_ratio": 1.0, "follower_gain": 0.0},
        follower_sound=None,
    )
    project = _project(
        "xy-pad-filter",
        model={"kind": "gmm", "params": {"gaussians": 5}},
        pipeline=Pipeline([Select(("x", "y"))], rate_hz=100),  # position only, not speed
        sensor={"transport": "mouse", "profile": "mouse", "rate_hz": 100},
        input_names=["x", "y", "vx", "vy"],
        output_names=["cutoff", "timbre"],
        outputs=_outputs(mapping),
    )
    for k in range(6):
        frames = 200
        u = np.linspace(0.0, 1.0, frames)
        if k % 2 == 0:  # horizontal sweeps: the cutoff follows x
            x, y = u, np.full(frames, 0.15 + 0.35 * k / 2)
        else:  # vertical sweeps: the timbre follows y
            x, y = np.full(frames, 0.2 + 0.3 * (k // 2)), u
        xy = np.column_stack([x, y]) + rng.normal(0.0, 0.005, (frames, 2))
        v = np.gradient(xy, axis=0) * 100.0
        targets = np.column_stack([xy[:, 0], 1.0 - xy[:, 1]]).clip(0.0, 1.0)
        project.add_take(np.hstack([xy, v]), "sweep", times=u * 2.0, outputs=targets)
    return project


# -- smartwatch exercises -----------------------------------------------------------------------
WATCH_SECONDS = 12.0


def watch_exercises(shared: Path) -> Project:
    """A smartwatch's accelerometer and gyroscope (6 channels, 50 Hz, sent to /wek/inputs):
    recognises 7 shoulder physiotherapy exercises; each plays its sound when recognised."""
    data = np.load(
        shared / "datasets" / "ShoulderExerciseWatch" / "ShoulderExerciseWatch_train.npz"
    )
    xc, lengths, y = data["X_concat"], data["lengths"], data["y"]
    subject, side = data["subject"], data["side"]
    channels = [str(c) for c in data["channels"]]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    sounds = ["bell", "chime", "pluck", "wood", "bell", "chime", "pluck"]
    labels = sorted({str(v) for v in y})
    mapping = SynthMapping(
        routes=[
            Route("likelihood:*", "loudness", 0.5, 1.0, 0.0, 0.15, "exp"),
            Route("progress:*", "follower_position", 0.0, 1.0),
        ],
        parameters={"pitch_hz": 196.0, "follower_gain": 0.25, "mod_depth": 1.0},
        follower_sound="pad",
        oneshots=dict(zip(labels, sounds, strict=True)),
        onset_threshold=0.9,
        onset_release=0.6,
        onset_min_interval_ms=2000.0,
    )
    project = _project(
        "watch-exercises",
        model={
            "kind": "hhmm",
            "params": {"states": 6, "transition": "ergodic", "likelihood_window": 50,
                       "decision": "window"},
        },
        sensor={"transport": "osc", "profile": "wekinator", "rate_hz": 50},
        input_names=channels,
        outputs=_outputs(mapping),
    )
    frames = int(WATCH_SECONDS * 50)
    for label in labels:
        # two subjects, right arm: the first 12 s (about 5 repetitions) of their set
        picks = [i for i in range(len(y)) if str(y[i]) == label and side[i] == 1][:2]
        for i in picks:
            x = xc[starts[i] : starts[i] + min(frames, lengths[i])]
            project.add_take(x, label, times=np.arange(len(x)) / 50.0)
        assert len({int(subject[i]) for i in picks}) == 2
    return project


#: The shared data a preset's takes come from (relative to --shared): the full recordings,
#: which no clone holds (tests/data/shared keeps 5-s excerpts of most of them).
NEEDS_SHARED = {
    "watch-exercises": Path("datasets") / "ShoulderExerciseWatch" / "ShoulderExerciseWatch_train.npz",
}

#: Files copied beside a preset (the licence of the data its takes come from).
EXTRA_FILES = {
    "watch-exercises": [
        Path("datasets") / "ShoulderExerciseWatch" / "LICENSE.seglearn-BSD-3-Clause",
    ],
}

PRESETS: dict[str, Callable[[Path], Project]] = {
    "phone-tilt-fm": phone_tilt_fm,
    "conducting-follower": conducting_follower,
    "air-drums": air_drums,
    "xy-pad-filter": xy_pad_filter,
    "watch-exercises": watch_exercises,
}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shared", type=Path, default=SHARED, help="the shared data folder")
    p.add_argument("--only", nargs="*", help="only these presets")
    p.add_argument("--out", type=Path, default=HERE, help="where the preset folders go")
    args = p.parse_args(argv)
    names = [name for name in PRESETS if not args.only or name in args.only]
    # said before any preset is written: a clone has no shared folder beside it, and a
    # traceback after four presets were rewritten tells a newcomer neither why nor what to do
    missing = [name for name in names
               if name in NEEDS_SHARED and not (args.shared / NEEDS_SHARED[name]).is_file()]
    if missing:
        others = " ".join(name for name in PRESETS if name not in NEEDS_SHARED)
        p.exit(2, f"{p.prog}: {', '.join(missing)} needs {args.shared / NEEDS_SHARED[missing[0]]}"
                  ", the full recordings (not in a clone): give the shared data folder with "
                  f"--shared DIR, or write the other presets with --only {others}\n")
    for name in names:
        build = PRESETS[name]
        project = build(args.shared)
        project.train()
        folder = args.out / name
        if folder.exists():
            shutil.rmtree(folder)
        project.save(folder)
        for extra in EXTRA_FILES.get(name, []):
            shutil.copy(args.shared / extra, folder / extra.name)
        print(f"{name}: {len(project.takes)} takes, classes {project.classes}, "
              f"{type(project.trained).__name__}")  # fmt: skip


if __name__ == "__main__":
    main()
