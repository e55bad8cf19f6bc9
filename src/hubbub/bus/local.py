"""The bus of a single process: every event comes straight back."""

from __future__ import annotations

from hubbub.events import Event

from .base import Link, Receiver


def _nowhere(event: Event) -> None:
    raise RuntimeError("LocalBus.append before attach")


class LocalBus:
    """Hands each appended event to the receiver at once, in order.

    ``append`` *is* the receiver once attached: every relayed line goes
    through here, and a forwarding method would cost a call per event.
    """

    __slots__ = ("append",)
    #: The receiver runs within ``append``.
    synchronous = True

    def __init__(self) -> None:
        #: Put an event on the bus: the receiver runs within this call.
        self.append: Receiver = _nowhere

    def attach(self, receiver: Receiver) -> None:
        """Hand every appended event to ``receiver``."""
        self.append = receiver

    def close(self) -> None:
        """Forget the receiver."""
        self.append = _nowhere


class Alone:
    """The membership of a process that is not part of a cluster."""

    __slots__ = ()

    def position(self) -> str:
        """There is no log."""
        return "-"

    def links(self) -> list[Link]:
        """No other node."""
        return []

    def health(self) -> str | None:
        """Nothing beyond the process itself to be unwell."""
        return None
