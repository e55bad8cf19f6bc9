"""Bad and slow clients cannot hurt others: flood control, sendq, ping and
registration timeouts, connection limits, bad input, the server password."""

from __future__ import annotations

from typing import Any

import pytest

from hubbub.protocol.numerics import (
    ERR_INPUTTOOLONG,
    ERR_PASSWDMISMATCH,
    ERR_UNKNOWNCOMMAND,
    RPL_WELCOME,
)
from hubbub.server.timeouts import sweep

from serverharness import FakeClient, FakeTransport, Harness, commands, find, params_of

FLOOD: dict[str, Any] = {"limits": {"flood_control": True}}


def pongs(client: FakeClient) -> list[str]:
    """The tokens of the PONGs ``client`` received since the last read."""
    return [p[1] for p in params_of(client.messages(), "PONG")]


# --- flood control ----------------------------------------------------------------------


@pytest.fixture
def flooder() -> tuple[Harness, FakeClient]:
    h = Harness(FLOOD)
    client = h.connect("flooder")
    h.advance(10)  # the bucket refills after registration: a full burst of 20
    return h, client


def test_a_burst_past_20_lines_is_held_and_released_in_order(
    flooder: tuple[Harness, FakeClient],
) -> None:
    h, client = flooder
    client.send(*(f"PING {i}" for i in range(30)))
    assert pongs(client) == [str(i) for i in range(20)]
    assert client.transport.paused
    h.advance(0.25)  # one token comes back every quarter second
    assert pongs(client) == ["20"]
    h.advance(5)
    assert pongs(client) == [str(i) for i in range(21, 30)]
    assert not client.transport.paused
    assert client.transport.resumes >= 1
    assert not client.closed


def test_lines_arriving_while_held_wait_their_turn(flooder: tuple[Harness, FakeClient]) -> None:
    h, client = flooder
    client.send(*(f"PING a{i}" for i in range(25)))
    client.send("PING late")
    assert len(pongs(client)) == 20
    h.advance(10)
    assert pongs(client) == [f"a{i}" for i in range(20, 25)] + ["late"]


def test_more_than_200_held_lines_is_excess_flood(flooder: tuple[Harness, FakeClient]) -> None:
    h, client = flooder
    peer = h.connect("peer")
    h.join("#f", client, peer)
    h.advance(10)
    client.send(*(f"PING {i}" for i in range(20 + 201)))
    msgs = client.messages()
    assert len(params_of(msgs, "PONG")) == 20
    assert "Excess Flood" in find(msgs, "ERROR").params[0]
    assert client.closed
    quit_ = find(peer.messages(), "QUIT")
    assert quit_.params == ("Excess Flood",)


def test_lines_sent_while_paused_count_towards_excess_flood(
    flooder: tuple[Harness, FakeClient],
) -> None:
    _, client = flooder
    client.send(*(f"PING {i}" for i in range(30)))
    assert client.transport.paused
    assert not client.closed
    client.send(*(f"PING more{i}" for i in range(195)))  # 10 + 195 held
    assert client.closed
    assert "Excess Flood" in client.messages()[-1].params[0]


def test_a_client_gone_while_lines_are_held(flooder: tuple[Harness, FakeClient]) -> None:
    h, client = flooder
    client.send(*(f"PING {i}" for i in range(30)))
    client.messages()
    client.disconnect()
    h.advance(10)  # the release timer fires on a closed connection
    assert client.messages() == []
    assert client.transport.written_after_close == 0
    assert client.session not in h.server.sessions


def test_200_held_lines_are_still_tolerated(flooder: tuple[Harness, FakeClient]) -> None:
    h, client = flooder
    client.send(*(f"PING {i}" for i in range(20 + 200)))
    assert not client.closed
    h.advance(60)
    assert len(pongs(client)) == 220


def test_flood_control_off_answers_everything_at_once() -> None:
    client = Harness().connect("fast")
    client.send(*(f"PING {i}" for i in range(300)))
    assert len(pongs(client)) == 300
    assert client.transport.pauses == 0


def test_one_flooder_does_not_slow_the_others(flooder: tuple[Harness, FakeClient]) -> None:
    h, client = flooder
    other = h.connect("other")
    h.advance(10)
    client.send(*(f"PING {i}" for i in range(100)))
    other.send("PING calm")
    assert pongs(other) == ["calm"]


# --- sendq -------------------------------------------------------------------------------


def test_a_client_that_stops_reading_is_dropped_with_sendq_exceeded() -> None:
    h = Harness({"limits": {"sendq_bytes": 10_000}})
    talker, stuck, peer = h.connect("talker"), h.connect("stuck"), h.connect("peer")
    h.join("#q", talker, stuck, peer)
    stuck.transport.buffer_size = 9_990  # the kernel holds what it did not read
    talker.send("PRIVMSG #q :the last line that fits")
    assert not stuck.transport.aborted
    stuck.transport.data.clear()
    talker.send("PRIVMSG #q :one line too many")
    assert stuck.transport.aborted
    assert stuck.transport.data == b""  # no ERROR for a client that cannot read it
    msgs = peer.messages()
    assert commands(msgs) == ["PRIVMSG", "PRIVMSG", "QUIT"]
    assert (msgs[2].source, msgs[2].params) == ("stuck!~user@10.0.0.1", ("SendQ exceeded",))
    assert params_of(talker.messages(), "QUIT") == [("SendQ exceeded",)]
    assert h.server.network.user("stuck") is None


def test_sendq_counts_output_not_yet_flushed() -> None:
    h = Harness({"limits": {"sendq_bytes": 4_000}})
    client = h.connect("greedy")
    # Forty PINGs in one read: their PONGs wait in the connection's own buffer
    # until the end of the loop turn, and that backlog counts towards sendq.
    client.send(*(f"PING {'x' * 100}" for _ in range(40)))
    assert client.transport.aborted


def test_what_the_kernel_holds_counts_once_the_transport_holds_bytes_back() -> None:
    h = Harness({"limits": {"sendq_bytes": 10_000}})
    talker, stuck, peer = h.connect("talker"), h.connect("stuck"), h.connect("peer")
    h.join("#q", talker, stuck, peer)
    # The kernel took 9,500 bytes the client never read; after this line the
    # transport above it holds 600 more. Ours alone is far from the limit.
    stuck.transport.kernel_size = 9_500
    stuck.transport.buffer_size = 600
    talker.send("PRIVMSG #q :" + "x" * 300)
    assert stuck.transport.kernel_looks == 1  # when the transport began to hold back
    assert not stuck.transport.aborted  # the next output is checked
    talker.send("PRIVMSG #q :one more")
    assert stuck.transport.aborted
    # ...and the kernel drops its queue too, rather than deliver it for minutes.
    assert stuck.transport.kernel_dropped
    assert params_of(peer.messages(), "QUIT") == [("SendQ exceeded",)]


def test_a_lagging_client_under_the_limit_stays() -> None:
    h = Harness({"limits": {"sendq_bytes": 10_000}})
    talker, slow = h.connect("talker"), h.connect("slow")
    h.join("#q", talker, slow)
    slow.transport.kernel_size = 5_000
    slow.transport.buffer_size = 100
    for i in range(5):
        talker.send(f"PRIVMSG #q :line {i}")
    assert not slow.closed
    assert [p[1] for p in params_of(slow.messages(), "PRIVMSG")] == [f"line {i}" for i in range(5)]
    # It catches up: what the kernel holds no longer counts, a burst fits.
    slow.transport.drain()
    slow.transport.kernel_size = 9_000
    talker.send(*(f"PRIVMSG #q :more {i}" for i in range(100)))
    assert not slow.closed
    slow.send("QUIT")
    assert slow.closed and not slow.transport.kernel_dropped  # a goodbye is delivered


def test_a_client_that_keeps_up_costs_no_look_at_the_kernel() -> None:
    h = Harness({"limits": {"sendq_bytes": 10_000}})
    talker, reader = h.connect("talker"), h.connect("reader")
    h.join("#q", talker, reader)
    reader.transport.kernel_size = 9_999  # whatever it holds: nobody asks
    for i in range(100):
        talker.send(f"PRIVMSG #q :line {i} " + "y" * 200)
    assert not reader.closed
    assert reader.transport.kernel_looks == 0


def test_looking_again_at_a_stale_size_asks_the_kernel_too() -> None:
    h = Harness({"limits": {"sendq_bytes": 4_000}})
    client = h.connect("greedy")
    client.transport.buffer_size = 3_000  # a flush saw the transport hold 3,000 back
    client.send("PING a")
    # Since then the transport drained into the kernel, which still holds
    # 2,500. Fourteen PONGs (1,638 bytes) in one turn pass the limit with the
    # stale 3,000: the session looks again, and the kernel's 2,500 count.
    client.transport.buffer_size = 0
    client.transport.kernel_size = 2_500
    client.send(*(f"PING {'x' * 100}" for _ in range(14)))
    assert client.transport.aborted


# --- ping and registration timeouts -----------------------------------------------------------


@pytest.fixture
def pinged() -> tuple[Harness, FakeClient, FakeClient]:
    h = Harness({"limits": {"ping_interval": 30}})
    idle, peer = h.connect("idle"), h.connect("peer")
    h.join("#p", idle, peer)
    return h, idle, peer


def test_an_idle_client_is_pinged_then_timed_out(
    pinged: tuple[Harness, FakeClient, FakeClient],
) -> None:
    h, idle, peer = pinged
    h.advance(31)
    peer.send("PING keepalive")
    sweep(h.server)
    (ping,) = idle.messages()
    assert (ping.command, ping.params) == ("PING", ("irc.test",))
    h.advance(31)
    sweep(h.server)
    h.run()
    error = find(idle.messages(), "ERROR")
    assert "Ping timeout: 62 seconds" in error.params[0]
    assert idle.closed
    assert params_of(peer.messages(), "QUIT") == [("Ping timeout: 62 seconds",)]


def test_a_pong_keeps_the_client(pinged: tuple[Harness, FakeClient, FakeClient]) -> None:
    h, idle, peer = pinged
    h.advance(31)
    sweep(h.server)
    assert commands(idle.messages()) == ["PING"]
    idle.send("PONG :irc.test")
    peer.send("PONG :irc.test")
    h.advance(29)
    sweep(h.server)
    assert idle.messages() == []
    # Idle again for a whole interval: a new PING, not a timeout.
    h.advance(29)
    sweep(h.server)
    assert commands(idle.messages()) == ["PING"]
    assert not idle.closed


def test_registration_timeout() -> None:
    h = Harness({"limits": {"registration_timeout": 10}})
    lingering = h.connect()
    lingering.send("NICK slow")
    registered = h.connect("quick")
    h.advance(11)
    sweep(h.server)
    h.run()
    error = find(lingering.messages(), "ERROR")
    assert "Registration timed out" in error.params[0]
    assert lingering.closed
    assert not registered.closed
    assert lingering.session not in h.server.sessions


def test_the_default_registration_timeout_is_30_seconds() -> None:
    h = Harness()
    lingering = h.connect()
    h.advance(29)
    sweep(h.server)
    assert not lingering.closed
    h.advance(2)
    sweep(h.server)
    h.run()
    assert "Registration timed out" in find(lingering.messages(), "ERROR").params[0]
    assert lingering.closed


def test_the_registration_timeout_counts_from_the_accept_not_the_handshake() -> None:
    # A TLS (or HTTP) handshake that took 25 s leaves 5 s to register.
    h = Harness({"limits": {"registration_timeout": 30}})
    transport = FakeTransport()
    session = h.server.accept(transport, "10.9.9.9", started=h.loop.time() - 25)
    assert session is not None
    h.advance(6)
    sweep(h.server)
    h.run()
    assert b"Registration timed out" in transport.take()
    assert transport.closed


# --- connection limits -------------------------------------------------------------------------


def test_connections_per_ip_are_limited() -> None:
    h = Harness({"limits": {"max_clients_per_ip": 2}})
    first = h.connect("one", ip="10.1.1.1")
    h.connect("two", ip="10.1.1.1")
    with pytest.raises(ConnectionRefusedError, match="Too many connections from your IP"):
        h.connect(ip="10.1.1.1")
    h.connect("other", ip="10.2.2.2")
    first.send("QUIT")
    h.connect("three", ip="10.1.1.1")


def test_unregistered_connections_per_ip_are_limited() -> None:
    h = Harness({"limits": {"max_clients_per_ip": 50, "max_unregistered_per_ip": 3}})
    idle = [h.connect(ip="10.1.1.1") for _ in range(3)]
    with pytest.raises(ConnectionRefusedError, match="Too many unregistered connections"):
        h.connect(ip="10.1.1.1")
    h.connect(ip="10.2.2.2")  # another address has its own count
    # A connection that registers leaves the count; so does one that closes.
    idle[0].register("first")
    h.connect("second", ip="10.1.1.1")
    idle[1].disconnect()
    h.connect("third", ip="10.1.1.1")
    # Three registered clients from the address are not held against it:
    # idle[2] and two more may wait, not a third.
    h.connect(ip="10.1.1.1")
    h.connect(ip="10.1.1.1")
    with pytest.raises(ConnectionRefusedError, match="Too many unregistered connections"):
        h.connect(ip="10.1.1.1")
    assert h.server.admission.unregistered == {"10.1.1.1": 3, "10.2.2.2": 1}
    assert h.server.admission.per_ip["10.1.1.1"] == 6


def test_a_registered_client_that_leaves_does_not_free_an_unregistered_slot() -> None:
    h = Harness({"limits": {"max_unregistered_per_ip": 1}})
    registered = h.connect("reg", ip="10.1.1.1")
    waiting = h.connect(ip="10.1.1.1")
    registered.send("QUIT")
    h.run()
    with pytest.raises(ConnectionRefusedError, match="Too many unregistered connections"):
        h.connect(ip="10.1.1.1")
    waiting.disconnect()
    h.connect(ip="10.1.1.1")


def test_total_connections_are_limited() -> None:
    h = Harness({"limits": {"max_clients": 2}})
    h.connect("one", ip="10.1.1.1")
    h.connect("two", ip="10.1.1.2")
    with pytest.raises(ConnectionRefusedError, match="Too many connections on this server"):
        h.connect(ip="10.1.1.3")


# --- bad input ------------------------------------------------------------------------------------


def test_a_line_too_long_gets_417_and_the_client_stays() -> None:
    client = Harness().connect("wordy")
    msgs = client.ask("PRIVMSG wordy :" + "x" * 600)
    assert params_of(msgs, ERR_INPUTTOOLONG) == [("wordy", "Input line was too long")]
    assert commands(client.ask("PING still")) == ["PONG"]


def test_invalid_utf8_is_refused_not_relayed() -> None:
    h = Harness()
    sender, peer = h.connect("sender"), h.connect("peer")
    h.join("#u", sender, peer)
    sender.send_bytes(b"PRIVMSG #u :caf\xe9\r\n")
    (fail,) = sender.messages()
    assert (fail.command, fail.params[:2]) == ("FAIL", ("PRIVMSG", "INVALID_UTF8"))
    assert peer.messages() == []


def test_empty_lines_are_ignored() -> None:
    client = Harness().connect("odd")
    client.send_bytes(b"\r\n\n   \r\n")
    assert client.messages() == []
    assert commands(client.ask("PING ok")) == ["PONG"]


@pytest.mark.parametrize(
    "line", [b":onlyasource", b"@only=tags", b"@a=b  ", b"@a=b :src", b"@a=\xff"]
)
def test_a_prefix_without_a_command_gets_421(line: bytes) -> None:
    client = Harness().connect("odd")
    client.send_bytes(line + b"\r\n")
    assert params_of(client.messages(), ERR_UNKNOWNCOMMAND) == [("odd", "*", "No command given")]
    assert not client.closed
    assert commands(client.ask("PING ok")) == ["PONG"]


def test_a_malformed_line_disconnects_with_a_reason() -> None:
    h = Harness()
    client, peer = h.connect("odd"), h.connect("peer")
    h.join("#m", client, peer)
    client.send_bytes(b"PRIVMSG #m :a\x00b\r\n")
    (err,) = client.messages()
    assert err.command == "ERROR" and "Received malformed line" in err.params[0]
    assert client.closed
    assert params_of(peer.messages(), "QUIT") == [("Received malformed line",)]


# --- the server password, shutdown ---------------------------------------------------------


def test_server_password() -> None:
    h = Harness({"server": {"password": "sekrit"}})
    wrong = h.connect()
    msgs = wrong.ask("PASS nope", "NICK wrong", "USER u 0 * :U")
    assert commands(msgs) == [ERR_PASSWDMISMATCH, "ERROR"]
    assert wrong.closed
    nopass = h.connect()
    assert ERR_PASSWDMISMATCH in commands(nopass.ask("NICK nopass", "USER u 0 * :U"))
    right = h.connect()
    assert RPL_WELCOME in commands(right.ask("PASS sekrit", "NICK right", "USER u 0 * :U"))


def test_shutdown_tells_every_client_why() -> None:
    h = Harness()
    clients = [h.connect("a"), h.connect("b"), h.connect()]
    h.server.shutdown("Server shutting down")
    h.run()
    for client in clients:
        assert "Server shutting down" in find(client.messages(), "ERROR").params[0]
        assert client.closed
    assert h.server.sessions == set()
