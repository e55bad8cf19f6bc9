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

from hubbub.config import Config, ConfigError
from hubbub.store.base import HistoryStore
from hubbub.store.null import NullHistoryStore
from hubbub.store.sqlite.database import DatabaseError
from hubbub.store.sqlite.history import SQLiteHistoryStore

from .commands import COMMANDS
from .dispatch import Dispatcher
from .server import Server
from .timeouts import sweep
from .transports.tcp import IRCProtocol

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 2.0
#: Seconds between two rounds of history upkeep (pruning past max_age,
#: purging redacted words from the search index).
MAINTENANCE_INTERVAL = 10.0
#: Events deleted per pruning step; the loop runs other work between steps.
PRUNE_BATCH = 500


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


def open_history(config: Config) -> HistoryStore:
    """The history store the config asks for: the embedded database, or none."""
    if not config.history.enabled:
        return NullHistoryStore()
    path = config.resolve(config.history.database)
    try:
        store = SQLiteHistoryStore.open(path, search=config.history.search)
    except DatabaseError as exc:
        raise ConfigError(
            str(config.path) if config.path else None, "history.database", str(exc)
        ) from None
    log.info("history in %s", path)
    return store


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
    plans = [(a, None) for a in config.server.listen] + [
        (a, tls) for a in config.server.tls_listen
    ]
    for addr, ctx in plans:
        is_tls = ctx is not None
        try:
            listener = await loop.create_server(
                lambda is_tls=is_tls: IRCProtocol(server, tls=is_tls),
                addr.host,
                addr.port,
                ssl=ctx,
                backlog=4096,
                reuse_address=True,
            )
        except OSError as exc:
            for other in listeners:
                other.close()
            raise ConfigError(
                str(config.path) if config.path else None,
                "server.tls_listen" if is_tls else "server.listen",
                f"cannot listen on {addr}: {exc.strerror or exc}",
            ) from None
        listeners.append(listener)
        for sock in listener.sockets:
            host, port = sock.getsockname()[:2]
            bound.append((host, port))
            log.info("listening on %s:%d%s", host, port, " (TLS)" if is_tls else "")
    for addr in config.server.websocket_listen:
        # The contract reserves the key; the transport comes with the web client.
        log.warning("server.websocket_listen: WebSocket is not built yet; nothing listens on %s",
                    addr)  # fmt: skip
    return listeners, bound


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
    server = Server(config, loop, history=open_history(config))
    server.dispatcher = Dispatcher(server, COMMANDS)
    stop = shutdown_trigger or asyncio.Event()
    tls = tls_context(config) if config.server.tls_listen else None
    server.tls_context = tls
    server.config_loader = reload_config
    server.stop = stop.set
    installed = _install_signals(server, stop)
    listeners: list[asyncio.base_events.Server] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        listeners, bound = await _listen(server, config, tls)
        tune_gc()
        tasks = [asyncio.create_task(_sweep(server)), asyncio.create_task(_maintain(server))]
        log.info("hubbub %s ready as %s", server.version, server.name)
        if ready is not None:
            ready(bound)
        await stop.wait()
    finally:
        log.info("shutting down")
        for listener in listeners:
            listener.close()
        for task in tasks:
            task.cancel()
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


async def _maintain(server: Server) -> None:
    """History upkeep in small steps on the loop (the one writer lives here):
    drop what is older than ``[history] max_age``, bring the search index up
    to the last rows, and tidy it after redactions."""
    while True:
        try:
            max_age = server.config.history.max_age
            if max_age > 0:
                cutoff = int((server.now() - max_age) * 1000)
                while server.history.prune(cutoff, PRUNE_BATCH) == PRUNE_BATCH:
                    await asyncio.sleep(0.01)
            server.history.index()
            while server.history.compact():
                await asyncio.sleep(0.01)
        except Exception:
            log.exception("history upkeep failed")
        await asyncio.sleep(MAINTENANCE_INTERVAL)


async def _sweep(server: Server) -> None:
    """Run the ping/registration timeout sweep a few times per interval."""
    period = max(0.5, min(5.0, server.config.limits.ping_interval / 4))
    while True:
        await asyncio.sleep(period)
        try:
            sweep(server)
        except Exception:
            log.exception("timeout sweep failed")
