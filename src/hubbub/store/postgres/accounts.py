"""Accounts and registered channels in PostgreSQL.

The named queries are shared with SQLite (:mod:`hubbub.store.accounts`);
this module says where they run here:

* Accounts: reads *and* writes block on a round trip, so both run on
  worker threads (:attr:`PostgresAccountStore.writes_block` tells the
  accounts service to send writes there too), each on its thread's
  connection. A name registered twice at once (two servers sharing this
  database) is settled by the primary key: the second commit fails with a
  unique violation, and that registration is answered "name taken".
* Registered channels: the keeper saves a channel's state every turn it
  changes, from the loop, expecting no answer; here a save (or drop) is a
  job for the history's writer thread, keyed by the channel, so a newer
  state replaces one still queued and an outage delays the write without
  losing it.
"""

from __future__ import annotations

import contextlib

import psycopg

from hubbub.protocol import casefold

from ..accounts import DROP_CHANNEL, SAVE_CHANNEL, StoredAccounts, StoredChannels, save_params
from ..base import RegisteredChannel
from ..queries import Connection
from .database import PgDatabase
from .writer import CallJob, Conn, Writer


class _OnPostgres:
    """Where the shared queries run in PostgreSQL."""

    _taken: type[Exception] = psycopg.errors.UniqueViolation
    #: Writes wait for PostgreSQL: run them on a worker thread, not the loop.
    writes_block = True

    def __init__(self, db: PgDatabase) -> None:
        self.db = db
        self._statements: dict[str, str] = {}

    def _sql(self, text: str) -> str:
        statement = self._statements.get(text)
        if statement is None:
            statement = self._statements[text] = text.replace("?", "%s")
        return statement

    def _reading(self) -> contextlib.AbstractContextManager[Connection]:
        return self.db.reading()

    def _writing(self) -> contextlib.AbstractContextManager[Connection]:
        return self.db.writing()


class PostgresAccountStore(_OnPostgres, StoredAccounts):
    """:class:`~hubbub.store.base.AccountStore` on PostgreSQL."""


class PostgresChannelStore(_OnPostgres, StoredChannels):
    """:class:`~hubbub.store.base.ChannelStore` on PostgreSQL; writes go to ``writer``."""

    def __init__(self, db: PgDatabase, writer: Writer) -> None:
        super().__init__(db)
        self.writer = writer

    def save(self, channel: RegisteredChannel) -> None:
        """Queue ``channel``'s state for the writer (replacing one still queued)."""
        params = save_params(channel)
        statement = self._sql(SAVE_CHANNEL)

        def save(conn: Conn) -> None:
            conn.execute(statement, params)

        self.writer.submit(CallJob(save, key=f"channel:{params[0]}"))

    def drop(self, name: str) -> None:
        """Queue forgetting the channel ``name``."""
        cf = casefold(name)
        statement = self._sql(DROP_CHANNEL)

        def drop(conn: Conn) -> None:
            conn.execute(statement, (cf,))

        self.writer.submit(CallJob(drop, key=f"channel:{cf}"))
