"""What a transport needs of the server, as small interfaces.

A transport accepts a connection, asks the server for a session
(:class:`Acceptor`), then feeds it lines and tells it when the peer is gone
(:class:`LineReceiver`). The session writes back through the transport's
``write`` (see :class:`hubbub.server.interfaces.Transport`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hubbub.protocol.framing import TooLong

from ..interfaces import Transport


class LineReceiver(Protocol):
    """A session as its transport sees it."""

    def receive(self, lines: Sequence[bytes | TooLong]) -> None: ...
    def connection_lost(self) -> None: ...


class Acceptor(Protocol):
    """The server as a transport sees it."""

    def accept(self, transport: Transport, ip: str, *, tls: bool = False) -> LineReceiver | None:
        """A session for a new connection; None when the server refused it
        (it has told the client why and closed the transport)."""
        ...
