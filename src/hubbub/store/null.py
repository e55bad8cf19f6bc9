"""The stores of a server that keeps nothing."""

from __future__ import annotations

from hubbub.events import Event

from .base import Account, HistoryQuery, PendingVerification, RegisteredChannel


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

    def by_certfp(self, fp: str) -> Account | None:
        """No certificate logs in."""
        return None

    def pending(self, name: str) -> PendingVerification | None:
        """Nothing waits for verification."""
        return None

    def names(self) -> list[str]:
        """No accounts."""
        return []

    def create(
        self, account: Account, verification: PendingVerification | None = None, *, now: float
    ) -> bool:
        """Refused: nothing is stored."""
        return False

    def mark_verified(self, name: str) -> bool:
        """No such account."""
        return False

    def set_password(self, name: str, password_hash: str, scram: str) -> bool:
        """No such account."""
        return False

    def add_certfp(self, name: str, fp: str) -> bool:
        """Refused: nothing is stored."""
        return False

    def del_certfp(self, name: str, fp: str) -> bool:
        """No such certificate."""
        return False

    def drop(self, name: str) -> bool:
        """No such account."""
        return False

    def close(self) -> None:
        """Nothing to release."""


class NullChannelStore:
    """Keeps no channel: every channel is forgotten when the server stops."""

    def channels(self) -> list[RegisteredChannel]:
        """None kept."""
        return []

    def save(self, channel: RegisteredChannel) -> None:
        """Forget it."""

    def drop(self, name: str) -> None:
        """Nothing to forget."""

    def close(self) -> None:
        """Nothing to release."""
