"""Messages per second through the sans-I/O protocol layer (like h11's bench/).

    python benchmarks/bench_parse.py [--seconds 0.3] [--repeat 5]

A fixed, realistic mix of lines, both directions: mostly PRIVMSGs (some with
IRCv3 tags, as a server relays them), then JOIN/PART/QUIT, numerics, PING,
MODE, CAP and a TAGMSG. Each benchmark runs for about ``--seconds`` per
repeat; the best of ``--repeat`` repeats is printed (the least disturbed run,
as timeit recommends), with the median beside it.

* parse_line: ``str`` line -> Message
* to_bytes: Message -> wire bytes (with tags)
* feed 4KiB: LineBuffer.feed over the mix as one stream in 4096-byte reads
* feed 1 line: LineBuffer.feed with one line per read (small-packet case)
* server input path: feed + check_length + decode + parse_line, as a
  Connection does for every line it reads
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable

from hubbub.protocol import LineBuffer, Message, check_length, decode, parse_line

#: (line, weight): roughly what a busy channel's traffic looks like.
MIX: tuple[tuple[str, int], ...] = (
    ("PRIVMSG #lobby :hello there, how is everyone doing today?", 20),
    (":alice!~alice@host-1.example.org PRIVMSG #lobby :sure, I will push the fix tonight", 20),
    (
        "@time=2026-11-24T12:00:00.123Z;msgid=5f3a9c0e1b2d;account=alice "
        ":alice!~alice@host-1.example.org PRIVMSG #lobby :did anyone try the new build?",
        15,
    ),
    ("@+draft/reply=5f3a9c0e1b2d PRIVMSG #lobby :yes, works for me", 5),
    ("PRIVMSG bob :are you around? need a quick review", 5),
    (":bob!~bob@192.0.2.7 JOIN #lobby", 4),
    (":carol!~carol@198.51.100.3 PART #lobby :see you tomorrow", 3),
    (":dave!~dave@203.0.113.9 QUIT :Quit: Leaving", 3),
    (":irc.example.org 353 alice = #lobby :@alice +bob carol dave erin frank grace", 2),
    (":irc.example.org 001 alice :Welcome to the ExampleNet IRC Network alice!~alice@host", 1),
    ("PING :irc.example.org", 5),
    ("PONG irc.example.org :1732449600", 5),
    (":alice!~alice@host-1.example.org MODE #lobby +o bob", 2),
    ("CAP REQ :message-tags server-time echo-message", 1),
    ("@+typing=active TAGMSG #lobby", 4),
    ("NICK alice_", 1),
    ("JOIN #python,#rust", 1),
    ("NOTICE #lobby :the build bot is restarting in 5 minutes", 3),
)

LINES: list[str] = [line for line, weight in MIX for _ in range(weight)]


def timed(fn: Callable[[], int], seconds: float, repeat: int) -> tuple[float, float]:
    """Run ``fn`` (which returns items handled) for about ``seconds``, ``repeat``
    times: the best and median items per second."""
    # Calibrate: how many calls fill ``seconds``.
    calls = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        if time.perf_counter() - t0 >= seconds / 5:
            break
        calls *= 2
    rates = []
    for _ in range(repeat):
        items = 0
        t0 = time.perf_counter()
        for _ in range(calls * 5):
            items += fn()
        rates.append(items / (time.perf_counter() - t0))
    return max(rates), statistics.median(rates)


def benchmarks() -> dict[str, Callable[[], int]]:
    """Name -> a function that processes the whole mix once and returns its size."""
    lines = LINES
    messages = [parse_line(line) for line in lines]
    wire = b"".join(line.encode() + b"\r\n" for line in lines)
    reads_4k = [wire[i : i + 4096] for i in range(0, len(wire), 4096)]
    reads_line = [line.encode() + b"\r\n" for line in lines]
    n = len(lines)

    def parse() -> int:
        for line in lines:
            parse_line(line)
        return n

    def serialise() -> int:
        for msg in messages:
            msg.to_bytes()
        return n

    def feed_4k() -> int:
        buf = LineBuffer()
        got = 0
        for chunk in reads_4k:
            got += len(buf.feed(chunk))
        return got

    def feed_line() -> int:
        buf = LineBuffer()
        got = 0
        for chunk in reads_line:
            got += len(buf.feed(chunk))
        return got

    def server_input() -> int:
        buf = LineBuffer()
        got = 0
        for chunk in reads_4k:
            for raw in buf.feed(chunk):
                assert isinstance(raw, bytes) and check_length(raw, max_tags=8191)
                text, _ = decode(raw)
                parse_line(text)
                got += 1
        return got

    return {
        "parse_line": parse,
        "to_bytes": serialise,
        "feed 4KiB reads": feed_4k,
        "feed 1 line/read": feed_line,
        "server input path": server_input,
    }


def check_mix() -> None:
    """The mix must round-trip, or we would be timing the wrong thing."""
    for line in LINES:
        msg = parse_line(line)
        assert isinstance(msg, Message)
        assert parse_line(msg.to_bytes().decode().rstrip("\r\n")) == msg, line


def main(argv: list[str] | None = None) -> int:
    """Print a table and one JSON line."""
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("--seconds", type=float, default=0.3, help="time per repeat")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="only the JSON line")
    args = ap.parse_args(argv)
    check_mix()
    results: dict[str, dict[str, float]] = {}
    for name, fn in benchmarks().items():
        best, median = timed(fn, args.seconds, args.repeat)
        results[name] = {"msgs_per_s": round(best), "median_msgs_per_s": round(median),
                         "us_per_msg": round(1e6 / best, 3)}
    if not args.json:
        print(f"{len(LINES)} lines in the mix, {sum(len(x) for x in LINES) / len(LINES):.0f} "
              f"chars on average; best of {args.repeat} (median beside it)")
        print(f"{'benchmark':<20} {'msgs/s':>12} {'median':>12} {'µs/msg':>8}")
        for name, r in results.items():
            print(f"{name:<20} {r['msgs_per_s']:>12,.0f} {r['median_msgs_per_s']:>12,.0f} "
                  f"{r['us_per_msg']:>8.3f}")
    print(json.dumps({"bench": "parse", "python": sys.version.split()[0], "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
