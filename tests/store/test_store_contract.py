"""What every store must do, run against each implementation.

The null stores are the ones a server uses when it keeps nothing; the
SQLite and PostgreSQL history stores keep everything. All take the same
calls in the same order (record, commit, queries, prune, close) without
failing; what they answer differs only in whether anything was kept.
The databases' account and channel stores must answer unknown names as the
null ones do, and keep what they are given (test_account_contract.py); the
history stores' full behaviour is test_history_contract.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from historykit import settle
from hubbub import events as ev
from hubbub.store.base import (
    Account,
    AccountStore,
    ChannelStore,
    Entry,
    HistoryStore,
    Party,
    Ref,
    RegisteredChannel,
    Scope,
    SearchQuery,
)
from hubbub.store.null import NullAccountStore, NullChannelStore, NullHistoryStore
from hubbub.store.postgres.accounts import PostgresAccountStore, PostgresChannelStore
from hubbub.store.postgres.database import PgDatabase
from hubbub.store.postgres.history import PostgresHistoryStore
from hubbub.store.postgres.writer import Writer
from hubbub.store.sqlite.accounts import SQLiteAccountStore, SQLiteChannelStore
from hubbub.store.sqlite.database import Database
from hubbub.store.sqlite.history import SQLiteHistoryStore

IMPLEMENTATIONS = ["null", "postgres", "sqlite"]


@pytest.fixture(params=IMPLEMENTATIONS)
def history(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HistoryStore]:
    store: HistoryStore
    if request.param == "null":
        store = NullHistoryStore()
    elif request.param == "sqlite":
        store = SQLiteHistoryStore.open(tmp_path / "h.sqlite3")
    else:
        store = PostgresHistoryStore.open(request.getfixturevalue("pg_url"))
    yield store
    store.close()


@pytest.fixture(params=IMPLEMENTATIONS)
def stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[AccountStore, ChannelStore]]:
    """An account store and a channel store on one database."""
    if request.param == "null":
        yield NullAccountStore(), NullChannelStore()
    elif request.param == "sqlite":
        db = Database.open(tmp_path / "hubbub.sqlite3")
        yield SQLiteAccountStore(db), SQLiteChannelStore(db)
        db.close()
    else:
        pg = PgDatabase.open(request.getfixturevalue("pg_url"))
        writer = Writer(pg)
        writer.start()
        yield PostgresAccountStore(pg), PostgresChannelStore(pg, writer)
        writer.stop(10)
        pg.close()


@pytest.fixture
def accounts(stores: tuple[AccountStore, ChannelStore]) -> AccountStore:
    return stores[0]


@pytest.fixture
def channels(stores: tuple[AccountStore, ChannelStore]) -> ChannelStore:
    return stores[1]


M2 = ev.make_msgid(2.0, "test", 2)


def said(msgid: str, text: str) -> ev.MessageSent:
    return ev.MessageSent(msgid, 2.0, "u1", "a!b@c", "PRIVMSG", "#x", "#x", "", "", text, {})


def test_a_history_store_takes_entries_answers_queries_and_closes(history: HistoryStore) -> None:
    history.record(Entry(ev.UserQuit("m1", 1.0, "u1", "a!b@c", "bye"), None, ("#x",)))
    history.record(Entry(said(M2, "hi"), None, ("#x",)))
    pm = ev.MessageSent("m3", 3.0, "u1", "a!b@c", "PRIVMSG", "bob", "", "u2", "", "psst", {})
    history.record(Entry(pm, None, (), (Party("u:u1", "a"), Party("u:u2", "bob"))))
    history.commit()
    settle(history)
    kept = not isinstance(history, NullHistoryStore)
    scope = Scope.of_channel("#x")
    got = history.latest(scope, None, 10)
    assert [f.event.msgid for f in got] == ([M2] if kept else [])
    assert history.before(scope, Ref(time_ms=10_000), 10) == got
    assert history.after(scope, Ref(time_ms=0), 10) == got
    assert history.around(scope, Ref(msgid=M2), 10) == got
    assert history.between(scope, Ref(time_ms=0), Ref(time_ms=10_000), 10) == got
    private = history.latest(Scope.of_private(("u:u2",), "a"), None, 10)
    assert [f.event.msgid for f in private] == (["m3"] if kept else [])
    assert len(history.targets(("u:u1",), ("#x",), 0, 10_000, 10)) == (2 if kept else 0)
    assert (history.author(scope, M2) is not None) is kept
    history.index()
    assert len(history.search(SearchQuery(owners=(), channels=("#x",), text="hi"))) == kept
    assert history.prune(10_000, 100) == (3 if kept else 0)


def test_the_null_history_store_answers_every_query_with_nothing() -> None:
    store = NullHistoryStore()
    store.record(Entry(said("m", "hi"), None, ("#x",)))
    store.commit()
    assert store.latest(Scope.of_channel("#x"), None, 10) == []


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


def test_only_the_database_stores_block_on_the_network(
    history: HistoryStore, accounts: AccountStore
) -> None:
    # PostgreSQL's round trips never run on the loop: the server asks.
    postgres = isinstance(history, PostgresHistoryStore)
    assert history.upkeep_blocks is postgres
    assert accounts.writes_block is isinstance(accounts, PostgresAccountStore)


def test_the_null_account_store_keeps_no_account() -> None:
    store = NullAccountStore()
    assert store.create(Account("alice", "$argon2id$...", "SCRAM-SHA-256$..."), now=1.0) is False
    assert store.get("alice") is None
    assert store.add_certfp("alice", "ab" * 32) is False


def test_the_null_channel_store_keeps_no_channel() -> None:
    store = NullChannelStore()
    store.save(RegisteredChannel("#tea", "alice", 1.0))
    assert store.channels() == []
