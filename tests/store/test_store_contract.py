"""What every store must do, run against each implementation.

The null stores are the ones a server uses when it keeps nothing; stores
that keep things add themselves to the lists below and must pass the same
tests.
"""

from __future__ import annotations

import pytest

from hubbub import events as ev
from hubbub.store.base import Account, AccountStore, HistoryQuery, HistoryStore
from hubbub.store.null import NullAccountStore, NullHistoryStore

HISTORY_STORES = [NullHistoryStore]
ACCOUNT_STORES = [NullAccountStore]


@pytest.fixture(params=HISTORY_STORES)
def history(request: pytest.FixtureRequest) -> HistoryStore:
    store: HistoryStore = request.param()
    return store


@pytest.fixture(params=ACCOUNT_STORES)
def accounts(request: pytest.FixtureRequest) -> AccountStore:
    store: AccountStore = request.param()
    return store


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


def test_the_null_account_store_keeps_no_account() -> None:
    store = NullAccountStore()
    assert store.create(Account("alice", "$argon2id$...")) is False
    assert store.get("alice") is None
    store.close()
