"""A user's own presence: AWAY, SETNAME and MONITOR."""

from __future__ import annotations

from hubbub.events import AwayChanged, RealnameChanged
from hubbub.protocol import Message, casefold, is_valid_nick
from hubbub.protocol.numerics import (
    ERR_MONLISTFULL,
    ERR_NEEDMOREPARAMS,
    ERR_UNKNOWNERROR,
    RPL_ENDOFMONLIST,
    RPL_MONLIST,
    RPL_MONOFFLINE,
    RPL_MONONLINE,
    RPL_NOWAWAY,
    RPL_UNAWAY,
)

from ..dispatch import CommandTable, Context
from ..limits import AWAYLEN, MONITOR_LIMIT, NICKLEN, REALNAME_LEN

table = CommandTable()


@table("AWAY")
def away(ctx: Context, msg: Message) -> None:
    """AWAY [<text>]"""
    user = ctx.user
    text = msg.params[0][:AWAYLEN] if msg.params else ""
    if text:
        ctx.reply(RPL_NOWAWAY, "You have been marked as being away")
    else:
        ctx.reply(RPL_UNAWAY, "You are no longer marked as being away")
    # away-notify: those who share a channel (or MONITOR) and asked hear of it.
    ctx.publish(AwayChanged(*ctx.stamp(), user.uid, user.source, text or None))


@table("SETNAME", min_params=1)
def setname(ctx: Context, msg: Message) -> None:
    """SETNAME <realname>"""
    realname = msg.params[0]
    if not realname or len(realname) > REALNAME_LEN:
        ctx.standard_reply("FAIL", "INVALID_REALNAME", text="Realname is not valid")
        return
    user = ctx.user
    ctx.publish(RealnameChanged(*ctx.stamp(), user.uid, user.source, realname))


@table("MONITOR", min_params=1)
def monitor(ctx: Context, msg: Message) -> None:
    """MONITOR {+|-} <target>{,<target>} | MONITOR {C|L|S}"""
    sub = msg.params[0]
    session, monitors = ctx.session, ctx.server.monitors
    targets = [t for t in (msg.params[1] if len(msg.params) > 1 else "").split(",") if t]
    if sub in ("+", "-") and not targets:
        ctx.reply(ERR_NEEDMOREPARAMS, "MONITOR", "Not enough parameters")
    elif sub == "+":
        added = []
        for i, nick in enumerate(targets):
            if not is_valid_nick(nick, NICKLEN):
                continue
            if casefold(nick) in session.monitoring:
                added.append(nick)
                continue
            if len(session.monitoring) >= MONITOR_LIMIT:
                ctx.reply(ERR_MONLISTFULL, str(MONITOR_LIMIT), ",".join(targets[i:]),
                          "Monitor list is full.")  # fmt: skip
                break
            monitors.watch(session, nick)
            added.append(nick)
        _status(ctx, added)
    elif sub == "-":
        for nick in targets:
            monitors.unwatch(session, nick)
    elif sub.upper() == "C":
        monitors.unwatch_all(session)
    elif sub.upper() == "L":
        nicks = sorted(session.monitoring)
        for start in range(0, len(nicks), 20):
            ctx.reply(RPL_MONLIST, ",".join(nicks[start : start + 20]))
        ctx.reply(RPL_ENDOFMONLIST, "End of MONITOR list")
    elif sub.upper() == "S":
        _status(ctx, sorted(session.monitoring))
    else:
        ctx.reply(ERR_UNKNOWNERROR, "MONITOR", sub, "Unknown MONITOR subcommand")


def _status(ctx: Context, nicks: list[str]) -> None:
    """RPL_MONONLINE / RPL_MONOFFLINE for ``nicks``, batched per line."""
    online, offline = [], []
    for nick in nicks:
        user = ctx.server.network.user(nick)
        if user is not None:
            online.append(user.source)
        else:
            offline.append(nick)
    for numeric, items in ((RPL_MONONLINE, online), (RPL_MONOFFLINE, offline)):
        for start in range(0, len(items), 10):
            ctx.reply(numeric, ",".join(items[start : start + 10]))
