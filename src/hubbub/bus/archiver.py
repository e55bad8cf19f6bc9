"""The archiver: the cluster's log into PostgreSQL, by one node at a time.

Every node runs one :class:`Archiver` task beside its bus when history is
on. It asks for the ``archiver`` role only while the node could take it
without leaving a gap (it has recorded, live, everything after what is
archived: :meth:`~hubbub.server.archive.ClusterHistory.covers`), or when
nobody better can be there: it is the only node, or the archive has not
moved for three leases although there is something to archive (the gap, if
any, is logged). The holder hands its unarchived entries to PostgreSQL
every :data:`EVERY` seconds, on a worker thread, with its position in the
same transaction, then tells the others through Redis; the others drop what
the archive has. The position is the holder's place in the log, not the last
entry it wrote: entries that hold nothing for history are archived too (at
most every :data:`IDLE` seconds when nothing else is), so a node that joined
after the last line said is fit to take over. PostgreSQL away: the archiver
keeps its entries and tries again every :data:`RETRY` seconds, saying once
that it waits; chat is not slowed by any of it.

The others learn the position at each renewal of their lease; while one of
their queries waits for the archive (:meth:`ClusterHistory.latest` and the
rest), every :data:`EVERY` seconds. A node fit for the role asks for it every
:data:`CLAIM` seconds while it is vacant, not only at renewals.
"""

from __future__ import annotations

import asyncio
import logging
import time

from hubbub.server.archive import ClusterHistory
from hubbub.store.errors import DatabaseError

from .redis import RedisBus, State

log = logging.getLogger(__name__)

ROLE = "archiver"
#: Seconds between two batches.
EVERY = 0.05
#: Seconds between two attempts while PostgreSQL is away.
RETRY = 1.0
#: Seconds between two writes of the position alone (nothing to archive).
IDLE = 1.0
#: Seconds between two attempts to take the role between renewals.
CLAIM = 0.5


class Archiver:
    """Drives a node's :class:`ClusterHistory` (see the module docstring)."""

    def __init__(self, bus: RedisBus, history: ClusterHistory) -> None:
        self.bus = bus
        self.history = history
        self._rebuilds = bus.rebuilds
        self._resumed = False  # the archive's position read back from PostgreSQL
        self._down_since: float | None = None
        self._stalled_since = time.monotonic()
        self._last_mark: int | None = None
        self._marked = 0.0  # when the position was last written
        self._claimed = 0.0  # when the role was last asked for

    async def run(self) -> None:
        """Until the bus closes."""
        bus = self.bus
        while not bus.closed:
            await asyncio.sleep(RETRY if self._down_since is not None else EVERY)
            if bus.state is not State.LIVE:
                continue
            if bus.rebuilds != self._rebuilds:
                # A new log, or a state rebuilt from a snapshot: start over.
                self._rebuilds, self._resumed = bus.rebuilds, False
                self.history.restart()
            if ROLE in bus.held:
                self._learn()
                await self._archive()
            else:
                if self.history.waiting:
                    await bus.read_archived()
                self._learn()
                now = time.monotonic()
                if ROLE in bus.wanted_roles and now - self._claimed >= CLAIM:
                    # Vacant (the archiver is gone, or there was none yet):
                    # taken now rather than at the next renewal.
                    self._claimed = now
                    if await bus.claim(ROLE):
                        await self._archive()

    def _learn(self) -> None:
        """Drop what the archive has; ask for the role when fit for it."""
        history, bus = self.history, self.bus
        mark = bus.archived_mark
        number = mark[1] if mark is not None else 0
        history.passed(number)
        if number != self._last_mark:
            self._last_mark, self._stalled_since = number, time.monotonic()
        stalled = time.monotonic() - self._stalled_since > 3 * bus.settings.lease_ms / 1000
        links = bus.links()
        alone = bool(links) and all(link.node == bus.node for link in links)
        if history.covers(number) or alone or (stalled and history.unarchived(1)):
            bus.wanted_roles.add(ROLE)
        else:
            bus.wanted_roles.discard(ROLE)

    async def _archive(self) -> None:
        history, bus = self.history, self.bus
        try:
            if not self._resumed:
                await self._resume()
            batch = history.unarchived()
            if batch and history.tail[-1][0] > batch[-1][0]:
                number, entry_id = batch[-1][0], batch[-1][1]  # more batches wait
            else:
                # Everything this node recorded up to its place in the log.
                number, entry_id = bus.number, bus.entry_id
            if number <= history.archived:
                return
            if not batch and time.monotonic() - self._marked < IDLE:
                return
            self._marked = time.monotonic()
            await asyncio.to_thread(history.archive, batch, f"{bus.netepoch} {number} {entry_id}")
        except DatabaseError as exc:
            if self._down_since is None:
                self._down_since = time.monotonic()
                log.error("history: PostgreSQL is unreachable (%s); archiving waits, chat "
                          "goes on", exc, extra={
                              "event": "history.archive_failed", "reason": str(exc),
                          })  # fmt: skip
            return
        if self._down_since is not None:
            log.warning("history: PostgreSQL answers again (after %.1f s); archiving "
                        "catches up", time.monotonic() - self._down_since,
                        extra={"event": "history.archive_resumed"})  # fmt: skip
            self._down_since = None
        history.passed(number)
        await bus.set_archived(entry_id, number)

    async def _resume(self) -> None:
        """Taking the role: where the archive stands in PostgreSQL."""
        history, bus = self.history, self.bus
        mark = await asyncio.to_thread(history.mark)
        self._resumed = True
        if mark is None:
            return
        netepoch, number, entry_id = mark.split()
        if netepoch != bus.netepoch:
            return  # an archive of an older log: this one starts at its beginning
        history.passed(int(number))
        if not history.covers(int(number)):
            log.error("history: entries %d to %d of the log were not archived and no running "
                      "node recorded them (their nodes are gone): whatever they held for "
                      "history is missing from it", int(number) + 1, history.since - 1,
                      extra={"event": "history.archive_gap"})  # fmt: skip
        await bus.set_archived(entry_id, int(number))
