"""Queries about users and the server: WHO, WHOIS, WHOWAS, ISON, USERHOST,
LUSERS, MOTD, VERSION, TIME, ADMIN, INFO.

None of these change state; they only add replies to the buffer.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from hubbub.protocol import Message, casefold, is_channel_name, mask_match
from hubbub.protocol.numerics import (
    ERR_NONICKNAMEGIVEN,
    ERR_NOSUCHNICK,
    ERR_NOSUCHSERVER,
    ERR_WASNOSUCHNICK,
    RPL_ADMINEMAIL,
    RPL_ADMINLOC1,
    RPL_ADMINLOC2,
    RPL_ADMINME,
    RPL_AWAY,
    RPL_ENDOFINFO,
    RPL_ENDOFWHO,
    RPL_ENDOFWHOIS,
    RPL_ENDOFWHOWAS,
    RPL_GLOBALUSERS,
    RPL_INFO,
    RPL_ISON,
    RPL_ISUPPORT,
    RPL_LOCALUSERS,
    RPL_LUSERCHANNELS,
    RPL_LUSERCLIENT,
    RPL_LUSERME,
    RPL_LUSEROP,
    RPL_LUSERUNKNOWN,
    RPL_TIME,
    RPL_USERHOST,
    RPL_VERSION,
    RPL_WHOISACCOUNT,
    RPL_WHOISBOT,
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


# --- LUSERS / MOTD ---------------------------------------------------------


def send_lusers(ctx: Context) -> None:
    """The LUSERS burst (also part of the welcome)."""
    server = ctx.server
    network = server.network
    total = len(network.users)
    invisible = len(network.invisible)
    opers = len(network.opers)
    # Every user is local (one server), so the rest of the connections are
    # the ones still registering.
    unknown = max(0, len(server.connections) - total)
    server.max_users = max(server.max_users, total)
    ctx.reply(
        RPL_LUSERCLIENT,
        f"There are {total - invisible} users and {invisible} invisible on 1 servers",
    )
    ctx.reply(RPL_LUSEROP, str(opers), "operator(s) online")
    ctx.reply(RPL_LUSERUNKNOWN, str(unknown), "unknown connection(s)")
    ctx.reply(RPL_LUSERCHANNELS, str(len(server.network.channels)), "channels formed")
    ctx.reply(RPL_LUSERME, f"I have {total} clients and 0 servers")
    most = str(server.max_users)
    ctx.reply(RPL_LOCALUSERS, str(total), most, f"Current local users {total}, max {most}")
    ctx.reply(RPL_GLOBALUSERS, str(total), most, f"Current global users {total}, max {most}")


def send_motd(ctx: Context) -> None:
    """RPL_MOTDSTART, the lines, RPL_ENDOFMOTD; or ERR_NOMOTD."""
    ctx.rb.add_rendered(ctx.server.motd_block.render(ctx.conn.display_nick))


def _not_this_server(ctx: Context, msg: Message, index: int = 0) -> bool:
    """Server-targeted queries: answer 402 for a server that is not us."""
    if len(msg.params) > index and not mask_match(msg.params[index], ctx.server.name):
        ctx.reply(ERR_NOSUCHSERVER, msg.params[index], "No such server")
        return True
    return False


@table("LUSERS")
def lusers(ctx: Context, msg: Message) -> None:
    """LUSERS [<mask> [<server>]]"""
    send_lusers(ctx)


@table("MOTD")
def motd(ctx: Context, msg: Message) -> None:
    """MOTD [<server>]"""
    if not _not_this_server(ctx, msg):
        send_motd(ctx)


@table("VERSION")
def version(ctx: Context, msg: Message) -> None:
    """VERSION [<server>]"""
    if _not_this_server(ctx, msg):
        return
    server = ctx.server
    ctx.reply(RPL_VERSION, server.version, server.name, "hubbub, an IRC server in Python")
    for tokens in server.isupport:
        ctx.reply(RPL_ISUPPORT, *tokens, "are supported by this server")


@table("TIME")
def time_(ctx: Context, msg: Message) -> None:
    """TIME [<server>]"""
    if _not_this_server(ctx, msg):
        return
    now = time.time()
    text = datetime.fromtimestamp(now, UTC).strftime("%A %B %d %Y -- %H:%M:%S +00:00")
    ctx.reply(RPL_TIME, ctx.server.name, str(int(now)), "0", text)


@table("ADMIN")
def admin(ctx: Context, msg: Message) -> None:
    """ADMIN [<server>]"""
    if _not_this_server(ctx, msg):
        return
    server = ctx.server
    ctx.reply(RPL_ADMINME, server.name, "Administrative info")
    ctx.reply(RPL_ADMINLOC1, server.config.server.description)
    ctx.reply(RPL_ADMINLOC2, f"Network: {server.config.server.network}")
    names = ", ".join(op.name for op in server.config.operators) or "nobody configured"
    ctx.reply(RPL_ADMINEMAIL, f"Operators: {names}")


@table("INFO")
def info(ctx: Context, msg: Message) -> None:
    """INFO [<server>]"""
    if _not_this_server(ctx, msg):
        return
    for line in (
        f"{ctx.server.version}: a chat server speaking IRC, written in Python.",
        f"Up since {ctx.server.created_text}.",
    ):
        ctx.reply(RPL_INFO, line)
    ctx.reply(RPL_ENDOFINFO, "End of INFO list")


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
    server, conn = ctx.server, ctx.conn
    flags = _who_flags(target, chan, "multi-prefix" in conn.caps)
    chan_name = chan.name if chan is not None else "*"
    if whox is None:
        ctx.reply(
            RPL_WHOREPLY, chan_name, target.user, target.host, server.name, target.nick,
            flags, f"0 {target.realname}",
        )  # fmt: skip
        return
    fields, _, token = whox.partition(",")
    idle = str(int(server.loop.time() - target.conn.last_active)) if target.conn else "0"
    values = {
        "t": token or "0",
        "c": chan_name,
        "u": target.user,
        "i": target.conn.ip if target.conn and ctx.user.oper else "255.255.255.255",
        "h": target.host,
        "s": server.name,
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
        ctx.reply(RPL_WHOISSERVER, t, server.name, server.config.server.description)
        if target.away is not None:
            ctx.reply(RPL_AWAY, t, target.away)
        if target.oper is not None:
            ctx.reply(RPL_WHOISOPERATOR, t, "is an IRC operator")
        if "B" in target.modes:
            ctx.reply(RPL_WHOISBOT, t, f"is a bot on {server.config.server.network}")
        if target.account is not None:
            ctx.reply(RPL_WHOISACCOUNT, t, target.account, "is logged in as")
        if target.conn is not None and target.conn.tls:
            ctx.reply(RPL_WHOISSECURE, t, "is using a secure connection")
        if target.conn is not None:
            idle = int(server.loop.time() - target.conn.last_active)
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
