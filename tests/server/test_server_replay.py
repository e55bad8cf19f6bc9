"""The replay on join for clients without draft/chathistory (in memory)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hubbub.protocol import Message
from hubbub.store.base import Found, Ref, Scope
from hubbub.store.sqlite.history import SQLiteHistoryStore

from serverharness import FakeClient, Harness, commands


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteHistoryStore]:
    s = SQLiteHistoryStore.open(tmp_path / "h.sqlite3")
    yield s
    s.close()


@pytest.fixture
def h(store: SQLiteHistoryStore) -> Iterator[Harness]:
    harness = Harness({"history": {"autoreplay": 3}}, history=store)
    yield harness
    harness.close()


def said(h: Harness, *lines: str, channel: str = "#tea") -> FakeClient:
    """``talker`` says ``lines`` in ``channel`` and stays there."""
    talker = h.connect("talker", ("draft/chathistory",))
    h.join(channel, talker)
    for line in lines:
        talker.send(f"PRIVMSG {channel} :{line}")
    h.drain()
    return talker


def join(h: Harness, client: FakeClient, channel: str = "#tea") -> list[Message]:
    client.messages()
    client.send(f"JOIN {channel}")
    h.settle()
    return client.messages()


def test_a_plain_client_sees_the_last_lines_marked_as_history(h: Harness) -> None:
    said(h, "one", "two", "three", "four", "\x01ACTION waves\x01")
    plain = h.connect("plain")
    msgs = join(h, plain)
    assert commands(msgs) == ["JOIN", "353", "366", "NOTICE", "PRIVMSG", "PRIVMSG", "PRIVMSG",
                              "NOTICE"]  # fmt: skip
    assert msgs[3].params == ("#tea", "Replaying the last 3 messages of #tea:")
    texts = [m.params[1] for m in msgs if m.command == "PRIVMSG"]
    assert re.fullmatch(r"\[\d\d:\d\d\] three", texts[0])
    assert re.fullmatch(r"\x01ACTION \[\d\d:\d\d\] waves\x01", texts[2])
    assert msgs[-1].params == ("#tea", "End of replay; what follows is live.")


def test_a_client_with_batch_and_server_time_gets_a_chathistory_batch(h: Harness) -> None:
    said(h, "one", "two")
    modern = h.connect("modern", ("batch", "server-time"))
    msgs = join(h, modern)
    assert commands(msgs) == ["JOIN", "353", "366", "BATCH", "PRIVMSG", "PRIVMSG", "BATCH"]
    assert msgs[3].params[1:] == ("chathistory", "#tea")
    assert [m.params[1] for m in msgs[4:6]] == ["one", "two"]  # no time in the text
    assert all("time" in m.tags and "batch" in m.tags for m in msgs[4:6])


def test_a_client_with_chathistory_asks_for_itself(h: Harness) -> None:
    said(h, "one")
    asks = h.connect("asks", ("batch", "server-time", "draft/chathistory"))
    assert commands(join(h, asks)) == ["JOIN", "353", "366"]


def test_no_replay_when_autoreplay_is_zero(store: SQLiteHistoryStore) -> None:
    h = Harness({"history": {"autoreplay": 0}}, history=store)
    said(h, "one")
    assert commands(join(h, h.connect("plain"))) == ["JOIN", "353", "366"]


def test_the_auto_join_room_is_replayed_at_registration(store: SQLiteHistoryStore) -> None:
    h = Harness({"server": {"auto_join": ["#lobby"]}, "history": {"autoreplay": 3}},
                history=store)  # fmt: skip
    first = h.connect("first")
    first.send("PRIVMSG #lobby :welcome aboard")
    h.drain()
    newcomer = h.connect()
    newcomer.send("NICK newcomer", "USER u 0 * :New Comer")
    h.settle()
    msgs = newcomer.messages()
    after_motd = commands(msgs)[commands(msgs).index("376") + 1 :]
    assert after_motd == ["JOIN", "353", "366", "NOTICE", "PRIVMSG", "NOTICE"]
    assert msgs[-2].params[1].endswith("welcome aboard")


def test_history_comes_before_live_lines_and_the_next_command(h: Harness) -> None:
    talker = said(h, "old")
    plain = h.connect("plain")
    plain.messages()
    # The line after JOIN waits for the join (and its replay): it is not refused.
    plain.send("JOIN #tea", "PRIVMSG #tea :my first words")
    h.settle()
    talker.send("PRIVMSG #tea :live")
    msgs = plain.messages()
    assert commands(msgs)[-3:] == ["PRIVMSG", "NOTICE", "PRIVMSG"]
    assert msgs[-3].params[1].endswith("old") and msgs[-1].params[1] == "live"
    assert [m.params[1] for m in talker.messages() if m.command == "PRIVMSG"] == [
        "my first words"]  # fmt: skip


class GatedStore:
    """A store whose first replay query waits until the test lets it go."""

    def __init__(self, store: SQLiteHistoryStore) -> None:
        self.store = store
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0
        self.armed = False

    def latest(self, scope: Scope, after: Ref | None, limit: int) -> list[Found]:
        if not self.armed:
            return self.store.latest(scope, after, limit)
        self.calls += 1
        found = self.store.latest(scope, after, limit)
        if self.calls == 1:
            self.entered.set()
            assert self.release.wait(10)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_a_line_said_while_the_replay_was_fetched_is_not_lost(store: SQLiteHistoryStore) -> None:
    gated = GatedStore(store)
    h = Harness({"history": {"autoreplay": 5}}, history=gated)  # type: ignore[arg-type]
    talker = said(h, "before")
    plain = h.connect("plain")
    plain.messages()
    gated.armed = True
    plain.send("JOIN #tea")
    assert gated.entered.wait(10)
    talker.send("PRIVMSG #tea :while you were joining")  # not a member yet: not delivered
    gated.release.set()
    h.settle()
    texts = [m.params[1] for m in plain.messages() if m.command == "PRIVMSG"]
    assert [t.split("] ", 1)[1] for t in texts] == ["before", "while you were joining"]
    assert gated.calls == 2
