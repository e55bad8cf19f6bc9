"""A user's own presence: SETNAME and MONITOR."""

from __future__ import annotations

from hubbub.protocol import Message, casefold, is_valid_nick
from hubbub.protocol.numerics import (
    ERR_MONLISTFULL,
    RPL_ENDOFMONLIST,
    RPL_MONLIST,
    RPL_MONOFFLINE,
    RPL_MONONLINE,
)

from .. import actions
from ..dispatch import CommandTable, Context
from ..fanout import deliver
from ..limits import MONITOR_LIMIT, NICKLEN, REALNAME_LEN

table = CommandTable()



@table("SETNAME", min_params=1)
def setname(ctx: Context, msg: Message) -> None:
    """SETNAME <realname>"""
    realname = msg.params[0]
    if not realname or len(realname) > REALNAME_LEN:
        ctx.standard_reply("FAIL", "INVALID_REALNAME", text="Realname is not valid")
        return
    user, server = ctx.user, ctx.server
    user.realname = realname
    out = Message("SETNAME", (realname,), user.source, server.message_tags())
    deliver(out, actions.interested(server, user, "setname"), exclude=ctx.conn)
    if "setname" in ctx.conn.caps:
        ctx.rb.add(out)


@table("MONITOR", min_params=1)
def monitor(ctx: Context, msg: Message) -> None:
    """MONITOR {+|-} <target>{,<target>} | MONITOR {C|L|S}"""
    sub = msg.params[0]
    conn, network = ctx.conn, ctx.server.network
    targets = [t for t in (msg.params[1] if len(msg.params) > 1 else "").split(",") if t]
    if sub == "+":
        added = []
        for i, nick in enumerate(targets):
            if not is_valid_nick(nick, NICKLEN):
                continue
            if casefold(nick) in conn.monitoring:
                added.append(nick)
                continue
            if len(conn.monitoring) >= MONITOR_LIMIT:
                ctx.reply(ERR_MONLISTFULL, str(MONITOR_LIMIT), ",".join(targets[i:]),
                          "Monitor list is full.")  # fmt: skip
                break
            network.watch(conn, nick)
            added.append(nick)
        _status(ctx, added)
    elif sub == "-":
        for nick in targets:
            network.unwatch(conn, nick)
    elif sub.upper() == "C":
        network.unwatch_all(conn)
    elif sub.upper() == "L":
        nicks = sorted(conn.monitoring)
        for start in range(0, len(nicks), 20):
            ctx.reply(RPL_MONLIST, ",".join(nicks[start : start + 20]))
        ctx.reply(RPL_ENDOFMONLIST, "End of MONITOR list")
    elif sub.upper() == "S":
        _status(ctx, sorted(conn.monitoring))


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
