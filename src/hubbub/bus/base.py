"""The bus interface.

The pipeline appends every event it publishes, and applies and delivers only
what the bus hands back to its receiver: its own events and, in a cluster,
everyone else's, in the one order all nodes agree on. A local bus hands each
event back at once, within ``append``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from hubbub.events import Event

Receiver = Callable[[Event], None]


class Bus(Protocol):
    """Carries events to every process of the network, this one included."""

    @property
    def synchronous(self) -> bool:
        """True when ``append`` hands the event to the receiver before it
        returns (the local bus); False when it comes back later (a log
        between processes), so publishers must wait for it."""
        ...

    def attach(self, receiver: Receiver) -> None:
        """Hand every event on the bus to ``receiver``, in bus order."""
        ...

    def append(self, event: Event) -> None:
        """Put ``event`` on the bus."""
        ...

    def close(self) -> None:
        """Stop; no more events are handed back."""
        ...


class Link(NamedTuple):
    """A node of a cluster as another node sees it (LINKS, STATS l)."""

    node: str
    epoch: int
    #: The last log position it reported having applied, and when (Unix ms).
    position: str
    reported_ms: int
    #: How far behind the log's end it was then (milliseconds of log).
    lag_ms: int


class Membership(Protocol):
    """What a node knows of the cluster beyond the network state: where it
    is in the log, and the other nodes' reports (STATS l)."""

    def position(self) -> str:
        """The log position of the last event this node applied."""
        ...

    def links(self) -> list[Link]:
        """The nodes of the cluster, as last reported."""
        ...

    def health(self) -> str | None:
        """Why this node should get no clients now (not live in the log,
        Redis not answering), or None; ``/readyz`` asks it on the loop."""
        ...


class Replica(Protocol):
    """What a cluster's bus needs of the node it serves, besides the
    receiver of its events: the few moments where a node is more than a
    reader of the log."""

    def load(self, state: dict[str, Any]) -> None:
        """Make the (empty) network the one a snapshot describes."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """The network as plain data (:meth:`~hubbub.server.state.Network.snapshot`)."""
        ...

    def fenced(self, reason: str) -> None:
        """This node lost its place in the log: drop every client now (what
        they would publish can no longer be appended)."""
        ...

    def clear(self) -> None:
        """Forget the whole network: it is rebuilt from a snapshot and the log."""
        ...

    def rejoined(self, prefix: str, fresh: bool) -> None:
        """Serve again with ids made from ``prefix``; ``fresh``: the log is
        new, so publish what a network starts with (the server's rooms...)."""
        ...
