"""SASL logins/s while the server relays chat, and what a login storm does
to chat latency.

Theory of operation
-------------------
A real ``hubbub serve`` (pinned to CPU 0 when ``taskset`` exists; everything
here runs on CPU 1) gets a steady chat load: one sender says a timestamped
line into a channel at ``--rate`` lines/s, one listener measures how long each
takes to arrive, and ``--members`` more members read everything (the fan-out).
Each round has three phases of ``--seconds``, in turn:

``base``
    chat only;
``plain``
    chat while ``--storm`` connections at once each log in with SASL PLAIN
    (connect, ``CAP REQ sasl``, AUTHENTICATE, 903, QUIT) as fast as the
    server answers: every login is an argon2id check on the server;
``scram``
    the same with SCRAM-SHA-256. The storm client keeps the PBKDF2 result per
    (salt, rounds), as a client that logs in again could, so the numbers show
    the server's cost (two HMACs and a hash), not the client's.

A storm runs in a process of its own, so the chat measurement is not starved
by it. The phases are interleaved over ``--rounds`` rounds, and the table
gives the median of each figure (with min..max). The point to check: chat
p99 during a storm stays within 2x of the same run without one, since
hashing runs on a worker thread, never on the event loop.

    .venv/bin/python benchmarks/bench_accounts.py            # 3 rounds of 3 x 8 s
    .venv/bin/python benchmarks/bench_accounts.py --rounds 5 --storm 16
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PASSWORD = "benchmark-password"
ACCOUNTS = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(workdir: Path, pin: bool) -> Iterator[int]:
    """A fresh hubbub serve with accounts on, flood control off; its port."""
    port = free_port()
    config = workdir / "bench.toml"
    config.write_text(
        '[server]\nname = "bench.hubbub"\nauto_join = []\n'
        "[accounts]\nregistrations_per_ip = 0\n"
        "[limits]\nflood_control = false\nmax_clients_per_ip = 100000\n"
        "sendq_bytes = 16777216\n"
    )
    cmd = [sys.executable, "-m", "hubbub", "serve", "--listen", f"127.0.0.1:{port}",
           "--data-dir", str(workdir / "data"), "--config", str(config)]  # fmt: skip
    if pin and shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    log = open(workdir / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError((workdir / "server.log").read_text()) from None
                time.sleep(0.05)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        log.close()
        text = (workdir / "server.log").read_text()
        if "Traceback" in text:
            print(text[-3000:], file=sys.stderr)


# --- a tiny client ---------------------------------------------------------------


class Conn:
    """One IRC connection: lines in, lines out."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Conn:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    def send(self, *lines: str) -> None:
        self.writer.write("".join(f"{line}\r\n" for line in lines).encode())

    async def until(self, *words: str) -> list[str]:
        """Read lines until one has a second word in ``words``; that line's words."""
        while True:
            raw = await self.reader.readline()
            if not raw:
                raise ConnectionError("closed")
            parts = raw.decode().rstrip("\r\n").split(" ")
            if parts[0] == "PING":
                self.send("PONG " + parts[1])
            elif len(parts) > 1 and parts[1] in words:
                return parts

    async def register(self, nick: str) -> None:
        self.send(f"NICK {nick}", "USER b 0 * :bench")
        await self.until("001")

    async def close(self) -> None:
        self.send("QUIT")
        with contextlib.suppress(Exception):
            await self.writer.drain()
        self.writer.close()


async def register_accounts(port: int) -> None:
    for i in range(ACCOUNTS):
        conn = await Conn.open(port)
        await conn.register(f"acct{i}")
        conn.send(f"REGISTER * * {PASSWORD}")
        words = await conn.until("REGISTER", "FAIL")
        assert words[1] == "REGISTER" and words[2] == "SUCCESS", words
        await conn.close()


# --- the storm (its own process) ------------------------------------------------------


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


class ScramKeys:
    """Client keys per (salt, rounds), derived once (see the module docstring)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[bytes, int], tuple[bytes, bytes]] = {}

    def keys(self, salt: bytes, rounds: int) -> tuple[bytes, bytes]:
        found = self._cache.get((salt, rounds))
        if found is None:
            salted = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt, rounds)
            found = self._cache[(salt, rounds)] = (_hmac(salted, b"Client Key"),
                                                    _hmac(salted, b"Server Key"))  # fmt: skip
        return found


async def login_once(port: int, account: str, mechanism: str, keys: ScramKeys) -> bool:
    conn = await Conn.open(port)
    try:
        conn.send("CAP REQ sasl", f"AUTHENTICATE {mechanism}")
        await conn.until("AUTHENTICATE")  # (the CAP ACK comes first and is skipped)
        if mechanism == "PLAIN":
            payload = base64.b64encode(f"\0{account}\0{PASSWORD}".encode()).decode()
            conn.send(f"AUTHENTICATE {payload}")
        else:
            nonce = base64.b64encode(os.urandom(12)).decode()
            bare = f"n={account},r={nonce}"
            conn.send("AUTHENTICATE " + base64.b64encode(f"n,,{bare}".encode()).decode())
            first = base64.b64decode((await conn.until("AUTHENTICATE"))[2]).decode()
            attrs = dict(part.split("=", 1) for part in first.split(","))
            client_key, server_key = keys.keys(base64.b64decode(attrs["s"]), int(attrs["i"]))
            without_proof = f"c=biws,r={attrs['r']}"
            auth = f"{bare},{first},{without_proof}".encode()
            signature = _hmac(hashlib.sha256(client_key).digest(), auth)
            proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
            final = f"{without_proof},p={base64.b64encode(proof).decode()}"
            conn.send("AUTHENTICATE " + base64.b64encode(final.encode()).decode())
            words = await conn.until("AUTHENTICATE", "904")
            if words[1] == "904":
                return False
            verdict = base64.b64decode(words[2])
            expected = b"v=" + base64.b64encode(_hmac(server_key, auth))
            if not hmac.compare_digest(verdict, expected):
                return False
            conn.send("AUTHENTICATE +")
        words = await conn.until("903", "904")
        return words[1] == "903"
    finally:
        await conn.close()


async def storm(port: int, mechanism: str, concurrency: int, seconds: float) -> dict[str, Any]:
    keys = ScramKeys()
    done = failed = 0
    stop = time.monotonic() + seconds

    async def worker(i: int) -> None:
        nonlocal done, failed
        while time.monotonic() < stop:
            ok = await login_once(port, f"acct{i % ACCOUNTS}", mechanism, keys)
            done += ok
            failed += not ok

    start = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return {"logins": done, "failed": failed, "seconds": time.monotonic() - start}


def storm_process(port: int, mechanism: str, concurrency: int, seconds: float, out: Any) -> None:
    out.send(asyncio.run(storm(port, mechanism, concurrency, seconds)))


# --- the chat measurement --------------------------------------------------------------


async def chat(port: int, rate: float, seconds: float, members: int, tag: str) -> list[float]:
    """Latencies (ms) of lines said at ``rate``/s into a channel for ``seconds``."""
    channel = f"#bench{tag}"
    sender, listener = await Conn.open(port), await Conn.open(port)
    readers = [await Conn.open(port) for _ in range(members)]
    for i, conn in enumerate([sender, listener, *readers]):
        await conn.register(f"c{tag}{i}")
        conn.send(f"JOIN {channel}")
        await conn.until("366")

    async def drain(conn: Conn) -> None:
        with contextlib.suppress(ConnectionError):
            while await conn.reader.read(65536):
                pass

    drains = [asyncio.create_task(drain(c)) for c in readers]
    latencies: list[float] = []
    expected = int(rate * seconds)

    async def listen() -> None:
        while len(latencies) < expected:
            words = await listener.until("PRIVMSG")
            sent = int(words[3].lstrip(":"))
            latencies.append((time.monotonic_ns() - sent) / 1e6)

    listening = asyncio.create_task(listen())
    interval = 1 / rate
    start = time.monotonic()
    for n in range(expected):
        await asyncio.sleep(max(0.0, start + n * interval - time.monotonic()))
        sender.send(f"PRIVMSG {channel} :{time.monotonic_ns()}")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(listening, 10)
    for task in drains:
        task.cancel()
    for conn in [sender, listener, *readers]:
        await conn.close()
    return latencies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def phase(port: int, kind: str, args: argparse.Namespace, tag: str) -> dict[str, Any]:
    pipe_out, pipe_in = multiprocessing.Pipe(duplex=False)
    storm_proc = None
    if kind != "base":
        mechanism = "PLAIN" if kind == "plain" else "SCRAM-SHA-256"
        storm_proc = multiprocessing.Process(
            target=storm_process, args=(port, mechanism, args.storm, args.seconds + 1, pipe_in)
        )
        storm_proc.start()
        time.sleep(0.5)  # the storm is under way before we measure
    latencies = asyncio.run(chat(port, args.rate, args.seconds, args.members, tag))
    result: dict[str, Any] = {
        "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
        "lines": len(latencies),
    }  # fmt: skip
    if storm_proc is not None:
        storm_result = pipe_out.recv()
        storm_proc.join()
        result["logins/s"] = storm_result["logins"] / storm_result["seconds"]
        result["failed"] = storm_result["failed"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=float, default=100.0, help="chat lines per second")
    parser.add_argument("--members", type=int, default=20, help="more channel members reading")
    parser.add_argument("--storm", type=int, default=8, help="logins in flight at once")
    parser.add_argument("--no-pin", dest="pin", action="store_false")
    args = parser.parse_args(argv)
    if args.pin:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {1})
    results: dict[str, list[dict[str, Any]]] = {"base": [], "plain": [], "scram": []}
    with tempfile.TemporaryDirectory() as tmp, server(Path(tmp), args.pin) as port:
        asyncio.run(register_accounts(port))
        for r in range(args.rounds):
            for kind in results:
                res = phase(port, kind, args, f"{r}{kind[0]}")
                results[kind].append(res)
                print(f"round {r + 1} {kind:5}: " + ", ".join(
                    f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in res.items()
                ), flush=True)  # fmt: skip

    def summary(kind: str, key: str) -> str:
        values = [r[key] for r in results[kind] if key in r]
        if not values:
            return "-"
        return f"{statistics.median(values):.1f} [{min(values):.1f}..{max(values):.1f}]"

    print(f"\nchat {args.rate:.0f} lines/s to {args.members + 2} members; storm of "
          f"{args.storm} logins in flight; {args.rounds} rounds x {args.seconds:.0f} s, "
          "median [min..max]")  # fmt: skip
    print(f"{'phase':6} {'logins/s':>20} {'chat p50 ms':>20} {'chat p99 ms':>20}")
    for kind in results:
        print(f"{kind:6} {summary(kind, 'logins/s'):>20} {summary(kind, 'p50'):>20} "
              f"{summary(kind, 'p99'):>20}")  # fmt: skip
    base = statistics.median(r["p99"] for r in results["base"])
    for kind in ("plain", "scram"):
        ratio = statistics.median(r["p99"] for r in results[kind]) / base
        print(f"p99 {kind} / p99 base: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
