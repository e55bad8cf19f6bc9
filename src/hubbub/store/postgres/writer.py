"""The thread that writes to PostgreSQL: jobs in order, batched, retried.

Theory of operation
-------------------
The event loop must never wait for PostgreSQL, so everything the loop
wants written (a turn's history, a registered channel's new state) is a
:class:`Job` handed to :meth:`Writer.submit`, which only appends it to a
queue and wakes this thread. The thread takes everything queued so far and
writes it in **one transaction**, so the busier the server, the larger the
batches: one round trip carries a turn's lines, or many turns' lines when
the previous commit was still on its way.

A job leaves the queue only once its transaction committed. When
PostgreSQL cannot be reached (down, restarting, the connection cut), the
thread logs it (once, then every :data:`LOG_INTERVAL` seconds), waits a
little longer each time (up to :data:`MAX_BACKOFF`) and tries the same jobs
again on a new connection, while new jobs keep queueing behind them: chat
goes on, and history catches up when PostgreSQL is back. The queue is
bounded (:data:`MAX_QUEUED` entries of history): past it the oldest
history goes, and the log says how much. A job that PostgreSQL refuses for
what it holds (not an outage: a bug, or data it cannot take) is tried
alone, then entry by entry, and only what is refused alone is dropped,
with a log line: one bad row never holds back, nor takes along, anything
else.

Jobs with a ``key`` (a registered channel's state) replace a queued job
with the same key: only the newest state of a channel needs writing, and
the queue stays as small as the number of channels.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import psycopg

from ..base import WriteStats
from .database import UNREACHABLE, PgDatabase

log = logging.getLogger(__name__)

#: Entries of history kept queued while PostgreSQL is away, before the oldest go.
MAX_QUEUED = 200_000
#: Entries of history written in one transaction at most.
MAX_BATCH = 5_000
#: Seconds between two log lines about PostgreSQL being unreachable.
LOG_INTERVAL = 10.0
#: Seconds between reconnection attempts: first, and at most.
FIRST_BACKOFF = 0.1
MAX_BACKOFF = 2.0

Conn = psycopg.Connection[Any]


class Job:
    """Something to write: ``run(conn)`` inside the writer's transaction."""

    __slots__ = ("key", "seq", "size")

    def __init__(self, size: int = 0, key: str | None = None) -> None:
        #: Entries of history it carries (what the bound counts).
        self.size = size
        #: Replaces a queued job with the same key (newest state wins).
        self.key = key
        self.seq = 0

    def run(self, conn: Conn) -> None:
        """Write (inside a transaction the writer opened)."""
        raise NotImplementedError

    def split(self) -> list[Job]:
        """Smaller jobs doing the same work (each entry of a turn alone), to
        find the part PostgreSQL refuses; none when it cannot be split."""
        return []

    @classmethod
    def run_group(cls, conn: Conn, jobs: list[Job]) -> None:
        """Write consecutive jobs of this class; a class whose jobs can share
        statements (history batches) writes them as one."""
        for job in jobs:
            job.run(conn)


class CallJob(Job):
    """A job that calls a function."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[Conn], None], key: str | None = None) -> None:
        super().__init__(0, key)
        self.fn = fn

    def run(self, conn: Conn) -> None:
        self.fn(conn)


class Writer(threading.Thread):
    """One connection that writes, on a thread of its own (see the module docstring)."""

    def __init__(self, db: PgDatabase, *, name: str = "hubbub-pg-writer") -> None:
        super().__init__(name=name, daemon=True)
        self.db = db
        self._cond = threading.Condition()
        self._queue: deque[Job] = deque()
        self._queued_entries = 0
        self._seq = 0
        self._done_seq = 0
        self._stopping = False
        self._conn: Conn | None = None
        #: Since when PostgreSQL has been unreachable (monotonic), or None.
        self.down_since: float | None = None
        self._last_log = 0.0
        #: History entries dropped because the queue was full.
        self.dropped = 0
        #: Transactions committed, and the entries they carried.
        self.commits = 0
        self.written = 0
        #: What the commits did, for the metrics (changed on this thread only;
        #: the store's ``stats``).
        self.stats = WriteStats()

    # --- from the loop (or any thread) --------------------------------------------

    def submit(self, job: Job) -> None:
        """Queue ``job``; it is written soon, in order. Never blocks on PostgreSQL."""
        with self._cond:
            if job.key is not None:
                for queued in self._queue:
                    if queued.key == job.key and queued.seq > self._running_upto:
                        self._queue.remove(queued)
                        break
            self._seq += 1
            job.seq = self._seq
            self._queue.append(job)
            self._queued_entries += job.size
            if self._queued_entries > MAX_QUEUED:
                self._drop_oldest()
            self._cond.notify()

    _running_upto = 0  # jobs up to this seq are in the transaction being written

    def _drop_oldest(self) -> None:
        dropped = 0
        while self._queued_entries > MAX_QUEUED:
            for job in self._queue:
                if job.size:
                    self._queue.remove(job)
                    self._queued_entries -= job.size
                    dropped += job.size
                    break
            else:
                break
        self.dropped += dropped
        if dropped:
            log.error("%s: %d events of history dropped: PostgreSQL has been unreachable and "
                      "%d more wait", self.db.shown, dropped, self._queued_entries,
                      extra={"event": "history.dropped", "path": self.db.shown})  # fmt: skip

    @property
    def waiting(self) -> int:
        """Entries of history not written yet."""
        return self._queued_entries

    def flush(self, timeout: float) -> bool:
        """Wait until everything submitted so far is written; False on timeout
        (PostgreSQL away). Not for the event loop: it blocks."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._seq
            while self._done_seq < target and any(j.seq <= target for j in self._queue):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def stop(self, timeout: float) -> None:
        """Write what is queued (for up to ``timeout`` seconds), then stop."""
        self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self.is_alive():
            self.join(timeout=max(1.0, timeout))
        if self._queued_entries:
            log.error("%s: %d events of history could not be written before stopping",
                      self.db.shown, self._queued_entries,
                      extra={"event": "history.lost_on_close", "path": self.db.shown})  # fmt: skip

    # --- the thread -------------------------------------------------------------------

    def run(self) -> None:
        backoff = FIRST_BACKOFF
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    break
                jobs = self._take()
            began = time.perf_counter()
            try:
                self._write(jobs)
            except UNREACHABLE as exc:
                self._unreachable(exc)
                with self._cond:
                    self._running_upto = 0
                    self._cond.wait_for(lambda: self._stopping, timeout=backoff)
                backoff = min(MAX_BACKOFF, backoff * 2)
                continue
            except psycopg.Error as exc:
                self._one_by_one(jobs, exc)
                continue
            except Exception:
                log.exception("%s: the history writer failed; its jobs are dropped", self.db.shown,
                              extra={"event": "history.write_failed", "path": self.db.shown})
            backoff = FIRST_BACKOFF
            self._done(jobs, time.perf_counter() - began)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()

    def _take(self) -> list[Job]:
        """The queued jobs for one transaction, consecutive mergeable ones
        merged (under the lock)."""
        jobs: list[Job] = []
        entries = 0
        for job in self._queue:
            if jobs and entries + job.size > MAX_BATCH:
                break
            jobs.append(job)
            entries += job.size
        self._running_upto = jobs[-1].seq
        return jobs

    def _connection(self) -> Conn:
        if self._conn is None or self._conn.closed:
            self._conn = self.db.connect()
        return self._conn

    def _write(self, jobs: list[Job]) -> None:
        conn = self._connection()
        with conn.transaction():
            group: list[Job] = []
            for job in jobs:
                if group and type(job) is not type(group[0]):
                    type(group[0]).run_group(conn, group)
                    group = []
                group.append(job)
            if group:
                type(group[0]).run_group(conn, group)

    def _one_by_one(self, jobs: list[Job], exc: psycopg.Error) -> None:
        """A batch was refused: write each job alone; drop the ones refused alone."""
        self.stats.failures += 1
        log.warning("%s: a batch was refused (%s); writing its %d jobs one by one",
                    self.db.shown, self.db.error(exc).why, len(jobs),
                    extra={"event": "history.batch_refused", "path": self.db.shown})  # fmt: skip
        for job in jobs:
            try:
                conn = self._connection()
                with conn.transaction():
                    job.run(conn)
            except UNREACHABLE as lost:
                self._unreachable(lost)
                return  # the rest stay queued; an outage is not their fault
            except psycopg.Error as refused:
                if not self._alone(job.split()):
                    return
                if job.size <= 1:
                    self._dropped(job, refused)
            self._done([job])

    def _alone(self, parts: list[Job]) -> bool:
        """Write each part in its own transaction (a refused job's entries, so
        only the one PostgreSQL refuses is lost); False on an outage."""
        for part in parts:
            try:
                conn = self._connection()
                with conn.transaction():
                    part.run(conn)
            except UNREACHABLE as lost:
                self._unreachable(lost)
                return False
            except psycopg.Error as refused:
                self._dropped(part, refused)
        return True

    def _dropped(self, job: Job, refused: psycopg.Error) -> None:
        log.error("%s: dropped a write PostgreSQL refuses (%d events): %s",
                  self.db.shown, job.size, self.db.error(refused).why,
                  extra={"event": "history.write_refused", "path": self.db.shown})  # fmt: skip

    def _done(self, jobs: list[Job], took: float | None = None) -> None:
        """The jobs are written (or dropped): out of the queue. ``took``: the
        seconds their one transaction took (None: written one by one)."""
        written = sum(j.size for j in jobs)
        self.stats.rows += written
        self.stats.waiting = 0
        if took is not None and written:
            self.stats.latency.observe(took)
        with self._cond:
            upto = jobs[-1].seq
            while self._queue and self._queue[0].seq <= upto:
                job = self._queue.popleft()
                self._queued_entries -= job.size
            self._done_seq = max(self._done_seq, upto)
            self._running_upto = 0
            self._cond.notify_all()
        self.commits += 1
        self.written += written
        if self.down_since is not None:
            log.warning("%s: PostgreSQL is back after %.1f s; history is being written again "
                        "(%d events still wait)", self.db.shown,
                        time.monotonic() - self.down_since, self._queued_entries,
                        extra={"event": "history.database_back",
                               "path": self.db.shown})  # fmt: skip
            self.down_since = None

    def _unreachable(self, exc: BaseException) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        self.stats.failures += 1
        self.stats.waiting = self._queued_entries
        now = time.monotonic()
        if self.down_since is None:
            self.down_since = now
        if now - self._last_log >= LOG_INTERVAL:
            self._last_log = now
            log.error("%s: cannot write history: %s; %d events wait and will be written when "
                      "it is back (chat goes on)", self.db.shown, self.db.error(exc).why,
                      self._queued_entries,
                      extra={"event": "history.write_failed", "path": self.db.shown})  # fmt: skip
