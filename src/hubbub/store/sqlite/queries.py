"""The named queries of the history store, run on worker threads.

Every query is a method here, reads through the calling thread's read-only
connection (:meth:`~.database.Database.reader`) and is confined to a
:class:`~hubbub.store.base.Scope`: one channel, or the private conversations
of one viewer. Paging is by row id, which is the delivery order; a
``timestamp=`` reference becomes an id bound by a binary search over the ids
(:func:`first_at`: ids and times rise together), so no query scans a
conversation to find a time, and no time index costs every insert.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from hubbub.events import msgid_time

from ..base import MESSAGE_KINDS, REDACTABLE_KINDS, Author, Found, Ref, Scope, SearchQuery, Target
from .database import Database
from .rows import COLUMNS, Row, decode
from .search import fts_query, like_nick


def marks(values: Iterable[Any]) -> str:
    """``?, ?, ?``: one placeholder per value."""
    return ", ".join("?" for _ in values)


def first_at(conn: sqlite3.Connection, ms: int) -> int | None:
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


def msgid_rows(conn: sqlite3.Connection, msgid: str) -> tuple[int, int] | None:
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


class HistoryQueries:
    """The reading half of the SQLite history store."""

    db: Database
    #: Whether the search index is kept (search is on).
    _indexed: bool

    # --- reading (worker threads) ---------------------------------------------

    def _scoped(self, conn: sqlite3.Connection, scope: Scope) -> tuple[str, list[Any]] | None:
        """``SELECT <columns> FROM ... WHERE <scope>`` and its parameters;
        None when the scope has no history at all."""
        kinds = scope.kinds
        if scope.channel is not None:
            row = conn.execute("SELECT id FROM channels WHERE name = ?", (scope.channel,))
            found = row.fetchone()
            if found is None:
                return None
            sql = (
                f"SELECT {COLUMNS} FROM history h WHERE h.conv = ? "
                f"AND h.kind IN ({marks(kinds)}) AND (h.status IS NULL"
                + (f" OR h.status IN ({marks(scope.statuses)}))" if scope.statuses else ")")
            )
            return sql, [found[0], *kinds, *scope.statuses]
        if not scope.owners:
            return None
        sql = (
            f"SELECT {COLUMNS} FROM private p JOIN history h ON h.id = p.id "
            f"WHERE p.owner IN ({marks(scope.owners)}) AND h.kind IN ({marks(kinds)})"
        )
        params: list[Any] = [*scope.owners, *kinds]
        if scope.peer != "*":
            sql += " AND p.peer = ?"
            params.append(scope.peer)
        return sql, params

    def _range(
        self, scope: Scope, lo: int | None, hi: int | None, limit: int, *, newest: bool
    ) -> list[Found]:
        """Events with ``lo < id < hi``: the ``limit`` newest or oldest, oldest first."""
        if limit <= 0:
            return []
        conn = self.db.reader()
        scoped = self._scoped(conn, scope)
        if scoped is None:
            return []
        sql, params = scoped
        if lo is not None:
            sql += " AND h.id > ?"
            params.append(lo)
        if hi is not None:
            sql += " AND h.id < ?"
            params.append(hi)
        sql += f" ORDER BY h.id {'DESC' if newest else 'ASC'} LIMIT ?"
        params.append(limit)
        rows: list[Row] = conn.execute(sql, params).fetchall()
        if newest:
            rows.reverse()
        return self._found(rows, scope.channel)

    @staticmethod
    def _found(rows: list[Row], channel: str | None) -> list[Found]:
        out: list[Found] = []
        seen: set[str] = set()
        private = channel is None
        for row in rows:
            if private:
                # A message between two sessions of the viewer's own could
                # match two of its rows: show it once.
                if row[0] in seen:
                    continue
                seen.add(row[0])
            out.append(Found(decode(row, private), channel))
        return out

    def _id_of(self, conn: sqlite3.Connection, scope: Scope, msgid: str) -> int | None:
        """The id of ``msgid`` within ``scope`` (whatever its kind), or None."""
        span = msgid_rows(conn, msgid)
        if span is None:
            return None
        sql, params = "SELECT h.id FROM history h WHERE h.id >= ? AND h.id < ? AND h.msgid = ?", [
            *span, msgid]  # fmt: skip
        if scope.channel is not None:
            sql += " AND h.conv = (SELECT id FROM channels WHERE name = ?)"
            params.append(scope.channel)
        else:
            sql += (f" AND EXISTS (SELECT 1 FROM private p WHERE p.id = h.id "
                    f"AND p.owner IN ({marks(scope.owners)})")  # fmt: skip
            params.extend(scope.owners)
            if scope.peer != "*":
                sql += " AND p.peer = ?"
                params.append(scope.peer)
            sql += ")"
        row = conn.execute(sql, params).fetchone()
        return None if row is None else int(row[0])

    def _after(self, conn: sqlite3.Connection, scope: Scope, ref: Ref) -> int | None:
        """The exclusive lower id bound "after ``ref``" (None: unknown msgid)."""
        if ref.msgid is not None:
            return self._id_of(conn, scope, ref.msgid)
        assert ref.time_ms is not None
        later = first_at(conn, ref.time_ms + 1)  # the first row after the time
        if later is not None:
            return later - 1
        row = conn.execute("SELECT coalesce(max(id), 0) FROM history").fetchone()
        return int(row[0])

    def _before(self, conn: sqlite3.Connection, scope: Scope, ref: Ref) -> int | None:
        """The exclusive upper id bound "before ``ref``" (None: unknown msgid;
        -1: after everything)."""
        if ref.msgid is not None:
            return self._id_of(conn, scope, ref.msgid)
        assert ref.time_ms is not None
        first = first_at(conn, ref.time_ms)
        return -1 if first is None else first

    def latest(self, scope: Scope, after: Ref | None, limit: int) -> list[Found]:
        """The newest ``limit`` events (after ``after``, exclusive), oldest first."""
        lo = None
        if after is not None:
            lo = self._after(self.db.reader(), scope, after)
            if lo is None:
                return []
        return self._range(scope, lo, None, limit, newest=True)

    def before(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        """The ``limit`` events just before ``ref``, oldest first."""
        hi = self._before(self.db.reader(), scope, ref)
        if hi is None:
            return []
        return self._range(scope, None, None if hi < 0 else hi, limit, newest=True)

    def after(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        """The ``limit`` events just after ``ref``, oldest first."""
        lo = self._after(self.db.reader(), scope, ref)
        if lo is None:
            return []
        return self._range(scope, lo, None, limit, newest=False)

    def around(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        """``limit // 2`` events before ``ref``, the rest from ``ref`` on."""
        conn = self.db.reader()
        if ref.msgid is not None:
            center = self._id_of(conn, scope, ref.msgid)
            if center is None:
                return []
        else:
            first = self._before(conn, scope, ref)  # first id at or after the time
            center = None if first is None or first < 0 else first
        earlier = self._range(scope, None, center, limit // 2, newest=True)
        if center is None:
            return earlier
        return earlier + self._range(scope, center - 1, None, limit - len(earlier), newest=False)

    def between(self, scope: Scope, start: Ref, end: Ref, limit: int) -> list[Found]:
        """Events strictly between ``start`` and ``end``, counted from ``start``."""
        conn = self.db.reader()
        forward = self._sort_key(conn, scope, start) <= self._sort_key(conn, scope, end)
        if forward:
            lo, hi = self._after(conn, scope, start), self._before(conn, scope, end)
        else:
            lo, hi = self._after(conn, scope, end), self._before(conn, scope, start)
        if lo is None or hi is None:
            return []
        return self._range(scope, lo, None if hi < 0 else hi, limit, newest=not forward)

    def _sort_key(self, conn: sqlite3.Connection, scope: Scope, ref: Ref) -> tuple[int, int]:
        """Where ``ref`` lies in time, to tell which way BETWEEN counts."""
        if ref.msgid is None:
            return (ref.time_ms or 0, 0)
        rid = self._id_of(conn, scope, ref.msgid)
        if rid is None:
            return (0, 0)
        row = conn.execute("SELECT time_ms FROM history WHERE id = ?", (rid,)).fetchone()
        return (int(row[0]), rid)

    def targets(
        self, owners: tuple[str, ...], channels: tuple[str, ...], after_ms: int, before_ms: int,
        limit: int,
    ) -> list[Target]:
        """Conversations whose latest message lies strictly between the times."""
        conn = self.db.reader()
        found: list[Target] = []
        msg_kinds = marks(MESSAGE_KINDS)
        for name in channels:
            row = conn.execute(
                "SELECT h.time_ms FROM history h JOIN channels c ON c.id = h.conv "
                f"WHERE c.name = ? AND h.kind IN ({msg_kinds}) ORDER BY h.id DESC LIMIT 1",
                (name, *MESSAGE_KINDS),
            ).fetchone()
            if row is not None and after_ms < row[0] < before_ms:
                found.append(Target(name, int(row[0]), True))
        if owners:
            owned = marks(owners)
            latest = conn.execute(
                f"SELECT p.peer, max(p.id) FROM private p JOIN history h ON h.id = p.id "
                f"WHERE p.owner IN ({owned}) AND h.kind IN ({msg_kinds}) GROUP BY p.peer",
                (*owners, *MESSAGE_KINDS),
            ).fetchall()
            for peer, rid in latest:
                row = conn.execute(
                    f"SELECT p.nick, h.time_ms FROM private p JOIN history h ON h.id = p.id "
                    f"WHERE p.id = ? AND p.peer = ? AND p.owner IN ({owned}) LIMIT 1",
                    (rid, peer, *owners),
                ).fetchone()
                if row is not None and after_ms < row[1] < before_ms:
                    found.append(Target(str(row[0]), int(row[1]), False))
        found.sort(key=lambda t: t.time_ms)
        return found[:limit]

    def author(self, scope: Scope, msgid: str) -> Author | None:
        """Who sent the message ``msgid`` of ``scope``."""
        conn = self.db.reader()
        rid = self._id_of(conn, scope, msgid)
        if rid is None:
            return None
        row = conn.execute(
            f"SELECT uid, account, kind FROM history WHERE id = ? "
            f"AND kind IN ({marks(REDACTABLE_KINDS)})",
            (rid, *REDACTABLE_KINDS),
        ).fetchone()
        return None if row is None else Author(str(row[0]), row[1], str(row[2]))

    def search(self, query: SearchQuery) -> list[Found]:
        """Messages matching ``query`` within what its asker may read, oldest first."""
        conn = self.db.reader()
        where: list[str] = [f"h.kind IN ({marks(MESSAGE_KINDS)})", "h.status IS NULL"]
        params: list[Any] = [*MESSAGE_KINDS]
        readable = self._readable(query)
        if readable is None:
            return []
        where.append(readable[0])
        params.extend(readable[1])
        if query.from_nick:
            where.append("h.source LIKE ? ESCAPE '\\'")
            params.append(like_nick(query.from_nick))
        if query.after_ms is not None:
            where.append("h.time_ms >= ?")
            params.append(query.after_ms)
        if query.before_ms is not None:
            where.append("h.time_ms <= ?")
            params.append(query.before_ms)
        match = fts_query(query.text) if query.text else None
        if query.text and (match is None or not self._indexed):
            return []
        source, order = "history h", "h.id"
        if match is not None:
            # Ordered by the index's own rowid, FTS5 hands the matches over
            # newest first and the query stops at the limit, instead of
            # sorting every match of a common word.
            source, order = "history_fts f JOIN history h ON h.id = f.rowid", "f.rowid"
            where.insert(0, "history_fts MATCH ?")
            params.insert(0, match)
        oldest_first = query.after_ms is not None
        sql = (
            f"SELECT {COLUMNS}, c.name FROM {source} LEFT JOIN channels c ON c.id = h.conv "
            f"WHERE {' AND '.join(where)} "
            f"ORDER BY {order} {'ASC' if oldest_first else 'DESC'} LIMIT ?"
        )
        params.append(query.limit)
        rows = conn.execute(sql, params).fetchall()
        if not oldest_first:
            rows.reverse()
        seen: set[str] = set()
        out: list[Found] = []
        for *row, channel in rows:
            if row[0] in seen:
                continue
            seen.add(row[0])
            out.append(Found(decode(tuple(row), channel is None), channel))
        return out

    def _readable(self, query: SearchQuery) -> tuple[str, list[Any]] | None:
        """The condition "the asker may read this row", narrowed by ``in``."""
        private = (
            f"EXISTS (SELECT 1 FROM private p WHERE p.id = h.id "
            f"AND p.owner IN ({marks(query.owners)})"
        )
        if query.in_channel is not None:
            if query.in_channel not in query.channels:
                return None
            return "c.name = ?", [query.in_channel]
        if query.in_peer is not None:
            if not query.owners:
                return None
            return private + " AND p.peer = ?)", [*query.owners, query.in_peer]
        parts: list[str] = []
        params: list[Any] = []
        if query.channels:
            parts.append(f"c.name IN ({marks(query.channels)})")
            params.extend(query.channels)
        if query.owners:
            parts.append(private + ")")
            params.extend(query.owners)
        if not parts:
            return None
        return "(" + " OR ".join(parts) + ")", params
