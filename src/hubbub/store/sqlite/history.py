"""The history store on SQLite: rows queued on the loop, written once per turn.

Theory of operation
-------------------
Writing: ``record`` (on the event loop, for every kept event) only appends
the entry to a list. ``commit`` (on the loop, once per turn, before that
turn's output is written) turns the list into rows and writes them in one
transaction on the database's writer: a few ``executemany`` calls, then
``COMMIT``, which in WAL mode with ``synchronous=NORMAL`` is an append to
the log in the page cache, no ``fsync``. Why on the loop and not on a
thread: it costs microseconds per turn (see docs/performance.md), needs no
hand-off, and makes "written before anyone sees it" a plain sequence of
statements. A thread would have to hold every session's output until the
writer said "durable", and under load the GIL hand-offs cost more than the
write. What could stall the loop (checkpoints, with their ``fsync``) runs
on the checkpointer's thread (:mod:`.database`).

Row ids are given here, counting up from the largest in the file: the one
writer knows the next one, so a batch needs no round trip per row, and the
id order is the delivery order that every query pages by. Timestamps are
turned into id bounds through the time index (ids and times rise together).

If a commit fails (a full disk), the entries stay queued and the next turn
tries again; the error is logged (at most every few seconds) with the file.

Reading: the named queries of :class:`~hubbub.store.queries.HistoryQueries`
(shared with PostgreSQL), on worker threads.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from hubbub import events as ev
from hubbub.protocol import casefold

from ..base import REDACTABLE_KINDS, Entry, WriteStats
from ..rows import encode, time_ms
from .database import Database, DatabaseError, explain
from .queries import SQLiteQueries, first_at, marks, msgid_rows

log = logging.getLogger(__name__)

#: Entries kept queued while the database refuses them, before the oldest go.
MAX_QUEUED = 100_000
#: Unindexed rows that make a commit also bring the search index up to date.
INDEX_BATCH = 256
#: Pages of the search index one compaction step may write.
MERGE_PAGES = 16
#: Seconds between two log lines about failing commits.
FAILURE_LOG_INTERVAL = 10.0

_INSERT = (
    "INSERT INTO history (id, conv, msgid, time_ms, kind, uid, account, source, target, "
    "status, text, fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_PRIVATE = "INSERT OR IGNORE INTO private (owner, peer, id, nick) VALUES (?, ?, ?, ?)"
_INDEX_FROM = (
    "INSERT INTO history_fts (rowid, text) "
    "SELECT id, text FROM history WHERE id > ? AND text IS NOT NULL"
)
_DELETE_FTS = "INSERT INTO history_fts (history_fts, rowid, text) VALUES ('delete', ?, ?)"

ChannelOp = tuple[str, int, str]  # ("insert" | "rename", channel id, name)


class SQLiteHistoryStore(SQLiteQueries):
    """History in the embedded database (see the module docstring)."""

    #: Pruning is a page-cache write on the loop's writer: no thread needed.
    upkeep_blocks = False

    def __init__(self, db: Database, *, search: bool = True) -> None:
        self.db = db
        #: Whether :meth:`close` closes the database too: only when this store
        #: opened it (:meth:`open`); a shared one is closed by its owner.
        self.owns_db = False
        self.search_enabled = search
        self.stats = WriteStats()
        self._pending: list[Entry] = []
        self._last_failure_log = 0.0
        self._last_error = ""
        #: A redaction left the words of a message inside the search index.
        self._purge_index = False
        writer = db.writer
        writer.execute("PRAGMA secure_delete = FAST")  # redacted text is overwritten
        self._next_id = writer.execute("SELECT coalesce(max(id), 0) + 1 FROM history").fetchone()[0]
        self._load_channels()
        #: The search index holds every row up to this id (it lags the rows).
        self._indexed_upto = 0
        self._indexed = self._prepare_search(search)

    @classmethod
    def open(cls, path: Path | str, *, search: bool = True) -> SQLiteHistoryStore:
        """Open the database at ``path`` and start its checkpoints."""
        db = Database.open(path)
        try:
            store = cls(db, search=search)
        except sqlite3.Error as exc:
            db.close()
            raise DatabaseError(db.path, explain(exc)) from None
        db.start_checkpoints()
        store.owns_db = True
        return store

    def _load_channels(self) -> None:
        rows = self.db.writer.execute("SELECT name, id FROM channels").fetchall()
        self._channels: dict[str, int] = dict(rows)
        self._next_channel = max(self._channels.values(), default=0) + 1

    def _prepare_search(self, search: bool) -> bool:
        """Whether the search index is kept, and how far it reaches.

        While search is on, the index follows the rows a little behind
        (:meth:`index`), and ``meta.search_upto`` says how far, in the same
        transactions: a killed server catches up at its next start. Turning
        search off stops keeping it (``search_indexed = 0``); turning it back
        on rebuilds it once, since rows deleted meanwhile left it stale.
        """
        db = self.db
        last = self._next_id - 1
        if not search:
            if db.meta("search_indexed") == "1":
                db.set_meta("search_indexed", "0")
            return False
        if db.meta("search_indexed") != "1":
            log.info("%s: rebuilding the search index", db.path,
                     extra={"event": "history.search_rebuild", "path": str(db.path)})
            db.writer.execute("BEGIN")
            db.writer.execute("INSERT INTO history_fts (history_fts) VALUES ('rebuild')")
            db.set_meta("search_indexed", "1")
            db.set_meta("search_upto", str(last))
            db.writer.execute("COMMIT")
        upto = db.meta("search_upto")
        # No mark yet: the index was built by the migration, over every row.
        self._indexed_upto = last if upto is None else int(upto)
        self._indexed = True
        self.index()
        return True

    # --- writing (event loop) ------------------------------------------------

    def record(self, entry: Entry) -> None:
        """Queue ``entry``; :meth:`commit` writes it."""
        self._pending.append(entry)

    def commit(self) -> None:
        """Write every queued entry in one transaction."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        started = time.perf_counter()
        try:
            rows = self._write(pending)
        except sqlite3.Error as exc:
            self._failed(pending, exc)
            return
        stats = self.stats
        stats.latency.observe(time.perf_counter() - started)
        stats.rows += rows
        if stats.waiting:
            stats.waiting = 0
        if self._indexed and self._next_id - 1 - self._indexed_upto >= INDEX_BATCH:
            self.index()

    def index(self) -> None:
        """Bring the search index up to the last row (on the loop).

        Indexing every commit's rows in that commit would cost a new index
        segment per loop turn (FTS5's fixed cost per transaction is larger
        than a row's); the rows are indexed in batches instead, from the
        table itself, so a row redacted before it was indexed never is."""
        last = self._next_id - 1
        if not self._indexed or self._indexed_upto >= last:
            return
        writer = self.db.writer
        try:
            writer.execute("BEGIN")
            writer.execute(_INDEX_FROM, (self._indexed_upto,))
            self.db.set_meta("search_upto", str(last))
            writer.execute("COMMIT")
        except sqlite3.Error as exc:
            if writer.in_transaction:
                writer.execute("ROLLBACK")
            log.error("%s: cannot update the search index: %s", self.db.path, explain(exc),
                      extra={"event": "history.index_failed", "reason": explain(exc),
                             "path": str(self.db.path)})  # fmt: skip
            return
        self._indexed_upto = last

    def _write(self, pending: list[Entry]) -> int:
        """Write ``pending`` in one transaction; the number of rows written."""
        rows: list[tuple[Any, ...]] = []
        private: list[tuple[str, str, int, str]] = []
        redactions: list[str] = []
        channel_ops: list[ChannelOp] = []
        next_id = self._next_id
        channels = self._channels
        for entry in pending:
            event = entry.event
            if type(event) is ev.MessageSent and event.channel and not event.tags:
                # Most rows: a channel line without client tags. Its row is
                # rows.encode's, built here without the dispatch and the copy.
                (name,) = entry.channels
                cid = channels.get(name) or self._channel_id(name, channel_ops)
                rows.append((next_id, cid, event.msgid, int(event.time * 1000), event.command,
                             event.uid, entry.account, event.source, event.target,
                             event.status or None, event.text or None, None))  # fmt: skip
                next_id += 1
                continue
            body = encode(event, entry.account)
            if body is None:
                if isinstance(event, ev.MessageRedacted):
                    redactions.append(event.redacted)
                elif isinstance(event, ev.ChannelRenamed):
                    self._rename(casefold(event.channel), casefold(event.new), channel_ops)
                continue
            msgid, ms = event.msgid, time_ms(event.time)
            if entry.parties is not None:
                rows.append((next_id, None, msgid, ms, *body))
                sender, recipient = entry.parties
                private.append((sender.key, casefold(recipient.nick), next_id, recipient.nick))
                private.append((recipient.key, casefold(sender.nick), next_id, sender.nick))
                next_id += 1
            for name in entry.channels:
                rows.append((next_id, self._channel_id(name, channel_ops), msgid, ms, *body))
                next_id += 1
        writer = self.db.writer
        writer.execute("BEGIN")
        try:
            for op, cid, name in channel_ops:
                if op == "insert":
                    writer.execute("INSERT INTO channels (id, name) VALUES (?, ?)", (cid, name))
                else:
                    writer.execute("UPDATE channels SET name = ? WHERE id = ?", (name, cid))
            writer.executemany(_INSERT, rows)
            if private:
                writer.executemany(_INSERT_PRIVATE, private)
            for msgid in redactions:
                self._redact(msgid)
            writer.execute("COMMIT")
        except BaseException:
            if writer.in_transaction:
                writer.execute("ROLLBACK")
            self._load_channels()  # forget the ids given in the failed batch
            raise
        self._next_id = next_id
        return len(rows)

    def _channel_id(self, name: str, ops: list[ChannelOp]) -> int:
        cid = self._channels.get(name)
        if cid is None:
            cid = self._channels[name] = self._next_channel
            self._next_channel += 1
            ops.append(("insert", cid, name))
        return cid

    def _rename(self, old: str, new: str, ops: list[ChannelOp]) -> None:
        """The history of ``old`` is ``new``'s from now on. An older channel
        that had the name ``new`` (and emptied) keeps its rows under a name
        no one can join."""
        if old == new:
            return
        cid = self._channels.pop(old, None)
        stale = self._channels.pop(new, None)
        if stale is not None:
            ops.append(("rename", stale, f"\x00{new}\x00{stale}"))
        if cid is not None:
            self._channels[new] = cid
            ops.append(("rename", cid, new))

    def _redact(self, msgid: str) -> None:
        """Withdraw the message ``msgid``: its text and tags go (from the search
        index too); a placeholder keeps its place for msgid references."""
        writer = self.db.writer
        span = msgid_rows(writer, msgid)
        if span is None:
            return
        kinds = marks(REDACTABLE_KINDS)
        found = writer.execute(
            f"SELECT id, text FROM history WHERE id >= ? AND id < ? AND msgid = ? "
            f"AND kind IN ({kinds})",
            (*span, msgid, *REDACTABLE_KINDS),
        ).fetchall()
        for rid, text in found:
            if text is not None and self._indexed and rid <= self._indexed_upto:
                writer.execute(_DELETE_FTS, (rid, text))
                self._purge_index = True
            writer.execute(
                "UPDATE history SET kind = 'REDACTED', text = NULL, fields = NULL WHERE id = ?",
                (rid,),
            )

    def _failed(self, pending: list[Entry], exc: sqlite3.Error) -> None:
        """Keep the entries for the next turn (bounded) and say what is wrong."""
        self._pending = pending + self._pending
        dropped = len(self._pending) - MAX_QUEUED
        if dropped > 0:
            del self._pending[:dropped]
        self.stats.failures += 1
        self.stats.waiting = len(self._pending)
        self._last_error = explain(exc)
        now = time.monotonic()
        if now - self._last_failure_log >= FAILURE_LOG_INTERVAL:
            self._last_failure_log = now
            log.error(
                "%s: cannot write history (%s); %d events wait%s",
                self.db.path, self._last_error, len(self._pending),
                f", {dropped} oldest dropped" if dropped > 0 else "",
                extra={"event": "history.write_failed", "reason": self._last_error,
                       "path": str(self.db.path)},
            )  # fmt: skip

    def health(self) -> str | None:
        """Why history cannot be kept now, or None. Entries waiting after a
        failed commit are tried again first: once the disk has room, the
        next check finds them written. (The file itself is the database's
        to check: :meth:`Database.health`.)"""
        if self.stats.waiting:
            self.commit()
            if self.stats.waiting:
                return f"history writes fail ({self._last_error}); {self.stats.waiting} events wait"
        return None

    def prune(self, before_ms: int, limit: int) -> int:
        """Delete up to ``limit`` of the oldest events from before ``before_ms``."""
        writer = self.db.writer
        cutoff = first_at(writer, before_ms)
        old = writer.execute(
            "SELECT id, text FROM history WHERE id < ? ORDER BY id LIMIT ?",
            (self._next_id if cutoff is None else cutoff, limit),
        ).fetchall()
        if not old:
            return 0
        ids = [(rid,) for rid, _ in old]
        writer.execute("BEGIN")
        try:
            if self._indexed:
                upto = self._indexed_upto
                indexed = [(rid, t) for rid, t in old if t is not None and rid <= upto]
                writer.executemany(_DELETE_FTS, indexed)
            writer.executemany("DELETE FROM private WHERE id = ?", ids)
            writer.executemany("DELETE FROM history WHERE id = ?", ids)
            writer.execute("COMMIT")
        except BaseException:
            if writer.in_transaction:
                writer.execute("ROLLBACK")
            raise
        return len(old)

    def compact(self) -> bool:
        """One small step of purging redacted words from the search index;
        True while there is more to do.

        FTS5 marks a deleted entry and keeps its words until the segments
        holding them are merged. After a redaction the index is merged
        ("merge" with a negative size: any segments, in steps of about
        :data:`MERGE_PAGES` pages) until nothing is left to merge, so the words
        of a withdrawn message leave the file too; small steps keep each one
        to a few milliseconds of the loop."""
        if not self._purge_index:
            return False
        writer = self.db.writer
        before = writer.total_changes
        writer.execute(
            "INSERT INTO history_fts (history_fts, rank) VALUES ('merge', ?)", (-MERGE_PAGES,)
        )
        # The command itself counts one change; more means it merged something.
        self._purge_index = writer.total_changes - before > 1
        return self._purge_index

    def close(self) -> None:
        """Write what is queued, then close the database if this store owns it."""
        if self.db.closed:
            return
        self.commit()
        self.index()
        if self._pending:
            log.error("%s: %d events could not be written", self.db.path, len(self._pending),
                      extra={"event": "history.lost_on_close", "path": str(self.db.path),
                             "reason": self._last_error})  # fmt: skip
        if self.owns_db:
            self.db.close()
