"""Load test a running hubbub: fan-out, latency, ping-pong, connects, idle memory.

    python benchmarks/load.py                       # every scenario, fresh server each
    python benchmarks/load.py --scenario fanout --clients 500 --pin
    python benchmarks/load.py --port 6667 --server-pid 1234   # an already running server
    python benchmarks/load.py --ircbench            # the Go generator instead of Python

For each scenario this starts ``hubbub serve`` on a free port with a temporary
data dir and a config without flood control (or uses ``--port``), runs the
load generator in a separate process (``loadgen.py``, or ircbench), then stops
the server and reads its log for errors and tracebacks. Progress goes to
stderr; stdout gets one JSON line per scenario and then a table.

Under ``--pin`` the server runs on CPU 0 and the generator on CPU 1, so the
two do not fight over one core and the server's CPU% says how busy it was.
See benchmarks/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadgen import child_main
from loadkit import GenParams, Result, raise_nofile

SCENARIOS = ("fanout", "fanout-rate", "pairs", "connect", "idle")
REPO = Path(__file__).resolve().parent.parent
#: Log lines that mean the server had a problem under load.
PROBLEM_MARKERS = (" ERROR ", " CRITICAL ", " WARNING ")
#: DESIGN.md: a SIGTERM'd server stops "within a few seconds".
SLOW_STOP_S = 5.0


def log(msg: str) -> None:
    """Progress for humans, on stderr (stdout is for results)."""
    print(msg, file=sys.stderr, flush=True)


def free_port(host: str) -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def default_server_cmd() -> list[str]:
    """``hubbub`` from this interpreter's environment."""
    return [sys.executable, "-m", "hubbub"]


# --- the server under test --------------------------------------------------------


@dataclass
class ServerRun:
    """A server we started: where it listens, its PID, and its log."""

    host: str
    port: int
    pid: int
    log_path: Path | None
    proc: subprocess.Popen[bytes] | None = None
    exit_code: int | None = None
    stop_s: float | None = None
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    tracebacks: int = 0


def write_config(path: Path, sendq: int) -> None:
    """A config for benchmarks: no flood control, no connection caps, no auto-join."""
    path.write_text(
        "[server]\n"
        'name = "bench.hubbub"\n'
        "auto_join = []\n"
        "[limits]\n"
        "flood_control = false\n"
        "max_clients = 1000000\n"
        "max_clients_per_ip = 100000\n"
        f"sendq_bytes = {sendq}\n"
    )


def wait_ready(host: str, port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Block until the server answers a registration with 001."""
    deadline = time.monotonic() + timeout
    n = 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before it was ready")
        n += 1
        try:
            with socket.create_connection((host, port), timeout=2) as s:
                s.sendall(b"NICK probe%d\r\nUSER p 0 * :probe\r\n" % n)
                data = b""
                while b" 001 " not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if b" 001 " in data:
                    s.sendall(b"QUIT\r\n")
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer on {host}:{port} within {timeout}s")


def scan_log(path: Path, run: ServerRun) -> None:
    """Count warning/error lines and tracebacks in the server log, keep excerpts."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return
    in_tb = False
    for line in lines:
        if line.startswith("Traceback"):
            in_tb = True
            run.tracebacks += 1
        elif in_tb:
            # The exception line (not indented) ends the traceback.
            in_tb = not line or line[0].isspace()
        elif any(m in line for m in PROBLEM_MARKERS):
            run.problem_count += 1
        else:
            continue
        if len(run.problems) < 60:
            run.problems.append(line)


@contextlib.contextmanager
def start_server(args: argparse.Namespace, workdir: Path) -> Iterator[ServerRun]:
    """Start a fresh server (pinned to CPU 0 under --pin) and stop it afterwards."""
    host = args.host
    port = free_port(host)
    data = workdir / f"data-{port}"
    data.mkdir()
    config = workdir / f"hubbub-{port}.toml"
    write_config(config, args.sendq)
    base = shlex.split(args.server_cmd) if args.server_cmd else default_server_cmd()
    subst = {"port": str(port), "host": host, "data_dir": str(data), "config": str(config)}
    if any("{" in part for part in base):
        cmd = [part.format(**subst) for part in base]
    else:
        cmd = [*base, "serve", "--listen", f"{host}:{port}", "--data-dir", str(data),
               "--config", str(config), "--log-level", args.server_log_level]
    pin_server = args.pin and shutil.which("taskset") is not None
    if pin_server:
        cmd = ["taskset", "-c", str(args.server_cpu), *cmd]
    log_path = workdir / f"server-{port}.log"
    with open(log_path, "wb") as log_fh:
        # taskset execs the server in place: the PID we get is the server's.
        proc = subprocess.Popen(
            cmd, stdout=log_fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=raise_nofile_preexec,
        )
    if args.pin and not pin_server:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(proc.pid, {args.server_cpu})
    run = ServerRun(host, port, proc.pid, log_path, proc)
    try:
        wait_ready(host, port, proc, args.start_timeout)
        yield run
    finally:
        t = time.monotonic()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                log(f"server {proc.pid} ignored SIGTERM for 15 s; killing it")
                proc.kill()
                proc.wait()
            run.stop_s = round(time.monotonic() - t, 3)
        run.exit_code = proc.returncode
        scan_log(log_path, run)


def raise_nofile_preexec() -> None:
    """In the server's child process before exec: allow 10k+ descriptors."""
    raise_nofile()


# --- generators -------------------------------------------------------------------


def gen_params(args: argparse.Namespace, host: str, port: int, pid: int) -> GenParams:
    """The Python generator's parameters from the command line."""
    names = {f.name for f in fields(GenParams)}
    kw = {k: v for k, v in vars(args).items() if k in names and v is not None}
    kw.update(host=host, port=port, server_pid=pid, pin_cpu=args.gen_cpu if args.pin else None)
    return GenParams(**kw)


def run_python(name: str, params: GenParams, timeout: float) -> Result:
    """Run one scenario in a fresh generator process and return its result."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=child_main, args=(name, params, child), daemon=True)
    proc.start()
    child.close()
    res: Result
    if parent.poll(timeout):
        try:
            res = parent.recv()
        except EOFError:
            res = {"ok": False, "error": f"generator exited with {proc.exitcode} and no result"}
    else:
        res = {"ok": False, "error": f"generator gave no result within {timeout:.0f}s"}
    proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join()
    res["generator"] = "python"
    return res


def find_ircbench(given: str) -> str | None:
    """``--ircbench PATH``, else ircbench on PATH, else the shared build next to the repo."""
    if given != "auto":
        return given if os.access(given, os.X_OK) else None
    found = shutil.which("ircbench")
    if found:
        return found
    for cand in (
        REPO.parent / "shared/tools/ircbench/bin/ircbench",
        REPO.parent / "ircbench/bin/ircbench",
    ):
        if os.access(cand, os.X_OK):
            return str(cand)
    return None


def ircbench_args(name: str, p: GenParams, args: argparse.Namespace) -> list[str]:
    """The ircbench flags for one of our scenarios, with the same parameters."""
    if name in ("fanout", "fanout-rate"):
        out = ["-scenario", "fanout", "-clients", str(p.clients), "-senders", str(p.senders),
               "-window", str(p.window), "-size", str(p.size), "-channel", p.channel]
        if name == "fanout":
            out += ["-msgs", str(p.msgs)]
        else:
            out += ["-msgs", str(p.rate_msgs), "-rate", str(p.rate)]
    elif name == "pairs":
        out = ["-scenario", "pairs", "-pairs", str(p.pairs), "-rounds", str(p.rounds),
               "-size", str(p.size)]
    elif name == "connect":
        out = ["-scenario", "connect", "-conns", str(p.conns)]
    else:
        out = ["-scenario", "idle", "-conns", str(p.idle_conns), "-channels", str(p.channels)]
    if args.concurrency is not None:
        out += ["-concurrency", str(args.concurrency)]
    return [*out, "-duration", f"{p.duration}s"]


def run_ircbench(exe: str, name: str, p: GenParams, args: argparse.Namespace) -> Result:
    """Run ircbench for one scenario; its last JSON line is the result."""
    cmd = [exe, "-addr", f"{p.host}:{p.port}", "-label", args.label, *ircbench_args(name, p, args)]
    if p.server_pid:
        cmd += ["-pid", str(p.server_pid)]
    if args.pin and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(args.gen_cpu), *cmd]
    log("  " + shlex.join(cmd))
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=p.duration * 3 + 120,
            preexec_fn=raise_nofile_preexec,
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": "ircbench timed out", "generator": "ircbench"}
    for line in proc.stdout.splitlines():
        if not line.startswith("{"):
            log("  | " + line)
    jsons = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if jsons:
        res: Result = json.loads(jsons[-1])
    else:
        why = f"ircbench printed no JSON (rc={proc.returncode}): {proc.stderr[-300:]}"
        res = {"ok": False, "error": why}
    res["generator"] = "ircbench"
    return res


# --- reporting --------------------------------------------------------------------

#: Per scenario: (headline label, key), then two more columns (label, key).
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "fanout": [("deliveries/s", "deliveries_per_s"), ("p50 ms", "lat_p50_ms"),
               ("p99 ms", "lat_p99_ms")],
    "fanout-rate": [("deliveries/s", "deliveries_per_s"), ("p50 ms", "lat_p50_ms"),
                    ("p99 ms", "lat_p99_ms")],
    "pairs": [("round trips/s", "roundtrips_per_s"), ("p50 ms", "rtt_p50_ms"),
              ("p99 ms", "rtt_p99_ms")],
    "connect": [("registrations/s", "regs_per_s"), ("p50 ms", "reg_p50_ms"),
                ("p99 ms", "reg_p99_ms")],
    "idle": [("KB/conn", "rss_kb_per_conn"), ("RSS before KB", "server_rss_kb_before"),
             ("RSS after KB", "server_rss_kb")],
}
ERROR_KEYS = ("lost", "out_of_order", "gaps", "disconnected", "failed", "stalled")


def problems_of(res: Result) -> str:
    """A short list of what went wrong in one result ('-' when nothing)."""
    bits = [f"{k}={res[k]}" for k in ERROR_KEYS if res.get(k)]
    if res.get("error"):
        bits.append(str(res["error"]))
    if res.get("server_log_problems"):
        bits.append(f"server log: {res['server_log_problems']} problem lines")
    if res.get("server_alive_after") is False:
        bits.append("server died during the run")
    if res.get("server_exit_code") not in (None, 0):
        bits.append(f"server exit {res['server_exit_code']}")
    if (res.get("server_stop_s") or 0) > SLOW_STOP_S:
        bits.append(f"server took {res['server_stop_s']} s to stop")
    return "; ".join(bits) or "-"


def fmt(v: Any) -> str:
    """Numbers with thousands separators; the rest as they are."""
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.1f}" if abs(v) >= 10 else f"{v:.3f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return "-" if v is None else str(v)


def pct(v: Any) -> str:
    """A percentage with one decimal."""
    return f"{v:.1f}" if isinstance(v, int | float) else "-"


def summarise(values: list[Any]) -> str:
    """One number, or the median with [min..max] over repeats."""
    nums = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if not nums:
        return "-"
    if len(nums) == 1:
        return fmt(nums[0])
    return f"{fmt(statistics.median(nums))} [{fmt(min(nums))}..{fmt(max(nums))}]"


def print_table(results: list[Result]) -> None:
    """The human summary: one row per scenario (medians when repeated)."""
    rows = [("scenario", "gen", "runs", "result", "", "", "server CPU%", "gen CPU%",
             "other CPU%", "bound by", "problems")]
    for name in dict.fromkeys(r["profile"] for r in results):
        runs = [r for r in results if r["profile"] == name]
        cells = [f"{label} {summarise([r.get(key) for r in runs])}"
                 for label, key in COLUMNS[name]]
        cpu = [
            pct(statistics.median(vals)) if vals else "-"
            for vals in (
                [r[k] for r in runs if isinstance(r.get(k), int | float)]
                for k in ("server_cpu_pct", "gen_cpu_pct", "other_cpu_pct")
            )
        ]
        verdicts = Counter(str(r["likely_bound"]) for r in runs if r.get("likely_bound"))
        bound = [f"{v} {c}/{len(runs)}" if len(runs) > 1 else v for v, c in verdicts.items()]
        problems = sorted({p for r in runs if (p := problems_of(r)) != "-"})
        rows.append((name, runs[0].get("generator", "?"), str(len(runs)), *cells, *cpu,
                     ", ".join(bound) or "-", "; ".join(problems) or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def human_line(r: Result) -> str:
    """One line per finished scenario, for the progress log."""
    cols = COLUMNS[r["profile"]]
    main = ", ".join(f"{label} {fmt(r.get(key))}" for label, key in cols)
    return f"  {r['profile']}: {main}; ok={r.get('ok')}; problems: {problems_of(r)}"


# --- main ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (defaults in GenParams where not given here)."""
    d = GenParams("", 0)
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all",
                    help="which scenario to run")
    g = ap.add_argument_group("scenario sizes")
    g.add_argument("--clients", type=int, default=d.clients, help="fanout: channel members N")
    g.add_argument("--senders", type=int, default=d.senders, help="fanout: senders S")
    g.add_argument("--msgs", type=int, default=d.msgs, help="fanout: messages per sender M")
    g.add_argument("--window", type=int, default=d.window, help="fanout: in flight per sender W")
    g.add_argument("--size", type=int, default=d.size, help="message text bytes")
    g.add_argument("--rate", type=float, default=d.rate, help="fanout-rate: total msgs/s")
    g.add_argument("--rate-msgs", type=int, default=d.rate_msgs,
                   help="fanout-rate: messages per sender")
    g.add_argument("--pairs", type=int, default=d.pairs, help="pairs: client pairs P")
    g.add_argument("--rounds", type=int, default=d.rounds, help="pairs: round trips per pair")
    g.add_argument("--conns", type=int, default=d.conns, help="connect: connections K")
    g.add_argument("--idle-conns", type=int, default=d.idle_conns, help="idle: connections C")
    g.add_argument("--channels", type=int, default=d.channels, help="idle: channels")
    g.add_argument("--concurrency", type=int, default=None,
                   help=f"registrations in flight at once (Python generator: {d.concurrency})")
    g.add_argument("--duration", type=float, default=d.duration,
                   help="cap in seconds on each measured phase")
    s = ap.add_argument_group("server")
    s.add_argument("--port", type=int, help="use the server already listening on this port")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--server-pid", type=int, default=0,
                   help="with --port: its PID, for CPU%% and RSS")
    s.add_argument("--server-cmd",
                   help="command to start instead of `python -m hubbub`; without {port} "
                        "placeholders the hubbub serve arguments are appended")
    s.add_argument("--sendq", type=int, default=16 * 1024 * 1024,
                   help="sendq_bytes in the generated config")
    s.add_argument("--server-log-level", default="info")
    s.add_argument("--start-timeout", type=float, default=20.0)
    s.add_argument("--label", default="hubbub", help="server name in the JSON")
    s.add_argument("--keep", action="store_true", help="keep the temp dir with the server logs")
    r = ap.add_argument_group("running")
    r.add_argument("--pin", action="store_true",
                   help="server on --server-cpu, generator on --gen-cpu")
    r.add_argument("--server-cpu", type=int, default=0)
    r.add_argument("--gen-cpu", type=int, default=1)
    r.add_argument("--ircbench", nargs="?", const="auto", metavar="PATH",
                   help="use the Go ircbench generator (found on PATH if no PATH given); "
                        "the default whenever ircbench is on PATH")
    r.add_argument("--python-generator", action="store_true",
                   help="use our Python generator even when ircbench is on PATH")
    r.add_argument("--repeat", type=int, default=1,
                   help="run everything N times; the table shows median [min..max]")
    r.add_argument("--json", action="store_true", help="no table, only the JSON lines")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen scenarios; exit 1 if any of them found a problem."""
    args = parse_args(argv)
    ircbench = None
    if args.ircbench is None and not args.python_generator and shutil.which("ircbench"):
        args.ircbench = "auto"  # the rule: ircbench on PATH is used instead
    if args.ircbench:
        ircbench = find_ircbench(args.ircbench)
        if ircbench is None:
            log("ircbench not found (build it: see benchmarks/README.md)")
            return 2
    if args.pin and (os.cpu_count() or 1) < 2:
        log("--pin needs two CPUs; running unpinned")
        args.pin = False
    raise_nofile()
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    workdir = Path(tempfile.mkdtemp(prefix="hubbub-load-"))
    results: list[Result] = []
    try:
        # Repeats are interleaved (all scenarios, then again), so a burst of
        # other load on the machine spreads over scenarios instead of one.
        for rep in range(1, args.repeat + 1):
            for name in names:
                log(f"== {name}" + (f" (run {rep}/{args.repeat})" if args.repeat > 1 else ""))
                res = run_one(name, args, workdir, ircbench)
                res["rep"] = rep
                results.append(res)
                log(human_line(res))
                print(json.dumps(res), flush=True)
    finally:
        if args.keep:
            log(f"server logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if not args.json:
        print()
        print_table(results)
    return 0 if all(problems_of(r) == "-" and r.get("ok") for r in results) else 1


def bound_hint(res: Result, args: argparse.Namespace) -> Result:
    """Say which side was the bottleneck when it is clear (pinned runs only).

    The server process at >= 85% of its CPU is the bottleneck. Otherwise a
    generator CPU at >= 75% busy (its process plus the kernel's loopback work
    charged to that CPU) next to a server well below that means the generator
    is, unless much CPU time went to neither process (other load).
    """
    server = res.get("server_cpu_pct")
    busy = [v for k, v in res.items() if k.startswith("cpu") and k.endswith("_busy_pct")]
    if busy and isinstance(server, int | float) and isinstance(res.get("gen_cpu_pct"), int | float):
        # Everything else the CPUs did: other processes, and kernel work (loopback
        # TCP in softirq) not charged to either process. High = a noisy machine.
        res["other_cpu_pct"] = max(0.0, round(sum(busy) - server - res["gen_cpu_pct"], 1))
    if not args.pin or name_of(res) == "idle":
        return res
    gen_busy = res.get(f"cpu{args.gen_cpu}_busy_pct")
    other = res.get("other_cpu_pct", 0)
    if isinstance(server, int | float) and server >= 85:
        res["likely_bound"] = "server"
    elif isinstance(other, int | float) and other > 30:
        res["likely_bound"] = "unclear (other load)"
    elif isinstance(gen_busy, int | float) and gen_busy >= 75 and (server or 0) < 75:
        res["likely_bound"] = "generator"
    return res


def name_of(res: Result) -> str:
    """The scenario a result belongs to."""
    return str(res.get("profile", ""))


def run_one(name: str, args: argparse.Namespace, workdir: Path, ircbench: str | None) -> Result:
    """One scenario against a fresh server (or the --port one)."""

    def go(host: str, port: int, pid: int) -> Result:
        params = gen_params(args, host, port, pid)
        if ircbench:
            return run_ircbench(ircbench, name, params, args)
        return run_python(name, params, params.duration * 3 + 180)

    meta: Result = {"profile": name, "label": args.label, "pinned": bool(args.pin),
                    "load1_before": os.getloadavg()[0]}
    if args.port:
        res = go(args.host, args.port, args.server_pid)
        return bound_hint({**meta, **res}, args)
    try:
        with start_server(args, workdir) as srv:
            log(f"  server pid {srv.pid} on {srv.host}:{srv.port}")
            res = go(srv.host, srv.port, srv.pid)
            alive = srv.proc is not None and srv.proc.poll() is None
    except RuntimeError as exc:
        return {**meta, "ok": False, "error": str(exc)}
    res = {**meta, **res, "server_alive_after": alive, "server_exit_code": srv.exit_code,
           "server_stop_s": srv.stop_s}
    bound_hint(res, args)
    if srv.problem_count or srv.tracebacks:
        res["server_log_problems"] = srv.problem_count + srv.tracebacks
        res["server_log_warnings_errors"] = srv.problem_count
        res["server_log_tracebacks"] = srv.tracebacks
        res["server_log_excerpt"] = srv.problems[:20]
        for line in srv.problems[:60]:
            log("  server log: " + line)
    return res


if __name__ == "__main__":
    sys.exit(main())
