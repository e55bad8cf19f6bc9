"""Fan-out: encode a message once per tag profile and hand the same bytes to
every recipient.

A PRIVMSG to a 500-member channel is serialised once for the members with
message-tags, once for those with only server-time, once for those with no
tags at all — not 500 times — and the same ``bytes`` object goes into every
session's output buffer. The buffers are flushed once per event-loop turn
(:mod:`.output`), so a burst of messages costs one write per recipient, not
one per message.
"""

from __future__ import annotations

from collections.abc import Iterable

from hubbub.protocol import Message

from .caps import NO_TAG_PROFILE, TagProfile
from .interfaces import Peer


def encode(msg: Message, profile: TagProfile) -> bytes:
    """The wire bytes of ``msg`` for a session with tag ``profile``."""
    if profile is None:
        return msg.tagged_bytes(msg.tags)
    if not profile or not msg.tags:
        return msg.untagged_bytes()
    return msg.tagged_bytes({k: v for k, v in msg.tags.items() if k in profile})


def fanout(msg: Message, sessions: Iterable[Peer], exclude: Peer | None = None) -> None:
    """Send ``msg`` to every session in ``sessions`` except ``exclude``."""
    cache: dict[TagProfile, bytes] = {}
    for session in sessions:
        if session is exclude:
            continue
        profile = session.tag_profile
        data = cache.get(profile)
        if data is None:
            # Most recipients take no tags: that form without a call to encode.
            data = cache[profile] = (
                msg.untagged_bytes() if profile == NO_TAG_PROFILE else encode(msg, profile)
            )
        session.send_bytes(data)
