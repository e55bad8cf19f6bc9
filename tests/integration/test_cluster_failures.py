"""A cluster's failures, each with its outcome measured (docs/cluster.md's table).

Real ``hubbub serve`` nodes and a real redis-server, with the short leases
of :mod:`clusterkit` (a dead node is reaped within LEASE_MS plus a renewal).
Every test ends with the nodes that are left at the same log position with
the same state hash.
"""

from __future__ import annotations

import signal
import threading
import time

import pytest

from clusterkit import LEASE_MS, Nodes, RedisServer
from ircclient import Closed, LineClient

CAPS = ("message-tags", "server-time", "echo-message", "batch")


def names(client: LineClient, channel: str) -> list[str]:
    client.send(f"NAMES {channel}")
    found = sorted(client.expect("353").params[-1].split())
    client.expect("366")
    return found


def until(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_node_killed_with_sigkill_takes_its_50_users_with_it(nodes: Nodes) -> None:
    for n in ("n1", "n2", "n3"):
        nodes.start(n)
    watcher = nodes["n1"].client("watcher", CAPS)
    other = nodes["n2"].client("other", CAPS)
    for c in (watcher, other):
        c.send("JOIN #x")
        c.expect("366", c.nick or "", "#x")
    doomed = [nodes["n3"].client(f"d{i}") for i in range(50)]
    for d in doomed:
        d.send("JOIN #x")
    until(lambda: len(names(watcher, "#x")) == 52, 10, "52 members of #x")
    watcher.quiet(0.2)
    killed_at = time.monotonic()
    nodes["n3"].proc.send_signal(signal.SIGKILL)
    nodes["n3"].proc.wait()
    quits = []
    while len(quits) < 50:
        quits.append(watcher.expect("QUIT", timeout=LEASE_MS / 1000 + 3))
    took = time.monotonic() - killed_at
    assert took < LEASE_MS / 1000 + 3, took
    assert sorted(m.source.partition("!")[0] for m in quits if m.source) == sorted(
        f"d{i}" for i in range(50)
    )
    assert {m.params[0] for m in quits} == {"irc.test.local n3.irc.test.local"}
    # Inside a netsplit batch for clients that have the batch capability.
    assert len({m.tags.get("batch") for m in quits}) == 1 and quits[0].tags.get("batch")
    assert names(watcher, "#x") == ["@watcher", "other"]
    # n2 applies the same entry, perhaps a moment later.
    until(lambda: names(other, "#x") == ["@watcher", "other"], 10, "n2 to see the QUITs")
    # The nicks are free again, on any node.
    again = nodes["n2"].client("d7")
    assert again.nick == "d7"
    watcher.send("LINKS")
    assert sorted(m.params[1] for m in watcher.collect("365") if m.command == "364") == [
        "n1.irc.test.local", "n2.irc.test.local"
    ]
    nodes.converged(["n1", "n2"])


class Talk:
    """Senders saying numbered lines at a steady rate, from threads."""

    def __init__(self, senders: list[LineClient], rate: float) -> None:
        self.senders = senders
        self.every = len(senders) / rate
        self.sent = [0] * len(senders)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(len(senders))]
        for t in self.threads:
            t.start()

    def _run(self, i: int) -> None:
        while not self.stop.wait(self.every):
            self.senders[i].send(f"PRIVMSG #talk :{i} {self.sent[i]}")
            self.sent[i] += 1

    def finish(self) -> int:
        self.stop.set()
        for t in self.threads:
            t.join()
        return sum(self.sent)


def heard(client: LineClient, total: int, timeout: float) -> list[tuple[str, str]]:
    """The (msgid, text) of ``total`` lines of #talk, as ``client`` got them."""
    got = []
    while len(got) < total:
        msg = client.expect("PRIVMSG", "#talk", timeout=timeout)
        got.append((msg.tags["msgid"], msg.params[1]))
    return got


def test_redis_paused_for_10_s_under_traffic_loses_and_doubles_nothing(
    nodes: Nodes, redis: RedisServer
) -> None:
    # Production timings: a 10 s stall is well under stall_timeout_ms.
    nodes.timings = (30000, 3000, 25000)
    nodes.start("n1")
    nodes.start("n2")
    senders = [nodes["n1"].client("s1", CAPS), nodes["n2"].client("s2", CAPS)]
    readers = [nodes["n1"].client("r1", CAPS), nodes["n2"].client("r2", CAPS)]
    for c in senders + readers:
        c.send("JOIN #talk")
        c.expect("366", c.nick or "", "#talk")
    talk = Talk(senders, rate=20)
    time.sleep(1)
    redis.pause()
    time.sleep(10)
    redis.resume()
    time.sleep(1)
    total = talk.finish()
    assert total > 200
    views = [heard(c, total, timeout=30) for c in senders + readers]
    for view in views:
        assert len({msgid for msgid, _ in view}) == total  # nothing twice
        assert view == views[0]  # the same lines in the same order everywhere
    for i in range(2):
        assert [int(t.split()[1]) for _, t in views[0] if t.split()[0] == str(i)] == list(
            range(talk.sent[i])
        )
    for c in senders + readers:
        assert not c.closed
        c.send("PING :still-here")
        c.expect("PONG")
    nodes.converged()


def test_a_node_paused_past_its_lease_is_fenced_and_does_not_diverge(nodes: Nodes) -> None:
    for n in ("n1", "n2", "n3"):
        nodes.start(n)
    watcher = nodes["n1"].client("watcher")
    sleepy = [nodes["n3"].client(f"z{i}") for i in range(5)]
    for c in (watcher, *sleepy):
        c.send("JOIN #x")
        c.expect("366", c.nick or "", "#x")
    until(lambda: len(names(watcher, "#x")) == 6, 10, "6 members")
    n3 = nodes["n3"].proc
    n3.send_signal(signal.SIGSTOP)
    # Its users quit on the others once its lease expires.
    quits = [watcher.expect("QUIT", timeout=LEASE_MS / 1000 + 3) for _ in sleepy]
    assert {m.params[0] for m in quits} == {"irc.test.local n3.irc.test.local"}
    # Meanwhile one of its users' nicks is taken on another node.
    taker = nodes["n2"].client("z0")
    # What a paused client typed before it woke up must not reach anyone.
    sleepy[1].send("PRIVMSG #x :from the past")
    n3.send_signal(signal.SIGCONT)
    for c in sleepy:
        with pytest.raises(Closed):
            c.wait_for(lambda m: m.command == "ERROR", timeout=10)
            c.wait_for(lambda m: False, timeout=2)
    assert [m for m in watcher.quiet(1.0) if m.command == "PRIVMSG"] == []
    # It joined again under a new epoch: it serves, and agrees with the others.
    until(lambda: nodes["n3"].log.read_text().count("joined the network again") == 1, 10,
          "n3 to join again")  # fmt: skip
    back = nodes["n3"].client("back")
    back.send("JOIN #x")
    back.expect("366", "back", "#x")
    assert names(back, "#x") == ["@watcher", "back"]
    # n1 learns of the JOIN from the log, perhaps a moment after n3 answered it.
    until(lambda: names(watcher, "#x") == ["@watcher", "back"], 10, "n1 to see back's JOIN")
    assert taker.nick == "z0"
    nodes.converged()


def _chatting_pair(nodes: Nodes) -> tuple[list[LineClient], list[LineClient]]:
    """A sender and a reader on each of n1 and n2, all in #talk."""
    senders = [nodes["n1"].client("s1", CAPS), nodes["n2"].client("s2", CAPS)]
    readers = [nodes["n1"].client("r1", CAPS), nodes["n2"].client("r2", CAPS)]
    for c in senders + readers:
        c.send("JOIN #talk")
        c.expect("366", c.nick or "", "#talk")
    return senders, readers


@pytest.mark.parametrize("how", ["shutdown", "sigkill"])
def test_redis_restarted_with_its_data_the_nodes_resume(
    durable_nodes: Nodes, durable_redis: RedisServer, how: str
) -> None:
    nodes, redis = durable_nodes, durable_redis
    nodes.timings = (30000, 3000, 25000)
    nodes.start("n1")
    nodes.start("n2")
    senders, readers = _chatting_pair(nodes)
    talk = Talk(senders, rate=20)
    time.sleep(1)
    if how == "shutdown":
        redis.shutdown()
    else:
        redis.kill()  # appendfsync always: everything answered is on disk
    time.sleep(1)
    redis.start()
    time.sleep(1.5)
    total = talk.finish()
    views = [heard(c, total, timeout=30) for c in senders + readers]
    for view in views:
        assert len({msgid for msgid, _ in view}) == total
        assert view == views[0]
    for c in senders + readers:
        assert not c.closed
    nodes.converged()


def test_redis_restarted_empty_the_nodes_notice_and_start_a_new_network(
    nodes: Nodes, redis: RedisServer
) -> None:
    nodes.start("n1")
    nodes.start("n2")
    alice = nodes["n1"].client("alice")
    bob = nodes["n2"].client("bob")
    for c in (alice, bob):
        c.send("JOIN #old")
        c.expect("366", c.nick or "", "#old")
    redis.kill()
    redis.wipe()
    redis.start()
    # Every client is told and dropped: what they saw can no longer be matched.
    for c in (alice, bob):
        error = c.wait_for(lambda m: m.command == "ERROR", timeout=LEAVE_S)[0]
        assert "restored" in error.params[0] or "lost" in error.params[0], error
    # The nodes rebuild a network from the new log, and serve again.
    until(lambda: all("rebuilt from the log" in nodes[n].log.read_text() for n in ("n1", "n2")),
          LEAVE_S, "both nodes to rebuild")  # fmt: skip
    again = [nodes["n1"].client("alice"), nodes["n2"].client("bob")]
    for c in again:
        c.send("JOIN #new")
        c.expect("366", c.nick or "", "#new")
    again[0].send("PRIVMSG #new :a new start")
    assert again[1].expect("PRIVMSG", "#new").params[1] == "a new start"
    again[1].send("LIST")
    listed = [m.params[1] for m in again[1].collect("323") if m.command == "322"]
    assert sorted(listed) == ["#lobby", "#new"]  # #old went with the old log
    nodes.converged()


def test_redis_killed_under_everysec_never_diverges(tmp_path, nodes: Nodes) -> None:  # type: ignore[no-untyped-def]
    redis = nodes.redis
    redis.stop()
    redis.fsync = "everysec"
    redis.start()
    nodes.timings = (30000, 3000, 25000)
    nodes.start("n1")
    nodes.start("n2")
    senders, readers = _chatting_pair(nodes)
    talk = Talk(senders, rate=50)
    time.sleep(1.5)
    redis.kill()  # up to a second of the log may be lost
    redis.start()
    time.sleep(4)
    total = talk.finish()
    dropped = [c for c in senders + readers if _was_dropped(c)]
    print("everysec kill:", "a loss found, rebuilt" if dropped else "nothing lost")
    if dropped:
        # A loss was found: every client was dropped and the nodes rebuilt.
        assert len(dropped) == 4
        until(lambda: all("rebuilt from the log" in nodes[n].log.read_text()
                          for n in ("n1", "n2")), 10, "both nodes to rebuild")  # fmt: skip
    else:
        views = [heard(c, total, timeout=30) for c in senders + readers]
        for view in views:
            assert view == views[0] and len(view) == total
    nodes.converged()


def _was_dropped(client: LineClient) -> bool:
    """Whether the server told ``client`` ERROR (what else came stays to be read)."""
    try:
        client.wait_for(lambda m: m.command == "ERROR", timeout=0.5)
    except (AssertionError, Closed):
        return client.closed
    return True


#: Seconds within which a node notices a lost log and rebuilds.
LEAVE_S = 10
