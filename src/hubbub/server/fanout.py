"""Fan-out: one message to many connections, encoded once per tag profile.

This is the hot path of a chat server. A PRIVMSG to a 500-member channel is
turned into bytes once for the clients with message-tags, once for those with
only server-time, once for those with no tags at all — not 500 times — and the
same ``bytes`` object is handed to every connection's output buffer. The
buffers are flushed once per event-loop turn (see :mod:`.connection`), so a
burst of messages costs one write per recipient, not one per message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from hubbub.protocol import Message

from .caps import TagProfile

if TYPE_CHECKING:
    from .connection import Connection


def encode(msg: Message, profile: TagProfile) -> bytes:
    """The wire bytes of ``msg`` for a connection with tag ``profile``."""
    if profile is None or not msg.tags:
        return msg.to_bytes()
    if not profile:
        return msg.to_bytes(tags=False)
    kept = {k: v for k, v in msg.tags.items() if k in profile}
    return msg.with_tags(kept).to_bytes()


def deliver(msg: Message, conns: Iterable[Connection], exclude: Connection | None = None) -> None:
    """Send ``msg`` to every connection in ``conns`` except ``exclude``."""
    cache: dict[TagProfile, bytes] = {}
    for conn in conns:
        if conn is exclude:
            continue
        profile = conn.tag_profile
        data = cache.get(profile)
        if data is None:
            data = cache[profile] = encode(msg, profile)
        conn.send_bytes(data)
