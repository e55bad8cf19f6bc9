"""History entries written to PostgreSQL: the statements of one batch.

:func:`write_entries` is the one way entries reach the tables, for the
writer thread (a turn's entries, or many turns') and for
:meth:`~.history.PostgresHistoryStore.append_batch` (an archiver's batch)
alike. It is idempotent by msgid: a row whose (msgid, conversation) is
already there is skipped (the unique index ``history_msgid``), a redaction
of a redacted message changes nothing, and a rename is applied once (its
msgid is noted in ``meta``). So a batch written twice, after a crash
between writing and noting how far it got, leaves the tables as once.

Rows are built by the shared encoder (:func:`hubbub.store.rows.encode`),
exactly as SQLite's. A long run of rows (a busy turn, or many turns the
writer takes at once) is copied (binary ``COPY``, which costs the writer
thread about a sixth of what adapting the same rows as array parameters
does, measured: 1.7 against 11 us a row, and that is GIL time the loop
waits for) into a temporary staging table, then moved with one ``INSERT ...
SELECT``; a short run goes as one ``INSERT ... SELECT FROM unnest(...)``
of array parameters, one statement instead of four (:data:`COPY_FROM`).
Either way rows are inserted in the batch's order (ids come from the
table's identity, so they follow delivery order).
Renames and redactions cut the batch into runs, so each applies between
the rows before and after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from hubbub import events as ev
from hubbub.protocol import casefold

from ..base import MESSAGE_KINDS, REDACTABLE_KINDS, Entry
from ..rows import encode, time_ms
from ..search import lexemes

Conn = psycopg.Connection[Any]

#: Runs of this many rows or more are copied; shorter ones are sent as array
#: parameters (measured on 5-row turns: 1.0 ms a transaction against 1.4 ms
#: with COPY's extra statements; from about 50 rows COPY's cheaper adaptation wins).
COPY_FROM = 64

#: The staging table of a connection: long runs are copied here, then inserted.
#: Emptied at every commit (and by a rollback: temporary rows are transactional).
_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS hubbub_staging (n int4, chan text, msgid text, "
    "time_ms int8, kind text, uid text, account text, source text, target text, status text, "
    "text text, fields text, words text) ON COMMIT DELETE ROWS"
)
_TYPES = ["int4", "text", "text", "int8", "text", "text", "text", "text", "text", "text",
          "text", "text", "text"]  # fmt: skip
_COLUMNS = ("n, chan, msgid, time_ms, kind, uid, account, source, target, status, text, fields, "
            "words")  # fmt: skip
_COPY = "COPY hubbub_staging FROM STDIN (FORMAT BINARY)"
#: The rows of a short run, from array parameters (one per column).
_UNNEST = (f"unnest({', '.join(f'%s::{t}[]' for t in _TYPES)}) AS r({_COLUMNS})")


def _insert_channels(source: str) -> str:
    return (f"INSERT INTO channels (name) SELECT DISTINCT r.chan FROM {source} "
            "WHERE r.chan IS NOT NULL ON CONFLICT (name) DO NOTHING")  # fmt: skip


def _insert_rows(source: str) -> str:
    return (
        "INSERT INTO history (conv, msgid, time_ms, kind, uid, account, source, target, status, "
        "text, fields, words) "
        "SELECT coalesce(c.id, 0), r.msgid, r.time_ms, r.kind, r.uid, r.account, r.source, "
        "r.target, r.status, r.text, r.fields, CASE WHEN r.words IS NULL THEN NULL "
        "ELSE array_to_tsvector(string_to_array(r.words, ' ')) END "
        f"FROM {source} LEFT JOIN channels c ON c.name = r.chan "
        # Ordered, so ids are given in the batch's order (PostgreSQL evaluates
        # the identity's nextval above the sort).
        "ORDER BY r.n "
        "ON CONFLICT (msgid, conv) DO NOTHING RETURNING id, msgid, conv"
    )


_COPIED_CHANNELS = _insert_channels("hubbub_staging r")
_COPIED_ROWS = _insert_rows("hubbub_staging r")
_SHORT_CHANNELS = (
    "INSERT INTO channels (name) SELECT DISTINCT unnest(%s::text[]) ON CONFLICT (name) DO NOTHING"
)
_SHORT_ROWS = _insert_rows(_UNNEST)
_INSERT_PRIVATE = (
    "INSERT INTO private (owner, peer, id, nick) "
    "SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::text[]) "
    "ON CONFLICT DO NOTHING"
)
_REDACT = (
    "UPDATE history SET kind = 'REDACTED', text = NULL, fields = NULL, words = NULL "
    "WHERE msgid = %s AND kind = ANY(%s)"
)

#: Private message parties by msgid: (sender key, recipient casefolded nick,
#: recipient nick, recipient key, sender casefolded nick, sender nick).
Parties = dict[str, tuple[str, str, str, str, str, str]]


class _Run:
    """Rows waiting to be inserted together."""

    __slots__ = ("channels", "parties", "rows")

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.channels = False
        self.parties: Parties = {}

    def add(self, chan: str | None, msgid: str, ms: int, body: tuple[Any, ...],
            words: str | None) -> None:  # fmt: skip
        self.rows.append((len(self.rows), chan, msgid, ms, *body, words))
        if chan is not None:
            self.channels = True

    def flush(self, conn: Conn) -> int:
        """Insert the rows (and their private parties); how many were new."""
        if not self.rows:
            return 0
        if len(self.rows) < COPY_FROM:
            columns = [list(c) for c in zip(*self.rows, strict=True)]
            if self.channels:
                conn.execute(_SHORT_CHANNELS, ([c for c in columns[1] if c is not None],))
            inserted = conn.execute(_SHORT_ROWS, columns).fetchall()
        else:
            inserted = self._copy(conn)
        if self.parties:
            owners: list[str] = []
            peers: list[str] = []
            ids: list[int] = []
            nicks: list[str] = []
            for rid, msgid, conv in inserted:
                found = self.parties.get(msgid) if conv == 0 else None
                if found is None:
                    continue
                sender, to_cf, to_nick, recipient, from_cf, from_nick = found
                owners += (sender, recipient)
                peers += (to_cf, from_cf)
                ids += (rid, rid)
                nicks += (to_nick, from_nick)
            if ids:
                conn.execute(_INSERT_PRIVATE, (owners, peers, ids, nicks))
        self.rows, self.channels, self.parties = [], False, {}
        return len(inserted)

    def _copy(self, conn: Conn) -> list[tuple[int, str, int]]:
        """A long run: COPY into the staging table, then one INSERT."""
        # Every time: a transaction that made the table and rolled back took it along.
        conn.execute(_STAGING)
        with conn.cursor().copy(_COPY) as copy:
            copy.set_types(_TYPES)
            for row in self.rows:
                copy.write_row(row)
        if self.channels:
            conn.execute(_COPIED_CHANNELS)
        inserted = conn.execute(_COPIED_ROWS).fetchall()
        # Empty for the next run of this transaction (a commit empties it too).
        conn.execute("DELETE FROM hubbub_staging")
        return inserted


def _words(body: tuple[Any, ...], search: bool) -> str | None:
    """The search document of a row: its words, space separated (None: none)."""
    if not search or body[0] not in MESSAGE_KINDS or not body[6]:
        return None
    return " ".join(lexemes(body[6])) or None


def write_entries(conn: Conn, entries: Iterable[Entry], *, search: bool) -> int:
    """Write ``entries`` (inside the caller's transaction); how many rows were new."""
    run = _Run()
    new = 0
    for entry in entries:
        event = entry.event
        body = encode(event, entry.account)
        if body is None:
            if isinstance(event, ev.MessageRedacted):
                new += run.flush(conn)
                conn.execute(_REDACT, (event.redacted, list(REDACTABLE_KINDS)))
            elif isinstance(event, ev.ChannelRenamed):
                new += run.flush(conn)
                rename(conn, event.msgid, casefold(event.channel), casefold(event.new))
            continue
        msgid, ms = event.msgid, time_ms(event.time)
        words = _words(body, search)
        if entry.parties is not None:
            sender, recipient = entry.parties
            run.add(None, msgid, ms, body, words)
            run.parties[msgid] = (sender.key, casefold(recipient.nick), recipient.nick,
                                  recipient.key, casefold(sender.nick), sender.nick)  # fmt: skip
        for name in entry.channels:
            run.add(name, msgid, ms, body, words)
    return new + run.flush(conn)


def rename(conn: Conn, msgid: str, old: str, new: str) -> None:
    """The history of ``old`` is ``new``'s from now on (once per rename
    event: a replayed rename changes nothing). An older channel that had
    the name ``new`` (and emptied) keeps its rows under a name no one can
    join (channel names cannot hold a BEL)."""
    if old == new:
        return
    first = conn.execute(
        "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING RETURNING key",
        (f"renamed:{msgid}", f"{old} {new}"),
    ).fetchone()
    if first is None:
        return
    row = conn.execute("SELECT id FROM channels WHERE name = %s", (old,)).fetchone()
    conn.execute("UPDATE channels SET name = name || chr(7) || id WHERE name = %s", (new,))
    if row is not None:
        conn.execute("UPDATE channels SET name = %s WHERE id = %s", (new, row[0]))
