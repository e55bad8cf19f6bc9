"""A real PostgreSQL for tests: Debian's server, started by the test itself.

:class:`PgServer` runs ``initdb`` and ``pg_ctl`` (as the ``postgres`` user
when the tests run as root, as PostgreSQL refuses to run as root) on a unix
socket in a temporary folder, with no TCP listener, so it can clash with
nothing else on the machine. Tests get a fresh database each
(:meth:`PgServer.new_database`) and its ``postgresql://`` URL, the same
kind of URL an operator writes in ``[history] database``.

Outside CI a machine without PostgreSQL or psycopg skips these tests with
the reason; in CI (``CI=true``) that is a failure (:func:`hubtest.need`).
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from hubtest import need

#: Where Debian puts the server programs (the newest version wins).
_BINDIRS = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
#: The port only names the socket file: there is no TCP listener.
PORT = 5440
SUPERUSER = "hubbub"
_names = itertools.count(1)


def bindir() -> str | None:
    """The folder of initdb/pg_ctl, or None when PostgreSQL is not installed."""
    for folder in reversed(_BINDIRS):
        if os.access(os.path.join(folder, "pg_ctl"), os.X_OK):
            return folder
    found = shutil.which("pg_ctl")
    return os.path.dirname(found) if found else None


def need_postgres() -> str:
    """Skip (or fail in CI) unless PostgreSQL and psycopg are here; the bindir."""
    folder = bindir()
    need(folder is not None, "PostgreSQL is not installed (Debian: apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        need(False, "psycopg is not installed (pip install 'hubbub[postgresql]')")
    assert folder is not None
    return folder


class PgServer:
    """One PostgreSQL server in a folder of its own under the system's temp
    folder (pytest's folders are private to root: the postgres user could
    not reach them): its data, socket and log. :meth:`remove` when done."""

    def __init__(self) -> None:
        self.bin = need_postgres()
        root = Path(tempfile.mkdtemp(prefix="hubbub-pg-"))
        self.root = root
        self.data = root / "data"
        self.sock = root / "sock"
        self.log = root / "postgres.log"
        self.as_postgres = os.geteuid() == 0
        root.mkdir(parents=True, exist_ok=True)
        self.sock.mkdir(exist_ok=True)
        if self.as_postgres:
            # The server runs as postgres: it must own its folders and log.
            self.log.touch()
            shutil.chown(root, "postgres")
            shutil.chown(self.sock, "postgres")
            shutil.chown(self.log, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", SUPERUSER,
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")  # fmt: skip

    def _run(
        self, program: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        cmd = [os.path.join(self.bin, program), *args]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd="/")
        if check and done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stdout}{done.stderr}"
                               f"{self.log.read_text() if self.log.exists() else ''}")
        return done

    def start(self, *, durable: bool = False) -> None:
        """Start (or start again) the server; returns once it accepts connections.

        Tests run without durability (a test's server is thrown away, and the
        machine is shared); benchmarks ask for PostgreSQL's defaults
        (``durable``: fsync, synchronous commits), as production runs it."""
        options = f"-p {PORT} -k {self.sock} -c listen_addresses='' -c max_connections=60"
        if durable:
            options += " -c shared_buffers=256MB"
        else:
            options += (" -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                        "-c shared_buffers=16MB")  # fmt: skip
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log),
                  "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: connections are cut, as an outage does)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def remove(self) -> None:
        """Stop the server at once and delete its folder."""
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        """The ``postgresql://`` URL of ``database`` on this server."""
        auth = SUPERUSER if password is None else f"{SUPERUSER}:{quote(password)}"
        return f"postgresql://{auth}@/{database}?host={quote(str(self.sock))}&port={PORT}"

    def sql(self, statement: str, database: str = "postgres") -> list[tuple[object, ...]]:
        """Run one statement (autocommit); its rows, if any."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cur = conn.execute(statement)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = f"t{os.getpid()}_{next(_names)}"
        self.sql(f"CREATE DATABASE {name}")
        return self.url(name)


def wait_until(check: object, timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``check()`` until true (for state in another process)."""
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
