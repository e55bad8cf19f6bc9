"""The topic and names replies, shared by JOIN, TOPIC, NAMES and RENAME."""

from __future__ import annotations

from hubbub.protocol import Message
from hubbub.protocol.numerics import (
    RPL_ENDOFNAMES,
    RPL_NAMREPLY,
    RPL_NOTOPIC,
    RPL_TOPIC,
    RPL_TOPICWHOTIME,
)

from .interfaces import Peer
from .reply_buffer import ReplyBuffer
from .state import Channel, User


def send_topic(session: Peer, chan: Channel, rb: ReplyBuffer) -> None:
    """RPL_TOPIC + RPL_TOPICWHOTIME, or RPL_NOTOPIC."""
    nick, server = session.display_nick, session.server_name
    if not chan.topic:
        rb.add(Message(RPL_NOTOPIC, (nick, chan.name, "No topic is set"), server))
        return
    rb.add(Message(RPL_TOPIC, (nick, chan.name, chan.topic), server))
    rb.add(
        Message(
            RPL_TOPICWHOTIME,
            (nick, chan.name, chan.topic_setter, str(int(chan.topic_time))),
            server,
        )
    )


def channel_symbol(chan: Channel) -> str:
    """NAMES' channel type: ``@`` secret, ``*`` private, ``=`` public."""
    return "@" if "s" in chan.modes else "*" if "p" in chan.modes else "="


def send_names(session: Peer, viewer: User | None, chan: Channel, rb: ReplyBuffer) -> None:
    """RPL_NAMREPLY lines (packed under the line limit) and RPL_ENDOFNAMES."""
    nick, server = session.display_nick, session.server_name
    multi = "multi-prefix" in session.caps
    full = "userhost-in-names" in session.caps
    # Invisible users are hidden from those outside the channel (User.seen_by).
    show_all = viewer is not None and viewer in chan.members
    names = [
        chan.prefix_of(member, multi=multi) + (member.source if full else member.nick)
        for member in chan.members
        if show_all or (viewer is not None and member.seen_by(viewer))
    ]
    head = f":{server} {RPL_NAMREPLY} {nick} = {chan.name} :"
    budget = 510 - len(head) - 16  # room for tags-less line and a margin
    symbol = channel_symbol(chan)
    line: list[str] = []
    size = 0
    for name in names:
        if line and size + len(name) + 1 > budget:
            rb.add(Message(RPL_NAMREPLY, (nick, symbol, chan.name, " ".join(line)), server))
            line, size = [], 0
        line.append(name)
        size += len(name) + 1
    if line:
        rb.add(Message(RPL_NAMREPLY, (nick, symbol, chan.name, " ".join(line)), server))
    rb.add(Message(RPL_ENDOFNAMES, (nick, chan.name, "End of /NAMES list"), server))
