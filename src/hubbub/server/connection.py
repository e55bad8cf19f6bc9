"""One client connection: lines in, dispatch, bytes out. No asyncio here.

Theory of operation
-------------------
A transport (TCP, TLS, later WebSocket) owns the socket. It hands every chunk
of bytes to :meth:`Connection.feed` and the Connection writes back through the
small :class:`Transport` interface, which an asyncio transport satisfies as it
is. Timers come from a :class:`Loop` (``time``/``call_soon``/``call_later``),
also satisfied by an asyncio loop, so tests can drive a Connection with a fake
transport and a fake clock.

Input: :class:`~hubbub.protocol.LineBuffer` splits lines with a hard length
limit; each line spends a token of the flood bucket. When the bucket is empty
the Connection stops reading and holds the remaining lines until tokens come
back; a client whose held lines pass :data:`MAX_HELD_LINES` is disconnected.

Output: :meth:`send_bytes` appends to a per-connection list and registers the
connection with the :class:`OutputScheduler` once; the scheduler writes each
pending connection's bytes with a single ``write()`` at the end of the loop
turn. The unsent total (ours plus the transport's) is the sendq: past
``sendq_bytes`` the client is disconnected, so a client that stops reading
can never make the server buffer without bound or slow anyone else.

Closing: :meth:`close` marks the connection closed at once (no more input or
output) and defers the rest — removing the user, telling the others — to the
next loop turn. Deferral matters because a close can happen in the middle of a
fan-out loop over a channel's members (a sendq overflow), and the channel must
not change under that loop.
"""

from __future__ import annotations

import logging
import sys
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from hubbub.protocol import (
    TOO_LONG,
    EmptyLine,
    LineBuffer,
    Message,
    ProtocolError,
    check_length,
    decode,
    parse_line,
    reply_params,
)
from hubbub.protocol.numerics import ERR_INPUTTOOLONG

from .caps import TagProfile, tag_profile
from .fanout import encode
from .flood import TokenBucket

if TYPE_CHECKING:
    from .core import Server
    from .state import User

log = logging.getLogger(__name__)

#: Lines held back by flood control before the client is cut off.
MAX_HELD_LINES = 200
_NONE: frozenset[str] = frozenset()


class Transport(Protocol):
    """What a Connection needs from its transport (asyncio's fits)."""

    def write(self, data: bytes) -> None: ...
    def get_write_buffer_size(self) -> int: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...


class Loop(Protocol):
    """The clock and timers a Connection needs (asyncio's loop fits)."""

    def time(self) -> float: ...
    def call_soon(self, callback: Callable[..., Any], *args: Any) -> Any: ...
    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Any: ...
    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any) -> Any: ...


class OutputScheduler:
    """Flushes every connection with pending output once per loop turn."""

    __slots__ = ("_loop", "_pending")

    def __init__(self, loop: Loop) -> None:
        self._loop = loop
        self._pending: list[Connection] = []

    def schedule(self, conn: Connection) -> None:
        """Have ``conn`` flushed at the end of this loop turn."""
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(conn)

    def flush(self) -> None:
        """Write out every pending connection."""
        pending, self._pending = self._pending, []
        for conn in pending:
            conn.flush()


class Connection:
    """A client's session with the server, registered or not."""

    __slots__ = (
        "_batch_seq",
        "_bucket",
        "_held",
        "_lines",
        "_out",
        "_out_size",
        "_paused",
        "_transport_size",
        "cap_negotiating",
        "cap_version",
        "caps",
        "closing",
        "created",
        "ip",
        "last_active",
        "last_recv",
        "monitoring",
        "nick",
        "pass_ok",
        "ping_sent",
        "realname",
        "server",
        "server_name",
        "tag_profile",
        "tls",
        "transport",
        "user",
        "username",
    )

    def __init__(self, server: Server, transport: Transport, ip: str, *, tls: bool = False) -> None:
        self.server = server
        self.server_name = server.name
        self.transport = transport
        # Interned: the User's host is the same string, and so are the hosts
        # of every other connection from this address.
        self.ip = sys.intern(ip)
        self.tls = tls
        now = server.loop.time()
        self.created = now
        self.last_recv = now
        self.last_active = now  # last PRIVMSG/NOTICE etc., for WHOIS idle
        self.ping_sent: float | None = None
        self.closing = False
        # Registration state.
        self.user: User | None = None
        self.nick: str | None = None
        self.username: str | None = None
        self.realname = ""
        self.pass_ok = server.config.server.password is None
        self.cap_negotiating = False
        self.cap_version = 0
        self.caps: frozenset[str] = _NONE
        # Casefolded nicks this client MONITORs: a set once it watches anyone.
        self.monitoring: set[str] | frozenset[str] = _NONE
        self.tag_profile: TagProfile = tag_profile(self.caps)
        # I/O state.
        self._lines = LineBuffer()
        self._held: deque[object] | None = None  # lines held by flood control
        self._paused = False
        self._bucket = TokenBucket(stamp=now) if server.config.limits.flood_control else None
        # Bytes waiting for the end of the loop turn; None when nothing is
        # queued, which also means "not scheduled for a flush".
        self._out: list[bytes] | None = None
        self._out_size = 0
        self._transport_size = 0  # the transport's own buffer, as of the last write
        self._batch_seq = 0

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
        return self.nick or "*"

    def set_caps(self, caps: set[str] | frozenset[str]) -> None:
        """Replace the enabled capabilities (and the tag profile with them)."""
        self.caps = frozenset(caps)
        self.tag_profile = tag_profile(caps)

    def next_batch_id(self) -> str:
        """A batch reference unique on this connection."""
        self._batch_seq += 1
        return f"b{self._batch_seq}"

    # --- input -----------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Bytes from the transport."""
        if self.closing:
            return
        self.last_recv = self.server.loop.time()
        self.ping_sent = None
        items = self._lines.feed(data)
        if self._held is not None:
            self._held.extend(items)
            self._check_held()
            return
        self._run(items)

    def _run(self, items: Sequence[object]) -> None:
        bucket = self._bucket
        for i, item in enumerate(items):
            if self.closing:
                return
            if bucket is not None and not bucket.take(self.server.loop.time()):
                self._held = deque(list(items)[i:])
                self._throttle()
                return
            self._handle(item)

    def _throttle(self) -> None:
        if self._check_held() and not self._paused:
            self._paused = True
            self.transport.pause_reading()
            assert self._bucket is not None
            self.server.loop.call_later(self._bucket.wait(), self._release)

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
        held, self._held = self._held or deque(), None
        self._run(held)
        if self._held is None and not self.closing:
            self.transport.resume_reading()

    def _handle(self, raw: object) -> None:
        if raw is TOO_LONG or (isinstance(raw, bytes) and not check_length(raw)):
            self.send_numeric(ERR_INPUTTOOLONG, "Input line was too long")
            return
        assert isinstance(raw, bytes)
        text, valid = decode(raw)
        try:
            msg = parse_line(text)
        except EmptyLine:
            return
        except ProtocolError as exc:
            # NUL, a stray CR, a command starting with ":" or "@": no client
            # sends these by accident, and guessing what it meant could relay
            # something else. Like ergo, cut it off and say why.
            log.debug("malformed line from %s: %s", self.ip, exc)
            self.close("Received malformed line")
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
        self.server.dispatch(self, msg)

    # --- output ----------------------------------------------------------

    def send_bytes(self, data: bytes) -> None:
        """Queue encoded bytes; they are written at the end of the loop turn."""
        if self.closing:
            return
        out = self._out
        if out is None:
            out = self._out = []
            self.server.output.schedule(self)
        out.append(data)
        self._out_size += len(data)
        if self._out_size + self._transport_size > self.server.sendq_bytes:
            # The cached transport size only errs high (the socket may have
            # drained since): look again before cutting the client off.
            self._transport_size = self.transport.get_write_buffer_size()
            if self._out_size + self._transport_size > self.server.sendq_bytes:
                self.close("SendQ exceeded", error=False)

    def send(self, msg: Message) -> None:
        """Queue one message, encoded for this connection's tag profile."""
        self.send_bytes(encode(msg, self.tag_profile))

    def send_numeric(self, numeric: str, *params: str) -> None:
        """Queue a numeric from the server addressed to this client."""
        self.send(Message(numeric, reply_params((self.display_nick, *params)), self.server_name))

    def flush(self) -> None:
        """Write everything queued in one call."""
        out, self._out = self._out, None
        if out:
            self._out_size = 0
            if not self.closing:
                self.transport.write(b"".join(out) if len(out) > 1 else out[0])
                self._transport_size = self.transport.get_write_buffer_size()

    # --- closing ---------------------------------------------------------

    def close(self, reason: str, *, error: bool = True) -> None:
        """Disconnect with ``reason``, told to the others as the QUIT reason.

        ``error`` sends the client an ERROR line first (not for a client whose
        output is stuck anyway, as after a sendq overflow).
        """
        if self.closing:
            return
        if error:
            host = self.user.host if self.user else self.ip
            who = f"{self.username or '*'}@{host}"
            self.send(Message("ERROR", (f"Closing link: ({who}) [{reason}]",)))
            self.flush()
        self.closing = True
        self._out = None
        self._held = None
        if error:
            self.transport.close()
        else:
            self.transport.abort()
        self.server.loop.call_soon(self.server.connection_closed, self, reason)

    def connection_lost(self) -> None:
        """The transport is gone (peer closed, reset, or we closed it)."""
        self.close("Connection closed", error=False)
