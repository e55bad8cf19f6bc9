"""Talking: PRIVMSG, NOTICE, TAGMSG (to channels, STATUSMSG and nicks), AWAY.

The channel case is the server's hot path: one Message is built per line,
with its tags, and :func:`~..fanout.deliver` encodes it once per tag profile.
"""

from __future__ import annotations

from hubbub.protocol import Message
from hubbub.protocol.numerics import (
    ERR_CANNOTSENDTOCHAN,
    ERR_NORECIPIENT,
    ERR_NOSUCHCHANNEL,
    ERR_NOSUCHNICK,
    ERR_NOTEXTTOSEND,
    RPL_AWAY,
    RPL_NOWAWAY,
    RPL_UNAWAY,
)

from .. import actions
from ..dispatch import CommandTable, Context
from ..fanout import deliver
from ..limits import AWAYLEN, MAX_TARGETS
from ..state import PREFIX_ORDER, PREFIXES, Channel, User
from .channels import matches_any

table = CommandTable()

#: STATUSMSG prefix -> the lowest membership mode that receives it.
_STATUS = {prefix: mode for mode, prefix in PREFIXES.items()}


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


def _relay(ctx: Context, msg: Message, *, notice: bool, tagmsg: bool = False) -> None:
    targets = [t for t in msg.params[0].split(",") if t][:MAX_TARGETS] if msg.params else []
    if not targets:
        if not notice:
            ctx.reply(ERR_NORECIPIENT, f"No recipient given ({msg.command.upper()})")
        return
    text = msg.params[1] if len(msg.params) > 1 else ""
    if not text and not tagmsg:
        if not notice:
            ctx.reply(ERR_NOTEXTTOSEND, "No text to send")
        return
    server, user, conn = ctx.server, ctx.user, ctx.conn
    conn.last_active = server.loop.time()
    command = msg.command.upper()
    extra = {k: v for k, v in msg.tags.items() if k[:1] == "+"} if msg.tags else {}
    if user.account is not None:
        extra["account"] = user.account
    if "B" in user.modes:
        extra["bot"] = ""
    echo = "echo-message" in conn.caps
    for target in targets:
        params = (target,) if tagmsg else (target, text)
        # Each target's copy is its own message, with its own msgid.
        out = Message(command, params, user.source, {**server.message_tags(), **extra})
        status = _STATUS.get(target[:1]) if len(target) > 1 else None
        name = target[1:] if status else target
        peer = None
        if name[:1] in "#&":
            chan = server.network.channel(name)
            if chan is None:
                if not notice:
                    ctx.reply(ERR_NOSUCHCHANNEL, name, "No such channel")
                continue
            why = cannot_send(chan, user)
            if why is not None:
                if not notice:
                    ctx.reply(ERR_CANNOTSENDTOCHAN, chan.name, why)
                continue
            if status is None:
                recipients = chan.local_connections()
            else:
                rank = PREFIX_ORDER.index(status)
                recipients = (
                    m.conn
                    for m, modes in chan.members.items()
                    if m.conn is not None and modes and PREFIX_ORDER.index(modes[0]) <= rank
                )
        else:
            peer = server.network.user(target)
            if peer is None:
                if not notice:
                    ctx.reply(ERR_NOSUCHNICK, target, "No such nick/channel")
                continue
            recipients = (c for c in (peer.conn,) if c is not None)
            if peer.away is not None and command == "PRIVMSG":
                ctx.reply(RPL_AWAY, peer.nick, peer.away)
        if tagmsg:
            recipients = (c for c in recipients if "message-tags" in c.caps)
        # A message to oneself arrives as any other would; echo-message adds the echo.
        deliver(out, recipients, exclude=None if peer is user else conn)
        if echo:
            ctx.rb.add(out)


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


@table("AWAY")
def away(ctx: Context, msg: Message) -> None:
    """AWAY [<text>]"""
    user, server = ctx.user, ctx.server
    text = msg.params[0][:AWAYLEN] if msg.params else ""
    user.away = text or None
    if text:
        ctx.reply(RPL_NOWAWAY, "You have been marked as being away")
        out = Message("AWAY", (text,), user.source, server.message_tags())
    else:
        ctx.reply(RPL_UNAWAY, "You are no longer marked as being away")
        out = Message("AWAY", (), user.source, server.message_tags())
    # away-notify: tell those who share a channel (or MONITOR) and asked to know.
    deliver(out, actions.interested(server, user, "away-notify"), exclude=ctx.conn)
