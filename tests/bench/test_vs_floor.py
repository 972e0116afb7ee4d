"""``gesturemap bench --latency --vs-floor``, short: one round of 1.5 s per server and load
(the first second of each warms it up), through the command line, on real loopback sockets and
real ``gesturemap run`` processes, with one external OSC server (a second python-osc echo in a
process of its own, as Wekinator would be; docs/performance.md) timed in the same rounds. Only
the shape and sanity of the figures are checked here; the figures belong in
docs/performance.md."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap

from gesturemap.bench import latency as bench_latency
from tests.paths import REPO_DIR
from tests.stage_helpers import free_port, rest_of

ROOT = REPO_DIR

#: An external server: answers each /wek/inputs with a /wek/outputs sent to a fixed port (as
#: Wekinator sends to the host and port its project names) and, when stopped, prints how many
#: frames it answered.
EXTERNAL = textwrap.dedent("""
    import signal, sys
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import BlockingOSCUDPServer
    from pythonosc.udp_client import SimpleUDPClient
    client = SimpleUDPClient("127.0.0.1", int(sys.argv[2]))
    count = 0
    def on_inputs(address, *args):
        global count
        count += 1
        client.send_message("/wek/outputs", float(len(args)))
    def stop(*_):
        print(count, flush=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    d = Dispatcher()
    d.map("/wek/inputs", on_inputs)
    server = BlockingOSCUDPServer(("127.0.0.1", int(sys.argv[1])), d)
    print("ready", flush=True)
    server.serve_forever()
""")




def _bench(args: list[str], timeout: float = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "gesturemap.cli", "bench", "--latency",
                           "--vs-floor", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_vs_floor_from_the_command_line_with_an_external_server(tmp_path):
    out = tmp_path / "vs_floor.json"
    ext_port, rx_port = free_port(), free_port()
    ext = subprocess.Popen([sys.executable, "-c", EXTERNAL, str(ext_port), str(rx_port)],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert ext.stdout.readline().strip() == "ready"
        run = _bench(["--rounds", "1", "--seconds", "1.5", "--external", f"echo2={ext_port}",
                      "--receive-port", str(rx_port),
                      "--warmup", "0.5", "--json", str(out)])
    finally:
        ext.send_signal(signal.SIGTERM)
        ext_out, _ = rest_of(ext, 10)
    assert run.returncode == 0, run.stderr[-3000:]
    # the user is told where replies are read and where the external server gets its frames
    assert f"replies are read on 127.0.0.1:{rx_port}; echo2: /wek/inputs to " \
           f"127.0.0.1:{ext_port}" in run.stdout
    servers = ("floor", "echo2", *bench_latency.VS_FLOOR_SERVERS[1:])
    res = json.loads(out.read_text())["vs_floor"]
    assert res["settings"]["client"] == "ordinary priority"
    assert res["settings"]["external"] == {"echo2": ext_port}
    assert res["settings"]["receive_port"] == rx_port
    assert [(r["round"], r["load"]) for r in res["rounds"]] == [(1, "idle"), (1, "busy")]
    for r in res["rounds"]:
        assert tuple(r["results"]) == servers
        for name, f in r["results"].items():
            assert f["frames"] == 300, (name, f)
            assert f["answered"] >= 0.9 * f["frames"], (name, f)  # UDP on loopback: all
            p50, p99, p999 = f["latency_us_p50"], f["latency_us_p99"], f["latency_us_p999"]
            assert all(math.isfinite(v) and v > 0 for v in (p50, p99, p999)), (name, f)
            assert p50 <= p99 <= p999 < 1e6, (name, f)
    # the external server really got the frames: the check, the warm-up and 2 x 300 timed ones
    # (its own count, from its process)
    assert int(ext_out.split()[-1]) >= 1 + 100 + 2 * 300 * 0.9, ext_out
    cpu = res["cpu_percent_1khz"]  # gesturemap's own servers only: the external's pid is unknown
    assert tuple(cpu) == bench_latency.VS_FLOOR_SERVERS[1:]
    assert all(0 < pct < 200 and math.isfinite(pct) for pct in cpu.values()), cpu
    assert "CPU at 1,000 frames/s" in run.stdout
    # the table printed has one row per server and load, each with its ratio to the floor
    rows = [line for line in run.stdout.splitlines() if line.startswith("| 1 |")]
    assert len(rows) == 2 * len(servers), run.stdout
    assert all(row.split("|")[7].strip().replace(".", "").isdigit() for row in rows), rows
    floor_rows = [row for row in rows if "floor" in row]
    assert [row.split("|")[7].strip() for row in floor_rows] == ["1.00", "1.00"]
    assert sum(f"echo2 (external, port {ext_port})" in row for row in rows) == 2, rows


def test_an_external_server_needs_a_receive_port_and_must_answer(reference_dir):
    port = free_port()
    run = _bench(["--reference", str(reference_dir), "--external", f"wek={port}"], 60)
    assert run.returncode == 2 and "--receive-port" in run.stderr, run.stderr
    # nothing listens on ``port``: told so within seconds, before any server starts
    rx_port = free_port()
    run = _bench(["--reference", str(reference_dir), "--external", f"wek={port}",
                  "--receive-port", str(rx_port)], 60)
    assert run.returncode == 2, run.stderr
    assert f"external server 'wek' gave no /wek/outputs on 127.0.0.1:{rx_port}" in run.stderr
    run = _bench(["--reference", str(reference_dir), "--external", "wek=notaport"], 60)
    assert run.returncode != 0 and "NAME=PORT" in run.stderr, run.stderr
    # a round too short to time anything (its first second only warms the server up) is
    # refused before any server starts
    run = _bench(["--seconds", "1"], 60)
    assert run.returncode == 2 and "--seconds" in run.stderr and "seconds > 1" in run.stderr, \
        run.stderr
