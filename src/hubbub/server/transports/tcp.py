"""Plain TCP and TLS: an asyncio Protocol that frames bytes into lines.

This is all the socket code there is. The byte stream is cut into lines here
(:class:`~hubbub.protocol.LineBuffer`, with its length limit) and the lines
go to the session; the session writes whole lines back through the asyncio
transport, which already has the interface it needs (write, pause/resume
reading, buffer size, close/abort).
"""

from __future__ import annotations

import asyncio
from typing import cast

from hubbub.protocol import LineBuffer

from ..interfaces import Transport
from .base import Acceptor, LineReceiver, peer_ip, tune_socket


class IRCProtocol(LineBuffer, asyncio.Protocol):
    """One accepted TCP (or TLS) connection: a line buffer with a socket.

    It *is* its LineBuffer rather than holding one: with ten thousand idle
    clients, one object less per connection is memory worth having.
    """

    __slots__ = ("acceptor", "session", "tls")

    def __init__(self, acceptor: Acceptor, *, tls: bool = False) -> None:
        super().__init__()
        self.acceptor = acceptor
        self.tls = tls
        self.session: LineReceiver | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        tune_socket(transport)
        self.session = self.acceptor.accept(
            cast("Transport", transport), peer_ip(transport), tls=self.tls
        )

    def data_received(self, data: bytes) -> None:
        session = self.session
        if session is not None:
            session.meter.bytes_in += len(data)
            session.receive(self.feed(data))

    def eof_received(self) -> bool:
        # A half-closed peer sends nothing more: treat it as gone.
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.session is not None:
            self.session.connection_lost()
            self.session = None
