"""History's own costs: sustained writes, CHATHISTORY on a big database, bytes per message.

    python benchmarks/bench_history.py                  # everything (~2-3 minutes)
    python benchmarks/bench_history.py --part writes    # or: latest, size
    python benchmarks/bench_history.py --messages 1000000 --keep /tmp/big.sqlite3

Three measurements, printed as a table and one JSON line each:

``writes``
    The store's write path exactly as the server drives it: ``record(Entry)``
    for every message (what the recorder does on the loop), then ``commit()``
    once per "loop turn" of K messages, for K in 1, 10, 100: messages per
    second through record + commit, with search (FTS5) on and off. One
    commit per message is the worst case (one message per turn); under
    load many messages share a turn.
``latest``
    A database of ``--messages`` messages (default 1,000,000: 20 channels
    and some private conversations, ~60-character lines), filled through the
    same path; then a real ``hubbub serve`` on it and a client that is a
    member of one channel sends ``CHATHISTORY LATEST #chan * 100`` (and
    ``BEFORE`` from random points) one after another: time from sending to
    the end of the batch, p50/p99 over ``--queries`` requests. The store
    call alone is timed too.
``size``
    The database file's bytes per stored message (after a checkpoint), with
    search on, and what the search index adds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hubbub import events as ev
from hubbub.protocol import LineBuffer
from hubbub.store.base import MESSAGE_KINDS, Entry, Party, Scope, identity_key
from hubbub.store.sqlite.history import SQLiteHistoryStore

_TEXT = (
    "the quick brown fox jumps over lazy dog tea coffee release meeting friday deploy "
    "server client history search message channel wiki notes lunch keys"
)
WORDS = tuple(_TEXT.split(" "))
CHANNELS = [f"#room{i}" for i in range(20)]


def line(rng: random.Random) -> str:
    """About 60 characters of chat."""
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < 60:
        words.append(rng.choice(WORDS))
    return " ".join(words)


#: When the generated history starts; message n is said 0.1 ms after n - 1.
T_START = 1_700_000_000.0


def msgid(n: int) -> str:
    """The msgid of generated message ``n``."""
    return ev.make_msgid(T_START + n * 0.0001, "bench", n)


class Maker:
    """Events as the server makes them: msgid, time, sender, target."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.n = 0

    def entry(self) -> Entry:
        self.n += 1
        self.t = T_START + self.n * 0.0001
        rng = self.rng
        nick = f"user{rng.randrange(200)}"
        if self.n % 50 == 0:  # one in fifty is private
            peer = f"user{rng.randrange(200)}"
            e = ev.MessageSent(msgid(self.n), self.t, f"u-{nick}", f"{nick}!~u@10.0.0.1",
                               "PRIVMSG", peer, "", f"u-{peer}", "", line(rng), {})  # fmt: skip
            parties = (Party(identity_key(e.uid, None), nick),
                       Party(identity_key(e.recipient, None), peer))  # fmt: skip
            return Entry(e, None, (), parties)
        chan = CHANNELS[self.n % len(CHANNELS)]
        e = ev.MessageSent(msgid(self.n), self.t, f"u-{nick}", f"{nick}!~u@10.0.0.1",
                           "PRIVMSG", chan, chan, "", "", line(rng), {})  # fmt: skip
        return Entry(e, None, (chan,))


def fill(store: SQLiteHistoryStore, maker: Maker, count: int, per_turn: int) -> float:
    """Record and commit ``count`` messages, ``per_turn`` per commit; seconds."""
    entries = [maker.entry() for _ in range(count)]  # made beforehand: time the store only
    start = time.perf_counter()
    for i, entry in enumerate(entries, 1):
        store.record(entry)
        if i % per_turn == 0:
            store.commit()
    store.commit()
    return time.perf_counter() - start


def bench_writes(count: int) -> list[dict[str, object]]:
    results = []
    for search in (True, False):
        for per_turn in (1, 10, 100):
            with tempfile.TemporaryDirectory() as tmp:
                store = SQLiteHistoryStore.open(Path(tmp) / "h.sqlite3", search=search)
                fill(store, Maker(), 2000, per_turn)  # warm up
                n = count if per_turn > 1 else count // 4
                seconds = fill(store, Maker(seed=2), n, per_turn)
                store.close()
            results.append({"part": "writes", "search": search, "messages_per_commit": per_turn,
                            "messages": n, "messages_per_s": round(n / seconds)})  # fmt: skip
    return results


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def build(path: Path, count: int) -> None:
    """A database of ``count`` messages (in commits of 1,000)."""
    store = SQLiteHistoryStore.open(path)
    maker = Maker(seed=3)
    done = 0
    while done < count:
        n = min(100_000, count - done)
        fill(store, maker, n, 1000)
        done += n
        print(f"  filled {done:,} messages", file=sys.stderr)
    store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Probe:
    """A blocking client that times CHATHISTORY requests."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = LineBuffer()
        self.pending: list[str] = []

    def lines(self) -> list[str]:
        while not self.pending:
            data = self.sock.recv(1 << 20)
            if not data:
                raise ConnectionError("closed")
            self.pending = [raw.decode() for raw in self.buf.feed(data) if isinstance(raw, bytes)]
        out, self.pending = self.pending, []
        return out

    def until(self, pred: str) -> list[str]:
        seen: list[str] = []
        while True:
            for text in self.lines():
                seen.append(text)
                if pred in text:
                    return seen

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode() + b"\r\n")


def bench_latest(count: int, queries: int, keep: Path | None) -> list[dict[str, object]]:
    tmp = Path(tempfile.mkdtemp())
    try:
        path = keep or tmp / "big.sqlite3"
        if not path.exists():
            print(f"building a database of {count:,} messages in {path}", file=sys.stderr)
            build(path, count)
        data = tmp / "data"
        data.mkdir()
        shutil.copy(path, data / "hubbub.sqlite3")
        results: list[dict[str, object]] = []
        # The store call alone, on this thread.
        store = SQLiteHistoryStore.open(data / "hubbub.sqlite3")
        scope = Scope.of_channel(CHANNELS[7], MESSAGE_KINDS)
        timings = []
        for _ in range(queries):
            start = time.perf_counter()
            got = store.latest(scope, None, 100)
            timings.append((time.perf_counter() - start) * 1000)
        assert len(got) == 100
        rows = store.db.reader().execute("SELECT count(*) FROM history").fetchone()[0]
        store.close()
        results.append(latency("store.latest(100)", timings, rows))
        # Over a socket, through a real server.
        results += socket_latencies(data, "", queries, rows)
        return results
    finally:
        shutil.rmtree(tmp, ignore_errors=True)



def socket_latencies(
    data: Path, history: str, queries: int, rows: int, scale: int = 1
) -> list[dict[str, object]]:
    """CHATHISTORY over a socket, through a real ``hubbub serve`` on the data
    dir ``data`` (``history``: more ``[history]`` keys, as a database URL):
    ``queries`` each of LATEST and of BEFORE a random msgid in the busiest
    channel (``scale``: the database holds ``scale`` million messages)."""
    port = free_port()
    config = data / "hubbub.toml"
    # max_age 0: the generated history is from 2023 and must not be pruned.
    config.write_text("[server]\nauto_join = []\n[limits]\nflood_control = false\n"
                      f'[history]\nmax_age = "0"\n{history}')  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "hubbub", "serve", "--config", str(config), "--listen",
         f"127.0.0.1:{port}", "--data-dir", str(data), "--name", "bench.local"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        probe = Probe(port)
        for text in ("CAP REQ :batch server-time message-tags draft/chathistory", "NICK probe",
                     "USER p 0 * :p", "CAP END"):
            probe.send(text)
        probe.until(" 376 ")
        probe.send(f"JOIN {CHANNELS[7]}")
        probe.until(" 366 ")
        results = []
        for name, make in (
            ("CHATHISTORY LATEST * 100", lambda: f"CHATHISTORY LATEST {CHANNELS[7]} * 100"),
            ("CHATHISTORY BEFORE <random msgid> 100", lambda: (
                f"CHATHISTORY BEFORE {CHANNELS[7]} msgid={msgid(room7_message() * scale)} 100")),
        ):
            timings = []
            sizes = []
            for _ in range(queries):
                request = make()
                start = time.perf_counter()
                probe.send(request)
                got = probe.until("BATCH -")
                timings.append((time.perf_counter() - start) * 1000)
                sizes.append(sum(1 for t in got if "PRIVMSG" in t))
            result = latency(name + " over a socket", timings, rows)
            result["messages_per_answer"] = statistics.median(sizes)
            results.append(result)
        return results
    finally:
        server.terminate()
        server.wait(10)


def room7_message() -> int:
    """A message number of #room7 in the second half of the database
    (Maker sends message n to CHANNELS[n % 20], and every 50th privately)."""
    while True:
        n = random.randrange(500_000, 1_000_000) // 20 * 20 + 7
        if n % 50:
            return n


def latency(name: str, timings: list[float], rows: int) -> dict[str, object]:
    return {"part": "latest", "query": name, "rows_in_db": rows, "queries": len(timings),
            "p50_ms": round(statistics.median(timings), 3),
            "p99_ms": round(percentile(timings, 99), 3),
            "max_ms": round(max(timings), 3)}  # fmt: skip


def bench_size(count: int) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h.sqlite3"
        store = SQLiteHistoryStore.open(path)
        fill(store, Maker(seed=4), count, 100)
        store.close()
        total = os.path.getsize(path)
        conn = sqlite3.connect(path)
        try:
            pages = dict(conn.execute(
                "SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())  # fmt: skip
        except Exception:
            pages = {}
        conn.close()
    fts = sum(v for k, v in pages.items() if k.startswith("history_fts"))
    index = round(fts / count, 1) if pages else None
    return [{"part": "size", "messages": count, "bytes": total,
             "bytes_per_message": round(total / count, 1),
             "search_index_bytes_per_message": index}]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["writes", "latest", "size"], action="append")
    parser.add_argument("--writes", type=int, default=200_000, help="messages per write run")
    parser.add_argument("--messages", type=int, default=1_000_000, help="database size for latest")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the big database here")
    args = parser.parse_args()
    parts = args.part or ["writes", "size", "latest"]
    results: list[dict[str, object]] = []
    if "writes" in parts:
        results += bench_writes(args.writes)
    if "size" in parts:
        results += bench_size(100_000)
    if "latest" in parts:
        results += bench_latest(args.messages, args.queries, args.keep)
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
