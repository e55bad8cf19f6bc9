"""Plain TCP and TLS: an asyncio Protocol that hands bytes to a Connection.

This is all the socket code there is. The Connection does the rest and writes
back through the asyncio transport, which already has the interface it needs
(write, pause/resume reading, buffer size, close/abort).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from ..connection import Connection, Transport
    from ..core import Server

log = logging.getLogger(__name__)


class IRCProtocol(asyncio.Protocol):
    """One accepted TCP (or TLS) connection."""

    __slots__ = ("conn", "server", "tls")

    def __init__(self, server: Server, *, tls: bool = False) -> None:
        self.server = server
        self.tls = tls
        self.conn: Connection | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Chat lines are small and latency matters more than packet count;
            # output is already coalesced per loop turn, so Nagle only adds delay.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = transport.get_extra_info("peername")
        ip = peer[0] if isinstance(peer, tuple) else "unknown"
        if ip.startswith("::ffff:"):
            ip = ip[7:]
        self.conn = self.server.accept(cast("Transport", transport), ip, tls=self.tls)

    def data_received(self, data: bytes) -> None:
        if self.conn is not None:
            self.conn.feed(data)

    def eof_received(self) -> bool:
        # A half-closed peer sends nothing more: treat it as gone.
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.conn.connection_lost()
            self.conn = None
