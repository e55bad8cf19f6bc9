"""Bad and slow clients get a clear answer or a clean disconnect, and never
hurt anyone else."""

from __future__ import annotations

import contextlib
import socket
import time

from hubtest import RunningServer, ServerFactory


def _still_chatting(server: RunningServer, a_nick: str = "watcher") -> None:
    """A fresh pair of clients can still register and talk."""
    a = server.client(f"{a_nick}1")
    b = server.client(f"{a_nick}2")
    a.expect("JOIN", "#lobby")
    b.send("PRIVMSG #lobby :still here")
    # (Joining #lobby replayed what was said there before: skip to the live line.)
    a.expect("PRIVMSG", "#lobby", "still here")


# A reader that stops reading: tests/integration/test_sendq.py.


def test_flood_is_throttled_not_dropped(server: RunningServer) -> None:
    """Flood control on (the default): a burst arrives late but whole."""
    a = server.client("flooder")
    b = server.client("hearer")
    burst = 40
    start = time.monotonic()
    for i in range(burst):
        a.send(f"PRIVMSG #lobby :line {i}")
    got = []
    while len(got) < burst:
        m = b.wait_for(lambda m: m.command == "PRIVMSG", timeout=15)[0]
        got.append(m.params[1])
    assert got == [f"line {i}" for i in range(burst)]
    # 20 lines of burst, then 4 per second: the rest took seconds, not zero.
    assert time.monotonic() - start > 2.0


def test_relentless_flood_is_disconnected_with_a_reason(server: RunningServer) -> None:
    a = server.client("spammer")
    b = server.client("victim")
    payload = b"".join(b"PRIVMSG #lobby :spam %d\r\n" % i for i in range(5000))
    with contextlib.suppress(OSError):  # the server may cut us off mid-send
        a.sock.sendall(payload)
    m = a.wait_for(lambda m: m.command == "ERROR", timeout=10)[0]
    assert "Excess Flood" in m.params[0]
    q = b.wait_for(lambda m: m.command == "QUIT", timeout=10)[0]
    assert q.params[0] == "Excess Flood"
    _still_chatting(server)


def test_garbage_long_lines_and_bad_utf8_leave_everyone_fine(server: RunningServer) -> None:
    victim = server.client("bystander")
    bad = server.client("mallory", caps=("echo-message",))
    bad.send(b"\x01\x02\xff\xfe garbage \x1b[31m\r\n")
    assert bad.expect("FAIL").params[1] == "INVALID_UTF8"
    bad.send(b":only-a-source\r\n")
    bad.send(b"@only=tags\r\n")
    bad.send(b"   \r\n")
    bad.send(b"PRIVMSG #lobby :" + b"A" * 100_000 + b"\r\n")
    assert bad.expect("417").params[-1] == "Input line was too long"
    bad.send(b"PRIVMSG #lobby :caf\xe9 latin-1\r\n")
    fail = bad.expect("FAIL")
    assert fail.params[:2] == ("PRIVMSG", "INVALID_UTF8")
    bad.send("FROBNICATE now")
    assert bad.expect("421").params[1] == "FROBNICATE"
    bad.send("PRIVMSG #lobby :and now a good line ✓")
    assert bad.expect("PRIVMSG", "#lobby").params[1] == "and now a good line ✓"
    got = victim.wait_for(lambda m: m.command == "PRIVMSG")[0]
    assert got.params[1] == "and now a good line ✓"  # nothing of the junk came through
    _still_chatting(server)


def test_a_nul_byte_is_a_clean_disconnect_that_hurts_nobody(server: RunningServer) -> None:
    victim = server.client("bystander")
    bad = server.client("nully")
    victim.expect("JOIN", "#lobby")
    bad.send(b"PRIVMSG #lobby :sneaky\x00 bytes\r\n")
    err = bad.wait_for(lambda m: m.command == "ERROR")[0]
    assert "Received malformed line" in err.params[0]
    quit_msg = victim.expect("QUIT")
    assert quit_msg.params[0] == "Received malformed line"
    assert not [m for m in victim.quiet(0.2) if m.command == "PRIVMSG"]
    _still_chatting(server)


def test_line_limits(server: RunningServer) -> None:
    c = server.client("limits")
    body = "PRIVMSG #lobby :" + "b" * (510 - len("PRIVMSG #lobby :"))
    c.send(body)  # exactly 512 with CR LF: fine
    c.send("PING :after")
    assert not [m for m in c.collect("PONG") if m.command == "417"]
    c.send(body + "b")  # 513: too long
    c.expect("417")
    c.send("@+tag=" + "t" * 5000 + " PING :x")  # client tags over 4094
    c.expect("417")
    c.send("PING :alive")
    c.expect("PONG")


def test_unregistered_client_times_out(server_factory: ServerFactory) -> None:
    server = server_factory("[limits]\nregistration_timeout = 1\n")
    idle = server.client()
    idle.send("NICK lazy")
    err = idle.wait_for(lambda m: m.command == "ERROR", timeout=10)[0]
    assert "Registration timed out" in err.params[0]


def test_dead_peer_gets_ping_timeout(server_factory: ServerFactory) -> None:
    server = server_factory("[limits]\nping_interval = 1\n")
    quiet = server.client("sleepy")
    peer = server.client("awake")
    quiet.wait_for(lambda m: m.command == "PING", timeout=10)  # the server asks...
    # ...and sleepy never answers, while awake does.
    deadline = time.monotonic() + 15
    seen = None
    while seen is None and time.monotonic() < deadline:
        for m in peer.quiet(0.2):
            if m.command == "PING":
                peer.send(f"PONG :{m.params[-1]}")
            if m.command == "QUIT" and m.source and m.source.startswith("sleepy!"):
                seen = m
    assert seen is not None and seen.params[0].startswith("Ping timeout")
    peer.send("PING :still")
    peer.expect("PONG")


def test_connection_limits_per_ip(server_factory: ServerFactory) -> None:
    server = server_factory("[limits]\nmax_clients_per_ip = 3\n")
    keep = [server.client(f"k{i}") for i in range(3)]
    extra = server.client()
    err = extra.wait_for(lambda m: m.command == "ERROR")[0]
    assert "Too many connections" in err.params[0]
    keep[0].close()
    time.sleep(0.3)
    server.client("k3")  # a slot came free


def test_half_open_client_does_not_block_others(server: RunningServer) -> None:
    half = server.client()
    half.send(b"NICK half\r\nUSER h 0 * :half")  # no line end, then silence
    half.sock.shutdown(socket.SHUT_WR)
    _still_chatting(server)
