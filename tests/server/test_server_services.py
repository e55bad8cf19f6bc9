"""NickServ and ChanServ on the in-memory server with a real database:
the commands irssi/WeeChat/HexChat users type, registered channels kept
across a restart, and account extbans."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hubbub.protocol.numerics import (
    ERR_BANNEDFROMCHAN,
    ERR_INVALIDMODEPARAM,
    ERR_INVITEONLYCHAN,
    ERR_NOSUCHNICK,
    RPL_LOGGEDIN,
    RPL_LOGGEDOUT,
    RPL_WHOISCERTFP,
)

from accountkit import PASSWORD, accounts_harness, ask, register
from serverharness import FakeClient, Harness, commands, find, params_of

NS = "NickServ!NickServ@services"
CS = "ChanServ!ChanServ@services"


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    yield from accounts_harness(tmp_path)


def notices(msgs: list) -> list[str]:  # type: ignore[type-arg]
    return [m.params[1] for m in msgs if m.command == "NOTICE" and m.source in (NS, CS)]


def said(h: Harness, client: FakeClient, line: str) -> list[str]:
    return notices(ask(h, client, line))


def identified(
    h: Harness, nick: str, ip: str = "10.0.0.1", caps: tuple[str, ...] = ()
) -> FakeClient:
    """A registered client logged in to the account of its nick (registered first)."""
    if h.server.accounts.owner(nick) is None:
        register(h, nick)
    client = h.connect(f"{nick}_", caps, ip=ip)
    assert said(h, client, f"PRIVMSG NickServ :IDENTIFY {nick} {PASSWORD}") == [
        f"You are now logged in as {nick}."
    ]
    ask(h, client, f"NICK {nick}")
    return client


# --- NickServ ----------------------------------------------------------------------


def test_nickserv_register_identify_logout(h: Harness) -> None:
    dan = h.connect("dan")
    msgs = ask(h, dan, f"PRIVMSG NickServ :REGISTER {PASSWORD}")
    assert RPL_LOGGEDIN in commands(msgs)
    assert notices(msgs)[0].startswith("Account created: you are logged in as dan")
    assert said(h, dan, "NS LOGOUT") == ["You are now logged out."]
    assert dan.user.account is None
    assert said(h, dan, f"NS IDENTIFY {PASSWORD}") == ["You are now logged in as dan."]
    ask(h, dan, "NS LOGOUT")
    assert said(h, dan, "NS IDENTIFY dan wrong") == ["Invalid account name or password."]
    assert said(h, dan, f"NICKSERV LOGIN dan {PASSWORD}") == ["You are now logged in as dan."]
    assert commands(ask(h, dan, "NS LOGOUT"))[-2:] == [RPL_LOGGEDOUT, "NOTICE"]


def test_nickserv_help_and_unknown_commands(h: Harness) -> None:
    dan = h.connect("dan")
    helped = said(h, dan, "PRIVMSG NickServ :HELP")
    assert helped[0].startswith("NickServ keeps accounts")
    assert any(line.startswith("  GHOST <nick> [<password>]") for line in helped)
    assert said(h, dan, "NS HELP ghost")[0] == "GHOST <nick> [<password>]"
    assert said(h, dan, "NS FROB") == [
        "Unknown command FROB. Type /msg NickServ HELP for a list of commands."
    ]
    assert said(h, dan, "NS IDENTIFY") == ["Syntax: IDENTIFY [<account>] <password>"]
    # A NOTICE to a service is never answered (no loops with other bots).
    assert ask(h, dan, "NOTICE NickServ :HELP") == []


def test_a_line_to_nickserv_is_echoed_only_to_its_sender(h: Harness) -> None:
    eve = h.connect("eve", ["echo-message"])
    msgs = ask(h, eve, "PRIVMSG NickServ :HELP")
    assert msgs[0].command == "PRIVMSG" and msgs[0].params == ("NickServ", "HELP")


def test_services_are_off_without_accounts() -> None:
    plain = Harness()
    try:
        bob = plain.connect("bob")
        assert commands(bob.ask("PRIVMSG NickServ :HELP")) == [ERR_NOSUCHNICK]
        assert commands(bob.ask("NS HELP")) == [ERR_NOSUCHNICK]
        assert "sasl" not in " ".join(m.params[-1] for m in bob.ask("CAP LS 302"))
        assert commands(bob.ask("NICK NickServ"))[0] == "NICK"
    finally:
        plain.close()


def test_ghost_frees_a_nick_for_its_owner(h: Harness) -> None:
    register(h, "gus")
    old = h.connect("gus_old", ip="10.0.0.9")
    ask(h, old, f"NS IDENTIFY gus {PASSWORD}")
    ask(h, old, "NICK gus")
    assert old.user.nick == "gus"
    new = identified(h, "gus", ip="10.0.0.8")  # logged in, but the nick is taken
    assert new.user.nick == "gus_"
    assert said(h, new, "NS GHOST gus") == ["gus has been disconnected."]
    assert old.closed
    h.run()
    assert commands(ask(h, new, "NICK gus")) == ["NICK"]
    # Without logging in, the password does it; a stranger gets nothing.
    stranger = h.connect("stranger", ip="10.0.0.7")
    assert said(h, stranger, "NS GHOST gus") == ["gus is not a nick of your account."]
    assert said(h, stranger, "NS GHOST gus wrong") == ["Invalid password."]
    assert said(h, stranger, f"NS GHOST gus {PASSWORD}") == ["gus has been disconnected."]
    assert new.closed


def test_set_password_info_and_drop(h: Harness) -> None:
    hal = identified(h, "hal")
    assert said(h, hal, "NS SET PASSWORD new-password-1") == ["Password changed."]
    assert said(h, hal, "NS SET PASSWORD tiny") == ["Passwords need at least 8 characters."]
    ask(h, hal, "NS LOGOUT")
    assert said(h, hal, f"NS IDENTIFY hal {PASSWORD}") == ["Invalid account name or password."]
    assert said(h, hal, "NS IDENTIFY hal new-password-1") == ["You are now logged in as hal."]
    info = said(h, hal, "NS INFO")
    assert info[0].startswith("Account hal, registered ")
    assert info[1] == "Logged in now as: hal."
    assert "E-mail: (none)." in info
    other = h.connect("ivy", ip="10.0.0.4")
    assert not any(line.startswith("E-mail") for line in said(h, other, "NS INFO hal"))
    assert said(h, other, "NS DROP hal") == ["Syntax: DROP hal <password>"]
    msgs = ask(h, hal, "NS DROP hal new-password-1")
    assert RPL_LOGGEDOUT in commands(msgs)
    assert notices(msgs) == ["The account hal is dropped."]
    assert h.server.accounts.owner("hal") is None and hal.user.account is None
    assert said(h, other, "NS INFO hal") == ["There is no account hal."]


def test_certificates_are_managed_and_shown_in_whois(h: Harness) -> None:
    fp = "ef" * 32
    register(h, "kim")
    kim = h.connect("kim_", tls=True, certfp=fp, ip="10.0.0.2")
    first = said(h, kim, "NS CERT ADD")
    assert first == ["Log in first: /msg NickServ IDENTIFY <account> <password>"]
    ask(h, kim, f"NS IDENTIFY kim {PASSWORD}")
    assert said(h, kim, "NS CERT ADD") == [f"Certificate {fp} now logs in to kim."]
    fp2 = "12" * 32
    assert said(h, kim, f"NS CERT ADD {fp2}") == [f"Certificate {fp2} now logs in to kim."]
    listed = said(h, kim, "NS CERT LIST")
    assert listed == [f"  {fp2}", f"  {fp}", "2 certificate(s) log in to kim."]
    assert said(h, kim, f"NS CERT DEL {fp2}") == [f"Certificate {fp2} removed."]
    assert said(h, kim, "NS CERT ADD nothex")[0].startswith("Give a SHA-256 fingerprint")
    assert params_of(kim.ask("WHOIS kim_"), RPL_WHOISCERTFP)[0][1:] == (
        "kim_", f"has client certificate fingerprint {fp}"
    )
    other = h.connect("lee", ip="10.0.0.3")
    assert params_of(other.ask("WHOIS kim_"), RPL_WHOISCERTFP) == []
    taken = identified(h, "mo", ip="10.0.0.4")
    refused = said(h, taken, f"NS CERT ADD {fp}")
    assert refused == ["That certificate already logs in to an account."]


# --- ChanServ -----------------------------------------------------------------------


def test_chanserv_register_requires_an_op_logged_in(h: Harness) -> None:
    ann = h.connect("ann")
    h.join("#tea", ann)
    assert said(h, ann, "CS REGISTER #tea")[0].startswith("Log in to an account first")
    ann = identified(h, "bea")
    h.join("#coffee", h.connect("opfirst", ip="10.0.0.6"), ann)
    refused = said(h, ann, "CS REGISTER #coffee")
    assert refused == ["You must be an operator of #coffee to register it."]
    assert said(h, ann, "CS REGISTER #nowhere") == ["#nowhere does not exist."]


def test_the_servers_rooms_cannot_be_registered(tmp_path: Path) -> None:
    for h in accounts_harness(tmp_path, {"server": {"auto_join": ["#lobby"]}}):
        oper = identified(h, "olga")
        assert said(h, oper, "CS REGISTER #lobby") == [
            "#lobby belongs to the server: it cannot be registered."
        ]


def test_a_founder_gets_op_back_and_grants_status(h: Harness) -> None:
    fred = identified(h, "fred", ip="10.0.0.1")
    gina = identified(h, "gina", ip="10.0.0.2")
    h.join("#den", fred, gina)
    assert said(h, fred, "CS REGISTER #den")[0].startswith("#den is registered to fred.")
    assert said(h, gina, "CS AMODE #den +o gina") == ["Only the founder of #den can do that."]
    msgs = ask(h, fred, "CS AMODE #den +v gina")
    assert notices(msgs) == ["gina gets +v when joining #den."]
    mode = [m for m in gina.messages() if m.command == "MODE"]
    assert [(m.source, m.params) for m in mode] == [(CS, ("#den", "+v", "gina"))]
    ask(h, fred, "PART #den", "JOIN #den")
    h.run()
    seen = [m for m in gina.messages() if m.command == "MODE"]
    assert [(m.source, m.params) for m in seen] == [(CS, ("#den", "+o", "fred"))]
    assert h.channel("#den").members[fred.user] == "o"  # type: ignore[union-attr]
    assert said(h, fred, "CS INFO #den")[1:] == ["  gina: +v"]
    assert said(h, fred, "CS ACCESS #den DEL gina") == ["gina gets no status in #den any more."]
    assert said(h, fred, "CS ACCESS #den ADD nobody op") == ["There is no account nobody."]


def test_a_registered_channel_stays_when_empty_and_survives_a_restart(tmp_path: Path) -> None:
    for h in accounts_harness(tmp_path):
        fred = identified(h, "fred", ip="10.0.0.1")
        gina = identified(h, "gina", ip="10.0.0.2")
        h.join("#keep", fred, gina)
        ask(h, fred, "CS REGISTER #keep", "CS AMODE #keep +o gina", "TOPIC #keep :Kept topic",
            "MODE #keep +ikl sekrit 20", "MODE #keep +b *!*@spam.example")  # fmt: skip
        ask(h, fred, "PART #keep")
        ask(h, gina, "PART #keep")
        assert h.channel("#keep") is not None  # kept while empty
    for h in accounts_harness(tmp_path):  # the same database: a restart
        chan = h.channel("#keep")
        assert chan is not None and chan.topic == "Kept topic"
        assert chan.key == "sekrit" and chan.limit == 20 and chan.modes >= {"i", "n", "t"}
        assert "*!*@spam.example" in chan.bans
        # The founder gets in (despite +i and +k) and gets +o back from ChanServ.
        fred = identified(h, "fred", ip="10.0.0.1")
        msgs = ask(h, fred, "JOIN #keep")
        assert commands(msgs)[0] == "JOIN"
        assert find(msgs, "MODE").params == ("#keep", "+o", "fred")
        assert find(msgs, "332").params[-1] == "Kept topic"
        # Someone else faces the modes.
        walker = h.connect("walker", ip="10.0.0.3")
        assert commands(ask(h, walker, "JOIN #keep sekrit")) == [ERR_INVITEONLYCHAN]
        # gina's access was kept too: she gets +o on join and may op others.
        gina = identified(h, "gina", ip="10.0.0.2")
        assert find(ask(h, gina, "JOIN #keep"), "MODE").params == ("#keep", "+o", "gina")
        assert said(h, fred, "CS DROP #keep") == ["#keep is no longer registered."]
    for h in accounts_harness(tmp_path):
        assert h.channel("#keep") is None


def test_identifying_in_a_channel_gives_the_status_at_once(h: Harness) -> None:
    fred = identified(h, "fred")
    h.join("#now", fred)
    ask(h, fred, "CS REGISTER #now", "MODE #now -o fred")
    ask(h, fred, "NS LOGOUT")
    msgs = ask(h, fred, f"NS IDENTIFY fred {PASSWORD}")
    assert (CS, ("#now", "+o", "fred")) in [(m.source, m.params) for m in msgs]


def test_a_renamed_registered_channel_is_kept_under_its_new_name(tmp_path: Path) -> None:
    for h in accounts_harness(tmp_path):
        fred = identified(h, "fred")
        h.join("#old", fred)
        ask(h, fred, "CS REGISTER #old", "TOPIC #old :moved", "RENAME #old #new")
    for h in accounts_harness(tmp_path):
        assert h.channel("#old") is None
        assert h.channel("#new") is not None and h.channel("#new").topic == "moved"  # type: ignore[union-attr]


# --- account extbans ------------------------------------------------------------------


def test_account_extbans_in_ban_exception_and_invite_lists(h: Harness) -> None:
    op = h.connect("op", ip="10.0.0.1")
    bob = identified(h, "bob", ip="10.0.0.2")
    nobody = h.connect("bob2", ip="10.0.0.3")
    h.join("#x", op)
    ask(h, op, "MODE #x +b $a:BOB")
    assert commands(ask(h, bob, "JOIN #x")) == [ERR_BANNEDFROMCHAN]
    assert commands(ask(h, nobody, "JOIN #x"))[0] == "JOIN"
    ask(h, op, "MODE #x +b *!*@* ", "MODE #x +e $a:bob")
    assert commands(ask(h, bob, "JOIN #x"))[0] == "JOIN"
    h.join("#inv", op)
    ask(h, op, "MODE #inv +i", "MODE #inv +I $a")
    assert commands(ask(h, bob, "JOIN #inv"))[0] == "JOIN"
    assert commands(ask(h, nobody, "JOIN #inv")) == [ERR_INVITEONLYCHAN]
    assert commands(ask(h, op, "MODE #x +b $z:thing")) == [ERR_INVALIDMODEPARAM]
    assert "$a:BOB" in [m.params[2] for m in ask(h, op, "MODE #x +b") if m.command == "367"]


def test_isupport_advertises_account_extbans(h: Harness) -> None:
    burst = h.connect().ask("NICK x", "USER x 0 * :x")
    tokens = " ".join(" ".join(m.params) for m in burst if m.command == "005").split()
    assert "EXTBAN=$,a" in tokens and "ACCOUNTEXTBAN=a" in tokens
