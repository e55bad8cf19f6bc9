"""Stored history, shown to one client: CHATHISTORY, SEARCH and the replay on join.

A stored event is rendered the way it was delivered (the renderers of
:mod:`.delivery`), with its original msgid and server-time, into the reply
buffer of the command that asked, wrapped in a ``BATCH`` when the client
has the ``batch`` capability. Tags the client did not ask for are dropped
when the buffer is encoded for it, as for any other line.

A channel's stored lines carry the channel's name at the time; after a
rename (draft/channel-rename) they are shown under its name now, so they
land in the buffer the client has for it.

Clients without server-time or batch still learn that replayed lines are
old (:func:`mark_replay`): their text starts with the time it was said,
and without batch a server NOTICE opens and closes the replay.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from hubbub import events as ev
from hubbub.protocol import Message, casefold
from hubbub.store.base import Found

from .delivery import (
    render_join,
    render_kick,
    render_message,
    render_modes,
    render_nick,
    render_part,
    render_quit,
    render_topic,
)
from .interfaces import Peer
from .reply_buffer import ReplyBuffer
from .state import Network


def _current_name(found: Found, network: Network, name: str) -> str:
    """``name`` (the channel as stored), or its name now if it was renamed."""
    if found.channel is None or casefold(name) == found.channel:
        return name
    chan = network.channel(found.channel)
    return chan.name if chan is not None else name


def render(found: Found, network: Network, caps: frozenset[str]) -> Message | None:
    """The line a client with ``caps`` is shown for a stored event."""
    e = found.event
    if isinstance(e, ev.MessageSent):
        if e.channel:
            name = _current_name(found, network, e.channel)
            e = e._replace(channel=name, target=e.status + name)
        return render_message(e)
    if isinstance(e, ev.Joined):
        e = e._replace(channel=_current_name(found, network, e.channel))
        return render_join(e, extended="extended-join" in caps)
    if isinstance(e, ev.Parted):
        return render_part(e._replace(channel=_current_name(found, network, e.channel)))
    if isinstance(e, ev.Kicked):
        return render_kick(e._replace(channel=_current_name(found, network, e.channel)))
    if isinstance(e, ev.TopicChanged):
        return render_topic(e._replace(channel=_current_name(found, network, e.channel)))
    if isinstance(e, ev.ChannelModeChanged):
        return render_modes(e._replace(channel=_current_name(found, network, e.channel)))
    if isinstance(e, ev.UserQuit):
        return render_quit(e)
    if isinstance(e, ev.NickChanged):
        return render_nick(e)
    return None


def add_batch(
    rb: ReplyBuffer, batch_type: str, params: Sequence[str], messages: Sequence[Message]
) -> None:
    """``messages`` into ``rb``, inside a batch when the client has ``batch``
    (even an empty one: the client then knows the answer is complete)."""
    session = rb.session
    if "batch" not in session.caps:
        for msg in messages:
            rb.add(msg)
        return
    ref = session.next_batch_id()
    server = session.server_name
    rb.add(Message("BATCH", (f"+{ref}", batch_type, *params), server))
    for msg in messages:
        rb.add(msg.with_tags({**msg.tags, "batch": ref}))
    rb.add(Message("BATCH", (f"-{ref}",), server))


def add_history(
    rb: ReplyBuffer,
    found: Sequence[Found],
    network: Network,
    batch_type: str,
    params: Sequence[str],
) -> None:
    """Stored events into ``rb`` as one batch of ``batch_type``."""
    caps = rb.session.caps
    lines = [m for f in found if (m := render(f, network, caps)) is not None]
    add_batch(rb, batch_type, params, lines)


def _stamp(t: float, now: float) -> str:
    """``[14:05]`` today, ``[2024-03-01 14:05]`` before (UTC)."""
    when = datetime.fromtimestamp(t, UTC)
    same_day = when.date() == datetime.fromtimestamp(now, UTC).date()
    return when.strftime("[%H:%M]" if same_day else "[%Y-%m-%d %H:%M]")


def mark_replay(msg: Message, when: float, now: float) -> Message:
    """A replayed PRIVMSG/NOTICE for a client without server-time: its text
    starts with when it was said (inside a CTCP ACTION, after ``ACTION``)."""
    if len(msg.params) < 2:
        return msg
    text = msg.params[-1]
    stamp = _stamp(when, now)
    action = text.startswith("\x01ACTION ")
    text = f"\x01ACTION {stamp} {text[8:]}" if action else f"{stamp} {text}"
    return Message(msg.command, (*msg.params[:-1], text), msg.source, msg.tags)


def add_replay(
    rb: ReplyBuffer, found: Sequence[Found], network: Network, channel: str, now: float
) -> None:
    """The replay on join for a client without draft/chathistory: the last
    lines of ``channel``, marked as history by whatever the client supports."""
    if not found:
        return
    session: Peer = rb.session
    caps = session.caps
    lines: list[Message] = []
    for f in found:
        msg = render(f, network, caps)
        if msg is None:
            continue
        if "server-time" not in caps and "message-tags" not in caps:
            msg = mark_replay(msg, f.event.time, now)
        lines.append(msg)
    if "batch" in caps:
        add_batch(rb, "chathistory", (channel,), lines)
        return
    server = session.server_name
    count = f"{len(lines)} message{'s' if len(lines) != 1 else ''}"
    rb.add(Message("NOTICE", (channel, f"Replaying the last {count} of {channel}:"), server))
    for msg in lines:
        rb.add(msg)
    rb.add(Message("NOTICE", (channel, "End of replay; what follows is live."), server))
