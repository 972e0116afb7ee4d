"""OSC outputs on a real loopback socket: by default exactly what Wekinator sends; with
gesturemap's own messages asked for, Wekinator's /wek/outputs first and gesturemap's bundle
after (or on a port of their own); the optional rejection of a class no model is sure of."""

from __future__ import annotations

import dataclasses
import socket

import numpy as np
import pytest

from gesturemap.errors import GesturemapError
from gesturemap.models.base import Result
from gesturemap.outputs.osc import OSCOutput
from gesturemap.sources.osc import decode_message


def _result(likelihoods, label_index):
    lik = np.asarray(likelihoods, dtype=np.float64)
    return Result(label=["a", "b", "c"][label_index], label_index=label_index, likelihoods=lik,
                  log_likelihoods=np.log(lik), instant_likelihoods=lik,
                  instant_normalized_likelihoods=lik)


@pytest.fixture
def rx():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    yield sock
    sock.close()


def _wek_outputs(rx):
    data = rx.recv(65536)
    assert data.startswith(b"/wek/outputs")
    return decode_message(data)[1]


def _nothing_more(rx):
    rx.settimeout(0.2)
    try:
        extra = rx.recv(65536)
    except TimeoutError:
        return True
    finally:
        rx.settimeout(2)
    raise AssertionError(f"unexpected datagram {extra[:40]!r}")


@pytest.mark.parametrize("result", ["class", "regression", "gvf"])
def test_by_default_only_what_wekinator_sends_leaves(rx, result):
    lik = np.array([0.7, 0.3])
    res = Result(label="a", label_index=0, likelihoods=lik, log_likelihoods=np.log(lik),
                 instant_likelihoods=lik, instant_normalized_likelihoods=lik,
                 progress=np.array([0.4, 0.1]))
    if result == "regression":
        res = dataclasses.replace(res, output=np.array([0.25, 0.5]),
                                  output_covariance=np.eye(2))
    if result == "gvf":
        res = dataclasses.replace(res, speed=np.array([1.5, 0.75]))
    out = OSCOutput({"host": "127.0.0.1", "port": rx.getsockname()[1]})
    try:
        assert out.settings.extras_on == []
        for _ in range(3):
            out.send(res, None if result == "regression" else 1.0)
            got = decode_message(rx.recv(65536))
            assert got == (b"/wek/outputs", (0.25, 0.5) if result == "regression" else (1.0,))
        out.send_event("a", 0.9)  # a spotted gesture: gesturemap's own message, off
        out.send_status("status")  # Wekinator's own: on
        assert decode_message(rx.recv(65536)) == (b"/wekinator/status/done-training", ())
        assert _nothing_more(rx)
    finally:
        out.close()


def test_gesturemaps_own_messages_on_a_port_of_their_own(rx):
    from pythonosc.osc_bundle import OscBundle

    extra = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    extra.bind(("127.0.0.1", 0))
    extra.settimeout(2)
    out = OSCOutput({"host": "127.0.0.1", "port": rx.getsockname()[1],
                     "extras": {"port": extra.getsockname()[1]}})
    try:
        assert "label" in out.settings.extras_on
        out.send(_result([0.1, 0.8, 0.1], 1), 2.0)  # templates
        out.send(dataclasses.replace(_result([0.1, 0.8, 0.1], 1), speed=np.ones(3)), 2.0)
        out.send_event("b", 0.5)
        for _ in range(2):
            assert decode_message(rx.recv(65536)) == (b"/wek/outputs", (2.0,))
            bundle = OscBundle(extra.recv(65536))
            assert [m.address for m in bundle][:2] == ["/gesturemap/label",
                                                       "/gesturemap/likelihoods"]
        assert extra.recv(65536).startswith(b"/gesturemap/event\0")
        # a notice is gesturemap's own too: not on the Wekinator client's port
        out.send_texts("refused", "train", "no takes recorded yet")
        assert extra.recv(65536).startswith(b"/gesturemap/refused\0")
        # the answer to a request the client made goes back on the output port
        out.send_texts("suggestion", "circle", "slower", "its takes are short")
        assert rx.recv(65536).startswith(b"/gesturemap/suggestion\0")
        assert _nothing_more(rx)
        assert _nothing_more(extra)
    finally:
        out.close()
        extra.close()


def test_one_address_named_turns_that_message_on_alone(rx):
    out = OSCOutput({"host": "127.0.0.1", "port": rx.getsockname()[1],
                     "addresses": {"event": "/spotted"}})
    try:
        assert out.settings.extras_on == ["event"]
        out.send(_result([0.1, 0.8, 0.1], 1), 2.0)
        out.send_event("b", 0.5)
        assert decode_message(rx.recv(65536)) == (b"/wek/outputs", (2.0,))
        assert rx.recv(65536).startswith(b"/spotted\0")
        assert _nothing_more(rx)
    finally:
        out.close()
    with pytest.raises(GesturemapError):
        OSCOutput({"extras": {"host": "127.0.0.1"}})  # no port
    with pytest.raises(GesturemapError):
        OSCOutput({"extras": "yes"})


def test_a_class_below_the_rejection_threshold_is_sent_as_none(rx):
    out = OSCOutput({"host": "127.0.0.1", "port": rx.getsockname()[1], "reject_below": 0.6})
    try:
        out.send(_result([0.1, 0.8, 0.1], 1), 2.0)
        assert _wek_outputs(rx) == (2.0,)  # sure enough: the class number
        out.send(_result([0.35, 0.4, 0.25], 1), 2.0)
        assert _wek_outputs(rx) == (0.0,)  # not sure: none of them
    finally:
        out.close()
    # off by default: always the likeliest class, as Wekinator does
    out = OSCOutput({"host": "127.0.0.1", "port": rx.getsockname()[1]})
    try:
        out.send(_result([0.35, 0.4, 0.25], 1), 2.0)
        assert _wek_outputs(rx) == (2.0,)
    finally:
        out.close()
    with pytest.raises(GesturemapError):
        OSCOutput({"reject_below": 1.5})


def test_speed_scale_and_rotation_are_sent_when_the_model_gives_them(rx):
    from pythonosc.osc_bundle import OscBundle

    lik = np.array([0.7, 0.3])
    res = Result(label="a", label_index=0, likelihoods=lik, log_likelihoods=np.log(lik),
                 instant_likelihoods=lik, instant_normalized_likelihoods=lik,
                 progress=np.array([0.4, 0.1]), speed=np.array([1.5, 0.75]),
                 scale=np.array([[2.0, 1.0], [0.5, 0.25]]), rotation=np.array([[0.5], [-1.0]]))
    out = OSCOutput({"host": "127.0.0.1", "port": rx.getsockname()[1], "extras": True})
    try:
        out.send(res, 1.0)
        rx.recv(65536)  # /wek/outputs
        bundle = OscBundle(rx.recv(65536))
        got = {m.address: tuple(m.params) for m in bundle}
        assert got["/gesturemap/speed"] == (1.5, 0.75)
        assert got["/gesturemap/scale"] == (2.0, 1.0, 0.5, 0.25)
        assert got["/gesturemap/rotation"] == (0.5, -1.0)
        # a model without them (HHMM, GMM...) sends none of them
        out.send(_result([0.2, 0.5, 0.3], 1), 2.0)
        rx.recv(65536)
        assert not any(m.address.endswith(("speed", "scale", "rotation"))
                       for m in OscBundle(rx.recv(65536)))
    finally:
        out.close()


def test_the_label_message_numbers_classes_as_wek_outputs_does(rx):
    # a Wekinator project's classes are numbers: class 7 is 7 on /wek/outputs and on
    # /gesturemap/label alike (not its index + 1)
    from pythonosc.osc_bundle import OscBundle

    out = OSCOutput({"host": "127.0.0.1", "port": rx.getsockname()[1], "extras": True})
    try:
        out.send(_result([0.1, 0.8, 0.1], 1), 7.0)
        assert decode_message(rx.recv(65536))[1] == (7.0,)
        bundle = OscBundle(rx.recv(65536))
        label = next(m for m in bundle if m.address == "/gesturemap/label")
        assert list(label.params) == ["b", 7.0]
        out.send(_result([0.1, 0.8, 0.1], 1), None)  # no class number: the 1-based index
        rx.recv(65536)
        label = next(m for m in OscBundle(rx.recv(65536)) if m.address == "/gesturemap/label")
        assert list(label.params) == ["b", 2.0]
    finally:
        out.close()


def _datagrams(out, rx, results):
    got = []
    for r, number in results:
        out.send(r, number)
        if not out.settings.extras_on:  # /wek/outputs alone
            got.append(rx.recv(65536))
            continue
        while True:  # /wek/outputs, then the bundle (none when nothing is in it)
            try:
                rx.settimeout(0.2)
                data = rx.recv(65536)
            except TimeoutError:
                break
            got.append(data)
            if data.startswith(b"#bundle"):
                break
    return got


@pytest.mark.parametrize("settings", [{}, {"extras": True},
                                      {"extras": True, "reject_below": 0.4},
                                      {"extras": True, "addresses": {"progress": None}}])
def test_a_classifiers_frame_from_templates_is_byte_for_byte_the_general_encoding(rx, settings):
    port = rx.getsockname()[1]
    rng = np.random.default_rng(3)
    results = []
    for i in range(60):
        lik = rng.dirichlet(np.ones(3))
        r = _result(lik, int(np.argmax(lik)))
        if i % 3 == 0:  # a temporal model's progress
            r = dataclasses.replace(r, **{"progress": rng.random(3)})
        if i == 7:  # a model swapped in: the same index, another label
            r = dataclasses.replace(r, **{"label": "zz"})
        if i == 9:  # a value beyond float32: the general path clips it
            r = dataclasses.replace(r, **{"progress": np.array([1e39, 0.5, 0.2])})
        if i == 11:
            r = dataclasses.replace(r, **{"likelihoods": np.array([np.nan, 0.5, 0.5])})
        results.append((r, float(r.label_index + 1)))
    fast = OSCOutput({"host": "127.0.0.1", "port": port, **settings})
    general = OSCOutput({"host": "127.0.0.1", "port": port, **settings})
    general._fast = False
    try:
        assert fast._fast
        expected = _datagrams(general, rx, results)
        got = _datagrams(fast, rx, results)
        assert len(fast._templates) >= 3  # the templates were used, not only the general path
    finally:
        fast.close()
        general.close()
    assert len(got) == len(expected) >= (2 if settings else 1) * 50
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert g == e, (i, g, e)


def test_a_host_name_is_looked_up_once_off_the_frame_path(rx, monkeypatch):
    """A host given by name was resolved by every sendto (a DNS query per datagram): a DNS
    server that is slow or gone held the engine thread for seconds on each frame. Now the name
    is looked up once, on a thread of its own; frames before it resolves are counted, dropped."""
    import threading
    import time

    real = socket.getaddrinfo
    release = threading.Event()
    calls = []

    def fake(host, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if host == "gm-mixer.test":  # a name only this fake resolver knows, and slowly
            calls.append(host)
            release.wait(10)
            return real("127.0.0.1", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    out = OSCOutput({"host": "gm-mixer.test", "port": rx.getsockname()[1]})
    try:
        out.send(_result([0.2, 0.7, 0.1], 1), 2.0)  # the lookup hangs: the frame path does not
        assert out.sent == 0 and out.send_errors >= 1
        release.set()
        rx.settimeout(0.01)
        deadline = time.monotonic() + 10
        while True:
            out.send(_result([0.2, 0.7, 0.1], 1), 2.0)
            try:
                data = rx.recv(65536)
                break
            except TimeoutError:
                assert time.monotonic() < deadline, "the name never resolved"
        assert data.startswith(b"/wek/outputs")
        for _ in range(50):
            out.send(_result([0.2, 0.7, 0.1], 1), 2.0)
        assert calls == ["gm-mixer.test"]  # once, not once per datagram
    finally:
        out.close()


@pytest.mark.slow
@pytest.mark.parametrize("written", ["[::1]:{port}", "::1:{port}"])
def test_a_run_sends_to_an_ipv6_address(tmp_path, written):
    """An IPv6 address as --osc-out was taken for a host name no resolver knows: nothing was
    ever sent, and the log said "cannot resolve '::1'" every 2 s for the whole show."""
    import time

    from ..stage_helpers import float_msg, free_port, start_run, stop_run, two_level_project

    folder = two_level_project(tmp_path / "p")
    rx6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    rx6.bind(("::1", 0))
    rx6.settimeout(0.05)
    port_in = free_port()
    run, _ = start_run(folder, "--osc-in", f"127.0.0.1:{port_in}",
                       "--osc-out", written.format(port=rx6.getsockname()[1]))
    got = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            deadline = time.monotonic() + 10
            while not got and time.monotonic() < deadline:
                tx.sendto(float_msg("/wek/inputs", 0.9, 0.9), ("127.0.0.1", port_in))
                try:
                    got.append(rx6.recv(65536))
                except TimeoutError:
                    continue
    finally:
        _, err = stop_run(run)
        rx6.close()
    assert got and got[0].startswith(b"/wek/outputs"), err
    assert decode_message(got[0])[1] == (1.0,)  # "high": the first of the sorted labels
    assert "cannot resolve" not in err


@pytest.mark.slow
def test_a_scene_sending_extras_to_a_host_name_leaves_every_scene_playable(tmp_path):
    """A scene whose own messages went to a host name (``"extras": {"host": "mixer.local",
    "port": P}``) made the engine's scene preparation fail: no scene of the project could be
    recalled for the whole show, each recall left pending without a word. Now the name is
    looked up as the outputs' host is; until it resolves, those messages are dropped."""
    import json
    import time

    from ..stage_helpers import (
        float_msg,
        free_port,
        osc_message,
        osc_receiver,
        project_with_scenes,
        start_run,
        stop_run,
    )

    folder = project_with_scenes(tmp_path / "p")
    rx = osc_receiver()
    port_out = rx.getsockname()[1]
    saved = json.loads((folder / "project.json").read_text())
    saved["outputs"] = {"port": port_out}
    plain, swapped = saved["scenes"]
    plain["outputs"] = {"port": port_out}
    swapped["outputs"] = {"port": port_out, "extras": {"host": "mixer.invalid", "port": 9000}}
    (folder / "project.json").write_text(json.dumps(saved))
    port_in = free_port()
    run, _ = start_run(folder, "--osc-in", f"127.0.0.1:{port_in}")
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def answer_after(scene: str, want: float) -> bool:
        """Recall ``scene``, then send frames near 0.1 until /wek/outputs says ``want``."""
        tx.sendto(osc_message("/gesturemap/scene", scene), ("127.0.0.1", port_in))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            tx.sendto(float_msg("/wek/inputs", 0.1, 0.1), ("127.0.0.1", port_in))
            try:
                data = rx.recv(65536)
            except TimeoutError:
                continue
            if data.startswith(b"/wek/outputs") and decode_message(data)[1] == (want,):
                return True
        return False

    try:
        # classes sorted: "high" 1, "low" 2; the project plays the swapped mapping as opened
        recalled = [answer_after("plain", 2.0), answer_after("swapped", 1.0)]
    finally:
        _, err = stop_run(run)
        tx.close()
        rx.close()
    assert recalled == [True, True], err
    assert "cannot resolve 'mixer.invalid'" in err


def test_extras_to_a_host_name_of_their_own_go_there_once_it_resolves(rx, monkeypatch):
    import time

    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        # a name only this resolver knows: the machine's resolver may know no name but localhost
        return real("127.0.0.1" if host == "gm-extras.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    extras_rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    extras_rx.bind(("127.0.0.1", 0))
    extras_rx.settimeout(0.01)
    out = OSCOutput({"port": rx.getsockname()[1],
                     "extras": {"host": "gm-extras.test", "port": extras_rx.getsockname()[1]}})
    try:
        deadline = time.monotonic() + 10
        while True:
            out.send(_result([0.2, 0.7, 0.1], 1), 2.0)
            try:
                data = extras_rx.recv(65536)
                break
            except TimeoutError:
                assert time.monotonic() < deadline, "the extras' host never resolved"
        assert data.startswith(b"#bundle") and _wek_outputs(rx) == (2.0,)
    finally:
        out.close()
        extras_rx.close()


@pytest.mark.parametrize("fast", [True, False])
def test_any_label_is_sent_as_one_osc_string(rx, fast):
    """A class name holding a NUL ended the OSC string early and shifted the class's number
    (read from the label's tail); a lone surrogate (a hand-edited "\\udcff") raised on every
    frame; a name of 70,000 characters made every frame's bundle too large to send."""
    from pythonosc.osc_bundle import OscBundle

    out = OSCOutput({"port": rx.getsockname()[1], "extras": True,
                     # (a reject threshold takes the general path; nothing here is below it)
                     **({} if fast else {"reject_below": 0.01})})
    try:
        for label, sent in (("a\0bcde", "a bcde"), ("\udcff-x", "?-x"),
                            ("é" * 35000, "é" * 500)):
            lik = np.array([0.9, 0.1])
            r = Result(label=label, label_index=0, likelihoods=lik, log_likelihoods=np.log(lik),
                       instant_likelihoods=lik, instant_normalized_likelihoods=lik)
            out.send(r, 3.0)
            assert _wek_outputs(rx) == (3.0,)
            bundle = OscBundle(rx.recv(65536))
            label_msg = next(m for m in bundle if m.address == "/gesturemap/label")
            assert label_msg.params == [sent, 3.0]
    finally:
        out.close()
    assert out.send_errors == 0


@pytest.mark.slow
def test_a_run_sends_to_a_broadcast_address(tmp_path):
    """A broadcast address as --osc-out (every machine of a network) was refused by the
    kernel on every datagram (no SO_BROADCAST): nothing left, only output_send_errors grew."""
    import time

    from ..stage_helpers import float_msg, free_port, start_run, stop_run, two_level_project

    folder = two_level_project(tmp_path / "p")
    rx_bc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx_bc.bind(("127.255.255.255", 0))  # loopback's broadcast: what a receiver there hears
    rx_bc.settimeout(0.05)
    port_in = free_port()
    run, _ = start_run(folder, "--osc-in", f"127.0.0.1:{port_in}",
                       "--osc-out", f"127.255.255.255:{rx_bc.getsockname()[1]}")
    got = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            deadline = time.monotonic() + 10
            while not got and time.monotonic() < deadline:
                tx.sendto(float_msg("/wek/inputs", 0.9, 0.9), ("127.0.0.1", port_in))
                try:
                    got.append(rx_bc.recv(65536))
                except TimeoutError:
                    continue
    finally:
        _, err = stop_run(run)
        rx_bc.close()
    assert got and decode_message(got[0])[1] == (1.0,), err


#: In a network namespace of its own (nothing of the machine's touched): an OSC output to
#: 10.9.9.50 opened while no network is up, then a link comes up (a veth pair, 10.9.9.1 on
#: v0; 10.9.9.50 on its far end v1, told to v0 by a static neighbour entry); frames are sent
#: until a datagram is read off v1 with a packet socket, within a deadline.
_NETWORK_COMES_UP = r"""
import json, socket, subprocess, sys, time
import numpy as np
from gesturemap.models.base import Result
from gesturemap.outputs.osc import OSCOutput

def ip(command):
    return subprocess.run("ip " + command, shell=True, check=True, capture_output=True,
                          text=True).stdout

ip("link set lo up")
out = OSCOutput({"host": "10.9.9.50", "port": 12000})
one = np.ones(1)
r = Result(label=None, label_index=0, likelihoods=one, log_likelihoods=one,
           instant_likelihoods=one, instant_normalized_likelihoods=one,
           output=np.array([0.25]))
for _ in range(3):
    out.send(r, None)
before = {"sent": out.sent, "errors": out.send_errors}
ip("link add v0 type veth peer name v1")
ip("addr add 10.9.9.1/24 dev v0")
ip("link set v0 up")
ip("link set v1 up")
mac = json.loads(ip("-j link show v1"))[0]["address"]
ip(f"neigh replace 10.9.9.50 lladdr {mac} dev v0")
wire = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
wire.bind(("v1", 0))
wire.settimeout(0.05)
seen, deadline = None, time.monotonic() + 30
while seen is None and time.monotonic() < deadline:
    out.send(r, None)
    try:
        frame = wire.recv(65536)
    except TimeoutError:
        continue
    if b"/wek/outputs" in frame:
        seen = frame[frame.index(b"/wek/outputs"):].hex()
print(json.dumps({"before": before, "seen": seen, "from": out._sock.getsockname()[0]}))
"""


def test_an_output_opened_before_the_network_is_up_sends_once_it_is(tmp_path):
    """`gesturemap run --osc-out 192.168.1.20:12000` started before the laptop's network (a
    startup script, a cable plugged in at the venue): its socket was bound where no route
    was, and every datagram failed for the rest of the show. Now the route is looked up
    again once the sends fail, and /wek/outputs leaves on the link that came up."""
    import json
    import subprocess
    import sys

    probe = subprocess.run(["unshare", "-n", "ip", "link", "add", "v0", "type", "veth",
                            "peer", "name", "v1"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("needs a network namespace of its own (root, iproute2, veth): "
                    + probe.stderr.decode(errors="replace")[:200])
    done = subprocess.run(["unshare", "-n", sys.executable, "-c", _NETWORK_COMES_UP],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["before"] == {"sent": 0, "errors": 3}  # no route yet: counted, dropped
    assert got["seen"] is not None, f"nothing left on the link that came up: {got}"
    address, args = decode_message(bytes.fromhex(got["seen"]))
    assert (address, args) == (b"/wek/outputs", (0.25,))
    assert got["from"] == "10.9.9.1"


def test_a_host_name_that_never_resolves_is_said_once_then_now_and_then(monkeypatch, caplog):
    """A mixer's name mistyped, or its DNS down for the show: the log said "cannot resolve"
    every 2 s for the whole show. It says so once, then reminds with the count."""
    import logging
    import time

    from gesturemap.outputs import osc

    def nowhere(host, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", nowhere)
    monkeypatch.setattr(osc, "RESOLVE_RETRY_S", 0.01)
    monkeypatch.setattr(osc, "RESOLVE_REMIND_S", 0.5)
    caplog.set_level(logging.WARNING, logger=osc.log.name)
    out = OSCOutput({"host": "gm-mixer.invalid", "port": 9})
    try:
        time.sleep(1.2)
        out.send(_result([0.2, 0.7, 0.1], 1), 2.0)
        assert out.sent == 0 and out.send_errors == 1
    finally:
        out.close()
    said = [r.getMessage() for r in caplog.records if "resolve" in r.getMessage()]
    assert said and "cannot resolve 'gm-mixer.invalid'" in said[0], said
    assert 2 <= len(said) <= 4, said  # about 100 tries: the first, then a reminder each 0.5 s
    assert all("still cannot resolve" in s and "tries)" in s for s in said[1:]), said
