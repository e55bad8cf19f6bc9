"""What the SQLite history store adds to the shared named queries
(:mod:`hubbub.store.queries`): times and msgids found without an index.

A ``timestamp=`` reference becomes an id bound by a binary search over the
ids (:func:`first_at`: ids and times rise together), and a msgid is looked
for among the few rows of the millisecond it starts with
(:func:`msgid_rows`), so no query scans a conversation to find a time, and
neither a time index nor a msgid index costs every insert.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from hubbub.events import msgid_time

from ..queries import Connection, HistoryQueries, Match
from ..search import fts_query
from .database import Database


def marks(values: Iterable[Any]) -> str:
    """``?, ?, ?``: one placeholder per value."""
    return ", ".join("?" for _ in values)


def first_at(conn: sqlite3.Connection | Connection, ms: int) -> int | None:
    """The first row (by id) said at or after ``ms``, or None if every row is
    older: a binary search over the ids, about 20 lookups for a million rows.

    It rests on times rising with ids (rows are written in delivery order,
    stamped as they are published); if the clock stepped back, the answer is
    one of the rows around the step.
    """
    # Two subqueries: SQLite answers min() or max() alone from the end of the
    # table, but scans every row for both in one SELECT.
    lo, hi = conn.execute(
        "SELECT (SELECT min(id) FROM history), (SELECT max(id) FROM history)"
    ).fetchone()
    if lo is None:
        return None
    best = None
    while lo <= hi:
        mid = (lo + hi) // 2
        row = conn.execute(
            "SELECT id, time_ms FROM history WHERE id >= ? ORDER BY id LIMIT 1", (mid,)
        ).fetchone()
        if row is None:
            hi = mid - 1
        elif row[1] >= ms:
            best, hi = int(row[0]), mid - 1
        else:
            lo = int(row[0]) + 1
    return best


def msgid_rows(conn: sqlite3.Connection | Connection, msgid: str) -> tuple[int, int] | None:
    """The ids ``[lo, hi)`` of the rows said in the millisecond a hubbub
    msgid starts with (:func:`hubbub.events.make_msgid`): where that message
    is, if anywhere. Rows are found by time (:func:`first_at`), so no index
    of msgids costs every insert. None for a msgid not of that form, or a
    time after every row."""
    ms = msgid_time(msgid)
    if ms is None:
        return None
    lo = first_at(conn, ms)
    if lo is None:
        return None
    hi = first_at(conn, ms + 1)
    if hi is None:
        hi = int(conn.execute("SELECT max(id) FROM history").fetchone()[0]) + 1
    return lo, hi


class SQLiteQueries(HistoryQueries):
    """The reading half of the SQLite history store."""

    db: Database
    #: Whether the search index is kept (search is on).
    _indexed: bool

    def _reader(self) -> Connection:
        return self.db.reader()

    def _first_at(self, conn: Connection, ms: int) -> int | None:
        return first_at(conn, ms)

    def _msgid_clause(self, conn: Connection, msgid: str) -> tuple[str, list[Any]] | None:
        span = msgid_rows(conn, msgid)
        if span is None:
            return None
        return "h.id >= ? AND h.id < ? AND h.msgid = ?", [*span, msgid]

    def _match(self, text: str) -> Match | None:
        match = fts_query(text)
        if match is None or not self._indexed:
            return None
        # Ordered by the index's own rowid, FTS5 hands the matches over
        # newest first and the query stops at the limit, instead of
        # sorting every match of a common word.
        return ("history_fts f JOIN history h ON h.id = f.rowid", "history_fts MATCH ?",
                [match], "f.rowid")  # fmt: skip
