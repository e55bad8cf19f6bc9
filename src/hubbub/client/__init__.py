"""The hubbub IRC client library (asyncio, on :mod:`hubbub.protocol`).

``Client`` keeps one connection up (TCP or TLS, IRCv3 caps, reconnect with
backoff and rejoin) and reports typed events from :mod:`hubbub.client.events`.
``ClientSession`` is the same protocol without sockets. The TUI and the plain
line mode (``hubbub chat``) are built on these; so are bots::

    async with Client("127.0.0.1", 6667, "bot") as client:
        async for event in client.events():
            ...
"""

from . import events
from .connection import Client, describe_error
from .session import WANTED_CAPS, ClientSession
from .state import Channel, ClientState, Member, ServerInfo

__all__ = [
    "WANTED_CAPS",
    "Channel",
    "Client",
    "ClientSession",
    "ClientState",
    "Member",
    "ServerInfo",
    "describe_error",
    "events",
]
