"""The bus interface.

The pipeline appends every event it publishes, and applies and delivers only
what the bus hands back to its receiver: its own events and, in a cluster,
everyone else's, in the one order all nodes agree on. A local bus hands each
event back at once, within ``append``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from hubbub.events import Event

Receiver = Callable[[Event], None]


class Bus(Protocol):
    """Carries events to every process of the network, this one included."""

    def attach(self, receiver: Receiver) -> None:
        """Hand every event on the bus to ``receiver``, in bus order."""
        ...

    def append(self, event: Event) -> None:
        """Put ``event`` on the bus."""
        ...

    def close(self) -> None:
        """Stop; no more events are handed back."""
        ...
