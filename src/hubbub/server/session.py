r"""One client's session: lines in, dispatch, bytes out. No asyncio here.

Theory of operation
-------------------
A transport (TCP, TLS, WebSocket) owns the socket and its framing: it turns
the byte stream (or the frames) into lines and hands them to
:meth:`Session.receive`; the session writes whole CR LF-terminated lines back
through the small :class:`~.interfaces.Transport` interface. Timers come
from a :class:`~.interfaces.Loop`. So a test can drive a Session with a
fake transport and a fake clock, and a new transport needs no change here.

Input: each line spends a token of the flood bucket. When the bucket is
empty the session stops reading and holds the remaining lines until tokens
come back; a client whose held lines pass :data:`MAX_HELD_LINES` is
disconnected. A line is then checked (length, UTF-8, syntax) and handed to
the host's dispatcher; every rejected line gets an answer.

A command whose answer comes from a worker thread (CHATHISTORY reads the
disk) *suspends* the session: the lines after it are held, and reading
paused, until the command :meth:`resume`\ s it. A client's commands are
thus answered in the order it sent them, as if each ran to the end before
the next, and lines held this way never count as flooding.

Output: :meth:`send_bytes` appends to a per-session list and registers the
session with the :class:`~.output.OutputScheduler` once; the scheduler
writes each pending session's bytes with a single ``write()`` at the end of
the loop turn. The sendq is every byte the client has not taken: ours, the
transport's, and what the kernel still holds for it. Past ``sendq_bytes``
the client is disconnected, so a client that stops reading can never make
the server buffer without bound or slow anyone else.

The kernel's share is looked at (one ``ioctl``, through the host's
:class:`~.interfaces.KernelQueue`) when the transport starts holding bytes
back, which means the kernel's buffer is full: the transport says so
(:meth:`held_back`, from asyncio's ``pause_writing`` with a high-water mark
of 0), and what the kernel holds is then taken off this session's limit
until the transport has drained (:meth:`caught_up`). So a client that keeps
up costs nothing more per line: the relay path compares against the limit
as it always did. For that to catch every stuck client, the kernel's buffer
must be smaller than the sendq, or it could absorb more than
``sendq_bytes`` before the transport ever holds anything back: the
transports bound each socket's send buffer to a fraction of the sendq
(``transports/base.py``).

Closing: :meth:`close` marks the session closed at once (no more input or
output) and defers the rest — removing the user, telling the others — to the
next loop turn. Deferral matters because a close can happen in the middle of
a fan-out over a channel's members (a sendq overflow), and the channel must
not change under that loop.
"""

from __future__ import annotations

import logging
import sys
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

from hubbub.protocol import (
    MAX_BODY,
    EmptyLine,
    Message,
    MissingCommand,
    ProtocolError,
    check_length,
    decode,
    fit,
    parse_line,
    reply_params,
)
from hubbub.protocol.framing import TooLong
from hubbub.protocol.numerics import ERR_INPUTTOOLONG, ERR_UNKNOWNCOMMAND

from .accounts.sasl import Exchange
from .caps import TagProfile, tag_profile
from .encoding import encode
from .flood import TokenBucket
from .interfaces import KernelQueue, Loop, Transport
from .meters import Meters, TransportMeter
from .output import OutputScheduler
from .registration import Registration
from .state import User

log = logging.getLogger(__name__)

#: Lines held back by flood control before the client is cut off.
MAX_HELD_LINES = 200
_NONE: frozenset[str] = frozenset()

#: What a transport hands over: a line without its CR LF, or the marker of
#: a line that passed the length limit.
Line = bytes | TooLong


def _fault(line: str) -> str:
    """What is wrong with a malformed line, for the log. Not the parser's
    message: that quotes the line, and no line a client sends is logged."""
    if "\0" in line:
        return "NUL in the line"
    if "\r" in line or "\n" in line:
        return "CR or LF in the line"
    return "a bad command, source or tags"


class SessionHost(Protocol):
    """What a session needs of the server it belongs to."""

    loop: Loop
    output: OutputScheduler
    meters: Meters
    name: str
    sendq_bytes: int
    #: The kernel's send queue below the transports (none in tests).
    kernel: KernelQueue
    dispatch: Callable[[Session, Message], None]

    def session_closed(self, session: Session, reason: str) -> None: ...


class Session:
    """A client's session with the server, registered or not."""

    __slots__ = (
        "_batch_seq",
        "_bucket",
        "_flooding",
        "_framed",
        "_held",
        "_limit",
        "_out",
        "_out_size",
        "_paused",
        "_reading_paused",
        "_suspended",
        "_transport_size",
        "cap_version",
        "caps",
        "certfp",
        "closing",
        "host",
        "ip",
        "last_active",
        "last_recv",
        "meter",
        "monitoring",
        "ping_sent",
        "registration",
        "sasl",
        "server_name",
        "tag_profile",
        "tls",
        "transport",
        "user",
    )

    def __init__(
        self,
        host: SessionHost,
        transport: Transport,
        ip: str,
        registration: Registration,
        *,
        meter: TransportMeter,
        tls: bool = False,
        flood_control: bool = True,
        framed: bool = False,
        certfp: str | None = None,
    ) -> None:
        self.host = host
        #: The counters of this connection's kind of transport (bytes in
        #: are counted per read; bytes out per loop turn, by the scheduler).
        self.meter = meter
        self.server_name = host.name
        self.transport = transport
        # Interned: the User's host is the same string, and so are the hosts
        # of every other connection from this address.
        self.ip = sys.intern(ip)
        self.tls = tls
        #: SHA-256 of the TLS client certificate (hex), if the client showed one.
        self.certfp = certfp
        #: The SASL exchange in progress (AUTHENTICATE), if any.
        self.sasl: Exchange | None = None
        now = host.loop.time()
        self.last_recv = now
        self.last_active = now  # last PRIVMSG/NOTICE etc., for WHOIS idle
        self.ping_sent: float | None = None
        self.closing = False
        #: Until the welcome: what registration has gathered; then None.
        self.registration: Registration | None = registration
        self.user: User | None = None
        self.cap_version = 0
        self.caps: frozenset[str] = _NONE
        # Casefolded nicks this client MONITORs: a set once it watches anyone.
        self.monitoring: set[str] | frozenset[str] = _NONE
        self.tag_profile: TagProfile = tag_profile(self.caps)
        self._held: deque[Line] | None = None  # lines held by flood control
        self._paused = False  # flood control's timer will release held lines
        self._reading_paused = False
        #: Flood control holds a burst of this client's lines (counted once).
        self._flooding = False
        self._suspended = False  # a command waits for a worker thread
        self._bucket = TokenBucket(stamp=now) if flood_control else None
        # Bytes waiting for the end of the loop turn; None when nothing is
        # queued, which also means "not scheduled for a flush".
        self._out: list[bytes] | None = None
        self._out_size = 0
        self._transport_size = 0  # the transport's own buffer, as of the last write
        self._batch_seq = 0
        # A framing transport (WebSocket) takes the queued chunks as they are:
        # a fan-out queued the same bytes object on every recipient, which it
        # can then frame once. A stream transport gets one joined write.
        self._framed = framed
        #: The sendq less what the kernel holds (only counted while the
        #: transport holds bytes back, see held_back).
        self._limit = host.sendq_bytes

    # --- identity --------------------------------------------------------

    @property
    def registered(self) -> bool:
        """True once the welcome burst was sent."""
        return self.user is not None

    @property
    def display_nick(self) -> str:
        """The nick to address numerics to: ``*`` before one is chosen."""
        if self.user is not None:
            return self.user.nick
        if self.registration is not None and self.registration.nick:
            return self.registration.nick
        return "*"

    @property
    def client_id(self) -> str:
        """Names the connection in the logs from its accept: the uid its
        user has (or will have), so log lines and history rows agree."""
        if self.user is not None:
            return self.user.uid
        assert self.registration is not None
        return self.registration.uid

    def attach(self, user: User) -> User:
        """Registration is done: this session is ``user``'s link to this
        process (the one tie between state and a session, and a local one:
        it is not part of the network state)."""
        self.user = user
        user.session = self
        self.registration = None
        self.meter.registered += 1
        return user

    def set_caps(self, caps: set[str] | frozenset[str]) -> None:
        """Replace the enabled capabilities (and the tag profile with them)."""
        self.caps = frozenset(caps)
        self.tag_profile = tag_profile(caps)

    def next_batch_id(self) -> str:
        """A batch reference unique on this session."""
        self._batch_seq += 1
        return f"b{self._batch_seq}"

    # --- input -----------------------------------------------------------

    def receive(self, lines: Sequence[Line]) -> None:
        """Lines from the transport, in order."""
        if self.closing or not lines:
            return
        self.last_recv = self.host.loop.time()
        self.ping_sent = None
        if self._held is not None:
            self._held.extend(lines)
            if not self._suspended:
                self._check_held()
        elif self._bucket is None and len(lines) == 1 and not self._suspended:
            # The common case: one line, no flood bucket to spend.
            self._handle(lines[0])
        else:
            self._run(lines)

    def _run(self, lines: Sequence[Line]) -> None:
        bucket = self._bucket
        now = self.host.loop.time() if bucket is not None else 0.0
        for i, line in enumerate(lines):
            if self.closing:
                return
            if self._suspended:
                self._held = deque(lines[i:])
                self._pause_reading()
                return
            if bucket is not None and not bucket.take(now):
                self._held = deque(lines[i:])
                self._throttle()
                return
            self._handle(line)

    def _pause_reading(self) -> None:
        if not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()

    def _throttle(self) -> None:
        if self._check_held() and not self._paused:
            if not self._flooding:  # counted once per held burst, not per release
                self._flooding = True
                self.host.meters.flood_throttles += 1
            self._paused = True
            self._pause_reading()
            assert self._bucket is not None
            self.host.loop.call_later(self._bucket.wait(), self._release)

    def _check_held(self) -> bool:
        if self._held is not None and len(self._held) > MAX_HELD_LINES:
            self.close("Excess Flood")
            return False
        return True

    def _release(self) -> None:
        """Tokens came back: handle held lines, then read again."""
        if self.closing:
            return
        self._paused = False
        self._continue()

    def _continue(self) -> None:
        """Handle the held lines; read again once none is left."""
        held, self._held = self._held or deque(), None
        self._run(list(held))
        if self._held is None:
            self._flooding = False  # the burst is through
        if self._held is None and not self.closing and self._reading_paused:
            self._reading_paused = False
            self.transport.resume_reading()

    def suspend(self) -> None:
        """Handle no further line of this client until :meth:`resume` (a
        command waits for a worker thread; its replies come first)."""
        self._suspended = True

    def resume(self) -> None:
        """The waiting command is done: go on with the lines sent after it."""
        if not self._suspended:
            return
        self._suspended = False
        if not self.closing and not self._paused:
            self._continue()

    def _handle(self, raw: Line) -> None:
        if not isinstance(raw, bytes) or (
            # Short untagged lines fit the limits by their length alone.
            (len(raw) > 510 or raw[:1] == b"@") and not check_length(raw)
        ):
            self.send_numeric(ERR_INPUTTOOLONG, "Input line was too long")
            return
        try:
            text, valid = raw.decode("utf-8"), True
        except UnicodeDecodeError:
            text, valid = decode(raw)[0], False
        try:
            msg = parse_line(text)
        except ProtocolError as exc:
            self._unparsable(exc, text)
            return
        if not valid:
            # UTF8ONLY is advertised: refuse rather than relay mojibake.
            self.send(
                Message(
                    "FAIL",
                    (msg.command.upper(), "INVALID_UTF8", "Message rejected: not valid UTF-8"),
                    self.server_name,
                )
            )
            return
        self.host.dispatch(self, msg)

    def _unparsable(self, exc: ProtocolError, text: str) -> None:
        """Answer a line that is not a message (see docs/robustness.md).

        Only the empty line goes unanswered, as Modern IRC asks. Tags or a
        source with nothing after them cannot do harm: say so and go on.
        NUL, a stray CR, a command starting with ":" or "@" are another
        matter: no client sends these by accident, and guessing what it
        meant could relay something else. Like ergo, cut it off and say why.
        """
        if isinstance(exc, EmptyLine):
            return
        if isinstance(exc, MissingCommand):
            self.send_numeric(ERR_UNKNOWNCOMMAND, "*", "No command given")
            return
        log.debug("malformed line from %s: %s", self.ip, _fault(text), extra={
            "event": "client.malformed_line", "client_id": self.client_id, "address": self.ip,
        })  # fmt: skip
        self.close("Received malformed line")

    # --- output ----------------------------------------------------------

    def send_bytes(self, data: bytes) -> None:
        """Queue encoded lines; they are written at the end of the loop turn."""
        if self.closing:
            return
        out = self._out
        if out is None:
            out = self._out = []
            self.host.output.schedule(self)
        out.append(data)
        self._out_size += len(data)
        if self._out_size + self._transport_size > self._limit:
            self._look_again()

    def _look_again(self) -> None:
        """Past the limit by the cached counts, which only err high (the
        socket may have drained since): look again, the kernel's share
        included, before cutting the client off."""
        transport = self.transport
        self._transport_size = transport.get_write_buffer_size()
        self._limit = self.host.sendq_bytes - self.host.kernel.held(transport)
        if self._out_size + self._transport_size > self._limit:
            self._overflow()

    def held_back(self) -> None:
        """The transport started holding bytes back: the kernel's buffer is
        full. Until :meth:`caught_up`, what the kernel holds counts against
        the sendq. Called from inside the transport's ``write()``, so it only
        sets the limit: the next output is checked against it."""
        self._limit = self.host.sendq_bytes - self.host.kernel.held(self.transport)

    def caught_up(self) -> None:
        """The transport's buffer is empty again (or the sendq changed)."""
        self._limit = self.host.sendq_bytes

    def _overflow(self) -> None:
        """Past the sendq: cut the client off, and have the kernel drop what
        it holds for it too (a plain close would leave the kernel trying to
        deliver it to a client that does not read, for minutes)."""
        self.host.kernel.drop(self.transport)
        self.close("SendQ exceeded", error=False)

    def send(self, msg: Message) -> None:
        """Queue one message, encoded for this session's tag profile (made
        to fit the line limit if it echoes too much, see :func:`fit`)."""
        data = encode(msg, self.tag_profile)
        if len(data) > MAX_BODY:
            data = encode(fit(msg), self.tag_profile)
        self.send_bytes(data)

    def send_numeric(self, numeric: str, *params: str) -> None:
        """Queue a numeric from the server addressed to this client."""
        self.send(Message(numeric, reply_params((self.display_nick, *params)), self.server_name))

    def flush(self) -> int:
        """Write everything queued in one call; the number of bytes written."""
        out, self._out = self._out, None
        if out:
            size, self._out_size = self._out_size, 0
            if not self.closing:
                if self._framed:
                    self.transport.writelines(out)
                else:
                    self.transport.write(b"".join(out) if len(out) > 1 else out[0])
                self._transport_size = self.transport.get_write_buffer_size()
                return size
        return 0

    # --- closing ---------------------------------------------------------

    def close(self, reason: str, *, error: bool = True) -> None:
        """Disconnect with ``reason``, told to the others as the QUIT reason.

        ``error`` sends the client an ERROR line first (not for a client whose
        output is stuck anyway, as after a sendq overflow).
        """
        if self.closing:
            return
        if error:
            reg = self.registration
            username = self.user.user if self.user else (reg.username if reg else None)
            host = self.user.host if self.user else self.ip
            self.send(Message("ERROR", (f"Closing link: ({username or '*'}@{host}) [{reason}]",)))
            self.host.output.flush_now(self)
        self.closing = True
        self._out = None
        self._held = None
        if error:
            self.transport.close()
        else:
            self.transport.abort()
        self.host.loop.call_soon(self.host.session_closed, self, reason)

    def connection_lost(self) -> None:
        """The transport is gone (peer closed, reset, or we closed it)."""
        self.close("Connection closed", error=False)
