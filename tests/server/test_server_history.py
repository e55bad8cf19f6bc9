"""CHATHISTORY against the in-memory server with a real SQLite store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubbub.protocol import Message
from hubbub.store.sqlite.history import SQLiteHistoryStore

from serverharness import FakeClient, Harness, commands, find, find_all

HISTORY_CAPS = ("batch", "server-time", "message-tags", "echo-message", "draft/chathistory")


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    store = SQLiteHistoryStore.open(tmp_path / "h.sqlite3")
    harness = Harness(history=store)
    yield harness
    harness.close()


def ask(h: Harness, client: FakeClient, *lines: str) -> list[Message]:
    """Send ``lines``, wait for the worker threads, return what came back."""
    client.messages()
    client.send(*lines)
    h.settle()
    return client.messages()


def batch_of(msgs: list[Message], kind: str = "chathistory") -> tuple[list[str], list[Message]]:
    """The opening BATCH's params after the type, and the lines inside."""
    start = msgs[0]
    assert start.command == "BATCH" and start.params[1] == kind, [m.to_line() for m in msgs]
    ref = start.params[0][1:]
    end = next(i for i, m in enumerate(msgs) if m.command == "BATCH" and m.params[0] == f"-{ref}")
    inner = msgs[1:end]
    assert all(m.tags.get("batch") == ref for m in inner)
    return list(start.params[2:]), inner


def texts(msgs: list[Message]) -> list[str]:
    return [m.params[-1] for m in msgs if m.command in ("PRIVMSG", "NOTICE")]


def talk(h: Harness, *clients: FakeClient, channel: str = "#tea", n: int = 5) -> list[Message]:
    """Everyone joins; the first says ``n`` lines; their echoes."""
    h.join(channel, *clients)
    echoes = []
    for i in range(n):
        clients[0].send(f"PRIVMSG {channel} :line {i}")
        echoes += find_all(clients[0].messages(), "PRIVMSG")
        time.sleep(0.002)  # server-time has milliseconds: keep them apart
    return echoes


def test_history_is_offered_with_its_isupport_tokens(h: Harness) -> None:
    c = h.connect()
    ls = c.ask("CAP LS 302")
    offered = " ".join(m.params[-1] for m in ls)
    for cap in ("draft/chathistory", "draft/event-playback", "draft/message-redaction",
                "draft/search", "soju.im/search"):  # fmt: skip
        assert cap in offered.split()
    burst = c.register("zed")
    tokens = [p for m in burst if m.command == "005" for p in m.params[1:-1]]
    assert "CHATHISTORY=100" in tokens and "MSGREFTYPES=msgid,timestamp" in tokens


def test_without_history_nothing_is_offered() -> None:
    h = Harness()
    c = h.connect()
    offered = " ".join(m.params[-1] for m in c.ask("CAP LS 302"))
    assert "draft/chathistory" not in offered and "draft/search" not in offered
    tokens = [p for m in c.register("zed") if m.command == "005" for p in m.params]
    assert not any(t.startswith("CHATHISTORY") for t in tokens)
    assert find(c.ask("CHATHISTORY LATEST #x * 10"), "FAIL").params[1] == "MESSAGE_ERROR"


def test_latest_gives_what_was_said_with_its_original_msgid_and_time(h: Harness) -> None:
    alice = h.connect("alice", HISTORY_CAPS)
    bob = h.connect("bob", HISTORY_CAPS)
    echoes = talk(h, alice, bob)
    params, lines = batch_of(ask(h, bob, "CHATHISTORY LATEST #tea * 100"))
    assert params == ["#tea"]
    unbatched = [m.with_tags({k: v for k, v in m.tags.items() if k != "batch"}) for m in lines]
    assert [m.to_line() for m in unbatched] == [m.to_line() for m in echoes]
    _, last_two = batch_of(ask(h, bob, "CHATHISTORY LATEST #tea * 2"))
    assert texts(last_two) == ["line 3", "line 4"]


def test_every_subcommand_pages_by_msgid_and_timestamp(h: Harness) -> None:
    alice = h.connect("alice", HISTORY_CAPS)
    e = talk(h, alice, n=10)
    ids = [m.tags["msgid"] for m in e]
    times = [m.tags["time"] for m in e]
    all_ = texts(e)
    cases = {
        f"BEFORE #tea msgid={ids[6]} 100": all_[:6],
        f"BEFORE #tea timestamp={times[6]} 2": all_[4:6],
        f"AFTER #tea msgid={ids[3]} 3": all_[4:7],
        f"AFTER #tea timestamp={times[3]} 100": all_[4:],
        f"LATEST #tea msgid={ids[4]} 100": all_[5:],
        f"AROUND #tea msgid={ids[7]} 3": all_[6:9],
        f"BETWEEN #tea msgid={ids[0]} msgid={ids[-1]} 3": all_[1:4],
        f"BETWEEN #tea timestamp={times[-1]} timestamp={times[0]} 3": all_[-4:-1],
    }
    for query, expected in cases.items():
        _, lines = batch_of(ask(h, alice, f"CHATHISTORY {query}"))
        assert texts(lines) == expected, query


def test_event_playback_adds_joins_topics_and_tagmsgs(h: Harness) -> None:
    alice = h.connect("alice", HISTORY_CAPS)
    bob = h.connect("bob", (*HISTORY_CAPS, "draft/event-playback"))
    h.join("#tea", alice)
    alice.send("TOPIC #tea :tea time", "@+draft/react=x TAGMSG #tea", "PRIVMSG #tea :hi")
    h.join("#tea", bob)
    _, plain = batch_of(ask(h, alice, "CHATHISTORY LATEST #tea * 10"))
    assert commands(plain) == ["PRIVMSG"]
    _, events = batch_of(ask(h, bob, "CHATHISTORY LATEST #tea * 10"))
    assert commands(events) == ["JOIN", "TOPIC", "TAGMSG", "PRIVMSG", "JOIN"]
    assert events[2].tags["+draft/react"] == "x"


def test_members_read_what_was_said_before_they_joined_and_others_nothing(h: Harness) -> None:
    alice = h.connect("alice", HISTORY_CAPS)
    talk(h, alice, n=3)
    late = h.connect("late", HISTORY_CAPS)
    outsider = h.connect("outsider", HISTORY_CAPS)
    h.join("#tea", late)
    _, lines = batch_of(ask(h, late, "CHATHISTORY LATEST #tea * 10"))
    assert texts(lines) == ["line 0", "line 1", "line 2"]
    for target in ("#tea", "#nonexistent"):
        fail = find(ask(h, outsider, f"CHATHISTORY LATEST {target} * 10"), "FAIL")
        assert fail.params[:4] == ("CHATHISTORY", "INVALID_TARGET", "LATEST", target)
    # Secret or not, modes change nothing: members read, others do not.
    alice.send("MODE #tea +s")
    assert find(ask(h, outsider, "CHATHISTORY LATEST #tea * 10"), "FAIL")


def test_private_history_is_for_the_two_parties_only(h: Harness) -> None:
    alice = h.connect("alice", HISTORY_CAPS)
    bob = h.connect("bob", HISTORY_CAPS)
    carol = h.connect("carol", HISTORY_CAPS)
    alice.send("PRIVMSG bob :hi bob")
    bob.send("PRIVMSG alice :hi alice")
    carol.send("PRIVMSG alice :carol here")
    h.drain()
    _, lines = batch_of(ask(h, alice, "CHATHISTORY LATEST bob * 10"))
    assert texts(lines) == ["hi bob", "hi alice"]
    _, lines = batch_of(ask(h, bob, "CHATHISTORY LATEST ALICE * 10"))
    assert texts(lines) == ["hi bob", "hi alice"]
    for peer in ("alice", "bob"):
        _, lines = batch_of(ask(h, carol, f"CHATHISTORY LATEST {peer} * 10"))
        assert texts(lines) == (["carol here"] if peer == "alice" else [])
    _, everything = batch_of(ask(h, alice, "CHATHISTORY LATEST * * 10"))
    assert texts(everything) == ["hi bob", "hi alice", "carol here"]
    # Whoever takes bob's nick later is not bob.
    bob.send("QUIT")
    new_bob = h.connect("bob", HISTORY_CAPS)
    _, lines = batch_of(ask(h, new_bob, "CHATHISTORY LATEST alice * 10"))
    assert lines == []


def test_private_messages_to_services_are_never_kept(tmp_path: Path) -> None:
    # Accounts on (a database for them), so NickServ is there to talk to.
    h = Harness(history=SQLiteHistoryStore.open(tmp_path / "h.sqlite3"),
                database=tmp_path / "accounts.sqlite3")  # fmt: skip
    alice = h.connect("alice", HISTORY_CAPS)
    alice.send("PRIVMSG NickServ :IDENTIFY alice hunter2", "PRIVMSG NickServ :REGISTER hunter2")
    h.settle()
    h.drain()
    _, lines = batch_of(ask(h, alice, "CHATHISTORY LATEST NickServ * 10"))
    assert lines == []
    rows = h.server.history.db.writer.execute("SELECT count(*) FROM history WHERE text LIKE "  # type: ignore[attr-defined]
                                              "'%hunter2%'").fetchone()  # fmt: skip
    assert rows == (0,)
    h.close()


def test_status_messages_are_replayed_to_that_rank_only(h: Harness) -> None:
    op = h.connect("op", HISTORY_CAPS)
    member = h.connect("member", HISTORY_CAPS)
    h.join("#tea", op, member)
    op.send("PRIVMSG @#tea :ops only", "PRIVMSG #tea :everyone")
    assert texts(batch_of(ask(h, op, "CHATHISTORY LATEST #tea * 10"))[1]) == [
        "ops only", "everyone"]  # fmt: skip
    assert texts(batch_of(ask(h, member, "CHATHISTORY LATEST #tea * 10"))[1]) == ["everyone"]


def test_targets_lists_conversations_in_order_of_their_latest_message(h: Harness) -> None:
    alice = h.connect("alice", HISTORY_CAPS)
    bob = h.connect("bob", HISTORY_CAPS)
    h.join("#a", alice, bob)
    alice.send("PRIVMSG #a :in a")
    time.sleep(0.002)
    alice.send("PRIVMSG bob :to bob")
    time.sleep(0.002)
    h.join("#b", alice)
    alice.send("PRIVMSG #b :in b")
    msgs = ask(h, alice, "CHATHISTORY TARGETS timestamp=2020-01-01T00:00:00.000Z "
                         "timestamp=2262-01-01T00:00:00.000Z 10")  # fmt: skip
    _, lines = batch_of(msgs, "draft/chathistory-targets")
    assert [m.params[:2] for m in lines] == [("TARGETS", "#a"), ("TARGETS", "bob"),
                                             ("TARGETS", "#b")]  # fmt: skip
    assert all(m.params[2].endswith("Z") for m in lines)


@pytest.mark.parametrize(
    ("line", "code", "context"),
    [
        ("CHATHISTORY", "NEED_MORE_PARAMS", ("*",)),
        ("CHATHISTORY LATEST #tea", "NEED_MORE_PARAMS", ("LATEST",)),
        ("CHATHISTORY BETWEEN #tea msgid=a 10", "NEED_MORE_PARAMS", ("BETWEEN",)),
        ("CHATHISTORY SIDEWAYS #tea * 10", "UNKNOWN_COMMAND", ("SIDEWAYS",)),
        ("CHATHISTORY LATEST #tea * ten", "INVALID_PARAMS", ("LATEST", "ten")),
        ("CHATHISTORY LATEST #tea * 0", "INVALID_PARAMS", ("LATEST", "0")),
        ("CHATHISTORY BEFORE #tea * 10", "INVALID_PARAMS", ("BEFORE", "*")),
        ("CHATHISTORY BEFORE #tea when=now 10", "INVALID_PARAMS", ("BEFORE", "when=now")),
        ("CHATHISTORY AFTER #tea timestamp=yesterday 10", "INVALID_PARAMS",
         ("AFTER", "timestamp=yesterday")),
        ("CHATHISTORY TARGETS msgid=x timestamp=2020-01-01T00:00:00Z 10", "INVALID_PARAMS",
         ("TARGETS", "msgid=x")),
        ("CHATHISTORY LATEST bad!nick * 10", "INVALID_TARGET", ("LATEST", "bad!nick")),
    ],
)  # fmt: skip
def test_bad_requests_get_standard_fail_replies(
    h: Harness, line: str, code: str, context: tuple[str, ...]
) -> None:
    alice = h.connect("alice", HISTORY_CAPS)
    h.join("#tea", alice)
    fail = find(ask(h, alice, line), "FAIL")
    assert fail.params[:2] == ("CHATHISTORY", code)
    assert fail.params[2 : 2 + len(context)] == context


def test_a_labeled_request_puts_the_label_on_the_batch(h: Harness) -> None:
    alice = h.connect("alice", (*HISTORY_CAPS, "labeled-response"))
    talk(h, alice, n=2)
    msgs = ask(h, alice, "@label=xyz CHATHISTORY LATEST #tea * 10")
    assert msgs[0].command == "BATCH" and msgs[0].tags["label"] == "xyz"
    _, lines = batch_of(msgs)
    assert texts(lines) == ["line 0", "line 1"]


def test_the_answer_comes_before_what_the_client_sent_next(h: Harness) -> None:
    alice = h.connect("alice", HISTORY_CAPS)
    talk(h, alice, n=2)
    msgs = ask(h, alice, "CHATHISTORY LATEST #tea * 10", "PRIVMSG #tea :after the query")
    assert commands(msgs) == ["BATCH", "PRIVMSG", "PRIVMSG", "BATCH", "PRIVMSG"]
    assert msgs[-1].params[-1] == "after the query"


def test_a_message_is_in_history_as_soon_as_it_was_delivered(h: Harness) -> None:
    alice = h.connect("alice", HISTORY_CAPS)
    bob = h.connect("bob", HISTORY_CAPS)
    h.join("#tea", alice, bob)
    # Said and asked about in the same read: the query still sees it.
    _, lines = batch_of(ask(h, alice, "PRIVMSG #tea :just now", "CHATHISTORY LATEST #tea * 1")[1:])
    assert texts(lines) == ["just now"]


def test_a_reload_may_change_how_long_and_how_much_to_replay_but_not_the_database() -> None:
    from hubbub.config import from_mapping
    from hubbub.server.rehash import refusal

    old = from_mapping({})
    assert refusal(old, from_mapping({"history": {"max_age": "7d", "autoreplay": 5}})) is None
    for key, value in [("enabled", False), ("database", "other.sqlite3"), ("search", False)]:
        why = refusal(old, from_mapping({"history": {key: value}}))
        assert why == f"history.{key} cannot change while running; restart instead"
