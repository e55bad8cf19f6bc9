"""The SQLite database file: creation, WAL, migrations, refusals with reasons."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from hubbub.store.sqlite.database import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_VERSION,
    Database,
    DatabaseError,
    Migration,
    schema_version,
)


def tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_a_new_database_is_created_in_wal_mode_at_the_newest_schema(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "hubbub.sqlite3"
    db = Database.open(path)
    try:
        assert path.exists()
        assert db.writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.writer.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert db.writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        assert db.writer.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert schema_version(db.writer) == SCHEMA_VERSION == len(MIGRATIONS)
        assert {"meta", "channels", "history", "private", "history_fts"} <= tables(db.writer)
    finally:
        db.close()
    # Opening again changes nothing and keeps what is there.
    db = Database.open(path)
    db.set_meta("k", "v")
    db.close()
    db = Database.open(path)
    assert db.meta("k") == "v"
    db.close()


def test_migrations_are_numbered_without_gaps() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert MIGRATIONS[0].name == "0001_history.sql"


def test_a_database_newer_than_the_code_is_refused_never_downgraded(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    Database.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(DatabaseError) as exc:
        Database.open(path)
    message = str(exc.value)
    assert str(path) in message
    assert f"schema version is {SCHEMA_VERSION + 1}" in message and "newer" in message
    # Untouched: still the newer version.
    conn = sqlite3.connect(path)
    assert schema_version(conn) == SCHEMA_VERSION + 1
    conn.close()


def test_a_corrupt_file_is_a_clear_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(os.urandom(8192))
    with pytest.raises(DatabaseError, match="not a database") as exc:
        Database.open(path)
    assert exc.value.path == path and str(path) in str(exc.value)


def test_another_programs_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.close()
    with pytest.raises(DatabaseError, match="not hubbub's"):
        Database.open(path)


def test_an_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root writes anywhere: make the "folder" a file instead.
        blocker = tmp_path / "file"
        blocker.write_text("")
        with pytest.raises(DatabaseError, match="cannot create its folder"):
            Database.open(blocker / "h.sqlite3")
        return
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(DatabaseError, match=r"lock file|cannot open"):
            Database.open(folder / "h.sqlite3")
    finally:
        folder.chmod(0o700)


def test_a_folder_in_place_of_the_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "h.sqlite3").mkdir()
    with pytest.raises(DatabaseError, match="is a folder"):
        Database.open(tmp_path / "h.sqlite3")


def test_a_second_process_cannot_open_the_same_database(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    db = Database.open(path)
    try:
        with pytest.raises(DatabaseError, match="another hubbub"):
            Database.open(path)
    finally:
        db.close()
    Database.open(path).close()  # released on close


def test_a_failing_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    bad_sql = "CREATE TABLE half (x); SELECT no_such_function();"
    broken = (*MIGRATIONS, Migration(SCHEMA_VERSION + 1, "9999_broken.sql", bad_sql))
    with pytest.raises(DatabaseError, match="no_such_function"):
        Database.open(path, migrations=broken)
    db = Database.open(path)
    assert schema_version(db.writer) == SCHEMA_VERSION
    assert "half" not in tables(db.writer)
    db.close()


@pytest.mark.parametrize("start", range(1, SCHEMA_VERSION))
def test_every_earlier_schema_migrates_to_the_newest_keeping_its_rows(
    tmp_path: Path, start: int
) -> None:
    path = tmp_path / "h.sqlite3"
    db = Database.open(path, migrations=MIGRATIONS[:start])
    assert schema_version(db.writer) == start
    db.writer.execute("INSERT INTO channels (id, name) VALUES (1, '#old')")
    db.writer.execute(
        "INSERT INTO history (id, conv, msgid, time_ms, kind, uid, source, target, text) "
        "VALUES (1, 1, 'm1', 1000, 'PRIVMSG', 'u1', 'a!b@c', '#old', 'kept across versions')"
    )
    db.close()
    db = Database.open(path)
    assert schema_version(db.writer) == SCHEMA_VERSION
    assert db.writer.execute("SELECT text FROM history WHERE msgid = 'm1'").fetchone() == (
        "kept across versions",
    )
    if start < 2:
        # Search (0002) indexed the rows that were there before it. (Rows
        # written after it are indexed by the history store, not by later
        # migrations such as the accounts' 0004 and 0005.)
        found = db.writer.execute(
            "SELECT rowid FROM history_fts WHERE history_fts MATCH 'versions'"
        ).fetchall()
        assert found == [(1,)]
    db.close()


def test_readers_are_read_only_and_see_committed_rows(tmp_path: Path) -> None:
    db = Database.open(tmp_path / "h.sqlite3")
    try:
        db.set_meta("seen", "yes")
        reader = db.reader()
        assert reader is db.reader()  # one per thread
        assert reader.execute("SELECT value FROM meta WHERE key='seen'").fetchone() == ("yes",)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.execute("INSERT INTO meta VALUES ('x', 'y')")
    finally:
        db.close()


def test_the_checkpointer_folds_a_large_log_back_into_the_file(tmp_path: Path) -> None:
    db = Database.open(tmp_path / "h.sqlite3")
    try:
        blob = "x" * 4000
        db.writer.execute("BEGIN")
        for i in range(1500):
            db.writer.execute("INSERT INTO meta VALUES (?, ?)", (f"k{i}", blob))
        db.writer.execute("COMMIT")
        assert db.wal_size() > 4 * 1024 * 1024
        db.start_checkpoints()
        checkpointer = db._checkpointer
        assert checkpointer is not None
        conn = sqlite3.connect(db.path)
        checkpointer.checkpoint(conn)  # what the thread does when the log is large
        conn.close()
        busy, log_frames, done = db.writer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert busy == 0 and log_frames == done
    finally:
        db.close()
    assert not Path(str(db.path) + "-wal").exists()
