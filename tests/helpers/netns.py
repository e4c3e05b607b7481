"""Another host on a private link: a network namespace joined to this one by a veth pair.

A connection from inside the namespace to :attr:`Link.host_address` arrives at this
machine from an address that is not loopback, as one from a neighbour on the network
would. The link's /30 is picked at random in 10.213.0.0/16, never one this machine
already uses, and the machine's own addresses are never touched. Needs root (``ip netns``).
"""

from __future__ import annotations

import ipaddress
import os
import random
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

POOL = ipaddress.IPv4Network("10.213.0.0/16")
# Run inside the namespace: one TCP connection, and how it went.
PROBE = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5).close()
    print("connected")
except ConnectionRefusedError:
    print("refused")
except OSError as error:
    print(type(error).__name__)
"""


@dataclass(frozen=True)
class Link:
    """A namespace and the two ends of its veth pair."""

    namespace: str
    host_address: str  # this machine's end: what the namespace connects to
    peer_address: str  # the namespace's end: where its connections come from

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        """A command run inside the namespace."""
        return subprocess.run(  # noqa: S603 - fixed argv built here, no shell
            ["ip", "netns", "exec", self.namespace, *command],  # noqa: S607 - iproute2's ip from PATH, as an operator runs it
            capture_output=True,
            text=True,
            timeout=30,
        )

    def connect(self, port: int) -> str:
        """Connect from the namespace to this machine's end at ``port``: ``"connected"``,
        ``"refused"``, or the name of another error (a timeout would mean a firewall)."""
        result = self.run(sys.executable, "-c", PROBE, self.host_address, str(port))
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


def _ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)  # noqa: S603, S607 - fixed argv built here, no shell; iproute2's ip from PATH, as an operator runs it
    if result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")


def _free_subnet() -> ipaddress.IPv4Network:
    """A /30 from ``POOL`` that overlaps nothing this machine has an address in."""
    shown = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True, check=True)  # noqa: S607 - iproute2's ip from PATH, as an operator runs it
    used = [
        ipaddress.IPv4Interface(word).network
        for word in shown.stdout.split()
        if "/" in word and word[0].isdigit() and ":" not in word
    ]
    subnets = list(POOL.subnets(new_prefix=30))
    while True:
        subnet = random.choice(subnets)  # noqa: S311 - test data or jitter, not a secret
        if not any(subnet.overlaps(network) for network in used):
            return subnet


def _need_root() -> None:
    if os.geteuid() == 0:
        return
    reason = "creating a network namespace needs root"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def private_link() -> Iterator[Link]:
    """A fresh namespace with a veth pair to this machine, removed afterwards."""
    _need_root()
    name = "lk" + uuid.uuid4().hex[:8]  # interface names stay under 16 characters
    host_end, peer_end = f"{name}h", f"{name}p"
    host, peer = list(_free_subnet().hosts())
    _ip("netns", "add", name)
    try:
        _ip("link", "add", host_end, "type", "veth", "peer", "name", peer_end)
        _ip("link", "set", peer_end, "netns", name)
        _ip("addr", "add", f"{host}/30", "dev", host_end)
        _ip("link", "set", host_end, "up")
        _ip("-n", name, "addr", "add", f"{peer}/30", "dev", peer_end)
        _ip("-n", name, "link", "set", peer_end, "up")
        yield Link(name, str(host), str(peer))
    finally:
        # Deleting the namespace deletes its end, and with it the pair.
        subprocess.run(["ip", "link", "del", host_end], capture_output=True)  # noqa: S603, S607 - fixed argv built here, no shell; iproute2's ip from PATH, as an operator runs it
        subprocess.run(["ip", "netns", "del", name], capture_output=True)  # noqa: S603, S607 - fixed argv built here, no shell; iproute2's ip from PATH, as an operator runs it
