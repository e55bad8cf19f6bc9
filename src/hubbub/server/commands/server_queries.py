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
    RPL_STATSLINKINFO,
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
    # A user's session is here; on a single server that is everyone. The
    # rest of the sessions are connections still registering.
    local = sum(1 for s in server.sessions if s.user is not None)
    unknown = len(server.sessions) - local
    servers = max(1, len(network.nodes))
    server.max_users = max(server.max_users, total)
    server.max_local = max(server.max_local, local)
    ctx.reply(
        RPL_LUSERCLIENT,
        f"There are {total - invisible} users and {invisible} invisible on {servers} servers",
    )
    ctx.reply(RPL_LUSEROP, str(opers), "operator(s) online")
    ctx.reply(RPL_LUSERUNKNOWN, str(unknown), "unknown connection(s)")
    ctx.reply(RPL_LUSERCHANNELS, str(len(server.network.channels)), "channels formed")
    ctx.reply(RPL_LUSERME, f"I have {local} clients and {servers - 1} servers")
    most, most_local = str(server.max_users), str(server.max_local)
    ctx.reply(RPL_LOCALUSERS, str(local), most_local,
              f"Current local users {local}, max {most_local}")  # fmt: skip
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
    """STATS <query>: u (uptime), m (command counts), o (operators), l (cluster nodes)"""
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
    elif query == "l" and ctx.user.oper is not None:
        _stats_links(ctx)
    ctx.reply(RPL_ENDOFSTATS, query or "*", "End of /STATS report")


def _stats_links(ctx: Context) -> None:
    """One 211 per cluster node: its epoch, the log position it applied, how
    far behind the log's end it was and how long ago it said so; then this
    node's own position and the hash of its state there (equal on every node
    at the same position: the tests compare them)."""
    server = ctx.server
    now_ms = int(time.time() * 1000)
    domain = server.config.server.name
    for link in server.membership.links():
        ctx.reply(RPL_STATSLINKINFO, f"{link.node}.{domain}",
                  f"epoch={link.epoch} position={link.position} lag_ms={link.lag_ms} "
                  f"age_ms={now_ms - link.reported_ms}")  # fmt: skip
    here = server.membership.position()
    ctx.reply(RPL_STATSLINKINFO, server.name,
              f"state position={here} hash={server.network.digest()}")  # fmt: skip


@table("LINKS")
def links(ctx: Context, msg: Message) -> None:
    """LINKS: the servers of this network (each node of a cluster)"""
    server = ctx.server
    description = server.config.server.description
    ctx.reply(RPL_LINKS, server.name, server.name, f"0 {description}")
    domain = server.config.server.name
    for node in sorted(server.network.nodes):
        if node != server.node:
            ctx.reply(RPL_LINKS, f"{node}.{domain}", server.name, f"1 {description}")
    ctx.reply(RPL_ENDOFLINKS, "*", "End of /LINKS list")
