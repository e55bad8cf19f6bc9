"""/metrics of a real server under traffic: the counters move as they should.

Each test starts ``hubbub serve`` with ``[metrics] listen`` on a free port,
drives clients over TCP (and WebSocket), and scrapes the page as Prometheus
would, parsed by prometheus_client's own parser.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

from hubtest import RunningServer, ServerFactory, free_port
from ircclient import LineClient
from opstest import (
    Samples,
    gone,
    http,
    metrics_section,
    scrape,
    wait_for_scrape,
    wait_for_status,
)
from wsclient import WSClient

CHATHISTORY_CAPS = ("batch", "server-time", "message-tags", "draft/chathistory")


class CountingSocket:
    """A socket that counts the bytes it receives."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.received = 0

    def recv(self, n: int) -> bytes:
        data = self.sock.recv(n)
        self.received += len(data)
        return data

    def __getattr__(self, name: str) -> object:
        return getattr(self.sock, name)


class CountingClient(LineClient):
    """A LineClient that counts the bytes it sends and receives."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.counter = CountingSocket(self.sock)
        self.sock = self.counter  # type: ignore[assignment]
        self.sent = 0

    @property
    def received(self) -> int:
        return self.counter.received

    def send(self, line: str | bytes) -> None:
        data = line if isinstance(line, bytes) else line.encode()
        data = data if data.endswith(b"\n") else data + b"\r\n"
        self.sent += len(data)
        super().send(data)


def counting_client(server: RunningServer, nick: str, caps: tuple[str, ...] = ()) -> CountingClient:
    client = CountingClient(server.host, server.port)
    server.clients.append(client)
    client.register(nick, caps)
    return client


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return after.total(name, **labels) - before.total(name, **labels)


def test_counters_follow_the_traffic(server_factory: ServerFactory) -> None:
    section, mport = metrics_section()
    server = server_factory(section + "[limits]\nflood_control = false\n", web=True)
    assert server.web_port is not None
    before = scrape(mport)

    alice = counting_client(server, "alice", CHATHISTORY_CAPS)
    bob = counting_client(server, "bob")
    wendy = WSClient(server.web_port)
    server.clients.append(wendy)
    wendy.register("wendy")
    for client in (alice, bob, wendy):
        client.send("JOIN #tea")
        client.expect("JOIN", "#tea")
    for client in (alice, bob):
        client.quiet(0.2)  # the others' JOINs
    lines = 25
    for i in range(lines):
        alice.send(f"PRIVMSG #tea :line {i}")
    for client in (bob, wendy):
        for i in range(lines):
            client.expect("PRIVMSG", "#tea", f"line {i}")
    alice.send("CHATHISTORY LATEST #tea * 10")
    alice.wait_for(lambda m: m.command == "BATCH" and m.params[0].startswith("-"))
    for client in (alice, bob, wendy):
        client.quiet(0.2)

    after = wait_for_scrape(
        mport, lambda s: delta(before, s, "hubbub_messages_relayed_total") >= lines
    )
    # Messages: each relayed once, delivered to the two other members.
    assert delta(before, after, "hubbub_messages_relayed_total") == lines
    assert delta(before, after, "hubbub_message_deliveries_total") == 2 * lines
    assert delta(before, after, "hubbub_events_total", kind="message_sent") == lines
    assert delta(before, after, "hubbub_events_total", kind="joined") == 6  # and #lobby
    assert delta(before, after, "hubbub_commands_total", command="PRIVMSG") == lines
    # Connections and registrations, by transport.
    assert after.get_value("hubbub_connected_clients", transport="tcp") == 2
    assert after.get_value("hubbub_connected_clients", transport="websocket") == 1
    assert after.get_value("hubbub_connections", transport="tcp") == 2
    assert delta(before, after, "hubbub_registrations_total", transport="tcp") == 2
    assert delta(before, after, "hubbub_registrations_total", transport="websocket") == 1
    assert after.get_value("hubbub_users") == 3
    assert after.get_value("hubbub_ready") == 1
    # Bytes: every byte the TCP clients sent was read and counted; what was
    # written covers at least what they received.
    sent_by_tcp = alice.sent + bob.sent
    assert delta(before, after, "hubbub_received_bytes_total", transport="tcp") == sent_by_tcp
    assert delta(before, after, "hubbub_received_bytes_total", transport="websocket") > 0
    assert delta(before, after, "hubbub_sent_bytes_total") >= alice.received + bob.received
    # History: every line written, commits timed, the CHATHISTORY query counted.
    assert delta(before, after, "hubbub_history_rows_written_total") >= lines + 3
    assert delta(before, after, "hubbub_history_commit_seconds_count") >= 1
    assert delta(before, after, "hubbub_history_query_seconds_count", query="latest") == 1
    assert after.get_value("hubbub_history_waiting_rows") == 0
    assert after.get_value("hubbub_database_bytes", file="database") > 0
    # SASL is there for the accounts work to feed: every series at zero.
    assert after.get_value(
        "hubbub_sasl_authentications_total", mechanism="PLAIN", result="success"
    ) == 0
    # The process itself, from prometheus_client's collectors.
    assert after.get_value("process_resident_memory_bytes") > 0

    # Leaving: a QUIT and a malformed line, each counted under its reason.
    alice.send("QUIT :tea time is over")
    bob.send(b"PRIVMSG #tea :\x00nul\r\n")
    gone(alice)
    gone(bob)
    final = wait_for_scrape(
        mport, lambda s: s.get_value("hubbub_connected_clients", transport="tcp") == 0
    )
    assert delta(before, final, "hubbub_disconnects_total", reason="quit") == 1
    assert delta(before, final, "hubbub_disconnects_total", reason="malformed_line") == 1
    assert final.get_value("hubbub_connections", transport="tcp") == 0

    # No label holds a nick, a channel or an address: the series stay bounded.
    values = final.label_values()
    for word in ("alice", "bob", "wendy", "#tea", "127.0.0.1"):
        assert not any(word in v for v in values), word


def stuck_reader_cut_off(server: RunningServer) -> None:
    """A client that stops reading while another talks, until the server
    cuts it off (its sendq passes [limits] sendq_bytes)."""
    stuck = server.client("stuck")
    stuck.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    talker = server.client("talker")
    talker.expect("JOIN", "#lobby")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for _ in range(50):
            talker.send("PRIVMSG #lobby :" + "x" * 400)
        quits = [m for m in talker.quiet(0.05) if m.command == "QUIT"]
        if any(m.params[0] == "SendQ exceeded" for m in quits):
            return
    raise AssertionError("the stuck reader was never cut off")


def test_flooders_and_silent_connections_are_counted_by_reason(
    server_factory: ServerFactory,
) -> None:
    section, mport = metrics_section()
    server = server_factory(section + "[limits]\nregistration_timeout = 1\nping_interval = 2\n")
    before = scrape(mport)
    # Flood control holds a paste past the burst of 20 back (a throttle) and
    # lets it through at 4 lines a second...
    paster = server.client("paster")
    paster.send(b"".join(b"PRIVMSG paster :paste %d\r\n" % i for i in range(24)))
    paster.expect("PRIVMSG", "paster", "paste 23", timeout=5)
    # ...and cuts off a client past 200 held lines ("Excess Flood").
    flooder = server.client("flooder")
    flooder.send(b"".join(b"PRIVMSG #lobby :flood %d\r\n" % i for i in range(400)))
    flooder.wait_for(lambda m: m.command == "ERROR")
    # A connection that never registers.
    silent = LineClient(server.host, server.port)
    server.clients.append(silent)
    silent.wait_for(lambda m: m.command == "ERROR", timeout=5)
    after = wait_for_scrape(
        mport,
        lambda s: delta(before, s, "hubbub_disconnects_total", reason="registration_timeout") > 0,
    )
    assert delta(before, after, "hubbub_flood_throttles_total") == 1
    assert delta(before, after, "hubbub_disconnects_total", reason="excess_flood") == 1
    assert delta(before, after, "hubbub_disconnects_total", reason="registration_timeout") == 1
    assert delta(before, after, "hubbub_disconnects_total", reason="other") == 0
    assert after.get_value("hubbub_connections", transport="tcp") == 1  # the paster


def test_a_client_that_stops_reading_is_counted_as_sendq_exceeded(
    server_factory: ServerFactory,
) -> None:
    section, mport = metrics_section()
    server = server_factory(section + "[limits]\nsendq_bytes = 65536\nflood_control = false\n")
    before = scrape(mport)
    stuck_reader_cut_off(server)
    after = wait_for_scrape(
        mport, lambda s: delta(before, s, "hubbub_disconnects_total", reason="sendq_exceeded") > 0
    )
    assert delta(before, after, "hubbub_disconnects_total", reason="sendq_exceeded") == 1
    assert after.get_value("hubbub_connected_clients", transport="tcp") == 1  # the talker
    assert delta(before, after, "hubbub_sent_bytes_total") > 65536


def test_the_operations_listener_answers_http(server_factory: ServerFactory) -> None:
    section, mport = metrics_section()
    server_factory(section)
    assert http(mport, "/healthz")[::2] == (200, b"ok\n")
    assert http(mport, "/readyz")[::2] == (200, b"ready\n")
    status, headers, body = http(mport, "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4")
    assert b"hubbub_build_info" in body
    # OpenMetrics for the scrapers that ask for it.
    status, headers, body = http(
        mport, "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert headers["content-type"].startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")
    # HEAD: the headers, no body.
    status, headers, body = http(mport, "/healthz", method="HEAD")
    assert (status, body, headers["content-length"]) == (200, b"", "3")
    assert http(mport, "/nowhere")[0] == 404
    assert http(mport, "/metrics", method="POST")[0] == 405
    assert http(mport, "", raw=b"NICK alice\r\nUSER a 0 * :A\r\n\r\n")[0] == 400
    wait_for_status(mport, "/readyz", 200)


def test_a_metrics_port_in_use_stops_the_start_naming_the_key(tmp_path: object) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        irc = free_port()
        proc = subprocess.run(
            [sys.executable, "-m", "hubbub", "serve", "--listen", f"127.0.0.1:{irc}",
             "--data-dir", str(tmp_path), "--config", "/dev/stdin"],
            input=f'[metrics]\nlisten = "127.0.0.1:{port}"\n'.encode(),
            capture_output=True, timeout=20,
        )  # fmt: skip
    assert proc.returncode == 2
    assert f"metrics.listen: cannot listen on 127.0.0.1:{port}" in proc.stderr.decode()
