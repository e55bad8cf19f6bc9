"""One PRIVMSG to N channel members through the server's fan-out, in process.

    python benchmarks/bench_fanout.py [--members 10 100 500 2000] [--messages 500]

No sockets and no event loop: the real :class:`hubbub.server.server.Server`
runs on a fake loop (``call_soon`` queues callbacks, :meth:`FakeLoop.run_ready`
runs them) and every Session writes to a fake transport that only counts.
The members register and join ``#bench`` through the ordinary command path,
spread over three capability sets (no tags, ``server-time``, ``message-tags``),
so the fan-out meets three tag profiles. Then one member sends PRIVMSGs and
we time, per message, the whole server side: read the line, parse, dispatch,
fan out, and the end-of-turn flush that writes each member's bytes.

Printed per channel size:

* encodes/msg: how many times the message was serialised (calls to
  ``encoding.encode``). DESIGN.md promises one per distinct tag profile among
  the members, not one per member: here that is at most 3.
* distinct bytes/msg: how many different ``bytes`` objects reached the
  transports for one message (the same object shared means it was encoded once).
* µs/delivery and deliveries/s: server time per message divided by N-1.

``--burst K`` feeds K lines per loop turn, as when a busy sender's lines
arrive in one read: the members then get one write per turn for K messages,
which is how the server behaves under load (see ``writes/delivery``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from hubbub.config import from_mapping
from hubbub.protocol import LineBuffer, Message
from hubbub.server import encoding
from hubbub.server.caps import TagProfile
from hubbub.server.commands import COMMANDS
from hubbub.server.dispatch import Dispatcher
from hubbub.server.server import Server
from hubbub.server.session import Session
from hubbub.store.sqlite.history import SQLiteHistoryStore

#: Capability sets the members cycle through, one tag profile each.
CAP_SETS: tuple[tuple[str, ...], ...] = ((), ("server-time",), ("message-tags", "server-time"))


class FakeLoop:
    """The Loop a Server needs: a clock and a queue of callbacks we run by hand."""

    def __init__(self) -> None:
        self.ready: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []

    def time(self) -> float:
        """Monotonic seconds, like an event loop's clock."""
        return time.monotonic()

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> None:
        """Queue ``callback`` for :meth:`run_ready`."""
        self.ready.append((callback, args))

    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any) -> None:
        """From a worker thread (list.append is atomic); not used by PRIVMSG."""
        self.ready.append((callback, args))

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> None:
        """Timers never fire here (flood control is off, no pings in a benchmark)."""

    def run_ready(self) -> None:
        """Run queued callbacks, including any they queue (one loop turn and its tail)."""
        while self.ready:
            batch, self.ready = self.ready, []
            for callback, args in batch:
                callback(*args)


class FakeTransport:
    """Counts writes; remembers the last bytes only when asked to."""

    __slots__ = ("closed", "keep", "last", "writes", "written")

    def __init__(self) -> None:
        self.writes = 0
        self.written = 0
        self.keep = False
        self.last: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        """Count (and maybe keep) what the server sends."""
        self.writes += 1
        self.written += len(data)
        if self.keep:
            self.last.append(data)

    def get_write_buffer_size(self) -> int:
        """Everything is written at once."""
        return 0

    def close(self) -> None:
        """The server closed us."""
        self.closed = True

    def abort(self) -> None:
        """The server cut us off."""
        self.closed = True

    def pause_reading(self) -> None:
        """Flood control would pause us; it is off."""

    def resume_reading(self) -> None:
        """See :meth:`pause_reading`."""


def make_server(history: bool = False) -> tuple[Server, FakeLoop]:
    """A Server with benchmark limits on a fake loop; with ``history``, a
    SQLite history store in a temporary folder (the server's default)."""
    config = from_mapping(
        {
            "server": {"name": "bench.hubbub", "auto_join": []},
            # The replay on join is fetched on a thread this fake loop does not wait for.
            "history": {"enabled": history, "autoreplay": 0},
            "limits": {
                "flood_control": False,
                "max_clients": 1_000_000,
                "max_clients_per_ip": 1_000_000,
                "sendq_bytes": 1 << 30,
            },
        }
    )
    loop = FakeLoop()
    store = None
    if history:
        folder = tempfile.mkdtemp(prefix="bench-fanout-")
        store = SQLiteHistoryStore.open(os.path.join(folder, "hubbub.sqlite3"))
    server = Server(config, loop, history=store)
    server.dispatch = Dispatcher(server, COMMANDS).run
    return server, loop


class Member:
    """A session and the framing its TCP transport would do."""

    def __init__(self, session: Session, transport: FakeTransport) -> None:
        self.session = session
        self.transport = transport
        self.framing = LineBuffer()

    def feed(self, data: bytes) -> None:
        """Bytes from the client, framed into lines for the session."""
        self.session.receive(self.framing.feed(data))


def join_members(server: Server, loop: FakeLoop, n: int) -> list[Member]:
    """Register ``n`` connections through the command path and join #bench."""
    members = []
    for i in range(n):
        transport = FakeTransport()
        session = server.accept(transport, f"10.0.{i // 250}.{i % 250 + 1}")
        assert session is not None, "the server refused a connection"
        member = Member(session, transport)
        caps = CAP_SETS[i % len(CAP_SETS)]
        lines = [b"CAP LS 302"]
        if caps:
            lines.append(b"CAP REQ :" + " ".join(caps).encode())
        lines += [b"NICK m%d" % i, b"USER m%d 0 * :member" % i, b"CAP END", b"JOIN #bench"]
        member.feed(b"".join(line + b"\r\n" for line in lines))
        loop.run_ready()
        if session.user is None:
            raise RuntimeError(f"member {i} did not register")
        members.append(member)
    chan = server.network.channel("#bench")
    assert chan is not None and len(chan.members) == n, "not everyone joined #bench"
    return members


def bench(n: int, messages: int, burst: int = 1, history: bool = False) -> dict[str, Any]:
    """Send ``messages`` PRIVMSGs from one of ``n`` members, ``burst`` per loop
    turn (as when a sender's lines arrive in one read); time the server side."""
    server, loop = make_server(history)
    members = join_members(server, loop, n)
    sender = members[0]
    receivers = [m.transport for m in members[1:]]

    # Count encodes by wrapping the module function the fan-out calls.
    encodes = 0
    real_encode = encoding.encode

    def counting_encode(msg: Message, profile: TagProfile) -> bytes:
        nonlocal encodes
        encodes += 1
        return real_encode(msg, profile)

    # Check one message first: every receiver got exactly one write, and how
    # many distinct bytes objects the fan-out handed out.
    for t in receivers:
        t.writes, t.keep, t.last = 0, True, []
    encoding.encode = counting_encode
    try:
        sender.feed(b"PRIVMSG #bench :warm-up message\r\n")
        loop.run_ready()
        first_encodes = encodes
        got = [t.last for t in receivers]
        profiles = {m.session.tag_profile for m in members[1:]}
        for t in receivers:
            t.keep, t.last = False, []
        missing = sum(1 for g in got if len(g) != 1)
        distinct = len({id(g[0]) for g in got if g})

        line = b"PRIVMSG #bench :the quick brown fox jumps over the lazy dog, again and again\r\n"
        chunk = line * burst
        times: list[float] = []
        encodes = 0
        written0 = sum(t.written for t in receivers)
        writes0 = sum(t.writes for t in receivers)
        rounds = max(1, messages // burst)
        for _ in range(rounds):
            t0 = time.perf_counter()
            sender.feed(chunk)
            loop.run_ready()
            times.append((time.perf_counter() - t0) / burst)
        messages = rounds * burst
    finally:
        encoding.encode = real_encode
    # Like timeit's "best of": the median of each fifth of the run, and the
    # best of those, is the least disturbed by whatever else the machine does.
    k = max(1, len(times) // 5)
    per_msg = min(statistics.median(times[i : i + k]) for i in range(0, len(times), k))
    deliveries = n - 1
    return {
        "members": n,
        "tag_profiles": len(profiles),
        "encodes_per_msg": encodes / messages,
        "encodes_first_msg": first_encodes,
        "distinct_bytes_per_msg": distinct,
        "receivers_missing_msg": missing,
        "us_per_msg": round(per_msg * 1e6, 1),
        "us_per_msg_median": round(statistics.median(times) * 1e6, 1),
        "us_per_delivery": round(per_msg * 1e6 / deliveries, 3),
        "deliveries_per_s": round(deliveries / per_msg),
        "burst": burst,
        "history": history,
        "writes_per_delivery": round(
            (sum(t.writes for t in receivers) - writes0) / messages / deliveries, 3
        ),
        "bytes_per_delivery": round(
            (sum(t.written for t in receivers) - written0) / messages / deliveries, 1
        ),
        "ok": missing == 0 and encodes / messages <= len(profiles),
    }


def main(argv: list[str] | None = None) -> int:
    """Print a table and one JSON line per channel size."""
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("--members", type=int, nargs="+", default=[10, 100, 500, 2000],
                    help="channel sizes to measure")
    ap.add_argument("--messages", type=int, default=500, help="timed messages per size")
    ap.add_argument("--burst", type=int, default=1,
                    help="messages per loop turn (the server writes once per turn)")
    ap.add_argument("--history", action="store_true",
                    help="keep history in SQLite (the default server) and compare with none")
    ap.add_argument("--json", action="store_true", help="only the JSON lines")
    args = ap.parse_args(argv)
    modes = [False, True] if args.history else [False]
    results = [bench(n, args.messages, args.burst, h) for n in args.members for h in modes]
    if not args.json:
        print(f"{'members':>8} {'history':>7} {'profiles':>8} {'encodes/msg':>11} "
              f"{'distinct bytes':>14} {'µs/msg':>9} {'µs/delivery':>11} {'deliveries/s':>13} "
              f"{'writes/delivery':>15}")
        for r in results:
            print(f"{r['members']:>8} {'on' if r['history'] else 'off':>7} "
                  f"{r['tag_profiles']:>8} {r['encodes_per_msg']:>11.2f} "
                  f"{r['distinct_bytes_per_msg']:>14} {r['us_per_msg']:>9.1f} "
                  f"{r['us_per_delivery']:>11.3f} {r['deliveries_per_s']:>13,} "
                  f"{r['writes_per_delivery']:>15.3f}")
        print("(best of 5 medians; server-side work only: parse, dispatch, fan-out, flush)")
    for r in results:
        print(json.dumps({"bench": "fanout", **r}))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
