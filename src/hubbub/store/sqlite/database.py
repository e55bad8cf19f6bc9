"""The embedded SQLite database: opening it, its schema, its one writer.

Theory of operation
-------------------
One file in the data dir holds everything hubbub keeps: history now,
accounts next. Each feature adds its tables with numbered migrations in
``migrations/`` (``0001_history.sql``, ``0002_search.sql``, ...). The
database's ``user_version`` is the number of the last one applied; at open,
every newer file is applied in order, each in its own transaction. A
database whose version is *newer* than the newest migration this code knows
was written by a newer hubbub: it is refused with a sentence saying so,
never used or "downgraded" silently.

Durability: the journal is a write-ahead log (WAL) with
``synchronous=NORMAL``. A commit appends the transaction's pages to the
``-wal`` file with ``write()`` and returns without ``fsync``: once it
returns, the pages are in the operating system's page cache, and a process
that is killed (``kill -9``, a crash) loses nothing committed; the next open
replays the log. Only a power cut or kernel crash can lose the last commits,
the price of not waiting for the disk on every loop turn.

One writer: :attr:`Database.writer` is the only connection that writes,
and it is used on the event-loop thread only (the history store commits
each loop turn's events there, see :mod:`.history`). In WAL mode readers
never block it, so it never waits on a lock held in this process, and a
lock file (``<database>.lock``) keeps a second hubbub process from opening
the same database.

Checkpoints (copying the log back into the database file, which needs
``fsync``) would stall the loop, so the writer never runs them
(``wal_autocheckpoint = 0``): a :class:`Checkpointer` thread with its own
connection runs passive checkpoints when the log has grown, and passive
checkpoints never block the writer.

Readers: queries run on worker threads, each with its own connection
(:meth:`Database.reader`), opened ``query_only``.

Health: :meth:`Database.health` says whether what is said can still be
kept, for the server's readiness check. An open SQLite connection goes on
"working" on a file that was deleted or replaced (it writes into an inode
nobody will ever open again), so the check compares the path's file with
the one opened, then commits a tiny write (a ``meta`` row) without waiting
for locks: a read-only file, a full disk or a foreign writer fails it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import IO

from .. import errors
from ..migrations import Migration, load_migrations, newer_than_code

log = logging.getLogger(__name__)

#: ``PRAGMA application_id`` of a hubbub database ("hubb"), so another
#: program's SQLite file is recognised and refused.
APPLICATION_ID = 0x68756262

#: Checkpoint when the write-ahead log passes this many bytes.
WAL_CHECKPOINT_BYTES = 4 * 1024 * 1024
#: How often the checkpointer looks at the log, in seconds.
CHECKPOINT_INTERVAL = 1.0
#: How long the writer waits for a lock another program holds (on the loop).
WRITER_BUSY_TIMEOUT_MS = 1000


class DatabaseError(errors.DatabaseError):
    """The database file cannot be used; the message names the file and says why."""

    def __init__(self, path: Path | str, why: str) -> None:
        super().__init__(path, why)
        self.path = Path(path)


#: Every migration this code knows; the last one's number is the schema version.
MIGRATIONS = load_migrations(__package__)
SCHEMA_VERSION = MIGRATIONS[-1].version


def explain(exc: sqlite3.Error) -> str:
    """A sentence for an operator from an SQLite error."""
    text = str(exc)
    if "file is not a database" in text:
        return "not a database, or damaged beyond reading (SQLite: file is not a database)"
    if "malformed" in text:
        return f"the database is damaged (SQLite: {text}); restore a backup"
    if "unable to open" in text:
        return f"cannot open or create it (SQLite: {text}): is its folder writable?"
    if "readonly" in text:
        return f"it is read-only (SQLite: {text}): hubbub needs to write it"
    if "locked" in text or "busy" in text:
        return f"it is locked by another program (SQLite: {text})"
    if "disk is full" in text:
        return f"the disk is full (SQLite: {text})"
    return f"SQLite: {text}"


def _identity(path: Path) -> tuple[int, int]:
    """The file at ``path``, as (device, inode)."""
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _lock(path: Path) -> IO[bytes]:
    """Hold ``<database>.lock`` for as long as the database is open."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        fh = open(lock_path, "a+b")  # noqa: SIM115 - held until close()
    except OSError as exc:
        raise DatabaseError(path, f"cannot create its lock file: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise DatabaseError(
            path, "another hubbub is using this database (its .lock is held)"
        ) from None
    return fh


def connect(path: Path, *, timeout: float = 5.0) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit)."""
    return sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)


class Database:
    """An open hubbub database: the writer, reader connections, checkpoints."""

    def __init__(self, path: Path, writer: sqlite3.Connection, lock: IO[bytes]) -> None:
        self.path = path
        #: The one connection that writes; event-loop thread only.
        self.writer = writer
        self._lock_file = lock
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._checkpointer: Checkpointer | None = None
        self.closed = False
        #: The file opened (device, inode): the one health checks look for.
        self.identity = _identity(path)

    # --- opening -------------------------------------------------------------

    @classmethod
    def open(
        cls, path: Path | str, *, migrations: tuple[Migration, ...] = MIGRATIONS
    ) -> Database:
        """Open (or create) the database at ``path`` and bring its schema up to
        date; raises :class:`DatabaseError` with a clear reason."""
        path = Path(path)
        if path.is_dir():
            raise DatabaseError(path, "is a folder, not a database file")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(path, f"cannot create its folder: {exc.strerror or exc}") from None
        lock = _lock(path)
        writer = None
        try:
            writer = connect(path, timeout=WRITER_BUSY_TIMEOUT_MS / 1000)
            _configure_writer(path, writer)
            migrate(path, writer, migrations)
        except sqlite3.Error as exc:
            if writer is not None:
                writer.close()
            lock.close()
            raise DatabaseError(path, explain(exc)) from None
        except DatabaseError:
            if writer is not None:
                writer.close()
            lock.close()
            raise
        return cls(path, writer, lock)

    # --- using ---------------------------------------------------------------

    def reader(self) -> sqlite3.Connection:
        """This thread's read-only connection (made on first use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self.closed:
                raise DatabaseError(self.path, "the database is closed")
            conn = connect(self.path)
            conn.execute("PRAGMA query_only = 1")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def meta(self, key: str) -> str | None:
        """A value of the ``meta`` table (writer's view)."""
        row = self.writer.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the ``meta`` table (on the writer, at once)."""
        self.writer.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def start_checkpoints(self) -> None:
        """Run checkpoints on a thread of their own from now on."""
        if self._checkpointer is None:
            self._checkpointer = Checkpointer(self.path)
            self._checkpointer.start()

    def wal_size(self) -> int:
        """Bytes in the write-ahead log (0 when there is none)."""
        try:
            return os.stat(self.path.with_name(self.path.name + "-wal")).st_size
        except OSError:
            return 0

    def health(self) -> str | None:
        """Why the database cannot take writes now, or None (see the module
        docstring). On the loop thread: it uses the writer."""
        try:
            now = _identity(self.path)
        except FileNotFoundError:
            return f"{self.path} is gone (deleted or moved): nothing said now would be kept"
        except OSError as exc:
            return f"{self.path} cannot be reached: {exc.strerror or exc}"
        if now != self.identity:
            return f"{self.path} was replaced by another file since the server opened it"
        writer = self.writer
        # Never wait on the loop for another program's lock: busy is unready.
        writer.execute("PRAGMA busy_timeout = 0")
        try:
            writer.execute("BEGIN IMMEDIATE")
            self.set_meta("health_probe", str(int(time.time())))
            writer.execute("COMMIT")
        except sqlite3.Error as exc:
            if writer.in_transaction:
                writer.execute("ROLLBACK")
            return f"{self.path}: {explain(exc)}"
        finally:
            writer.execute(f"PRAGMA busy_timeout = {WRITER_BUSY_TIMEOUT_MS}")
        return None

    def close(self) -> None:
        """Checkpoint, close every connection and release the lock."""
        if self.closed:
            return
        self.closed = True
        if self._checkpointer is not None:
            self._checkpointer.stop()
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for conn in readers:
            conn.close()
        try:
            # The last connection to close folds the log into the file and removes it.
            self.writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            log.warning("%s: final checkpoint failed: %s", self.path, explain(exc), extra={
                "event": "history.checkpoint_failed", "reason": explain(exc),
                "path": str(self.path),
            })  # fmt: skip
        self.writer.close()
        self._lock_file.close()


def _configure_writer(path: Path, conn: sqlite3.Connection) -> None:
    """WAL, synchronous=NORMAL, no automatic checkpoints; a hubbub file only."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app_id != APPLICATION_ID and (app_id != 0 or version != 0 or tables != 0):
        raise DatabaseError(path, "is an SQLite database, but not hubbub's")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise DatabaseError(path, f"cannot use a write-ahead log here (journal mode {mode})")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    # After a checkpoint empties the log, keep at most this much of its file.
    conn.execute(f"PRAGMA journal_size_limit = {WAL_CHECKPOINT_BYTES}")
    if app_id == 0:
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def schema_version(conn: sqlite3.Connection) -> int:
    """The number of the last migration applied to ``conn``'s database."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(path: Path, conn: sqlite3.Connection, migrations: tuple[Migration, ...]) -> int:
    """Apply the migrations newer than the database; the version reached.

    Each runs in one transaction with its version bump: a failure leaves the
    database at the previous version, never half-changed.
    """
    current = schema_version(conn)
    newest = migrations[-1].version if migrations else 0
    if current > newest:
        raise DatabaseError(path, newer_than_code(current, newest))
    for migration in migrations:
        if migration.version <= current:
            continue
        log.info("%s: applying migration %s", path, migration.name, extra={
            "event": "history.migration", "path": str(path), "migration": migration.name,
        })  # fmt: skip
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{migration.sql}\n"
                f"PRAGMA user_version = {migration.version};\nCOMMIT;"
            )
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        current = migration.version
    return current


class Checkpointer(threading.Thread):
    """Folds the write-ahead log back into the database file, off the loop.

    Passive checkpoints never block the writer; once one has copied every
    frame, the writer's next transaction starts the log from its beginning,
    so it stays near :data:`WAL_CHECKPOINT_BYTES`.
    """

    def __init__(self, path: Path, interval: float = CHECKPOINT_INTERVAL) -> None:
        super().__init__(name="hubbub-checkpoint", daemon=True)
        self.path = path
        self.wal = path.with_name(path.name + "-wal")
        self.interval = interval
        self._stopping = threading.Event()
        self.checkpoints = 0

    def run(self) -> None:
        conn = connect(self.path)
        try:
            while not self._stopping.wait(self.interval):
                try:
                    size = os.stat(self.wal).st_size
                except OSError:
                    continue
                if size >= WAL_CHECKPOINT_BYTES:
                    self.checkpoint(conn)
        finally:
            conn.close()

    def checkpoint(self, conn: sqlite3.Connection) -> None:
        """One passive checkpoint; errors are logged, never fatal."""
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self.checkpoints += 1
        except sqlite3.Error as exc:
            log.warning("%s: checkpoint failed: %s", self.path, explain(exc), extra={
                "event": "history.checkpoint_failed", "reason": explain(exc),
                "path": str(self.path),
            })  # fmt: skip

    def stop(self) -> None:
        """Stop after the current checkpoint."""
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=10)
