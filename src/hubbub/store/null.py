"""The stores of a server that keeps nothing."""

from __future__ import annotations

from hubbub.events import Event

from .base import Account, HistoryQuery


class NullHistoryStore:
    """Records nothing, so every query is empty."""

    def record(self, event: Event) -> None:
        """Forget ``event``."""

    def commit(self) -> None:
        """Nothing to make durable."""

    def query(self, query: HistoryQuery) -> list[Event]:
        """No history."""
        return []

    def close(self) -> None:
        """Nothing to release."""


class NullAccountStore:
    """Has no accounts and takes none."""

    def get(self, name: str) -> Account | None:
        """No such account."""
        return None

    def create(self, account: Account) -> bool:
        """Refused: nothing is stored."""
        return False

    def close(self) -> None:
        """Nothing to release."""
