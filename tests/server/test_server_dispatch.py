"""The command gate, CAP negotiation, labeled-response and per-client failure."""

from __future__ import annotations

import pytest

from hubbub.protocol import Message, parse_line
from hubbub.protocol.numerics import (
    ERR_INVALIDCAPCMD,
    ERR_NEEDMOREPARAMS,
    ERR_NOPRIVILEGES,
    ERR_NOTREGISTERED,
    ERR_UNKNOWNCOMMAND,
    RPL_ENDOFNAMES,
    RPL_NAMREPLY,
    RPL_WELCOME,
)
from hubbub.server import caps
from hubbub.server.dispatch import Command, Context

from serverharness import Harness, commands, find, find_all

# --- the gate ----------------------------------------------------------------


@pytest.mark.parametrize("line", ["JOIN #a", "PRIVMSG bob :hi", "WHOIS bob", "FOO bar"])
def test_commands_before_registration_get_451(line: str) -> None:
    client = Harness().connect()
    reply = find(client.ask(line), ERR_NOTREGISTERED)
    assert reply.params[0] == "*"


def test_pre_registration_commands_are_allowed() -> None:
    client = Harness().connect()
    assert commands(client.ask("PING :x")) == ["PONG"]


@pytest.mark.parametrize(
    ("line", "verb"),
    [("JOIN", "JOIN"), ("KICK #a", "KICK"), ("USER a 0 *", "USER"), ("mode", "MODE")],
)
def test_missing_parameters_get_461_naming_the_command(line: str, verb: str) -> None:
    h = Harness()
    client = h.connect("alice")
    reply = find(client.ask(line), ERR_NEEDMOREPARAMS)
    assert reply.params[:2] == ("alice", verb)


def test_an_empty_required_parameter_counts_as_missing() -> None:
    client = Harness().connect("alice")
    assert ERR_NEEDMOREPARAMS in commands(client.ask("JOIN :"))


def test_unknown_command_gets_421() -> None:
    client = Harness().connect("alice")
    reply = find(client.ask("FROBNICATE x"), ERR_UNKNOWNCOMMAND)
    assert reply.params[:2] == ("alice", "FROBNICATE")


@pytest.mark.parametrize("line", ["KILL bob :bye", "WALLOPS :hi", "DIE", "REHASH"])
def test_operator_commands_get_481_for_others(line: str) -> None:
    h = Harness()
    client = h.connect("alice")
    h.connect("bob")
    assert commands(client.ask(line)) == [ERR_NOPRIVILEGES]
    assert h.stopped == 0


def test_commands_are_case_insensitive() -> None:
    client = Harness().connect("alice")
    assert commands(client.ask("ping :x")) == ["PONG"]


# --- CAP ------------------------------------------------------------------------


def _cap(msgs: list[Message], sub: str) -> list[Message]:
    return [m for m in msgs if m.command == "CAP" and m.params[1] == sub]


def test_cap_ls_302_lists_caps_and_holds_registration_until_end() -> None:
    client = Harness().connect()
    msgs = client.ask("CAP LS 302", "NICK alice", "USER a 0 * :A")
    (ls,) = _cap(msgs, "LS")
    assert ls.source == "irc.test"
    assert ls.params[0] == "*"
    offered = ls.params[-1].split()
    for name in ("message-tags", "server-time", "labeled-response", "batch", "echo-message"):
        assert name in offered
    assert RPL_WELCOME not in commands(msgs)
    assert RPL_WELCOME in commands(client.ask("CAP END"))


def test_cap_req_ack_echoes_the_request_and_list_shows_it() -> None:
    client = Harness().connect()
    client.ask("CAP LS 302")
    (ack,) = _cap(client.ask("CAP REQ :multi-prefix server-time"), "ACK")
    assert ack.params[-1] == "multi-prefix server-time"
    (listed,) = _cap(client.ask("CAP LIST"), "LIST")
    assert {"multi-prefix", "server-time"} <= set(listed.params[-1].split())


def test_cap_req_alone_also_holds_registration() -> None:
    client = Harness().connect()
    msgs = client.ask("CAP REQ :server-time", "NICK alice", "USER a 0 * :A")
    assert RPL_WELCOME not in commands(msgs)
    assert RPL_WELCOME in commands(client.ask("CAP END"))


def test_cap_ls_302_enables_cap_notify() -> None:
    client = Harness().connect()
    client.ask("CAP LS 302")
    (listed,) = _cap(client.ask("CAP LIST"), "LIST")
    assert "cap-notify" in listed.params[-1].split()


def test_cap_req_is_all_or_nothing() -> None:
    client = Harness().connect()
    client.ask("CAP LS 302")
    msgs = client.ask("CAP REQ :multi-prefix no-such-cap")
    (nak,) = _cap(msgs, "NAK")
    assert nak.params[-1] == "multi-prefix no-such-cap"
    assert not _cap(msgs, "ACK")
    (listed,) = _cap(client.ask("CAP LIST"), "LIST")
    assert "multi-prefix" not in listed.params[-1].split()


def test_cap_req_minus_disables() -> None:
    client = Harness().connect()
    client.ask("CAP LS 302", "CAP REQ :multi-prefix")
    (ack,) = _cap(client.ask("CAP REQ :-multi-prefix"), "ACK")
    assert ack.params[-1] == "-multi-prefix"
    (listed,) = _cap(client.ask("CAP LIST"), "LIST")
    assert "multi-prefix" not in listed.params[-1].split()


def test_cap_after_registration_uses_the_nick_and_changes_caps() -> None:
    client = Harness().connect("alice")
    (ack,) = _cap(client.ask("CAP REQ :echo-message"), "ACK")
    assert ack.params[0] == "alice"
    assert "echo-message" in client.session.caps


def test_cap_end_after_registration_is_silent() -> None:
    client = Harness().connect("alice")
    assert client.ask("CAP END") == []


def test_unknown_cap_subcommand_gets_410() -> None:
    client = Harness().connect()
    reply = find(client.ask("CAP FOO"), ERR_INVALIDCAPCMD)
    assert reply.params[1] == "FOO"


def test_cap_ls_302_splits_long_lists_with_a_continuation_marker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extra = [f"vendor.example/feature-number-{i:02d}" for i in range(40)]
    for name in extra:
        monkeypatch.setitem(caps.CAPS, name, None)
    client = Harness().connect()
    client.send("CAP LS 302")
    lines = client.lines()
    ls = _cap([parse_line(line) for line in lines], "LS")
    assert len(ls) >= 2
    # Every line but the last says "more follows" with a "*" before the list.
    assert all(m.params[2] == "*" and len(m.params) == 4 for m in ls[:-1])
    assert len(ls[-1].params) == 3
    offered = [tok for m in ls for tok in m.params[-1].split()]
    assert offered == list(caps.CAPS)
    assert all(len(line.encode()) + 2 <= 512 for line in lines)


# --- labeled-response -----------------------------------------------------------

LABEL_CAPS = ("labeled-response", "batch", "message-tags")


def test_a_labeled_command_with_no_reply_gets_ack() -> None:
    h = Harness()
    alice = h.connect("alice", caps=LABEL_CAPS)
    h.connect("bob")
    (ack,) = alice.ask("@label=l1 PRIVMSG bob :hi")
    assert ack.command == "ACK"
    assert ack.tags["label"] == "l1"
    assert ack.source == "irc.test"


def test_a_single_reply_carries_the_label() -> None:
    alice = Harness().connect("alice", caps=LABEL_CAPS)
    (pong,) = alice.ask("@label=l2 PING :tok")
    assert pong.command == "PONG"
    assert pong.tags["label"] == "l2"


def test_an_error_reply_carries_the_label() -> None:
    alice = Harness().connect("alice", caps=LABEL_CAPS)
    (err,) = alice.ask("@label=l3 JOIN")
    assert err.command == ERR_NEEDMOREPARAMS
    assert err.tags["label"] == "l3"


def test_several_replies_come_in_a_labeled_response_batch() -> None:
    alice = Harness().connect("alice", caps=LABEL_CAPS)
    msgs = alice.ask("@label=l4 JOIN #room")
    start, *inner, end = msgs
    assert start.command == "BATCH"
    assert start.tags["label"] == "l4"
    ref = start.params[0][1:]
    assert start.params == (f"+{ref}", "labeled-response")
    assert end.command == "BATCH"
    assert end.params == (f"-{ref}",)
    assert commands(inner) == ["JOIN", RPL_NAMREPLY, RPL_ENDOFNAMES]
    assert all(m.tags.get("batch") == ref for m in inner)
    assert all("label" not in m.tags for m in inner)


def test_each_labeled_batch_has_a_fresh_reference() -> None:
    alice = Harness().connect("alice", caps=LABEL_CAPS)
    first = alice.ask("@label=a JOIN #one")[0]
    second = alice.ask("@label=b JOIN #two")[0]
    assert first.params[0] != second.params[0]


def test_echo_message_is_the_labeled_response() -> None:
    h = Harness()
    alice = h.connect("alice", caps=(*LABEL_CAPS, "echo-message"))
    bob = h.connect("bob", caps=("message-tags",))
    h.join("#room", alice, bob)
    (echo,) = alice.ask("@label=l5 PRIVMSG #room :hello")
    assert echo.command == "PRIVMSG"
    assert echo.params == ("#room", "hello")
    assert echo.tags["label"] == "l5"
    (relayed,) = bob.messages()
    assert "label" not in relayed.tags
    assert relayed.tags["msgid"] == echo.tags["msgid"]


def test_a_labeled_message_to_oneself_labels_only_the_echo() -> None:
    # labeled-response: "When a client sends a message to itself, the server
    # MUST NOT include the label tag, except for any acknowledgment sent with
    # the echo-message mechanism."
    h = Harness()
    echoer = h.connect("echoer", caps=(*LABEL_CAPS, "echo-message"))
    msgs = echoer.ask("@label=s1 PRIVMSG echoer :note")
    assert len(msgs) == 2
    assert [m.tags.get("label") for m in msgs].count("s1") == 1
    plain = h.connect("plain", caps=LABEL_CAPS)
    msgs = plain.ask("@label=s2 PRIVMSG plain :note")
    assert commands(msgs) == ["PRIVMSG", "ACK"]
    assert "label" not in msgs[0].tags
    assert msgs[1].tags["label"] == "s2"


def test_labels_are_ignored_without_the_cap() -> None:
    h = Harness()
    alice = h.connect("alice", caps=("message-tags",))
    h.connect("bob")
    assert alice.ask("@label=x PRIVMSG bob :hi") == []
    (pong,) = alice.ask("@label=y PING :t")
    assert "label" not in pong.tags


# --- one client's failure is that client's alone --------------------------------------


def test_a_handler_that_raises_disconnects_only_its_client(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(ctx: Context, msg: Message) -> None:
        ctx.reply("NOTICE", "this reply must not be sent")
        raise RuntimeError("a bug")

    h = Harness()
    table = {**h.dispatcher.commands, "BOOM": Command("BOOM", boom)}
    monkeypatch.setattr(h.dispatcher, "commands", table)
    alice, bob, carol = h.connect("alice"), h.connect("bob"), h.connect("carol")
    h.join("#room", alice, bob, carol)

    msgs = alice.ask("BOOM")
    assert commands(msgs) == ["ERROR"]
    assert "Internal server error" in msgs[0].params[0]
    assert alice.closed
    (quit_,) = bob.messages()
    assert (quit_.command, quit_.source) == ("QUIT", "alice!~user@10.0.0.1")
    assert quit_.params == ("Internal server error",)
    assert "a bug" in caplog.text

    # The server goes on for everyone else.
    bob.send("PRIVMSG #room :still here?")
    assert find_all(carol.messages(), "PRIVMSG")[0].params == ("#room", "still here?")
    assert commands(h.connect().ask("PING x")) == ["PONG"]
    assert h.server.network.user("alice") is None


def test_a_labeled_motd_batches_the_pre_rendered_lines_too() -> None:
    h = Harness({"server": {"motd": "line one\nline two"}})
    alice = h.connect("alice", caps=LABEL_CAPS)
    start, *inner, end = alice.ask("@label=m1 MOTD")
    assert (start.command, start.tags["label"]) == ("BATCH", "m1")
    ref = start.params[0][1:]
    assert commands(inner) == ["375", "372", "372", "376"]
    assert [m.params[-1] for m in inner[1:3]] == ["- line one", "- line two"]
    assert all(m.tags.get("batch") == ref and m.params[0] == "alice" for m in inner)
    assert end.params == (f"-{ref}",)


def test_the_unlabeled_welcome_burst_is_addressed_to_the_new_nick() -> None:
    h = Harness({"server": {"motd": "hi"}})
    client = h.connect()
    client.send("NICK Zed", "USER z 0 * :Zed")
    burst = client.messages()
    assert commands(burst)[:4] == ["001", "002", "003", "004"]
    assert all(m.params[0] == "Zed" for m in burst if m.command.isdigit())
    assert commands(burst)[-3:] == ["375", "372", "376"]


@pytest.mark.parametrize("line", ["PART :", "KICK #c :", "TOPIC :", "JOIN :"])
def test_an_empty_required_parameter_is_a_missing_one(line: str) -> None:
    client = Harness().connect("alice")
    client.ask("JOIN #c")
    (err,) = client.ask(line)
    assert err.command == ERR_NEEDMOREPARAMS


def test_an_empty_topic_clears_it() -> None:
    client = Harness().connect("alice")
    client.ask("JOIN #c", "TOPIC #c :hello")
    (change,) = client.ask("TOPIC #c :")
    assert (change.command, change.params) == ("TOPIC", ("#c", ""))
