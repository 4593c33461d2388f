"""Loopback ports for tests that start their own servers (Elasticsearch nodes, Redis) or need a dead address."""

from __future__ import annotations

import socket

import pytest


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dead_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


def _taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_node_ports(first: int, last: int, nodes: int, what: str) -> int:
    """A base port p in [first, last) such that p..p+nodes-1 and their transport ports (+100) are all free."""
    for base in range(first, last, nodes):
        ports = [base + i for i in range(nodes)] + [base + 100 + i for i in range(nodes)]
        if not any(_taken(p) for p in ports):
            return base
    pytest.skip(f"no free loopback ports for {what}")
