"""What the server needs of its stores: history, accounts, registered channels.

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
    """A registered account. Neither hash gives the password back."""

    name: str  #: as registered: what clients are shown
    password_hash: str  #: argon2id (:mod:`hubbub.auth.passwords`)
    scram: str  #: SCRAM-SHA-256 keys (:meth:`hubbub.auth.scram.ScramCredentials.encode`)
    email: str | None = None
    created: float = 0.0
    certfps: tuple[str, ...] = ()  #: SHA-256 fingerprints of TLS client certificates
    #: False until the code mailed to ``email`` is given back (VERIFY).
    verified: bool = True


@dataclass(frozen=True, slots=True)
class PendingVerification:
    """The code an unverified account waits for: its SHA-256, and until when."""

    code_hash: str
    expires: float


class AccountStore(Protocol):
    """Keeps accounts.

    Reading methods block on the disk: run them on a worker thread. Writing
    methods go through the database's one writer, on the event loop thread
    (each is one small transaction, appended to the write-ahead log).
    Names are matched casefolded, like nicks.
    """

    def get(self, name: str) -> Account | None:
        """The account called ``name``, verified or not (blocking)."""
        ...

    def by_certfp(self, fp: str) -> Account | None:
        """The account a client certificate logs in to (blocking)."""
        ...

    def pending(self, name: str) -> PendingVerification | None:
        """The verification an unverified account waits for (blocking)."""
        ...

    def names(self) -> list[str]:
        """Every verified account's name (blocking; read once at start)."""
        ...

    def create(
        self, account: Account, verification: PendingVerification | None = None, *, now: float
    ) -> bool:
        """Store a new account (unverified if ``verification`` is given);
        False when the name is taken by an account that is verified or not
        yet expired. (Writer.)"""
        ...

    def mark_verified(self, name: str) -> bool:
        """The account's e-mail is verified; False if there is no such
        unverified account. (Writer.)"""
        ...

    def set_password(self, name: str, password_hash: str, scram: str) -> bool:
        """Replace an account's password hashes; False if there is no such account. (Writer.)"""
        ...

    def add_certfp(self, name: str, fp: str) -> bool:
        """Let a client certificate log in to ``name``; False when it already
        belongs to an account. (Writer.)"""
        ...

    def del_certfp(self, name: str, fp: str) -> bool:
        """Forget one of ``name``'s certificates; False if it had not that one. (Writer.)"""
        ...

    def drop(self, name: str) -> bool:
        """Delete an account and its certificates; False if there was none. (Writer.)"""
        ...

    def close(self) -> None:
        """Release the store (the database is closed by its owner)."""
        ...


#: A list-mode entry kept for a registered channel: (mask, set by, set at).
ListEntry = tuple[str, str, float]


@dataclass(frozen=True, slots=True)
class RegisteredChannel:
    """A registered channel as it is kept: who owns it and what survives a restart."""

    name: str
    founder: str  #: the founder's account name, as registered
    registered: float
    created: float = 0.0
    topic: str = ""
    topic_setter: str = ""
    topic_time: float = 0.0
    modes: str = "nt"  #: flag letters
    key: str | None = None
    limit: int | None = None
    bans: tuple[ListEntry, ...] = ()
    excepts: tuple[ListEntry, ...] = ()
    invex: tuple[ListEntry, ...] = ()
    #: Accounts (casefolded) and the status they get on join (``"o"``, ``"v"``).
    access: tuple[tuple[str, str], ...] = ()


class ChannelStore(Protocol):
    """Keeps registered channels (the same threading rules as :class:`AccountStore`)."""

    def channels(self) -> list[RegisteredChannel]:
        """Every registered channel (blocking; read once at start)."""
        ...

    def save(self, channel: RegisteredChannel) -> None:
        """Store ``channel`` as it is now, replacing what was kept. (Writer.)"""
        ...

    def drop(self, name: str) -> None:
        """Forget the channel ``name``. (Writer.)"""
        ...

    def close(self) -> None:
        """Release the store."""
        ...
