"""A PostgreSQL database: connecting, its schema, connections per thread.

Theory of operation
-------------------
Opening (:meth:`PgDatabase.open`, at start, before the server serves)
connects once, brings the schema up to date and checks that the database
is hubbub's. The schema is numbered migrations (``migrations/NNNN_*.sql``,
the same rules as SQLite's, :mod:`hubbub.store.migrations`); the number of
the last one applied is the one row of the ``schema_version`` table. A
database newer than this code is refused with a sentence, never used. Two
servers starting at once on one database (a cluster) take turns through an
advisory lock, so a migration runs once.

Connections: nothing here ever runs on the event loop after start, since a
round trip to PostgreSQL is a network wait, not a page-cache write.

* Each worker thread reads (and, for accounts, writes) on a connection of
  its own (:meth:`PgDatabase.connection`), made on first use and made
  again after PostgreSQL went away: a query while it is down fails at once
  with :class:`~hubbub.store.errors.DatabaseError` ("try again later"), and
  the first query after it is back reconnects.
* History is written by one thread, :class:`~.writer.Writer`, on its own
  connection.

Every message that names the database shows its URL with the password
masked (:func:`.url.masked`), and driver messages are scrubbed of it too.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg

from ..errors import DatabaseError
from ..migrations import Migration, load_migrations, newer_than_code
from .url import masked, password

log = logging.getLogger(__name__)

MIGRATIONS = load_migrations(__package__)
SCHEMA_VERSION = MIGRATIONS[-1].version

#: pg_advisory_lock key of migrations ("hubbub" in ASCII, as a bigint).
MIGRATION_LOCK = 0x687562627562
#: Seconds to wait for a connection before calling PostgreSQL unreachable.
CONNECT_TIMEOUT = 5
#: A query that takes longer is cancelled by the server (milliseconds): a
#: reader's answer is late, never missing for ever.
STATEMENT_TIMEOUT_MS = 15_000
#: Tables hubbub makes: a database holding some of them without a
#: schema_version table is someone else's.
_OURS = ("meta", "channels", "history", "private", "accounts", "certfps", "registered_channels")

#: How long a readiness probe's answer stands before health() asks again (seconds).
PROBE_INTERVAL = 1.0

#: The errors that mean "PostgreSQL cannot be reached now" (down, restarting,
#: the connection cut), as opposed to a query it refused.
UNREACHABLE: tuple[type[Exception], ...] = (psycopg.OperationalError, psycopg.InterfaceError)


def explain(exc: BaseException, secret: str | None = None) -> str:
    """A sentence for an operator from a driver error (without the password)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if secret:
        text = text.replace(secret, "***")
    if "does not exist" in text and "database" in text:
        return f"the database does not exist (PostgreSQL: {text}); create it with createdb"
    if "authentication failed" in text or "no password supplied" in text:
        return f"PostgreSQL refused the login (PostgreSQL: {text})"
    if isinstance(exc, psycopg.OperationalError) and (
        "connection" in text or "connect" in text or "server closed" in text
    ):
        return f"cannot reach PostgreSQL (PostgreSQL: {text}): is it running, and is the URL right?"
    if isinstance(exc, psycopg.InterfaceError):
        return f"the connection to PostgreSQL was lost (PostgreSQL: {text})"
    return f"PostgreSQL: {text}"


class PgDatabase:
    """An open hubbub database on PostgreSQL: its URL and connections."""

    def __init__(self, url: str) -> None:
        self.url = url
        #: The URL as every message shows it: without its password.
        self.shown = masked(url)
        self._secret = password(url)
        self._local = threading.local()
        self._all: list[psycopg.Connection[Any]] = []
        self._all_lock = threading.Lock()
        self.closed = False
        self._probe_wanted = threading.Event()
        self._probe_thread: threading.Thread | None = None
        self._probed_at = 0.0
        #: What the last readiness probe found (None: PostgreSQL answered).
        self._problem: str | None = None

    # --- opening -------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, migrations: tuple[Migration, ...] = MIGRATIONS) -> PgDatabase:
        """Connect to ``url`` and bring its schema up to date; raises
        :class:`DatabaseError` with a clear reason (and no password)."""
        db = cls(url)
        try:
            with db.connect() as conn:
                migrate(db.shown, conn, migrations)
        except psycopg.Error as exc:
            raise db.error(exc) from None
        return db

    def connect(self) -> psycopg.Connection[Any]:
        """A new connection (autocommit: transactions are explicit)."""
        conn = psycopg.connect(
            self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
            application_name="hubbub",
            # Over TCP, notice a dead server in seconds, not hours.
            keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3,
        )  # fmt: skip
        conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
        return conn

    def error(self, exc: BaseException) -> DatabaseError:
        """``exc`` as a DatabaseError naming the database (masked)."""
        return DatabaseError(self.shown, explain(exc, self._secret))

    # --- connections per thread --------------------------------------------------

    def connection(self) -> psycopg.Connection[Any]:
        """This thread's connection (made on first use, and again after it broke)."""
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is not None and conn.closed:
            self._forget(conn)
            conn = None
        if conn is None:
            if self.closed:
                raise DatabaseError(self.shown, "the database is closed")
            conn = self.connect()
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def _forget(self, conn: psycopg.Connection[Any]) -> None:
        self._local.conn = None
        with self._all_lock:
            if conn in self._all:
                self._all.remove(conn)
        with contextlib.suppress(Exception):
            conn.close()

    def _failed(self, conn: psycopg.Connection[Any] | None, exc: psycopg.Error) -> DatabaseError:
        """``exc`` as a DatabaseError; a connection it broke is dropped, so
        the thread's next use reconnects."""
        if conn is not None and (isinstance(exc, UNREACHABLE) or conn.closed):
            self._forget(conn)
        return self.error(exc)

    @contextlib.contextmanager
    def reading(self) -> Iterator[psycopg.Connection[Any]]:
        """This thread's connection; a driver error becomes a DatabaseError
        (and a lost connection is dropped, so the next use reconnects)."""
        conn = None
        try:
            conn = self.connection()
            yield conn
        except DatabaseError:
            raise
        except psycopg.Error as exc:
            raise self._failed(conn, exc) from None

    @contextlib.contextmanager
    def writing(self) -> Iterator[psycopg.Connection[Any]]:
        """This thread's connection inside one transaction. A unique
        violation passes through as it is (a name taken is an answer)."""
        conn = None
        try:
            conn = self.connection()
            with conn.transaction():
                yield conn
        except psycopg.errors.UniqueViolation:
            raise
        except DatabaseError:
            raise
        except psycopg.Error as exc:
            raise self._failed(conn, exc) from None

    # --- readiness ---------------------------------------------------------------

    def health(self) -> str | None:
        """Why PostgreSQL cannot be used now, or None, as the last probe found.
        Called on the event loop, so it never waits for PostgreSQL: it asks a
        probe thread (``SELECT 1`` on a connection of its own) for a fresh
        answer when the last is older than :data:`PROBE_INTERVAL`, and answers
        with the last one meanwhile (so a readiness check lags PostgreSQL's
        fall by a probe, about a second)."""
        if time.monotonic() - self._probed_at >= PROBE_INTERVAL and not self.closed:
            if self._probe_thread is None:
                self._probe_thread = threading.Thread(
                    target=self._probe_loop, name="hubbub-pg-probe", daemon=True
                )
                self._probe_thread.start()
            self._probe_wanted.set()
        return self._problem

    def _probe_loop(self) -> None:
        while not self.closed:
            self._probe_wanted.wait()
            self._probe_wanted.clear()
            if self.closed:
                break
            try:
                with self.reading() as conn:
                    conn.execute("SELECT 1")
                self._problem = None
            except DatabaseError as exc:
                self._problem = str(exc)
            self._probed_at = time.monotonic()

    def close(self) -> None:
        """Close every thread's connection."""
        self.closed = True
        self._probe_wanted.set()
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()


# --- the schema ------------------------------------------------------------------


def schema_version(conn: psycopg.Connection[Any], shown: str = "") -> int:
    """The number of the last migration applied (0: a new, empty database)."""
    if conn.execute("SELECT to_regclass('schema_version')").fetchone() == (None,):
        found = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename = ANY(%s)", (list(_OURS),),
        ).fetchall()  # fmt: skip
        if found:
            names = ", ".join(sorted(name for (name,) in found))
            raise DatabaseError(
                shown, f"is not hubbub's database: it has tables named like hubbub's ({names}) "
                "but no schema_version table. Give hubbub a database of its own.",
            )  # fmt: skip
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0) if row else 0


def migrate(shown: str, conn: psycopg.Connection[Any], migrations: tuple[Migration, ...]) -> int:
    """Apply the migrations newer than the database; the version reached.

    Each runs in one transaction with its version bump: a failure leaves the
    database at the previous version, never half-changed. The advisory lock
    makes servers that start together take turns.
    """
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        current = schema_version(conn, shown)
        newest = migrations[-1].version if migrations else 0
        if current > newest:
            raise DatabaseError(shown, newer_than_code(current, newest))
        for migration in migrations:
            if migration.version <= current:
                continue
            log.info("%s: applying migration %s", shown, migration.name,
                     extra={"event": "history.migration", "path": shown})
            with conn.transaction():
                conn.execute(migration.sql.encode())
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
                conn.execute("DELETE FROM schema_version")
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)",
                             (migration.version,))  # fmt: skip
            current = migration.version
        return current
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
