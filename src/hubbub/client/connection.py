"""The asyncio IRC client: a socket around :class:`~.session.ClientSession`.

Theory of operation
-------------------
:meth:`Client.run` owns the connection's whole life: connect (TCP or TLS),
register, read lines, and when the connection drops, wait with exponential
backoff (with jitter, so a restarted server is not hit by every client in
the same second) and connect again; the session rejoins the channels. It
ends after :meth:`Client.quit`, or when a connection fails and
``reconnect`` is off. Everything that happens is put on one queue and read
with ``async for event in client.events()``; the iterator ends when ``run``
does. The queue is bounded: a consumer that stops reading stops the reader
too, instead of growing memory without limit.

A TLS certificate that fails its check (:mod:`.trust`) ends ``run`` at
once, whatever ``reconnect`` says: retrying cannot fix it, and the reason
(with the certificate's fingerprint) is what the person needs to see.

A silent connection is probed: after ``ping_interval`` seconds without a
line we send PING, and after as long again we give up on it ("Ping
timeout") and reconnect, so a dead network is noticed without the kernel's
multi-minute TCP timeout.

The ~20-line bot in ``examples/echo_bot.py`` shows the intended use.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from types import TracebackType
from typing import NamedTuple, TypeVar

from hubbub.protocol import EmptyLine, LineBuffer, Message, ProtocolError, decode, parse_line

from . import events as ev
from .accounts import Credentials
from .session import WANTED_CAPS, ClientSession
from .state import ClientState
from .text import utcnow
from .trust import Trust, UntrustedCertificate, peer_fingerprint, untrusted_reason

E = TypeVar("E", bound=ev.Event)
_QUEUE_LIMIT = 10_000
_STOP = object()


def describe_error(exc: BaseException, host: str, port: int) -> str:
    """A sentence for a failed connection, instead of a traceback."""
    where = f"{host}:{port}"
    if isinstance(exc, ConnectionRefusedError):
        return f"Could not connect to {where}: nothing is listening there (connection refused)."
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return f"Could not connect to {where}: the connection timed out."
    if isinstance(exc, ssl.SSLError):
        return f"TLS with {where} failed: {exc.reason or exc}."
    if isinstance(exc, OSError) and exc.strerror:
        return f"Could not connect to {where}: {exc.strerror}."
    return f"Could not connect to {where}: {exc}."


class Closed(NamedTuple):
    """How one connection ended: why, and whether trying again can help."""

    reason: str
    final: bool = False


class Client:
    """An IRC connection that stays up: see the module docstring."""

    def __init__(
        self,
        host: str,
        port: int,
        nick: str,
        *,
        tls: bool = False,
        trust: Trust | None = None,
        ssl_context: ssl.SSLContext | None = None,
        user: str = "hubbub",
        realname: str = "hubbub user",
        password: str | None = None,
        credentials: Credentials | None = None,
        caps: frozenset[str] = WANTED_CAPS,
        alt_nicks: bool = True,
        reconnect: bool = True,
        retry_first_connect: bool = True,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        connect_timeout: float = 10.0,
        ping_interval: float = 60.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        #: How the server's certificate is checked (``ssl_context`` wins if given).
        self.trust = trust or Trust()
        self.ssl_context = ssl_context
        self.reconnect = reconnect
        self.retry_first_connect = retry_first_connect
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.connect_timeout = connect_timeout
        self.ping_interval = ping_interval
        self.session = ClientSession(
            nick,
            user=user,
            realname=realname,
            password=password,
            credentials=credentials,
            caps=caps,
            alt_nicks=alt_nicks,
            clock=clock,
        )
        self._queue: asyncio.Queue[ev.Event | object] = asyncio.Queue(_QUEUE_LIMIT)
        self._writer: asyncio.StreamWriter | None = None
        self._quitting = False
        self._task: asyncio.Task[None] | None = None
        self._registered = asyncio.Event()
        self._ready = asyncio.Event()
        self._connection_registered = False

    # -- state -------------------------------------------------------------

    @property
    def state(self) -> ClientState:
        """What is known about the network on the current connection."""
        return self.session.state

    @property
    def nick(self) -> str:
        """Our current nick."""
        return self.session.state.nick

    @property
    def account(self) -> str | None:
        """The account we are logged in to on this connection, if any."""
        return self.session.state.account

    @property
    def connected(self) -> bool:
        """True while a registered connection is up."""
        return self._writer is not None and self.session.state.registered

    # -- lifecycle ---------------------------------------------------------

    async def __aenter__(self) -> Client:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def start(self) -> asyncio.Task[None]:
        """Run :meth:`run` in a task (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"irc-client-{self.host}")
        return self._task

    async def close(self, reason: str = "Leaving", timeout: float = 3.0) -> None:
        """Quit if connected, then stop :meth:`run` and wait for it."""
        if self._writer is not None and not self._quitting:
            await self.quit(reason, timeout=timeout)
        self._quitting = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run(self) -> None:
        """Connect, and reconnect with backoff, until :meth:`quit`."""
        attempt = 0
        ever_connected = False
        try:
            while not self._quitting:
                attempt += 1
                await self._emit(ev.Connecting(self.host, self.port, attempt))
                self._connection_registered = False
                reason, final = await self._connect_once()
                if self._connection_registered:
                    attempt = 0  # this one worked: start the backoff over
                ever_connected = ever_connected or self.session.ever_registered
                if self._quitting:
                    await self._emit(ev.Disconnected(reason, None))
                    break
                give_up = final or not self.reconnect or (
                    not ever_connected and not self.retry_first_connect
                )
                if give_up:
                    await self._emit(ev.Disconnected(reason, None))
                    break
                delay = self._backoff(max(attempt, 1))
                await self._emit(ev.Disconnected(reason, delay))
                await asyncio.sleep(delay)
        finally:
            self._writer = None
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(_STOP)

    def _backoff(self, attempt: int) -> float:
        base = min(self.backoff_max, self.backoff_initial * 2 ** (attempt - 1))
        return round(float(base) * random.uniform(0.75, 1.0), 3)

    async def _connect_once(self) -> Closed:
        """One connection from open to close; returns how it closed."""
        context: ssl.SSLContext | None = None
        if self.tls:
            try:
                context = self.ssl_context or self.trust.context()
            except ValueError as exc:
                return Closed(f"{exc}.", final=True)
        where = f"{self.host}:{self.port}"
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, ssl=context),
                self.connect_timeout,
            )
        except ssl.SSLCertVerificationError as exc:
            seen = await peer_fingerprint(self.host, self.port, self.connect_timeout)
            return Closed(untrusted_reason(exc, where, seen), final=True)
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            return Closed(describe_error(exc, self.host, self.port))
        if context is not None and self.ssl_context is None:
            ssl_object = writer.get_extra_info("ssl_object")
            try:
                self.trust.check(ssl_object.getpeercert(binary_form=True), where)
            except UntrustedCertificate as exc:
                writer.close()
                return Closed(str(exc), final=True)
        self._writer = writer
        await self._emit(ev.Connected(self.host, self.port))
        self.session.connection_made()
        reason = "The server closed the connection."
        try:
            await self._flush()
            reason = await self._read_loop(reader)
        except (ConnectionError, OSError) as exc:
            reason = f"Connection lost: {exc.strerror or exc}."
        finally:
            self._writer = None
            self._registered.clear()
            self._ready.clear()
            self.session.connection_lost()
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)
        return Closed(reason)

    async def _read_loop(self, reader: asyncio.StreamReader) -> str:
        buffer = LineBuffer()
        probed = False
        error_text: str | None = None
        while True:
            try:
                data = await asyncio.wait_for(reader.read(65536), self.ping_interval)
            except TimeoutError:
                if probed:
                    return "Ping timeout: the server stopped answering."
                probed = True
                self.session.send_raw(Message("PING", ("hubbub-keepalive",)))
                await self._flush()
                continue
            if not data:
                return error_text or "The server closed the connection."
            probed = False
            for raw in buffer.feed(data):
                if not isinstance(raw, bytes):
                    continue  # a line over the limit: nothing a client can do
                text, _ = decode(raw)
                try:
                    msg = parse_line(text)
                except (EmptyLine, ProtocolError):
                    continue
                for event in self.session.receive(msg):
                    if isinstance(event, ev.Registered):
                        self._connection_registered = True
                        self._registered.set()
                    elif isinstance(event, ev.Ready):
                        self._ready.set()
                    elif isinstance(event, ev.ServerError) and event.command == "ERROR":
                        error_text = f"The server closed the connection: {event.text}"
                    await self._emit(event)
            await self._flush()

    async def _flush(self) -> None:
        writer = self._writer
        out = self.session.data_to_send()
        if writer is None or not out:
            return
        writer.write(b"".join(m.to_bytes() for m in out))
        await writer.drain()

    async def _emit(self, event: ev.Event) -> None:
        await self._queue.put(event)

    # -- reading events ----------------------------------------------------

    async def events(self) -> AsyncIterator[ev.Event]:
        """Every event, in order, until :meth:`run` ends."""
        while True:
            item = await self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, ev.Event)
            yield item

    async def wait_for(
        self,
        kind: type[E],
        predicate: Callable[[E], bool] = lambda _: True,
        timeout: float = 10.0,
    ) -> E:
        """Consume events until one of ``kind`` matches ``predicate`` (for
        tests and simple scripts; a UI reads :meth:`events` instead)."""
        async with asyncio.timeout(timeout):
            async for event in self.events():
                if isinstance(event, kind) and predicate(event):
                    return event
        raise ConnectionError("the client stopped before the event arrived")

    async def wait_registered(self, timeout: float = 10.0) -> None:
        """Until RPL_WELCOME on the current connection."""
        await asyncio.wait_for(self._registered.wait(), timeout)

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Until the server has finished what it does on connect (auto-join)."""
        await asyncio.wait_for(self._ready.wait(), timeout)

    # -- commands ----------------------------------------------------------

    async def send(self, msg: Message) -> bool:
        """Send any message (``/quote``); False when not connected."""
        self.session.send_raw(msg)
        return await self._send_queued()

    async def _send_queued(self) -> bool:
        if self._writer is None:
            self.session.data_to_send()  # dropped: the session restarts on reconnect
            return False
        await self._flush()
        return True

    async def _local(self, events: list[ev.Event]) -> bool:
        sent = await self._send_queued()
        if sent:
            for event in events:
                await self._emit(event)
        return sent

    async def privmsg(self, target: str, text: str) -> bool:
        """Say ``text`` to a channel or nick."""
        return await self._local(self.session.message(target, text, "privmsg"))

    async def notice(self, target: str, text: str) -> bool:
        """Send a NOTICE (bots answer with these by convention)."""
        return await self._local(self.session.message(target, text, "notice"))

    async def action(self, target: str, text: str) -> bool:
        """A ``/me`` action."""
        return await self._local(self.session.message(target, text, "action"))

    async def join(self, channel: str, key: str | None = None) -> bool:
        """Join a channel; it is rejoined after reconnects until parted."""
        self.session.join(channel, key)
        return await self._send_queued()

    async def part(self, channel: str, reason: str = "") -> bool:
        """Leave a channel."""
        self.session.part(channel, reason)
        return await self._send_queued()

    async def set_nick(self, nick: str) -> bool:
        """Change nick, or answer a pre-registration NickInUse."""
        self.session.set_nick(nick)
        return await self._send_queued()

    async def topic(self, channel: str, text: str | None = None) -> bool:
        """Ask for the topic, or set it when ``text`` is given."""
        params = (channel,) if text is None else (channel, text)
        return await self.send(Message("TOPIC", params))

    async def names(self, channel: str) -> bool:
        """Ask for a channel's member list (reported as a ServerReply)."""
        self.session.names(channel)
        return await self._send_queued()

    async def history(self, target: str, limit: int = 50, before: str | None = None) -> bool:
        """Ask for the latest ``limit`` messages of a channel or private chat,
        or those before the message ``before`` (a msgid: page back from the
        oldest one you have). The answer comes as a
        :class:`~.events.History` event; False when not connected."""
        self.session.history(target, limit, before)
        return await self._send_queued()

    async def search(self, text: str, target: str | None = None, limit: int = 50) -> bool:
        """Search what was said (everywhere you may read, or in ``target``) for
        ``text``; the answer comes as a :class:`~.events.SearchResults` event."""
        self.session.search(text, target, limit)
        return await self._send_queued()

    @property
    def has_history(self) -> bool:
        """Whether the server keeps history for this client to ask for."""
        return "draft/chathistory" in self.session.state.caps

    async def whois(self, nick: str) -> bool:
        """Ask who ``nick`` is."""
        return await self.send(Message("WHOIS", (nick,)))

    async def register_account(self, password: str, email: str | None = None) -> bool:
        """Register our nick as an account (IRCv3 REGISTER, or NickServ);
        the outcome arrives as LoggedIn / ServerReply / ServerError events."""
        self.session.register_account(password, email)
        return await self._send_queued()

    async def verify_account(self, account: str, code: str) -> bool:
        """Finish a registration with the code that was mailed."""
        self.session.verify_account(account, code)
        return await self._send_queued()

    async def away(self, message: str | None = None) -> bool:
        """Mark us away with ``message``, or back with ``None``."""
        return await self.send(Message("AWAY", (message,) if message else ()))

    async def quit(self, reason: str = "Leaving", timeout: float = 3.0) -> None:
        """Say goodbye and wait (up to ``timeout``) for the server to close."""
        self._quitting = True
        self.session.quit(reason)
        if not await self._send_queued():
            if self._task is not None and not self._task.done():
                self._task.cancel()
            return
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
