"""The Redis log, in process, against a real redis-server.

Each test runs one or more :class:`~hubbub.bus.redis.RedisBus` nodes on one
event loop, with a :class:`Node` standing in for the server (a network that
applies what it reads, and a record of the hooks the bus called), and plays
the failures the log must survive by changing Redis under it: a node whose
epoch was taken away, a lease that stops, the last entries lost as a
crashed Redis would lose them, a log trimmed past a slow node.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from hubbub import events as ev
from hubbub.bus.redis import RedisBus, State
from hubbub.config import ClusterSection
from hubbub.server.apply import apply, clear_network, load_snapshot
from hubbub.server.state import Network

from clusterkit import RedisServer


class Node:
    """What a bus needs of a server: applies events, answers the hooks."""

    def __init__(self) -> None:
        self.network = Network()
        self.received: list[ev.Event] = []
        self.fences: list[str] = []
        self.rejoins: list[tuple[str, bool]] = []

    def receive(self, event: ev.Event) -> None:
        self.received.append(event)
        apply(self.network, event)

    def load(self, state: dict[str, Any]) -> None:
        load_snapshot(self.network, state)

    def snapshot(self) -> dict[str, Any]:
        return self.network.snapshot()

    def fenced(self, reason: str) -> None:
        self.fences.append(reason)

    def clear(self) -> None:
        self.received.clear()
        clear_network(self.network)

    def rejoined(self, prefix: str, fresh: bool) -> None:
        self.rejoins.append((prefix, fresh))

    def said(self) -> list[str]:
        """The texts of the messages received, in order."""
        return [e.text for e in self.received if isinstance(e, ev.MessageSent)]


Start = Callable[..., Any]


@pytest.fixture
async def start(redis: RedisServer) -> AsyncIterator[Start]:
    """``await start("n1", **cluster_keys)`` -> (bus, node), live; all left after."""
    made: list[RedisBus] = []

    async def go(name: str, **keys: Any) -> tuple[RedisBus, Node]:
        settings = ClusterSection(redis=redis.url, node=name, lease_ms=1500, renew_ms=250,
                                  stall_timeout_ms=1000, **keys)  # fmt: skip
        bus = RedisBus(settings, "irc.test", "T")
        node = Node()
        bus.attach(node.receive)
        await bus.connect()
        await bus.join(node)
        bus.serve(node)
        made.append(bus)
        return bus, node

    yield go
    for bus in made:
        await bus.leave()


def said(n: int, text: str, uid: str = "u1") -> ev.MessageSent:
    return ev.MessageSent(f"m-{text}-{n}", 1.0, uid, "a!b@c", "PRIVMSG", "#c", "#c", "", "",
                          text, {})  # fmt: skip


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_two_nodes_read_every_event_once_in_one_order(start: Start) -> None:
    one, a = await start("n1")
    two, b = await start("n2")
    for i in range(200):
        (one if i % 2 else two).append(said(i, f"{i}"))
    await until(lambda: len(a.said()) == 200 and len(b.said()) == 200)
    assert a.said() == b.said()
    assert sorted(a.said(), key=int) == [str(i) for i in range(200)]
    assert a.network.nodes == b.network.nodes == {"n1": one.epoch, "n2": two.epoch}
    assert one.position() == two.position()


async def test_a_node_gets_back_the_very_events_it_appended(start: Start) -> None:
    bus, node = await start("n1")
    sent = said(1, "hello")
    bus.append(sent)
    await until(lambda: node.said() == ["hello"])
    assert next(e for e in node.received if isinstance(e, ev.MessageSent)) is sent


async def test_a_batch_sent_again_is_added_once(start: Start, redis: RedisServer) -> None:
    bus, node = await start("n1")
    k = bus.keys
    keys = [k.netepoch, k.nodes, k.seq, k.log, k.count]
    args = [bus.netepoch, "n1", bus.epoch, 1, "m-x-1", '["MessageSent","m-x-1",1.0,"u","a!b@c",'
            '"PRIVMSG","#c","#c","","","x",{}]']  # fmt: skip
    first = await bus._script("append")(keys=keys, args=args)
    again = await bus._script("append")(keys=keys, args=args)  # the answer was "lost"
    assert first[:2] == ["OK", 1] and again[:2] == ["OK", 0]
    await until(lambda: node.said() == ["x"])
    await asyncio.sleep(0.2)
    assert node.said() == ["x"]


async def test_a_node_whose_epoch_was_taken_is_fenced_and_joins_again(start: Start) -> None:
    one, a = await start("n1")
    two, b = await start("n2")
    old = two.epoch
    # Another incarnation of n2 takes its place (as a restart would).
    await one._redis.hset(one.keys.nodes, "n2", old + 100)
    two.append(said(1, "from the past", uid="old-n2-user"))
    await until(lambda: bool(b.fences) and bool(b.rejoins), timeout=5)
    assert two.epoch > old and b.rejoins == [(two.prefix, False)]
    assert "from the past" not in a.said()
    # The new epoch's words count again.
    two.append(said(2, "back"))
    await until(lambda: a.said() == ["back"])


async def test_a_node_that_stops_renewing_is_reaped_once(start: Start) -> None:
    _, a = await start("n1")
    two, _ = await start("n2")
    epoch = two.epoch
    two.state = State.CLOSED  # every loop of n2 stops, as in a killed process
    started = time.monotonic()
    await until(lambda: "n2" not in a.network.nodes, timeout=4)
    assert time.monotonic() - started < 1.5 + 1.0
    gone = [e for e in a.received if isinstance(e, ev.NodeGone)]
    assert [(e.node, e.epoch) for e in gone] == [("n2", epoch)]
    await asyncio.sleep(0.6)  # more renewals pass: no second NodeGone
    assert len([e for e in a.received if isinstance(e, ev.NodeGone)]) == 1


async def test_entries_lost_by_redis_are_found_and_a_new_log_begins(start: Start) -> None:
    one, a = await start("n1")
    two, b = await start("n2")
    for i in range(10):
        one.append(said(i, f"{i}"))
    await until(lambda: len(b.said()) == 10 and len(a.said()) == 10)
    # A crashed Redis that comes back without its last second: the last
    # three entries and their numbers are gone.
    redis = one._redis
    for entry_id, _ in await redis.xrevrange(one.keys.log, "+", "-", count=3):
        await redis.xdel(one.keys.log, entry_id)
    await redis.decrby(one.keys.count, 3)
    old_net = one.netepoch
    two.append(said(99, "after the crash"))
    await until(lambda: bool(a.rejoins) and bool(b.rejoins), timeout=8)
    assert a.fences and b.fences  # every client was dropped
    assert one.netepoch == two.netepoch != old_net
    assert a.rejoins[-1][1] and b.rejoins[-1][1]  # a fresh network
    assert a.network.snapshot() == b.network.snapshot()
    assert "after the crash" not in a.said()


async def test_redis_restarted_empty_is_noticed(start: Start, redis: RedisServer) -> None:
    one, a = await start("n1")
    one.append(said(1, "before"))
    await until(lambda: a.said() == ["before"])
    redis.kill()
    redis.start()
    await until(lambda: bool(a.rejoins), timeout=8)
    assert a.fences and a.rejoins[-1][1]
    assert a.said() == [] and a.network.nodes == {"n1": one.epoch}
    one.append(said(2, "after"))
    await until(lambda: a.said() == ["after"])


async def test_a_late_node_starts_from_the_snapshot_and_the_tail(start: Start) -> None:
    one, a = await start("n1", snapshot_interval_s=0.2)
    for i in range(300):
        one.append(ev.UserRegistered(f"r{i}", 1.0, f"u{i}", f"n{i}!u@h", f"n{i}", "u", "h",
                                     "r", None, False, "n1"))  # fmt: skip
    await until(lambda: len(a.network.users) == 300)
    await until(lambda: "snapshot" in str(one._snapshot_at) or one._snapshot_at > 0)
    await asyncio.sleep(0.5)  # a snapshot after the 300, and the log trimmed
    length = await one._redis.xlen(one.keys.log)
    assert length < 300
    for i in range(5):
        one.append(ev.UserQuit(f"q{i}", 2.0, f"u{i}", f"n{i}!u@h", "bye"))
    two, b = await start("n2")
    await until(lambda: one.position() == two.position())
    assert len(b.network.users) == 295
    assert b.network.digest() == a.network.digest()


async def test_a_node_behind_a_trimmed_log_rebuilds_from_the_snapshot(start: Start) -> None:
    one, a = await start("n1", snapshot_interval_s=0.2)
    two, b = await start("n2")
    two._readers += 1  # n2 stops reading (but keeps its lease)
    await asyncio.sleep(1.2)
    for i in range(50):
        one.append(said(i, f"{i}"))
    await until(lambda: len(a.said()) == 50)
    await asyncio.sleep(0.5)  # a snapshot, and a trim past what n2 reported
    await one._redis.xtrim(one.keys.log, minid=one.entry_id)  # as if n2 were too slow
    two._start_reader()
    await until(lambda: bool(b.rejoins), timeout=8)
    assert b.fences and b.rejoins[-1][1]
    await until(lambda: one.position() == two.position())
    assert b.network.digest() == a.network.digest()
