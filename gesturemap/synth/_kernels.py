"""Render and mapping kernels of the built-in synth, compiled by numba.

Both kernels are pure functions over arrays that the caller owns: they allocate nothing, take
no lock and release the GIL (``nogil``), so the audio callback spends its time computing rather
than waiting for the engine thread, and the engine thread runs while a block renders.

They are compiled eagerly for one explicit signature each (``cache=True``: once per machine,
then loaded from the cache at import). An explicit signature also means numba never compiles
again at call time: an array of an unexpected type raises ``TypeError`` at once (which the
callback turns into silence and counts) instead of stalling the audio thread for a second.
Input arrays are declared read-only with layout ``A``; numba converts writeable and contiguous
arrays to that type for free.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import types

TWO_PI = 2.0 * math.pi

# -- parameter slots (the order of the targets array) ------------------------------------------
PITCH_HZ = 0
LOUDNESS = 1
BRIGHTNESS = 2
MOD_DEPTH = 3
MOD_RATIO = 4
VIBRATO_DEPTH = 5
VIBRATO_RATE_HZ = 6
FOLLOWER_POSITION = 7
FOLLOWER_GAIN = 8
FOLLOWER_TRANSPOSE = 9
ONESHOT_GAIN = 10
MASTER_GAIN = 11
N_PARAMS = 12
#: The gains that fade to 0 on a bad parameter or after a reset, so the sound never jumps.
_GAINS = (LOUDNESS, FOLLOWER_GAIN, ONESHOT_GAIN, MASTER_GAIN)

# -- float state slots --------------------------------------------------------------------------
S_CARRIER = 0  # carrier phase, cycles
S_MODULATOR = 1  # modulator phase, cycles
S_VIBRATO = 2  # vibrato phase, cycles
S_LOWPASS = 3  # brightness low-pass memory
S_LIMITER = 4  # limiter gain
S_HOP = 5  # samples until the next grain starts
S_RANDOM = 6  # grain jitter generator state
S_FOLLOW = 7  # follower's smoothed read position, in samples of the follower sound
N_STATE = 8

# -- constants ----------------------------------------------------------------------------------
K_RATE = 0  # sample rate, Hz
K_CEILING = 1  # limiter ceiling, linear
K_RELEASE = 2  # limiter release coefficient per sample
K_HOP = 3  # grain hop, samples
K_GRAIN_NORM = 4  # 1 / sum of overlapping windows
K_JITTER = 5  # grain start jitter, samples
N_CONSTS = 6

# -- counters -----------------------------------------------------------------------------------
C_BAD_PARAMS = 0  # blocks rendered muted because a parameter was NaN or infinite
C_BAD_OUTPUT = 1  # blocks replaced by silence because a sample was not finite
C_ONESHOTS = 2  # one-shot sounds started
C_DROPPED = 3  # one-shot triggers dropped (every voice busy)
C_LIMITED = 4  # samples the limiter turned down
N_COUNTERS = 5

# -- route table columns (mapping) --------------------------------------------------------------
R_KIND, R_INDEX, R_TARGET, R_IN_MIN, R_IN_MAX, R_OUT_MIN, R_OUT_MAX, R_CURVE, R_K = range(9)
N_ROUTE_COLUMNS = 9
KIND_OUTPUT, KIND_LIKELIHOOD, KIND_PROGRESS = 0, 1, 2
#: A GVF's estimates: read from the (3C,) variation array (speeds, scales, rotations).
KIND_SPEED, KIND_SCALE, KIND_ROTATION = 3, 4, 5
CURVE_LIN, CURVE_EXP, CURVE_LOG = 0, 1, 2


def _ro(dtype: types.Type, ndim: int) -> types.Array:
    return types.Array(dtype, ndim, "A", readonly=True)


def _rw(dtype: types.Type, ndim: int) -> types.Array:
    return types.Array(dtype, ndim, "A")


f64, f32, i64 = types.float64, types.float32, types.int64

#: numba's options for everything the audio thread runs. numpy's error model: with Python's, a
#: float division carries a ZeroDivisionError check, and a raise inside the audio callback is
#: reported through Python (the cfunc's wrapper takes the GIL in the audio thread). Here a
#: division by zero gives inf or NaN, which :func:`render` answers with silence.
AUDIO_THREAD = {"cache": True, "nogil": True, "error_model": "numpy"}


@numba.njit(**AUDIO_THREAD)
def reset(cur, st, g_age, v_pos, v_end):  # pragma: no cover - compiled
    """Silence every voice and restart from the sanitised targets with the gains at 0."""
    for k in range(N_PARAMS):
        v = cur[1, k]
        cur[0, k] = v if math.isfinite(v) else 0.0
    for k in _GAINS:
        cur[0, k] = 0.0
    for k in range(N_STATE):
        st[k] = 0.0
    st[S_LIMITER] = 1.0
    for g in range(g_age.shape[0]):
        g_age[g] = -1
    for v in range(v_pos.shape[0]):
        v_pos[v] = 0
        v_end[v] = 0


_RENDER_SIGNATURE = types.void(
    _rw(f32, 2),  # out (frames, channels)
    _ro(f64, 1),  # targets (N_PARAMS,)
    _ro(i64, 1),  # triggers (classes,) cumulative onset counts
    _ro(i64, 1),  # class_sound (classes,) sound index or -1
    _ro(f64, 1),  # coef (N_PARAMS,) smoothing coefficient per sample
    _ro(f64, 2),  # limits (2, N_PARAMS) min, max
    _ro(f64, 1),  # consts (N_CONSTS,)
    _ro(f32, 1),  # follower sound
    _ro(f64, 1),  # grain window
    _ro(f32, 1),  # one-shot bank, sounds back to back
    _ro(i64, 1),  # bank offsets (sounds + 1,)
    _rw(f64, 2),  # cur (2, N_PARAMS): smoothed values, sanitised targets
    _rw(f64, 1),  # state (N_STATE,)
    _rw(i64, 1),  # seen trigger counts
    _rw(f64, 1),  # grain read positions
    _rw(i64, 1),  # grain ages (-1: free)
    _rw(i64, 1),  # voice positions in the bank
    _rw(i64, 1),  # voice ends in the bank
    _rw(i64, 1),  # counters (N_COUNTERS,)
)


@numba.njit(_RENDER_SIGNATURE, **AUDIO_THREAD)
def render(  # noqa: C901, PLR0915 - the audio callback's kernel: one pass per block, kept whole
    out,
    targets,
    triggers,
    class_sound,
    coef,
    limits,
    consts,
    follower,
    window,
    bank,
    bank_off,
    cur,
    st,
    seen,
    g_pos,
    g_age,
    v_pos,
    v_end,
    counters,
):  # pragma: no cover
    """Render one block into ``out`` (every channel gets the same mono signal).

    Parameters are smoothed per sample towards ``targets`` (one-pole, coefficient ``coef``).
    A non-finite target keeps its last value and mutes the synth (gains fade to 0); a
    non-finite sample silences the whole block and resets the voices. A peak limiter with
    instant attack keeps every sample within ``consts[K_CEILING]``.
    """
    n = out.shape[0]
    nch = out.shape[1]
    fs = consts[K_RATE]
    ceiling = consts[K_CEILING]
    release = consts[K_RELEASE]
    hop = consts[K_HOP]
    grain_norm = consts[K_GRAIN_NORM]
    jitter = consts[K_JITTER]
    glen = window.shape[0]
    flen = follower.shape[0]
    n_grains = g_age.shape[0]
    n_voices = v_pos.shape[0]

    # sanitised targets (row 1 of cur)
    bad = False
    for k in range(N_PARAMS):
        t = targets[k]
        if not math.isfinite(t):
            bad = True
            t = cur[0, k]
        cur[1, k] = min(max(t, limits[0, k]), limits[1, k])
    if bad:
        cur[1, MASTER_GAIN] = 0.0
        counters[C_BAD_PARAMS] += 1

    # one-shot onsets
    n_sounds = bank_off.shape[0] - 1
    for c in range(min(triggers.shape[0], seen.shape[0], class_sound.shape[0])):
        if triggers[c] != seen[c]:
            seen[c] = triggers[c]
            s = class_sound[c]
            if s < 0 or s >= n_sounds:
                continue
            free = -1
            for v in range(n_voices):
                if v_pos[v] >= v_end[v]:
                    free = v
                    break
            if free < 0:
                counters[C_DROPPED] += 1
            else:
                v_pos[free] = bank_off[s]
                v_end[free] = bank_off[s + 1]
                counters[C_ONESHOTS] += 1

    # follower: the region a grain may start in, at up to 2x playback rate
    region = flen - 2 * glen - 2
    broken = False
    for i in range(n):
        for k in range(N_PARAMS):
            cur[0, k] = cur[1, k] + (cur[0, k] - cur[1, k]) * coef[k]

        # -- FM voice with vibrato and a brightness low-pass
        vib = cur[0, VIBRATO_DEPTH] * math.sin(TWO_PI * st[S_VIBRATO])
        f = cur[0, PITCH_HZ] * 2.0 ** (vib / 12.0)
        ph = st[S_VIBRATO] + cur[0, VIBRATO_RATE_HZ] / fs
        st[S_VIBRATO] = ph - math.floor(ph)
        ph = st[S_MODULATOR] + f * cur[0, MOD_RATIO] / fs
        st[S_MODULATOR] = ph - math.floor(ph)
        ph = st[S_CARRIER] + f / fs
        st[S_CARRIER] = ph - math.floor(ph)
        x = math.sin(
            TWO_PI * st[S_CARRIER] + cur[0, MOD_DEPTH] * math.sin(TWO_PI * st[S_MODULATOR])
        )
        cutoff = 40.0 * 500.0 ** cur[0, BRIGHTNESS]
        a = 1.0 - math.exp(-TWO_PI * min(cutoff, 0.45 * fs) / fs)
        st[S_LOWPASS] += a * (x - st[S_LOWPASS])
        y = st[S_LOWPASS] * cur[0, LOUDNESS]

        # -- sample follower: overlapping Hann grains read at the transposition's rate from
        # the gesture's position, so a slow gesture stretches time without lowering the pitch
        if region > 0:
            rate = 2.0 ** (cur[0, FOLLOWER_TRANSPOSE] / 12.0)
            st[S_FOLLOW] = cur[0, FOLLOWER_POSITION] * (flen - 1)
            st[S_HOP] -= 1.0
            if st[S_HOP] <= 0.0:
                st[S_HOP] += hop
                slot = -1
                for g in range(n_grains):
                    if g_age[g] < 0:
                        slot = g
                        break
                if slot >= 0:
                    # a small random offset keeps a frozen position from sounding like a comb
                    r = (st[S_RANDOM] * 1103515245.0 + 12345.0) % 2147483648.0
                    st[S_RANDOM] = r
                    start = st[S_FOLLOW] - 0.5 * glen * rate + (r / 2147483648.0 - 0.5) * jitter
                    g_pos[slot] = min(max(start, 0.0), float(region))
                    g_age[slot] = 0
            grains = 0.0
            for g in range(n_grains):
                age = g_age[g]
                if age >= 0:
                    p = g_pos[g]
                    j = int(p)
                    if j + 1 < flen:
                        fr = p - j
                        grains += (follower[j] * (1.0 - fr) + follower[j + 1] * fr) * window[age]
                    g_pos[g] = p + rate
                    g_age[g] = age + 1 if age + 1 < glen else -1
            y += grains * grain_norm * cur[0, FOLLOWER_GAIN]

        # -- one-shot voices
        shots = 0.0
        for v in range(n_voices):
            if v_pos[v] < v_end[v]:
                shots += bank[v_pos[v]]
                v_pos[v] += 1
        y = (y + shots * cur[0, ONESHOT_GAIN]) * cur[0, MASTER_GAIN]

        if not (abs(y) < 1e30):  # NaN or inf: never reaches the device
            broken = True
            y = 0.0

        # -- limiter: instant attack, exponential release; then a hard guard
        gain = 1.0 - (1.0 - st[S_LIMITER]) * release
        ay = abs(y)
        if ay * gain > ceiling:
            gain = ceiling / ay
            counters[C_LIMITED] += 1
        st[S_LIMITER] = gain
        y *= gain
        if y > ceiling:
            y = ceiling
        elif y < -ceiling:
            y = -ceiling
        for c in range(nch):
            out[i, c] = y

    if broken:
        counters[C_BAD_OUTPUT] += 1
        for i in range(n):
            for c in range(nch):
                out[i, c] = 0.0
        reset(cur, st, g_age, v_pos, v_end)


_MAP_SIGNATURE = types.void(
    _ro(f64, 2),  # route table (routes, N_ROUTE_COLUMNS)
    _ro(f64, 1),  # base values (N_PARAMS,)
    _ro(f64, 1),  # regression output (D_out,) or empty
    _ro(f64, 1),  # likelihoods (C,)
    _ro(f64, 1),  # progress (C,) or empty
    _ro(f64, 1),  # variation (3C,): speed, scale, rotation of each class (GVF) or empty
    i64,  # the class "*" routes read (-1: none chosen)
    _rw(f64, 1),  # targets out (N_PARAMS,)
)


@numba.njit(_MAP_SIGNATURE, cache=True, nogil=True)
def map_routes(
    table, base, output, likelihoods, progress, variation, label_index, targets
):  # pragma: no cover - compiled
    """Targets = base values, then each route's source scaled into its parameter's range.

    A route whose source is missing (no regression output, no progress, index out of range)
    leaves its parameter alone, as a ``*`` route does when ``label_index`` is -1 (no class
    chosen); a non-finite source value gives a non-finite target, which the
    render kernel answers with silence. When two routes drive one parameter, the last wins.
    """
    for k in range(targets.shape[0]):
        targets[k] = base[k]
    for r in range(table.shape[0]):
        kind = int(table[r, R_KIND])
        idx = int(table[r, R_INDEX])
        if idx < 0:
            idx = label_index
            if idx < 0:  # "*" with no class chosen (rejected, or no DTW match): at rest
                continue
        if kind == KIND_OUTPUT:
            src = output
        elif kind == KIND_LIKELIHOOD:
            src = likelihoods
        elif kind == KIND_PROGRESS:
            src = progress
        else:
            src = variation
            if idx >= likelihoods.shape[0]:
                continue
            idx += (kind - KIND_SPEED) * likelihoods.shape[0]
        if idx < 0 or idx >= src.shape[0]:
            continue
        v = src[idx]
        t = int(table[r, R_TARGET])
        if not math.isfinite(v):
            targets[t] = math.nan
            continue
        x = (v - table[r, R_IN_MIN]) / (table[r, R_IN_MAX] - table[r, R_IN_MIN])
        x = min(max(x, 0.0), 1.0)
        curve = int(table[r, R_CURVE])
        kk = table[r, R_K]
        if curve == CURVE_EXP:
            x = math.expm1(kk * x) / math.expm1(kk)
        elif curve == CURVE_LOG:
            x = math.log1p(math.expm1(kk) * x) / kk
        targets[t] = table[r, R_OUT_MIN] + x * (table[r, R_OUT_MAX] - table[r, R_OUT_MIN])


def readonly(a: np.ndarray) -> np.ndarray:
    """``a`` itself, marked read-only (the type the kernels are compiled for)."""
    a.flags.writeable = False
    return a
