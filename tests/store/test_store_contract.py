"""What every store must do, run against each implementation.

The null stores are the ones a server uses when it keeps nothing; the
SQLite history store keeps everything. Both take the same calls in the same
order (record, commit, queries, prune, close) without failing; what they
answer differs only in whether anything was kept.
The embedded database's account and channel stores must answer unknown names
as the null ones do, and keep what they are given (tests below the contract).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

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
from hubbub.store.sqlite.accounts import SQLiteAccountStore, SQLiteChannelStore
from hubbub.store.sqlite.database import Database
from hubbub.store.sqlite.history import SQLiteHistoryStore

HISTORY_STORES: dict[str, Callable[[Path], HistoryStore]] = {
    "null": lambda _: NullHistoryStore(),
    "sqlite": lambda tmp: SQLiteHistoryStore.open(tmp / "h.sqlite3"),
}


@pytest.fixture(params=sorted(HISTORY_STORES))
def history(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HistoryStore]:
    store = HISTORY_STORES[request.param](tmp_path)
    yield store
    store.close()


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


M2 = ev.make_msgid(2.0, "test", 2)


def said(msgid: str, text: str) -> ev.MessageSent:
    return ev.MessageSent(msgid, 2.0, "u1", "a!b@c", "PRIVMSG", "#x", "#x", "", "", text, {})


def test_a_history_store_takes_entries_answers_queries_and_closes(history: HistoryStore) -> None:
    history.record(Entry(ev.UserQuit("m1", 1.0, "u1", "a!b@c", "bye"), None, ("#x",)))
    history.record(Entry(said(M2, "hi"), None, ("#x",)))
    pm = ev.MessageSent("m3", 3.0, "u1", "a!b@c", "PRIVMSG", "bob", "", "u2", "", "psst", {})
    history.record(Entry(pm, None, (), (Party("u:u1", "a"), Party("u:u2", "bob"))))
    history.commit()
    kept = isinstance(history, SQLiteHistoryStore)
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


def test_the_null_account_store_keeps_no_account() -> None:
    store = NullAccountStore()
    assert store.create(Account("alice", "$argon2id$...", "SCRAM-SHA-256$..."), now=1.0) is False
    assert store.get("alice") is None
    assert store.add_certfp("alice", "ab" * 32) is False


def test_the_null_channel_store_keeps_no_channel() -> None:
    store = NullChannelStore()
    store.save(RegisteredChannel("#tea", "alice", 1.0))
    assert store.channels() == []
