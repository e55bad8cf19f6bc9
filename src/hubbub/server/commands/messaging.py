"""Talking: PRIVMSG, NOTICE and TAGMSG, to channels, STATUSMSG and nicks.

The channel case is the server's hot path: a line is checked, turned into one
:class:`~hubbub.events.MessageSent` per target and published; delivery
renders it once per tag profile.
"""

from __future__ import annotations

from collections.abc import Mapping

from hubbub.events import MessageSent
from hubbub.protocol import MAX_BODY, NO_TAGS, Message, casefold
from hubbub.protocol.numerics import (
    ERR_CANNOTSENDTOCHAN,
    ERR_NORECIPIENT,
    ERR_NOSUCHCHANNEL,
    ERR_NOSUCHNICK,
    ERR_NOTEXTTOSEND,
    RPL_AWAY,
)

from ..dispatch import CommandTable, Context
from ..ids import server_time
from ..limits import MAX_TARGETS
from ..services import SERVICES
from ..state import PREFIXES, Channel, User
from .channels import matches_any

table = CommandTable()

#: STATUSMSG prefixes (``@#chan``: to the channel's operators).
_STATUS = frozenset(PREFIXES.values())


def cannot_send(chan: Channel, user: User) -> str | None:
    """Why ``user`` may not speak in ``chan`` (the 404 text), or None."""
    modes = chan.members.get(user)
    if modes is None and "n" in chan.modes:
        return "Cannot send to channel (no external messages)"
    if modes:  # voiced or higher: bans and +m do not apply
        return None
    if "m" in chan.modes:
        return "Cannot send to channel (+m)"
    if matches_any(chan.bans, user) and not matches_any(chan.excepts, user):
        return "Cannot send to channel (you're banned)"
    return None


#: Bytes of a relayed line without tags and CR LF (RFC 1459's 512 with CR LF).
_LINE_ROOM = MAX_BODY - 2


def fit_text(source: str, command: str, target: str, text: str) -> str:
    """``text`` cut, at a character boundary, so that the relayed line
    ``:source COMMAND target :text`` fits the 512-byte limit: a client may
    send a full line, and the source prefix we add must not push the copy
    everyone else gets over the limit."""
    room = _LINE_ROOM - len(f":{source} {command} {target} :".encode())
    data = text.encode()
    if len(data) <= room:
        return text
    return data[: max(room, 0)].decode("utf-8", "ignore")


def _relay(ctx: Context, msg: Message, *, notice: bool, tagmsg: bool = False) -> None:
    params = msg.params
    first = params[0] if params else ""
    targets = [t for t in first.split(",") if t][:MAX_TARGETS] if "," in first else [first]
    if not targets or not targets[0]:
        if not notice:
            ctx.reply(ERR_NORECIPIENT, f"No recipient given ({msg.command.upper()})")
        return
    text = params[1] if len(params) > 1 else ""
    if not text and not tagmsg:
        if not notice:
            ctx.reply(ERR_NOTEXTTOSEND, "No text to send")
        return
    server, user = ctx.server, ctx.session.user
    assert user is not None  # the gate lets only registered users talk
    network = server.network
    publish = server.pipeline.publish
    ctx.session.last_active = server.loop.time()
    command = msg.command.upper()
    tags: Mapping[str, str] = (
        {k: v for k, v in msg.tags.items() if k[:1] == "+"} if msg.tags else NO_TAGS
    )
    if user.account is not None or "B" in user.modes:
        tags = dict(tags)
        if user.account is not None:
            tags["account"] = user.account
        if "B" in user.modes:
            tags["bot"] = ""
    for target in targets:
        status = target[0] if target[0] in _STATUS and len(target) > 1 else ""
        name = target[1:] if status else target
        if name[0] in "#&":
            chan = network.channel(name)
            if chan is None:
                if not notice:
                    ctx.reply(ERR_NOSUCHCHANNEL, name, "No such channel")
                continue
            why = cannot_send(chan, user)
            if why is not None:
                if not notice:
                    ctx.reply(ERR_CANNOTSENDTOCHAN, chan.name, why)
                continue
            channel, recipient = chan.name, ""
        else:
            peer = network.user(target)
            if peer is None:
                if server.service_nicks and casefold(target) in server.service_nicks:
                    if command == "PRIVMSG":
                        _to_service(ctx, user, target, text)
                elif not notice:
                    ctx.reply(ERR_NOSUCHNICK, target, "No such nick/channel")
                continue
            if peer.away is not None and command == "PRIVMSG":
                ctx.reply(RPL_AWAY, peer.nick, peer.away)
            channel, recipient, status = "", peer.uid, ""
        body = text
        if (len(user.source) + len(target) + len(text) + 12) * 4 > _LINE_ROOM:
            # Characters are at most four bytes and commands seven: only a
            # long line can overflow, and only that one pays the exact count.
            body = fit_text(user.source, command, target, text)
        # Each target's copy is its own event, with its own msgid. Built as
        # the tuple it is: MessageSent's constructor is an eleven-argument
        # Python function, and this is the server's hottest line.
        now = server.now()
        event = tuple.__new__(
            MessageSent,
            (server.ids.msgid(now), now, user.uid, user.source, command, target, channel,
             recipient, status, body, tags),
        )  # fmt: skip
        publish(event, ctx)


def _to_service(ctx: Context, user: User, target: str, text: str) -> None:
    """A line to NickServ or ChanServ: answered by the service itself, never
    relayed, kept or logged (it may hold a password)."""
    if "echo-message" in ctx.session.caps:
        msgid, now = ctx.server.stamp()
        tags = {"time": server_time(now), "msgid": msgid}
        ctx.add(Message("PRIVMSG", (target, text), user.source, tags))
    SERVICES[casefold(target)](ctx, text)


@table("PRIVMSG")
def privmsg(ctx: Context, msg: Message) -> None:
    """PRIVMSG <target>{,<target>} <text>"""
    _relay(ctx, msg, notice=False)


@table("NOTICE")
def notice(ctx: Context, msg: Message) -> None:
    """NOTICE <target>{,<target>} <text> (never answered with errors)"""
    _relay(ctx, msg, notice=True)


@table("TAGMSG")
def tagmsg(ctx: Context, msg: Message) -> None:
    """TAGMSG <target>{,<target>} (only client tags, for message-tags clients)"""
    _relay(ctx, msg, notice=False, tagmsg=True)
