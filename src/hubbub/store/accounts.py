"""Accounts and registered channels, whichever the database.

Both databases keep them in the same tables (``accounts``, ``certfps``,
``registered_channels``: SQLite's migrations 0004-0005, PostgreSQL's
0002-0003), so the named queries are written once, here, with ``?``
placeholders; each database supplies its connections and its driver's
ways (:class:`AccountQueries` hooks):

* ``_reading()``: the connection to read with (the calling thread's);
* ``_writing()``: a connection inside one write transaction (SQLite: the
  one writer, on the loop; PostgreSQL: the calling worker thread's);
* ``_sql(text)``: the statement in the driver's placeholder style;
* ``_taken``: the exception a unique constraint raises: that is how a name
  registered twice at once (two servers on one PostgreSQL) is settled.

A database error becomes a :class:`~hubbub.store.errors.DatabaseError`
naming the database, for the caller to answer "try again later".
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hubbub.protocol import casefold

from .base import Account, PendingVerification, RegisteredChannel
from .queries import Connection

_ACCOUNT = "SELECT name, password_hash, scram, email, created, verified FROM accounts"


class AccountQueries:
    """The named queries of accounts and channels (see the module docstring)."""

    #: The exception a unique constraint raises (the driver's IntegrityError).
    _taken: type[Exception] = Exception

    def _reading(self) -> contextlib.AbstractContextManager[Connection]:
        raise NotImplementedError

    def _writing(self) -> contextlib.AbstractContextManager[Connection]:
        raise NotImplementedError

    def _sql(self, text: str) -> str:
        return text

    def close(self) -> None:
        """Nothing of its own to release: the database's owner closes it."""


class StoredAccounts(AccountQueries):
    """:class:`~hubbub.store.base.AccountStore` on a database's tables."""

    def _account(self, conn: Connection, row: Any) -> Account:
        name, password_hash, scram, email, created, verified = row
        fps = conn.execute(self._sql("SELECT fp FROM certfps WHERE account = ? ORDER BY fp"),
                           (casefold(name),)).fetchall()  # fmt: skip
        return Account(name, password_hash, scram, email, float(created),
                       tuple(fp for (fp,) in fps), bool(verified))  # fmt: skip

    def get(self, name: str) -> Account | None:
        """The account called ``name``, verified or not (blocking)."""
        with self._reading() as conn:
            row = conn.execute(self._sql(f"{_ACCOUNT} WHERE name_cf = ?"),
                               (casefold(name),)).fetchone()  # fmt: skip
            return None if row is None else self._account(conn, row)

    def by_certfp(self, fp: str) -> Account | None:
        """The account a client certificate logs in to (blocking)."""
        with self._reading() as conn:
            row = conn.execute(
                self._sql(f"{_ACCOUNT} WHERE name_cf = (SELECT account FROM certfps WHERE fp = ?)"),
                (fp.lower(),),
            ).fetchone()
            return None if row is None else self._account(conn, row)

    def pending(self, name: str) -> PendingVerification | None:
        """The code an unverified account waits for (blocking)."""
        with self._reading() as conn:
            row = conn.execute(
                self._sql("SELECT verify_hash, verify_expires FROM accounts "
                          "WHERE name_cf = ? AND NOT verified AND verify_hash IS NOT NULL"),
                (casefold(name),),
            ).fetchone()  # fmt: skip
        return None if row is None else PendingVerification(row[0], float(row[1]))

    def names(self) -> list[str]:
        """Every verified account's name (at start, before serving)."""
        with self._reading() as conn:
            rows = conn.execute("SELECT name FROM accounts WHERE verified").fetchall()
            return [name for (name,) in rows]

    def create(
        self, account: Account, verification: PendingVerification | None = None, *, now: float
    ) -> bool:
        """Store a new account; False when the name is taken."""
        name_cf = casefold(account.name)
        try:
            with self._writing() as w:
                # An unverified registration that expired gives its name back.
                w.execute(
                    self._sql("DELETE FROM accounts WHERE name_cf = ? AND NOT verified "
                              "AND verify_expires < ?"),
                    (name_cf, now),
                )  # fmt: skip
                w.execute(
                    self._sql("INSERT INTO accounts (name_cf, name, password_hash, scram, email, "
                              "created, verified, verify_hash, verify_expires) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                    (name_cf, account.name, account.password_hash, account.scram, account.email,
                     account.created, verification is None,
                     verification.code_hash if verification else None,
                     verification.expires if verification else None),
                )  # fmt: skip
        except self._taken:
            # The unique name: whoever committed first has it (another
            # server on the same database included).
            return False
        return True

    def mark_verified(self, name: str) -> bool:
        """Mark an unverified account verified."""
        with self._writing() as w:
            cur = w.execute(
                self._sql("UPDATE accounts SET verified = ?, verify_hash = NULL, "
                          "verify_expires = NULL WHERE name_cf = ? AND NOT verified"),
                (True, casefold(name)),
            )  # fmt: skip
            return bool(cur.rowcount == 1)

    def set_password(self, name: str, password_hash: str, scram: str) -> bool:
        """Replace an account's password hashes."""
        with self._writing() as w:
            cur = w.execute(
                self._sql("UPDATE accounts SET password_hash = ?, scram = ? WHERE name_cf = ?"),
                (password_hash, scram, casefold(name)),
            )
            return bool(cur.rowcount == 1)

    def add_certfp(self, name: str, fp: str) -> bool:
        """Let a certificate log in to ``name`` unless it belongs to an account."""
        try:
            with self._writing() as w:
                w.execute(self._sql("INSERT INTO certfps (fp, account) VALUES (?, ?)"),
                          (fp.lower(), casefold(name)))  # fmt: skip
        except self._taken:
            return False
        return True

    def del_certfp(self, name: str, fp: str) -> bool:
        """Forget one of ``name``'s certificates."""
        with self._writing() as w:
            cur = w.execute(self._sql("DELETE FROM certfps WHERE fp = ? AND account = ?"),
                            (fp.lower(), casefold(name)))  # fmt: skip
            return bool(cur.rowcount == 1)

    def drop(self, name: str) -> bool:
        """Delete an account and its certificates."""
        name_cf = casefold(name)
        with self._writing() as w:
            w.execute(self._sql("DELETE FROM certfps WHERE account = ?"), (name_cf,))
            cur = w.execute(self._sql("DELETE FROM accounts WHERE name_cf = ?"), (name_cf,))
            return bool(cur.rowcount == 1)


# --- registered channels ------------------------------------------------------------


def _entries(raw: Any) -> tuple[tuple[str, str, float], ...]:
    return tuple((str(m), str(s), float(t)) for m, s, t in raw or ())


def channel_state(channel: RegisteredChannel) -> str:
    """What is kept of a channel besides its name, founder and date, as JSON.
    The keys are persisted: they must remain stable."""
    state = {
        "created": channel.created, "topic": channel.topic,
        "topic_setter": channel.topic_setter, "topic_time": channel.topic_time,
        "modes": channel.modes, "key": channel.key, "limit": channel.limit,
        "bans": channel.bans, "excepts": channel.excepts, "invex": channel.invex,
        "access": channel.access,
    }  # fmt: skip
    return json.dumps(state, separators=(",", ":"))


def channel_from_row(
    name: str, founder: str, registered: float, state_json: str
) -> RegisteredChannel:
    """A kept channel from its row (the inverse of :func:`channel_state`)."""
    state = json.loads(state_json)
    registered = float(registered)
    return RegisteredChannel(
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
    )  # fmt: skip


#: Insert or replace a registered channel's row.
SAVE_CHANNEL = (
    "INSERT INTO registered_channels (name_cf, name, founder, registered, state) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name_cf) DO UPDATE SET name = excluded.name, "
    "founder = excluded.founder, registered = excluded.registered, state = excluded.state"
)
DROP_CHANNEL = "DELETE FROM registered_channels WHERE name_cf = ?"


def save_params(channel: RegisteredChannel) -> tuple[str, str, str, float, str]:
    """The parameters of :data:`SAVE_CHANNEL` for ``channel``."""
    return (casefold(channel.name), channel.name, channel.founder, channel.registered,
            channel_state(channel))  # fmt: skip


class StoredChannels(AccountQueries):
    """:class:`~hubbub.store.base.ChannelStore` on a database's tables."""

    def channels(self) -> list[RegisteredChannel]:
        """Every registered channel (at start, before serving)."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT name, founder, registered, state FROM registered_channels"
            ).fetchall()
        return [channel_from_row(*row) for row in rows]

    def save(self, channel: RegisteredChannel) -> None:
        """Store ``channel`` as it is now."""
        with self._writing() as w:
            w.execute(self._sql(SAVE_CHANNEL), save_params(channel))

    def drop(self, name: str) -> None:
        """Forget the channel ``name``."""
        with self._writing() as w:
            w.execute(self._sql(DROP_CHANNEL), (casefold(name),))
