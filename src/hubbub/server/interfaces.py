"""The small interfaces the server's parts depend on instead of each other.

Each is a :class:`typing.Protocol`: what one part needs of another, and no
more. The session needs a :class:`Transport` to write to and a :class:`Loop`
for its clock and timers (asyncio's transport and loop fit as they are, and
tests pass fakes). State and delivery need a :class:`Peer`: a local client
that bytes can be sent to. With these, no module in ``hubbub.server`` imports
another that imports it back, not even for type hints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from hubbub.protocol import Message

from .caps import TagProfile


class Transport(Protocol):
    """Where a session's output goes, and how its input is paced.

    ``write`` takes one or more whole lines, each ending in CR LF. A stream
    transport (TCP, TLS) writes them as they are; a framing transport
    (WebSocket) sends each line as one message, without the CR LF.
    ``writelines`` takes such chunks as they were queued: a framing transport
    gets them from its session this way (see ``Server.accept(framed=True)``),
    so that a fan-out's shared bytes are framed once, not once per recipient.
    ``get_extra_info("socket")`` is where the transports' ``kernel_backlog``
    finds the socket below (None: there is none).
    """

    def write(self, data: bytes) -> None: ...
    def writelines(self, chunks: list[bytes]) -> None: ...
    def get_write_buffer_size(self) -> int: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def get_extra_info(self, name: str, default: Any = None) -> Any: ...


class KernelQueue(Protocol):
    """The kernel's send queue below a transport: the part of the sendq the
    transport cannot see. The transports supply it (``transports/base.py``:
    SIOCOUTQ and SO_LINGER on the socket)."""

    def held(self, transport: Transport) -> int:
        """Bytes the kernel still holds for the peer (sent but not yet
        acknowledged, or not sent yet)."""
        ...

    def drop(self, transport: Transport) -> None:
        """Make the next ``abort()`` discard what the kernel holds, instead
        of leaving it to the kernel to deliver after the socket is closed."""
        ...


class NoKernel:
    """For transports with no kernel below them (tests, in-process)."""

    __slots__ = ()

    def held(self, transport: Transport) -> int:
        """Nothing below."""
        return 0

    def drop(self, transport: Transport) -> None:
        """Nothing to drop."""


NO_KERNEL: KernelQueue = NoKernel()


class Loop(Protocol):
    """The clock and timers the server needs (asyncio's loop fits)."""

    def time(self) -> float: ...
    def call_soon(self, callback: Callable[..., Any], *args: Any) -> Any: ...
    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Any: ...
    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any) -> Any: ...


class Peer(Protocol):
    """A client connected to this server process: what delivery writes to."""

    caps: frozenset[str]
    tag_profile: TagProfile
    closing: bool
    ip: str
    certfp: str | None
    last_active: float
    server_name: str

    @property
    def display_nick(self) -> str: ...
    def send_bytes(self, data: bytes) -> None: ...
    def send(self, msg: Message) -> None: ...
    def next_batch_id(self) -> str: ...
    def close(self, reason: str, *, error: bool = True) -> None: ...
