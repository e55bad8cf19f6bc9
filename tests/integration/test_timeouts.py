"""Connections that never become users: the registration timeout (TLS
handshake included) and the cap on unregistered connections per address,
against a real server over real sockets."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from hubtest import RunningServer, ServerFactory, free_port, make_cert, untrusting
from ircclient import LineClient

TIMEOUT = 3  # seconds: the server sweeps every tenth of it


def _tls_server(server_factory: ServerFactory, tmp_path: Path) -> tuple[RunningServer, int]:
    cert, key = make_cert(tmp_path, "irc.test.local")
    port = free_port()
    server = server_factory(
        f'[server]\ntls_listen = ["127.0.0.1:{port}"]\ntls_cert = "{cert}"\ntls_key = "{key}"\n'
        f"[limits]\nregistration_timeout = {TIMEOUT}\n"
    )
    return server, port


def _closed_within(sock: socket.socket, seconds: float) -> float:
    """Seconds until the server closed ``sock`` (EOF or reset); fails after ``seconds``."""
    start = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        raise AssertionError(f"still open after {seconds} s") from None
    return time.monotonic() - start


def test_a_connection_that_never_registers_gets_an_error(server_factory: ServerFactory) -> None:
    server = server_factory(f"[limits]\nregistration_timeout = {TIMEOUT}\n")
    silent = server.client()
    chatty = server.client()
    chatty.send("NICK almost")  # a nick, but never USER
    for client in (silent, chatty):
        err = client.wait_for(lambda m: m.command == "ERROR", timeout=TIMEOUT + 5)[0]
        assert err.params[0] == "Closing link: (*@127.0.0.1) [Registration timed out]"
    # The server logged why, and serves the next client as ever.
    server.wait_for_log("unregistered 127.0.0.1 disconnected: Registration timed out")
    server.client("fine").send("PING :x")


def test_a_stalled_tls_handshake_is_closed_by_the_timeout(
    server_factory: ServerFactory, tmp_path: Path
) -> None:
    server, port = _tls_server(server_factory, tmp_path)
    # One says nothing at all; one starts a handshake (half a record header) and stops.
    silent = socket.create_connection(("127.0.0.1", port))
    halfway = socket.create_connection(("127.0.0.1", port))
    halfway.sendall(b"\x16\x03\x01")
    for sock in (silent, halfway):
        _closed_within(sock, TIMEOUT + 5)
        sock.close()
    # Nobody else noticed: a TLS client registers as ever.
    client = LineClient("127.0.0.1", port)
    client.sock = untrusting().wrap_socket(client.sock)
    server.clients.append(client)
    client.register("afterwards")
    assert server.alive()


def test_the_tls_handshake_counts_against_the_registration_timeout(
    server_factory: ServerFactory, tmp_path: Path
) -> None:
    server, port = _tls_server(server_factory, tmp_path)
    start = time.monotonic()
    raw = socket.create_connection(("127.0.0.1", port))
    time.sleep(TIMEOUT * 0.6)  # dawdle before the handshake
    client = LineClient("127.0.0.1", port, sock=untrusting().wrap_socket(raw))
    server.clients.append(client)
    client.send("NICK slowpoke")
    err = client.wait_for(lambda m: m.command == "ERROR", timeout=TIMEOUT + 5)[0]
    assert "Registration timed out" in err.params[0]
    # Counted from the TCP accept: well before the handshake plus the timeout.
    assert time.monotonic() - start < TIMEOUT * 1.6 - 0.3


def test_unregistered_connections_from_one_address_are_capped(
    server_factory: ServerFactory,
) -> None:
    server = server_factory("[limits]\nmax_unregistered_per_ip = 3\n")
    idle = [server.client() for _ in range(3)]
    for client in idle:
        client.send("PING :here")  # each connection is in before the next comes
        client.expect("PONG")
    refused = server.client()
    err = refused.wait_for(lambda m: m.command == "ERROR")[0]
    assert err.params[0] == "Closing link: [Too many unregistered connections from your IP address]"
    refused.quiet(1)
    assert refused.closed
    # One of the waiting connections registers: a place comes free.
    idle[0].register("decided")
    server.client("newcomer")
    # Registered clients from the address were never held against it.
    server.client("another")
