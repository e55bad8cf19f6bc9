"""Delivery: who on this process hears of an event, and in what form.

Each event kind has two functions in :data:`ROUTES`:

``audience(d, event) -> sessions``
    runs *before* the event is applied, because that is when the audience is
    known: a QUIT goes to those who shared a channel with the user, and
    after the QUIT is applied the user is in no channel. It returns the
    local sessions that get the ordinary copy; the actor is left out when it
    gets its own copy.
``deliver(d, event, audience, origin)``
    runs *after* the state changed and the subscribers (history) saw the
    event. It renders the IRC message once, fans it out (encoded once per
    tag profile, :func:`~.encoding.fanout`) and gives the actor its copy:
    into ``origin``, the reply buffer of the command that published the
    event (so labeled-response covers it), or straight to the actor's
    session when the event came from elsewhere (a dropped connection, later
    another node).

Numerics that answer the command (errors, RPL_AWAY to a PRIVMSG) are the
handler's business; what is here is what the change itself makes visible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from hubbub import events as ev
from hubbub.protocol import Message, casefold, fit
from hubbub.protocol.numerics import RPL_MONOFFLINE, RPL_MONONLINE

from .channel_replies import send_names, send_topic
from .encoding import fanout
from .ids import server_time
from .interfaces import Peer
from .monitor import Monitors
from .reply_buffer import ReplyBuffer
from .service_names import CHANSERV_SOURCE
from .state import PREFIX_ORDER, PREFIXES, Network, User

Audience = list[Peer]
#: STATUSMSG prefix -> the lowest membership mode that receives it.
_STATUS_MODE = {prefix: mode for mode, prefix in PREFIXES.items()}


class Delivery:
    """What delivery reads: the network, MONITOR lists, the server's name."""

    __slots__ = ("batch", "monitors", "network", "server_name")

    def __init__(self, network: Network, monitors: Monitors, server_name: str) -> None:
        self.network = network
        self.monitors = monitors
        self.server_name = server_name
        #: The netsplit batch the QUITs being delivered belong to, if any.
        self.batch: str | None = None


@contextmanager
def netsplit(d: Delivery, e: ev.NodeGone, quits: list[ev.UserQuit]) -> Iterator[None]:
    """The QUITs of a node's users, delivered inside it, are one IRCv3
    ``netsplit`` batch for the clients that have the batch capability (one
    reference for all of them: it need only be unique per connection)."""
    seen: set[Peer] = set()
    for quit_ in quits:
        seen.update(s for s in _others_audience(d, quit_) if "batch" in s.caps)
    if not seen:
        yield
        return
    ref = "split" + e.msgid[-8:].replace("-", "")
    servers = e.reason.split()[:2]
    fanout(Message("BATCH", (f"+{ref}", "netsplit", *servers), d.server_name), seen)
    d.batch = ref
    try:
        yield
    finally:
        d.batch = None
        fanout(Message("BATCH", (f"-{ref}",), d.server_name), seen)


class Route(NamedTuple):
    """How one event kind is delivered."""

    audience: Callable[[Delivery, Any], Audience]
    deliver: Callable[[Delivery, Any, Audience, ReplyBuffer | None], None]


def _tags(e: Any) -> dict[str, str]:
    return {"time": server_time(e.time), "msgid": e.msgid}


def _user_tags(d: Delivery, e: Any) -> dict[str, str]:
    """The tags of a line from the user ``e.uid``: with ``account`` when the
    user is logged in (account-tag; tag profiles drop it for clients that
    did not ask). PRIVMSG carries it in its own tags (messaging.py)."""
    tags = {"time": server_time(e.time), "msgid": e.msgid}
    user = d.network.by_uid.get(e.uid)
    if user is not None and user.account is not None:
        tags["account"] = user.account
    return tags


def _nick_of(source: str) -> str:
    return source.partition("!")[0]


def _session_of(d: Delivery, uid: str) -> Peer | None:
    user = d.network.by_uid.get(uid)
    return user.session if user is not None else None


def _sessions(users: Iterable[User], exclude: Peer | None = None) -> Audience:
    return [s for u in users if (s := u.session) is not None and s is not exclude]


def _to_actor(d: Delivery, uid: str, msg: Message, origin: ReplyBuffer | None) -> None:
    """The actor's own copy: into its command's replies, or straight out."""
    if origin is not None:
        origin.add(msg)
    elif (session := _session_of(d, uid)) is not None:
        session.send(msg)


def _channel_audience(d: Delivery, e: Any) -> Audience:
    """Every local member of ``e.channel`` but the actor."""
    chan = d.network.channel(e.channel)
    if chan is None:
        return []
    return _sessions(chan.members, _session_of(d, e.uid))


def _others_audience(d: Delivery, e: Any) -> Audience:
    """Everyone who shares a channel with the actor, but the actor."""
    user = d.network.by_uid.get(e.uid)
    if user is None:
        return []
    others = d.network.common_users(user)
    others.discard(user)
    return _sessions(others)


def interested(d: Delivery, user: User, cap: str) -> set[Peer]:
    """Sessions that hear about ``user``'s changes with ``cap``: those
    sharing a channel, and (extended-monitor) those who MONITOR the user."""
    seen: set[Peer] = set()
    for other in d.network.common_users(user):
        session = other.session
        if session is not None and cap in session.caps:
            seen.add(session)
    for session in d.monitors.watchers(user.nick):
        if cap in session.caps and "extended-monitor" in session.caps:
            seen.add(session)
    return seen


def _interested_audience(cap: str, *, actor: bool) -> Callable[[Delivery, Any], Audience]:
    def audience(d: Delivery, e: Any) -> Audience:
        user = d.network.by_uid.get(e.uid)
        if user is None:
            return []
        found = interested(d, user, cap)
        if not actor:
            found.discard(user.session)
        return list(found)

    return audience


def _nobody(d: Delivery, e: Any) -> Audience:
    return []


def monitor_online(d: Delivery, user: User) -> None:
    """Tell MONITOR watchers that ``user`` is here."""
    for session in d.monitors.watchers(user.nick):
        session.send(Message(RPL_MONONLINE, (session.display_nick, user.source), d.server_name))


def monitor_offline(d: Delivery, nick: str) -> None:
    """Tell MONITOR watchers that ``nick`` left."""
    for session in d.monitors.watchers(nick):
        session.send(Message(RPL_MONOFFLINE, (session.display_nick, nick), d.server_name))


# --- users -------------------------------------------------------------------


def _registered(
    d: Delivery, e: ev.UserRegistered, audience: Audience, origin: ReplyBuffer | None
) -> None:
    user = d.network.by_uid.get(e.uid)
    if user is not None:
        monitor_online(d, user)


def render_quit(e: ev.UserQuit) -> Message:
    """QUIT as clients see it (live, and replayed from history)."""
    return fit(Message.trusted("QUIT", (e.reason,), e.source, _tags(e)))


def _quit(d: Delivery, e: ev.UserQuit, audience: Audience, origin: ReplyBuffer | None) -> None:
    msg = render_quit(e)
    if d.batch is not None:
        msg = msg.with_tags({**msg.tags, "batch": d.batch})
    fanout(msg, audience)
    monitor_offline(d, _nick_of(e.source))


def _killed_audience(d: Delivery, e: ev.Killed) -> Audience:
    session = _session_of(d, e.target)
    return [session] if session is not None else []


def _killed(d: Delivery, e: ev.Killed, audience: Audience, origin: ReplyBuffer | None) -> None:
    for session in audience:
        session.send(Message("KILL", (e.nick, e.reason), e.source))
        session.close(f"Killed ({_nick_of(e.source)} ({e.reason}))")


def render_nick(e: ev.NickChanged, tags: dict[str, str] | None = None) -> Message:
    """NICK as clients see it."""
    return Message.trusted("NICK", (e.nick,), e.source, tags or _tags(e))


def _nick(d: Delivery, e: ev.NickChanged, audience: Audience, origin: ReplyBuffer | None) -> None:
    msg = render_nick(e, _user_tags(d, e))
    fanout(msg, audience)
    _to_actor(d, e.uid, msg, origin)
    old = _nick_of(e.source)
    user = d.network.by_uid.get(e.uid)
    if user is not None and casefold(old) != user.nick_cf:
        monitor_offline(d, old)
        monitor_online(d, user)


def _format_user_modes(changes: tuple[tuple[bool, str], ...]) -> str:
    out, sign = "", None
    for adding, letter in changes:
        if adding != sign:
            out += "+" if adding else "-"
            sign = adding
        out += letter
    return out


def _user_modes(
    d: Delivery, e: ev.UserModeChanged, audience: Audience, origin: ReplyBuffer | None
) -> None:
    msg = Message("MODE", (_nick_of(e.source), _format_user_modes(e.changes)), e.source)
    _to_actor(d, e.uid, msg, origin)


def _oper(d: Delivery, e: ev.OperUp, audience: Audience, origin: ReplyBuffer | None) -> None:
    _to_actor(d, e.uid, Message("MODE", (_nick_of(e.source), "+o"), e.source), origin)


def _away(d: Delivery, e: ev.AwayChanged, audience: Audience, origin: ReplyBuffer | None) -> None:
    params = (e.text,) if e.text is not None else ()
    fanout(fit(Message.trusted("AWAY", params, e.source, _user_tags(d, e))), audience)


def _realname(
    d: Delivery, e: ev.RealnameChanged, audience: Audience, origin: ReplyBuffer | None
) -> None:
    msg = fit(Message("SETNAME", (e.realname,), e.source, _user_tags(d, e)))
    fanout(msg, audience)
    if origin is not None and "setname" in origin.session.caps:
        origin.add(msg)


def _host(d: Delivery, e: ev.HostChanged, audience: Audience, origin: ReplyBuffer | None) -> None:
    fanout(Message.trusted("CHGHOST", (e.user, e.host), e.source, _user_tags(d, e)), audience)


def _account(
    d: Delivery, e: ev.AccountChanged, audience: Audience, origin: ReplyBuffer | None
) -> None:
    msg = Message.trusted("ACCOUNT", (e.account or "*",), e.source, _user_tags(d, e))
    fanout(msg, audience)
    # The actor's own copy follows its command's replies (900 and 903 first).
    session = origin.session if origin is not None else _session_of(d, e.uid)
    if session is not None and "account-notify" in session.caps:
        _to_actor(d, e.uid, msg, origin)


# --- channels ----------------------------------------------------------------


def _joined_audience(d: Delivery, e: ev.Joined) -> Audience:
    chan = d.network.channel(e.channel)
    return _sessions(chan.members) if chan is not None else []


def render_join(
    e: ev.Joined, *, extended: bool, tags: dict[str, str] | None = None
) -> Message:
    """JOIN as clients see it, in its extended-join form or not."""
    if not extended:
        return Message.trusted("JOIN", (e.channel,), e.source, tags or _tags(e))
    # The realname can make an extended JOIN long: fit it to the line.
    params = (e.channel, e.account or "*", e.realname)
    return fit(Message.trusted("JOIN", params, e.source, tags or _tags(e)))


def _joined(d: Delivery, e: ev.Joined, audience: Audience, origin: ReplyBuffer | None) -> None:
    user = d.network.by_uid.get(e.uid)
    chan = d.network.channel(e.channel)
    if user is None or chan is None:
        return
    tags = _user_tags(d, e)
    plain = render_join(e._replace(channel=chan.name), extended=False, tags=tags)
    extended = render_join(e._replace(channel=chan.name), extended=True, tags=tags)
    fanout(plain, (s for s in audience if "extended-join" not in s.caps))
    fanout(extended, (s for s in audience if "extended-join" in s.caps))
    if user.away is not None:
        away = fit(Message.trusted("AWAY", (user.away,), e.source, tags))
        fanout(away, (s for s in audience if "away-notify" in s.caps))
    status = None
    if e.modes:
        # ChanServ's status for a registered channel's founder or friends.
        status = Message("MODE", (chan.name, "+" + e.modes, *[user.nick] * len(e.modes)),
                         CHANSERV_SOURCE, _tags(e))  # fmt: skip
        fanout(status, audience)
    session = origin.session if origin is not None else user.session
    if session is None:
        return
    out = origin or ReplyBuffer(session)
    out.add(extended if "extended-join" in session.caps else plain)
    if chan.topic:
        send_topic(session, chan, out)
    if "no-implicit-names" not in session.caps:
        send_names(session, user, chan, out)
    if status is not None:
        out.add(status)
    if origin is None:
        out.flush()


def render_part(e: ev.Parted, tags: dict[str, str] | None = None) -> Message:
    """PART as clients see it."""
    params = (e.channel, e.reason) if e.reason else (e.channel,)
    return fit(Message.trusted("PART", params, e.source, tags or _tags(e)))


def _parted(d: Delivery, e: ev.Parted, audience: Audience, origin: ReplyBuffer | None) -> None:
    msg = render_part(e, _user_tags(d, e))
    fanout(msg, audience)
    _to_actor(d, e.uid, msg, origin)


def render_kick(e: ev.Kicked, tags: dict[str, str] | None = None) -> Message:
    """KICK as clients see it."""
    params = (e.channel, e.nick, e.reason)
    return fit(Message.trusted("KICK", params, e.source, tags or _tags(e)))


def _kicked(d: Delivery, e: ev.Kicked, audience: Audience, origin: ReplyBuffer | None) -> None:
    msg = render_kick(e, _user_tags(d, e))
    fanout(msg, audience)
    _to_actor(d, e.uid, msg, origin)


def render_topic(e: ev.TopicChanged, tags: dict[str, str] | None = None) -> Message:
    """TOPIC as clients see it."""
    return fit(Message.trusted("TOPIC", (e.channel, e.topic), e.source, tags or _tags(e)))


def _topic(d: Delivery, e: ev.TopicChanged, audience: Audience, origin: ReplyBuffer | None) -> None:
    msg = render_topic(e, _user_tags(d, e))
    fanout(msg, audience)
    _to_actor(d, e.uid, msg, origin)


def format_channel_modes(changes: tuple[tuple[bool, str, str | None], ...]) -> list[str]:
    """``((True,'o','bob'), (False,'n',None))`` -> ``['+o-n', 'bob']``."""
    letters, args = "", []
    sign = None
    for adding, letter, arg in changes:
        if adding != sign:
            letters += "+" if adding else "-"
            sign = adding
        letters += letter
        if arg is not None:
            args.append(arg)
    return [letters, *args]


def render_modes(e: ev.ChannelModeChanged, tags: dict[str, str] | None = None) -> Message:
    """A channel MODE change as clients see it."""
    params = (e.channel, *format_channel_modes(e.changes))
    return Message("MODE", params, e.source, tags or _tags(e))


def _channel_modes(
    d: Delivery, e: ev.ChannelModeChanged, audience: Audience, origin: ReplyBuffer | None
) -> None:
    msg = render_modes(e, _user_tags(d, e))
    fanout(msg, audience)
    _to_actor(d, e.uid, msg, origin)


def _invited_audience(d: Delivery, e: ev.Invited) -> Audience:
    """The invited user, and the channel's operators who asked to hear of it."""
    found: Audience = []
    target = _session_of(d, e.target)
    if target is not None:
        found.append(target)
    chan = d.network.channel(e.channel)
    if chan is not None:
        actor = _session_of(d, e.uid)
        found.extend(
            s
            for m, modes in chan.members.items()
            if (s := m.session) is not None
            and s is not actor
            and "o" in modes
            and "invite-notify" in s.caps
        )
    return found


def _invited(d: Delivery, e: ev.Invited, audience: Audience, origin: ReplyBuffer | None) -> None:
    fanout(Message.trusted("INVITE", (e.nick, e.channel), e.source, _user_tags(d, e)), audience)


def _renamed_audience(d: Delivery, e: ev.ChannelRenamed) -> Audience:
    chan = d.network.channel(e.channel)
    return _sessions(chan.members) if chan is not None else []


def _renamed(
    d: Delivery, e: ev.ChannelRenamed, audience: Audience, origin: ReplyBuffer | None
) -> None:
    """Members with draft/channel-rename see RENAME; the others see the
    channel they were in go and the new one come, as a PART and a JOIN with
    its topic and names, so their client state stays right."""
    chan = d.network.channel(e.new)
    if chan is None:
        return
    tags = _tags(e)
    renamed = Message("RENAME", (e.channel, e.new, e.reason), e.source, tags)
    part_reason = f"Channel renamed to {e.new}" + (f": {e.reason}" if e.reason else "")
    for session in audience:
        out = origin if origin is not None and session is origin.session else ReplyBuffer(session)
        if "draft/channel-rename" in session.caps:
            out.add(renamed)
        else:
            member = next((m for m in chan.members if m.session is session), None)
            if member is None:
                continue
            out.add(Message("PART", (e.channel, part_reason), member.source, tags))
            out.add(Message("JOIN", (e.new,), member.source, tags))
            if chan.topic:
                send_topic(session, chan, out)
            send_names(session, member, chan, out)
        if out is not origin:
            out.flush()


# --- talking -----------------------------------------------------------------


def _message_audience(d: Delivery, e: ev.MessageSent) -> Audience:
    network = d.network
    sender = network.by_uid.get(e.uid)
    actor = sender.session if sender is not None else None
    if e.channel:
        chan = network.channel(e.channel)
        if chan is None:
            return []
        if e.status:
            rank = PREFIX_ORDER.index(_STATUS_MODE[e.status])
            found = [
                s
                for m, modes in chan.members.items()
                if (s := m.session) is not None
                and s is not actor
                and modes
                and PREFIX_ORDER.index(modes[0]) <= rank
            ]
        else:
            found = [s for m in chan.members if (s := m.session) is not None and s is not actor]
    else:
        # A message to oneself arrives as any other would (echo-message adds the echo).
        peer = network.by_uid.get(e.recipient)
        if peer is None or peer.session is None:
            return []
        found = [peer.session]
    if e.command == "TAGMSG":
        return [s for s in found if "message-tags" in s.caps]
    return found


def render_message(e: ev.MessageSent) -> Message:
    """PRIVMSG, NOTICE or TAGMSG as clients see it."""
    params = (e.target,) if e.command == "TAGMSG" else (e.target, e.text)
    tags = {"time": server_time(e.time), "msgid": e.msgid}
    if e.tags:
        tags.update(e.tags)
    return Message.trusted(e.command, params, e.source, tags)


def _message(
    d: Delivery, e: ev.MessageSent, audience: Audience, origin: ReplyBuffer | None
) -> None:
    msg = render_message(e)
    fanout(msg, audience)
    if origin is not None and "echo-message" in origin.session.caps:
        origin.messages.append(msg)


def _redacted_audience(d: Delivery, e: ev.MessageRedacted) -> Audience:
    """Those in the conversation who negotiated draft/message-redaction."""
    if e.channel:
        found = _channel_audience(d, e)
    else:
        session = _session_of(d, e.recipient)
        found = [session] if session is not None and session is not _session_of(d, e.uid) else []
    return [s for s in found if "draft/message-redaction" in s.caps]


def _redacted(
    d: Delivery, e: ev.MessageRedacted, audience: Audience, origin: ReplyBuffer | None
) -> None:
    params = (e.target, e.redacted, e.reason) if e.reason else (e.target, e.redacted)
    msg = Message("REDACT", params, e.source, _tags(e))
    fanout(msg, audience)
    actor = origin.session if origin is not None else _session_of(d, e.uid)
    if actor is not None and "draft/message-redaction" in actor.caps:
        _to_actor(d, e.uid, msg, origin)


def _wallops_audience(d: Delivery, e: ev.Wallops) -> Audience:
    actor = _session_of(d, e.uid)
    return _sessions(
        (u for u in d.network.users.values() if "w" in u.modes or u.oper is not None), actor
    )


def _wallops(d: Delivery, e: ev.Wallops, audience: Audience, origin: ReplyBuffer | None) -> None:
    msg = fit(Message("WALLOPS", (e.text,), e.source, _tags(e)))
    fanout(msg, audience)
    user = d.network.by_uid.get(e.uid)
    if user is not None and ("w" in user.modes or user.oper is not None):
        _to_actor(d, e.uid, msg, origin)


def _unseen(d: Delivery, e: Any, audience: Audience, origin: ReplyBuffer | None) -> None:
    """A change nobody is shown (the server taking or releasing a room)."""


#: Each event type and how it is delivered.
ROUTES: dict[type[Any], Route] = {
    ev.UserRegistered: Route(_nobody, _registered),
    ev.UserQuit: Route(_others_audience, _quit),
    ev.Killed: Route(_killed_audience, _killed),
    ev.NickChanged: Route(_others_audience, _nick),
    ev.UserModeChanged: Route(_nobody, _user_modes),
    ev.OperUp: Route(_nobody, _oper),
    ev.AwayChanged: Route(_interested_audience("away-notify", actor=False), _away),
    ev.RealnameChanged: Route(_interested_audience("setname", actor=False), _realname),
    ev.HostChanged: Route(_interested_audience("chghost", actor=True), _host),
    ev.AccountChanged: Route(_interested_audience("account-notify", actor=False), _account),
    ev.Joined: Route(_joined_audience, _joined),
    ev.Parted: Route(_channel_audience, _parted),
    ev.Kicked: Route(_channel_audience, _kicked),
    ev.TopicChanged: Route(_channel_audience, _topic),
    ev.ChannelModeChanged: Route(_channel_audience, _channel_modes),
    ev.Invited: Route(_invited_audience, _invited),
    ev.ChannelRenamed: Route(_renamed_audience, _renamed),
    ev.ServerRoomChanged: Route(_nobody, _unseen),
    # ChanServ answers the founder itself; members see the status it gives.
    ev.ChannelRegistered: Route(_nobody, _unseen),
    ev.ChannelAccessChanged: Route(_nobody, _unseen),
    ev.ChannelRestored: Route(_nobody, _unseen),
    # The accounts service learns of these (a watcher); nobody is shown them.
    ev.AccountRegistered: Route(_nobody, _unseen),
    ev.AccountDropped: Route(_nobody, _unseen),
    # A node's arrival shows in LINKS; its departure as the QUITs it stands for.
    ev.NodeJoined: Route(_nobody, _unseen),
    ev.NodeGone: Route(_nobody, _unseen),
    ev.MessageSent: Route(_message_audience, _message),
    ev.MessageRedacted: Route(_redacted_audience, _redacted),
    ev.Wallops: Route(_wallops_audience, _wallops),
}
