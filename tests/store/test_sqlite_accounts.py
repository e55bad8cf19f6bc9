"""Accounts and registered channels in the embedded database: nothing like a
password in the file, write errors naming it, the upgrade from schemas 2
and 3. What every database does is in test_account_contract.py."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubbub.store.base import Account, RegisteredChannel
from hubbub.store.sqlite.accounts import SQLiteAccountStore, SQLiteChannelStore
from hubbub.store.sqlite.database import MIGRATIONS, Database, DatabaseError, schema_version

FP = "9f" * 32
ALICE = Account(
    "Alice", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "SCRAM-SHA-256$10000$x$y$z",
    "alice@example.org", 1000.0,
)  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "hubbub.sqlite3")
    yield database
    database.close()


@pytest.fixture
def store(db: Database) -> SQLiteAccountStore:
    return SQLiteAccountStore(db)


def test_nothing_like_a_password_is_in_the_file(db: Database, store: SQLiteAccountStore) -> None:
    from hubbub.auth.passwords import hash_password
    from hubbub.auth.scram import derive

    secret = "correct horse battery staple"
    store.create(Account("bob", hash_password(secret), derive(secret).encode()), now=1.0)
    db.writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = db.path.read_bytes()
    assert secret.encode() not in raw and b"bob" in raw


def test_a_write_error_names_the_file(db: Database, store: SQLiteAccountStore) -> None:
    db.writer.execute("DROP TABLE certfps")
    with pytest.raises(DatabaseError) as exc:
        store.add_certfp("alice", FP)
    assert str(db.path) in str(exc.value)
    assert not db.writer.in_transaction


@pytest.mark.parametrize("before", [2, 3])
def test_an_older_database_is_upgraded_and_keeps_its_history(tmp_path: Path, before: int) -> None:
    path = tmp_path / "old.sqlite3"
    old = Database.open(path, migrations=MIGRATIONS[:before])
    assert schema_version(old.writer) == before
    old.writer.execute("INSERT INTO channels (id, name) VALUES (1, '#old')")
    old.writer.execute(
        "INSERT INTO history (id, conv, msgid, time_ms, kind, uid, source, target, text) "
        "VALUES (1, 1, 'm1', 1000, 'PRIVMSG', 'u1', 'a!b@c', '#old', 'kept')"
    )
    old.close()
    db = Database.open(path)
    try:
        assert schema_version(db.writer) == MIGRATIONS[-1].version >= 5
        assert db.writer.execute("SELECT text FROM history").fetchall() == [("kept",)]
        store = SQLiteAccountStore(db)
        assert store.create(ALICE, now=1.0) and store.get("alice") == ALICE
        SQLiteChannelStore(db).save(RegisteredChannel("#old", "alice", 1.0))
    finally:
        db.close()


def test_the_account_tables_are_created_by_numbered_migrations(tmp_path: Path) -> None:
    names = [m.name for m in MIGRATIONS]
    assert names[3:5] == ["0004_accounts.sql", "0005_channels.sql"]
    conn = sqlite3.connect(tmp_path / "x.sqlite3")
    conn.executescript(MIGRATIONS[0].sql + MIGRATIONS[3].sql + MIGRATIONS[4].sql)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"accounts", "certfps", "registered_channels"} <= tables
    conn.close()
