"""The stores of a server that keeps nothing."""

from __future__ import annotations

from .base import (
    Account,
    Author,
    Entry,
    Found,
    PendingVerification,
    Ref,
    RegisteredChannel,
    Scope,
    SearchQuery,
    Target,
    WriteStats,
)


class NullHistoryStore:
    """Records nothing, so every query is empty."""

    upkeep_blocks = False

    def __init__(self) -> None:
        self.stats = WriteStats()

    def health(self) -> str | None:
        """Keeping nothing never fails."""
        return None

    def record(self, entry: Entry) -> None:
        """Forget ``entry``."""

    def commit(self) -> None:
        """Nothing to make durable."""

    def index(self) -> None:
        """No index."""

    def prune(self, before_ms: int, limit: int) -> int:
        """Nothing to prune."""
        return 0

    def compact(self) -> bool:
        """Nothing to tidy."""
        return False

    def latest(self, scope: Scope, after: Ref | None, limit: int) -> list[Found]:
        """No history."""
        return []

    def before(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        """No history."""
        return []

    def after(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        """No history."""
        return []

    def around(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        """No history."""
        return []

    def between(self, scope: Scope, start: Ref, end: Ref, limit: int) -> list[Found]:
        """No history."""
        return []

    def targets(
        self, owners: tuple[str, ...], channels: tuple[str, ...], after_ms: int, before_ms: int,
        limit: int,
    ) -> list[Target]:
        """No conversations."""
        return []

    def author(self, scope: Scope, msgid: str) -> Author | None:
        """No messages."""
        return None

    def search(self, query: SearchQuery) -> list[Found]:
        """Nothing to find."""
        return []

    def close(self) -> None:
        """Nothing to release."""


class NullAccountStore:
    """Has no accounts and takes none."""

    writes_block = False

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
