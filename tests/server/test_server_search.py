"""SEARCH (draft/search, soju.im/search) against the in-memory server and a real store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubbub.protocol import Message
from hubbub.store.sqlite.history import SQLiteHistoryStore

from serverharness import FakeClient, Harness, find

CAPS = ("batch", "server-time", "message-tags", "draft/search")


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(history=SQLiteHistoryStore.open(tmp_path / "h.sqlite3"))
    yield harness
    harness.close()


def search(h: Harness, client: FakeClient, attrs: str) -> tuple[str, list[Message]]:
    """The batch type and the lines of a SEARCH's answer."""
    client.messages()
    client.send(f"SEARCH {attrs}")
    h.settle()
    msgs = client.messages()
    start, *inner, end = msgs
    assert start.command == "BATCH" and end.params == (f"-{start.params[0][1:]}",), msgs
    return start.params[1], inner


def texts(msgs: list[Message]) -> list[str]:
    return [m.params[-1] for m in msgs]


@pytest.fixture
def chat(h: Harness) -> tuple[FakeClient, FakeClient, FakeClient]:
    """jackie and bill talk in #chan; eve talks in #secret; bill whispers to jackie."""
    jackie, bill, eve = h.connect("jackie", CAPS), h.connect("bill", CAPS), h.connect("eve", CAPS)
    h.join("#chan", jackie, bill)
    h.join("#secret", eve)
    for client, line in [(jackie, "PRIVMSG #chan :Be what you want"),
                         (bill, "PRIVMSG #chan :That was fast!"),
                         (jackie, "PRIVMSG #chan :Fasting is hard."),
                         (eve, "PRIVMSG #secret :fast secret plans"),
                         (bill, "PRIVMSG jackie :fast and private")]:  # fmt: skip
        client.send(line)
        time.sleep(0.002)
    h.drain()
    return jackie, bill, eve


def test_search_finds_words_in_what_the_asker_may_read(
    h: Harness, chat: tuple[FakeClient, FakeClient, FakeClient]
) -> None:
    jackie, bill, eve = chat
    kind, found = search(h, jackie, "text=fast")
    assert kind == "draft/search"
    assert texts(found) == ["That was fast!", "Fasting is hard.", "fast and private"]
    assert all("msgid" in m.tags and "time" in m.tags for m in found)
    assert texts(search(h, eve, "text=fast")[1]) == ["fast secret plans"]
    assert texts(search(h, jackie, "text=fast;in=#secret")[1]) == []  # not a member
    assert texts(search(h, jackie, "text=fast;in=#chan;limit=1")[1]) == ["Fasting is hard."]
    assert texts(search(h, jackie, "from=jackie;in=#chan")[1]) == [
        "Be what you want", "Fasting is hard."]  # fmt: skip
    assert texts(search(h, bill, "text=private;in=jackie")[1]) == ["fast and private"]


def test_search_by_time(h: Harness, chat: tuple[FakeClient, FakeClient, FakeClient]) -> None:
    jackie = chat[0]
    _, everything = search(h, jackie, "in=#chan")
    second = everything[1].tags["time"]
    assert texts(search(h, jackie, f"in=#chan;after={second}")[1]) == [
        "That was fast!", "Fasting is hard."]  # fmt: skip
    assert texts(search(h, jackie, f"in=#chan;before={second}")[1]) == [
        "Be what you want", "That was fast!"]  # fmt: skip
    assert texts(search(h, jackie, "before=2000-01-01T00:00:00.000Z")[1]) == []


def test_a_soju_client_gets_its_own_batch_type(
    h: Harness, chat: tuple[FakeClient, FakeClient, FakeClient]
) -> None:
    soju = h.connect("soju", ("batch", "server-time", "soju.im/search"))
    h.join("#chan", soju)
    kind, found = search(h, soju, "text=fast;in=#chan")
    assert kind == "soju.im/search"
    assert texts(found) == ["That was fast!", "Fasting is hard."]


@pytest.mark.parametrize(
    ("attrs", "param"),
    [("colour=blue", "colour"), ("limit=lots", "limit"), ("after=yesterday", "after"),
     ("in=no!such", "in")],
)  # fmt: skip
def test_bad_attributes_are_invalid_params(h: Harness, attrs: str, param: str) -> None:
    c = h.connect("c", CAPS)
    c.send(f"SEARCH {attrs}")
    h.settle()
    fail = find(c.messages(), "FAIL")
    assert fail.params[:3] == ("SEARCH", "INVALID_PARAMS", param)


def test_search_off_says_so(tmp_path: Path) -> None:
    h = Harness({"history": {"search": False}},
                history=SQLiteHistoryStore.open(tmp_path / "h.sqlite3", search=False))  # fmt: skip
    c = h.connect("c", ("batch",))
    assert "draft/search" not in " ".join(m.params[-1] for m in c.ask("CAP LS 302"))
    c.send("SEARCH text=x")
    assert find(c.messages(), "FAIL").params[:2] == ("SEARCH", "INTERNAL_ERROR")
    h.close()
