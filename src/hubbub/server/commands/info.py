"""About the server itself: HELP/HELPOP, STATS, LINKS.

HELP is built from the command table: each handler's docstring starts with the
command's syntax, so the help can never disagree with what is implemented.
"""

from __future__ import annotations

import time

from hubbub.protocol import Message
from hubbub.protocol.numerics import (
    ERR_HELPNOTFOUND,
    RPL_ENDOFHELP,
    RPL_ENDOFLINKS,
    RPL_ENDOFSTATS,
    RPL_HELPSTART,
    RPL_HELPTXT,
    RPL_LINKS,
    RPL_STATSCOMMANDS,
    RPL_STATSOLINE,
    RPL_STATSUPTIME,
)

from ..dispatch import CommandTable, Context

table = CommandTable()


def _help(ctx: Context, msg: Message) -> None:
    """HELP [<command>]: the syntax of a command, or the list of commands"""
    commands = ctx.server.commands
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
