"""State changes and the messages that announce them.

Handlers validate and then call one of these; so do other paths that cause
the same change (auto_join on registration, KILL, a dropped connection). Each
function applies one change to the network and delivers the result: to the
actor through its reply buffer (so the echo is part of a labeled response),
to everyone else by fan-out. This is the seam where a second node would
replay the same changes received from a bus.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from hubbub.protocol import Message, casefold
from hubbub.protocol.numerics import (
    RPL_ENDOFNAMES,
    RPL_MONOFFLINE,
    RPL_MONONLINE,
    RPL_NAMREPLY,
    RPL_NOTOPIC,
    RPL_TOPIC,
    RPL_TOPICWHOTIME,
)

from .fanout import deliver
from .replies import ReplyBuffer
from .state import Channel, User

if TYPE_CHECKING:
    from .connection import Connection
    from .core import Server


def _with_cap(conns: Iterable[Connection], cap: str, has: bool) -> Iterable[Connection]:
    return (c for c in conns if (cap in c.caps) is has)


def join(server: Server, user: User, name: str, rb: ReplyBuffer | None) -> Channel:
    """Put ``user`` in ``name`` (created if new), tell the members, and send
    the joiner the topic and the names list."""
    chan, _created = server.network.join(user, name, server.now())
    tags = server.message_tags()
    plain = Message("JOIN", (chan.name,), user.source, tags)
    extended = Message("JOIN", (chan.name, user.account or "*", user.realname), user.source, tags)
    actor = user.conn
    members = list(chan.local_connections())
    deliver(plain, _with_cap(members, "extended-join", False), exclude=actor)
    deliver(extended, _with_cap(members, "extended-join", True), exclude=actor)
    if user.away is not None:
        away = Message("AWAY", (user.away,), user.source, tags)
        deliver(away, _with_cap(members, "away-notify", True), exclude=actor)
    if actor is not None:
        out = rb or ReplyBuffer(actor)
        out.add(extended if "extended-join" in actor.caps else plain)
        if chan.topic:
            send_topic(server, actor, chan, out)
        if "no-implicit-names" not in actor.caps:
            send_names(server, actor, chan, out)
        if rb is None:
            out.flush()
    return chan


def part(server: Server, user: User, chan: Channel, reason: str, rb: ReplyBuffer | None) -> None:
    """Take ``user`` out of ``chan`` and tell the members (and the user)."""
    params = (chan.name, reason) if reason else (chan.name,)
    msg = Message("PART", params, user.source, server.message_tags())
    deliver(msg, chan.local_connections(), exclude=user.conn)
    _to_actor(user, msg, rb)
    server.network.part(user, chan)


def kick(
    server: Server, source: User, chan: Channel, target: User, reason: str, rb: ReplyBuffer | None
) -> None:
    """Remove ``target`` from ``chan`` on ``source``'s order."""
    msg = Message("KICK", (chan.name, target.nick, reason), source.source, server.message_tags())
    deliver(msg, chan.local_connections(), exclude=source.conn)
    _to_actor(source, msg, rb)
    server.network.part(target, chan)


def rename_channel(
    server: Server, user: User, chan: Channel, new: str, reason: str, rb: ReplyBuffer
) -> None:
    """Rename ``chan``. Members with draft/channel-rename see RENAME; the
    others see the channel they were in go and the new one come, as a PART
    and a JOIN with its topic and names, so their client state stays right."""
    old = chan.name
    server.network.rename_channel(chan, new)
    tags = server.message_tags()
    renamed = Message("RENAME", (old, new, reason), user.source, tags)
    for member in list(chan.members):
        conn = member.conn
        if conn is None:
            continue
        out = rb if conn is user.conn else ReplyBuffer(conn)
        if "draft/channel-rename" in conn.caps:
            out.add(renamed)
        else:
            part_reason = f"Channel renamed to {new}" + (f": {reason}" if reason else "")
            out.add(Message("PART", (old, part_reason), member.source, tags))
            out.add(Message("JOIN", (new,), member.source, tags))
            if chan.topic:
                send_topic(server, conn, chan, out)
            send_names(server, conn, chan, out)
        if out is not rb:
            out.flush()


def quit_user(server: Server, user: User, reason: str) -> None:
    """``user`` left the network: tell each user who shared a channel, once."""
    msg = Message("QUIT", (reason,), user.source, server.message_tags())
    others = server.network.common_users(user)
    others.discard(user)
    deliver(msg, (u.conn for u in others if u.conn is not None))
    server.network.remove_user(user, server.now())
    user.conn = None
    monitor_offline(server, user.nick)


def change_nick(server: Server, user: User, nick: str, rb: ReplyBuffer | None) -> None:
    """Rename ``user`` and tell everyone who shares a channel (and the user)."""
    msg = Message("NICK", (nick,), user.source, server.message_tags())
    others = server.network.common_users(user)
    others.discard(user)
    deliver(msg, (u.conn for u in others if u.conn is not None))
    _to_actor(user, msg, rb)
    old = user.nick
    server.network.rename(user, nick, server.now())
    if casefold(old) != user.nick_cf:
        monitor_offline(server, old)
        monitor_online(server, user)


def set_topic(server: Server, user: User, chan: Channel, topic: str, rb: ReplyBuffer) -> None:
    """Change the topic of ``chan`` and tell its members."""
    chan.topic = topic
    chan.topic_setter = user.source
    chan.topic_time = server.now()
    msg = Message("TOPIC", (chan.name, topic), user.source, server.message_tags())
    deliver(msg, chan.local_connections(), exclude=user.conn)
    _to_actor(user, msg, rb)


def send_topic(server: Server, conn: Connection, chan: Channel, rb: ReplyBuffer) -> None:
    """RPL_TOPIC + RPL_TOPICWHOTIME, or RPL_NOTOPIC."""
    nick = conn.display_nick
    if not chan.topic:
        rb.add(Message(RPL_NOTOPIC, (nick, chan.name, "No topic is set"), server.name))
        return
    rb.add(Message(RPL_TOPIC, (nick, chan.name, chan.topic), server.name))
    rb.add(
        Message(
            RPL_TOPICWHOTIME,
            (nick, chan.name, chan.topic_setter, str(int(chan.topic_time))),
            server.name,
        )
    )


def channel_symbol(chan: Channel) -> str:
    """NAMES' channel type: ``@`` secret, ``*`` private, ``=`` public."""
    return "@" if "s" in chan.modes else "*" if "p" in chan.modes else "="


def send_names(
    server: Server, conn: Connection, chan: Channel, rb: ReplyBuffer, *, end: bool = True
) -> None:
    """RPL_NAMREPLY lines (packed under the line limit) and RPL_ENDOFNAMES."""
    nick = conn.display_nick
    multi = "multi-prefix" in conn.caps
    full = "userhost-in-names" in conn.caps
    viewer = conn.user
    # Invisible users are hidden from those outside the channel (User.seen_by).
    show_all = viewer is not None and viewer in chan.members
    names = [
        chan.prefix_of(member, multi=multi) + (member.source if full else member.nick)
        for member in chan.members
        if show_all or (viewer is not None and member.seen_by(viewer))
    ]
    head = f":{server.name} {RPL_NAMREPLY} {nick} = {chan.name} :"
    budget = 510 - len(head) - 16  # room for tags-less line and a margin
    symbol = channel_symbol(chan)
    line: list[str] = []
    size = 0
    for name in names:
        if line and size + len(name) + 1 > budget:
            rb.add(Message(RPL_NAMREPLY, (nick, symbol, chan.name, " ".join(line)), server.name))
            line, size = [], 0
        line.append(name)
        size += len(name) + 1
    if line:
        rb.add(Message(RPL_NAMREPLY, (nick, symbol, chan.name, " ".join(line)), server.name))
    if end:
        rb.add(Message(RPL_ENDOFNAMES, (nick, chan.name, "End of /NAMES list"), server.name))


def interested(server: Server, user: User, cap: str) -> Iterable[Connection]:
    """Connections that hear about ``user``'s changes with ``cap``: those
    sharing a channel, and (extended-monitor) those who MONITOR the user."""
    seen: set[Connection] = set()
    for other in server.network.common_users(user):
        conn = other.conn
        if conn is not None and cap in conn.caps:
            seen.add(conn)
    for conn in server.network.watchers(user.nick):
        if cap in conn.caps and "extended-monitor" in conn.caps:
            seen.add(conn)
    return seen


def change_host(server: Server, user: User, new_user: str, new_host: str) -> None:
    """Give ``user`` a new user@host; chghost clients that can see them are told
    (including the user)."""
    msg = Message("CHGHOST", (new_user, new_host), user.source, server.message_tags())
    deliver(msg, interested(server, user, "chghost"))
    user.set_userhost(new_user, new_host)


def monitor_online(server: Server, user: User) -> None:
    """Tell MONITOR watchers that ``user`` is here."""
    for conn in server.network.watchers(user.nick):
        conn.send(Message(RPL_MONONLINE, (conn.display_nick, user.source), server.name))


def monitor_offline(server: Server, nick: str) -> None:
    """Tell MONITOR watchers that ``nick`` left."""
    for conn in server.network.watchers(nick):
        conn.send(Message(RPL_MONOFFLINE, (conn.display_nick, nick), server.name))


def _to_actor(user: User, msg: Message, rb: ReplyBuffer | None) -> None:
    if rb is not None:
        rb.add(msg)
    elif user.conn is not None:
        user.conn.send(msg)

