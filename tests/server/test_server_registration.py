"""Registration and the welcome burst, and the server-information queries
(LUSERS, MOTD, VERSION, TIME, ADMIN, INFO)."""

from __future__ import annotations

import pytest

from hubbub.protocol import parse_isupport
from hubbub.protocol.numerics import (
    ERR_ALREADYREGISTERED,
    ERR_NICKNAMEINUSE,
    ERR_NOMOTD,
    ERR_NOSUCHSERVER,
    RPL_ADMINME,
    RPL_CREATED,
    RPL_ENDOFINFO,
    RPL_ENDOFMOTD,
    RPL_ENDOFNAMES,
    RPL_INFO,
    RPL_ISUPPORT,
    RPL_LUSERCHANNELS,
    RPL_LUSERCLIENT,
    RPL_LUSERME,
    RPL_LUSEROP,
    RPL_LUSERUNKNOWN,
    RPL_MOTD,
    RPL_MOTDSTART,
    RPL_MYINFO,
    RPL_NAMREPLY,
    RPL_TIME,
    RPL_VERSION,
    RPL_WELCOME,
    RPL_WHOISUSER,
    RPL_YOURHOST,
)

from serverharness import Harness, commands, find, find_all, params_of


def test_the_welcome_burst_in_order() -> None:
    client = Harness({"server": {"motd": "Hello\nWorld"}}).connect(ip="10.5.5.5")
    burst = client.register("alice", user="ally")
    assert commands(burst)[:4] == [RPL_WELCOME, RPL_YOURHOST, RPL_CREATED, RPL_MYINFO]
    assert burst[0].params == ("alice", "Welcome to the TestNet Network, alice!~ally@10.5.5.5")
    assert burst[3].params[:2] == ("alice", "irc.test")
    assert commands(burst)[-4:] == [RPL_MOTDSTART, RPL_MOTD, RPL_MOTD, RPL_ENDOFMOTD]
    assert params_of(burst, RPL_MOTD) == [("alice", "- Hello"), ("alice", "- World")]


def test_isupport_advertises_what_the_server_does() -> None:
    client = Harness().connect()
    client.send("NICK alice", "USER a 0 * :A")
    lines = client.lines()
    assert all(len(line.encode()) + 2 <= 512 for line in lines)
    burst = [m for m in Harness().connect().register("bob") if m.command == RPL_ISUPPORT]
    assert all(len(m.params) - 2 <= 13 for m in burst)  # at most 13 tokens a line
    tokens = parse_isupport([tok for m in burst for tok in m.params[1:-1]])
    assert tokens["CASEMAPPING"] == "rfc1459"
    assert tokens["CHANTYPES"] == "#&"
    assert tokens["PREFIX"] == "(ov)@+"
    assert tokens["NETWORK"] == "TestNet"
    assert tokens["STATUSMSG"] == "@+"
    for flag in ("WHOX", "UTF8ONLY", "MONITOR", "EXCEPTS", "INVEX"):
        assert flag in tokens


def test_an_empty_motd_gets_422() -> None:
    burst = Harness({"server": {"motd": ""}}).connect().register("alice")
    assert commands(burst)[-1] == ERR_NOMOTD


def test_auto_join_puts_new_users_in_the_room() -> None:
    h = Harness({"server": {"auto_join": ["#lobby"]}})
    first = h.connect("first")
    burst = h.connect().register("second")
    join = find(burst, "JOIN")
    assert join.params == ("#lobby",)
    assert commands(burst)[-2:] == [RPL_NAMREPLY, RPL_ENDOFNAMES]
    # The server's room: nobody became its operator by arriving first.
    assert params_of(burst, RPL_NAMREPLY)[0][-1] == "first second"
    assert params_of(first.messages(), "JOIN") == [("#lobby",)]


def test_registration_waits_for_nick_and_user_in_any_order() -> None:
    client = Harness().connect()
    assert client.ask("USER a 0 * :A") == []
    assert RPL_WELCOME in commands(client.ask("NICK alice"))


def test_two_unregistered_clients_choosing_one_nick() -> None:
    h = Harness()
    first, second = h.connect(), h.connect()
    second.send("NICK same")
    first.send("NICK same", "USER a 0 * :A")
    assert RPL_WELCOME in commands(first.messages())
    msgs = second.ask("USER b 0 * :B")
    assert commands(msgs) == [ERR_NICKNAMEINUSE]
    assert RPL_WELCOME in commands(second.ask("NICK other"))


@pytest.mark.parametrize("line", ["USER x 0 * :y", "PASS secret"])
def test_no_reregistration(line: str) -> None:
    client = Harness().connect("alice")
    assert params_of(client.ask(line), ERR_ALREADYREGISTERED) == [
        ("alice", "You may not reregister")
    ]


def test_usernames_are_marked_unverified_and_cleaned() -> None:
    h = Harness()
    h.connect("alice", user="al!ce@x")
    assert h.server.network.user("alice") is not None
    watcher = h.connect("w")
    (reply,) = params_of(watcher.ask("WHOIS alice"), RPL_WHOISUSER)
    assert reply[2] == "~alcex"


# --- LUSERS and the server queries ------------------------------------------------------------


def test_lusers_counts() -> None:
    h = Harness({"operators": [{"name": "op", "password": "pw"}]})
    alice = h.connect("alice")
    h.connect("bob").ask("MODE bob +i", "OPER op pw")
    h.connect()  # not registered
    h.join("#one", alice)
    msgs = alice.ask("LUSERS")
    assert params_of(msgs, RPL_LUSERCLIENT) == [
        ("alice", "There are 1 users and 1 invisible on 1 servers")
    ]
    assert params_of(msgs, RPL_LUSEROP)[0][1] == "1"
    assert params_of(msgs, RPL_LUSERUNKNOWN)[0][1] == "1"
    assert params_of(msgs, RPL_LUSERCHANNELS)[0][1] == "1"
    assert params_of(msgs, RPL_LUSERME) == [("alice", "I have 2 clients and 0 servers")]


def test_motd_on_demand() -> None:
    client = Harness({"server": {"motd": "Hi"}}).connect("alice")
    assert commands(client.ask("MOTD")) == [RPL_MOTDSTART, RPL_MOTD, RPL_ENDOFMOTD]


@pytest.mark.parametrize(
    ("verb", "first"),
    [("VERSION", RPL_VERSION), ("TIME", RPL_TIME), ("ADMIN", RPL_ADMINME), ("INFO", RPL_INFO)],
)
def test_server_queries_answer_for_this_server_only(verb: str, first: str) -> None:
    client = Harness().connect("alice")
    assert commands(client.ask(verb))[0] == first
    assert commands(client.ask(f"{verb} irc.test"))[0] == first
    assert commands(client.ask(f"{verb} irc.*"))[0] == first
    assert params_of(client.ask(f"{verb} other.example"), ERR_NOSUCHSERVER) == [
        ("alice", "other.example", "No such server")
    ]


def test_version_repeats_isupport_and_info_ends() -> None:
    client = Harness().connect("alice")
    msgs = client.ask("VERSION")
    assert params_of(msgs, RPL_VERSION)[0][1].startswith("hubbub-")
    assert len(find_all(msgs, RPL_ISUPPORT)) >= 1
    assert commands(client.ask("INFO"))[-1] == RPL_ENDOFINFO
