"""Accounts and registered channels in the embedded database: what is kept,
casefolding, verification, certificates, and the upgrade from schemas 2 and 3."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubbub.store.base import Account, PendingVerification, RegisteredChannel
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


def test_an_account_is_kept_and_found_by_any_case_of_its_name(store: SQLiteAccountStore) -> None:
    assert store.create(ALICE, now=1000.0)
    assert store.get("alice") == ALICE
    assert store.get("ALICE") == ALICE
    assert store.names() == ["Alice"]
    # rfc1459 casemapping: [ ] \ are the upper case of { } |
    assert store.create(Account("a[b]", "h", "s"), now=1.0)
    assert store.get("A{B}") is not None
    assert not store.create(Account("a{b}", "h", "s"), now=1.0)


def test_a_taken_name_is_refused(store: SQLiteAccountStore) -> None:
    assert store.create(ALICE, now=1000.0)
    assert not store.create(Account("alice", "other", "other"), now=2000.0)
    assert store.get("alice") == ALICE


def test_nothing_like_a_password_is_in_the_file(db: Database, store: SQLiteAccountStore) -> None:
    from hubbub.auth.passwords import hash_password
    from hubbub.auth.scram import derive

    secret = "correct horse battery staple"
    store.create(Account("bob", hash_password(secret), derive(secret).encode()), now=1.0)
    db.writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = db.path.read_bytes()
    assert secret.encode() not in raw and b"bob" in raw


def test_unverified_accounts_wait_for_their_code_then_expire(store: SQLiteAccountStore) -> None:
    pending = PendingVerification("c0de" * 16, expires=2000.0)
    assert store.create(ALICE, pending, now=1000.0)
    account = store.get("alice")
    assert account is not None and not account.verified
    assert store.names() == []  # reserves no nick yet
    assert store.pending("alice") == pending
    # Taken until it expires; after that anyone may register the name.
    assert not store.create(Account("alice", "h2", "s2"), now=1999.0)
    assert store.create(Account("alice", "h2", "s2"), now=2001.0)
    assert store.get("alice") == Account("alice", "h2", "s2")


def test_verifying_keeps_the_account_and_drops_the_code(store: SQLiteAccountStore) -> None:
    store.create(ALICE, PendingVerification("ab", 2000.0), now=1000.0)
    assert store.mark_verified("ALICE")
    assert not store.mark_verified("alice")  # once
    assert store.pending("alice") is None
    assert store.names() == ["Alice"]
    # A verified account never expires.
    assert not store.create(Account("alice", "h", "s"), now=99999.0)


def test_certificates_belong_to_one_account(store: SQLiteAccountStore) -> None:
    store.create(ALICE, now=1.0)
    store.create(Account("bob", "h", "s"), now=1.0)
    assert store.add_certfp("alice", FP.upper())
    assert not store.add_certfp("bob", FP)
    found = store.by_certfp(FP)
    assert found is not None and found.name == "Alice" and found.certfps == (FP,)
    assert not store.del_certfp("bob", FP)
    assert store.del_certfp("alice", FP)
    assert store.by_certfp(FP) is None


def test_password_changes_and_drops(store: SQLiteAccountStore) -> None:
    store.create(ALICE, now=1.0)
    store.add_certfp("alice", FP)
    assert store.set_password("alice", "$argon2id$new", "SCRAM-SHA-256$new")
    account = store.get("alice")
    assert account is not None and account.password_hash == "$argon2id$new"
    assert store.drop("Alice")
    assert store.get("alice") is None and store.by_certfp(FP) is None
    assert store.create(ALICE, now=2.0)  # the name is free again
    assert store.get("alice") is not None and store.get("alice").certfps == ()  # type: ignore[union-attr]


def test_registered_channels_keep_their_state(db: Database) -> None:
    channels = SQLiteChannelStore(db)
    tea = RegisteredChannel(
        "#Tea", "alice", 10.0, created=5.0, topic="Earl Grey", topic_setter="alice!a@h",
        topic_time=7.0, modes="imnt", key="sekrit", limit=20,
        bans=(("*!*@spam", "alice!a@h", 8.0),), excepts=(("$a:bob", "alice!a@h", 9.0),),
        invex=(("$a", "alice!a@h", 9.5),), access=(("bob", "o"), ("carol", "v")),
    )  # fmt: skip
    channels.save(tea)
    assert channels.channels() == [tea]
    renamed = RegisteredChannel("#tea", "alice", 10.0, topic="Assam")
    channels.save(renamed)  # same channel (casefolded): replaced
    assert channels.channels() == [renamed]
    channels.drop("#TEA")
    assert channels.channels() == []


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
