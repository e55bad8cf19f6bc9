"""PostgreSQL's own behaviour: migrations (from empty, from every earlier
schema, a newer one refused), clear errors that never show the password,
the idempotent bulk append an archiver uses, and the writer thread through
an outage (PostgreSQL stopped and started again under it)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from historykit import Clock, chan, dm, keep, said, settle, texts
from hubbub import events as ev
from hubbub.store.base import Entry, Party, Scope, identity_key
from hubbub.store.errors import DatabaseError
from hubbub.store.postgres.database import MIGRATIONS, SCHEMA_VERSION, PgDatabase, schema_version
from hubbub.store.postgres.history import PostgresHistoryStore
from hubbub.store.postgres.rowsql import COPY_FROM
from hubbub.store.postgres.writer import CallJob, Conn

from pgtest import PgServer


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {name for (name,) in rows}


def version(url: str) -> int:
    with psycopg.connect(url) as conn:
        return schema_version(conn)


# --- the schema ---------------------------------------------------------------------


def test_a_new_database_gets_every_migration(pg_url: str) -> None:
    PgDatabase.open(pg_url).close()
    assert version(pg_url) == SCHEMA_VERSION == len(MIGRATIONS)
    assert {"schema_version", "meta", "channels", "history", "private", "accounts", "certfps",
            "registered_channels"} <= tables(pg_url)  # fmt: skip
    assert [m.name for m in MIGRATIONS] == [
        "0001_history.sql", "0002_accounts.sql", "0003_channels.sql"]  # fmt: skip
    PgDatabase.open(pg_url).close()  # opening again changes nothing
    assert version(pg_url) == SCHEMA_VERSION


@pytest.mark.parametrize("start", range(1, SCHEMA_VERSION))
def test_every_earlier_schema_migrates_to_the_newest_keeping_its_rows(
    pg_url: str, start: int
) -> None:
    PgDatabase.open(pg_url, migrations=MIGRATIONS[:start]).close()
    assert version(pg_url) == start
    old = PostgresHistoryStore(PgDatabase(pg_url))
    keep(old, said(Clock(), "#tea", "said before the upgrade"))
    old.close()
    db = PgDatabase.open(pg_url)
    try:
        assert version(pg_url) == SCHEMA_VERSION
        store = PostgresHistoryStore(db)
        assert texts(store.latest(chan(), None, 10)) == ["said before the upgrade"]
        store.close()
    finally:
        db.close()


def test_a_database_newer_than_the_code_is_refused_naming_it_without_the_password(
    pg_server: PgServer,
) -> None:
    url = pg_server.new_database()
    PgDatabase.open(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    with_password = url.replace("postgresql://hubbub@", "postgresql://hubbub:hunter2@")
    with pytest.raises(DatabaseError) as exc:
        PgDatabase.open(with_password)
    message = str(exc.value)
    assert "schema version is 99, newer than this hubbub knows" in message
    assert "postgresql://hubbub:***@/" in message and "hunter2" not in message
    assert version(url) == 99  # never downgraded


def test_another_programs_database_is_refused(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE history (id int, what text)")
    with pytest.raises(DatabaseError, match=r"not hubbub's database.*history"):
        PgDatabase.open(pg_url)


def test_servers_starting_together_migrate_once(pg_url: str) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            PgDatabase.open(pg_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and version(pg_url) == SCHEMA_VERSION


def test_connection_errors_say_why_and_never_show_the_password(pg_server: PgServer) -> None:
    missing = pg_server.url("no_such_db", password="s3cret pass")
    with pytest.raises(DatabaseError) as exc:
        PgDatabase.open(missing)
    assert "does not exist" in str(exc.value) and "createdb" in str(exc.value)
    assert "s3cret" not in str(exc.value) and ":***@" in str(exc.value)
    nowhere = missing.replace(str(pg_server.sock), "/nonexistent")
    with pytest.raises(DatabaseError) as exc:
        PgDatabase.open(nowhere)
    assert "cannot reach PostgreSQL" in str(exc.value) and "s3cret" not in str(exc.value)


# --- the archiver's bulk append -------------------------------------------------------


@pytest.fixture
def store(pg_url: str) -> Iterator[PostgresHistoryStore]:
    s = PostgresHistoryStore.open(pg_url)
    yield s
    s.close()


def test_append_batch_is_idempotent_by_msgid_and_keeps_its_mark_with_the_rows(
    store: PostgresHistoryStore,
) -> None:
    clock = Clock()
    lines = [said(clock, "#tea", f"archived {i}") for i in range(5)]
    private = dm(clock, "alice", "bob", "private, archived")
    batch = [Entry(e, None, ("#tea",)) for e in lines] + [
        Entry(private, None, (), (Party(identity_key("u-alice", None), "alice"),
                                  Party(identity_key("u-bob", None), "bob")))]  # fmt: skip
    assert store.archived("archived_up_to") is None
    assert store.append_batch(batch, mark=("archived_up_to", "1-5")) == 6
    # Replayed (a crash before the position was noted elsewhere): nothing new.
    assert store.append_batch(batch, mark=("archived_up_to", "1-5")) == 0
    assert store.append_batch([*batch[3:], Entry(said(clock, "#tea", "new"), None, ("#tea",))],
                              mark=("archived_up_to", "1-7")) == 1  # fmt: skip
    assert texts(store.latest(chan(), None, 100)) == [e.text for e in lines] + ["new"]
    bob = Scope.of_private((identity_key("u-bob", None),), "alice")
    assert texts(store.latest(bob, None, 10)) == ["private, archived"]
    assert store.archived("archived_up_to") == "1-7"


def test_a_replayed_rename_or_redaction_changes_nothing(store: PostgresHistoryStore) -> None:
    clock = Clock()
    first = said(clock, "#old", "before the rename")
    rename = ev.ChannelRenamed("rn", clock(), "u-op", "op!o@h", "#old", "#new", "")
    redact = ev.MessageRedacted("rd", clock(), "u-alice", "alice!~a@host", "#new", "#new", "",
                                first.msgid, "")  # fmt: skip
    batch = [Entry(first, None, ("#old",)), Entry(rename, None, ("#old",)),
             Entry(said(clock, "#new", "after"), None, ("#new",)), Entry(redact, None, ("#new",))]
    store.append_batch(batch)
    store.append_batch(batch)
    assert texts(store.latest(chan("#new"), None, 10)) == ["after"]
    assert store.latest(chan("#old"), None, 10) == []


# --- the writer through an outage ------------------------------------------------------


@pytest.fixture
def own_server() -> Iterator[PgServer]:
    """A PostgreSQL of this test's own, to stop and start."""
    server = PgServer()
    server.start()
    yield server
    server.remove()


def test_history_waits_through_an_outage_and_is_written_when_postgresql_is_back(
    own_server: PgServer,
) -> None:
    store = PostgresHistoryStore.open(own_server.new_database())
    clock = Clock()
    try:
        keep(store, said(clock, "#tea", "before the outage"))
        own_server.stop()
        during = [said(clock, "#tea", f"during the outage {i}") for i in range(50)]
        for e in during:
            store.record(Entry(e, None, ("#tea",)))
            store.commit()  # never blocks, PostgreSQL or not
        assert not store.wait_written(1.0)
        assert store.writer.waiting == 50 and store.writer.down_since is not None
        with pytest.raises(DatabaseError, match=r"cannot reach PostgreSQL|connection"):
            store.latest(chan(), None, 100)
        own_server.start()
        settle(store)
        assert texts(store.latest(chan(), None, 100)) == (
            ["before the outage"] + [e.text for e in during])
        assert store.writer.down_since is None and store.writer.dropped == 0
    finally:
        store.close()


def test_a_write_postgresql_refuses_is_dropped_alone(store: PostgresHistoryStore) -> None:
    clock = Clock()

    def refused(conn: Conn) -> None:
        conn.execute("INSERT INTO no_such_table VALUES (1)")

    store.record(Entry(said(clock, "#tea", "one"), None, ("#tea",)))
    store.commit()
    store.writer.submit(CallJob(refused))
    keep(store, said(clock, "#tea", "two"))
    assert texts(store.latest(chan(), None, 10)) == ["one", "two"]
    assert store.writer.waiting == 0


def test_turns_queued_behind_a_slow_write_go_in_one_transaction_in_order(
    store: PostgresHistoryStore,
) -> None:
    clock = Clock()
    started = threading.Event()

    def slow(conn: Conn) -> None:
        started.set()
        time.sleep(0.3)

    store.writer.submit(CallJob(slow))
    assert started.wait(5)
    commits = store.writer.commits
    lines = [said(clock, "#tea", f"turn {i}") for i in range(6)]
    for i, line in enumerate(lines):
        store.record(Entry(line, None, ("#tea",)))
        store.commit()
        if i == 2:  # something else between two turns (a channel's state)
            store.writer.submit(CallJob(lambda conn: None))
    settle(store)
    assert store.writer.commits - commits == 2  # the slow one, then all the rest at once
    assert texts(store.latest(chan(), None, 10)) == [e.text for e in lines]


def test_an_entry_postgresql_refuses_costs_only_itself_not_its_turn(
    store: PostgresHistoryStore,
) -> None:
    # The IRC parser never lets a NUL through; PostgreSQL's text refuses it:
    # the stand-in for any row it would refuse.
    clock = Clock()
    turn = [said(clock, "#tea", "good 1"), said(clock, "#tea", "bad \x00 row"),
            said(clock, "#tea", "good 2")]  # fmt: skip
    keep(store, *turn)
    keep(store, said(clock, "#tea", "next turn"))
    assert texts(store.latest(chan(), None, 10)) == ["good 1", "good 2", "next turn"]


def test_a_node_that_records_nothing_still_reads(pg_url: str) -> None:
    writer = PostgresHistoryStore.open(pg_url)
    # As a cluster node that is not the archiver: it reads what the archiver wrote.
    reader = PostgresHistoryStore.open(pg_url, record_live=False)
    clock = Clock()
    try:
        keep(reader, said(clock, "#tea", "recorded by the reader: not kept"))
        keep(writer, said(clock, "#tea", "archived by the archiver"))
        assert texts(reader.latest(chan(), None, 10)) == ["archived by the archiver"]
    finally:
        reader.close()
        writer.close()


@pytest.mark.parametrize("per_turn", [5, COPY_FROM * 3])
def test_short_turns_and_long_copied_ones_keep_order_and_privacy(
    store: PostgresHistoryStore, per_turn: int
) -> None:
    clock = Clock()
    events = []
    for i in range(per_turn):
        if i % 7 == 3:
            e = dm(clock, "alice", "bob", f"private {i}")
            events.append(Entry(e, None, (), (Party(identity_key("u-alice", None), "alice"),
                                               Party(identity_key("u-bob", None), "bob"))))
        else:
            events.append(Entry(said(clock, f"#c{i % 2}", f"line {i}"), None, (f"#c{i % 2}",)))
    for entry in events:
        store.record(entry)
    store.commit()
    settle(store)
    for name in ("#c0", "#c1"):
        assert texts(store.latest(chan(name), None, 1000)) == [
            e.event.text for e in events if e.channels == (name,)]  # type: ignore[union-attr]
    bob = Scope.of_private((identity_key("u-bob", None),), "alice")
    assert texts(store.latest(bob, None, 1000)) == [
        e.event.text for e in events if e.parties]  # type: ignore[union-attr]
    mallory = Scope.of_private((identity_key("u-mallory", None),), "*")
    assert store.latest(mallory, None, 1000) == []
