"""REDACT (draft/message-redaction) against the in-memory server and a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hubbub.protocol import Message
from hubbub.store.sqlite.history import SQLiteHistoryStore

from serverharness import FakeClient, Harness, commands, find

CAPS = ("message-tags", "echo-message", "batch", "server-time", "draft/message-redaction",
        "draft/chathistory")  # fmt: skip


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(history=SQLiteHistoryStore.open(tmp_path / "h.sqlite3"))
    yield harness
    harness.close()


def ask(h: Harness, client: FakeClient, *lines: str) -> list[Message]:
    client.messages()
    client.send(*lines)
    h.settle()
    return client.messages()


def say(h: Harness, client: FakeClient, line: str) -> str:
    """Send ``line``; the msgid of its echo."""
    words = line.split()
    echo = find(ask(h, client, line), words[1] if line.startswith("@") else words[0])
    return echo.tags["msgid"]


def history_texts(h: Harness, client: FakeClient, target: str) -> list[str]:
    msgs = ask(h, client, f"CHATHISTORY LATEST {target} * 50")
    return [m.params[-1] for m in msgs if m.command == "PRIVMSG"]


@pytest.fixture
def room(h: Harness) -> tuple[FakeClient, FakeClient, FakeClient]:
    """op (first in, channel operator), member (with the cap), plain (without)."""
    op, member = h.connect("op", CAPS), h.connect("member", CAPS)
    plain = h.connect("plain", ("message-tags", "echo-message"))
    h.join("#tea", op, member, plain)
    return op, member, plain


def test_the_author_redacts_and_everyone_with_the_cap_is_told(
    h: Harness, room: tuple[FakeClient, FakeClient, FakeClient]
) -> None:
    op, member, plain = room
    msgid = say(h, member, "PRIVMSG #tea :oops, my password")
    assert commands(ask(h, member, f"REDACT #tea {msgid} :typo")) == ["REDACT"]
    redact = find(op.messages(), "REDACT")
    assert redact.params == ("#tea", msgid, "typo") and redact.source.startswith("member!")
    assert "REDACT" not in commands(plain.messages())  # no capability, no REDACT
    assert history_texts(h, op, "#tea") == []


def test_an_operator_redacts_anyone_and_a_member_only_their_own(
    h: Harness, room: tuple[FakeClient, FakeClient, FakeClient]
) -> None:
    op, member, _ = room
    mine = say(h, op, "PRIVMSG #tea :op speaking")
    fail = find(ask(h, member, f"REDACT #tea {mine}"), "FAIL")
    assert fail.params[:4] == ("REDACT", "REDACT_FORBIDDEN", "#tea", mine)
    assert op.messages() == []  # refused: nobody is told anything
    theirs = say(h, member, "PRIVMSG #tea :spam spam")
    assert commands(ask(h, op, f"REDACT #tea {theirs} :spam")) == ["REDACT"]
    assert find(member.messages(), "REDACT").params == ("#tea", theirs, "spam")
    assert history_texts(h, member, "#tea") == ["op speaking"]


def test_a_reaction_tagmsg_can_be_withdrawn(
    h: Harness, room: tuple[FakeClient, FakeClient, FakeClient]
) -> None:
    _, member, _ = room
    msgid = say(h, member, "@+draft/react=👍 TAGMSG #tea")
    assert commands(ask(h, member, f"REDACT #tea {msgid}")) == ["REDACT"]


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("REDACT #tea nosuchmsgid", "UNKNOWN_MSGID"),
        ("REDACT #elsewhere abc", "INVALID_TARGET"),
        ("REDACT #nonexistent abc", "INVALID_TARGET"),
        ("REDACT bad!target abc", "INVALID_TARGET"),
    ],
)
def test_bad_redactions_get_standard_replies(
    h: Harness, room: tuple[FakeClient, FakeClient, FakeClient], line: str, code: str
) -> None:
    op, member, _ = room
    h.join("#elsewhere", op)
    fail = find(ask(h, member, line), "FAIL")
    assert fail.params[:3] == ("REDACT", code, line.split()[1])


def test_in_a_private_conversation_only_the_author_redacts(h: Harness) -> None:
    alice, bob = h.connect("alice", CAPS), h.connect("bob", CAPS)
    msgid = say(h, alice, "PRIVMSG bob :sent to the wrong person")
    bob.messages()
    fail = find(ask(h, bob, f"REDACT alice {msgid}"), "FAIL")
    assert fail.params[1] == "REDACT_FORBIDDEN"
    assert commands(ask(h, alice, f"REDACT bob {msgid}")) == ["REDACT"]
    assert find(bob.messages(), "REDACT").params == ("bob", msgid)
    assert history_texts(h, bob, "alice") == []
    # Someone outside the conversation cannot even find it.
    carol = h.connect("carol", CAPS)
    assert find(ask(h, carol, f"REDACT alice {msgid}"), "FAIL").params[1] == "UNKNOWN_MSGID"
