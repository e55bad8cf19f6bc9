"""``hubbub backup DEST`` when ``[history] database`` is PostgreSQL: ``pg_dump``.

Theory of operation
-------------------
``pg_dump`` reads the whole database in one repeatable-read transaction,
so the dump is the database as it was at one instant while the server
goes on writing (every transaction wholly in or wholly out), as SQLite's
one-step online backup is for the embedded database. It is PostgreSQL's
own tool and the only one that knows every object of its schema, so
hubbub runs it rather than copying rows itself.

* The dump is in ``pg_dump``'s custom format (compressed, restored with
  ``pg_restore``), written beside ``DEST`` under a temporary name, listed
  back with ``pg_restore --list`` (a truncated or damaged file fails
  that), and only then renamed to ``DEST``.
* The database is checked first: it must be a hubbub database (its
  ``schema_version``), and the copy says which version it holds.
* The password never reaches ``pg_dump``'s command line, which any user
  of the machine sees in ``ps``: the URL given to it has none, and
  ``PGPASSWORD`` carries it in the environment.

Restoring (the server stopped): ``pg_restore --clean --if-exists
--no-owner --dbname URL DEST``, or into a new empty database; see
docs/operating.md.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from pathlib import Path

from .backup import Backup, BackupError, destination

#: Seconds pg_dump may take before the backup is called failed.
DUMP_TIMEOUT = 6 * 3600


def pg_program(name: str) -> str:
    """The path of PostgreSQL's client program ``name`` (Debian puts the
    newest in /usr/bin through its wrapper, the versions under
    /usr/lib/postgresql)."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                      key=lambda p: int(p.split("/")[-3]))  # fmt: skip
    if versions:
        return versions[-1]
    raise BackupError(f"{name} is not installed: a PostgreSQL database is backed up with "
                      "PostgreSQL's own client programs (Debian: apt-get install "
                      "postgresql-client)")  # fmt: skip


def pg_backup(url: str, dest: Path) -> Backup:
    """Dump the PostgreSQL database at ``url`` to ``dest`` (see the module docstring)."""
    from hubbub.store.postgres.url import masked, password, without_password

    started = time.monotonic()
    shown = masked(url)
    version = _schema_version(url, shown)
    target = destination(Path("hubbub.dump"), dest)
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: no such folder")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    env = dict(os.environ, PGCONNECT_TIMEOUT="10")
    secret = password(url)
    if secret:
        env["PGPASSWORD"] = secret
    try:
        _run([pg_program("pg_dump"), "--format=custom", f"--file={partial}",
              f"--dbname={without_password(url)}"], env, shown, secret)  # fmt: skip
        _run([pg_program("pg_restore"), "--list", str(partial)], env, shown, secret)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Backup(shown, target, target.stat().st_size, version, time.monotonic() - started)


def _schema_version(url: str, shown: str) -> int:
    """The hubbub schema version of the database; refuses one that is not hubbub's."""
    try:
        import psycopg

        from hubbub.store.postgres.database import schema_version
    except ImportError as exc:
        raise BackupError(f"{shown}: PostgreSQL needs the psycopg driver ({exc}): "
                          "pip install 'hubbub[postgresql]'") from None  # fmt: skip
    from hubbub.store.errors import DatabaseError
    from hubbub.store.postgres.database import PgDatabase

    db = PgDatabase(url)
    try:
        with db.connect() as conn:
            version = schema_version(conn, shown)
    except DatabaseError as exc:
        raise BackupError(str(exc)) from None
    except psycopg.Error as exc:
        raise BackupError(str(db.error(exc))) from None
    if version == 0:
        raise BackupError(f"{shown}: not a hubbub database (it has no hubbub tables)")
    return version


def _run(cmd: list[str], env: dict[str, str], shown: str, secret: str | None) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=DUMP_TIMEOUT)
    if done.returncode != 0:
        why = (done.stderr or done.stdout).strip()
        if secret:
            why = why.replace(secret, "***")
        raise BackupError(f"{shown}: {Path(cmd[0]).name} failed: {why}")
