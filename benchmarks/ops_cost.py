"""What watching the server costs: instructions per relayed PRIVMSG (callgrind),
and the time one Prometheus scrape takes.

    python benchmarks/ops_cost.py relay [--members 2 100] [--messages 2000] [--history]
    PYTHONPATH=/tmp/hubbub-main/src python benchmarks/ops_cost.py relay   # another tree
    python benchmarks/ops_cost.py scrape [--clients 10 1000 10000]

``relay`` runs the in-process fan-out of ``bench_fanout.py`` (the real Server
and command path on a fake loop, transports that only count) under
``valgrind --tool=callgrind``, once with no messages and once with
``--messages``, with the same hash seed, and prints the difference per
message: a count that does not depend on how busy the machine is, so two
versions of the relay path can be compared on a shared machine.

``scrape`` builds a server with ``--clients`` registered clients (the same
fake loop) and as many open files, relays some traffic, then times what
``GET /metrics`` does: the rendering on the event loop (``loop_us``) and the
read of the process metrics on a worker thread (``thread_us``, which lists
the open files), medians in microseconds, and the size of the page.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

LINE = b"PRIVMSG #bench :the quick brown fox jumps over the lazy dog, again and again\r\n"


def relay(members: int, messages: int, history: bool, burst: int = 1) -> None:
    """Register ``members`` and relay ``messages`` PRIVMSGs from one of them,
    ``burst`` per read and loop turn, read by the TCP transport's own
    ``data_received`` (where bytes in are counted)."""
    from bench_fanout import join_members, make_server

    from hubbub.server.app import tune_gc
    from hubbub.server.transports.tcp import IRCProtocol

    server, loop = make_server(history)
    group = join_members(server, loop, members)
    # As `hubbub serve` does once it is up: without it, one more container
    # allocated per turn moves the cyclic collector's schedule and blurs
    # the count by thousands of instructions per message.
    tune_gc()
    reader = IRCProtocol(server)
    reader.session = group[0].session
    for _ in range(messages // burst):
        reader.data_received(LINE * burst)
        loop.run_ready()


def instructions(members: int, messages: int, history: bool, burst: int) -> int:
    """Instructions (Ir) of a whole run of :func:`relay`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
               sys.executable, __file__, "run", "--members", str(members),
               "--messages", str(messages), "--burst", str(burst),
               *(["--history"] if history else [])]  # fmt: skip
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        subprocess.run(cmd, check=True, env=env, capture_output=True)
        summary = re.search(r"^summary: (\d+)", out.read_text(), re.MULTILINE)
        assert summary, "no summary in the callgrind output"
        return int(summary.group(1))


def relay_main(args: argparse.Namespace) -> int:
    """Print instructions per relayed message for each channel size."""
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    for members in args.members:
        base = instructions(members, 0, args.history, args.burst)
        full = instructions(members, args.messages, args.history, args.burst)
        per_msg = (full - base) / args.messages
        print(json.dumps({
            "bench": "relay_instructions", "members": members, "messages": args.messages,
            "burst": args.burst, "history": args.history, "ir_per_message": round(per_msg),
            "ir_per_delivery": round(per_msg / max(1, members - 1), 1),
        }), flush=True)  # fmt: skip
    return 0


def median_us(fn: Callable[[], object], rounds: int) -> int:
    """Median microseconds of ``fn()`` over ``rounds`` calls."""
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times) * 1e6)


def scrape_main(args: argparse.Namespace) -> int:
    """Time one /metrics for servers of several sizes: the rendering (on the
    event loop) and the process metrics (on a worker thread), with as many
    open files as the clients would hold."""
    from bench_fanout import join_members, make_server

    from hubbub.ops.health import Readiness
    from hubbub.ops.lag import LoopLag
    from hubbub.ops.metrics import MetricsRegistry
    from hubbub.server.app import raise_fd_limit

    raise_fd_limit()
    for clients in args.clients:
        server, loop = make_server(history=True)
        group = join_members(server, loop, clients)
        for member in group[:50]:
            member.feed(LINE)
        loop.run_ready()
        # A real server holds a socket per client: /proc/self/fd lists them.
        files = [os.open(os.devnull, os.O_RDONLY) for _ in range(clients)]
        registry = MetricsRegistry(server, LoopLag(), Readiness(server))
        registry.process.families = registry.process.read()
        page, _ = registry.render()
        print(json.dumps({
            "bench": "scrape", "clients": clients, "bytes": len(page),
            "loop_us": median_us(registry.render, args.rounds),
            "thread_us": median_us(registry.process.read, max(5, args.rounds // 10)),
        }), flush=True)  # fmt: skip
        for fd in files:
            os.close(fd)
        server.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``relay`` or ``scrape`` (``run`` is what callgrind runs)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    r = sub.add_parser("relay", help="callgrind instructions per relayed PRIVMSG")
    r.add_argument("--members", type=int, nargs="+", default=[2, 100])
    r.add_argument("--messages", type=int, default=2000)
    r.add_argument("--history", action="store_true", help="with the SQLite history store")
    r.add_argument("--burst", type=int, default=1,
                   help="messages per read and loop turn (1: each its own turn, the worst case)")
    run = sub.add_parser("run")
    run.add_argument("--members", type=int, default=2)
    run.add_argument("--messages", type=int, default=0)
    run.add_argument("--history", action="store_true")
    run.add_argument("--burst", type=int, default=1)
    s = sub.add_parser("scrape", help="time to render /metrics")
    s.add_argument("--clients", type=int, nargs="+", default=[10, 1000, 10000])
    s.add_argument("--rounds", type=int, default=200)
    args = ap.parse_args(argv)
    if args.what == "run":
        relay(args.members, args.messages, args.history, args.burst)
        return 0
    if args.what == "scrape":
        return scrape_main(args)
    return relay_main(args)


if __name__ == "__main__":
    sys.exit(main())
