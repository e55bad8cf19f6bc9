"""What every history store must do, whichever its database: what is kept,
every named query, privacy, redaction, renames, pruning and search, run
against SQLite and PostgreSQL alike (the contract of
:class:`~hubbub.store.base.HistoryStore`; the null store is in
test_store_contract.py). SQLite-only behaviour is in test_sqlite_history.py,
PostgreSQL-only behaviour in test_postgres_history.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from historykit import (
    T0,
    Clock,
    chan,
    dm,
    keep,
    keep_dm,
    keep_dm_account,
    ms,
    said,
    texts,
)
from hubbub import events as ev
from hubbub.store.base import (
    PLAYBACK_KINDS,
    HistoryStore,
    Ref,
    Scope,
    SearchQuery,
    Target,
    identity_key,
)
from hubbub.store.postgres.history import PostgresHistoryStore
from hubbub.store.rows import from_ms, time_ms
from hubbub.store.sqlite.history import SQLiteHistoryStore


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HistoryStore]:
    s: HistoryStore
    if request.param == "sqlite":
        s = SQLiteHistoryStore.open(tmp_path / "h.sqlite3")
    else:
        s = PostgresHistoryStore.open(request.getfixturevalue("pg_url"))
    yield s
    s.close()


# --- what is kept -------------------------------------------------------------


def test_every_kind_of_event_round_trips(store: HistoryStore) -> None:
    clock = Clock()
    events: list[ev.Event] = [
        ev.Joined("j1", clock(), "u-bob", "bob!~b@h", "#Tea", "bobacct", "Bob B"),
        said(clock, "#Tea", "hello", tags={"+draft/reply": "x", "account": "bobacct"}),
        said(clock, "#Tea", "a notice", command="NOTICE"),
        said(clock, "#Tea", "", command="TAGMSG", tags={"+draft/react": "👍"}),
        ev.TopicChanged("t1", clock(), "u-bob", "bob!~b@h", "#Tea", "new topic"),
        ev.ChannelModeChanged("mo", clock(), "u-bob", "bob!~b@h", "#Tea",
                              ((True, "o", "alice"), (False, "n", None))),
        ev.Kicked("k1", clock(), "u-bob", "bob!~b@h", "#Tea", "u-carol", "carol", "bye"),
        ev.NickChanged("n1", clock(), "u-bob", "bob!~b@h", "robert"),
        ev.Parted("p1", clock(), "u-alice", "alice!~a@host", "#Tea", ""),
        ev.UserQuit("q1", clock(), "u-bob", "robert!~b@h", "gone"),
    ]  # fmt: skip
    keep(store, *events, channels=("#tea",))
    got = store.latest(chan(kinds=PLAYBACK_KINDS), None, 100)
    assert [f.event for f in got] == [
        e._replace(time=from_ms(time_ms(e.time))) for e in events
    ]
    assert {f.channel for f in got} == {"#tea"}
    # Without event playback, only PRIVMSG and NOTICE.
    assert texts(store.latest(chan(), None, 100)) == ["hello", "a notice"]


def test_times_come_back_as_the_same_server_time(store: HistoryStore) -> None:
    from hubbub.server.ids import server_time

    e = said(Clock(), "#tea", "x")._replace(time=1_700_000_000.999)
    keep(store, e)
    (found,) = store.latest(chan(), None, 1)
    assert server_time(found.event.time) == server_time(e.time) == "2023-11-14T22:13:20.999Z"


def test_a_quit_is_kept_in_every_channel_of_the_user(store: HistoryStore) -> None:
    quit_ = ev.UserQuit("q", T0, "u-bob", "bob!~b@h", "bye")
    keep(store, quit_, channels=("#a", "#b"))
    for name in ("#a", "#b"):
        assert [f.event for f in store.latest(chan(name, PLAYBACK_KINDS), None, 10)] == [
            quit_._replace(time=from_ms(time_ms(T0)))
        ]
    assert store.latest(chan("#c", PLAYBACK_KINDS), None, 10) == []


def test_status_messages_are_read_only_by_that_rank(store: HistoryStore) -> None:
    clock = Clock()
    keep(store, said(clock, "#tea", "everyone"), said(clock, "#tea", "ops only", status="@"),
         said(clock, "#tea", "voiced+", status="+"))  # fmt: skip
    assert texts(store.latest(chan(), None, 10)) == ["everyone"]
    voiced = Scope.of_channel("#tea", statuses=("+",))
    assert texts(store.latest(voiced, None, 10)) == ["everyone", "voiced+"]
    op = Scope.of_channel("#tea", statuses=("@", "+"))
    assert texts(store.latest(op, None, 10)) == ["everyone", "ops only", "voiced+"]


# --- paging ---------------------------------------------------------------------


@pytest.fixture
def ten(store: HistoryStore) -> list[ev.MessageSent]:
    """Ten messages in #tea, interleaved with others in #other."""
    clock = Clock()
    mine = []
    for i in range(10):
        mine.append(said(clock, "#tea", f"m{i}"))
        keep(store, mine[-1], said(clock, "#other", f"other {i}"))
    return mine


def test_latest(store: HistoryStore, ten: list[ev.MessageSent]) -> None:
    all_ = [e.text for e in ten]
    assert texts(store.latest(chan(), None, 100)) == all_
    assert texts(store.latest(chan(), None, 3)) == all_[-3:]
    assert texts(store.latest(chan(), Ref(msgid=ten[4].msgid), 100)) == all_[5:]
    assert texts(store.latest(chan(), Ref(time_ms=ms(ten[4])), 100)) == all_[5:]
    assert texts(store.latest(chan(), Ref(msgid=ten[4].msgid), 2)) == all_[-2:]
    assert store.latest(chan(), Ref(msgid="nope"), 10) == []
    assert store.latest(chan(), Ref(msgid=ev.make_msgid(T0 + 99, "test", 1)), 10) == []
    assert store.latest(chan("#nowhere"), None, 10) == []


def test_before_and_after(store: HistoryStore, ten: list[ev.MessageSent]) -> None:
    all_ = [e.text for e in ten]
    assert texts(store.before(chan(), Ref(msgid=ten[6].msgid), 100)) == all_[:6]
    assert texts(store.before(chan(), Ref(time_ms=ms(ten[6])), 2)) == all_[4:6]
    assert texts(store.after(chan(), Ref(msgid=ten[3].msgid), 100)) == all_[4:]
    assert texts(store.after(chan(), Ref(time_ms=ms(ten[3])), 3)) == all_[4:7]
    assert texts(store.before(chan(), Ref(time_ms=ms(ten[-1]) + 10_000), 100)) == all_
    assert texts(store.after(chan(), Ref(time_ms=0), 100)) == all_


def test_between_counts_from_the_first_reference(
    store: HistoryStore, ten: list[ev.MessageSent]
) -> None:
    all_ = [e.text for e in ten]
    first, last = ten[0], ten[-1]
    for a, b in [(Ref(msgid=first.msgid), Ref(msgid=last.msgid)),
                 (Ref(time_ms=ms(first)), Ref(time_ms=ms(last))),
                 (Ref(msgid=first.msgid), Ref(time_ms=ms(last)))]:  # fmt: skip
        assert texts(store.between(chan(), a, b, 100)) == all_[1:-1]
        assert texts(store.between(chan(), b, a, 100)) == all_[1:-1]
        assert texts(store.between(chan(), a, b, 3)) == all_[1:4]
        assert texts(store.between(chan(), b, a, 3)) == all_[-4:-1]


def test_around(store: HistoryStore, ten: list[ev.MessageSent]) -> None:
    all_ = [e.text for e in ten]
    assert texts(store.around(chan(), Ref(msgid=ten[7].msgid), 1)) == [all_[7]]
    assert texts(store.around(chan(), Ref(msgid=ten[7].msgid), 3)) == all_[6:9]
    # Nothing before the first: all four come from it on.
    assert texts(store.around(chan(), Ref(msgid=ten[0].msgid), 4)) == all_[0:4]
    got = texts(store.around(chan(), Ref(time_ms=ms(ten[7])), 3))
    assert all_[7] in got and len(got) == 3


def test_a_msgid_is_found_among_many_rows_of_its_millisecond(store: HistoryStore) -> None:
    # Forty messages in one millisecond, in three channels: each one's msgid
    # still finds exactly it (the msgid gives the millisecond, then the id range).
    same = T0 + 5
    events = [ev.MessageSent(ev.make_msgid(same, "burst", i), same, "u-a", "a!b@c", "PRIVMSG",
                             f"#c{i % 3}", f"#c{i % 3}", "", "", f"n{i}", {})
              for i in range(40)]  # fmt: skip
    keep(store, said(Clock(), "#c1", "before"), *events)
    for e in events[::7]:
        scope = chan(e.channel)
        assert texts(store.around(scope, Ref(msgid=e.msgid), 1)) == [e.text]
        found = store.author(scope, e.msgid)
        assert found is not None and found.uid == "u-a"
        assert store.author(chan("#c9"), e.msgid) is None


def test_paging_backwards_gives_every_message_exactly_once(store: HistoryStore) -> None:
    clock = Clock()
    events = [said(clock, "#tea", f"line {i}") for i in range(237)]
    for start in range(0, len(events), 50):
        keep(store, *events[start : start + 50])
    seen: list[str] = []
    page = store.latest(chan(), None, 40)
    while page:
        seen[:0] = texts(page)
        page = store.before(chan(), Ref(msgid=page[0].event.msgid), 40)
    assert seen == [e.text for e in events]


# --- private conversations ---------------------------------------------------------


def test_only_the_two_parties_read_a_private_conversation(store: HistoryStore) -> None:
    clock = Clock()
    keep_dm(store, dm(clock, "alice", "bob", "hi bob"), dm(clock, "bob", "alice", "hi alice"),
            dm(clock, "alice", "carol", "psst carol"))  # fmt: skip
    alice = ("u-alice",)
    as_key = tuple(identity_key(u, None) for u in alice)
    assert texts(store.latest(Scope.of_private(as_key, "bob"), None, 10)) == ["hi bob", "hi alice"]
    bob = (identity_key("u-bob", None),)
    assert texts(store.latest(Scope.of_private(bob, "alice"), None, 10)) == ["hi bob", "hi alice"]
    assert texts(store.latest(Scope.of_private(as_key, "*"), None, 10)) == [
        "hi bob", "hi alice", "psst carol"]  # fmt: skip
    # A third party sees none of it, whatever peer it names.
    mallory = (identity_key("u-mallory", None),)
    for peer in ("alice", "bob", "carol", "*"):
        assert store.latest(Scope.of_private(mallory, peer), None, 10) == []
    # A later session with bob's nick is not bob (another uid).
    later_bob = (identity_key("u-bob-again", None),)
    assert store.latest(Scope.of_private(later_bob, "alice"), None, 10) == []
    # An account is a party across sessions.
    keep_dm_account(store, clock)
    acct = (identity_key("u-any-session", "Dana"),)
    assert texts(store.latest(Scope.of_private(acct, "erin"), None, 10)) == ["to erin"]


def test_a_message_to_oneself_is_kept_once(store: HistoryStore) -> None:
    keep_dm(store, dm(Clock(), "alice", "alice", "note to self"))
    me = (identity_key("u-alice", None),)
    assert texts(store.latest(Scope.of_private(me, "alice"), None, 10)) == ["note to self"]
    assert texts(store.latest(Scope.of_private(me, "*"), None, 10)) == ["note to self"]


def test_targets_lists_conversations_by_their_latest_message(store: HistoryStore) -> None:
    clock = Clock()
    a = said(clock, "#a", "in a")
    keep(store, a)
    d1 = dm(clock, "me", "bob", "to bob")
    keep_dm(store, d1)
    b = said(clock, "#b", "in b")
    keep(store, b, said(clock, "#secret", "not mine"))
    d2 = dm(clock, "carol", "me", "from carol")
    keep_dm(store, d2)
    me = (identity_key("u-me", None),)
    every = store.targets(me, ("#a", "#b"), 0, 2**62, 100)
    assert every == [Target("#a", ms(a), True), Target("bob", ms(d1), False),
                     Target("#b", ms(b), True), Target("carol", ms(d2), False)]  # fmt: skip
    assert [t.name for t in store.targets(me, ("#a", "#b"), 0, 2**62, 2)] == ["#a", "bob"]
    assert [t.name for t in store.targets(me, ("#a", "#b"), ms(a), ms(d2), 100)] == ["bob", "#b"]


def test_author_finds_the_sender_within_the_scope_only(store: HistoryStore) -> None:
    clock = Clock()
    m = said(clock, "#tea", "mine")
    t = clock()
    keep(store, m, ev.Joined(ev.make_msgid(t, "test", 0), t, "u-x", "x!y@z", "#tea", None, "X"))
    found = store.author(chan(), m.msgid)
    assert found is not None and (found.uid, found.kind) == ("u-alice", "PRIVMSG")
    assert store.author(chan("#other"), m.msgid) is None
    joined = store.latest(chan(kinds=PLAYBACK_KINDS), None, 10)[-1].event.msgid
    assert store.author(chan(), joined) is None  # not a message
    assert store.author(chan(), "unknown") is None


def test_a_renamed_channel_keeps_its_history(store: HistoryStore) -> None:
    clock = Clock()
    keep(store, said(clock, "#old", "before the rename"), said(clock, "#new", "a stale #new"))
    keep(store, ev.ChannelRenamed("rn", clock(), "u-op", "op!o@h", "#old", "#New", ""),
         channels=("#old",))
    keep(store, said(clock, "#New", "after the rename"), channels=("#new",))
    got = store.latest(chan("#new"), None, 10)
    assert texts(got) == ["before the rename", "after the rename"]
    assert {f.channel for f in got} == {"#new"}
    assert store.latest(chan("#old"), None, 10) == []


# --- search -------------------------------------------------------------------------


@pytest.fixture
def corpus(store: HistoryStore) -> Clock:
    clock = Clock()
    keep(store,
         said(clock, "#tea", "That was fast!", "bill"),
         said(clock, "#tea", "Fasting is hard.", "jackie"),
         said(clock, "#tea", "slow and steady", "jackie"),
         said(clock, "#secret", "fast secret plans", "eve"))  # fmt: skip
    keep_dm(store, dm(clock, "alice", "bob", "fast private hello"),
            dm(clock, "carol", "dave", "fast but not yours"))  # fmt: skip
    return clock


def find(store: HistoryStore, **kw: object) -> list[str]:
    base: dict[str, object] = {"owners": (identity_key("u-alice", None),),
                               "channels": ("#tea",)}  # fmt: skip
    store.index()  # what SEARCH does first
    return texts(store.search(SearchQuery(**{**base, **kw})))  # type: ignore[arg-type]


def test_search_finds_words_and_prefixes_within_what_the_asker_may_read(
    store: HistoryStore, corpus: Clock
) -> None:
    assert find(store, text="fast") == ["That was fast!", "Fasting is hard.",
                                        "fast private hello"]  # fmt: skip
    assert find(store, text="fast", in_channel="#tea") == ["That was fast!", "Fasting is hard."]
    assert find(store, text="fast", in_channel="#secret") == []
    assert find(store, text="fast", in_peer="bob") == ["fast private hello"]
    assert find(store, text="fast", from_nick="JACKIE") == ["Fasting is hard."]
    assert find(store, from_nick="jackie") == ["Fasting is hard.", "slow and steady"]
    assert find(store, text="fast", limit=1) == ["fast private hello"]
    assert find(store, text='"AND NEAR( * ') == []  # FTS syntax is not the user's to write
    assert find(store, text="!!!") == []


def test_search_by_time(store: HistoryStore, corpus: Clock) -> None:
    rows = store.latest(chan(), None, 10)
    second = time_ms(rows[1].event.time)
    assert find(store, text="fast", after_ms=second) == ["Fasting is hard.", "fast private hello"]
    assert find(store, text="fast", before_ms=second) == ["That was fast!", "Fasting is hard."]
    assert find(store, after_ms=second, limit=1) == ["Fasting is hard."]



def test_a_redacted_message_is_gone_from_history_and_search_but_keeps_its_place(
    store: HistoryStore,
) -> None:
    clock = Clock()
    secret = said(clock, "#tea", "my password is hunter2")
    keep(store, said(clock, "#tea", "before"), secret, said(clock, "#tea", "after"))
    store.index()
    keep(store, ev.MessageRedacted("r", clock(), "u-alice", "alice!~a@host", "#tea", "#tea", "",
                                   secret.msgid, "oops"))  # fmt: skip
    assert texts(store.latest(chan(kinds=PLAYBACK_KINDS), None, 10)) == ["before", "after"]
    # References to it still work: its placeholder keeps its place.
    assert texts(store.before(chan(), Ref(msgid=secret.msgid), 10)) == ["before"]
    assert texts(store.after(chan(), Ref(msgid=secret.msgid), 10)) == ["after"]
    store.index()
    assert store.search(SearchQuery(owners=(), channels=("#tea",), text="hunter2")) == []
    assert store.author(chan(), secret.msgid) is None


def test_pruning_deletes_the_oldest_channel_and_private_events(store: HistoryStore) -> None:
    clock = Clock()
    keep(store, *(said(clock, "#tea", f"old {i}") for i in range(5)))
    keep_dm(store, dm(clock, "alice", "bob", "old private"))
    cutoff = time_ms(clock())
    keep(store, said(clock, "#tea", "new"))
    assert store.prune(cutoff, 4) == 4
    assert store.prune(cutoff, 4) == 2
    assert store.prune(cutoff, 4) == 0
    assert texts(store.latest(chan(), None, 10)) == ["new"]
    me = (identity_key("u-alice", None),)
    assert store.latest(Scope.of_private(me, "*"), None, 10) == []
    store.index()
    assert store.search(SearchQuery(owners=me, channels=("#tea",), text="old")) == []
    assert texts(store.search(SearchQuery(owners=me, channels=("#tea",), text="new"))) == ["new"]


def test_search_folds_case_and_accents_as_both_databases_do(store: HistoryStore) -> None:
    clock = Clock()
    keep(store, said(clock, "#tea", "Crème BRÛLÉE at the café"), said(clock, "#tea", "e-mail me"),
         said(clock, "#tea", "snake_case_name"))  # fmt: skip
    store.index()

    def find(text: str) -> list[str]:
        return texts(store.search(SearchQuery(owners=(), channels=("#tea",), text=text)))

    assert find("creme brulee") == ["Crème BRÛLÉE at the café"]
    assert find("CAF") == ["Crème BRÛLÉE at the café"]
    assert find("mail") == ["e-mail me"]
    assert find("case") == ["snake_case_name"]
    assert find("' & | ! :* (") == []
