"""The SQLite history store's own behaviour: redacted text gone from the
file, the search index (FTS5) kept in batches and rebuilt, a failed commit
kept for the next turn, ids after a reopen. What every history store does
(queries, privacy, search) is in test_history_contract.py, run here too."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from historykit import Clock, chan, dm, keep, keep_dm, said, texts
from hubbub import events as ev
from hubbub.store.base import (
    Entry,
    Scope,
    SearchQuery,
    identity_key,
)
from hubbub.store.rows import time_ms
from hubbub.store.sqlite.history import SQLiteHistoryStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteHistoryStore]:
    s = SQLiteHistoryStore.open(tmp_path / "h.sqlite3")
    yield s
    s.close()


# --- redaction, renames, pruning -------------------------------------------------------


def test_a_redacted_message_is_gone_from_the_file(store: SQLiteHistoryStore) -> None:
    # What every store does with a redaction (history, references, search) is
    # in test_history_contract.py; here, what only SQLite's file can show.
    clock = Clock()
    secret = said(clock, "#tea", "my password is hunter2")
    keep(store, said(clock, "#tea", "before"), secret, said(clock, "#tea", "after"))
    store.index()
    keep(store, ev.MessageRedacted("r", clock(), "u-alice", "alice!~a@host", "#tea", "#tea", "",
                                   secret.msgid, "oops"))  # fmt: skip
    row = store.db.writer.execute(
        "SELECT kind, text, fields FROM history WHERE msgid = ?", (secret.msgid,)
    ).fetchone()
    assert row == ("REDACTED", None, None)
    # Its words leave the search index too, in small steps.
    steps = 0
    while store.compact():
        steps += 1
        assert steps < 1000
    store.close()
    assert b"hunter2" not in store.db.path.read_bytes()


def test_pruning_deletes_the_oldest_everywhere(store: SQLiteHistoryStore) -> None:
    clock = Clock()
    old = [said(clock, "#tea", f"old {i}") for i in range(5)]
    keep(store, *old)
    keep_dm(store, dm(clock, "alice", "bob", "old private"))
    cutoff = time_ms(clock())
    keep(store, said(clock, "#tea", "new"))
    assert store.prune(cutoff, 4) == 4
    assert store.prune(cutoff, 4) == 2
    assert store.prune(cutoff, 4) == 0
    assert texts(store.latest(chan(), None, 10)) == ["new"]
    me = (identity_key("u-alice", None),)
    assert store.latest(Scope.of_private(me, "*"), None, 10) == []
    w = store.db.writer
    assert w.execute("SELECT count(*) FROM private").fetchone() == (0,)
    store.index()
    assert store.search(SearchQuery(owners=me, channels=("#tea",), text="old")) == []
    assert w.execute("INSERT INTO history_fts(history_fts) VALUES ('integrity-check')")


def test_a_failed_commit_keeps_the_entries_for_the_next_turn(
    store: SQLiteHistoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    real = store._write
    calls = 0

    def failing(pending: list[Entry]) -> int:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise sqlite3.OperationalError("database or disk is full")
        return real(pending)

    monkeypatch.setattr(store, "_write", failing)
    keep(store, said(clock, "#tea", "first"))
    assert store.latest(chan(), None, 10) == []
    # The metrics see the failure; the readiness check tries the waiting
    # entry again (the second failure) and reports it.
    assert (store.stats.failures, store.stats.waiting, store.stats.commits) == (1, 1, 0)
    assert "the disk is full" in (store.health() or "")
    assert store.stats.failures == 2
    keep(store, said(clock, "#tea", "second"))
    assert texts(store.latest(chan(), None, 10)) == ["first", "second"]
    # The recovery: two rows in one commit, nothing waits, ready again.
    assert (store.stats.commits, store.stats.rows, store.stats.waiting) == (1, 2, 0)
    assert store.stats.latency.count == 1
    assert store.health() is None


def test_history_survives_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store = SQLiteHistoryStore.open(path)
    clock = Clock()
    keep(store, said(clock, "#tea", "one"), said(clock, "#b", "elsewhere"))
    store.close()
    store = SQLiteHistoryStore.open(path)
    keep(store, said(clock, "#tea", "two"))
    assert texts(store.latest(chan(), None, 10)) == ["one", "two"]
    ids = [r[0] for r in store.db.writer.execute("SELECT id FROM history ORDER BY id")]
    assert ids == [1, 2, 3]
    store.close()


def test_the_index_follows_in_batches_and_catches_up_after_a_kill(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store = SQLiteHistoryStore.open(path)
    clock = Clock()
    keep(store, said(clock, "#tea", "indexed in a batch"))
    query = SearchQuery(owners=(), channels=("#tea",), text="batch")
    assert store.search(query) == []  # not yet: the index lags the rows
    store.index()
    assert texts(store.search(query)) == ["indexed in a batch"]
    lots = [said(clock, "#tea", f"message number {i}") for i in range(300)]
    keep(store, *lots)  # past INDEX_BATCH: this commit indexes them
    assert len(store.search(SearchQuery(owners=(), channels=("#tea",), text="number",
                                        limit=500))) == 300  # fmt: skip
    secret = said(clock, "#tea", "unindexed secret")
    keep(store, secret)
    keep(store, ev.MessageRedacted("r", clock(), "u-alice", "a!b@c", "#tea", "#tea", "",
                                   secret.msgid, ""))  # fmt: skip
    keep(store, said(clock, "#tea", "said just before the kill"))
    store.db.writer.close()  # as a kill -9 would leave it: nothing more is written
    store.db._lock_file.close()
    store = SQLiteHistoryStore.open(path)  # catches up at start
    assert texts(store.search(SearchQuery(owners=(), channels=("#tea",), text="kill"))) == [
        "said just before the kill"]  # fmt: skip
    assert store.search(SearchQuery(owners=(), channels=("#tea",), text="secret")) == []
    store.db.writer.execute("INSERT INTO history_fts(history_fts) VALUES ('integrity-check')")
    store.close()


def test_search_off_keeps_no_index_and_turning_it_on_rebuilds_it(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store = SQLiteHistoryStore.open(path, search=False)
    clock = Clock()
    keep(store, said(clock, "#tea", "indexed later"))
    assert store.search(SearchQuery(owners=(), channels=("#tea",), text="indexed")) == []
    store.close()
    store = SQLiteHistoryStore.open(path, search=True)
    got = store.search(SearchQuery(owners=(), channels=("#tea",), text="indexed"))
    assert texts(got) == ["indexed later"]
    store.close()
