"""A model handed over by the trainer has its compiled kernels loaded: its first frame on the
engine thread never waits on numba's compiler lock (held for a whole compile, e.g. by the
compiled frame path's kernel compiling on its own thread the first time a machine runs it).

Each case runs in a fresh interpreter: this test session has loaded every kernel already."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROBE = textwrap.dedent("""
    import sys, threading
    import numpy as np
    import gesturemap as gm
    from numba.core.compiler_lock import global_compiler_lock
    from gesturemap.live.trainer import Trainer

    def main():
        mode, kind = sys.argv[1], sys.argv[2]
        rng = np.random.default_rng(0)
        ds = gm.Dataset()
        for label, level in (("a", 0.0), ("b", 1.0)):
            for _ in range(3):
                ds.add(level + 0.1 * rng.standard_normal((30, 2)), label=label)
        with Trainer(mode) as trainer:
            model = trainer.train({"hhmm": gm.HHMM, "gmm": gm.GMM}[kind](), ds).result(
                timeout=120)
        answered = threading.Event()

        def first_frame():
            model.stream().step(np.zeros(2))
            answered.set()

        with global_compiler_lock:  # as a compile on another thread holds it
            threading.Thread(target=first_frame, daemon=True).start()
            print("answered" if answered.wait(5) else "waited", flush=True)

    if __name__ == "__main__":
        main()
""")


@pytest.mark.parametrize(("mode", "kind"), [("thread", "hhmm"), ("thread", "gmm"),
                                            ("process", "hhmm")])
def test_the_first_frame_of_a_trained_model_never_waits_for_a_compile(tmp_path: Path,
                                                                       mode: str, kind: str):
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    out = subprocess.run([sys.executable, str(script), mode, kind], capture_output=True,
                         text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "answered", out.stdout + out.stderr[-2000:]
