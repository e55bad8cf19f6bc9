"""What the server needs of its stores.

A history store is a subscriber of the event pipeline: ``record`` sees every
event after it was applied and before it is delivered, and must be quick (it
runs on the event loop: queue, don't write). ``commit`` is called before any
output of the loop turn leaves the process, so a store that makes what it
recorded durable there keeps the promise that nothing anyone saw is lost.
Queries block (disk), so callers run them on a worker thread
(:class:`hubbub.server.workers.Workers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hubbub.events import Event


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """Events of one conversation, newest first, within optional bounds.

    ``target`` is a channel name or, for a private conversation, the other
    party's nick; ``viewer`` is the nick asking (private history is only
    readable by its two parties).
    """

    target: str
    viewer: str
    after: float | None = None
    before: float | None = None
    limit: int = 100


class HistoryStore(Protocol):
    """Keeps what was said and what happened in channels."""

    def record(self, event: Event) -> None:
        """Take ``event`` for storing (called on the loop, for every event)."""
        ...

    def commit(self) -> None:
        """Make everything recorded so far durable (before output leaves)."""
        ...

    def query(self, query: HistoryQuery) -> list[Event]:
        """The stored events that answer ``query`` (blocking)."""
        ...

    def close(self) -> None:
        """Flush and release the store."""
        ...


@dataclass(frozen=True, slots=True)
class Account:
    """A registered account. ``password_hash`` is never the password."""

    name: str
    password_hash: str
    email: str | None = None
    created: float = 0.0
    certfps: tuple[str, ...] = ()


class AccountStore(Protocol):
    """Keeps accounts (blocking calls: run them on a worker thread)."""

    def get(self, name: str) -> Account | None:
        """The account called ``name`` (casefolded), if any."""
        ...

    def create(self, account: Account) -> bool:
        """Store a new account; False when the name is taken or accounts
        cannot be stored."""
        ...

    def close(self) -> None:
        """Release the store."""
        ...
