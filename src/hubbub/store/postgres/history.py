"""The history store on PostgreSQL: rows handed to the writer thread each turn.

Theory of operation
-------------------
Writing: ``record`` (on the loop, for every kept event) appends the entry
to a list; ``commit`` (on the loop, once per turn, before that turn's
output is written) hands the list to the :class:`~.writer.Writer` thread
and returns at once. The writer commits it (with whatever else is queued)
in one transaction, within a few milliseconds (PostgreSQL's commit waits
for its WAL's fsync: 1-4 ms on the test machine's disk).

Durability, and why it differs from SQLite: SQLite commits on the loop
because a write-ahead-log append is a page-cache write of microseconds; a
PostgreSQL commit is a round trip to another process (and an ``fsync``
there), which the loop must never wait for. So on PostgreSQL a line is
durable within one loop turn plus one round trip of being delivered, not
before its bytes leave: a ``kill -9`` of hubbub (or a crash of its host)
can lose what the writer had not committed yet (the lines of the last
few milliseconds; measured in docs/performance.md), while a clean stop
(SIGTERM, RESTART) writes everything first. Holding every turn's output
until PostgreSQL confirmed would close that window at the price of a round
trip of latency on every line, and of stopping chat whenever PostgreSQL
stalls; in cluster mode the durable log is Redis (delivered means in the
stream), and this store only archives it, so there it costs nothing.

When PostgreSQL is away, chat goes on: the writer keeps the entries
(bounded) and writes them when it is back; queries fail at once with a
:class:`~hubbub.store.errors.DatabaseError` (CHATHISTORY answers FAIL).

Reading: the shared named queries (:mod:`hubbub.store.queries`) on the
worker thread's connection. A query first waits (briefly) for the writer
to have written what was recorded before it, so a client reads its own
lines: CHATHISTORY right after a message includes it.

Cluster mode (the archiver): :meth:`PostgresHistoryStore.append_batch`
writes a batch read from the event log on the calling thread, idempotent
by msgid, and can note how far the log is archived in the same transaction
(:meth:`PostgresHistoryStore.archived` reads it back). With
``record_live=False`` a node records nothing itself and only reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from ..base import Author, Entry, Found, Ref, Scope, SearchQuery, Target
from ..queries import Connection, HistoryQueries, Match
from ..search import tsquery
from .database import PgDatabase
from .rowsql import write_entries
from .writer import Conn, Job, Writer

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Seconds a query waits for the writer to catch up with what was recorded
#: before it (read your own lines). PostgreSQL away: no wait.
READ_AFTER_WRITE_WAIT = 2.0
#: Seconds a clean stop waits for the writer to write what is queued.
CLOSE_WAIT = 10.0


class HistoryJob(Job):
    """One turn's entries."""

    __slots__ = ("entries", "search")

    def __init__(self, entries: list[Entry], search: bool) -> None:
        super().__init__(len(entries))
        self.entries = entries
        self.search = search

    def run(self, conn: Conn) -> None:
        write_entries(conn, self.entries, search=self.search)

    def split(self) -> list[Job]:
        """One job per entry."""
        if len(self.entries) <= 1:
            return []
        return [HistoryJob([entry], self.search) for entry in self.entries]

    @classmethod
    def run_group(cls, conn: Conn, jobs: list[Job]) -> None:
        """Consecutive turns in one set of statements."""
        entries = [e for job in jobs for e in job.entries]  # type: ignore[attr-defined]
        write_entries(conn, entries, search=jobs[0].search)  # type: ignore[attr-defined]


class PostgresHistoryStore(HistoryQueries):
    """History in PostgreSQL (see the module docstring)."""

    _mark = "%s"
    _like = "ILIKE"
    #: prune() waits for PostgreSQL: the server runs it on a worker thread.
    upkeep_blocks = True

    def __init__(
        self, db: PgDatabase, *, search: bool = True, record_live: bool = True,
        writer: Writer | None = None,
    ) -> None:  # fmt: skip
        self.db = db
        #: Whether :meth:`close` closes the database too (only when :meth:`open` opened it).
        self.owns_db = False
        self.search_enabled = search
        self.record_live = record_live
        self._pending: list[Entry] = []
        #: The writer thread (shared with the channel store: one writer per database).
        self.writer = writer or Writer(db)
        #: The writer's counters (its commits are this store's).
        self.stats = self.writer.stats
        if not self.writer.is_alive():
            self.writer.start()
        self._prepare_search(search)

    @classmethod
    def open(
        cls, url: str, *, search: bool = True, record_live: bool = True
    ) -> PostgresHistoryStore:
        """Open the database at ``url`` for this store alone (tests, tools)."""
        db = PgDatabase.open(url)
        try:
            store = cls(db, search=search, record_live=record_live)
        except BaseException:
            db.close()
            raise
        store.owns_db = True
        return store

    def _prepare_search(self, search: bool) -> None:
        """Keep the search documents, or not; turning search on again fills
        in the documents of the rows written while it was off."""
        with self.db.writing() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'search_indexed'").fetchone()
            indexed = row is None or row[0] == "1"  # a new database starts indexed
            if search and not indexed:
                log.info("%s: rebuilding the search index", self.db.shown,
                         extra={"event": "history.search_rebuild"})
                rebuild_search(conn)
            if row is None or indexed != search:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('search_indexed', %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    ("1" if search else "0",),
                )

    # --- writing (event loop) ------------------------------------------------------

    def record(self, entry: Entry) -> None:
        """Queue ``entry``; :meth:`commit` hands it to the writer."""
        if self.record_live:
            self._pending.append(entry)

    def commit(self) -> None:
        """Hand this turn's entries to the writer thread (never waits)."""
        if self._pending:
            pending, self._pending = self._pending, []
            self.writer.submit(HistoryJob(pending, self.search_enabled))

    def health(self) -> str | None:
        """Why history cannot be kept now, or None (never waits: the writer
        thread's last outcome). Whether PostgreSQL answers at all is the
        database's to say (:meth:`PgDatabase.health`)."""
        down = self.writer.down_since
        if down is None:
            return None
        return (f"{self.db.shown}: history cannot be written for {time.monotonic() - down:.0f} s; "
                f"{self.writer.waiting} events wait")  # fmt: skip

    def index(self) -> None:
        """Nothing to do: documents are written with their rows."""

    def compact(self) -> bool:
        """Nothing to do: a redacted row's old version is reclaimed by
        PostgreSQL's (auto)vacuum."""
        return False

    def prune(self, before_ms: int, limit: int) -> int:
        """Delete up to ``limit`` of the oldest events from before ``before_ms``
        (blocking: on a worker thread, see :attr:`upkeep_blocks`)."""
        with self.db.writing() as conn:
            cur = conn.execute(
                "WITH old AS (SELECT id FROM history WHERE time_ms < %s "
                "ORDER BY time_ms LIMIT %s), "
                "gone AS (DELETE FROM private WHERE id IN (SELECT id FROM old)) "
                "DELETE FROM history WHERE id IN (SELECT id FROM old)",
                (before_ms, limit),
            )
            return max(cur.rowcount, 0)

    # --- the archiver's way in (cluster mode) ------------------------------------------

    def append_batch(self, entries: Iterable[Entry], *, mark: tuple[str, str] | None = None) -> int:
        """Write ``entries`` now, on the calling thread (never the loop), in one
        transaction; how many rows were new. Idempotent by msgid: entries
        already kept are skipped, so a batch replayed after a crash is
        harmless. ``mark`` = (key, value) is stored in ``meta`` in the same
        transaction (an archiver's position in the log), so the rows and
        the position are kept together or not at all. Raises DatabaseError."""
        with self.db.writing() as conn:
            new = write_entries(conn, entries, search=self.search_enabled)
            if mark is not None:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES (%s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", mark,
                )  # fmt: skip
            return new

    def archived(self, key: str) -> str | None:
        """The value a batch last stored under ``key`` (see :meth:`append_batch`)."""
        with self.db.reading() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
            return None if row is None else str(row[0])

    def wait_written(self, timeout: float) -> bool:
        """Block until everything committed so far is in PostgreSQL (tests,
        benchmarks; never on the loop); False on timeout."""
        return self.writer.flush(timeout)

    # --- reading (worker threads) ---------------------------------------------------------

    def _reader(self) -> Connection:
        return self.db.connection()

    def _in(self, column: str, values: Iterable[Any]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(%s)", [list(values)]

    def _first_at(self, conn: Connection, ms: int) -> int | None:
        row = conn.execute(
            "SELECT id FROM history WHERE time_ms >= %s ORDER BY time_ms, id LIMIT 1", (ms,)
        ).fetchone()
        return None if row is None else int(row[0])

    def _msgid_clause(self, conn: Connection, msgid: str) -> tuple[str, list[Any]] | None:
        return "h.msgid = %s", [msgid]

    def _match(self, text: str) -> Match | None:
        query = tsquery(text)
        if query is None or not self.search_enabled:
            return None
        return "history h", "h.words @@ %s::tsquery", [query], "h.id"

    def _read(self, fn: Callable[[], T]) -> T:
        """Run a query: after the writer caught up, with errors as DatabaseError."""
        if self.writer.down_since is None:
            self.writer.flush(READ_AFTER_WRITE_WAIT)
        with self.db.reading():
            return fn()

    def latest(self, scope: Scope, after: Ref | None, limit: int) -> list[Found]:
        """The newest ``limit`` events (after ``after``, exclusive), oldest first."""
        return self._read(lambda: super(PostgresHistoryStore, self).latest(scope, after, limit))

    def before(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        """The ``limit`` events just before ``ref``, oldest first."""
        return self._read(lambda: super(PostgresHistoryStore, self).before(scope, ref, limit))

    def after(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        """The ``limit`` events just after ``ref``, oldest first."""
        return self._read(lambda: super(PostgresHistoryStore, self).after(scope, ref, limit))

    def around(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        """``limit // 2`` events before ``ref``, the rest from ``ref`` on."""
        return self._read(lambda: super(PostgresHistoryStore, self).around(scope, ref, limit))

    def between(self, scope: Scope, start: Ref, end: Ref, limit: int) -> list[Found]:
        """Events strictly between ``start`` and ``end``, counted from ``start``."""
        return self._read(
            lambda: super(PostgresHistoryStore, self).between(scope, start, end, limit)
        )

    def targets(
        self, owners: tuple[str, ...], channels: tuple[str, ...], after_ms: int, before_ms: int,
        limit: int,
    ) -> list[Target]:
        """Conversations whose latest message lies strictly between the times."""
        return self._read(lambda: super(PostgresHistoryStore, self).targets(
            owners, channels, after_ms, before_ms, limit))  # fmt: skip

    def author(self, scope: Scope, msgid: str) -> Author | None:
        """Who sent the message ``msgid`` of ``scope``."""
        return self._read(lambda: super(PostgresHistoryStore, self).author(scope, msgid))

    def search(self, query: SearchQuery) -> list[Found]:
        """Messages matching ``query`` within what its asker may read, oldest first."""
        return self._read(lambda: super(PostgresHistoryStore, self).search(query))

    def close(self) -> None:
        """Write what is queued (waiting up to :data:`CLOSE_WAIT` s), stop the writer."""
        self.commit()
        self.writer.stop(CLOSE_WAIT)
        if self.owns_db:
            self.db.close()


def rebuild_search(conn: Conn, step: int = 2000) -> None:
    """Write the search documents of every message row that has none (after
    search was off), in steps, inside the caller's transaction."""
    from ..base import MESSAGE_KINDS
    from ..search import lexemes

    last = 0
    while True:
        rows = conn.execute(
            "SELECT id, text FROM history WHERE id > %s AND kind = ANY(%s) AND text IS NOT NULL "
            "ORDER BY id LIMIT %s", (last, list(MESSAGE_KINDS), step),
        ).fetchall()  # fmt: skip
        if not rows:
            return
        ids = [rid for rid, _ in rows]
        docs = [" ".join(lexemes(text)) or None for _, text in rows]
        conn.execute(
            "UPDATE history h SET words = CASE WHEN d.words IS NULL THEN NULL "
            "ELSE array_to_tsvector(string_to_array(d.words, ' ')) END "
            "FROM unnest(%s::bigint[], %s::text[]) AS d(id, words) WHERE h.id = d.id",
            (ids, docs),
        )
        last = ids[-1]
