"""The audio callback as a compiled C function: it never takes Python's GIL.

Why: a callback written in Python needs the GIL before its first line runs. Any other thread
of the process may hold it — the engine's I/O thread preparing a retrain, the window's GUI
thread painting — and when the machine is busy the operating system may stop that thread for
a few milliseconds *while it holds the GIL* (it runs at ordinary priority; the audio thread's
real-time priority does not pass to it). The audio thread then waits past its deadline and
the block is lost. Measured on a 2-core machine with other work running (48 kHz, 128 frames,
the engine at 200 frames/s, 16 retrains): a Python callback lost 34 blocks, at the retrains;
this one lost none there (docs/performance.md, "Audio").

The writes a callback does go to memory touched beforehand (see ``Synth.__init__``): a page
fault in the audio thread waits for any other thread that is mapping memory. Nothing in it can
raise (numpy's error model, :data:`gesturemap.synth._kernels.AUDIO_THREAD`): numba reports an
exception raised in a ``cfunc`` through Python, taking the GIL in the audio thread
(tests/synth/test_callback.py reads the compiled code for raise sites, allocations and calls
into Python).

So PortAudio calls :func:`callback` (a numba ``cfunc``) directly. It reads everything through
raw pointers held in one ``int64`` control table (``userData``), renders with
:func:`gesturemap.synth._kernels.render`, counts callbacks and underruns, and times itself with
``clock_gettime`` (its address is in the table too, so the compiled code can be cached).

How data crosses threads without a lock:

- parameter targets and trigger counts: the engine thread writes them in place (whole values;
  a block may see some targets of one frame and some of the next, which the per-sample
  smoothing makes inaudible; a trigger count is one aligned 64-bit store);
- everything that changes with the mapping or the model's classes (sounds, smoothing,
  class -> sound) lives in one of :data:`N_CONFIG_SLOTS` config rows. The writer fills a row
  the callback is not reading and then stores its index in ``PENDING``; the callback moves to
  the pending row at the start of a block (``CURRENT``). A row is reused only after it has
  been retired for :data:`RETIRE_S` seconds, far longer than any block, and the arrays it
  points to stay referenced by the Python side until then.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from . import _kernels as K

#: Config rows: enough that a row is never reused while the callback might still read it.
N_CONFIG_SLOTS = 8
#: Seconds a retired config row stays untouched before it may be written again.
RETIRE_S = 0.25
#: Callback durations kept for the percentiles.
RING = 16384

# -- control table (int64) ----------------------------------------------------------------------
# pointers to the shared and audio-thread arrays
P_TARGETS = 0  # f64 (N_PARAMS,): written by the engine thread
P_TRIGGERS = 1  # i64 (classes,): onset counts, written by the engine thread
P_CUR = 2  # f64 (2, N_PARAMS)
P_STATE = 3  # f64 (N_STATE,)
P_SEEN = 4  # i64 (classes,)
P_G_POS = 5  # f64 (grains,)
P_G_AGE = 6  # i64 (grains,)
P_V_POS = 7  # i64 (voices,)
P_V_END = 8  # i64 (voices,)
P_COUNTERS = 9  # i64 (N_COUNTERS,)
P_RING = 10  # f64 (RING,): callback durations, µs
P_TIMESPEC = 11  # i64 (2,): clock_gettime's scratch
P_CLOCK = 12  # address of clock_gettime
# sizes
N_CLASSES = 13
N_GRAINS = 14
N_VOICES = 15
N_CHANNELS = 16
# config rows
PENDING = 17
CURRENT = 18
# counters written by the callback
CALLBACKS = 19
UNDERRUNS = 20
FIRST_UNDERRUN = 21  # callback index of the first underrun, -1: none
RING_POS = 22
N_CTL_HEAD = 24

# -- one config row (N_CFG columns, after the head) --------------------------------------------
C_COEF, C_LIMITS, C_CONSTS, C_FOLLOWER, C_FOLLOWER_N, C_WINDOW, C_WINDOW_N = range(7)
C_BANK, C_BANK_N, C_BANK_OFF, C_BANK_OFF_N, C_CLASS_SOUND = range(7, 12)
N_CFG = 12
N_CTL = N_CTL_HEAD + N_CONFIG_SLOTS * N_CFG

PA_OUTPUT_UNDERFLOW = 0x4
PA_CONTINUE = 0
CLOCK_MONOTONIC = 1


@intrinsic
def _ptr(typingctx, addr):  # pragma: no cover - compiled
    """An address (int64) as a ``void*``."""
    sig = types.voidptr(types.int64)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(types.voidptr))

    return sig, codegen


@intrinsic
def _addr(typingctx, ptr):  # pragma: no cover - compiled
    """A ``void*`` as an address (int64)."""
    sig = types.int64(types.voidptr)

    def codegen(context, builder, signature, args):
        return builder.ptrtoint(args[0], ir.IntType(64))

    return sig, codegen


@intrinsic
def _clock_gettime(typingctx, fn, ts):  # pragma: no cover - compiled
    """Call ``clock_gettime(CLOCK_MONOTONIC, ts)`` through its address ``fn``."""
    sig = types.int32(types.int64, types.voidptr)

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(i32, [i32, ir.IntType(8).as_pointer()])
        f = builder.inttoptr(args[0], fnty.as_pointer())
        return builder.call(f, [ir.Constant(i32, CLOCK_MONOTONIC), args[1]])

    return sig, codegen


@numba.njit(**K.AUDIO_THREAD)
def _now_ns(ctl):  # pragma: no cover - compiled
    ts = numba.carray(_ptr(ctl[P_TIMESPEC]), (2,), np.int64)
    _clock_gettime(ctl[P_CLOCK], _ptr(ctl[P_TIMESPEC]))
    return ts[0] * 1_000_000_000 + ts[1]


@numba.njit(**K.AUDIO_THREAD)
def _f64(addr, n):  # pragma: no cover - compiled
    return numba.carray(_ptr(addr), (n,), np.float64)


@numba.njit(**K.AUDIO_THREAD)
def _i64(addr, n):  # pragma: no cover - compiled
    return numba.carray(_ptr(addr), (n,), np.int64)


@numba.njit(**K.AUDIO_THREAD)
def _f32(addr, n):  # pragma: no cover - compiled
    return numba.carray(_ptr(addr), (n,), np.float32)


@numba.njit(**K.AUDIO_THREAD)
def render_block(ctl, out_addr, frames):  # pragma: no cover - compiled
    """Render one block of ``frames`` into the interleaved float32 buffer at ``out_addr``."""
    t0 = _now_ns(ctl)
    pending = ctl[PENDING]
    ctl[CURRENT] = pending
    row = N_CTL_HEAD + pending * N_CFG
    nch = ctl[N_CHANNELS]
    ncls = ctl[N_CLASSES]
    out = numba.carray(_ptr(out_addr), (frames, nch), np.float32)
    K.render(
        out,
        _f64(ctl[P_TARGETS], K.N_PARAMS),
        _i64(ctl[P_TRIGGERS], ncls),
        _i64(ctl[row + C_CLASS_SOUND], ncls),
        _f64(ctl[row + C_COEF], K.N_PARAMS),
        numba.carray(_ptr(ctl[row + C_LIMITS]), (2, K.N_PARAMS), np.float64),
        _f64(ctl[row + C_CONSTS], K.N_CONSTS),
        _f32(ctl[row + C_FOLLOWER], ctl[row + C_FOLLOWER_N]),
        _f64(ctl[row + C_WINDOW], ctl[row + C_WINDOW_N]),
        _f32(ctl[row + C_BANK], ctl[row + C_BANK_N]),
        _i64(ctl[row + C_BANK_OFF], ctl[row + C_BANK_OFF_N]),
        numba.carray(_ptr(ctl[P_CUR]), (2, K.N_PARAMS), np.float64),
        _f64(ctl[P_STATE], K.N_STATE),
        _i64(ctl[P_SEEN], ncls),
        _f64(ctl[P_G_POS], ctl[N_GRAINS]),
        _i64(ctl[P_G_AGE], ctl[N_GRAINS]),
        _i64(ctl[P_V_POS], ctl[N_VOICES]),
        _i64(ctl[P_V_END], ctl[N_VOICES]),
        _i64(ctl[P_COUNTERS], K.N_COUNTERS),
    )
    ring = _f64(ctl[P_RING], RING)
    i = ctl[RING_POS]
    ring[i % RING] = (_now_ns(ctl) - t0) * 1e-3
    ctl[RING_POS] = i + 1


_CALLBACK_SIGNATURE = types.int32(
    types.voidptr,  # const void *input
    types.voidptr,  # void *output
    types.uint64,  # unsigned long frameCount
    types.voidptr,  # const PaStreamCallbackTimeInfo *timeInfo
    types.uint64,  # PaStreamCallbackFlags statusFlags
    types.voidptr,  # void *userData: the control table
)


@numba.cfunc(_CALLBACK_SIGNATURE, nopython=True, **K.AUDIO_THREAD)
def callback(inp, outp, frames, time_info, flags, user):  # pragma: no cover - compiled
    """PortAudio's stream callback (``PaStreamCallback``): no GIL, no allocation, no error."""
    ctl = numba.carray(user, (N_CTL,), np.int64)
    if flags & PA_OUTPUT_UNDERFLOW:
        ctl[UNDERRUNS] += 1
        if ctl[FIRST_UNDERRUN] < 0:
            ctl[FIRST_UNDERRUN] = ctl[CALLBACKS]
    render_block(ctl, _addr(outp), np.int64(frames))
    ctl[CALLBACKS] += 1
    return PA_CONTINUE


def clock_gettime_address() -> int:
    """The address of libc's ``clock_gettime`` (looked up at run time, never cached)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
    return ctypes.cast(libc.clock_gettime, ctypes.c_void_p).value or 0
