"""The server's side of a cluster node: what happens to it when the log says so.

A cluster's bus (:mod:`hubbub.bus.redis`) reads the log and hands every
event to the pipeline like any bus. A few moments are more than an event,
and the bus calls these hooks for them (:class:`hubbub.bus.base.Replica`):

* before the server exists, the node loads the latest snapshot and applies
  the log up to its own arrival into a bare network (:class:`Bootstrap`),
  recording history as it goes when history is on (what it records and the
  archive lacks is archived: docs/cluster.md, *Storage*);
* fenced (it paused past its lease, or lost Redis for too long): every
  client is dropped at once, with the reason, and no new one is let in
  until the node has joined again under a new epoch (Sable's rule: a node
  that was declared gone never comes back as it was);
* the log was lost or damaged: the network is forgotten and rebuilt.

No asyncio here: the bus awaits, these only change the server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hubbub.events import Event

from .apply import apply, clear_network, load_snapshot
from .ids import Ids
from .server import Server
from .state import Network

#: What a client trying to connect to a node that is rejoining is told.
REJOINING = "This server is rejoining its network; try again in a moment"


class Bootstrap:
    """A node before its server exists: a network that only applies events
    (and records them, given the history recorder's ``record``)."""

    __slots__ = ("network", "record")

    def __init__(self, network: Network, record: Callable[[Event], None] | None = None) -> None:
        self.network = network
        self.record = record

    def receive(self, event: Event) -> None:
        """Apply an event of the log (no client to tell yet)."""
        apply(self.network, event, self.record)

    def load(self, state: dict[str, Any]) -> None:
        """Start from a snapshot."""
        load_snapshot(self.network, state)

    def snapshot(self) -> dict[str, Any]:
        """The network as plain data."""
        return self.network.snapshot()

    def fenced(self, reason: str) -> None:
        """Nobody is connected yet."""

    def clear(self) -> None:
        """Start again from nothing."""
        clear_network(self.network)

    def rejoined(self, prefix: str, fresh: bool) -> None:
        """Nothing to publish before the server exists (it opens the network)."""


class ClusterNode(Bootstrap):
    """A running node: the hooks of :class:`~hubbub.bus.base.Replica` on a server."""

    __slots__ = ("server",)

    def __init__(self, server: Server) -> None:
        super().__init__(server.network)
        self.server = server

    def fenced(self, reason: str) -> None:
        """Drop every client: this node's words no longer reach the log."""
        server = self.server
        server.admission.closed = REJOINING
        server.pipeline.forget()
        for session in list(server.sessions):
            session.close(reason)

    def rejoined(self, prefix: str, fresh: bool) -> None:
        """Serve again: new ids for the new epoch; a new log needs the rooms."""
        server = self.server
        server.ids = Ids(prefix)
        if fresh:
            server.open_network()
        server.admission.closed = None

