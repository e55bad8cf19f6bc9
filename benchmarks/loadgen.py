"""The Python load generator behind ``load.py``: the scenarios, in one process.

Theory of operation
-------------------
The clients are :class:`loadkit.Client` protocols on one event loop (uvloop
when installed). Message texts carry their own bookkeeping, so nothing is
looked up per line:

* fanout: ``<sender> <seq> <sent_ns> <padding>``; every receiver checks that
  ``seq`` is the next one it expects from that sender (order and loss), and a
  per-message counter tells when all N-1 members have it. Only then does the
  message leave its sender's window (the same flow control as ircbench), so
  queues stay bounded and the rate measured is what the server sustains to
  its slowest receiver.
* pairs: ``<seq> <sent_ns> <padding>``, echoed back verbatim by the B side.

Sends are coalesced like the server's output: senders that may send again are
collected during a loop turn and written once at its end (one ``write()`` per
sender per turn, not one per message).

The generator runs in its own process (``load.py`` starts :func:`child_main`
with the spawn method, pinned to CPU 1 under ``--pin``) and hands back one
result dict whose keys follow ircbench's JSON where the two measure the same
thing.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from multiprocessing.connection import Connection as Pipe

from loadkit import (
    Client,
    CpuMeter,
    GenParams,
    Result,
    SetupError,
    close_all,
    connect,
    connect_many,
    disconnected,
    nick_for,
    percentiles,
    proc_status,
    raise_nofile,
    run_tag,
)

#: sender, seq and send stamp out of a fanout PRIVMSG (see Fanout.fill).
_FANOUT_TEXT = re.compile(rb"PRIVMSG \S+ :?(\d+) (\d+) (\d+) ")


# --- fanout --------------------------------------------------------------------


class Fanout:
    """S senders to a channel of N; a message completes when N-1 members have it."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, p: GenParams, members: list[Client], msgs: int
    ) -> None:
        self.loop = loop
        self.p = p
        self.members = members
        self.senders = members[: p.senders]
        self.msgs = msgs
        self.window = p.window
        self.need = len(members) - 1
        s = len(self.senders)
        self.acks = [[0] * msgs for _ in range(s)]
        self.sent = [0] * s
        self.done = [0] * s
        # How many each sender may have sent so far: all of them in closed
        # loop; the pacer raises it in paced mode.
        self.allowed = [msgs if p.rate <= 0 else 0] * s
        self.stopped = False
        self.remaining = s
        self.complete = [False] * s
        self.finished: asyncio.Future[None] = loop.create_future()
        self.pending: list[int] = []
        self.scheduled = False
        self.reads = 0
        self.out_of_order = 0
        self.gaps = 0
        self.examples: list[str] = []
        self.last_ns = 0
        self.prefix = b"PRIVMSG %s :" % p.channel.encode()
        self.pad = b"x" * p.size
        for m in members:
            m.expect = [0] * s
            m.recv = 0
            m.samples = []
            m.on_chunk = self.on_chunk

    def on_chunk(self, client: Client, chunk: bytes, now: int) -> None:
        """Deliveries in bulk: check order, record latency, complete messages.

        One regex pass pulls (sender, seq, stamp) out of every PRIVMSG in the
        chunk; this loop is the generator's hot path, hence the local names.
        """
        self.reads += 1
        found = _FANOUT_TEXT.findall(chunk)
        if len(found) != chunk.count(b"\n"):
            client.control_lines(chunk, now)
        if not found:
            return
        exp = client.expect
        samples = client.samples
        acks = self.acks
        need = self.need
        woke = False
        for s_b, n_b, ts_b in found:
            s = int(s_b)
            n = int(n_b)
            if n == exp[s]:
                exp[s] = n + 1
            else:
                self._misorder(client, s, n)
            samples.append(now - int(ts_b))
            a = acks[s]
            c = a[n] = a[n] + 1
            if c == need:
                self.done[s] += 1
                self.pending.append(s)
                woke = True
        client.recv += len(found)
        self.last_ns = now
        if woke and not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self._fill_pending)

    def _misorder(self, client: Client, s: int, n: int) -> None:
        expected = client.expect[s]
        if n < expected:
            self.out_of_order += 1
        else:
            self.gaps += n - expected
            client.expect[s] = n + 1
        if len(self.examples) < 5:
            self.examples.append(
                f"{client.nick} got seq {n} from sender {s}, expected {expected}"
            )

    def _fill_pending(self) -> None:
        self.scheduled = False
        pending, self.pending = self.pending, []
        for s in dict.fromkeys(pending):
            self.fill(s)

    def fill(self, s: int) -> None:
        """Send what sender ``s`` may send now, in one write; note when it is done."""
        sent = self.sent[s]
        limit = min(self.allowed[s], self.done[s] + self.window)
        if sent < limit and not self.stopped:
            ts = time.monotonic_ns()
            size, prefix, pad = self.p.size, self.prefix, self.pad
            lines = []
            for n in range(sent, limit):
                head = b"%d %d %d " % (s, n, ts)
                lines.append(prefix + head + pad[: max(1, size - len(head))] + b"\r\n")
            self.sent[s] = limit
            self.senders[s].write(b"".join(lines))
        if self.done[s] == self.msgs and not self.complete[s]:
            self.complete[s] = True
            self.remaining -= 1
            if not self.remaining and not self.finished.done():
                self.finished.set_result(None)

    async def pace(self, start: float) -> None:
        """Paced mode: raise the senders' allowance at ``rate`` messages/s in total,
        round robin, so each sender sends every S/rate seconds."""
        s_count = len(self.senders)
        total = s_count * self.msgs
        for g in range(total):
            if self.stopped:
                return
            delay = start + g / self.p.rate - self.loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            s = g % s_count
            self.allowed[s] += 1
            self.fill(s)


async def scenario_fanout(p: GenParams, paced: bool) -> Result:
    """``fanout`` (closed loop, window W) or ``fanout-rate`` (paced at p.rate)."""
    loop = asyncio.get_running_loop()
    msgs = p.rate_msgs if paced else p.msgs
    if not paced:
        p = replace(p, rate=0.0)
    out: Result = {
        "params": {
            "clients": p.clients,
            "senders": p.senders,
            "msgs": msgs,
            "window": p.window,
            "size": p.size,
            "rate": p.rate,
            "channel": p.channel,
        }
    }
    if not 1 <= p.senders <= p.clients or p.clients < 2 or p.window < 1:
        raise SetupError("need 1 <= senders <= clients, clients >= 2, window >= 1")
    tag = run_tag()
    t = time.monotonic()
    clients, _, errors = await connect_many(
        p.clients, p.concurrency, lambda i: connect(p, nick_for("f", tag, i), p.channel)
    )
    out["setup_s"] = round(time.monotonic() - t, 3)
    if errors or any(c is None for c in clients):
        close_all(clients)
        out["setup_errors"] = errors
        raise SetupError(f"only {sum(c is not None for c in clients)}/{p.clients} joined")
    members = [c for c in clients if c is not None]
    await asyncio.sleep(0.5)  # let the JOIN broadcast storm drain

    f = Fanout(loop, p, members, msgs)
    cpu = CpuMeter(p.server_pid)
    start_ns = time.monotonic_ns()
    pacer: asyncio.Task[None] | None = None
    if paced:
        pacer = asyncio.create_task(f.pace(loop.time()))
    else:
        for s in range(len(f.senders)):
            f.fill(s)
    capped = stalled = False
    try:
        await asyncio.wait_for(asyncio.shield(f.finished), p.duration)
    except TimeoutError:
        capped = True
        f.stopped = True
        deadline = loop.time() + p.drain
        while sum(f.done) < sum(f.sent) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        stalled = sum(f.done) < sum(f.sent)
    if pacer is not None:
        pacer.cancel()
    end_ns = f.last_ns if f.last_ns > start_ns else time.monotonic_ns()
    cpu.report(out)
    dead = disconnected(clients, out)
    close_all(clients)

    elapsed = (end_ns - start_ns) / 1e9
    total_sent = sum(f.sent)
    delivered = sum(m.recv for m in members)
    expected = total_sent * (len(members) - 1)
    # Per receiver: everything each sender sent must have arrived.
    missing = 0
    for i, m in enumerate(members):
        for s, sent in enumerate(f.sent):
            if s != i and m.expect[s] < sent:
                missing += sent - m.expect[s]
    samples: list[int] = []
    for m in members:
        samples.extend(m.samples)
    out.update(
        elapsed_s=round(elapsed, 3),
        sent_msgs=total_sent,
        planned_msgs=len(f.senders) * msgs,
        delivered=delivered,
        expected_deliveries=expected,
        lost=expected - delivered,
        missing_tail=missing,
        out_of_order=f.out_of_order,
        gaps=f.gaps,
        hit_time_cap=capped,
        stalled=stalled,
        msgs_per_s=round(total_sent / elapsed, 1) if elapsed > 0 else 0.0,
        deliveries_per_s=round(delivered / elapsed, 1) if elapsed > 0 else 0.0,
        # How the server batches: lines per read() on the receiving side.
        deliveries_per_read=round(delivered / f.reads, 1) if f.reads else 0.0,
    )
    if f.examples:
        out["order_examples"] = f.examples
    percentiles(samples, "lat_", out)
    if p.server_pid:
        out["server_rss_kb"] = proc_status(p.server_pid, "VmRSS")
    out["ok"] = (
        delivered == expected and not f.out_of_order and not f.gaps and not dead and not stalled
    )
    return out


# --- pairs ---------------------------------------------------------------------


async def scenario_pairs(p: GenParams) -> Result:
    """P pairs ping-pong private messages, R round trips each."""
    loop = asyncio.get_running_loop()
    out: Result = {"params": {"pairs": p.pairs, "rounds": p.rounds, "size": p.size}}
    tag = run_tag()
    clients, _, errors = await connect_many(
        2 * p.pairs, p.concurrency, lambda i: connect(p, nick_for("q", tag, i))
    )
    if errors or any(c is None for c in clients):
        close_all(clients)
        out["setup_errors"] = errors
        raise SetupError(f"only {sum(c is not None for c in clients)}/{2 * p.pairs} registered")
    live = [c for c in clients if c is not None]
    a_side, b_side = live[0::2], live[1::2]
    remaining = len(a_side)
    finished: asyncio.Future[None] = loop.create_future()
    state = {"stop": False, "last": 0, "bad": 0}
    pad = b"x" * p.size

    def ping(a: Client, n: int) -> None:
        assert a.peer is not None
        head = b"%d %d " % (n, time.monotonic_ns())
        a.write(b"PRIVMSG %s :%s%s\r\n" % (a.peer.nick_b, head, pad[: max(1, p.size - len(head))]))

    def on_a(a: Client, text: bytes, now: int) -> None:
        nonlocal remaining
        n_b, ts_b, _ = text.split(b" ", 2)
        if int(n_b) != a.recv:
            state["bad"] += 1
        a.recv += 1
        a.samples.append(now - int(ts_b))
        state["last"] = now
        if a.recv < p.rounds and not state["stop"]:
            ping(a, a.recv)
        else:
            remaining -= 1
            if not remaining and not finished.done():
                finished.set_result(None)

    def on_b(b: Client, text: bytes, now: int) -> None:
        assert b.peer is not None
        b.recv += 1
        b.write(b"PRIVMSG %s :%s\r\n" % (b.peer.nick_b, text))

    for a, b in zip(a_side, b_side, strict=True):
        a.peer, b.peer = b, a
        a.on_text, b.on_text = on_a, on_b
    await asyncio.sleep(0.3)
    cpu = CpuMeter(p.server_pid)
    start = time.monotonic_ns()
    for a in a_side:
        ping(a, 0)
    capped = stalled = False
    try:
        await asyncio.wait_for(asyncio.shield(finished), p.duration)
    except TimeoutError:
        capped = True
        state["stop"] = True
        try:
            await asyncio.wait_for(asyncio.shield(finished), p.drain)
        except TimeoutError:
            stalled = True
    cpu.report(out)
    dead = disconnected(clients, out)
    close_all(clients)
    elapsed = (max(state["last"], start + 1) - start) / 1e9
    rts = sum(a.recv for a in a_side)
    samples = [x for a in a_side for x in a.samples]
    out.update(
        elapsed_s=round(elapsed, 3),
        round_trips=rts,
        planned_round_trips=p.pairs * p.rounds,
        roundtrips_per_s=round(rts / elapsed, 1),
        msgs_per_s=round(2 * rts / elapsed, 1),
        out_of_order=state["bad"],
        hit_time_cap=capped,
        stalled=stalled,
    )
    percentiles(samples, "rtt_", out)
    out["ok"] = not dead and not stalled and not state["bad"]
    return out


# --- connect -------------------------------------------------------------------


async def scenario_connect(p: GenParams) -> Result:
    """Open and register K connections, ``concurrency`` at a time, all held to the end."""
    out: Result = {"params": {"conns": p.conns, "concurrency": p.concurrency}}
    tag = run_tag()
    cpu = CpuMeter(p.server_pid)
    start = time.monotonic()
    last = [start]

    async def make(i: int) -> tuple[Client, int]:
        res = await connect(p, nick_for("c", tag, i))
        last[0] = time.monotonic()
        return res

    clients, regs, errors = await connect_many(p.conns, p.concurrency, make, p.conns // 10 + 10)
    cpu.report(out)
    ok = sum(c is not None for c in clients)
    elapsed = last[0] - start
    out.update(
        elapsed_s=round(elapsed, 3),
        registered=ok,
        failed=p.conns - ok,
        regs_per_s=round(ok / elapsed, 1) if elapsed > 0 else 0.0,
    )
    if errors:
        out["errors"] = [f"{v}x {k}" for k, v in sorted(errors.items())][:5]
    percentiles(regs, "reg_", out)
    if p.server_pid:
        out["server_rss_kb"] = proc_status(p.server_pid, "VmRSS")
    dead = disconnected(clients, out)
    close_all(clients)
    out["ok"] = ok == p.conns and not dead
    return out


# --- idle ----------------------------------------------------------------------


async def scenario_idle(p: GenParams) -> Result:
    """Hold C registered connections in K channels; the server's RSS per connection."""
    out: Result = {
        "params": {"conns": p.idle_conns, "channels": p.channels, "concurrency": p.concurrency}
    }
    limit = raise_nofile()
    if limit < p.idle_conns + 100:
        out["warning"] = f"open files limit {limit} is below {p.idle_conns} connections"
    tag = run_tag()
    rss0 = proc_status(p.server_pid, "VmRSS") if p.server_pid else None
    start = time.monotonic()
    clients, regs, errors = await connect_many(
        p.idle_conns,
        p.concurrency,
        lambda i: connect(p, nick_for("i", tag, i), f"#idle{i % p.channels}"),
        200,
    )
    setup = time.monotonic() - start
    ok = sum(c is not None for c in clients)
    await asyncio.sleep(p.settle)
    cpu = CpuMeter(p.server_pid)
    await asyncio.sleep(1.0)
    cpu.report(out)  # the server's CPU while holding idle connections
    out.update(
        registered=ok,
        failed=p.idle_conns - ok,
        setup_s=round(setup, 3),
        setup_conns_per_s=round(ok / setup, 1) if setup > 0 else 0.0,
        gen_rss_kb=proc_status(os.getpid(), "VmRSS"),
    )
    if errors:
        out["errors"] = [f"{v}x {k}" for k, v in sorted(errors.items())][:5]
    percentiles(regs, "reg_", out)
    if p.server_pid:
        rss = proc_status(p.server_pid, "VmRSS")
        out["server_rss_kb_before"] = rss0
        out["server_rss_kb"] = rss
        out["server_hwm_kb"] = proc_status(p.server_pid, "VmHWM")
        if rss is not None and rss0 is not None and ok:
            out["rss_kb_per_conn"] = round((rss - rss0) / ok, 3)
            out["rss_kb_per_conn_total"] = round(rss / ok, 3)
    dead = disconnected(clients, out)
    close_all(clients)
    out["ok"] = ok == p.idle_conns and not dead
    return out


# --- entry points ----------------------------------------------------------------


SCENARIOS: dict[str, Callable[[GenParams], Awaitable[Result]]] = {
    "fanout": lambda p: scenario_fanout(p, paced=False),
    "fanout-rate": lambda p: scenario_fanout(p, paced=True),
    "pairs": scenario_pairs,
    "connect": scenario_connect,
    "idle": scenario_idle,
}


async def run_scenario(name: str, p: GenParams) -> Result:
    """Run one scenario; a setup failure becomes ``ok: false`` with the reason."""
    try:
        res = await SCENARIOS[name](p)
    except SetupError as exc:
        res = {"ok": False, "error": str(exc)}
    # Let the QUITs and closes go out before the loop stops.
    await asyncio.sleep(0.2)
    return res


def child_main(name: str, p: GenParams, pipe: Pipe) -> None:
    """The generator process: pin, raise limits, pick the loop, run, report."""
    if p.pin_cpu is not None:
        os.sched_setaffinity(0, {p.pin_cpu})
    raise_nofile()
    loop_name = "asyncio"
    try:
        import uvloop

        runner: Callable[[Awaitable[Result]], Result] = uvloop.run  # type: ignore[assignment]
        loop_name = "uvloop"
    except ImportError:
        runner = asyncio.run  # type: ignore[assignment]
    try:
        res = runner(run_scenario(name, p))
    except Exception as exc:  # report it to the parent rather than die silently
        res = {"ok": False, "error": f"generator crashed: {exc!r}"}
    res["gen_loop"] = loop_name
    res["gen_cpus"] = sorted(os.sched_getaffinity(0))
    pipe.send(res)
    pipe.close()
