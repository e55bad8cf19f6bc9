"""The named queries of the history stores, whichever the database.

Both databases keep history in the same shape (``channels``, ``history``
and ``private`` tables, see the migrations of each), so every named query
is written once, here, and each store supplies what differs:

* the SQL dialect: the placeholder (``?`` or ``%s``) and how a list of
  values is matched (:meth:`HistoryQueries._in`);
* how a time becomes a row id (:meth:`HistoryQueries._first_at`): SQLite
  searches the ids (no time index costs its inserts), PostgreSQL asks its
  time index;
* how a msgid is found (:meth:`HistoryQueries._msgid_clause`): SQLite
  narrows to the rows of the millisecond the msgid starts with, PostgreSQL
  asks its unique index of msgids;
* full-text search (:meth:`HistoryQueries._match`): FTS5, or a tsvector.

Every query runs on a worker thread through that thread's connection
(:meth:`HistoryQueries._reader`), is confined to a
:class:`~hubbub.store.base.Scope` (one channel, or the private
conversations of one viewer), and pages by row id, which is the delivery
order. A private message is a row with no channel (``conv`` NULL in SQLite,
0 in PostgreSQL: either way it matches no ``channels`` row).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from .base import MESSAGE_KINDS, REDACTABLE_KINDS, Author, Found, Ref, Scope, SearchQuery, Target
from .rows import COLUMNS, Row, decode
from .search import like_nick


class Cursor(Protocol):
    """What the queries read from (sqlite3's and psycopg's cursors both fit)."""

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """What the queries run on (sqlite3's and psycopg's connections both fit)."""

    def execute(self, sql: Any, params: Any = ..., /) -> Any: ...


#: Where SEARCH reads and how it orders: (FROM, WHERE clause, its params, ORDER BY).
Match = tuple[str, str, list[Any], str]


class HistoryQueries:
    """The reading half of a history store (see the module docstring)."""

    #: The placeholder of the database's driver.
    _mark = "?"
    #: The operator matching a sender's nick, case-blind.
    _like = "LIKE"

    # --- what each database supplies ----------------------------------------------

    def _reader(self) -> Connection:
        """This thread's connection for reading."""
        raise NotImplementedError

    def _in(self, column: str, values: Iterable[Any]) -> tuple[str, list[Any]]:
        """``column IN (...)`` for ``values``, and its parameters."""
        values = list(values)
        return f"{column} IN ({', '.join(self._mark for _ in values)})", values

    def _first_at(self, conn: Connection, ms: int) -> int | None:
        """The first row id said at or after ``ms``; None if every row is older."""
        raise NotImplementedError

    def _msgid_clause(self, conn: Connection, msgid: str) -> tuple[str, list[Any]] | None:
        """A condition on ``h`` selecting the rows of ``msgid``; None: there are none."""
        raise NotImplementedError

    def _match(self, text: str) -> Match | None:
        """How SEARCH finds ``text``; None when nothing can match (no words,
        or no index kept)."""
        raise NotImplementedError

    # --- scopes ---------------------------------------------------------------------

    def _scoped(self, conn: Connection, scope: Scope) -> tuple[str, list[Any]] | None:
        """``SELECT <columns> FROM ... WHERE <scope>`` and its parameters;
        None when the scope has no history at all."""
        p = self._mark
        kinds, kind_params = self._in("h.kind", scope.kinds)
        if scope.channel is not None:
            found = conn.execute(f"SELECT id FROM channels WHERE name = {p}",
                                 (scope.channel,)).fetchone()  # fmt: skip
            if found is None:
                return None
            sql = f"SELECT {COLUMNS} FROM history h WHERE h.conv = {p} AND {kinds} AND "
            params: list[Any] = [found[0], *kind_params]
            if scope.statuses:
                statuses, status_params = self._in("h.status", scope.statuses)
                sql += f"(h.status IS NULL OR {statuses})"
                params += status_params
            else:
                sql += "h.status IS NULL"
            return sql, params
        if not scope.owners:
            return None
        owners, owner_params = self._in("p.owner", scope.owners)
        sql = (f"SELECT {COLUMNS} FROM private p JOIN history h ON h.id = p.id "
               f"WHERE {owners} AND {kinds}")  # fmt: skip
        params = [*owner_params, *kind_params]
        if scope.peer != "*":
            sql += f" AND p.peer = {p}"
            params.append(scope.peer)
        return sql, params

    def _range(
        self, scope: Scope, lo: int | None, hi: int | None, limit: int, *, newest: bool
    ) -> list[Found]:
        """Events with ``lo < id < hi``: the ``limit`` newest or oldest, oldest first."""
        if limit <= 0:
            return []
        conn = self._reader()
        scoped = self._scoped(conn, scope)
        if scoped is None:
            return []
        sql, params = scoped
        p = self._mark
        if lo is not None:
            sql += f" AND h.id > {p}"
            params.append(lo)
        if hi is not None:
            sql += f" AND h.id < {p}"
            params.append(hi)
        sql += f" ORDER BY h.id {'DESC' if newest else 'ASC'} LIMIT {p}"
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

    def _id_of(self, conn: Connection, scope: Scope, msgid: str) -> int | None:
        """The id of ``msgid`` within ``scope`` (whatever its kind), or None."""
        clause = self._msgid_clause(conn, msgid)
        if clause is None:
            return None
        p = self._mark
        sql, params = f"SELECT h.id FROM history h WHERE {clause[0]}", list(clause[1])
        if scope.channel is not None:
            sql += f" AND h.conv = (SELECT id FROM channels WHERE name = {p})"
            params.append(scope.channel)
        else:
            owners, owner_params = self._in("p.owner", scope.owners)
            sql += f" AND EXISTS (SELECT 1 FROM private p WHERE p.id = h.id AND {owners}"
            params.extend(owner_params)
            if scope.peer != "*":
                sql += f" AND p.peer = {p}"
                params.append(scope.peer)
            sql += ")"
        row = conn.execute(sql, params).fetchone()
        return None if row is None else int(row[0])

    def _last_id(self, conn: Connection) -> int:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM history").fetchone()[0])

    def _after(self, conn: Connection, scope: Scope, ref: Ref) -> int | None:
        """The exclusive lower id bound "after ``ref``" (None: unknown msgid)."""
        if ref.msgid is not None:
            return self._id_of(conn, scope, ref.msgid)
        assert ref.time_ms is not None
        later = self._first_at(conn, ref.time_ms + 1)  # the first row after the time
        if later is not None:
            return later - 1
        return self._last_id(conn)

    def _before(self, conn: Connection, scope: Scope, ref: Ref) -> int | None:
        """The exclusive upper id bound "before ``ref``" (None: unknown msgid;
        -1: after everything)."""
        if ref.msgid is not None:
            return self._id_of(conn, scope, ref.msgid)
        assert ref.time_ms is not None
        first = self._first_at(conn, ref.time_ms)
        return -1 if first is None else first

    # --- the named queries ----------------------------------------------------------

    def latest(self, scope: Scope, after: Ref | None, limit: int) -> list[Found]:
        """The newest ``limit`` events (after ``after``, exclusive), oldest first."""
        lo = None
        if after is not None:
            lo = self._after(self._reader(), scope, after)
            if lo is None:
                return []
        return self._range(scope, lo, None, limit, newest=True)

    def before(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        """The ``limit`` events just before ``ref``, oldest first."""
        hi = self._before(self._reader(), scope, ref)
        if hi is None:
            return []
        return self._range(scope, None, None if hi < 0 else hi, limit, newest=True)

    def after(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        """The ``limit`` events just after ``ref``, oldest first."""
        lo = self._after(self._reader(), scope, ref)
        if lo is None:
            return []
        return self._range(scope, lo, None, limit, newest=False)

    def around(self, scope: Scope, ref: Ref, limit: int) -> list[Found]:
        """``limit // 2`` events before ``ref``, the rest from ``ref`` on."""
        conn = self._reader()
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
        conn = self._reader()
        forward = self._sort_key(conn, scope, start) <= self._sort_key(conn, scope, end)
        if forward:
            lo, hi = self._after(conn, scope, start), self._before(conn, scope, end)
        else:
            lo, hi = self._after(conn, scope, end), self._before(conn, scope, start)
        if lo is None or hi is None:
            return []
        return self._range(scope, lo, None if hi < 0 else hi, limit, newest=not forward)

    def _sort_key(self, conn: Connection, scope: Scope, ref: Ref) -> tuple[int, int]:
        """Where ``ref`` lies in time, to tell which way BETWEEN counts."""
        if ref.msgid is None:
            return (ref.time_ms or 0, 0)
        rid = self._id_of(conn, scope, ref.msgid)
        if rid is None:
            return (0, 0)
        row = conn.execute(f"SELECT time_ms FROM history WHERE id = {self._mark}",
                           (rid,)).fetchone()  # fmt: skip
        return (int(row[0]), rid)

    def targets(
        self, owners: tuple[str, ...], channels: tuple[str, ...], after_ms: int, before_ms: int,
        limit: int,
    ) -> list[Target]:
        """Conversations whose latest message lies strictly between the times."""
        conn = self._reader()
        p = self._mark
        found: list[Target] = []
        msg_kinds, kind_params = self._in("h.kind", MESSAGE_KINDS)
        for name in channels:
            row = conn.execute(
                "SELECT h.time_ms FROM history h JOIN channels c ON c.id = h.conv "
                f"WHERE c.name = {p} AND {msg_kinds} ORDER BY h.id DESC LIMIT 1",
                (name, *kind_params),
            ).fetchone()
            if row is not None and after_ms < row[0] < before_ms:
                found.append(Target(name, int(row[0]), True))
        if owners:
            owned, owner_params = self._in("p.owner", owners)
            latest = conn.execute(
                f"SELECT p.peer, max(p.id) FROM private p JOIN history h ON h.id = p.id "
                f"WHERE {owned} AND {msg_kinds} GROUP BY p.peer",
                (*owner_params, *kind_params),
            ).fetchall()
            for peer, rid in latest:
                row = conn.execute(
                    f"SELECT p.nick, h.time_ms FROM private p JOIN history h ON h.id = p.id "
                    f"WHERE p.id = {p} AND p.peer = {p} AND {owned} LIMIT 1",
                    (rid, peer, *owner_params),
                ).fetchone()
                if row is not None and after_ms < row[1] < before_ms:
                    found.append(Target(str(row[0]), int(row[1]), False))
        found.sort(key=lambda t: t.time_ms)
        return found[:limit]

    def author(self, scope: Scope, msgid: str) -> Author | None:
        """Who sent the message ``msgid`` of ``scope``."""
        conn = self._reader()
        rid = self._id_of(conn, scope, msgid)
        if rid is None:
            return None
        kinds, kind_params = self._in("kind", REDACTABLE_KINDS)
        row = conn.execute(
            f"SELECT uid, account, kind FROM history WHERE id = {self._mark} AND {kinds}",
            (rid, *kind_params),
        ).fetchone()
        return None if row is None else Author(str(row[0]), row[1], str(row[2]))

    def search(self, query: SearchQuery) -> list[Found]:
        """Messages matching ``query`` within what its asker may read, oldest first."""
        p = self._mark
        kinds, kind_params = self._in("h.kind", MESSAGE_KINDS)
        where: list[str] = [kinds, "h.status IS NULL"]
        params: list[Any] = kind_params
        readable = self._readable(query)
        if readable is None:
            return []
        where.append(readable[0])
        params.extend(readable[1])
        if query.from_nick:
            where.append(f"h.source {self._like} {p} ESCAPE '\\'")
            params.append(like_nick(query.from_nick))
        if query.after_ms is not None:
            where.append(f"h.time_ms >= {p}")
            params.append(query.after_ms)
        if query.before_ms is not None:
            where.append(f"h.time_ms <= {p}")
            params.append(query.before_ms)
        source, order = "history h", "h.id"
        if query.text:
            match = self._match(query.text)
            if match is None:
                return []
            source, clause, match_params, order = match
            where.insert(0, clause)
            params[:0] = match_params
        oldest_first = query.after_ms is not None
        sql = (
            f"SELECT {COLUMNS}, c.name FROM {source} LEFT JOIN channels c ON c.id = h.conv "
            f"WHERE {' AND '.join(where)} "
            f"ORDER BY {order} {'ASC' if oldest_first else 'DESC'} LIMIT {p}"
        )
        params.append(query.limit)
        rows = self._reader().execute(sql, params).fetchall()
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
        p = self._mark
        owners, owner_params = self._in("p.owner", query.owners)
        private = f"EXISTS (SELECT 1 FROM private p WHERE p.id = h.id AND {owners}"
        if query.in_channel is not None:
            if query.in_channel not in query.channels:
                return None
            return f"c.name = {p}", [query.in_channel]
        if query.in_peer is not None:
            if not query.owners:
                return None
            return private + f" AND p.peer = {p})", [*owner_params, query.in_peer]
        parts: list[str] = []
        params: list[Any] = []
        if query.channels:
            names, name_params = self._in("c.name", query.channels)
            parts.append(names)
            params.extend(name_params)
        if query.owners:
            parts.append(private + ")")
            params.extend(owner_params)
        if not parts:
            return None
        return "(" + " OR ".join(parts) + ")", params
