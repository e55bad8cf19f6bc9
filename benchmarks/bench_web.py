"""The web side, measured: WebSocket fan-out against TCP, page load, client size.

    .venv/bin/python benchmarks/bench_web.py --pin              # everything
    .venv/bin/python benchmarks/bench_web.py --pin --repeat 5 --clients 1000
    .venv/bin/python benchmarks/bench_web.py --skip-page        # no browser

1. **Fan-out, WebSocket vs TCP.** One ``hubbub serve`` with a TCP and a web
   listener; ``load.py``'s ``fanout`` scenario (N members of one channel, S
   senders, a window of W messages in flight, every delivery checked for order
   and loss) runs over TCP and over WebSocket (``loadkit.WSClient``), the two
   interleaved, ``--repeat`` times each, against the same server process. It
   prints the deliveries/s of each run, the medians and WS/TCP.
2. **Page load.** Debian's Chromium (headless, via Playwright) opens
   ``/?nick=...`` (which joins at once) ``--loads`` times; the time from
   navigation to the first chat line on screen, median and max.
3. **Size.** The client's shipped files, uncompressed and gzipped.

Numbers only: nothing here passes or fails. Quote medians and ratios (the
machine is shared and noisy); ``--pin`` puts the server on CPU 0 and the
generator on CPU 1.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # the benchmarks folder is not a package: found through sys.path
from loadkit import GenParams

CHROMIUM = "/usr/bin/chromium"


def wait_listening(host: str, port: int, timeout: float = 10.0) -> None:
    """Until something accepts on host:port (the web listener opens last)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def fanout(args: argparse.Namespace, workdir: Path) -> dict[str, list[float]]:
    """deliveries/s per run, and the server's CPU µs per delivery, by transport
    (``tcp``, ``ws``, ``tcp_cpu_us``, ``ws_cpu_us``). When the generator is
    the bottleneck (server CPU well under 100%), deliveries/s are alike and
    the CPU cost per delivery is the server's difference."""
    web_port = load.free_port(args.host)
    largs = load.parse_args(["--host", args.host] + (["--pin"] if args.pin else []))
    largs.server_cmd = (
        f"{sys.executable} -m hubbub serve --listen {{host}}:{{port}} --web {args.host}:{web_port}"
        " --data-dir {data_dir} --config {config} --log-level warning"
    )
    results: dict[str, list[float]] = {"tcp": [], "ws": [], "tcp_cpu_us": [], "ws_cpu_us": []}
    with load.start_server(largs, workdir) as run:
        wait_listening(args.host, web_port)
        base = load.gen_params(largs, run.host, run.port, run.pid)
        base = replace(
            base, clients=args.clients, senders=args.senders, msgs=args.msgs,
            window=args.window, size=args.size, duration=args.duration,
        )  # fmt: skip
        for i in range(args.repeat):
            order = ("tcp", "ws") if i % 2 == 0 else ("ws", "tcp")
            for transport in order:
                params: GenParams = replace(
                    base, web_port=web_port if transport == "ws" else 0, channel=f"#b{i}{transport}"
                )
                res = load.run_python("fanout", params, args.duration + 120)
                ok = res.get("ok")
                if args.verbose:
                    load.log(json.dumps(res))
                rate = float(res.get("deliveries_per_s", 0.0))
                load.log(
                    f"fanout {transport:3} run {i + 1}: {rate:,.0f} deliveries/s"
                    f" (server CPU {res.get('server_cpu_pct', '?')}%,"
                    f" p50 {res.get('lat_p50_ms', '?')} ms) {'ok' if ok else res.get('error', res)}"
                )
                if ok:
                    results[transport].append(rate)
                    cpu = res.get("server_cpu_pct")
                    if isinstance(cpu, int | float) and rate:
                        results[f"{transport}_cpu_us"].append(round(cpu / 100 / rate * 1e6, 3))
    return results


def page_load(args: argparse.Namespace, workdir: Path) -> list[float]:
    """Seconds from navigation to the first chat line on screen, per load."""
    from playwright.sync_api import sync_playwright

    web_port = load.free_port(args.host)
    largs = load.parse_args(["--host", args.host])
    largs.server_cmd = (
        f"{sys.executable} -m hubbub serve --listen {{host}}:{{port}} --web {args.host}:{web_port}"
        " --data-dir {data_dir} --log-level warning"
    )
    times: list[float] = []
    with load.start_server(largs, workdir), sync_playwright() as pw:
        wait_listening(args.host, web_port)
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )  # fmt: skip
        for i in range(args.loads):
            context = browser.new_context()  # a cold cache every time
            page = context.new_page()
            t0 = time.monotonic()
            page.goto(f"http://{args.host}:{web_port}/?nick=loader{i}", wait_until="commit")
            page.wait_for_selector("#log .line", state="visible")
            times.append(time.monotonic() - t0)
            context.close()
        browser.close()
    return times


def client_size() -> tuple[int, int]:
    """The shipped files' bytes: as they are, and as gzip sends them."""
    from hubbub.web.site import Site

    site = Site.load()
    files = {p: a for p, a in site.assets.items() if p != "/"}
    raw = sum(len(a.body) for a in files.values())
    packed = sum(len(a.gzipped or a.body) for a in files.values())
    return raw, packed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=1000, help="channel members N")
    ap.add_argument("--senders", type=int, default=10, help="senders S")
    ap.add_argument("--msgs", type=int, default=100, help="messages per sender M")
    ap.add_argument("--window", type=int, default=16, help="in flight per sender W")
    ap.add_argument("--size", type=int, default=64, help="message text bytes")
    ap.add_argument("--duration", type=float, default=60.0, help="cap per run (s)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per transport")
    ap.add_argument("--loads", type=int, default=5, help="page loads")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--pin", action="store_true", help="server on CPU 0, generator on CPU 1")
    ap.add_argument("--skip-fanout", action="store_true")
    ap.add_argument("--verbose", action="store_true", help="print each run's whole result")
    ap.add_argument("--skip-page", action="store_true")
    args = ap.parse_args(argv)
    summary: dict[str, object] = {}
    raw, packed = client_size()
    summary["client_bytes"] = raw
    summary["client_gzip_bytes"] = packed
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        workdir = Path(tmp)
        if not args.skip_fanout:
            rates = fanout(args, workdir)
            fan: dict[str, object] = {
                "clients": args.clients, "senders": args.senders, "msgs": args.msgs,
                "window": args.window, **rates,
            }  # fmt: skip
            if rates["tcp"] and rates["ws"]:
                tcp, ws = statistics.median(rates["tcp"]), statistics.median(rates["ws"])
                fan.update(tcp_median=tcp, ws_median=ws, ws_over_tcp=round(ws / tcp, 3))
            if rates["tcp_cpu_us"] and rates["ws_cpu_us"]:
                tcpu = statistics.median(rates["tcp_cpu_us"])
                wcpu = statistics.median(rates["ws_cpu_us"])
                fan.update(
                    tcp_cpu_us_median=tcpu,
                    ws_cpu_us_median=wcpu,
                    cpu_tcp_over_ws=round(tcpu / wcpu, 3),
                )
            summary["fanout"] = fan
        if not args.skip_page:
            if Path(CHROMIUM).exists():
                times = page_load(args, workdir)
                summary["page_load_s"] = {
                    "median": round(statistics.median(times), 3), "max": round(max(times), 3),
                    "runs": [round(t, 3) for t in times],
                }  # fmt: skip
            else:
                load.log("no Chromium at /usr/bin/chromium: page load not measured")
    print(json.dumps(summary))
    print()
    print(f"web client: {raw:,} bytes shipped ({packed:,} gzipped)")
    result = summary.get("fanout")
    if isinstance(result, dict) and "ws_over_tcp" in result:
        fan = result
        print(
            f"fan-out to {fan['clients']} members: TCP {fan['tcp_median']:,.0f} deliveries/s,"
            f" WebSocket {fan['ws_median']:,.0f} deliveries/s: WS/TCP = {fan['ws_over_tcp']}"
        )
        if "cpu_tcp_over_ws" in fan:
            print(
                f"server CPU per delivery: TCP {fan['tcp_cpu_us_median']} µs, WebSocket"
                f" {fan['ws_cpu_us_median']} µs: deliveries per CPU second, WS/TCP ="
                f" {fan['cpu_tcp_over_ws']}"
            )
    page = summary.get("page_load_s")
    if isinstance(page, dict):
        print(f"page load to first chat line: median {page['median']} s, max {page['max']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
