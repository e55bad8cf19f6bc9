"""What a transport needs of the server, as small interfaces.

A transport accepts a connection, asks the server for a session
(:class:`Acceptor`), then feeds it lines and tells it when the peer is gone
(:class:`LineReceiver`). The session writes back through the transport's
``write`` (see :class:`hubbub.server.interfaces.Transport`).
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any, Protocol

from hubbub.protocol.framing import TooLong

from ..interfaces import Transport
from ..meters import TransportMeter


class LineReceiver(Protocol):
    """A session as its transport sees it."""

    #: Where the transport counts the bytes it reads.
    meter: TransportMeter

    def receive(self, lines: Sequence[bytes | TooLong]) -> None: ...
    def connection_lost(self) -> None: ...
    def close(self, reason: str, *, error: bool = True) -> None: ...


class Acceptor(Protocol):
    """The server as a transport sees it."""

    def accept(
        self, transport: Transport, ip: str, *, tls: bool = False, framed: bool = False
    ) -> LineReceiver | None:
        """A session for a new connection; None when the server refused it
        (it has told the client why and closed the transport). ``framed``:
        the session hands its output to ``transport.writelines`` chunk by
        chunk instead of joining it (framing transports)."""
        ...


class SocketTransport(Protocol):
    """The part of an asyncio transport these helpers read."""

    def get_extra_info(self, name: str, default: Any = None) -> Any: ...


def tune_socket(transport: SocketTransport) -> None:
    """Turn Nagle off: chat lines are small and latency matters more than
    packet count; output is already coalesced per loop turn, so Nagle would
    only add delay."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def peer_ip(transport: SocketTransport) -> str:
    """The peer's IP address (an IPv4-mapped IPv6 address as plain IPv4)."""
    peer = transport.get_extra_info("peername")
    ip = peer[0] if isinstance(peer, tuple) else "unknown"
    return ip[7:] if ip.startswith("::ffff:") else ip
