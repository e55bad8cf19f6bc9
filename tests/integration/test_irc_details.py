"""Protocol details that real clients and the irctest suite rely on, checked
against a real server (each one was a bug once)."""

from __future__ import annotations

from hubtest import ServerFactory

NO_LOBBY = "[server]\nauto_join = []\n[limits]\nflood_control = false\n"


def test_kick_pairs_channels_with_users(server_factory: ServerFactory) -> None:
    srv = server_factory(NO_LOBBY)
    op, bar, baz, qux = (srv.client(n) for n in ("op", "bar", "baz", "qux"))
    for c in (op, bar, baz, qux):
        c.send("JOIN #chan")
        c.expect("366", c.nick or "", "#chan")
    qux.quiet(0.2)
    op.send("KICK #chan,#chan bar,baz :bye")
    kicks = [qux.expect("KICK"), qux.expect("KICK")]
    assert sorted(k.params[1] for k in kicks) == ["bar", "baz"]
    assert all(k.params[0] == "#chan" and k.params[2] == "bye" for k in kicks)


def test_message_to_oneself_arrives_and_is_echoed_once_labelled(
    server_factory: ServerFactory,
) -> None:
    srv = server_factory(NO_LOBBY)
    me = srv.client("narcissus", caps=("echo-message", "batch", "labeled-response"))
    me.send("@label=12345 PRIVMSG narcissus :hi me")
    first, second = me.expect("PRIVMSG"), me.expect("PRIVMSG")
    labels = [m.tags.get("label") for m in (first, second)]
    assert sorted(labels, key=str) == ["12345", None]
    plain = srv.client("echo")
    plain.send("PRIVMSG echo :just once")
    assert plain.expect("PRIVMSG").params[1] == "just once"
    assert not [m for m in plain.quiet(0.3) if m.command == "PRIVMSG"]


def test_who_by_exact_nick_sees_invisible_users(server_factory: ServerFactory) -> None:
    srv = server_factory(NO_LOBBY)
    evan = srv.client("evan")
    evan.send("MODE evan +i")
    evan.expect("MODE")
    other = srv.client("shiv")
    other.send("WHO eva*")
    assert [m.command for m in other.collect("315")] == ["315"]
    other.send("WHO evan")
    assert [m.command for m in other.collect("315")] == ["352", "315"]


def test_links_names_this_server(server_factory: ServerFactory) -> None:
    srv = server_factory(NO_LOBBY)
    c = srv.client("linker")
    c.send("LINKS")
    link = c.expect("364")
    assert link.params[1:3] == ("irc.test.local", "irc.test.local")
    c.expect("365")


OPERS = NO_LOBBY + '[[operators]]\nname = "boss"\npassword = "hunter2"\n'


def test_oper_chghost_tells_chghost_clients(server_factory: ServerFactory) -> None:
    srv = server_factory(OPERS)
    boss = srv.client("boss")
    boss.send("OPER boss hunter2")
    boss.expect("381")
    watcher = srv.client("watcher", caps=("chghost",))
    target = srv.client("target")
    for c in (watcher, target):
        c.send("JOIN #room")
        c.expect("366", c.nick or "", "#room")
    boss.send("CHGHOST target vhost staff.example.org")
    change = watcher.expect("CHGHOST")
    assert change.source is not None and change.source.startswith("target!")
    assert change.params == ("vhost", "staff.example.org")
    watcher.send("WHOIS target")
    assert watcher.expect("311").params[2:4] == ("vhost", "staff.example.org")
    target.send("CHGHOST target a b.c")
    target.expect("481")


def test_isupport_announces_clienttagdeny_and_utf8only(server_factory: ServerFactory) -> None:
    srv = server_factory(NO_LOBBY)
    burst = srv.client().register("tokens")
    tokens = [t for m in burst if m.command == "005" for t in m.params[1:-1]]
    assert "CLIENTTAGDENY=" in tokens and "UTF8ONLY" in tokens
