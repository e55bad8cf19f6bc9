"""Wiring: listeners, the timeout sweep, signals, reload and graceful shutdown.

:func:`serve` runs until ``shutdown_trigger`` is set (tests) or a stop signal
arrives (the command line). Shutdown order, as uvicorn does it: stop
accepting, tell every client why, give the output a moment to drain, then
cut whatever is left.

Signals
-------
SIGINT, SIGTERM and SIGHUP stop the server cleanly; SIGUSR1 reloads the
config, as the REHASH command does. SIGHUP is what a terminal sends when it
closes: a server in the foreground of a terminal must end with it, not live
on as an orphan holding the port. A server that was started with SIGHUP
ignored (``nohup``) keeps it ignored. Service managers reload with SIGUSR1
(systemd: ``ExecReload=kill -USR1 $MAINPID``, or ``Type=notify-reload`` with
``ReloadSignal=SIGUSR1``).

Ready
-----
Start-up does everything before the first client can connect: the signal
handlers are installed, the server's rooms exist, every listener is bound
(a port in use fails the start with nothing half-open), and only then do
all listeners start accepting at once. "ready" in the log, the ``ready``
callback and systemd's ``READY=1`` (:mod:`.notify`) all come after that.
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
from functools import partial
from typing import TYPE_CHECKING, cast

from hubbub.config import Address, Config, ConfigError, LimitsSection
from hubbub.store.base import HistoryStore
from hubbub.web.site import Site

from . import notify
from .archive import Archivable, ClusterHistory
from .cluster import Bootstrap, ClusterNode
from .commands import COMMANDS
from .dispatch import Dispatcher
from .ids import Ids
from .recorder import HistoryRecorder
from .server import Server
from .service_names import SERVICE_NICKS
from .state import Network
from .stores import Stores, open_stores
from .timeouts import sweep
from .transports.base import SOCKET_QUEUE
from .transports.client_certs import accept_any_client_certificate
from .transports.tcp import IRCProtocol, TLSProtocol
from .transports.websocket import WebConnection

if TYPE_CHECKING:
    from hubbub.bus.archiver import Archiver
    from hubbub.bus.redis import RedisBus
    from hubbub.ops.service import Operations

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
            log.warning("could not raise the open files limit from %d: %s", soft, exc,
                        extra={"event": "process.fd_limit_kept", "reason": str(exc)})
            return
        log.info("raised the open files limit from %d to %d", soft, hard,
                 extra={"event": "process.fd_limit_raised"})


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
    """A server TLS context from the certificate and key (see
    :meth:`Config.tls_files`); a ConfigError that says what to do if they
    cannot be loaded."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert, key = config.tls_files()
    file = str(config.path) if config.path else None
    if config.server.tls_cert is None and not cert.exists():
        raise ConfigError(
            file, "server.tls_cert",
            f"not set, and {cert} does not exist: set server.tls_cert and server.tls_key, "
            "or run `hubbub cert` to make a self-signed certificate there",
        )  # fmt: skip
    try:
        ctx.load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(file, "server.tls_cert", f"cannot load {cert}: {exc}") from None
    return ctx


async def _bind(
    server: Server, config: Config, tls: ssl.SSLContext | None, web_tls: ssl.SSLContext | None
) -> tuple[list[asyncio.base_events.Server], list[tuple[str, int]]]:
    """Bind every configured listener, not yet accepting (see :func:`serve`);
    the listeners and the addresses bound."""
    listeners: list[asyncio.base_events.Server] = []
    bound: list[tuple[str, int]] = []
    section = config.server
    site = Site.load() if section.websocket_listen else None
    plans: list[tuple[str, Address, Callable[[], asyncio.Protocol], ssl.SSLContext | None]] = [
        ("server.listen", a, lambda: IRCProtocol(server), None) for a in section.listen
    ]
    plans += [
        ("server.tls_listen", a, lambda: TLSProtocol(server), tls)
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
    # A TLS handshake is part of registering: it gets no more time than the
    # whole of it (fixed at start; a reload changes the registration part).
    handshake = config.limits.registration_timeout
    for key, addr, factory, ctx in plans:
        try:
            listener = await _listen(
                config, key, addr, factory, ctx, start=False,
                handshake=handshake if ctx is not None else None,
            )  # fmt: skip
        except ConfigError:
            for other in listeners:
                other.close()
            raise
        listeners.append(listener)
        bound += _bound(listener, key, ctx)
    if site is not None:
        log.info("web client: %d files, %d bytes", len(site.assets) - 1, site.size,
                 extra={"event": "web.loaded"})
    return listeners, bound


async def _listen(
    config: Config, key: str, addr: Address, factory: Callable[[], asyncio.Protocol],
    ctx: ssl.SSLContext | None, *, start: bool, handshake: float | None = None,
) -> asyncio.base_events.Server:  # fmt: skip
    """One listener on ``addr``; a ConfigError naming ``key`` if the address
    cannot be had (in use, not ours)."""
    loop = asyncio.get_running_loop()
    try:
        return await loop.create_server(
            factory, addr.host, addr.port,
            ssl=ctx, backlog=4096, reuse_address=True, start_serving=start,
            ssl_handshake_timeout=handshake,
        )  # fmt: skip
    except OSError as exc:
        raise ConfigError(
            str(config.path) if config.path else None,
            key,
            f"cannot listen on {addr}: {exc.strerror or exc}",
        ) from None


def _bound(
    listener: asyncio.base_events.Server, key: str, ctx: ssl.SSLContext | None
) -> list[tuple[str, int]]:
    """The addresses ``listener`` holds, each logged."""
    bound = []
    for sock in listener.sockets:
        host, port = sock.getsockname()[:2]
        bound.append((host, port))
        log.info("bound %s:%d%s", host, port, _describe(key, ctx, host, port),
                 extra={"event": "server.bound", "listener": key, "port": port})  # fmt: skip
    return bound


async def _start_operations(
    server: Server, config: Config, stores: Stores
) -> Operations | None:
    """The operations listener (``[metrics] listen``), serving at once, before
    the IRC listeners are even bound: /healthz answers during start-up and
    /readyz says "starting" until everything accepts. None when not configured."""
    addr = config.metrics.listen
    if addr is None:
        return None
    # Imported here: a server without metrics does not load prometheus_client.
    from hubbub.ops.service import Operations

    ops = Operations(server, stores.database, stores.file)
    listener = await _listen(config, "metrics.listen", addr, ops.protocol, None, start=True)
    _bound(listener, "metrics.listen", None)
    ops.start(listener)
    return ops


def _describe(key: str, ctx: ssl.SSLContext | None, host: str, port: int) -> str:
    """What a listener serves, for its log line."""
    if key == "metrics.listen":
        return " (/metrics, /healthz, /readyz)"
    if key != "server.websocket_listen":
        return " (TLS)" if ctx is not None else ""
    scheme = "https" if ctx is not None else "http"
    shown = "localhost" if host in ("0.0.0.0", "::", "127.0.0.1", "::1") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f" (web client at {scheme}://{shown}:{port}/ and IRC over WebSocket)"


#: The signal that reloads the config (as REHASH does); SIGHUP stops instead.
RELOAD_SIGNAL = signal.SIGUSR1
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _install_signals(server: Server, stop: asyncio.Event) -> list[signal.Signals]:
    """Stop on SIGINT/SIGTERM/SIGHUP, reload on SIGUSR1 (see the module docstring)."""
    loop = asyncio.get_running_loop()

    def reload() -> None:
        notify.notify(*notify.reloading())
        refused = server.rehash()
        if refused is not None:
            log.error("reload refused: %s", refused,
                      extra={"event": "config.reload_refused", "reason": refused})
        notify.notify(notify.READY)

    def stop_on(sig: signal.Signals) -> None:
        if sig == signal.SIGHUP:
            # Say so: someone used to `kill -HUP` for a reload learns the new way.
            log.info("hangup (SIGHUP: the terminal closed): shutting down; "
                     "SIGUSR1 is the signal that reloads",
                     extra={"event": "server.stop_requested", "signal": sig.name})  # fmt: skip
        else:
            log.info("asked to stop (%s): shutting down", sig.name,
                     extra={"event": "server.stop_requested", "signal": sig.name})
        stop.set()

    installed: list[signal.Signals] = []
    handlers: list[tuple[signal.Signals, Callable[[], None]]] = [
        *((sig, partial(stop_on, sig)) for sig in STOP_SIGNALS),
        (RELOAD_SIGNAL, reload),
    ]
    for sig, handler in handlers:
        if sig == signal.SIGHUP and signal.getsignal(sig) == signal.SIG_IGN:
            log.info("SIGHUP is ignored (nohup): the server outlives its terminal",
                     extra={"event": "server.sighup_ignored"})
            continue
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

    Everything is in place before any port accepts (see "Ready" in the
    module docstring), so a signal sent the moment a client can connect is
    handled, never fatal. Returns True when an operator asked for a
    RESTART (the caller re-executes).
    """
    loop = asyncio.get_running_loop()
    raise_fd_limit()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    section = config.server
    # IRC over TLS asks clients for a certificate (SASL EXTERNAL); the web
    # listeners (https, wss, whenever the server has a certificate) have a
    # context of their own that does not, so browsers never prompt for one.
    tls = tls_context(config) if section.tls_listen else None
    web_tls = tls_context(config) if section.websocket_listen and section.tls_cert else None
    stores = open_stores(config)
    bus: RedisBus | None = None
    archiver: Archiver | None = None
    try:
        network, history = None, stores.history
        if config.cluster.enabled:
            bus, network, archiver = await join_cluster(config, stores.history)
            if archiver is not None:
                history = archiver.history
        server = Server(
            config, loop, history=history, accounts=stores.accounts,
            channels=stores.channels, bus=bus, network=network,
            ids=Ids(bus.prefix) if bus is not None else None,
        )  # fmt: skip
    except BaseException:
        if bus is not None:
            await bus.leave()
        stores.close()
        raise
    if bus is not None:
        bus.serve(ClusterNode(server))
        server.membership = bus
    server.dispatch = Dispatcher(server, COMMANDS).run
    stop = shutdown_trigger or asyncio.Event()
    server.tls_contexts = [c for c in (tls, web_tls) if c is not None]
    if tls is not None and server.accounts.enabled:
        # Client certificates log in with SASL EXTERNAL: ask TLS clients for one.
        why_not = accept_any_client_certificate(tls)
        if why_not is None:
            server.client_certificates = True
            server.offer_caps()
        else:
            log.warning("TLS client certificates are off (no SASL EXTERNAL): %s", why_not,
                        extra={"event": "tls.client_certificates_off", "reason": why_not})
    server.kernel = SOCKET_QUEUE  # the sendq counts what the sockets' kernel holds
    server.config_loader = reload_config
    server.stop = stop.set
    installed = _install_signals(server, stop)
    listeners: list[asyncio.base_events.Server] = []
    tasks: list[asyncio.Task[None]] = []
    operations = None
    try:
        operations = await _start_operations(server, config, stores)
        listeners, bound = await _bind(server, config, tls, web_tls)
        tune_gc()
        tasks = [asyncio.create_task(_sweep(server)), asyncio.create_task(_maintain(server))]
        if archiver is not None:
            tasks.append(asyncio.create_task(archiver.run()))
        for listener in listeners:
            await listener.start_serving()
        if operations is not None:
            operations.accepting(listeners)
        where = ", ".join(f"{host}:{port}" for host, port in bound) or "nothing"
        log.info("hubbub %s ready as %s, listening on %s", server.version, server.name, where,
                 extra={"event": "server.ready", "version": server.version})
        notify.notify(notify.READY, f"STATUS=listening on {where}")
        if ready is not None:
            ready(bound)
        await stop.wait()
    finally:
        log.info("shutting down", extra={"event": "server.stopping"})
        notify.notify(notify.STOPPING)
        if operations is not None:
            operations.stopping()
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
        if bus is not None:
            await bus.leave()
        if operations is not None:
            # Last to go: /readyz said "stopping" through the whole drain.
            await operations.close()
        server.close()
        stores.close()
        log.info("stopped", extra={"event": "server.stopped"})
    return server.restart_requested


async def join_cluster(
    config: Config, store: HistoryStore
) -> tuple[RedisBus, Network, Archiver | None]:
    """Join the cluster of ``[cluster]``: the bus, the network as the log
    has it up to this node's arrival (the latest snapshot, then the entries
    after it), before the server is built on it, and with history on the
    archiver, whose history has recorded those entries already."""
    section = config.cluster
    file = str(config.path) if config.path else None
    try:
        from hubbub.bus.redis import RedisBus, RedisError
    except ImportError:
        raise ConfigError(file, "cluster.redis", "cluster mode needs redis-py: "
                          "pip install 'hubbub[redis]'") from None  # fmt: skip
    bus = RedisBus(section, config.server.name, config.server.network)
    network = Network()
    archiver = cluster_archive(store, bus) if config.history.enabled else None
    record = None
    if archiver is not None:
        unrecorded = set(SERVICE_NICKS) if config.accounts.enabled else set()
        record = HistoryRecorder(network, archiver.history, _nothing, unrecorded).record
    boot = Bootstrap(network, record)
    bus.attach(boot.receive)
    try:
        await bus.connect()
        fresh = await bus.join(boot)
    except (RedisError, OSError) as exc:
        why = f"cannot join the log at {section.redis_shown}: {exc}"
        raise ConfigError(file, "cluster.redis", why) from None
    log.info(
        "cluster: node %s (server %s) joined network %s at %s: %s log, epoch %d, entry %s, "
        "%d node(s), %d user(s), %d channel(s)",
        section.node, config.server_name, bus.keys.prefix.rstrip(":"), section.redis_shown,
        "a new" if fresh else "the existing", bus.epoch, bus.position(), len(network.nodes),
        len(network.users), len(network.channels),
    extra={"event": "cluster.joined"})  # fmt: skip
    if archiver is not None:
        # Recorded from the entry after the snapshot it started from.
        archiver.history.since = bus.loaded_from + 1
    return bus, network, archiver


def _nothing() -> None:
    pass


def cluster_archive(store: HistoryStore, bus: RedisBus) -> Archiver:
    """History on a cluster node: PostgreSQL (the config refused anything
    else), filled from every node's records by the one holding the archiver
    role (docs/cluster.md)."""
    from hubbub.bus.archiver import Archiver

    history = ClusterHistory(
        cast(Archivable, store), lambda: (bus.number, bus.entry_id), bus.keys.prefix + "archived"
    )
    return Archiver(bus, history)


async def _maintain(server: Server) -> None:
    """History upkeep in small steps on the loop (the one writer lives here):
    drop what is older than ``[history] max_age``, bring the search index up
    to the last rows, and tidy it after redactions."""
    while True:
        try:
            max_age = server.config.history.max_age
            if max_age > 0:
                cutoff = int((server.now() - max_age) * 1000)
                while await _prune(server, cutoff) == PRUNE_BATCH:
                    await asyncio.sleep(0.01)
            server.history.index()
            while server.history.compact():
                await asyncio.sleep(0.01)
        except Exception:
            log.exception("history upkeep failed", extra={"event": "history.upkeep_failed"})
        await asyncio.sleep(MAINTENANCE_INTERVAL)


def sweep_period(limits: LimitsSection) -> float:
    """Seconds between timeout sweeps: a quarter of the ping interval and a
    tenth of the registration timeout (so a connection that never registers
    is closed within 10% of it), at most 5 s, at least 0.5 s."""
    return max(0.5, min(5.0, limits.ping_interval / 4, limits.registration_timeout / 10))


async def _prune(server: Server, cutoff: int) -> int:
    """One pruning step: on the loop (SQLite: its writer lives there), or on
    a worker thread when it waits on the network (PostgreSQL)."""
    history = server.history
    if not history.upkeep_blocks:
        return history.prune(cutoff, PRUNE_BATCH)
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def answer(pruned: int | Exception) -> None:
        if not done.done():
            done.set_result(0 if isinstance(pruned, Exception) else pruned)
        if isinstance(pruned, Exception):
            log.error("history upkeep failed: %s", pruned,
                      extra={"event": "history.upkeep_failed", "reason": str(pruned)})

    def step() -> int | Exception:
        try:
            return history.prune(cutoff, PRUNE_BATCH)
        except Exception as exc:  # a DatabaseError: PostgreSQL away; next round
            return exc

    server.run_blocking(step, answer)
    return await done


async def _sweep(server: Server) -> None:
    """Run the ping/registration timeout sweep a few times per interval."""
    period = sweep_period(server.config.limits)
    while True:
        await asyncio.sleep(period)
        try:
            sweep(server)
        except Exception:
            log.exception("timeout sweep failed", extra={"event": "server.sweep_failed"})
