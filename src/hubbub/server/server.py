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
from typing import Any, TypeVar

from hubbub import __version__
from hubbub.bus.base import Bus, Membership
from hubbub.bus.local import Alone, LocalBus
from hubbub.config import Config, ConfigError
from hubbub.events import AccountDropped, AccountRegistered, ServerRoomChanged, UserQuit
from hubbub.protocol import Message, casefold
from hubbub.store.base import AccountStore, ChannelStore, HistoryStore
from hubbub.store.null import NullAccountStore, NullChannelStore, NullHistoryStore

from . import caps, rehash
from .accounts.sasl import EXTERNAL, MECHANISMS
from .accounts.service import Accounts
from .admission import Admission
from .delivery import Delivery
from .ids import Ids
from .interfaces import NO_KERNEL, KernelQueue, Loop, Transport
from .keeper import WATCHED, ChannelKeeper, restore_events
from .meters import Meters, loggable_reason
from .monitor import Monitors
from .output import OutputScheduler
from .pipeline import Pipeline
from .recorder import HistoryRecorder
from .registration import Registration
from .service_names import SERVICE_NICKS
from .session import Session
from .state import Network, User
from .welcome import Welcome
from .workers import Workers

log = logging.getLogger(__name__)
T = TypeVar("T")

Dispatch = Callable[[Session, Message], None]


def _no_dispatcher(session: Session, msg: Message) -> None:
    raise RuntimeError("Server.dispatch was not set")



class Server:
    """One hubbub server process.

    Accounts (SASL, REGISTER, NickServ, ChanServ) are on when the config
    says so and there is an account store to keep them in.
    """

    def __init__(
        self,
        config: Config,
        loop: Loop,
        *,
        history: HistoryStore | None = None,
        accounts: AccountStore | None = None,
        channels: ChannelStore | None = None,
        bus: Bus | None = None,
        network: Network | None = None,
        ids: Ids | None = None,
    ) -> None:
        self.loop = loop
        self.started = time.time()
        self.version = f"hubbub-{__version__}"
        #: Msgids and uids; a cluster node's are made unique by its node and epoch.
        self.ids = ids or Ids()
        #: Wall-clock time for timestamps (timers use the loop's clock).
        self.now: Callable[[], float] = time.time
        #: On a cluster, the network as the log made it so far (see app.serve).
        self.network = network or Network()
        #: This process's node name on a cluster; "" on a single server.
        self.node = config.cluster.node if config.cluster.enabled else ""
        #: Where this node is in the log, and the other nodes (set by a cluster's app).
        self.membership: Membership = Alone()
        self.monitors = Monitors()
        self.history: HistoryStore = history or NullHistoryStore()
        self.sessions: set[Session] = set()
        self.admission = Admission()
        self.output = OutputScheduler(loop, before_write=self._before_write)
        self.workers = Workers(loop)
        # Password hashing has its own thread: a login storm queues behind
        # itself, never in front of disk reads (nor the other way round), and
        # at a lower priority, so the loop gets the CPU first.
        self.hashing = Workers(loop, threads=1, name="hubbub-hash", nice=10)
        self.accounts = Accounts(
            accounts or NullAccountStore(),
            enabled=config.accounts.enabled and accounts is not None,
            # Looked up at each call, so a test harness can wrap them.
            run_blocking=lambda fn, then: self.run_blocking(fn, then),
            run_hashing=lambda fn, then: self.run_hashing(fn, then),
            clock=loop.time,
            now=lambda: self.now(),
        )
        self.channel_store: ChannelStore = channels or NullChannelStore()
        #: Casefolded nicks of the server's own services (NickServ, ChanServ):
        #: nobody may take them, and nothing said to them is kept or logged.
        self.service_nicks: set[str] = set(SERVICE_NICKS) if self.accounts.enabled else set()
        #: TLS listeners ask for client certificates (SASL EXTERNAL); set by the app.
        self.client_certificates = False
        self.caps: dict[str, str | None] = {}
        #: Commands run, by verb (STATS m, and the metrics).
        self.stats: dict[str, int] = {}
        #: Counters for operators (see :mod:`.meters`): read at scrape time.
        self.meters = Meters()
        self.max_users = 0
        self.max_local = 0
        #: Runs one client command; the app sets it (``Dispatcher.run``).
        self.dispatch: Dispatch = _no_dispatcher
        #: Set by the app: how to re-read the config, how to stop, the TLS context.
        self.config_loader: Callable[[], Config] | None = None
        self.stop: Callable[[], None] | None = None
        self.restart_requested = False
        #: The TLS contexts of the listeners (a reload renews their certificate).
        self.tls_contexts: list[ssl.SSLContext] = []
        #: The kernel's send queue below the transports, counted in the sendq;
        #: the app sets the sockets' (``transports/base.py``).
        self.kernel: KernelQueue = NO_KERNEL
        self.apply_config(config)
        self.delivery = Delivery(self.network, self.monitors, self.name)
        self.recorder = HistoryRecorder(
            self.network, self.history, self.output.wake, self.service_nicks
        )
        self.keeper = ChannelKeeper(self.network, self.channel_store)
        watchers: dict[type[Any], Callable[[Any], None]] = {
            kind: self.keeper.record for kind in WATCHED
        }
        watchers[AccountRegistered] = watchers[AccountDropped] = self._account_news
        self.pipeline = Pipeline(self.delivery, bus or LocalBus(), [self.recorder], watchers)
        self.accounts.announce = self._announce_account
        if self.accounts.enabled:
            self.accounts.load()
        self.open_network()

    def open_network(self) -> None:
        """The server's rooms exist from the start, before anyone can join,
        and so do the registered channels, as they were kept. (On a cluster
        the node has read the log first: what another node set up already
        is not published again, and the guards skip a double of a race.)"""
        self.hold_server_rooms()
        if self.accounts.enabled:
            for event in restore_events(self.channel_store.channels(), self.stamp, self.name):
                self.pipeline.publish(event)

    def _announce_account(self, name: str, exists: bool) -> None:
        kind = AccountRegistered if exists else AccountDropped
        self.pipeline.publish(kind(*self.stamp(), "", self.name, name))

    def _account_news(self, event: AccountRegistered | AccountDropped) -> None:
        """Every node learns of accounts made or dropped anywhere (the node
        that made the change knew at once)."""
        self.accounts.learn(event.account, isinstance(event, AccountRegistered))

    # --- configuration -----------------------------------------------------

    def apply_config(self, config: Config) -> None:
        """Take a (new) config: limits, MOTD and ISUPPORT follow it."""
        self.config = config
        self.name = config.server_name
        self.sendq_bytes = config.limits.sendq_bytes
        for session in self.sessions:
            session.caught_up()  # each session's limit follows the new sendq
        self.welcome = Welcome(config, self.version, self.created_text)
        self.accounts.configure(config)
        self.offer_caps()

    def offer_caps(self) -> None:
        """Work out the capabilities offered from the config and the listeners."""
        accounts = self.accounts
        mechanisms = [
            m for m in MECHANISMS if m != EXTERNAL or self.client_certificates
        ] if accounts.enabled else []  # fmt: skip
        section = self.config.accounts
        self.caps = caps.offered(
            history=self.config.history.enabled,
            search=self.config.history.search,
            sasl=mechanisms,
            registration=accounts.registration_open,
            before_connect=section.registration_before_connect,
            email_required=section.registration_requires_email,
        )

    def _before_write(self) -> None:
        """Before a turn's output leaves: make what it shows durable."""
        self.history.commit()
        self.keeper.commit()

    def rehash(self) -> str | None:
        """Re-read the config file and apply it; the reason it was refused, or None."""
        if self.config_loader is None:
            return "there is no config file to reload (the server runs on defaults)"
        try:
            new = self.config_loader()
        except ConfigError as exc:
            return str(exc)
        refused = rehash.refusal(self.config, new)
        for context in self.tls_contexts:
            refused = refused or rehash.reload_certificate(context, new)
        if refused is not None:
            return refused
        offered = self.caps
        try:
            self.apply_config(new)
        except ConfigError as exc:
            return str(exc)
        self._announce_caps(offered)
        self.hold_server_rooms()
        log.info("configuration reloaded", extra={"event": "config.reloaded"})
        return None

    def _announce_caps(self, before: dict[str, str | None]) -> None:
        """Tell the clients with cap-notify what a reload changed in the offer:
        ``CAP DEL`` for what is gone (now off for everyone who had it on),
        ``CAP NEW`` for what is new or has a new value (SASL mechanisms,
        account registration's keys)."""
        added, gone = caps.changed(before, self.caps)
        if not (added or gone):
            return
        for session in self.sessions:
            if gone and not session.caps.isdisjoint(gone):
                session.set_caps(session.caps.difference(gone))
            if "cap-notify" not in session.caps:
                continue
            multiline = session.cap_version >= 302
            for sub, tokens in (("DEL", gone), ("NEW", caps.ls_tokens(session.cap_version, added))):
                if not tokens:
                    continue
                for params in caps.cap_lines(session.display_nick, sub, tokens, multiline):
                    session.send(Message("CAP", params, self.name))

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

    def server_of(self, user: User) -> str:
        """The name of the server (cluster node) ``user`` is connected to."""
        if user.node and user.node != self.node:
            return f"{user.node}.{self.config.server.name}"
        return self.name

    # --- sessions ----------------------------------------------------------

    def accept(
        self,
        transport: Transport,
        ip: str,
        *,
        tls: bool = False,
        framed: bool = False,
        certfp: str | None = None,
        started: float | None = None,
    ) -> Session | None:
        """A session for a new connection; None (after telling the client)
        when a connection limit is reached. ``started``: when the connection
        was accepted, if that was before now (a TLS or HTTP handshake came
        first); the registration timeout counts from then."""
        reason = self.admission.refusal(ip, self.config.limits)
        if reason is not None:
            # Not INFO: a connection flood would write one line per attempt.
            log.debug("refused a connection from %s: %s", ip, reason, extra={
                "event": "client.refused", "address": ip, "reason": reason,
            })  # fmt: skip
            transport.write(f"ERROR :Closing link: [{reason}]\r\n".encode())
            transport.close()
            return None
        registration = Registration(
            password_required=self.config.server.password is not None,
            started=self.loop.time() if started is None else started,
            uid=self.ids.uid(),
        )  # fmt: skip
        meter = self.meters.transport(tls=tls, framed=framed)
        session = Session(
            self, transport, ip, registration, meter=meter,
            tls=tls, flood_control=self.config.limits.flood_control, framed=framed,
            certfp=certfp,
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
        self.admission.release(session.ip, registered=session.registration is None)
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
        self.hashing.close()
        self.pipeline.bus.close()
        self.keeper.commit()
        self.history.close()
        self.accounts.store.close()
        self.channel_store.close()

    # --- shared services -----------------------------------------------------

    def stamp(self) -> tuple[str, float]:
        """A new event's msgid and time."""
        now = self.now()
        return self.ids.msgid(now), now

    def run_blocking(self, fn: Callable[[], T], then: Callable[[T], None]) -> None:
        """Run ``fn`` on a worker thread and ``then(result)`` back on the loop."""
        self.workers.run_blocking(fn, then)

    def run_hashing(self, fn: Callable[[], T], then: Callable[[T], None]) -> None:
        """Like :meth:`run_blocking`, on the password-hashing thread."""
        self.hashing.run_blocking(fn, then)

    @property
    def created_text(self) -> str:
        """When this server started, for RPL_CREATED."""
        return datetime.fromtimestamp(self.started, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
