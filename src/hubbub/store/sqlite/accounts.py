"""Accounts and registered channels in the embedded database.

The named queries are shared with PostgreSQL (:mod:`hubbub.store.accounts`);
this module says where they run here. Reads use the calling thread's reader
connection (worker threads, see :mod:`.database`); writes use the one
writer, on the event loop thread, each in one small transaction: a write is
an append to the write-ahead log, with no ``fsync``, so it costs the loop
microseconds. The two startup reads (every account name, every registered
channel) use the writer, before the server serves.

An SQLite error becomes a :class:`~.database.DatabaseError` naming the file,
for the caller to turn into a "try again later" reply.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator

from ..accounts import StoredAccounts, StoredChannels
from ..queries import Connection
from .database import Database, DatabaseError, explain


class _OnSQLite:
    """Where the shared queries run in the embedded database."""

    _taken: type[Exception] = sqlite3.IntegrityError
    #: Writes are appends to the write-ahead log, on the loop's writer.
    writes_block = False

    def __init__(self, db: Database) -> None:
        self.db = db
        self._loop_thread = threading.get_ident()

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.IntegrityError:
            raise  # a taken name: the caller's answer, not a failure
        except sqlite3.Error as exc:
            raise DatabaseError(self.db.path, explain(exc)) from None

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Connection]:
        # The thread that made the store (the loop's, at start) reads on
        # the writer, which sees its own last commits; workers on their own.
        on_loop = threading.get_ident() == self._loop_thread
        with self._errors():
            yield self.db.writer if on_loop else self.db.reader()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Connection]:
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


class SQLiteAccountStore(_OnSQLite, StoredAccounts):
    """:class:`~hubbub.store.base.AccountStore` on the embedded database."""


class SQLiteChannelStore(_OnSQLite, StoredChannels):
    """:class:`~hubbub.store.base.ChannelStore` on the embedded database."""
