"""Instructions per relayed PRIVMSG on the in-process relay path, by callgrind.

    python benchmarks/relay_callgrind.py [--members 10 100] [--messages 5000]
    PYTHONPATH=/tmp/other-tree/src python benchmarks/relay_callgrind.py   # another commit

Timings on this shared two-core machine swing by tens of percent; the
instructions a run executes do not. This runs the real Server and command
path on the fake loop of ``bench_fanout.py`` (a channel of ``--members``,
one sender, transports that only count) under ``valgrind --tool=callgrind``
twice, with no messages and with ``--messages``, with the same hash seed,
and prints the difference per relayed line. It is how the cluster work shows
that the single-process path (the local bus) did not get slower.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
LINE = b"PRIVMSG #bench :the quick brown fox jumps over the lazy dog, again and again\r\n"


def relay(members: int, messages: int) -> None:
    """Register ``members``, join them to #bench and relay ``messages`` lines."""
    sys.path.insert(0, str(HERE))
    from bench_fanout import join_members, make_server

    server, loop = make_server()
    # A fixed clock: the server-time text is cached per millisecond, and how
    # many milliseconds a run spans depends on how fast it runs (valgrind is
    # slow, and not equally slow every time): without this, the count moves.
    server.now = lambda: 1_700_000_000.0
    group = join_members(server, loop, members)
    # As serve() does once it is up (app.tune_gc): what was built so far is
    # left out of every collection, so a collection costs what the relay
    # allocates, not the size of whatever else is loaded.
    gc.collect()
    gc.freeze()
    sender = group[0]
    for _ in range(messages):
        sender.feed(LINE)
        loop.run_ready()


def instructions(members: int, messages: int) -> int:
    """Instructions (callgrind's Ir) of a whole run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
               sys.executable, __file__, "--run", "--members", str(members),
               "--messages", str(messages)]  # fmt: skip
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        subprocess.run(cmd, check=True, env=env, capture_output=True)
        summary = re.search(r"^summary: (\d+)", out.read_text(), re.MULTILINE)
        assert summary, "no summary in the callgrind output"
        return int(summary.group(1))


def main(argv: list[str] | None = None) -> int:
    """Print instructions per relayed line for each channel size."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--members", type=int, nargs="+", default=[10, 100])
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--run", action="store_true", help="(internal) the measured process")
    args = ap.parse_args(argv)
    if args.run:
        relay(args.members[0], args.messages)
        return 0
    for n in args.members:
        base = instructions(n, 0)
        total = instructions(n, args.messages)
        per_line = (total - base) / args.messages
        print(json.dumps({"bench": "relay_callgrind", "members": n, "messages": args.messages,
                          "instructions_per_line": round(per_line),
                          "instructions_per_delivery": round(per_line / (n - 1))}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
