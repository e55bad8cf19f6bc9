"""One server process: the parts, held together.

The :class:`Server` owns the network state and the pipeline that changes it,
the sessions of the clients connected here, and the services handlers share
(ids, the clock, worker threads, the config and what is rendered from it).
It creates sessions for transports (:meth:`Server.accept`) and hears when
they close. It knows nothing of sockets, asyncio or commands: the app wires
in the transports and the dispatcher (:mod:`.app`).
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from hubbub import __version__
from hubbub.bus.base import Bus
from hubbub.bus.local import LocalBus
from hubbub.config import Config, ConfigError
from hubbub.events import ServerRoomChanged, UserQuit
from hubbub.protocol import Message, casefold
from hubbub.store.base import AccountStore, HistoryStore
from hubbub.store.null import NullAccountStore, NullHistoryStore

from . import caps, rehash
from .admission import Admission
from .delivery import Delivery
from .ids import Ids
from .interfaces import Loop, Transport
from .meters import Meters, loggable_reason
from .monitor import Monitors
from .output import OutputScheduler
from .pipeline import Pipeline
from .recorder import HistoryRecorder
from .registration import Registration
from .session import Session
from .state import Network
from .welcome import Welcome
from .workers import Workers

log = logging.getLogger(__name__)
T = TypeVar("T")

Dispatch = Callable[[Session, Message], None]


def _no_dispatcher(session: Session, msg: Message) -> None:
    raise RuntimeError("Server.dispatch was not set")


class Server:
    """One hubbub server process."""

    def __init__(
        self,
        config: Config,
        loop: Loop,
        *,
        history: HistoryStore | None = None,
        accounts: AccountStore | None = None,
        bus: Bus | None = None,
    ) -> None:
        self.loop = loop
        self.started = time.time()
        self.version = f"hubbub-{__version__}"
        self.ids = Ids()
        #: Wall-clock time for timestamps (timers use the loop's clock).
        self.now: Callable[[], float] = time.time
        self.network = Network()
        self.monitors = Monitors()
        self.history: HistoryStore = history or NullHistoryStore()
        self.accounts: AccountStore = accounts or NullAccountStore()
        self.sessions: set[Session] = set()
        self.admission = Admission()
        self.output = OutputScheduler(loop, before_write=self.history.commit)
        #: Casefolded nicks of the server's own services (NickServ, ChanServ:
        #: the accounts work adds them); their private messages are never kept.
        self.service_nicks: set[str] = set()
        self.workers = Workers(loop)
        #: Commands run, by verb (STATS m, and the metrics).
        self.stats: dict[str, int] = {}
        #: Counters for operators (see :mod:`.meters`): read at scrape time.
        self.meters = Meters()
        self.max_users = 0
        #: Runs one client command; the app sets it (``Dispatcher.run``).
        self.dispatch: Dispatch = _no_dispatcher
        #: Set by the app: how to re-read the config, how to stop, the TLS context.
        self.config_loader: Callable[[], Config] | None = None
        self.stop: Callable[[], None] | None = None
        self.restart_requested = False
        self.tls_context: ssl.SSLContext | None = None
        self.apply_config(config)
        self.delivery = Delivery(self.network, self.monitors, self.name)
        self.recorder = HistoryRecorder(
            self.network, self.history, self.output.wake, self.service_nicks
        )
        self.pipeline = Pipeline(self.delivery, bus or LocalBus(), [self.recorder])
        # The server's rooms exist from the start, before anyone can join.
        # (A bus that replays the network's state must run before this.)
        self.hold_server_rooms()

    # --- configuration -----------------------------------------------------

    def apply_config(self, config: Config) -> None:
        """Take a (new) config: limits, MOTD and ISUPPORT follow it."""
        self.config = config
        self.name = config.server.name
        self.sendq_bytes = config.limits.sendq_bytes
        #: The IRCv3 capabilities this configuration offers.
        self.caps = caps.offered(history=config.history.enabled, search=config.history.search)
        self.welcome = Welcome(config, self.version, self.created_text)

    def rehash(self) -> str | None:
        """Re-read the config file and apply it; the reason it was refused, or None."""
        if self.config_loader is None:
            return "there is no config file to reload (the server runs on defaults)"
        try:
            new = self.config_loader()
        except ConfigError as exc:
            return str(exc)
        refused = rehash.refusal(self.config, new) or rehash.reload_certificate(
            self.tls_context, new
        )
        if refused is not None:
            return refused
        try:
            self.apply_config(new)
        except ConfigError as exc:
            return str(exc)
        self.hold_server_rooms()
        log.info("configuration reloaded", extra={"event": "config.reloaded"})
        return None

    def hold_server_rooms(self) -> None:
        """Make the network's server rooms those of ``server.auto_join``:
        publish a change for each room to take, and for each to let go."""
        network = self.network
        wanted = {casefold(name) for name in self.config.server.auto_join}
        for held in [c for c in network.channels.values() if c.server_room]:
            if held.name_cf not in wanted:
                self._publish_room(held.name, held=False)
        for name in self.config.server.auto_join:
            chan = network.channel(name)
            if chan is None or not chan.server_room:
                self._publish_room(chan.name if chan else name, held=True)

    def _publish_room(self, name: str, *, held: bool) -> None:
        self.pipeline.publish(ServerRoomChanged(*self.stamp(), "", self.name, name, held))

    # --- sessions ----------------------------------------------------------

    def accept(
        self, transport: Transport, ip: str, *, tls: bool = False, framed: bool = False
    ) -> Session | None:
        """A session for a new connection; None (after telling the client)
        when a connection limit is reached."""
        reason = self.admission.refusal(ip, self.config.limits)
        if reason is not None:
            transport.write(f"ERROR :Closing link: [{reason}]\r\n".encode())
            transport.close()
            return None
        registration = Registration(
            password_required=self.config.server.password is not None, started=self.loop.time(),
            uid=self.ids.uid(),
        )  # fmt: skip
        meter = self.meters.transport(tls=tls, framed=framed)
        session = Session(
            self, transport, ip, registration, meter=meter,
            tls=tls, flood_control=self.config.limits.flood_control, framed=framed,
        )  # fmt: skip
        meter.accepted += 1
        self.sessions.add(session)
        self.admission.admit(session.ip)
        log.debug("connection from %s over %s", session.ip, meter.name, extra={
            "event": "client.connected", "client_id": session.client_id, "address": session.ip,
            "transport": meter.name,
        })  # fmt: skip
        return session

    def session_closed(self, session: Session, reason: str) -> None:
        """The deferred half of :meth:`Session.close`: forget it, and if it
        was a user, publish its quit."""
        if session not in self.sessions:
            return
        self.sessions.discard(session)
        self.admission.release(session.ip)
        self.monitors.unwatch_all(session)
        user = session.user
        meter = session.meter
        meter.closed += 1
        if user is not None:
            meter.registered_closed += 1
        self.meters.disconnected(reason)
        self._log_disconnect(session, reason)
        if user is not None and user.present:
            self.pipeline.publish(UserQuit(*self.stamp(), user.uid, user.source, reason))

    def _log_disconnect(self, session: Session, reason: str) -> None:
        """One line per closed connection. A user's leaving is logged as its
        registration was; for a connection that never registered, ordinary
        goodbyes are routine (debug), while cut-offs (timeouts, flood,
        malformed lines) are what an operator needs to explain a vanished
        client."""
        user = session.user
        who = user.source if user is not None else f"unregistered {session.ip}"
        shown = loggable_reason(reason)
        routine = user is None and (reason == "Connection closed" or reason.startswith("Quit"))
        log.log(logging.DEBUG if routine else logging.INFO, "%s disconnected: %s", who, shown,
                extra={"event": "client.disconnected", "client_id": session.client_id,
                       "address": session.ip, "reason": shown,
                       "transport": session.meter.name})  # fmt: skip

    def shutdown(self, reason: str) -> None:
        """Tell every client why and close them all."""
        for session in list(self.sessions):
            session.close(reason)

    def close(self) -> None:
        """Release threads and stores (after shutdown)."""
        self.workers.close()
        self.pipeline.bus.close()
        self.history.close()
        self.accounts.close()

    # --- shared services -----------------------------------------------------

    def stamp(self) -> tuple[str, float]:
        """A new event's msgid and time."""
        now = self.now()
        return self.ids.msgid(now), now

    def run_blocking(self, fn: Callable[[], T], then: Callable[[T], None]) -> None:
        """Run ``fn`` on a worker thread and ``then(result)`` back on the loop."""
        self.workers.run_blocking(fn, then)

    @property
    def created_text(self) -> str:
        """When this server started, for RPL_CREATED."""
        return datetime.fromtimestamp(self.started, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
