"""Instructions per relayed PRIVMSG, counted by callgrind: a number that does
not depend on how busy the machine is, for comparing two versions of the
relay path.

    python benchmarks/relay_instructions.py                      # this tree
    PYTHONPATH=/tmp/hb-at/src python benchmarks/relay_instructions.py   # another commit

It runs the in-process fan-out of ``bench_fanout.py`` (the real Server and
command path on a fake loop, transports that only count) under
``valgrind --tool=callgrind`` twice: once with no messages and once with
``--messages``, with the same hash seed, and prints the difference divided by
the number of messages and of deliveries. ``--lagging`` makes that share of
the members report a non-empty transport buffer, as a client that lags
behind does, so the sendq's look below the transport is counted too (here it
finds no kernel: in-process there is none; the ioctl itself is timed
separately with ``--ioctl``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def relay(members: int, messages: int, lagging: float) -> None:
    """Register ``members`` and relay ``messages`` PRIVMSGs from one of them."""
    sys.path.insert(0, str(HERE))
    from bench_fanout import FakeTransport, join_members, make_server

    class Lagging(FakeTransport):
        """A transport that holds bytes back, as for a client that lags."""

        __slots__ = ()

        def get_write_buffer_size(self) -> int:
            return 1

    server, loop = make_server()
    group = join_members(server, loop, members)
    for i, member in enumerate(group[1:]):
        if lagging and i % round(1 / lagging) == 0:
            member.transport.__class__ = Lagging
    line = b"PRIVMSG #bench :the quick brown fox jumps over the lazy dog, again and again\r\n"
    sender = group[0]
    for _ in range(messages):
        sender.feed(line)
        loop.run_ready()


def callgrind(args: argparse.Namespace, messages: int) -> int:
    """Instructions (Ir) of a whole run with ``messages`` messages."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
               sys.executable, __file__, "--run", "--members", str(args.members),
               "--messages", str(messages), "--lagging", str(args.lagging)]  # fmt: skip
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        subprocess.run(cmd, check=True, env=env, capture_output=True)
        summary = re.search(r"^summary: (\d+)", out.read_text(), re.MULTILINE)
        assert summary, "no summary in the callgrind output"
        return int(summary.group(1))


def ioctl_cost(rounds: int = 200_000) -> float:
    """Nanoseconds per SIOCOUTQ look on a connected TCP socket."""
    from hubbub.server.transports.base import SOCKET_QUEUE

    class Transport:
        def __init__(self, sock: socket.socket) -> None:
            self.sock = sock

        def get_extra_info(self, name: str, default: object = None) -> object:
            return self.sock if name == "socket" else default

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()):
            server, _ = listener.accept()
            with server:
                t = Transport(server)
                t0 = time.perf_counter_ns()
                for _ in range(rounds):
                    SOCKET_QUEUE.held(t)  # type: ignore[arg-type]
                return (time.perf_counter_ns() - t0) / rounds


def main(argv: list[str] | None = None) -> int:
    """Print instructions per message and per delivery (and the ioctl's cost)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--lagging", type=float, default=0.0,
                    help="share of members whose transport holds bytes back")
    ap.add_argument("--ioctl", action="store_true", help="time the SIOCOUTQ look instead")
    ap.add_argument("--run", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.run:
        relay(args.members, args.messages, args.lagging)
        return 0
    if args.ioctl:
        print(json.dumps({"bench": "siocoutq", "ns_per_look": round(ioctl_cost())}))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    base = callgrind(args, 0)
    full = callgrind(args, args.messages)
    per_msg = (full - base) / args.messages
    print(json.dumps({
        "bench": "relay_instructions", "members": args.members, "messages": args.messages,
        "lagging": args.lagging, "ir_per_message": round(per_msg),
        "ir_per_delivery": round(per_msg / (args.members - 1), 1),
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
