"""``hubbub backup DEST``: a consistent copy of the database, server running or not.

Theory of operation
-------------------
The database (history, and the accounts that share its file) is SQLite in
WAL mode with one writer, the server. A backup is another process that
only reads: it opens the file read-only (``mode=ro``: it can never change
the live database, and it does not take the server's ``.lock``, which keeps
out a second *server*) and runs SQLite's online backup API in a single
step. One step matters: a reader in WAL mode holds one snapshot for the
whole copy while the server goes on committing into the log, so the copy
is the database as it was at one instant, every transaction wholly in or
wholly out. (A backup in many small steps would restart whenever the
server committed, which it does every loop turn.)

The copy is written beside ``DEST`` under a temporary name, made a plain
single file (``journal_mode=DELETE``: no ``-wal`` to carry along), checked
(``quick_check``, hubbub's ``application_id``, the same ``user_version`` as
the source), synced, and only then renamed to ``DEST``: an interrupted
backup never leaves a half file under the name of a good one.

Restoring is copying ``DEST`` back to the database's path while the server
is stopped, after removing any ``-wal`` and ``-shm`` files beside it (a
log left by a killed server must not be replayed onto the restored file);
see docs/operating.md.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hubbub.store.sqlite.database import APPLICATION_ID, explain


class BackupError(Exception):
    """The backup could not be made; the message says why."""


@dataclass(frozen=True, slots=True)
class Backup:
    """A finished backup."""

    #: The database copied: its file, or its URL without the password.
    source: Path | str
    dest: Path
    size: int
    schema_version: int
    seconds: float


def destination(source: Path, dest: Path, now: datetime | None = None) -> Path:
    """Where the copy goes: ``dest``, or a file named after the time in
    ``dest`` when it is a folder (so a daily job keeps every day's copy)."""
    if dest.is_dir():
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        return dest / f"{source.stem}-{stamp}{source.suffix or '.sqlite3'}"
    return dest


def backup(source: Path, dest: Path) -> Backup:
    """Copy the database at ``source`` to ``dest`` (see the module docstring)."""
    started = time.monotonic()
    if not source.is_file():
        raise BackupError(f"{source}: no database there (is this the server's --config "
                          "and --data-dir?)")  # fmt: skip
    target = destination(source, dest)
    _refuse_overwriting(source, target)
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: no such folder")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        version = _copy(source, partial)
        _sync(partial)
        os.replace(partial, target)
        _sync(target.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    size = target.stat().st_size
    return Backup(source, target, size, version, time.monotonic() - started)


def _refuse_overwriting(source: Path, target: Path) -> None:
    live = {source.resolve()} | {source.resolve().with_name(source.name + s)
                                 for s in ("-wal", "-shm", ".lock")}  # fmt: skip
    if target.resolve() in live:
        raise BackupError(f"{target}: that is the database itself; give another path")


def _copy(source: Path, partial: Path) -> int:
    """The backup proper, into ``partial``; the schema version copied."""
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=10.0)
    except sqlite3.Error as exc:
        raise BackupError(f"{source}: {explain(exc)}") from None
    try:
        app_id, version = _identity(src)
        if app_id != APPLICATION_ID:
            raise BackupError(f"{source}: not a hubbub database (application_id {app_id:#x})")
        dst = sqlite3.connect(partial)
        try:
            # pages=-1: the whole database in one step, from one snapshot.
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode = DELETE")
            _check(dst, partial, version)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{source}: {explain(exc)}") from None
    finally:
        src.close()
    return version


def _identity(conn: sqlite3.Connection) -> tuple[int, int]:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    return int(app_id), int(version)


def _check(copy: sqlite3.Connection, path: Path, version: int) -> None:
    """The copy is sound and is the same kind of hubbub database."""
    result = copy.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"{path}: the copy failed its check ({result})")
    if _identity(copy) != (APPLICATION_ID, version):
        raise BackupError(f"{path}: the copy's application_id or schema version differ")


def _sync(path: Path) -> None:
    """Flush ``path`` (a file or a folder) to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
