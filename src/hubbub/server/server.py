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

from . import rehash
from .admission import Admission
from .delivery import Delivery
from .ids import Ids
from .interfaces import NO_KERNEL, KernelQueue, Loop, Transport
from .monitor import Monitors
from .output import OutputScheduler
from .pipeline import Pipeline
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
        self.workers = Workers(loop)
        self.stats: dict[str, int] = {}
        self.max_users = 0
        #: Runs one client command; the app sets it (``Dispatcher.run``).
        self.dispatch: Dispatch = _no_dispatcher
        #: Set by the app: how to re-read the config, how to stop, the TLS context.
        self.config_loader: Callable[[], Config] | None = None
        self.stop: Callable[[], None] | None = None
        self.restart_requested = False
        self.tls_context: ssl.SSLContext | None = None
        #: The kernel's send queue below the transports, counted in the sendq;
        #: the app sets the sockets' (``transports/base.py``).
        self.kernel: KernelQueue = NO_KERNEL
        self.apply_config(config)
        self.delivery = Delivery(self.network, self.monitors, self.name)
        self.pipeline = Pipeline(self.delivery, bus or LocalBus(), [self.history])
        # The server's rooms exist from the start, before anyone can join.
        # (A bus that replays the network's state must run before this.)
        self.hold_server_rooms()

    # --- configuration -----------------------------------------------------

    def apply_config(self, config: Config) -> None:
        """Take a (new) config: limits, MOTD and ISUPPORT follow it."""
        self.config = config
        self.name = config.server.name
        self.sendq_bytes = config.limits.sendq_bytes
        for session in self.sessions:
            session.caught_up()  # each session's limit follows the new sendq
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
        log.info("configuration reloaded")
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
        self,
        transport: Transport,
        ip: str,
        *,
        tls: bool = False,
        framed: bool = False,
        started: float | None = None,
    ) -> Session | None:
        """A session for a new connection; None (after telling the client)
        when a connection limit is reached. ``started``: when the connection
        was accepted, if that was before now (a TLS or HTTP handshake came
        first); the registration timeout counts from then."""
        reason = self.admission.refusal(ip, self.config.limits)
        if reason is not None:
            # Not INFO: a connection flood would write one line per attempt.
            log.debug("refused a connection from %s: %s", ip, reason)
            transport.write(f"ERROR :Closing link: [{reason}]\r\n".encode())
            transport.close()
            return None
        registration = Registration(
            password_required=self.config.server.password is not None,
            started=self.loop.time() if started is None else started,
        )
        session = Session(
            self, transport, ip, registration,
            tls=tls, flood_control=self.config.limits.flood_control, framed=framed,
        )  # fmt: skip
        self.sessions.add(session)
        self.admission.admit(session.ip)
        return session

    def session_closed(self, session: Session, reason: str) -> None:
        """The deferred half of :meth:`Session.close`: forget it, and if it
        was a user, publish its quit."""
        if session not in self.sessions:
            return
        self.sessions.discard(session)
        self.admission.release(session.ip, registered=session.registration is None)
        self.monitors.unwatch_all(session)
        user = session.user
        who = user.source if user is not None else f"unregistered {session.ip}"
        # Ordinary goodbyes are routine; cut-offs (sendq, flood, ping, kill)
        # are what an operator needs to see to explain a vanished client.
        routine = reason == "Connection closed" or reason.startswith("Quit")
        log.log(logging.DEBUG if routine else logging.INFO, "%s disconnected: %s", who, reason)
        if user is not None and user.present:
            self.pipeline.publish(UserQuit(*self.stamp(), user.uid, user.source, reason))

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
        return self.ids.msgid(), self.now()

    def run_blocking(self, fn: Callable[[], T], then: Callable[[T], None]) -> None:
        """Run ``fn`` on a worker thread and ``then(result)`` back on the loop."""
        self.workers.run_blocking(fn, then)

    @property
    def created_text(self) -> str:
        """When this server started, for RPL_CREATED."""
        return datetime.fromtimestamp(self.started, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
