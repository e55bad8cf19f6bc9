"""The cluster's bus: one totally ordered log of events in a Redis stream.

Theory of operation
-------------------
Every node keeps the whole network state, and changes it only by applying
the log, in the log's order, its own events included: a node publishes by
appending, and acts on its event (applies, records, delivers, answers its
client) only when it reads it back. So every node applies the same events in
the same order, and two nodes that read to the same entry have the same
state (``STATS l`` shows a hash of it). Races between nodes (two ``NICK
bob``) are settled by that order (:mod:`hubbub.server.apply`'s guards).

Four tasks per node, on its event loop:

* the **writer** sends what handlers appended this turn as one script call
  (:data:`.scripts.APPEND`: checks the log's incarnation and the node's
  epoch, skips what it already took, adds the rest); a batch whose answer
  was lost is sent again as it was, and nothing is added twice;
* the **reader** blocks on ``XREAD`` from the last entry it applied and
  hands each entry to the pipeline, after checking that it is the next one
  (entries are numbered without gaps). Its own events come back as the very
  objects it appended (found by msgid), so a node does not decode them;
* the **keeper** renews the node's lease every ``renew_ms`` (reporting how
  far it has read), reaps nodes whose lease expired (their users then quit
  on every node, in the same place in the log), and, on the node holding the
  ``snapshotter`` role, writes a snapshot of the state every
  ``snapshot_interval_s`` and trims the log before what every node has read;
* the **watchdog** fences the node when Redis has not answered for
  ``stall_timeout_ms`` (shorter than a lease): its clients are dropped before
  the other nodes declare it gone, so nobody talks into a node that no
  longer counts.

What goes wrong, and what the node does (docs/cluster.md has the table):

* Redis slow or unreachable for less than ``stall_timeout_ms``: appends
  wait (each client's next lines wait for its last command's events), the
  reader retries; nothing is lost or doubled.
* ``FENCED`` (the node was reaped: it paused, or lost Redis too long): drop
  every client, join again under a new epoch, keep the state (it is the log
  up to some entry, and reading on brings it up to date).
* ``LOST`` (the log's incarnation changed: Redis restarted empty) or an
  entry number that goes back (Redis lost the last writes): the log no
  longer matches what was delivered; drop every client, start a new log if
  nobody has yet, and rebuild the state from it. Never go on silently.
* a gap in the numbers (the log was trimmed past this node): drop every
  client and rebuild from the latest snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from enum import Enum
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from hubbub.config import ClusterSection
from hubbub.events import Event, NodeGone

from .base import Link, Receiver, Replica
from .scripts import APPEND, HOLD_ROLE, JOIN, LEAVE, READ_COUNT, REAP, RENEW, RESET, Keys
from .wire import decode_event, encode_event, system_event

__all__ = ["LogBroken", "RedisBus", "RedisError", "State"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Events sent in one append call at most.
APPEND_BATCH = 256
#: Seconds a blocking read waits before it asks again (and proves Redis alive).
READ_BLOCK_MS = 1000
#: Seconds a Redis command may take before the connection is given up.
COMMAND_TIMEOUT = 5.0
#: Seconds between two attempts when Redis does not answer.
RETRY_DELAY = 0.2
#: Seconds a clean stop waits for the last appends (the users' QUITs).
LEAVE_GRACE = 2.0


class State(Enum):
    """Where a node stands with the log."""

    STARTING = "starting"  # joined; the server is being built (appends queue)
    LIVE = "live"
    FENCED = "fenced"  # dropped its clients; joining again
    RESYNCING = "resyncing"  # rebuilding its state from a snapshot or a new log
    CLOSED = "closed"


def _nowhere(event: Event) -> None:
    raise RuntimeError("RedisBus: no receiver attached")


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class LogBroken(Exception):
    """The log is not what this node applied: lost entries or a gap."""

    def __init__(self, why: str, *, went_back: bool) -> None:
        super().__init__(why)
        self.went_back = went_back


class RedisBus:
    """The log of a cluster in Redis (see the module docstring)."""

    synchronous = False

    def __init__(self, settings: ClusterSection, domain: str, network: str) -> None:
        assert settings.redis is not None
        self.settings = settings
        self.node = settings.node
        #: ``server.name``: node ``n1`` is the server ``n1.<domain>``.
        self.domain = domain
        self.keys = Keys.of(settings.network or network)
        self._url = settings.redis
        # redis-py types every answer as bytes | str; with decode_responses
        # they are str, which the code below relies on: typed as Any here.
        self._redis: Any = None
        self._reads: Any = None
        self._receiver: Receiver = _nowhere
        self._replica: Replica | None = None
        self.state = State.STARTING
        #: The log's incarnation and this node's epoch in it.
        self.netepoch = ""
        self.epoch = 0
        #: The last entry applied: its stream id and its number.
        self.entry_id = "0-0"
        self.number = 0
        self._outbox: deque[tuple[int, str, str]] = deque()  # (seq, msgid, body)
        self._mine: dict[str, Event] = {}
        #: Entry number -> msgid of the entries the log said it took from us.
        self._acked: dict[int, str] = {}
        self._next_seq = 1
        self._wake = asyncio.Event()
        self._read_progress = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._reader: asyncio.Task[None] | None = None
        self._readers = 0  # the reader whose turn it is
        self._links: list[Link] = []
        self.last_contact = time.monotonic()
        self._unreachable_since: float | None = None
        self._snapshot_at = 0.0
        self.made_log = False
        #: Roles this node asks for at each renewal (beyond the snapshotter's),
        #: and those it holds as of the last one.
        self.wanted_roles: set[str] = set()
        self.held: set[str] = set()
        #: How far the archiver has put the log into PostgreSQL (entry id,
        #: number), as of the last renewal; None before anything was archived.
        self.archived_mark: tuple[str, int] | None = None
        #: The number of this node's own ``joined`` entry in the current log.
        self.joined_number = 0
        #: The entry the state was last built from: the snapshot's, or 0 (the
        #: log's beginning); every later entry went through the replica.
        self.loaded_from = 0
        #: Counts the times the state was rebuilt (a new log, a snapshot).
        self.rebuilds = 0
        self._scripts: dict[str, Any] = {}

    # --- the Bus interface --------------------------------------------------

    def attach(self, receiver: Receiver) -> None:
        """Hand every entry of the log to ``receiver``, in order."""
        self._receiver = receiver

    def append(self, event: Event) -> None:
        """Queue ``event`` for the log; the writer sends it this loop turn.
        A node that is fenced or rebuilding takes nothing: its clients are
        being dropped, and their words would not count anyway."""
        if self.state is not State.LIVE and self.state is not State.STARTING:
            return
        self._outbox.append((self._next_seq, event.msgid, encode_event(event)))
        self._next_seq += 1
        self._mine[event.msgid] = event
        self._wake.set()

    def close(self) -> None:
        """Stop every task (after :meth:`leave`, on the way out)."""
        self.state = State.CLOSED
        for task in self._tasks:
            task.cancel()
        if self._reader is not None:
            self._reader.cancel()

    @property
    def closed(self) -> bool:
        """Whether the bus was closed (the node is stopping)."""
        return self.state is State.CLOSED

    # --- membership (STATS l, LINKS) ----------------------------------------

    def position(self) -> str:
        """The number of the last entry applied."""
        return str(self.number)

    def links(self) -> list[Link]:
        """The live nodes, as they last reported (every ``renew_ms``)."""
        return list(self._links)

    def health(self) -> str | None:
        """Why this node should get no clients now, or None (see Membership)."""
        if self.state is not State.LIVE:
            return f"this node is {self.state.value} (log {self.settings.redis_shown})"
        if self._unreachable_since is not None:
            silent = time.monotonic() - self._unreachable_since
            return f"Redis {self.settings.redis_shown} has not answered for {silent:.0f} s"
        return None

    @property
    def prefix(self) -> str:
        """What this incarnation's msgids and uids start with: unique per
        node and epoch, and per log (the netepoch's first letters)."""
        return f"{self.node}.{self.epoch}.{self.netepoch[:4]}"

    # --- starting and stopping ------------------------------------------------

    async def connect(self) -> None:
        """Open the connections (commands, and blocking reads apart)."""
        def client() -> Redis:
            # No retries inside redis-py: the writer retries whole batches
            # itself, which the append script makes safe.
            return Redis.from_url(
                self._url, decode_responses=True, socket_timeout=COMMAND_TIMEOUT,
                socket_connect_timeout=COMMAND_TIMEOUT, retry=Retry(NoBackoff(), 0),
            )  # fmt: skip

        self._redis, self._reads = client(), client()
        for name, text in (("join", JOIN), ("append", APPEND), ("renew", RENEW),
                           ("reap", REAP), ("leave", LEAVE), ("reset", RESET),
                           ("role", HOLD_ROLE)):  # fmt: skip
            self._scripts[name] = self._redis.register_script(text)

    async def join(self, replica: Replica) -> bool:
        """Join the log (making it if there is none) and bring ``replica`` up
        to this node's arrival: from the latest snapshot, then the entries
        after it. True when the log is new (nothing to start from)."""
        self._replica = replica
        number, _ = await self._join_log()
        await self._start_from_snapshot()
        await self._read_until(number)
        return self.made_log

    def serve(self, replica: Replica) -> None:
        """Go live: read, write and keep the lease, for the server ``replica``."""
        self._replica = replica
        self.state = State.LIVE
        loop = asyncio.get_running_loop()
        self._start_reader()
        self._tasks = [
            loop.create_task(self._write_forever()),
            loop.create_task(self._keep_forever()),
            loop.create_task(self._watch_forever()),
        ]
        if self._outbox:
            self._wake.set()

    async def leave(self) -> None:
        """A clean stop: send what is queued (the users' QUITs), then leave
        the log, so the others need not wait for the lease to expire."""
        deadline = time.monotonic() + LEAVE_GRACE
        while self._outbox and self.state is State.LIVE and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        # Closed first: the reader may see this node's own "gone" entry.
        was_live, self.state = self.state is State.LIVE, State.CLOSED
        if was_live:
            with contextlib.suppress(RedisError, OSError):
                k = self.keys
                await self._script("leave")(
                    keys=[k.netepoch, k.nodes, k.seq, k.positions, k.log, k.count,
                          k.lease(self.node)],
                    args=[self.netepoch, self.node, self.epoch],
                )  # fmt: skip
        tasks = [*self._tasks, *([self._reader] if self._reader is not None else [])]
        self.close()
        # redis-py may swallow the cancellation of a blocked XREAD: closing its
        # connection ends the read, and every loop stops once the bus is closed.
        for conn in (self._reads, self._redis):
            if conn is not None:
                with contextlib.suppress(RedisError, OSError):
                    await conn.aclose()
        await asyncio.wait(tasks, timeout=LEAVE_GRACE) if tasks else None

    # --- joining ----------------------------------------------------------------

    def _script(self, name: str) -> Callable[..., Awaitable[Any]]:
        return self._scripts[name]  # type: ignore[no-any-return]

    async def _join_log(self) -> tuple[int, bool]:
        """Run the join script: a new epoch (and a new log if there is none).
        Returns the number of this node's ``joined`` entry and whether the
        log is another than the one this node's state came from."""
        k = self.keys
        net, epoch, _, number, made = await self._script("join")(
            keys=[k.netepoch, k.epochs, k.nodes, k.seq, k.log, k.count, k.lease(self.node),
                  k.positions, k.snapshot, k.archived],
            args=[self.node, self.settings.lease_ms, secrets.token_hex(8)],
        )  # fmt: skip
        self._contact()
        other_log = net != self.netepoch
        self.netepoch, self.epoch = net, int(epoch)
        self.joined_number = int(number)
        #: Whether this join made the log (the first node, or after a loss).
        self.made_log = bool(int(made))
        self._outbox.clear()
        self._mine.clear()
        self._acked.clear()
        self._next_seq = 1
        return int(number), other_log

    async def _start_from_snapshot(self) -> None:
        """Empty the state, then load the latest snapshot of this log, if any."""
        assert self._replica is not None and self._redis is not None
        self._replica.clear()
        self.entry_id, self.number = "0-0", 0
        self.loaded_from = 0
        raw = await self._redis.get(self.keys.snapshot)
        if raw is None:
            return
        data = json.loads(raw)
        if data.get("netepoch") != self.netepoch:
            return
        self._replica.load(data["state"])
        self.entry_id, self.number = data["position"], int(data["number"])
        self.loaded_from = self.number
        log.info("loaded the snapshot at entry %d of the log", self.number,
                 extra={"event": "cluster.snapshot_loaded"})

    async def _read_until(self, number: int) -> None:
        """Apply the log up to entry ``number`` (before the reader runs)."""
        assert self._reads is not None
        while self.number < number:
            entries = await self._reads.xrange(
                self.keys.log, f"({self.entry_id}", "+", count=READ_COUNT * 4
            )
            self._contact()
            if not entries:
                raise LogBroken(f"the log ends before entry {number}", went_back=True)
            self._take(entries)

    # --- reading ------------------------------------------------------------------

    def _take(self, entries: list[tuple[str, dict[str, str]]]) -> None:
        """Apply entries read from the log, checking that none is missing."""
        receiver, mine, node, acked = self._receiver, self._mine, self.node, self._acked
        for entry_id, fields in entries:
            n = int(fields["n"])
            if n != self.number + 1:
                raise LogBroken(
                    f"entry {n} follows entry {self.number}", went_back=n <= self.number
                )
            msgid = fields.get("m")
            if acked and acked.pop(n, msgid) != msgid:
                raise LogBroken(f"entry {n} is not the one this node appended", went_back=True)
            try:
                if msgid is not None:
                    event = mine.pop(msgid, None) or decode_event(fields["e"])
                else:
                    event = system_event(entry_id, fields, self.domain)
            except (ValueError, KeyError) as exc:
                # A newer node's event this version cannot read: said loudly,
                # since this node now differs from those that can.
                log.error("log entry %s skipped: %s", entry_id, exc,
                          extra={"event": "cluster.entry_skipped", "reason": str(exc)})
                event = None
            self.entry_id, self.number = entry_id, n
            if event is None:
                continue
            receiver(event)
            if type(event) is NodeGone and event.node == node and event.epoch == self.epoch:
                self._fence("this server was declared gone by the others (it did not "
                            "renew its lease in time)")  # fmt: skip
        self._read_progress.set()

    def _start_reader(self) -> None:
        """Read from the last entry applied, in a task of its own. A reader
        from before (a resync) stops at its next answer: redis-py may swallow
        the cancellation of a blocked read, so each reader knows its turn."""
        self._readers += 1
        if self._reader is not None:
            self._reader.cancel()
        self._reader = asyncio.get_running_loop().create_task(self._read_forever(self._readers))

    async def _read_forever(self, turn: int) -> None:
        assert self._reads is not None
        key = self.keys.log
        while not self.closed and turn == self._readers:
            try:
                found = await self._reads.xread(
                    {key: self.entry_id}, count=READ_COUNT, block=READ_BLOCK_MS
                )
            except (RedisError, OSError) as exc:
                if self.closed:
                    return
                self._trouble(exc)
                await asyncio.sleep(RETRY_DELAY)
                continue
            self._contact()
            if not found or turn != self._readers:
                continue
            try:
                for _, entries in found:
                    self._take(entries)
            except LogBroken as exc:
                self._resync(str(exc), new_log=exc.went_back)
                return
            except Exception:
                log.exception("applying the log failed: rebuilding this node's state",
                              extra={"event": "cluster.apply_failed"})
                self._resync("an event could not be applied", new_log=False)
                return

    # --- writing ------------------------------------------------------------------

    async def _write_forever(self) -> None:
        k = self.keys
        keys = [k.netepoch, k.nodes, k.seq, k.log, k.count]
        append = self._script("append")
        outbox = self._outbox
        while not self.closed:
            await self._wake.wait()
            self._wake.clear()
            while outbox and self.state is State.LIVE:
                batch = [outbox[i] for i in range(min(len(outbox), APPEND_BATCH))]
                args: list[Any] = [self.netepoch, self.node, self.epoch, batch[0][0]]
                for _, msgid, body in batch:
                    args += (msgid, body)
                try:
                    answer = await append(keys=keys, args=args)
                except (RedisError, OSError) as exc:
                    self._trouble(exc)
                    await asyncio.sleep(RETRY_DELAY)
                    continue  # the same batch again: the script skips what it took
                self._contact()
                if answer[0] == "OK":
                    for _ in batch:
                        outbox.popleft()
                    # The entries this node was told it has: if the log later
                    # shows other ones there (or ends before), it lost them.
                    added, last = int(answer[1]), int(answer[2])
                    for i, (_, msgid, _) in enumerate(batch[len(batch) - added :]):
                        self._acked[last - added + 1 + i] = msgid
                elif answer[0] == "FENCED":
                    self._fence("this server lost its place in the network")
                elif answer[0] == "LOST":
                    self._resync("the network's log was lost (Redis restarted empty)",
                                 new_log=False)  # fmt: skip

    # --- the lease, reaping, snapshots --------------------------------------------

    async def _keep_forever(self) -> None:
        every = self.settings.renew_ms / 1000
        while not self.closed:
            await asyncio.sleep(every)
            if self.state is not State.LIVE:
                continue
            try:
                await self._keep()
            except (RedisError, OSError) as exc:
                self._trouble(exc)

    async def _keep(self) -> None:
        """Renew the lease (with this node's report), reap, refresh the
        links, and write a snapshot when it is this node's turn."""
        assert self._redis is not None
        k, redis = self.keys, self._redis
        # What this node has, as of before it asks where the log ends.
        has = max(self.number, max(self._acked, default=0))
        last = await redis.xrevrange(k.log, "+", "-", count=1)
        self._contact()
        lag = 0
        if last and _id_key(last[0][0]) > _id_key(self.entry_id):
            lag = _id_key(last[0][0])[0] - _id_key(self.entry_id)[0]
        end = int(last[0][1]["n"]) if last else 0
        if end < has:
            # Entries this node appended, or read, are gone from the log.
            self._resync(f"the log ends at entry {end}, before entries this server has",
                         new_log=True)  # fmt: skip
            return
        report = f"{self.entry_id} {self.number} {int(time.time() * 1000)} {lag}"
        answer = await self._script("renew")(
            keys=[k.netepoch, k.nodes, k.lease(self.node), k.positions],
            args=[self.netepoch, self.node, self.epoch, self.settings.lease_ms, report],
        )  # fmt: skip
        if answer == "FENCED":
            self._fence("this server lost its place in the network")
            return
        if answer == "LOST":
            self._resync("the network's log was lost (Redis restarted empty)", new_log=False)
            return
        reaped = await self._script("reap")(
            keys=[k.netepoch, k.nodes, k.seq, k.positions, k.log, k.count],
            args=[self.netepoch, k.lease_prefix],
        )  # fmt: skip
        for gone in reaped:
            log.warning("node %s did not renew its lease: its users quit", gone,
                        extra={"event": "cluster.node_gone", "node": gone})
        nodes = await redis.hgetall(k.nodes)
        reports = await redis.hgetall(k.positions)
        self._links = [_link(node, int(epoch), reports.get(node)) for node, epoch in
                       sorted(nodes.items())]  # fmt: skip
        for role in self.wanted_roles | self.held:
            held = role in self.wanted_roles and await self._script("role")(
                keys=[k.role(role)], args=[self.node, self.settings.lease_ms]
            )  # fmt: skip
            (self.held.add if held else self.held.discard)(role)
        archived = await redis.get(k.archived)
        if archived is not None:
            entry_id, number = archived.split()
            self.archived_mark = entry_id, int(number)
        interval = self.settings.snapshot_interval_s
        if time.monotonic() - self._snapshot_at >= interval and await self._script("role")(
            keys=[k.role("snapshotter")], args=[self.node, self.settings.lease_ms]
        ):
            await self._snapshot(reports)

    async def _snapshot(self, reports: dict[str, str]) -> None:
        """Write the state as it is at the last entry applied, then trim the
        log before the oldest of that entry and what every node has read."""
        assert self._replica is not None and self._redis is not None
        self._snapshot_at = time.monotonic()
        entry_id, number = self.entry_id, self.number
        state = self._replica.snapshot()
        data = {"netepoch": self.netepoch, "position": entry_id, "number": number,
                "node": self.node, "state": state}  # fmt: skip
        text = await asyncio.to_thread(json.dumps, data, separators=(",", ":"))
        await self._redis.set(self.keys.snapshot, text)
        # Not before what any node has read, nor (with history) what is not
        # archived yet: the log keeps what PostgreSQL lacks.
        keep = [entry_id, *(r.split()[0] for r in reports.values())]
        if self.archived_mark is not None:
            keep.append(self.archived_mark[0])
        oldest = min(keep, key=_id_key)
        trimmed = await self._redis.xtrim(self.keys.log, minid=oldest)
        log.info("snapshot at entry %d (%d bytes); %d entries trimmed", number, len(text),
                 trimmed, extra={"event": "cluster.snapshot_written"})  # fmt: skip

    async def claim(self, role: str) -> bool:
        """Take ``role`` now if nobody holds it (it is then kept at each
        renewal while wanted); whether this node holds it."""
        if self._redis is None or self.state is not State.LIVE:
            return False
        try:
            held = await self._script("role")(
                keys=[self.keys.role(role)], args=[self.node, self.settings.lease_ms]
            )  # fmt: skip
        except (RedisError, OSError):
            return False
        if held:
            self.held.add(role)
        return bool(held)

    async def read_archived(self) -> None:
        """Where the archive stands, now (a query waits for it); as of the
        last renewal if Redis does not answer."""
        if self._redis is None or self.state is not State.LIVE:
            return
        try:
            archived = await self._redis.get(self.keys.archived)
        except (RedisError, OSError):
            return
        if archived is not None:
            entry_id, number = archived.split()
            self.archived_mark = entry_id, int(number)

    async def set_archived(self, entry_id: str, number: int) -> None:
        """The archiver has put the log into PostgreSQL up to this entry."""
        assert self._redis is not None
        await self._redis.set(self.keys.archived, f"{entry_id} {number}")
        self.archived_mark = entry_id, number

    async def _watch_forever(self) -> None:
        stall = self.settings.stall_timeout_ms / 1000
        while not self.closed:
            await asyncio.sleep(min(1.0, stall / 10))
            silent = time.monotonic() - self.last_contact
            if self.state is State.LIVE and silent > stall:
                self._fence(f"cluster unreachable: no answer from Redis for {silent:.0f} s")

    # --- contact ------------------------------------------------------------------

    def _contact(self) -> None:
        """Redis answered."""
        self.last_contact = time.monotonic()
        if self._unreachable_since is not None:
            log.warning("Redis answers again (after %.1f s)",
                        self.last_contact - self._unreachable_since,
                        extra={"event": "cluster.redis_back"})  # fmt: skip
            self._unreachable_since = None

    def _trouble(self, exc: BaseException) -> None:
        """Redis did not answer; said once, until it does again."""
        if self._unreachable_since is None:
            self._unreachable_since = time.monotonic()
            log.warning("Redis does not answer (%s): waiting for it", type(exc).__name__,
                        extra={"event": "cluster.redis_unreachable", "reason": type(exc).__name__})

    # --- fenced, resyncing ------------------------------------------------------------

    def _fence(self, reason: str) -> None:
        """Drop every client and join again under a new epoch, keeping the
        state (it is the log up to the last entry read)."""
        if self.state is not State.LIVE:
            return
        log.warning("fenced: %s; dropping every client and joining again", reason,
                    extra={"event": "cluster.fenced", "reason": reason})
        self.state = State.FENCED
        self._outbox.clear()
        self._mine.clear()
        self._acked.clear()
        assert self._replica is not None
        self._replica.fenced(reason)
        self._spawn(self._rejoin())

    def _resync(self, reason: str, *, new_log: bool) -> None:
        """Drop every client, and rebuild the state: from a new log when this
        one went back in time, else from the latest snapshot and the log."""
        if self.state in (State.RESYNCING, State.CLOSED):
            return
        log.error("the log is not what this server applied (%s): dropping every client "
                  "and rebuilding from %s", reason,
                  "a new log" if new_log else "the snapshot",
                  extra={"event": "cluster.resync", "reason": reason})  # fmt: skip
        was = self.state
        self.state = State.RESYNCING
        self._outbox.clear()
        self._mine.clear()
        self._acked.clear()
        self._readers += 1  # the reader stops at its next answer
        if self._reader is not None and self._reader is not asyncio.current_task():
            self._reader.cancel()
        assert self._replica is not None
        if was is State.LIVE:
            self._replica.fenced(f"the network is being restored ({reason})")
        self._spawn(self._rebuild(new_log))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(coro))

    async def _rejoin(self) -> None:
        # The dropped clients' goodbyes run first (call_soon) and are not sent.
        await asyncio.sleep(0)
        number, other_log = await self._retry(self._join_log)
        if other_log:
            # Redis lost the log meanwhile: the state must be rebuilt too.
            self.state = State.RESYNCING
            self._readers += 1
            await self._rebuild_from(number)
            return
        while self.number < number:
            self._read_progress.clear()
            await self._read_progress.wait()
        self.state = State.LIVE
        assert self._replica is not None
        self._replica.rejoined(self.prefix, fresh=False)
        log.warning("joined the network again as %s, epoch %d", self.node, self.epoch,
                    extra={"event": "cluster.rejoined"})

    async def _rebuild(self, new_log: bool) -> None:
        await asyncio.sleep(0)
        if new_log:
            k = self.keys
            await self._retry(lambda: self._script("reset")(
                keys=[k.netepoch, *k.all()], args=[self.netepoch, secrets.token_hex(8)]
            ))  # fmt: skip
        number, _ = await self._retry(self._join_log)
        await self._rebuild_from(number)

    async def _rebuild_from(self, number: int) -> None:
        """Empty the state, load the snapshot, read to entry ``number``, serve."""
        try:
            await self._retry(self._start_from_snapshot)
            await self._read_until(number)
        except LogBroken as exc:
            self.state = State.LIVE
            self._resync(str(exc), new_log=False)
            return
        self.state = State.LIVE
        self.rebuilds += 1
        self.archived_mark = None
        self._start_reader()
        assert self._replica is not None
        self._replica.rejoined(self.prefix, fresh=True)
        log.warning("rebuilt from the log: serving again as %s, epoch %d", self.node, self.epoch,
                    extra={"event": "cluster.rebuilt"})

    async def _retry(self, call: Callable[[], Awaitable[T]]) -> T:
        while True:
            try:
                return await call()
            except (RedisError, OSError) as exc:
                if self.closed:
                    raise
                self._trouble(exc)
                await asyncio.sleep(RETRY_DELAY)


def _link(node: str, epoch: int, report: str | None) -> Link:
    """A node from its entry in ``nodes`` and its last report."""
    if report is None:
        return Link(node, epoch, "-", 0, 0)
    _, number, ms, lag = report.split()
    return Link(node, epoch, number, int(ms), int(lag))
