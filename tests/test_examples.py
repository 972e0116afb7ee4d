"""The example patches in examples/: the Pd patch runs in a real Pd (-nogui) against
`gesturemap run` over loopback UDP; the Max patch is checked for structure and addresses."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest

from .stage_helpers import free_port, start_run, stop_run, two_level_project


def test_pd_patch_talks_to_gesturemap_run(repo_dir, tmp_path):
    pd = shutil.which("pd")
    if pd is None:
        pytest.fail(
            "Pure Data is missing: apt-get install puredata-core (.ci/run does)", pytrace=False
        )
    folder = two_level_project(tmp_path / "p")
    port_in, port_out = free_port(), free_port()
    patch = (repo_dir / "examples" / "gesturemap.pd").read_text()
    assert "connect 127.0.0.1 6448" in patch and "netreceive -u -b 12000" in patch
    mine = tmp_path / "gesturemap.pd"  # the same patch on free ports
    mine.write_text(
        patch.replace("127.0.0.1 6448", f"127.0.0.1 {port_in}").replace(
            "-b 12000", f"-b {port_out}"
        )
    )
    stats = tmp_path / "stats.json"
    run, _ = start_run(
        folder,
        "--osc-in",
        f"127.0.0.1:{port_in}",
        "--osc-out",
        f"127.0.0.1:{port_out}",
        "--stats",
        stats,
    )
    try:
        sends = []
        for level in [0.9] * 10 + [0.1] * 10:  # each number box sends a frame when it moves
            sends += ["-send", f"gm-input2 {level}", "-send", f"gm-input1 {level}"]
        pd_proc = subprocess.Popen(
            [pd, "-nogui", "-noaudio", "-nomidi", "-stderr", "-open", str(mine), *sends],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        time.sleep(4)
        pd_proc.terminate()
        printed = pd_proc.communicate(timeout=10)[0]
        time.sleep(1.2)  # the stats file is rewritten every second
    finally:
        stop_run(run)
    s = json.loads(stats.read_text())
    assert s["frames_in"] == 40 and s["bad_packets"] == 0, s
    labels = [
        ln.split(":", 1)[1].split()[0] for ln in printed.splitlines() if ln.startswith("label:")
    ]
    assert len(labels) == 40, printed  # an answer for every frame
    # the frame where only input2 has moved is mixed: either class
    assert labels[1:20] == ["high"] * 19 and labels[-18:] == ["low"] * 18, labels
    assert "wek-outputs:" in printed and "likelihoods:" in printed


def test_max_patch_structure_and_addresses(repo_dir):
    doc = json.loads((repo_dir / "examples" / "gesturemap.maxpat").read_text())
    boxes = {b["box"]["id"]: b["box"] for b in doc["patcher"]["boxes"]}
    texts = [b.get("text", "") for b in boxes.values()]
    assert "udpsend 127.0.0.1 6448" in texts and "udpreceive 12000" in texts
    assert "prepend /wek/inputs" in texts
    assert any(t.startswith("route /wek/outputs /gesturemap/label") for t in texts)
    for line in doc["patcher"]["lines"]:  # every cord joins two boxes at existing ports
        (src, outlet), (dst, inlet) = line["patchline"]["source"], line["patchline"]["destination"]
        assert outlet < boxes[src]["numoutlets"] and inlet < boxes[dst]["numinlets"], line
