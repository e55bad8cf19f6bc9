"""The bus interface.

The pipeline appends every event it publishes, and applies and delivers only
what the bus hands back to its receiver: its own events and, in a cluster,
everyone else's, in the one order all nodes agree on. A local bus hands each
event back at once, within ``append``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol

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
    #: How far behind the log's end it was then (events).
    lag: int


class Membership(Protocol):
    """What a node knows of the cluster beyond the network state: where it
    is in the log, and the other nodes' reports (STATS l)."""

    def position(self) -> str:
        """The log position of the last event this node applied."""
        ...

    def links(self) -> list[Link]:
        """The nodes of the cluster, as last reported."""
        ...
