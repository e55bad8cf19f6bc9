"""Fuzzing hubbub: generated and mutated lines through the parser and through
a real server.

    python tests/fuzzing.py --lines 1000000            # both runs, counts printed
    python tests/fuzzing.py --lines 50000 --only parser

Theory of operation
-------------------
:class:`~fuzzlines.LineFuzzer` (``tests/fuzzlines.py``) makes lines from a
seed (the same seed, the same lines): valid commands with odd parameters,
broken tags, over-long parts, invalid UTF-8, control characters, byte-level
mutations of valid lines, and raw noise. Each line is sent followed by CR
LF, so a line that carries its own CR or LF splits into several, as it would
on the wire.

:func:`parser_run` feeds them through what the server does to each line
before dispatch (framing, length check, decoding, ``parse_line``): the only
exceptions allowed are the protocol's own, and every parsed message must be
one :class:`~hubbub.protocol.Message` accepts and that serialises back to an
equal one.

:func:`server_run` sends them to a real ``hubbub serve`` from a few
registered clients in shared channels (so what one sends reaches the
others), in chunks that end with ``PING`` as a marker. What each line does to
the connection is known in advance from the protocol layer (:func:`~fuzzlines.fatal`):
a chunk ends at the first line that must close the connection, and a
connection that closes for any other reason, or does not close when it must,
is counted. Every line any client receives must be valid UTF-8 and parse. An
observer stays connected throughout and must never be disconnected. Before
and after, with only the observer connected, the server's RSS and its
``LUSERS`` counts are taken: they must come back to the baseline.

A short run of both is ``tests/integration/test_fuzz.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from hubbub.protocol import (
    TOO_LONG,
    EmptyLine,
    LineBuffer,
    Message,
    MissingCommand,
    ProtocolError,
    check_length,
    parse_line,
)

# Run as a script, this file's folder (tests/) is first on the path.
from fuzzlines import CAPS, CHANNELS, LineFuzzer, fatal
from hubtest import RunningServer, start_server

# --- the parser run ------------------------------------------------------------------


@dataclass
class ParserCounts:
    """What the parser run saw."""

    generated: int = 0
    lines: int = 0
    parsed: int = 0
    empty: int = 0
    no_command: int = 0
    malformed: int = 0
    too_long: int = 0
    invalid_utf8: int = 0
    crashes: int = 0
    round_trip_failures: int = 0
    examples: list[str] = field(default_factory=list)


def parser_run(n: int, seed: int = 1) -> ParserCounts:
    """``n`` fuzz lines through framing, length, decoding and ``parse_line``,
    fed as one stream in reads of random sizes."""
    fuzzer = LineFuzzer(seed)
    rng = random.Random(seed + 1)
    counts = ParserCounts()
    framing = LineBuffer()
    pending = bytearray()

    def take(parts: list[bytes | object]) -> None:
        for part in parts:
            counts.lines += 1
            if part is TOO_LONG or not check_length(part):  # type: ignore[arg-type]
                counts.too_long += 1
                continue
            assert isinstance(part, bytes)
            try:
                text = part.decode("utf-8")
            except UnicodeDecodeError:
                counts.invalid_utf8 += 1
                text = part.decode("utf-8", "replace")
            try:
                msg = parse_line(text)
            except EmptyLine:
                counts.empty += 1
                continue
            except MissingCommand:
                counts.no_command += 1
                continue
            except ProtocolError:
                counts.malformed += 1
                continue
            except Exception as exc:  # what fuzzing is for
                counts.crashes += 1
                counts.examples.append(f"{type(exc).__name__}: {exc}: {part!r}"[:300])
                continue
            counts.parsed += 1
            try:
                same = Message(*msg)  # the constructor's checks accept it...
                back = parse_line(same.to_line())  # ...and it reads back equal
                ok = back == msg
            except Exception as exc:
                ok = False
                counts.examples.append(f"{type(exc).__name__}: {exc}: {part!r}"[:300])
            if not ok:
                counts.round_trip_failures += 1

    for line in fuzzer.lines(n):
        counts.generated += 1
        pending += line + b"\r\n"
        while len(pending) > 4096 or (pending and rng.random() < 0.3):
            cut = rng.randint(1, max(1, min(len(pending), 8192)))
            take(framing.feed(bytes(pending[:cut])))
            del pending[:cut]
    take(framing.feed(bytes(pending)))
    return counts


# --- the server run --------------------------------------------------------------------


@dataclass
class ServerCounts:
    """What the server run saw."""

    lines_sent: int = 0
    lines_processed: int = 0
    chunks: int = 0
    connections: int = 0
    closes_expected: int = 0
    closes_unexpected: int = 0
    not_closed_when_expected: int = 0
    internal_errors: int = 0
    received_lines: int = 0
    received_bad: int = 0
    received_over_512: int = 0
    #: The commands of the lines over 512 bytes, relayed ones as "relayed PART".
    over_512_commands: Counter[str] = field(default_factory=Counter)
    close_reasons: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    observer_ok: bool = False
    server_alive: bool = False
    log_problems: list[str] = field(default_factory=list)
    rss_baseline_kb: int = 0
    rss_after_kb: int = 0
    rss_peak_kb: int = 0
    #: (seconds into the run, RSS in KB), every few seconds.
    rss_samples: list[tuple[float, int]] = field(default_factory=list)
    lusers_baseline: list[str] = field(default_factory=list)
    lusers_after: list[str] = field(default_factory=list)
    seconds: float = 0.0


_REASON = re.compile(rb"^ERROR :Closing link: \([^)]*\) \[(.*)\]$")


class Conn:
    """One client connection over asyncio streams, reading whole lines."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Conn:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        return cls(reader, writer)

    async def line(self, timeout: float = 30) -> bytes | None:
        """The next line without CR LF; None at EOF or reset."""
        try:
            raw = await asyncio.wait_for(self.reader.readline(), timeout)
        except (ConnectionError, asyncio.IncompleteReadError):
            return None
        if not raw:
            return None
        return raw.rstrip(b"\r\n")

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


def _check_received(raw: bytes, counts: ServerCounts) -> Message | None:
    """Whatever the server sends must be a line every client can read: the
    message, or None (counted) when it is not."""
    counts.received_lines += 1
    try:
        msg = parse_line(raw.decode("utf-8"))
    except (UnicodeDecodeError, ProtocolError) as exc:
        counts.received_bad += 1
        if len(counts.examples) < 20:
            counts.examples.append(f"bad line from the server ({exc}): {raw[:200]!r}")
        return None
    body = raw.split(b" ", 1)[1] if raw.startswith(b"@") and b" " in raw else raw
    if len(body) + 2 > 512:
        counts.received_over_512 += 1
        relayed = msg.source is not None and "!" in msg.source
        counts.over_512_commands[("relayed " if relayed else "") + msg.command] += 1
    return msg


def _is_pong(msg: Message | None, token: str) -> bool:
    return msg is not None and msg.command == "PONG" and msg.params[-1:] == (token,)


async def _register(conn: Conn, nick: str, caps: list[str], counts: ServerCounts) -> bool:
    lines = [b"CAP LS 302"]
    if caps:
        lines.append(b"CAP REQ :" + " ".join(caps).encode())
    lines += [f"NICK {nick}".encode(), f"USER {nick} 0 * :fuzz".encode(), b"CAP END"]
    lines += [f"JOIN {','.join(CHANNELS)}".encode(), b"PING :registered"]
    conn.send(b"".join(line + b"\r\n" for line in lines))
    while True:
        raw = await conn.line()
        if raw is None:
            return False
        if _is_pong(_check_received(raw, counts), "registered"):
            return True


async def _fuzz_client(
    port: int, index: int, fuzzer: LineFuzzer, n: int, counts: ServerCounts, chunk: int
) -> None:
    """Send ``n`` lines of ``fuzzer`` from one client, reconnecting whenever
    the server closes the connection."""
    rng = random.Random(index)
    sent, gen = 0, 0
    conn: Conn | None = None
    while sent < n:
        if conn is None:
            gen += 1
            conn = await Conn.open(port)
            counts.connections += 1
            caps = rng.sample(CAPS, rng.randint(0, 6))
            if not await _register(conn, f"fz{index}g{gen}", caps, counts):
                conn.close()
                conn = None
                counts.closes_unexpected += 1
                continue
        batch: list[bytes] = []
        ends_fatal = False
        while sent < n and len(batch) < chunk:
            line = fuzzer.line()
            sent += 1
            batch.append(line)
            if fatal(line):  # the rest would never be read: end the chunk here
                ends_fatal = True
                break
        counts.chunks += 1
        marker = f"m{index}x{counts.chunks}"
        conn.send(b"".join(line + b"\r\n" for line in batch) + f"PING :{marker}\r\n".encode())
        counts.lines_sent += len(batch)
        closed_with = await _until_marker(conn, marker, counts)
        if closed_with is None:  # the marker came back: the connection lives
            counts.lines_processed += len(batch)
            if ends_fatal:
                counts.not_closed_when_expected += 1
                if len(counts.examples) < 20:
                    counts.examples.append(f"expected a close: {batch[-1][:200]!r}")
            continue
        conn.close()
        conn = None
        counts.close_reasons["Quit" if closed_with.startswith("Quit") else closed_with] += 1
        expected = closed_with == "Received malformed line" or closed_with.startswith("Quit")
        if ends_fatal and expected:
            counts.closes_expected += 1
            counts.lines_processed += len(batch)
        else:
            counts.closes_unexpected += 1
            if closed_with == "Internal server error":
                counts.internal_errors += 1
            if len(counts.examples) < 20:
                counts.examples.append(f"closed ({closed_with}) after {batch[-3:]!r}"[:400])
    if conn is not None:
        conn.send(b"QUIT :done\r\n")
        while await conn.line(10) is not None:
            pass
        conn.close()


async def _until_marker(conn: Conn, marker: str, counts: ServerCounts) -> str | None:
    """Read until the PONG for ``marker`` (None) or the close (its reason)."""
    reason = "no ERROR"
    while True:
        raw = await conn.line()
        if raw is None:
            return reason
        msg = _check_received(raw, counts)
        if _is_pong(msg, marker):
            return None
        match = _REASON.match(raw)
        if match:
            reason = match.group(1).decode("utf-8", "replace")


async def _observer(port: int, stop: asyncio.Event, counts: ServerCounts) -> None:
    """A bystander in every fuzz channel: it reads all the time, pings twice
    a second, and must stay connected and answered throughout."""
    conn = await Conn.open(port)
    ok = await _register(conn, "observer", ["message-tags", "server-time"], counts)
    answered = 0

    async def read() -> None:
        nonlocal ok, answered
        while True:
            raw = await conn.line(timeout=60)
            if raw is None or raw.startswith(b"ERROR"):
                ok = ok and stop.is_set()  # only our own QUIT may end it
                return
            msg = _check_received(raw, counts)
            if msg is not None and msg.command == "PONG" and msg.params[-1].startswith("alive"):
                answered = int(msg.params[-1][5:])

    reader = asyncio.create_task(read())
    asked = 0
    while ok and not stop.is_set():
        asked += 1
        conn.send(f"PING :alive{asked}\r\n".encode())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
        if asked - answered > 20:  # ten seconds without an answer
            ok = False
    conn.send(b"QUIT :bye\r\n")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(reader, 10)
    conn.close()
    counts.observer_ok = ok


async def _lusers(port: int) -> list[str]:
    """The LUSERS counts (251-255), as a client sees them."""
    conn = await Conn.open(port)
    conn.send(b"NICK counter\r\nUSER c 0 * :c\r\nLUSERS\r\n")
    seen: list[str] = []
    while True:
        raw = await conn.line()
        if raw is None:
            break
        msg = parse_line(raw.decode())
        if msg.command in ("251", "252", "253", "254", "255") and len(seen) < 10:
            seen.append(f"{msg.command} {' '.join(msg.params[1:])}")
        if len(seen) == 10:  # the welcome's LUSERS, then ours
            break
    conn.send(b"QUIT\r\n")
    conn.close()
    return seen[5:]


def rss_kb(pid: int, key: str = "VmRSS") -> int:
    """A process's resident memory (or its peak, ``VmHWM``) in KB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


async def _settle(port: int) -> None:
    """Give the server a moment to finish closing what just left."""
    await asyncio.sleep(1.0)


async def _fuzz(
    server: RunningServer, n: int, clients: int, seed: int, chunk: int, warmup: int
) -> ServerCounts:
    counts = ServerCounts()
    port = server.port
    nicks = [f"fz{i}g1" for i in range(clients)] + ["observer", "nobody"]
    stop = asyncio.Event()
    observer = asyncio.create_task(_observer(port, stop, counts))
    await asyncio.sleep(0.5)

    async def round_(lines_total: int, offset: int, tally: ServerCounts) -> None:
        await asyncio.gather(*(
            _fuzz_client(port, i, LineFuzzer(seed * 1000 + offset + i, nicks),
                         lines_total // clients, tally, chunk)
            for i in range(clients)
        ))  # fmt: skip

    # Warm up (caches, WHOWAS), then the baseline with only the observer left.
    await round_(warmup, 1000, ServerCounts())
    await _settle(port)
    counts.lusers_baseline = await _lusers(port)
    await _settle(port)
    counts.rss_baseline_kb = rss_kb(server.proc.pid)
    start = time.monotonic()

    async def sample() -> None:
        while True:
            counts.rss_samples.append(
                (round(time.monotonic() - start, 1), rss_kb(server.proc.pid))
            )
            await asyncio.sleep(5)

    sampler = asyncio.create_task(sample())
    await round_(n, 0, counts)
    sampler.cancel()
    counts.seconds = time.monotonic() - start
    await _settle(port)
    counts.lusers_after = await _lusers(port)
    await _settle(port)
    counts.rss_after_kb = rss_kb(server.proc.pid)
    counts.rss_peak_kb = rss_kb(server.proc.pid, "VmHWM")
    stop.set()
    await observer
    return counts


def server_run(
    n: int, *, clients: int = 6, seed: int = 1, chunk: int = 40, warmup: int = 20_000
) -> ServerCounts:
    """``n`` fuzz lines through a real ``hubbub serve`` (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="hubbub-fuzz-") as tmp:
        server = start_server(
            Path(tmp),
            "[server]\nauto_join = []\n"
            "[limits]\nflood_control = false\nmax_clients_per_ip = 1000\n",
        )
        try:
            counts = asyncio.run(_fuzz(server, n, clients, seed, chunk, warmup))
            counts.server_alive = server.alive()
        finally:
            server.stop()
        log = server.log.read_text()
        counts.log_problems = [
            line for line in log.splitlines()
            if "Traceback" in line or " ERROR " in line or " WARNING " in line
            # "... failed for <ip>": a handler's error (a failed login is not one)
            or "Internal server error" in line or " failed for " in line
        ][:20]  # fmt: skip
    return counts


def server_ok(counts: ServerCounts, rss_tolerance: float) -> bool:
    """The server run's verdict."""
    grown = counts.rss_after_kb - counts.rss_baseline_kb
    return (
        counts.server_alive
        and counts.observer_ok
        and counts.internal_errors == 0
        and counts.closes_unexpected == 0
        and counts.not_closed_when_expected == 0
        and counts.received_bad == 0
        and counts.received_over_512 == 0
        and not counts.log_problems
        and counts.lusers_after == counts.lusers_baseline
        and grown <= rss_tolerance * counts.rss_baseline_kb
    )


def main(argv: list[str] | None = None) -> int:
    """Run, print the counts, exit 1 on any finding."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=1_000_000, help="lines per run")
    ap.add_argument("--only", choices=["parser", "server"], help="one of the two runs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--clients", type=int, default=6, help="fuzzing connections")
    ap.add_argument("--warmup", type=int, default=20_000, help="lines before the baseline")
    ap.add_argument("--rss-tolerance", type=float, default=0.05,
                    help="RSS growth allowed over the baseline (fraction)")  # fmt: skip
    args = ap.parse_args(argv)
    ok = True
    if args.only in (None, "parser"):
        t0 = time.monotonic()
        p = parser_run(args.lines, args.seed)
        result = {"run": "parser", "seconds": round(time.monotonic() - t0, 1), **vars(p)}
        print(json.dumps(result))
        ok &= p.crashes == 0 and p.round_trip_failures == 0
    if args.only in (None, "server"):
        s = server_run(args.lines, clients=args.clients, seed=args.seed, warmup=args.warmup)
        result = {"run": "server", **vars(s), "close_reasons": dict(s.close_reasons),
                  "over_512_commands": dict(s.over_512_commands)}  # fmt: skip
        result["seconds"] = round(s.seconds, 1)
        print(json.dumps(result))
        ok &= server_ok(s, args.rss_tolerance)
    print("OK" if ok else "FINDINGS", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
