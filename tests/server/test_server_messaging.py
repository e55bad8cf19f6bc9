"""PRIVMSG and NOTICE (errors, channel restrictions, STATUSMSG, echo-message)
and AWAY (RPL_AWAY and away-notify)."""

from __future__ import annotations

import pytest

from hubbub.protocol.numerics import (
    ERR_CANNOTSENDTOCHAN,
    ERR_NORECIPIENT,
    ERR_NOSUCHCHANNEL,
    ERR_NOSUCHNICK,
    ERR_NOTEXTTOSEND,
    RPL_AWAY,
    RPL_NOWAWAY,
    RPL_UNAWAY,
)

from serverharness import ALICE, BOB, FakeClient, Harness, commands, find, params_of


def said(client: FakeClient) -> list[tuple[str, ...]]:
    """What ``client`` received as PRIVMSG/NOTICE since the last read."""
    return [m.params for m in client.messages() if m.command in ("PRIVMSG", "NOTICE")]


# --- delivery --------------------------------------------------------------------------


def test_privmsg_to_a_channel_reaches_the_others(
    h: Harness, alice: FakeClient, bob: FakeClient, carol: FakeClient
) -> None:
    h.join("#c", alice, bob, carol)
    assert alice.ask("PRIVMSG #c :hello there") == []
    (msg,) = bob.messages()
    assert (msg.command, msg.source, msg.params) == ("PRIVMSG", ALICE, ("#c", "hello there"))
    assert said(carol) == [("#c", "hello there")]


def test_privmsg_and_notice_to_a_nick(alice: FakeClient, bob: FakeClient) -> None:
    alice.send("PRIVMSG bob :psst", "NOTICE BOB :note")
    msgs = bob.messages()
    assert [(m.command, m.source, m.params) for m in msgs] == [
        ("PRIVMSG", ALICE, ("bob", "psst")),
        ("NOTICE", ALICE, ("BOB", "note")),
    ]


def test_several_targets(alice: FakeClient, bob: FakeClient, carol: FakeClient) -> None:
    alice.send("PRIVMSG bob,carol :both")
    assert said(bob) == [("bob", "both")]
    assert said(carol) == [("carol", "both")]


def test_echo_message_sends_the_sender_a_copy(h: Harness, bob: FakeClient) -> None:
    echoer = h.connect("echoer", caps=("echo-message",))
    h.join("#c", echoer, bob)
    (echo,) = echoer.ask("PRIVMSG #c :mine")
    assert (echo.source, echo.params) == ("echoer!~user@10.0.0.1", ("#c", "mine"))
    (to_nick,) = echoer.ask("NOTICE bob :hey")
    assert (to_nick.command, to_nick.params) == ("NOTICE", ("bob", "hey"))


# --- errors ------------------------------------------------------------------------------


def test_privmsg_errors(h: Harness, alice: FakeClient) -> None:
    assert params_of(alice.ask("PRIVMSG nobody :hi"), ERR_NOSUCHNICK) == [
        ("alice", "nobody", "No such nick/channel")
    ]
    assert params_of(alice.ask("PRIVMSG #nowhere :hi"), ERR_NOSUCHCHANNEL)[0][1] == "#nowhere"
    assert params_of(alice.ask("PRIVMSG"), ERR_NORECIPIENT) == [
        ("alice", "No recipient given (PRIVMSG)")
    ]
    assert commands(alice.ask("PRIVMSG alice")) == [ERR_NOTEXTTOSEND]
    assert commands(alice.ask("PRIVMSG alice :")) == [ERR_NOTEXTTOSEND]


@pytest.mark.parametrize(
    "line", ["NOTICE nobody :x", "NOTICE #nowhere :x", "NOTICE", "NOTICE bob", "NOTICE #n :x"]
)
def test_notice_is_never_answered_with_an_error(
    h: Harness, alice: FakeClient, bob: FakeClient, line: str
) -> None:
    h.join("#n", bob)
    assert alice.ask(line) == []


def test_no_external_messages(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    h.join("#n", bob)
    assert params_of(alice.ask("PRIVMSG #n :knock"), ERR_CANNOTSENDTOCHAN) == [
        ("alice", "#n", "Cannot send to channel (no external messages)")
    ]
    bob.ask("MODE #n -n")
    alice.send("PRIVMSG #n :knock")
    assert said(bob) == [("#n", "knock")]


def test_moderated_channel_needs_voice(
    h: Harness, alice: FakeClient, bob: FakeClient, carol: FakeClient
) -> None:
    h.join("#m", alice, bob, carol)
    alice.ask("MODE #m +m")
    h.drain()
    assert params_of(bob.ask("PRIVMSG #m :hi"), ERR_CANNOTSENDTOCHAN) == [
        ("bob", "#m", "Cannot send to channel (+m)")
    ]
    assert said(carol) == []
    alice.ask("MODE #m +v bob")
    h.drain()
    assert bob.ask("PRIVMSG #m :now?") == []
    assert said(carol) == [("#m", "now?")]
    alice.send("PRIVMSG #m :ops speak")
    assert said(carol) == [("#m", "ops speak")]


def test_banned_members_cannot_speak_unless_excepted_or_voiced(
    h: Harness, alice: FakeClient, bob: FakeClient, carol: FakeClient
) -> None:
    h.join("#b", alice, bob, carol)
    alice.ask("MODE #b +b bob!*@*")
    h.drain()
    assert params_of(bob.ask("PRIVMSG #b :hi"), ERR_CANNOTSENDTOCHAN) == [
        ("bob", "#b", "Cannot send to channel (you're banned)")
    ]
    alice.ask("MODE #b +e *!*@10.0.0.2")
    h.drain()
    assert bob.ask("PRIVMSG #b :excepted") == []
    assert said(carol) == [("#b", "excepted")]
    alice.ask("MODE #b -e *!*@10.0.0.2")
    alice.ask("MODE #b +v bob")
    h.drain()
    assert bob.ask("PRIVMSG #b :voiced") == []
    assert said(carol) == [("#b", "voiced")]


def test_moderated_channel_stops_outsiders_too(
    h: Harness, alice: FakeClient, bob: FakeClient
) -> None:
    h.join("#m", alice)
    alice.ask("MODE #m -n+m")
    # RFC 2812 404: "not a chanop (or mode +v) on a channel which has mode +m".
    assert commands(bob.ask("PRIVMSG #m :from outside")) == [ERR_CANNOTSENDTOCHAN]
    assert said(alice) == []


def test_banned_outsiders_cannot_speak_either(
    h: Harness, alice: FakeClient, bob: FakeClient
) -> None:
    h.join("#b", alice)
    alice.ask("MODE #b -n+b bob!*@*")
    assert commands(bob.ask("PRIVMSG #b :from outside")) == [ERR_CANNOTSENDTOCHAN]
    assert said(alice) == []


# --- STATUSMSG ------------------------------------------------------------------------------


def test_statusmsg_reaches_only_the_ranks_named(h: Harness, alice: FakeClient) -> None:
    op, voiced, member = h.connect("op"), h.connect("voiced"), h.connect("member")
    h.join("#s", alice, op, voiced, member)
    alice.ask("MODE #s +ov op voiced")
    h.drain()
    alice.send("PRIVMSG @#s :ops only")
    assert said(op) == [("@#s", "ops only")]
    assert said(voiced) == []
    assert said(member) == []
    alice.send("NOTICE +#s :voice and up")
    assert said(op) == [("+#s", "voice and up")]
    assert said(voiced) == [("+#s", "voice and up")]
    assert said(member) == []


def test_statusmsg_to_a_missing_channel(alice: FakeClient) -> None:
    assert commands(alice.ask("PRIVMSG @#nowhere :x")) == [ERR_NOSUCHCHANNEL]


# --- AWAY -------------------------------------------------------------------------------------


def test_away_replies_and_rpl_away_to_privmsg_only(alice: FakeClient, bob: FakeClient) -> None:
    assert params_of(bob.ask("AWAY :gone fishing"), RPL_NOWAWAY) == [
        ("bob", "You have been marked as being away")
    ]
    assert params_of(alice.ask("PRIVMSG bob :there?"), RPL_AWAY) == [
        ("alice", "bob", "gone fishing")
    ]
    assert said(bob) == [("bob", "there?")]
    assert alice.ask("NOTICE bob :fyi") == []
    assert commands(bob.ask("AWAY")) == [RPL_UNAWAY]
    assert alice.ask("PRIVMSG bob :back?") == []


def test_away_notify(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    notified = h.connect("notified", caps=("away-notify",))
    h.join("#a", alice, bob, notified)
    bob.ask("AWAY :brb")
    away = find(notified.messages(), "AWAY")
    assert (away.source, away.params) == (BOB, ("brb",))
    assert alice.messages() == []
    bob.ask("AWAY")
    back = find(notified.messages(), "AWAY")
    assert (back.source, back.params) == (BOB, ())


def test_away_notify_when_an_away_user_joins(h: Harness, bob: FakeClient) -> None:
    notified = h.connect("notified", caps=("away-notify",))
    h.join("#a", notified)
    bob.ask("AWAY :brb")
    bob.send("JOIN #a")
    msgs = notified.messages()
    assert commands(msgs) == ["JOIN", "AWAY"]
    assert msgs[1].params == ("brb",)


def test_a_full_line_is_cut_so_the_relayed_copy_fits_512_bytes(h: Harness) -> None:
    alice, bob = h.connect("alice"), h.connect("bob")
    prefix = "PRIVMSG bob :"
    alice.send(prefix + "é" * ((510 - len(prefix)) // 2))  # a full line of 2-byte characters
    (relayed,) = bob.messages()
    wire = relayed.to_line(tags=False).encode()
    assert len(wire) <= 510
    text = relayed.params[1]
    assert set(text) == {"é"} and len(wire) > 500  # cut at a character, not too early


def test_a_short_line_is_relayed_whole(h: Harness) -> None:
    alice, bob = h.connect("alice"), h.connect("bob")
    alice.send("PRIVMSG bob :" + "x" * 300)
    (relayed,) = bob.messages()
    assert relayed.params[1] == "x" * 300
