"""Soak: many clients joining, parting, changing nicks and chatting for a long
time against one ``hubbub serve`` on 127.0.0.1.

    .venv/bin/python benchmarks/soak.py                                # 1,000 clients, 30 min
    .venv/bin/python benchmarks/soak.py --clients 100 --minutes 2      # a smoke run

What it checks, and prints (a JSON line on stdout, a summary on stderr):

* the server's RSS, sampled every ``--sample`` seconds: after the warm-up
  (``--warmup`` minutes) it must not grow more than ``--rss-growth`` (5 %);
* no warning, error or traceback in the server's log, no client disconnected;
* no message lost, duplicated or reordered for anyone (below).

Theory of operation
-------------------
Each client is in three of ``--channels`` channels and, every ``--interval``
seconds on average (exponentially distributed), does one thing: says
something in a channel (70 %), sends a private message (15 %), leaves a
channel for another (10 %) or changes its nick (5 %). Every client has
``echo-message``, so the server's order is visible to the sender too.
Clients are known by their username (``~sN``), which no nick change touches.

A channel message is ``c STINT K``: the sender's K-th message in its STINT-th
stay in the channel; it sends only between seeing its own JOIN and sending
PART, and its PART reason ``end STINT K`` carries the last K. Each member
checks, per sender and channel, that K goes up by exactly one (no gap, no
duplicate, no reordering); that the first message after a JOIN it saw is
K = 1; and that the PART's K is the last one it got. (A member that joined
after the sender cannot know which K comes first; the rest of that stay is
still checked.) The sender checks its own echoes the same way.

A private message is ``p TARGET N``, addressed by the target's current nick
(from a directory each client updates when it sees its own NICK): a message
to a nick that just changed gets 401 and no echo, which is IRC, not loss. So
the sender keeps the N of the echoes it got (the messages the server took),
the target the N it received, and after the run both lists must be equal,
and each in order.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from loadkit import proc_status, proc_ticks, raise_nofile

from hubbub.protocol import Message, parse_line

CAPS = "echo-message"


@dataclass
class View:
    """What one member knows of one sender in one channel."""

    stint: int | None  # None: saw the JOIN, no message yet
    last: int
    saw_join: bool


@dataclass
class Tally:
    """Counts and findings of the whole run."""

    sent: Counter[str] = field(default_factory=Counter)
    received_channel: int = 0
    received_private: int = 0
    checked_stays: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    disconnects: Counter[str] = field(default_factory=Counter)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.examples) < 30:
            self.examples.append(f"{kind}: {detail}")


class Soak:
    """The clients, the nick directory and the tally."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.channels = [f"#soak{i}" for i in range(args.channels)]
        self.nick_of: dict[str, str] = {}  # username -> current nick
        self.tally = Tally()
        self.clients: list[SoakClient] = []
        self.running = True


class SoakClient(asyncio.Protocol):
    """One simulated user."""

    def __init__(self, soak: Soak, index: int) -> None:
        self.soak = soak
        self.tally = soak.tally
        self.rng = random.Random(index)
        self.user = f"s{index}"
        self.nick_gen = 0
        self.nick = f"s{index}n0"
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.registered = asyncio.Event()
        self.joined_all = asyncio.Event()
        self.closed = False
        # Channels: my stint number per joined channel (own JOIN seen),
        # the K last sent and the K last echoed back, and stints so far.
        self.joined: dict[str, int] = {}
        self.pending: set[str] = set()  # JOIN or PART sent, not seen yet
        self.sent_k: dict[str, int] = {}
        self.echo_k: dict[str, int] = {}
        self.stints: Counter[str] = Counter()
        self.views: dict[tuple[str, str], View] = {}
        # Private messages: N sent, N echoed (taken by the server), N received.
        self.pm_sent: Counter[str] = Counter()
        self.pm_echoed: defaultdict[str, list[int]] = defaultdict(list)
        self.pm_received: defaultdict[str, list[int]] = defaultdict(list)

    # --- asyncio.Protocol -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.send(f"CAP LS 302\r\nCAP REQ :{CAPS}\r\nNICK {self.nick}\r\n"
                  f"USER {self.user} 0 * :soak {self.user}\r\nCAP END\r\n")  # fmt: skip

    def data_received(self, data: bytes) -> None:
        lines = (self.buffer + data).split(b"\r\n")
        self.buffer = lines.pop()
        for raw in lines:
            try:
                msg = parse_line(raw.decode("utf-8"))
            except Exception as exc:
                self.tally.error("bad line from the server", f"{exc}: {raw[:100]!r}")
                continue
            self.on_message(msg)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.soak.running:
            self.tally.disconnects[str(exc) if exc else "closed by the server"] += 1

    def send(self, text: str) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(text.encode())

    # --- what comes in -----------------------------------------------------------

    def on_message(self, msg: Message) -> None:
        command, params = msg.command, msg.params
        if command == "PRIVMSG":
            self.on_privmsg(msg)
        elif command in ("JOIN", "PART"):
            user = _user_of(msg.source)
            if user is not None:
                (self.on_join if command == "JOIN" else self.on_part)(user, msg)
        elif command == "NICK" and _user_of(msg.source) == self.user:
            self.nick = params[0]
            self.soak.nick_of[self.user] = self.nick
        elif command == "001":
            self.soak.nick_of[self.user] = self.nick
            self.registered.set()
        elif command == "PING":
            self.send(f"PONG :{params[-1]}\r\n")
        elif command == "ERROR" and self.soak.running:
            self.tally.disconnects[params[-1] if params else "ERROR"] += 1
        elif command in ("404", "442", "403", "433", "461"):
            # (Not 401: a nick that just changed, see the docstring.)
            self.tally.error(f"numeric {command}", " ".join(params))

    def on_join(self, user: str, msg: Message) -> None:
        channel = msg.params[0]
        if user == self.user:
            self.stints[channel] += 1
            self.joined[channel] = self.stints[channel]
            self.sent_k[channel] = self.echo_k[channel] = 0
            self.pending.discard(channel)
            if len(self.joined) >= 3:
                self.joined_all.set()
        else:
            self.views[(channel, user)] = View(None, 0, saw_join=True)

    def on_part(self, user: str, msg: Message) -> None:
        channel = msg.params[0]
        if user == self.user:
            self.pending.discard(channel)
            self.joined.pop(channel, None)
            for key in [k for k in self.views if k[0] == channel]:
                del self.views[key]
            return
        view = self.views.pop((channel, user), None)
        words = msg.params[-1].split() if len(msg.params) > 1 else []
        if view is None or len(words) != 3 or words[0] != "end":
            return
        stint, last = int(words[1]), int(words[2])
        if view.stint is None:
            if last:
                self.tally.error("lost", f"{self.user} got none of {user}'s {last} in {channel}")
        elif view.stint == stint:
            self.tally.checked_stays += 1
            if view.last != last:
                self.tally.error("lost at the end", f"{self.user}: {user} {channel} "
                                 f"stint {stint}: got to {view.last}, sent {last}")  # fmt: skip

    def on_privmsg(self, msg: Message) -> None:
        target, text = msg.params[0], msg.params[-1]
        sender = _user_of(msg.source)
        words = text.split()
        if sender is None or len(words) != 3:
            self.tally.error("unexpected message", msg.to_line()[:100])
            return
        if target.startswith("#"):
            self.tally.received_channel += 1
            self.on_channel_message(target, sender, int(words[1]), int(words[2]))
        elif sender == self.user:  # my private message, echoed: the server took it
            self.pm_echoed[words[1]].append(int(words[2]))
        else:
            self.tally.received_private += 1
            if words[1] != self.user:
                self.tally.error("misdelivered", f"{self.user} got {text} from {sender}")
            got = self.pm_received[sender]
            n = int(words[2])
            if got and n <= got[-1]:
                self.tally.error("private out of order", f"{sender}->{self.user}: {got[-1]}, {n}")
            got.append(n)

    def on_channel_message(self, channel: str, sender: str, stint: int, k: int) -> None:
        if sender == self.user:
            if stint != self.joined.get(channel) or k != self.echo_k.get(channel, 0) + 1:
                self.tally.error("own echo", f"{self.user} {channel} {stint} {k}")
            self.echo_k[channel] = k
            return
        view = self.views.get((channel, sender))
        if view is None:  # it was there before me: check from here on
            self.views[(channel, sender)] = View(stint, k, saw_join=False)
            return
        if view.stint is None:
            view.stint = stint
            if k != 1:
                self.tally.error("lost at the start", f"{self.user}: {sender} {channel} "
                                 f"stint {stint} began at {k}")  # fmt: skip
        elif stint != view.stint:
            detail = f"{self.user}: {sender} {channel} {view.stint}->{stint}"
            self.tally.error("stint changed", detail)
        elif k != view.last + 1:
            kind = "duplicate or reordered" if k <= view.last else "gap"
            self.tally.error(kind, f"{self.user}: {sender} {channel} after {view.last} came {k}")
        view.last = k

    # --- what goes out -------------------------------------------------------------

    def act(self) -> None:
        """One thing a user does."""
        r = self.rng.random()
        ready = [c for c in self.joined if c not in self.pending]
        if r < 0.70 and ready:
            channel = self.rng.choice(ready)
            self.sent_k[channel] += 1
            self.send(f"PRIVMSG {channel} :c {self.joined[channel]} {self.sent_k[channel]}\r\n")
            self.tally.sent["channel"] += 1
        elif r < 0.85:
            peer = self.rng.choice(self.soak.clients)
            nick = self.soak.nick_of.get(peer.user)
            if peer is self or nick is None:
                return
            self.pm_sent[peer.user] += 1
            self.send(f"PRIVMSG {nick} :p {peer.user} {self.pm_sent[peer.user]}\r\n")
            self.tally.sent["private"] += 1
        elif r < 0.95 and ready:
            leave = self.rng.choice(ready)
            busy = self.joined.keys() | self.pending
            others = [c for c in self.soak.channels if c not in busy]
            if not others:
                return
            enter = self.rng.choice(others)
            self.pending.update((leave, enter))
            stint = self.joined[leave]
            self.send(f"PART {leave} :end {stint} {self.sent_k[leave]}\r\nJOIN {enter}\r\n")
            self.tally.sent["part+join"] += 1
        elif r >= 0.95:
            self.nick_gen += 1
            self.send(f"NICK s{self.user[1:]}n{self.nick_gen}\r\n")
            self.tally.sent["nick"] += 1


def _user_of(source: str | None) -> str | None:
    """The stable name in ``nick!~user@host``."""
    if source is None or "!" not in source:
        return None
    return source.split("!", 1)[1].split("@", 1)[0].lstrip("~")


async def _run_client(soak: Soak, client: SoakClient, until: float) -> None:
    while soak.running and time.monotonic() < until and not client.closed:
        await asyncio.sleep(client.rng.expovariate(1 / soak.args.interval))
        if soak.running and time.monotonic() < until:
            client.act()


async def _connect_all(soak: Soak, port: int) -> None:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(50)

    async def one(i: int) -> None:
        async with gate:
            client = SoakClient(soak, i)
            soak.clients.append(client)
            await loop.create_connection(lambda: client, "127.0.0.1", port)
            await asyncio.wait_for(client.registered.wait(), 60)
            first = client.rng.sample(soak.channels, 3)
            client.pending.update(first)
            client.send(f"JOIN {','.join(first)}\r\n")
            await asyncio.wait_for(client.joined_all.wait(), 60)

    await asyncio.gather(*(one(i) for i in range(soak.args.clients)))


def _check_private(soak: Soak) -> int:
    """Every private message the server took (echoed) was received, and
    nothing else was; the number of sender-target pairs checked."""
    by_user = {c.user: c for c in soak.clients}
    pairs = {(c.user, target) for c in soak.clients for target in c.pm_echoed}
    pairs |= {(sender, c.user) for c in soak.clients for sender in c.pm_received}
    for sender, target in sorted(pairs):
        echoed = by_user[sender].pm_echoed.get(target, [])
        got = by_user[target].pm_received.get(sender, [])
        if got != echoed:
            detail = (f"{len(echoed)} taken, {len(got)} received; only taken "
                      f"{sorted(set(echoed) - set(got))[:5]}, only received "
                      f"{sorted(set(got) - set(echoed))[:5]}")  # fmt: skip
            soak.tally.error("private lost", f"{sender}->{target}: {detail}")
    return len(pairs)


def _log_problems(path: Path) -> list[str]:
    markers = ("Traceback", " WARNING ", " ERROR ", " CRITICAL ", "disconnected:")
    return [line for line in path.read_text(errors="replace").splitlines()
            if any(m in line for m in markers)][:30]  # fmt: skip


def _start_server(workdir: Path, args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], int]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = workdir / "hubbub.toml"
    config.write_text(
        "[server]\nauto_join = []\n"
        # Every client comes from 127.0.0.1, 50 of them registering at once.
        f"[limits]\nmax_clients_per_ip = {args.clients + 100}\nmax_unregistered_per_ip = 100\n"
    )
    cmd = [sys.executable, "-m", "hubbub", "serve", "--listen", f"127.0.0.1:{port}",
           "--data-dir", str(workdir / "data"), "--name", "soak.hubbub", "--config", str(config)]
    if args.nice:
        cmd = ["nice", "-n", str(args.nice), *cmd]
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 (open for the server's life)
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return proc, port
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


async def _soak(args: argparse.Namespace, pid: int, port: int) -> dict[str, object]:
    soak = Soak(args)
    start = time.monotonic()
    ticks0 = proc_ticks(pid) or 0
    cpu0 = time.process_time()
    await _connect_all(soak, port)
    connected_s = time.monotonic() - start
    print(f"{len(soak.clients)} clients in {connected_s:.1f} s", file=sys.stderr)
    samples: list[tuple[float, int]] = []

    async def sample() -> None:
        while True:
            rss = proc_status(pid, "VmRSS") or 0
            t = time.monotonic() - start
            samples.append((round(t / 60, 2), rss))
            errors, sent = sum(soak.tally.errors.values()), sum(soak.tally.sent.values())
            print(f"  {t / 60:6.1f} min  RSS {rss / 1024:7.1f} MB  errors {errors}  sent {sent}",
                  file=sys.stderr)  # fmt: skip
            await asyncio.sleep(args.sample)

    sampler = asyncio.create_task(sample())
    until = start + args.minutes * 60
    await asyncio.gather(*(_run_client(soak, c, until) for c in soak.clients))
    await asyncio.sleep(args.settle)  # let the last messages arrive
    sampler.cancel()
    samples.append((round((time.monotonic() - start) / 60, 2), proc_status(pid, "VmRSS") or 0))
    pairs = _check_private(soak)
    wall = time.monotonic() - start
    server_cpu = ((proc_ticks(pid) or 0) - ticks0) / os.sysconf("SC_CLK_TCK") / wall * 100
    soak.running = False
    for c in soak.clients:
        c.send("QUIT :done\r\n")
    await asyncio.sleep(2)
    warm = [s for s in samples if s[0] >= args.warmup]
    base = warm[0][1] if warm else samples[-1][1]
    peak_after = max(r for _, r in warm) if warm else base
    t = soak.tally
    return {
        "clients": len(soak.clients),
        "minutes": args.minutes,
        "connect_s": round(connected_s, 1),
        "sent": dict(t.sent),
        "received_channel": t.received_channel,
        "received_private": t.received_private,
        "private_pairs_checked": pairs,
        "channel_stays_checked_to_the_end": t.checked_stays,
        "errors": dict(t.errors),
        "examples": t.examples,
        "disconnects": dict(t.disconnects),
        "rss_kb": samples,
        "rss_after_warmup_kb": base,
        "rss_peak_after_warmup_kb": peak_after,
        "rss_end_kb": samples[-1][1],
        "rss_growth_pct": round((peak_after - base) / base * 100, 2) if base else None,
        "rss_hwm_kb": proc_status(pid, "VmHWM"),
        "server_cpu_pct": round(server_cpu, 1),
        "loader_cpu_pct": round((time.process_time() - cpu0) / wall * 100, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the soak; exit 1 on any finding."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=None,
                    help="minutes before RSS is taken as the baseline (default: a sixth)")
    ap.add_argument("--channels", type=int, default=20)
    ap.add_argument("--interval", type=float, default=10.0,
                    help="mean seconds between one client's actions")
    ap.add_argument("--sample", type=float, default=30.0, help="seconds between RSS samples")
    ap.add_argument("--settle", type=float, default=10.0, help="seconds to wait at the end")
    ap.add_argument("--rss-growth", type=float, default=5.0, help="allowed growth, percent")
    ap.add_argument("--nice", type=int, default=10, help="niceness of server and loader")
    args = ap.parse_args(argv)
    if args.warmup is None:
        args.warmup = args.minutes / 6
    raise_nofile()
    if args.nice:
        os.nice(args.nice)
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    with tempfile.TemporaryDirectory(prefix="hubbub-soak-") as tmp:
        workdir = Path(tmp)
        proc, port = _start_server(workdir, args)
        try:
            result = asyncio.run(_soak(args, proc.pid, port))
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                result_code = proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                result_code = proc.wait()
        problems = _log_problems(workdir / "server.log")
    result["server_exit_code"] = result_code
    result["server_log_problems"] = problems
    print(json.dumps(result))
    ok = (
        not result["errors"] and not result["disconnects"] and not problems
        and result_code == 0
        and (result["rss_growth_pct"] or 0) <= args.rss_growth
    )  # fmt: skip
    verdict = "OK" if ok else "FINDINGS"
    print(f"RSS after warm-up {result['rss_after_warmup_kb']} KB, peak after "
          f"{result['rss_peak_after_warmup_kb']} KB ({result['rss_growth_pct']} %); "
          f"errors {result['errors'] or 'none'}; {verdict}", file=sys.stderr)  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
