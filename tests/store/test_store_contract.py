"""What every store must do, run against each implementation.

The null stores are the ones a server uses when it keeps nothing; the
embedded database's stores must do the same where the two overlap (unknown
names, closing), and keep what they are given (tests below the contract).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hubbub import events as ev
from hubbub.store.base import (
    Account,
    AccountStore,
    ChannelStore,
    HistoryQuery,
    HistoryStore,
    RegisteredChannel,
)
from hubbub.store.null import NullAccountStore, NullChannelStore, NullHistoryStore
from hubbub.store.sqlite.accounts import SQLiteAccountStore, SQLiteChannelStore
from hubbub.store.sqlite.database import Database

HISTORY_STORES = [NullHistoryStore]


@pytest.fixture(params=HISTORY_STORES)
def history(request: pytest.FixtureRequest) -> HistoryStore:
    store: HistoryStore = request.param()
    return store


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database.open(tmp_path / "hubbub.sqlite3")
    yield db
    db.close()


@pytest.fixture(params=["null", "sqlite"])
def accounts(request: pytest.FixtureRequest, database: Database) -> AccountStore:
    if request.param == "null":
        return NullAccountStore()
    return SQLiteAccountStore(database)


@pytest.fixture(params=["null", "sqlite"])
def channels(request: pytest.FixtureRequest, database: Database) -> ChannelStore:
    if request.param == "null":
        return NullChannelStore()
    return SQLiteChannelStore(database)


def said(msgid: str, text: str) -> ev.MessageSent:
    return ev.MessageSent(msgid, 2.0, "u1", "a!b@c", "PRIVMSG", "#x", "#x", "", "", text, {})


def test_a_history_store_takes_events_and_commits(history: HistoryStore) -> None:
    history.record(ev.UserQuit("m1", 1.0, "u1", "a!b@c", "bye"))
    history.record(said("m2", "hi"))
    history.commit()
    history.close()


def test_the_null_history_store_answers_every_query_with_nothing() -> None:
    store = NullHistoryStore()
    store.record(said("m", "hi"))
    store.commit()
    assert store.query(HistoryQuery("#x", "a")) == []


def test_an_account_store_knows_no_name_it_was_not_given(accounts: AccountStore) -> None:
    assert accounts.get("nobody") is None
    assert accounts.by_certfp("ab" * 32) is None
    assert accounts.pending("nobody") is None
    assert accounts.names() == []
    assert accounts.mark_verified("nobody") is False
    assert accounts.set_password("nobody", "$argon2id$x", "SCRAM-SHA-256$x") is False
    assert accounts.del_certfp("nobody", "ab" * 32) is False
    assert accounts.drop("nobody") is False
    accounts.close()


def test_a_channel_store_starts_empty_and_forgets_on_drop(channels: ChannelStore) -> None:
    assert channels.channels() == []
    channels.drop("#nowhere")
    channels.close()


def test_the_null_account_store_keeps_no_account() -> None:
    store = NullAccountStore()
    assert store.create(Account("alice", "$argon2id$...", "SCRAM-SHA-256$..."), now=1.0) is False
    assert store.get("alice") is None
    assert store.add_certfp("alice", "ab" * 32) is False


def test_the_null_channel_store_keeps_no_channel() -> None:
    store = NullChannelStore()
    store.save(RegisteredChannel("#tea", "alice", 1.0))
    assert store.channels() == []
