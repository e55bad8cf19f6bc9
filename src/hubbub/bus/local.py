"""The bus of a single process: every event comes straight back."""

from __future__ import annotations

from hubbub.events import Event

from .base import Receiver


def _nowhere(event: Event) -> None:
    raise RuntimeError("LocalBus.append before attach")


class LocalBus:
    """Hands each appended event to the receiver at once, in order."""

    __slots__ = ("_receiver",)

    def __init__(self) -> None:
        self._receiver: Receiver = _nowhere

    def attach(self, receiver: Receiver) -> None:
        """Hand every appended event to ``receiver``."""
        self._receiver = receiver

    def append(self, event: Event) -> None:
        """Deliver ``event`` now (the whole pipeline runs within this call)."""
        self._receiver(event)

    def close(self) -> None:
        """Forget the receiver."""
        self._receiver = _nowhere
