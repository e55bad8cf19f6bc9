"""Someone else's clients on different nodes of one cluster: the `irc` library
on one node and irssi (in tmux) on another chat as if on one server; and a
node that joins late gets the same state as the others."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import irc.client
import pytest

from clusterkit import Nodes
from hubtest import need
from terminal import Tmux, irssi_home


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    need(shutil.which("irssi") is not None, "irssi is not installed (apt-get install irssi)")
    need(shutil.which("tmux") is not None, "tmux is not installed (apt-get install tmux)")
    # A socket of this run's own: two test runs on one machine (two worktrees)
    # have the same tmp_path names, and kill-server would end the other's.
    session = Tmux(f"hubbub-cluster-{os.getpid()}-{tmp_path.name}", "irssi")
    try:
        yield session
    finally:
        session.run("kill-server")


def test_the_irc_library_and_irssi_on_two_nodes_chat(
    nodes: Nodes, tmux: Tmux, tmp_path: Path
) -> None:
    nodes.start("n1")
    nodes.start("n2")
    home = irssi_home(tmp_path)
    irssi = f"irssi --home={home} -c 127.0.0.1 -p {nodes['n2'].port} -n irssiuser"
    tmux.run("new-session", "-d", "-s", "irssi", "-x", "160", "-y", "48", f"TERM=screen {irssi}")
    tmux.wait_screen("End of /MOTD")

    reactor = irc.client.Reactor()
    conn = reactor.server().connect("127.0.0.1", nodes["n1"].port, "jaraco")
    heard: list[tuple[str, str]] = []
    joined, got = threading.Event(), threading.Event()

    def on_join(c: irc.client.ServerConnection, e: irc.client.Event) -> None:
        if e.target == "#both" and e.source.nick == "jaraco":
            joined.set()

    def on_pubmsg(c: irc.client.ServerConnection, e: irc.client.Event) -> None:
        heard.append((e.source.nick, e.arguments[0]))
        if e.arguments == ["hello jaraco, irssi on n2 here"]:
            got.set()

    conn.add_global_handler("welcome", lambda c, e: c.join("#both"))
    conn.add_global_handler("join", on_join)
    conn.add_global_handler("pubmsg", on_pubmsg)
    deadline = time.monotonic() + 15
    while not joined.is_set() and time.monotonic() < deadline:
        reactor.process_once(0.05)
    assert joined.is_set()

    tmux.type("/join #both")
    tmux.wait_screen("jaraco")  # the names list shows the user on the other node
    conn.privmsg("#both", "hello from the irc library on n1")
    tmux.wait_screen("hello from the irc library on n1")
    tmux.type("hello jaraco, irssi on n2 here")
    while not got.is_set() and time.monotonic() < deadline:
        reactor.process_once(0.05)
    assert ("irssiuser", "hello jaraco, irssi on n2 here") in heard
    tmux.type("/whois jaraco")
    tmux.type("/window 1")  # irssi shows WHOIS in its status window
    tmux.wait_screen("n1.irc.test.local")  # the server (node) the user is on
    conn.quit("bye")
    tmux.wait_screen("jaraco")
    nodes.converged()


def test_a_node_joining_late_gets_the_same_state(nodes: Nodes) -> None:
    nodes.extra = "snapshot_interval_s = 1"
    nodes.start("n1")
    people = [nodes["n1"].client(f"p{i}") for i in range(20)]
    for i, p in enumerate(people):
        p.send(f"JOIN #c{i % 5}")
        p.send(f"TOPIC #c{i % 5} :topic {i}")
        p.send(f"MODE #c{i % 5} +b *!*@bad{i}.example")
    for k in range(100):
        people[k % 20].send(f"PRIVMSG #c{k % 5} :line {k}")
    people[3].send("NICK renamed")
    people[4].send("QUIT :gone")
    people[5].send("AWAY :lunch")
    people[0].send("PING :done")
    people[0].expect("PONG")
    nodes["n1"].wait_for_log("snapshot at entry", timeout=10)
    time.sleep(1.5)  # a snapshot after all that
    nodes.start("n2")
    state = nodes.converged()
    assert state.position > 100
    log = nodes["n2"].log.read_text()
    assert "loaded the snapshot at entry" in log
    late = nodes["n2"].client("late")
    late.send("NAMES #c3")
    assert "renamed" in late.expect("353").params[-1].split()
    late.send("WHOIS p5")
    assert late.expect("301").params[-1] == "lunch"
    nodes.converged()
