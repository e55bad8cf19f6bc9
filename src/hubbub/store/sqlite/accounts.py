"""Accounts and registered channels in the embedded database.

Named queries on the tables of migrations 0004 (accounts) and 0005 (channels). Reads use the
calling thread's reader connection (worker threads, see :mod:`.database`);
writes use the one writer, on the event loop thread, each in one small
transaction: a write is an append to the write-ahead log, with no ``fsync``,
so it costs the loop microseconds. The two startup reads (every account
name, every registered channel) use the writer, before the server serves.

An SQLite error becomes a :class:`~.database.DatabaseError` naming the file,
for the caller to turn into a "try again later" reply.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

from hubbub.protocol import casefold

from ..base import Account, PendingVerification, RegisteredChannel
from .database import Database, DatabaseError, explain

_ACCOUNT = "SELECT name, password_hash, scram, email, created, verified FROM accounts"


class _Queries:
    """What both stores share: the database and error translation."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise DatabaseError(self.db.path, explain(exc)) from None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on the writer (loop thread only)."""
        writer = self.db.writer
        with self._errors():
            writer.execute("BEGIN IMMEDIATE")
            try:
                yield writer
            except BaseException:
                writer.execute("ROLLBACK")
                raise
            writer.execute("COMMIT")

    def close(self) -> None:
        """Nothing of its own to release: the database's owner closes it."""


class SQLiteAccountStore(_Queries):
    """:class:`~hubbub.store.base.AccountStore` on the embedded database."""

    def _account(self, conn: sqlite3.Connection, row: Any) -> Account:
        name, password_hash, scram, email, created, verified = row
        fps = conn.execute(
            "SELECT fp FROM certfps WHERE account = ? ORDER BY fp", (casefold(name),)
        ).fetchall()
        return Account(name, password_hash, scram, email, created,
                       tuple(fp for (fp,) in fps), bool(verified))  # fmt: skip

    def get(self, name: str) -> Account | None:
        """The account called ``name``, verified or not (reader)."""
        conn = self.db.reader()
        with self._errors():
            row = conn.execute(f"{_ACCOUNT} WHERE name_cf = ?", (casefold(name),)).fetchone()
            return None if row is None else self._account(conn, row)

    def by_certfp(self, fp: str) -> Account | None:
        """The account a client certificate logs in to (reader)."""
        conn = self.db.reader()
        with self._errors():
            row = conn.execute(
                f"{_ACCOUNT} WHERE name_cf = (SELECT account FROM certfps WHERE fp = ?)",
                (fp.lower(),),
            ).fetchone()
            return None if row is None else self._account(conn, row)

    def pending(self, name: str) -> PendingVerification | None:
        """The code an unverified account waits for (reader)."""
        with self._errors():
            row = self.db.reader().execute(
                "SELECT verify_hash, verify_expires FROM accounts "
                "WHERE name_cf = ? AND verified = 0 AND verify_hash IS NOT NULL",
                (casefold(name),),
            ).fetchone()
        return None if row is None else PendingVerification(row[0], row[1])

    def names(self) -> list[str]:
        """Every verified account's name (writer connection: at start, before serving)."""
        with self._errors():
            rows = self.db.writer.execute("SELECT name FROM accounts WHERE verified = 1")
            return [name for (name,) in rows]

    def create(
        self, account: Account, verification: PendingVerification | None = None, *, now: float
    ) -> bool:
        """Store a new account; False when the name is taken (writer)."""
        name_cf = casefold(account.name)
        with self._transaction() as w:
            # An unverified registration that expired gives its name back.
            w.execute(
                "DELETE FROM accounts WHERE name_cf = ? AND verified = 0 AND verify_expires < ?",
                (name_cf, now),
            )
            try:
                w.execute(
                    "INSERT INTO accounts (name_cf, name, password_hash, scram, email, created, "
                    "verified, verify_hash, verify_expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (name_cf, account.name, account.password_hash, account.scram, account.email,
                     account.created, verification is None,
                     verification.code_hash if verification else None,
                     verification.expires if verification else None),
                )  # fmt: skip
            except sqlite3.IntegrityError:
                return False
        return True

    def mark_verified(self, name: str) -> bool:
        """Mark an unverified account verified (writer)."""
        with self._transaction() as w:
            cur = w.execute(
                "UPDATE accounts SET verified = 1, verify_hash = NULL, verify_expires = NULL "
                "WHERE name_cf = ? AND verified = 0",
                (casefold(name),),
            )
            return cur.rowcount == 1

    def set_password(self, name: str, password_hash: str, scram: str) -> bool:
        """Replace an account's password hashes (writer)."""
        with self._transaction() as w:
            cur = w.execute(
                "UPDATE accounts SET password_hash = ?, scram = ? WHERE name_cf = ?",
                (password_hash, scram, casefold(name)),
            )
            return cur.rowcount == 1

    def add_certfp(self, name: str, fp: str) -> bool:
        """Let a certificate log in to ``name`` unless it belongs to an account (writer)."""
        with self._transaction() as w:
            try:
                w.execute("INSERT INTO certfps (fp, account) VALUES (?, ?)",
                          (fp.lower(), casefold(name)))  # fmt: skip
            except sqlite3.IntegrityError:
                return False
        return True

    def del_certfp(self, name: str, fp: str) -> bool:
        """Forget one of ``name``'s certificates (writer)."""
        with self._transaction() as w:
            cur = w.execute("DELETE FROM certfps WHERE fp = ? AND account = ?",
                            (fp.lower(), casefold(name)))  # fmt: skip
            return cur.rowcount == 1

    def drop(self, name: str) -> bool:
        """Delete an account and its certificates (writer)."""
        name_cf = casefold(name)
        with self._transaction() as w:
            w.execute("DELETE FROM certfps WHERE account = ?", (name_cf,))
            cur = w.execute("DELETE FROM accounts WHERE name_cf = ?", (name_cf,))
            return cur.rowcount == 1


def _entries(raw: Any) -> tuple[tuple[str, str, float], ...]:
    return tuple((str(m), str(s), float(t)) for m, s, t in raw or ())


class SQLiteChannelStore(_Queries):
    """:class:`~hubbub.store.base.ChannelStore` on the embedded database."""

    def channels(self) -> list[RegisteredChannel]:
        """Every registered channel (writer connection: at start, before serving)."""
        with self._errors():
            rows = self.db.writer.execute(
                "SELECT name, founder, registered, state FROM registered_channels"
            ).fetchall()
        out = []
        for name, founder, registered, state_json in rows:
            state = json.loads(state_json)
            out.append(RegisteredChannel(
                name, founder, registered,
                created=float(state.get("created", registered)),
                topic=str(state.get("topic", "")),
                topic_setter=str(state.get("topic_setter", "")),
                topic_time=float(state.get("topic_time", 0.0)),
                modes=str(state.get("modes", "nt")),
                key=state.get("key"),
                limit=state.get("limit"),
                bans=_entries(state.get("bans")),
                excepts=_entries(state.get("excepts")),
                invex=_entries(state.get("invex")),
                access=tuple((str(a), str(m)) for a, m in state.get("access", ())),
            ))  # fmt: skip
        return out

    def save(self, channel: RegisteredChannel) -> None:
        """Store ``channel`` as it is now (writer)."""
        state = {
            "created": channel.created, "topic": channel.topic,
            "topic_setter": channel.topic_setter, "topic_time": channel.topic_time,
            "modes": channel.modes, "key": channel.key, "limit": channel.limit,
            "bans": channel.bans, "excepts": channel.excepts, "invex": channel.invex,
            "access": channel.access,
        }  # fmt: skip
        with self._transaction() as w:
            w.execute(
                "INSERT INTO registered_channels (name_cf, name, founder, registered, state) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name_cf) DO UPDATE SET name = excluded.name, "
                "founder = excluded.founder, registered = excluded.registered, "
                "state = excluded.state",
                (casefold(channel.name), channel.name, channel.founder, channel.registered,
                 json.dumps(state, separators=(",", ":"))),
            )  # fmt: skip

    def drop(self, name: str) -> None:
        """Forget the channel ``name`` (writer)."""
        with self._transaction() as w:
            w.execute("DELETE FROM registered_channels WHERE name_cf = ?", (casefold(name),))
