"""The server's counters, in memory (no sockets): each moves by what happened,
and the collector turns them into the metric families Prometheus reads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hubbub.events import MessageSent
from hubbub.histogram import Histogram
from hubbub.ops.lag import LoopLag
from hubbub.ops.metrics import MetricsRegistry, kind_label
from hubbub.server.meters import (
    DISCONNECT_LABELS,
    SaslMeter,
    disconnect_label,
    loggable_reason,
    transport_kind,
)

from accountkit import (
    PASSWORD,
    accounts_harness,
    ask,
    login_plain,
    login_scram,
    register,
    sasl_client,
)
from serverharness import Harness


def pending_bytes(h: Harness) -> int:
    """What the server wrote to every client since their last read."""
    h.loop.run()
    return sum(len(c.transport.data) for c in h.clients)


def test_relayed_messages_count_once_and_their_deliveries_per_recipient() -> None:
    h = Harness()
    alice = h.connect("alice", caps=["echo-message"])
    bob, carol = h.connect("bob"), h.connect("carol")
    h.join("#tea", alice, bob, carol)
    tally = h.server.pipeline.tallies
    before = (tally[MessageSent].events, tally[MessageSent].deliveries)
    alice.send("PRIVMSG #tea :hello", "PRIVMSG bob :just you", "PRIVMSG #nowhere :lost")
    h.drain()
    after = (tally[MessageSent].events, tally[MessageSent].deliveries)
    # Two relayed (the third had no such channel); alice's echo is hers,
    # not a delivery: bob and carol, then bob.
    assert (after[0] - before[0], after[1] - before[1]) == (2, 3)


def test_bytes_out_are_every_byte_the_transports_got() -> None:
    h = Harness()
    alice, bob, carol = h.connect("alice"), h.connect("bob"), h.connect("carol")
    h.join("#tea", alice, bob, carol)
    start = h.server.output.bytes_out
    alice.send(*(f"PRIVMSG #tea :line {i}" for i in range(10)), "WHOIS bob")
    assert h.server.output.bytes_out - start == pending_bytes(h) > 0


def test_connections_registrations_and_disconnects_by_transport_and_reason() -> None:
    h = Harness({"limits": {"sendq_bytes": 10_000}})
    meters = h.server.meters
    talker, stuck = h.connect("talker"), h.connect("stuck")
    unregistered = h.connect()
    tcp = meters.transports["tcp"]
    assert (tcp.accepted, tcp.connected, tcp.registered, tcp.users) == (3, 3, 2, 2)
    h.join("#q", talker, stuck)
    stuck.transport.buffer_size = 9_990  # it stopped reading
    talker.send("PRIVMSG #q :" + "x" * 100)
    unregistered.send("QUIT :bye")
    talker.send("QUIT :leaving with words nobody logs")
    h.loop.run()
    assert (tcp.connected, tcp.users, tcp.registered_closed) == (0, 0, 2)
    counts = {k: v for k, v in meters.disconnects.items() if v}
    assert counts == {"sendq_exceeded": 1, "quit": 2}


def test_flood_control_counts_each_held_burst_once() -> None:
    h = Harness({"limits": {"flood_control": True}})
    client = h.connect("paster")
    h.advance(10)
    client.send(*(f"PRIVMSG paster :{i}" for i in range(30)))  # 10 past the burst
    assert h.server.meters.flood_throttles == 1
    h.advance(5)  # released in several steps, one burst all the same
    assert h.server.meters.flood_throttles == 1
    client.send(*(f"PRIVMSG paster :{i}" for i in range(30)))
    assert h.server.meters.flood_throttles == 2


def test_every_disconnect_reason_the_server_writes_has_its_label() -> None:
    reasons = {
        "Quit": "quit", "Quit: see you": "quit", "Connection closed": "connection_closed",
        "Ping timeout: 180 seconds": "ping_timeout",
        "Registration timed out": "registration_timeout", "SendQ exceeded": "sendq_exceeded",
        "Excess Flood": "excess_flood", "Received malformed line": "malformed_line",
        "Bad password": "bad_password", "Killed (oper (spam))": "killed",
        "WebSocket error: invalid UTF-8 in a text message": "websocket_error",
        "Internal server error": "internal_error", "Server shutting down": "server_shutdown",
        "Server restarting": "server_restart", "Something new": "other",
    }  # fmt: skip
    assert {r: disconnect_label(r) for r in reasons} == reasons
    assert set(reasons.values()) == set(DISCONNECT_LABELS)
    assert loggable_reason("Quit: my secret") == "Quit"
    assert loggable_reason("Ping timeout: 3 seconds") == "Ping timeout: 3 seconds"


def test_transport_kinds() -> None:
    assert transport_kind(tls=False, framed=False) == "tcp"
    assert transport_kind(tls=True, framed=False) == "tls"
    assert transport_kind(tls=False, framed=True) == "websocket"
    assert transport_kind(tls=True, framed=True) == "websocket_tls"


def test_sasl_counts_by_mechanism_and_result_with_other_mechanisms_pooled() -> None:
    sasl = SaslMeter()
    sasl.record("plain", "success")
    sasl.record("SCRAM-SHA-256", "failure")
    sasl.record("X-NEW-ONE", "aborted")
    assert {k: v for k, v in sasl.counts.items() if v} == {
        ("PLAIN", "success"): 1, ("SCRAM-SHA-256", "failure"): 1, ("other", "aborted"): 1,
    }  # fmt: skip


def test_a_histogram_is_cumulative_with_infinity_last() -> None:
    hist = Histogram((0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 3.0):
        hist.observe(value)
    assert hist.cumulative() == [(0.1, 2), (1.0, 3), (float("inf"), 4)]
    assert (hist.count, hist.total) == (4, pytest.approx(3.65))


def test_the_collector_renders_the_counters_as_prometheus_reads_them() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    h.join("#tea", alice, bob)
    alice.send("PRIVMSG #tea :hi", "QUIT")
    h.drain()
    lag = LoopLag()
    lag.observe(0.002)
    page, content_type = MetricsRegistry(h.server, lag).render()
    assert content_type.startswith("text/plain; version=0.0.4")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(page.decode())
        for s in family.samples
    }
    assert samples[("hubbub_messages_relayed_total", ())] == 1
    assert samples[("hubbub_disconnects_total", (("reason", "quit"),))] == 1
    assert samples[("hubbub_connected_clients", (("transport", "tcp"),))] == 1
    assert samples[("hubbub_event_loop_lag_last_seconds", ())] == 0.002
    assert samples[("hubbub_event_loop_lag_seconds_bucket", (("le", "0.0025"),))] == 1
    assert samples[("hubbub_history_commit_seconds_count", ())] == 0  # history is off
    assert ("hubbub_database_bytes", (("file", "database"),)) not in samples
    assert samples[("hubbub_events_total", (("kind", kind_label(MessageSent)),))] == 1


@pytest.fixture
def accounts(tmp_path: Path) -> Iterator[Harness]:
    yield from accounts_harness(tmp_path)


def test_sasl_exchanges_are_counted_where_they_end(accounts: Harness) -> None:
    h = accounts
    register(h, "alice")
    sasl = h.server.meters.sasl.counts
    login_plain(h, sasl_client(h), "alice", PASSWORD)  # 903
    login_plain(h, sasl_client(h, ip="10.0.0.8"), "alice", "wrong")  # 904
    login_scram(h, sasl_client(h, ip="10.0.0.9"), "alice", PASSWORD)  # 903
    aborting = sasl_client(h, ip="10.0.0.10")
    ask(h, aborting, "AUTHENTICATE PLAIN", "AUTHENTICATE *")  # 906
    ask(h, sasl_client(h, ip="10.0.0.11"), "AUTHENTICATE X-UNKNOWN")  # 908 + 904
    late = sasl_client(h, ip="10.0.0.12")
    ask(h, late, "AUTHENTICATE PLAIN", "NICK late", "USER u 0 * :R", "CAP END")  # 906
    assert {k: v for k, v in sasl.items() if v} == {
        ("PLAIN", "success"): 1, ("PLAIN", "failure"): 1, ("SCRAM-SHA-256", "success"): 1,
        ("PLAIN", "aborted"): 2, ("other", "failure"): 1,
    }  # fmt: skip
