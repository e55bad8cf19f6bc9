"""Queries about users: WHO (and WHOX), WHOIS, WHOWAS, ISON, USERHOST."""

from __future__ import annotations

import pytest

from hubbub.protocol.numerics import (
    ERR_NOSUCHNICK,
    ERR_WASNOSUCHNICK,
    RPL_AWAY,
    RPL_ENDOFWHO,
    RPL_ENDOFWHOIS,
    RPL_ENDOFWHOWAS,
    RPL_ISON,
    RPL_USERHOST,
    RPL_WHOISBOT,
    RPL_WHOISCHANNELS,
    RPL_WHOISIDLE,
    RPL_WHOISOPERATOR,
    RPL_WHOISSERVER,
    RPL_WHOISUSER,
    RPL_WHOREPLY,
    RPL_WHOSPCRPL,
    RPL_WHOWASUSER,
)

from serverharness import FakeClient, Harness, commands, find, params_of

OPERATORS = {"operators": [{"name": "op", "password": "pw"}]}


@pytest.fixture
def h() -> Harness:
    return Harness(OPERATORS)


@pytest.fixture
def alice(h: Harness) -> FakeClient:
    return h.connect("alice", ip="10.0.0.1", realname="Alice Liddell")


@pytest.fixture
def bob(h: Harness) -> FakeClient:
    return h.connect("bob", ip="10.0.0.2", user="bobby", realname="Bob the Builder")


@pytest.fixture
def room(h: Harness, alice: FakeClient, bob: FakeClient) -> Harness:
    h.join("#c", alice, bob)
    return h


# --- WHO -------------------------------------------------------------------------------


def test_who_a_channel(room: Harness, alice: FakeClient) -> None:
    msgs = alice.ask("WHO #c")
    assert commands(msgs) == [RPL_WHOREPLY, RPL_WHOREPLY, RPL_ENDOFWHO]
    assert params_of(msgs, RPL_WHOREPLY) == [
        ("alice", "#c", "~user", "10.0.0.1", "irc.test", "alice", "H@", "0 Alice Liddell"),
        ("alice", "#c", "~bobby", "10.0.0.2", "irc.test", "bob", "H", "0 Bob the Builder"),
    ]
    assert msgs[-1].params == ("alice", "#c", "End of WHO list")


def test_who_flags_away_oper_bot_and_multi_prefix(room: Harness, alice: FakeClient) -> None:
    bob = room.clients[1]
    bob.ask("AWAY :out", "OPER op pw", "MODE bob +B")
    alice.ask("MODE #c +v bob")
    multi = room.connect("multi", caps=("multi-prefix",))
    room.join("#c", multi)
    alice.ask("MODE #c +o bob")
    flags = {p[5]: p[6] for p in params_of(multi.ask("WHO #c"), RPL_WHOREPLY)}
    assert flags == {"alice": "H@", "bob": "G*@+B", "multi": "H"}
    flags = {p[5]: p[6] for p in params_of(alice.ask("WHO #c"), RPL_WHOREPLY)}
    assert flags["bob"] == "G*@B"


def test_who_a_nick(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    msgs = alice.ask("WHO bob")
    assert params_of(msgs, RPL_WHOREPLY) == [
        ("alice", "*", "~bobby", "10.0.0.2", "irc.test", "bob", "H", "0 Bob the Builder")
    ]
    assert params_of(msgs, RPL_ENDOFWHO) == [("alice", "bob", "End of WHO list")]
    assert commands(alice.ask("WHO nobody")) == [RPL_ENDOFWHO]


def test_who_hides_invisible_users_from_strangers(
    h: Harness, alice: FakeClient, bob: FakeClient
) -> None:
    bob.ask("MODE bob +i")
    assert [p[5] for p in params_of(alice.ask("WHO *"), RPL_WHOREPLY)] == ["alice"]
    h.join("#c", alice, bob)
    assert sorted(p[5] for p in params_of(alice.ask("WHO *"), RPL_WHOREPLY)) == ["alice", "bob"]


def test_whox_fields_come_in_the_standard_order_with_the_token(
    room: Harness, alice: FakeClient
) -> None:
    # Asked out of order; the reply is always t c u i h s n f d l a o r.
    (reply,) = params_of(alice.ask("WHO bob %rnfhuct,42"), RPL_WHOSPCRPL)
    assert reply == ("alice", "42", "*", "~bobby", "10.0.0.2", "bob", "H", "Bob the Builder")
    msgs = alice.ask("WHO #c %tcnfa,7")
    assert params_of(msgs, RPL_WHOSPCRPL) == [
        ("alice", "7", "#c", "alice", "H@", "0"),
        ("alice", "7", "#c", "bob", "H", "0"),
    ]
    assert commands(msgs)[-1] == RPL_ENDOFWHO


def test_whox_ip_is_hidden_from_non_operators(room: Harness, alice: FakeClient) -> None:
    assert params_of(alice.ask("WHO bob %ni"), RPL_WHOSPCRPL) == [
        ("alice", "255.255.255.255", "bob")
    ]
    alice.ask("OPER op pw")
    assert params_of(alice.ask("WHO bob %ni"), RPL_WHOSPCRPL) == [("alice", "10.0.0.2", "bob")]


def test_whox_server_hops_idle_and_oplevel(room: Harness, alice: FakeClient) -> None:
    room.advance(30)
    (reply,) = params_of(alice.ask("WHO bob %sdlo"), RPL_WHOSPCRPL)
    server, hops, idle, oplevel = reply[1:]
    assert (server, hops, oplevel) == ("irc.test", "0", "n/a")
    assert int(idle) >= 30


# --- WHOIS ---------------------------------------------------------------------------------


def test_whois(room: Harness, alice: FakeClient, bob: FakeClient) -> None:
    room.advance(42)
    msgs = bob.ask("WHOIS alice")
    assert commands(msgs) == [
        RPL_WHOISUSER, RPL_WHOISCHANNELS, RPL_WHOISSERVER, RPL_WHOISIDLE, RPL_ENDOFWHOIS,
    ]  # fmt: skip
    assert msgs[0].params == ("bob", "alice", "~user", "10.0.0.1", "*", "Alice Liddell")
    assert msgs[1].params == ("bob", "alice", "@#c")
    assert msgs[2].params == ("bob", "alice", "irc.test", "A hubbub server")
    idle, signon = msgs[3].params[2:4]
    assert int(idle) == 42
    assert signon.isdigit()
    assert msgs[4].params == ("bob", "alice", "End of /WHOIS list")
    alice.send("PRIVMSG #c :awake")
    idle = find(bob.ask("WHOIS alice"), RPL_WHOISIDLE).params[2]
    assert idle == "0"


def test_whois_with_a_server_parameter(room: Harness, bob: FakeClient) -> None:
    assert commands(bob.ask("WHOIS irc.test alice"))[0] == RPL_WHOISUSER


def test_whois_unknown_nick(alice: FakeClient) -> None:
    msgs = alice.ask("WHOIS nobody")
    assert commands(msgs) == [ERR_NOSUCHNICK, RPL_ENDOFWHOIS]
    assert msgs[0].params == ("alice", "nobody", "No such nick/channel")


def test_whois_away_operator_and_bot(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    bob.ask("AWAY :gone", "OPER op pw", "MODE bob +B")
    msgs = alice.ask("WHOIS bob")
    assert params_of(msgs, RPL_AWAY) == [("alice", "bob", "gone")]
    assert params_of(msgs, RPL_WHOISOPERATOR) == [("alice", "bob", "is an IRC operator")]
    (bot,) = params_of(msgs, RPL_WHOISBOT)
    assert bot[:2] == ("alice", "bob")
    assert commands(msgs)[-1] == RPL_ENDOFWHOIS


def test_whois_hides_secret_channels_from_outsiders(
    h: Harness, alice: FakeClient, bob: FakeClient
) -> None:
    h.join("#secret", bob)
    h.join("#public", bob)
    bob.ask("MODE #secret +s")
    assert params_of(alice.ask("WHOIS bob"), RPL_WHOISCHANNELS) == [("alice", "bob", "@#public")]


# --- WHOWAS ----------------------------------------------------------------------------------


def test_whowas_after_quit_and_nick_change(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    bob.send("QUIT")
    msgs = alice.ask("WHOWAS bob")
    assert commands(msgs) == [RPL_WHOWASUSER, RPL_WHOISSERVER, RPL_ENDOFWHOWAS]
    assert msgs[0].params == ("alice", "bob", "~bobby", "10.0.0.2", "*", "Bob the Builder")
    assert msgs[1].params[:3] == ("alice", "bob", "irc.test")
    assert msgs[2].params == ("alice", "bob", "End of WHOWAS")
    alice.ask("NICK alicia")
    assert params_of(alice.ask("WHOWAS alice"), RPL_WHOWASUSER)[0][1] == "alice"


def test_whowas_count_limits_the_entries(h: Harness, alice: FakeClient) -> None:
    for _ in range(3):
        h.connect("bob").send("QUIT")
    assert len(params_of(alice.ask("WHOWAS bob"), RPL_WHOWASUSER)) == 3
    assert len(params_of(alice.ask("WHOWAS bob 2"), RPL_WHOWASUSER)) == 2


def test_whowas_unknown(alice: FakeClient) -> None:
    msgs = alice.ask("WHOWAS nobody")
    assert commands(msgs) == [ERR_WASNOSUCHNICK, RPL_ENDOFWHOWAS]
    assert msgs[0].params == ("alice", "nobody", "There was no such nickname")


# --- ISON / USERHOST ---------------------------------------------------------------------------


def test_ison(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    assert params_of(alice.ask("ISON BOB nobody alice"), RPL_ISON) == [("alice", "bob alice")]
    assert params_of(alice.ask("ISON :bob nobody"), RPL_ISON) == [("alice", "bob")]
    assert params_of(alice.ask("ISON nobody"), RPL_ISON) == [("alice", "")]


def test_userhost(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    assert params_of(alice.ask("USERHOST bob nobody alice"), RPL_USERHOST) == [
        ("alice", "bob=+~bobby@10.0.0.2 alice=+~user@10.0.0.1")
    ]
    bob.ask("AWAY :x", "OPER op pw")
    assert params_of(alice.ask("USERHOST bob"), RPL_USERHOST) == [
        ("alice", "bob*=-~bobby@10.0.0.2")
    ]
