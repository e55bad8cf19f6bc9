"""A cluster with PostgreSQL: history written by one archiver, read on every
node, complete across the archiver's death and PostgreSQL's absence; accounts
shared. Real nodes, a real redis-server and a real PostgreSQL."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_postgres import CAPS, DB_PASSWORD, history, register, sasl

from clusterkit import LEASE_MS, Nodes, RedisServer, postgres_storage
from ircclient import LineClient
from pgtest import PgServer


@pytest.fixture
def own_pg() -> Iterator[PgServer]:
    """A PostgreSQL of this test's own, to stop and start."""
    server = PgServer()
    server.start()
    yield server
    server.remove()


def say(sender: LineClient, hearer: LineClient, texts: list[str]) -> None:
    """``sender`` says ``texts`` in #lobby; wait until ``hearer`` heard them all."""
    for text in texts:
        sender.send(f"PRIVMSG #lobby :{text}")
    for text in texts:
        hearer.expect("PRIVMSG", "#lobby", text, timeout=10)


def archiver(redis: RedisServer) -> str:
    """The node holding the archiver role now."""
    found = redis.command("GET", "hubbub:{TestNet}:role:archiver").decode()
    return found.split("\r\n")[1]


def test_history_is_one_on_every_node_and_survives_the_archiver_s_death(
    nodes: Nodes, redis: RedisServer, pg_url: str
) -> None:
    nodes.storage = postgres_storage(pg_url)
    for n in ("n1", "n2", "n3"):
        nodes.start(n)
    a, b = nodes["n1"].client("a", CAPS), nodes["n2"].client("b", CAPS)
    reader = nodes["n3"].client("reader", CAPS)
    lines = []
    for k in range(60):
        lines.append(f"{'ab'[k % 2]} line {k}")
        (a if k % 2 == 0 else b).send(f"PRIVMSG #lobby :{lines[-1]}")
    heard = [reader.expect("PRIVMSG", "#lobby").params[1] for _ in lines]
    assert sorted(heard) == sorted(lines)
    # Every node reads the same history, in the order it was delivered.
    for c in (a, b, reader):
        assert history(c, "#lobby", 100) == heard
    lines = heard
    # The archiver dies with lines not yet archived, maybe: another takes over.
    dead = archiver(redis)
    survivor = next(n for n in ("n1", "n2", "n3") if n != dead)
    speaker = nodes[survivor].client("speaker", CAPS)
    listener = nodes[next(n for n in ("n1", "n2", "n3") if n not in (dead, survivor))].client(
        "listener", CAPS)  # fmt: skip
    speaker.send("PRIVMSG #lobby :just before")
    nodes[dead].proc.send_signal(signal.SIGKILL)
    nodes[dead].proc.wait()
    after = [f"after {k}" for k in range(20)]
    say(speaker, listener, after)
    deadline = time.monotonic() + LEASE_MS / 1000 + 10
    while archiver(redis) in ("", dead):
        assert time.monotonic() < deadline, "no node took the archiver role"
        time.sleep(0.1)
    listener.quiet(0.5)  # the dead node's users' netsplit batch
    got = history(listener, "#lobby", 200)
    assert got[:60] == lines and "just before" in got and got[-20:] == after
    nodes.converged([n for n in ("n1", "n2", "n3") if n != dead])


def test_postgresql_down_chat_goes_on_and_history_catches_up(
    nodes: Nodes, own_pg: PgServer
) -> None:
    nodes.storage = postgres_storage(own_pg.new_database())
    nodes.start("n1")
    nodes.start("n2")
    assert register(nodes["n1"], "owner")[:2] == ("REGISTER", "SUCCESS")
    a, b = nodes["n1"].client("a", CAPS), nodes["n2"].client("b", CAPS)
    say(a, b, ["before"])
    own_pg.stop()
    during = [f"during {k}" for k in range(30)]
    say(a, b, during)  # chat goes on, at once
    failed = register(nodes["n2"], "carol")
    assert failed[:3] == ("FAIL", "REGISTER", "TEMPORARILY_UNAVAILABLE"), failed
    assert sasl(nodes["n2"], "owner") == "904"
    own_pg.start()
    deadline = time.monotonic() + 20
    while (got := history(b, "#lobby")) != ["before", *during]:
        assert time.monotonic() < deadline, got
        time.sleep(0.5)
    assert sasl(nodes["n2"], "owner") == "903"
    # The account made on n1 owns its nick on n2.
    taken = nodes["n2"].client()
    taken.send("NICK owner")
    taken.send("USER o 0 * :O")
    assert taken.expect("433").params[1] == "owner"
    nodes.converged()


def test_a_node_logs_its_node_redis_and_postgresql_without_passwords(
    tmp_path: Path, pg_url: str
) -> None:
    secret = "redis-s3cret-word"
    redis = RedisServer(tmp_path / "redis", password=secret)
    nodes = Nodes(tmp_path, redis)
    try:
        url = pg_url.replace("postgresql://hubbub@", f"postgresql://hubbub:{DB_PASSWORD}@")
        nodes.storage = postgres_storage(url)
        srv = nodes.start("n1")
        srv.client("a", CAPS).send("PRIVMSG #lobby :hello")
        srv.wait_for_log("ready as")
        log = srv.log.read_text()
        assert "database postgresql://hubbub:***@/" in log, log
        assert (f"cluster: node n1 (server n1.irc.test.local) joined network hubbub:{{TestNet}} "
                f"at unix://:***@{redis.socket}: a new log") in log, log  # fmt: skip
        assert secret not in log and DB_PASSWORD not in log
        nodes.converged()
    finally:
        nodes.stop()
        redis.stop()
    assert "Traceback" not in srv.log.read_text()


def test_a_query_on_any_node_reads_its_own_lines_at_once(nodes: Nodes, pg_url: str) -> None:
    # Renewals (every 3 s) are slower than a query may wait for the archive
    # (2 s, then it answers from what PostgreSQL has): a node that is not the
    # archiver must learn the archive's position sooner.
    nodes.timings = (9000, 3000, 6000)
    nodes.storage = postgres_storage(pg_url)
    nodes.start("n1")
    nodes.start("n2")
    a, b = nodes["n1"].client("a", CAPS), nodes["n2"].client("b", CAPS)
    said: list[str] = []
    for k in range(3):
        for speaker, hearer in ((a, b), (b, a)):
            said.append(f"{speaker is a} {k}")
            say(speaker, hearer, [said[-1]])
            for reader in (a, b):
                assert history(reader, "#lobby") == said
    for n in ("n1", "n2"):
        assert "the archive is behind" not in nodes[n].log.read_text()
    nodes.converged()


def test_a_node_that_joined_after_the_last_line_takes_over_without_a_gap(
    nodes: Nodes, pg_url: str
) -> None:
    nodes.storage = postgres_storage(pg_url)
    nodes.start("n1")
    a = nodes["n1"].client("a", CAPS)
    a.send("PRIVMSG #lobby :before n2")
    a.send("AWAY :out")  # an entry history keeps nothing of
    a.expect("306")
    # n2 joins and records nothing before n1 dies: what it holds must still
    # reach back to what is archived, or it could not take over without a gap.
    nodes.start("n2")
    time.sleep(1.5)
    nodes["n1"].proc.send_signal(signal.SIGKILL)
    nodes["n1"].proc.wait()
    deadline = time.monotonic() + LEASE_MS / 1000 + 10
    b = nodes["n2"].client("b", CAPS)
    while (got := history(b, "#lobby")) != ["before n2"]:
        assert time.monotonic() < deadline, got
        time.sleep(0.2)
    b.send("PRIVMSG #lobby :after n1")
    b.expect("PRIVMSG", "#lobby", "after n1")  # echo-message
    assert history(b, "#lobby") == ["before n2", "after n1"]
    assert "missing from" not in nodes["n2"].log.read_text()


def test_a_one_node_cluster_restarted_archives_at_once(nodes: Nodes, pg_url: str) -> None:
    # The node that starts again records what it reads from the snapshot on,
    # so it covers what the archive lacks: no gap, no waiting for the role.
    nodes.storage = postgres_storage(pg_url)
    nodes.start("n1")
    a = nodes["n1"].client("a", CAPS)
    a.send("PRIVMSG #lobby :first life")
    a.expect("PRIVMSG", "#lobby", "first life")
    assert history(a, "#lobby") == ["first life"]
    a.close()
    nodes["n1"].stop()
    nodes.start("n1")
    b = nodes["n1"].client("b", CAPS)
    b.send("PRIVMSG #lobby :second life")
    b.expect("PRIVMSG", "#lobby", "second life")
    # Archived within the query's wait (before: only after three leases).
    assert history(b, "#lobby") == ["first life", "second life"]
    assert "missing from" not in nodes["n1"].log.read_text()
