"""Several servers of one cluster in one process, on one fake loop.

A :class:`MemoryLog` plays the Redis log: every node appends to it, and at
the next loop turn it hands each appended event, in the order appended, to
every node (its own included; the others get a copy through the log's wire
format, as from Redis). What two nodes publish in the same loop turn is
thus a race, settled by the order of their appends, exactly as two nodes
racing to Redis are settled by the order their scripts ran. Everything stays
synchronous and deterministic, so a race is a test, not a hope.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hubbub import config as config_module
from hubbub import events as ev
from hubbub.bus.wire import decode_event, encode_event
from hubbub.server.state import Network

from serverharness import DEFAULT_CONFIG, NO_HISTORY, FakeLoop, Harness


class LogBus:
    """One node's end of a :class:`MemoryLog`."""

    synchronous = False

    def __init__(self, log: MemoryLog, node: str) -> None:
        self.log = log
        self.node = node
        self.receiver: Callable[[Any], None] | None = None

    def attach(self, receiver: Callable[[Any], None]) -> None:
        """Catch up with the log so far (a node joining reads it), then follow."""
        self.receiver = receiver
        for event in self.log.entries:
            receiver(decode_event(encode_event(event)))

    def append(self, event: ev.Event) -> None:
        self.log.add(self, event)

    def close(self) -> None:
        self.receiver = None


class MemoryLog:
    """The shared, totally ordered log of an in-process cluster."""

    def __init__(self, loop: FakeLoop) -> None:
        self.loop = loop
        self.buses: list[LogBus] = []
        self.pending: list[tuple[LogBus, ev.Event]] = []
        self.entries: list[ev.Event] = []
        self.epochs = 0

    def bus(self, node: str) -> LogBus:
        """A new node's bus; its arrival is in the log (NodeJoined)."""
        bus = LogBus(self, node)
        self.buses.append(bus)
        self.epochs += 1
        self._write(None, ev.NodeJoined(f"joined-{node}", 1.0, "", "irc.test", node, self.epochs))
        return bus

    def gone(self, node: str, reason: str = "irc.test n2.irc.test") -> None:
        """The log declares ``node`` gone (its lease expired) and stops
        serving it, as Redis fences a node that was reaped."""
        bus = next(b for b in self.buses if b.node == node)
        self.buses.remove(bus)
        joins = [e for e in self.entries if isinstance(e, ev.NodeJoined) and e.node == node]
        epoch = joins[-1].epoch
        self._write(None, ev.NodeGone(f"gone-{node}", 2.0, "", "irc.test", node, epoch, reason))

    def add(self, bus: LogBus, event: ev.Event) -> None:
        if bus not in self.buses:
            return  # fenced: the log refuses it
        self._write(bus, event)

    def _write(self, origin: LogBus | None, event: ev.Event) -> None:
        if not self.pending:
            self.loop.call_soon(self.flush)
        self.pending.append((origin, event))  # type: ignore[arg-type]

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        for origin, event in pending:
            self.entries.append(event)
            copy = decode_event(encode_event(event))
            for bus in list(self.buses):
                if bus.receiver is not None:
                    bus.receiver(event if bus is origin else copy)


def node_config(node: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A harness config for node ``node`` (no storage: cluster mode refuses SQLite)."""
    config = {
        **DEFAULT_CONFIG,
        **NO_HISTORY,
        "accounts": {"enabled": False},
        "cluster": {"redis": "redis://memory", "node": node},
    }
    return {**config, **(extra or {})}


class Cluster:
    """``n`` nodes (n1, n2, ...) sharing a :class:`MemoryLog` and a loop.

    With ``databases`` (a folder), each node keeps accounts in a SQLite file
    of its own there (cluster mode refuses SQLite in its config: the refusal
    is skipped here). A real cluster shares one PostgreSQL database; files
    of their own show that what one node knows of another's accounts came
    through the log.
    """

    def __init__(
        self, n: int = 2, extra: dict[str, Any] | None = None, databases: Path | None = None
    ) -> None:
        self.loop = FakeLoop()
        self.log = MemoryLog(self.loop)
        self.nodes: list[Harness] = []
        if databases is not None:
            extra = {**(extra or {}), "accounts": {"enabled": True}}
        for i in range(1, n + 1):
            bus = self.log.bus(f"n{i}")
            self.loop.run()
            with _sqlite_allowed():
                database = databases / f"n{i}.sqlite3" if databases is not None else None
                node = Harness(node_config(f"n{i}", extra), bus=bus, loop=self.loop,
                               database=database)  # fmt: skip
            self.nodes.append(node)
        self.loop.run()

    def close(self) -> None:
        """Stop the nodes' threads and close their databases."""
        for node in self.nodes:
            node.close()

    def run(self) -> None:
        """Run the shared loop until idle."""
        self.loop.run()

    def digests(self) -> set[str]:
        """The state hash of every node: one value when they agree."""
        self.run()
        return {h.server.network.digest() for h in self.nodes}

    def network(self, i: int) -> Network:
        """Node ``i``'s (1-based) network."""
        return self.nodes[i - 1].server.network


@contextlib.contextmanager
def _sqlite_allowed() -> Iterator[None]:
    real = config_module._cluster_storage
    config_module._cluster_storage = lambda config, file: None
    try:
        yield
    finally:
        config_module._cluster_storage = real
