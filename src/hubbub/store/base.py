"""What the server needs of its stores: history, accounts, registered channels.

History
-------
The server's history recorder (:mod:`hubbub.server.recorder`) is a
subscriber of the event pipeline: for every event worth keeping it works out
*where* the event belongs, while the network state is still as the event
found it (the channels a quitting user was in; the two parties of a private
message and who they are), and hands the store an :class:`Entry`.

``record`` runs on the event loop for every such event and must be quick:
queue, don't write. ``commit`` is called once per loop turn, before any
output of that turn leaves the process: a store that makes what it recorded
durable there keeps the promise that nothing anyone saw is lost. ``prune``
also writes, in small steps, on the loop. Everything else reads, blocks on
the disk, and runs on a worker thread (:meth:`hubbub.server.server.Server.run_blocking`).

Reading is always within a :class:`Scope`: one channel (whose members may
read all of it) or the private conversations of one viewer, identified by
keys (``a:<account>`` when logged in, else ``u:<uid>``) that only that
viewer holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol

from hubbub.events import Event
from hubbub.histogram import FAST_BUCKETS, Histogram
from hubbub.protocol import casefold

#: Kinds of stored lines (persisted: stable). What every history client gets:
MESSAGE_KINDS = ("PRIVMSG", "NOTICE")
#: What draft/event-playback clients get besides.
EVENT_KINDS = ("TAGMSG", "JOIN", "PART", "KICK", "QUIT", "NICK", "TOPIC", "MODE")
PLAYBACK_KINDS = MESSAGE_KINDS + EVENT_KINDS
#: What REDACT may withdraw.
REDACTABLE_KINDS = ("PRIVMSG", "NOTICE", "TAGMSG")


def identity_key(uid: str, account: str | None) -> str:
    """Who a party of a private message is: the account when logged in (readable
    from any later session of it), else this connection's uid (never reused)."""
    return f"a:{casefold(account)}" if account else f"u:{uid}"


class Party(NamedTuple):
    """One side of a private message."""

    key: str  # identity_key()
    nick: str  # the nick then


class Entry(NamedTuple):
    """An event to keep, and where it belongs."""

    event: Event
    #: The actor's account then, if logged in.
    account: str | None = None
    #: Casefolded names of the channels whose history holds it.
    channels: tuple[str, ...] = ()
    #: A private message: (sender, recipient).
    parties: tuple[Party, Party] | None = None


@dataclass(frozen=True, slots=True)
class Scope:
    """What a reader may see of history, and what it asked for.

    ``channel`` (casefolded) for a channel's history; otherwise the private
    conversations of the viewer holding ``owners``, with ``peer`` (a
    casefolded nick, or ``*`` for all of them).
    """

    channel: str | None = None
    owners: tuple[str, ...] = ()
    peer: str = "*"
    kinds: tuple[str, ...] = MESSAGE_KINDS
    #: STATUSMSG prefixes the reader may see (by its rank in the channel now).
    statuses: tuple[str, ...] = ()

    @classmethod
    def of_channel(
        cls, name: str, kinds: tuple[str, ...] = MESSAGE_KINDS, statuses: tuple[str, ...] = ()
    ) -> Scope:
        """A channel's history (``name`` casefolded)."""
        return cls(channel=name, kinds=kinds, statuses=statuses)

    @classmethod
    def of_private(
        cls, owners: tuple[str, ...], peer: str, kinds: tuple[str, ...] = MESSAGE_KINDS
    ) -> Scope:
        """The viewer's (``owners``) private conversation with ``peer`` (casefolded, or ``*``)."""
        return cls(owners=owners, peer=peer, kinds=kinds)


class Ref(NamedTuple):
    """A point in history: a msgid or a server-time in Unix milliseconds."""

    msgid: str | None = None
    time_ms: int | None = None


class Found(NamedTuple):
    """A stored event, and the channel it is kept under now (casefolded;
    None for a private message). After a rename that is the new name."""

    event: Event
    channel: str | None


class Author(NamedTuple):
    """Who sent a stored message, for REDACT's permission check."""

    uid: str
    account: str | None
    kind: str


class Target(NamedTuple):
    """A conversation with something to read (CHATHISTORY TARGETS)."""

    name: str  # a casefolded channel name, or the other party's nick
    time_ms: int  # of its latest message
    is_channel: bool


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A full-text search, within what the asker may read.

    ``owners`` and ``channels`` say what that is (the asker's identity keys,
    the casefolded channels it is a member of); ``in_channel`` / ``in_peer``
    narrow it to one conversation.
    """

    owners: tuple[str, ...]
    channels: tuple[str, ...]
    text: str = ""
    in_channel: str | None = None
    in_peer: str | None = None
    from_nick: str | None = None
    after_ms: int | None = None
    before_ms: int | None = None
    limit: int = 50


class Checkable(Protocol):
    """A database whose health is a sentence, or None (``/readyz`` asks it
    on the event loop, so it never waits on the network)."""

    def health(self) -> str | None: ...


class WriteStats:
    """What a store's commits did, for the metrics (changed on the loop only)."""

    __slots__ = ("failures", "latency", "rows", "waiting")

    def __init__(self) -> None:
        #: Rows written by the commits (each commit is one observation of
        #: ``latency``: its count is the number of commits).
        self.rows = 0
        #: Commits that failed (their entries wait for the next turn).
        self.failures = 0
        #: Entries waiting because the last commit failed (0 when healthy).
        self.waiting = 0
        #: Seconds per commit (a transaction that wrote something), on the loop.
        self.latency = Histogram(FAST_BUCKETS)

    @property
    def commits(self) -> int:
        """Commits that wrote something."""
        return self.latency.count


class HistoryStore(Protocol):
    """Keeps what was said and what happened, and answers named queries."""

    #: What the commits did (the metrics read it).
    stats: WriteStats
    #: Whether :meth:`prune` waits on the network (PostgreSQL): then the
    #: server runs it on a worker thread, not on the loop.
    upkeep_blocks: bool

    def record(self, entry: Entry) -> None:
        """Take ``entry`` for storing (on the loop, for every kept event)."""
        ...

    def commit(self) -> None:
        """Make everything recorded so far durable (on the loop, before output leaves)."""
        ...

    def index(self) -> None:
        """Bring the search index up to date (on the loop; SEARCH does first)."""
        ...

    def prune(self, before_ms: int, limit: int) -> int:
        """Delete up to ``limit`` events older than ``before_ms`` (on the loop);
        how many went."""
        ...

    def compact(self) -> bool:
        """One short step of tidying after redactions (on the loop); True while
        more steps are needed."""
        ...

    def latest(self, scope: Scope, after: Ref | None, limit: int) -> list[Found]:
        """The newest ``limit`` events (after ``after``, exclusive), oldest first."""
        ...

    def before(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        """The ``limit`` events just before ``ref`` (exclusive), oldest first."""
        ...

    def after(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        """The ``limit`` events just after ``ref`` (exclusive), oldest first."""
        ...

    def around(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        """About half before ``ref``, the rest from it on, oldest first."""
        ...

    def between(self, scope: Scope, start: Ref, end: Ref, limit: int) -> list[Found]:
        """Events strictly between ``start`` and ``end``, counted from ``start``
        (forwards or backwards in time), returned oldest first."""
        ...

    def targets(
        self, owners: tuple[str, ...], channels: tuple[str, ...], after_ms: int, before_ms: int,
        limit: int,
    ) -> list[Target]:
        """Conversations whose latest message lies strictly between the two
        times, the earliest first: the given channels and the viewer's private ones."""
        ...

    def author(self, scope: Scope, msgid: str) -> Author | None:
        """Who sent the message ``msgid`` of ``scope`` (None: no such message)."""
        ...

    def search(self, query: SearchQuery) -> list[Found]:
        """Messages matching ``query``, oldest first."""
        ...

    def health(self) -> str | None:
        """Why the store cannot keep what is said right now (its writes
        fail), or None when it can. On the loop; the readiness check calls it."""
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
    (each is one small transaction, appended to the write-ahead log), unless
    :attr:`writes_block` says they wait on the network too (PostgreSQL):
    then they run on a worker thread like reads.
    Names are matched casefolded, like nicks.
    """

    #: Whether writes wait on the network (run them on a worker thread).
    writes_block: bool

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
