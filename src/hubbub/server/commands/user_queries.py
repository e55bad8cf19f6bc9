"""Queries about users: WHO, WHOIS, WHOWAS, ISON, USERHOST.

None of these change state; they only add replies to the buffer.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hubbub.protocol import Message, casefold, is_channel_name, mask_match
from hubbub.protocol.numerics import (
    ERR_NONICKNAMEGIVEN,
    ERR_NOSUCHNICK,
    ERR_WASNOSUCHNICK,
    RPL_AWAY,
    RPL_ENDOFWHO,
    RPL_ENDOFWHOIS,
    RPL_ENDOFWHOWAS,
    RPL_ISON,
    RPL_USERHOST,
    RPL_WHOISACCOUNT,
    RPL_WHOISBOT,
    RPL_WHOISCERTFP,
    RPL_WHOISCHANNELS,
    RPL_WHOISIDLE,
    RPL_WHOISOPERATOR,
    RPL_WHOISSECURE,
    RPL_WHOISSERVER,
    RPL_WHOISUSER,
    RPL_WHOREPLY,
    RPL_WHOSPCRPL,
    RPL_WHOWASUSER,
)

from ..dispatch import CommandTable, Context
from ..state import Channel, User

table = CommandTable()


# --- WHO -------------------------------------------------------------------

_WHOX_ORDER = "tcuihsnfdlaor"


def _who_flags(target: User, chan: Channel | None, multi: bool) -> str:
    flags = "G" if target.away is not None else "H"
    if target.oper is not None:
        flags += "*"
    if chan is not None:
        flags += chan.prefix_of(target, multi=multi)
    if "B" in target.modes:
        flags += "B"
    return flags


def _who_line(ctx: Context, target: User, chan: Channel | None, whox: str | None) -> None:
    server = ctx.server
    flags = _who_flags(target, chan, "multi-prefix" in ctx.session.caps)
    chan_name = chan.name if chan is not None else "*"
    if whox is None:
        ctx.reply(
            RPL_WHOREPLY, chan_name, target.user, target.host, server.server_of(target),
            target.nick, flags, f"0 {target.realname}",
        )  # fmt: skip
        return
    fields, _, token = whox.partition(",")
    local = target.session
    idle = str(int(server.loop.time() - local.last_active)) if local is not None else "0"
    values = {
        "t": token or "0",
        "c": chan_name,
        "u": target.user,
        "i": local.ip if local is not None and ctx.user.oper else "255.255.255.255",
        "h": target.host,
        "s": server.server_of(target),
        "n": target.nick,
        "f": flags,
        "d": "0",
        "l": idle,
        "a": target.account or "0",
        "o": "n/a",
        "r": target.realname,
    }
    ctx.reply(RPL_WHOSPCRPL, *(values[f] for f in _WHOX_ORDER if f in fields))


@table("WHO")
def who(ctx: Context, msg: Message) -> None:
    """WHO [<mask> [%<fields>[,<token>]]]"""
    viewer = ctx.user
    mask = msg.params[0] if msg.params else "*"
    whox = None
    if len(msg.params) > 1 and msg.params[1].startswith("%"):
        whox = msg.params[1][1:]
    opers_only = len(msg.params) > 1 and msg.params[1] == "o"
    if is_channel_name(mask):
        chan = ctx.server.network.channel(mask)
        if chan is not None and chan.visible_to(viewer):
            for member in list(chan.members):
                if viewer in chan.members or member.seen_by(viewer):
                    _who_line(ctx, member, chan, whox)
    elif "*" not in mask and "?" not in mask and (exact := ctx.server.network.user(mask)):
        # A plain nick names one user: invisibility hides from masks only.
        _who_line(ctx, exact, None, whox)
    else:
        for target in list(ctx.server.network.users.values()):
            if opers_only and target.oper is None:
                continue
            if not target.seen_by(viewer):
                continue
            if mask in ("*", "0") or any(
                mask_match(mask, field)
                for field in (target.nick, target.host, target.realname, target.source)
            ):
                shared = next(iter(target.channels.values()), None)
                _who_line(ctx, target, shared if viewer is target else None, whox)
    ctx.reply(RPL_ENDOFWHO, mask, "End of WHO list")


# --- WHOIS / WHOWAS ----------------------------------------------------------


@table("WHOIS", min_params=1)
def whois(ctx: Context, msg: Message) -> None:
    """WHOIS [<server>] <nick>[,<nick>]"""
    nicks = msg.params[-1]
    if not nicks:
        ctx.reply(ERR_NONICKNAMEGIVEN, "No nickname given")
        return
    server, viewer = ctx.server, ctx.user
    for nick in nicks.split(",")[:1]:
        target = server.network.user(nick)
        if target is None:
            ctx.reply(ERR_NOSUCHNICK, nick, "No such nick/channel")
            ctx.reply(RPL_ENDOFWHOIS, nick, "End of /WHOIS list")
            continue
        t = target.nick
        ctx.reply(RPL_WHOISUSER, t, target.user, target.host, "*", target.realname)
        chans = [
            chan.prefix_of(target) + chan.name
            for chan in target.channels.values()
            if chan.visible_to(viewer)
        ]
        if chans:
            ctx.reply(RPL_WHOISCHANNELS, t, " ".join(chans))
        ctx.reply(RPL_WHOISSERVER, t, server.server_of(target), server.config.server.description)
        if target.away is not None:
            ctx.reply(RPL_AWAY, t, target.away)
        if target.oper is not None:
            ctx.reply(RPL_WHOISOPERATOR, t, "is an IRC operator")
        if "B" in target.modes:
            ctx.reply(RPL_WHOISBOT, t, f"is a bot on {server.config.server.network}")
        if target.account is not None:
            ctx.reply(RPL_WHOISACCOUNT, t, target.account, "is logged in as")
        if target.tls:
            ctx.reply(RPL_WHOISSECURE, t, "is using a secure connection")
        certfp = target.session.certfp if target.session is not None else None
        if certfp is not None and (target is viewer or viewer.oper is not None):
            # The certificate's fingerprint only to its owner and to operators.
            ctx.reply(RPL_WHOISCERTFP, t, f"has client certificate fingerprint {certfp}")
        if target.session is not None:
            idle = int(server.loop.time() - target.session.last_active)
            ctx.reply(RPL_WHOISIDLE, t, str(idle), str(int(target.signon)),
                      "seconds idle, signon time")  # fmt: skip
        ctx.reply(RPL_ENDOFWHOIS, t, "End of /WHOIS list")


@table("WHOWAS", min_params=1)
def whowas(ctx: Context, msg: Message) -> None:
    """WHOWAS <nick> [<count> [<server>]]"""
    nick = msg.params[0]
    if not nick:
        ctx.reply(ERR_NONICKNAMEGIVEN, "No nickname given")
        return
    count = int(msg.params[1]) if len(msg.params) > 1 and msg.params[1].isdigit() else 0
    wanted = casefold(nick)
    found = 0
    for entry in ctx.server.network.whowas:
        if casefold(entry.nick) != wanted:
            continue
        ctx.reply(RPL_WHOWASUSER, entry.nick, entry.user, entry.host, "*", entry.realname)
        ctx.reply(RPL_WHOISSERVER, entry.nick, ctx.server.name,
                  datetime.fromtimestamp(entry.time, UTC).strftime("%c"))  # fmt: skip
        found += 1
        if count > 0 and found >= count:
            break
    if not found:
        ctx.reply(ERR_WASNOSUCHNICK, nick, "There was no such nickname")
    ctx.reply(RPL_ENDOFWHOWAS, nick, "End of WHOWAS")


# --- ISON / USERHOST -----------------------------------------------------------


@table("ISON", min_params=1)
def ison(ctx: Context, msg: Message) -> None:
    """ISON <nick>{ <nick>}"""
    network = ctx.server.network
    online = [
        user.nick
        for param in msg.params
        for nick in param.split()
        if (user := network.user(nick)) is not None
    ]
    ctx.reply(RPL_ISON, " ".join(online))


@table("USERHOST", min_params=1)
def userhost(ctx: Context, msg: Message) -> None:
    """USERHOST <nick>{ <nick>}"""
    network = ctx.server.network
    replies = []
    for nick in msg.params[:5]:
        user = network.user(nick)
        if user is None:
            continue
        oper = "*" if user.oper is not None else ""
        away = "-" if user.away is not None else "+"
        replies.append(f"{user.nick}{oper}={away}{user.user}@{user.host}")
    ctx.reply(RPL_USERHOST, " ".join(replies))
