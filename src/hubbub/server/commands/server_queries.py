"""About the server itself: LUSERS, MOTD, VERSION, TIME, ADMIN, INFO,
HELP/HELPOP, STATS, LINKS.

HELP is built from the command table: each handler's docstring starts with the
command's syntax, so the help can never disagree with what is implemented.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from hubbub.protocol import Message, mask_match
from hubbub.protocol.numerics import (
    ERR_HELPNOTFOUND,
    ERR_NOSUCHSERVER,
    RPL_ADMINEMAIL,
    RPL_ADMINLOC1,
    RPL_ADMINLOC2,
    RPL_ADMINME,
    RPL_ENDOFHELP,
    RPL_ENDOFINFO,
    RPL_ENDOFLINKS,
    RPL_ENDOFSTATS,
    RPL_GLOBALUSERS,
    RPL_HELPSTART,
    RPL_HELPTXT,
    RPL_INFO,
    RPL_ISUPPORT,
    RPL_LINKS,
    RPL_LOCALUSERS,
    RPL_LUSERCHANNELS,
    RPL_LUSERCLIENT,
    RPL_LUSERME,
    RPL_LUSEROP,
    RPL_LUSERUNKNOWN,
    RPL_STATSCOMMANDS,
    RPL_STATSOLINE,
    RPL_STATSUPTIME,
    RPL_TIME,
    RPL_VERSION,
)

from ..dispatch import CommandTable, Context

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
    unknown = max(0, len(server.sessions) - total)
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
    ctx.rb.add_rendered(ctx.server.welcome.motd_block.render(ctx.session.display_nick))


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
    for tokens in server.welcome.isupport:
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


# --- HELP / STATS / LINKS ------------------------------------------------------


def _help(ctx: Context, msg: Message) -> None:
    """HELP [<command>]: the syntax of a command, or the list of commands"""
    commands = ctx.commands
    if not msg.params or not msg.params[0]:
        ctx.reply(RPL_HELPSTART, "*", "hubbub help: HELP <command> for details. Commands:")
        names = sorted(n for n, c in commands.items() if not c.oper or ctx.user.oper)
        for start in range(0, len(names), 10):
            ctx.reply(RPL_HELPTXT, "*", " ".join(names[start : start + 10]))
        ctx.reply(RPL_ENDOFHELP, "*", "End of /HELP")
        return
    topic = msg.params[0].upper()
    cmd = commands.get(topic)
    if cmd is None or not cmd.handler.__doc__:
        ctx.reply(ERR_HELPNOTFOUND, msg.params[0], "No help available on this topic")
        return
    lines = [line.strip() for line in cmd.handler.__doc__.strip().splitlines()]
    ctx.reply(RPL_HELPSTART, topic, lines[0])
    for line in lines[1:]:
        ctx.reply(RPL_HELPTXT, topic, line)
    if cmd.oper:
        ctx.reply(RPL_HELPTXT, topic, "(IRC operators only)")
    ctx.reply(RPL_ENDOFHELP, topic, "End of /HELP")


table("HELP")(_help)
table("HELPOP")(_help)


@table("STATS", min_params=1)
def stats(ctx: Context, msg: Message) -> None:
    """STATS <query>: u (uptime), m (command counts), o (operators)"""
    query = msg.params[0][:1]
    server = ctx.server
    if query == "u":
        up = int(time.time() - server.started)
        days, rest = divmod(up, 86400)
        hours, rest = divmod(rest, 3600)
        ctx.reply(RPL_STATSUPTIME,
                  f"Server Up {days} days {hours}:{rest // 60:02d}:{rest % 60:02d}")  # fmt: skip
    elif query == "m":
        for verb, count in sorted(server.stats.items()):
            ctx.reply(RPL_STATSCOMMANDS, verb, str(count), "0", "0")
    elif query == "o" and ctx.user.oper is not None:
        for op in server.config.operators:
            ctx.reply(RPL_STATSOLINE, "O", "*", "*", op.name)
    ctx.reply(RPL_ENDOFSTATS, query or "*", "End of /STATS report")


@table("LINKS")
def links(ctx: Context, msg: Message) -> None:
    """LINKS: the servers of this network (just this one)"""
    server = ctx.server
    ctx.reply(RPL_LINKS, server.name, server.name, f"0 {server.config.server.description}")
    ctx.reply(RPL_ENDOFLINKS, "*", "End of /LINKS list")
