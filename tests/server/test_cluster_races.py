"""Two nodes of a cluster in one process: races settled by the log's order.

The nodes share a :class:`~clusterharness.MemoryLog` (the Redis log's
stand-in): what they publish in the same loop turn is a race, and the first
append wins on both nodes. After each test every node has the same state
(:meth:`Network.digest`).
"""

from __future__ import annotations

from pathlib import Path

from hubbub.protocol.numerics import ERR_NICKNAMEINUSE, RPL_WELCOME, RPL_WHOISSERVER
from hubbub.server.pipeline import AHEAD

from clusterharness import Cluster
from serverharness import FakeClient, commands, find_all, params_of


def test_two_nodes_share_one_network() -> None:
    c = Cluster(2)
    n1, n2 = c.nodes
    alice, bob = n1.connect("alice"), n2.connect("bob", ip="10.0.0.2")
    alice.send("JOIN #tea")
    bob.send("JOIN #tea")
    joins = find_all(alice.messages(), "JOIN")
    assert [m.source.partition("!")[0] for m in joins if m.source] == ["alice", "bob"]
    alice.send("PRIVMSG #tea :hello from n1")
    assert params_of(bob.messages(), "PRIVMSG") == [("#tea", "hello from n1")]
    whois = bob.ask("WHOIS alice")
    assert params_of(whois, RPL_WHOISSERVER)[0][2] == "n1.irc.test"
    names = bob.ask("NAMES #tea")
    assert "@alice bob" in names[0].params[-1]
    assert len(c.digests()) == 1


def test_a_nick_race_has_one_winner_and_the_loser_gets_433() -> None:
    c = Cluster(2)
    n1, n2 = c.nodes
    alice, bob = n1.connect("alice"), n2.connect("bob", ip="10.0.0.2")
    for i in range(20):
        alice.feed(f"NICK race{i}")
        bob.feed(f"NICK race{i}")
        c.run()
        a, b = alice.messages(), bob.messages()
        # alice's node appended first: she has the nick, on both nodes.
        assert params_of(a, "NICK") == [(f"race{i}",)], a
        assert commands(b) == [ERR_NICKNAMEINUSE], b
        assert c.network(2).user(f"race{i}") is c.network(2).by_uid[alice.user.uid]
        assert bob.user.nick == "bob"
    assert len(c.digests()) == 1


def test_a_registration_race_has_one_winner() -> None:
    c = Cluster(2)
    n1, n2 = c.nodes
    one, two = n1.connect(), n2.connect(ip="10.0.0.2")
    one.feed("NICK dave", "USER d 0 * :D")
    two.feed("NICK dave", "USER d 0 * :D")
    c.run()
    assert RPL_WELCOME in commands(one.messages())
    lost = two.messages()
    assert commands(lost) == [ERR_NICKNAMEINUSE] and two.session.user is None
    # The loser picks another nick and is welcomed.
    assert RPL_WELCOME in commands(two.ask("NICK dave2"))
    assert sorted(u.nick for u in c.network(1).users.values()) == ["dave", "dave2"]
    assert len(c.digests()) == 1


def test_a_channel_created_on_two_nodes_at_once_has_exactly_one_op() -> None:
    c = Cluster(2)
    n1, n2 = c.nodes
    alice, bob = n1.connect("alice"), n2.connect("bob", ip="10.0.0.2")
    bob.feed("JOIN #new")
    alice.feed("JOIN #new")
    c.run()
    for node in (1, 2):
        chan = c.network(node).channel("#new")
        assert chan is not None
        assert sorted((m.nick, modes) for m, modes in chan.members.items()) == [
            ("alice", ""), ("bob", "o")
        ]
    assert "@bob" in find_all(alice.messages(), "353")[0].params[-1]
    assert len(c.digests()) == 1


def test_a_client_gone_while_its_registration_was_in_the_log_leaves_no_ghost() -> None:
    c = Cluster(2)
    n1 = c.nodes[0]
    early = n1.connect()
    early.feed("NICK ghost", "USER g 0 * :G")
    early.session.connection_lost()  # before the UserRegistered came back
    c.run()
    assert c.network(1).user("ghost") is None and c.network(2).user("ghost") is None
    assert len(c.digests()) == 1


def test_a_gone_node_s_users_quit_on_the_others_and_free_their_nicks() -> None:
    c = Cluster(2)
    n1, n2 = c.nodes
    alice = n1.connect("alice")
    stay = n1.connect("stay", ip="10.0.0.9")
    users = [n2.connect(f"u{i}", ip=f"10.0.1.{i}") for i in range(5)]
    for client in (alice, *users):
        client.send("JOIN #x")
    alice.messages()
    c.log.gone("n2")
    c.run()
    quits = find_all(alice.messages(), "QUIT")
    assert sorted(m.source.partition("!")[0] for m in quits if m.source) == [
        f"u{i}" for i in range(5)
    ]
    assert {m.params[0] for m in quits} == {"irc.test n2.irc.test"}
    assert [u.nick for u in c.network(1).users.values()] == ["alice", "stay"]
    assert "n2" not in c.network(1).nodes
    # The nicks are free again.
    assert params_of(alice.ask("NICK u0"), "NICK") == [("u0",)]
    assert stay.messages() == []


def test_every_node_delivers_a_channel_s_lines_in_the_same_order() -> None:
    c = Cluster(3)
    clients: list[FakeClient] = []
    for i, node in enumerate(c.nodes):
        for j in range(3):
            client = node.connect(f"c{i}{j}", ("message-tags",), ip=f"10.0.{i}.{j}")
            client.send("JOIN #order")
            clients.append(client)
    for client in clients:
        client.messages()
    for k in range(10):
        for client in clients:
            client.feed(f"PRIVMSG #order :{client.nick} {k}")
        c.run()
    seen = [
        [m.tags["msgid"] for m in find_all(client.messages(), "PRIVMSG")] for client in clients
    ]
    # Each client sees everyone's lines but its own (no echo-message), in one order.
    everyone = {msgid for lines in seen for msgid in lines}
    assert len(everyone) == 90
    order = {event.msgid: i for i, event in enumerate(c.log.entries)}
    for lines in seen:
        assert len(lines) == 80
        assert lines == sorted(lines, key=order.__getitem__)
    assert len(c.digests()) == 1


def test_monitor_who_and_list_agree_across_nodes() -> None:
    c = Cluster(2)
    n1, n2 = c.nodes
    watcher = n1.connect("watcher")
    assert commands(watcher.ask("MONITOR + bob")) == ["731"]  # offline
    bob = n2.connect("bob", ip="10.0.0.2")
    c.run()
    assert params_of(watcher.messages(), "730")[0][1].startswith("bob!")
    bob.send("JOIN #tea", "TOPIC #tea :Assam")
    who = watcher.ask("WHO #tea")
    assert [(m.params[2], m.params[4], m.params[5]) for m in find_all(who, "352")] == [
        ("~user", "n2.irc.test", "bob")
    ]
    for client in (watcher, bob):
        listed = find_all(client.ask("LIST"), "322")
        assert [(m.params[1], m.params[2], m.params[3]) for m in listed] == [("#tea", "1", "Assam")]
    bob.send("NICK robert")
    c.run()
    assert commands(watcher.messages()) == ["731"]  # bob went offline by renaming
    bob.disconnect()
    c.run()
    assert c.network(1).user("robert") is None
    assert len(c.digests()) == 1


def test_a_netsplit_is_one_batch_for_clients_with_batch() -> None:
    c = Cluster(2)
    n1, n2 = c.nodes
    alice = n1.connect("alice", ("batch", "message-tags"))
    users = [n2.connect(f"u{i}", ip=f"10.0.1.{i}") for i in range(3)]
    for client in (alice, *users):
        client.send("JOIN #x")
    alice.messages()
    c.log.gone("n2")
    c.run()
    got = alice.messages()
    assert commands(got) == ["BATCH", "QUIT", "QUIT", "QUIT", "BATCH"]
    ref = got[0].params[0][1:]
    assert got[0].params[1:] == ("netsplit", "irc.test", "n2.irc.test")
    assert {m.tags.get("batch") for m in got[1:4]} == {ref} and got[4].params == (f"-{ref}",)


def test_an_account_registered_on_one_node_owns_its_nick_on_the_others(tmp_path: Path) -> None:
    c = Cluster(2, databases=tmp_path)
    try:
        n1, n2 = c.nodes
        maker = n1.connect("owner")
        maker.send("REGISTER * * correct-horse")
        n1.settle()
        c.run()
        assert "REGISTER" in commands(maker.messages())
        # n2 never read it from a store: it heard of the account through the log.
        assert n2.server.accounts.owner("OWNER") == "owner"
        other = n2.connect(ip="10.0.0.5")
        other.send("NICK owner", "USER o 0 * :O")
        n2.settle()
        assert commands(other.messages()) == [ERR_NICKNAMEINUSE]
        # Dropped on n1: its nick is free on n2 too.
        maker.send("PRIVMSG NickServ :DROP owner correct-horse")
        n1.settle()
        c.run()
        assert n2.server.accounts.owner("owner") is None
        maker.disconnect()
        c.run()
        assert RPL_WELCOME in commands(other.ask("NICK owner"))
    finally:
        c.close()


def test_an_operator_kills_a_user_on_another_node() -> None:
    c = Cluster(2, extra={"operators": [{"name": "admin", "password": "pw"}]})
    n1, n2 = c.nodes
    oper = n1.connect("oper")
    oper.send("OPER admin pw", "JOIN #x")
    victim = n2.connect("victim", ip="10.0.0.2")
    victim.send("JOIN #x")
    oper.messages()
    victim.messages()
    oper.send("KILL victim :enough")
    c.run()
    assert commands(victim.messages())[:2] == ["KILL", "ERROR"] and victim.closed
    assert params_of(oper.messages(), "QUIT") == [("Killed (oper (enough))",)]
    assert c.network(1).user("victim") is None and c.network(2).user("victim") is None
    assert len(c.digests()) == 1


def test_lines_that_ask_for_no_answer_go_ahead_up_to_a_bound_and_keep_their_order() -> None:
    c = Cluster(2)
    n1, n2 = c.nodes
    alice, bob = n1.connect("alice"), n2.connect("bob", ip="10.0.0.2")
    echo = n1.connect("echo", caps=("echo-message",), ip="10.0.0.3")
    for client in (alice, bob, echo):
        client.send("JOIN #tea")
    for client in (alice, bob, echo):
        client.messages()
    lines = [f"PRIVMSG #tea :line {i}" for i in range(AHEAD + 8)]
    alice.feed(*lines, "PING after")
    # Without echo-message a line gets nothing back: AHEAD lines go ahead
    # unheld, the next one is held, and the rest wait behind it.
    assert len(c.log.pending) == AHEAD + 1
    echo.feed(*lines[:3])
    # With echo-message each line waits for its echo.
    assert len(c.log.pending) == AHEAD + 2
    c.run()
    said = [f"line {i}" for i in range(AHEAD + 8)]
    heard = [m for m in bob.messages() if m.command == "PRIVMSG"]
    assert [m.params[1] for m in heard if m.source and m.source.startswith("alice!")] == said
    assert [m.params[1] for m in heard if m.source and m.source.startswith("echo!")] == said[:3]
    got = alice.messages()
    assert [m.command for m in got if m.source is None or not m.source.startswith("echo!")] == [
        "PONG"
    ]  # nothing of her own lines comes back to her, and her PING was answered
    echoed = echo.messages()
    assert [m.params[1] for m in echoed if m.source and m.source.startswith("echo!")] == said[:3]
    assert not n1.server.pipeline._in_flight and not n1.server.pipeline._ahead
    assert len(c.digests()) == 1
