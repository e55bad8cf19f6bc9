"""What a transport needs of the server, as small interfaces.

A transport accepts a connection, asks the server for a session
(:class:`Acceptor`), then feeds it lines and tells it when the peer is gone
(:class:`LineReceiver`). The session writes back through the transport's
``write`` (see :class:`hubbub.server.interfaces.Transport`).
"""

from __future__ import annotations

import contextlib
import fcntl
import socket
import struct
import termios
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

    def held_back(self) -> None:
        """The transport started holding bytes back (asyncio's pause_writing)."""
        ...

    def caught_up(self) -> None:
        """The transport's buffer is empty again (asyncio's resume_writing)."""
        ...


class WriteFlow:
    """asyncio's write flow control, handed to the session: a transport
    protocol that has a ``session`` mixes this in before asyncio.Protocol."""

    __slots__ = ()

    session: LineReceiver | None

    def pause_writing(self) -> None:
        # The transport holds bytes back (high-water mark 0, see tune_socket).
        if self.session is not None:
            self.session.held_back()

    def resume_writing(self) -> None:
        if self.session is not None:
            self.session.caught_up()


class Acceptor(Protocol):
    """The server as a transport sees it."""

    #: The current sendq limit, which the socket's send buffer is sized by.
    sendq_bytes: int

    def accept(
        self,
        transport: Transport,
        ip: str,
        *,
        tls: bool = False,
        framed: bool = False,
        certfp: str | None = None,
        started: float | None = None,
    ) -> LineReceiver | None:
        """A session for a new connection; None when the server refused it
        (it has told the client why and closed the transport). ``framed``:
        the session hands its output to ``transport.writelines`` chunk by
        chunk instead of joining it (framing transports). ``certfp``: the
        SHA-256 fingerprint of the client's TLS certificate, if it showed one.
        ``started``: when the TCP connection was accepted, if a handshake
        came before this call."""
        ...


class SocketTransport(Protocol):
    """The part of an asyncio transport these helpers read."""

    def get_extra_info(self, name: str, default: Any = None) -> Any: ...


#: The smallest send buffer asked of the kernel (it enforces its own minimum
#: of about 4.5 KB anyway).
MIN_SEND_BUFFER = 4096


def send_buffer_size(sendq_bytes: int) -> int:
    """The SO_SNDBUF to ask for, given the sendq: an eighth of it.

    Left alone, Linux grows a socket's send buffer up to ``tcp_wmem``'s
    maximum (4 MB by default) for a peer that stopped reading, and the
    session only notices a stuck client once the transport above the kernel
    holds bytes back. So the kernel's share must be smaller than the sendq:
    Linux doubles the value asked for and then stores up to about twice that
    in payload (measured: SO_SNDBUF 8192 held 32,868 bytes for a peer that
    did not read), which keeps the kernel's share within half the sendq.
    The session counts that share exactly (:meth:`SocketQueue.held`) once
    the transport holds anything back. 128 KB asked (256 KB granted) for
    the default 1 MiB sendq is still far more than a chat client needs in
    flight.
    """
    return max(MIN_SEND_BUFFER, sendq_bytes // 8)


class TunableTransport(SocketTransport, Protocol):
    """An asyncio transport, as :func:`tune_socket` tunes it."""

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None: ...


def tune_socket(transport: TunableTransport, sendq_bytes: int) -> None:
    """Turn Nagle off, bound the kernel's send buffer by the sendq, and have
    the transport say when it starts holding bytes back.

    Nagle: chat lines are small and latency matters more than packet count;
    output is already coalesced per loop turn, so Nagle would only add
    delay. The send buffer: see :func:`send_buffer_size`. A high-water mark
    of 0 makes asyncio call ``pause_writing`` as soon as the transport's
    buffer is not empty (the kernel's is full) and ``resume_writing`` once
    it is empty again: the moments the session counts the kernel's share
    (``Session.held_back``), at no cost per write. Once per connection."""
    transport.set_write_buffer_limits(high=0)
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer_size(sendq_bytes))


_INT = struct.Struct("i")
_INT_ZERO = bytes(_INT.size)
#: SO_LINGER on, 0 seconds: close() resets the connection and frees its queue.
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)


class SocketQueue:
    """The kernel's send queue of a transport's socket (Linux)."""

    __slots__ = ()

    def held(self, transport: Transport) -> int:
        """Bytes written but not yet acknowledged by the peer's TCP, sent or
        not (SIOCOUTQ, which is TIOCOUTQ's number). 0 where the kernel
        cannot say (no socket, closed, another system): the bounded send
        buffer still limits what is missed."""
        sock = transport.get_extra_info("socket")
        if sock is None:
            return 0
        try:
            return int(_INT.unpack(fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, _INT_ZERO))[0])
        except (OSError, ValueError):
            return 0

    def drop(self, transport: Transport) -> None:
        """Linger 0, so that closing the socket resets the connection: the
        kernel frees the queue at once instead of keeping the socket as an
        orphan that goes on trying to deliver it to a peer that does not
        read (asyncio's ``abort()`` only drops the transport's own buffer)."""
        sock = transport.get_extra_info("socket")
        if sock is None:
            return
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)


#: The one instance: the app hands it to the server (``Server.kernel``).
SOCKET_QUEUE = SocketQueue()


def peer_ip(transport: SocketTransport) -> str:
    """The peer's IP address (an IPv4-mapped IPv6 address as plain IPv4)."""
    peer = transport.get_extra_info("peername")
    ip = peer[0] if isinstance(peer, tuple) else "unknown"
    return ip[7:] if ip.startswith("::ffff:") else ip
