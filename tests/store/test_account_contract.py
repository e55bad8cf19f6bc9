"""What every account and channel store must do, whichever its database:
accounts kept and found by any case of their name, a taken name refused,
verification and its expiry, certificates, password changes and drops, and
registered channels' state, against SQLite and PostgreSQL alike. What only
one database does is in test_sqlite_accounts.py / test_postgres_database.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hubbub.store.base import (
    Account,
    AccountStore,
    ChannelStore,
    PendingVerification,
    RegisteredChannel,
)
from hubbub.store.postgres.accounts import PostgresAccountStore, PostgresChannelStore
from hubbub.store.postgres.database import PgDatabase
from hubbub.store.postgres.writer import Writer
from hubbub.store.sqlite.accounts import SQLiteAccountStore, SQLiteChannelStore
from hubbub.store.sqlite.database import Database

FP = "9f" * 32
ALICE = Account(
    "Alice", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "SCRAM-SHA-256$10000$x$y$z",
    "alice@example.org", 1000.0,
)  # fmt: skip


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database | PgDatabase]:
    db: Database | PgDatabase
    if request.param == "sqlite":
        db = Database.open(tmp_path / "hubbub.sqlite3")
    else:
        db = PgDatabase.open(request.getfixturevalue("pg_url"))
    yield db
    db.close()


@pytest.fixture
def store(database: Database | PgDatabase) -> AccountStore:
    if isinstance(database, Database):
        return SQLiteAccountStore(database)
    return PostgresAccountStore(database)


@pytest.fixture
def channels(database: Database | PgDatabase) -> Iterator[ChannelStore]:
    if isinstance(database, Database):
        yield SQLiteChannelStore(database)
        return
    writer = Writer(database)
    writer.start()
    yield PostgresChannelStore(database, writer)
    writer.stop(10)


def settle(channels: ChannelStore) -> None:
    """Saves are written (PostgreSQL queues them on its writer thread)."""
    if isinstance(channels, PostgresChannelStore):
        assert channels.writer.flush(30)


def test_an_account_is_kept_and_found_by_any_case_of_its_name(store: AccountStore) -> None:
    assert store.create(ALICE, now=1000.0)
    assert store.get("alice") == ALICE
    assert store.get("ALICE") == ALICE
    assert store.names() == ["Alice"]
    # rfc1459 casemapping: [ ] \ are the upper case of { } |
    assert store.create(Account("a[b]", "h", "s"), now=1.0)
    assert store.get("A{B}") is not None
    assert not store.create(Account("a{b}", "h", "s"), now=1.0)


def test_a_taken_name_is_refused(store: AccountStore) -> None:
    assert store.create(ALICE, now=1000.0)
    assert not store.create(Account("alice", "other", "other"), now=2000.0)
    assert store.get("alice") == ALICE


def test_unverified_accounts_wait_for_their_code_then_expire(store: AccountStore) -> None:
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


def test_verifying_keeps_the_account_and_drops_the_code(store: AccountStore) -> None:
    store.create(ALICE, PendingVerification("ab", 2000.0), now=1000.0)
    assert store.mark_verified("ALICE")
    assert not store.mark_verified("alice")  # once
    assert store.pending("alice") is None
    assert store.names() == ["Alice"]
    # A verified account never expires.
    assert not store.create(Account("alice", "h", "s"), now=99999.0)


def test_certificates_belong_to_one_account(store: AccountStore) -> None:
    store.create(ALICE, now=1.0)
    store.create(Account("bob", "h", "s"), now=1.0)
    assert store.add_certfp("alice", FP.upper())
    assert not store.add_certfp("bob", FP)
    found = store.by_certfp(FP)
    assert found is not None and found.name == "Alice" and found.certfps == (FP,)
    assert not store.del_certfp("bob", FP)
    assert store.del_certfp("alice", FP)
    assert store.by_certfp(FP) is None


def test_password_changes_and_drops(store: AccountStore) -> None:
    store.create(ALICE, now=1.0)
    store.add_certfp("alice", FP)
    assert store.set_password("alice", "$argon2id$new", "SCRAM-SHA-256$new")
    account = store.get("alice")
    assert account is not None and account.password_hash == "$argon2id$new"
    assert store.drop("Alice")
    assert store.get("alice") is None and store.by_certfp(FP) is None
    assert store.create(ALICE, now=2.0)  # the name is free again
    assert store.get("alice") is not None and store.get("alice").certfps == ()  # type: ignore[union-attr]


def test_registered_channels_keep_their_state(channels: ChannelStore) -> None:
    tea = RegisteredChannel(
        "#Tea", "alice", 10.0, created=5.0, topic="Earl Grey", topic_setter="alice!a@h",
        topic_time=7.0, modes="imnt", key="sekrit", limit=20,
        bans=(("*!*@spam", "alice!a@h", 8.0),), excepts=(("$a:bob", "alice!a@h", 9.0),),
        invex=(("$a", "alice!a@h", 9.5),), access=(("bob", "o"), ("carol", "v")),
    )  # fmt: skip
    channels.save(tea)
    settle(channels)
    assert channels.channels() == [tea]
    renamed = RegisteredChannel("#tea", "alice", 10.0, topic="Assam")
    channels.save(renamed)  # same channel (casefolded): replaced
    settle(channels)
    assert channels.channels() == [renamed]
    channels.drop("#TEA")
    settle(channels)
    assert channels.channels() == []


