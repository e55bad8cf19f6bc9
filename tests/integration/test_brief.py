"""The brief, end to end against a real ``hubbub serve``: many clients at once,
every message broadcast in real time, unique nicknames, and everyone told
when someone leaves."""

from __future__ import annotations

import socket

from hubtest import RunningServer


def test_two_clients_chat_in_a_channel(server: RunningServer) -> None:
    alice = server.client("alice")
    bob = server.client("bob")
    alice.send("JOIN #team")
    alice.expect("366", "alice", "#team")
    bob.send("JOIN #team")
    names = bob.expect("353", "bob", "=", "#team")
    assert names.params[-1].split() == ["@alice", "bob"]
    alice.expect("JOIN", "#team")  # alice sees bob arrive
    bob.send("PRIVMSG #team :hello, alice")
    msg = alice.expect("PRIVMSG", "#team")
    assert msg.params[1] == "hello, alice"
    assert msg.source is not None and msg.source.startswith("bob!")
    alice.send("PRIVMSG bob :hi bob, privately")
    assert bob.expect("PRIVMSG", "bob").params[1] == "hi bob, privately"


def test_everyone_lands_in_the_lobby_and_hears_everyone(server: RunningServer) -> None:
    """The brief's single room: no JOIN typed, every line reaches every client."""
    clients = [server.client(f"user{i}") for i in range(5)]
    for c in clients:
        # auto_join put each of them in #lobby as part of registration
        c.expect("366", c.nick or "", "#lobby")
    clients[2].send("PRIVMSG #lobby :one line for all")
    for i, c in enumerate(clients):
        if i == 2:
            continue
        msg = c.expect("PRIVMSG", "#lobby")
        assert msg.params[1] == "one line for all"
        assert msg.source is not None and msg.source.startswith("user2!")


def test_nick_collision_gets_433_then_second_choice_works(server: RunningServer) -> None:
    server.client("carol")
    other = server.client()
    other.send("NICK carol")
    other.send("USER c 0 * :Another Carol")
    err = other.expect("433")
    assert err.params[1] == "carol"
    other.send("NICK CAROL")  # the same nick in another case is still taken
    other.expect("433")
    other.send("NICK carol2")
    other.expect("001", "carol2")


def test_nick_change_is_broadcast_to_channel_peers(server: RunningServer) -> None:
    a = server.client("dave")
    b = server.client("erin")
    a.expect("JOIN", "#lobby")  # erin's arrival
    b.send("NICK erin_")
    assert b.expect("NICK").params[0] == "erin_"
    change = a.expect("NICK")
    assert change.source is not None and change.source.startswith("erin!")
    assert change.params[0] == "erin_"


def test_quit_is_announced_once_with_its_reason(server: RunningServer) -> None:
    a = server.client("frank")
    b = server.client("grace")
    a.expect("JOIN", "#lobby")
    for chan in ("#x", "#y"):  # two shared channels, still one QUIT
        a.send(f"JOIN {chan}")
        a.expect("366", "frank", chan)
        b.send(f"JOIN {chan}")
        a.expect("JOIN", chan)
    b.send("QUIT :off to lunch")
    err = b.expect("ERROR")
    assert "off to lunch" in err.params[0]
    quit_msg = a.expect("QUIT")
    assert quit_msg.source is not None and quit_msg.source.startswith("grace!")
    assert quit_msg.params[0] == "Quit: off to lunch"
    assert not [m for m in a.quiet(0.3) if m.command == "QUIT"]


def test_killed_socket_is_announced(server: RunningServer) -> None:
    a = server.client("heidi")
    b = server.client("ivan")
    a.expect("JOIN", "#lobby")
    # Close without QUIT, with a reset (SO_LINGER 0), as when a process dies.
    b.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    b.sock.close()
    quit_msg = a.expect("QUIT")
    assert quit_msg.source is not None and quit_msg.source.startswith("ivan!")
    assert quit_msg.params[0] in ("Connection closed", "Connection reset by peer")
    # The nick is free again.
    server.client("ivan")


def test_many_clients_at_once(server: RunningServer) -> None:
    """Fifty concurrent connections, all registered, all hearing one message."""
    clients = [server.client(f"c{i}") for i in range(50)]
    clients[0].send("PRIVMSG #lobby :roll call")
    for c in clients[1:]:
        assert c.expect("PRIVMSG", "#lobby").params[1] == "roll call"
