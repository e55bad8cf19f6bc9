"""Which database keeps history, accounts and channels, and opening it.

``[history] database`` names an SQLite file (the default, embedded) or a
``postgresql://`` URL; the scheme decides. Either way one database holds
everything kept, and it is opened when history or accounts are on.
:func:`open_stores` gives the server its three stores and a way to close
what it opened; any failure is a :class:`~hubbub.config.ConfigError`
naming ``history.database`` (and never showing a password).

PostgreSQL support is an optional extra (psycopg): it is imported only
when a URL asks for it, so an SQLite server never loads it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hubbub.config import Config, ConfigError
from hubbub.store.base import AccountStore, ChannelStore, Checkable, HistoryStore
from hubbub.store.errors import DatabaseError
from hubbub.store.null import NullHistoryStore

log = logging.getLogger(__name__)


def _nothing() -> None:
    pass


@dataclass
class Stores:
    """The stores a server keeps things in, and how to close their database."""

    history: HistoryStore = field(default_factory=NullHistoryStore)
    #: None: accounts are off.
    accounts: AccountStore | None = None
    channels: ChannelStore | None = None
    #: Closes the database (after the stores were closed).
    close: Callable[[], None] = _nothing
    #: The database, for the readiness check (None: nothing is kept).
    database: Checkable | None = None
    #: The SQLite file (its size is a metric); None on PostgreSQL.
    file: Path | None = None


def _error(config: Config, why: str) -> ConfigError:
    return ConfigError(str(config.path) if config.path else None, "history.database", why)


def open_stores(config: Config) -> Stores:
    """Open the configured database and the stores on it."""
    if not (config.history.enabled or config.accounts.enabled):
        return Stores()
    if config.history.postgres:
        return _postgres(config)
    return _sqlite(config)


def _sqlite(config: Config) -> Stores:
    """One SQLite file (under the data dir) for history and accounts alike."""
    from hubbub.store.sqlite.accounts import SQLiteAccountStore, SQLiteChannelStore
    from hubbub.store.sqlite.database import Database, explain
    from hubbub.store.sqlite.history import SQLiteHistoryStore

    path = config.resolve(config.history.database)
    try:
        db = Database.open(path)
    except DatabaseError as exc:
        raise _error(config, str(exc)) from None
    db.start_checkpoints()
    log.info("database %s", path, extra={"event": "database.opened", "path": str(path)})
    stores = Stores(close=db.close, database=db, file=path)
    try:
        if config.history.enabled:
            stores.history = SQLiteHistoryStore(db, search=config.history.search)
    except sqlite3.Error as exc:
        db.close()
        raise _error(config, f"{db.path}: {explain(exc)}") from None
    if config.accounts.enabled:
        stores.accounts, stores.channels = SQLiteAccountStore(db), SQLiteChannelStore(db)
    return stores


def _postgres(config: Config) -> Stores:
    """A PostgreSQL database: history, accounts and channels, one writer thread."""
    shown = config.history.database_shown
    try:
        from hubbub.store.postgres.accounts import PostgresAccountStore, PostgresChannelStore
        from hubbub.store.postgres.database import PgDatabase
        from hubbub.store.postgres.history import PostgresHistoryStore
        from hubbub.store.postgres.writer import Writer
    except ImportError as exc:
        raise _error(config, f"{shown}: PostgreSQL needs the psycopg driver, which is not "
                     f"installed ({exc}): pip install 'hubbub[postgresql]'") from None  # fmt: skip
    try:
        db = PgDatabase.open(config.history.database)
    except DatabaseError as exc:
        raise _error(config, str(exc)) from None
    log.info("database %s", db.shown, extra={"event": "database.opened", "path": db.shown})
    # One writer thread per database: history batches and channel saves in order.
    writer = Writer(db)
    stores = Stores(database=db)
    try:
        if config.history.enabled:
            stores.history = PostgresHistoryStore(db, search=config.history.search, writer=writer)
        if config.accounts.enabled:
            stores.accounts = PostgresAccountStore(db)
            stores.channels = PostgresChannelStore(db, writer)
            if not writer.is_alive():
                writer.start()
    except DatabaseError as exc:
        writer.stop(0)
        db.close()
        raise _error(config, str(exc)) from None

    def close() -> None:
        if writer.is_alive():
            writer.stop(10.0)  # history's close stopped it already, when history is on
        db.close()

    stores.close = close
    return stores
