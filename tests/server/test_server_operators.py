"""Operators (OPER with plain and argon2 passwords, KILL, WALLOPS, DIE, REHASH)
and the server's self-description (HELP, STATS, LINKS)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from hubbub.protocol.numerics import (
    ERR_HELPNOTFOUND,
    ERR_NEEDMOREPARAMS,
    ERR_NOOPERHOST,
    ERR_NOPRIVILEGES,
    ERR_NOSUCHNICK,
    ERR_PASSWDMISMATCH,
    RPL_ENDOFHELP,
    RPL_ENDOFLINKS,
    RPL_ENDOFSTATS,
    RPL_HELPSTART,
    RPL_HELPTXT,
    RPL_LINKS,
    RPL_REHASHING,
    RPL_STATSCOMMANDS,
    RPL_STATSOLINE,
    RPL_STATSUPTIME,
    RPL_UMODEIS,
    RPL_YOUREOPER,
)
from hubbub.server.commands import COMMANDS

from serverharness import ALICE, FakeClient, Harness, commands, find, params_of

#: Cheap argon2 parameters: the hash is real, the test stays fast.
HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def h() -> Iterator[Harness]:
    harness = Harness(
        {
            "operators": [
                {"name": "op", "password": "pw"},
                {"name": "hashed", "password": HASHER.hash("s3cret")},
            ]
        }
    )
    yield harness
    harness.close()


@pytest.fixture
def oper(alice: FakeClient) -> FakeClient:
    alice.ask("OPER op pw")
    return alice


# --- OPER ------------------------------------------------------------------------------


def test_oper_with_a_plain_password(alice: FakeClient) -> None:
    msgs = alice.ask("OPER op pw")
    assert commands(msgs) == [RPL_YOUREOPER, "MODE"]
    assert msgs[0].params == ("alice", "You are now an IRC operator")
    assert (msgs[1].source, msgs[1].params) == (ALICE, ("alice", "+o"))
    assert params_of(alice.ask("MODE alice"), RPL_UMODEIS) == [("alice", "+o")]


def test_oper_wrong_password_and_unknown_name(alice: FakeClient) -> None:
    assert params_of(alice.ask("OPER op nope"), ERR_PASSWDMISMATCH) == [
        ("alice", "Password incorrect")
    ]
    assert params_of(alice.ask("OPER nobody pw"), ERR_NOOPERHOST) == [
        ("alice", "No O-lines for your host")
    ]
    assert commands(alice.ask("KILL alice :x")) == [ERR_NOPRIVILEGES]


def test_oper_with_an_argon2_hash_answers_from_the_worker(h: Harness, alice: FakeClient) -> None:
    # The check runs on a worker thread; its answer comes back through
    # call_soon_threadsafe, which the fake loop runs when the test settles.
    alice.send("OPER hashed s3cret")
    assert h.pending_jobs <= 1
    h.settle()
    assert h.pending_jobs == 0
    msgs = alice.messages()
    assert commands(msgs) == [RPL_YOUREOPER, "MODE"]
    assert alice.user.oper == "hashed"


def test_oper_with_an_argon2_hash_and_a_wrong_password(h: Harness, alice: FakeClient) -> None:
    alice.send("OPER hashed wrong")
    h.settle()
    assert commands(alice.messages()) == [ERR_PASSWDMISMATCH]
    assert alice.user.oper is None


def test_a_client_gone_before_the_argon2_answer(h: Harness, alice: FakeClient) -> None:
    alice.send("OPER hashed s3cret", "QUIT")
    h.settle()
    assert alice.transport.written_after_close == 0
    assert h.server.network.user("alice") is None


def test_a_labeled_argon2_oper_gets_its_answer_labeled(h: Harness) -> None:
    client = h.connect("labeler", caps=("labeled-response", "batch", "message-tags"))
    client.send("@label=op1 OPER hashed s3cret")
    h.settle()
    msgs = client.messages()
    assert "ACK" not in commands(msgs)
    assert RPL_YOUREOPER in commands(msgs)
    assert msgs[0].tags.get("label") == "op1"


def test_mode_minus_o_gives_up_operator_status(oper: FakeClient) -> None:
    assert params_of(oper.ask("MODE alice -o"), "MODE") == [("alice", "-o")]
    assert commands(oper.ask("KILL alice :x")) == [ERR_NOPRIVILEGES]


# --- KILL, WALLOPS, DIE, REHASH -----------------------------------------------------------------


def test_kill(h: Harness, oper: FakeClient, bob: FakeClient) -> None:
    carol = h.connect("carol")
    h.join("#c", bob, carol)
    assert oper.ask("KILL bob :spamming") == []
    msgs = bob.messages()
    assert commands(msgs) == ["KILL", "ERROR"]
    assert (msgs[0].source, msgs[0].params) == (ALICE, ("bob", "spamming"))
    assert "Killed (alice (spamming))" in msgs[1].params[0]
    assert bob.closed
    quit_ = find(carol.messages(), "QUIT")
    assert (quit_.source, quit_.params) == ("bob!~user@10.0.0.2", ("Killed (alice (spamming))",))
    assert h.server.network.user("bob") is None


def test_kill_unknown_nick(oper: FakeClient) -> None:
    assert params_of(oper.ask("KILL nobody :x"), ERR_NOSUCHNICK)[0][1] == "nobody"


def test_wallops_reach_users_with_plus_w(h: Harness, oper: FakeClient, bob: FakeClient) -> None:
    carol = h.connect("carol")
    bob.ask("MODE bob +w")
    (echo,) = oper.ask("WALLOPS :maintenance at noon")
    assert (echo.command, echo.source, echo.params) == ("WALLOPS", ALICE, ("maintenance at noon",))
    (got,) = bob.messages()
    assert (got.command, got.params) == ("WALLOPS", ("maintenance at noon",))
    assert carol.messages() == []


def test_die_stops_the_server(h: Harness, oper: FakeClient) -> None:
    oper.send("DIE")
    assert h.stopped == 1


def test_rehash_without_a_config_file_is_refused(oper: FakeClient) -> None:
    msgs = oper.ask("REHASH")
    assert commands(msgs) == [RPL_REHASHING, "FAIL"]
    assert msgs[1].params[:2] == ("REHASH", "CANNOT_REHASH")


# --- HELP -----------------------------------------------------------------------------------------


def test_help_for_a_command_comes_from_its_docstring(alice: FakeClient) -> None:
    msgs = alice.ask("HELP privmsg")
    assert commands(msgs) == [RPL_HELPSTART, RPL_ENDOFHELP]
    assert msgs[0].params == ("alice", "PRIVMSG", "PRIVMSG <target>{,<target>} <text>")
    assert msgs[1].params[:2] == ("alice", "PRIVMSG")


def test_help_for_an_operator_command_says_so(alice: FakeClient) -> None:
    msgs = alice.ask("HELP KILL")
    assert params_of(msgs, RPL_HELPTXT) == [("alice", "KILL", "(IRC operators only)")]


def test_help_unknown_topic_gets_524(alice: FakeClient) -> None:
    assert params_of(alice.ask("HELP frobnicate"), ERR_HELPNOTFOUND) == [
        ("alice", "frobnicate", "No help available on this topic")
    ]


def test_help_lists_commands_operator_ones_only_to_operators(
    alice: FakeClient, bob: FakeClient
) -> None:
    def listed(client: FakeClient) -> set[str]:
        msgs = client.ask("HELP")
        assert commands(msgs)[0] == RPL_HELPSTART
        assert commands(msgs)[-1] == RPL_ENDOFHELP
        return {word for p in params_of(msgs, RPL_HELPTXT) for word in p[-1].split()}

    assert {"PRIVMSG", "JOIN", "HELP"} <= listed(bob)
    assert "KILL" not in listed(bob)
    alice.ask("OPER op pw")
    assert "KILL" in listed(alice)


def test_every_command_documents_its_syntax(h: Harness, alice: FakeClient) -> None:
    # STYLE habit 6: each handler's docstring starts with the command syntax.
    for name in sorted(COMMANDS):
        start = find(alice.ask(f"HELP {name}"), RPL_HELPSTART)
        first_word = start.params[2].split()[0].rstrip(":")
        assert first_word in (name, "HELP"), (name, start.params[2])


def test_kick_pairs_channels_with_users_as_its_help_documents(
    h: Harness, oper: FakeClient, bob: FakeClient
) -> None:
    carol = h.connect("carol")
    h.join("#a", oper, bob)
    h.join("#b", oper, carol)
    assert "<channel>{,<channel>}" in find(oper.ask("HELP KICK"), RPL_HELPSTART).params[2]
    # RFC 2812 3.2.8: channels and users pair up in order.
    msgs = oper.ask("KICK #a,#b bob,carol")
    assert params_of(msgs, "KICK") == [("#a", "bob", "alice"), ("#b", "carol", "alice")]
    assert commands(oper.ask("KICK #a,#b bob")) == [ERR_NEEDMOREPARAMS]


# --- STATS, LINKS ---------------------------------------------------------------------------


def test_stats_uptime(alice: FakeClient) -> None:
    msgs = alice.ask("STATS u")
    assert commands(msgs) == [RPL_STATSUPTIME, RPL_ENDOFSTATS]
    assert msgs[0].params[1].startswith("Server Up 0 days 0:00:")
    assert msgs[1].params == ("alice", "u", "End of /STATS report")


def test_stats_command_counts(alice: FakeClient) -> None:
    alice.send("PING a", "PING b", "PRIVMSG alice :me")
    counts = {p[1]: p[2] for p in params_of(alice.ask("STATS m"), RPL_STATSCOMMANDS)}
    assert counts["PING"] == "2"
    assert counts["PRIVMSG"] == "1"
    assert counts["STATS"] == "1"


def test_stats_operators_only_for_operators(alice: FakeClient, bob: FakeClient) -> None:
    assert commands(bob.ask("STATS o")) == [RPL_ENDOFSTATS]
    alice.ask("OPER op pw")
    names = [p[-1] for p in params_of(alice.ask("STATS o"), RPL_STATSOLINE)]
    assert names == ["op", "hashed"]


def test_links(alice: FakeClient) -> None:
    msgs = alice.ask("LINKS")
    assert commands(msgs) == [RPL_LINKS, RPL_ENDOFLINKS]
    # <client> <mask> <server> :<hopcount> <info>; the mask is "*" in Modern IRC,
    # the server's own name on solanum and plexus: either will do.
    assert msgs[0].params[1] in ("*", "irc.test")
    assert msgs[0].params[2:] == ("irc.test", "0 A hubbub server")
    assert msgs[1].params == ("alice", "*", "End of /LINKS list")
