"""A blocking IRC-over-WebSocket client for tests, on the ``websockets`` library.

It is a :class:`~ircclient.LineClient` whose lines travel as WebSocket
messages, so tests use the same ``register``/``expect``/``wait_for`` on both
transports. Every message received is also kept raw in ``frames`` (``str``
for a text message, ``bytes`` for a binary one) for tests of the framing.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from hubbub.protocol import decode, parse_line

from ircclient import Closed, LineClient

TEXT = "text.ircv3.net"
BINARY = "binary.ircv3.net"


class WSClient(LineClient):
    """One WebSocket connection to a server's web listener."""

    def __init__(
        self,
        port: int,
        *,
        subprotocols: list[str] | None = None,
        origin: str | None = None,
        headers: dict[str, str] | None = None,
        sock: socket.socket | None = None,
        scheme: str = "ws",
        timeout: float = 5.0,
        **kwargs: Any,
    ) -> None:
        # Entered as a context manager (closed by close()), as websockets asks.
        self.conn: ClientConnection = connect(
            f"{scheme}://127.0.0.1:{port}/",
            subprotocols=subprotocols,  # type: ignore[arg-type]
            origin=origin,  # type: ignore[arg-type]
            additional_headers=headers,
            sock=sock,
            open_timeout=timeout,
            compression=None,
            ping_interval=None,
            **kwargs,
        ).__enter__()
        self.timeout = timeout
        self.inbox = []
        self.frames: list[str | bytes] = []
        self.closed = False
        self.nick = None

    @property
    def subprotocol(self) -> str | None:
        return self.conn.subprotocol

    def send(self, line: str | bytes) -> None:
        """One line, one message: ``str`` as text, ``bytes`` as binary."""
        self.conn.send(line)

    def send_raw_text(self, payload: bytes) -> None:
        """A text frame with exactly ``payload`` (which may not be UTF-8)."""
        self.conn.socket.sendall(Frame(Opcode.TEXT, payload).serialize(mask=True))

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        try:
            data = self.conn.recv(timeout=remaining)
        except ConnectionClosed as exc:
            self.closed = True
            raise Closed(str(exc)) from None
        self.frames.append(data)
        raw = data.encode() if isinstance(data, str) else data
        assert not raw.endswith(b"\n"), f"a message ends with a line break: {raw!r}"
        self.inbox.append(parse_line(decode(raw)[0]))

    def close_code(self) -> int | None:
        """The close code the server sent, once closed."""
        rcvd = self.conn.protocol.close_rcvd
        return None if rcvd is None else int(rcvd.code)

    def close(self) -> None:
        self.conn.close()


class RawWSClient(LineClient):
    """IRC over WebSocket on a plain blocking socket, with no reader thread:
    it reads only when a test asks it to, so it can play a client that
    stopped reading (the library's own client keeps reading in the
    background). The handshake and the frames are the library's sans-I/O
    ``ClientProtocol``."""

    def __init__(self, port: int, *, rcvbuf: int | None = None, timeout: float = 5.0) -> None:
        sock = socket.socket()
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(timeout)
        sock.connect(("127.0.0.1", port))
        self.sock = sock
        self.timeout = timeout
        self.inbox = []
        self.closed = False
        self.nick = None
        self.bytes_read = 0
        uri = parse_uri(f"ws://127.0.0.1:{port}/")
        self.ws = ClientProtocol(uri, subprotocols=[Subprotocol(TEXT)])
        self.ws.send_request(self.ws.connect())
        self._push()
        while self.ws.state is not State.OPEN:
            data = sock.recv(65536)
            if not data:
                raise Closed("EOF during the WebSocket handshake")
            self.ws.receive_data(data)
            self._take()

    def _push(self) -> None:
        for chunk in self.ws.data_to_send():
            if chunk:
                self.sock.sendall(chunk)

    def _take(self) -> None:
        for event in self.ws.events_received():
            if isinstance(event, Frame) and event.opcode in (Opcode.TEXT, Opcode.BINARY):
                self.inbox.append(parse_line(decode(bytes(event.data))[0]))

    def send(self, line: str | bytes) -> None:
        """One line, one text message."""
        self.ws.send_text(line.encode() if isinstance(line, str) else line)
        self._push()

    def send_binary(self, line: bytes) -> None:
        """One line, one binary message."""
        self.ws.send_binary(line)
        self._push()

    def _received(self, data: bytes) -> None:
        """Bytes off the socket: the messages they complete go to the inbox."""
        self.ws.receive_data(data)
        self._take()
        self._push()  # pongs, the close handshake
