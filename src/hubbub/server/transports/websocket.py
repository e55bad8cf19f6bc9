"""IRC over WebSocket (IRCv3), and the web client's files on the same port.

Theory of operation
-------------------
A connection to a ``websocket_listen`` port starts as HTTP. The sans-I/O
``ServerProtocol`` of the ``websockets`` library parses the request and, once
the connection is upgraded, the frames (masking, fragments, ping/pong, the
close handshake, size limits): this module only moves bytes between it and
asyncio, and between it and a :class:`~hubbub.server.session.Session`.

* A request without ``Upgrade: websocket`` is a browser fetching the client:
  :class:`~hubbub.web.site.Site` answers it and the connection closes
  (one request per connection: the client is a handful of small files).
* An upgrade is checked by :mod:`.handshake` (origin, real client address,
  subprotocol), answered ``101`` by the library, and only then becomes a
  session through ``Server.accept``, exactly as a TCP connection does: the
  same registration, flood control, sendq, pings and limits.

Lines: one IRC line per WebSocket message, without CR LF, both ways. The
session hands over what it queued in a loop turn as chunks of whole CR
LF-terminated lines (``writelines``); each line becomes one message. A
fan-out is encoded once per tag profile upstream and queued as the same bytes
object on every recipient, so it is framed once too (a small cache keyed by
the chunk): each further recipient costs a dictionary look-up.
``text.ircv3.net`` (and no subprotocol) uses text messages,
``binary.ircv3.net`` binary ones. A text message must be UTF-8 (RFC 6455
closes the connection with 1007 otherwise); the server only ever sends UTF-8,
since it refuses non-UTF-8 input (UTF8ONLY). Incoming binary messages go to
the session as bytes, which answers invalid UTF-8 with ``FAIL``, as on TCP.

Limits: a message longer than an IRC line gets ``417`` as on TCP; one past
:data:`MAX_MESSAGE` is not buffered at all (close 1009). The sendq counts
what the asyncio transport holds and what the kernel holds below it, as on
TCP (the socket's send buffer is bounded the same way): the library's output
is drained into the transport at once, so nothing waits anywhere else. The
registration timeout counts from the TCP accept, so the HTTP request (and a
TLS handshake) come out of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from websockets.datastructures import Headers
from websockets.exceptions import InvalidMessage
from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from hubbub.protocol.framing import MAX_LINE, TOO_LONG, TooLong

from .base import Acceptor, LineReceiver, WriteFlow, peer_ip, tune_socket
from .handshake import BINARY, OriginPolicy, choose_subprotocol, client_address, forwarded_tls

if TYPE_CHECKING:
    from hubbub.config import ServerSection
    from hubbub.web.site import Site

log = logging.getLogger(__name__)

#: The websockets library logs every connection at INFO; ours says what matters.
_LIB_LOG = logging.getLogger("hubbub.websockets")
_LIB_LOG.setLevel(logging.WARNING)

#: The largest message read at all; bigger ones close the connection (1009).
MAX_MESSAGE = 2 * MAX_LINE
#: Seconds to send the HTTP request before the connection is dropped.
HANDSHAKE_TIMEOUT = 10.0
#: Seconds to wait for the client's close frame after ours.
CLOSE_TIMEOUT = 2.0

_NOT_HTTP_TEXT = b"This port serves the web client and IRC over WebSocket, not plain IRC.\n"
NOT_HTTP = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_NOT_HTTP_TEXT), _NOT_HTTP_TEXT)
)


#: Distinct chunks whose frames are remembered (per message type), so a
#: fan-out's shared bytes are framed once for all its WebSocket recipients.
FRAME_CACHE = 1024
#: Only chunks up to this size are remembered (a chat line is; a burst of
#: replies to one client is not), which bounds the cache to a few MB.
FRAME_CACHE_CHUNK = 2048
_TEXT_FRAMES: dict[bytes, bytes] = {}
_BINARY_FRAMES: dict[bytes, bytes] = {}


def _frames(chunk: bytes, opcode: Opcode) -> bytes:
    """The frames of whole CR LF-terminated lines: one message per line.

    A server's frames are unmasked and (without extensions) a pure function
    of the payload, so they can be serialised once and sent to many
    connections; the library does the serialising."""
    return b"".join(
        Frame(opcode, line).serialize(mask=False) for line in chunk.split(b"\r\n") if line
    )


def _select(_protocol: ServerProtocol, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    chosen = choose_subprotocol(offered)
    return None if chosen is None else Subprotocol(chosen)


def _header(headers: Headers, name: str) -> str | None:
    """The first value of a header (``Headers.get`` raises on repeated ones)."""
    values = headers.get_all(name)
    return values[0] if values else None


def _is_upgrade(headers: Headers) -> bool:
    return any("websocket" in v.lower() for v in headers.get_all("Upgrade"))


class WebConnection(WriteFlow, asyncio.Protocol):
    """One connection to a web listener; the session's transport once upgraded."""

    __slots__ = (
        "_accepted",
        "_closer",
        "_eof",
        "_failure",
        "_partial",
        "_partial_text",
        "_timer",
        "acceptor",
        "peer",
        "session",
        "settings",
        "site",
        "text",
        "tls",
        "transport",
        "ws",
    )

    def __init__(
        self,
        acceptor: Acceptor,
        site: Site,
        settings: Callable[[], ServerSection],
        *,
        tls: bool = False,
    ) -> None:
        self.acceptor = acceptor
        self.site = site
        #: The current [server] config: origins and proxies follow a reload.
        self.settings = settings
        self.tls = tls
        self.session: LineReceiver | None = None
        self.text = True
        self.ws = ServerProtocol(select_subprotocol=_select, max_size=MAX_MESSAGE, logger=_LIB_LOG)
        self.peer = "unknown"
        self._partial: list[bytes] | None = None  # the frames of a fragmented message
        self._partial_text = True
        self._eof = False  # the TCP connection is being closed by us
        self._failure: str | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._closer: asyncio.TimerHandle | None = None
        # Made at the TCP accept (before a TLS handshake, if any).
        self._accepted = asyncio.get_running_loop().time()

    # --- asyncio.Protocol ----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports have asyncio.Transport's methods, not its class.
        self.transport = transport = cast("asyncio.Transport", transport)
        tune_socket(transport, self.acceptor.sendq_bytes)
        self.peer = peer_ip(transport)
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(HANDSHAKE_TIMEOUT, transport.abort)

    def data_received(self, data: bytes) -> None:
        if self.session is not None:  # counted once IRC is spoken (not the page's files)
            self.session.meter.bytes_in += len(data)
        ws = self.ws
        ws.receive_data(data)
        lines: list[bytes | TooLong] = []
        for event in ws.events_received():
            if isinstance(event, Frame):
                self._frame(event, lines)
            elif isinstance(event, Request):
                self._request(event)
        if lines and self.session is not None and self._failure is None:
            self.session.receive(lines)
        if ws.parser_exc is not None and self._failure is None:
            self._fail(f"WebSocket error: {ws.parser_exc}")
        elif isinstance(ws.handshake_exc, InvalidMessage) and not self._eof:
            # Not HTTP at all (an IRC client on the web port, say): the library
            # would just hang up; say what this port is instead.
            self.transport.write(NOT_HTTP)
        self._flush()

    def eof_received(self) -> bool:
        self.ws.receive_eof()
        self._flush()
        return False  # a half-closed peer sends nothing more: close

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._timer, self._closer):
            if timer is not None:
                timer.cancel()
        if self.session is not None:
            self.session.connection_lost()
            self.session = None

    # --- the Transport a session writes to -------------------------------------

    def write(self, data: bytes) -> None:
        """Send whole CR LF-terminated lines, one message each."""
        self.writelines([data])

    def writelines(self, chunks: list[bytes]) -> None:
        """Send queued chunks (each one or more whole lines), one message per line."""
        if self.ws.state is not State.OPEN:
            return
        cache = _TEXT_FRAMES if self.text else _BINARY_FRAMES
        framed = []
        for chunk in chunks:
            frames = cache.get(chunk)
            if frames is None:
                frames = _frames(chunk, Opcode.TEXT if self.text else Opcode.BINARY)
                if len(chunk) <= FRAME_CACHE_CHUNK:  # a reply burst is one connection's
                    if len(cache) >= FRAME_CACHE:
                        cache.clear()
                    cache[chunk] = frames
            framed.append(frames)
        self.transport.write(framed[0] if len(framed) == 1 else b"".join(framed))

    def get_write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """The TCP connection's (``socket`` for the kernel's backlog)."""
        return self.transport.get_extra_info(name, default)

    def close(self) -> None:
        """Start the closing handshake; the TCP connection ends when the
        client answers, or after :data:`CLOSE_TIMEOUT`."""
        if self.ws.state is State.OPEN:
            self.ws.send_close(CloseCode.NORMAL_CLOSURE)
            self._flush()
            self._closer = asyncio.get_running_loop().call_later(
                CLOSE_TIMEOUT, self.transport.close
            )
        elif not self._eof:
            self.transport.close()

    def abort(self) -> None:
        # After a failure the close frame is already on its way out: let
        # transport.close() deliver it rather than drop it.
        if not self._eof:
            self.transport.abort()

    def pause_reading(self) -> None:
        if not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if not self.transport.is_closing():
            self.transport.resume_reading()

    # --- inside ------------------------------------------------------------------

    def _flush(self) -> None:
        """Hand what the library wrote to the socket; close it when asked."""
        out = self.ws.data_to_send()
        if not out:
            return
        chunks = [chunk for chunk in out if chunk]
        if chunks:
            self.transport.write(chunks[0] if len(chunks) == 1 else b"".join(chunks))
        if len(chunks) != len(out) and not self._eof:
            # The library's end-of-stream marker: the closing handshake is done
            # (or failed); close() still sends what is buffered first.
            self._eof = True
            self.transport.close()

    def _frame(self, frame: Frame, lines: list[bytes | TooLong]) -> None:
        """A data frame: a whole message is one line."""
        opcode = frame.opcode
        data = frame.data if isinstance(frame.data, bytes) else bytes(frame.data)
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            if frame.fin:
                self._line(data, opcode is Opcode.TEXT, lines)
            else:
                self._partial, self._partial_text = [data], opcode is Opcode.TEXT
        elif opcode is Opcode.CONT and self._partial is not None:
            self._partial.append(data)
            if frame.fin:
                whole, self._partial = b"".join(self._partial), None
                self._line(whole, self._partial_text, lines)
        # PING is answered, PONG ignored and CLOSE answered by the library.

    def _line(self, data: bytes, text: bool, lines: list[bytes | TooLong]) -> None:
        if self._failure is not None:
            return
        if text:
            try:
                data.decode()
            except UnicodeDecodeError:
                # RFC 6455 8.1: a text message that is not UTF-8 fails the connection.
                self.ws.fail(CloseCode.INVALID_DATA, "invalid UTF-8 in a text message")
                self._fail("WebSocket error: invalid UTF-8 in a text message")
                return
        # The spec says no CR LF; a client that adds one anyway loses it here.
        if data.endswith(b"\n"):
            data = data[:-2] if data.endswith(b"\r\n") else data[:-1]
        if len(data) > MAX_LINE:
            lines.append(TOO_LONG)
        elif data:
            lines.append(data)

    def _fail(self, reason: str) -> None:
        """The connection failed (bad frames, invalid UTF-8, too big): the
        close frame goes out first, then the session leaves saying why."""
        self._failure = reason
        self._flush()
        if self.session is not None:
            session, self.session = self.session, None
            session.close(reason, error=False)  # no ERROR line: the socket is closing
        log.debug("%s: %s", self.peer, reason, extra={
            "event": "websocket.failed", "address": self.peer, "reason": reason,
        })  # fmt: skip

    def _request(self, request: Request) -> None:
        """The HTTP request: a file, or the WebSocket handshake."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        headers = request.headers
        if not _is_upgrade(headers):
            reply = self.site.respond(request.method, request.path, lambda n: _header(headers, n))
            response = Response(reply.status, reply.reason, Headers(reply.headers), reply.body)
            response.headers["Connection"] = "close"
            self.ws.send_response(response)
            return
        section = self.settings()
        ip = client_address(self.peer, headers.get_all("X-Forwarded-For"), section.trusted_proxies)
        proxied = ip != self.peer
        host = (_header(headers, "X-Forwarded-Host") if proxied else None) or _header(
            headers, "Host"
        )
        origin = _header(headers, "Origin")
        if not OriginPolicy(section.allowed_origins).allows(origin, host):
            log.info("refused a WebSocket from %s: origin %s is not allowed", ip, origin,
                     extra={"event": "websocket.origin_refused", "address": ip,
                            "origin": origin})  # fmt: skip
            response = self.ws.reject(403, f"Origin not allowed: {origin}\n")
            self.ws.send_response(response)
            return
        response = self.ws.accept(request)
        self.ws.send_response(response)
        if response.status_code != 101:
            return
        self.text = self.ws.subprotocol != BINARY
        self._flush()  # the 101 goes out before anything the session writes
        tls = self.tls or (proxied and forwarded_tls(_header(headers, "X-Forwarded-Proto")))
        self.session = self.acceptor.accept(
            self, ip, tls=tls, framed=True, started=self._accepted
        )
