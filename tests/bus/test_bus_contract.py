"""What every bus must do: hand back each appended event, once, in order.

The local bus does it at once, within ``append``; the Redis log does it
later, from its reader (against a real redis-server). The same tests run
on both, waiting for delivery where the bus is asynchronous.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from hubbub import events as ev
from hubbub.bus.base import Bus
from hubbub.bus.local import LocalBus
from hubbub.bus.redis import RedisBus
from hubbub.config import ClusterSection
from hubbub.server.cluster import Bootstrap
from hubbub.server.state import Network

from clusterkit import RedisServer


class Attached:
    """A bus with a receiver that keeps what it is handed."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.received: list[ev.Event] = []

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[ev.Event]:
        """What was handed back once ``count`` events were (others than the
        log's own NodeJoined/NodeGone entries)."""
        deadline = time.monotonic() + timeout
        while len(self.events()) < count:
            assert time.monotonic() < deadline, f"only {len(self.events())} of {count}"
            await asyncio.sleep(0.01)
        return self.events()

    def events(self) -> list[ev.Event]:
        return [e for e in self.received if not isinstance(e, ev.NodeJoined | ev.NodeGone)]


async def _local(request: pytest.FixtureRequest) -> AsyncIterator[Attached]:
    bus = LocalBus()
    attached = Attached(bus)
    bus.attach(attached.received.append)
    yield attached
    bus.close()


async def _redis(request: pytest.FixtureRequest) -> AsyncIterator[Attached]:
    server: RedisServer = request.getfixturevalue("redis")
    bus = RedisBus(ClusterSection(redis=server.url, node="n1"), "irc.test", "contract")
    attached = Attached(bus)
    boot = Bootstrap(Network())
    bus.attach(attached.received.append)
    await bus.connect()
    await bus.join(boot)
    bus.serve(boot)
    yield attached
    await bus.leave()


BUSES: dict[str, Callable[[pytest.FixtureRequest], AsyncIterator[Attached]]] = {
    "local": _local, "redis": _redis,
}  # fmt: skip


@pytest.fixture(params=list(BUSES))
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Attached]:
    async for attached in BUSES[request.param](request):
        yield attached


def quit_(n: int) -> ev.UserQuit:
    return ev.UserQuit(f"m{n}", float(n), f"u{n}", f"n{n}!u@h", "bye")


async def test_every_appended_event_comes_back_once_in_order(bus: Attached) -> None:
    sent = [quit_(n) for n in range(100)]
    for event in sent:
        bus.bus.append(event)
    assert await bus.wait_for(100) == sent
    await asyncio.sleep(0.05)
    assert bus.events() == sent  # nothing more


async def test_events_of_every_kind_come_back_equal(bus: Attached) -> None:
    from test_events import sample  # one sample of each event type

    # Msgids are unique on a network: the Redis bus finds its own events by them.
    sent = [sample(kind)._replace(msgid=f"m{i}") for i, kind in enumerate(ev.EVENT_TYPES.values())
            if kind not in (ev.NodeJoined, ev.NodeGone)]  # fmt: skip
    for event in sent:
        bus.bus.append(event)
    assert await bus.wait_for(len(sent)) == sent


def test_the_local_bus_delivers_within_append() -> None:
    bus = LocalBus()
    received: list[Any] = []
    bus.attach(received.append)
    bus.append(quit_(1))
    assert received == [quit_(1)]
    assert bus.synchronous


def test_a_closed_local_bus_refuses_events() -> None:
    bus = LocalBus()
    bus.attach(lambda e: None)
    bus.close()
    with pytest.raises(RuntimeError):
        bus.append(quit_(1))
