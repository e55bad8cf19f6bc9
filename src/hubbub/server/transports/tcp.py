"""Plain TCP and TLS: an asyncio Protocol that frames bytes into lines.

This is all the socket code there is. The byte stream is cut into lines here
(:class:`~hubbub.protocol.LineBuffer`, with its length limit) and the lines
go to the session; the session writes whole lines back through the asyncio
transport, which already has the interface it needs (write, pause/resume
reading, buffer size, close/abort).

TLS: asyncio runs the handshake before :meth:`IRCProtocol.connection_made`
(the listener's ``ssl_handshake_timeout`` bounds it, see ``app.py``), but it
makes the protocol object when it accepts the TCP connection. So
:class:`TLSProtocol` notes that moment, and the registration timeout counts
from it: a handshake that dawdles eats into the time to register, as the
contract says ("TLS handshake included").
"""

from __future__ import annotations

import asyncio
from typing import cast

from hubbub.protocol import LineBuffer

from ..interfaces import Transport
from .base import Acceptor, LineReceiver, WriteFlow, peer_ip, tune_socket
from .client_certs import fingerprint


class IRCProtocol(WriteFlow, LineBuffer, asyncio.Protocol):
    """One accepted TCP connection: a line buffer with a socket.

    It *is* its LineBuffer rather than holding one: with ten thousand idle
    clients, one object less per connection is memory worth having (and for
    the same reason ``tls`` is a class attribute, not a slot).
    """

    __slots__ = ("acceptor", "session")

    tls = False

    def __init__(self, acceptor: Acceptor) -> None:
        super().__init__()
        self.acceptor = acceptor
        self.session: LineReceiver | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        acceptor = self.acceptor
        tune_socket(cast("asyncio.Transport", transport), acceptor.sendq_bytes)
        # A TLS handshake is complete here, client certificate included.
        certfp = fingerprint(transport.get_extra_info("ssl_object")) if self.tls else None
        self.session = acceptor.accept(
            cast("Transport", transport),
            peer_ip(transport),
            tls=self.tls,
            certfp=certfp,
            started=self.accepted(),
        )

    def accepted(self) -> float | None:
        """When the TCP connection was accepted, if before connection_made."""
        return None

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


class TLSProtocol(IRCProtocol):
    """One accepted TLS connection: made at the TCP accept, connected once
    the handshake is done."""

    __slots__ = ("_accepted",)

    tls = True

    def __init__(self, acceptor: Acceptor) -> None:
        super().__init__(acceptor)
        self._accepted = asyncio.get_running_loop().time()

    def accepted(self) -> float | None:
        return self._accepted
