"""The tests' own helpers that other tests' correctness rests on."""

from __future__ import annotations

import socket

from tests.stage_helpers import PORT_BASE, _port_block, free_port


def _ephemeral_low() -> int:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        return int(f.read().split()[0])


def test_free_ports_are_below_the_ephemeral_range_in_this_workers_block_and_bindable():
    block = _port_block()
    assert PORT_BASE <= block.start and block.stop <= _ephemeral_low()
    ports = [free_port() for _ in range(5)]
    assert len(set(ports)) == 5 and all(p in block for p in ports)
    # a port in use is passed over
    held = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        nxt = free_port()
        held.bind(("127.0.0.1", nxt + 1 if nxt + 1 in block else block.start))
        after = free_port()
        assert after != held.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", after))
    finally:
        held.close()
