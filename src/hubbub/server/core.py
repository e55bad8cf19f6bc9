"""The server: network state, connections, and the services handlers share.

Transports create Connections through :meth:`Server.accept`; Connections hand
parsed messages to :meth:`Server.dispatch`; :meth:`Server.sweep` runs every few
seconds for ping and registration timeouts. Nothing here knows about sockets
or asyncio: the loop is the small :class:`~.connection.Loop` interface.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from hubbub import __version__
from hubbub.config import Config, ConfigError
from hubbub.protocol import Message, isupport_chunks
from hubbub.protocol.numerics import (
    ERR_NOMOTD,
    RPL_CREATED,
    RPL_ENDOFMOTD,
    RPL_ISUPPORT,
    RPL_MOTD,
    RPL_MOTDSTART,
    RPL_MYINFO,
    RPL_YOURHOST,
)

from . import actions, limits
from .commands import COMMANDS
from .connection import Connection, Loop, OutputScheduler, Transport
from .dispatch import run
from .replies import NumericBlock
from .state import PREFIX_ORDER, PREFIXES, Network

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Config keys that need a restart; a reload that changes them is refused.
FIXED_KEYS = ("listen", "tls_listen", "websocket_listen", "name")

#: Channel modes by ISUPPORT CHANMODES class: lists, always-arg, arg-when-set, flags.
CHANMODES = ("beI", "k", "l", "imnst")
USER_MODES = "iowBr"


_second_cache: list[object] = [None, ""]


def server_time(ts: float) -> str:
    """An IRCv3 server-time value: ISO 8601, UTC, milliseconds.

    Every relayed message carries one, so the date part is formatted once per
    second and only the milliseconds are added per message.
    """
    second = int(ts)
    if _second_cache[0] != second:
        _second_cache[0] = second
        _second_cache[1] = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
    millis = int((ts - second) * 1000)
    return f"{_second_cache[1]}{millis:03d}Z"


def default_motd(config: Config) -> list[str]:
    """What a zero-config server greets people with."""
    lines = [f"Welcome to {config.server.network} on {config.server.name}."]
    rooms = config.server.auto_join
    if rooms:
        where = ", ".join(rooms)
        lines.append(f"You are in {where} with everyone else here: just start typing.")
    lines.append("/join #name opens another room, /msg nick text talks privately,")
    lines.append("/help lists the commands. Be kind.")
    return lines


class Server:
    """One hubbub server."""

    def __init__(self, config: Config, loop: Loop) -> None:
        self.loop = loop
        self.network = Network()
        self.connections: set[Connection] = set()
        self.per_ip: dict[str, int] = {}
        self.output = OutputScheduler(loop)
        self.started = time.time()
        self.stats: dict[str, int] = {}
        self.max_users = 0
        self.version = f"hubbub-{__version__}"
        self.commands = COMMANDS
        self._msgid_prefix = secrets.token_hex(4)
        self._msgid_seq = itertools.count(1)
        #: Set by the app: how to re-read the config, how to stop, the TLS context.
        self.config_loader: Callable[[], Config] | None = None
        self.stop: Callable[[], None] | None = None
        self.restart_requested = False
        self.tls_context: ssl.SSLContext | None = None
        self._workers: ThreadPoolExecutor | None = None
        self.apply_config(config)

    def apply_config(self, config: Config) -> None:
        """Take a (new) config: limits, MOTD and ISUPPORT follow it."""
        self.config = config
        self.name = config.server.name
        self.sendq_bytes = config.limits.sendq_bytes
        self.motd = self._load_motd(config)
        self.isupport = self._isupport()
        self.intro = NumericBlock(self.name, self._intro_numerics())
        self.motd_block = NumericBlock(self.name, self._motd_numerics())

    def rehash(self) -> str | None:
        """Re-read the config file and apply it; the reason it was refused, or None.

        Keys that need a restart (listeners, the server name) may not change;
        TLS certificates are reloaded in place, for new connections.
        """
        if self.config_loader is None:
            return "there is no config file to reload (the server runs on defaults)"
        try:
            new = self.config_loader()
        except ConfigError as exc:
            return str(exc)
        for key in FIXED_KEYS:
            if getattr(self.config.server, key) != getattr(new.server, key):
                return f"server.{key} cannot change while running; restart instead"
        if self.tls_context is not None and new.server.tls_cert and new.server.tls_key:
            try:
                self.tls_context.load_cert_chain(
                    str(new.resolve_file(new.server.tls_cert)),
                    str(new.resolve_file(new.server.tls_key)),
                )
            except (OSError, ssl.SSLError) as exc:
                return f"server.tls_cert: cannot load: {exc}"
        try:
            self.apply_config(new)
        except ConfigError as exc:
            return str(exc)
        log.info("configuration reloaded")
        return None

    def run_blocking(
        self, fn: Callable[[], T], then: Callable[[T], None]
    ) -> None:
        """Run ``fn`` on a worker thread (password hashing, disk) and ``then``
        with its result back on the loop thread: the loop never blocks."""
        if self._workers is None:
            self._workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hubbub-work")
        future = self._workers.submit(fn)

        def done(_: Any) -> None:
            self.loop.call_soon_threadsafe(lambda: then(future.result()))

        future.add_done_callback(done)

    def close(self) -> None:
        """Release the worker threads (after shutdown)."""
        if self._workers is not None:
            self._workers.shutdown(wait=False, cancel_futures=True)
            self._workers = None

    def _load_motd(self, config: Config) -> list[str] | None:
        if config.server.motd_file:
            try:
                with open(config.resolve_file(config.server.motd_file), encoding="utf-8") as fh:
                    return fh.read().splitlines()
            except OSError as exc:
                raise ConfigError(
                    str(config.path), "server.motd_file", exc.strerror or str(exc)
                ) from None
        if config.server.motd is not None:
            # motd = "" turns the MOTD off (ERR_NOMOTD), as a missing file would.
            return config.server.motd.splitlines() or None
        return default_motd(config)

    def _intro_numerics(self) -> list[tuple[str, list[str]]]:
        """002-005: the same for every client but for the nick."""
        return [
            (RPL_YOURHOST, [f"Your host is {self.name}, running version {self.version}"]),
            (RPL_CREATED, [f"This server was created {self.created_text}"]),
            (RPL_MYINFO, [self.name, self.version, USER_MODES, "beIiklmnost", "beIklov"]),
            *(
                (RPL_ISUPPORT, [*tokens, "are supported by this server"])
                for tokens in self.isupport
            ),
        ]

    def _motd_numerics(self) -> list[tuple[str, list[str]]]:
        """The MOTD as numerics (or ERR_NOMOTD)."""
        if self.motd is None:
            return [(ERR_NOMOTD, ["MOTD File is missing"])]
        return [
            (RPL_MOTDSTART, [f"- {self.name} Message of the day - "]),
            *((RPL_MOTD, [f"- {line}"]) for line in self.motd),
            (RPL_ENDOFMOTD, ["End of /MOTD command."]),
        ]

    def _isupport(self) -> list[list[str]]:
        prefix = "(" + PREFIX_ORDER + ")" + "".join(PREFIXES[m] for m in PREFIX_ORDER)
        features: dict[str, str | None] = {
            "AWAYLEN": str(limits.AWAYLEN),
            "BOT": "B",
            "CASEMAPPING": "rfc1459",
            "CHANLIMIT": f"#&:{limits.MAX_CHANNELS}",
            "CHANMODES": ",".join(CHANMODES),
            "CHANNELLEN": str(limits.CHANNELLEN),
            "CHANTYPES": "#&",
            # Every client-only tag is relayed: the deny list is empty.
            "CLIENTTAGDENY": "",
            "ELIST": "CMNTU",
            "EXCEPTS": "e",
            "HOSTLEN": str(limits.HOSTLEN),
            "INVEX": "I",
            "KICKLEN": str(limits.KICKLEN),
            "MAXLIST": f"beI:{limits.MAX_LIST}",
            "MODES": str(limits.MAX_PARAM_MODES),
            "MONITOR": str(limits.MONITOR_LIMIT),
            "NETWORK": self.config.server.network,
            "NICKLEN": str(limits.NICKLEN),
            "PREFIX": prefix,
            "SAFELIST": None,
            "STATUSMSG": "@+",
            "TARGMAX": (
                f"NAMES:1,LIST:1,KICK:{limits.MAX_KICK_TARGETS},WHOIS:1,"
                f"PRIVMSG:{limits.MAX_TARGETS},NOTICE:{limits.MAX_TARGETS},JOIN:,PART:"
            ),
            "TOPICLEN": str(limits.TOPICLEN),
            "USERLEN": str(limits.USERLEN),
            "UTF8ONLY": None,
            "WHOX": None,
        }
        return list(isupport_chunks(features))

    # --- connections -----------------------------------------------------

    def accept(self, transport: Transport, ip: str, *, tls: bool = False) -> Connection | None:
        """A new connection; None (after telling the client) when over a limit."""
        limits = self.config.limits
        reason = None
        if len(self.connections) >= limits.max_clients:
            reason = "Too many connections on this server"
        elif self.per_ip.get(ip, 0) >= limits.max_clients_per_ip:
            reason = "Too many connections from your IP address"
        if reason is not None:
            transport.write(f"ERROR :Closing link: [{reason}]\r\n".encode())
            transport.close()
            return None
        conn = Connection(self, transport, ip, tls=tls)
        self.connections.add(conn)
        self.per_ip[ip] = self.per_ip.get(ip, 0) + 1
        return conn

    def dispatch(self, conn: Connection, msg: Message) -> None:
        """Run one client command."""
        run(self, conn, msg, self.commands)

    def connection_closed(self, conn: Connection, reason: str) -> None:
        """The deferred half of :meth:`Connection.close`: remove and announce."""
        if conn not in self.connections:
            return
        self.connections.discard(conn)
        left = self.per_ip.get(conn.ip, 1) - 1
        if left:
            self.per_ip[conn.ip] = left
        else:
            self.per_ip.pop(conn.ip, None)
        self.network.unwatch_all(conn)
        who = conn.user.source if conn.user is not None else f"unregistered {conn.ip}"
        # Ordinary goodbyes are routine; cut-offs (sendq, flood, ping, kill)
        # are what an operator needs to see to explain a vanished client.
        routine = reason == "Connection closed" or reason.startswith("Quit")
        log.log(logging.DEBUG if routine else logging.INFO, "%s disconnected: %s", who, reason)
        if conn.user is not None:
            actions.quit_user(self, conn.user, reason)

    def sweep(self) -> None:
        """Ping idle clients, drop dead ones and those that never register."""
        now = self.loop.time()
        limits = self.config.limits
        for conn in list(self.connections):
            if conn.closing:
                continue
            if not conn.registered:
                if now - conn.created > limits.registration_timeout:
                    conn.close("Registration timed out")
            elif conn.ping_sent is not None:
                if now - conn.ping_sent > limits.ping_interval:
                    conn.close(f"Ping timeout: {int(now - conn.last_recv)} seconds")
            elif now - conn.last_recv > limits.ping_interval:
                conn.ping_sent = now
                conn.send(Message("PING", (self.name,)))

    def shutdown(self, reason: str) -> None:
        """Tell every client why and close them all."""
        for conn in list(self.connections):
            conn.close(reason)

    # --- shared services -------------------------------------------------

    def now(self) -> float:
        """Wall-clock time for timestamps (timers use the loop's clock)."""
        return time.time()

    def message_tags(self) -> dict[str, str]:
        """Fresh ``time`` and ``msgid`` tags for a message we relay."""
        return {
            "time": server_time(self.now()),
            "msgid": f"{self._msgid_prefix}{next(self._msgid_seq):x}",
        }

    @property
    def created_text(self) -> str:
        """When this server started, for RPL_CREATED."""
        return datetime.fromtimestamp(self.started, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
