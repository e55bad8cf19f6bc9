"""Cluster mode, measured: what the Redis log costs, and what a follower keeps up with.

    python benchmarks/bench_cluster.py fanout  [--reps 3]   # single vs one-node cluster (ircbench)
    python benchmarks/bench_cluster.py follow  [--events 100000]
    python benchmarks/bench_cluster.py latency [--seconds 10 --rate 200]

A benchmark, not a test: it prints numbers (and one JSON line each).

``fanout``
    ircbench's ``fanout`` (200 members, 20 senders, as fast as the window
    allows) and ``fanout-rate`` (the same, paced at 200 messages/s: latency)
    against one ``hubbub serve`` and against a one-node cluster of the same
    config plus ``[cluster]``, interleaved, ``--reps`` times. The server is
    pinned to CPU 0; the generator and redis-server share CPU 1 (Redis on a
    host of its own is the usual setup; on two cores it has to go somewhere).
    Both keep no history and no accounts (a cluster stores them in
    PostgreSQL only).
``follow``
    Events applied per second by a node that only follows: one in-process
    node appends ``--events`` events (joins, then channel lines to 200
    members, as a busy network makes them) and a second node, a real Server
    with no client of its own, reads them from the log through its whole
    pipeline; the time from its first read to its last.
``latency``
    Cross-node delivery latency: a client on n1 says timestamped lines at
    ``--rate``; clients on n1 (same node) and n2 (other node) note when each
    arrives; p50 and p99 of each, and of a single server for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
IRCBENCH = Path(os.environ.get("IRCBENCH", "/work/shared/tools/ircbench/bin/ircbench"))
HUBBUB = [sys.executable, "-m", "hubbub"]
PROFILES = {
    "fanout": ["-scenario", "fanout", "-clients", "200", "-senders", "20", "-msgs", "2000",
               "-window", "32"],
    "fanout-rate": ["-scenario", "fanout", "-clients", "200", "-senders", "20", "-msgs", "100",
                    "-rate", "200"],
}  # fmt: skip

BASE = """
[server]
name = "bench.hubbub"
auto_join = []
[history]
enabled = false
[accounts]
enabled = false
[limits]
flood_control = false
max_clients = 100000
max_clients_per_ip = 100000
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Redis:
    """A redis-server of the benchmark's own, on a unix socket."""

    def __init__(self, folder: Path, cpu: str = "1") -> None:
        self.sock = folder / "redis.sock"
        self.proc = subprocess.Popen(
            ["taskset", "-c", cpu, "redis-server", "--port", "0", "--unixsocket", str(self.sock),
             "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", str(folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        while not self.sock.exists():
            time.sleep(0.02)
        time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"unix://{self.sock}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


class Serve:
    """A ``hubbub serve`` pinned to a CPU."""

    def __init__(self, folder: Path, config: str, cpu: str = "0") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        path = folder / "hubbub.toml"
        path.write_text(config)
        self.log = folder / "serve.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                ["taskset", "-c", cpu, *HUBBUB, "serve", "--config", str(path), "--listen",
                 f"127.0.0.1:{self.port}", "--data-dir", str(folder)],
                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
            )  # fmt: skip
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                alive = self.proc.poll() is None
                assert time.monotonic() < deadline and alive, self.log.read_text()
                time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)


def cluster_config(redis: Redis, node: str) -> str:
    return BASE + f'[cluster]\nredis = "{redis.url}"\nnode = "{node}"\n'


# --- fanout: single vs one-node cluster --------------------------------------------


def ircbench(port: int, pid: int, label: str, profile: str) -> dict[str, Any]:
    out = subprocess.run(
        ["taskset", "-c", "1", str(IRCBENCH), "-addr", f"127.0.0.1:{port}", "-pid", str(pid),
         "-label", label, "-q", *PROFILES[profile]],
        capture_output=True, text=True, timeout=200,
    )  # fmt: skip
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"ircbench gave no result: {out.stdout[-500:]} {out.stderr[-500:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def fanout(reps: int) -> None:
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rep in range(reps):
        for profile in PROFILES:
            for kind in (("single", "cluster") if rep % 2 == 0 else ("cluster", "single")):
                with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
                    folder = Path(tmp)
                    redis = Redis(folder) if kind == "cluster" else None
                    config = cluster_config(redis, "n1") if redis is not None else BASE
                    server = Serve(folder / "node", config)
                    try:
                        result = ircbench(server.port, server.proc.pid, kind, profile)
                    finally:
                        server.stop()
                        if redis is not None:
                            redis.stop()
                rows.setdefault((profile, kind), []).append(result)
                print(f"rep {rep + 1} {profile:12} {kind:8} "
                      f"deliveries/s={result.get('deliveries_per_s', 0):>12,.0f} "
                      f"p50={result.get('lat_p50_ms', 0):6.2f} ms "
                      f"p99={result.get('lat_p99_ms', 0):6.2f} ms "
                      f"cpu={result.get('server_cpu_pct', 0):5.1f} % "
                      f"lost={result.get('lost', '?')} ok={result.get('ok')}",
                      flush=True)  # fmt: skip
    summary = {}
    for (profile, kind), results in rows.items():
        summary[f"{profile}/{kind}"] = {
            key: statistics.median(r.get(key, 0) for r in results)
            for key in ("deliveries_per_s", "lat_p50_ms", "lat_p99_ms", "server_cpu_pct")
        }
    single, cluster = summary["fanout/single"], summary["fanout/cluster"]
    paced_single, paced_cluster = summary["fanout-rate/single"], summary["fanout-rate/cluster"]
    summary["ratio_deliveries"] = cluster["deliveries_per_s"] / single["deliveries_per_s"]
    summary["paced_p99_extra_ms"] = paced_cluster["lat_p99_ms"] - paced_single["lat_p99_ms"]
    print(json.dumps({"bench": "cluster_fanout", "reps": reps, **summary}))


# --- follow: a node that only reads the log -----------------------------------------


async def _follow(events: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "src"))
    from hubbub import events as ev
    from hubbub.bus.redis import RedisBus
    from hubbub.config import from_mapping
    from hubbub.server.cluster import Bootstrap, ClusterNode
    from hubbub.server.ids import Ids
    from hubbub.server.server import Server
    from hubbub.server.state import Network

    with tempfile.TemporaryDirectory(prefix="bench-follow-") as tmp:
        redis = Redis(Path(tmp), cpu="1")
        try:
            def settings(node: str) -> Any:
                return from_mapping({
                    "server": {"name": "bench.hubbub", "auto_join": []},
                    "history": {"enabled": False}, "accounts": {"enabled": False},
                    "cluster": {"redis": redis.url, "node": node},
                })  # fmt: skip

            # The writer: a bus alone, appending as a busy node would.
            writer_config = settings("w")
            writer = RedisBus(writer_config.cluster, "bench.hubbub", "bench")
            boot = Bootstrap(Network())
            writer.attach(boot.receive)
            await writer.connect()
            await writer.join(boot)
            writer.serve(boot)
            members = 200
            for i in range(members):
                writer.append(ev.UserRegistered(f"r{i}", 1.0, f"w{i}", f"m{i}!u@h", f"m{i}", "u",
                                                "h", "member", None, False, "w"))  # fmt: skip
                writer.append(ev.Joined(f"j{i}", 1.0, f"w{i}", f"m{i}!u@h", "#bench", None,
                                        "member"))  # fmt: skip
            text = "the quick brown fox jumps over the lazy dog, again and again"
            for k in range(events - 2 * members):
                writer.append(ev.MessageSent(f"p{k}", 1.0, f"w{k % members}", "m!u@h", "PRIVMSG",
                                             "#bench", "#bench", "", "", text, {}))  # fmt: skip
                if k % 2000 == 0:
                    await asyncio.sleep(0)
            while writer._outbox:
                await asyncio.sleep(0.05)
            # The follower: a real server on the log, with no client.
            config = settings("f")
            bus = RedisBus(config.cluster, "bench.hubbub", "bench")
            network = Network()
            bus.attach(Bootstrap(network).receive)
            await bus.connect()
            await bus.join(Bootstrap(network))
            server = Server(config, asyncio.get_running_loop(), bus=bus, network=network,
                            ids=Ids(bus.prefix))  # fmt: skip
            start_number = bus.number
            # Read from the start: rewind the reader to the log's beginning.
            from hubbub.server.apply import clear_network

            clear_network(network)
            bus.entry_id, bus.number = "0-0", 0
            t0 = time.perf_counter()
            bus.serve(ClusterNode(server))
            while bus.number < start_number:
                await asyncio.sleep(0.01)
            took = time.perf_counter() - t0
            await bus.leave()
            await writer.leave()
            return {"bench": "cluster_follow", "events": bus.number, "seconds": round(took, 3),
                    "events_per_sec": round(bus.number / took),
                    "members": len(network.channel("#bench").members)}  # type: ignore[union-attr]
        finally:
            redis.stop()


# --- latency: same node and across nodes ---------------------------------------------


async def _reader(port: int, nick: str, arrivals: dict[str, float], ready: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"NICK {nick}\r\nUSER {nick} 0 * :r\r\nJOIN #lat\r\n".encode())
    while True:
        line = await reader.readline()
        if not line:
            return
        now = time.perf_counter()
        text = line.decode(errors="replace")
        if " 366 " in text:
            ready.set()
        elif " PRIVMSG #lat " in text:
            # "m12" is one word: servers may send it with or without a colon.
            arrivals[text.rstrip().rsplit(" ", 1)[1].lstrip(":")] = now


async def _latency(
    ports: dict[str, int], sender_port: int, seconds: float, rate: float
) -> dict[str, Any]:
    arrivals: dict[str, dict[str, float]] = {name: {} for name in ports}
    tasks = []
    for name, port in ports.items():
        ready = asyncio.Event()
        tasks.append(asyncio.create_task(_reader(port, f"r{name}", arrivals[name], ready)))
        await asyncio.wait_for(ready.wait(), 10)
    _, writer = await asyncio.open_connection("127.0.0.1", sender_port)
    writer.write(b"NICK sender\r\nUSER s 0 * :s\r\nJOIN #lat\r\n")
    await asyncio.sleep(1)
    sent: dict[str, float] = {}
    for k in range(int(seconds * rate)):
        key = f"m{k}"
        sent[key] = time.perf_counter()
        writer.write(f"PRIVMSG #lat :{key}\r\n".encode())
        await asyncio.sleep(1 / rate)
    await asyncio.sleep(2)
    out: dict[str, Any] = {}
    for name, got in arrivals.items():
        lat = sorted((got[k] - sent[k]) * 1000 for k in sent if k in got)
        out[name] = {"received": len(lat), "sent": len(sent),
                     "p50_ms": round(statistics.median(lat), 3),
                     "p99_ms": round(lat[int(len(lat) * 0.99) - 1], 3)}  # fmt: skip
    for task in tasks:
        task.cancel()
    writer.close()
    return out


def latency(seconds: float, rate: float) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        folder = Path(tmp)
        single = Serve(folder / "single", BASE)
        try:
            alone = asyncio.run(_latency({"single": single.port}, single.port, seconds, rate))
        finally:
            single.stop()
        redis = Redis(folder)
        n1 = Serve(folder / "n1", cluster_config(redis, "n1"), cpu="0")
        n2 = Serve(folder / "n2", cluster_config(redis, "n2"), cpu="1")
        try:
            both = asyncio.run(_latency({"same_node": n1.port, "other_node": n2.port}, n1.port,
                                        seconds, rate))  # fmt: skip
        finally:
            n1.stop()
            n2.stop()
            redis.stop()
    print(json.dumps({"bench": "cluster_latency", "rate": rate, "seconds": seconds, **alone,
                      **both}))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    f = sub.add_parser("fanout")
    f.add_argument("--reps", type=int, default=3)
    w = sub.add_parser("follow")
    w.add_argument("--events", type=int, default=100_000)
    lat = sub.add_parser("latency")
    lat.add_argument("--seconds", type=float, default=10)
    lat.add_argument("--rate", type=float, default=200)
    args = ap.parse_args(argv)
    if shutil.which("redis-server") is None:
        print("redis-server is not installed", file=sys.stderr)
        return 2
    if args.what == "fanout":
        fanout(args.reps)
    elif args.what == "follow":
        print(json.dumps(asyncio.run(_follow(args.events))))
    else:
        latency(args.seconds, args.rate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
