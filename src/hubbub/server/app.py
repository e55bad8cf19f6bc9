"""Wiring: listeners, the timeout sweep, signals, reload and graceful shutdown.

:func:`serve` runs until ``shutdown_trigger`` is set (tests) or SIGINT/SIGTERM
arrives (the command line). Shutdown order, as uvicorn does it: stop
accepting, tell every client why, give the output a moment to drain, then
cut whatever is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import resource
import signal
import ssl
from collections.abc import Callable

from hubbub.config import Address, Config, ConfigError
from hubbub.web.site import Site

from .commands import COMMANDS
from .dispatch import Dispatcher
from .server import Server
from .timeouts import sweep
from .transports.tcp import IRCProtocol
from .transports.websocket import WebConnection

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 2.0


def raise_fd_limit() -> None:
    """Lift the soft open-files limit to the hard one (10k clients need it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open files limit from %d: %s", soft, exc)
            return
        log.info("raised the open files limit from %d to %d", soft, hard)


def tune_gc() -> None:
    """Keep the cyclic garbage collector off the latency path.

    Everything loaded at start (modules, config, tables) lives forever:
    ``gc.freeze()`` takes it out of every future collection. Chat traffic
    allocates many short-lived, acyclic objects (messages, tag dicts), so a
    larger first-generation threshold means far fewer collections for the same
    work; reference counting frees them anyway.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def tls_context(config: Config) -> ssl.SSLContext:
    """A server TLS context from ``server.tls_cert``/``tls_key``."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert, key = config.server.tls_cert, config.server.tls_key
    assert cert is not None and key is not None
    try:
        ctx.load_cert_chain(str(config.resolve_file(cert)), str(config.resolve_file(key)))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(str(config.path), "server.tls_cert", f"cannot load: {exc}") from None
    return ctx


async def _listen(
    server: Server, config: Config, tls: ssl.SSLContext | None
) -> tuple[list[asyncio.base_events.Server], list[tuple[str, int]]]:
    """Open every configured listener; the listeners and the addresses bound."""
    loop = asyncio.get_running_loop()
    listeners: list[asyncio.base_events.Server] = []
    bound: list[tuple[str, int]] = []
    section = config.server
    # The web listeners speak TLS (https, wss) whenever the server has a certificate.
    web_tls = tls if section.tls_cert else None
    site = Site.load() if section.websocket_listen else None
    plans: list[tuple[str, Address, Callable[[], asyncio.Protocol], ssl.SSLContext | None]] = [
        ("server.listen", a, lambda: IRCProtocol(server), None) for a in section.listen
    ]
    plans += [
        ("server.tls_listen", a, lambda: IRCProtocol(server, tls=True), tls)
        for a in section.tls_listen
    ]
    if site is not None:
        settings = lambda: server.config.server  # noqa: E731 (read live: a reload changes origins)
        is_tls = web_tls is not None
        plans += [
            ("server.websocket_listen", a,
             lambda: WebConnection(server, site, settings, tls=is_tls), web_tls)
            for a in section.websocket_listen
        ]  # fmt: skip
    for key, addr, factory, ctx in plans:
        try:
            listener = await loop.create_server(
                factory, addr.host, addr.port, ssl=ctx, backlog=4096, reuse_address=True
            )
        except OSError as exc:
            for other in listeners:
                other.close()
            raise ConfigError(
                str(config.path) if config.path else None,
                key,
                f"cannot listen on {addr}: {exc.strerror or exc}",
            ) from None
        listeners.append(listener)
        for sock in listener.sockets:
            host, port = sock.getsockname()[:2]
            bound.append((host, port))
            log.info("listening on %s:%d%s", host, port, _describe(key, ctx, host, port))
    if site is not None:
        log.info("web client: %d files, %d bytes", len(site.assets) - 1, site.size)
    return listeners, bound


def _describe(key: str, ctx: ssl.SSLContext | None, host: str, port: int) -> str:
    """What a listener serves, for its log line."""
    if key != "server.websocket_listen":
        return " (TLS)" if ctx is not None else ""
    scheme = "https" if ctx is not None else "http"
    shown = "localhost" if host in ("0.0.0.0", "::", "127.0.0.1", "::1") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f" (web client at {scheme}://{shown}:{port}/ and IRC over WebSocket)"


def _install_signals(server: Server, stop: asyncio.Event) -> list[signal.Signals]:
    """SIGINT/SIGTERM stop the server, SIGHUP reloads its config."""
    loop = asyncio.get_running_loop()

    def reload() -> None:
        refused = server.rehash()
        if refused is not None:
            log.error("reload refused: %s", refused)

    installed: list[signal.Signals] = []
    for sig, handler in (
        (signal.SIGINT, stop.set),
        (signal.SIGTERM, stop.set),
        (signal.SIGHUP, reload),
    ):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, handler)
            installed.append(sig)
    return installed


async def serve(
    config: Config,
    *,
    shutdown_trigger: asyncio.Event | None = None,
    reload_config: Callable[[], Config] | None = None,
    ready: Callable[[list[tuple[str, int]]], None] | None = None,
) -> bool:
    """Run a server until ``shutdown_trigger`` is set or a stop signal comes.

    Signal handlers are installed before any port opens, so a signal sent
    the moment a client can connect is handled, never fatal. Returns True
    when an operator asked for a RESTART (the caller re-executes).
    """
    loop = asyncio.get_running_loop()
    raise_fd_limit()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    server = Server(config, loop)
    server.dispatch = Dispatcher(server, COMMANDS).run
    stop = shutdown_trigger or asyncio.Event()
    section = config.server
    wants_tls = section.tls_listen or (section.websocket_listen and section.tls_cert)
    tls = tls_context(config) if wants_tls else None
    server.tls_context = tls
    server.config_loader = reload_config
    server.stop = stop.set
    installed = _install_signals(server, stop)
    listeners: list[asyncio.base_events.Server] = []
    sweeper: asyncio.Task[None] | None = None
    try:
        listeners, bound = await _listen(server, config, tls)
        tune_gc()
        sweeper = asyncio.create_task(_sweep(server))
        log.info("hubbub %s ready as %s", server.version, server.name)
        if ready is not None:
            ready(bound)
        await stop.wait()
    finally:
        log.info("shutting down")
        for listener in listeners:
            listener.close()
        if sweeper is not None:
            sweeper.cancel()
        server.shutdown("Server restarting" if server.restart_requested else "Server shutting down")
        server.output.flush()
        deadline = loop.time() + SHUTDOWN_GRACE
        while server.sessions and loop.time() < deadline:
            await asyncio.sleep(0.05)
        for sig in installed:
            loop.remove_signal_handler(sig)
        server.close()
        log.info("stopped")
    return server.restart_requested


async def _sweep(server: Server) -> None:
    """Run the ping/registration timeout sweep a few times per interval."""
    period = max(0.5, min(5.0, server.config.limits.ping_interval / 4))
    while True:
        await asyncio.sleep(period)
        try:
            sweep(server)
        except Exception:
            log.exception("timeout sweep failed")
