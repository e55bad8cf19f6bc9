"""History on a cluster node: PostgreSQL, filled by one archiver, read by all.

Theory of operation
-------------------
On a cluster the durable record of what was said is the log (a line is
delivered only once it is in Redis); PostgreSQL is its archive. Every node
runs the history recorder as a single server does (it must: where an event
belongs — the channels a QUIT is kept in, the parties of a private message —
depends on the state the event found, which every node has), but
:class:`ClusterHistory` does not write what it records: it keeps each entry in
memory with the log entry it came from (the *tail*). One node at a time holds
the ``archiver`` role (:mod:`hubbub.bus.archiver`): it hands its tail to
PostgreSQL in batches with ``append_batch``, idempotent by msgid, with its
position in the log (``archived``) stored in the same transaction, so
archiving is exactly once and resumable by whichever node takes the role
next. Every node drops the entries the archiver has passed.

Queries go to PostgreSQL from any node, on worker threads. A query first
waits (at most :data:`TAIL_WAIT` seconds) until the archiver has passed what
this node had recorded when the query began, so a client reads its own lines;
if the archiver cannot (PostgreSQL away), the query answers from what
PostgreSQL has. (Merging the in-memory tail into each named query is the
alternative; waiting keeps one implementation of every query.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from hubbub.store.base import (
    Author,
    Entry,
    Found,
    HistoryStore,
    Ref,
    Scope,
    SearchQuery,
    Target,
    WriteStats,
)

log = logging.getLogger(__name__)

#: Seconds a query waits for the archiver to reach what this node recorded.
TAIL_WAIT = 2.0
#: Entries one archive batch holds at most.
BATCH = 5000


class Archivable(HistoryStore, Protocol):
    """The PostgreSQL history store's way in for an archiver."""

    def append_batch(self, entries: list[Entry], *, mark: tuple[str, str] | None = None) -> int:
        """Write ``entries`` and ``mark`` in one transaction (blocking)."""
        ...

    def archived(self, key: str) -> str | None:
        """The mark last stored under ``key``."""
        ...


#: An entry of the tail: the log entry's number, its stream id, the entry.
Kept = tuple[int, str, Entry]


class ClusterHistory:
    """A cluster node's history store (see the module docstring)."""

    def __init__(
        self, store: Archivable, position: Callable[[], tuple[int, str]], key: str
    ) -> None:
        self.store = store
        #: The log entry being applied: its number and stream id.
        self.position = position
        #: Where the archive's position is kept in PostgreSQL (one per network).
        self.key = key
        self.upkeep_blocks = store.upkeep_blocks
        self.tail: deque[Kept] = deque()
        #: The number of the last entry known to be in PostgreSQL.
        self.archived = 0
        #: The first entry from which this node has recorded everything: the
        #: one after the snapshot it started from (it records while it
        #: catches up: :class:`~hubbub.server.cluster.Bootstrap`), or after
        #: where it stood when its state was rebuilt.
        self.since = position()[0]
        self._moved = threading.Condition()
        #: Queries waiting for the archive now (the archiver then asks for
        #: its position more often).
        self.waiting = 0
        #: The archive batches this node wrote, for the metrics (changed on
        #: the archiver's thread only).
        self.stats = WriteStats()
        #: Since when archiving has been failing (monotonic), or None.
        self.failing_since: float | None = None

    # --- recording (the loop) -------------------------------------------------

    def record(self, entry: Entry) -> None:
        """Keep ``entry`` until the archiver has it in PostgreSQL."""
        number, entry_id = self.position()
        self.tail.append((number, entry_id, entry))

    def commit(self) -> None:
        """Nothing: what was delivered is in the log, which is durable."""

    def unarchived(self, limit: int = BATCH) -> list[Kept]:
        """The oldest entries the archive does not have yet: about ``limit``,
        never part of one log entry's (a netsplit's QUITs share an entry)."""
        out: list[Kept] = []
        for kept in self.tail:
            if kept[0] <= self.archived:
                continue
            if len(out) >= limit and kept[0] != out[-1][0]:
                break
            out.append(kept)
        return out

    def covers(self, number: int) -> bool:
        """Whether this node holds every entry after ``number`` that is not
        archived (it recorded every entry from ``since`` on): it may take
        the archiver's role without leaving a gap."""
        return self.since <= number + 1

    def passed(self, number: int) -> None:
        """The archive has every entry up to ``number``: forget them, and
        let the queries that waited for them go."""
        if number <= self.archived:
            return
        tail = self.tail
        while tail and tail[0][0] <= number:
            tail.popleft()
        with self._moved:
            self.archived = number
            self._moved.notify_all()

    def restart(self) -> None:
        """A new log (the old one was lost), or a node rebuilt from a
        snapshot: numbers start again from where it stands (what it
        recorded while rebuilding is dropped: it may repeat what it had)."""
        self.tail.clear()
        self.since = self.position()[0]
        with self._moved:
            self.archived = 0
            self._moved.notify_all()

    # --- the archiver (a worker thread) ------------------------------------------

    def archive(self, batch: list[Kept], mark: str) -> int:
        """Write ``batch`` and the archive's new position ``mark`` (blocking)."""
        began = time.perf_counter()
        try:
            new = self.store.append_batch([entry for _, _, entry in batch], mark=(self.key, mark))
        except Exception:
            self.stats.failures += 1
            self.stats.waiting = len(batch)
            if self.failing_since is None:
                self.failing_since = time.monotonic()
            raise
        self.failing_since = None
        self.stats.waiting = 0
        self.stats.rows += new
        if batch:
            self.stats.latency.observe(time.perf_counter() - began)
        return new

    def health(self) -> str | None:
        """Why history is not being kept now, or None: this node holds the
        archiver's role and its batches fail (PostgreSQL's reachability is
        the database's to say)."""
        since = self.failing_since
        if since is None:
            return None
        return (f"archiving history has failed for {time.monotonic() - since:.0f} s; "
                f"{len(self.unarchived())} entries wait in memory")  # fmt: skip

    def mark(self) -> str | None:
        """The archive's position as PostgreSQL has it (blocking)."""
        return self.store.archived(self.key)

    # --- upkeep and queries ------------------------------------------------------

    def index(self) -> None:
        self.store.index()

    def prune(self, before_ms: int, limit: int) -> int:
        return self.store.prune(before_ms, limit)

    def compact(self) -> bool:
        return self.store.compact()

    def _caught_up(self) -> None:
        """Wait until the archive has what this node recorded so far."""
        tail = self.tail
        target = tail[-1][0] if tail else 0
        deadline = time.monotonic() + TAIL_WAIT
        with self._moved:
            if self.archived >= target:
                return
            self.waiting += 1
            try:
                while self.archived < target:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        log.warning("history: the archive is behind (entry %d of %d); answering"
                                    " from what it has", self.archived, target,
                                    extra={"event": "history.archive_behind"})  # fmt: skip
                        return
                    self._moved.wait(left)
            finally:
                self.waiting -= 1

    def latest(self, scope: Scope, after: Ref | None, limit: int) -> list[Found]:
        self._caught_up()
        return self.store.latest(scope, after, limit)

    def before(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        self._caught_up()
        return self.store.before(scope, ref, limit)

    def after(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        self._caught_up()
        return self.store.after(scope, ref, limit)

    def around(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        self._caught_up()
        return self.store.around(scope, ref, limit)

    def between(self, scope: Scope, start: Ref, end: Ref, limit: int) -> list[Found]:
        self._caught_up()
        return self.store.between(scope, start, end, limit)

    def targets(
        self, owners: tuple[str, ...], channels: tuple[str, ...], after_ms: int, before_ms: int,
        limit: int,
    ) -> list[Target]:  # fmt: skip
        self._caught_up()
        return self.store.targets(owners, channels, after_ms, before_ms, limit)

    def author(self, scope: Scope, msgid: str) -> Author | None:
        self._caught_up()
        return self.store.author(scope, msgid)

    def search(self, query: SearchQuery) -> list[Found]:
        self._caught_up()
        return self.store.search(query)

    def close(self) -> None:
        self.store.close()
