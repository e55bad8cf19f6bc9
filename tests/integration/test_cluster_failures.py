"""A cluster's failures, each with its outcome measured (docs/cluster.md's table).

Real ``hubbub serve`` nodes and a real redis-server, with the short leases
of :mod:`clusterkit` (a dead node is reaped within LEASE_MS plus a renewal).
Every test ends with the nodes that are left at the same log position with
the same state hash.
"""

from __future__ import annotations

import signal
import threading
import time

import pytest

from clusterkit import LEASE_MS, RENEW_MS, Nodes, RedisServer
from ircclient import Closed, LineClient

CAPS = ("message-tags", "server-time", "echo-message", "batch")


def names(client: LineClient, channel: str) -> list[str]:
    client.send(f"NAMES {channel}")
    found = sorted(client.expect("353").params[-1].split())
    client.expect("366")
    return found


def until(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_node_killed_with_sigkill_takes_its_50_users_with_it(nodes: Nodes) -> None:
    for n in ("n1", "n2", "n3"):
        nodes.start(n)
    watcher = nodes["n1"].client("watcher", CAPS)
    other = nodes["n2"].client("other", CAPS)
    for c in (watcher, other):
        c.send("JOIN #x")
        c.expect("366", c.nick or "", "#x")
    doomed = [nodes["n3"].client(f"d{i}") for i in range(50)]
    for d in doomed:
        d.send("JOIN #x")
    until(lambda: len(names(watcher, "#x")) == 52, 10, "52 members of #x")
    watcher.quiet(0.2)
    killed_at = time.monotonic()
    nodes["n3"].proc.send_signal(signal.SIGKILL)
    nodes["n3"].proc.wait()
    quits = []
    while len(quits) < 50:
        quits.append(watcher.expect("QUIT", timeout=LEASE_MS / 1000 + 3))
    took = time.monotonic() - killed_at
    assert took < LEASE_MS / 1000 + 3, took
    assert sorted(m.source.partition("!")[0] for m in quits if m.source) == sorted(
        f"d{i}" for i in range(50)
    )
    assert {m.params[0] for m in quits} == {"irc.test.local n3.irc.test.local"}
    # Inside a netsplit batch for clients that have the batch capability.
    assert len({m.tags.get("batch") for m in quits}) == 1 and quits[0].tags.get("batch")
    assert names(watcher, "#x") == names(other, "#x") == ["@watcher", "other"]
    # The nicks are free again, on any node.
    again = nodes["n2"].client("d7")
    assert again.nick == "d7"
    watcher.send("LINKS")
    assert sorted(m.params[1] for m in watcher.collect("365") if m.command == "364") == [
        "n1.irc.test.local", "n2.irc.test.local"
    ]
    nodes.converged(["n1", "n2"])
