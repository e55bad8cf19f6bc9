"""Three ``hubbub serve`` nodes on one Redis serve one network.

Real processes and a real redis-server; after each test every node has
read the log to the same entry and has the same state hash (``STATS l``).
"""

from __future__ import annotations

import threading
import time

from clusterkit import Nodes
from ircclient import LineClient

CAPS = ("message-tags", "server-time", "echo-message")


def members(client: LineClient, channel: str, count: int, timeout: float = 10) -> list[str]:
    """NAMES ``channel`` as ``client`` sees it, once it has ``count`` members."""
    deadline = time.monotonic() + timeout
    while True:
        client.send(f"NAMES {channel}")
        names = sorted(client.expect("353").params[-1].split())
        client.expect("366")
        if len(names) == count or time.monotonic() > deadline:
            assert len(names) == count, names
            return names
        time.sleep(0.05)


def test_three_nodes_are_one_network(nodes: Nodes) -> None:
    for n in ("n1", "n2", "n3"):
        nodes.start(n)
    alice = nodes["n1"].client("alice")
    bob = nodes["n2"].client("bob")
    carol = nodes["n3"].client("carol")
    for c in (alice, bob, carol):
        c.send("JOIN #tea")
        c.expect("366", c.nick or "", "#tea")
    alice.send("TOPIC #tea :Earl Grey")
    assert bob.expect("TOPIC", "#tea").params[1] == "Earl Grey"
    carol.send("PRIVMSG #tea :hello from n3")
    assert alice.expect("PRIVMSG", "#tea").params[1] == "hello from n3"
    assert bob.expect("PRIVMSG", "#tea").params[1] == "hello from n3"
    bob.send("PRIVMSG alice :psst")
    assert alice.expect("PRIVMSG", "alice").params[1] == "psst"
    alice.send("WHOIS carol")
    assert alice.expect("312", "alice", "carol").params[2] == "n3.irc.test.local"
    alice.send("LINKS")
    links = [m for m in alice.collect("365") if m.command == "364"]
    assert sorted(m.params[1] for m in links) == [f"n{i}.irc.test.local" for i in (1, 2, 3)]
    bob.send("LUSERS")
    lusers = {m.command: m for m in bob.collect("266")}
    assert "on 3 servers" in lusers["251"].params[-1]
    assert lusers["255"].params[-1] == "I have 1 clients and 2 servers"
    alice.send("MODE #tea +b *!*@evil.example")
    carol.expect("MODE", "#tea", "+b")
    for c in (alice, bob, carol):
        c.send("NAMES #tea")
        names = c.expect("353")
        assert sorted(names.params[-1].split()) == ["@alice", "bob", "carol"]
        c.send("MODE #tea b")
        assert c.expect("367", c.nick or "", "#tea").params[2] == "*!*@evil.example"
    nodes.converged()


def test_a_thousand_interleaved_lines_reach_every_node_in_one_order(nodes: Nodes) -> None:
    for n in ("n1", "n2", "n3"):
        nodes.start(n)
    senders = [nodes[n].client(f"s{i}", CAPS) for i, n in enumerate(("n1", "n2", "n3"))]
    readers = [nodes[n].client(f"r{i}", CAPS) for i, n in enumerate(("n1", "n2", "n3"))]
    everyone = senders + readers
    for c in everyone:
        c.send("JOIN #busy")
        c.expect("366", c.nick or "", "#busy")
    for c in everyone:
        members(c, "#busy", len(everyone))
    per_sender = 1000
    total = per_sender * len(senders)

    def talk(client: LineClient, who: int) -> None:
        client.send("".join(f"PRIVMSG #busy :{who} {k}\r\n" for k in range(per_sender)))

    threads = [threading.Thread(target=talk, args=(s, i)) for i, s in enumerate(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seen = []
    for c in everyone:
        lines = []
        while len(lines) < total:
            msg = c.expect("PRIVMSG", "#busy", timeout=30)
            lines.append((msg.tags["msgid"], msg.tags["time"], msg.params[1]))
        seen.append(lines)
    first = seen[0]
    assert len({msgid for msgid, _, _ in first}) == total
    for lines in seen[1:]:
        assert lines == first  # the same msgids, times and texts, in the same order
    # Each sender's lines in the order it sent them, interleaved with the others'.
    for who in range(len(senders)):
        mine = [int(text.split()[1]) for _, _, text in first if text.split()[0] == str(who)]
        assert mine == list(range(per_sender))
    assert len({text.split()[0] for _, _, text in first[:per_sender]}) > 1, "not interleaved"
    nodes.converged()


def test_200_nick_races_between_two_nodes_each_have_one_winner(nodes: Nodes) -> None:
    nodes.start("n1")
    nodes.start("n2")
    a = nodes["n1"].client("racer-a")
    b = nodes["n2"].client("racer-b")
    wins = {"a": 0, "b": 0}
    current = {"a": "racer-a", "b": "racer-b"}
    for i in range(200):
        # Both lines leave in the same instant, one to each node.
        a.send(f"NICK r{i}")
        b.send(f"NICK r{i}")
        outcome = {}
        for name, c in (("a", a), ("b", b)):
            mine = f"{current[name]}!"
            msg, _ = c.wait_for(lambda m, mine=mine: m.command == "433" or (  # type: ignore[misc]
                m.command == "NICK" and (m.source or "").startswith(mine)))
            outcome[name] = msg.command
        assert sorted(outcome.values()) == ["433", "NICK"], (i, outcome)
        winner = "a" if outcome["a"] == "NICK" else "b"
        wins[winner] += 1
        current[winner] = f"r{i}"
        loser = b if winner == "a" else a
        # The loser hears of the winner's rename only if they share a channel:
        # ask instead, on the loser's node.
        loser.send(f"WHOIS r{i}")
        assert loser.expect("311").params[1] == f"r{i}"
        loser.expect("318")
        # The loser takes a fresh nick, so the next round races again.
        fresh = f"lost{i}{winner}"
        loser.send(f"NICK {fresh}")
        loser.wait_for(lambda m, fresh=fresh: m.command == "NICK" and m.params[0] == fresh)  # type: ignore[misc]
        current["b" if winner == "a" else "a"] = fresh
    print("nick races won:", wins)
    assert wins["a"] + wins["b"] == 200
    nodes.converged()


def test_channels_created_on_two_nodes_at_once_have_one_op(nodes: Nodes) -> None:
    nodes.start("n1")
    nodes.start("n2")
    a = nodes["n1"].client("a")
    b = nodes["n2"].client("b")
    for i in range(50):
        a.send(f"JOIN #race{i}")
        b.send(f"JOIN #race{i}")
        a.expect("366", "a", f"#race{i}")
        b.expect("366", "b", f"#race{i}")
    state = nodes.converged()
    assert state.position > 0
    for i in range(50):
        seen = {tuple(members(c, f"#race{i}", 2)) for c in (a, b)}
        assert len(seen) == 1
        ops = [n for n in next(iter(seen)) if n.startswith("@")]
        assert len(ops) == 1, (i, seen)
