"""History on PostgreSQL: sustained writes, the durability window, CHATHISTORY on a big table.

    python benchmarks/bench_postgres.py                   # everything (~5 minutes)
    python benchmarks/bench_postgres.py --part writes     # or: latest
    python benchmarks/bench_postgres.py --url postgresql://hubbub@/bench?host=/run/postgresql

Without ``--url`` it starts its own PostgreSQL (Debian's, as the tests do:
tests/pgtest.py) with PostgreSQL's default durability (fsync on,
synchronous commits), so a commit here costs what it costs in production.
Each part prints a table row per measurement and one JSON line each:

``writes``
    The store's write path as the server drives it: ``record(Entry)`` per
    message and ``commit()`` once per loop turn of K messages (K = 1, 10,
    100), flat out: the loop side's cost (record + commit, what the event
    loop pays) and the writer thread's sustained rate (until every message
    is in PostgreSQL). Then paced, 2,000 messages/s in turns of 5: the
    durability window, the time from ``commit()`` to the writer's COMMIT
    returning, p50/p99. Also the archiver's ``append_batch`` of 5,000.
``latest``
    A table of ``--messages`` messages (default 1,000,000; 20 channels,
    one in fifty private, built with append_batch), then ``store.latest``
    of 100 in one channel, p50/p99, and the same through a real ``hubbub
    serve`` and a client (``CHATHISTORY LATEST`` and ``BEFORE`` from random
    points), as benchmarks/bench_history.py measures SQLite.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_history import (
    CHANNELS,
    Maker,
    latency,
    percentile,
    socket_latencies,
)

from hubbub.store.base import MESSAGE_KINDS, Scope, SearchQuery
from hubbub.store.postgres.history import PostgresHistoryStore
from hubbub.store.postgres.writer import Job, Writer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


class TimedWriter(Writer):
    """A writer that notes how long each job waited to be committed."""

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.submitted: dict[int, float] = {}
        self.lags: list[float] = []

    def submit(self, job: Job) -> None:
        super().submit(job)
        self.submitted[job.seq] = time.perf_counter()

    def _done(self, jobs: list[Job]) -> None:
        now = time.perf_counter()
        for job in jobs:
            start = self.submitted.pop(job.seq, None)
            if start is not None:
                self.lags.append((now - start) * 1000)
        super()._done(jobs)


def open_store(url: str) -> PostgresHistoryStore:
    store = PostgresHistoryStore.open(url)
    store.writer.stop(1)
    store.writer = TimedWriter(store.db)
    store.writer.start()
    return store


def bench_writes(new_url: callable, count: int) -> list[dict[str, object]]:  # type: ignore[valid-type]
    results: list[dict[str, object]] = []
    for per_turn in (1, 10, 100):
        store = open_store(new_url())
        maker = Maker(seed=2)
        n = count if per_turn > 1 else count // 4
        entries = [maker.entry() for _ in range(n)]
        loop = 0.0
        start = time.perf_counter()
        for i in range(0, n, per_turn):
            t = time.perf_counter()
            for entry in entries[i:i + per_turn]:
                store.record(entry)
            store.commit()
            loop += time.perf_counter() - t
        assert store.wait_written(600)
        wall = time.perf_counter() - start
        writer = store.writer
        results.append({
            "part": "writes", "messages_per_commit": per_turn, "messages": n,
            "loop_us_per_message": round(loop / n * 1e6, 2),
            "written_per_s": round(n / wall), "transactions": writer.commits,
            "messages_per_transaction": round(n / max(1, writer.commits), 1),
        })  # fmt: skip
        store.close()
    # Paced like a busy server: 2,000 messages/s in turns of 5 (400 turns/s).
    store = open_store(new_url())
    maker = Maker(seed=5)
    turns, per_turn, rate = 4000, 5, 2000
    next_at = time.perf_counter()
    for _ in range(turns):
        for _ in range(per_turn):
            store.record(maker.entry())
        store.commit()
        next_at += per_turn / rate
        pause = next_at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    assert store.wait_written(60)
    lags = store.writer.lags  # type: ignore[attr-defined]
    results.append({"part": "window", "messages_per_s": rate, "messages_per_turn": per_turn,
                    "commit_to_durable_p50_ms": round(statistics.median(lags), 3),
                    "p99_ms": round(percentile(lags, 99), 3), "max_ms": round(max(lags), 3),
                    "transactions": store.writer.commits})  # fmt: skip
    store.close()
    # The archiver's way in: batches of 5,000 on the calling thread.
    store = PostgresHistoryStore.open(new_url())
    maker = Maker(seed=6)
    batches = [[maker.entry() for _ in range(5000)] for _ in range(20)]
    start = time.perf_counter()
    for batch in batches:
        store.append_batch(batch)
    seconds = time.perf_counter() - start
    again = time.perf_counter()
    store.append_batch(batches[-1])  # replayed: all skipped
    replay = time.perf_counter() - again
    results.append({"part": "append_batch", "batch": 5000, "messages": 100_000,
                    "messages_per_s": round(100_000 / seconds),
                    "replayed_batch_ms": round(replay * 1000, 1)})  # fmt: skip
    store.close()
    return results


def build(url: str, count: int) -> None:
    store = PostgresHistoryStore.open(url)
    maker = Maker(seed=3)
    done = 0
    start = time.perf_counter()
    while done < count:
        n = min(5000, count - done)
        store.append_batch([maker.entry() for _ in range(n)])
        done += n
        if done % 100_000 == 0:
            print(f"  filled {done:,} messages ({time.perf_counter() - start:.0f} s)",
                  file=sys.stderr)  # fmt: skip
    with store.db.writing() as conn:
        conn.execute("ANALYZE")
    store.close()



def bench_latest(url: str, count: int, queries: int) -> list[dict[str, object]]:
    print(f"building a table of {count:,} messages", file=sys.stderr)
    build(url, count)
    results: list[dict[str, object]] = []
    store = PostgresHistoryStore.open(url)
    scope = Scope.of_channel(CHANNELS[7], MESSAGE_KINDS)
    timings = []
    for _ in range(queries):
        start = time.perf_counter()
        got = store.latest(scope, None, 100)
        timings.append((time.perf_counter() - start) * 1000)
    assert len(got) == 100
    search = []
    for word in ("deploy", "fri", "wiki notes"):
        query = SearchQuery(owners=(), channels=(CHANNELS[7],), text=word)
        start = time.perf_counter()
        store.search(query)
        search.append((time.perf_counter() - start) * 1000)
    with store.db.reading() as conn:
        rows = conn.execute("SELECT count(*) FROM history").fetchone()[0]
    store.close()
    results.append(latency("store.latest(100)", timings, rows))
    results.append({"part": "search", "query": "SEARCH 50 newest of a common word, a prefix, "
                    "two words", "ms": [round(t, 1) for t in search]})
    tmp = Path(tempfile.mkdtemp())
    results += socket_latencies(tmp, f'database = "{url}"\n', queries, rows,
                                scale=count // 1_000_000 or 1)  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["writes", "latest"], action="append")
    parser.add_argument("--url", help="an empty database to use (default: start a PostgreSQL)")
    parser.add_argument("--writes", type=int, default=100_000, help="messages per write run")
    parser.add_argument("--messages", type=int, default=1_000_000, help="table size for latest")
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    parts = args.part or ["writes", "latest"]
    server = None
    if args.url is None:
        from pgtest import PgServer

        server = PgServer()
        server.start(durable=True)
        new_url = server.new_database
    else:
        new_url = lambda: args.url  # noqa: E731
    try:
        results: list[dict[str, object]] = []
        if "writes" in parts:
            results += bench_writes(new_url, args.writes)
        if "latest" in parts:
            results += bench_latest(new_url(), args.messages, args.queries)
    finally:
        if server is not None:
            server.remove()
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    random.seed(7)
    main()
