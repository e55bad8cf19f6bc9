"""Message tags on the way out: fan-out encodes once per tag profile, and each
client gets exactly the tags its capabilities ask for."""

from __future__ import annotations

import re

import pytest

from hubbub.protocol import Message
from hubbub.server import encoding
from hubbub.server.caps import TagProfile

from serverharness import FakeClient, Harness, find, params_of

TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_a_channel_message_is_encoded_once_per_tag_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = Harness()
    members = [
        h.connect(f"u{i}", caps=("server-time",) if i % 2 else (), ip=f"10.0.{i}.1")
        for i in range(100)
    ]
    h.join("#big", *members)
    calls: list[TagProfile] = []
    real = encoding.encode

    def counting(msg: Message, profile: TagProfile) -> bytes:
        calls.append(profile)
        return real(msg, profile)

    monkeypatch.setattr(encoding, "encode", counting)
    members[0].send("PRIVMSG #big :hello everyone")
    assert len(calls) <= 2
    for member in members[1:]:
        (msg,) = member.messages()
        assert msg.params == ("#big", "hello everyone")
        assert ("time" in msg.tags) == ("server-time" in member.session.caps)


def test_members_with_one_profile_get_the_same_bytes() -> None:
    h = Harness()
    members = [h.connect(f"u{i}", caps=("message-tags",)) for i in range(5)]
    h.join("#c", *members)
    members[0].send("PRIVMSG #c :same")
    raw = {member.transport.take() for member in members[1:]}
    assert len(raw) == 1


@pytest.fixture
def trio() -> tuple[Harness, FakeClient, FakeClient, FakeClient]:
    """A channel with a plain client, a server-time one and a message-tags one."""
    h = Harness()
    plain = h.connect("plain")
    timed = h.connect("timed", caps=("server-time",))
    tagged = h.connect("tagged", caps=("message-tags", "server-time"))
    h.join("#c", plain, timed, tagged)
    return h, plain, timed, tagged


def test_server_time_and_msgid_only_for_clients_with_the_caps(
    trio: tuple[Harness, FakeClient, FakeClient, FakeClient],
) -> None:
    _, plain, timed, tagged = trio
    plain.send("PRIVMSG #c :hi")
    (to_timed,) = timed.messages()
    (to_tagged,) = tagged.messages()
    assert set(to_timed.tags) == {"time"}
    assert TIME_RE.fullmatch(to_timed.tags["time"])
    assert {"time", "msgid"} <= set(to_tagged.tags)
    timed.send("PRIVMSG #c :hello")
    (to_plain,) = plain.messages()
    assert to_plain.tags == {}
    assert plain.transport.data == b""


def test_msgids_are_unique(trio: tuple[Harness, FakeClient, FakeClient, FakeClient]) -> None:
    _, plain, _, tagged = trio
    plain.send("PRIVMSG #c :one", "PRIVMSG #c :two")
    ids = [m.tags["msgid"] for m in tagged.messages()]
    assert len(ids) == 2
    assert len(set(ids)) == 2


def test_client_tags_are_relayed_to_message_tags_clients_only(
    trio: tuple[Harness, FakeClient, FakeClient, FakeClient],
) -> None:
    _, plain, timed, tagged = trio
    other = trio[0].connect("other", caps=("message-tags",))
    trio[0].join("#c", other)
    other.send(r"@+example.com/foo=a\sb;+draft/reply=x PRIVMSG #c :tagged")
    (got,) = tagged.messages()
    assert got.tags["+example.com/foo"] == "a b"
    assert got.tags["+draft/reply"] == "x"
    (got_timed,) = timed.messages()
    assert set(got_timed.tags) == {"time"}
    (got_plain,) = plain.messages()
    assert got_plain.tags == {}


def test_server_tags_sent_by_a_client_are_not_relayed(
    trio: tuple[Harness, FakeClient, FakeClient, FakeClient],
) -> None:
    _, plain, _, tagged = trio
    plain.send("@time=2001-01-01T00:00:00.000Z;msgid=forged;account=root PRIVMSG #c :x")
    (got,) = tagged.messages()
    assert got.tags["time"] != "2001-01-01T00:00:00.000Z"
    assert got.tags["msgid"] != "forged"
    assert "account" not in got.tags


def test_tagmsg_reaches_only_message_tags_clients(
    trio: tuple[Harness, FakeClient, FakeClient, FakeClient],
) -> None:
    _, plain, timed, tagged = trio
    sender = trio[0].connect("typer", caps=("message-tags",))
    trio[0].join("#c", sender)
    sender.send("@+typing=active TAGMSG #c")
    got = find(tagged.messages(), "TAGMSG")
    assert got.params == ("#c",)
    assert got.tags["+typing"] == "active"
    assert timed.messages() == []
    assert plain.messages() == []


def test_tagmsg_to_a_nick(trio: tuple[Harness, FakeClient, FakeClient, FakeClient]) -> None:
    _, plain, _, tagged = trio
    sender = trio[0].connect("typer", caps=("message-tags",))
    sender.send("@+typing=paused TAGMSG tagged", "@+typing=paused TAGMSG plain")
    got = find(tagged.messages(), "TAGMSG")
    assert (got.params, got.tags["+typing"]) == (("tagged",), "paused")
    assert plain.messages() == []


def test_each_target_of_a_multi_target_message_gets_its_own_msgid() -> None:
    # IRCv3 message-ids: "any other message transmitted on the entire network
    # at any time MUST NOT share the same value". PRIVMSG bob and PRIVMSG carol
    # are two messages (different targets, different conversations).
    h = Harness()
    sender = h.connect("sender", caps=("message-tags", "echo-message"))
    h.connect("bob")
    h.connect("carol")
    echoes = sender.ask("PRIVMSG bob,carol :hi both")
    assert [m.params[0] for m in echoes] == ["bob", "carol"]
    assert echoes[0].tags["msgid"] != echoes[1].tags["msgid"]


def test_extended_join_carries_account_and_realname() -> None:
    h = Harness()
    extended = h.connect("ext", caps=("extended-join",))
    plain = h.connect("plain")
    h.join("#j", extended, plain)
    h.connect("newbie", realname="New Bee").send("JOIN #j")
    assert params_of(extended.messages(), "JOIN") == [("#j", "*", "New Bee")]
    assert params_of(plain.messages(), "JOIN") == [("#j",)]
    # The joiner's own echo follows its own caps.
    assert params_of(extended.ask("JOIN #k"), "JOIN") == [("#k", "*", "Real Name")]


def test_no_implicit_names_skips_names_on_join() -> None:
    h = Harness()
    quiet = h.connect("quiet", caps=("no-implicit-names",))
    assert [m.command for m in quiet.ask("JOIN #q")] == ["JOIN"]
