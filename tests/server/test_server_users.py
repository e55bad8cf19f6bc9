"""A user's identity and presence: NICK, QUIT, MONITOR and SETNAME."""

from __future__ import annotations

import pytest

from hubbub.protocol.numerics import (
    ERR_ERRONEUSNICKNAME,
    ERR_MONLISTFULL,
    ERR_NEEDMOREPARAMS,
    ERR_NICKNAMEINUSE,
    ERR_NONICKNAMEGIVEN,
    ERR_UNKNOWNERROR,
    RPL_ENDOFMONLIST,
    RPL_ISON,
    RPL_MONLIST,
    RPL_MONOFFLINE,
    RPL_MONONLINE,
    RPL_WHOISUSER,
)

from serverharness import ALICE, FakeClient, Harness, commands, find, find_all, params_of

# --- NICK --------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["1abc", "#chan", "a!b", "-dash", "x" * 31])
def test_erroneous_nicks_get_432(alice: FakeClient, bad: str) -> None:
    assert params_of(alice.ask(f"NICK {bad}"), ERR_ERRONEUSNICKNAME) == [
        ("alice", bad, "Erroneous nickname")
    ]


def test_no_nick_gets_431(alice: FakeClient) -> None:
    assert commands(alice.ask("NICK")) == [ERR_NONICKNAMEGIVEN]


@pytest.mark.parametrize("taken", ["bob", "BOB", "Bob"])
def test_a_nick_in_use_gets_433_in_any_case(alice: FakeClient, bob: FakeClient, taken: str) -> None:
    assert params_of(alice.ask(f"NICK {taken}"), ERR_NICKNAMEINUSE) == [
        ("alice", taken, "Nickname is already in use")
    ]


def test_rfc1459_casemapping_makes_brackets_equal(h: Harness) -> None:
    h.connect("a[b]")
    other = h.connect("other")
    assert commands(other.ask("NICK a{b}")) == [ERR_NICKNAMEINUSE]


def test_433_before_registration(h: Harness, alice: FakeClient) -> None:
    newcomer = h.connect()
    reply = find(newcomer.ask("NICK alice"), ERR_NICKNAMEINUSE)
    assert reply.params[:2] == ("*", "alice")


def test_changing_only_the_case_of_ones_own_nick_is_allowed(alice: FakeClient) -> None:
    (nick,) = alice.ask("NICK Alice")
    assert (nick.command, nick.source, nick.params) == ("NICK", ALICE, ("Alice",))
    assert alice.nick == "Alice"


def test_the_same_nick_again_is_silent(alice: FakeClient) -> None:
    assert alice.ask("NICK alice") == []


def test_a_nick_change_is_told_once_to_each_peer(
    h: Harness, alice: FakeClient, bob: FakeClient, carol: FakeClient
) -> None:
    h.join("#one", alice, bob)
    h.join("#two", alice, bob)
    (own,) = alice.ask("NICK alicia")
    assert (own.source, own.params) == (ALICE, ("alicia",))
    (seen,) = bob.messages()
    assert (seen.command, seen.source, seen.params) == ("NICK", ALICE, ("alicia",))
    assert carol.messages() == []
    # The old nick is free now, the new one taken.
    assert params_of(bob.ask("ISON alice alicia"), RPL_ISON) == [("bob", "alicia")]
    assert commands(carol.ask("NICK alice")) == ["NICK"]


# --- QUIT ---------------------------------------------------------------------------------


def test_quit_is_told_once_to_each_peer(
    h: Harness, alice: FakeClient, bob: FakeClient, carol: FakeClient
) -> None:
    h.join("#one", alice, bob)
    h.join("#two", alice, bob)
    (error,) = alice.ask("QUIT :bye now")
    assert error.command == "ERROR"
    assert error.params[0] == "Closing link: (~user@10.0.0.1) [Quit: bye now]"
    assert alice.closed
    (quit_,) = bob.messages()
    assert (quit_.command, quit_.source, quit_.params) == ("QUIT", ALICE, ("Quit: bye now",))
    assert carol.messages() == []
    assert h.server.network.user("alice") is None
    assert h.channel("#one") is not None


def test_quit_without_a_reason(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    h.join("#one", alice, bob)
    alice.send("QUIT")
    assert find(bob.messages(), "QUIT").params == ("Quit",)


def test_a_dropped_connection_is_a_quit(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    h.join("#one", alice, bob)
    alice.disconnect()
    assert find(bob.messages(), "QUIT").params == ("Connection closed",)
    assert h.server.network.user("alice") is None
    assert alice.session not in h.server.sessions


def test_nothing_is_read_after_quit(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    h.join("#one", alice, bob)
    alice.send("QUIT :x\r\nPRIVMSG #one :ghost")
    assert commands(bob.messages()) == ["QUIT"]


# --- MONITOR ---------------------------------------------------------------------------------


def test_monitor_add_reports_status(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    msgs = alice.ask("MONITOR + bob,carol")
    assert params_of(msgs, RPL_MONONLINE) == [("alice", "bob!~user@10.0.0.2")]
    assert params_of(msgs, RPL_MONOFFLINE) == [("alice", "carol")]


def test_monitor_follows_connect_quit_and_nick_change(h: Harness, alice: FakeClient) -> None:
    alice.ask("MONITOR + carol,dave")
    carol = h.connect("carol", ip="10.0.0.3")
    assert params_of(alice.messages(), RPL_MONONLINE) == [("alice", "carol!~user@10.0.0.3")]
    carol.send("NICK dave")
    msgs = alice.messages()
    assert params_of(msgs, RPL_MONOFFLINE) == [("alice", "carol")]
    assert params_of(msgs, RPL_MONONLINE) == [("alice", "dave!~user@10.0.0.3")]
    carol.send("QUIT")
    assert params_of(alice.messages(), RPL_MONOFFLINE) == [("alice", "dave")]


def test_monitor_list_remove_clear_and_status(
    h: Harness, alice: FakeClient, bob: FakeClient
) -> None:
    alice.ask("MONITOR + bob,carol,dave")
    msgs = alice.ask("MONITOR L")
    assert commands(msgs)[-1] == RPL_ENDOFMONLIST
    listed = {n for p in params_of(msgs, RPL_MONLIST) for n in p[1].split(",")}
    assert listed == {"bob", "carol", "dave"}
    assert alice.ask("MONITOR - carol") == []
    status = alice.ask("MONITOR S")
    assert params_of(status, RPL_MONONLINE) == [("alice", "bob!~user@10.0.0.2")]
    assert params_of(status, RPL_MONOFFLINE) == [("alice", "dave")]
    h.connect("carol")
    assert alice.messages() == []
    assert alice.ask("MONITOR C") == []
    assert commands(alice.ask("MONITOR L")) == [RPL_ENDOFMONLIST]
    bob.send("QUIT")
    assert alice.messages() == []


@pytest.mark.parametrize("line", ["MONITOR +", "MONITOR -", "MONITOR + ,,", "MONITOR - :"])
def test_monitor_without_targets_gets_461(alice: FakeClient, line: str) -> None:
    assert params_of(alice.ask(line), ERR_NEEDMOREPARAMS) == [
        ("alice", "MONITOR", "Not enough parameters")
    ]


@pytest.mark.parametrize("sub", ["X", "*", "0", "#chan", "add"])
def test_monitor_unknown_subcommand_gets_400(alice: FakeClient, sub: str) -> None:
    assert params_of(alice.ask(f"MONITOR {sub} bob"), ERR_UNKNOWNERROR) == [
        ("alice", "MONITOR", sub, "Unknown MONITOR subcommand")
    ]


def test_monitor_list_is_bounded(alice: FakeClient) -> None:
    nicks = [f"n{i}" for i in range(101)]
    msgs = alice.ask("MONITOR + " + ",".join(nicks))
    (full,) = params_of(msgs, ERR_MONLISTFULL)
    assert full[:3] == ("alice", "100", "n100")
    assert len(find_all(msgs, RPL_MONOFFLINE)) == 10  # 100 nicks, 10 a line


def test_a_watcher_that_leaves_is_forgotten(h: Harness, alice: FakeClient) -> None:
    alice.ask("MONITOR + carol")
    alice.send("QUIT")
    h.connect("carol")
    assert h.server.monitors.watchers_of == {}


# --- SETNAME ------------------------------------------------------------------------------------


def test_setname_is_told_to_peers_with_the_cap(
    h: Harness, alice: FakeClient, carol: FakeClient
) -> None:
    setter = h.connect("setter", caps=("setname",), ip="10.0.0.9")
    peer = h.connect("peer", caps=("setname",))
    h.join("#s", setter, peer, carol)
    (echo,) = setter.ask("SETNAME :New Real Name")
    assert (echo.command, echo.source, echo.params) == (
        "SETNAME", "setter!~user@10.0.0.9", ("New Real Name",),
    )  # fmt: skip
    (seen,) = peer.messages()
    assert (seen.command, seen.params) == ("SETNAME", ("New Real Name",))
    assert carol.messages() == []
    assert alice.messages() == []
    whois = find(alice.ask("WHOIS setter"), RPL_WHOISUSER)
    assert whois.params[-1] == "New Real Name"


def test_setname_rejects_a_bad_realname(h: Harness) -> None:
    setter = h.connect("setter", caps=("setname",))
    (fail,) = setter.ask("SETNAME :" + "x" * 391)
    assert (fail.command, fail.params[:2]) == ("FAIL", ("SETNAME", "INVALID_REALNAME"))


def test_away_notify_reaches_extended_monitor_watchers(h: Harness, bob: FakeClient) -> None:
    watcher = h.connect("watcher", caps=("away-notify", "extended-monitor"))
    plain_watcher = h.connect("plainwatcher", caps=("away-notify",))
    watcher.ask("MONITOR + bob")
    plain_watcher.ask("MONITOR + bob")
    bob.ask("AWAY :later")
    away = find(watcher.messages(), "AWAY")
    assert away.params == ("later",)
    assert plain_watcher.messages() == []


def test_a_message_to_oneself_arrives(h: Harness, alice: FakeClient) -> None:
    (got,) = alice.ask("PRIVMSG alice :note to self")
    assert (got.source, got.params) == (ALICE, ("alice", "note to self"))
    echoer = h.connect("echoer", caps=("echo-message",))
    # Delivered once as a message and once as its echo.
    assert len(echoer.ask("PRIVMSG echoer :twice")) == 2
