"""The compiled audio callback can neither raise, nor allocate, nor call into Python.

PortAudio calls :func:`gesturemap.synth._callback.callback` (a numba ``cfunc``) from the audio
server's real-time thread. numba wraps a ``cfunc`` so that an exception raised inside it is
reported through Python: the wrapper takes the GIL (``numba_gil_ensure``), unpickles the
exception and prints it. Such a branch is harmless only while nothing inside can raise. With
Python's error model every float division carries a ``ZeroDivisionError`` check, so the callback
held two such raise sites, and any division by zero would have made the audio thread wait for
whichever Python thread held the GIL. The kernels use numpy's error model (a division by zero
gives inf or NaN, which the render kernel already turns into silence).

The test reads the LLVM IR of the callback and everything it calls. numba shows IR only for
code it compiled in the same process, so a child process compiles the callback afresh (an
empty numba cache of its own).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

#: what the callback's own code must never call: an allocator (numba's runtime or libc's), the
#: GIL, the Python C API, or numba's raising and exception-building helpers
FORBIDDEN = re.compile(
    r"^(NRT_(MemInfo_(alloc|new|varsize)\w*|Allocate\w*)|malloc|calloc|realloc"
    r"|numba_gil_\w+|_?Py\w+|numba_(do_raise|unpickle|runtime_build_excinfo_struct))$"
)

IR_SCRIPT = ("import sys\nfrom gesturemap.synth import _callback as C\n"
             "sys.stdout.write(C.callback.inspect_llvm())\n")


def _functions(ir: str) -> dict[str, str]:
    """The functions the IR defines: name -> body."""
    out = {}
    for m in re.finditer(r"^define [^\n]*?@\"?([\w.$]+)\"?\(.*?^}", ir, re.M | re.S):
        out[m.group(1)] = m.group(0)
    return out


def _callees(body: str) -> set[str]:
    return set(re.findall(r"call [^@\n]*@\"?([\w.$]+)", body))


def test_the_compiled_audio_callback_cannot_raise_allocate_or_take_the_gil(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    ir = subprocess.run([sys.executable, "-c", IR_SCRIPT], env=env, capture_output=True,
                        text=True, timeout=600, check=True).stdout
    functions = _functions(ir)
    wrapper = [name for name in functions if name.startswith("cfunc.")]
    assert len(wrapper) == 1, sorted(functions)
    # the IR holds the callback's own code: the block renderer and the synth kernel it calls
    assert any("render_block" in name for name in functions), sorted(functions)
    assert any("_kernels6render" in name for name in functions), sorted(functions)

    # no raise site anywhere: numba compiles every `raise` (and every check Python's error model
    # adds) to a store of a pickled exception constant. Without one, no call in the callback
    # returns an error, and the wrapper's error branch — its only use of the GIL — never runs.
    raising = re.findall(r"store ptr @\.const\.picklebuf\.\w+, ptr %excinfo", ir)
    assert not raising, f"{len(raising)} raise site(s) in the audio callback's code"

    # the callback's own code calls no allocator, no GIL and no Python. (NRT_incref/NRT_decref
    # may stay: the arrays it reads are carrays over raw pointers, with no memory info, for
    # which both return at once.)
    for name, body in functions.items():
        if name in wrapper:
            continue
        bad = sorted(c for c in _callees(body) if FORBIDDEN.match(c))
        assert not bad, f"{name} calls {bad}"
