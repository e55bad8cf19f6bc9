"""The pieces of the Python load generator: parameters, the client, /proc meters.

Theory of operation
-------------------
Every client is a bare :class:`asyncio.Protocol` (no streams, no parsing
library): a load generator written in Python competes with the server for
interpreter time, so the receive path does as little as it can. A chunk of
bytes is stamped once with ``time.monotonic_ns()``. During setup it is split
on CR LF and a line whose second word is ``PRIVMSG`` goes to the scenario's
``on_text``; everything else (001, JOIN echoes, PING, ERROR) takes the slow
path in :meth:`Client._control`. A scenario that sets ``on_chunk`` gets every
complete line of a read at once instead, and pulls what it needs out of them
with one regex pass (see ``loadgen.Fanout``).

The scenarios themselves are in :mod:`loadgen`; ``load.py`` is the command.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import resource
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

#: Handler for PRIVMSG texts: (client, text without the leading ':', now in ns).
TextHandler = Callable[["Client", bytes, int], None]
Result = dict[str, Any]

_REG_ERRORS = frozenset({b"432", b"433", b"436", b"437", b"451", b"464", b"465"})
_JOIN_ERRORS = frozenset({b"403", b"405", b"471", b"473", b"474", b"475", b"476"})
_CLK_TCK = os.sysconf("SC_CLK_TCK")
#: Shortest measured phase worth a CPU% (seconds).
MIN_CPU_WALL = 0.5


@dataclass(frozen=True)
class GenParams:
    """Everything a scenario needs; picklable for the generator process."""

    host: str
    port: int
    server_pid: int = 0
    pin_cpu: int | None = None
    clients: int = 200
    senders: int = 20
    msgs: int = 200
    window: int = 32
    size: int = 64
    rate: float = 200.0
    rate_msgs: int = 100
    pairs: int = 50
    rounds: int = 1000
    conns: int = 2000
    idle_conns: int = 2000
    channels: int = 100
    concurrency: int = 50
    duration: float = 60.0
    drain: float = 5.0
    setup_timeout: float = 30.0
    #: Connect over IRC-over-WebSocket to this port instead of TCP (0: TCP).
    web_port: int = 0
    settle: float = 2.0
    channel: str = "#bench"


class SetupError(Exception):
    """A client could not connect, register or join."""


class Client(asyncio.Protocol):
    """One IRC connection with the smallest receive path we can afford."""

    __slots__ = (
        "_buf",
        "channel",
        "closed",
        "error",
        "expect",
        "joined",
        "nick",
        "nick_b",
        "on_chunk",
        "on_text",
        "peer",
        "recv",
        "registered",
        "samples",
        "transport",
    )

    def __init__(self, nick: str, loop: asyncio.AbstractEventLoop, channel: str = "") -> None:
        self.nick = nick
        self.nick_b = nick.encode()
        self.channel = channel
        self.registered: asyncio.Future[int] = loop.create_future()
        self.joined: asyncio.Future[None] = loop.create_future()
        self.on_text: TextHandler | None = None
        self.on_chunk: TextHandler | None = None
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.error: str | None = None
        self._buf = b""
        # Scenario state, kept here so handlers need no dict lookups.
        self.expect: list[int] = []
        self.recv = 0
        self.samples: list[int] = []
        self.peer: Client | None = None

    # --- asyncio.Protocol -------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but fit it.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(b"NICK %s\r\nUSER %s 0 * :loadgen\r\n" % (self.nick_b, self.nick_b))

    def data_received(self, data: bytes) -> None:
        now = time.monotonic_ns()
        buf = self._buf + data if self._buf else data
        on_chunk = self.on_chunk
        if on_chunk is not None:
            # Bulk path: the scenario takes every complete line at once.
            end = buf.rfind(b"\n") + 1
            self._buf = buf[end:]
            if end:
                on_chunk(self, buf[:end] if end < len(buf) else buf, now)
            return
        lines = buf.split(b"\r\n")
        self._buf = lines.pop()
        on_text = self.on_text
        for line in lines:
            parts = line.split(b" ", 3)
            if on_text is not None and len(parts) == 4 and parts[1] == b"PRIVMSG":
                text = parts[3]
                on_text(self, text[1:] if text[:1] == b":" else text, now)
            else:
                self._control(parts, line, now)

    def control_lines(self, chunk: bytes, now: int) -> None:
        """Handle the lines of ``chunk`` that are not PRIVMSGs (bulk path helper)."""
        for line in chunk.split(b"\r\n"):
            parts = line.split(b" ", 3)
            if line and not (len(parts) == 4 and parts[1] == b"PRIVMSG"):
                self._control(parts, line, now)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.error is None:
            self.error = f"connection lost: {exc}" if exc else "connection closed by server"
        self._fail(self.error)

    # --- the slow path ------------------------------------------------------

    def _control(self, parts: list[bytes], line: bytes, now: int) -> None:
        first = parts[0]
        if first == b"PING":
            self.write(b"PONG " + (parts[1] if len(parts) > 1 else b"") + b"\r\n")
            return
        if first == b"ERROR":
            self.error = line.decode("utf-8", "replace")
            self._fail(self.error)
            return
        if len(parts) < 2:
            return
        cmd = parts[1]
        if cmd == b"001":
            if not self.registered.done():
                self.registered.set_result(now)
        elif cmd == b"JOIN":
            if first[1:].split(b"!", 1)[0] == self.nick_b and not self.joined.done():
                self.joined.set_result(None)
        elif cmd in _REG_ERRORS and not self.registered.done():
            self.error = line.decode("utf-8", "replace")
            self._fail(self.error)
        elif cmd in _JOIN_ERRORS and not self.joined.done():
            self.joined.set_exception(SetupError(line.decode("utf-8", "replace")))

    def _fail(self, why: str) -> None:
        for fut in (self.registered, self.joined):
            if not fut.done():
                fut.set_exception(SetupError(why))
                # Retrieve it now: a failed join nobody awaits is not an error.
                fut.exception()

    # --- output -----------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Send raw bytes unless the connection is gone."""
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    def close(self) -> None:
        """QUIT and close (best effort)."""
        if self.transport is not None and not self.closed:
            self.transport.write(b"QUIT :loadgen done\r\n")
            self.transport.close()


# --- helpers -------------------------------------------------------------------


class WSClient(Client):
    """The same client over IRC-over-WebSocket (text.ircv3.net), for
    comparing the transports with the same scenarios.

    It turns the server's frames back into a CR LF stream for :class:`Client`
    and frames what it writes, so the scenarios cannot tell the difference.
    The receive path is one header read per frame: the server's frames are
    unmasked, unfragmented text frames. Client frames must be masked; the
    mask key is zero (XOR with zero leaves the payload as is), which any
    server accepts and costs the generator nothing.
    """

    __slots__ = ("_frames", "_open")

    def __init__(self, nick: str, loop: asyncio.AbstractEventLoop, channel: str = "") -> None:
        super().__init__(nick, loop, channel)
        self._frames = b""
        self._open = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(
            b"GET / HTTP/1.1\r\nHost: loadgen\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: bG9hZGdlbmxvYWRnZW4hIQ==\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Protocol: text.ircv3.net\r\n\r\n"
        )

    def data_received(self, data: bytes) -> None:
        buf = self._frames + data if self._frames else data
        if not self._open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self._frames = buf
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.error = buf[: buf.find(b"\r\n")].decode("latin-1")
                self._fail(self.error)
                return
            self._open = True
            buf = buf[end + 4 :]
            self.write(b"NICK %s\r\nUSER %s 0 * :loadgen\r\n" % (self.nick_b, self.nick_b))
        lines = []
        i, n = 0, len(buf)
        while i + 2 <= n:
            length = buf[i + 1] & 0x7F
            head = 2
            if length == 126:
                if i + 4 > n:
                    break
                length = int.from_bytes(buf[i + 2 : i + 4], "big")
                head = 4
            elif length == 127:
                if i + 10 > n:
                    break
                length = int.from_bytes(buf[i + 2 : i + 10], "big")
                head = 10
            if i + head + length > n:
                break
            if buf[i] & 0x0F in (1, 2):  # text or binary: one line
                lines.append(buf[i + head : i + head + length])
            i += head + length
        self._frames = buf[i:]
        if lines:
            lines.append(b"")
            super().data_received(b"\r\n".join(lines))

    def write(self, data: bytes) -> None:
        if self.transport is None or self.closed:
            return
        out = []
        for line in data.split(b"\r\n"):
            if line:
                n = len(line)
                head = b"\x81" + (bytes((0x80 | n,)) if n < 126 else b"\xfe" + n.to_bytes(2, "big"))
                out.append(head + b"\0\0\0\0" + line)
        self.transport.write(b"".join(out))

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.write(b"QUIT :loadgen done\r\n")
            self.transport.close()


def nick_for(letter: str, tag: str, i: int) -> str:
    """Short unique nicks (at most 9 chars, for servers with NICKLEN=9)."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        i, r = divmod(i, 36)
        out = digits[r] + out
        if not i:
            break
    return letter + tag + out


def percentiles(samples_ns: list[int], prefix: str, out: Result) -> None:
    """Add count, p50/p90/p99/max/mean in ms (nearest rank) to ``out``."""
    out[prefix + "count"] = len(samples_ns)
    if not samples_ns:
        return
    s = sorted(samples_ns)
    n = len(s)
    for q, name in ((0.50, "p50"), (0.90, "p90"), (0.99, "p99")):
        rank = max(1, math.ceil(q * n))
        out[f"{prefix}{name}_ms"] = round(s[rank - 1] / 1e6, 3)
    out[prefix + "max_ms"] = round(s[-1] / 1e6, 3)
    out[prefix + "mean_ms"] = round(sum(s) / n / 1e6, 3)


def proc_status(pid: int, field: str) -> int | None:
    """A ``kB`` field of /proc/PID/status (VmRSS, VmHWM), or None."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_ticks(pid: int) -> int | None:
    """utime + stime of ``pid`` in clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rpartition(")")[2].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def cpu_times() -> dict[str, tuple[int, int]]:
    """Per CPU from /proc/stat: (busy ticks, total ticks)."""
    out: dict[str, tuple[int, int]] = {}
    try:
        with open("/proc/stat") as fh:
            for line in fh:
                if line.startswith("cpu") and line[3].isdigit():
                    name, *vals = line.split()
                    ticks = [int(v) for v in vals[:8]]
                    idle = ticks[3] + ticks[4]  # idle + iowait
                    out[name] = (sum(ticks) - idle, sum(ticks))
    except OSError:
        pass
    return out


class CpuMeter:
    """Server and generator CPU use over a measured phase, and how busy each
    CPU was (kernel network work included: loopback TCP costs CPU outside
    both processes)."""

    def __init__(self, server_pid: int) -> None:
        self.pid = server_pid
        self.wall = time.monotonic()
        self.server = proc_ticks(server_pid) if server_pid else None
        self.gen = time.process_time()
        self.cpus = cpu_times()

    def report(self, out: Result) -> None:
        """Add ``server_cpu_pct`` and ``gen_cpu_pct`` for the time since creation."""
        wall = time.monotonic() - self.wall
        if wall < MIN_CPU_WALL:
            # /proc counts in 10 ms ticks: a shorter phase gives noise, not a number.
            out["cpu_note"] = f"measured phase of {wall:.2f} s is too short for CPU%"
            return
        if self.server is not None:
            now = proc_ticks(self.pid)
            if now is not None:
                out["server_cpu_pct"] = round((now - self.server) / _CLK_TCK / wall * 100, 1)
        out["gen_cpu_pct"] = round((time.process_time() - self.gen) / wall * 100, 1)
        for name, (busy, total) in cpu_times().items():
            busy0, total0 = self.cpus.get(name, (busy, total))
            if total > total0:
                out[f"{name}_busy_pct"] = round((busy - busy0) / (total - total0) * 100, 1)


def raise_nofile() -> int:
    """Lift the soft open-files limit to the hard one; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft


async def connect(
    p: GenParams, nick: str, channel: str = "", on_text: TextHandler | None = None
) -> tuple[Client, int]:
    """Connect and register (and join ``channel``): the client and its ns to 001."""
    loop = asyncio.get_running_loop()
    client = (WSClient if p.web_port else Client)(nick, loop, channel)
    client.on_text = on_text
    t0 = time.monotonic_ns()
    try:
        async with asyncio.timeout(p.setup_timeout):
            await loop.create_connection(lambda: client, p.host, p.web_port or p.port)
            reg_at = await client.registered
            if channel:
                client.write(b"JOIN %s\r\n" % channel.encode())
                await client.joined
    except TimeoutError:
        client.close()
        raise SetupError(f"timed out after {p.setup_timeout}s") from None
    except OSError as exc:
        raise SetupError(f"connect: {exc.strerror or exc}") from None
    except SetupError:
        client.close()
        raise
    return client, reg_at - t0


async def connect_many(
    n: int,
    concurrency: int,
    make: Callable[[int], Awaitable[tuple[Client, int]]],
    max_fail: int = 1,
) -> tuple[list[Client | None], list[int], dict[str, int]]:
    """Run ``make(i)`` for i < n, ``concurrency`` at a time, stopping after
    ``max_fail`` failures: the clients (None where failed), ns to 001, errors."""
    clients: list[Client | None] = [None] * n
    regs: list[int] = []
    errors: dict[str, int] = {}
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            if sum(errors.values()) >= max_fail:
                return
            try:
                client, reg = await make(i)
            except SetupError as exc:
                why = str(exc)[:120]
                errors[why] = errors.get(why, 0) + 1
                continue
            clients[i] = client
            regs.append(reg)

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, n)))))
    return clients, regs, errors


def close_all(clients: list[Client | None]) -> None:
    """QUIT and close every client."""
    for c in clients:
        if c is not None:
            c.close()


def disconnected(clients: list[Client | None], out: Result) -> int:
    """Count clients the server dropped; add up to five reasons to ``out``."""
    dead = [c for c in clients if c is not None and c.closed]
    out["disconnected"] = len(dead)
    if dead:
        out["disconnect_reasons"] = sorted({c.error or "?" for c in dead})[:5]
    return len(dead)


def run_tag() -> str:
    """Two base-36 characters that keep nicks unique across back-to-back runs."""
    return nick_for("", "", 36 + int.from_bytes(os.urandom(2), "big") % (36 * 35))[-2:]
